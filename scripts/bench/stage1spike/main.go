// Command stage1spike measures, on the real broker and one topic, what stage 1 can reach on
// each way of reading its input: a bare sarama consumer group (the ceiling), a Goka processor
// whose callback does nothing, a Goka processor doing stage 1's per-frame work with deferred
// commits, and a sarama consumer group doing the same work in batches decoded on all cores with
// an in-order hand-over. It prints one RESULT line per mode; docs/design.md reports the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stage1spike:", err)
		os.Exit(1)
	}
}

var (
	brokers = flag.String("brokers", kafka.DefaultBrokers, "comma-separated brokers")
	topic   = flag.String("topic", "", "topic to read from its oldest offset")
	mode    = flag.String("mode", "bare", "bare | goka-noop | goka-work | sarama-work")
	workers = flag.Int("workers", 0, "decoders for sarama-work (0: GOMAXPROCS)")
	batch   = flag.Int("batch", 256, "messages per decoding job (sarama-work)")
	cpuprof = flag.String("cpuprofile", "", "write a CPU profile of the run here")
)

func run() error {
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *topic == "" {
		return errors.New("-topic is required")
	}
	kc := kafka.DefaultConfig()
	kc.Brokers = kafka.ParseBrokers(*brokers)
	hw, total, err := highWater(kc)
	if err != nil {
		return err
	}
	p := &progress{hw: hw, left: int64(len(hw)), done: make(chan struct{})}
	group := fmt.Sprintf("spike-%s-%d", *mode, time.Now().UnixNano())
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-p.done; cancel() }()
	switch *mode {
	case "bare":
		err = runSarama(ctx, kc, group, func(sarama.ConsumerGroupSession, sarama.ConsumerGroupClaim) handlerFunc { return bareClaim(p) })
	case "sarama-work":
		pool := newPool(*workers)
		err = runSarama(ctx, kc, group, func(sarama.ConsumerGroupSession, sarama.ConsumerGroupClaim) handlerFunc {
			return workClaim(p, pool)
		})
	case "goka-noop", "goka-work":
		err = runGoka(ctx, kc, group, p, *mode == "goka-work")
	default:
		return fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil && ctx.Err() == nil {
		return err
	}
	end := p.endTime()
	first := time.Unix(0, p.first.Load())
	secs, steady := end.Sub(start).Seconds(), end.Sub(first).Seconds()
	fmt.Printf("RESULT mode=%s frames=%d expected=%d secs=%.3f steady_secs=%.3f rate=%.0f steady_rate=%.0f bad=%d\n",
		*mode, p.frames.Load(), total, secs, steady, float64(p.frames.Load())/secs, float64(p.frames.Load())/steady, p.bad.Load())
	return nil
}

func highWater(kc kafka.Config) (map[int32]int64, int64, error) {
	client, err := sarama.NewClient(kc.Brokers, kc.Sarama())
	if err != nil {
		return nil, 0, err
	}
	defer client.Close()
	parts, err := client.Partitions(*topic)
	if err != nil {
		return nil, 0, err
	}
	hw := map[int32]int64{}
	var total int64
	for _, pt := range parts {
		h, err := client.GetOffset(*topic, pt, sarama.OffsetNewest)
		if err != nil {
			return nil, 0, err
		}
		o, err := client.GetOffset(*topic, pt, sarama.OffsetOldest)
		if err != nil {
			return nil, 0, err
		}
		if h > o {
			hw[pt], total = h, total+h-o
		}
	}
	return hw, total, nil
}

// progress stops the run when every partition reached its high-water mark snapshot.
type progress struct {
	hw          map[int32]int64
	frames, bad atomic.Int64
	first       atomic.Int64
	left        int64
	mu          sync.Mutex
	finished    map[int32]bool
	end         time.Time
	done        chan struct{}
}

func (p *progress) started() { p.first.CompareAndSwap(0, time.Now().UnixNano()) }

func (p *progress) reached(part int32, offset int64) bool {
	if offset < p.hw[part]-1 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished == nil {
		p.finished = map[int32]bool{}
	}
	if !p.finished[part] {
		p.finished[part] = true
		p.left--
		if p.left == 0 {
			p.end = time.Now()
			close(p.done)
		}
	}
	return true
}

func (p *progress) endTime() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.end.IsZero() {
		return time.Now()
	}
	return p.end
}

type handlerFunc func(sarama.ConsumerGroupSession, sarama.ConsumerGroupClaim) error

type saramaHandler struct {
	make func(sarama.ConsumerGroupSession, sarama.ConsumerGroupClaim) handlerFunc
}

func (h saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	return h.make(s, c)(s, c)
}

func runSarama(ctx context.Context, kc kafka.Config, group string, mk func(sarama.ConsumerGroupSession, sarama.ConsumerGroupClaim) handlerFunc) error {
	sc := kc.Sarama()
	sc.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	cg, err := sarama.NewConsumerGroup(kc.Brokers, group, sc)
	if err != nil {
		return err
	}
	defer cg.Close()
	for ctx.Err() == nil {
		if err := cg.Consume(ctx, []string{*topic}, saramaHandler{mk}); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return err
		}
	}
	return nil
}

