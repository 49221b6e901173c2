package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/kafka"
)

func TestLiveFrameDecodesToLiveValues(t *testing.T) {
	live, err := gen.NewLive(50, 600)
	if err != nil {
		t.Fatal(err)
	}
	var d codec.FrameDecoder
	for i := range 50 {
		ts, uid := int64(1700000000+i), fmt.Sprintf("%019x", i)
		f, err := d.Decode(live.AppendLive(nil, i, ts, uid))
		if err != nil {
			t.Fatalf("template %d: Decode: %v", i, err)
		}
		if f.TS != ts || string(f.UID) != uid {
			t.Errorf("template %d: Decode = ts %d uid %q, want %d %q", i, f.TS, f.UID, ts, uid)
		}
	}
}

func TestPercentile(t *testing.T) {
	s := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		q    float64
		want time.Duration
	}{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}}
	for _, tt := range tests {
		if got := percentile(s, tt.q); got != tt.want {
			t.Errorf("percentile(1..10, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestLatencies(t *testing.T) {
	start, stop := time.Unix(1000, 0), time.Unix(1250, 0)
	rec := func(body string, at int64) kafka.Record {
		return kafka.Record{Value: []byte(body), Timestamp: time.UnixMilli(at)}
	}
	recs := []kafka.Record{
		rec(`{"granularity":"minute","start":960,"end":1020,"final":true,"revision":0}`, 1026_000),   // starts before the run
		rec(`{"granularity":"minute","start":1020,"end":1080,"final":false,"revision":0}`, 1070_000), // early
		rec(`{"granularity":"minute","start":1020,"end":1080,"final":true,"revision":0}`, 1085_700),  // 700 ms
		rec(`{"granularity":"minute","start":1020,"end":1080,"final":true,"revision":1}`, 1090_000),  // correction
		rec(`{"granularity":"hour","start":0,"end":3600,"final":true,"revision":0}`, 1090_000),
		rec(`{"granularity":"minute","start":1140,"end":1200,"final":true,"revision":0}`, 1206_200), // 1200 ms
		rec(`{"granularity":"minute","start":1200,"end":1260,"final":true,"revision":0}`, 1280_000), // closes after stop
		{Value: nil},
	}
	got := latencies(recs, start, stop, 5*time.Second)
	want := []time.Duration{700 * time.Millisecond, 1200 * time.Millisecond}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("latencies = %v, want %v", got, want)
	}
}
