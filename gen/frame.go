package gen

import "strconv"

// Shape constants, fitted to testdata/challenge-sample-1000.jsonl.
const (
	// decoyProb is the share of frames whose nested objects carry decoy
	// "uid"/"ts" keys (667 of the sample's 1,000).
	decoyProb = 2.0 / 3
	// earlyDecoyProb is the share of decoy frames whose decoy comes before
	// the root uid, which fools a naive `"uid":` scan (~16 % of all frames).
	earlyDecoyProb = 0.3
	// decoyKeyPct is the chance, in percent, that a key of a non-empty
	// nested object in a decoy frame is "uid", and again that it is "ts".
	decoyKeyPct = 15
	// maxDepth bounds nesting (the sample goes 7 deep below the root).
	maxDepth = 6
	// maxRootValue bounds one root value's bytes so sizes stay near target.
	maxRootValue = 640
	// reserve is the room a container keeps below its limit before adding
	// an element: more than any scalar token, so a container never ends
	// more than a few brackets past its limit.
	reserve = 128
	// frameTail is how far below FrameBytes the last root value may start;
	// it centres the line length on FrameBytes.
	frameTail = 30
)

// field says how appendFrame writes a root uid or ts.
type field uint8

const (
	fieldOK    field = iota
	fieldOmit        // leave the key out
	fieldWrong       // the key with a value of the wrong JSON type
)

const hexDigits = "0123456789abcdef"

// appendUID appends user's uid, quoted: 19 lowercase hex chars, the first
// 16 a bijection of the user index, so uids never collide.
func appendUID(b []byte, key uint64, user uint32) []byte {
	x := mix64(uint64(user) ^ key)
	y := mix64(x ^ 0x6a09e667f3bcc909)
	var u [21]byte
	u[0], u[20] = '"', '"'
	for i := range 16 {
		u[1+i] = hexDigits[x>>(60-4*i)&15]
	}
	for i := range 3 {
		u[17+i] = hexDigits[y>>(4*i)&15]
	}
	return append(b, u[:]...)
}

// appendFrame appends one frame (no newline) for user at ts. uid and ts say
// how the root pair is written; anything but fieldOK makes a malformed line.
func (g *Generator) appendFrame(b []byte, user uint32, ts int64, uid, tsf field) []byte {
	start := len(b)
	target := start + g.cfg.FrameBytes - frameTail
	decoy := g.r.chance(decoyProb)
	pre := g.r.intn(4) // root entries before the uid/ts pair, as in the sample
	carrier := -1      // root slot of the forced decoy carrier
	if decoy {
		if g.r.chance(earlyDecoyProb) {
			if pre == 0 {
				pre = 1 + g.r.intn(3)
			}
			carrier = g.r.intn(pre)
		} else {
			carrier = pre + 1 + g.r.intn(8)
		}
	}
	uidFirst := g.r.intn(2) == 0

	b = append(b, '{')
	n := 0 // entries written, for commas
	for slot := 0; slot <= pre || slot <= carrier || len(b) < target; slot++ {
		if slot == pre {
			if uidFirst {
				b, n = g.appendRootUID(b, n, user, uid)
				b, n = g.appendRootTS(b, n, ts, tsf)
			} else {
				b, n = g.appendRootTS(b, n, ts, tsf)
				b, n = g.appendRootUID(b, n, user, uid)
			}
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, pick(&g.r, keyTokens)...)
		limit := min(len(b)+maxRootValue, start+g.cfg.FrameBytes)
		if slot == carrier {
			b = g.appendCarrier(b, ts, limit)
		} else {
			b = g.appendValue(b, 0, limit, decoy, ts)
		}
	}
	return append(b, '}')
}

func (g *Generator) appendRootUID(b []byte, n int, user uint32, f field) ([]byte, int) {
	if f == fieldOmit {
		return b, n
	}
	if n > 0 {
		b = append(b, ',')
	}
	b = append(b, uidKey...)
	if f == fieldOK {
		return appendUID(b, g.uidKey, user), n + 1
	}
	switch g.r.intn(5) {
	case 0: // the user index as a number with a fraction (kuniq counts an integer uid)
		b = strconv.AppendUint(b, uint64(user), 10)
		b = append(b, ".5"...)
	case 1:
		b = append(b, "null"...)
	case 2:
		b = append(b, "true"...)
	case 3: // the real uid, one level too deep
		b = append(b, `{"uid":`...)
		b = appendUID(b, g.uidKey, user)
		b = append(b, '}')
	default:
		b = append(b, '[')
		b = appendUID(b, g.uidKey, user)
		b = append(b, ']')
	}
	return b, n + 1
}

func (g *Generator) appendRootTS(b []byte, n int, ts int64, f field) ([]byte, int) {
	if f == fieldOmit {
		return b, n
	}
	if n > 0 {
		b = append(b, ',')
	}
	b = append(b, tsKey...)
	if f == fieldOK {
		return strconv.AppendInt(b, ts, 10), n + 1
	}
	switch g.r.intn(4) {
	case 0: // a quoted number with a fraction (kuniq counts the challenge's quoted digits)
		b = append(b, '"')
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, ".5\""...)
	case 1: // an array: a ts with a fraction would be valid (it is truncated)
		b = append(b, '[')
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, ']')
	case 2:
		b = append(b, "null"...)
	default:
		b = append(b, "false"...)
	}
	return b, n + 1
}

