package processor_test

import (
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/window"
)

// TestIntegrationHistory replays a history of more than two years with gaps of 40 days (time
// jumps the bit-flip guard must accept after confirmation): every day, week, month and year
// window is final and accurate, and the table holds only the minute and hour windows their
// retention keeps (7 and 90 days of event time): state is bounded, not growing with history.
func TestIntegrationHistory(t *testing.T) {
	c := newCluster(t, 4)
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Pool, cfg.Rate, cfg.FrameBytes = 44_000, 41, 5_000, 20, 400
	cfg.DisorderPct = 2
	cfg.JumpEvery, cfg.JumpBy = 2_000, 40*24*time.Hour
	path, g := c.generate(cfg, "history.jsonl")
	st := g.Stats()
	span := time.Duration(st.MaxTS-st.MinTS) * time.Second
	if span < 2*365*24*time.Hour {
		t.Fatalf("generated history spans %v, want at least two years", span)
	}
	app := c.prefix + "-hist"
	c.start(app, "a")
	c.ingest(path)
	// b joins while a replays: stage-2 partitions move mid-stream, with their rows and loop
	// messages in flight (a lost Register once left windows open forever here).
	time.Sleep(2 * time.Second)
	c.start(app, "b")
	c.waitFinal(g.Truth(), 4*time.Minute)
	all := c.waitSettled(8 * time.Second)
	latest := map[window.Key]codec.Result{}
	for k, r := range latestOf(all) {
		latest[k] = r
	}
	rep := checkAccuracy(t, latest, g.Truth(), true)
	coarse := 0
	for _, r := range rep.Rows {
		if r.Key.Granularity >= window.Day {
			coarse++
		}
	}
	t.Logf("history of %v: %d windows, %d of them day or coarser", span.Round(time.Hour), rep.Windows, coarse)

	// The table after the replay: live rows by granularity.
	table := string(c.tableTopic(app))
	recs, err := c.kc.ReadAll(table)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{}
	for _, r := range recs {
		live[r.Key] = r.Value != nil
	}
	end := st.MaxTS + 1
	count := map[window.Granularity]int{}
	for key, alive := range live {
		k, err := window.ParseKey(key)
		if err != nil || !alive {
			continue // control rows, tombstones
		}
		count[k.Granularity]++
		keep := map[window.Granularity]int64{window.Minute: 7 * 86400, window.Hour: 90 * 86400}[k.Granularity]
		if keep > 0 && k.End()+keep <= end {
			t.Errorf("%s is still in the table %v after its retention ended", k, time.Duration(end-k.End()-keep)*time.Second)
		}
	}
	total := map[window.Granularity]int{}
	for _, w := range g.Truth() {
		gr, _ := window.ParseGranularity(w.Granularity)
		total[gr]++
	}
	t.Logf("live table rows by granularity %v of %v windows counted", count, total)
	if count[window.Minute] >= total[window.Minute]/4 {
		t.Errorf("%d of %d minute windows still in the table: retention does not bound the state", count[window.Minute], total[window.Minute])
	}
	for _, gr := range []window.Granularity{window.Day, window.Week, window.Month, window.Year} {
		if count[gr] != total[gr] {
			t.Errorf("%d %s rows in the table, want all %d (kept forever)", count[gr], gr, total[gr])
		}
	}
}
