package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/truth"
	"github.com/kuniq/kuniq/window"
)

// runCompare judges result records against the exact counts of `kuniq gen --truth`: the
// accuracy check of the demos, usable on `count` output or on the output topic.
func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "compare --truth FILE [RESULTS.jsonl | --topic TOPIC]  (results: '-' or none for stdin)", stdout)
	kf := addKafkaFlags(fs)
	truthFile := fs.String("truth", "", "exact counts from `kuniq gen --truth` (required)")
	topic := fs.String("topic", "", "read the results from this output topic instead of a file")
	grans := fs.String("granularity", "", "granularities to judge (default: those present in the results)")
	refTopic := fs.String("reference-topic", "", "also compare with the results on this topic: uniques must be equal window by window (the crash demo)")
	verbose := fs.Bool("verbose", false, "print every window, not only the summary")
	maxMean := fs.Float64("max-mean-error", 0.01, "fail if the mean relative error is above this")
	maxErr := fs.Float64("max-error", 0.035, "fail if any window's relative error is above this")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *truthFile == "" {
		return errors.New("compare needs --truth")
	}
	tf, err := os.Open(*truthFile)
	if err != nil {
		return err
	}
	defer tf.Close()
	exact, err := truth.ReadTruth(tf)
	if err != nil {
		return err
	}
	var results []codec.Result
	if *topic != "" {
		if results, err = truth.ReadTopic(kf.config(), *topic); err != nil {
			return kf.explain(err)
		}
	} else {
		in, closeIn, err := openInputs(fs.Args())
		if err != nil {
			return err
		}
		defer closeIn()
		if results, err = truth.ReadResults(in); err != nil {
			return err
		}
	}
	// Judge the granularities the results were asked for (count's default is minute only).
	present := map[string]bool{}
	for _, r := range results {
		present[r.Granularity.String()] = true
	}
	if *grans != "" {
		gs, err := window.ParseList(*grans)
		if err != nil {
			return err
		}
		present = map[string]bool{}
		for _, g := range gs {
			present[g.String()] = true
		}
	}
	kept := exact[:0]
	for _, w := range exact {
		if present[w.Granularity] {
			kept = append(kept, w)
		}
	}
	rep, err := truth.Compare(truth.Latest(results), kept)
	if err != nil {
		return err
	}
	if *refTopic != "" {
		ref, err := truth.ReadTopic(kf.config(), *refTopic)
		if err != nil {
			return kf.explain(err)
		}
		return compareRuns(stdout, rep, truth.Latest(results), truth.Latest(ref), "this run", "reference")
	}
	rep.Write(stdout, *verbose)
	switch {
	case rep.Missing > 0 || len(rep.Extra) > 0:
		return fmt.Errorf("FAIL: %d windows missing, %d bogus", rep.Missing, len(rep.Extra))
	case rep.MeanRelErr > *maxMean || rep.MaxRelErr > *maxErr:
		return fmt.Errorf("FAIL: error mean %.3f%% / max %.3f%% above %.2f%% / %.2f%%", 100*rep.MeanRelErr, 100*rep.MaxRelErr, 100**maxMean, 100**maxErr)
	}
	fmt.Fprintln(stdout, "OK: every window present and within the error bounds")
	return nil
}

// compareRuns prints exact, this run and the reference run side by side and fails unless the
// two runs agree exactly on every window's uniques.
func compareRuns(w io.Writer, rep truth.Report, got, ref map[window.Key]codec.Result, name, refName string) error {
	fmt.Fprintf(w, "%-26s %9s %12s %12s  %s\n", "window", "exact", name, refName, "")
	differ := 0
	for _, r := range rep.Rows {
		g, gok := got[r.Key]
		f, fok := ref[r.Key]
		mark := ""
		if !gok || !fok || g.Uniques != f.Uniques {
			mark = "<- DIFFERENT"
			differ++
		}
		fmt.Fprintf(w, "%-26s %9d %12s %12s  %s\n", r.Key, r.Exact, countOf(g, gok), countOf(f, fok), mark)
	}
	rep.Write(w, false)
	if differ > 0 || rep.Missing > 0 {
		return fmt.Errorf("VERDICT: FAIL: %d windows differ between the runs, %d missing", differ, rep.Missing)
	}
	fmt.Fprintf(w, "VERDICT: PASS: all %d windows final, uniques identical to the uninterrupted run and within %.2f%% of exact\n", rep.Windows, 100*rep.MaxRelErr)
	return nil
}

func countOf(r codec.Result, ok bool) string {
	if !ok {
		return "MISSING"
	}
	return fmt.Sprint(r.Uniques)
}
