package codec

import (
	"bytes"
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
//
// It is one loop over the bytes outside strings, a state machine whose states are the
// labels below: the containers open are a depth and a bit stack of their kinds (d.kinds),
// and the objects on the configured paths (the root, and an object under a path's inner
// key inside another) are the depths 1..pathDepth, with acts saying which paths pass
// through each. Only there are keys compared. Strings are skipped through the first pass's
// quote list, so their bytes are never looked at here.
func (d *FrameDecoder) scan(b []byte, c *frameConfig) (off int, what string) {
	d.found = [2]field{}
	d.qx.reset()
	x := &d.qx
	var (
		i, e, depth, pathDepth int
		ok, isObj              bool
		leaf, inner, lf, in    uint8
		flags                  uint8
		acts                   [maxPathKeys + 2]uint8
	)
	i = skipWS(b, 0)
	if i >= len(b) {
		return i, errEOF
	}
	if b[i] != '{' {
		if isValueStart(b[i]) {
			return i, errNotObject
		}
		return i, errChar
	}
	depth, pathDepth = 1, 1
	d.kinds[0] |= 1 << 1
	acts[1] = 1<<fieldUID | 1<<fieldTS
	i++

objStart: // after a '{'
	i = skipWS(b, i)
	if i < len(b) && b[i] == '}' {
		goto closeOne
	}

key: // a member's key, its colon, and the start of its value
	if i >= len(b) || b[i] != '"' {
		return i, syntaxWhat(b, i)
	}
	// Members "key":"value" are the bulk of frames: take them, as long as they come one
	// after another (joined by ,"), straight from the quote list: the four quotes, and
	// the two bytes between them. (The value's quote right after the colon shows it is
	// a string.)
	for x.next+3 < x.n && x.base+int(x.pos[x.next]) == i {
		e = x.base + int(x.pos[x.next+1])
		if v := x.base + int(x.pos[x.next+2]); v != e+2 || b[e+1] != ':' {
			break
		}
		if depth == pathDepth {
			kf := &c.levels[depth-1][acts[depth]]
			if n := uint64(1) << min(e-i-1, 63); kf.exact&n != 0 && kf.first[b[i+1]>>6]&(1<<(b[i+1]&63)) != 0 || kf.all || kf.esc&n != 0 && x.hasBackslash(b, i+1, e) {
				if lf, _ = d.matchKey(b, i+1, e, depth, acts[depth], c); lf != 0 {
					d.found[lf-1] = field{state: fieldString, start: e + 3, end: x.base + int(x.pos[x.next+3])}
				}
			}
		}
		i = x.base + int(x.pos[x.next+3]) + 1
		x.next += 4
		if i+1 >= len(b) || b[i] != ',' || b[i+1] != '"' {
			goto valueEnd
		}
		i++
	}
	// The string's end from the quote list, or from strSlow beyond it.
	if x.next+1 < x.n && x.base+int(x.pos[x.next]) == i {
		e = x.base + int(x.pos[x.next+1])
		x.next += 2
	} else if e, ok = d.strSlow(b, i); !ok {
		return e, syntaxWhat(b, e)
	}
	if depth == pathDepth {
		kf := &c.levels[depth-1][acts[depth]]
		if n := uint64(1) << min(e-i-1, 63); kf.exact&n != 0 && kf.first[b[i+1]>>6]&(1<<(b[i+1]&63)) != 0 || kf.all || kf.esc&n != 0 && x.hasBackslash(b, i+1, e) {
			leaf, inner = d.matchKey(b, i+1, e, depth, acts[depth], c)
		}
	}
	i = e + 1
	if i >= len(b) || b[i] != ':' {
		if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
			return i, syntaxWhat(b, i)
		}
	}
	i = skipWS(b, i+1)

value: // a value at b[i]; lf and in say whether a path's last or inner key names it
	lf, in, leaf, inner = leaf, inner, 0, 0
	if i >= len(b) {
		return i, errEOF
	}
	switch b[i] {
	case '"':
		if x.next+1 < x.n && x.base+int(x.pos[x.next]) == i {
			e = x.base + int(x.pos[x.next+1])
			x.next += 2
		} else if e, ok = d.strSlow(b, i); !ok {
			return e, syntaxWhat(b, e)
		}
		if lf != 0 {
			d.found[lf-1] = field{state: fieldString, start: i + 1, end: e}
		}
		i = e + 1
		goto valueEnd
	case '{':
		if lf != 0 {
			d.found[lf-1] = field{state: fieldOther, start: i}
		}
		if depth++; depth > maxDepth {
			return i, errDepth
		}
		d.kinds[depth>>6] |= 1 << (depth & 63)
		if in != 0 {
			pathDepth, acts[depth] = depth, in
		}
		i++
		goto objStart
	case '[':
		if lf != 0 {
			d.found[lf-1] = field{state: fieldOther, start: i}
		}
		if depth++; depth > maxDepth {
			return i, errDepth
		}
		d.kinds[depth>>6] &^= 1 << (depth & 63)
		if i = skipWS(b, i+1); i < len(b) && b[i] == ']' {
			goto closeOne
		}
		goto value
	case 't':
		e, ok = scanLiteral(b, i, "true")
	case 'f':
		e, ok = scanLiteral(b, i, "false")
	case 'n':
		e, ok = scanLiteral(b, i, "null")
	default:
		if e, flags, ok = scanNumber(b, i); ok && lf != 0 {
			d.found[lf-1] = field{state: fieldNumber, flags: flags, start: i, end: e}
			lf = 0
		}
	}
	if !ok {
		return e, syntaxWhat(b, e)
	}
	if lf != 0 {
		d.found[lf-1] = field{state: fieldOther, start: i}
	}
	i = e

valueEnd: // after a value: a comma and the next member, or the container's end
	if i >= len(b) || b[i] <= ' ' {
		if i = skipWS(b, i); i >= len(b) {
			return i, errEOF
		}
	}
	isObj = d.kinds[depth>>6]&(1<<(depth&63)) != 0
	switch b[i] {
	case ',':
		i = skipWS(b, i+1)
		if isObj {
			goto key
		}
		goto value
	case '}':
		if isObj {
			goto closeOne
		}
	case ']':
		if !isObj {
			goto closeOne
		}
	}
	return i, errChar

closeOne: // b[i] closes the container at depth
	i++
	if depth == pathDepth {
		pathDepth--
	}
	if depth--; depth > 0 {
		goto valueEnd
	}
	if i = skipWS(b, i); i != len(b) {
		return i, errTrailing
	}
	return 0, ""
}

