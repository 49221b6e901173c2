package gen

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/bits"
	"os"
	"slices"
	"sort"
	"testing"
	"time"
)

// dirty enables every kind of bad data at once.
func dirty(count int, seed uint64) Config {
	return Config{
		Count: count, Rate: 50, Pool: 1000, Seed: seed,
		DisorderPct: 10, LatePct: 5, BitFlipPct: 5, MalformedPct: 5,
		JumpEvery: 1000,
	}
}

// checkLine checks one line against its FrameInfo with encoding/json.
func checkLine(t *testing.T, g *Generator, line []byte, fi FrameInfo) root {
	t.Helper()
	if bytes.IndexByte(line, '\n') >= 0 {
		t.Fatalf("line %d holds a raw newline", fi.Index)
	}
	if len(line) != fi.Bytes {
		t.Errorf("line %d: %d bytes, FrameInfo.Bytes = %d", fi.Index, len(line), fi.Bytes)
	}
	r := inspect(t, line)
	uid, ts, ok := r.countable()
	if fi.Kind == Malformed {
		if ok {
			t.Errorf("malformed line %d has a valid root uid %q and ts %d: %.120s", fi.Index, uid, ts, line)
		}
		return r
	}
	if !ok {
		t.Fatalf("%v line %d is not a valid frame: %.200s", fi.Kind, fi.Index, line)
	}
	if want := g.UID(fi.User); uid != want || ts != fi.TS {
		t.Errorf("line %d: root uid %q ts %d, want %q %d", fi.Index, uid, ts, want, fi.TS)
	}
	if len(uid) != 19 || bytes.Trim([]byte(uid), "0123456789abcdef") != nil && len(bytes.Trim([]byte(uid), "0123456789abcdef")) != 0 {
		t.Errorf("line %d: uid %q is not 19 lowercase hex chars", fi.Index, uid)
	}
	// The decoder kuniq's contract cites: a struct with uid and ts.
	var f struct {
		UID string `json:"uid"`
		TS  int64  `json:"ts"`
	}
	if err := json.Unmarshal(line, &f); err != nil || f.UID != uid || f.TS != ts {
		t.Errorf("line %d: Unmarshal = %+v, %v; want {%s %d}, nil", fi.Index, f, err, uid, ts)
	}
	return r
}

func TestEveryFrameParses(t *testing.T) {
	ls, infos, g := run(t, dirty(3000, 11))
	for i, line := range ls {
		checkLine(t, g, line, infos[i])
	}
	st := g.Stats()
	for k := range numKinds {
		if st.Kinds[k] == 0 {
			t.Errorf("Stats().Kinds[%v] = 0 over 3000 dirty frames, want > 0", k)
		}
	}
}

// shape measures lines as the challenge sample is described: median
// distinct root keys, share of frames with nested uid/ts keys, and share
// where a naive scan for `"uid":` lands on a decoy.
func shape(t *testing.T, ls [][]byte) (medianKeys int, decoyRate, naiveMiss float64) {
	t.Helper()
	words := map[string]bool{"uid": true, "ts": true}
	for _, w := range lorem {
		words[w] = true
	}
	var decoys, miss int
	distinct := make([]int, 0, len(ls))
	for i, line := range ls {
		r := inspect(t, line)
		uid, _, ok := r.countable()
		if !ok {
			t.Fatalf("line %d is not a valid frame", i)
		}
		set := map[string]bool{}
		for _, k := range r.keys {
			if !words[k] {
				t.Errorf("line %d: root key %q not from the vocabulary", i, k)
			}
			set[k] = true
		}
		distinct = append(distinct, len(set))
		if r.nestedUID || r.nestedTS {
			decoys++
		}
		if at := bytes.Index(line, uidKey); !bytes.HasPrefix(line[at+len(uidKey):], []byte(`"`+uid+`"`)) {
			miss++
		}
		if pos := slices.Index(r.keys, "uid"); pos > 4 {
			t.Errorf("line %d: root uid at key %d, want within the first 5 (as in the sample)", i, pos)
		}
	}
	sort.Ints(distinct)
	n := float64(len(ls))
	return distinct[len(ls)/2], float64(decoys) / n, float64(miss) / n
}

