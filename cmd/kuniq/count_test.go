package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/testkit"
	"github.com/kuniq/kuniq/internal/truth"
	"github.com/kuniq/kuniq/window"
)

const goldenAll = "testdata/count-sample-all.golden.jsonl"

// parseResults parses count's stdout, failing on any line that is not a result record or is
// not in AppendJSON's canonical form.
func parseResults(t *testing.T, out string) []codec.Result {
	t.Helper()
	var rs []codec.Result
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			if out == "" {
				break
			}
			t.Fatalf("line %d is empty", i+1)
		}
		r, err := codec.ParseResult([]byte(line))
		if err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		if got := string(r.AppendJSON(nil)); got != line {
			t.Errorf("line %d re-encodes as %s, want %s", i+1, got, line)
		}
		rs = append(rs, r)
	}
	return rs
}

// gzipFile writes a gzip-compressed copy of src to dst.
func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCountSampleGolden pins count's output on the real sample, all six granularities.
// Rewrite with `go test ./cmd/kuniq -run Golden -update` after a deliberate change.
func TestCountSampleGolden(t *testing.T) {
	out, errs := mustKuniq(t, "count", "--granularity", "all", sampleFile)
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenAll), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenAll, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenAll)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	// The golden bytes themselves must stay valid records: every one final, every
	// granularity present, frames summing to the sample's lines in each granularity.
	golden := parseResults(t, string(want))
	frames := map[window.Granularity]int64{}
	for _, r := range golden {
		if !r.Final || r.Revision != 0 {
			t.Errorf("golden %s: final=%v revision=%d, want a first final", r.Key(), r.Final, r.Revision)
		}
		if r.Uniques == 0 || r.Uniques > uint64(r.Frames) {
			t.Errorf("golden %s: uniques %d with %d frames", r.Key(), r.Uniques, r.Frames)
		}
		frames[r.Granularity] += r.Frames
	}
	for _, g := range window.All {
		if frames[g] != 1000 {
			t.Errorf("golden: %s windows hold %d frames, want the sample's 1000", g, frames[g])
		}
	}
	if out != string(want) {
		t.Errorf("count --granularity all %s differs from %s:\ngot:\n%s\nwant:\n%s", sampleFile, goldenAll, out, want)
	}
	if !strings.Contains(errs, "frames/s") || !strings.Contains(errs, "1000 frames") {
		t.Errorf("summary on stderr = %q, want the frame count and frames/s", errs)
	}
}

