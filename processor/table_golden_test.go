package processor

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// The table's rows are kuniq's only durable state (the changelog and the LevelDB copy hold these
// bytes), so an upgrade must read the rows the previous release wrote. testdata/table-v1 holds
// rows of format version 1 with what they decode to; every later release must decode them the
// same (a new layout takes a new version byte and keeps reading this one). The files are
// written only with -update, and only while version 1 is what this release writes.

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

const tableGoldenDir = "testdata/table-v1"

// goldenRow is what a golden row decodes to.
type goldenRow struct {
	File string `json:"file"`
	Kind string `json:"kind"` // window or control
	// window rows
	Frames     int64           `json:"frames,omitempty"`
	LateFrames int64           `json:"late_frames,omitempty"`
	Final      bool            `json:"final,omitempty"`
	Revision   int             `json:"revision,omitempty"`
	EarlyAt    int64           `json:"early_at,omitempty"`
	Upto       map[int32]int64 `json:"upto,omitempty"`
	Precision  uint8           `json:"precision,omitempty"`
	Estimate   uint64          `json:"estimate,omitempty"`
	// control rows
	Watermark int64                     `json:"watermark,omitempty"`
	Inputs    map[int32]window.Progress `json:"inputs,omitempty"`
	Open      []string                  `json:"open,omitempty"`
	Expiring  []string                  `json:"expiring,omitempty"`
}

// goldenRows builds the rows the golden files hold: a sparse and a dense window, a corrected
// final, and a control row.
func goldenRows(t *testing.T) map[string]any {
	t.Helper()
	window0 := func(users int, precision uint8) *sketch.Sketch {
		s, err := sketch.New(precision)
		if err != nil {
			t.Fatal(err)
		}
		for i := range users {
			s.InsertHash(sketch.Hash(fmt.Appendf(nil, "user-%07d", i)))
		}
		return s
	}
	return map[string]any{
		"window-open-sparse.bin": &WindowState{Count: engine.Count{Sketch: window0(500, 14), Frames: 1234},
			EarlyAt: 1_700_000_000_123, Upto: map[int32]int64{0: 20, 1: 41}},
		"window-final-dense-p14.bin": &WindowState{Count: engine.Count{Sketch: window0(40_000, 14), Frames: 120_000, Final: true},
			Upto: map[int32]int64{0: 200_000, 1: 199_998, 2: 200_001, 3: 150_000}},
		"window-corrected-p16.bin": &WindowState{Count: engine.Count{Sketch: window0(3000, 16), Frames: 9000, LateFrames: 7, Final: true, Revision: 2},
			Upto: map[int32]int64{2: 77}},
		"control.bin": &Control{Watermark: 1_468_244_395,
			Inputs:   map[int32]window.Progress{0: {Watermark: 1_468_244_395, MaxTS: 1_468_244_400}, 1: {Watermark: 1_468_244_399, MaxTS: 1_468_244_404, Idle: true}},
			Open:     []window.Key{{Granularity: window.Minute, Start: 1_468_244_400}, {Granularity: window.Hour, Start: 1_468_242_000}},
			Expiring: []window.Key{{Granularity: window.Minute, Start: 1_468_244_340}}},
	}
}

func describe(t *testing.T, file string, v any) goldenRow {
	t.Helper()
	switch s := v.(type) {
	case *WindowState:
		return goldenRow{File: file, Kind: "window", Frames: s.Frames, LateFrames: s.LateFrames, Final: s.Final, Revision: s.Revision,
			EarlyAt: s.EarlyAt, Upto: s.Upto, Precision: s.Sketch.Precision(), Estimate: s.Sketch.Estimate()}
	case *Control:
		keys := func(ks []window.Key) []string {
			var out []string
			for _, k := range ks {
				out = append(out, k.String())
			}
			return out
		}
		return goldenRow{File: file, Kind: "control", Watermark: s.Watermark, Inputs: s.Inputs, Open: keys(s.Open), Expiring: keys(s.Expiring)}
	}
	t.Fatalf("%s: unexpected %T", file, v)
	return goldenRow{}
}

func TestTableGoldenV1(t *testing.T) {
	index := filepath.Join(tableGoldenDir, "rows.json")
	if updateGolden() {
		if err := os.MkdirAll(tableGoldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		var rows []goldenRow
		for file, v := range goldenRows(t) {
			b, err := TableCodec{}.Encode(v)
			if err != nil {
				t.Fatal(err)
			}
			if b[2] != 1 {
				t.Fatalf("this release writes version %d: the version-1 golden rows are not to be rewritten", b[2])
			}
			if err := os.WriteFile(filepath.Join(tableGoldenDir, file), b, 0o644); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, describe(t, file, v))
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].File < rows[j].File })
		b, _ := json.MarshalIndent(rows, "", "  ")
		if err := os.WriteFile(index, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(index)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	var rows []goldenRow
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%s lists %d rows, want 4", index, len(rows))
	}
	for _, want := range rows {
		t.Run(want.File, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(tableGoldenDir, want.File))
			if err != nil {
				t.Fatal(err)
			}
			if raw[0] != 'K' || raw[2] != 1 {
				t.Fatalf("header %q: not a version-1 row", raw[:3])
			}
			v, err := TableCodec{}.Decode(raw)
			if err != nil {
				t.Fatalf("a version-1 row no longer decodes: %v", err)
			}
			if got := describe(t, want.File, v); !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %+v\nwant    %+v", got, want)
			}
			// What this release writes from it decodes to the same again.
			again, err := TableCodec{}.Encode(v)
			if err != nil {
				t.Fatal(err)
			}
			v2, err := TableCodec{}.Decode(again)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(t, want.File, v2); !reflect.DeepEqual(got, want) {
				t.Errorf("re-encoded and decoded %+v\nwant %+v", got, want)
			}
		})
	}
}
