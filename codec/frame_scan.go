package codec

import (
	"encoding/binary"
	"math/bits"
)

// The scanner below accepts exactly the grammar of encoding/json's scanner
// (RFC 8259 without UTF-8 validation, nesting at most maxDepth deep). It
// works on indices into the line and reports failure as the offset of the
// offending byte, so the valid path allocates nothing.

// maxDepth is encoding/json's nesting limit (scanner.go, maxNestingDepth):
// the root object counts as depth 1.
const maxDepth = 10000

// Flags of a scanned string or number.
const (
	strEscaped  = 1 << iota // the string contains a backslash escape
	strNonASCII             // the string contains a byte >= 0x80
	numInt      = 1 << 0    // the number has no fraction and no exponent
)

// Messages of a syntax error, stable for tests and logs.
const (
	errEOF       = "unexpected end of input"
	errChar      = "invalid character"
	errDepth     = "exceeded max depth"
	errNotObject = "root is not an object"
	errTrailing  = "data after the object"
)

// SWAR constants: lo has 0x01 in every byte, hi 0x80.
const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// scanRoot scans line as one JSON object, remembering the last root "uid" and
// "ts" values. On a syntax error it returns the error's offset and a
// message; what is "" when the line is valid JSON with an object root.
func (d *FrameDecoder) scanRoot(b []byte) (uid, ts field, off int, what string) {
	i := skipWS(b, 0)
	if i >= len(b) {
		return uid, ts, i, errEOF
	}
	if b[i] != '{' {
		// Any other value is either invalid JSON or not an object: check
		// which, so the message is honest; both are ErrSyntax.
		j, ok := d.skipValue(b, i, 0)
		if !ok {
			return uid, ts, j, syntaxWhat(b, j)
		}
		return uid, ts, i, errNotObject
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			// A key.
			if i >= len(b) {
				return uid, ts, i, errEOF
			}
			if b[i] != '"' {
				return uid, ts, i, errChar
			}
			ks := i + 1
			ke, kflags, ok := scanString(b, ks)
			if !ok {
				return uid, ts, ke, syntaxWhat(b, ke)
			}
			i = skipWS(b, ke+1)
			if i >= len(b) {
				return uid, ts, i, errEOF
			}
			if b[i] != ':' {
				return uid, ts, i, errChar
			}
			i = skipWS(b, i+1)
			if i >= len(b) {
				return uid, ts, i, errEOF
			}

			// Its value. Short keys only: a "uid" or "ts" key is 2-18 bytes.
			var dst *field
			if n := ke - ks; n >= 2 && n <= maxEscapedKey {
				if d.isKey(b[ks:ke], kflags, "uid") {
					dst = &uid
				} else if d.isKey(b[ks:ke], kflags, "ts") {
					dst = &ts
				}
			}
			switch c := b[i]; {
			case dst != nil && c == '"':
				e, flags, ok := scanString(b, i+1)
				if !ok {
					return uid, ts, e, syntaxWhat(b, e)
				}
				*dst = field{state: fieldString, flags: flags, start: i + 1, end: e}
				i = e + 1
			case dst != nil && (c == '-' || c-'0' <= 9):
				e, flags, ok := scanNumber(b, i)
				if !ok {
					return uid, ts, e, syntaxWhat(b, e)
				}
				*dst = field{state: fieldNumber, flags: flags, start: i, end: e}
				i = e
			default:
				e, ok := d.skipValue(b, i, 1)
				if !ok {
					return uid, ts, e, syntaxWhat(b, e)
				}
				if dst != nil {
					*dst = field{state: fieldOther, start: i, end: e}
				}
				i = e
			}

			// A comma and the next key, or the end of the object.
			i = skipWS(b, i)
			if i >= len(b) {
				return uid, ts, i, errEOF
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return uid, ts, i, errChar
			}
			i = skipWS(b, i+1)
		}
	}
	if i = skipWS(b, i); i != len(b) {
		return uid, ts, i, errTrailing
	}
	return uid, ts, 0, ""
}

// syntaxWhat names the syntax error at offset i of b.
func syntaxWhat(b []byte, i int) string {
	switch {
	case i >= len(b):
		return errEOF
	case i < 0:
		return errDepth
	default:
		return errChar
	}
}

