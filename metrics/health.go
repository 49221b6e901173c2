package metrics

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	dto "github.com/prometheus/client_model/go"
)

// Health is the instance's state as GET /api/v1/health answers it, for the page. Every number
// is a sample of a metric /metrics exposes, read from the same registry in one Gather: the
// page and Prometheus see one source, nothing is counted twice. Rates are the reader's to
// compute, as Prometheus' rate() does: frames/s is the change of FramesTotal between two
// answers over the change of Time.
type Health struct {
	// Time is when the metrics were gathered, in unix seconds (milliseconds as the fraction).
	Time float64 `json:"time"`
	// Ready is kuniq_ready (what /readyz answers; its reason is there).
	Ready bool `json:"ready"`
	// FramesTotal is kuniq_frames_total; DeadLetters kuniq_dead_letters_total by reason;
	// LateFrames kuniq_late_frames_total.
	FramesTotal int64            `json:"frames_total"`
	DeadLetters map[string]int64 `json:"dead_letters"`
	LateFrames  int64            `json:"late_frames_total"`
	// WindowsFinal, EarlyResults and Corrections are kuniq_windows_final_total,
	// kuniq_early_results_total and kuniq_corrections_total by granularity.
	WindowsFinal map[string]int64 `json:"windows_final"`
	EarlyResults map[string]int64 `json:"early_results"`
	Corrections  map[string]int64 `json:"corrections"`
	// ConsumerLag is kuniq_consumer_lag summed over Inputs.
	ConsumerLag int64 `json:"consumer_lag"`
	// Inputs are the input partitions stage 1 reads here (a kuniq_input_idle series each),
	// InputPartitions how many.
	Inputs          []HealthInput `json:"inputs"`
	InputPartitions int           `json:"input_partitions"`
	// TablePartitions counts the stage-2 partitions held here whose control row has a
	// watermark (kuniq_table_watermark_seconds series); OpenWindows is kuniq_open_windows.
	TablePartitions int   `json:"table_partitions"`
	OpenWindows     int64 `json:"open_windows"`
	// WatermarkLag is kuniq_event_time_lag_seconds: how far results trail the wall clock; nil
	// before any input partition has a watermark.
	WatermarkLag *float64 `json:"watermark_lag_seconds"`
	// Links are the links to Kafka: kuniq_kafka_link_up and kuniq_kafka_outages_total.
	Links []HealthLink `json:"links"`
}

// HealthInput is one input partition: kuniq_consumer_lag (nil before its first fetch),
// kuniq_watermark_seconds (nil until its clock anchored), kuniq_input_idle.
type HealthInput struct {
	Topic     string `json:"topic,omitempty"`
	Partition int32  `json:"partition"`
	Lag       *int64 `json:"lag"`
	Watermark *int64 `json:"watermark"`
	Idle      bool   `json:"idle"`
}

// HealthLink is one link to Kafka.
type HealthLink struct {
	Link    string `json:"link"`
	Up      bool   `json:"up"`
	Outages int64  `json:"outages"`
}

// Health gathers the registry once and reads the instance's state from it.
func (m *Pipeline) Health() (Health, error) {
	now := m.now()
	fams, err := m.reg.Gather()
	if err != nil {
		return Health{}, fmt.Errorf("gather metrics: %w", err)
	}
	h := Health{Time: float64(now.UnixMilli()) / 1000, DeadLetters: map[string]int64{}, WindowsFinal: map[string]int64{},
		EarlyResults: map[string]int64{}, Corrections: map[string]int64{}, Inputs: []HealthInput{}, Links: []HealthLink{}}
	inputs := map[int32]*HealthInput{}
	input := func(mt *dto.Metric) *HealthInput {
		p64, _ := strconv.ParseInt(label(mt, "partition"), 10, 32)
		p := int32(p64)
		if inputs[p] == nil {
			inputs[p] = &HealthInput{Partition: p}
		}
		return inputs[p]
	}
	links := map[string]*HealthLink{}
	link := func(mt *dto.Metric) *HealthLink {
		l := label(mt, "link")
		if links[l] == nil {
			links[l] = &HealthLink{Link: l}
		}
		return links[l]
	}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			v := value(mt)
			switch f.GetName() {
			case "kuniq_ready":
				h.Ready = v == 1
			case "kuniq_frames_total":
				h.FramesTotal = int64(v)
			case "kuniq_dead_letters_total":
				h.DeadLetters[label(mt, "reason")] = int64(v)
			case "kuniq_late_frames_total":
				h.LateFrames = int64(v)
			case "kuniq_windows_final_total":
				h.WindowsFinal[label(mt, "granularity")] = int64(v)
			case "kuniq_early_results_total":
				h.EarlyResults[label(mt, "granularity")] = int64(v)
			case "kuniq_corrections_total":
				h.Corrections[label(mt, "granularity")] = int64(v)
			case "kuniq_consumer_lag":
				in := input(mt)
				lag := int64(v)
				in.Topic, in.Lag = label(mt, "topic"), &lag
				h.ConsumerLag += lag
			case "kuniq_watermark_seconds":
				wm := int64(v)
				input(mt).Watermark = &wm
			case "kuniq_input_idle":
				input(mt).Idle = v == 1
				h.InputPartitions++
			case "kuniq_table_watermark_seconds":
				h.TablePartitions++
			case "kuniq_open_windows":
				h.OpenWindows = int64(v)
			case "kuniq_event_time_lag_seconds":
				h.WatermarkLag = &v
			case "kuniq_kafka_link_up":
				link(mt).Up = v == 1
			case "kuniq_kafka_outages_total":
				link(mt).Outages = int64(v)
			}
		}
	}
	for _, in := range inputs {
		h.Inputs = append(h.Inputs, *in)
	}
	slices.SortFunc(h.Inputs, func(a, b HealthInput) int { return cmp.Compare(a.Partition, b.Partition) })
	for _, l := range links {
		h.Links = append(h.Links, *l)
	}
	slices.SortFunc(h.Links, func(a, b HealthLink) int { return cmp.Compare(a.Link, b.Link) })
	return h, nil
}

// HealthHandler serves Health as JSON: GET /api/v1/health of `kuniq run --http`.
func (m *Pipeline) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		h, err := m.Health()
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(h)
	})
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// value is a counter's or a gauge's sample (the only kinds Health reads).
func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}
