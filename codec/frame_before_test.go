package codec

// The frame decoder as it was before issue 11 (commit bff629e: root "uid"/"ts" only, a byte
// scanner that skipped eight bytes at a time inside strings), kept as the yardstick of
// BenchmarkDecodeFrame/before so that one run compares the two. Identifiers carry a V0
// suffix; only the benchmark uses it.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// FrameDecoderV0 decodes frames; see the package doc for the exact contract.
// The zero value is ready to use. A FrameDecoderV0 is not safe for concurrent
// use: give each goroutine its own, since its scratch space is what makes
// DecodeV0 allocation-free.
type FrameDecoderV0 struct {
	// buf holds the uid when it had to be unescaped or repaired; it grows to
	// the longest such uid seen and is then reused.
	buf []byte
	// key holds an escaped root key while it is compared with "uid"/"ts".
	// Only keys whose raw form is short enough to unescape to either are
	// unescaped, so it never grows.
	key [maxEscapedKeyV0 * 3]byte
	// kinds is a bit stack of the open containers below the root, one bit
	// per depth (1 = object), sized for encoding/json's nesting limit.
	kinds [maxDepthV0/64 + 1]uint64
}

// maxEscapedKeyV0 is the longest raw key that can unescape to "uid": three
// \uXXXX escapes.
const maxEscapedKeyV0 = 3 * 6

// fieldV0 is what the root scan remembers of the last "uid" or "ts" value.
type fieldV0 struct {
	state      uint8 // fieldMissingV0, fieldStringV0, fieldNumberV0, fieldOtherV0
	flags      uint8 // numIntV0 for numbers
	start, end int   // the value's bytes, without quotes for strings
}

const (
	fieldMissingV0 = iota
	fieldStringV0
	fieldNumberV0
	fieldOtherV0
)

// DecodeV0 decodes one frame from line, which may end in "\n" or "\r\n" (any
// JSON whitespace around the object is allowed). It validates the whole
// line; on error the Frame is zero and the error wraps one of the package's
// sentinels.
func (d *FrameDecoderV0) DecodeV0(line []byte) (Frame, error) {
	uid, ts, off, what := d.scanRootV0(line)
	if what != "" {
		return Frame{}, fmt.Errorf("decode frame at offset %d: %s: %w", off, what, ErrSyntax)
	}

	var f Frame
	switch uid.state {
	case fieldMissingV0:
		return Frame{}, fmt.Errorf("decode frame: %w", ErrNoUID)
	case fieldStringV0:
		f.UID = d.uidBytesV0(line[uid.start:uid.end])
		if len(f.UID) == 0 {
			return Frame{}, fmt.Errorf("decode frame: empty string: %w", ErrBadUID)
		}
	default:
		return Frame{}, fmt.Errorf("decode frame at offset %d: not a string: %w", uid.start, ErrBadUID)
	}

	switch ts.state {
	case fieldMissingV0:
		return Frame{}, fmt.Errorf("decode frame: %w", ErrNoTS)
	case fieldNumberV0:
		t, ok := parseTSV0(line[ts.start:ts.end], ts.flags&numIntV0 != 0)
		if !ok {
			return Frame{}, fmt.Errorf("decode frame: ts %.40q: %w", line[ts.start:ts.end], ErrTSRange)
		}
		f.TS = t
	default:
		return Frame{}, fmt.Errorf("decode frame at offset %d: not a number: %w", ts.start, ErrBadTS)
	}
	return f, nil
}

// uidBytesV0 returns the uid's string value as encoding/json would decode it:
// the raw bytes themselves when they need no unescaping or repair (the
// common case, no copy), else the unquoted bytes in d.buf.
func (d *FrameDecoderV0) uidBytesV0(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return raw
	}
	d.buf = appendUnquote(d.buf[:0], raw)
	return d.buf
}

