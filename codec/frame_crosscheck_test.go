package codec

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"
)

// TestDecodeSampleMatchesReference decodes the 1,000 real challenge frames:
// all are valid, and ts and uid are what encoding/json finds at the root
// (the frames carry nested decoys, duplicate keys and escapes).
func TestDecodeSampleMatchesReference(t *testing.T) {
	var d FrameDecoder
	for n, line := range sampleLines(t) {
		want := refDecode(line)
		if want.reason != "" {
			t.Fatalf("line %d: reference rejects a sample frame: %s", n+1, want.reason)
		}
		got, err := d.Decode(line)
		if err != nil {
			t.Fatalf("line %d: Decode error = %v, want nil", n+1, err)
		}
		if got.TS != want.ts || string(got.UID) != want.uid {
			t.Errorf("line %d: Decode = {TS:%d UID:%q}, want {TS:%d UID:%q}", n+1, got.TS, got.UID, want.ts, want.uid)
		}
		// The same frame with a CRLF line end is the same frame.
		crlf := append(bytes.Clone(line), '\r', '\n')
		if got2, err := d.Decode(crlf); err != nil || got2.TS != want.ts || string(got2.UID) != want.uid {
			t.Errorf("line %d + CRLF: Decode = {TS:%d UID:%q}, %v, want {TS:%d UID:%q}", n+1, got2.TS, got2.UID, err, want.ts, want.uid)
		}
	}
}

// TestDecodeCorruptSampleMatchesReference corrupts real frames the ways a
// wire or a disk does (truncation, a flipped bit, a lost or doubled byte)
// and checks the verdict against encoding/json: mostly rejections, some of
// them only visible at the very end of the line.
func TestDecodeCorruptSampleMatchesReference(t *testing.T) {
	lines := sampleLines(t)
	if testing.Short() {
		lines = lines[:100]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var d FrameDecoder
	for _, line := range lines {
		for range 4 {
			checkAgainstRef(t, &d, mutate(rng, line))
		}
		// The corrupt tail: everything valid up to the last few bytes.
		checkAgainstRef(t, &d, line[:len(line)-1-rng.IntN(3)])
	}
}

// TestDecodeGeneratedMatchesReference throws adversarial generated frames at the decoder, for
// every configuration the fuzzers use: random nesting, decoy and duplicate keys on and off the
// configured paths, escaped keys, every kind of escape, surrogates, invalid UTF-8, odd numbers,
// numeric uids and string timestamps, random whitespace, whole and corrupted.
func TestDecodeGeneratedMatchesReference(t *testing.T) {
	n := 20000
	if testing.Short() || raceEnabled {
		n = 2000
	}
	for _, cfg := range fuzzConfigs {
		t.Run(fmt.Sprintf("%s,%s,%v", cfg.UIDField, cfg.TSField, cfg.TSUnit), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			d, err := NewFrameDecoder(cfg)
			if err != nil {
				t.Fatal(err)
			}
			g := newFrameGen(rng, cfg)
			valid := 0
			reasons := map[string]int{}
			for range n {
				line := g.frame()
				if rng.IntN(4) == 0 {
					line = mutate(rng, line)
				}
				r := refDecodeWith(line, cfg).reason
				reasons[r]++
				if r == "" {
					valid++
				}
				checkAgainstRefWith(t, d, line, cfg)
			}
			t.Logf("verdicts of %d generated frames: %v", n, reasons)
			// The generator must exercise both sides of the contract.
			if valid < n/10 || valid > n*9/10 {
				t.Errorf("%d of %d generated frames are valid, want between 10%% and 90%%", valid, n)
			}
		})
	}
}

// mutate returns a corrupted copy of line.
func mutate(rng *rand.Rand, line []byte) []byte {
	b := bytes.Clone(line)
	if len(b) == 0 {
		return append(b, byte(rng.IntN(256)))
	}
	i := rng.IntN(len(b))
	switch rng.IntN(6) {
	case 0: // truncate
		return b[:i]
	case 1: // flip a bit
		b[i] ^= 1 << rng.IntN(8)
		return b
	case 2: // lose a byte
		return append(b[:i], b[i+1:]...)
	case 3: // double a byte
		return append(b[:i+1], b[i:]...)
	case 4: // a JSON-significant byte in a random place
		const sig = `{}[]",:\ 0-.eu`
		b[i] = sig[rng.IntN(len(sig))]
		return b
	default: // trailing data
		return append(b, []string{" ", "\r\n", "x", "}", "{}", "\t\n", "\x00", ",", "\f"}[rng.IntN(9)]...)
	}
}

// frameGen writes random JSON frames for a configuration, biased toward the cases that are
// hard to get right.
type frameGen struct {
	rng   *rand.Rand
	b     []byte
	paths [2][]string // the configured uid and ts paths
	drop  int         // decimal digits of the ts unit below a second
	names []string    // keys to draw: near misses and every key of the paths
}

