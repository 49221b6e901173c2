package codec

import (
	"bytes"
	"math/bits"
)

// Strings are found with structural bitmaps over 64-byte blocks, as simdjson does. A first
// pass (refill) runs over the line block by block, ahead of the grammar scanner:
// classifyBlock (portable or SIMD) gives a bit per byte for quotes and backslashes and says
// whether any byte is a control character; word arithmetic then resolves which bytes are
// escaped, so which quotes are real, without looking at escapes one by one; and the real
// quotes' offsets are written, in order, to a list. The grammar scanner reads everything
// outside strings byte by byte, and when it meets a string's opening quote, the next two
// entries of the list are that quote and the string's closing one: in valid JSON every real
// quote opens or closes a string, so the string is skipped in O(1) whatever it holds.
//
// The same pass validates what encoding/json rejects inside strings: an escape other than
// \" \\ \/ \b \f \n \r \t \uXXXX, and a raw control character. Which bytes are inside a
// string follows from the parity of the real quotes since the start of the line. A valid
// line never trips either check (outside strings it holds no backslash, and its only
// control characters are whitespace, which the parity puts outside). A line that trips one
// outside a string is invalid anyway, as the grammar scanner would reject the backslash or
// the quote out of place: the verdict, ErrSyntax, is the same; only its offset may be a
// later one.

// chunkBlocks is how many blocks one refill scans: 4 KiB of line, so the quote list and the
// decoder stay small whatever the line's length, and a 2 KB frame takes one refill.
const chunkBlocks = 64

// quoteIndex is the first pass's output and state for one line.
type quoteIndex struct {
	// pos holds the real quotes' offsets from base, pos[next:n] those not yet used. The
	// slack lets refill write eight offsets at a time unconditionally.
	pos [chunkBlocks*64 + 8]uint16
	// back holds the chunk's backslashes, a word per block, for hasBackslash.
	back    [chunkBlocks]uint64
	n, next int
	base    int    // the line offset pos is relative to: where the last refill began
	end     int    // where the first pass stopped
	carry   uint64 // 1 when the byte at end is escaped
	in      uint64 // all ones when the byte at end is inside a string
}

// reset starts a new line.
func (x *quoteIndex) reset() {
	x.n, x.next, x.base, x.end, x.carry, x.in = 0, 0, 0, 0, 0, 0
}

// hasBackslash reports whether b[s:e] holds a backslash.
func (x *quoteIndex) hasBackslash(b []byte, s, e int) bool {
	i, j := s-x.base, e-x.base
	if i < 0 || j > x.end-x.base || j-i > 64 {
		return bytes.IndexByte(b[s:e], '\\') >= 0 // not (all) in this chunk's bitmaps
	}
	if j <= i {
		return false
	}
	w0, w1 := i>>6, (j-1)>>6
	lo := x.back[w0] >> (i & 63)
	if w0 == w1 {
		return lo&(1<<(j-i)-1) != 0
	}
	return lo != 0 || x.back[w1]&(1<<(j&63)-1) != 0
}

// Constants of the word arithmetic.
const (
	evenBits = 0x5555555555555555
	m7f      = 0x7f7f7f7f7f7f7f7f
)

// strSlow returns the index of the closing quote of the string whose opening quote is b[p],
// or the offset of the offending byte and false, when the quotes lie beyond the quote list
// (the grammar scanner takes them from the list itself while it can).
func (d *FrameDecoder) strSlow(b []byte, p int) (int, bool) {
	open, ok := d.nextQuote(b)
	if !ok {
		return open, false
	}
	if open != p {
		// The grammar scanner met a quote the first pass found escaped: only a backslash
		// outside a string does that, and the scanner rejects it before; be safe anyway.
		return p, false
	}
	return d.nextQuote(b)
}

// nextQuote returns the next real quote of the line, running the first pass further when
// needed; at the end of the line it returns len(b) and false.
func (d *FrameDecoder) nextQuote(b []byte) (int, bool) {
	x := &d.qx
	for x.next >= x.n {
		if x.end >= len(b) {
			return len(b), false
		}
		if at, ok := d.refill(b); !ok {
			return at, false
		}
	}
	q := x.base + int(x.pos[x.next])
	x.next++
	return q, true
}

