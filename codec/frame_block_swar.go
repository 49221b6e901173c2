package codec

import "encoding/binary"

// swar holds the constants of classifyBlockSWAR in memory: as operands of the instructions
// that use them they cost nothing, where 64-bit immediates would each need a move.
var swar = struct{ m7f, quote, back, ctrl, hi, pack uint64 }{
	m7f:   m7f,
	quote: lo * '"',
	back:  lo * '\\',
	ctrl:  lo * (0x80 - 0x20),
	hi:    hi,
	pack:  0x0002040810204081, // moves bit 8k+7 to bit 56+k
}

// swarWord sets bit 7 of each byte of w, exactly (no false positives from borrows), in nq
// when the byte is not a quote, in nb when it is not a backslash, and in c when it is not
// below 0x20. (A byte's bit 7 in (x & 0x7f) + 0x7f, or'ed with x, is set exactly when x != 0.)
func swarWord(w uint64) (nq, nb, c uint64) {
	k := &swar
	a := w & k.m7f
	nq = ((a ^ k.quote) + k.m7f | w) & k.hi
	nb = ((a ^ k.back) + k.m7f | w) & k.hi
	c = (a + k.ctrl) | w
	return nq, nb, c
}

// classifyBlockSWAR is the portable block scan: eight bytes per 64-bit word, each word's
// eight flags packed into 8 bits with one multiplication (inverted, so the words need no
// NOT; the block's masks are inverted once at the end).
func classifyBlockSWAR(p *[64]byte) (quote, back uint64, ctrl bool) {
	pk := swar.pack
	q0, b0, c0 := swarWord(binary.LittleEndian.Uint64(p[0:]))
	q1, b1, c1 := swarWord(binary.LittleEndian.Uint64(p[8:]))
	q2, b2, c2 := swarWord(binary.LittleEndian.Uint64(p[16:]))
	q3, b3, c3 := swarWord(binary.LittleEndian.Uint64(p[24:]))
	q4, b4, c4 := swarWord(binary.LittleEndian.Uint64(p[32:]))
	q5, b5, c5 := swarWord(binary.LittleEndian.Uint64(p[40:]))
	q6, b6, c6 := swarWord(binary.LittleEndian.Uint64(p[48:]))
	q7, b7, c7 := swarWord(binary.LittleEndian.Uint64(p[56:]))
	quote = q0*pk>>56 | q1*pk>>56<<8 | q2*pk>>56<<16 | q3*pk>>56<<24 |
		q4*pk>>56<<32 | q5*pk>>56<<40 | q6*pk>>56<<48 | q7*pk>>56<<56
	back = b0*pk>>56 | b1*pk>>56<<8 | b2*pk>>56<<16 | b3*pk>>56<<24 |
		b4*pk>>56<<32 | b5*pk>>56<<40 | b6*pk>>56<<48 | b7*pk>>56<<56
	return ^quote, ^back, ^(c0&c1&c2&c3&c4&c5&c6&c7)&swar.hi != 0
}
