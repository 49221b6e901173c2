package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/kuniq/kuniq/window"
)

func TestResultJSONContract(t *testing.T) {
	r := NewResult(window.Key{Granularity: window.Minute, Start: 1468244340}, 41234, 60123)
	r.Final, r.Precision, r.StdError = true, 14, 0.008125
	got := string(r.AppendJSON(nil))
	// The example record of README.md and docs/design.md, byte for byte.
	want := `{"granularity":"minute","start":1468244340,"end":1468244400,"start_time":"2016-07-11T13:39:00Z","uniques":41234,"frames":60123,"final":true,"revision":0,"late_frames":0,"closed":false,"precision":14,"std_error":0.008125}`
	if got != want {
		t.Fatalf("AppendJSON =\n%s\nwant\n%s", got, want)
	}
	// encoding/json agrees with the hand-written encoder.
	std, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(std) != want {
		t.Errorf("json.Marshal =\n%s\nwant\n%s", std, want)
	}
}

func TestResultRoundTrip(t *testing.T) {
	for _, k := range []window.Key{
		{Granularity: window.Minute, Start: 1468244340},
		{Granularity: window.Week, Start: window.Week.Start(1468244384)},
		{Granularity: window.Month, Start: window.Month.Start(1456790400)},
		{Granularity: window.Year, Start: window.Year.Start(1468244384)},
	} {
		r := NewResult(k, 7, 9)
		r.Revision, r.LateFrames, r.Final, r.Closed, r.Precision, r.StdError = 2, 3, true, true, 14, 0.0001221
		b, err := ResultCodec{}.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ResultCodec{}.Decode(b)
		if err != nil {
			t.Fatalf("Decode(%s): %v", b, err)
		}
		if v.(Result) != r {
			t.Errorf("round trip of %s = %+v, want %+v", k, v, r)
		}
	}
}

// TestResultGolden pins the records of every kind (early, final, correction, closed) as they
// are written, and checks that the records of kuniq versions before "closed", "precision"
// and "std_error" still parse: fields are only ever added. Rewrite the file with
// `go test ./codec -run ResultGolden -update` after a deliberate addition.
func TestResultGolden(t *testing.T) {
	const path = "testdata/results.golden.jsonl"
	k := window.Key{Granularity: window.Minute, Start: 1468244340}
	early := NewResult(k, 120, 130)
	early.Precision, early.StdError = 14, 0.0001221
	final := NewResult(k, 41234, 60123)
	final.Final, final.Precision, final.StdError = true, 14, 0.008125
	correction := final
	correction.Uniques, correction.Frames, correction.Revision, correction.LateFrames = 41240, 60130, 1, 7
	closed := correction
	closed.Closed = true
	day := NewResult(window.Key{Granularity: window.Day, Start: 1468195200}, 99993, 1000000)
	day.Final, day.Closed, day.Precision, day.StdError = true, true, 16, 0.004063
	var got []byte
	for _, r := range []Result{early, final, correction, closed, day} {
		got = append(r.AppendJSON(got), '\n')
	}
	if updateGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("records =\n%s\nwant (%s)\n%s", got, path, want)
	}
	// A record of an older kuniq, before the added fields: parses, the new ones zero.
	old := `{"granularity":"minute","start":1468244340,"end":1468244400,"start_time":"2016-07-11T13:39:00Z","uniques":41234,"frames":60123,"final":true,"revision":0,"late_frames":0}`
	r, err := ParseResult([]byte(old))
	if err != nil {
		t.Fatalf("ParseResult(old record): %v", err)
	}
	if want := (Result{Granularity: window.Minute, Start: 1468244340, End: 1468244400, StartTime: "2016-07-11T13:39:00Z",
		Uniques: 41234, Frames: 60123, Final: true}); r != want {
		t.Errorf("old record = %+v, want %+v", r, want)
	}
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, 0.008125, 0.0001221, 1.5e-7, 3, 1e21, -0.25} {
		std, _ := json.Marshal(f)
		if got := string(AppendFloat(nil, f)); got != string(std) {
			t.Errorf("AppendFloat(%g) = %s, want %s (encoding/json)", f, got, std)
		}
	}
}

func TestParseResultRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":        `{"granularity":`,
		"bad granularity": `{"granularity":"fortnight","start":0,"end":60}`,
		"not a start":     `{"granularity":"minute","start":1468244341,"end":1468244401}`,
		"wrong end":       `{"granularity":"hour","start":1468242000,"end":1468242060}`,
	} {
		if _, err := ParseResult([]byte(in)); !errors.Is(err, ErrResult) {
			t.Errorf("%s: ParseResult(%s) err = %v, want ErrResult", name, in, err)
		}
	}
}

func TestBytesCodec(t *testing.T) {
	b, err := Bytes{}.Encode("abc")
	if err != nil || string(b) != "abc" {
		t.Fatalf("Encode(string) = %q, %v", b, err)
	}
	v, _ := Bytes{}.Decode([]byte("x"))
	if string(v.([]byte)) != "x" {
		t.Errorf("Decode = %v", v)
	}
	if _, err := (Bytes{}).Encode(3); err == nil {
		t.Error("Encode(int) succeeded")
	}
}

// FuzzParseResult: any bytes are rejected or give a record that names a real window and
// encodes back to JSON that parses to the same record.
func FuzzParseResult(f *testing.F) {
	r := NewResult(window.Key{Granularity: window.Minute, Start: 1468244340}, 41234, 60123)
	f.Add(r.AppendJSON(nil))
	f.Add([]byte(`{"granularity":"week","start":1467590400,"end":1468195200}`))
	f.Add([]byte(`{"granularity":"year","start":-62135596800}`))
	f.Add([]byte(`{"granularity":"hour","start":1468242000,"end":1468245600,"closed":true,"precision":16,"std_error":1e-9}`))
	if b, err := os.ReadFile("testdata/results.golden.jsonl"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseResult(b)
		if err != nil {
			return
		}
		again, err := ParseResult(got.AppendJSON(nil))
		if err != nil || again != got {
			t.Fatalf("round trip of %+v = %+v, %v", got, again, err)
		}
	})
}

// FuzzDecodeDeadLetter: any bytes are rejected or decode without panicking.
func FuzzDecodeDeadLetter(f *testing.F) {
	f.Add(DeadLetter{Reason: "late", Frame: "{}"}.AppendJSON(nil))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = DeadLetterCodec{}.Decode(b) })
}
