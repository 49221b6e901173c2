package retry

import (
	"bytes"
	"errors"
	"fmt"
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
	// 200 failures 1 s apart, with errors that keep changing (as per-partition errors do):
	// one line at the start, reminders at 30 s, 60 s, 120 s; nothing else.
	for i := range 200 {
		o.Fail(fmt.Errorf("partition %d: connection refused", i%4))
		clock = clock.Add(time.Second)
	}
	if s := o.State(); !s.Failing || s.Attempts != 200 || s.Error != "partition 3: connection refused" || s.Outages != 1 || !s.Since.Equal(time.Unix(1000, 0)) {
		t.Errorf("State() = %+v, want failing since 1000 with 200 attempts, the latest error, 1 outage", s)
	}
	o.OK()
	o.OK()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`"stage 1 flush failing; retrying" error="partition 0: connection refused"`,
		`"stage 1 flush still failing; retrying" for=30s attempts=31`,
		`"stage 1 flush still failing; retrying" for=1m0s attempts=61`,
		`"stage 1 flush still failing; retrying" for=2m0s attempts=121`,
		`"stage 1 flush recovered" after=3m20s failed_attempts=200 last_error="partition 3: connection refused"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i := range want {
		if !strings.Contains(lines[i], want[i]) {
			t.Errorf("line %d = %s, want it to contain %s", i, lines[i], want[i])
		}
	}
	if s := o.State(); s.Failing || s.Attempts != 0 || s.Outages != 1 {
		t.Errorf("after recovery State() = %+v, want healthy, 1 outage", s)
	}
	// A second outage starts its reminders afresh.
	buf.Reset()
	o.Fail(errors.New("again"))
	clock = clock.Add(31 * time.Second)
	o.Fail(errors.New("again"))
	if n := strings.Count(buf.String(), "\n"); n != 2 || o.State().Outages != 2 {
		t.Errorf("second outage logged %d lines (want 2), outages %d (want 2):\n%s", n, o.State().Outages, buf.String())
	}
}
