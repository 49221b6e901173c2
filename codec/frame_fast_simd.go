//go:build goexperiment.simd && amd64

package codec

import (
	"math/bits"
	"simd/archsimd"
)

// The structural scanner: with AVX2, every byte of a 64-byte block is classified at once
// (quote, backslash, below 0x21, each structural character, valid escape letter), so the
// whole grammar can be checked on bitmaps, as simdjson does, instead of token by token:
//
//   - Strings: escapes resolved with word arithmetic (find_escaped_branchless), the real
//     quotes' parity marks the bytes inside strings (prefixXor), and inside them no control
//     character and no invalid escape is allowed.
//   - Structure: the brackets are walked in order, without branches, with the kinds of the
//     open containers as a bit stack in a register (the only per-token loop, a few dozen
//     brackets a frame), which yields for every byte the kind of its innermost container
//     and whether that is the root object. Every other grammar rule is about which token
//     may follow which: a token's end shifted by one byte (and through whitespace with an
//     add, nextWS) is the start of the next token, and each class of token ends has a
//     bitmap of allowed followers (after '{' a key or '}', after a key ':', after ':' a
//     value, after a value ',' or its container's closer, ...). Keys are the strings after
//     '{' or an object's ','; adding their openers to the inside-string bits carries
//     through each key to its closing quote.
//   - Numbers and literals, a handful a frame, are checked byte by byte after the blocks.
//
// So nested values at the root are skipped whole, their brackets only counted, and still
// validated. The root keys, known from the bitmaps, are then compared with the fields' keys.
// Anything that fails, or that the scanner does not handle (a root that is no object, lines
// beyond fastMaxLine, nesting beyond 63, more than fastMaxKeys root keys or numbers), goes
// to the general scanner, which also writes the error message.

const (
	fastBlocks  = 1024
	fastMaxLine = fastBlocks * 64
)

// The bytes the structural scanner classifies, broadcast once (as locals they were
// broadcast and spilled to the stack at every call's entry, 6 % of a frame's decode), and
// only for the widths the CPU has: a broadcast is itself an AVX2 or AVX-512 instruction.
var (
	vQuote, vBack, vCtrl, vLow, vBrk, vOr, vColon, vComma, v20, vOpen, vClose archsimd.Uint8x32
	vU, vSlash, vB, vF, vN, vR, vT                                            archsimd.Uint8x32
	wQuote, wBack, wLow, wBrk, wOr, wColon, wComma, w20, wOpen, wClose        archsimd.Uint8x64
	wU, wSlash, wB, wF, wN, wR, wT                                            archsimd.Uint8x64
)

func init() {
	if useAVX2 {
		vQuote, vBack = archsimd.BroadcastUint8x32('"'), archsimd.BroadcastUint8x32('\\')
		vCtrl, vLow = archsimd.BroadcastUint8x32(0x1f), archsimd.BroadcastUint8x32(0x20)
		vBrk, vOr = archsimd.BroadcastUint8x32(0x7f), archsimd.BroadcastUint8x32(0x06)
		v20, vOpen, vClose = archsimd.BroadcastUint8x32(0x20), archsimd.BroadcastUint8x32('{'), archsimd.BroadcastUint8x32('}')
		vColon, vComma = archsimd.BroadcastUint8x32(':'), archsimd.BroadcastUint8x32(',')
		vU, vSlash = archsimd.BroadcastUint8x32('u'), archsimd.BroadcastUint8x32('/')
		vB, vF = archsimd.BroadcastUint8x32('b'), archsimd.BroadcastUint8x32('f')
		vN, vR, vT = archsimd.BroadcastUint8x32('n'), archsimd.BroadcastUint8x32('r'), archsimd.BroadcastUint8x32('t')
	}
	if useAVX512 {
		wQuote, wBack = archsimd.BroadcastUint8x64('"'), archsimd.BroadcastUint8x64('\\')
		wLow, wBrk, wOr = archsimd.BroadcastUint8x64(0x20), archsimd.BroadcastUint8x64(0x7f), archsimd.BroadcastUint8x64(0x06)
		w20, wOpen, wClose = archsimd.BroadcastUint8x64(0x20), archsimd.BroadcastUint8x64('{'), archsimd.BroadcastUint8x64('}')
		wColon, wComma = archsimd.BroadcastUint8x64(':'), archsimd.BroadcastUint8x64(',')
		wU, wSlash = archsimd.BroadcastUint8x64('u'), archsimd.BroadcastUint8x64('/')
		wB, wF = archsimd.BroadcastUint8x64('b'), archsimd.BroadcastUint8x64('f')
		wN, wR, wT = archsimd.BroadcastUint8x64('n'), archsimd.BroadcastUint8x64('r'), archsimd.BroadcastUint8x64('t')
	}
}

