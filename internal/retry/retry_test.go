package retry

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond}, {4, 800 * time.Millisecond}, {5, time.Second}, {50, time.Second}} {
		for range 100 {
			got := b.Delay(tc.n)
			if lo, hi := tc.want*8/10, tc.want*12/10; got < lo || got > hi {
				t.Fatalf("Delay(%d) = %v, want %v ±20%%", tc.n, got, tc.want)
			}
		}
	}
}

func TestOutageLogsStateChangesOnly(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	o := NewOutage("stage 1 flush", log)
	clock := time.Unix(1000, 0)
	o.now = func() time.Time { return clock }

	o.OK() // healthy: nothing to say
	for range 5 {
		o.Fail(errors.New("connection refused"))
		clock = clock.Add(time.Second)
	}
	o.Fail(errors.New("not the leader"))
	clock = clock.Add(time.Second)
	if s := o.State(); !s.Failing || s.Attempts != 6 || s.Error != "not the leader" || s.Outages != 1 || !s.Since.Equal(time.Unix(1000, 0)) {
		t.Errorf("State() = %+v, want failing since 1000 with 6 attempts, error 'not the leader', 1 outage", s)
	}
	o.OK()
	o.OK()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want 3 (start, error change, recovery):\n%s", len(lines), buf.String())
	}
	for i, want := range []string{`"stage 1 flush failing; retrying" error="connection refused"`,
		`"stage 1 flush still failing, with another error" error="not the leader" attempts=6 for=5s`,
		`"stage 1 flush recovered" after=6s failed_attempts=6 last_error="not the leader"`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s, want it to contain %s", i, lines[i], want)
		}
	}
	if s := o.State(); s.Failing || s.Attempts != 0 || s.Outages != 1 {
		t.Errorf("after recovery State() = %+v, want healthy, 1 outage", s)
	}
}
