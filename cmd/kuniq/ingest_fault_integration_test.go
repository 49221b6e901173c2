package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/chaos"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/internal/testkit"
	"github.com/kuniq/kuniq/kafka"
)

// faultPort is the port of the broker the ingest fault tests kill: KUNIQ_INGEST_FAULT_PORT, or
// 9892 (and the two after it).
func faultPort(t *testing.T) int {
	if v := os.Getenv("KUNIQ_INGEST_FAULT_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("KUNIQ_INGEST_FAULT_PORT=%q: %v", v, err)
		}
		return p
	}
	return 9892
}

// watchedStderr collects the stderr of an in-process kuniq and tells when its progress has
// reached some frames acknowledged.
type watchedStderr struct {
	mu     sync.Mutex
	b      bytes.Buffer
	frames int64
	reach  chan struct{}
	want   int64
}

var progressFrames = regexp.MustCompile(`(?m)^ingest: (\d+) frames`)

func newWatchedStderr(want int64) *watchedStderr {
	return &watchedStderr{reach: make(chan struct{}), want: want}
}

func (w *watchedStderr) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range progressFrames.FindAllSubmatch(p, -1) {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		if n >= w.want && w.frames < w.want {
			close(w.reach)
		}
		w.frames = max(w.frames, n)
	}
	return w.b.Write(p)
}

func (w *watchedStderr) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// feed writes data into the named pipe path at about perSec lines a second (0: at once), in
// the background, until it is written or the reader went away.
func feed(t *testing.T, path string, lines [][]byte, perSec int) {
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Errorf("open %s: %v", path, err)
			return
		}
		defer f.Close()
		const chunk = 200
		for i := 0; i < len(lines); i += chunk {
			var b bytes.Buffer
			for _, l := range lines[i:min(i+chunk, len(lines))] {
				b.Write(l)
				b.WriteByte('\n')
			}
			if _, err := f.Write(b.Bytes()); err != nil {
				return // the ingest stopped reading: EPIPE
			}
			if perSec > 0 {
				time.Sleep(time.Second * chunk / time.Duration(perSec))
			}
		}
	}()
}

// ingestInBackground runs `kuniq ingest` in-process; the returned channel yields its error.
func ingestInBackground(ctx context.Context, stderr *watchedStderr, args ...string) <-chan error {
	done := make(chan error, 1)
	go func() {
		var out bytes.Buffer
		done <- run(ctx, append([]string{"ingest"}, args...), &out, stderr)
	}()
	return done
}