// appendString appends one of the vocabulary's strings, mostly ASCII with
// escapes, a tenth raw UTF-8 (the sample's mix).
func (g *Generator) appendString(b []byte) []byte {
	if g.r.intn(10) == 0 {
		return append(b, pick(&g.r, unicodeTokens)...)
	}
	return append(b, pick(&g.r, englishTokens)...)
}

// appendValue appends a random JSON value. Containers stop growing once b
// reaches limit. Only decoy frames get non-empty nested objects, and those
// hold decoy uid/ts keys now and then.
func (g *Generator) appendValue(b []byte, depth, limit int, decoy bool, ts int64) []byte {
	r := g.r.intn(100)
	switch {
	case r < 64:
		return g.appendString(b)
	case r < 71:
		return strconv.AppendUint(b, uint64(g.r.intn(1000)), 10)
	case r < 75:
		// Six decimals in [0, 1), like the sample's 0.279802.
		f := g.r.intn(1_000_000)
		var d [8]byte
		d[0], d[1] = '0', '.'
		for i := 7; i >= 2; i-- {
			d[i] = byte('0' + f%10)
			f /= 10
		}
		return append(b, d[:]...)
	case r < 78:
		if g.r.intn(2) == 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case r < 94:
		if depth >= maxDepth || len(b)+reserve >= limit || g.r.intn(3) != 0 {
			return append(b, '[', ']')
		}
		b = append(b, '[')
		for i, n := 0, 1+g.r.intn(14); i < n && len(b)+reserve < limit; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = g.appendValue(b, depth+1, limit, decoy, ts)
		}
		return append(b, ']')
	default:
		if !decoy || depth >= maxDepth || len(b)+reserve >= limit || g.r.intn(4) != 0 {
			return append(b, '{', '}')
		}
		b = append(b, '{')
		for i, n := 0, 1+g.r.intn(12); i < n && len(b)+reserve < limit; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = g.appendEntry(b, depth+1, limit, ts)
		}
		return append(b, '}')
	}
}

// appendEntry appends one `"key":value` of a nested object in a decoy frame.
func (g *Generator) appendEntry(b []byte, depth, limit int, ts int64) []byte {
	switch r := g.r.intn(100); {
	case r < decoyKeyPct:
		return g.appendDecoyUID(append(b, uidKey...), depth, limit, ts)
	case r < 2*decoyKeyPct:
		return g.appendDecoyTS(append(b, tsKey...), depth, limit, ts)
	}
	b = append(b, pick(&g.r, keyTokens)...)
	return g.appendValue(b, depth, limit, true, ts)
}

// appendDecoyUID appends a nested "uid" value: often a string, sometimes
// another pool user's uid (so a wrong parse finds a plausible user), else
// any value.
func (g *Generator) appendDecoyUID(b []byte, depth, limit int, ts int64) []byte {
	switch r := g.r.intn(100); {
	case r < 40:
		return g.appendString(b)
	case r < 65:
		return appendUID(b, g.uidKey, uint32(g.r.intn(g.cfg.Pool)))
	}
	return g.appendValue(b, depth, limit, true, ts)
}

// appendDecoyTS appends a nested "ts" value: often a string, sometimes a
// plausible timestamp near the frame's (as a number or quoted), else any
// value.
func (g *Generator) appendDecoyTS(b []byte, depth, limit int, ts int64) []byte {
	switch r := g.r.intn(100); {
	case r < 40:
		return g.appendString(b)
	case r < 60:
		return strconv.AppendInt(b, ts-3600+int64(g.r.intn(7200)), 10)
	case r < 70:
		b = append(b, '"')
		b = strconv.AppendInt(b, ts, 10)
		return append(b, '"')
	}
	return g.appendValue(b, depth, limit, true, ts)
}

// appendCarrier appends a nested object that surely holds a decoy uid or
// ts (or both), sometimes wrapped in a list.
func (g *Generator) appendCarrier(b []byte, ts int64, limit int) []byte {
	wrap := g.r.intn(10) < 3
	if wrap {
		b = append(b, '[')
		if g.r.intn(2) == 0 {
			b = append(g.appendString(b), ',')
		}
	}
	b = append(b, '{')
	n := 2 + g.r.intn(6)
	at := g.r.intn(n)
	which := g.r.intn(3) // 0: uid, 1: ts, 2: both
	for i, w := 0, 0; i < n; i++ {
		if i != at && len(b)+reserve >= limit {
			continue // out of room: keep only the decoy
		}
		if w > 0 {
			b = append(b, ',')
		}
		w++
		if i != at {
			b = g.appendEntry(b, 2, limit, ts)
			continue
		}
		if which != 1 {
			b = g.appendDecoyUID(append(b, uidKey...), 2, limit, ts)
		}
		if which == 2 {
			b = append(b, ',')
		}
		if which != 0 {
			b = g.appendDecoyTS(append(b, tsKey...), 2, limit, ts)
		}
	}
	b = append(b, '}')
	if wrap {
		b = append(b, ']')
	}
	return b
}