// parseTSV0 turns a validated JSON number into a ts, reporting false when it is
// out of range. Integers are parsed exactly; other numbers go through
// strconv.ParseFloat and are truncated toward zero.
func parseTSV0(num []byte, isInt bool) (int64, bool) {
	if isInt {
		neg := num[0] == '-'
		if neg {
			num = num[1:]
		}
		// JSON integers have no leading zeros, so more digits than MaxTS has
		// mean out of range; this also keeps the sum below from overflowing.
		if len(num) > 12 {
			return 0, false
		}
		var v int64
		for _, c := range num {
			v = v*10 + int64(c-'0')
		}
		if neg && v != 0 || v > MaxTS {
			return 0, false
		}
		return v, true
	}
	// string(num) does not allocate for short numbers: ParseFloat does not
	// keep its argument, so the conversion may live on the stack.
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		// The number is valid JSON, so the only error is ErrRange: overflow
		// to ±Inf, which is out of range either way.
		return 0, false
	}
	f = math.Trunc(f)
	if !(f >= float64(MinTS) && f <= float64(MaxTS)) {
		return 0, false
	}
	return int64(f), true
}

// The scanner below accepts exactly the grammar of encoding/json's scanner
// (RFC 8259 without UTF-8 validation, nesting at most maxDepthV0 deep). It
// works on indices into the line and reports failure as the offset of the
// offending byte, so the valid path allocates nothing.

// maxDepthV0 is encoding/json's nesting limit (scanner.go, maxNestingDepth):
// the root object counts as depth 1.
const maxDepthV0 = 10000

// numIntV0 flags a number with neither fraction nor exponent.
const numIntV0 = 1

// Messages of a syntax error, stable for tests and logs.
const (
	errEOFV0       = "unexpected end of input"
	errCharV0      = "invalid character"
	errDepthV0     = "exceeded max depth"
	errNotObjectV0 = "root is not an object"
	errTrailingV0  = "data after the object"
)

// SWAR constants: loV0 has 0x01 in every byte, hiV0 0x80.
const (
	loV0 = 0x0101010101010101
	hiV0 = 0x8080808080808080
)

// scanRootV0 scans line as one JSON object, remembering the last root "uid" and
// "ts" values. On a syntax error it returns the error's offset and a
// message; what is "" when the line is valid JSON with an object root.
func (d *FrameDecoderV0) scanRootV0(b []byte) (uid, ts fieldV0, off int, what string) {
	i := skipWSV0(b, 0)
	if i >= len(b) {
		return uid, ts, i, errEOFV0
	}
	if b[i] != '{' {
		// Any other value is either invalid JSON or not an object: check
		// which, so the message is honest; both are ErrSyntax.
		j, ok := d.skipValueV0(b, i, 0)
		if !ok {
			return uid, ts, max(j, i), syntaxWhatV0(b, j)
		}
		return uid, ts, i, errNotObjectV0
	}
	i = skipWSV0(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			// A key.
			if i >= len(b) {
				return uid, ts, i, errEOFV0
			}
			if b[i] != '"' {
				return uid, ts, i, errCharV0
			}
			ks := i + 1
			ke, ok := scanStringV0(b, ks)
			if !ok {
				return uid, ts, ke, syntaxWhatV0(b, ke)
			}
			i = skipWSV0(b, ke+1)
			if i >= len(b) {
				return uid, ts, i, errEOFV0
			}
			if b[i] != ':' {
				return uid, ts, i, errCharV0
			}
			i = skipWSV0(b, i+1)
			if i >= len(b) {
				return uid, ts, i, errEOFV0
			}

			// Its value, remembered if the key is "uid" or "ts". A raw key
			// of at most 5 bytes is the key itself: no escape shorter than
			// \uXXXX yields a letter, and invalid UTF-8 would become U+FFFD,
			// which neither name contains.
			var dst *fieldV0
			switch n := ke - ks; {
			case n == 3:
				if b[ks] == 'u' && b[ks+1] == 'i' && b[ks+2] == 'd' {
					dst = &uid
				}
			case n == 2:
				if b[ks] == 't' && b[ks+1] == 's' {
					dst = &ts
				}
			case n >= 6 && n <= maxEscapedKeyV0 && bytes.IndexByte(b[ks:ke], '\\') >= 0:
				switch string(appendUnquote(d.key[:0], b[ks:ke])) {
				case "uid":
					dst = &uid
				case "ts":
					dst = &ts
				}
			}
			switch c := b[i]; {
			case dst != nil && c == '"':
				e, ok := scanStringV0(b, i+1)
				if !ok {
					return uid, ts, e, syntaxWhatV0(b, e)
				}
				*dst = fieldV0{state: fieldStringV0, start: i + 1, end: e}
				i = e + 1
			case dst != nil && (c == '-' || c-'0' <= 9):
				e, flags, ok := scanNumberV0(b, i)
				if !ok {
					return uid, ts, e, syntaxWhatV0(b, e)
				}
				*dst = fieldV0{state: fieldNumberV0, flags: flags, start: i, end: e}
				i = e
			default:
				e, ok := d.skipValueV0(b, i, 1)
				if !ok {
					// A too-deep value is reported where it starts.
					return uid, ts, max(e, i), syntaxWhatV0(b, e)
				}
				if dst != nil {
					*dst = fieldV0{state: fieldOtherV0, start: i, end: e}
				}
				i = e
			}

			// A comma and the next key, or the end of the object.
			i = skipWSV0(b, i)
			if i >= len(b) {
				return uid, ts, i, errEOFV0
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return uid, ts, i, errCharV0
			}
			i = skipWSV0(b, i+1)
		}
	}
	if i = skipWSV0(b, i); i != len(b) {
		return uid, ts, i, errTrailingV0
	}
	return uid, ts, 0, ""
}

