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
			r, closeIn, err := openInputs(tt.files)
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