// checkTopicHoldsLinesOnce reads topic back: each of lines exactly once (by its source and line
// headers and its bytes), and each partition's lines in file order.
func checkTopicHoldsLinesOnce(t *testing.T, kc kafka.Config, topic, source string, lines [][]byte) {
	t.Helper()
	seen := make([]int, len(lines))
	last := map[int32]int64{}
	records := 0
	err := kc.Scan(context.Background(), topic, kafka.ScanFrom{}, func(r kafka.Record) error {
		records++
		n, err := strconv.ParseInt(r.Header(emitter.HeaderLine), 10, 64)
		if err != nil || n < 1 || n > int64(len(lines)) || r.Header(emitter.HeaderSource) != source {
			return fmt.Errorf("%d/%d: headers %v do not name a line of %s", r.Partition, r.Offset, r.Headers, source)
		}
		if !bytes.Equal(r.Value, lines[n-1]) {
			return fmt.Errorf("%d/%d: line %d holds other bytes", r.Partition, r.Offset, n)
		}
		if !strings.HasPrefix(r.Header(emitter.HeaderProducer), "kuniq ingest ") {
			return fmt.Errorf("%d/%d: %s = %q", r.Partition, r.Offset, emitter.HeaderProducer, r.Header(emitter.HeaderProducer))
		}
		if n <= last[r.Partition] {
			t.Errorf("partition %d: line %d at offset %d after line %d: out of file order", r.Partition, n, r.Offset, last[r.Partition])
		}
		last[r.Partition] = n
		seen[n-1]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	missing, twice := 0, 0
	for _, n := range seen {
		switch {
		case n == 0:
			missing++
		case n > 1:
			twice += n - 1
		}
	}
	if missing > 0 || twice > 0 || records != len(lines) {
		t.Errorf("topic %s: %d records for %d lines: %d lines missing, %d written more than once; want each exactly once",
			topic, records, len(lines), missing, twice)
	}
}

// recoveredAt finds the time of the log line that says the outage ended.
var recoveredAt = regexp.MustCompile(`time=(\S+) level=INFO msg="(?:[^"\\]|\\.)*recovered"`)

var resumeHint = regexp.MustCompile(`every line before (\S+) line (\d+) is in .*--from-line (\d+)`)

// TestIntegrationIngestBrokerFaults kills the broker under a running `kuniq ingest` (the input
// arriving through a named pipe, at 5,000 lines/s, so the kill lands mid-ingest):
//   - back after 10 s: ingest waits, logs the outage and its end, finishes by itself, and
//     every line is in the topic exactly once, in file order per partition;
//   - paused (SIGSTOP) past the request timeout, then continued: the same, although the broker
//     appends requests whose connections the client had given up (idempotence drops the
//     resent copies);
//   - down past --retry-timeout: ingest exits non-zero naming the file and line to resume
//     from; `--from-line` with that line, once the broker is back, completes the topic with
//     every line exactly once over the two runs.
func TestIntegrationIngestBrokerFaults(t *testing.T) {
	kafkatest.Config(t) // an integration test: skipped (failed under CI) without the test broker
	b := chaos.StartBroker(t, faultPort(t))
	kc := b.Config()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.FrameBytes, cfg.Pool, cfg.Seed = 40_000, 500, 5000, 7
	data, _ := testkit.Generate(t, cfg)
	lines := testkit.Lines(data)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	newInput := func(t *testing.T, name string) (path, topic string) {
		path = filepath.Join(dir, name)
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		topic = kafkatest.Name(t, "ingest-fault")
		if err := kc.EnsureTopics(kafka.Topic{Name: topic, Partitions: 4}); err != nil {
			t.Fatal(err)
		}
		return path, topic
	}

	t.Run("broker back after 10 s", func(t *testing.T) {
		path, topic := newInput(t, "restart.jsonl")
		feed(t, path, lines, 5000)
		stderr := newWatchedStderr(3000)
		start := time.Now()
		done := ingestInBackground(ctx, stderr, "--brokers", b.Addr(), "--input", topic, "--progress", "200ms", path)
		select {
		case <-stderr.reach:
		case err := <-done:
			t.Fatalf("ingest ended before the kill: %v\n%s", err, stderr)
		case <-ctx.Done():
			t.Fatal("no progress")
		}
		killed := time.Now()
		b.Kill()
		time.Sleep(10 * time.Second)
		b.Up()
		up := time.Now()
		var err error
		select {
		case err = <-done:
		case <-ctx.Done():
			t.Fatalf("ingest still running after the broker came back:\n%s", stderr)
		}
		end := time.Now()
		errs := stderr.String()
		if err != nil {
			t.Fatalf("ingest: %v\n%s", err, errs)
		}
		for _, want := range []string{"failing; retrying", "STALLED", "recovered", "1 outage(s)"} {
			if !strings.Contains(errs, want) {
				t.Errorf("stderr lacks %q", want)
			}
		}
		checkTopicHoldsLinesOnce(t, kc, topic, path, lines)
		if os.Getenv("KUNIQ_TEST_LOG_STDERR") != "" {
			t.Logf("stderr:\n%s", errs)
		}
		recovered := "?"
		if m := recoveredAt.FindStringSubmatch(errs); m != nil {
			if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				recovered = at.Sub(up).Round(time.Millisecond).String()
			}
		}
		t.Logf("ingest of %d lines: killed at %v, broker down %v (kill to ready), writing again %s after it was ready, done %v after; %v in all; summary: %s",
			len(lines), killed.Sub(start).Round(time.Millisecond), up.Sub(killed).Round(time.Millisecond), recovered,
			end.Sub(up).Round(time.Millisecond), end.Sub(start).Round(time.Millisecond), lastLine(errs, "kuniq ingest:"))
	})

	t.Run("broker paused past the request timeout", func(t *testing.T) {
		// SIGSTOP with requests in flight: they time out on the client and the connection is
		// closed, but the broker still holds them and, once continued, appends them. The
		// batches resent meanwhile must not be written a second time (idempotence).
		path, topic := newInput(t, "paused.jsonl")
		feed(t, path, lines, 5000)
		stderr := newWatchedStderr(3000)
		done := ingestInBackground(ctx, stderr, "--brokers", b.Addr(), "--input", topic, "--progress", "200ms", "--kafka-timeout", "2s", path)
		select {
		case <-stderr.reach:
		case err := <-done:
			t.Fatalf("ingest ended before the pause: %v\n%s", err, stderr)
		}
		b.Pause()
		time.Sleep(7 * time.Second)
		b.Resume()
		if err := <-done; err != nil {
			t.Fatalf("ingest: %v\n%s", err, stderr)
		}
		errs := stderr.String()
		if !strings.Contains(errs, "failing; retrying") || !strings.Contains(errs, "recovered") {
			t.Errorf("stderr does not show the outage and its end:\n%s", errs)
		}
		checkTopicHoldsLinesOnce(t, kc, topic, path, lines)
		t.Logf("summary: %s", lastLine(errs, "kuniq ingest:"))
	})

	t.Run("down past retry-timeout then from-line", func(t *testing.T) {
		path, topic := newInput(t, "giveup.jsonl")
		feed(t, path, lines, 5000)
		stderr := newWatchedStderr(3000)
		done := ingestInBackground(ctx, stderr, "--brokers", b.Addr(), "--input", topic, "--progress", "200ms", "--retry-timeout", "4s", path)
		select {
		case <-stderr.reach:
		case err := <-done:
			t.Fatalf("ingest ended before the kill: %v\n%s", err, stderr)
		}
		killed := time.Now()
		b.Kill()
		err := <-done
		gaveUp := time.Since(killed)
		errs := stderr.String()
		if err == nil || !strings.Contains(err.Error(), "gave up retrying after 4s") {
			t.Fatalf("ingest with the broker down: err = %v, want it to give up after --retry-timeout\n%s", err, errs)
		}
		m := resumeHint.FindStringSubmatch(errs)
		if m == nil || m[1] != path || m[2] != m[3] {
			t.Fatalf("stderr names no file and line to resume from (want %q line N ... --from-line N):\n%s", path, errs)
		}
		from := m[3]
		if os.Getenv("KUNIQ_TEST_LOG_STDERR") != "" {
			t.Logf("stderr:\n%s", errs)
		}
		// The retry timeout runs from a partition's first failure, which may come before the
		// kill (a request timing out on the loaded broker), never more than it after the kill
		// (plus the request timeout of the requests then in flight).
		if gaveUp > 4*time.Second+15*time.Second {
			t.Errorf("gave up %v after the kill, want within --retry-timeout 4s and the request timeout", gaveUp)
		}
		b.Up()
		if n, _ := strconv.Atoi(from); n <= 1 || n > len(lines) {
			t.Fatalf("resume from line %s, want a line after the first %d acknowledged", from, 3000)
		}
		feed(t, path, lines, 0)
		stderr = newWatchedStderr(1 << 62)
		if err := <-ingestInBackground(ctx, stderr, "--brokers", b.Addr(), "--input", topic, "--progress", "0", "--from-line", from, path); err != nil {
			t.Fatalf("resume: %v\n%s", err, stderr)
		}
		if summary := lastLine(stderr.String(), "kuniq ingest:"); !strings.Contains(summary, "resumed: ") {
			t.Errorf("resume summary %q does not report the lines skipped", summary)
		}
		checkTopicHoldsLinesOnce(t, kc, topic, path, lines)
		t.Logf("gave up %v after the kill; resumed from line %s; resume: %s", gaveUp.Round(time.Millisecond), from, lastLine(stderr.String(), "kuniq ingest:"))
	})
}

// lastLine is the last line of s that starts with prefix.
func lastLine(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], prefix) {
			return lines[i]
		}
	}
	return ""
}
