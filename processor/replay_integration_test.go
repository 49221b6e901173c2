package processor_test

import (
	"os/exec"
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
	path, g := c.generate(cfg, "frames.jsonl")
	c.ingest(path)
	live := c.prefix + "-live"
	c.start(live, "a")
	liveFinal := c.waitFinal(g.Truth(), 3*time.Minute)

	// The replay: a new app, precision 16, its own output topic.
	rc := *c
	rc.output = c.output + "-p16"
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
	// A fresh app through `replay` itself starts and counts.
	fresh := c.prefix + "-fresh"
	rf := *c
	rf.output = c.output + "-fresh"
	cmd := exec.Command(c.bin, "replay", "--brokers", c.kc.Brokers[0], "--app", fresh, "--input", c.input,
		"--output", rf.output, "--dlq", c.dlq, "--state-dir", t.TempDir(), "--idle-timeout", "3s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	rf.waitFinal(g.Truth(), 3*time.Minute)
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
