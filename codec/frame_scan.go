package codec

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// The scanner below accepts exactly the grammar of encoding/json's scanner
// (RFC 8259 without UTF-8 validation, nesting at most maxDepth deep). It
// works on indices into the line and reports failure as the offset of the
// offending byte, so the valid path allocates nothing.

// maxDepth is encoding/json's nesting limit (scanner.go, maxNestingDepth):
// the root object counts as depth 1.
const maxDepth = 10000

// numInt flags a number with neither fraction nor exponent.
const numInt = 1

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

// scan scans b as one JSON object, remembering in d.found the last value each of c's paths
// leads to. On a syntax error it returns the error's offset and a message; what is "" when
// the line is valid JSON with an object root.
func (d *FrameDecoder) scan(b []byte, c *frameConfig) (off int, what string) {
	d.found = [2]field{}
	i := skipWS(b, 0)
	if i >= len(b) {
		return i, errEOF
	}
	if b[i] != '{' {
		// Any other value is either invalid JSON or not an object: check which, so the
		// message is honest; both are ErrSyntax.
		j, ok := d.skipValue(b, i, 0)
		if !ok {
			return max(j, i), syntaxWhat(b, j)
		}
		return i, errNotObject
	}
	j, ok := d.scanObject(b, i, 1, 0, 1<<fieldUID|1<<fieldTS, c)
	if !ok {
		if j < 0 {
			return -1 - j, errDepth
		}
		return j, syntaxWhat(b, j)
	}
	if j = skipWS(b, j); j != len(b) {
		return j, errTrailing
	}
	return 0, ""
}

// scanObject scans the object whose '{' is at b[i], at nesting depth depth (1 for the root).
// act says which fields' paths pass through this object, at their key number lvl: a member
// whose key is a path's last key is remembered in d.found, and an object under a path's
// inner key is scanned the same way one level down; everything else is validated and
// skipped. It returns the index after the object, or the offset of the offending byte and
// false; when nesting exceeds maxDepth, the offset is -1 - (where the too-deep value starts).
func (d *FrameDecoder) scanObject(b []byte, i, depth, lvl int, act uint8, c *frameConfig) (int, bool) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		// A key.
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		ks := i + 1
		ke, esc, ok := scanString(b, ks)
		if !ok {
			return ke, false
		}
		i = skipWS(b, ke+1)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return i, false
		}

		// Its value: a path's last key remembers it, a path's inner key goes into it.
		var leaf, inner uint8
		for f := range 2 {
			if act&(1<<f) == 0 {
				continue
			}
			p := c.paths[f]
			if d.keyIs(b[ks:ke], esc, &p[lvl]) {
				if lvl == len(p)-1 {
					leaf = uint8(f) + 1
				} else {
					inner |= 1 << f
				}
			}
		}
		switch ch := b[i]; {
		case leaf != 0 && ch == '"':
			e, esc, ok := scanString(b, i+1)
			if !ok {
				return e, false
			}
			var flags uint8
			if esc {
				flags = strEsc
			}
			d.found[leaf-1] = field{state: fieldString, flags: flags, start: i + 1, end: e}
			i = e + 1
		case leaf != 0 && (ch == '-' || ch-'0' <= 9):
			e, flags, ok := scanNumber(b, i)
			if !ok {
				return e, false
			}
			d.found[leaf-1] = field{state: fieldNumber, flags: flags, start: i, end: e}
			i = e
		case inner != 0 && ch == '{':
			// A later duplicate of the key replaces the whole object, and with it
			// anything found inside the earlier one.
			for f := range 2 {
				if inner&(1<<f) != 0 {
					d.found[f] = field{}
				}
			}
			if depth+1 > maxDepth {
				return -1 - i, false
			}
			e, ok := d.scanObject(b, i, depth+1, lvl+1, inner, c)
			if !ok {
				return e, false
			}
			i = e
		default:
			e, ok := d.skipValue(b, i, depth)
			if !ok {
				// A too-deep value is reported where it starts.
				if e < 0 {
					return -1 - i, false
				}
				return e, false
			}
			if leaf != 0 {
				d.found[leaf-1] = field{state: fieldOther, start: i, end: e}
			}
			for f := range 2 {
				if inner&(1<<f) != 0 {
					d.found[f] = field{} // not an object: the path leads nowhere
				}
			}
			i = e
		}

		// A comma and the next key, or the end of the object.
		i = skipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		if b[i] == '}' {
			return i + 1, true
		}
		if b[i] != ',' {
			return i, false
		}
		i = skipWS(b, i+1)
	}
}

// keyIs reports whether the raw key (a validated string body; esc when it holds a
// backslash) decodes to s's key, as encoding/json would decode it.
func (d *FrameDecoder) keyIs(raw []byte, esc bool, s *segment) bool {
	if !esc {
		if len(raw) == len(s.key) && s.literal && string(raw) == s.key {
			return true
		}
		// A raw key without escapes is itself, unless invalid UTF-8 in it becomes U+FFFD.
		if !s.repl || utf8.Valid(raw) {
			return false
		}
	}
	// Unescaping turns 1 raw byte into at most 3 (U+FFFD) and 6 into at least 1 (\u0041).
	if 3*len(raw) < len(s.key) || len(raw) > 6*len(s.key) {
		return false
	}
	d.key = appendUnquote(d.key[:0], raw)
	return string(d.key) == s.key
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

// scanString scans the body of a string whose opening quote is at b[i-1]. It
// returns the index of the closing quote and whether the body holds an escape,
// or the offset of the offending byte and false. Control characters are
// rejected and escapes validated; other bytes (invalid UTF-8 included) pass,
// as in encoding/json.
func scanString(b []byte, i int) (int, bool, bool) {
	esc := false
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
				i += 8
				continue
			}
			i += bits.TrailingZeros64(z) >> 3
			break
		}
		if i >= len(b) {
			return i, esc, false
		}
		switch c := b[i]; {
		case c == '"':
			return i, esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return i + 1, esc, false
			}
			switch escapeLen[b[i+1]] {
			case 2:
				i += 2
			case 6:
				for k := 2; k <= 5; k++ {
					if i+k >= len(b) || !isHex(b[i+k]) {
						return i + k, esc, false
					}
				}
				i += 6
			default:
				return i + 1, esc, false
			}
		case c < 0x20:
			return i, esc, false
		default:
			i++
		}
	}
}

// escapeLen is the length of the escape sequence that starts with '\\' and
// the index byte: 2 for the one-letter escapes, 6 for \uXXXX, 0 for none.
var escapeLen = [256]uint8{
	'"': 2, '\\': 2, '/': 2, 'b': 2, 'f': 2, 'n': 2, 'r': 2, 't': 2, 'u': 6,
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
