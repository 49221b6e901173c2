package testkit

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kuniq/kuniq/gen"
)

func TestSampleLines(t *testing.T) {
	ls := SampleLines(t)
	for i, l := range ls {
		if len(l) < 1000 || l[0] != '{' || l[len(l)-1] != '}' {
			t.Fatalf("sample line %d: %d bytes starting %q, want a ~2 KB JSON object", i+1, len(l), l[:min(len(l), 10)])
		}
	}
	if got := bytes.Count(Sample(t), []byte("\n")); got != len(ls) {
		t.Errorf("sample: %d newlines, %d lines", got, len(ls))
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"blank lines skipped", "a\n\n \t\r\nb\n", []string{"a", "b"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"inner spaces kept", " a b \n", []string{" a b "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range Lines([]byte(tt.in)) {
				got = append(got, string(l))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Lines(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestGenerateIsGenWriteTo(t *testing.T) {
	cfg := gen.Config{Count: 500, Seed: 3, FrameBytes: 300}
	b, g := Generate(t, cfg)
	if n := len(Lines(b)); n != 500 || g.Stats().Lines != 500 || int64(len(b)) != g.Stats().Bytes {
		t.Errorf("Generate: %d lines, %d bytes; generator says %d lines, %d bytes", n, len(b), g.Stats().Lines, g.Stats().Bytes)
	}
	path, _ := GenerateFile(t, t.TempDir(), "f.jsonl", cfg)
	if got := filepath.Base(path); got != "f.jsonl" {
		t.Errorf("GenerateFile path %q", path)
	}
	again, _ := Generate(t, cfg)
	if !bytes.Equal(again, b) {
		t.Errorf("Generate twice with one seed: different bytes")
	}
}