// TestCountInputsAreOneStream checks that every way of feeding the sample (gzip, stdin, split
// into several files, with or without a final newline) counts exactly like the plain file.
func TestCountInputsAreOneStream(t *testing.T) {
	want, err := os.ReadFile(goldenAll)
	if err != nil {
		t.Fatalf("%v (run TestCountSampleGolden with -update to create it)", err)
	}
	dir := t.TempDir()
	gz := filepath.Join(dir, "sample.jsonl.gz")
	gzipFile(t, sampleFile, gz)
	gzNoExt := filepath.Join(dir, "sample.bin") // gzip is recognised by its magic, not its name
	gzipFile(t, sampleFile, gzNoExt)

	sample, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(sample, []byte("\n"))
	head, tail := bytes.Join(lines[:400], nil), bytes.Join(lines[400:], nil)
	part1, part2 := filepath.Join(dir, "part1.jsonl"), filepath.Join(dir, "part2.jsonl")
	// part1 lacks its last newline: its last line must not merge with part2's first.
	if err := os.WriteFile(part1, bytes.TrimSuffix(head, []byte("\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part2, tail, 0o644); err != nil {
		t.Fatal(err)
	}
	part1gz := filepath.Join(dir, "part1.jsonl.gz")
	gzipFile(t, part1, part1gz)

	tests := []struct {
		name  string
		stdin string // file to serve as stdin, if any
		args  []string
	}{
		{"gzip", "", []string{gz}},
		{"gzip without .gz name", "", []string{gzNoExt}},
		{"stdin dash", sampleFile, []string{"-"}},
		{"stdin no args", sampleFile, nil},
		{"stdin gzip", gz, nil},
		{"two files", "", []string{part1, part2}},
		{"gzip then plain", "", []string{part1gz, part2}},
		{"file then stdin", part2, []string{part1, "-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.stdin != "" {
				withStdin(t, tt.stdin)
			}
			args := append([]string{"count", "--granularity", "all", "--quiet"}, tt.args...)
			out, _ := mustKuniq(t, args...)
			if out != string(want) {
				t.Errorf("kuniq %s: output differs from %s:\ngot:\n%s\nwant:\n%s", strings.Join(args, " "), goldenAll, out, want)
			}
		})
	}
}

func TestCountMissingFileIsAnError(t *testing.T) {
	_, _, err := kuniq(t, "count", filepath.Join(t.TempDir(), "nope.jsonl"))
	if !os.IsNotExist(err) {
		t.Errorf("count on a missing file: err = %v, want a not-exist error", err)
	}
}

// dirtyConfig is a generated stream with every kind of bad data gen knows, small frames so the
// test stays fast under -race, and a fast clock so it spans many minute windows.
func dirtyConfig() gen.Config {
	c := gen.DefaultConfig()
	c.Count = 24_000
	c.Rate = 40 // ~600 s of event time: ten minute windows
	c.Pool = 4000
	c.Seed = 42
	c.DisorderPct = 10
	c.LatePct = 1
	c.BitFlipPct = 0.5
	c.MalformedPct = 1
	c.FrameBytes = 320
	return c
}

// writeGen generates cfg into a file under dir and returns its path and the generator.
func writeGen(t *testing.T, dir string, cfg gen.Config) (string, *gen.Generator) {
	t.Helper()
	return testkit.GenerateFile(t, dir, "frames.jsonl", cfg)
}

// TestCountParallelEqualsSingleThreaded is the proof at CLI level: the same dirty input
// gives byte-for-byte the same results and dead letters whatever the number of decoders.
func TestCountParallelEqualsSingleThreaded(t *testing.T) {
	dir := t.TempDir()
	input, g := writeGen(t, dir, dirtyConfig())
	st := g.Stats()
	for _, k := range []gen.Kind{gen.Disordered, gen.Late, gen.BitFlipped, gen.Malformed} {
		if st.Kinds[k] == 0 {
			t.Fatalf("generated input has no %s frames; the test would prove less than it claims", k)
		}
	}
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"finals", nil},
		{"early", []string{"--early", "30s"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			var refOut string
			var refDLQ []byte
			for _, workers := range []string{"1", "2", "4"} {
				dlq := filepath.Join(dir, mode.name+"-dlq-"+workers+".jsonl")
				args := append([]string{"count", "--granularity", "all", "--quiet", "--workers", workers, "--dead-letters", dlq}, mode.args...)
				out, _ := mustKuniq(t, append(args, input)...)
				dl, err := os.ReadFile(dlq)
				if err != nil {
					t.Fatal(err)
				}
				if workers == "1" {
					refOut, refDLQ = out, dl
					if len(parseResults(t, out)) == 0 || len(dl) == 0 {
						t.Fatalf("--workers 1: %d bytes of results, %d of dead letters; want both non-empty", len(out), len(dl))
					}
					continue
				}
				if out != refOut {
					t.Errorf("--workers %s: stdout (%d bytes) differs from --workers 1 (%d bytes)", workers, len(out), len(refOut))
				}
				if !bytes.Equal(dl, refDLQ) {
					t.Errorf("--workers %s: dead letters (%d bytes) differ from --workers 1 (%d bytes)", workers, len(dl), len(refDLQ))
				}
			}
		})
	}
}

// deadLetterReasons is the documented set (codec.DeadLetter.Reason).
var deadLetterReasons = map[string]bool{
	"syntax": true, "no_uid": true, "bad_uid": true, "no_ts": true, "bad_ts": true,
	"ts_range": true, "late": true, "ts_jump": true,
}

