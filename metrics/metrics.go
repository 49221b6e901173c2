package metrics

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/window"
)

// Reasons are the dead-letter reasons kuniq writes (codec.Reason and the clock's late and
// ts_jump): each has a series from the start, so rate() and alerts see a 0 before the first
// dead letter instead of no data.
var Reasons = []string{"syntax", "no_uid", "bad_uid", "no_ts", "bad_ts", "ts_range", "null_value", "too_large", codec.ReasonLate, codec.ReasonJump}

// FlushBuckets are kuniq_flush_seconds' buckets: a flush on a healthy local broker takes a few
// milliseconds; one that waits out a broker election takes seconds.
var FlushBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// tableStale is how long a stage-2 partition's control row counts after its last update: marks
// arrive every flush interval while stage 1 runs, so a row not updated for this long belongs to a
// partition this instance no longer holds (it moved in a rebalance).
const tableStale = time.Minute

// Pipeline holds an instance's metrics. Build it with New; the zero value is not usable, but a
// nil *Pipeline is (it records nothing).
type Pipeline struct {
	reg *prometheus.Registry

	frames      prometheus.Counter
	dead        *prometheus.CounterVec
	late        prometheus.Counter
	corrections *prometheus.CounterVec
	finals      *prometheus.CounterVec
	early       *prometheus.CounterVec
	lastUniques *prometheus.GaugeVec
	lastStart   *prometheus.GaugeVec
	flush       prometheus.Histogram

	now func() time.Time

	mu     sync.Mutex
	source Source
	latest map[window.Granularity]int64 // start of the window kuniq_last_final_uniques shows
	tables map[int32]table
}

type table struct {
	watermark int64
	open      int
	at        time.Time
}

// New returns the metrics of one kuniq instance, with Go's runtime and process collectors.
func New() *Pipeline {
	m := &Pipeline{
		reg: prometheus.NewRegistry(),
		frames: prometheus.NewCounter(prometheus.CounterOpts{Name: "kuniq_frames_total",
			Help: "Input records stage 1 counted (valid frames and dead letters), once their flush was acknowledged by Kafka and their offset committed by this instance."}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kuniq_dead_letters_total",
			Help: "Input records written to the dead-letter topic, by reason; counted like kuniq_frames_total, of which they are a part."}, []string{"reason"}),
		late: prometheus.NewCounter(prometheus.CounterOpts{Name: "kuniq_late_frames_total",
			Help: "Frames that reached a window after its final record (within the allowed lateness): each makes a correction."}),
		corrections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kuniq_corrections_total",
			Help: "Corrected final records published (revision > 0), by granularity."}, []string{"granularity"}),
		finals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kuniq_windows_final_total",
			Help: "Windows finalised: first final records (revision 0) published, by granularity."}, []string{"granularity"}),
		early: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kuniq_early_results_total",
			Help: "Early (provisional, final=false) records published, by granularity."}, []string{"granularity"}),
		lastUniques: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kuniq_last_final_uniques",
			Help: "Uniques of the latest window (by start) this instance published a final record for, by granularity."}, []string{"granularity"}),
		lastStart: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kuniq_last_final_start_seconds",
			Help: "Start (unix seconds, event time) of the window kuniq_last_final_uniques shows, by granularity."}, []string{"granularity"}),
		flush: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kuniq_flush_seconds",
			Help: "Duration of stage 1's flushes that sent something: partials and dead letters, then marks, each acknowledged by Kafka.", Buckets: FlushBuckets}),
		now:    time.Now,
		latest: map[window.Granularity]int64{},
		tables: map[int32]table{},
	}
	for _, r := range Reasons {
		m.dead.WithLabelValues(r)
	}
	for _, g := range window.All {
		m.corrections.WithLabelValues(g.String())
		m.finals.WithLabelValues(g.String())
		m.early.WithLabelValues(g.String())
	}
	m.reg.MustRegister(m.frames, m.dead, m.late, m.corrections, m.finals, m.early, m.lastUniques, m.lastStart, m.flush,
		&stateCollector{m: m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is where the metrics are registered (to add more, or to gather them in tests).
func (m *Pipeline) Registry() *prometheus.Registry { return m.reg }

// Handler serves /metrics in the Prometheus text format (or OpenMetrics when asked for).
func (m *Pipeline) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// Watch makes the scrape read the instance's state (lag, watermarks, links) from s.
func (m *Pipeline) Watch(s Source) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.source = s
	m.mu.Unlock()
}

// Acked counts the input records of a stage-1 batch that Kafka acknowledged and this instance
// committed: frames of them all, dead letters by reason.
func (m *Pipeline) Acked(frames int64, dead map[string]int64) {
	if m == nil {
		return
	}
	if frames > 0 {
		m.frames.Add(float64(frames))
	}
	for r, n := range dead {
		if n > 0 {
			m.dead.WithLabelValues(r).Add(float64(n))
		}
	}
}

// FlushDone observes the duration of a stage-1 flush that began at start.
func (m *Pipeline) FlushDone(start time.Time) {
	if m == nil {
		return
	}
	m.flush.Observe(time.Since(start).Seconds())
}

// Published counts a result record stage 2 emitted: early, first final or correction. The
// latest final window per granularity (by start) sets kuniq_last_final_uniques.
func (m *Pipeline) Published(r codec.Result) {
	if m == nil {
		return
	}
	gr := r.Granularity
	g := gr.String()
	switch {
	case !r.Final:
		m.early.WithLabelValues(g).Inc()
		return
	case r.Revision == 0:
		m.finals.WithLabelValues(g).Inc()
	default:
		m.corrections.WithLabelValues(g).Inc()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, ok := m.latest[gr]; ok && r.Start < last {
		return // a correction of an older window, or finals arriving out of order
	}
	m.latest[gr] = r.Start
	m.lastUniques.WithLabelValues(g).Set(float64(r.Uniques))
	m.lastStart.WithLabelValues(g).Set(float64(r.Start))
}

// LateFrames counts frames that reached a window after its final record.
func (m *Pipeline) LateFrames(n int64) {
	if m == nil || n <= 0 {
		return
	}
	m.late.Add(float64(n))
}

// Table records a stage-2 partition's control row: the input's combined watermark as that
// partition sees it (math.MinInt64 until every input partition was heard from) and its open
// windows.
func (m *Pipeline) Table(partition int32, watermark int64, open int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.tables[partition] = table{watermark: watermark, open: open, at: m.now()}
	m.mu.Unlock()
}

// anchored reports whether ts is a real time rather than the "no time yet" sentinels.
func anchored(ts int64) bool { return ts != math.MinInt64 && ts != math.MaxInt64 }
