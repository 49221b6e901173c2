package gen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

// root is what encoding/json sees in one line: the test suite's reference
// reading of a frame, independent of the generator's code.
type root struct {
	valid     bool     // json.Valid
	keys      []string // root keys in order, duplicates kept
	uid       any      // the root "uid" value (json.Number for numbers), if any
	ts        any      // the root "ts" value
	nestedUID bool     // a "uid" key below the root
	nestedTS  bool     // a "ts" key below the root
}

// countable reports whether kuniq must count the line: exactly one root
// uid, a string, and exactly one root ts, an integer.
func (r root) countable() (uid string, ts int64, ok bool) {
	if !r.valid || count(r.keys, "uid") != 1 || count(r.keys, "ts") != 1 {
		return "", 0, false
	}
	u, isStr := r.uid.(string)
	n, isNum := r.ts.(json.Number)
	if !isStr || !isNum {
		return "", 0, false
	}
	ts, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return "", 0, false
	}
	return u, ts, true
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func inspect(t testing.TB, line []byte) root {
	t.Helper()
	r := root{valid: json.Valid(line)}
	if !r.valid {
		return r
	}
	// Walk the root object by hand so duplicate keys stay visible; each
	// value comes back raw.
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return root{} // valid JSON but not an object
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("valid line, bad key: %v", err)
		}
		k := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("valid line, bad value: %v", err)
		}
		r.keys = append(r.keys, k)
		switch k {
		case "uid", "ts":
			var v any
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&v); err != nil {
				t.Fatalf("valid line, bad %s value: %v", k, err)
			}
			if k == "uid" {
				r.uid = v
			} else {
				r.ts = v
			}
		default:
			// No vocabulary string holds `uid":` or `ts":`, so in a nested
			// value they can only be keys.
			r.nestedUID = r.nestedUID || bytes.Contains(raw, []byte(`"uid":`))
			r.nestedTS = r.nestedTS || bytes.Contains(raw, []byte(`"ts":`))
		}
	}
	return r
}

// lines splits WriteTo's output, checking every line ends with a newline.
func lines(t testing.TB, out []byte) [][]byte {
	t.Helper()
	var ls [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		ls = append(ls, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scan output: %v", err)
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		t.Fatalf("output does not end with a newline")
	}
	return ls
}

// run generates cfg and returns its lines, one FrameInfo per line, and the
// generator.
func run(t testing.TB, cfg Config) ([][]byte, []FrameInfo, *Generator) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	var infos []FrameInfo
	g.OnFrame(func(fi FrameInfo) { infos = append(infos, fi) })
	var out bytes.Buffer
	n, err := g.WriteTo(&out)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(out.Len()) || n != g.Stats().Bytes {
		t.Fatalf("WriteTo = %d, wrote %d, Stats().Bytes = %d; want all equal", n, out.Len(), g.Stats().Bytes)
	}
	ls := lines(t, out.Bytes())
	if len(ls) != cfg.Count || len(infos) != cfg.Count {
		t.Fatalf("got %d lines and %d infos, want %d", len(ls), len(infos), cfg.Count)
	}
	return ls, infos, g
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		wantOK    bool
		wantUID   string
		wantTS    int64
		nestedUID bool
	}{
		{"plain", `{"a":1,"uid":"x","ts":5}`, true, "x", 5, false},
		{"decoy first", `{"a":{"uid":"y","b":[{"ts":1}]},"ts":7,"uid":"x"}`, true, "x", 7, true},
		{"uid in array only", `{"a":[{"uid":"y"}],"ts":7}`, false, "", 0, true},
		{"duplicate root uid", `{"uid":"x","uid":"y","ts":1}`, false, "", 0, false},
		{"ts float", `{"uid":"x","ts":1.5}`, false, "", 0, false},
		{"ts string", `{"uid":"x","ts":"1"}`, false, "", 0, false},
		{"uid number", `{"uid":1,"ts":1}`, false, "", 0, false},
		{"truncated", `{"uid":"x","ts":1`, false, "", 0, false},
		{"not an object", `[1]`, false, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := inspect(t, []byte(tt.line))
			uid, ts, ok := r.countable()
			if ok != tt.wantOK || uid != tt.wantUID || ts != tt.wantTS || r.nestedUID != tt.nestedUID {
				t.Errorf("inspect(%s) = uid %q ts %d ok %v nestedUID %v, want %q %d %v %v",
					tt.line, uid, ts, ok, r.nestedUID, tt.wantUID, tt.wantTS, tt.wantOK, tt.nestedUID)
			}
		})
	}
}