func TestCountDeadLetters(t *testing.T) {
	dir := t.TempDir()
	input, g := writeGen(t, dir, dirtyConfig())
	st := g.Stats()
	dlq := filepath.Join(dir, "dlq.jsonl")
	out, errs := mustKuniq(t, "count", "--granularity", "minute", "--dead-letters", dlq, input)

	lines, err := os.ReadFile(dlq)
	if err != nil {
		t.Fatal(err)
	}
	inputLines := bytes.Split(mustRead(t, input), []byte("\n"))
	byReason := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(lines))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		// Decode strictly: the frame must be there as a JSON string, not only the reason.
		var d struct {
			Reason string  `json:"reason"`
			Offset int64   `json:"offset"`
			Frame  *string `json:"frame"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("dead letter %q is not JSON: %v", sc.Text(), err)
		}
		if !deadLetterReasons[d.Reason] {
			t.Errorf("dead letter reason %q is not in the documented set: %s", d.Reason, sc.Text())
		}
		if d.Frame == nil {
			t.Fatalf("dead letter without a frame: %s", sc.Text())
		}
		// Offset is the 1-based input line; the frame is that line (as valid UTF-8).
		if d.Offset < 1 || int(d.Offset) > len(inputLines) {
			t.Fatalf("dead letter offset %d outside the input's %d lines", d.Offset, len(inputLines))
		}
		if want := asJSONString(t, inputLines[d.Offset-1]); *d.Frame != want {
			t.Errorf("dead letter at line %d: frame %q, want the input line %q", d.Offset, *d.Frame, want)
		}
		byReason[d.Reason]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range byReason {
		total += n
	}
	if want := st.Lines - st.Kinds[gen.Clean] - st.Kinds[gen.Disordered]; total != want {
		t.Errorf("%d dead letters (%v), want %d: every late, bit-flipped and malformed line (%v)", total, byReason, want, st.Kinds)
	}
	decode := byReason["syntax"] + byReason["no_uid"] + byReason["bad_uid"] + byReason["no_ts"] + byReason["bad_ts"]
	if decode != st.Kinds[gen.Malformed] {
		t.Errorf("decoding dead letters %d (%v), want the %d malformed lines", decode, byReason, st.Kinds[gen.Malformed])
	}
	if !strings.Contains(errs, "dead letters "+strconv.Itoa(total)) {
		t.Errorf("summary %q does not report %d dead letters", errs, total)
	}
	// Every line is either counted or a dead letter: the minute windows' latest revisions
	// hold exactly the clean and disordered frames.
	var counted int64
	for _, r := range truth.Latest(parseResults(t, out)) {
		counted += r.Frames
	}
	if want := int64(st.Kinds[gen.Clean] + st.Kinds[gen.Disordered]); counted != want {
		t.Errorf("minute windows count %d frames, want the %d clean and disordered ones", counted, want)
	}

	t.Run("none discards", func(t *testing.T) {
		t.Chdir(t.TempDir()) // a file named "none" would land here
		abs, err := filepath.Abs(filepath.Join(dir, "frames.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		outNone, errsNone := mustKuniq(t, "count", "--granularity", "minute", "--dead-letters", "none", abs)
		if outNone != out {
			t.Errorf("--dead-letters none changed the results")
		}
		if n := strings.Count(errsNone, "\n"); n != 1 || !strings.HasPrefix(errsNone, "kuniq count: ") {
			t.Errorf("--dead-letters none: stderr = %q, want only the summary line", errsNone)
		}
		if !strings.Contains(errsNone, "dead letters "+strconv.Itoa(total)) {
			t.Errorf("--dead-letters none: summary %q should still count %d dead letters", errsNone, total)
		}
		if _, err := os.Stat("none"); !os.IsNotExist(err) {
			t.Errorf("--dead-letters none created a file named none (stat err %v)", err)
		}
	})
	t.Run("stderr by default", func(t *testing.T) {
		_, errsDefault := mustKuniq(t, "count", "--granularity", "minute", input)
		body, summary, ok := cutLastLine(errsDefault)
		if !ok || !strings.HasPrefix(summary, "kuniq count: ") {
			t.Fatalf("stderr does not end with the summary: %q", errsDefault)
		}
		if body != string(lines) {
			t.Errorf("dead letters on stderr (%d bytes) differ from --dead-letters FILE (%d bytes)", len(body), len(lines))
		}
	})
}

// TestCountEarly checks --early: provisional records (final:false) come before a window's
// final record, never after, and never claim more frames than the final does.
func TestCountEarly(t *testing.T) {
	dir := t.TempDir()
	cfg := dirtyConfig()
	cfg.Count = 6000
	input, _ := writeGen(t, dir, cfg)
	out, _ := mustKuniq(t, "count", "--granularity", "minute,hour", "--early", "10s", "--quiet", "--dead-letters", "none", input)
	finalOut, _ := mustKuniq(t, "count", "--granularity", "minute,hour", "--quiet", "--dead-letters", "none", input)

	type state struct {
		early     int
		lastEarly int64 // frames of the last early record
		final     bool
	}
	seen := map[window.Key]*state{}
	var finals []string
	for _, r := range parseResults(t, out) {
		s := seen[r.Key()]
		if s == nil {
			s = &state{}
			seen[r.Key()] = s
		}
		if !r.Final {
			if s.final {
				t.Errorf("%s: early record after the final one", r.Key())
			}
			if r.Revision != 0 || r.Frames < s.lastEarly {
				t.Errorf("%s: early record revision %d frames %d after %d, want revision 0 and growing frames", r.Key(), r.Revision, r.Frames, s.lastEarly)
			}
			s.early++
			s.lastEarly = r.Frames
			continue
		}
		if !s.final && r.Frames < s.lastEarly {
			t.Errorf("%s: final frames %d below the early record's %d", r.Key(), r.Frames, s.lastEarly)
		}
		s.final = true
		finals = append(finals, string(r.AppendJSON(nil)))
	}
	earlyWindows := 0
	for k, s := range seen {
		if !s.final {
			t.Errorf("%s: early records but no final", k)
		}
		if s.early > 0 {
			earlyWindows++
		}
	}
	// 10 s of event time against minute windows: most minutes see several early records.
	if earlyWindows < len(seen)/2 {
		t.Errorf("--early 10s: %d of %d windows had early records, want most", earlyWindows, len(seen))
	}
	// Dropping the early records leaves exactly the output without --early.
	if got := strings.Join(finals, "\n") + "\n"; got != finalOut {
		t.Errorf("final records with --early differ from the output without it:\ngot:\n%s\nwant:\n%s", got, finalOut)
	}
}

func TestCountBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown granularity", []string{"--granularity", "fortnight"}},
		{"precision too small", []string{"--precision", "3"}},
		{"precision too large", []string{"--precision", "19"}},
		{"unknown flag", []string{"--frobnicate"}},
		{"dead letters in a missing dir", []string{"--dead-letters", "/nonexistent-dir/x/dlq.jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"count"}, tt.args...), sampleFile)
			if out, _, err := kuniq(t, args...); err == nil {
				t.Errorf("kuniq %s: err = nil (stdout %d bytes), want an error", strings.Join(args, " "), len(out))
			}
		})
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cutLastLine splits s (ending in a newline) into everything before its last line and that line.
func cutLastLine(s string) (body, last string, ok bool) {
	s, ok = strings.CutSuffix(s, "\n")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(s, '\n')
	return s[:i+1], s[i+1:], true
}

// asJSONString is b as it reads back from a JSON string: encoding/json replaces each invalid
// UTF-8 byte with U+FFFD, as the dead-letter record documents.
func asJSONString(t *testing.T, b []byte) string {
	t.Helper()
	q, err := json.Marshal(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCountEmptyInput(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs := mustKuniq(t, "count", "--granularity", "all", empty)
	if out != "" {
		t.Errorf("count on an empty file: stdout = %q, want nothing", out)
	}
	if !strings.HasPrefix(errs, "kuniq count: 0 frames") {
		t.Errorf("count on an empty file: summary = %q, want 0 frames", errs)
	}
}

// failWriter fails every write, like a closed pipe.
type failWriter struct{}

var errClosedPipe = errors.New("closed pipe")

func (failWriter) Write([]byte) (int, error) { return 0, errClosedPipe }

func TestCountOutputErrorIsReturned(t *testing.T) {
	var errb bytes.Buffer
	err := run(context.Background(), []string{"count", "--granularity", "all", sampleFile}, failWriter{}, &errb)
	if !errors.Is(err, errClosedPipe) {
		t.Errorf("count into a failing stdout: err = %v, want it to wrap %v", err, errClosedPipe)
	}
}
