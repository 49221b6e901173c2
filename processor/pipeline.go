package processor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"
	"golang.org/x/sync/errgroup"
)

// Pipeline is one kuniq instance: the stages Config.Stage names, and what they report while
// they run (Progress).
type Pipeline struct {
	cfg    Config
	stage1 atomic.Pointer[stage1Handle]
	stage2 atomic.Pointer[goka.Processor]
	top    atomic.Pointer[Topology]

	mu     sync.Mutex
	seenHW map[string]int64 // high-water marks of the partials and loop topics at the last Progress
}

type stage1Handle struct {
	pa        *PreAgg
	highWater HighWaterFunc
}

// New returns the pipeline of cfg; Run starts it.
func New(cfg Config) *Pipeline { return &Pipeline{cfg: cfg} }

// Run runs the configured stages until ctx is done or one fails for good. Broker faults are
// waited out; shutdown is graceful: stage 1 flushes what it holds and commits it before Run
// returns.
func (p *Pipeline) Run(ctx context.Context) error {
	cfg := p.cfg
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cfg.Stage == StageBoth || cfg.Stage == StageWindows {
		if err := CheckStateDir(filepath.Join(cfg.StateDir, cfg.Names.App)); err != nil {
			return err
		}
	}
	top, err := Prepare(ctx, cfg)
	if err != nil {
		return err
	}
	p.top.Store(&top)
	g, gctx := errgroup.WithContext(ctx)
	if cfg.Stage == StageBoth || cfg.Stage == StageWindows {
		g.Go(func() error { return wrap("stage 2 (window table)", p.runWindows(gctx, top)) })
	}
	if cfg.Stage == StageBoth || cfg.Stage == StagePreAgg {
		g.Go(func() error { return wrap("stage 1 (pre-aggregation)", p.runPreAgg(gctx, top)) })
	}
	err = g.Wait()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Progress is how far a pipeline that runs both stages is, as this process sees it.
type Progress struct {
	// Read and HighWater sum, over the input partitions this process reads, the offsets up to
	// which everything is acknowledged downstream and the offsets the next records will get.
	Read, HighWater int64
	// CaughtUp: every input partition is claimed here, read to its end and idle.
	CaughtUp bool
	// Stage2Behind is what stage 2 has yet to consume of what was in the partials and loop
	// topics at the previous call (stage 1's heartbeats keep adding to them; -1: unknown).
	Stage2Behind int64
	// Open counts the windows the table still holds open, and Due those of them whose end has
	// passed on the wall clock (minus the allowed out-of-orderness): once the input is idle
	// and stage 2 has caught up, Due windows are about to be final and the others wait for
	// their end. -1: unknown (the table is not recovered, or not all of it is here).
	Open, Due int
}

// Done tells whether everything in the input is counted and every window that can be final
// is: what `kuniq replay` waits for.
func (pr Progress) Done() bool {
	return pr.CaughtUp && pr.Stage2Behind == 0 && pr.Open >= 0 && pr.Due == 0
}

// Progress reports how far the pipeline is. It asks Kafka for offsets, so call it about once
// a second, not per record. It is meant for a single instance that owns every partition
// (`kuniq replay`): with several instances each sees only its share.
func (p *Pipeline) Progress(ctx context.Context) (Progress, error) {
	pr := Progress{Stage2Behind: -1, Open: -1, Due: -1}
	s1, top := p.stage1.Load(), p.top.Load()
	if s1 == nil || top == nil {
		return pr, nil
	}
	pr.CaughtUp = true
	claimed := 0
	for _, pt := range s1.pa.partitions() {
		hw, err := s1.highWater(pt.id)
		if err != nil {
			return pr, err
		}
		pt.mu.Lock()
		durable, live, idle := pt.durable, pt.claim != nil, pt.lastIdle
		pt.mu.Unlock()
		if live {
			claimed++
		}
		pr.Read, pr.HighWater = pr.Read+max(durable, 0), pr.HighWater+hw
		pr.CaughtUp = pr.CaughtUp && live && idle && durable >= hw
	}
	pr.CaughtUp = pr.CaughtUp && claimed == top.Input

	behind, err := p.stage2Behind(ctx)
	if err != nil {
		return pr, err
	}
	pr.Stage2Behind = behind
	proc := p.stage2.Load()
	if proc == nil {
		return pr, nil
	}
	due := time.Now().Add(-p.cfg.Engine.Clock.OutOfOrder).Unix()
	open, dueN := 0, 0
	for _, k := range ControlKeys(top.Input) {
		v, err := proc.Get(k)
		if err != nil {
			return pr, nil // not recovered yet, or not this instance's partition
		}
		ctl, _ := v.(*Control)
		if ctl == nil {
			continue
		}
		for _, w := range ctl.Open {
			open++
			if w.End() <= due {
				dueN++
			}
		}
	}
	pr.Open, pr.Due = open, dueN
	return pr, nil
}

// stage2Behind sums, over the partials and loop topics, the high-water marks seen at the
// previous call minus stage 2's committed offsets.
func (p *Pipeline) stage2Behind(ctx context.Context) (int64, error) {
	topics := []string{string(p.cfg.Names.Partials), p.cfg.Names.Loop()}
	hw, committed, err := p.cfg.Kafka.GroupOffsets(ctx, string(p.cfg.Names.Windows), topics...)
	if err != nil {
		return -1, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	behind := int64(0)
	if p.seenHW == nil {
		behind = -1
	}
	for k := range hw {
		if p.seenHW != nil {
			behind += max(0, p.seenHW[k]-committed[k])
		}
	}
	p.seenHW = hw
	return behind, nil
}
