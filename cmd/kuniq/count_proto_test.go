package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuniq/kuniq/codec"
)

const samplePB = "../../testdata/challenge-sample-1000.pb"

// TestCountProtobufSample: count --input-format protobuf over testdata/challenge-sample-1000.pb
// (the JSON sample's frames as a length-delimited stream) writes exactly the records of the
// JSON count, whatever way the stream is fed: gzip, stdin, split into two files at a message
// boundary, the format from the environment.
func TestCountProtobufSample(t *testing.T) {
	want, err := os.ReadFile(goldenAll)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := os.ReadFile(samplePB)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gz := filepath.Join(dir, "sample.pb.gz")
	gzipFile(t, samplePB, gz)
	// 28 bytes a message: the first 400 in one file, the rest in another.
	part1, part2 := filepath.Join(dir, "part1.pb"), filepath.Join(dir, "part2.pb")
	if err := os.WriteFile(part1, pb[:400*28], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part2, pb[400*28:], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		env   string // KUNIQ_INPUT_FORMAT instead of the flag
		stdin string
		args  []string
	}{
		{name: "file", args: []string{samplePB}},
		{name: "gzip", args: []string{gz}},
		{name: "stdin", stdin: samplePB},
		{name: "two files", args: []string{part1, part2}},
		{name: "env", env: "protobuf", args: []string{samplePB}},
		{name: "proto spelling", args: []string{"--input-format", "proto", samplePB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.stdin != "" {
				withStdin(t, tt.stdin)
			}
			args := []string{"count", "--granularity", "all", "--quiet"}
			if tt.env != "" {
				t.Setenv("KUNIQ_INPUT_FORMAT", tt.env)
			} else if !strings.HasPrefix(strings.Join(tt.args, " "), "--input-format") {
				args = append(args, "--input-format", "protobuf")
			}
			out, _ := mustKuniq(t, append(args, tt.args...)...)
			if out != string(want) {
				t.Errorf("kuniq %s: output differs from the JSON count %s:\ngot:\n%s\nwant:\n%s", strings.Join(args, " "), goldenAll, out, want)
			}
		})
	}
}

// TestCountProtobufEqualsJSON: generated challenge data with disorder, late and bit-flipped
// frames, written once as JSON lines and once by gen --format protobuf, counts to the same
// records (the malformed lines, which have no protobuf form, are dead letters in the JSON
// count and counted nowhere).
func TestCountProtobufEqualsJSON(t *testing.T) {
	cfg := dirtyConfig()
	dir := t.TempDir()
	jsonl, _ := writeGen(t, dir, cfg)
	pb := filepath.Join(dir, "frames.pb")
	mustKuniq(t, "gen", "--format", "protobuf", "--out", pb, "--count", fmt.Sprint(cfg.Count), "--rate", fmt.Sprint(cfg.Rate),
		"--pool", fmt.Sprint(cfg.Pool), "--seed", fmt.Sprint(cfg.Seed), "--start", fmt.Sprint(cfg.Start),
		"--disorder-pct", fmt.Sprint(cfg.DisorderPct), "--disorder-max", cfg.DisorderMax.String(),
		"--late-pct", fmt.Sprint(cfg.LatePct), "--late-by", cfg.LateBy.String(), "--bitflip-pct", fmt.Sprint(cfg.BitFlipPct),
		"--malformed-pct", fmt.Sprint(cfg.MalformedPct), "--frame-bytes", fmt.Sprint(cfg.FrameBytes))
	args := []string{"count", "--granularity", "all", "--quiet", "--dead-letters", "none"}
	jsonOut, _ := mustKuniq(t, append(args, jsonl)...)
	pbOut, _ := mustKuniq(t, append(args, "--input-format", "protobuf", pb)...)
	if jsonOut != pbOut {
		t.Errorf("protobuf count differs from the JSON count:\nprotobuf:\n%s\njson:\n%s", pbOut, jsonOut)
	}
	if rs := parseResults(t, pbOut); len(rs) == 0 {
		t.Error("no records")
	}
}

// TestCountProtobufDeadLetters: a broken stream's bad messages are dead letters with their
// reasons, the frames before a corrupt length prefix are counted and output, and the corrupt
// prefix makes count fail naming the message.
func TestCountProtobufDeadLetters(t *testing.T) {
	pb, err := os.ReadFile(samplePB)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Ten good messages, a zero-length one, a message with uid as a varint, then a length
	// prefix that is no varint and good messages after it (never read).
	in := append([]byte(nil), pb[:10*28]...)
	in = append(in, 0, 4, 0x08, 0x01, 0x10, 0x01)
	in = append(in, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}...)
	in = append(in, pb[10*28:20*28]...)
	file := filepath.Join(dir, "broken.pb")
	if err := os.WriteFile(file, in, 0o644); err != nil {
		t.Fatal(err)
	}
	dlq := filepath.Join(dir, "dead.jsonl")
	out, stderr, err := kuniq(t, "count", "--input-format", "protobuf", "--dead-letters", dlq, file)
	if err == nil || !strings.Contains(err.Error(), "message 13") || !strings.Contains(err.Error(), "bad length prefix") {
		t.Errorf("count = %v, want an error naming message 13's bad length prefix", err)
	}
	frames := int64(0)
	for _, r := range parseResults(t, out) {
		frames += r.Frames
	}
	if frames != 10 {
		t.Errorf("records count %d frames, want the 10 before the break", frames)
	}
	b, _ := os.ReadFile(dlq)
	var reasons []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if _, r, ok := strings.Cut(line, `"reason":"`); ok {
			r, _, _ = strings.Cut(r, `"`)
			reasons = append(reasons, r)
		}
	}
	if got := strings.Join(reasons, ","); got != "no_uid,bad_uid,syntax" {
		t.Errorf("dead letters %q, want no_uid,bad_uid,syntax (%s)", got, b)
	}
	if !strings.Contains(stderr, "13 frames") {
		t.Errorf("summary %q, want 13 frames", stderr)
	}
}

// TestCountProtobufTSUnit: --ts-unit applies to a protobuf frame's int64 ts.
func TestCountProtobufTSUnit(t *testing.T) {
	var in []byte
	in = codec.AppendDelimited(in, codec.AppendProtoFrame(nil, 1468244384123, []byte("a")))
	in = codec.AppendDelimited(in, codec.AppendProtoFrame(nil, 1468244385999, []byte("b")))
	file := filepath.Join(t.TempDir(), "ms.pb")
	if err := os.WriteFile(file, in, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := mustKuniq(t, "count", "--quiet", "--input-format", "protobuf", "--ts-unit", "ms", file)
	rs := parseResults(t, out)
	if len(rs) != 1 || rs[0].Start != 1468244340 || rs[0].Uniques != 2 || rs[0].Frames != 2 {
		t.Errorf("records %+v, want one minute 1468244340 with 2 uniques of 2 frames", rs)
	}
	if _, _, err := kuniq(t, "count", "--quiet", "--input-format", "protobuf", "--dead-letters", "none", file); err != nil {
		t.Errorf("in seconds the ms ts are out of range, dead letters, not an error: %v", err)
	}
}
