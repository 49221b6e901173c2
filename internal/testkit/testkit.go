// Package testkit is what kuniq's tests and benchmarks share: the repository's challenge
// sample, generated frames in memory or in a file, and the lines of a stream. Every helper
// takes a testing.TB and fails it on error, so a test reads as what it checks.
//
// Package gen's own tests cannot use it (testkit imports gen); they test WriteTo itself.
package testkit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuniq/kuniq/gen"
)

// Root returns the repository root: the nearest directory at or above the working directory
// (a test's package directory) that holds go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testkit: no go.mod above the working directory")
		}
		dir = parent
	}
}

// SamplePath is the path of testdata/challenge-sample-1000.jsonl: 1,000 real lines of the
// challenge's 1M-frame sample (docs/design.md, "Test data").
func SamplePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(Root(t), "testdata", "challenge-sample-1000.jsonl")
}

// Sample returns the bytes of the challenge sample.
func Sample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(SamplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SampleLines returns the challenge sample's lines, without their newlines.
func SampleLines(t testing.TB) [][]byte {
	t.Helper()
	ls := Lines(Sample(t))
	if len(ls) != 1000 {
		t.Fatalf("testkit: the sample has %d lines, want 1000", len(ls))
	}
	return ls
}

// Lines splits a stream into its non-blank lines (blank: only spaces, tabs and "\r"), without
// their "\n". The lines alias b.
func Lines(b []byte) [][]byte {
	var out [][]byte
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if len(bytes.Trim(line, " \t\r")) > 0 {
			out = append(out, line)
		}
	}
	return out
}

// Generate returns the frames of cfg, as `kuniq gen` writes them, and the generator that wrote
// them (for Truth and Stats).
func Generate(t testing.TB, cfg gen.Config) ([]byte, *gen.Generator) {
	t.Helper()
	g, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.Grow(g.Config().Count * (g.Config().FrameBytes + 64)) // one allocation
	if _, err := g.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), g
}

// GenerateFile writes the frames of cfg to dir/name and returns its path and the generator.
func GenerateFile(t testing.TB, dir, name string, cfg gen.Config) (string, *gen.Generator) {
	t.Helper()
	b, g := Generate(t, cfg)
	return WriteFile(t, dir, name, b), g
}

// WriteFile writes data to dir/name and returns its path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
