package metrics

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/window"
)

// The dashboard (deploy/grafana/kuniq.json) and the alerts (deploy/prometheus/alerts.yml) are
// checked here: every metric they query is one /metrics serves, the alerts pass promtool's
// check and its unit tests (alerts_test.yml), and every dashboard query is valid PromQL.

const deployDir = "../deploy"

// servedNames scrapes a Pipeline that has seen every kind of event and state, and returns the
// metric names in its output (histograms with their _bucket, _sum and _count).
func servedNames(t *testing.T) map[string]bool {
	t.Helper()
	m := New()
	m.Watch(&fakeSource{
		ready: true,
		links: []retry.State{{What: "stage 1: consumer group"}},
		inputs: []Input{
			{Topic: "frames", Partition: 0, HighWater: 10, Committed: 5, Watermark: 1_468_244_340},
			{Topic: "frames", Partition: 1, HighWater: 10, Committed: 10, Watermark: math.MinInt64, Idle: true},
		},
	})
	m.Acked(10, map[string]int64{"syntax": 1})
	m.FlushDone(time.Now())
	m.Published(codec.Result{Granularity: window.Minute, Start: 60, Uniques: 3, Final: true})
	m.LateFrames(1)
	m.Table(0, 1_468_244_340, 2)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	names := map[string]bool{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	return names
}

// metricName matches the metric names a query uses: kuniq's, Go's and the process collector's.
var metricName = regexp.MustCompile(`\b(?:kuniq|go|process)_[a-z0-9_]+\b`)

func checkNames(t *testing.T, what string, exprs []string, served map[string]bool) {
	t.Helper()
	if len(exprs) == 0 {
		t.Fatalf("%s: no queries found", what)
	}
	for _, e := range exprs {
		for _, name := range metricName.FindAllString(e, -1) {
			if !served[name] {
				t.Errorf("%s queries %s, which /metrics does not serve (in %q)", what, name, e)
			}
		}
	}
}

// needPromtool returns promtool's path; it skips without it, except under CI=true.
func needPromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found under CI=true: `make prometheus` installs Debian's prometheus package")
		}
		t.Skip("promtool not found: `make prometheus` installs it")
	}
	return p
}

func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, "grafana", "kuniq.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("kuniq.json: %v", err)
	}
	var exprs []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

func TestDashboardQueriesServedMetrics(t *testing.T) {
	exprs := dashboardExprs(t)
	checkNames(t, "deploy/grafana/kuniq.json", exprs, servedNames(t))
	// The panels: throughput, lag, dead letters by reason, uniques per minute,
	// watermark lag.
	all := strings.Join(exprs, "\n")
	for _, want := range []string{"rate(kuniq_frames_total", "kuniq_consumer_lag", "by (reason) (rate(kuniq_dead_letters_total", `kuniq_last_final_uniques{job=~"$job",granularity="minute"}`, "kuniq_event_time_lag_seconds"} {
		if !strings.Contains(all, want) {
			t.Errorf("the dashboard has no query with %q", want)
		}
	}
}

// TestDashboardQueriesParse: each query, with the dashboard's $job variable filled in, passes
// promtool's PromQL parser (as a recording rule).
func TestDashboardQueriesParse(t *testing.T) {
	promtool := needPromtool(t)
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range dashboardExprs(t) {
		e = strings.ReplaceAll(e, "$job", ".*")
		fmt.Fprintf(&rules, "      - record: dashboard:query%d\n        expr: %q\n", i, e)
	}
	f := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(f, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the dashboard's queries: %v\n%s", err, out)
	}
}

func alertExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The rules' expr values: a line "expr: ..." or a block after "expr: |".
	var exprs []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		v, ok := strings.CutPrefix(l, "expr:")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if v != "|" {
			exprs = append(exprs, v)
			continue
		}
		var block []string
		for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" || strings.HasPrefix(lines[i+1], strings.Repeat(" ", 10))) {
			i++
			block = append(block, strings.TrimSpace(lines[i]))
		}
		exprs = append(exprs, strings.Join(block, " "))
	}
	return exprs
}

func TestAlertsQueryServedMetrics(t *testing.T) {
	exprs := alertExprs(t)
	checkNames(t, "deploy/prometheus/alerts.yml", exprs, servedNames(t))
	all := strings.Join(exprs, "\n")
	for _, want := range []string{"kuniq_consumer_lag", "deriv(", "kuniq_dead_letters_total"} {
		if !strings.Contains(all, want) {
			t.Errorf("no alert queries %q (stalled pipeline, growing lag, dead-letter spikes)", want)
		}
	}
}

func TestAlertsPromtool(t *testing.T) {
	promtool := needPromtool(t)
	dir := filepath.Join(deployDir, "prometheus")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s printed no SUCCESS:\n%s", strings.Join(args, " "), out)
		}
	}
}
