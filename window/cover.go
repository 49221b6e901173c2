package window

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Retained says which windows exist to be merged: those of the granularities counted whose
// retention has not passed.
type Retained struct {
	// Granularities are the granularities counted (any order).
	Granularities []Granularity
	// Horizon, per granularity, is the time at or before which its windows may have been
	// deleted: a window ending at or before it is gone. A granularity absent here (or
	// math.MinInt64) keeps every window.
	Horizon map[Granularity]int64
}

// Has reports whether window k is counted and retained.
func (r Retained) Has(k Key) bool {
	if !slices.Contains(r.Granularities, k.Granularity) {
		return false
	}
	h, ok := r.Horizon[k.Granularity]
	return !ok || k.End() > h
}

// ErrRange is returned, wrapped in a *RangeError, by Cover for a range that no set of retained
// windows covers exactly.
var ErrRange = errors.New("window: range not covered by retained windows")

// MaxRange is the longest range Cover accepts: 200 years.
const MaxRange = 200 * 366 * secondsPerDay

// RangeError says why a range cannot be covered and, where a boundary is the reason, which
// boundaries are possible instead.
type RangeError struct {
	// Boundary is "from" or "to", or "" when the range as a whole is the reason.
	Boundary string
	// At is the boundary given.
	At int64
	// Granularity is the finest granularity retained at the boundary, whose windows it must
	// align to; Earlier and Later the nearest boundaries of it around At.
	Granularity    Granularity
	Earlier, Later int64
	// Reason is the whole explanation, in a sentence.
	Reason string
}

func (e *RangeError) Error() string { return e.Reason }

// Unwrap makes errors.Is(err, ErrRange) true.
func (e *RangeError) Unwrap() error { return ErrRange }