func TestShape(t *testing.T) {
	sample, err := os.ReadFile("../testdata/challenge-sample-1000.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	ls, infos, g := run(t, Config{Count: 3000, Seed: 5})
	fb := g.Config().FrameBytes
	for i, line := range ls {
		checkLine(t, g, line, infos[i])
		if lo, hi := fb*85/100, fb*115/100; len(line) < lo || len(line) > hi {
			t.Errorf("line %d: %d bytes, want within [%d, %d]", i, len(line), lo, hi)
		}
	}
	// The same bounds hold for the real sample, so they test likeness.
	for _, c := range []struct {
		name  string
		lines [][]byte
	}{{"sample", lines(t, sample)}, {"generated", ls}} {
		keys, decoy, miss := shape(t, c.lines)
		t.Logf("%s: median distinct root keys %d, decoy rate %.3f, naive-scan miss %.3f", c.name, keys, decoy, miss)
		if keys < 18 || keys > 28 {
			t.Errorf("%s: median distinct root keys = %d, want in [18, 28]", c.name, keys)
		}
		if decoy < 0.60 || decoy > 0.73 {
			t.Errorf("%s: decoy rate = %.3f, want ~2/3", c.name, decoy)
		}
		if miss < 0.12 || miss > 0.22 {
			t.Errorf("%s: naive-scan miss rate = %.3f, want ~0.16", c.name, miss)
		}
	}
}

func TestKinds(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"disorder 1s", Config{Count: 2000, Seed: 1, Rate: 10, DisorderPct: 50, DisorderMax: time.Second}},
		{"disorder 5s", Config{Count: 2000, Seed: 2, Rate: 10, DisorderPct: 50}},
		{"disorder 30s late 10m", Config{Count: 2000, Seed: 3, Rate: 10, DisorderPct: 30, DisorderMax: 30 * time.Second, LatePct: 20, LateBy: 10 * time.Minute}},
		{"all with jumps", Config{Count: 3000, Seed: 4, Rate: 5, DisorderPct: 20, LatePct: 20, BitFlipPct: 20, MalformedPct: 10, JumpEvery: 700}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, infos, g := run(t, tt.cfg)
			cfg := g.Config()
			dmax := int64(cfg.DisorderMax / time.Second)
			late := int64(cfg.LateBy / time.Second)
			jump := int64(cfg.JumpBy / time.Second)
			var newest, preJump int64 = -1 << 62, -1 << 62
			sinceJump := jumpGuard
			flipIn, flipOut := 0, 0
			for i, fi := range infos {
				if i > 0 {
					step := fi.Clock - infos[i-1].Clock
					if cfg.JumpEvery > 0 && i%cfg.JumpEvery == 0 {
						step -= jump
						preJump, sinceJump = newest, 0
					}
					if step != 0 && step != 1 {
						t.Fatalf("frame %d: clock moved %d s, want 0 or 1", i, step)
					}
				}
				switch d := fi.Clock - fi.TS; fi.Kind {
				case Clean, Malformed:
					if d != 0 {
						t.Errorf("%v frame %d: ts = clock - %d, want clock", fi.Kind, i, d)
					}
				case Disordered:
					if d < 1 || d > dmax {
						t.Errorf("disordered frame %d: ts = clock - %d, want within [1, %d]", i, d, dmax)
					}
				case Late:
					if fi.TS > newest-late || sinceJump < jumpGuard && fi.TS > preJump-late {
						t.Errorf("late frame %d: ts %d, newest counted %d (pre-jump %d), want at least %d s below", i, fi.TS, newest, preJump, late)
					}
				case BitFlipped:
					x := uint64(fi.TS ^ fi.Clock)
					if bits.OnesCount64(x) != 1 || bits.TrailingZeros64(x) < 13 || bits.TrailingZeros64(x) > 40 {
						t.Errorf("bit-flipped frame %d: ts %d vs clock %d differ in %#x, want one bit in [13, 40]", i, fi.TS, fi.Clock, x)
					}
					if fi.TS >= 0 && fi.TS <= MaxTS {
						flipIn++
					} else {
						flipOut++
					}
				}
				if fi.Kind.Counted() {
					newest = max(newest, fi.TS)
				}
				sinceJump++
			}
			if cfg.BitFlipPct > 0 && (flipIn == 0 || flipOut == 0) {
				t.Errorf("bit flips in range %d, out of range %d; want both > 0", flipIn, flipOut)
			}
		})
	}
}

func TestZeroKnobsClean(t *testing.T) {
	ls, infos, g := run(t, Config{Count: 1000, Seed: 9})
	for i, fi := range infos {
		if fi.Kind != Clean {
			t.Fatalf("frame %d: kind %v, want clean", i, fi.Kind)
		}
		checkLine(t, g, ls[i], fi)
		if i > 0 && fi.TS < infos[i-1].TS {
			t.Fatalf("frame %d: ts %d < previous %d in a clean stream", i, fi.TS, infos[i-1].TS)
		}
	}
	if got, want := infos[0].TS, int64(DefaultStart); got != want {
		t.Errorf("first ts = %d, want %d", got, want)
	}
	// 1000 frames at r = 1000 advance the clock ~1 s.
	if span := infos[len(infos)-1].TS - infos[0].TS; span < 0 || span > 8 {
		t.Errorf("clock advanced %d s over 1000 frames at r = 1000, want ~1", span)
	}
}

