package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/window"
)

// Windows of the constructed comparisons: two minutes and their hour.
var (
	min1 = window.Key{Granularity: window.Minute, Start: 1468244340}
	min2 = window.Key{Granularity: window.Minute, Start: 1468244400}
	min3 = window.Key{Granularity: window.Minute, Start: 1468244460}
	hour = window.Key{Granularity: window.Hour, Start: 1468242000}
)

func exactWindow(k window.Key, uniques, frames int) gen.WindowTruth {
	return gen.WindowTruth{Granularity: k.Granularity.String(), Start: k.Start, End: k.End(), Uniques: uniques, Frames: frames}
}

// rec is a result record; revision < 0 makes an early (final:false) one.
func rec(k window.Key, uniques uint64, revision int) codec.Result {
	r := codec.NewResult(k, uniques, int64(uniques)*3)
	r.Final = revision >= 0
	r.Revision = max(revision, 0)
	return r
}

func TestCompare(t *testing.T) {
	exact := []gen.WindowTruth{
		exactWindow(min1, 1000, 3000),
		exactWindow(min2, 2000, 6000),
		exactWindow(hour, 2500, 9000),
	}
	tests := []struct {
		name    string
		results []codec.Result
		args    []string
		wantErr string // empty: must pass
	}{
		{"exact", []codec.Result{rec(min1, 1000, 0), rec(min2, 2000, 0), rec(hour, 2500, 0)}, nil, ""},
		{"within bounds", []codec.Result{rec(min1, 1010, 0), rec(min2, 1990, 0), rec(hour, 2525, 0)}, nil, ""},
		{"only minutes judged when only minutes counted", []codec.Result{rec(min1, 1000, 0), rec(min2, 2000, 0)}, nil, ""},
		{"highest revision wins", []codec.Result{rec(min1, 500, 0), rec(min1, 1000, 1), rec(min2, 2000, 0)}, nil, ""},
		{"early records ignored", []codec.Result{rec(min1, 1, -1), rec(min1, 1000, 0), rec(min2, 2000, 0)}, nil, ""},
		{"missing window", []codec.Result{rec(min1, 1000, 0)}, nil, "1 windows missing"},
		{"missing when only early", []codec.Result{rec(min1, 1000, 0), rec(min2, 2000, -1)}, nil, "1 windows missing"},
		{"asked granularity absent", []codec.Result{rec(min1, 1000, 0), rec(min2, 2000, 0)}, []string{"--granularity", "minute,hour"}, "1 windows missing"},
		{"bogus window", []codec.Result{rec(min1, 1000, 0), rec(min2, 2000, 0), rec(min3, 7, 0)}, nil, "1 bogus"},
		{"one window too far off", []codec.Result{rec(min1, 1000, 0), rec(min2, 2100, 0)}, nil, "FAIL: error"},
		{"stale revision too far off", []codec.Result{rec(min1, 1000, 1), rec(min1, 500, 2), rec(min2, 2000, 0)}, nil, "FAIL: error"},
		{"mean above a tighter bound", []codec.Result{rec(min1, 1010, 0), rec(min2, 2020, 0)}, []string{"--max-mean-error", "0.005"}, "FAIL: error"},
		{"max above a tighter bound", []codec.Result{rec(min1, 1010, 0), rec(min2, 2000, 0)}, []string{"--max-error", "0.005"}, "FAIL: error"},
	}
	dir := t.TempDir()
	tr := filepath.Join(dir, "truth.jsonl")
	writeTruth(t, tr, exact)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			for _, r := range tt.results {
				b = append(r.AppendJSON(b), '\n')
			}
			results := filepath.Join(dir, "results-"+string(rune('a'+i))+".jsonl")
			if err := os.WriteFile(results, b, 0o644); err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{"compare", "--truth", tr}, tt.args...), results)
			out, _, err := kuniq(t, args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("kuniq %s: %v, want a pass\n%s", strings.Join(args, " "), err, out)
			case tt.wantErr == "" && !strings.Contains(out, "OK:"):
				t.Errorf("kuniq %s: stdout lacks the OK line:\n%s", strings.Join(args, " "), out)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("kuniq %s: err = %v, want one containing %q\n%s", strings.Join(args, " "), err, tt.wantErr, out)
			}
		})
	}
}

func TestCompareBadInput(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "truth.jsonl")
	writeTruth(t, tr, []gen.WindowTruth{exactWindow(min1, 10, 10)})
	good := filepath.Join(dir, "good.jsonl")
	r := rec(min1, 10, 0)
	if err := os.WriteFile(good, append(r.AppendJSON(nil), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	notWindow := filepath.Join(dir, "not-window.jsonl")
	if err := os.WriteFile(notWindow, []byte(`{"granularity":"minute","start":1468244341,"end":1468244401,"uniques":1,"final":true}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.txt")
	if err := os.WriteFile(garbage, []byte("not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resultsAsTruth := filepath.Join(dir, "results-as-truth.jsonl")
	if err := os.WriteFile(resultsAsTruth, append(r.AppendJSON(nil), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(emptyFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	hourOnly := filepath.Join(dir, "hour-only.jsonl")
	h := rec(hour, 10, 0)
	if err := os.WriteFile(hourOnly, append(h.AppendJSON(nil), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"no truth", []string{good}},
		{"truth is a results file", []string{"--truth", resultsAsTruth, good}},
		{"truth is empty", []string{"--truth", emptyFile, good}},
		{"no results: nothing judged", []string{"--truth", tr, emptyFile}},
		{"no truth window of the results' granularity", []string{"--truth", tr, hourOnly}},
		{"asked granularity not in the truth", []string{"--truth", tr, "--granularity", "day", good}},
		{"negative max error", []string{"--truth", tr, "--max-error", "-0.1", good}},
		{"topic and files", []string{"--truth", tr, "--topic", "uniques", good}},
		{"truth file missing", []string{"--truth", filepath.Join(dir, "nope"), good}},
		{"truth not JSON", []string{"--truth", garbage, good}},
		{"results not JSON", []string{"--truth", tr, garbage}},
		{"result not a window", []string{"--truth", tr, notWindow}},
		{"results file missing", []string{"--truth", tr, filepath.Join(dir, "nope")}},
		{"bad granularity", []string{"--truth", tr, "--granularity", "fortnight", good}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"compare"}, tt.args...)
			out, _, err := kuniq(t, args...)
			if err == nil {
				t.Errorf("kuniq %s: err = nil, want an error\n%s", strings.Join(args, " "), out)
			}
			if strings.Contains(out, "OK:") {
				t.Errorf("kuniq %s: printed OK on bad input:\n%s", strings.Join(args, " "), out)
			}
		})
	}
	if _, _, err := kuniq(t, "compare", "--truth", tr, good); err != nil {
		t.Errorf("compare on the good file: %v", err)
	}
}

func TestDLQRefusesBadShow(t *testing.T) {
	// Refused before any connection: the broker address is never tried.
	for _, args := range [][]string{{"dlq", "--show", "-1", "--brokers", "127.0.0.1:1"}, {"dlq", "stray", "--brokers", "127.0.0.1:1"}} {
		_, _, err := kuniq(t, args...)
		if err == nil || strings.Contains(err.Error(), "KUNIQ_BROKERS") {
			t.Errorf("kuniq %s: err = %v, want a flag error, not a connection attempt", strings.Join(args, " "), err)
		}
	}
}
