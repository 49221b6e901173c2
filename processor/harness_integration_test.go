package processor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/internal/testkit"
	"github.com/kuniq/kuniq/internal/truth"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/window"
)

// The integration tests run the real binary against the real broker: `kuniq run` instances
// are processes, so a crash is a real SIGKILL.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func kuniqBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kuniq-it-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kuniq")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/kuniq").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// cluster is one test's application on the shared broker: its own topics and app id.
type cluster struct {
	t                          *testing.T
	kc                         kafka.Config
	bin                        string
	input, output, dlq, prefix string
	partitions                 int
	dir                        string
}

func newCluster(t *testing.T, partitions int) *cluster {
	kc := kafkatest.Config(t)
	prefix := kafkatest.Name(t, "it")
	return &cluster{
		t: t, kc: kc, bin: kuniqBinary(t), partitions: partitions, dir: t.TempDir(), prefix: prefix,
		input: prefix + "-frames", output: prefix + "-uniques", dlq: prefix + "-dlq",
	}
}

// generate writes frames of cfg to a file and returns its path and the generator (truth).
func (c *cluster) generate(cfg gen.Config, name string) (string, *gen.Generator) {
	c.t.Helper()
	return testkit.GenerateFile(c.t, c.dir, name, cfg)
}

// split writes the lines of path [from, to) to a new file.
func (c *cluster) split(path string, from, to int) string {
	c.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	out := filepath.Join(c.dir, fmt.Sprintf("%s.%d-%d", filepath.Base(path), from, to))
	if err := os.WriteFile(out, bytes.Join(lines[from:min(to, len(lines))], nil), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return out
}

func (c *cluster) ingest(path string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, "ingest", "--brokers", c.kc.Brokers[0], "--input", c.input,
		"--partitions", strconv.Itoa(c.partitions), "--progress", "0", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("ingest: %v\n%s", err, out)
	}
}

type instance struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
}

// start runs `kuniq run` as a process with its own state directory (kept across restarts of
// the same name, as a restarted instance on the same host would).
func (c *cluster) start(app, name string, extra ...string) *instance {
	c.t.Helper()
	args := []string{"run", "--brokers", c.kc.Brokers[0], "--app", app,
		"--input", c.input, "--output", c.output, "--dlq", c.dlq,
		"--partitions", strconv.Itoa(c.partitions), "--state-dir", filepath.Join(c.dir, "state-"+app+"-"+name),
		"--idle-timeout", "3s", "--flush-interval", "200ms",
		// Tests that pause between ingests see their windows final at the pause (the input was
		// idle: end of input) and corrected afterwards. The production default coalesces those
		// corrections over 20 s, longer than waitSettled's quiet period, which would read the
		// premature revision; tests of coalescing itself pass their own interval.
		"--correction-interval", "1s"}
	logPath := filepath.Join(c.dir, fmt.Sprintf("%s-%s-%d.log", app, name, time.Now().UnixNano()))
	f, err := os.Create(logPath)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.bin, append(args, extra...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	in := &instance{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(in.done) }()
	c.t.Cleanup(func() {
		in.stop(c.t)
		if c.t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			c.t.Logf("log of %s/%s:\n%s", app, name, b)
		}
	})
	return in
}

// stop ends the instance gracefully (SIGTERM) and waits for it.
func (in *instance) stop(t *testing.T) {
	select {
	case <-in.done:
		return
	default:
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(90 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.done
		t.Errorf("instance %s did not stop within 90 s of SIGTERM", in.name)
	}
}

// kill ends the instance with SIGKILL: no flush, no commit, no goodbye to the group.
func (in *instance) kill() {
	_ = in.cmd.Process.Kill()
	<-in.done
}

// results reads the output topic.
func (c *cluster) results() []codec.Result {
	c.t.Helper()
	rs, err := truth.ReadTopic(c.kc, c.output)
	switch {
	case errors.Is(err, codec.ErrResult):
		c.t.Fatal(err)
	case errors.Is(err, sarama.ErrUnknownTopicOrPartition):
		return nil // the instance has not created its output topic yet
	case err != nil:
		// A topic created a moment ago may not have a leader yet ("not the leader"): the
		// callers poll, so this read counts as empty.
		c.t.Logf("reading %s: %v (retrying)", c.output, err)
		return nil
	}
	return rs
}

// waitFinal polls the output until every window of the truth has a final record, or fails.
func (c *cluster) waitFinal(want []gen.WindowTruth, timeout time.Duration) map[window.Key]codec.Result {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		latest := truth.Latest(c.results())
		missing := 0
		for _, w := range want {
			g, _ := window.ParseGranularity(w.Granularity)
			if _, ok := latest[window.Key{Granularity: g, Start: w.Start}]; !ok {
				missing++
			}
		}
		if missing == 0 {
			return latest
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("after %v, %d of %d windows have no final record", timeout, missing, len(want))
		}
		time.Sleep(2 * time.Second)
	}
}

// waitSettled waits until the output stops changing for quiet, so late corrections are in.
func (c *cluster) waitSettled(quiet time.Duration) []codec.Result {
	c.t.Helper()
	last, since := -1, time.Now()
	for {
		rs := c.results()
		if len(rs) != last {
			last, since = len(rs), time.Now()
		} else if time.Since(since) >= quiet {
			return rs
		}
		time.Sleep(time.Second)
	}
}

// deadLetters reads the dead-letter topic: reasons counted.
func (c *cluster) deadLetters() map[string]int {
	c.t.Helper()
	recs, err := c.kc.ReadAll(c.dlq)
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range recs {
		d, err := codec.DeadLetterFromKafka(r.Value, r.Headers)
		if err != nil {
			c.t.Fatalf("dead letter %s: %v", r.Key, err)
		}
		if d.Topic != c.input || (d.Frame == "" && d.Reason != "null_value" && d.Reason != "syntax") {
			c.t.Errorf("dead letter without its topic or frame: %+v", d)
		}
		if app := r.Header(codec.HeaderApp); app == "" {
			c.t.Errorf("dead letter %s without the %s header", r.Key, codec.HeaderApp)
		}
		out[d.Reason]++
	}
	return out
}

// checkAccuracy compares final results with the truth: no window missing or bogus, uniques
// within the bounds of docs/accuracy.md at p=14; frames exact unless frames may over-count.
func checkAccuracy(t *testing.T, latest map[window.Key]codec.Result, want []gen.WindowTruth, framesExact bool) truth.Report {
	t.Helper()
	rep, err := truth.Compare(latest, want)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	rep.Write(&b, false)
	t.Log(b.String())
	if rep.Missing > 0 || len(rep.Extra) > 0 {
		t.Errorf("%d windows missing; bogus windows: %v", rep.Missing, rep.Extra)
	}
	if rep.MeanRelErr > 0.01 || rep.MaxRelErr > 0.035 {
		t.Errorf("uniques error mean %.3f%%, max %.3f%%: want <= 1%% and <= 3.5%%", 100*rep.MeanRelErr, 100*rep.MaxRelErr)
	}
	for _, r := range rep.Rows {
		if r.FramesDiffer && (framesExact || r.Frames < int64(r.ExactFrames)) {
			t.Errorf("%s: frames %d, exact %d", r.Key, r.Frames, r.ExactFrames)
		}
	}
	return rep
}

var _ = context.Background

func (c *cluster) tableTopic(app string) string { return string(processorNames(app).Table()) }

func latestOf(rs []codec.Result) map[window.Key]codec.Result { return truth.Latest(rs) }