// fastScratch keeps, per block of the line, the real quotes and the openers of the root
// object's keys.
type fastScratch struct {
	quote, back [fastBlocks + 1]uint64
	// The root keys' opening quotes and the numbers' and literals' starts (bit 31: in an
	// object), in order, with room for the unconditional writes.
	keys    [fastMaxKeys + 2]uint16
	scalars [fastMaxKeys + 2]uint32
}

// fastMaxKeys bounds the root keys and the scalars of a line the fast scanner takes.
const fastMaxKeys = 1024

// scanFast validates b and records the fields of c (both root keys) in d.found. It reports
// false when b is invalid or not for it; d.found is then undefined.
func (d *FrameDecoder) scanFast(b []byte, c *frameConfig) bool {
	if !useAVX2 || len(b) > fastMaxLine {
		return false
	}
	start := skipWS(b, 0)
	if start >= len(b) || b[start] != '{' {
		return false
	}
	fs := &d.fast
	var (
		escC, inC, sbC, kcC uint64
		sh                  uint64 // the bit-63 token ends of the last block, a bit per class below
		wc                  uint64 // the same for whitespace runs reaching the block's end
		depth, nblk         int
		nkeys, nscal        int
		stk                 uint64 // the open containers' kinds, innermost in bit 0 (1 = object)
		rootEnd             = -1
		pad                 [64]byte
	)
	for a := 0; a < len(b); a += 64 {
		p := &pad
		if a+64 <= len(b) {
			p = (*[64]byte)(b[a : a+64])
		} else {
			for j := copy(pad[:], b[a:]); j < 64; j++ {
				pad[j] = ' '
			}
		}
		var quote, back, ctrl, low, opn, cls, curly, colon, comma uint64
		var v archsimd.Uint8x64
		var lo, hi archsimd.Uint8x32
		if useAVX512 {
			// One 64-byte vector; each compare gives its bitmap as a mask register.
			v = archsimd.LoadUint8x64(p)
			quote, back = v.Equal(wQuote).ToBits(), v.Equal(wBack).ToBits()
			ctrl, low = v.Less(wLow).ToBits(), v.LessEqual(wLow).ToBits()
			// { [ and } ]: byte | 0x20 is { or }; { } y DEL: byte | 0x06 is DEL.
			v20 := v.Or(w20)
			opn, cls, curly = v20.Equal(wOpen).ToBits(), v20.Equal(wClose).ToBits(), v.Or(wOr).Equal(wBrk).ToBits()
			colon, comma = v.Equal(wColon).ToBits(), v.Equal(wComma).ToBits()
		} else {
			lo = archsimd.LoadUint8x32((*[32]uint8)(p[:32]))
			hi = archsimd.LoadUint8x32((*[32]uint8)(p[32:]))
			quote = uint64(lo.Equal(vQuote).ToBits()) | uint64(hi.Equal(vQuote).ToBits())<<32
			back = uint64(lo.Equal(vBack).ToBits()) | uint64(hi.Equal(vBack).ToBits())<<32
			// Below 0x20 and below 0x21: where max(byte, x) is x.
			ctrl = uint64(lo.Max(vCtrl).Equal(vCtrl).ToBits()) | uint64(hi.Max(vCtrl).Equal(vCtrl).ToBits())<<32
			low = uint64(lo.Max(vLow).Equal(vLow).ToBits()) | uint64(hi.Max(vLow).Equal(vLow).ToBits())<<32
			// { [ and } ]: byte | 0x20 is { or }; { } y DEL: byte | 0x06 is DEL.
			lo20, hi20 := lo.Or(v20), hi.Or(v20)
			opn = uint64(lo20.Equal(vOpen).ToBits()) | uint64(hi20.Equal(vOpen).ToBits())<<32
			cls = uint64(lo20.Equal(vClose).ToBits()) | uint64(hi20.Equal(vClose).ToBits())<<32
			curly = uint64(lo.Or(vOr).Equal(vBrk).ToBits()) | uint64(hi.Or(vOr).Equal(vBrk).ToBits())<<32
			colon = uint64(lo.Equal(vColon).ToBits()) | uint64(hi.Equal(vColon).ToBits())<<32
			comma = uint64(lo.Equal(vComma).ToBits()) | uint64(hi.Equal(vComma).ToBits())<<32
		}

		// Escapes and strings.
		back &^= escC
		follows := back<<1 | escC
		seqEven, co := bits.Add64(back&^evenBits&^follows, back, 0)
		escaped := (evenBits ^ seqEven<<1) & follows
		escC = co
		quote &^= escaped
		in := prefixXor(quote) ^ inC // inside strings: opening quote to before the closing one
		inC = uint64(int64(in) >> 63)
		opens, closes := quote&in, quote&^in
		out := ^(in | closes)
		if ctrl&in != 0 {
			return false // a control character in a string
		}
		if escaped != 0 {
			// Escaped bytes must be " / \ b f n r t, or u and four hex digits.
			var simple, uu uint64
			if useAVX512 {
				ok := v.Equal(wQuote).Or(v.Equal(wBack)).Or(v.Equal(wSlash)).Or(v.Equal(wB))
				ok = ok.Or(v.Equal(wF)).Or(v.Equal(wN)).Or(v.Equal(wR)).Or(v.Equal(wT))
				simple, uu = ok.ToBits(), v.Equal(wU).ToBits()
			} else {
				ok := lo.Equal(vQuote).Or(lo.Equal(vBack)).Or(lo.Equal(vSlash)).Or(lo.Equal(vB))
				ok = ok.Or(lo.Equal(vF)).Or(lo.Equal(vN)).Or(lo.Equal(vR)).Or(lo.Equal(vT))
				ok2 := hi.Equal(vQuote).Or(hi.Equal(vBack)).Or(hi.Equal(vSlash)).Or(hi.Equal(vB))
				ok2 = ok2.Or(hi.Equal(vF)).Or(hi.Equal(vN)).Or(hi.Equal(vR)).Or(hi.Equal(vT))
				simple = uint64(ok.ToBits()) | uint64(ok2.ToBits())<<32
				uu = uint64(lo.Equal(vU).ToBits()) | uint64(hi.Equal(vU).ToBits())<<32
			}
			if u := escaped &^ simple; u != 0 {
				if u&^uu != 0 || !hexAfter(b, a, u) {
					return false
				}
			}
		}

		// Structure outside strings.
		opn, cls = opn&out, cls&out
		brk := opn | cls
		obj := curly & brk
		col, com := colon&out, comma&out
		w := low & out
		if ctrl&out != 0 && !onlyWhitespace(b, a, ctrl&out) {
			return false
		}
		sb := out &^ (w | brk | col | com) // bytes of numbers and literals
		scalars := sb &^ (sb<<1 | sbC)
		sbC = sb >> 63

		// The brackets, in order: their kinds, the kind of each byte's innermost container
		// (ctx, after the byte's own token) and whether that is the root object (root).
		ob, ab, oc, ac := opn&obj, opn&^obj, cls&obj, cls&^obj
		var ctx, root uint64
		prev := 0
		var bad uint64
		for br := brk; br != 0; br &= br - 1 {
			// Without branches: the containers' kinds are a bit stack in stk (the fast
			// scanner leaves nesting beyond 63 to the general one).
			i := bits.TrailingZeros64(br)
			span := rangeMask(prev, i)
			ctx |= span & -(stk & 1)
			root |= span & -b2u(depth == 1)
			prev = i
			isObj, isOpen := obj>>i&1, opn>>i&1
			isClose := isOpen ^ 1
			bad |= isClose & (stk ^ isObj) & 1 // a closer of the other kind
			bad |= isOpen & b2u(rootEnd >= 0)  // data after the object
			mo := -isOpen
			stk = (stk<<1|isObj)&mo | stk>>1&^mo
			depth += int(isOpen) - int(isClose)
			bad |= b2u(depth < 0) | b2u(depth > 63)
			if isClose&b2u(depth == 0) != 0 {
				rootEnd = a + i
			}
		}
		cur, d1 := stk&1, b2u(depth == 1)
		span := rangeMask(prev, 64)
		ctx |= span & -cur
		root |= span & -d1
		if rootEnd >= 0 {
			// Everything after the root object must be whitespace.
			after := ^uint64(0)
			if rootEnd >= a {
				after = rangeMask(rootEnd-a+1, 64)
			}
			if (out&^w|in|closes)&after != 0 {
				return false
			}
		}

		// Which token may follow which. The classes of token ends, a bit each in sh and wc.
		const (
			cOb = 1 << iota
			cComObj
			cAb
			cValue
			cKeyEnd
			cEndObj
			cEndArr
		)
		var nOb, nCo, nAb, nV uint64
		if w == 0 && wc == 0 {
			// No whitespace here (compact frames): the next token starts on the next byte.
			nOb, nCo = ob<<1|sh&cOb, com&ctx<<1|sh>>1&1
		} else {
			nOb, nCo = nextWS(ob, w, sh&cOb, &wc, cOb), nextWS(com&ctx, w, sh>>1&1, &wc, cComObj)
		}
		bad |= nOb&^(opens|oc) | nCo&^opens
		keys := opens & (nOb | nCo)
		values := opens&^keys | scalars | ob | ab
		t, co2 := bits.Add64(in, keys, kcC) // carries through each key to its closing quote
		kcC = co2
		keyEnds := t &^ in & closes
		ends := closes&^keyEnds | oc | ac
		if rootEnd >= a {
			ends &^= 1 << (rootEnd - a)
		}
		value, endObj, endArr := col|com&^ctx, ends&ctx, ends&^ctx
		if w == 0 && wc == 0 {
			nAb, nV = ab<<1|sh>>2&1, value<<1|sh>>3&1
			bad |= nAb&^(values|ac) | nV&^values |
				(keyEnds<<1|sh>>4&1)&^col |
				(endObj<<1|sh>>5&1)&^(com|oc) |
				(endArr<<1|sh>>6&1)&^(com|ac)
		} else {
			nAb, nV = nextWS(ab, w, sh>>2&1, &wc, cAb), nextWS(value, w, sh>>3&1, &wc, cValue)
			bad |= nAb&^(values|ac) | nV&^values |
				nextWS(keyEnds, w, sh>>4&1, &wc, cKeyEnd)&^col |
				nextWS(endObj, w, sh>>5&1, &wc, cEndObj)&^(com|oc) |
				nextWS(endArr, w, sh>>6&1, &wc, cEndArr)&^(com|ac)
		}
		if bad != 0 {
			return false
		}
		sh = ob>>63 | (com&ctx)>>63<<1 | ab>>63<<2 | value>>63<<3 | keyEnds>>63<<4 | endObj>>63<<5 | endArr>>63<<6
		// The root keys and the scalars, for after the loop: two of each are written
		// whatever, the rest only when there are more.
		if nkeys > fastMaxKeys || nscal > fastMaxKeys {
			return false
		}
		rk := keys & root
		fs.keys[nkeys] = uint16(a + bits.TrailingZeros64(rk))
		fs.keys[nkeys+1] = uint16(a + bits.TrailingZeros64(rk&(rk-1)))
		if n := bits.OnesCount64(rk); n > 2 {
			r := rk & (rk - 1)
			for j := nkeys + 2; r&(r-1) != 0; j++ {
				if j > fastMaxKeys {
					return false
				}
				r &= r - 1
				fs.keys[j] = uint16(a + bits.TrailingZeros64(r))
			}
			nkeys += n
		} else {
			nkeys += n
		}
		i0 := bits.TrailingZeros64(scalars)
		fs.scalars[nscal] = uint32(a+i0) | uint32(ctx>>(i0&63))<<31
		if n := bits.OnesCount64(scalars); n > 1 {
			r := scalars & (scalars - 1)
			for j := nscal + 1; r != 0; j++ {
				if j > fastMaxKeys {
					return false
				}
				i := bits.TrailingZeros64(r)
				fs.scalars[j] = uint32(a+i) | uint32(ctx>>i)<<31
				r &= r - 1
			}
			nscal += n
		} else {
			nscal += n
		}
		fs.quote[nblk], fs.back[nblk] = quote, back
		nblk++
	}
	// The line must end after the root object, with no token waiting for a successor.
	if inC != 0 || rootEnd < 0 || sh|wc != 0 {
		return false
	}

	for _, sc := range fs.scalars[:nscal] {
		if !scalarOK(b, int(sc&^(1<<31)), sc>>31 != 0) {
			return false
		}
	}

	// The root keys, in order: the last one of each field wins. Most fail the filter on
	// their length, first byte and escapes, computed without branches.
	d.found = [2]field{}
	kf := &c.levels[0][1<<fieldUID|1<<fieldTS]
	all := b2u(kf.all)
	fs.back[nblk] = 0
	for _, o := range fs.keys[:nkeys] {
		{ // (a block keeps the diff of the loop body small)
			ks := int(o) + 1
			ke := fs.nextQuote(ks, nblk)
			n := uint(min(ke-ks, 63))
			c0 := b[ks]
			o := uint(ks & 63)
			// The key's backslashes (a key longer than 63 bytes passes as if it had one).
			bs := (fs.back[ks>>6]>>o | fs.back[ks>>6+1]<<(63-o)<<1) & (1<<n - 1)
			exact := kf.exact >> n & 1 & (kf.first[c0>>6] >> (c0 & 63))
			esc := kf.esc >> n & (b2u(bs != 0) | b2u(n == 63))
			if (exact|esc)&1|all == 0 {
				continue
			}
			leaf, _ := d.matchKey(b, ks, ke, 1, 1<<fieldUID|1<<fieldTS, c)
			if leaf == 0 {
				continue
			}
			v := skipWS(b, skipWS(b, ke+1)+1) // past the colon
			switch ch := b[v]; {
			case ch == '"':
				d.found[leaf-1] = field{state: fieldString, start: v + 1, end: fs.nextQuote(v+1, nblk)}
			case ch == '-' || ch-'0' <= 9:
				e, flags, _ := scanNumber(b, v)
				d.found[leaf-1] = field{state: fieldNumber, flags: flags, start: v, end: e}
			default:
				d.found[leaf-1] = field{state: fieldOther, start: v}
			}
		}
	}
	return true
}

