package processor

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// Windows is stage 2: the window table. Its rows are window states (key: the window) and one
// control row per partition (key: ControlKeys()[p]).
type Windows struct {
	cfg     Config
	inputs  int // input partitions: one not heard from yet holds every window open
	ctlKeys []string
	now     func() time.Time
	fatal   atomic.Pointer[error]
}

// NewWindows returns stage 2 for an input of the given number of partitions; the partials
// topic, the loop topic and the table have as many (Topology).
func NewWindows(cfg Config, partitions int) *Windows {
	return &Windows{cfg: cfg, inputs: partitions, ctlKeys: ControlKeys(partitions), now: time.Now}
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
		goka.Input(w.cfg.Names.Partials, PartialsCodec{}, w.onPartials),
		goka.Loop(CommandCodec{}, w.onCommand),
		goka.Output(w.cfg.Output, codec.ResultCodec{}),
		goka.Persist(TableCodec{}),
	)
}

func (w *Windows) onPartials(ctx goka.Context, msg any) {
	switch m := msg.(type) {
	case *Partial:
		w.merge(ctx, m)
	case *Mark:
		w.mark(ctx, m)
	default:
		w.fail(ctx, fmt.Errorf("unexpected %T on %s", msg, w.cfg.Names.Partials))
	}
}

func (w *Windows) onCommand(ctx goka.Context, msg any) {
	c := msg.(*Command)
	switch c.Op {
	case OpRegister:
		ctl := w.control(ctx)
		w.register(ctx, ctl, c.Window)
		ctx.SetValue(ctl)
	case OpFinalize:
		st, _ := ctx.Value().(*WindowState)
		if st != nil && !st.Final {
			st.Final = true
			w.publish(ctx, st)
			ctx.SetValue(st)
		}
		// Acknowledge even a repeated command (or a deleted row): the control row keeps
		// asking until it hears back.
		w.ack(ctx, OpFinalized)
	case OpExpire:
		ctx.Delete()
		w.ack(ctx, OpExpired)
	case OpFinalized, OpExpired:
		ctl := w.control(ctx)
		ctl.Open = slices.DeleteFunc(ctl.Open, func(k window.Key) bool { return k == c.Window })
		if c.Op == OpExpired {
			ctl.Expiring = slices.DeleteFunc(ctl.Expiring, func(k window.Key) bool { return k == c.Window })
		} else if w.cfg.Retention[c.Window.Granularity] > 0 && !slices.Contains(ctl.Expiring, c.Window) {
			ctl.Expiring = append(ctl.Expiring, c.Window)
		}
		ctx.SetValue(ctl)
	}
}

// ack tells the control row of this partition that the window of ctx.Key() did what it was
// told.
func (w *Windows) ack(ctx goka.Context, op Op) {
	k, err := window.ParseKey(ctx.Key())
	if err != nil {
		w.fail(ctx, fmt.Errorf("command to key %q: %w", ctx.Key(), err))
	}
	ctx.Loopback(w.ctlKeys[ctx.Partition()], &Command{Op: op, Window: k})
}

