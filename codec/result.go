package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kuniq/kuniq/window"
)

// Result is one window's count: the record `kuniq count` prints as a JSON line and the value
// `kuniq run` publishes on the output topic under Key (docs/design.md, "The records"). Consumers keep the
// highest Revision per key; a record may repeat after a crash with the same count.
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
	return append(b, '}')
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
