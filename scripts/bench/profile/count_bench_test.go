package profile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/testkit"
	"github.com/kuniq/kuniq/window"
)

// discard counts what a Counter outputs and keeps nothing.
type discard struct{ results, dead int }

func (d *discard) Result(codec.Result)         { d.results++ }
func (d *discard) DeadLetter(codec.DeadLetter) { d.dead++ }

// frames returns BENCH_PROFILE_FRAMES (default 20,000) challenge-shaped frames.
func frames(b *testing.B) ([]byte, int) {
	b.Helper()
	n := 20_000
	if s := os.Getenv("BENCH_PROFILE_FRAMES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("BENCH_PROFILE_FRAMES=%q: want a positive integer", s)
		}
		n = v
	}
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = n, 1
	frames, _ := testkit.Generate(b, cfg) // one allocation: the setup stays small in the profile
	return frames, n
}

// BenchmarkCount is one `kuniq count` over the frames per op, with one decoding worker and
// with one per core, for the minute windows (count's default) and for all six granularities.
func BenchmarkCount(b *testing.B) {
	data, n := frames(b)
	for _, gs := range []string{"minute", "all"} {
		for _, workers := range []int{1, 0} {
			b.Run(fmt.Sprintf("granularity=%s/workers=%d", gs, workers), func(b *testing.B) {
				cfg := engine.DefaultConfig()
				var err error
				if cfg.Granularities, err = window.ParseList(gs); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					var out discard
					c, err := engine.NewCounter(cfg, &out)
					if err != nil {
						b.Fatal(err)
					}
					err = engine.Read(context.Background(), bytes.NewReader(data), engine.ReadConfig{Workers: workers}, func(fs []engine.Frame) error {
						for _, f := range fs {
							c.Add(f)
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					c.Close()
					if st := c.Stats(); st.Accepted != int64(n) || out.results == 0 {
						b.Fatalf("counted %d of %d frames, %d results", st.Accepted, n, out.results)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
			})
		}
	}
}
