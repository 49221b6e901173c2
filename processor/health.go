package processor

import (
	"fmt"
	"sync"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/metrics"
)

// DefaultStallAfter is Health.StallAfter's default: a partition with records to read whose
// committed offset has not moved for this long makes the instance unready. It is far above a
// flush interval and the ~17 s a producer retries a leader election for.
const DefaultStallAfter = 2 * time.Minute

// Health is what an instance's /readyz and its state metrics read: its links to Kafka
// (retry.Outage), stage 1's partitions and stage 2's processor. Build it with NewHealth for the
// stages the instance runs and put it in Config.Health; Run fills it in as the stages start.
// It implements metrics.Source. A nil *Health is valid and reports nothing.
type Health struct {
	// StallAfter: see DefaultStallAfter.
	StallAfter time.Duration

	stage Stage
	mu    sync.Mutex
	pre   *PreAgg
	down  *retry.Outage // stage 2's processor
	proc  *goka.Processor
}

// NewHealth returns the health of an instance running stage.
func NewHealth(stage Stage) *Health {
	return &Health{StallAfter: DefaultStallAfter, stage: stage}
}

func (h *Health) setPreAgg(p *PreAgg) {
	if h != nil {
		h.mu.Lock()
		h.pre = p
		h.mu.Unlock()
	}
}

func (h *Health) setWindows(down *retry.Outage, proc *goka.Processor) {
	if h != nil {
		h.mu.Lock()
		h.down, h.proc = down, proc
		h.mu.Unlock()
	}
}

func (h *Health) parts() (*PreAgg, *retry.Outage, *goka.Processor) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pre, h.down, h.proc
}

func (h *Health) runs(s Stage) bool { return h.stage == StageBoth || h.stage == s || h.stage == "" }

// Inputs are the input partitions stage 1 reads here (none if it does not run).
func (h *Health) Inputs() []metrics.Input {
	if h == nil {
		return nil
	}
	if pre, _, _ := h.parts(); pre != nil {
		return pre.Inputs()
	}
	return nil
}

// Links are the states of the instance's links to Kafka: stage 1's consumer group and its
// sends, stage 2's processor.
func (h *Health) Links() []retry.State {
	if h == nil {
		return nil
	}
	pre, down, _ := h.parts()
	var out []retry.State
	if pre != nil {
		out = append(out, pre.Health()...)
	}
	if down != nil {
		out = append(out, down.State())
	}
	return out
}

// Ready reports whether the instance does its work, and if not the first reason why: still
// starting, not connected (a link failing), partitions not assigned, table not recovered, or
// stalled (a partition with records to read whose committed offset has not moved for
// StallAfter).
func (h *Health) Ready() (bool, string) {
	if h == nil {
		return false, "no health information"
	}
	pre, down, proc := h.parts()
	if h.runs(StagePreAgg) && pre == nil {
		return false, "starting: stage 1 is not running yet"
	}
	if h.runs(StageWindows) && (down == nil || proc == nil) {
		return false, "starting: stage 2 is not running yet"
	}
	for _, l := range h.Links() {
		if l.Failing {
			return false, fmt.Sprintf("not connected: %s failing for %v (%d attempts): %s",
				l.What, time.Since(l.Since).Round(time.Second), l.Attempts, l.Error)
		}
	}
	if pre != nil && len(pre.Inputs()) == 0 {
		return false, "partitions not assigned: stage 1 holds no input partition (more instances than partitions, or a rebalance in progress)"
	}
	if proc != nil && !proc.Recovered() {
		return false, "table not recovered: stage 2 is recovering its table partitions"
	}
	if pre != nil && h.StallAfter > 0 {
		if p, lag, since, ok := pre.stalled(h.StallAfter); ok {
			return false, fmt.Sprintf("stalled: input partition %d has %d records to read and its committed offset has not moved for %v",
				p, lag, since.Round(time.Second))
		}
	}
	return true, "ready"
}
