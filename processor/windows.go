package processor

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// Windows is stage 2: the window table. Its rows are window states (key: the window) and one
// control row per partition (key: ControlKeys()[p]).
type Windows struct {
	cfg     Config
	sources int // input partitions: a source not heard from yet holds every window open
	ctlKeys []string
	now     func() time.Time
	fatal   atomic.Pointer[error]
}

// NewWindows returns stage 2 for an input of inputPartitions partitions (the partials topic,
// the table and the loop topic have as many).
func NewWindows(cfg Config, inputPartitions int) *Windows {
	return &Windows{cfg: cfg, sources: inputPartitions, ctlKeys: ControlKeys(inputPartitions), now: time.Now}
}

// Fatal returns the broken invariant that stopped the processor, if one did: such a stop is
// not a fault of Kafka's to wait out, and the process must exit with it.
func (w *Windows) Fatal() error {
	if e := w.fatal.Load(); e != nil {
		return *e
	}
	return nil
}

// fail stops the processor for a broken invariant (ctx.Fail panics out of the callback).
func (w *Windows) fail(ctx goka.Context, err error) {
	w.setFatal(err)
	ctx.Fail(err)
}

// setFatal records the first error the processor must not be restarted after.
func (w *Windows) setFatal(err error) { w.fatal.CompareAndSwap(nil, &err) }

// Graph is stage 2's Goka group.
func (w *Windows) Graph() *goka.GroupGraph {
	return goka.DefineGroup(w.cfg.Names.Windows,
		goka.Input(w.cfg.Names.Partials, codec.PartialsCodec{}, w.onPartials),
		goka.Loop(codec.CommandCodec{}, w.onCommand),
		goka.Output(w.cfg.Output, codec.ResultCodec{}),
		goka.Persist(codec.TableCodec{}),
	)
}

func (w *Windows) onPartials(ctx goka.Context, msg any) {
	switch m := msg.(type) {
	case *codec.Partial:
		w.merge(ctx, m)
	case *codec.Mark:
		w.mark(ctx, m)
	default:
		w.fail(ctx, fmt.Errorf("unexpected %T on %s", msg, w.cfg.Names.Partials))
	}
}

func (w *Windows) onCommand(ctx goka.Context, msg any) {
	c := msg.(*codec.Command)
	switch c.Op {
	case codec.OpRegister:
		ctl := w.control(ctx)
		w.register(ctx, ctl, c.Window)
		ctx.SetValue(ctl)
	case codec.OpFinalize:
		st, _ := ctx.Value().(*codec.WindowState)
		if st != nil && !st.Final {
			st.Final = true
			w.publish(ctx, st)
			ctx.SetValue(st)
		}
		// Acknowledge even a repeated command (or a deleted row): the control row keeps
		// asking until it hears back.
		w.ack(ctx, codec.OpFinalized)
	case codec.OpExpire:
		ctx.Delete()
		w.ack(ctx, codec.OpExpired)
	case codec.OpFinalized, codec.OpExpired:
		ctl := w.control(ctx)
		ctl.Open = slices.DeleteFunc(ctl.Open, func(k window.Key) bool { return k == c.Window })
		if c.Op == codec.OpExpired {
			ctl.Expiring = slices.DeleteFunc(ctl.Expiring, func(k window.Key) bool { return k == c.Window })
		} else if w.cfg.Retention[c.Window.Granularity] > 0 && !slices.Contains(ctl.Expiring, c.Window) {
			ctl.Expiring = append(ctl.Expiring, c.Window)
		}
		ctx.SetValue(ctl)
	}
}

// ack tells the control row of this partition that the window of ctx.Key() did what it was
// told.
func (w *Windows) ack(ctx goka.Context, op codec.Op) {
	k, err := window.ParseKey(ctx.Key())
	if err != nil {
		w.fail(ctx, fmt.Errorf("command to key %q: %w", ctx.Key(), err))
	}
	ctx.Loopback(w.ctlKeys[ctx.Partition()], &codec.Command{Op: op, Window: k})
}

// merge adds a partial to its window. The sketch union is idempotent; the frame count is not,
// so a flush is counted once per input partition (Upto).
func (w *Windows) merge(ctx goka.Context, p *codec.Partial) {
	key, err := window.ParseKey(ctx.Key())
	if err != nil {
		w.fail(ctx, fmt.Errorf("partial under key %q: %w", ctx.Key(), err))
	}
	st, _ := ctx.Value().(*codec.WindowState)
	created := st == nil
	if created {
		s, _ := sketch.New(w.cfg.Engine.Precision)
		st = &codec.WindowState{Sketch: s, Upto: map[int32]int64{}}
	}
	if st.Upto == nil {
		st.Upto = map[int32]int64{}
	}
	if err := st.Sketch.Merge(p.Sketch); err != nil {
		// Precision differs from the table's: a misconfigured instance. Stop, do not mix.
		w.fail(ctx, fmt.Errorf("window %s: %w (is another instance running with a different --precision?)", key, err))
	}
	upto, seen := st.Upto[p.Source]
	pos := flushPosition(p)
	fresh := !seen || pos > upto
	if fresh {
		st.Frames += p.Frames
		st.Upto[p.Source] = pos
	}
	switch {
	case !st.Final:
		// Every partial of an open window (re-)registers it: the control row ignores a window
		// it knows, and a Register lost when this partition moved to another instance (the row
		// reached the changelog, the loop message did not) is sent again, or the window would
		// never be finalised.
		ctx.Loopback(w.ctlKeys[ctx.Partition()], &codec.Command{Op: codec.OpRegister, Window: key})
	case fresh:
		// A late frame within the allowed lateness: a corrected final.
		st.LateFrames += p.Frames
		st.Revision++
		w.publish(ctx, st)
	}
	// A new row publishes nothing before its control row has seen it: it may belong to a
	// window whose retention is over (see register), and on the compacted output topic a
	// record would replace that window's final.
	if !created && !st.Final && w.cfg.EarlyInterval > 0 {
		now := w.now().UnixMilli()
		if now-st.EarlyAt >= w.cfg.EarlyInterval.Milliseconds() {
			st.EarlyAt = now
			w.publish(ctx, st)
		}
	}
	ctx.SetValue(st)
}

