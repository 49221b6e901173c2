package window

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Config sets a Clock's tolerances. Durations are truncated to whole seconds,
// the resolution of ts. The package documentation explains how they combine.
type Config struct {
	// OutOfOrder is how far behind the largest accepted ts the watermark
	// trails (default 5s: about 99.9 % of frames arrive within 5 s).
	OutOfOrder time.Duration
	// Lateness is how far behind the watermark a frame may be and still be
	// counted (default 1h); older frames are Late.
	Lateness time.Duration
	// MaxJump is how far ahead of the largest accepted ts a frame may be and
	// still be accepted at once (default 10m); farther frames are held.
	MaxJump time.Duration
	// Confirm is the number of agreeing held frames that confirm a jump, or
	// anchor a new clock (default 8).
	Confirm int
	// Reject is the number of frames at the old time, seen while a jump is
	// pending, that reject it (default 8).
	Reject int
	// FlushConfirm is the least number of frames a pending jump that no frame
	// disagreed with must hold to be confirmed at Flush (default 2).
	FlushConfirm int
	// MaxHeld bounds the held frames (default 4096); beyond it the clock
	// settles by majority. It must be at least Confirm.
	MaxHeld int
}

// ErrConfig is returned, wrapped, by Config.Validate for each invalid field.
var ErrConfig = errors.New("window: invalid clock config")

// DefaultConfig returns the tolerances the mission sets: 5 s disorder, 1 h
// lateness, jumps beyond 10 min confirmed or rejected by 8 frames.
func DefaultConfig() Config {
	return Config{
		OutOfOrder:   5 * time.Second,
		Lateness:     time.Hour,
		MaxJump:      10 * time.Minute,
		Confirm:      8,
		Reject:       8,
		FlushConfirm: 2,
		MaxHeld:      4096,
	}
}

// Validate reports every invalid field, each error wrapping ErrConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if c.OutOfOrder < 0 {
		bad("out-of-order %v is negative", c.OutOfOrder)
	}
	if c.Lateness < 0 {
		bad("lateness %v is negative", c.Lateness)
	}
	if c.MaxJump < time.Second {
		bad("max jump %v is under a second", c.MaxJump)
	}
	if c.Confirm < 1 {
		bad("confirm %d is under 1", c.Confirm)
	}
	if c.Reject < 1 {
		bad("reject %d is under 1", c.Reject)
	}
	if c.FlushConfirm < 1 {
		bad("flush confirm %d is under 1", c.FlushConfirm)
	}
	if c.MaxHeld < c.Confirm {
		bad("max held %d is under confirm %d", c.MaxHeld, c.Confirm)
	}
	return errors.Join(errs...)
}

// Verdict is the fate of one frame.
type Verdict uint8

const (
	// Accept: count the frame.
	Accept Verdict = iota
	// Late: the frame is older than the watermark minus the lateness; it
	// goes to the dead letters.
	Late
	// Jump: the frame was far ahead of the source's time and was not
	// confirmed (a bit flip or a random timestamp), or its ts lies outside
	// MinWindowTS..MaxWindowTS; it goes to the dead letters.
	Jump
)

