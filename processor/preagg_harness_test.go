package processor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/window"
)

// Stage 1 is tested through sarama's consumer-group interfaces with fakes: a session whose
// marked offsets are recorded, claims fed by the test, and emitters that record what they are
// given and can be told to fail. The same behaviour runs against the real broker in the
// integration tests.

// fakeSession is one consumer-group session: its context ends when the test ends it.
type fakeSession struct {
	ctx    context.Context
	cancel context.CancelFunc
	gen    int32
	claims map[string][]int32

	mu     sync.Mutex
	marked map[int32]int64 // partition -> highest marked offset
	marks  []markedOffset  // every MarkOffset call, in order
}

type markedOffset struct {
	partition int32
	offset    int64
}

func newFakeSession(gen int32, topic string, parts ...int32) *fakeSession {
	ctx, cancel := context.WithCancel(context.Background())
	return &fakeSession{ctx: ctx, cancel: cancel, gen: gen, claims: map[string][]int32{topic: parts}, marked: map[int32]int64{}}
}

func (s *fakeSession) Claims() map[string][]int32 { return s.claims }
func (s *fakeSession) MemberID() string           { return "test-member" }
func (s *fakeSession) GenerationID() int32        { return s.gen }
func (s *fakeSession) MarkOffset(_ string, p int32, off int64, _ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marks = append(s.marks, markedOffset{p, off})
	s.marked[p] = max(s.marked[p], off) // sarama keeps the maximum
}
func (s *fakeSession) Commit()                                  {}
func (s *fakeSession) ResetOffset(string, int32, int64, string) {}
func (s *fakeSession) MarkMessage(m *sarama.ConsumerMessage, meta string) {
	s.MarkOffset(m.Topic, m.Partition, m.Offset+1, meta)
}
func (s *fakeSession) Context() context.Context { return s.ctx }

func (s *fakeSession) committed(p int32) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off, ok := s.marked[p]
	return off, ok
}

// fakeClaim is one partition's claim; the test sends its records.
type fakeClaim struct {
	topic     string
	partition int32
	initial   int64
	msgs      chan *sarama.ConsumerMessage
	next      int64
}

func (c *fakeClaim) Topic() string                            { return c.topic }
func (c *fakeClaim) Partition() int32                         { return c.partition }
func (c *fakeClaim) InitialOffset() int64                     { return c.initial }
func (c *fakeClaim) HighWaterMarkOffset() int64               { return c.next }
func (c *fakeClaim) Messages() <-chan *sarama.ConsumerMessage { return c.msgs }

// recordEmitter keeps what is emitted; fail, if set, decides an emit's error.
type recordEmitter struct {
	mu   sync.Mutex
	recs []emitted
	fail func(key string, msg any) error
	// block, if set, is waited on before an emit is acknowledged.
	block chan struct{}
}

type emitted struct {
	key     string
	msg     any
	headers goka.Headers
}

func (e *recordEmitter) Emit(key string, msg any) (*goka.Promise, error) {
	return e.EmitWithHeaders(key, msg, nil)
}

func (e *recordEmitter) EmitWithHeaders(key string, msg any, headers goka.Headers) (*goka.Promise, error) {
	e.mu.Lock()
	fail, block := e.fail, e.block
	var err error
	if fail != nil {
		err = fail(key, msg)
	}
	if err == nil {
		e.recs = append(e.recs, emitted{key, msg, headers})
	}
	e.mu.Unlock()
	p, finish := goka.NewPromiseWithFinisher()
	if block != nil {
		go func() { <-block; finish(nil, err) }()
		return p, nil
	}
	finish(nil, err)
	return p, nil
}

func (e *recordEmitter) Finish() error { return nil }

func (e *recordEmitter) setFail(f func(key string, msg any) error) {
	e.mu.Lock()
	e.fail = f
	e.mu.Unlock()
}

// take returns and forgets what was emitted so far.
func (e *recordEmitter) take() []emitted {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.recs
	e.recs = nil
	return r
}

var errBrokerDown = errors.New("kafka: client has run out of available brokers to talk to")

// fakeClock is a settable wall clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Unix(1_700_000_000, 0).UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// stage1 is a PreAgg driven by the test: claims run in goroutines, flushes happen when the
// test calls flush (no flush loop), the high-water mark of every partition is hwm.
type stage1 struct {
	t        *testing.T
	cfg      Config
	pa       *PreAgg
	partials *recordEmitter
	dlq      *recordEmitter
	clock    *fakeClock
	hwm      sync.Map // int32 -> int64
	stop     context.CancelFunc
}

func stage1Config() Config {
	cfg := testConfig()
	cfg.MaxPending = 1 << 20
	cfg.IdleTimeout = 10 * time.Second
	cfg.HandoverTimeout = 5 * time.Second
	cfg.Decoders = 3
	cfg.Engine.Clock.Confirm = 1 // the first frame anchors the clock
	return cfg
}

