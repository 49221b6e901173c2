package retry

import (
	"log/slog"
	"sync"
	"time"
)

// Outage follows the health of one thing kuniq depends on. Fail records a failed attempt and
// OK a successful one; the log sees only changes of state: the first failure, a different
// error while failing, and the recovery with how long it lasted and how many attempts failed.
// It is safe for concurrent use; State reports the current state for health checks and metrics.
type Outage struct {
	what string
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	failing  bool
	since    time.Time
	attempts int
	last     string
	total    int // outages since start
}

// NewOutage follows what ("stage 1 flush", "consumer group"), logging to log (nil: slog.Default()).
func NewOutage(what string, log *slog.Logger) *Outage {
	if log == nil {
		log = slog.Default()
	}
	return &Outage{what: what, log: log, now: time.Now}
}

// Fail records a failed attempt. It logs a warning when the failing starts or its error changes.
func (o *Outage) Fail(err error) {
	msg := err.Error()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts++
	switch {
	case !o.failing:
		o.failing, o.since, o.last = true, o.now(), msg
		o.total++
		o.log.Warn(o.what+" failing; retrying", "error", msg)
	case msg != o.last:
		o.last = msg
		o.log.Warn(o.what+" still failing, with another error", "error", msg, "attempts", o.attempts,
			"for", o.now().Sub(o.since).Round(time.Millisecond))
	}
}

// OK records a successful attempt. It logs the recovery if the thing was failing.
func (o *Outage) OK() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.failing {
		return
	}
	o.log.Info(o.what+" recovered", "after", o.now().Sub(o.since).Round(time.Millisecond),
		"failed_attempts", o.attempts, "last_error", o.last)
	o.failing, o.attempts, o.last = false, 0, ""
}

// State is a snapshot of an Outage.
type State struct {
	What     string
	Failing  bool
	Since    time.Time // start of the current failure
	Attempts int       // failed attempts in the current failure
	Error    string    // the latest error of the current failure
	Outages  int       // failures since the process started
}

// State returns the current state.
func (o *Outage) State() State {
	o.mu.Lock()
	defer o.mu.Unlock()
	return State{What: o.what, Failing: o.failing, Since: o.since, Attempts: o.attempts, Error: o.last, Outages: o.total}
}
