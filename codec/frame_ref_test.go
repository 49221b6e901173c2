package codec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"
)

// refFrame is what the reference decoder says about a line.
type refFrame struct {
	ts     int64
	uid    string
	reason string // "" when valid, else the Reason the decoder must give
}

// refDecode is the contract written with encoding/json, exactly as the
// package doc states it. Every test and the fuzzer compare Decode with it.
func refDecode(line []byte) refFrame {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return refFrame{reason: "syntax"}
	}
	for _, c := range line[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return refFrame{reason: "syntax"}
		}
	}
	if m == nil { // a root null decodes into a nil map without error
		return refFrame{reason: "syntax"}
	}
	var f refFrame
	u, ok := m["uid"]
	if !ok {
		return refFrame{reason: "no_uid"}
	}
	if f.uid, ok = u.(string); !ok || f.uid == "" {
		return refFrame{reason: "bad_uid"}
	}
	t, ok := m["ts"]
	if !ok {
		return refFrame{reason: "no_ts"}
	}
	n, ok := t.(json.Number)
	if !ok {
		return refFrame{reason: "bad_ts"}
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if i < MinTS || i > MaxTS {
			return refFrame{reason: "ts_range"}
		}
		f.ts = i
		return f
	}
	x, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return refFrame{reason: "ts_range"}
	}
	x = math.Trunc(x)
	if x < float64(MinTS) || x > float64(MaxTS) || math.IsNaN(x) {
		return refFrame{reason: "ts_range"}
	}
	f.ts = int64(x)
	return f
}

// checkAgainstRef decodes line with d and reports any disagreement with the
// reference: on validity, reason, ts or uid.
func checkAgainstRef(t testing.TB, d *FrameDecoder, line []byte) {
	t.Helper()
	want := refDecode(line)
	got, err := d.Decode(line)
	if r := Reason(err); r != want.reason {
		t.Fatalf("Decode(%q): reason %q (err %v), want %q", line, r, err, want.reason)
	}
	if err != nil {
		return
	}
	if got.TS != want.ts || string(got.UID) != want.uid {
		t.Fatalf("Decode(%q) = {TS:%d UID:%q}, want {TS:%d UID:%q}", line, got.TS, got.UID, want.ts, want.uid)
	}
}

// sampleLines reads the repo's 1,000 challenge frames, without line ends.
func sampleLines(tb testing.TB) [][]byte {
	tb.Helper()
	f, err := os.Open("../testdata/challenge-sample-1000.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(lines) == 0 {
		tb.Fatal("no sample lines")
	}
	return lines
}
