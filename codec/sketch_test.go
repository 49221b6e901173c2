package codec

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuniq/kuniq/sketch"
)

func init() {
	// Other test files of this package may declare -update too; share it.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const sketchGoldenDir = "testdata/sketch"

// sketchGolden describes one golden file: the sketch of users
// goldenUID(0..Users-1) at Precision, and the estimate it decoded to when
// written.
type sketchGolden struct {
	File      string `json:"file"`
	Precision uint8  `json:"precision"`
	Users     int    `json:"users"`
	Sparse    bool   `json:"sparse"`
	Estimate  uint64 `json:"estimate"`
}

var sketchGoldenCases = []sketchGolden{
	{File: "sparse-p14.bin", Precision: 14, Users: 1000, Sparse: true},
	{File: "dense-p14.bin", Precision: 14, Users: 50000, Sparse: false},
	{File: "sparse-p16.bin", Precision: 16, Users: 5000, Sparse: true},
	{File: "dense-p16.bin", Precision: 16, Users: 100000, Sparse: false},
}

// goldenUID is a fixed, challenge-shaped uid (19 hex digits) for user i.
func goldenUID(i int) []byte {
	return fmt.Appendf(nil, "%019x", (uint64(i)*0x9e3779b97f4a7c15)>>12)
}

func buildGolden(t testing.TB, g sketchGolden) *sketch.Sketch {
	t.Helper()
	s, err := sketch.New(g.Precision)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g.Users {
		s.Insert(goldenUID(i))
	}
	return s
}

// TestSketchGolden checks that bytes written by earlier versions still
// decode to the estimate recorded with them, and that today's code still
// builds that estimate from the same users. Rewrite with -update.
func TestSketchGolden(t *testing.T) {
	index := filepath.Join(sketchGoldenDir, "golden.json")
	if updateGolden() {
		var out []sketchGolden
		if err := os.MkdirAll(sketchGoldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, g := range sketchGoldenCases {
			s := buildGolden(t, g)
			raw, err := AppendSketch(nil, s)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sketchGoldenDir, g.File), raw, 0o644); err != nil {
				t.Fatal(err)
			}
			g.Estimate, g.Sparse = s.Estimate(), s.Sparse()
			out = append(out, g)
		}
		js, _ := json.MarshalIndent(out, "", "  ")
		if err := os.WriteFile(index, append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	js, err := os.ReadFile(index)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	var golden []sketchGolden
	if err := json.Unmarshal(js, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden) == 0 {
		t.Fatal("golden.json lists no files")
	}
	for _, g := range golden {
		t.Run(g.File, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(sketchGoldenDir, g.File))
			if err != nil {
				t.Fatal(err)
			}
			s, err := DecodeSketch(raw)
			if err != nil {
				t.Fatalf("Decode(%s): %v", g.File, err)
			}
			if got := s.Estimate(); got != g.Estimate {
				t.Errorf("Decode(%s).Estimate() = %d, want recorded %d", g.File, got, g.Estimate)
			}
			if s.Precision() != g.Precision || s.Sparse() != g.Sparse {
				t.Errorf("Decode(%s): precision %d sparse %v, want %d %v", g.File, s.Precision(), s.Sparse(), g.Precision, g.Sparse)
			}
			if got := buildGolden(t, g).Estimate(); got != g.Estimate {
				t.Errorf("%d users at p=%d now estimate %d, recorded %d", g.Users, g.Precision, got, g.Estimate)
			}
		})
	}
}

func TestSketchRoundTrip(t *testing.T) {
	for _, g := range sketchGoldenCases {
		s := buildGolden(t, g)
		raw, err := AppendSketch(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeSketch(raw)
		if err != nil {
			t.Fatalf("%s: DecodeSketch: %v", g.File, err)
		}
		if got.Estimate() != s.Estimate() {
			t.Errorf("%s: round trip estimate %d, want %d", g.File, got.Estimate(), s.Estimate())
		}
	}
}

func TestSketchEncodeRejectsNil(t *testing.T) {
	if b, err := AppendSketch([]byte("x"), nil); !errors.Is(err, ErrNilSketch) || b != nil {
		t.Errorf("AppendSketch(nil) = %q, %v; want nil, ErrNilSketch", b, err)
	}
}

func TestSketchDecodeRejects(t *testing.T) {
	s, _ := sketch.New(14)
	s.Insert([]byte("abc"))
	good, _ := AppendSketch(nil, s)
	with := func(i int, b byte) []byte {
		c := append([]byte(nil), good...)
		c[i] = b
		return c
	}
	for _, tc := range []struct {
		name string
		data []byte
		also error
	}{
		{"empty", nil, nil},
		{"short", good[:3], nil},
		{"magic", with(0, 'x'), nil},
		{"version", with(2, 2), nil},
		{"precision range", with(3, 19), nil},
		{"precision mismatch", with(3, 12), nil},
		{"no payload", good[:4], sketch.ErrEncoding},
		{"truncated payload", good[:len(good)-1], sketch.ErrEncoding},
		{"huge tmp set", append(good[:8:8], 0xff, 0xff, 0xff, 0xff), sketch.ErrEncoding},
	} {
		v, err := DecodeSketch(tc.data)
		if !errors.Is(err, ErrSketchFormat) || (tc.also != nil && !errors.Is(err, tc.also)) || v != nil {
			t.Errorf("%s: Decode = %v, %v; want nil and an error wrapping ErrSketchFormat (and %v)", tc.name, v, err, tc.also)
		}
	}
}

func FuzzDecodeSketch(f *testing.F) {
	for _, g := range sketchGoldenCases {
		if raw, err := os.ReadFile(filepath.Join(sketchGoldenDir, g.File)); err == nil {
			f.Add(raw)
		}
	}
	s, _ := sketch.New(4)
	for i := range 30 {
		s.Insert(goldenUID(i))
	}
	small, _ := AppendSketch(nil, s)
	f.Add(small)
	f.Add([]byte("ks\x01\x0e"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSketch(data)
		if err != nil {
			if !errors.Is(err, ErrSketchFormat) {
				t.Fatalf("Decode error %v does not wrap ErrSketchFormat", err)
			}
			return
		}
		est := s.Estimate()
		raw, err := AppendSketch(nil, s)
		if err != nil {
			t.Fatalf("Encode of a decoded sketch: %v", err)
		}
		again, err := DecodeSketch(raw)
		if err != nil {
			t.Fatalf("Decode of our own encoding: %v", err)
		}
		if got := again.Estimate(); got != est {
			t.Fatalf("estimate changed over a round trip: %d, want %d", got, est)
		}
	})
}
