// Package truth compares kuniq's result records with the exact counts `kuniq gen --truth`
// writes. Tests, `kuniq compare` and the demos use it, so all of them judge accuracy the same way.
package truth

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/window"
)

// Latest keeps, per window, the final record with the highest revision: what a consumer of
// the output topic keeps. Early (final:false) records are ignored.
func Latest(results []codec.Result) map[window.Key]codec.Result {
	m := map[window.Key]codec.Result{}
	for _, r := range results {
		if !r.Final {
			continue
		}
		if prev, ok := m[r.Key()]; !ok || r.Revision >= prev.Revision {
			m[r.Key()] = r
		}
	}
	return m
}

// Row is one window compared.
type Row struct {
	Key          window.Key
	Exact        int   // uniques in the truth
	Estimate     int64 // uniques kuniq reported; -1 if the window is missing
	ExactFrames  int
	Frames       int64
	RelErr       float64 // |estimate - exact| / exact
	Missing      bool    // in the truth, not in the results
	FramesDiffer bool
}

// Report sums up a comparison.
type Report struct {
	Rows    []Row
	Extra   []window.Key // in the results, not in the truth (a bogus window)
	Windows int
	Missing int
	// MeanRelErr and MaxRelErr are over windows present in both.
	MeanRelErr, MaxRelErr float64
	FramesDiffer          int
}

// Compare matches final results to the truth window by window.
func Compare(results map[window.Key]codec.Result, exact []gen.WindowTruth) (Report, error) {
	var rep Report
	seen := map[window.Key]bool{}
	var sum float64
	for _, t := range exact {
		g, err := window.ParseGranularity(t.Granularity)
		if err != nil {
			return Report{}, err
		}
		k := window.Key{Granularity: g, Start: t.Start}
		seen[k] = true
		row := Row{Key: k, Exact: t.Uniques, ExactFrames: t.Frames, Estimate: -1}
		r, ok := results[k]
		if !ok {
			row.Missing = true
			rep.Missing++
		} else {
			row.Estimate, row.Frames = int64(r.Uniques), r.Frames
			if t.Uniques > 0 {
				row.RelErr = math.Abs(float64(r.Uniques)-float64(t.Uniques)) / float64(t.Uniques)
			}
			sum += row.RelErr
			rep.MaxRelErr = max(rep.MaxRelErr, row.RelErr)
			if r.Frames != int64(t.Frames) {
				row.FramesDiffer = true
				rep.FramesDiffer++
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	for k := range results {
		if !seen[k] {
			rep.Extra = append(rep.Extra, k)
		}
	}
	slices.SortFunc(rep.Extra, func(a, b window.Key) int { return strings.Compare(a.String(), b.String()) })
	rep.Windows = len(rep.Rows)
	if n := rep.Windows - rep.Missing; n > 0 {
		rep.MeanRelErr = sum / float64(n)
	}
	return rep, nil
}

// ErrNotTruth is returned, wrapped, by ReadTruth for a line that is not a window of
// `kuniq gen --truth`, such as a result record given in its place.
var ErrNotTruth = errors.New("truth: not a truth record")

// ReadTruth reads the JSON lines of `kuniq gen --truth`. Every line must be exactly such a
// record (no other fields: a result record has more) and describe a real window: a known
// granularity, start at a window start, end at its end, 1 <= uniques <= frames.
func ReadTruth(r io.Reader) ([]gen.WindowTruth, error) {
	var out []gen.WindowTruth
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var t gen.WindowTruth
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("truth line %d %.80q: %w: %w", n, sc.Text(), ErrNotTruth, err)
		}
		if err := checkTruth(t); err != nil {
			return nil, fmt.Errorf("truth line %d %.80q: %w", n, sc.Text(), err)
		}
		out = append(out, t)
	}
	return out, sc.Err()
}

func checkTruth(t gen.WindowTruth) error {
	g, err := window.ParseGranularity(t.Granularity)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotTruth, err)
	}
	k := window.Key{Granularity: g, Start: t.Start}
	switch {
	case g.Start(t.Start) != t.Start || t.End != k.End():
		return fmt.Errorf("%w: %s %d..%d is not a window", ErrNotTruth, g, t.Start, t.End)
	case t.Uniques < 1 || t.Frames < t.Uniques:
		return fmt.Errorf("%w: %d uniques in %d frames", ErrNotTruth, t.Uniques, t.Frames)
	}
	return nil
}

// ReadResults reads result records as JSON lines (the output of `kuniq count`).
func ReadResults(r io.Reader) ([]codec.Result, error) {
	var out []codec.Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		res, err := codec.ParseResult(sc.Bytes())
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// ReadTopic reads the result records on a topic as it is now (kafka.Config.ReadAll), skipping
// tombstones: the output of `kuniq run`. A record that is not a result, or lies under another
// window's key, is an error wrapping codec.ErrResult; other errors are the broker's.
func ReadTopic(kc kafka.Config, topic string) ([]codec.Result, error) {
	recs, err := kc.ReadAll(topic)
	if err != nil {
		return nil, err
	}
	var out []codec.Result
	for _, r := range recs {
		if r.Value == nil {
			continue
		}
		res, err := codec.ParseResult(r.Value)
		if err != nil {
			return nil, fmt.Errorf("%s record %q: %w", topic, r.Key, err)
		}
		if res.Key().String() != r.Key {
			return nil, fmt.Errorf("%s record under key %q is for window %s: %w", topic, r.Key, res.Key(), codec.ErrResult)
		}
		out = append(out, res)
	}
	return out, nil
}

// Write prints the comparison as a table, one window per line, then a summary line.
func (rep Report) Write(w io.Writer, verbose bool) {
	if verbose {
		fmt.Fprintf(w, "%-30s %10s %10s %8s %10s %10s\n", "window", "exact", "kuniq", "error", "frames", "kuniq")
		for _, r := range rep.Rows {
			est := "MISSING"
			if !r.Missing {
				est = fmt.Sprint(r.Estimate)
			}
			fmt.Fprintf(w, "%-30s %10d %10s %7.3f%% %10d %10d\n", r.Key, r.Exact, est, 100*r.RelErr, r.ExactFrames, r.Frames)
		}
	}
	fmt.Fprintf(w, "%d windows: mean error %.3f%%, max %.3f%%; %d missing, %d extra, %d with other frame counts\n",
		rep.Windows, 100*rep.MeanRelErr, 100*rep.MaxRelErr, rep.Missing, len(rep.Extra), rep.FramesDiffer)
}
