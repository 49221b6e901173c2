package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/testkit"
	"github.com/kuniq/kuniq/internal/truth"
	"github.com/kuniq/kuniq/window"
)

// countAll runs the engine over in exactly as `kuniq count --granularity all` does.
func countAll(t *testing.T, in []byte, precision uint8, workers int) (*recorder, Stats) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Granularities = window.All
	cfg.Precision = precision
	rec := &recorder{}
	c, err := NewCounter(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	err = Read(context.Background(), bytes.NewReader(in), ReadConfig{Workers: workers}, func(fs []Frame) error {
		for _, f := range fs {
			c.Add(f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	return rec, c.Stats()
}

// TestAccuracyAgainstExactCounts is the accuracy evidence of docs/accuracy.md: 200k frames
// with disorder, very late frames, bit flips, malformed lines and a multi-day gap, every final
// window compared with the generator's exact counts. Frames are shortened (the parser has its
// own tests) so the test stays quick under -race.
func TestAccuracyAgainstExactCounts(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Pool, cfg.Rate = 200_000, 42, 100_000, 100
	cfg.DisorderPct, cfg.LatePct, cfg.BitFlipPct, cfg.MalformedPct = 5, 0.1, 0.1, 0.5
	cfg.JumpEvery = 150_000
	cfg.FrameBytes = 300
	if testing.Short() {
		cfg.Count = 50_000
		cfg.JumpEvery = 30_000
	}
	in, g := testkit.Generate(t, cfg)
	rec, st := countAll(t, in, 14, 0)
	rep, err := truth.Compare(truth.Latest(rec.results), g.Truth())
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	rep.Write(&log, false)
	t.Log(log.String())
	if rep.Missing > 0 || len(rep.Extra) > 0 {
		t.Errorf("%d windows missing, bogus windows %v", rep.Missing, rep.Extra)
	}
	// Frame counts are sums, exact in a single run: every counted frame lands in its windows.
	if rep.FramesDiffer > 0 {
		for _, r := range rep.Rows {
			if r.FramesDiffer {
				t.Errorf("%s: frames %d, exact %d", r.Key, r.Frames, r.ExactFrames)
			}
		}
	}
	if rep.MeanRelErr > 0.01 || rep.MaxRelErr > 0.035 {
		t.Errorf("error mean %.3f%%, max %.3f%%: want <= 1%% and <= 3.5%% at p=14", 100*rep.MeanRelErr, 100*rep.MaxRelErr)
	}
	// No invalid frame was counted, no valid in-lateness frame dropped: the dead letters are
	// exactly the injected bad frames.
	kinds := g.Stats().Kinds
	want := map[string]int64{
		"late":    int64(kinds[gen.Late]),
		"ts_jump": 0, "syntax": 0,
	}
	flipsAndMalformed := int64(kinds[gen.BitFlipped] + kinds[gen.Malformed])
	var other int64
	for r, n := range st.Dead {
		if r != codec.ReasonLate {
			other += n
		}
	}
	if st.Dead[codec.ReasonLate] > want["late"]+int64(kinds[gen.BitFlipped]) || other+st.Dead[codec.ReasonLate] != flipsAndMalformed+want["late"] {
		t.Errorf("dead letters %v (total %d), want the %d late + %d bit-flipped + %d malformed frames",
			st.Dead, st.DeadTotal(), kinds[gen.Late], kinds[gen.BitFlipped], kinds[gen.Malformed])
	}
	if st.Accepted != int64(kinds[gen.Clean]+kinds[gen.Disordered]) {
		t.Errorf("counted %d frames, want the %d clean + %d disordered", st.Accepted, kinds[gen.Clean], kinds[gen.Disordered])
	}
}

// TestAccuracyChallengeSample counts the 1,000 real challenge frames: small windows, where
// HyperLogLog (sparse) is exact or nearly so.
func TestAccuracyChallengeSample(t *testing.T) {
	in := testkit.Sample(t)
	rec, st := countAll(t, in, 14, 2)
	if st.Accepted != 1000 || st.DeadTotal() != 0 {
		t.Fatalf("stats %+v: want all 1000 frames counted", st)
	}
	exact := exactCounts(t, in)
	got := truth.Latest(rec.results)
	if len(got) != len(exact) {
		t.Fatalf("%d windows, want %d", len(got), len(exact))
	}
	for k, n := range exact {
		r := got[k]
		if diff := int64(r.Uniques) - int64(n); diff < -1 || diff > 1 {
			t.Errorf("%s: uniques %d, exact %d", k, r.Uniques, n)
		}
	}
}
