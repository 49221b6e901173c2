package view

import (
	"fmt"
	"math"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// Range is the number of unique users in [From, To): the union of the fewest windows that
// tile the range (window.Cover), merged sketch by sketch. It is the answer of
// `kuniq uniques` and of GET /api/v1/uniques, field for field.
type Range struct {
	From     int64  `json:"from"`
	To       int64  `json:"to"`
	FromTime string `json:"from_time"`
	ToTime   string `json:"to_time"`
	// Uniques is the HyperLogLog estimate of the union; StdError its relative standard
	// error and Precision the sketches' (0 when no window had a row: no user at all).
	Uniques   uint64  `json:"uniques"`
	StdError  float64 `json:"std_error"`
	Precision uint8   `json:"precision"`
	// Frames is the sum of the windows' frames: exact, since they do not overlap.
	Frames int64 `json:"frames"`
	// Windows are the keys of the covering windows, by start. A window without a row had no
	// frame and adds nothing.
	Windows []window.Key `json:"windows"`
	// Complete: every covering window is final (a window without a row counts as final once
	// the watermark passed its end). Late frames may still correct a final window within the
	// allowed lateness.
	Complete bool `json:"complete"`
}

// Uniques answers the unique users of [from, to). A range that does not align to the finest
// granularity retained at its edges, or reaches where nothing is retained, is an error
// wrapping window.ErrRange (a *window.RangeError says which boundaries are possible); the
// HTTP API answers it with 400.
//
// Which granularities the table counts is read from the table (a granularity without any row
// is not used: the app may not count it), and which windows are retained from Config.Retention
// against the most advanced stage-2 watermark, so a window that may already be deleted is
// never taken for an empty one.
func (v *View) Uniques(from, to int64) (Range, error) {
	var out Range
	err := v.read(func(gv *goka.View) error {
		maxWM, minFinal, err := watermarks(gv)
		if err != nil {
			return err
		}
		present, err := presentGranularities(gv)
		if err != nil {
			return err
		}
		r := window.Retained{Granularities: present, Horizon: map[window.Granularity]int64{}}
		for g, ret := range v.retention {
			if ret > 0 && maxWM != math.MinInt64 {
				r.Horizon[g] = maxWM - int64(ret/time.Second)
			}
		}
		keys, err := window.Cover(from, to, r)
		if err != nil {
			return err
		}
		out, err = merge(gv, from, to, keys, minFinal)
		return err
	})
	if err != nil {
		return Range{}, fmt.Errorf("uniques %s..%s: %w", stamp(from), stamp(to), err)
	}
	return out, nil
}

// merge unions the rows of keys.
func merge(gv *goka.View, from, to int64, keys []window.Key, final int64) (Range, error) {
	out := Range{From: from, To: to, FromTime: stamp(from), ToTime: stamp(to), Windows: keys, Complete: true}
	var union *sketch.Sketch
	for _, k := range keys {
		val, err := gv.Get(k.String())
		if err != nil {
			return Range{}, err
		}
		st, _ := val.(*processor.WindowState)
		if st == nil || st.Sketch == nil {
			out.Complete = out.Complete && k.End() <= final
			continue
		}
		out.Complete = out.Complete && st.Final
		out.Frames += st.Frames
		if union == nil {
			// Rows are decoded afresh by every Get: the first may be merged into.
			union = st.Sketch
			continue
		}
		if err := union.Merge(st.Sketch); err != nil {
			return Range{}, fmt.Errorf("merge %s: %w", k, err)
		}
	}
	if union != nil {
		out.Uniques, out.StdError, out.Precision = union.Estimate(), union.StdError(), union.Precision()
	}
	return out, nil
}

// watermarks reads the control rows: the most advanced event-time watermark (retention is
// judged against it: a partition that far may have deleted a window) and the least advanced
// finality (a window without a row ending at or before it is final and empty).
func watermarks(gv *goka.View) (maxWM, minFinal int64, err error) {
	maxWM, minFinal = math.MinInt64, math.MinInt64
	it, err := gv.IteratorWithRange("ctl/", "ctl0")
	if err != nil {
		return 0, 0, err
	}
	defer it.Release()
	first := true
	for it.Next() {
		if !processor.IsControlKey(it.Key()) {
			continue
		}
		val, err := it.Value()
		if err != nil {
			return 0, 0, fmt.Errorf("control row %q: %w", it.Key(), err)
		}
		c, ok := val.(*processor.Control)
		if !ok {
			continue
		}
		maxWM = max(maxWM, c.Watermark)
		if first || c.Final < minFinal {
			minFinal = c.Final
		}
		first = false
	}
	return maxWM, minFinal, it.Err()
}

// presentGranularities lists the granularities with at least one row (all six for an empty
// table: nothing is known, and every window is empty).
func presentGranularities(gv *goka.View) ([]window.Granularity, error) {
	var gs []window.Granularity
	for _, g := range window.All {
		// "minute/" to "minute0": exactly the keys with the prefix ('0' follows '/').
		it, err := gv.IteratorWithRange(g.String()+"/", g.String()+"0")
		if err != nil {
			return nil, err
		}
		for it.Next() {
			if _, ok := windowKey(it.Key(), g); ok {
				gs = append(gs, g)
				break
			}
		}
		err = it.Err()
		it.Release()
		if err != nil {
			return nil, err
		}
	}
	if len(gs) == 0 {
		return window.All, nil
	}
	return gs, nil
}

func stamp(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.RFC3339) }
