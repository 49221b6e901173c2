package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kuniq/kuniq/internal/retry"
)

// Input is one input partition stage 1 reads in this instance, as of now.
type Input struct {
	Topic     string
	Partition int32
	// HighWater is the offset the partition's next record will get, from the latest fetch
	// response; -1 before the first.
	HighWater int64
	// Committed is the durable offset: every record below it was counted and its contribution
	// acknowledged downstream (what the instance commits).
	Committed int64
	// Watermark is the partition's event-time watermark, math.MinInt64 until its clock anchored.
	Watermark int64
	// Idle: read to its end and no frame for the idle timeout; it holds no window open.
	Idle bool
}

// Source is what a scrape reads of the running instance (processor.Health implements it).
type Source interface {
	// Inputs are the input partitions stage 1 reads here now.
	Inputs() []Input
	// Links are the states of the instance's links to Kafka.
	Links() []retry.State
	// Ready reports whether the instance is ready, and why not.
	Ready() (bool, string)
}

var (
	lagDesc = prometheus.NewDesc("kuniq_consumer_lag",
		"Input records not yet durable: the partition's high-water mark minus the offset this instance commits.",
		[]string{"topic", "partition"}, nil)
	watermarkDesc = prometheus.NewDesc("kuniq_watermark_seconds",
		"Event-time watermark of an input partition (unix seconds): its largest accepted ts minus the allowed out-of-orderness.",
		[]string{"partition"}, nil)
	idleDesc = prometheus.NewDesc("kuniq_input_idle",
		"1 while an input partition is idle (read to its end, no frame for the idle timeout): it holds no window open.",
		[]string{"partition"}, nil)
	eventLagDesc = prometheus.NewDesc("kuniq_event_time_lag_seconds",
		"Wall clock minus the oldest watermark of this instance's non-idle input partitions (of all, when every one is idle): how far results trail real time.",
		nil, nil)
	tableWatermarkDesc = prometheus.NewDesc("kuniq_table_watermark_seconds",
		"The input's combined watermark as a stage-2 partition's control row holds it: windows ending at or before it are final.",
		[]string{"partition"}, nil)
	openDesc = prometheus.NewDesc("kuniq_open_windows",
		"Windows not yet final in the stage-2 partitions this instance holds (as of their last mark, at most a flush interval old).",
		nil, nil)
	readyDesc = prometheus.NewDesc("kuniq_ready",
		"1 when the instance is ready (connected, partitions assigned, table recovered, not stalled): what /readyz answers.",
		nil, nil)
	linkUpDesc = prometheus.NewDesc("kuniq_kafka_link_up",
		"1 while a link to Kafka works, 0 while it is failing and being retried.",
		[]string{"link"}, nil)
	outagesDesc = prometheus.NewDesc("kuniq_kafka_outages_total",
		"Outages of a link to Kafka since the process started.",
		[]string{"link"}, nil)
)

// stateCollector reads the states a scrape reports from the Source and the control rows.
type stateCollector struct{ m *Pipeline }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{lagDesc, watermarkDesc, idleDesc, eventLagDesc, tableWatermarkDesc, openDesc, readyDesc, linkUpDesc, outagesDesc} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	now := m.now()
	m.mu.Lock()
	src := m.source
	open := 0
	for p, t := range m.tables {
		if now.Sub(t.at) > tableStale {
			delete(m.tables, p)
			continue
		}
		open += t.open
		if anchored(t.watermark) {
			ch <- prometheus.MustNewConstMetric(tableWatermarkDesc, prometheus.GaugeValue, float64(t.watermark), part(p))
		}
	}
	m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(open))
	if src == nil {
		return
	}
	ready, _ := src.Ready()
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, b2f(ready))
	for _, l := range src.Links() {
		ch <- prometheus.MustNewConstMetric(linkUpDesc, prometheus.GaugeValue, b2f(!l.Failing), l.What)
		ch <- prometheus.MustNewConstMetric(outagesDesc, prometheus.CounterValue, float64(l.Outages), l.What)
	}
	oldest, oldestAll, busy, any := int64(0), int64(0), false, false
	for _, in := range src.Inputs() {
		p := part(in.Partition)
		if in.HighWater >= 0 && in.Committed >= 0 {
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(max(in.HighWater-in.Committed, 0)), in.Topic, p)
		}
		ch <- prometheus.MustNewConstMetric(idleDesc, prometheus.GaugeValue, b2f(in.Idle), p)
		if !anchored(in.Watermark) {
			continue
		}
		ch <- prometheus.MustNewConstMetric(watermarkDesc, prometheus.GaugeValue, float64(in.Watermark), p)
		if !any || in.Watermark < oldestAll {
			oldestAll, any = in.Watermark, true
		}
		if !in.Idle && (!busy || in.Watermark < oldest) {
			oldest, busy = in.Watermark, true
		}
	}
	if !busy {
		oldest = oldestAll
	}
	if any {
		ch <- prometheus.MustNewConstMetric(eventLagDesc, prometheus.GaugeValue, float64(now.Unix()-oldest))
	}
}

func part(p int32) string { return strconv.Itoa(int(p)) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