// syntaxWhatV0 names the syntax error at offset i of b.
func syntaxWhatV0(b []byte, i int) string {
	switch {
	case i >= len(b):
		return errEOFV0
	case i < 0:
		return errDepthV0
	default:
		return errCharV0
	}
}

// skipWSV0 returns the index of the first non-whitespace byte at or after i.
func skipWSV0(b []byte, i int) int {
	// Frames are compact: the common case is no whitespace at all.
	if i < len(b) && b[i] > ' ' {
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanStringV0 scans the body of a string whose opening quote is at b[i-1]. It
// returns the index of the closing quote, or the offset of the offending
// byte and false. Control characters are rejected and escapes validated;
// other bytes (invalid UTF-8 included) pass, as in encoding/json.
func scanStringV0(b []byte, i int) (int, bool) {
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character. The lowest flagged byte is exact (a borrow only
		// runs upward from a real match), so we can jump straight to it.
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			q := w ^ (loV0 * '"')
			s := w ^ (loV0 * '\\')
			z := ((q - loV0) &^ q) | ((s - loV0) &^ s) | ((w - loV0*0x20) &^ w)
			z &= hiV0
			if z == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(z) >> 3
			break
		}
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; {
		case c == '"':
			return i, true
		case c == '\\':
			if i+1 >= len(b) {
				return i + 1, false
			}
			switch escapeLenV0[b[i+1]] {
			case 2:
				i += 2
			case 6:
				for k := 2; k <= 5; k++ {
					if i+k >= len(b) || !isHexV0(b[i+k]) {
						return i + k, false
					}
				}
				i += 6
			default:
				return i + 1, false
			}
		case c < 0x20:
			return i, false
		default:
			i++
		}
	}
}

// escapeLenV0 is the length of the escape sequence that starts with '\\' and
// the index byte: 2 for the one-letter escapes, 6 for \uXXXX, 0 for none.
var escapeLenV0 = [256]uint8{
	'"': 2, '\\': 2, '/': 2, 'b': 2, 'f': 2, 'n': 2, 'r': 2, 't': 2, 'u': 6,
}

func isHexV0(c byte) bool {
	return c-'0' <= 9 || (c|0x20)-'a' <= 5
}

// scanNumberV0 scans a JSON number starting at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. It returns the index after
// it and numIntV0 when it has neither fraction nor exponent, or the offset of
// the offending byte and false.
func scanNumberV0(b []byte, i int) (int, uint8, bool) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, 0, false
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c-'1' <= 8:
		i++
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
	default:
		return i, 0, false
	}
	flags := uint8(numIntV0)
	if i < len(b) && b[i] == '.' {
		flags = 0
		i++
		if i >= len(b) || b[i]-'0' > 9 {
			return i, 0, false
		}
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		flags = 0
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i]-'0' > 9 {
			return i, 0, false
		}
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
	}
	return i, flags, true
}

