package processor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/internal/testkit"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// stage1 is one PreAgg under Goka's tester, its emitters the tester's (non-flushing: a
// flushing emitter would wait for commits that only the flusher itself releases).
type stage1 struct {
	t        *testing.T
	tt       *tester.Tester
	cfg      Config
	pa       *PreAgg
	partials *tester.QueueTracker
	dlq      *tester.QueueTracker
	marks    *countingEmitter
	stopProc func()
	stopRun  func() error
}

// stage1Config flushes after every frame (MaxPending 1): the tester's Consume returns only once
// the frame's commit is released. Confirm is 1 so that the first frame anchors the clock at
// once; with 8 the first Consume would wait for frames it does not let through.
func stage1Config() Config {
	cfg := testConfig()
	cfg.MaxPending = 1
	cfg.FlushInterval = 5 * time.Millisecond
	cfg.IdleTimeout = time.Hour
	cfg.Engine.Clock.Confirm = 1
	return cfg
}

// countingEmitter counts the marks sent through it: one per flush per control key.
type countingEmitter struct {
	Emitter
	marks atomic.Int64
}

func (e *countingEmitter) Emit(key string, msg any) (*goka.Promise, error) {
	if _, ok := msg.(*Mark); ok {
		defer e.marks.Add(1)
	}
	return e.Emitter.Emit(key, msg)
}

func newStage1(t *testing.T, cfg Config, runFlusher bool) *stage1 {
	t.Helper()
	tt := tester.New(t)
	emitter := func(topic goka.Stream, c goka.Codec) *goka.Emitter {
		e, err := goka.NewEmitter(nil, topic, c, goka.WithEmitterTester(tt), goka.WithEmitterProducerBuilder(tt.ProducerBuilder()))
		if err != nil {
			t.Fatalf("NewEmitter(%s): %v", topic, err)
		}
		return e
	}
	pe, de := emitter(cfg.Names.Partials, PartialsCodec{}), emitter(cfg.DeadLetter, codec.DeadLetterCodec{})
	s := &stage1{t: t, tt: tt, cfg: cfg, marks: &countingEmitter{Emitter: pe}}
	s.pa = NewPreAgg(cfg, 1, s.marks, de)
	proc, err := goka.NewProcessor(nil, s.pa.Graph(), append(s.pa.Options(), goka.WithTester(tt))...)
	if err != nil {
		t.Fatalf("NewProcessor: %v", err)
	}
	s.partials = tt.NewQueueTracker(string(cfg.Names.Partials))
	s.dlq = tt.NewQueueTracker(string(cfg.DeadLetter))

	pctx, pcancel := context.WithCancel(context.Background())
	perr := make(chan error, 1)
	go func() { perr <- proc.Run(pctx) }()
	var once sync.Once
	s.stopProc = func() {
		once.Do(func() {
			pcancel()
			select {
			case <-perr:
			case <-time.After(10 * time.Second):
				t.Error("stage 1 processor did not stop")
			}
		})
	}
	rctx, rcancel := context.WithCancel(context.Background())
	rerr := make(chan error, 1)
	if runFlusher {
		go func() { rerr <- s.pa.Run(rctx) }()
	} else {
		rerr <- nil
	}
	var ronce sync.Once
	var runErr error
	s.stopRun = func() error {
		ronce.Do(func() {
			rcancel()
			select {
			case runErr = <-rerr:
			case <-time.After(10 * time.Second):
				t.Error("stage 1 flusher did not stop")
			}
		})
		return runErr
	}
	// The flusher first (its last flush settles and releases everything held), then the
	// processor, whose shutdown waits for those commits; then the emitters.
	t.Cleanup(func() {
		if err := s.stopRun(); err != nil {
			t.Errorf("flusher: %v", err)
		}
		s.stopProc()
		if err := pe.Finish(); err != nil {
			t.Errorf("partials emitter: %v", err)
		}
		if err := de.Finish(); err != nil {
			t.Errorf("dead-letter emitter: %v", err)
		}
	})
	return s
}

// consume feeds one frame and fails the test if its commit is not released in time.
func (s *stage1) consume(key string, line []byte) {
	s.t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); s.tt.Consume(string(s.cfg.Input), key, line) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.t.Fatalf("Consume(%.60q) did not return: its commit was never released", line)
	}
}

type partialsOut struct {
	partials map[window.Key][]*Partial
	marks    []*Mark
	order    []any // every record, in topic order
}

func (s *stage1) drainPartials() partialsOut {
	s.t.Helper()
	out := partialsOut{partials: map[window.Key][]*Partial{}}
	ctl := ControlKeys(1)[0]
	for {
		key, v, ok := s.partials.Next()
		if !ok {
			return out
		}
		out.order = append(out.order, v)
		switch m := v.(type) {
		case *Partial:
			k, err := window.ParseKey(key)
			if err != nil {
				s.t.Fatalf("partial under key %q: %v", key, err)
			}
			out.partials[k] = append(out.partials[k], m)
		case *Mark:
			if key != ctl {
				s.t.Errorf("mark under key %q, want the control key %q", key, ctl)
			}
			out.marks = append(out.marks, m)
		default:
			s.t.Fatalf("unexpected %T on the partials topic", v)
		}
	}
}

func (s *stage1) drainDLQ() []codec.DeadLetter {
	var ds []codec.DeadLetter
	for {
		_, v, ok := s.dlq.Next()
		if !ok {
			return ds
		}
		ds = append(ds, v.(codec.DeadLetter))
	}
}

// collect is an engine.Output keeping the latest record per window and every dead letter.
type collect struct {
	results map[window.Key]codec.Result
	dead    []codec.DeadLetter
}

