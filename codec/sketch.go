package codec

import (
	"errors"
	"fmt"

	"github.com/kuniq/kuniq/sketch"
)

// SketchFormatVersion is the version byte AppendSketch writes and DecodeSketch reads.
const SketchFormatVersion = 1

// sketchMagic starts every encoded sketch.
var sketchMagic = [2]byte{'k', 's'}

// sketchHeaderLen is the bytes before the payload.
const sketchHeaderLen = 4

var (
	// ErrNilSketch is returned, wrapped, by AppendSketch for a nil sketch.
	ErrNilSketch = errors.New("sketch codec: nil sketch")
	// ErrSketchFormat is returned, wrapped, by DecodeSketch for bytes that
	// are not an encoded sketch: wrong magic, unknown version, bad or
	// mismatched precision, or a payload sketch.UnmarshalBinary rejects (the
	// error then also wraps sketch.ErrEncoding).
	ErrSketchFormat = errors.New("sketch codec: invalid encoding")
)

// AppendSketch appends s to dst in kuniq's sketch wire format, the one the
// pipeline's records carry (the partials between the stages and the window
// table's rows, processor/records.go); DecodeSketch reads it.
//
// The bytes are
//
//	byte 0-1  magic "ks" (0x6b 0x73)
//	byte 2    format version, SketchFormatVersion (1)
//	byte 3    precision p, 4..18
//	byte 4-   the sketch in axiomhq/hyperloglog's format version 2, exactly
//	          sketch.Sketch.MarshalBinary: 4 header bytes repeating p, then a
//	          sparse payload (temporary set, delta-varint sorted keys; about
//	          2-3 bytes per distinct user at p=14) or a dense one (a 4-byte
//	          register count and 2^p registers: 16,392 bytes at p=14,
//	          65,544 at p=16).
//
// Where it bites:
//   - Not canonical: the payload of a sketch decoded from axiomhq bytes, or
//     written by a later version, may differ for the same users. Compare
//     decoded estimates, never raw bytes (no hashing, no dedup by bytes).
//   - The payload repeats p; DecodeSketch rejects a header and payload that
//     disagree, so a flipped precision byte cannot silently change the
//     estimate.
//   - Sketches only merge at equal precision: changing --precision needs a
//     new application id (fresh state), not a restart.
//
// DecodeSketch never panics and never allocates much more than its input:
// lengths are checked against the input before anything is sized from them,
// and a panic in the payload parser is turned into an error as a last resort.
func AppendSketch(dst []byte, s *sketch.Sketch) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("encode sketch: %w", ErrNilSketch)
	}
	dst = append(dst, sketchMagic[0], sketchMagic[1], SketchFormatVersion, s.Precision())
	out, err := s.AppendBinary(dst)
	if err != nil {
		return nil, fmt.Errorf("encode sketch: %w", err)
	}
	return out, nil
}

// DecodeSketch decodes a sketch written by AppendSketch; the error wraps
// ErrSketchFormat.
func DecodeSketch(data []byte) (s *sketch.Sketch, err error) {
	if len(data) < sketchHeaderLen {
		return nil, fmt.Errorf("decode sketch: %d bytes, header needs %d: %w", len(data), sketchHeaderLen, ErrSketchFormat)
	}
	if data[0] != sketchMagic[0] || data[1] != sketchMagic[1] {
		return nil, fmt.Errorf("decode sketch: magic %#x %#x: %w", data[0], data[1], ErrSketchFormat)
	}
	if v := data[2]; v != SketchFormatVersion {
		return nil, fmt.Errorf("decode sketch: format version %d, want %d: %w", v, SketchFormatVersion, ErrSketchFormat)
	}
	p := data[3]
	if p < sketch.MinPrecision || p > sketch.MaxPrecision {
		return nil, fmt.Errorf("decode sketch: precision %d: %w", p, ErrSketchFormat)
	}
	payload := data[sketchHeaderLen:]
	if len(payload) > 1 && payload[1] != p {
		return nil, fmt.Errorf("decode sketch: header precision %d, payload precision %d: %w", p, payload[1], ErrSketchFormat)
	}
	defer func() {
		// sketch.UnmarshalBinary validates everything it reads; this is
		// only a backstop so a bug there costs one record, not the process.
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("decode sketch: payload parser panicked: %v: %w", r, ErrSketchFormat)
		}
	}()
	s = new(sketch.Sketch)
	if err := s.UnmarshalBinary(payload); err != nil {
		return nil, fmt.Errorf("decode sketch: %w: %w", ErrSketchFormat, err)
	}
	return s, nil
}