func bareClaim(p *progress) handlerFunc {
	return func(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
		if _, ok := p.hw[c.Partition()]; !ok {
			return nil
		}
		var n int64
		for m := range c.Messages() {
			if n == 0 {
				p.started()
			}
			n++
			s.MarkMessage(m, "")
			if n == 4096 {
				p.frames.Add(n)
				n = 0
			}
			if p.reached(c.Partition(), m.Offset) {
				break
			}
		}
		p.frames.Add(n)
		return nil
	}
}

// sink is stage 1's per-partition state: a partial sketch per window.
type sink struct {
	windows map[window.Key]*sketch.Sketch
	dead    int64
}

func (s *sink) Accept(_ int64, h uint64, keys []window.Key) {
	for _, k := range keys {
		sk := s.windows[k]
		if sk == nil {
			sk, _ = sketch.New(sketch.DefaultPrecision)
			s.windows[k] = sk
		}
		sk.InsertHash(h)
	}
}
func (s *sink) Reject(codec.DeadLetter) { s.dead++ }

func newSource(part int32) (*engine.Source, *sink) {
	sk := &sink{windows: map[window.Key]*sketch.Sketch{}}
	return engine.NewSource(part, window.All, window.DefaultConfig(), sk), sk
}

// job is one batch of messages decoded by the pool; done is closed when frames is filled.
type job struct {
	msgs   []*sarama.ConsumerMessage
	frames []engine.Frame
	done   chan struct{}
}

type pool struct{ jobs chan *job }

func newPool(n int) *pool {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	p := &pool{jobs: make(chan *job, 4*n)}
	for range n {
		go func() {
			var d codec.FrameDecoder
			for j := range p.jobs {
				j.frames = j.frames[:0]
				for _, m := range j.msgs {
					j.frames = append(j.frames, engine.Decode(&d, m.Offset, m.Value))
				}
				close(j.done)
			}
		}()
	}
	return p
}

// workClaim reads a claim in batches, decodes them on the pool with up to `depth` batches in
// flight, and feeds the frames to the partition's Source strictly in offset order.
func workClaim(p *progress, pl *pool) handlerFunc {
	return func(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
		if _, ok := p.hw[c.Partition()]; !ok {
			return nil
		}
		src, sk := newSource(c.Partition())
		inflight := make(chan *job, 4)
		applied := make(chan struct{})
		go func() {
			defer close(applied)
			for j := range inflight {
				<-j.done
				for _, f := range j.frames {
					src.Add(f)
				}
				last := j.msgs[len(j.msgs)-1]
				s.MarkOffset(c.Topic(), c.Partition(), last.Offset+1, "")
				p.frames.Add(int64(len(j.msgs)))
				if p.reached(c.Partition(), last.Offset) {
					return
				}
			}
		}()
		defer func() { close(inflight); <-applied; _ = sk }()
		msgs := c.Messages()
		for {
			var first *sarama.ConsumerMessage
			select {
			case m, ok := <-msgs:
				if !ok {
					return nil
				}
				first = m
			case <-applied:
				return nil
			}
			p.started()
			j := &job{msgs: append(make([]*sarama.ConsumerMessage, 0, *batch), first), done: make(chan struct{})}
		fill:
			for len(j.msgs) < *batch {
				select {
				case m, ok := <-msgs:
					if !ok {
						break fill
					}
					j.msgs = append(j.msgs, m)
				default:
					break fill
				}
			}
			pl.jobs <- j
			select {
			case inflight <- j:
			case <-applied:
				return nil
			}
		}
	}
}

func runGoka(ctx context.Context, kc kafka.Config, group string, p *progress, work bool) error {
	var mu sync.Mutex
	type state struct {
		dec     codec.FrameDecoder
		src     *engine.Source
		commits []func(error)
	}
	states := map[int32]*state{}
	cb := func(gctx goka.Context, msg any) {
		part := gctx.Partition()
		mu.Lock()
		st := states[part]
		if st == nil {
			st = &state{}
			st.src, _ = newSource(part)
			states[part] = st
		}
		mu.Unlock()
		p.started()
		if work {
			line, _ := msg.([]byte)
			st.src.Add(engine.Decode(&st.dec, gctx.Offset(), line))
			// Stage 1 holds every commit until its flush; release in batches as it would.
			st.commits = append(st.commits, gctx.DeferCommit())
			if len(st.commits) >= 4096 {
				for _, f := range st.commits {
					f(nil)
				}
				st.commits = st.commits[:0]
			}
		}
		if n := p.frames.Add(1); n%100000 == 0 {
			_ = n
		}
		if p.reached(part, gctx.Offset()) && work {
			for _, f := range st.commits {
				f(nil)
			}
			st.commits = nil
		}
	}
	g := goka.DefineGroup(goka.Group(group), goka.Input(goka.Stream(*topic), codec.Bytes{}, cb))
	proc, err := goka.NewProcessor(kc.Brokers, g, kc.ProcessorOptions()...)
	if err != nil {
		return err
	}
	return proc.Run(ctx)
}
