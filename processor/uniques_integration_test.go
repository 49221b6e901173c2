package processor_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/view"
	"github.com/kuniq/kuniq/window"
)

// TestIntegrationUniques: a history of about four days (one frame a second with 20 h gaps),
// counted by a real `kuniq run`, queried with the real `kuniq uniques`: a whole day answers
// the day window's count exactly, random aligned ranges (crossing hours and days) are within
// 3.5 % of the exact count, and a range inside a minute is refused with exit 1 and the
// boundaries that would do.
func TestIntegrationUniques(t *testing.T) {
	c := newCluster(t, 2)
	cfg := gen.Config{Count: 40_000, Rate: 1, Pool: 15_000, Seed: 21, Start: 1468195200 + 20*3600, FrameBytes: 400,
		JumpEvery: 8000, JumpBy: 20 * time.Hour}
	g, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var frames []gen.FrameInfo
	g.OnFrame(func(fi gen.FrameInfo) {
		if fi.Kind.Counted() {
			frames = append(frames, fi)
		}
	})
	path := filepath.Join(c.dir, "frames.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	app := c.prefix
	c.start(app, "a")
	c.ingest(path)
	latest := c.waitFinal(g.Truth(), 3*time.Minute)

	uniques := func(from, to int64) (view.Range, string, error) {
		cmd := exec.Command(c.bin, "uniques", "--brokers", c.kc.Brokers[0], "--app", app,
			"--from", strconv.FormatInt(from, 10), "--to", time.Unix(to, 0).UTC().Format(time.RFC3339))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var r view.Range
		if err == nil {
			if jerr := json.Unmarshal(out, &r); jerr != nil {
				t.Fatalf("kuniq uniques printed %q: %v", out, jerr)
			}
		}
		return r, stderr.String(), err
	}
	exact := func(from, to int64) int {
		seen := map[int]bool{}
		for _, fi := range frames {
			if fi.TS >= from && fi.TS < to {
				seen[fi.User] = true
			}
		}
		return len(seen)
	}

	days := 0
	for k, r := range latest {
		if k.Granularity != window.Day {
			continue
		}
		got, stderr, err := uniques(k.Start, k.End())
		if err != nil {
			t.Fatalf("kuniq uniques over %s: %v\n%s", k, err, stderr)
		}
		if got.Uniques != r.Uniques || got.Frames != r.Frames || len(got.Windows) != 1 || !got.Complete {
			t.Errorf("uniques over the day %s = %+v, want the day window's %d users, %d frames, complete", k, got, r.Uniques, r.Frames)
		}
		days++
	}
	if days < 3 {
		t.Errorf("the history spans %d days, want at least 3", days)
	}

	rng := rand.New(rand.NewPCG(5, 6))
	first, last := frames[0].TS, frames[len(frames)-1].TS
	for range 12 {
		a := window.Minute.Start(first + rng.Int64N(last-first))
		b := window.Minute.Start(first + rng.Int64N(last-first))
		if a == b {
			continue
		}
		from, to := min(a, b), max(a, b)
		got, stderr, err := uniques(from, to)
		if err != nil {
			t.Fatalf("kuniq uniques %d..%d: %v\n%s", from, to, err, stderr)
		}
		want := exact(from, to)
		if math.Abs(float64(got.Uniques)-float64(want)) > 0.035*float64(want) {
			t.Errorf("uniques %s..%s = %d, exact %d", got.FromTime, got.ToTime, got.Uniques, want)
		}
		t.Logf("%s..%s: %d (exact %d) from %d windows, complete %v", got.FromTime, got.ToTime, got.Uniques, want, len(got.Windows), got.Complete)
	}

	_, stderr, err := uniques(first/60*60+30, last/60*60)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr, "not on a minute boundary") {
		t.Errorf("a range inside a minute: err %v, stderr %q; want exit 1 naming the minute boundaries", err, stderr)
	}
}