// String returns the verdict as dead-letter reasons name it: "accept",
// "late" or "ts_jump".
func (v Verdict) String() string {
	switch v {
	case Accept:
		return "accept"
	case Late:
		return "late"
	case Jump:
		return "ts_jump"
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// heldFrame is a frame whose verdict is pending.
type heldFrame[T any] struct {
	item    T
	ts      int64
	seq     uint64 // arrival number
	cluster uint64 // id of its pending jump
}

// cluster is a pending jump: held frames within maxJump of each other.
type cluster struct {
	id       uint64 // increasing in creation order; clusters stay sorted by it
	min, max int64
	n        int // frames held in it: the agreeing frames
	disagree int // frames at the old time since it started
}

type settled[T any] struct {
	item T
	ts   int64
	seq  uint64
	v    Verdict
}

// Clock is the event-time clock of one source: it guards against timestamp
// jumps, keeps the watermark and judges lateness, as the package
// documentation describes. The zero value is not usable; call NewClock. A
// Clock is not safe for concurrent use, and decide callbacks must not call
// back into the Clock that called them.
type Clock[T any] struct {
	outOfOrder, lateness, maxJump int64 // seconds
	confirm, reject               int
	flushConfirm, maxHeld         int

	anchored  bool
	replaying bool // inside move: holding must not start another move
	maxTS     int64
	seq       uint64
	nextID    uint64

	held          []heldFrame[T] // arrival order
	clusters      []cluster      // creation order
	spareHeld     []heldFrame[T]
	spareClusters []cluster
	out           []settled[T] // verdicts settled in the current call
	gone          []bool       // rejectWhere's scratch
}

// NewClock returns an unanchored clock. It panics if cfg does not Validate:
// configs come from DefaultConfig and validated flags, so an invalid one is a
// programming error.
func NewClock[T any](cfg Config) *Clock[T] {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Clock[T]{
		outOfOrder:   int64(cfg.OutOfOrder / time.Second),
		lateness:     int64(cfg.Lateness / time.Second),
		maxJump:      int64(cfg.MaxJump / time.Second),
		confirm:      cfg.Confirm,
		reject:       cfg.Reject,
		flushConfirm: cfg.FlushConfirm,
		maxHeld:      cfg.MaxHeld,
		maxTS:        math.MinInt64,
	}
}

// Watermark returns maxTS - OutOfOrder, or math.MinInt64 until the clock is
// anchored. Windows ending at or before it are final.
func (c *Clock[T]) Watermark() int64 {
	if !c.anchored {
		return math.MinInt64
	}
	return satSub(c.maxTS, c.outOfOrder)
}

// MaxTS returns the largest accepted ts, or math.MinInt64 until anchored.
func (c *Clock[T]) MaxTS() int64 { return c.maxTS }

// Held returns the number of frames whose verdict is pending.
func (c *Clock[T]) Held() int { return len(c.held) }

// Observe feeds one valid frame (its ts and an opaque payload) in arrival
// order. It calls decide for every frame whose fate this call settles, this
// one and/or frames held earlier, in their arrival order. A frame that is
// held gets its verdict in a later call (or at Flush). Anchored and with
// nothing held, Observe does not allocate.
func (c *Clock[T]) Observe(ts int64, item T, decide func(item T, ts int64, v Verdict)) {
	seq := c.seq
	c.seq++
	switch {
	case ts < MinWindowTS || ts > MaxWindowTS:
		// Settles nothing else, so it may be reported at once.
		decide(item, ts, Jump)
		return
	case !c.anchored || ts > satAdd(c.maxTS, c.maxJump):
		c.hold(heldFrame[T]{item: item, ts: ts, seq: seq}, 0)
		if len(c.held) > c.maxHeld {
			c.settleByMajority()
		}
	case ts < c.lateBound():
		decide(item, ts, Late)
		return
	default:
		if ts > c.maxTS {
			c.maxTS = ts
		}
		if len(c.clusters) == 0 {
			decide(item, ts, Accept) // the hot path
			return
		}
		c.out = append(c.out, settled[T]{item: item, ts: ts, seq: seq, v: Accept})
		c.vote()
	}
	c.emit(decide)
}

// Flush ends the input: it settles every held frame, as the package
// documentation describes, and reports them through decide in arrival order.
// The clock stays usable afterwards.
func (c *Clock[T]) Flush(decide func(item T, ts int64, v Verdict)) {
	if !c.anchored && len(c.clusters) > 0 {
		c.move(c.clusters[c.largest()].id)
	}
	for {
		best := -1
		for i, cl := range c.clusters {
			if cl.disagree == 0 && cl.n >= c.flushConfirm && (best < 0 || cl.n > c.clusters[best].n) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		c.move(c.clusters[best].id)
	}
	c.rejectWhere(func(*cluster) bool { return true })
	c.emit(decide)
}

// lateBound is the oldest ts still accepted.
func (c *Clock[T]) lateBound() int64 { return satSub(c.Watermark(), c.lateness) }

// judge is Observe's decision for a frame taken out of hold again after the
// clock moved; carried is the disagreeing count its old pending jump had.
func (c *Clock[T]) judge(f heldFrame[T], carried int) {
	switch {
	case f.ts > satAdd(c.maxTS, c.maxJump):
		c.hold(f, carried)
	case f.ts < c.lateBound():
		c.out = append(c.out, settled[T]{item: f.item, ts: f.ts, seq: f.seq, v: Late})
	default:
		if f.ts > c.maxTS {
			c.maxTS = f.ts
		}
		c.out = append(c.out, settled[T]{item: f.item, ts: f.ts, seq: f.seq, v: Accept})
		c.vote()
	}
}

// hold adds f to the first pending jump it agrees with, or starts one, and
// moves the clock there once it holds Confirm frames.
func (c *Clock[T]) hold(f heldFrame[T], carried int) {
	i := -1
	for j := range c.clusters {
		cl := &c.clusters[j]
		if f.ts >= satSub(cl.min, c.maxJump) && f.ts <= satAdd(cl.max, c.maxJump) {
			i = j
			break
		}
	}
	if i < 0 {
		c.clusters = append(c.clusters, cluster{id: c.nextID, min: f.ts, max: f.ts})
		c.nextID++
		i = len(c.clusters) - 1
	}
	cl := &c.clusters[i]
	cl.min, cl.max = min(cl.min, f.ts), max(cl.max, f.ts)
	cl.n++
	cl.disagree = max(cl.disagree, carried)
	f.cluster = cl.id
	c.held = append(c.held, f)
	if cl.n >= c.confirm && !c.replaying {
		c.move(cl.id)
	}
}

// vote counts a frame accepted at the old time against every pending jump
// and rejects those that reach Reject.
func (c *Clock[T]) vote() {
	rejected := false
	for i := range c.clusters {
		c.clusters[i].disagree++
		rejected = rejected || c.clusters[i].disagree >= c.reject
	}
	if rejected {
		c.rejectWhere(func(cl *cluster) bool { return cl.disagree >= c.reject })
	}
}

// rejectWhere settles the frames of the pending jumps matching reject as
// Jump and forgets those jumps.
func (c *Clock[T]) rejectWhere(reject func(*cluster) bool) {
	if len(c.clusters) == 0 {
		return
	}
	gone := c.gone[:0] // indexed like c.clusters
	some := false
	for i := range c.clusters {
		r := reject(&c.clusters[i])
		gone = append(gone, r)
		some = some || r
	}
	c.gone = gone
	if !some {
		return
	}
	kept := c.held[:0]
	for _, f := range c.held {
		if gone[c.clusterIndex(f.cluster)] {
			c.out = append(c.out, settled[T]{item: f.item, ts: f.ts, seq: f.seq, v: Jump})
			continue
		}
		kept = append(kept, f)
	}
	clear(c.held[len(kept):]) // drop references to settled payloads
	c.held = kept
	i := 0
	c.clusters = slices.DeleteFunc(c.clusters, func(cluster) bool { i++; return gone[i-1] })
}

// move confirms the pending jump id: the clock moves to it, its frames are
// accepted, and every other held frame is judged again against the moved
// clock, in arrival order. Frames of the jump that arrived after another
// held frame count against that frame's re-formed pending jump, as they
// would have had the clock been there all along.
func (c *Clock[T]) move(id uint64) {
	for {
		target := c.clusters[c.clusterIndex(id)]
		c.anchored = true
		c.maxTS = max(c.maxTS, target.max)

		old, oldClusters := c.held, c.clusters
		c.held, c.clusters = c.spareHeld[:0], c.spareClusters[:0]
		c.replaying = true
		for _, f := range old {
			if f.cluster == id {
				c.out = append(c.out, settled[T]{item: f.item, ts: f.ts, seq: f.seq, v: Accept})
				c.vote()
				continue
			}
			i, _ := slices.BinarySearchFunc(oldClusters, f.cluster, func(cl cluster, id uint64) int { return cmpUint(cl.id, id) })
			c.judge(f, oldClusters[i].disagree)
		}
		c.replaying = false
		clear(old)
		c.spareHeld, c.spareClusters = old[:0], oldClusters[:0]

		// Re-forming may have merged frames of several old jumps into one
		// that now holds enough to be confirmed too.
		next := -1
		for i, cl := range c.clusters {
			if cl.n >= c.confirm {
				next = i
				break
			}
		}
		if next < 0 {
			return
		}
		id = c.clusters[next].id
	}
}

// settleByMajority brings the held frames back within MaxHeld.
func (c *Clock[T]) settleByMajority() {
	for len(c.held) > c.maxHeld {
		l := c.clusters[c.largest()]
		if !c.anchored || (2*l.n > len(c.held) && l.n > l.disagree) {
			c.move(l.id)
			continue
		}
		oldest := c.clusters[0].id
		c.rejectWhere(func(cl *cluster) bool { return cl.id == oldest })
	}
}

// largest returns the index of the pending jump holding the most frames,
// the earliest on ties.
func (c *Clock[T]) largest() int {
	best := 0
	for i, cl := range c.clusters {
		if cl.n > c.clusters[best].n {
			best = i
		}
	}
	return best
}

// clusterIndex finds a pending jump by id; clusters are sorted by id.
func (c *Clock[T]) clusterIndex(id uint64) int {
	i, ok := slices.BinarySearchFunc(c.clusters, id, func(cl cluster, id uint64) int { return cmpUint(cl.id, id) })
	if !ok {
		panic(fmt.Sprintf("window: held frame of unknown pending jump %d", id))
	}
	return i
}

// emit reports the settled verdicts in arrival order and forgets them.
func (c *Clock[T]) emit(decide func(item T, ts int64, v Verdict)) {
	if len(c.out) == 0 {
		return
	}
	bySeq := func(a, b settled[T]) int { return cmpUint(a.seq, b.seq) }
	if !slices.IsSortedFunc(c.out, bySeq) {
		slices.SortFunc(c.out, bySeq)
	}
	out := c.out
	c.out = nil // a panicking decide must not leave verdicts to repeat
	for _, s := range out {
		decide(s.item, s.ts, s.v)
	}
	clear(out)
	c.out = out[:0]
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// satAdd returns a+b for b >= 0, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// satSub returns a-b for b >= 0, saturating at math.MinInt64.
func satSub(a, b int64) int64 {
	if a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}
