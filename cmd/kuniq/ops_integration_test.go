package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/kafkatest"
)

// These tests run the real binary, as an operator would: over the broker's SASL_SSL listener,
// and scraped by a real Prometheus (Debian's package; `make prometheus` installs it).

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// kuniqBinary builds the command once per test run.
func kuniqBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kuniq-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kuniq")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a running kuniq (or prometheus) process; its stderr is kept for failures.
type proc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

func startProc(t *testing.T, env []string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s %s stderr:\n%s", filepath.Base(name), strings.Join(args, " "), p.stderr.String())
		}
	})
	return p
}

// stop asks the process to stop (SIGTERM) and waits for it.
func (p *proc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 30 s of SIGINT", p.cmd.Path)
	}
}

func runBin(t *testing.T, env []string, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// genFrames writes n challenge-shaped frames with some bad ones and returns the file.
func genFrames(t *testing.T, bin string, n int) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "frames.jsonl")
	runBin(t, nil, bin, "gen", "--count", strconv.Itoa(n), "--seed", "8", "--rate", "200", "--pool", "3000",
		"--malformed-pct", "1", "--late-pct", "0.5", "--bitflip-pct", "0.2", "--out", f)
	return f
}

// secureArgs are the flags for the broker's SASL_SSL listener; the password comes from the file.
func secureArgs(s kafkatest.Secure) []string {
	return []string{"--brokers", strings.Join(s.Brokers, ","), "--tls-ca", s.CA(),
		"--sasl-mechanism", "SCRAM-SHA-512", "--sasl-user", kafkatest.SecureUser, "--sasl-password-file", s.PasswordFile()}
}