func (c *collect) Result(r codec.Result)         { c.results[r.Key()] = r }
func (c *collect) DeadLetter(d codec.DeadLetter) { c.dead = append(c.dead, d) }

// TestPreAggSample runs challenge frames and malformed ones through stage 1 with its flusher
// and checks its output against `kuniq count`'s engine over the same frames: per window, the
// partials' frames add up to the count and their union estimates the same uniques; every
// malformed frame is a dead letter with its reason; marks follow the partials.
func TestPreAggSample(t *testing.T) {
	lines := testkit.SampleLines(t)
	if testing.Short() {
		lines = lines[:200]
	}
	bad := map[int][]byte{ // input offset -> malformed frame
		3:   []byte(`not json`),
		50:  []byte(`{"ts":1468244400}`),
		51:  []byte(`{"uid":"8c568a5c86293989241"}`),
		120: []byte(`{"ts":"soon","uid":"8c568a5c86293989241"}`),
		121: {}, // an empty message
	}
	var input [][]byte
	for _, l := range lines {
		for bad[len(input)] != nil {
			input = append(input, bad[len(input)])
		}
		input = append(input, l)
	}

	cfg := stage1Config()
	want := &collect{results: map[window.Key]codec.Result{}}
	c, err := engine.NewCounter(cfg.Engine, want)
	if err != nil {
		t.Fatal(err)
	}
	var dec codec.FrameDecoder
	for off, l := range input {
		c.Add(engine.Decode(&dec, int64(off), l))
	}
	c.Close()

	s := newStage1(t, cfg, true)
	for off, l := range input {
		s.consume(fmt.Sprint(off), l)
	}
	if err := s.stopRun(); err != nil {
		t.Fatalf("flusher: %v", err)
	}
	out := s.drainPartials()

	if len(out.partials) != len(want.results) {
		t.Errorf("partials for %d windows, want %d (the engine's)", len(out.partials), len(want.results))
	}
	for k, w := range want.results {
		ps := out.partials[k]
		var frames int64
		u, _ := sketch.New(cfg.Engine.Precision)
		lastBySrc := map[int32]int64{}
		for _, p := range ps {
			frames += p.Frames
			if err := u.Merge(p.Sketch); err != nil {
				t.Fatal(err)
			}
			// Stage 2 counts a partial's frames only if its Last is new for its source.
			if prev, ok := lastBySrc[p.Partition]; ok && p.Last <= prev {
				t.Errorf("%s: partial Last %d after %d from source %d: stage 2 would drop its %d frames", k, p.Last, prev, p.Partition, p.Frames)
			}
			lastBySrc[p.Partition] = p.Last
		}
		if frames != w.Frames {
			t.Errorf("%s: partials hold %d frames, want %d", k, frames, w.Frames)
		}
		if got := u.Estimate(); got != w.Uniques {
			t.Errorf("%s: union of %d partials estimates %d uniques, want %d", k, len(ps), got, w.Uniques)
		}
	}

	dead := s.drainDLQ()
	if len(dead) != len(want.dead) || len(dead) < len(bad) {
		t.Errorf("%d dead letters, want %d (the engine's, at least the %d malformed)", len(dead), len(want.dead), len(bad))
	}
	for i := range min(len(dead), len(want.dead)) {
		g, w := dead[i], want.dead[i]
		if g.Reason != w.Reason || g.Offset != w.Offset || g.Partition != 0 || g.Frame != w.Frame {
			t.Errorf("dead letter %d = {%s %d/%d %.30q}, want {%s 0/%d %.30q}", i, g.Reason, g.Partition, g.Offset, g.Frame, w.Reason, w.Offset, w.Frame)
		}
	}
	for off, l := range bad {
		if !slices.ContainsFunc(dead, func(d codec.DeadLetter) bool { return d.Offset == int64(off) && d.Reason == codec.Reason(errOf(l)) }) {
			t.Errorf("no dead letter for malformed frame %q at offset %d with reason %q", l, off, codec.Reason(errOf(l)))
		}
	}

	// Marks: one per flush, after the partials it covers; the last record is a mark with the
	// final watermark, and watermarks never go back.
	if len(out.order) == 0 {
		t.Fatal("nothing on the partials topic")
	}
	if _, ok := out.order[len(out.order)-1].(*Mark); !ok {
		t.Errorf("last record on the partials topic is %T, want a mark after the partials", out.order[len(out.order)-1])
	}
	if n := s.marks.marks.Load(); int(n) != len(out.marks) {
		t.Errorf("%d marks on the topic, %d emitted", len(out.marks), n)
	}
	var maxTS int64
	for _, l := range input {
		if f, err := dec.Decode(l); err == nil {
			maxTS = max(maxTS, f.TS)
		}
	}
	for i := 1; i < len(out.marks); i++ {
		if out.marks[i].Watermark < out.marks[i-1].Watermark {
			t.Errorf("mark %d watermark %d < mark %d's %d", i, out.marks[i].Watermark, i-1, out.marks[i-1].Watermark)
		}
	}
	last := out.marks[len(out.marks)-1]
	wantWM := maxTS - int64(cfg.Engine.Clock.OutOfOrder/time.Second)
	if last.Partition != 0 || last.MaxTS != maxTS || last.Watermark != wantWM || last.Idle {
		t.Errorf("last mark = %+v, want source 0, max ts %d, watermark %d, not idle", *last, maxTS, wantWM)
	}
}

func errOf(line []byte) error {
	var d codec.FrameDecoder
	_, err := d.Decode(line)
	return err
}
