package gen

// malformedKind is the way a Malformed line is broken.
type malformedKind uint8

const (
	malTruncated    malformedKind = iota // a valid frame cut short
	malNoUID                             // no root uid (decoys may remain)
	malNoTS                              // no root ts (decoys may remain)
	malUIDNotString                      // root uid is a number, null, bool, object or array
	malTSNotInteger                      // root ts is a string, array, null or bool
	malJunk                              // binary junk
	numMalformed
)

// appendMalformed appends one broken line, drawing its kind uniformly. The
// line never holds a newline or carriage return, so line framing survives.
func (g *Generator) appendMalformed(b []byte, user uint32, clock int64) []byte {
	k := malformedKind(g.r.intn(int(numMalformed)))
	g.malformed[k]++
	switch k {
	case malTruncated:
		// Any proper prefix of a JSON object is incomplete JSON.
		from := len(b)
		b = g.appendFrame(b, user, clock, fieldOK, fieldOK)
		return b[:from+1+g.r.intn(len(b)-from-1)]
	case malNoUID:
		return g.appendFrame(b, user, clock, fieldOmit, fieldOK)
	case malNoTS:
		return g.appendFrame(b, user, clock, fieldOK, fieldOmit)
	case malUIDNotString:
		return g.appendFrame(b, user, clock, fieldWrong, fieldOK)
	case malTSNotInteger:
		return g.appendFrame(b, user, clock, fieldOK, fieldWrong)
	default:
		n := 1 + g.r.intn(g.cfg.FrameBytes)
		// A first byte in 0x01..0x08 is neither JSON nor whitespace.
		b = append(b, byte(1+g.r.intn(8)))
		for range n - 1 {
			c := byte(g.r.u64())
			if c == '\n' || c == '\r' {
				c = 0xff // line readers split at \n and strip a final \r
			}
			b = append(b, c)
		}
		return b
	}
}
