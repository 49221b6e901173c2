package retry

import (
	"log/slog"
	"sync"
	"time"
)

// Outage follows the health of one thing kuniq depends on. Fail records a failed attempt and
// OK a successful one; the log sees the changes of state (the first failure, the recovery with
// how long it lasted and how many attempts failed) and, while it lasts, a reminder with the
// running count and the latest error at doubling intervals (30 s, 1 min, 2 min, ... then every
// 10 min): a long outage stays visible without a line every few seconds. It is safe for
// concurrent use; State reports the current state for health checks and metrics.
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
	remind   time.Duration
}

// Reminder intervals while an outage lasts: the first after firstReminder, each next one twice
// as late, at most maxReminder apart.
const (
	firstReminder = 30 * time.Second
	maxReminder   = 10 * time.Minute
)

// NewOutage follows what ("stage 1 flush", "consumer group"), logging to log (nil: slog.Default()).
func NewOutage(what string, log *slog.Logger) *Outage {
	if log == nil {
		log = slog.Default()
	}
	return &Outage{what: what, log: log, now: time.Now}
}

// Fail records a failed attempt. It logs a warning when the failing starts, and reminders while
// it lasts.
func (o *Outage) Fail(err error) {
	msg := err.Error()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts++
	o.last = msg
	now := o.now()
	if !o.failing {
		o.failing, o.since, o.remind = true, now, firstReminder
		o.total++
		o.log.Warn(o.what+" failing; retrying", "error", msg)
		return
	}
	if d := now.Sub(o.since); d >= o.remind {
		o.log.Warn(o.what+" still failing; retrying", "for", d.Round(time.Second), "attempts", o.attempts, "error", msg)
		for o.remind <= d {
			o.remind = min(2*o.remind, o.remind+maxReminder)
		}
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