// TestIntegrationSecureBinary: ingest, run and view of the real binary over SASL_SSL, with
// the password in a file and, for view, in KUNIQ_SASL_PASSWORD; the password never shows.
func TestIntegrationSecureBinary(t *testing.T) {
	s := kafkatest.SecureListener(t)
	bin := kuniqBinary(t)
	const n = 6000
	frames := genFrames(t, bin, n)
	topic, app := kafkatest.Name(t, "frames"), kafkatest.Name(t, "app")
	out := runBin(t, nil, bin, append([]string{"ingest", "--input", topic, "--partitions", "2", "--progress", "0", frames}, secureArgs(s)...)...)
	if !strings.Contains(out, fmt.Sprintf("kuniq ingest: %d frames", n)) {
		t.Fatalf("ingest over SASL_SSL: %s", out)
	}
	run := startProc(t, nil, bin, append([]string{"run", "--app", app, "--input", topic, "--output", app + "-out", "--dlq", app + "-dlq",
		"--partitions", "2", "--state-dir", t.TempDir(), "--idle-timeout", "2s", "--granularity", "minute", "--log-format", "json"}, secureArgs(s)...)...)
	pw, err := os.ReadFile(s.PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(pw))
	viewArgs := []string{"view", "--app", app, "--granularity", "minute", "--json", "--brokers", strings.Join(s.Brokers, ","),
		"--tls-ca", s.CA(), "--sasl-mechanism", "scram-sha-512", "--sasl-user", kafkatest.SecureUser}
	env := []string{"KUNIQ_SASL_PASSWORD=" + password}
	deadline := time.Now().Add(3 * time.Minute)
	var counted, dead int64
	for {
		// Every minute window final, and its frames and the dead letters make up the input.
		counted, dead = 0, 0
		final := true
		cmd := exec.Command(bin, viewArgs...)
		cmd.Env = append(os.Environ(), env...)
		b, err := cmd.Output()
		if err == nil {
			for line := range strings.Lines(string(b)) {
				var r codec.Result
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("view --json line %q: %v", line, err)
				}
				counted += r.Frames
				final = final && r.Final
			}
			if recs, err := s.Config(t, "SCRAM-SHA-512").ReadAll(app + "-dlq"); err == nil {
				dead = int64(len(recs))
			}
			if final && counted+dead == n {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 min: windows hold %d frames and %d dead letters, want %d together (final %v, view err %v)", counted, dead, n, final, err)
		}
		time.Sleep(time.Second)
	}
	if dead == 0 {
		t.Errorf("no dead letters: the generated bad frames did not reach the dead-letter topic")
	}
	run.stop(t)
	if s := run.stderr.String(); strings.Contains(s, password) {
		t.Errorf("run's log shows the password")
	} else if !strings.Contains(s, `"kafka":"brokers `) || !strings.Contains(s, "SASL_SSL") {
		t.Errorf("run's start record does not name the SASL_SSL settings:\n%s", s)
	}
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string { return closedAddr(t) }

// promQuery asks Prometheus's query API for a scalar-like instant value of expr.
func promQuery(base, expr string) (float64, bool, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, false, err
	}
	if r.Status != "success" {
		return 0, false, fmt.Errorf("query %q: %s", expr, r.Error)
	}
	if len(r.Data.Result) == 0 {
		return 0, false, nil
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil, err
}

// TestIntegrationPrometheus: a real Prometheus scrapes two `kuniq run --http` instances; its
// query API reports kuniq_frames_total equal to the frames produced and the dead letters equal
// to the records on the dead-letter topic, and serves every metric the dashboard and the
// alerts query.
func TestIntegrationPrometheus(t *testing.T) {
	kc, _ := kafkatest.Ready(t, time.Minute)
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus not found under CI=true: `make prometheus` installs Debian's package")
		}
		t.Skip("prometheus not found: `make prometheus` installs it")
	}
	bin := kuniqBinary(t)
	const n = 20000
	frames := genFrames(t, bin, n)
	topic, app := kafkatest.Name(t, "frames"), kafkatest.Name(t, "app")
	brokers := strings.Join(kc.Brokers, ",")
	runBin(t, nil, bin, "ingest", "--brokers", brokers, "--input", topic, "--partitions", "4", "--progress", "0", frames)

	// Two instances, so the counters must add up across a rebalance.
	var targets []string
	for i := range 2 {
		addr := freePort(t)
		targets = append(targets, fmt.Sprintf("%q", addr))
		startProc(t, nil, bin, "run", "--brokers", brokers, "--app", app, "--input", topic, "--output", app+"-out", "--dlq", app+"-dlq",
			"--partitions", "4", "--state-dir", filepath.Join(t.TempDir(), strconv.Itoa(i)), "--idle-timeout", "2s", "--http", addr)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: kuniq
    static_configs:
      - targets: [%s]
`, must(filepath.Abs("../../deploy/prometheus/alerts.yml")), strings.Join(targets, ", ")), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := freePort(t)
	startProc(t, nil, promBin, "--config.file", conf, "--storage.tsdb.path", filepath.Join(dir, "data"),
		"--web.listen-address", promAddr, "--log.level", "warn")
	prom := "http://" + promAddr

	dlqRecords := func() int64 {
		recs, err := kc.ReadAll(app + "-dlq")
		if err != nil {
			return -1
		}
		return int64(len(recs))
	}
	start := time.Now()
	deadline := start.Add(3 * time.Minute)
	var frames64, dead, wantDead float64
	for {
		frames64, _, _ = promQuery(prom, `sum(kuniq_frames_total{job="kuniq"})`)
		dead, _, _ = promQuery(prom, `sum(kuniq_dead_letters_total{job="kuniq"})`)
		wantDead = float64(dlqRecords())
		lag, haveLag, _ := promQuery(prom, `sum(kuniq_consumer_lag{job="kuniq"})`)
		if frames64 == n && dead == wantDead && haveLag && lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 min Prometheus reports kuniq_frames_total %v (want %d), dead letters %v (want %v, the dead-letter topic's records), lag %v", frames64, n, dead, wantDead, lag)
		}
		time.Sleep(time.Second)
	}
	t.Logf("Prometheus: sum(kuniq_frames_total) = %v = frames produced, sum(kuniq_dead_letters_total) = %v = records on the dead-letter topic, %v after the instances started",
		frames64, dead, time.Since(start).Round(100*time.Millisecond))
	if wantDead == 0 {
		t.Error("no dead letters: the generated bad frames did not reach the dead-letter topic")
	}
	// Hold for a few scrapes: the counters must not move past the input.
	time.Sleep(3 * time.Second)
	if v, _, _ := promQuery(prom, `sum(kuniq_frames_total{job="kuniq"})`); v != n {
		t.Errorf("kuniq_frames_total moved to %v after reaching %d", v, n)
	}
	for _, q := range []string{`sum(kuniq_windows_final_total{job="kuniq",granularity="minute"})`, `max(kuniq_last_final_uniques{job="kuniq",granularity="minute"})`} {
		if v, ok, err := promQuery(prom, q); err != nil || !ok || v <= 0 {
			t.Errorf("%s = %v (present %v, err %v), want > 0", q, v, ok, err)
		}
	}
	// Both instances report ready once the rebalance of the second's join has settled (Goka
	// waits 5 s before it rejoins; the table partitions then recover).
	readyBy := time.Now().Add(time.Minute)
	for {
		v, ok, err := promQuery(prom, `min(kuniq_ready{job="kuniq"})`)
		if err == nil && ok && v > 0 {
			break
		}
		if time.Now().After(readyBy) {
			t.Errorf("min(kuniq_ready) = %v (present %v, err %v) for a minute after the counts were complete, want 1", v, ok, err)
			break
		}
		time.Sleep(time.Second)
	}
	// Every name the dashboard and the alerts use exists in what Prometheus scraped.
	resp, err := http.Get(prom + "/api/v1/label/__name__/values")
	if err != nil {
		t.Fatal(err)
	}
	var names struct {
		Data []string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&names); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	scraped := map[string]bool{}
	for _, name := range names.Data {
		scraped[name] = true
	}
	for _, f := range []string{"../../deploy/grafana/kuniq.json", "../../deploy/prometheus/alerts.yml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			for _, name := range scrapedName.FindAllString(sc.Text(), -1) {
				if !scraped[name] {
					t.Errorf("%s uses %s, which Prometheus did not scrape from kuniq run", f, name)
				}
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// scrapedName matches metric names in the deploy files (kuniq's and the Go and process
// collectors'); the alerts' rule names (Kuniq...) do not match.
var scrapedName = regexp.MustCompile(`\b(?:kuniq|go|process)_[a-z0-9_]+\b`)

// TestMain removes the binary kuniqBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
