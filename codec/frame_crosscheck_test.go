package codec

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
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

// TestDecodeGeneratedMatchesReference throws adversarial generated frames at
// the decoder: random nesting, decoy and duplicate uid/ts keys, escaped keys,
// every kind of escape, surrogates, invalid UTF-8, odd numbers and random
// whitespace, whole and corrupted.
func TestDecodeGeneratedMatchesReference(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var d FrameDecoder
	valid := 0
	reasons := map[string]int{}
	for range n {
		g := frameGen{rng: rng}
		line := g.frame()
		if rng.IntN(4) == 0 {
			line = mutate(rng, line)
		}
		r := refDecode(line).reason
		reasons[r]++
		if r == "" {
			valid++
		}
		checkAgainstRef(t, &d, line)
	}
	t.Logf("verdicts of %d generated frames: %v", n, reasons)
	// The generator must exercise both sides of the contract.
	if valid < n/10 || valid > n*9/10 {
		t.Errorf("%d of %d generated frames are valid, want between 10%% and 90%%", valid, n)
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

// frameGen writes random JSON frames, biased toward the cases that are hard
// to get right.
type frameGen struct {
	rng *rand.Rand
	b   []byte
}

func (g *frameGen) frame() []byte {
	g.b = g.b[:0]
	g.ws()
	g.b = append(g.b, '{')
	n := g.rng.IntN(12)
	// Usually plant a real uid and ts somewhere among the members.
	uidAt, tsAt := -1, -1
	if g.rng.IntN(10) != 0 {
		uidAt = g.rng.IntN(n + 1)
	}
	if g.rng.IntN(10) != 0 {
		tsAt = g.rng.IntN(n + 1)
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
		if k == uidAt {
			member(func() { g.key("uid") }, func() { g.uidValue() })
		}
		if k == tsAt {
			member(func() { g.key("ts") }, func() { g.tsValue() })
		}
		if k < n {
			member(func() { g.anyKey() }, func() { g.value(0) })
		}
	}
	g.b = append(g.b, '}')
	g.ws()
	if g.rng.IntN(4) == 0 {
		g.b = append(g.b, '\r', '\n')
	}
	return bytes.Clone(g.b)
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

// anyKey writes a key that is sometimes uid or ts or a near miss.
func (g *frameGen) anyKey() {
	names := []string{"uid", "ts", "UID", "Ts", "uid ", "ui", "tss", "u\x00id", "Lorem", "ipsum", "dolor", "sit", "amet,", ""}
	g.key(names[g.rng.IntN(len(names))])
}

func (g *frameGen) uidValue() {
	switch g.rng.IntN(10) {
	case 0:
		g.value(1)
	case 1:
		g.b = append(g.b, `""`...)
	case 2, 3:
		g.str()
	default:
		g.b = append(g.b, '"')
		for range 19 {
			g.b = append(g.b, "0123456789abcdef"[g.rng.IntN(16)])
		}
		g.b = append(g.b, '"')
	}
}

func (g *frameGen) tsValue() {
	switch g.rng.IntN(10) {
	case 0:
		g.value(1)
	case 1, 2:
		g.number()
	default:
		g.b = strconv.AppendInt(g.b, 1468244384+int64(g.rng.IntN(1000)), 10)
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
		g.b = append(g.b, '{')
		for i := range g.rng.IntN(4) {
			if i > 0 {
				g.b = append(g.b, ',')
			}
			g.ws()
			g.anyKey()
			g.ws()
			g.b = append(g.b, ':')
			g.ws()
			g.value(depth + 1)
			g.ws()
		}
		g.b = append(g.b, '}')
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
		"-0.5", "-1.5", "253402300799", "253402300800", "253402300799.99", "9223372036854775807",
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
