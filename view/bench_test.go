package view

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/window"
)

// BenchmarkResult is the per-row cost of a query: the estimate of a dense (100k users) or
// sparse (1k users) sketch.
func BenchmarkResult(b *testing.B) {
	for _, users := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			s := &processor.WindowState{Count: engine.Count{Sketch: newSketch(b, users, 0), Frames: int64(users)}}
			b.ReportAllocs()
			for b.Loop() {
				_ = s.Result(minute(1468244340))
			}
		})
	}
}

// BenchmarkQuery reads a day of minute windows (1,440 rows of 1k users each) from a recovered
// view: everything, or the latest 60 the page asks for (keys filtered before values decode).
func BenchmarkQuery(b *testing.B) {
	const day = 1440
	rows := make(map[string]any, day)
	sk := newSketch(b, 1000, 0)
	for i := range day {
		rows[minute(1468195200+int64(60*i)).String()] = &processor.WindowState{Count: engine.Count{Sketch: sk, Frames: 1000}}
	}
	v := startTester(b, rows)
	for _, tc := range []struct {
		name string
		q    Query
	}{
		{"all", All(window.Minute)},
		{"last60", Query{Granularity: window.Minute, From: math.MinInt64, To: math.MaxInt64, Last: 60}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs, err := v.Query(tc.q)
				if err != nil || len(rs) == 0 {
					b.Fatal(err, len(rs))
				}
			}
		})
	}
}

// BenchmarkHandlerWindows is the HTTP layer alone (parsing, JSON) for the page's minute query.
func BenchmarkHandlerWindows(b *testing.B) {
	f := newFake()
	for i := range 60 {
		f.results = append(f.results, codec.NewResult(minute(1468250000-1468250000%60+int64(60*i)), 1000, 1500))
	}
	h := NewHandler(f)
	req := httptest.NewRequest(http.MethodGet, "/api/windows?granularity=minute&limit=60", nil)
	b.ReportAllocs()
	for b.Loop() {
		f.queries = f.queries[:0]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
