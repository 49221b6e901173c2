package processor_test

import (
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/truth"
	"github.com/kuniq/kuniq/window"
)

func dirtyConfig(count int, seed uint64) gen.Config {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Pool, cfg.Rate = count, seed, 20_000, 100
	cfg.DisorderPct, cfg.LatePct, cfg.BitFlipPct, cfg.MalformedPct = 5, 0.2, 0.1, 0.5
	cfg.FrameBytes = 800
	return cfg
}

// TestIntegrationPipelineDirtyInput: 4 input partitions, 2 instances, disorder, very late
// frames, bit flips and malformed lines. Every window becomes final (the input ends: the idle
// rule closes the last ones), within the error bounds, with exact frame counts, and every bad
// frame is in the dead-letter topic with its reason.
func TestIntegrationPipelineDirtyInput(t *testing.T) {
	c := newCluster(t, 4)
	path, g := c.generate(dirtyConfig(60_000, 11), "frames.jsonl")
	app := c.prefix
	c.start(app, "a")
	c.start(app, "b")
	c.ingest(path)
	latest := c.waitFinal(g.Truth(), 3*time.Minute)
	checkAccuracy(t, latest, g.Truth(), true)

	kinds := g.Stats().Kinds
	wantDead := kinds[gen.Late] + kinds[gen.BitFlipped] + kinds[gen.Malformed]
	dead := c.deadLetters()
	total := 0
	for _, n := range dead {
		total += n
	}
	if total != wantDead {
		t.Errorf("dead letters %v (%d), want %d: %d late + %d bit-flipped + %d malformed",
			dead, total, wantDead, kinds[gen.Late], kinds[gen.BitFlipped], kinds[gen.Malformed])
	}
	if dead[codec.ReasonLate] < kinds[gen.Late] {
		t.Errorf("%d late dead letters, want at least the %d late frames", dead[codec.ReasonLate], kinds[gen.Late])
	}
}

// TestIntegrationIdleEndOfInput: a small finite input, one instance: the last windows become
// final after the idle timeout with no new frames, and nothing is published twice with a
// different count.
func TestIntegrationIdleEndOfInput(t *testing.T) {
	c := newCluster(t, 4)
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Pool, cfg.Rate, cfg.FrameBytes = 3_000, 5, 500, 20, 400
	path, g := c.generate(cfg, "frames.jsonl")
	c.start(c.prefix, "solo")
	c.ingest(path)
	start := time.Now()
	latest := c.waitFinal(g.Truth(), 2*time.Minute)
	t.Logf("all %d windows final %v after ingest", len(latest), time.Since(start).Round(time.Second))
	checkAccuracy(t, latest, g.Truth(), true)
	checkNoConflictingFinals(t, c.results())
}

// checkNoConflictingFinals: records of one window and revision may repeat (at-least-once) but
// never with another count.
func checkNoConflictingFinals(t *testing.T, rs []codec.Result) {
	t.Helper()
	type kr struct {
		k   window.Key
		rev int
	}
	seen := map[kr]codec.Result{}
	for _, r := range rs {
		if !r.Final {
			continue
		}
		id := kr{r.Key(), r.Revision}
		if prev, ok := seen[id]; ok && (prev.Uniques != r.Uniques || prev.Frames != r.Frames) {
			t.Errorf("%s revision %d published twice with different counts: %+v and %+v", r.Key(), r.Revision, prev, r)
		}
		seen[id] = r
	}
}

var _ = truth.Latest
