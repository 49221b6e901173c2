package view

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/window"
)

// Query selects the windows of one granularity whose start lies in [From, To). Last > 0 keeps
// only the Last latest of them (what a page polling "the last hour" wants); 0 keeps all.
type Query struct {
	Granularity window.Granularity
	From, To    int64
	Last        int
}

// All returns the query for every window of g.
func All(g window.Granularity) Query {
	return Query{Granularity: g, From: math.MinInt64, To: math.MaxInt64}
}

// Windows returns the windows of granularity g whose start lies in [from, to), sorted by start.
func (v *View) Windows(g window.Granularity, from, to int64) ([]codec.Result, error) {
	return v.Query(Query{Granularity: g, From: from, To: to})
}

// Query returns the windows q selects, sorted by start. Only the selected rows are decoded:
// keys are filtered first, so a narrow query over a long history stays cheap.
func (v *View) Query(q Query) ([]codec.Result, error) {
	if !q.Granularity.Valid() {
		return nil, fmt.Errorf("query: %w", window.ErrGranularity)
	}
	var out []codec.Result
	err := v.read(func(gv *goka.View) error {
		it, err := gv.IteratorWithRange(q.Granularity.String()+"/", "")
		if err != nil {
			return err
		}
		defer it.Release()
		// Keys first: the values of windows outside the query are never decoded.
		var keys []window.Key
		for it.Next() {
			k, ok := windowKey(it.Key(), q.Granularity)
			if ok && k.Start >= q.From && k.Start < q.To {
				keys = append(keys, k)
			}
		}
		if err := it.Err(); err != nil {
			return err
		}
		slices.SortFunc(keys, func(a, b window.Key) int { return cmp.Compare(a.Start, b.Start) })
		if q.Last > 0 && len(keys) > q.Last {
			keys = keys[len(keys)-q.Last:]
		}
		out = make([]codec.Result, 0, len(keys))
		for _, k := range keys {
			r, ok, err := get(gv, k)
			if err != nil {
				return err
			}
			// A row may be deleted (expired) between the scan and the Get: skip it.
			if ok {
				out = append(out, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query %s windows: %w", q.Granularity, err)
	}
	return out, nil
}

// windowKey parses a table key of granularity g; control rows and foreign keys are skipped.
func windowKey(s string, g window.Granularity) (window.Key, bool) {
	if processor.IsControlKey(s) {
		return window.Key{}, false
	}
	k, err := window.ParseKey(s)
	if err != nil || k.Granularity != g {
		return window.Key{}, false
	}
	return k, true
}

// Get returns the window k's result; false if the table has no such window.
func (v *View) Get(k window.Key) (codec.Result, bool, error) {
	if !k.Granularity.Valid() {
		return codec.Result{}, false, fmt.Errorf("get %v: %w", k, window.ErrGranularity)
	}
	var (
		r  codec.Result
		ok bool
	)
	err := v.read(func(gv *goka.View) error {
		var err error
		r, ok, err = get(gv, k)
		return err
	})
	if err != nil {
		return codec.Result{}, false, fmt.Errorf("get %v: %w", k, err)
	}
	return r, ok, nil
}

func get(gv *goka.View, k window.Key) (codec.Result, bool, error) {
	val, err := gv.Get(k.String())
	if err != nil || val == nil {
		return codec.Result{}, false, err
	}
	s, ok := val.(*processor.WindowState)
	if !ok {
		return codec.Result{}, false, fmt.Errorf("row %v holds %T, want a window", k, val)
	}
	return s.Result(k), true, nil
}

// Progress is the pipeline's event-time progress, read from the control rows.
type Progress struct {
	// Partitions is how many stage-2 partitions have a control row.
	Partitions int
	// Watermark is the lowest combined watermark the stage-2 partitions acted on:
	// every window ending at or before it is final. math.MinInt64 before any.
	Watermark int64
	// Final is the lowest point up to which the stage-2 partitions made windows final: beyond
	// Watermark while the whole input is idle (windows that ended on the wall clock).
	Final int64
	// Open counts the windows not yet final, Closing the final ones awaiting their closed
	// record, Pending those holding a coalesced correction, Expiring the closed ones awaiting
	// deletion.
	Open, Closing, Pending, Expiring int
	// Inputs are the input partitions' clocks, sorted by ID.
	Inputs []InputProgress
}

// InputProgress is one input partition's clock as the stage-2 partitions last heard it.
type InputProgress struct {
	ID               int32
	Watermark, MaxTS int64
	Idle             bool
}

// Progress reads every control row. Each stage-2 partition hears every input partition's
// marks; they differ only by how far each has read, so per input partition the most advanced report
// wins, while the combined watermark is the least advanced partition's (what holds windows).
func (v *View) Progress() (Progress, error) {
	p := Progress{Watermark: math.MinInt64, Final: math.MinInt64}
	srcs := map[int32]InputProgress{}
	err := v.read(func(gv *goka.View) error {
		it, err := gv.IteratorWithRange("ctl/", "")
		if err != nil {
			return err
		}
		defer it.Release()
		for it.Next() {
			if !processor.IsControlKey(it.Key()) {
				continue
			}
			val, err := it.Value()
			if err != nil {
				return fmt.Errorf("control row %q: %w", it.Key(), err)
			}
			c, ok := val.(*processor.Control)
			if !ok {
				continue // deleted row (nil) or not a control row
			}
			if p.Partitions == 0 || c.Watermark < p.Watermark {
				p.Watermark = c.Watermark
			}
			if p.Partitions == 0 || c.Final < p.Final {
				p.Final = c.Final
			}
			p.Partitions++
			p.Open += len(c.Open)
			p.Closing += len(c.Closing)
			p.Pending += len(c.Pending)
			p.Expiring += len(c.Expiring)
			for id, st := range c.Inputs {
				old, seen := srcs[id]
				if !seen || st.Watermark > old.Watermark || (st.Watermark == old.Watermark && st.MaxTS > old.MaxTS) {
					srcs[id] = InputProgress{ID: id, Watermark: st.Watermark, MaxTS: st.MaxTS, Idle: st.Idle}
				}
			}
		}
		return it.Err()
	})
	if err != nil {
		return Progress{}, fmt.Errorf("progress: %w", err)
	}
	for _, s := range srcs {
		p.Inputs = append(p.Inputs, s)
	}
	slices.SortFunc(p.Inputs, func(a, b InputProgress) int { return cmp.Compare(a.ID, b.ID) })
	return p, nil
}
