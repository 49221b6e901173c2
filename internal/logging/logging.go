// Package logging builds kuniq's log/slog loggers (text or JSON, a level) and routes the
// libraries' own loggers through them: Goka's (goka.Logger) and sarama's (sarama.StdLogger).
// Library lines that look like errors become warnings, the rest debug records; an error line
// that repeats is logged once, then as a count at doubling intervals, like retry.Outage does
// for kuniq's own faults.
package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ErrFormat and ErrLevel are returned, wrapped, for a log format or level New does not know.
var (
	ErrFormat = errors.New("logging: unknown format")
	ErrLevel  = errors.New("logging: unknown level")
)

// Formats and Levels are what New accepts, for help texts.
const (
	Formats = "text|json"
	Levels  = "debug|info|warn|error"
)

// ParseLevel reads debug, info, warn (or warning) and error, in any case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%w %q: use %s", ErrLevel, s, Levels)
}

// New returns a logger writing records of level and above to w, as text (key=value) or JSON
// (one object per line).
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	lv, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("%w %q: use %s", ErrFormat, format, Formats)
}

// Library adapts a library's printf-style logger to l; each record carries lib=name. It
// implements goka.Logger and sarama.StdLogger. A library that reports its errors in its log
// (Goka: a processor's failures appear only there) gets its lines mentioning an error or a
// failure as warnings (repeats counted, see Repeats); everything else is a debug record.
type Library struct {
	log     *slog.Logger
	repeats *Repeats // nil: every line is a debug record
}

// NewLibrary returns the adapter of library name ("goka") whose error lines are warnings.
func NewLibrary(l *slog.Logger, name string) *Library {
	l = l.With("lib", name)
	return &Library{log: l, repeats: NewRepeats(l)}
}

// NewDebugLibrary returns the adapter of a library whose log is debugging output only:
// sarama's, whose errors reach kuniq as returned errors (and its "error" lines are mostly
// expected, such as the ApiVersions fallback on every new connection).
func NewDebugLibrary(l *slog.Logger, name string) *Library {
	return &Library{log: l.With("lib", name)}
}

func (a *Library) Print(v ...any)                 { a.line(fmt.Sprint(v...), "") }
func (a *Library) Println(v ...any)               { a.line(fmt.Sprintln(v...), "") }
func (a *Library) Printf(format string, v ...any) { a.line(fmt.Sprintf(format, v...), format) }

// errorWords mark a library line as a problem rather than chatter.
var errorWords = []string{"error", "fail", "shutting down", "did not shutdown", "unable", "cannot", "refused", "timeout", "timed out"}

func (a *Library) line(msg, format string) {
	msg = strings.TrimRight(msg, "\n")
	lower := strings.ToLower(msg)
	for _, w := range errorWords {
		if a.repeats == nil {
			break
		}
		if strings.Contains(lower, w) {
			key := format
			if key == "" {
				key = msg
			}
			a.repeats.Warn(key, msg)
			return
		}
	}
	if a.log.Enabled(context.Background(), slog.LevelDebug) {
		a.log.Debug(msg)
	}
}

// Repeats logs a warning the first time its key is seen and then, while the same key keeps
// coming, a reminder with the count at doubling intervals (30 s, 1 min, ... at most 10 min
// apart), instead of a line per occurrence. A key not seen for 10 min starts afresh.
type Repeats struct {
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	seen map[string]*repeat
}

type repeat struct {
	first, last, next time.Time
	count, reported   int
	every             time.Duration
}

const (
	firstReminder = 30 * time.Second
	maxReminder   = 10 * time.Minute
	forgetAfter   = 10 * time.Minute
)

// NewRepeats returns a Repeats logging to l.
func NewRepeats(l *slog.Logger) *Repeats {
	return &Repeats{log: l, now: time.Now, seen: map[string]*repeat{}}
}

// Warn logs msg under key, or counts it if key was logged recently.
func (r *Repeats) Warn(key, msg string) {
	now := r.now()
	r.mu.Lock()
	rp := r.seen[key]
	if rp == nil || now.Sub(rp.last) >= forgetAfter {
		if len(r.seen) > 1000 {
			clear(r.seen) // keys built from unbounded text: never grow without bound
		}
		r.seen[key] = &repeat{first: now, last: now, next: now.Add(firstReminder), count: 1, reported: 1, every: firstReminder}
		r.mu.Unlock()
		r.log.Warn(msg)
		return
	}
	rp.count++
	rp.last = now
	if now.Before(rp.next) {
		r.mu.Unlock()
		return
	}
	n, since := rp.count-rp.reported, rp.first
	rp.reported = rp.count
	rp.every = min(2*rp.every, maxReminder)
	rp.next = now.Add(rp.every)
	total := rp.count
	r.mu.Unlock()
	r.log.Warn(msg, "repeated", n, "total", total, "since", since.UTC().Format(time.RFC3339))
}