// scanLiteralV0 checks that b[i:] starts with lit and returns the index after
// it, or the offset of the first mismatch and false.
func scanLiteralV0(b []byte, i int, lit string) (int, bool) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) || b[i+k] != lit[k] {
			return i + k, false
		}
	}
	return i + len(lit), true
}

// skipValueV0 validates and skips the value starting at b[i] (not whitespace),
// which sits at nesting depth depth (0 for the root, 1 inside the root
// object). It returns the index after the value, or on error the offset of
// the offending byte (-1 when nesting exceeds maxDepthV0) and false. It is
// iterative, with one bit per open container in d.kinds, so hostile nesting
// costs no stack.
func (d *FrameDecoderV0) skipValueV0(b []byte, i, depth int) (int, bool) {
	base := depth
	var ok bool
	for {
		// A value at b[i].
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; c {
		case '{', '[':
			depth++
			if depth > maxDepthV0 {
				return -1, false
			}
			w, bit := depth>>6, uint64(1)<<(depth&63)
			if c == '{' {
				d.kinds[w] |= bit
			} else {
				d.kinds[w] &^= bit
			}
			i = skipWSV0(b, i+1)
			if i >= len(b) {
				return i, false
			}
			if c == '{' && b[i] == '}' || c == '[' && b[i] == ']' {
				depth--
				i++
				break // to the end of a value
			}
			if c == '[' {
				continue // to the array's first value
			}
			if i, ok = d.skipKeyV0(b, i); !ok {
				return i, false
			}
			continue // to the member's value
		case '"':
			e, ok := scanStringV0(b, i+1)
			if !ok {
				return e, false
			}
			i = e + 1
		case 't':
			if i, ok = scanLiteralV0(b, i, "true"); !ok {
				return i, false
			}
		case 'f':
			if i, ok = scanLiteralV0(b, i, "false"); !ok {
				return i, false
			}
		case 'n':
			if i, ok = scanLiteralV0(b, i, "null"); !ok {
				return i, false
			}
		default:
			if c != '-' && c-'0' > 9 {
				return i, false
			}
			if i, _, ok = scanNumberV0(b, i); !ok {
				return i, false
			}
		}

		// The end of a value: close containers until one continues.
		for {
			if depth == base {
				return i, true
			}
			i = skipWSV0(b, i)
			if i >= len(b) {
				return i, false
			}
			isObj := d.kinds[depth>>6]&(1<<(depth&63)) != 0
			c := b[i]
			if c == ',' {
				i = skipWSV0(b, i+1)
				if isObj {
					if i, ok = d.skipKeyV0(b, i); !ok {
						return i, false
					}
				}
				break // to the next value
			}
			if isObj && c == '}' || !isObj && c == ']' {
				depth--
				i++
				continue
			}
			return i, false
		}
	}
}

// skipKeyV0 validates an object key and its colon at b[i] and returns the
// index of the member's value (whitespace skipped).
func (d *FrameDecoderV0) skipKeyV0(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	e, ok := scanStringV0(b, i+1)
	if !ok {
		return e, false
	}
	i = skipWSV0(b, e+1)
	if i >= len(b) || b[i] != ':' {
		return i, false
	}
	return skipWSV0(b, i+1), true
}
