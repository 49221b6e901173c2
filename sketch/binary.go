package sketch

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/axiomhq/hyperloglog"
)

// ErrEncoding is returned, wrapped together with the axiomhq/hyperloglog
// sentinel that explains it, by UnmarshalBinary when the bytes are not a
// valid axiomhq encoding.
var ErrEncoding = errors.New("sketch: invalid encoding")

// formatVersion is the axiomhq format version MarshalBinary writes.
const formatVersion = 2

// MarshalBinary encodes s in axiomhq/hyperloglog's format version 2, so
// hyperloglog.Sketch.UnmarshalBinary reads it. A sparse sketch is written
// with an empty temporary set and all keys in the compressed list (~2 bytes
// per user at p=14); a dense one as 8 header bytes and 2^p registers. It only
// reads s. The output depends only on the inserted hashes today, but the
// format does not promise that: compare decoded estimates, never bytes.
func (s *Sketch) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends MarshalBinary's encoding of s to data.
func (s *Sketch) AppendBinary(data []byte) ([]byte, error) {
	if s.p < MinPrecision || s.p > MaxPrecision {
		return data, fmt.Errorf("marshal sketch with precision %d: %w", s.p, ErrPrecision)
	}
	if s.regs != nil {
		data = append(data, formatVersion, s.p, 0, 0)
		data = binary.BigEndian.AppendUint32(data, s.m)
		return append(data, s.regs...), nil
	}
	count := len(s.sorted) + len(s.pending)
	data = append(data, formatVersion, s.p, 0, 1)
	data = binary.BigEndian.AppendUint32(data, 0) // empty tmp set
	data = binary.BigEndian.AppendUint32(data, uint32(count))
	at := len(data)
	data = append(data, 0, 0, 0, 0, 0, 0, 0, 0) // last, stream size: patched below
	start := len(data)
	// Walk sorted ∪ pending in order without merging, so s stays untouched.
	var last uint32
	a, b := s.sorted, s.pending
	for len(a) > 0 || len(b) > 0 {
		var k uint32
		if len(b) == 0 || (len(a) > 0 && a[0] < b[0]) {
			k, a = a[0], a[1:]
		} else {
			k, b = b[0], b[1:]
		}
		data = binary.AppendUvarint(data, uint64(k-last))
		last = k
	}
	binary.BigEndian.PutUint32(data[at:], last)
	binary.BigEndian.PutUint32(data[at+4:], uint32(len(data)-start))
	return data, nil
}

// UnmarshalBinary replaces s by the sketch encoded in data, which may come
// from MarshalBinary or from axiomhq/hyperloglog (format 1 or 2, sparse or
// dense). axiomhq validates every length and key before anything is sized
// from it, so corrupt input is rejected without large allocations or panics;
// on error s is unchanged and the error wraps ErrEncoding and axiomhq's
// sentinel. A sparse encoding whose keys no longer fit in 2^p bytes comes
// back dense, as axiomhq's Estimate would make it.
func (s *Sketch) UnmarshalBinary(data []byte) error {
	if t, ok := parseDenseV2(data); ok {
		*s = *t
		return nil
	}
	var h hyperloglog.Sketch
	if err := h.UnmarshalBinary(data); err != nil {
		return fmt.Errorf("%w: %w", ErrEncoding, err)
	}
	if data[0] != formatVersion {
		// Version 1 packs dense registers in nibbles; let axiomhq rewrite
		// them as version 2, which it has just accepted.
		v2, err := h.MarshalBinary()
		if err != nil {
			return fmt.Errorf("%w: re-encode version %d: %w", ErrEncoding, data[0], err)
		}
		data = v2
	}
	t, err := parseV2(data)
	if err != nil {
		return err
	}
	*s = *t
	return nil
}

// parseDenseV2 is the fast path for the commonest big encoding, a format 2
// dense sketch: it applies every rule axiomhq's UnmarshalBinary applies to
// one (header bytes, register count = 2^p, exact length, every register at
// most 64-p+1) while copying the registers once and counting the histogram
// on the way. Anything else, valid or not, is left to axiomhq (ok = false).
func parseDenseV2(data []byte) (s *Sketch, ok bool) {
	if len(data) < 8 || data[0] != formatVersion || data[2] != 0 || data[3] != 0 {
		return nil, false
	}
	t, err := New(data[1])
	if err != nil || binary.BigEndian.Uint32(data[4:8]) != t.m || uint64(len(data)-8) != uint64(t.m) {
		return nil, false
	}
	t.regs = make([]uint8, t.m)
	copy(t.regs, data[8:])
	top := maxRho(t.p)
	for _, r := range t.regs {
		if r > top {
			return nil, false
		}
		t.hist[r]++
	}
	return t, true
}

// parseV2 reads a format 2 encoding that axiomhq has already validated. It
// still checks every bound it relies on, so a disagreement between the two
// parsers is an error, never a panic.
func parseV2(data []byte) (*Sketch, error) {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrEncoding, what) }
	if len(data) < 8 {
		return nil, bad("short header")
	}
	t, err := New(data[1])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncoding, err)
	}
	if data[3] == 0 {
		regs := data[8:]
		if uint32(len(regs)) != t.m {
			return nil, bad("register count")
		}
		t.regs = make([]uint8, t.m)
		t.hist[0] = t.m
		for i, r := range regs {
			if r > maxRho(t.p) {
				return nil, bad("register value")
			}
			t.setReg(uint32(i), r)
		}
		return t, nil
	}
	n := uint64(binary.BigEndian.Uint32(data[4:8]))
	rest := data[8:]
	if n > uint64(len(rest))/4 {
		return nil, bad("tmp set length")
	}
	tmp := rest[:4*n]
	rest = rest[4*n:]
	if len(rest) < 12 {
		return nil, bad("compressed list header")
	}
	count := binary.BigEndian.Uint32(rest[0:4])
	stream := rest[12:]
	if uint64(count) > uint64(len(stream)) {
		return nil, bad("compressed list count")
	}
	t.sorted = make([]uint32, 0, count)
	var last uint32
	for len(stream) > 0 {
		d, w := binary.Uvarint(stream)
		if w <= 0 || d > 1<<32-1 {
			return nil, bad("compressed list varint")
		}
		stream = stream[w:]
		last += uint32(d)
		if len(t.sorted) > 0 && last <= t.sorted[len(t.sorted)-1] {
			return nil, bad("compressed list order")
		}
		t.sorted = append(t.sorted, last)
	}
	t.size = streamLen(t.sorted)
	if t.size > int(t.m) {
		t.toDense()
	}
	for i := 0; i < len(tmp); i += 4 {
		t.addKeyDecoded(binary.BigEndian.Uint32(tmp[i:]))
	}
	return t, nil
}

// addKeyDecoded adds a decoded sparse key in whichever representation t
// has reached.
func (s *Sketch) addKeyDecoded(k uint32) {
	if s.regs != nil {
		i, r := decodeHash(k, s.p, pp)
		s.setReg(i, r)
		return
	}
	s.addKey(k)
}
