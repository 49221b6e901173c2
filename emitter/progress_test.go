package emitter

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProgressETA(t *testing.T) {
	tests := []struct {
		name   string
		p      Progress
		want   time.Duration
		wantOK bool
	}{
		{name: "half way", p: Progress{Read: 50, Total: 100, Elapsed: 10 * time.Second}, want: 10 * time.Second, wantOK: true},
		{name: "a quarter", p: Progress{Read: 25, Total: 100, Elapsed: 5 * time.Second}, want: 15 * time.Second, wantOK: true},
		{name: "done", p: Progress{Read: 100, Total: 100, Elapsed: 5 * time.Second}, want: 0, wantOK: true},
		{name: "unknown total", p: Progress{Read: 50, Elapsed: time.Second}},
		{name: "nothing read", p: Progress{Total: 100, Elapsed: time.Second}},
		{name: "past the total", p: Progress{Read: 101, Total: 100, Elapsed: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.p.ETA()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("%+v.ETA() = %v, %v; want %v, %v", tt.p, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestProgressPrinter(t *testing.T) {
	snaps := []Progress{
		{Frames: 1000, Bytes: 2 << 20, Read: 2_500_000, Total: 10_000_000, Elapsed: time.Second},
		{Frames: 3000, Bytes: 6 << 20, Read: 7_500_000, Total: 10_000_000, Elapsed: 3 * time.Second},
		{Frames: 4000, Bytes: 8 << 20, Read: 10_000_000, Total: 10_000_000, Elapsed: 4 * time.Second, Done: true},
	}
	// Rates are per interval: 2000 frames in the 2 s between the first two snapshots.
	lines := []string{
		"ingest: 1000 frames, 2.0 MiB; 1000 frames/s, 2.0 MiB/s; 25% ETA 3s",
		"ingest: 3000 frames, 6.0 MiB; 1000 frames/s, 2.0 MiB/s; 75% ETA 1s",
		"ingest: 4000 frames, 8.0 MiB; 1000 frames/s, 2.0 MiB/s; 100% in 4.0s",
	}
	t.Run("log", func(t *testing.T) {
		var sb strings.Builder
		pp := ProgressPrinter{W: &sb}
		for _, p := range snaps {
			pp.Update(p)
		}
		if got, want := sb.String(), strings.Join(lines, "\n")+"\n"; got != want {
			t.Errorf("log output =\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("tty", func(t *testing.T) {
		var sb strings.Builder
		pp := ProgressPrinter{W: &sb, TTY: true}
		for _, p := range snaps {
			pp.Update(p)
		}
		// One line rewritten in place; the last one ends it.
		want := "\r" + lines[0] + "\r" + lines[1] + "\r" + lines[2] + "\n"
		if got := sb.String(); got != want {
			t.Errorf("tty output =\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("tty wipes a longer line", func(t *testing.T) {
		var sb strings.Builder
		pp := ProgressPrinter{W: &sb, TTY: true}
		pp.Update(Progress{Frames: 1234567, Bytes: 2500 << 20, Elapsed: time.Second})
		long := sb.String()
		sb.Reset()
		pp.Update(Progress{Frames: 1234568, Bytes: 2500<<20 + 1000, Elapsed: 2 * time.Second})
		short := "ingest: 1234568 frames, 2500.0 MiB; 1 frames/s, 0.0 MiB/s"
		if got, want := sb.String(), "\r"+short+strings.Repeat(" ", len(long)-1-len(short)); got != want {
			t.Errorf("output = %q, want %q", got, want)
		}
	})
	t.Run("unknown total", func(t *testing.T) {
		var sb strings.Builder
		pp := ProgressPrinter{W: &sb}
		pp.Update(Progress{Frames: 10, Bytes: 20_000, Read: 21_000, Elapsed: 2 * time.Second})
		if got, want := sb.String(), "ingest: 10 frames, 0.0 MiB; 5 frames/s, 0.0 MiB/s\n"; got != want {
			t.Errorf("output = %q, want %q", got, want)
		}
	})
}

// TestProgressPrinterStalled: while the broker takes nothing the line says so, with how long,
// until when it retries and the error cut short (the log has it whole), not just 0 frames/s;
// and a log line written meanwhile on a terminal wipes the progress line and draws it again.
func TestProgressPrinterStalled(t *testing.T) {
	problem := "produce to frames/0 via broker 1: dial tcp 127.0.0.1:9092: connect: connection refused; " + strings.Repeat("x", 100)
	p := Progress{Frames: 4600, Bytes: 9 << 20, Elapsed: 30 * time.Second, Stalled: 12 * time.Second, Problem: problem, RetryTimeout: 5 * time.Minute}
	var sb strings.Builder
	pp := ProgressPrinter{W: &sb}
	pp.Update(Progress{Frames: 4600, Bytes: 9 << 20, Elapsed: 29 * time.Second})
	sb.Reset()
	pp.Update(p)
	want := "ingest: 4600 frames, 9.0 MiB; 0 frames/s, 0.0 MiB/s; STALLED 12s, retrying up to 5m0s: " + string([]rune(problem)[:maxProblem]) + "…\n"
	if got := sb.String(); got != want {
		t.Errorf("stalled line =\n%q\nwant\n%q", got, want)
	}
	p.RetryTimeout = 0
	sb.Reset()
	pp.Update(p)
	if !strings.Contains(sb.String(), "STALLED 12s, retrying forever: ") {
		t.Errorf("with no retry timeout: %q", sb.String())
	}

	sb.Reset()
	tty := ProgressPrinter{W: &sb, TTY: true}
	tty.Update(Progress{Frames: 10, Elapsed: time.Second})
	line := sb.String()[1:]
	sb.Reset()
	fmt.Fprint(tty.Log(), "WARN broker down\n")
	if got, want := sb.String(), "\r"+strings.Repeat(" ", len(line))+"\rWARN broker down\n"+line; got != want {
		t.Errorf("log line on a TTY = %q, want %q", got, want)
	}
}
