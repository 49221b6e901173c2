package metrics

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/window"
)

type fakeSource struct {
	inputs []Input
	links  []retry.State
	ready  bool
}

func (f *fakeSource) Inputs() []Input       { return f.inputs }
func (f *fakeSource) Links() []retry.State  { return f.links }
func (f *fakeSource) Ready() (bool, string) { return f.ready, "" }

func result(g window.Granularity, start int64, uniques uint64, final bool, rev int) codec.Result {
	return codec.Result{Granularity: g, Start: start, Uniques: uniques, Final: final, Revision: rev}
}

func TestPublished(t *testing.T) {
	m := New()
	m.Published(result(window.Minute, 120, 7, false, 0)) // early
	m.Published(result(window.Minute, 120, 10, true, 0)) // final
	m.Published(result(window.Minute, 60, 99, true, 0))  // an older window, final later
	m.Published(result(window.Minute, 120, 11, true, 1)) // correction of the latest
	m.Published(result(window.Hour, 0, 500, true, 0))
	m.LateFrames(3)
	m.LateFrames(-1) // ignored
	tests := []struct {
		name   string
		metric float64
		want   float64
	}{
		{"early minute", testutil.ToFloat64(m.early.WithLabelValues("minute")), 1},
		{"finals minute", testutil.ToFloat64(m.finals.WithLabelValues("minute")), 2},
		{"corrections minute", testutil.ToFloat64(m.corrections.WithLabelValues("minute")), 1},
		{"finals hour", testutil.ToFloat64(m.finals.WithLabelValues("hour")), 1},
		{"last uniques minute: the latest window's corrected count", testutil.ToFloat64(m.lastUniques.WithLabelValues("minute")), 11},
		{"last start minute", testutil.ToFloat64(m.lastStart.WithLabelValues("minute")), 120},
		{"last uniques hour", testutil.ToFloat64(m.lastUniques.WithLabelValues("hour")), 500},
		{"late frames", testutil.ToFloat64(m.late), 3},
	}
	for _, tt := range tests {
		if tt.metric != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.metric, tt.want)
		}
	}
}

func TestNilPipelineRecordsNothing(t *testing.T) {
	var m *Pipeline
	m.Acked(1, map[string]int64{"late": 1})
	m.FlushDone(time.Now())
	m.Published(result(window.Minute, 0, 1, true, 0))
	m.LateFrames(1)
	m.Table(0, 0, 1)
	m.Watch(&fakeSource{})
}

func TestStateMetrics(t *testing.T) {
	m := New()
	now := time.Unix(1_700_000_000, 0)
	m.now = func() time.Time { return now }
	m.Watch(&fakeSource{
		ready: true,
		links: []retry.State{{What: "stage 1: consumer group"}, {What: "stage 2: window table processor", Failing: true, Outages: 2}},
		inputs: []Input{
			{Topic: "frames", Partition: 0, HighWater: 100, Committed: 40, Watermark: now.Unix() - 30},
			{Topic: "frames", Partition: 1, HighWater: 50, Committed: 50, Watermark: now.Unix() - 3600, Idle: true},
			{Topic: "frames", Partition: 2, HighWater: -1, Committed: 0, Watermark: math.MinInt64},
		},
	})
	m.Table(0, now.Unix()-35, 4)
	m.Table(1, now.Unix()-35, 2)
	want := `
# HELP kuniq_consumer_lag Input records not yet durable: the partition's high-water mark minus the offset this instance commits.
# TYPE kuniq_consumer_lag gauge
kuniq_consumer_lag{partition="0",topic="frames"} 60
kuniq_consumer_lag{partition="1",topic="frames"} 0
# HELP kuniq_event_time_lag_seconds Wall clock minus the oldest watermark of this instance's non-idle input partitions (of all, when every one is idle): how far results trail real time.
# TYPE kuniq_event_time_lag_seconds gauge
kuniq_event_time_lag_seconds 30
# HELP kuniq_kafka_link_up 1 while a link to Kafka works, 0 while it is failing and being retried.
# TYPE kuniq_kafka_link_up gauge
kuniq_kafka_link_up{link="stage 1: consumer group"} 1
kuniq_kafka_link_up{link="stage 2: window table processor"} 0
# HELP kuniq_open_windows Windows not yet final in the stage-2 partitions this instance holds (as of their last mark, at most a flush interval old).
# TYPE kuniq_open_windows gauge
kuniq_open_windows 6
# HELP kuniq_ready 1 when the instance is ready (connected, partitions assigned, table recovered, not stalled): what /readyz answers.
# TYPE kuniq_ready gauge
kuniq_ready 1
`
	names := []string{"kuniq_consumer_lag", "kuniq_event_time_lag_seconds", "kuniq_kafka_link_up", "kuniq_open_windows", "kuniq_ready"}
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(m.reg, "kuniq_watermark_seconds"); err != nil || n != 2 {
		t.Errorf("kuniq_watermark_seconds: %d series (%v), want 2: the unanchored partition has none", n, err)
	}
	// A control row not updated for a minute belongs to a partition that moved away.
	now = now.Add(2 * time.Minute)
	m.Table(1, now.Unix()-35, 1)
	want = `
# HELP kuniq_open_windows Windows not yet final in the stage-2 partitions this instance holds (as of their last mark, at most a flush interval old).
# TYPE kuniq_open_windows gauge
kuniq_open_windows 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "kuniq_open_windows"); err != nil {
		t.Errorf("after partition 0's row went stale: %v", err)
	}
}
