package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
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
	if _, err := kf.setup(stderr); err != nil {
		return err
	}
	var bad outOfRange
	bad.check(*truthFile != "", "compare needs --truth FILE (from `kuniq gen --truth`)")
	bad.check(*maxMean >= 0, "--max-mean-error %v: want 0 or more", *maxMean)
	bad.check(*maxErr >= 0, "--max-error %v: want 0 or more", *maxErr)
	bad.check(*topic == "" || fs.NArg() == 0, "compare reads results from --topic or from files, not both (got %q)", fs.Args())
	if err := bad.err(); err != nil {
		return err
	}
	exact, err := readTruthFile(*truthFile)
	if err != nil {
		return err
	}
	var results []codec.Result
	if *topic != "" {
		kc, cerr := kf.config()
		if cerr != nil {
			return cerr
		}
		results, err = truth.ReadTopic(kc, *topic)
		err = kf.explain(err)
	} else {
		results, err = readResultFiles(fs.Args())
	}
	if err != nil {
		return err
	}
	judged, err := judgedGranularities(results, *grans)
	if err != nil {
		return err
	}
	kept := exact[:0]
	for _, w := range exact {
		if judged[w.Granularity] {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("FAIL: no window to judge: the truth holds none of the granularities %s (%d result records read)",
			setText(judged), len(results))
	}
	rep, err := truth.Compare(truth.Latest(results), kept)
	if err != nil {
		return err
	}
	if *refTopic != "" {
		kc, err := kf.config()
		if err != nil {
			return err
		}
		ref, err := truth.ReadTopic(kc, *refTopic)
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

// readTruthFile reads the exact counts of `kuniq gen --truth`; a file that holds none, or
// anything else, is an error.
func readTruthFile(name string) ([]gen.WindowTruth, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	exact, err := truth.ReadTruth(f)
	if err != nil {
		return nil, fmt.Errorf("--truth %s: %w", name, err)
	}
	if len(exact) == 0 {
		return nil, fmt.Errorf("--truth %s: no windows (is it the file `kuniq gen --truth` wrote?)", name)
	}
	return exact, nil
}

// readResultFiles reads result records from the named files ("-" or none: stdin).
func readResultFiles(names []string) ([]codec.Result, error) {
	in, closeIn, err := openInputs(names, true)
	if err != nil {
		return nil, err
	}
	defer closeIn()
	return truth.ReadResults(in)
}

// judgedGranularities are the granularities asked for (a --granularity list), or else those
// the results hold: count's default is minute only, and its hours are not missing.
func judgedGranularities(results []codec.Result, list string) (map[string]bool, error) {
	judged := map[string]bool{}
	if list == "" {
		for _, r := range results {
			judged[r.Granularity.String()] = true
		}
		return judged, nil
	}
	gs, err := window.ParseList(list)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		judged[g.String()] = true
	}
	return judged, nil
}

// setText lists a set's members in granularity order, "none" if empty.
func setText(set map[string]bool) string {
	var names []string
	for _, g := range window.All {
		if set[g.String()] {
			names = append(names, g.String())
		}
	}
	if len(names) == 0 {
		return "(none: no result records)"
	}
	return strings.Join(names, ", ")
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