// Cover returns the fewest retained windows whose union is exactly [from, to), sorted by
// start: whole years, months, weeks and days where they fit, hours and then minutes only at
// the edges. Windows do not overlap, so merging their sketches counts every user of the
// range once (HyperLogLog union), and summing their frames counts each frame once.
//
// A boundary must lie on a window boundary of the finest granularity retained there (minutes
// are kept 7 days by default, hours 90): otherwise the *RangeError says which granularity
// and the nearest boundaries before and after it. A boundary where no window is retained at
// all, an empty or reversed range, and one longer than MaxRange are errors too.
func Cover(from, to int64, r Retained) ([]Key, error) {
	gs := slices.Clone(r.Granularities)
	slices.Sort(gs)
	gs = slices.Compact(gs)
	switch {
	case len(gs) == 0:
		return nil, &RangeError{Reason: "no granularity is counted"}
	case from < MinWindowTS || to > MaxWindowTS:
		return nil, &RangeError{Reason: fmt.Sprintf("range %d..%d outside %d..%d", from, to, MinWindowTS, MaxWindowTS)}
	case to <= from:
		return nil, &RangeError{Reason: fmt.Sprintf("empty range: to %s is not after from %s", stamp(to), stamp(from))}
	case to-from > MaxRange:
		return nil, &RangeError{Reason: fmt.Sprintf("range of %s is longer than %d years", time.Duration(to-from)*time.Second, MaxRange/(366*secondsPerDay))}
	}
	if err := checkBoundary("from", from, from, gs, r); err != nil {
		return nil, err
	}
	if err := checkBoundary("to", to, to-1, gs, r); err != nil {
		return nil, err
	}

	// The boundaries a cover can pass through. A granularity nested in a coarser one that is
	// counted (a minute in an hour, an hour in a day) is only needed from an edge of the range
	// to the coarser one's first boundary inside it: in between the coarser windows cover
	// with fewer. Days, weeks, months and years do not all nest (a week straddles months), so
	// their boundaries are all kept, and the shortest path picks among them.
	nodes := map[int64]int{from: 0, to: 0}
	for _, g := range gs {
		lo, hi := from, to
		if p, ok := nestParent(g, gs); ok {
			first, last := ceilTo(p, from), p.Start(to)
			if first < last {
				if err := addBoundaries(nodes, g, from, min(first, to)); err != nil {
					return nil, err
				}
				lo = max(last, from)
			}
		}
		if err := addBoundaries(nodes, g, lo, hi); err != nil {
			return nil, err
		}
	}
	ts := make([]int64, 0, len(nodes))
	for t := range nodes {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	for i, t := range ts {
		nodes[t] = i
	}

	// Shortest path over the boundaries in time order (a DAG). Coarser windows are tried
	// first and only a strictly shorter path replaces a found one, so ties go to coarser
	// windows and the answer is deterministic.
	const unreached = math.MaxInt
	dist := make([]int, len(ts))
	via := make([]Key, len(ts))
	for i := range dist {
		dist[i] = unreached
	}
	dist[0] = 0
	for i, t := range ts {
		if dist[i] == unreached || t == to {
			continue
		}
		for gi := len(gs) - 1; gi >= 0; gi-- {
			g := gs[gi]
			if g.Start(t) != t {
				continue
			}
			k := Key{Granularity: g, Start: t}
			end := k.End()
			j, ok := nodes[end]
			if !ok || end > to || !r.Has(k) {
				continue
			}
			if dist[i]+1 < dist[j] {
				dist[j], via[j] = dist[i]+1, k
			}
		}
	}
	last := len(ts) - 1
	if dist[last] == unreached {
		return nil, &RangeError{Reason: fmt.Sprintf("no retained windows cover %s..%s exactly (a coarser granularity expires before a finer one?)", stamp(from), stamp(to))}
	}
	keys := make([]Key, dist[last])
	for i, j := len(keys)-1, last; i >= 0; i-- {
		keys[i] = via[j]
		j = nodes[via[j].Start]
	}
	return keys, nil
}

// checkBoundary checks that boundary at (inside is a second within the range next to it)
// lies on a boundary of the finest granularity retained at inside.
func checkBoundary(name string, at, inside int64, gs []Granularity, r Retained) error {
	for _, g := range gs {
		if !r.Has(Key{Granularity: g, Start: g.Start(inside)}) {
			continue
		}
		if g.Start(at) == at {
			return nil
		}
		earlier := g.Start(at)
		later := g.End(earlier)
		reason := fmt.Sprintf("%s %s is not on a %s boundary, the finest granularity retained there: use %s or %s",
			name, stamp(at), g, stamp(earlier), stamp(later))
		if g != gs[0] {
			reason = fmt.Sprintf("%s %s is not on a %s boundary (%s windows there are no longer retained, or not counted): use %s or %s",
				name, stamp(at), g, gs[0], stamp(earlier), stamp(later))
		}
		return &RangeError{Boundary: name, At: at, Granularity: g, Earlier: earlier, Later: later, Reason: reason}
	}
	// Nothing is retained there: say where retention begins.
	oldest := int64(math.MaxInt64)
	var og Granularity
	for _, g := range gs {
		h, ok := r.Horizon[g]
		if !ok || h == math.MinInt64 {
			continue
		}
		if s := g.Start(h); s < oldest {
			oldest, og = s, g
		}
	}
	return &RangeError{Boundary: name, At: at, Granularity: og, Earlier: oldest, Later: oldest,
		Reason: fmt.Sprintf("%s %s is beyond retention: no window is kept there; the earliest possible is %s (%s)", name, stamp(at), stamp(oldest), og)}
}

// nestParent is the next coarser counted granularity whose windows are unions of g's: an
// hour for a minute, a day for an hour.
func nestParent(g Granularity, gs []Granularity) (Granularity, bool) {
	switch g {
	case Minute:
		if slices.Contains(gs, Hour) {
			return Hour, true
		}
		if slices.Contains(gs, Day) {
			return Day, true
		}
	case Hour:
		if slices.Contains(gs, Day) {
			return Day, true
		}
	}
	return 0, false
}

// ceilTo is the first boundary of g at or after t.
func ceilTo(g Granularity, t int64) int64 {
	if s := g.Start(t); s == t {
		return t
	}
	return g.End(g.Start(t))
}

// maxNodes bounds the boundaries one query considers: a range of minutes without hours
// counted could otherwise ask for millions.
const maxNodes = 1 << 20

// addBoundaries adds g's boundaries in [lo, hi] to nodes.
func addBoundaries(nodes map[int64]int, g Granularity, lo, hi int64) error {
	for t := ceilTo(g, lo); t <= hi; t = g.End(t) {
		nodes[t] = 0
		if len(nodes) > maxNodes {
			return &RangeError{Reason: fmt.Sprintf("range too long to cover with %s windows: count coarser granularities or ask for less", g)}
		}
	}
	return nil
}

// stamp formats unix seconds as RFC 3339 UTC.
func stamp(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.RFC3339) }