// flushPosition orders the flushes of one input partition: 2×Last, plus one for a flush that
// read no new frame (First < 0) and only settled frames the bit-flip guard held. Such a flush
// shares its Last with the flush before it, yet carries other frames; it happens at most once
// per Last, since frames are held again only after new frames arrive.
func flushPosition(p *codec.Partial) int64 {
	if p.First < 0 {
		return 2*p.Last + 1
	}
	return 2 * p.Last
}

func (w *Windows) publish(ctx goka.Context, st *codec.WindowState) {
	key, _ := window.ParseKey(ctx.Key())
	r := codec.NewResult(key, st.Sketch.Estimate(), st.Frames)
	r.Final, r.Revision, r.LateFrames = st.Final, st.Revision, st.LateFrames
	ctx.Emit(w.cfg.Output, ctx.Key(), r)
}

func (w *Windows) control(ctx goka.Context) *codec.Control {
	ctl, _ := ctx.Value().(*codec.Control)
	if ctl == nil {
		ctl = &codec.Control{Sources: map[int32]codec.SourceState{}, Watermark: math.MinInt64}
	}
	return ctl
}

// mark records an input partition's progress and finalises what the combined watermark passed.
func (w *Windows) mark(ctx goka.Context, m *codec.Mark) {
	ctl := w.control(ctx)
	s := ctl.Sources[m.Source]
	if _, ok := ctl.Sources[m.Source]; !ok {
		s = codec.SourceState{Watermark: math.MinInt64, MaxTS: math.MinInt64}
	}
	// A restarted stage 1 re-anchors its clock from the committed offset: its first marks may
	// be older than what it reported before. Progress only moves forward.
	s.Watermark, s.MaxTS, s.Idle = max(s.Watermark, m.Watermark), max(s.MaxTS, m.MaxTS), m.Idle
	ctl.Sources[m.Source] = s
	wm, allIdle := w.combined(ctl)
	ctl.Watermark = max(ctl.Watermark, wm)
	w.finalize(ctx, ctl, allIdle)
	ctx.SetValue(ctl)
}

// combined is the watermark of the whole input: the minimum over input partitions that are not
// idle; one not heard from yet counts as not idle and not anchored. When every partition is
// idle it is the largest ts seen plus one, and allIdle tells the caller to finalise every open
// window: the input has gone quiet, so what was seen is all there is (the end of a replay
// finishes). Frames that arrive later for such a window publish a correction.
func (w *Windows) combined(ctl *codec.Control) (wm int64, allIdle bool) {
	wm, active := int64(math.MaxInt64), false
	maxTS := int64(math.MinInt64)
	for src := range int32(w.sources) {
		s, ok := ctl.Sources[src]
		if !ok {
			return math.MinInt64, false
		}
		maxTS = max(maxTS, s.MaxTS)
		if !s.Idle {
			active = true
			wm = min(wm, s.Watermark)
		}
	}
	if active {
		return wm, false
	}
	if maxTS == math.MinInt64 {
		return math.MinInt64, true
	}
	return maxTS + 1, true
}

func (w *Windows) register(ctx goka.Context, ctl *codec.Control, k window.Key) {
	// A Register may reach the control row long after the window's partial (the loop topic
	// can lag behind the partials topic in a fast replay), even after the watermark passed the
	// window's retention: it is finalised like any other, then expired at the next mark.
	if !slices.Contains(ctl.Open, k) {
		ctl.Open = append(ctl.Open, k)
	}
	if _, allIdle := w.combined(ctl); allIdle || k.End() <= ctl.Watermark {
		ctx.Loopback(k.String(), &codec.Command{Op: codec.OpFinalize})
	}
}

// finalize tells every open window the watermark passed (all of them when the whole input is
// idle) to publish its final record, and every final window whose retention is over in event
// time to delete itself. It runs on every mark, and a window stays on its list until it
// acknowledges: a command lost to a crash (the control row's new state was stored locally, the
// command never reached Kafka) is sent again, and a repeated one is harmless.
func (w *Windows) finalize(ctx goka.Context, ctl *codec.Control, all bool) {
	for _, k := range ctl.Open {
		if all || k.End() <= ctl.Watermark {
			ctx.Loopback(k.String(), &codec.Command{Op: codec.OpFinalize})
		}
	}
	for _, k := range ctl.Expiring {
		if k.End()+int64(w.cfg.Retention[k.Granularity]/time.Second) <= ctl.Watermark {
			ctx.Loopback(k.String(), &codec.Command{Op: codec.OpExpire})
		}
	}
}
