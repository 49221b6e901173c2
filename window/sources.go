package window

import (
	"math"
	"sync"
	"time"
)

// Sources combines the progress of many sources, such as the input
// partitions of stage 2 of the pipeline, into one watermark. It is safe for
// concurrent use. Time is passed in (now), never read from the wall clock, so
// callers and tests decide what "idle" means.
type Sources struct {
	mu   sync.Mutex
	idle time.Duration
	srcs map[int32]*progress
}

// progress is what one source last reported.
type progress struct {
	watermark, maxTS int64
	seen             time.Time // when it last reported
}

// NewSources returns an empty set. A source not heard from for longer than
// idleTimeout stops holding the watermark back; idleTimeout <= 0 means
// sources are never idle.
func NewSources(idleTimeout time.Duration) *Sources {
	return &Sources{idle: idleTimeout, srcs: make(map[int32]*progress)}
}

// Update records that source src has reached watermark and maxTS (as its
// Clock reports them) at time now. A source's watermark and maxTS only move
// forward: a lower report, such as a restarted source that is not anchored
// yet, keeps the higher values it had, so windows once closed stay closed.
// Any report, even without progress, marks the source as heard from.
func (s *Sources) Update(src int32, watermark, maxTS int64, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.srcs[src]
	if !ok {
		s.srcs[src] = &progress{watermark: watermark, maxTS: maxTS, seen: now}
		return
	}
	p.watermark = max(p.watermark, watermark)
	p.maxTS = max(p.maxTS, maxTS)
	if now.After(p.seen) {
		p.seen = now
	}
}

// Remove forgets source src, such as a partition revoked from this
// instance; unknown sources are ignored.
func (s *Sources) Remove(src int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.srcs, src)
}

// Len returns the number of known sources.
func (s *Sources) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.srcs)
}

// Watermark is the minimum watermark over the sources heard from within the
// idle timeout before now; idle sources don't hold it back. When every
// source is idle (allIdle), it returns the largest maxTS+1 over all sources,
// so every window up to the last event time seen closes: that is how the end
// of a replay finishes. ok is false if no source is known.
//
// The result can move back when an idle source reports again with an older
// watermark; a caller that closes windows keeps the highest watermark it
// acted on, and the late frames that follow become revisions.
func (s *Sources) Watermark(now time.Time) (wm int64, allIdle bool, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.srcs) == 0 {
		return 0, false, false
	}
	active := false
	wm = math.MaxInt64
	last := int64(math.MinInt64)
	for _, p := range s.srcs {
		last = max(last, satAdd(p.maxTS, 1))
		if s.idle <= 0 || now.Sub(p.seen) <= s.idle {
			active = true
			wm = min(wm, p.watermark)
		}
	}
	if !active {
		return last, true, true
	}
	return wm, false, true
}
