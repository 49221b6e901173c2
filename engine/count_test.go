package engine

import (
	"fmt"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

func TestCountResult(t *testing.T) {
	users := func(n int) *sketch.Sketch {
		s, err := sketch.New(sketch.DefaultPrecision)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			s.Insert(fmt.Appendf(nil, "user-%d", i))
		}
		return s
	}
	minute := window.Key{Granularity: window.Minute, Start: 1468244340}
	hour := window.Key{Granularity: window.Hour, Start: 1468242000}
	withState := func(k window.Key, uniques uint64, frames int64, final bool, revision int, late int64) codec.Result {
		r := codec.NewResult(k, uniques, frames)
		r.Final, r.Revision, r.LateFrames = final, revision, late
		if uniques > 0 {
			r.Precision, r.StdError = sketch.DefaultPrecision, 0.0001221 // sparse: linear counting
		}
		return r
	}
	closed := func(r codec.Result) codec.Result { r.Closed = true; return r }
	tests := []struct {
		name  string
		key   window.Key
		count Count
		want  codec.Result
	}{
		{"early", minute, Count{Sketch: users(100), Frames: 150}, withState(minute, 100, 150, false, 0, 0)},
		{"final", hour, Count{Sketch: users(250), Frames: 417, Final: true}, withState(hour, 250, 417, true, 0, 0)},
		{"corrected", minute, Count{Sketch: users(101), Frames: 153, LateFrames: 3, Final: true, Revision: 2}, withState(minute, 101, 153, true, 2, 3)},
		{"closed", minute, Count{Sketch: users(101), Frames: 153, LateFrames: 3, Final: true, Revision: 2, Closed: true}, closed(withState(minute, 101, 153, true, 2, 3))},
		{"dense: the theoretical error", hour, Count{Sketch: users(20000), Frames: 20000, Final: true},
			func() codec.Result {
				r := withState(hour, users(20000).Estimate(), 20000, true, 0, 0)
				r.StdError = 0.008125
				return r
			}()},
		{"empty sketch", hour, Count{Sketch: users(0)}, func() codec.Result {
			r := withState(hour, 0, 0, false, 0, 0)
			r.Precision = sketch.DefaultPrecision // known, though exact
			return r
		}()},
		// A table row without a sketch cannot be encoded, but Result must not trust its input.
		{"no sketch", hour, Count{Frames: 2}, withState(hour, 0, 2, false, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.count.Result(tt.key); got != tt.want {
				t.Errorf("Result(%s) = %+v, want %+v", tt.key, got, tt.want)
			}
		})
	}
}