func TestMalformedMix(t *testing.T) {
	ls, infos, g := run(t, Config{Count: 1200, Seed: 21, MalformedPct: 100})
	for i, line := range ls {
		checkLine(t, g, line, infos[i])
	}
	for k, n := range g.malformed {
		if n < 100 {
			t.Errorf("malformed kind %d: %d lines of 1200, want ~200", k, n)
		}
	}
}

func TestDeterministic(t *testing.T) {
	gen := func(seed uint64) ([32]byte, []WindowTruth, *Generator) {
		g, err := New(dirty(2000, seed))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := g.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b.Bytes()), g.Truth(), g
	}
	h1, t1, g1 := gen(42)
	h2, t2, _ := gen(42)
	if h1 != h2 || !slices.Equal(t1, t2) {
		t.Errorf("seed 42 twice: sums %x / %x, truths equal %v; want same bytes and truth", h1[:4], h2[:4], slices.Equal(t1, t2))
	}
	// A second WriteTo on the same generator starts over.
	var b bytes.Buffer
	if _, err := g1.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(b.Bytes()); h != h1 || !slices.Equal(g1.Truth(), t1) {
		t.Errorf("second WriteTo differs from the first")
	}
	if h3, _, _ := gen(43); h3 == h1 {
		t.Errorf("seeds 42 and 43 wrote the same bytes")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", DefaultConfig(), true},
		{"zero", Config{}, true},
		{"negative count", Config{Count: -1}, false},
		{"negative rate", Config{Rate: -1}, false},
		{"pool too big", Config{Pool: 1 << 33}, false},
		{"negative start", Config{Start: -5}, false},
		{"start past 9999", Config{Start: MaxTS + 1}, false},
		{"tiny frames", Config{FrameBytes: 100}, false},
		{"pct over 100", Config{LatePct: 101}, false},
		{"pct negative", Config{DisorderPct: -1}, false},
		{"pct sum over 100", Config{LatePct: 60, MalformedPct: 50}, false},
		{"disorder not below late", Config{DisorderMax: time.Hour, LateBy: time.Hour}, false},
		{"sub-second disorder", Config{DisorderMax: time.Millisecond}, false},
		{"negative jump", Config{JumpEvery: 5, JumpBy: -time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("Validate() = %v, want ok %v (errors wrapping ErrConfig)", err, tt.ok)
			}
			if _, nerr := New(tt.cfg); (nerr == nil) != tt.ok {
				t.Errorf("New() error = %v, want ok %v", nerr, tt.ok)
			}
		})
	}
}

type failWriter struct{ after int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errDisk
	}
	w.after--
	return len(p), nil
}

func TestWriteToError(t *testing.T) {
	g, err := New(Config{Count: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	n, err := g.WriteTo(&failWriter{after: 1})
	if !errors.Is(err, errDisk) {
		t.Fatalf("WriteTo = %d, %v; want an error wrapping %v", n, err, errDisk)
	}
	if n <= 0 || n >= g.Stats().Bytes {
		t.Errorf("WriteTo wrote %d bytes of %d made, want the first flush only", n, g.Stats().Bytes)
	}
}

// FuzzGenerate: any seed and mix of knobs gives lines that encoding/json
// reads as their FrameInfo says.
func FuzzGenerate(f *testing.F) {
	f.Add(uint64(1), uint8(10), uint8(5), uint8(5), uint8(5), uint16(2080), uint8(3))
	f.Add(uint64(7), uint8(0), uint8(0), uint8(0), uint8(100), uint16(256), uint8(1))
	f.Fuzz(func(t *testing.T, seed uint64, dis, late, flip, mal uint8, fb uint16, rate uint8) {
		cfg := Config{
			Count: 40, Seed: seed, Rate: int(rate%20) + 1, Pool: 50,
			DisorderPct: float64(dis % 26), LatePct: float64(late % 26),
			BitFlipPct: float64(flip % 26), MalformedPct: float64(mal % 26),
			FrameBytes: MinFrameBytes + int(fb%4000), JumpEvery: 7,
		}
		ls, infos, g := run(t, cfg)
		for i, line := range ls {
			checkLine(t, g, line, infos[i])
		}
	})
}
