package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/internal/kafkatest"
)

// TestOpenInputsAddsOnlyMissingNewlines: files are joined with a newline only where one is
// missing, so ingest reports no blank line that is not in the files, and count's line
// numbers run on across files.
func TestOpenInputsAddsOnlyMissingNewlines(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	gz := func(name, content string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(content))
		zw.Close()
		return file(name, b.String())
	}
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"one file with its newline", []string{file("a", "x\ny\n")}, "x\ny\n"},
		{"one file without", []string{file("b", "x\ny")}, "x\ny\n"},
		{"two files", []string{file("c", "x\n"), file("d", "y\n")}, "x\ny\n"},
		{"first lacks its newline", []string{file("e", "x"), file("f", "y\n")}, "x\ny\n"},
		{"an empty file adds nothing", []string{file("g", "x\n"), file("h", ""), file("i", "y")}, "x\ny\n"},
		{"blank lines in a file stay", []string{file("j", "x\n\ny\n")}, "x\n\ny\n"},
		{"gzip", []string{gz("k.gz", "x\ny"), file("l", "z\n")}, "x\ny\nz\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, closeIn, err := openInputs(tt.files, true)
			if err != nil {
				t.Fatal(err)
			}
			defer closeIn()
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("openInputs = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestIntegrationIngestSummary ingests the sample into a topic of its own: the summary
// counts every frame, reports no blank line the file does not have, and gives sizes and rates
// in one unit (binary: MiB, MiB/s), as the progress lines do.
func TestIntegrationIngestSummary(t *testing.T) {
	kc, _ := kafkatest.Ready(t, 60*time.Second)
	topic := kafkatest.Name(t, "ingest")
	_, errs := mustKuniq(t, "ingest", "--brokers", strings.Join(kc.Brokers, ","), "--input", topic,
		"--partitions", "2", "--progress", "10ms", sampleFile)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	summary := lines[len(lines)-1]
	for _, want := range []string{"kuniq ingest: 1000 frames, 2.0 MiB", "MiB/s", "blank lines 0, failed 0", fmt.Sprintf("%q (2 partitions)", topic)} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q lacks %q", summary, want)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, " MB") {
			t.Errorf("stderr line %q uses decimal MB", l)
		}
	}
	if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-2], "ingest: 1000 frames") {
		t.Errorf("stderr %q: want the final progress line before the summary", errs)
	}
	n, err := kc.PartitionCount(topic)
	if err != nil || n != 2 {
		t.Fatalf("topic %s: %d partitions, %v", topic, n, err)
	}
	recs, err := kc.ReadAll(topic)
	if err != nil || len(recs) != 1000 {
		t.Errorf("topic %s holds %d records (%v), want the sample's 1000", topic, len(recs), err)
	}
}