// merge adds a partial to its window. The sketch union is idempotent; the frame count is not,
// so a flush is counted once per input partition (Upto).
func (w *Windows) merge(ctx goka.Context, p *Partial) {
	key, err := window.ParseKey(ctx.Key())
	if err != nil {
		w.fail(ctx, fmt.Errorf("partial under key %q: %w", ctx.Key(), err))
	}
	st, _ := ctx.Value().(*WindowState)
	created := st == nil
	if created {
		s, _ := sketch.New(w.cfg.Engine.Precision)
		st = &WindowState{Count: engine.Count{Sketch: s}, Upto: map[int32]int64{}}
	}
	if st.Upto == nil {
		st.Upto = map[int32]int64{}
	}
	if err := st.Sketch.Merge(p.Sketch); err != nil {
		// Precision differs from the table's: a misconfigured instance. Stop, do not mix.
		w.fail(ctx, fmt.Errorf("window %s: %w (is another instance running with a different --precision?)", key, err))
	}
	upto, seen := st.Upto[p.Partition]
	pos := flushPosition(p)
	fresh := !seen || pos > upto
	if fresh {
		st.Frames += p.Frames
		st.Upto[p.Partition] = pos
	}
	switch {
	case !st.Final:
		// Every partial of an open window (re-)registers it: the control row ignores a window
		// it knows, and a Register lost when this partition moved to another instance (the row
		// reached the changelog, the loop message did not) is sent again, or the window would
		// never be finalised.
		ctx.Loopback(w.ctlKeys[ctx.Partition()], &Command{Op: OpRegister, Window: key})
	case fresh:
		// A late frame within the allowed lateness: a corrected final.
		st.LateFrames += p.Frames
		w.cfg.Metrics.LateFrames(p.Frames)
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
func flushPosition(p *Partial) int64 {
	if p.First < 0 {
		return 2*p.Last + 1
	}
	return 2 * p.Last
}

func (w *Windows) publish(ctx goka.Context, st *WindowState) {
	key, _ := window.ParseKey(ctx.Key())
	r := st.Result(key)
	ctx.Emit(w.cfg.Output, ctx.Key(), r)
	w.cfg.Metrics.Published(r)
}

func (w *Windows) control(ctx goka.Context) *Control {
	ctl, _ := ctx.Value().(*Control)
	if ctl == nil {
		ctl = &Control{Inputs: map[int32]window.Progress{}, Watermark: math.MinInt64}
	}
	return ctl
}

// mark records an input partition's progress and finalises what the input's watermark passed.
func (w *Windows) mark(ctx goka.Context, m *Mark) {
	ctl := w.control(ctx)
	prev, ok := ctl.Inputs[m.Partition]
	if !ok {
		prev = window.NotHeard
	}
	ctl.Inputs[m.Partition] = prev.Advance(window.Progress{Watermark: m.Watermark, MaxTS: m.MaxTS, Idle: m.Idle})
	wm, allIdle := w.combined(ctl)
	ctl.Watermark = max(ctl.Watermark, wm)
	w.finalize(ctx, ctl, allIdle)
	ctx.SetValue(ctl)
	w.cfg.Metrics.Table(int32(ctx.Partition()), ctl.Watermark, len(ctl.Open))
}

// combined is the watermark of the whole input (window.InputWatermark) over the input
// partitions as the control row last heard them; one it has not heard from holds every window
// open. allIdle tells the caller to finalise every open window. Frames that arrive later for
// such a window publish a correction.
func (w *Windows) combined(ctl *Control) (wm int64, allIdle bool) {
	parts := make([]window.Progress, w.inputs)
	for i := range parts {
		p, ok := ctl.Inputs[int32(i)]
		if !ok {
			p = window.NotHeard
		}
		parts[i] = p
	}
	return window.InputWatermark(parts)
}

func (w *Windows) register(ctx goka.Context, ctl *Control, k window.Key) {
	// A Register may reach the control row long after the window's partial (the loop topic
	// can lag behind the partials topic in a fast replay), even after the watermark passed the
	// window's retention: it is finalised like any other, then expired at the next mark.
	if !slices.Contains(ctl.Open, k) {
		ctl.Open = append(ctl.Open, k)
	}
	if _, allIdle := w.combined(ctl); allIdle || k.End() <= ctl.Watermark {
		ctx.Loopback(k.String(), &Command{Op: OpFinalize})
	}
}

// finalize tells every open window the watermark passed (all of them when the whole input is
// idle) to publish its final record, and every final window whose retention is over in event
// time to delete itself. It runs on every mark, and a window stays on its list until it
// acknowledges: a command lost to a crash (the control row's new state was stored locally, the
// command never reached Kafka) is sent again, and a repeated one is harmless.
func (w *Windows) finalize(ctx goka.Context, ctl *Control, all bool) {
	for _, k := range ctl.Open {
		if all || k.End() <= ctl.Watermark {
			ctx.Loopback(k.String(), &Command{Op: OpFinalize})
		}
	}
	for _, k := range ctl.Expiring {
		if k.End()+int64(w.cfg.Retention[k.Granularity]/time.Second) <= ctl.Watermark {
			ctx.Loopback(k.String(), &Command{Op: OpExpire})
		}
	}
}