// refill runs the first pass over the next chunk of the line, replacing the quote list. It
// returns the offset of the first invalid escape or control character inside a string and
// false when there is one.
func (d *FrameDecoder) refill(b []byte) (int, bool) {
	x := &d.qx
	base, carry, in := x.end, x.carry, x.in
	n := 0
	a := base
	stop := min(len(b), a+chunkBlocks*64)
	for ; a < stop; a += 64 {
		var quote, back uint64
		var ctrl bool
		if a+64 <= len(b) {
			quote, back, ctrl = classifyBlock((*[64]byte)(b[a : a+64]))
		} else {
			quote, back, ctrl = classifyTail(b[a:])
		}

		// The escaped bytes: those after an odd-length run of backslashes (simdjson's
		// find_escaped_branchless). Adding a run's start to the run carries through it, so
		// where the carry stops tells whether the run started on an even or an odd bit.
		back &^= carry // an escaped backslash starts no run
		follows := back<<1 | carry
		oddStarts := back &^ evenBits &^ follows
		seqEven, carryOut := bits.Add64(oddStarts, back, 0)
		escaped := (evenBits ^ seqEven<<1) & follows
		carry = carryOut
		quote &^= escaped
		x.back[(a-base)>>6] = back

		// The real quotes' offsets, eight at a time (the tail of each eight is overwritten
		// by the next block's).
		off := uint16(a - base)
		pos := (*[8]uint16)(x.pos[n : n+8])
		q := quote
		pos[0] = off + uint16(bits.TrailingZeros64(q))
		q &= q - 1
		pos[1] = off + uint16(bits.TrailingZeros64(q))
		q &= q - 1
		pos[2] = off + uint16(bits.TrailingZeros64(q))
		q &= q - 1
		pos[3] = off + uint16(bits.TrailingZeros64(q))
		q &= q - 1
		pos[4] = off + uint16(bits.TrailingZeros64(q))
		q &= q - 1
		pos[5] = off + uint16(bits.TrailingZeros64(q))
		q &= q - 1
		pos[6] = off + uint16(bits.TrailingZeros64(q))
		q &= q - 1
		pos[7] = off + uint16(bits.TrailingZeros64(q))
		q &= q - 1
		cnt := bits.OnesCount64(quote)
		if q != 0 {
			for j := n + 8; q != 0; j++ {
				x.pos[j] = off + uint16(bits.TrailingZeros64(q))
				q &= q - 1
			}
		}
		n += cnt

		// Every escaped byte must make a valid escape: the common two-byte ones pass a
		// table lookup here; anything else (\u, or invalid) sends the block to checkEscapes.
		for e := escaped; e != 0; e &= e - 1 {
			if p := a + bits.TrailingZeros64(e); p >= len(b) || escapeLen[b[p]] != 2 {
				if at, ok := checkEscapes(b, a, escaped); !ok {
					return at, false
				}
				break
			}
		}

		// No control character inside a string.
		if ctrl {
			if at, ok := checkControl(b, a, prefixXor(quote)^in); !ok {
				return at, false
			}
		}
		in ^= -uint64(cnt & 1)
	}
	x.base, x.n, x.next, x.end, x.carry, x.in = base, n, 0, a, carry, in
	return 0, true
}

// classifyTail is classifyBlock for the line's last bytes, fewer than 64, padded with spaces:
// neither quote, backslash nor control.
func classifyTail(t []byte) (quote, back uint64, ctrl bool) {
	var pad [64]byte
	for j := copy(pad[:], t); j < 64; j++ {
		pad[j] = ' '
	}
	return classifyBlock(&pad)
}

// checkEscapes validates the escapes whose escaped bytes are the bits of escaped, in the
// block at a: each must make \" \\ \/ \b \f \n \r \t or \u and four hex digits.
func checkEscapes(b []byte, a int, escaped uint64) (int, bool) {
	for e := escaped; e != 0; e &= e - 1 {
		p := a + bits.TrailingZeros64(e)
		if p >= len(b) {
			return p, false
		}
		switch escapeLen[b[p]] {
		case 2:
		case 6:
			for j := p + 1; j <= p+4; j++ {
				if j >= len(b) || !isHex(b[j]) {
					return j, false
				}
			}
		default:
			return p, false
		}
	}
	return 0, true
}

// checkControl rejects a control character inside a string in the block at a; inside has a
// bit for each byte inside a string.
func checkControl(b []byte, a int, inside uint64) (int, bool) {
	var c uint64
	for j := 0; j < 64 && a+j < len(b); j++ {
		if b[a+j] < 0x20 {
			c |= 1 << j
		}
	}
	if c &= inside; c != 0 {
		return a + bits.TrailingZeros64(c), false
	}
	return 0, true
}

// prefixXor returns x with each bit replaced by the XOR of it and all bits below it.
func prefixXor(x uint64) uint64 {
	x ^= x << 1
	x ^= x << 2
	x ^= x << 4
	x ^= x << 8
	x ^= x << 16
	x ^= x << 32
	return x
}
