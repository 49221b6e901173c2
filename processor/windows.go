package processor

import (
	"fmt"
	"log/slog"
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
	log     *slog.Logger
	fatal   atomic.Pointer[error]
}

// NewWindows returns stage 2 for an input of the given number of partitions; the partials
// topic, the loop topic and the table have as many (Topology).
func NewWindows(cfg Config, partitions int) *Windows {
	return &Windows{cfg: cfg, inputs: partitions, ctlKeys: ControlKeys(partitions), now: time.Now,
		log: cfg.logger().With("stage", "windows")}
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
	// Commands to a window row. Each is acknowledged even when repeated (or the row is
	// deleted): the control row keeps asking until it hears back, and a repeat publishes
	// nothing new.
	case OpFinalize:
		st, _ := ctx.Value().(*WindowState)
		if st != nil && !st.Final {
			st.Final, st.LastAt = true, w.now().UnixMilli()
			w.publish(ctx, st)
			ctx.SetValue(st)
		}
		w.ack(ctx, OpFinalized, 0)
	case OpPublish:
		st, _ := ctx.Value().(*WindowState)
		if st != nil && st.Pending && !st.Closed {
			w.correct(ctx, st, w.now().UnixMilli())
			ctx.SetValue(st)
		}
		w.ack(ctx, OpPublished, 0)
	case OpClose:
		st, _ := ctx.Value().(*WindowState)
		if st != nil && !st.Closed {
			// The last record: the first final of a window the watermark passed by more
			// than the lateness at once, or the window's last count, with its pending
			// correction (the last revision) if it has one.
			if st.Final && st.Pending {
				st.Revision++
			}
			st.Final, st.Closed, st.Pending = true, true, false
			w.publish(ctx, st)
			ctx.SetValue(st)
		}
		w.ack(ctx, OpClosed, 0)
	case OpExpire:
		ctx.Delete()
		w.ack(ctx, OpExpired, 0)
	// What window rows tell their control row.
	case OpCorrect:
		ctl := w.control(ctx)
		i := slices.IndexFunc(ctl.Pending, func(d Due) bool { return d.Window == c.Window })
		if i < 0 {
			ctl.Pending = append(ctl.Pending, Due{Window: c.Window, At: c.At})
		} else {
			ctl.Pending[i].At = c.At
		}
		ctx.SetValue(ctl)
	case OpFinalized, OpPublished, OpClosed, OpExpired:
		ctl := w.control(ctx)
		is := func(k window.Key) bool { return k == c.Window }
		switch c.Op {
		case OpFinalized:
			ctl.Open = slices.DeleteFunc(ctl.Open, is)
			if !slices.Contains(ctl.Closing, c.Window) {
				ctl.Closing = append(ctl.Closing, c.Window)
			}
		case OpPublished:
			ctl.Pending = slices.DeleteFunc(ctl.Pending, func(d Due) bool { return d.Window == c.Window })
		case OpClosed, OpExpired:
			ctl.Open = slices.DeleteFunc(ctl.Open, is)
			ctl.Closing = slices.DeleteFunc(ctl.Closing, is)
			ctl.Pending = slices.DeleteFunc(ctl.Pending, func(d Due) bool { return d.Window == c.Window })
			if c.Op == OpExpired {
				ctl.Expiring = slices.DeleteFunc(ctl.Expiring, is)
			} else if w.cfg.Retention[c.Window.Granularity] > 0 && !slices.Contains(ctl.Expiring, c.Window) {
				ctl.Expiring = append(ctl.Expiring, c.Window)
			}
		}
		ctx.SetValue(ctl)
	}
}

// ack tells the control row of this partition that the window of ctx.Key() did what it was
// told (or, OpCorrect, that it holds a correction due at the wall time at, in unix ms).
func (w *Windows) ack(ctx goka.Context, op Op, at int64) {
	k, err := window.ParseKey(ctx.Key())
	if err != nil {
		w.fail(ctx, fmt.Errorf("command to key %q: %w", ctx.Key(), err))
	}
	ctx.Loopback(w.ctlKeys[ctx.Partition()], &Command{Op: op, Window: k, At: at})
}

// correct publishes the window's pending correction: the next revision.
func (w *Windows) correct(ctx goka.Context, st *WindowState, now int64) {
	st.Revision++
	st.Pending, st.LastAt = false, now
	w.publish(ctx, st)
}

