package processor

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/window"
)

// The tester delivers one message at a time and waits for its commit, so a frame held by the
// bit-flip guard blocks every later one: the guard's effect on commits is tested here on a
// partition directly, with the flush driven by the test.

// recordEmitter keeps what is emitted and acknowledges it at once.
type recordEmitter struct {
	mu   sync.Mutex
	recs []any
	keys []string
}

func (e *recordEmitter) Emit(key string, msg any) (*goka.Promise, error) {
	e.mu.Lock()
	e.recs = append(e.recs, msg)
	e.keys = append(e.keys, key)
	e.mu.Unlock()
	_, finish := goka.NewPromiseWithFinisher()
	return finish(nil, nil), nil
}

func (e *recordEmitter) Finish() error { return nil }

func (e *recordEmitter) take() []any {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.recs
	e.recs, e.keys = nil, nil
	return r
}

// guardHarness is one partition of a PreAgg fed as onFrame feeds it, with commits recorded.
type guardHarness struct {
	t        *testing.T
	pa       *PreAgg
	pt       *partition
	partials *recordEmitter
	dlq      *recordEmitter
	released []int64
	next     int64
}

func newGuardHarness(t *testing.T, clock window.Config) *guardHarness {
	cfg := testConfig()
	cfg.IdleTimeout = time.Hour
	cfg.Engine.Clock = clock
	h := &guardHarness{t: t, partials: &recordEmitter{}, dlq: &recordEmitter{}}
	h.pa = NewPreAgg(cfg, 1, h.partials, h.dlq)
	h.pa.onAssign(goka.Assignment{0: 0})
	h.pt = h.pa.partition(0)
	return h
}

// add feeds frames at ts (what onFrame does, without a goka.Context).
func (h *guardHarness) add(ts ...int64) {
	for _, v := range ts {
		off := h.next
		h.next++
		line := fmt.Appendf(nil, `{"ts":%d,"uid":"%019x"}`, v, off)
		f := engine.Decode(&h.pt.dec, off, line)
		h.pt.mu.Lock()
		h.pt.src.Add(f)
		if h.pt.first < 0 {
			h.pt.first = off
		}
		h.pt.last = off
		h.pt.lastFrame = time.Now()
		h.pt.commits = append(h.pt.commits, heldCommit{offset: off, done: func(err error) {
			if err != nil {
				h.t.Errorf("commit of %d released with %v", off, err)
			}
			h.released = append(h.released, off)
		}})
		h.pt.mu.Unlock()
	}
}

func (h *guardHarness) pending() []int64 {
	h.pt.mu.Lock()
	defer h.pt.mu.Unlock()
	var offs []int64
	for _, c := range h.pt.commits {
		offs = append(offs, c.offset)
	}
	return offs
}

func offsets(from, to int64) []int64 {
	var o []int64
	for i := from; i < to; i++ {
		o = append(o, i)
	}
	return o
}

func TestPreAggGuardHoldsCommits(t *testing.T) {
	clock := window.DefaultConfig()
	clock.Confirm, clock.Reject = 2, 3
	h := newGuardHarness(t, clock)
	far := t0 + 86400 // a bit flip: a day ahead
	steps := []struct {
		name         string
		ts           []int64
		closing      bool
		wantReleased []int64 // by this flush
		wantPending  []int64 // after it
		wantDead     []string
		maxMarkTS    int64
	}{
		{"anchor", []int64{t0, t0 + 1, t0 + 2, t0 + 3}, false, offsets(0, 4), nil, nil, t0 + 3},
		{"far frame then fewer than Reject", []int64{far, t0 + 4, t0 + 5}, false, nil, offsets(4, 7), nil, t0 + 5},
		{"no new frames: still held", nil, false, nil, offsets(4, 7), nil, t0 + 5},
		{"the Reject-th frame rejects it", []int64{t0 + 6}, false, offsets(4, 8), nil, []string{codec.ReasonJump}, t0 + 6},
	}
	var frames int64
	for _, st := range steps {
		h.add(st.ts...)
		h.released = nil
		if _, err := h.pa.flushMany([]*partition{h.pt}, []bool{st.closing}); err != nil {
			t.Fatalf("%s: flush: %v", st.name, err)
		}
		if !slices.Equal(h.released, st.wantReleased) {
			t.Errorf("%s: released commits %v, want %v", st.name, h.released, st.wantReleased)
		}
		if got := h.pending(); !slices.Equal(got, st.wantPending) {
			t.Errorf("%s: pending commits %v, want %v", st.name, got, st.wantPending)
		}
		var marks int
		for _, r := range h.partials.take() {
			switch m := r.(type) {
			case *Partial:
				if m.Sketch != nil && m.Frames > 0 {
					frames += m.Frames
				}
			case *Mark:
				marks++
				if m.MaxTS > st.maxMarkTS {
					t.Errorf("%s: mark max ts %d: the held frame moved time (want <= %d)", st.name, m.MaxTS, st.maxMarkTS)
				}
			}
		}
		if marks != 1 {
			t.Errorf("%s: %d marks, want 1", st.name, marks)
		}
		var dead []string
		for _, r := range h.dlq.take() {
			d := r.(codec.DeadLetter)
			dead = append(dead, d.Reason)
			if d.Offset != 4 || d.TS != far {
				t.Errorf("%s: dead letter %+v, want the far frame (offset 4, ts %d)", st.name, d, far)
			}
		}
		if !slices.Equal(dead, st.wantDead) {
			t.Errorf("%s: dead letters %v, want %v", st.name, dead, st.wantDead)
		}
	}
	// Every granularity counts each of the 7 good frames once: 7 frames x 6 windows.
	if want := int64(7 * len(window.All)); frames != want {
		t.Errorf("partials hold %d frame-windows, want %d", frames, want)
	}
}

// TestPreAggSettleFlushLast: frames the guard held and a flush settles without new input (idle,
// revoke or shutdown) are sent in partials whose Last repeats the previous flush's. Stage 2 must
// still count them (it used to take the equal Last for a redelivery and under-count `frames`):
// flushPosition ranks such a flush after the one before it.
func TestPreAggSettleFlushLast(t *testing.T) {
	clock := window.DefaultConfig()
	clock.Confirm, clock.FlushConfirm = 3, 2 // two jumped frames: held, then confirmed at the flush
	h := newGuardHarness(t, clock)
	jump := t0 + 11*60 // beyond MaxJump (10 min), in the same hour
	h.add(t0, t0+1, t0+2, t0+3, jump, jump)
	for _, closing := range []bool{false, true} {
		if _, err := h.pa.flushMany([]*partition{h.pt}, []bool{closing}); err != nil {
			t.Fatal(err)
		}
	}
	// Apply stage 2's rule (Windows.merge) to each window's partials: count a partial's
	// frames only if its flush position is new for its source.
	h.partials.mu.Lock()
	recs, keys := h.partials.recs, h.partials.keys
	h.partials.mu.Unlock()
	upto, counted, sent := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for i, r := range recs {
		p, ok := r.(*Partial)
		if !ok {
			continue
		}
		sent[keys[i]] += p.Frames
		if last, seen := upto[keys[i]]; !seen || flushPosition(p) > last {
			counted[keys[i]] += p.Frames
			upto[keys[i]] = flushPosition(p)
		}
	}
	if n := sent[hour0.String()]; n != 6 {
		t.Errorf("%s: partials hold %d frames, want 6", hour0, n)
	}
	for k, n := range sent {
		if counted[k] != n {
			t.Errorf("%s: stage 2 counts %d of the %d frames sent", k, counted[k], n)
		}
	}
}