// TestIngestRefusesNonsense: ingest's own flags refuse values that mean nothing, before any
// connection.
func TestIngestRefusesNonsense(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantInErr string
	}{
		{"negative retry timeout", []string{"--retry-timeout", "-1s"}, "--retry-timeout -1s: want a duration >= 0 (0: retry forever)"},
		{"negative from-line", []string{"--from-line", "-3"}, "--from-line -3: want a line number >= 1"},
		{"zero max line", []string{"--max-line-bytes", "0"}, "--max-line-bytes 0: want 1..8323072"},
		{"max line over the record limit", []string{"--max-line-bytes", "8MiB"}, "--max-line-bytes 8388608: want 1..8323072"},
		{"max line not a size", []string{"--max-line-bytes", "4MB"}, `invalid value "4MB" for flag -max-line-bytes`},
		{"unknown compression", []string{"--compression", "brotli"}, `--compression: cannot parse "brotli" as a compression codec (want none, gzip, snappy, lz4 or zstd)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"ingest", "--brokers", "127.0.0.1:1"}, tt.args...), sampleFile)
			_, _, err := kuniq(t, args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("kuniq %s: err = %v, want one containing %q", strings.Join(args, " "), err, tt.wantInErr)
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4MiB", 4 << 20, true}, {"64KiB", 64 << 10, true}, {"2GiB", 2 << 30, true}, {"512B", 512, true},
		{"1048576", 1 << 20, true}, {" 3 MiB ", 3 << 20, true}, {"0", 0, true},
		{"4MB", 0, false}, {"-1", 0, false}, {"1.5MiB", 0, false}, {"", 0, false}, {"MiB", 0, false},
		{"9999999999GiB", 0, false},
	}
	for _, tt := range tests {
		got, err := parseByteSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok {
			if back, err := parseByteSize(formatByteSize(got)); err != nil || back != got {
				t.Errorf("parseByteSize(formatByteSize(%d) = %q) = %d, %v", got, formatByteSize(got), back, err)
			}
		}
	}
}

// TestIngestSummary: the summary names everything not written (blank, too long, failed) and,
// only when they happened, what a resume skipped and the outages ridden out.
func TestIngestSummary(t *testing.T) {
	base := emitter.Stats{Frames: 900, Bytes: 2 << 20, Blank: 2, TooLong: 1, Failed: 0, Elapsed: 2 * time.Second,
		PerPartition: map[int32]int64{0: 450, 1: 450}}
	resumed := base
	resumed.Before, resumed.Present = 4600, 312
	outage := base
	outage.Outages, outage.Stalled, outage.Retried = 1, 12300*time.Millisecond, 4
	tests := []struct {
		name string
		st   emitter.Stats
		want string
	}{
		{"plain", base, `kuniq ingest: 900 frames, 2.0 MiB in 2.00s: 450 frames/s, 1.0 MiB/s into "frames" (2 partitions); blank lines 2, failed 0, too long 1`},
		{"resumed", resumed, `too long 1; resumed: 4600 lines before --from-line, 312 already in the topic, skipped`},
		{"outage", outage, `too long 1; 1 outage(s), stalled 12.3s, 4 batches resent`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ingestSummary(tt.st, "frames")
			if !strings.HasSuffix(got, tt.want) {
				t.Errorf("ingestSummary = %q, want it to end with %q", got, tt.want)
			}
			if tt.name == "plain" && (strings.Contains(got, "resumed") || strings.Contains(got, "outage")) {
				t.Errorf("ingestSummary = %q: mentions a resume or outage that did not happen", got)
			}
		})
	}
}

// TestIntegrationIngestOversizedLine: a line over --max-line-bytes is skipped with a warning
// naming it, counted in the summary, and the lines around it are ingested.
func TestIntegrationIngestOversizedLine(t *testing.T) {
	kc, _ := kafkatest.Ready(t, 60*time.Second)
	topic := kafkatest.Name(t, "oversized")
	sample, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(sample, []byte("\n"))
	big := `{"ts":1468244384,"uid":"x","pad":"` + strings.Repeat("y", 300<<10) + `"}` + "\n"
	in := append(append(append([]byte{}, bytes.Join(lines[:500], nil)...), big...), bytes.Join(lines[500:], nil)...)
	path := filepath.Join(t.TempDir(), "with-a-big-line.jsonl")
	if err := os.WriteFile(path, in, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs := mustKuniq(t, "ingest", "--brokers", strings.Join(kc.Brokers, ","), "--input", topic,
		"--partitions", "2", "--progress", "0", "--max-line-bytes", "256KiB", path)
	if !strings.Contains(errs, "skipped a line longer than --max-line-bytes") || !strings.Contains(errs, "line 501: 307236 bytes > 262144") {
		t.Errorf("stderr does not warn of line 501:\n%s", errs)
	}
	if summary := lastLine(errs, "kuniq ingest:"); !strings.Contains(summary, "1000 frames") || !strings.Contains(summary, "failed 0, too long 1") {
		t.Errorf("summary %q, want 1000 frames and too long 1", summary)
	}
	recs, err := kc.ReadAll(topic)
	if err != nil || len(recs) != 1000 {
		t.Fatalf("topic holds %d records (%v), want the sample's 1000", len(recs), err)
	}
	for _, r := range recs {
		if r.Header(emitter.HeaderLine) == "501" {
			t.Errorf("line 501 was written")
		}
	}
}