func newStage1(t *testing.T, cfg Config) *stage1 {
	t.Helper()
	s := &stage1{t: t, cfg: cfg, partials: &recordEmitter{}, dlq: &recordEmitter{}, clock: newFakeClock()}
	s.pa = NewPreAgg(cfg, 1, PreAggIO{
		Partials:    s.partials,
		DeadLetters: s.dlq,
		HighWater: func(p int32) (int64, error) {
			v, ok := s.hwm.Load(p)
			if !ok {
				return 0, fmt.Errorf("no high-water mark for %d", p)
			}
			return v.(int64), nil
		},
		Now: s.clock.now,
	})
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	done := make(chan struct{})
	go func() { defer close(done); s.pa.decoders.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// claim is a running ConsumeClaim.
type claim struct {
	s    *stage1
	sess *fakeSession
	c    *fakeClaim
	done chan struct{}
}

// claim starts ConsumeClaim for partition p of a new session at initial offset initial.
func (s *stage1) claim(gen int32, p int32, initial int64) *claim {
	sess := newFakeSession(gen, string(s.cfg.Input), p)
	c := &fakeClaim{topic: string(s.cfg.Input), partition: p, initial: initial, next: initial, msgs: make(chan *sarama.ConsumerMessage, 1024)}
	cl := &claim{s: s, sess: sess, c: c, done: make(chan struct{})}
	go func() {
		defer close(cl.done)
		if err := s.pa.ConsumeClaim(sess, c); err != nil {
			s.t.Errorf("ConsumeClaim: %v", err)
		}
	}()
	return cl
}

// send delivers records at the claim's next offsets (nil is a tombstone).
func (cl *claim) send(values ...[]byte) {
	for _, v := range values {
		cl.c.msgs <- &sarama.ConsumerMessage{Topic: cl.c.topic, Partition: cl.c.partition, Offset: cl.c.next, Value: v}
		cl.c.next++
	}
	cl.s.hwm.Store(cl.c.partition, cl.c.next)
}

// sendTS delivers one frame per ts, each with a uid of its own offset.
func (cl *claim) sendTS(ts ...int64) {
	for _, v := range ts {
		cl.send(fmt.Appendf(nil, `{"ts":%d,"uid":"%019x"}`, v, cl.c.next))
	}
}

// applied waits until the partition has applied every record sent so far.
func (cl *claim) applied() {
	cl.s.t.Helper()
	pt := cl.s.pa.partition(cl.c.partition)
	deadline := time.Now().Add(10 * time.Second)
	for {
		pt.mu.Lock()
		read := pt.read
		pt.mu.Unlock()
		if read >= cl.c.next-1 {
			return
		}
		if time.Now().After(deadline) {
			cl.s.t.Fatalf("partition %d applied up to %d, sent up to %d", cl.c.partition, read, cl.c.next-1)
		}
		time.Sleep(time.Millisecond)
	}
}

// end ends the claim's session and flushes until the hand-over returns (or fails the test).
func (cl *claim) end() {
	cl.s.t.Helper()
	cl.sess.cancel()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-cl.done:
			return
		default:
		}
		if time.Now().After(deadline) {
			cl.s.t.Fatal("ConsumeClaim did not return after its session ended")
		}
		cl.s.flush()
		time.Sleep(time.Millisecond)
	}
}

func (s *stage1) flush() { s.pa.flush(context.Background()) }

// out splits what the partials emitter got into partials per window and marks.
type stage1Out struct {
	partials map[window.Key][]*Partial
	marks    []*Mark
	order    []any
}

func (s *stage1) drain() stage1Out {
	s.t.Helper()
	out := stage1Out{partials: map[window.Key][]*Partial{}}
	ctl := ControlKeys(1)[0]
	for _, r := range s.partials.take() {
		out.order = append(out.order, r.msg)
		switch m := r.msg.(type) {
		case *Partial:
			k, err := window.ParseKey(r.key)
			if err != nil {
				s.t.Fatalf("partial under key %q: %v", r.key, err)
			}
			out.partials[k] = append(out.partials[k], m)
		case *Mark:
			if r.key != ctl {
				s.t.Errorf("mark under key %q, want the control key %q", r.key, ctl)
			}
			out.marks = append(out.marks, m)
		default:
			s.t.Fatalf("unexpected %T on the partials topic", r.msg)
		}
	}
	return out
}

func (s *stage1) dead() []codec.DeadLetter {
	var ds []codec.DeadLetter
	for _, r := range s.dlq.take() {
		v, _ := r.msg.([]byte)
		d, err := codec.DeadLetterFromKafka(v, r.headers)
		if err != nil {
			s.t.Fatalf("dead letter %s: %v", r.key, err)
		}
		if want := fmt.Sprintf("%d/%d", d.Partition, d.Offset); r.key != want {
			s.t.Errorf("dead letter under key %q, want %q", r.key, want)
		}
		if d.Topic != string(s.cfg.Input) {
			s.t.Errorf("dead letter of topic %q, want %q", d.Topic, s.cfg.Input)
		}
		d.Topic = "" // the engine's dead letters, compared with these, know no topic
		ds = append(ds, d)
	}
	return ds
}

// stage2Frames applies stage 2's rule for frames to partials in the order sent: a partial's
// frames count only if its flush position is new for its source in that window.
func stage2Frames(partials []*Partial) int64 {
	upto := map[int32]int64{}
	var n int64
	for _, p := range partials {
		last, seen := upto[p.Partition]
		if pos := flushPosition(p); !seen || pos > last {
			n += p.Frames
			upto[p.Partition] = pos
		}
	}
	return n
}
