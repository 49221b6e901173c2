package processor

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// collect is an engine.Output keeping the latest record per window and every dead letter.
type collect struct {
	results map[window.Key]codec.Result
	dead    []codec.DeadLetter
}

func (c *collect) Result(r codec.Result)         { c.results[r.Key()] = r }
func (c *collect) DeadLetter(d codec.DeadLetter) { c.dead = append(c.dead, d) }

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestPreAggSample runs challenge frames and malformed ones through one partition of stage 1,
// decoded on three goroutines and flushed at random points, and checks its output against
// `kuniq count`'s engine over the same frames: per window the partials' frames add up to the
// count and their union estimates the same uniques; every malformed frame is a dead letter
// with its reason; marks follow the partials; the committed offset is the end.
func TestPreAggSample(t *testing.T) {
	lines := readLines(t, "../testdata/challenge-sample-1000.jsonl")
	if testing.Short() {
		lines = lines[:200]
	}
	cfg := stage1Config()
	cfg.MaxFrameBytes = 4096
	bad := map[int][]byte{ // input offset -> malformed frame
		3:   []byte(`not json`),
		50:  []byte(`{"ts":1468244400}`),
		51:  []byte(`{"uid":"8c568a5c86293989241"}`),
		120: []byte(`{"ts":"soon","uid":"8c568a5c86293989241"}`),
		121: {},                                                                    // an empty message
		122: nil,                                                                   // a tombstone
		123: []byte(`{"ts":1468244400,"uid":"` + strings.Repeat("a", 5000) + `"}`), // over MaxFrameBytes
	}
	var input [][]byte
	for _, l := range lines {
		for {
			b, ok := bad[len(input)]
			if !ok {
				break
			}
			input = append(input, b)
		}
		input = append(input, l)
	}

	want := &collect{results: map[window.Key]codec.Result{}}
	c, err := engine.NewCounter(cfg.Engine, want)
	if err != nil {
		t.Fatal(err)
	}
	for off, l := range input {
		f := engine.Decode(&codec.FrameDecoder{}, int64(off), l)
		if len(l) > cfg.MaxFrameBytes {
			f = engine.Frame{Offset: int64(off), Line: l[:engine.TooLargeHead], Err: codec.ErrTooLarge}
		}
		c.Add(f)
	}
	c.Close()

	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	for i, l := range input {
		cl.send(l)
		if i%97 == 0 {
			cl.applied()
			s.flush()
		}
	}
	cl.applied()
	cl.end()
	out := s.drain()

	if len(out.partials) != len(want.results) {
		t.Errorf("partials for %d windows, want %d (the engine's)", len(out.partials), len(want.results))
	}
	for k, w := range want.results {
		ps := out.partials[k]
		u, _ := sketch.New(cfg.Engine.Precision)
		for _, p := range ps {
			if err := u.Merge(p.Sketch); err != nil {
				t.Fatal(err)
			}
		}
		if frames := stage2Frames(ps); frames != w.Frames {
			t.Errorf("%s: stage 2 counts %d frames of its partials, want %d", k, frames, w.Frames)
		}
		if got := u.Estimate(); got != w.Uniques {
			t.Errorf("%s: union of %d partials estimates %d uniques, want %d", k, len(ps), got, w.Uniques)
		}
	}

	dead := s.dead()
	if len(dead) != len(want.dead) || len(dead) < len(bad) {
		t.Errorf("%d dead letters, want %d (the engine's, at least the %d malformed)", len(dead), len(want.dead), len(bad))
	}
	for i := range min(len(dead), len(want.dead)) {
		g, w := dead[i], want.dead[i]
		if g.Reason != w.Reason || g.Offset != w.Offset || g.Partition != 0 || g.Frame != w.Frame {
			t.Errorf("dead letter %d = {%s %d/%d %.30q}, want {%s 0/%d %.30q}", i, g.Reason, g.Partition, g.Offset, g.Frame, w.Reason, w.Offset, w.Frame)
		}
	}
	wantReason := map[int]string{3: "syntax", 50: "no_uid", 51: "no_ts", 120: "bad_ts", 121: "syntax", 122: "null_value", 123: "too_large"}
	for off, reason := range wantReason {
		if !slices.ContainsFunc(dead, func(d codec.DeadLetter) bool { return d.Offset == int64(off) && d.Reason == reason }) {
			t.Errorf("no dead letter %q for the malformed frame at offset %d", reason, off)
		}
	}
	if d := dead[slices.IndexFunc(dead, func(d codec.DeadLetter) bool { return d.Reason == "too_large" })]; len(d.Frame) != engine.TooLargeHead {
		t.Errorf("too_large dead letter keeps %d bytes, want its head of %d", len(d.Frame), engine.TooLargeHead)
	}

	// Marks: one per flush, after the partials it covers; the last record is a mark with the
	// final watermark, and watermarks never go back.
	if len(out.order) == 0 {
		t.Fatal("nothing on the partials topic")
	}
	if _, ok := out.order[len(out.order)-1].(*Mark); !ok {
		t.Errorf("last record on the partials topic is %T, want a mark after the partials", out.order[len(out.order)-1])
	}
	var maxTS int64
	for _, l := range input {
		if f := engine.Decode(&codec.FrameDecoder{}, 0, l); f.Err == nil && len(l) <= cfg.MaxFrameBytes {
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
	if off, _ := cl.sess.committed(0); off != int64(len(input)) {
		t.Errorf("committed offset %d after the hand-over, want %d (everything)", off, len(input))
	}
}

// TestPreAggGuardHoldsCommits: a frame held by the bit-flip guard is neither counted nor
// committed, and holds the committed offset back until it is settled.
func TestPreAggGuardHoldsCommits(t *testing.T) {
	cfg := stage1Config()
	cfg.Engine.Clock.Confirm, cfg.Engine.Clock.Reject = 2, 3
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	far := t0 + 86400 // a bit flip: a day ahead
	steps := []struct {
		name       string
		ts         []int64
		wantCommit int64
		wantDead   []string
		maxMarkTS  int64
	}{
		{"anchor", []int64{t0, t0 + 1, t0 + 2, t0 + 3}, 4, nil, t0 + 3},
		{"far frame then fewer than Reject", []int64{far, t0 + 4, t0 + 5}, 4, nil, t0 + 5},
		{"no new frames: still held", nil, 4, nil, t0 + 5},
		{"the Reject-th frame rejects it", []int64{t0 + 6}, 8, []string{codec.ReasonJump}, t0 + 6},
	}
	var frames int64
	for _, st := range steps {
		cl.sendTS(st.ts...)
		cl.applied()
		s.flush()
		if got, _ := cl.sess.committed(0); got != st.wantCommit {
			t.Errorf("%s: committed offset %d, want %d", st.name, got, st.wantCommit)
		}
		out := s.drain()
		for _, ps := range out.partials {
			frames += stage2Frames(ps)
		}
		if len(out.marks) != 1 {
			t.Errorf("%s: %d marks, want 1", st.name, len(out.marks))
		}
		for _, m := range out.marks {
			if m.MaxTS > st.maxMarkTS {
				t.Errorf("%s: mark max ts %d: the held frame moved time (want <= %d)", st.name, m.MaxTS, st.maxMarkTS)
			}
		}
		var dead []string
		for _, d := range s.dead() {
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
	cl.end()
}

// TestPreAggSettleFlushLast: frames the guard held and a flush settles without new input (here
// the hand-over) are sent in partials whose Last repeats the previous flush's. Stage 2 must
// still count them: flushPosition ranks such a flush after the one before it.
func TestPreAggSettleFlushLast(t *testing.T) {
	cfg := stage1Config()
	cfg.Engine.Clock.Confirm, cfg.Engine.Clock.FlushConfirm = 3, 2 // two jumped frames: held, then confirmed at the flush
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	jump := t0 + 11*60 // beyond MaxJump (10 min), in the same hour
	cl.sendTS(t0, t0+1, t0+2, t0+3, jump, jump)
	cl.applied()
	s.flush()
	cl.end()
	out := s.drain()
	if n := stage2Frames(out.partials[hour0]); n != 6 {
		t.Errorf("%s: stage 2 counts %d frames, want 6", hour0, n)
	}
	for k, ps := range out.partials {
		var sent int64
		for _, p := range ps {
			sent += p.Frames
		}
		if n := stage2Frames(ps); n != sent {
			t.Errorf("%s: stage 2 counts %d of the %d frames sent", k, n, sent)
		}
	}
	if off, _ := cl.sess.committed(0); off != 6 {
		t.Errorf("committed offset %d, want 6", off)
	}
}

// TestPreAggRetriesInOrder: while Kafka fails, a partition's batch is kept and sent again, no
// offset is committed, frames read meanwhile wait for the next batch, and once Kafka is back
// stage 2 counts every frame exactly once.
func TestPreAggRetriesInOrder(t *testing.T) {
	cfg := stage1Config()
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	cl.sendTS(t0, t0+1, t0+2)
	cl.applied()
	s.flush()
	if off, _ := cl.sess.committed(0); off != 3 {
		t.Fatalf("committed offset %d, want 3", off)
	}
	s.partials.setFail(func(string, any) error { return errBrokerDown })
	cl.sendTS(t0+3, t0+4)
	cl.applied()
	for range 3 {
		s.clock.advance(time.Minute) // past any backoff
		s.flush()
	}
	if off, _ := cl.sess.committed(0); off != 3 {
		t.Errorf("committed offset %d while Kafka fails, want still 3", off)
	}
	if st := s.pa.sends.State(); !st.Failing || st.Attempts != 3 {
		t.Errorf("sends state %+v, want failing after 3 attempts", st)
	}
	cl.sendTS(t0 + 5) // read during the outage: waits for the next batch
	cl.applied()
	s.partials.setFail(nil)
	s.clock.advance(time.Minute)
	s.flush() // the kept batch (offsets 3-4)
	if off, _ := cl.sess.committed(0); off != 5 {
		t.Errorf("committed offset %d after the kept batch, want 5", off)
	}
	s.flush() // then the frame read meanwhile
	if off, _ := cl.sess.committed(0); off != 6 {
		t.Errorf("committed offset %d after the next batch, want 6", off)
	}
	if st := s.pa.sends.State(); st.Failing {
		t.Errorf("sends state %+v, want recovered", st)
	}
	out := s.drain()
	if n := stage2Frames(out.partials[minute0]); n != 6 {
		t.Errorf("%s: stage 2 counts %d frames, want 6", minute0, n)
	}
	var lasts []int64
	for _, p := range out.partials[minute0] {
		lasts = append(lasts, p.Last)
	}
	if !slices.IsSorted(lasts) {
		t.Errorf("partials of %s sent with Last %v, want in flush order", minute0, lasts)
	}
	cl.end()
}

// TestPreAggContinuesAfterLostCommit: a session ends after its flushes were acknowledged but
// its commit was lost (the coordinator went away), so the partition comes back at an older
// committed offset. The records this process sent already are skipped and committed at once:
// nothing is counted twice.
func TestPreAggContinuesAfterLostCommit(t *testing.T) {
	s := newStage1(t, stage1Config())
	cl := s.claim(1, 0, 0)
	cl.sendTS(t0, t0+1, t0+2, t0+3)
	cl.applied()
	cl.end()
	first := s.drain()

	cl2 := s.claim(2, 0, 0) // the commit of offset 4 never reached Kafka
	deadline := time.Now().Add(5 * time.Second)
	for off, _ := cl2.sess.committed(0); off != 4; off, _ = cl2.sess.committed(0) {
		if time.Now().After(deadline) {
			t.Fatalf("new session committed %d, want 4 at once", off)
		}
		time.Sleep(time.Millisecond)
	}
	cl2.sendTS(t0, t0+1, t0+2, t0+3) // redelivered: skipped
	cl2.c.next = 4
	cl2.sendTS(t0 + 4)
	cl2.applied()
	cl2.end()
	second := s.drain()
	all := append(first.partials[minute0], second.partials[minute0]...)
	if n := stage2Frames(all); n != 5 {
		t.Errorf("%s: stage 2 counts %d frames over both sessions, want 5", minute0, n)
	}
	if off, _ := cl2.sess.committed(0); off != 5 {
		t.Errorf("committed offset %d, want 5", off)
	}
}

// TestPreAggHandoverTimeout: a claim ends while Kafka is down; after HandoverTimeout the
// partition gives up its unsent work (never committed), so the next session reads it again and
// stage 2 counts it once.
func TestPreAggHandoverTimeout(t *testing.T) {
	cfg := stage1Config()
	cfg.HandoverTimeout = 50 * time.Millisecond
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	cl.sendTS(t0, t0+1)
	cl.applied()
	s.flush()
	s.partials.setFail(func(string, any) error { return errBrokerDown })
	cl.sendTS(t0+2, t0+3)
	cl.applied()
	cl.end() // flushes fail until the hand-over gives up
	if off, _ := cl.sess.committed(0); off != 2 {
		t.Errorf("committed offset %d, want 2 (the last acknowledged flush)", off)
	}
	s.partials.setFail(nil)
	cl2 := s.claim(2, 0, 2)
	cl2.sendTS(t0+2, t0+3, t0+4)
	cl2.applied()
	cl2.end()
	out := s.drain()
	if n := stage2Frames(out.partials[minute0]); n != 5 {
		t.Errorf("%s: stage 2 counts %d frames, want 5", minute0, n)
	}
	if off, _ := cl2.sess.committed(0); off != 5 {
		t.Errorf("committed offset %d, want 5", off)
	}
}

// TestPreAggIdle: a partition is idle only when it was read to its end (by the high-water mark
// asked after its last frame) and had no frame for the idle timeout; its clock is settled then.
func TestPreAggIdle(t *testing.T) {
	cfg := stage1Config()
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	cl.sendTS(t0, t0+1)
	cl.applied()
	idle := func() bool {
		s.flush()
		ms := s.drain().marks
		if len(ms) != 1 {
			t.Fatalf("%d marks, want 1", len(ms))
		}
		return ms[0].Idle
	}
	if idle() {
		t.Error("idle right after a frame")
	}
	s.hwm.Store(int32(0), int64(5)) // a backlog the consumer has not fetched yet
	s.clock.advance(cfg.IdleTimeout)
	if idle() {
		t.Error("idle with a backlog (read up to 2, high-water mark 5)")
	}
	s.hwm.Store(int32(0), int64(2))
	s.clock.advance(time.Second)
	if !idle() {
		t.Error("not idle: read to its end, no frame for the idle timeout")
	}
	cl.sendTS(t0 + 2)
	cl.applied()
	if idle() {
		t.Error("idle right after a new frame")
	}
	cl.end()
}

// TestPreAggBackpressure: while flushes cannot complete, a partition stops reading at about
// twice MaxPending frames (plus the batch in hand) instead of buffering the backlog in memory.
func TestPreAggBackpressure(t *testing.T) {
	cfg := stage1Config()
	cfg.MaxPending = 300
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	pt := s.pa.partition(0)
	readUpTo := func() int64 {
		time.Sleep(100 * time.Millisecond)
		pt.mu.Lock()
		defer pt.mu.Unlock()
		return pt.read
	}
	for range 1000 {
		cl.sendTS(t0)
	}
	if got := readUpTo() + 1; got < int64(2*cfg.MaxPending) || got > int64(2*cfg.MaxPending+batchSize) {
		t.Fatalf("read %d of 1000 records with no flush, want reading to stop at %d..%d", got, 2*cfg.MaxPending, 2*cfg.MaxPending+batchSize)
	}
	block := make(chan struct{})
	s.partials.block = block
	flushed := make(chan struct{})
	go func() { defer close(flushed); s.flush() }() // takes what is pending, then waits for Kafka
	cl.applied()                                    // room again: the rest is read
	close(block)
	<-flushed
	s.partials.block = nil
	cl.end()
	if off, _ := cl.sess.committed(0); off != 1000 {
		t.Errorf("committed offset %d, want 1000", off)
	}
}

// TestPartialsCountEveryWindow: frames in and out of order, across minute, hour and day
// boundaries, land in every window that contains them with the frames and sketch a plain map
// of fresh sketches gives: the cache of recent windows never sends a frame to a neighbour.
func TestPartialsCountEveryWindow(t *testing.T) {
	const base = 1468281540 // 2016-07-11 23:59:00 UTC: a day's last minute
	type ref struct {
		frames int64
		s      *sketch.Sketch
	}
	want := map[window.Key]*ref{}
	ps := newPartials(sketch.DefaultPrecision)
	var keys []window.Key
	for i := range 30000 {
		// Mostly forward in time, every seventh frame from up to 90 s before.
		ts := int64(base + i/100)
		if i%7 == 0 {
			ts -= int64(i % 90)
		}
		h := sketch.Hash([]byte{byte(i), byte(i >> 8), byte(i % 1000 >> 4)})
		keys = window.AppendKeys(keys[:0], ts, window.All)
		ps.add(h, keys)
		for _, k := range keys {
			r := want[k]
			if r == nil {
				s, _ := sketch.New(sketch.DefaultPrecision)
				r = &ref{s: s}
				want[k] = r
			}
			r.frames++
			r.s.InsertHash(h)
		}
	}
	got := ps.sorted()
	if len(got) != len(want) {
		t.Fatalf("%d windows, want %d", len(got), len(want))
	}
	for i, k := range got {
		if i > 0 && got[i-1].End() > k.End() {
			t.Errorf("windows not in the order of their ends: %v before %v", got[i-1], k)
		}
		w, r := ps.byKey[k], want[k]
		if r == nil {
			t.Fatalf("window %v was never counted into", k)
		}
		if w.frames != r.frames || w.sketch.Sketch().Estimate() != r.s.Estimate() {
			t.Errorf("window %v: %d frames, estimate %d; want %d, %d", k, w.frames, w.sketch.Sketch().Estimate(), r.frames, r.s.Estimate())
		}
	}
}