// merge adds a partial to its window. The sketch union is idempotent; the frame count is not,
// so a flush is counted once per input partition (Upto).
func (w *Windows) merge(ctx goka.Context, p *Partial) {
	key, err := window.ParseKey(ctx.Key())
	if err != nil {
		w.fail(ctx, fmt.Errorf("partial under key %q: %w", ctx.Key(), err))
	}
	st, _ := ctx.Value().(*WindowState)
	if st != nil && st.Closed {
		// Closed means no change, ever: its record was the last. Only a partition whose clock
		// lags far behind the others (it was idle while they moved an hour on) can still
		// send one, or a redelivery of what was merged already.
		w.log.Warn("partial for a closed window ignored: it was published as final and closed",
			"window", key.String(), "partition", p.Partition, "frames", p.Frames)
		return
	}
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
		// Late frames within the allowed lateness: a correction, at most one per
		// CorrectionInterval of wall time after the window's previous record. One not due
		// yet is pending: the control row tells the window when to publish it (its marks,
		// every flush interval from every input partition, are the tick), and the closed
		// record carries it if that comes first, so the last change is never lost.
		st.LateFrames += p.Frames
		w.cfg.Metrics.LateFrames(p.Frames)
		now := w.now().UnixMilli()
		if due := st.LastAt + w.cfg.CorrectionInterval.Milliseconds(); now >= due {
			w.correct(ctx, st, now)
		} else {
			// Told on every late partial, not only the first: a lost command is repaired.
			st.Pending = true
			w.ack(ctx, OpCorrect, due)
		}
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
		ctl = &Control{Inputs: map[int32]window.Progress{}, Watermark: math.MinInt64, Final: math.MinInt64}
	}
	return ctl
}

// mark records an input partition's progress, and acts on it: it is also stage 2's tick, as
// every input partition sends one every flush interval, busy or idle.
func (w *Windows) mark(ctx goka.Context, m *Mark) {
	ctl := w.control(ctx)
	prev, ok := ctl.Inputs[m.Partition]
	if !ok {
		prev = window.NotHeard
	}
	ctl.Inputs[m.Partition] = prev.Advance(window.Progress{Watermark: m.Watermark, MaxTS: m.MaxTS, Idle: m.Idle})
	now := w.now()
	w.advance(ctl, now)
	w.finalize(ctx, ctl, now.UnixMilli())
	ctx.SetValue(ctl)
	w.cfg.Metrics.Table(int32(ctx.Partition()), ctl.Watermark, len(ctl.Open))
}

// advance moves the control row's watermarks to where the input stands now
// (window.InputWatermark over the input partitions as the row last heard them; one it has not
// heard from holds every window open). When every input partition is idle, windows that ended
// on the wall clock (now − out-of-orderness) are final, never one whose end is still ahead:
// frames that arrive later for a final window publish a correction. Both only move forward.
func (w *Windows) advance(ctl *Control, now time.Time) {
	parts := make([]window.Progress, w.inputs)
	for i := range parts {
		p, ok := ctl.Inputs[int32(i)]
		if !ok {
			p = window.NotHeard
		}
		parts[i] = p
	}
	wall := now.Unix() - int64(w.cfg.Engine.Clock.OutOfOrder/time.Second)
	in := window.InputWatermark(parts, wall)
	ctl.Watermark = max(ctl.Watermark, in.Watermark)
	ctl.Final = max(ctl.Final, in.Final, ctl.Watermark)
}

func (w *Windows) register(ctx goka.Context, ctl *Control, k window.Key) {
	// A Register may reach the control row long after the window's partial (the loop topic
	// can lag behind the partials topic in a fast replay), even after the watermark passed the
	// window's retention: it is finalised like any other, then expired at the next mark.
	if !slices.Contains(ctl.Open, k) {
		ctl.Open = append(ctl.Open, k)
	}
	w.advance(ctl, w.now())
	switch {
	case w.closable(k, ctl):
		ctx.Loopback(k.String(), &Command{Op: OpClose})
	case k.End() <= ctl.Final:
		ctx.Loopback(k.String(), &Command{Op: OpFinalize})
	}
}

// closable tells whether no frame can reach window k any more: the watermark passed its end
// by the allowed lateness (stage 1's clocks call older frames late).
func (w *Windows) closable(k window.Key, ctl *Control) bool {
	return k.End()+int64(w.cfg.Engine.Clock.Lateness/time.Second) <= ctl.Watermark
}

// finalize tells every open window that is final now (ctl.Final) to publish its final record,
// every final window the lateness has passed to publish its closed record (an open one that
// is both gets only the closed record), every window whose pending correction is due (at the
// wall time nowMs) to publish it, and every closed window whose retention is over in event
// time to delete itself. It runs on every mark, and a window stays on its list until it
// acknowledges: a command lost to a crash (the control row's new state was stored locally, the
// command never reached Kafka) is sent again, and a repeated one is harmless.
func (w *Windows) finalize(ctx goka.Context, ctl *Control, nowMs int64) {
	for _, k := range ctl.Open {
		switch {
		case w.closable(k, ctl):
			ctx.Loopback(k.String(), &Command{Op: OpClose})
		case k.End() <= ctl.Final:
			ctx.Loopback(k.String(), &Command{Op: OpFinalize})
		}
	}
	for _, k := range ctl.Closing {
		if w.closable(k, ctl) {
			ctx.Loopback(k.String(), &Command{Op: OpClose})
		}
	}
	for i, d := range ctl.Pending {
		if d.At <= nowMs {
			ctx.Loopback(d.Window.String(), &Command{Op: OpPublish})
			// Asked again after a while if the window does not acknowledge (a lost command).
			ctl.Pending[i].At = nowMs + max(w.cfg.CorrectionInterval, time.Second).Milliseconds()
		}
	}
	for _, k := range ctl.Expiring {
		if k.End()+int64(w.cfg.Retention[k.Granularity]/time.Second) <= ctl.Watermark {
			ctx.Loopback(k.String(), &Command{Op: OpExpire})
		}
	}
}
