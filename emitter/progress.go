package emitter

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress is a snapshot of a running ingest, handed to Config.Progress.
type Progress struct {
	Frames  int64         // records acknowledged by the broker
	Bytes   int64         // value bytes of those records
	Read    int64         // input bytes consumed so far, newlines and blank lines included
	Total   int64         // input bytes expected in all (Config.TotalBytes); 0 if unknown
	Elapsed time.Duration // since Run started
	Done    bool          // the last snapshot, sent once Run has finished
	// Stalled is how long the broker has not been taking records (0: it is); Problem is the
	// latest error, and RetryTimeout how long Run goes on retrying (0: forever).
	Stalled      time.Duration
	Problem      string
	RetryTimeout time.Duration
}

// ETA estimates the time left from the average read rate so far; ok is false while it cannot
// be known (no total, nothing read yet, or the total already passed).
func (p Progress) ETA() (d time.Duration, ok bool) {
	if p.Total <= 0 || p.Read <= 0 || p.Read > p.Total || p.Elapsed <= 0 {
		return 0, false
	}
	rate := float64(p.Read) / p.Elapsed.Seconds()
	return time.Duration(float64(p.Total-p.Read) / rate * float64(time.Second)), true
}

// ProgressPrinter renders Progress snapshots as text. On a terminal (TTY true) it rewrites one
// line in place with "\r"; otherwise it writes one plain line per snapshot, for logs. The rates
// it shows are those since the previous snapshot (what the ingest does now); the final line
// shows the averages over the whole run. While the broker is not taking records the line says
// so, with the error, instead of showing 0 frames/s.
type ProgressPrinter struct {
	W    io.Writer
	TTY  bool
	mu   sync.Mutex
	prev Progress
	line string // the TTY line shown now ("" if none)
}

// Update prints p. It is meant as Config.Progress, which Run calls from one goroutine.
func (pp *ProgressPrinter) Update(p Progress) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	line := pp.format(p)
	pp.prev = p
	if !pp.TTY {
		fmt.Fprintln(pp.W, line)
		return
	}
	pad := max(len(pp.line)-len(line), 0)
	pp.line = line
	end := ""
	if p.Done {
		end = "\n"
		pp.line = ""
	}
	fmt.Fprintf(pp.W, "\r%s%*s%s", line, pad, "", end)
}

// Log returns a writer for log lines that share W with the progress: on a terminal each write
// first wipes the progress line and then draws it again below the log line.
func (pp *ProgressPrinter) Log() io.Writer { return progressLog{pp} }

type progressLog struct{ pp *ProgressPrinter }

func (l progressLog) Write(b []byte) (int, error) {
	pp := l.pp
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if !pp.TTY || pp.line == "" {
		return pp.W.Write(b)
	}
	fmt.Fprintf(pp.W, "\r%*s\r", len(pp.line), "")
	n, err := pp.W.Write(b)
	fmt.Fprintf(pp.W, "%s", pp.line)
	return n, err
}

// maxProblem is how much of the latest error a progress line shows, in characters.
const maxProblem = 80

// format renders one progress line, for example
// "ingest: 120000 frames, 238.0 MiB; 41230 frames/s, 81.8 MiB/s; 60% ETA 1m2s" (binary units,
// as every size kuniq prints).
func (pp *ProgressPrinter) format(p Progress) string {
	frames, bytes, secs := p.Frames-pp.prev.Frames, p.Bytes-pp.prev.Bytes, (p.Elapsed - pp.prev.Elapsed).Seconds()
	if p.Done {
		frames, bytes, secs = p.Frames, p.Bytes, p.Elapsed.Seconds()
	}
	secs = max(secs, 1e-9)
	s := fmt.Sprintf("ingest: %d frames, %.1f MiB; %.0f frames/s, %.1f MiB/s",
		p.Frames, float64(p.Bytes)/(1<<20), float64(frames)/secs, float64(bytes)/secs/(1<<20))
	if p.Total > 0 {
		s += fmt.Sprintf("; %.0f%%", 100*float64(min(p.Read, p.Total))/float64(p.Total))
		if eta, ok := p.ETA(); ok && !p.Done {
			s += " ETA " + eta.Round(time.Second).String()
		}
	}
	if p.Done {
		s += fmt.Sprintf(" in %.1fs", p.Elapsed.Seconds())
	}
	if p.Stalled > 0 && !p.Done {
		until := "forever"
		if p.RetryTimeout > 0 {
			until = "up to " + p.RetryTimeout.String()
		}
		// The whole error is in the log; a line that wraps cannot be rewritten in place.
		problem := p.Problem
		if r := []rune(problem); len(r) > maxProblem {
			problem = string(r[:maxProblem]) + "…"
		}
		s += fmt.Sprintf("; STALLED %s, retrying %s: %s", p.Stalled.Round(time.Second), until, problem)
	}
	return s
}
