package codec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// refFrame is what the reference decoder says about a line.
type refFrame struct {
	ts     int64
	uid    string
	reason string // "" when valid, else the Reason the decoder must give
}

// refDecode is the contract of the default FrameConfig, written with encoding/json.
func refDecode(line []byte) refFrame { return refDecodeWith(line, FrameConfig{}) }

// refDecodeWith is the contract written with encoding/json (and math/big for exact integer
// arithmetic), exactly as the package doc states it. Every test and the fuzzers compare
// Decode with it.
func refDecodeWith(line []byte, c FrameConfig) refFrame {
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
	uidPath, tsPath := c.UIDField, c.TSField
	if uidPath == "" {
		uidPath = "uid"
	}
	if tsPath == "" {
		tsPath = "ts"
	}
	var f refFrame
	u, ok := refLookup(m, uidPath)
	if !ok {
		return refFrame{reason: "no_uid"}
	}
	switch u := u.(type) {
	case string:
		if u == "" {
			return refFrame{reason: "bad_uid"}
		}
		f.uid = u
	case json.Number:
		if strings.ContainsAny(string(u), ".eE") {
			return refFrame{reason: "bad_uid"}
		}
		n, ok := new(big.Int).SetString(string(u), 10)
		if !ok {
			panic("json.Number integer " + string(u) + " does not parse")
		}
		f.uid = n.String()
	default:
		return refFrame{reason: "bad_uid"}
	}

	var scale int64 = 1
	switch c.TSUnit {
	case 0, time.Second:
	case time.Millisecond:
		scale = 1e3
	case time.Microsecond:
		scale = 1e6
	case time.Nanosecond:
		scale = 1e9
	default:
		panic("ts unit " + c.TSUnit.String())
	}
	t, ok := refLookup(m, tsPath)
	if !ok {
		return refFrame{reason: "no_ts"}
	}
	var text string
	switch t := t.(type) {
	case json.Number:
		text = string(t)
		if strings.ContainsAny(text, ".eE") {
			x, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return refFrame{reason: "ts_range"}
			}
			x = math.Trunc(x / float64(scale))
			if x < float64(MinTS) || x > float64(MaxTS) || math.IsNaN(x) {
				return refFrame{reason: "ts_range"}
			}
			f.ts = int64(x)
			return f
		}
	case string:
		if t == "" || strings.Trim(t, "0123456789") != "" {
			return refFrame{reason: "bad_ts"}
		}
		text = t
	default:
		return refFrame{reason: "bad_ts"}
	}
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		panic("integer ts " + text + " does not parse")
	}
	n.Quo(n, big.NewInt(scale)) // truncates toward zero
	if !n.IsInt64() || n.Int64() < MinTS || n.Int64() > MaxTS {
		return refFrame{reason: "ts_range"}
	}
	f.ts = n.Int64()
	return f
}

// refLookup follows a field path through the decoded objects.
func refLookup(m map[string]any, path string) (any, bool) {
	keys, err := ParseField(path)
	if err != nil {
		panic(err)
	}
	var v any = m
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// checkAgainstRef decodes line with d and reports any disagreement with the
// reference: on validity, reason, ts or uid.
func checkAgainstRef(t testing.TB, d *FrameDecoder, line []byte) {
	t.Helper()
	checkAgainstRefWith(t, d, line, FrameConfig{})
}

// checkAgainstRefWith is checkAgainstRef for a decoder configured with c.
func checkAgainstRefWith(t testing.TB, d *FrameDecoder, line []byte, c FrameConfig) {
	t.Helper()
	want := refDecodeWith(line, c)
	got, err := d.Decode(line)
	if r := Reason(err); r != want.reason {
		t.Fatalf("Decode(%q) with %+v: reason %q (err %v), want %q", line, c, r, err, want.reason)
	}
	if err != nil {
		return
	}
	if got.TS != want.ts || string(got.UID) != want.uid {
		t.Fatalf("Decode(%q) with %+v = {TS:%d UID:%q}, want {TS:%d UID:%q}", line, c, got.TS, got.UID, want.ts, want.uid)
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
