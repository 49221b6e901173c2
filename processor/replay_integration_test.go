package processor_test

import (
	"bytes"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/truth"
	"github.com/kuniq/kuniq/kafka"
)

// TestIntegrationReplay: `kuniq replay` re-processes the input from its first offset into a
// new app with another precision, leaving the live app alone; it refuses an existing app.
func TestIntegrationReplay(t *testing.T) {
	c := newCluster(t, 2)
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Pool, cfg.Rate, cfg.FrameBytes = 20_000, 51, 30_000, 200, 400
	cfg.MalformedPct = 1
	path, g := c.generate(cfg, "frames.jsonl")
	c.ingest(path)
	live := c.prefix + "-live"
	c.start(live, "a")
	liveFinal := c.waitFinal(g.Truth(), 3*time.Minute)

	// The replay: a new app, precision 16, its own output topic.
	rc := *c
	rc.output, rc.dlq = c.output+"-p16", c.dlq+"-p16"
	replayApp := c.prefix + "-p16"
	rc.start(replayApp, "r", "--precision", "16")
	// (start runs `run`; replay is `run` on a fresh app after a check: test the check below.)
	p16 := rc.waitFinal(g.Truth(), 3*time.Minute)
	rep := checkAccuracy(t, truth.Latest(rc.waitSettled(5*time.Second)), g.Truth(), true)
	if rep.MaxRelErr > 0.02 {
		t.Errorf("p=16 max error %.3f%%", 100*rep.MaxRelErr)
	}
	if len(p16) != len(liveFinal) {
		t.Errorf("replay has %d windows, live app %d", len(p16), len(liveFinal))
	}

	// replay refuses an app that exists, and the default app id.
	for _, app := range []string{live, "kuniq"} {
		out, err := exec.Command(c.bin, "replay", "--brokers", c.kc.Brokers[0], "--app", app,
			"--input", c.input, "--output", c.output).CombinedOutput()
		if err == nil || (!strings.Contains(string(out), "exists already") && !strings.Contains(string(out), "new --app")) {
			t.Errorf("replay --app %s: err %v, output %s; want a refusal", app, err, out)
		}
	}
	// A fresh app through `replay` itself, with its default topics: it counts into
	// <app>-uniques and <app>-dlq, shows progress, exits 0 once everything is final, and
	// leaves the live app's output and dead-letter topics byte-identical.
	liveOut, liveDLQ := c.snapshot(c.output), c.snapshot(c.dlq)
	if len(liveDLQ) == 0 {
		t.Fatal("the live app wrote no dead letters: the test input needs malformed frames")
	}
	fresh := c.prefix + "-fresh"
	start := time.Now()
	out, err := exec.Command(c.bin, "replay", "--brokers", c.kc.Brokers[0], "--app", fresh, "--input", c.input,
		"--state-dir", t.TempDir(), "--idle-timeout", "3s", "--progress", "1s").CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	t.Logf("replay exited 0 by itself after %v", time.Since(start).Round(time.Second))
	if !strings.Contains(string(out), "replay: ") || !strings.Contains(string(out), "done in") {
		t.Errorf("replay printed no progress:\n%s", out)
	}
	rf := *c
	rf.output, rf.dlq = fresh+"-uniques", fresh+"-dlq"
	checkAccuracy(t, truth.Latest(rf.results()), g.Truth(), true)
	if got := rf.deadLetters(); len(got) == 0 {
		t.Errorf("replay wrote no dead letters to %s", rf.dlq)
	}
	if !slices.EqualFunc(liveOut, c.snapshot(c.output), recordEqual) || !slices.EqualFunc(liveDLQ, c.snapshot(c.dlq), recordEqual) {
		t.Error("the replay changed the live app's output or dead-letter topic")
	}
	// Pointed at the live app's output, a replay is refused.
	out, err = exec.Command(c.bin, "replay", "--brokers", c.kc.Brokers[0], "--app", c.prefix+"-intruder", "--input", c.input,
		"--output", c.output, "--state-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "holds records of app") {
		t.Errorf("replay into the live output: err %v, output %s; want a refusal naming the other app", err, out)
	}
}

// snapshot reads every record of topic (partition, offset, key, value, headers).
func (c *cluster) snapshot(topic string) []kafka.Record {
	c.t.Helper()
	recs, err := c.kc.ReadAll(topic)
	if err != nil {
		c.t.Fatalf("read %s: %v", topic, err)
	}
	return recs
}

func recordEqual(a, b kafka.Record) bool {
	return a.Partition == b.Partition && a.Offset == b.Offset && a.Key == b.Key && bytes.Equal(a.Value, b.Value) &&
		maps.EqualFunc(a.Headers, b.Headers, bytes.Equal)
}

// TestIntegrationPartitionMismatch: an app set up on a 2-partition input refuses an input of
// another partition count with a clear message instead of mixing up its table.
func TestIntegrationPartitionMismatch(t *testing.T) {
	c := newCluster(t, 2)
	app := c.prefix + "-mm"
	if err := c.kc.EnsureTopics(kafka.Topic{Name: app + "-partials", Partitions: 2}, kafka.Topic{Name: c.input + "-3", Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(c.bin, "run", "--brokers", c.kc.Brokers[0], "--app", app, "--input", c.input+"-3",
		"--output", c.output, "--dlq", c.dlq, "--state-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "partition") || !strings.Contains(string(out), "--app") {
		t.Errorf("run on a 3-partition input for a 2-partition app: err %v, output:\n%s", err, out)
	}
}
