package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/truth"
)

// genArgs is a small gen run: few, short frames so -race stays fast.
var genArgs = []string{"gen", "--count", "3000", "--rate", "50", "--pool", "800", "--frame-bytes", "300",
	"--disorder-pct", "5", "--malformed-pct", "1"}

func TestGenDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, errs := mustKuniq(t, append(genArgs, "--seed", "7")...)
	b, _ := mustKuniq(t, append(genArgs, "--seed", "7")...)
	other, _ := mustKuniq(t, append(genArgs, "--seed", "8")...)
	if a != b {
		t.Errorf("gen --seed 7 twice: %d and %d bytes, want identical output", len(a), len(b))
	}
	if a == other {
		t.Errorf("gen --seed 7 and --seed 8 wrote the same bytes")
	}
	if n := strings.Count(a, "\n"); n != 3000 {
		t.Errorf("gen --count 3000 wrote %d lines", n)
	}
	if !strings.Contains(errs, "kuniq gen: 3000 lines") {
		t.Errorf("gen summary on stderr = %q, want the line count", errs)
	}

	t.Run("gzip out and truth", func(t *testing.T) {
		gz, tr := filepath.Join(dir, "frames.jsonl.gz"), filepath.Join(dir, "truth.jsonl")
		out, _ := mustKuniq(t, append(genArgs, "--seed", "7", "--out", gz, "--truth", tr)...)
		if out != "" {
			t.Errorf("gen --out FILE wrote %d bytes to stdout, want none", len(out))
		}
		raw := mustRead(t, gz)
		if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
			t.Fatalf("gen --out %s: not gzip (starts %q)", filepath.Base(gz), raw[:min(len(raw), 8)])
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if string(plain) != a {
			t.Errorf("gen --out x.gz decompresses to %d bytes that differ from stdout's %d", len(plain), len(a))
		}
		windows, err := truth.ReadTruth(bytes.NewReader(mustRead(t, tr)))
		if err != nil {
			t.Fatalf("--truth file: %v", err)
		}
		perGran := map[string]int{}
		for _, w := range windows {
			if w.Uniques < 1 || w.Uniques > w.Frames || w.End <= w.Start {
				t.Errorf("truth window %+v is not plausible", w)
			}
			perGran[w.Granularity] += w.Frames
		}
		// 3000 lines at 5 % disorder and 1 % malformed: each granularity counts the same frames.
		for _, g := range []string{"minute", "hour", "day", "week", "month", "year"} {
			if perGran[g] == 0 || perGran[g] != perGran["minute"] || perGran[g] >= 3000 {
				t.Errorf("truth: %s windows hold %d frames (minute %d), want the same count below 3000", g, perGran[g], perGran["minute"])
			}
		}
	})
	t.Run("arguments rejected", func(t *testing.T) {
		if _, _, err := kuniq(t, "gen", "--count", "1", "stray"); err == nil {
			t.Errorf("gen with an argument: err = nil, want an error")
		}
		if _, _, err := kuniq(t, "gen", "--count", "10", "--malformed-pct", "150"); err == nil {
			t.Errorf("gen --malformed-pct 150: err = nil, want a config error")
		}
	})
}

// TestGenCountCompare is the demo's accuracy check end to end: gen | count | compare --truth,
// on dirty data, for every granularity. The frames per window must be exact too.
func TestGenCountCompare(t *testing.T) {
	dir := t.TempDir()
	frames, tr := filepath.Join(dir, "frames.jsonl.gz"), filepath.Join(dir, "truth.jsonl")
	mustKuniq(t, "gen", "--count", "20000", "--rate", "40", "--pool", "3000", "--seed", "11", "--frame-bytes", "300",
		"--disorder-pct", "10", "--late-pct", "1", "--bitflip-pct", "0.5", "--malformed-pct", "1",
		"--out", frames, "--truth", tr)

	for _, tt := range []struct {
		name string
		args []string
	}{
		{"finals", nil},
		{"with early records", []string{"--early", "20s"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			results := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".jsonl")
			args := append([]string{"count", "--granularity", "all", "--dead-letters", "none", "--quiet"}, tt.args...)
			out, _ := mustKuniq(t, append(args, frames)...)
			if err := os.WriteFile(results, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			report, errs, err := kuniq(t, "compare", "--truth", tr, results)
			if err != nil {
				t.Fatalf("compare: %v\nstdout:\n%s\nstderr:\n%s", err, report, errs)
			}
			if !strings.Contains(report, "OK: every window present") {
				t.Errorf("compare stdout = %q, want the OK line", report)
			}

			// Beyond compare's bounds: no crash, no restart, so frames are exact per window.
			exact, err := truth.ReadTruth(bytes.NewReader(mustRead(t, tr)))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := truth.Compare(truth.Latest(parseResults(t, out)), exact)
			if err != nil {
				t.Fatal(err)
			}
			if rep.FramesDiffer != 0 || rep.Missing != 0 || len(rep.Extra) != 0 {
				t.Errorf("count vs truth: %d windows with wrong frames, %d missing, %d bogus", rep.FramesDiffer, rep.Missing, len(rep.Extra))
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		out, _ := mustKuniq(t, "count", "--granularity", "minute", "--dead-letters", "none", "--quiet", frames)
		results := filepath.Join(dir, "minute.jsonl")
		if err := os.WriteFile(results, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		withStdin(t, results)
		if report, _, err := kuniq(t, "compare", "--truth", tr); err != nil {
			t.Errorf("compare with results on stdin: %v\n%s", err, report)
		}
	})
}

// writeTruth writes truth windows as `gen --truth` does.
func writeTruth(t *testing.T, name string, ws []gen.WindowTruth) {
	t.Helper()
	var b bytes.Buffer
	if err := gen.WriteTruth(&b, ws); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