// skipWS returns the index of the first non-whitespace byte at or after i.
func skipWS(b []byte, i int) int {
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

// scanString scans the body of a string whose opening quote is at b[i-1]. It
// returns the index of the closing quote and the string's flags, or the
// offset of the offending byte and false. Control characters are rejected,
// escapes validated; other bytes (invalid UTF-8 included) pass, as in
// encoding/json.
func scanString(b []byte, i int) (int, uint8, bool) {
	var flags uint8
	var seen uint64 // OR of the string's bytes, to spot non-ASCII cheaply
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character. The lowest flagged byte is exact (a borrow only
		// runs upward from a real match), so we can jump straight to it.
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			q := w ^ (lo * '"')
			s := w ^ (lo * '\\')
			z := ((q - lo) &^ q) | ((s - lo) &^ s) | ((w - lo*0x20) &^ w)
			z &= hi
			if z == 0 {
				seen |= w
				i += 8
				continue
			}
			n := bits.TrailingZeros64(z) &^ 7
			seen |= w & (1<<n - 1)
			i += n >> 3
			break
		}
		if i >= len(b) {
			return i, flags | nonASCII(seen), false
		}
		c := b[i]
		switch {
		case c == '"':
			return i, flags | nonASCII(seen), true
		case c == '\\':
			flags |= strEscaped
			i++
			if i >= len(b) {
				return i, flags, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				for k := 1; k <= 4; k++ {
					if i+k >= len(b) {
						return i + k, flags, false
					}
					if !isHex(b[i+k]) {
						return i + k, flags, false
					}
				}
				i += 5
			default:
				return i, flags, false
			}
		case c < 0x20:
			return i, flags, false
		default:
			seen |= uint64(c)
			i++
		}
	}
}

func nonASCII(seen uint64) uint8 {
	if seen&hi != 0 {
		return strNonASCII
	}
	return 0
}

func isHex(c byte) bool {
	return c-'0' <= 9 || (c|0x20)-'a' <= 5
}

// scanNumber scans a JSON number starting at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. It returns the index after
// it and numInt when it has neither fraction nor exponent, or the offset of
// the offending byte and false.
func scanNumber(b []byte, i int) (int, uint8, bool) {
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
	flags := uint8(numInt)
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

// scanLiteral checks that b[i:] starts with lit and returns the index after
// it, or the offset of the first mismatch and false.
func scanLiteral(b []byte, i int, lit string) (int, bool) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) || b[i+k] != lit[k] {
			return i + k, false
		}
	}
	return i + len(lit), true
}

// skipValue validates and skips the value starting at b[i] (not whitespace),
// which sits at nesting depth depth (0 for the root, 1 inside the root
// object). It returns the index after the value, or on error the offset of
// the offending byte (-1 when nesting exceeds maxDepth) and false. It is
// iterative, with one bit per open container in d.kinds, so hostile nesting
// costs no stack.
func (d *FrameDecoder) skipValue(b []byte, i, depth int) (int, bool) {
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
			if depth > maxDepth {
				return -1, false
			}
			w, bit := depth>>6, uint64(1)<<(depth&63)
			if c == '{' {
				d.kinds[w] |= bit
			} else {
				d.kinds[w] &^= bit
			}
			i = skipWS(b, i+1)
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
			if i, ok = d.skipKey(b, i); !ok {
				return i, false
			}
			continue // to the member's value
		case '"':
			e, _, ok := scanString(b, i+1)
			if !ok {
				return e, false
			}
			i = e + 1
		case 't':
			if i, ok = scanLiteral(b, i, "true"); !ok {
				return i, false
			}
		case 'f':
			if i, ok = scanLiteral(b, i, "false"); !ok {
				return i, false
			}
		case 'n':
			if i, ok = scanLiteral(b, i, "null"); !ok {
				return i, false
			}
		default:
			if c != '-' && c-'0' > 9 {
				return i, false
			}
			if i, _, ok = scanNumber(b, i); !ok {
				return i, false
			}
		}

		// The end of a value: close containers until one continues.
		for {
			if depth == base {
				return i, true
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, false
			}
			isObj := d.kinds[depth>>6]&(1<<(depth&63)) != 0
			c := b[i]
			if c == ',' {
				i = skipWS(b, i+1)
				if isObj {
					if i, ok = d.skipKey(b, i); !ok {
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

// skipKey validates an object key and its colon at b[i] and returns the
// index of the member's value (whitespace skipped).
func (d *FrameDecoder) skipKey(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	e, _, ok := scanString(b, i+1)
	if !ok {
		return e, false
	}
	i = skipWS(b, e+1)
	if i >= len(b) || b[i] != ':' {
		return i, false
	}
	return skipWS(b, i+1), true
}
