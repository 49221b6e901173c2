package engine

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// Config sets what a Counter counts and when it speaks.
type Config struct {
	Granularities []window.Granularity
	Precision     uint8
	Clock         window.Config
	// EarlyEvery > 0 emits provisional (final:false) results of changed open windows at most
	// once per EarlyEvery of event time; 0 emits finals only.
	EarlyEvery time.Duration
	// CorrectionEvery coalesces corrections: a final window that late frames changed
	// publishes at most one correction per CorrectionEvery of event time (watermark) after its
	// previous record; the last change is never lost, since the window's closed record
	// carries it. 0 publishes a correction at every watermark advance.
	CorrectionEvery time.Duration
	// Frame says where frames keep their uid and ts (the zero value: root "uid" and "ts", in
	// seconds). The Counter itself gets decoded frames; whoever decodes them (Read, a Kafka
	// stage) configures its codec.FrameDecoder with this.
	Frame codec.FrameConfig
}

// DefaultCorrectionEvery is the default of Config.CorrectionEvery (and of `kuniq count
// --correction-interval`): with frames up to 20 s late (the challenge generator's -d 20), a
// window gets its final record and at most one correction.
const DefaultCorrectionEvery = 20 * time.Second

// DefaultConfig counts minutes at precision 14 with the default clock, no early results and
// corrections coalesced per DefaultCorrectionEvery.
func DefaultConfig() Config {
	return Config{
		Granularities:   []window.Granularity{window.Minute},
		Precision:       sketch.DefaultPrecision,
		Clock:           window.DefaultConfig(),
		CorrectionEvery: DefaultCorrectionEvery,
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if len(c.Granularities) == 0 {
		errs = append(errs, errors.New("no granularities"))
	}
	if _, err := sketch.New(c.Precision); err != nil {
		errs = append(errs, err)
	}
	if err := c.Clock.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.EarlyEvery < 0 {
		errs = append(errs, fmt.Errorf("early interval %v < 0", c.EarlyEvery))
	}
	if c.CorrectionEvery < 0 {
		errs = append(errs, fmt.Errorf("correction interval %v < 0: use 0 to publish every correction", c.CorrectionEvery))
	}
	if err := c.Frame.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Output receives a Counter's records.
type Output interface {
	Result(r codec.Result)
	DeadLetter(d codec.DeadLetter)
}

// Window is one window's running state.
type Window struct {
	Key window.Key
	Count
	// dirty: changed since its last record; earlyAt: event time of its last early record;
	// lastAt: the watermark at its last record as a final window (its first final or its
	// last correction), from which the correction interval counts.
	dirty   bool
	earlyAt int64
	lastAt  int64
	index   int // in the open heap
}

// byEnd orders windows by end, then granularity, then start: the order of finalisation, so
// output is deterministic and a minute is reported before the hour it closes.
func byEnd(a, b *Window) int {
	return cmp.Or(cmp.Compare(a.Key.End(), b.Key.End()),
		cmp.Compare(a.Key.Granularity, b.Key.Granularity),
		cmp.Compare(a.Key.Start, b.Key.Start))
}

type windowHeap []*Window

func (h windowHeap) Len() int           { return len(h) }
func (h windowHeap) Less(i, j int) bool { return byEnd(h[i], h[j]) < 0 }
func (h windowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *windowHeap) Push(x any)        { w := x.(*Window); w.index = len(*h); *h = append(*h, w) }
func (h *windowHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}

// Counter counts one input: a Source plus its windows. Feed frames with Add in arrival order
// and call Close at the end of input. It is not safe for concurrent use.
type Counter struct {
	cfg      Config
	out      Output
	src      *Source
	byKey    map[window.Key]*Window
	open     windowHeap // not yet final, by end
	final    windowHeap // final, kept until no frame can reach them, by end
	dirty    []*Window  // final windows with late frames, awaiting their correction
	recent   [8]*Window // the current window per granularity: most frames hit it
	wm       int64      // watermark of the last advance
	lateSecs int64      // the allowed lateness in seconds, the unit of ts
	corrSecs int64      // the correction interval in seconds
}

// NewCounter returns a Counter writing to out.
func NewCounter(cfg Config, out Output) (*Counter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("engine config: %w", err)
	}
	c := &Counter{cfg: cfg, out: out, byKey: map[window.Key]*Window{}, wm: math.MinInt64}
	c.lateSecs = int64(cfg.Clock.Lateness / time.Second)
	c.corrSecs = int64(cfg.CorrectionEvery / time.Second)
	c.src = NewSource(0, cfg.Granularities, cfg.Clock, (*counterSink)(c))
	return c, nil
}

// Add feeds one decoded frame and emits whatever it makes final.
func (c *Counter) Add(f Frame) {
	c.src.Add(f)
	if wm := c.src.Watermark(); wm > c.wm {
		c.advance(wm)
	}
}

// Close settles held frames and closes every window: the input is over, nothing can change
// them. An open window's one record is final and closed; a final window's closed record
// carries its pending correction, if any.
func (c *Counter) Close() {
	c.src.Flush()
	c.advance(math.MaxInt64)
}

// Stats reports the Source's counts.
func (c *Counter) Stats() Stats { return c.src.Stats() }

// Open is the number of windows not yet final.
func (c *Counter) Open() int { return len(c.open) }

// Retained is the number of windows held in memory, open or final.
func (c *Counter) Retained() int { return len(c.byKey) }

type counterSink Counter

func (s *counterSink) Reject(d codec.DeadLetter) { s.out.DeadLetter(d) }

func (s *counterSink) Accept(ts int64, h uint64, keys []window.Key) {
	c := (*Counter)(s)
	for _, k := range keys {
		w := c.recent[k.Granularity]
		if w == nil || w.Key != k {
			w = c.window(k)
			c.recent[k.Granularity] = w
		}
		w.Sketch.InsertHash(h)
		w.Frames++
		if w.Final {
			w.LateFrames++
			if !w.dirty {
				c.dirty = append(c.dirty, w)
			}
		}
		w.dirty = true
	}
}

func (c *Counter) window(k window.Key) *Window {
	if w := c.byKey[k]; w != nil {
		return w
	}
	sk, _ := sketch.New(c.cfg.Precision) // Validate checked the precision
	w := &Window{Key: k, Count: Count{Sketch: sk}, earlyAt: math.MinInt64}
	c.byKey[k] = w
	heap.Push(&c.open, w)
	return w
}

// advance moves the watermark to wm: finals, then closed records of the windows no frame can
// reach any more, then coalesced corrections, then early results.
func (c *Counter) advance(wm int64) {
	c.wm = wm
	// A window that ends Lateness before the watermark can get no frame: the clock calls any
	// frame older than watermark - Lateness late. At the end of input (wm = MaxInt64) none can.
	horizon := wm - c.lateSecs
	if wm == math.MaxInt64 {
		horizon = wm
	}
	for len(c.open) > 0 && c.open[0].Key.End() <= wm {
		w := heap.Pop(&c.open).(*Window)
		w.Final, w.dirty, w.lastAt = true, false, wm
		if w.Key.End() <= horizon {
			// Final and beyond reach at once (a jump, or the end of input): one record.
			w.Closed = true
			c.out.Result(w.Result(w.Key))
			c.forget(w)
			continue
		}
		c.out.Result(w.Result(w.Key))
		heap.Push(&c.final, w)
	}
	for len(c.final) > 0 && c.final[0].Key.End() <= horizon {
		w := heap.Pop(&c.final).(*Window)
		if w.dirty {
			// The pending correction is the last revision: the closed record carries it.
			w.Revision++
		}
		w.dirty, w.Closed = false, true
		c.out.Result(w.Result(w.Key))
		c.forget(w)
	}
	if len(c.dirty) > 0 {
		slices.SortFunc(c.dirty, byEnd)
		keep := c.dirty[:0]
		for _, w := range c.dirty {
			switch {
			case w.Closed || !w.dirty:
				// Closed above, its correction carried by the closed record.
			case wm-w.lastAt >= c.corrSecs:
				w.Revision++
				w.dirty, w.lastAt = false, wm
				c.out.Result(w.Result(w.Key))
			default:
				keep = append(keep, w) // coalesced into a later correction
			}
		}
		clear(c.dirty[len(keep):])
		c.dirty = keep
	}
	if c.cfg.EarlyEvery > 0 && wm != math.MaxInt64 {
		c.early()
	}
}

// forget drops a closed window: nothing can reach it any more.
func (c *Counter) forget(w *Window) {
	delete(c.byKey, w.Key)
	if c.recent[w.Key.Granularity] == w {
		c.recent[w.Key.Granularity] = nil
	}
}

func (c *Counter) early() {
	now := c.src.MaxTS()
	every := int64(c.cfg.EarlyEvery / time.Second)
	var due []*Window
	for _, w := range c.open {
		if w.dirty && (w.earlyAt == math.MinInt64 || now-w.earlyAt >= every) {
			due = append(due, w)
		}
	}
	slices.SortFunc(due, byEnd)
	for _, w := range due {
		w.dirty, w.earlyAt = false, now
		c.out.Result(w.Result(w.Key))
	}
}
