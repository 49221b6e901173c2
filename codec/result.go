package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/kuniq/kuniq/window"
)

// Result is one window's count: the record `kuniq count` prints as a JSON line and the value
// `kuniq run` publishes on the output topic under Key (docs/design.md, "The records"). Consumers keep the
// highest Revision per key; a record may repeat after a crash with the same count. Fields are
// only ever added: the ones after LateFrames came later, and records written before them
// still parse (as Closed false, Precision and StdError 0: unknown).
type Result struct {
	Granularity window.Granularity `json:"granularity"`
	Start       int64              `json:"start"`
	End         int64              `json:"end"`
	StartTime   string             `json:"start_time"`
	Uniques     uint64             `json:"uniques"`
	Frames      int64              `json:"frames"`
	// Final is false for an early (provisional) result, true once the watermark passed End.
	Final bool `json:"final"`
	// Revision counts the corrections of a final result caused by late frames.
	Revision int `json:"revision"`
	// LateFrames counts the frames that reached the window after it was first final.
	LateFrames int64 `json:"late_frames"`
	// Closed marks the window's last record: its allowed lateness has passed (or the input
	// ended), so it can no longer change. It carries the count of the last revision.
	Closed bool `json:"closed"`
	// Precision is the HyperLogLog precision p of the window's sketch (2^p registers).
	Precision uint8 `json:"precision"`
	// StdError is the relative standard error of Uniques (0.008125: ±0.81 % is one standard
	// deviation); sketch.Sketch.StdError says how it is computed.
	StdError float64 `json:"std_error"`
}

// ErrResult is returned, wrapped, when bytes are not a result record.
var ErrResult = errors.New("codec: bad result record")

// NewResult fills in the derived fields (End, StartTime) of a window's result.
func NewResult(k window.Key, uniques uint64, frames int64) Result {
	return Result{
		Granularity: k.Granularity,
		Start:       k.Start,
		End:         k.End(),
		StartTime:   time.Unix(k.Start, 0).UTC().Format(time.RFC3339),
		Uniques:     uniques,
		Frames:      frames,
	}
}

// Key is the window this result belongs to; its String is the Kafka key of the record.
func (r Result) Key() window.Key { return window.Key{Granularity: r.Granularity, Start: r.Start} }

// AppendJSON appends the record as one compact JSON object, fields in the contract's order.
// It is the hot path of `kuniq count` output, so it avoids reflection.
func (r Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"granularity":"`...)
	b = append(b, r.Granularity.String()...)
	b = append(b, `","start":`...)
	b = strconv.AppendInt(b, r.Start, 10)
	b = append(b, `,"end":`...)
	b = strconv.AppendInt(b, r.End, 10)
	b = append(b, `,"start_time":`...)
	b = strconv.AppendQuote(b, r.StartTime)
	b = append(b, `,"uniques":`...)
	b = strconv.AppendUint(b, r.Uniques, 10)
	b = append(b, `,"frames":`...)
	b = strconv.AppendInt(b, r.Frames, 10)
	b = append(b, `,"final":`...)
	b = strconv.AppendBool(b, r.Final)
	b = append(b, `,"revision":`...)
	b = strconv.AppendInt(b, int64(r.Revision), 10)
	b = append(b, `,"late_frames":`...)
	b = strconv.AppendInt(b, r.LateFrames, 10)
	b = append(b, `,"closed":`...)
	b = strconv.AppendBool(b, r.Closed)
	b = append(b, `,"precision":`...)
	b = strconv.AppendUint(b, uint64(r.Precision), 10)
	b = append(b, `,"std_error":`...)
	b = AppendFloat(b, r.StdError)
	return append(b, '}')
}

// AppendFloat appends f as encoding/json writes a float64 (shortest exact form, exponent only
// below 1e-6 or from 1e21), so a record parses back to the same number. NaN and infinities,
// which JSON cannot hold, are written as 0.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// ParseResult decodes a record written by AppendJSON (or any JSON with the same fields) and
// checks that it names a real window.
func ParseResult(b []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrResult, err)
	}
	if !r.Granularity.Valid() || r.Granularity.Start(r.Start) != r.Start || r.End != r.Key().End() {
		return Result{}, fmt.Errorf("%w: %s/%d..%d is not a window", ErrResult, r.Granularity, r.Start, r.End)
	}
	return r, nil
}

// ResultCodec is the goka.Codec of the output topic: JSON result records.
type ResultCodec struct{}

// Encode encodes a Result or *Result.
func (ResultCodec) Encode(v any) ([]byte, error) {
	switch r := v.(type) {
	case Result:
		return r.AppendJSON(nil), nil
	case *Result:
		return r.AppendJSON(nil), nil
	}
	return nil, fmt.Errorf("%w: cannot encode %T", ErrResult, v)
}

// Decode returns a Result.
func (ResultCodec) Decode(b []byte) (any, error) { return ParseResult(b) }

// Bytes is the goka.Codec for raw bytes: the input topic is read with it so that a frame that
// is not JSON reaches our decoder (and the dead-letter topic) instead of stopping Goka.
type Bytes struct{}

// Encode accepts []byte and string.
func (Bytes) Encode(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case string:
		return []byte(b), nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("codec: Bytes cannot encode %T", v)
}

// Decode returns the bytes as they are. Goka hands the consumer's buffer over; callers that
// keep it past the callback must copy.
func (Bytes) Decode(b []byte) (any, error) { return b, nil }