// rangeMask has the bits [a, b) set, 0 <= a <= b <= 64.
func rangeMask(a, b int) uint64 {
	return ^uint64(0) << a & (uint64(1)<<b - 1) // 1<<64 is 0 in Go
}

// nextWS moves each token end in x to the start of the token after it: one byte on (sh is
// the previous block's bit 63), then through the whitespace w, which adding carries
// through; class is x's bit in wc, which keeps the carry out of the block.
func nextWS(x, w, sh uint64, wc *uint64, class uint64) uint64 {
	t, c := bits.Add64(x<<1|sh, w, b2u(*wc&class != 0))
	*wc = *wc&^class | -c&class
	return t &^ w
}

// nextQuote returns the first real quote at or after i.
func (fs *fastScratch) nextQuote(i, nblk int) int {
	k := i >> 6
	q := fs.quote[k] >> (i & 63)
	if q != 0 {
		return i + bits.TrailingZeros64(q)
	}
	for k++; k < nblk; k++ {
		if fs.quote[k] != 0 {
			return k*64 + bits.TrailingZeros64(fs.quote[k])
		}
	}
	return -1 // not reached on a validated line
}

// hexAfter checks that each escaped 'u' in u (the block at a) has four hex digits after it.
func hexAfter(b []byte, a int, u uint64) bool {
	for ; u != 0; u &= u - 1 {
		p := a + bits.TrailingZeros64(u)
		for j := p + 1; j <= p+4; j++ {
			if j >= len(b) || !isHex(b[j]) {
				return false
			}
		}
	}
	return true
}

// onlyWhitespace checks that the bytes of w (below 0x21, outside strings, the block at a)
// are JSON whitespace; the padding after the line's end is.
func onlyWhitespace(b []byte, a int, w uint64) bool {
	for ; w != 0; w &= w - 1 {
		if p := a + bits.TrailingZeros64(w); p < len(b) {
			if c := b[p]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		}
	}
	return true
}

// scalarOK checks the number or literal starting at b[p]: it must end where the run of
// scalar bytes ends, and be followed by ',' or its container's closer.
func scalarOK(b []byte, p int, inObject bool) bool {
	var e int
	var ok bool
	switch b[p] {
	case 't':
		e, ok = scanLiteral(b, p, "true")
	case 'f':
		e, ok = scanLiteral(b, p, "false")
	case 'n':
		e, ok = scanLiteral(b, p, "null")
	default:
		e, _, ok = scanNumber(b, p)
	}
	if !ok {
		return false
	}
	e = skipWS(b, e)
	if e >= len(b) {
		return false
	}
	switch b[e] {
	case ',':
		return true
	case '}':
		return inObject
	case ']':
		return !inObject
	}
	return false
}

func b2u(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}