// matchKey compares the raw key b[ks:ke] of an object on the paths, at depth, with the
// paths in act (scan filters the keys first by length, first byte and escapes). It returns which field's path ends at this key (field+1, or 0), and which
// paths go on through it, resetting what those found so far: a later duplicate of the key
// replaces the whole value, and with it anything found in the earlier one.
func (d *FrameDecoder) matchKey(b []byte, ks, ke, depth int, act uint8, c *frameConfig) (leaf, inner uint8) {
	for f := range 2 {
		if act&(1<<f) == 0 {
			continue
		}
		p := c.paths[f]
		if d.keyIs(b[ks:ke], &p[depth-1]) {
			if depth == len(p) {
				leaf = uint8(f) + 1
			} else {
				inner |= 1 << f
				d.found[f] = field{}
			}
		}
	}
	return leaf, inner
}

// isValueStart reports whether c can start a JSON value.
func isValueStart(c byte) bool {
	return c == '"' || c == '[' || c == '{' || c == '-' || c-'0' <= 9 || c == 't' || c == 'f' || c == 'n'
}

// keyIs reports whether the raw key (a validated string body) decodes to s's key, as
// encoding/json would decode it.
func (d *FrameDecoder) keyIs(raw []byte, s *segment) bool {
	n := len(raw)
	if n == len(s.key) && s.literal && string(raw) == s.key {
		return true
	}
	if !s.repl && (n < s.minEsc || n > s.maxEsc) {
		return false // the cheap verdict on nearly every key
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		// A raw key without escapes is itself, unless invalid UTF-8 in it becomes U+FFFD.
		if !s.repl || utf8.Valid(raw) {
			return false
		}
	}
	// Unescaping turns 1 raw byte into at most 3 (U+FFFD) and 6 into at least 1 (\u0041).
	if 3*n < len(s.key) || n > 6*len(s.key) {
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