func newFrameGen(rng *rand.Rand, cfg FrameConfig) *frameGen {
	g := &frameGen{rng: rng}
	for f, p := range [2]string{cfg.UIDField, cfg.TSField} {
		if p == "" {
			p = [2]string{"uid", "ts"}[f]
		}
		keys, err := ParseField(p)
		if err != nil {
			panic(err)
		}
		g.paths[f] = keys
		g.names = append(g.names, keys...)
	}
	g.drop = map[time.Duration]int{0: 0, time.Second: 0, time.Millisecond: 3, time.Microsecond: 6, time.Nanosecond: 9}[cfg.TSUnit]
	g.names = append(g.names, "uid", "ts", "UID", "Ts", "uid ", "ui", "tss", "u\x00id", "Lorem", "ipsum", "dolor", "sit", "amet,", "")
	return g
}

// plant is a path still to be written: the keys left and which field it leads to.
type plant struct {
	keys  []string
	field int
}

func (g *frameGen) frame() []byte {
	g.b = g.b[:0]
	g.ws()
	var plants []plant
	for f, p := range g.paths {
		// Usually plant a real uid and ts somewhere along their paths.
		if g.rng.IntN(10) != 0 {
			plants = append(plants, plant{keys: p, field: f})
		}
	}
	g.object(0, plants)
	g.ws()
	if g.rng.IntN(4) == 0 {
		g.b = append(g.b, '\r', '\n')
	}
	return bytes.Clone(g.b)
}

// object writes an object with random members among which the plants are written: a plant
// with one key left is a uid or ts value, one with more an object that holds the rest (plants
// sharing their next key share the object). Sometimes a planted key repeats with another
// value, before or after, or an inner key holds something other than an object.
func (g *frameGen) object(depth int, plants []plant) {
	g.b = append(g.b, '{')
	n := g.rng.IntN(12)
	if depth > 0 {
		n = g.rng.IntN(4)
	}
	// Group the plants by their next key, in order of first appearance.
	var keys []string
	groups := map[string][]plant{}
	for _, p := range plants {
		k := p.keys[0]
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], p)
	}
	at := make([]int, len(keys))
	for i := range at {
		at[i] = g.rng.IntN(n + 1)
	}
	first := true
	member := func(key func(), val func()) {
		if !first {
			g.ws()
			g.b = append(g.b, ',')
		}
		first = false
		g.ws()
		key()
		g.ws()
		g.b = append(g.b, ':')
		g.ws()
		val()
		g.ws()
	}
	for k := 0; k <= n; k++ {
		for i, key := range keys {
			if at[i] != k {
				continue
			}
			group := groups[key]
			write := func() {
				if len(group) == 1 && len(group[0].keys) == 1 {
					if group[0].field == fieldUID {
						g.uidValue()
					} else {
						g.tsValue()
					}
					return
				}
				if g.rng.IntN(12) == 0 {
					g.value(depth + 1) // not the object the path needs
					return
				}
				var inner []plant
				for _, p := range group {
					if len(p.keys) > 1 {
						inner = append(inner, plant{keys: p.keys[1:], field: p.field})
					}
				}
				g.object(depth+1, inner)
			}
			switch g.rng.IntN(12) {
			case 0: // a decoy first; the last duplicate wins
				member(func() { g.key(key) }, func() { g.value(depth + 1) })
				member(func() { g.key(key) }, write)
			case 1: // the real one first, then a duplicate that replaces it
				member(func() { g.key(key) }, write)
				member(func() { g.key(key) }, func() { g.value(depth + 1) })
			default:
				member(func() { g.key(key) }, write)
			}
		}
		if k < n {
			member(func() { g.anyKey() }, func() { g.value(depth + 1) })
		}
	}
	g.b = append(g.b, '}')
}

// ws writes JSON whitespace, usually none.
func (g *frameGen) ws() {
	if g.rng.IntN(8) != 0 {
		return
	}
	for range 1 + g.rng.IntN(3) {
		g.b = append(g.b, " \t\r\n"[g.rng.IntN(4)])
	}
}

// key writes name as a key, sometimes escaped.
func (g *frameGen) key(name string) {
	g.b = append(g.b, '"')
	for _, c := range []byte(name) {
		if c < 0x20 || g.rng.IntN(6) == 0 {
			format := "\\u%04x"
			if g.rng.IntN(2) == 0 {
				format = "\\u%04X"
			}
			g.b = fmt.Appendf(g.b, format, c)
		} else {
			g.b = append(g.b, c)
		}
	}
	g.b = append(g.b, '"')
}

// anyKey writes a key that is sometimes one of the paths' keys or a near miss.
func (g *frameGen) anyKey() {
	g.key(g.names[g.rng.IntN(len(g.names))])
}

