package processor

import (
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/metrics"
)

// metricValue is the value of the series name{labels} in m (0 if it has none).
func metricValue(t *testing.T, m *metrics.Pipeline, name string, labels ...string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if labelOf(s, labels[i]) != labels[i+1] {
					continue series
				}
			}
			switch {
			case s.Counter != nil:
				return s.Counter.GetValue()
			case s.Gauge != nil:
				return s.Gauge.GetValue()
			case s.Histogram != nil:
				return float64(s.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func labelOf(s *dto.Metric, name string) string {
	for _, l := range s.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func withMetrics(cfg Config) (Config, *metrics.Pipeline) {
	m := metrics.New()
	cfg.Metrics = m
	return cfg, m
}

// TestMetricsCountCommittedRecords: frames and dead letters are counted once their offsets are
// committed, not when read: while the bit-flip guard holds a frame, neither it nor the frames
// read after it count, and they all count once the guard decides.
func TestMetricsCountCommittedRecords(t *testing.T) {
	cfg, m := withMetrics(stage1Config())
	cfg.Engine.Clock.Confirm, cfg.Engine.Clock.Reject = 2, 3
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	far := t0 + 86400
	steps := []struct {
		name       string
		ts         []int64
		wantFrames float64
		wantJump   float64
	}{
		{"anchor", []int64{t0, t0 + 1, t0 + 2, t0 + 3}, 4, 0},
		{"a far frame is held, and so is the count of the frames after it", []int64{far, t0 + 4, t0 + 5}, 4, 0},
		{"the Reject-th frame rejects it: everything counts", []int64{t0 + 6}, 8, 1},
		{"a frame that does not decode", nil, 9, 1},
	}
	for i, st := range steps {
		if i == 3 {
			cl.send([]byte(`{"ts":`))
		}
		cl.sendTS(st.ts...)
		cl.applied()
		s.flush()
		if got := metricValue(t, m, "kuniq_frames_total"); got != st.wantFrames {
			t.Errorf("%s: kuniq_frames_total = %v, want %v", st.name, got, st.wantFrames)
		}
		if got := metricValue(t, m, "kuniq_dead_letters_total", "reason", codec.ReasonJump); got != st.wantJump {
			t.Errorf("%s: kuniq_dead_letters_total{reason=ts_jump} = %v, want %v", st.name, got, st.wantJump)
		}
		committed, _ := cl.sess.committed(0)
		if got := metricValue(t, m, "kuniq_frames_total"); got != float64(committed) {
			t.Errorf("%s: kuniq_frames_total = %v, committed offset %d: they must agree", st.name, got, committed)
		}
	}
	if got := metricValue(t, m, "kuniq_dead_letters_total", "reason", "syntax"); got != 1 {
		t.Errorf("kuniq_dead_letters_total{reason=syntax} = %v, want 1", got)
	}
	if got := metricValue(t, m, "kuniq_flush_seconds"); got != float64(len(steps)) {
		t.Errorf("kuniq_flush_seconds has %v observations, want one per flush (%d)", got, len(steps))
	}
	cl.end()
}

// TestMetricsLostHandoverCountsOnce: a hand-over times out while the guard holds a frame; the
// next owner reads again from the committed offset. Over both instances every record is
// counted exactly once, though the first had sent (and Kafka acknowledged) frames beyond the
// commit.
func TestMetricsLostHandoverCountsOnce(t *testing.T) {
	newInstance := func() (*stage1, *metrics.Pipeline) {
		cfg, m := withMetrics(stage1Config())
		cfg.Engine.Clock.Confirm, cfg.Engine.Clock.Reject = 2, 3
		cfg.HandoverTimeout = 50 * time.Millisecond
		return newStage1(t, cfg), m
	}
	a, ma := newInstance()
	cl := a.claim(1, 0, 0)
	far := t0 + 86400
	cl.sendTS(t0, t0+1, far, t0+2) // the far frame is held: commit stops at offset 2
	cl.applied()
	a.flush()
	if off, _ := cl.sess.committed(0); off != 2 {
		t.Fatalf("committed %d, want 2 (the held frame)", off)
	}
	a.partials.setFail(func(string, any) error { return errBrokerDown })
	cl.end() // the closing flush fails until the hand-over gives up

	b, mb := newInstance()
	cl2 := b.claim(2, 0, 2)
	cl2.c.next = 2
	cl2.sendTS(far, t0+2, t0+3, t0+4)
	cl2.applied()
	cl2.end()
	total := metricValue(t, ma, "kuniq_frames_total") + metricValue(t, mb, "kuniq_frames_total")
	if total != 6 {
		t.Errorf("kuniq_frames_total over both instances = %v (a %v, b %v), want the 6 records",
			total, metricValue(t, ma, "kuniq_frames_total"), metricValue(t, mb, "kuniq_frames_total"))
	}
	dead := metricValue(t, ma, "kuniq_dead_letters_total", "reason", codec.ReasonJump) +
		metricValue(t, mb, "kuniq_dead_letters_total", "reason", codec.ReasonJump)
	if dead != 1 {
		t.Errorf("ts_jump dead letters over both instances = %v, want 1", dead)
	}
}

// TestMetricsLateAckCounted: a flush acknowledged only after its partition's hand-over timed
// out is counted when this process gets the partition back and continues past the committed
// offset (it skips those records, so nobody else counts them).
func TestMetricsLateAckCounted(t *testing.T) {
	cfg, m := withMetrics(stage1Config())
	cfg.HandoverTimeout = 50 * time.Millisecond
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	cl.sendTS(t0, t0+1, t0+2)
	cl.applied()
	block := make(chan struct{})
	s.partials.block = block
	flushed := make(chan struct{})
	go func() { defer close(flushed); s.flush() }()
	cl.sess.cancel()
	<-cl.done // the hand-over gave up: the flush is not acknowledged yet
	close(block)
	<-flushed
	s.partials.block = nil
	if got := metricValue(t, m, "kuniq_frames_total"); got != 0 {
		t.Errorf("kuniq_frames_total = %v before the partition is committed by anyone, want 0", got)
	}
	cl2 := s.claim(2, 0, 0) // the group's committed offset is still 0
	cl2.c.next = 3
	cl2.sendTS(t0 + 3)
	cl2.applied()
	cl2.end()
	if got := metricValue(t, m, "kuniq_frames_total"); got != 4 {
		t.Errorf("kuniq_frames_total = %v, want 4", got)
	}
}

// TestHealthReady: each reason /readyz gives, in the state that causes it.
func TestHealthReady(t *testing.T) {
	cfg := stage1Config()
	h := NewHealth(StagePreAgg)
	h.StallAfter = time.Minute
	if ok, why := h.Ready(); ok || !strings.HasPrefix(why, "starting") {
		t.Errorf("before stage 1 runs: Ready() = %v, %q, want starting", ok, why)
	}
	s := newStage1(t, cfg)
	h.setPreAgg(s.pa)
	if ok, why := h.Ready(); ok || !strings.HasPrefix(why, "partitions not assigned") {
		t.Errorf("no claim: Ready() = %v, %q, want partitions not assigned", ok, why)
	}
	cl := s.claim(1, 0, 0)
	cl.sendTS(t0, t0+1)
	cl.applied()
	s.flush()
	if ok, why := h.Ready(); !ok {
		t.Errorf("claimed and flushed: Ready() = %v, %q, want ready", ok, why)
	}
	s.partials.setFail(func(string, any) error { return errBrokerDown })
	cl.sendTS(t0 + 2)
	cl.applied()
	s.flush()
	if ok, why := h.Ready(); ok || !strings.HasPrefix(why, "not connected: stage 1: sending partials") {
		t.Errorf("sends failing: Ready() = %v, %q, want not connected", ok, why)
	}
	// The sends work again but the partition does not move (a flush is never made): stalled.
	s.partials.setFail(nil)
	s.pa.sends.OK()
	if ok, why := h.Ready(); !ok {
		t.Errorf("lag seen for the first time: Ready() = %v, %q, want ready", ok, why)
	}
	s.clock.advance(2 * time.Minute)
	if ok, why := h.Ready(); ok || !strings.HasPrefix(why, "stalled: input partition 0 has 1 records") {
		t.Errorf("lag and no progress for 2m: Ready() = %v, %q, want stalled", ok, why)
	}
	s.clock.advance(time.Second)
	s.flush()
	if ok, why := h.Ready(); !ok {
		t.Errorf("after a flush: Ready() = %v, %q, want ready", ok, why)
	}
	in := h.Inputs()
	if len(in) != 1 || in[0].HighWater != 3 || in[0].Committed != 3 || in[0].Watermark != t0+2-5 {
		t.Errorf("Inputs() = %+v, want partition 0 at high water 3, committed 3, watermark %d", in, t0+2-5)
	}
	cl.end()
}
