package metrics

import (
	"encoding/json"
	"io"
	"math"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/window"
)

// TestHealth: the JSON answer holds the values the Prometheus scrape holds, read from the same
// registry (the scrape below is compared line by line).
func TestHealth(t *testing.T) {
	m := New()
	now := time.UnixMilli(1_700_000_000_250)
	m.now = func() time.Time { return now }
	m.Watch(&fakeSource{
		ready: true,
		links: []retry.State{{What: "stage 2: window table processor", Failing: true, Outages: 2}, {What: "stage 1: consumer group"}},
		inputs: []Input{
			{Topic: "frames", Partition: 1, HighWater: 50, Committed: 50, Watermark: now.Unix() - 3600, Idle: true},
			{Topic: "frames", Partition: 0, HighWater: 100, Committed: 40, Watermark: now.Unix() - 30},
			{Topic: "frames", Partition: 2, HighWater: -1, Committed: 0, Watermark: math.MinInt64},
		},
	})
	m.Table(0, now.Unix()-35, 4)
	m.Table(1, math.MinInt64, 2)
	m.Acked(1000, map[string]int64{"late": 3, "syntax": 2})
	m.Published(result(window.Minute, 60, 10, true, 0))
	m.LateFrames(5)

	got, err := m.Health()
	if err != nil {
		t.Fatal(err)
	}
	i64 := func(v int64) *int64 { return &v }
	lag := 30.0
	zero := map[string]int64{"minute": 0, "hour": 0, "day": 0, "week": 0, "month": 0, "year": 0}
	finals := map[string]int64{"minute": 1, "hour": 0, "day": 0, "week": 0, "month": 0, "year": 0}
	dead := map[string]int64{}
	for _, r := range Reasons {
		dead[r] = 0
	}
	dead["late"], dead["syntax"] = 3, 2
	want := Health{Time: 1_700_000_000.25, Ready: true, FramesTotal: 1000, DeadLetters: dead, LateFrames: 5,
		WindowsFinal: finals, EarlyResults: zero, Corrections: zero, ConsumerLag: 60,
		Inputs: []HealthInput{
			{Topic: "frames", Partition: 0, Lag: i64(60), Watermark: i64(now.Unix() - 30)},
			{Topic: "frames", Partition: 1, Lag: i64(0), Watermark: i64(now.Unix() - 3600), Idle: true},
			{Partition: 2},
		},
		InputPartitions: 3, TablePartitions: 1, OpenWindows: 6, WatermarkLag: &lag,
		Links: []HealthLink{{Link: "stage 1: consumer group", Up: true}, {Link: "stage 2: window table processor", Outages: 2}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("Health() =\n%s\nwant\n%s", g, w)
	}

	// The same numbers on /metrics.
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	scrape := rec.Body.String()
	for _, line := range []string{"kuniq_frames_total 1000", `kuniq_dead_letters_total{reason="late"} 3`, "kuniq_late_frames_total 5",
		`kuniq_consumer_lag{partition="0",topic="frames"} 60`, "kuniq_event_time_lag_seconds 30", "kuniq_open_windows 6", "kuniq_ready 1"} {
		if !strings.Contains(scrape, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}

	rec = httptest.NewRecorder()
	m.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/health", nil))
	body, _ := io.ReadAll(rec.Body)
	var decoded Health
	if err := json.Unmarshal(body, &decoded); err != nil || !reflect.DeepEqual(decoded, want) {
		t.Errorf("GET /api/v1/health = %s (%v), want Health() as JSON", body, err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// Before anything happened: no watermark lag (null, not 0), no inputs, no links.
func TestHealthEmpty(t *testing.T) {
	got, err := New().Health()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	for _, want := range []string{`"watermark_lag_seconds":null`, `"inputs":[]`, `"links":[]`, `"frames_total":0`, `"ready":false`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Health() = %s, lacks %s", b, want)
		}
	}
}