func (g *frameGen) uidValue() {
	switch g.rng.IntN(12) {
	case 0:
		g.value(1)
	case 1:
		g.b = append(g.b, `""`...)
	case 2, 3:
		g.str()
	case 4:
		g.number()
	case 5:
		g.b = strconv.AppendInt(g.b, g.rng.Int64N(1e6)-1000, 10)
	default:
		g.b = append(g.b, '"')
		for range 19 {
			g.b = append(g.b, "0123456789abcdef"[g.rng.IntN(16)])
		}
		g.b = append(g.b, '"')
	}
}

func (g *frameGen) tsValue() {
	// A plausible ts in the configured unit, sometimes in another.
	ts := strconv.AppendInt(nil, 1468244384+int64(g.rng.IntN(1000)), 10)
	drop := g.drop
	if g.rng.IntN(8) == 0 {
		drop = 3 * g.rng.IntN(4)
	}
	for range drop {
		ts = append(ts, byte('0'+g.rng.IntN(10)))
	}
	switch g.rng.IntN(12) {
	case 0:
		g.value(1)
	case 1, 2:
		g.number()
	case 3:
		g.b = append(g.b, '"')
		if g.rng.IntN(3) == 0 {
			g.b = append(g.b, "00"[:g.rng.IntN(3)]...)
		}
		if g.rng.IntN(6) == 0 {
			g.b = fmt.Appendf(g.b, "\\u%04x", ts[0])
			ts = ts[1:]
		}
		g.b = append(g.b, ts...)
		g.b = append(g.b, []string{"", "", "", "", " ", ".5", "x", "\\n"}[g.rng.IntN(8)]...)
		g.b = append(g.b, '"')
	case 4:
		g.b = append(g.b, '"')
		g.b = append(g.b, []string{"", "-1", "0", "+1", "1e9", "253402300799", "253402300800", "99999999999999999999999"}[g.rng.IntN(8)]...)
		g.b = append(g.b, '"')
	case 5:
		g.b = append(g.b, ts...)
		g.b = append(g.b, []string{".5", "e0", ".999e-1", "E+2"}[g.rng.IntN(4)]...)
	default:
		g.b = append(g.b, ts...)
	}
}

// value writes a random JSON value; containers carry decoy keys.
func (g *frameGen) value(depth int) {
	k := g.rng.IntN(10)
	if depth > 4 && k >= 7 {
		k = g.rng.IntN(7)
	}
	switch k {
	case 0:
		g.b = append(g.b, []string{"true", "false", "null"}[g.rng.IntN(3)]...)
	case 1, 2:
		g.number()
	case 3, 4, 5, 6:
		g.str()
	case 7, 8:
		g.object(depth+1, nil)
	default:
		g.b = append(g.b, '[')
		for i := range g.rng.IntN(4) {
			if i > 0 {
				g.b = append(g.b, ',')
			}
			g.ws()
			g.value(depth + 1)
			g.ws()
		}
		g.b = append(g.b, ']')
	}
}

func (g *frameGen) number() {
	forms := []string{
		"0", "-0", "7", "-1", "1468244384", "1468244384.9", "1.468e9", "1468244384E+0",
		"-0.5", "-1.5", "-999", "-1000", "253402300799", "253402300800", "253402300799.99", "9223372036854775807",
		"9223372036854775808", "-9223372036854775809", "1e400", "-1e400", "1e-400", "0.0",
		"14682443849e-1", "1E2", "123456789012345678901234567890",
	}
	g.b = append(g.b, forms[g.rng.IntN(len(forms))]...)
}

// str writes a string mixing plain text, every escape, \u escapes
// (surrogates paired, lone and mismatched), raw UTF-8 and invalid bytes.
func (g *frameGen) str() {
	g.b = append(g.b, '"')
	for range g.rng.IntN(8) {
		switch g.rng.IntN(12) {
		case 0:
			g.b = append(g.b, []string{`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`}[g.rng.IntN(8)]...)
		case 1:
			g.b = append(g.b, `\u`...)
			g.b = append(g.b, []string{"0075", "0000", "00e9", "4E16", "d83d", "DE00", "dbff", "dc00", "fffd", "FEFF"}[g.rng.IntN(10)]...)
		case 2:
			g.b = append(g.b, `\ud83d\ude00`...)
		case 3:
			g.b = utf8.AppendRune(g.b, rune(0x80+g.rng.IntN(0x10FFFF-0x80)))
		case 4:
			g.b = append(g.b, []string{"\xff", "\xc0", "\xe4\xb8", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80"}[g.rng.IntN(6)]...)
		case 5:
			g.b = append(g.b, []string{"uid", "ts", `\"uid\":`, "{", "}", "[", "]", ",", ":"}[g.rng.IntN(9)]...)
		default:
			for range 1 + g.rng.IntN(12) {
				c := byte(' ' + g.rng.IntN(95))
				if c == '\\' || c == '"' {
					c = 'x' // keep the printable run a valid string body
				}
				g.b = append(g.b, c)
			}
		}
	}
	g.b = append(g.b, '"')
}
