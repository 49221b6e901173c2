package codec

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Dead-letter reasons that are not decoding errors (see Reason for those).
const (
	// ReasonLate: the frame's ts is older than the watermark minus the allowed lateness.
	ReasonLate = "late"
	// ReasonJump: the frame's ts jumped far from the source's event time and no other frames
	// confirmed the jump (a bit flip, most likely).
	ReasonJump = "ts_jump"
)

// DeadLetter is a frame kuniq did not count, with the reason. It is the value on the
// dead-letter topic and a JSON line of `kuniq count --dead-letters`.
type DeadLetter struct {
	// Reason is a short stable word: syntax, no_uid, bad_uid, no_ts, bad_ts, ts_range, late, ts_jump.
	Reason string `json:"reason"`
	// Detail is the human-readable error.
	Detail string `json:"detail,omitempty"`
	// Partition and Offset locate the frame: the input partition and the offset in it, or 0
	// and the line number (1-based) of `kuniq count`'s input.
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
	// TS is the frame's timestamp when it had a valid one (late, ts_jump), else 0.
	TS int64 `json:"ts,omitempty"`
	// Frame is the raw frame as a JSON string (invalid UTF-8 replaced).
	Frame string `json:"frame"`
}

// AppendJSON appends the record as one compact JSON object.
func (d DeadLetter) AppendJSON(b []byte) []byte {
	b = append(b, `{"reason":`...)
	b = strconv.AppendQuote(b, d.Reason)
	if d.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, d.Detail)
	}
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(d.Partition), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, d.Offset, 10)
	if d.TS != 0 {
		b = append(b, `,"ts":`...)
		b = strconv.AppendInt(b, d.TS, 10)
	}
	b = append(b, `,"frame":`...)
	b = appendJSONString(b, d.Frame)
	return append(b, '}')
}

// appendJSONString quotes s the way encoding/json does (frames are rare here; correctness over speed).
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// DeadLetterCodec is the goka.Codec of the dead-letter topic.
type DeadLetterCodec struct{}

// Encode encodes a DeadLetter or *DeadLetter.
func (DeadLetterCodec) Encode(v any) ([]byte, error) {
	switch d := v.(type) {
	case DeadLetter:
		return d.AppendJSON(nil), nil
	case *DeadLetter:
		return d.AppendJSON(nil), nil
	}
	return nil, fmt.Errorf("codec: DeadLetterCodec cannot encode %T", v)
}

// Decode returns a DeadLetter. Records written before the field was named "partition" call
// it "source"; Decode reads both, so a dead-letter topic written by an older kuniq stays
// readable.
func (DeadLetterCodec) Decode(b []byte) (any, error) {
	var d struct {
		DeadLetter
		// These shadow DeadLetter.Partition, so that a missing field can be told from 0.
		Partition *int32 `json:"partition"`
		Source    *int32 `json:"source"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("codec: bad dead letter: %w", err)
	}
	switch {
	case d.Partition != nil:
		d.DeadLetter.Partition = *d.Partition
	case d.Source != nil:
		d.DeadLetter.Partition = *d.Source
	}
	return d.DeadLetter, nil
}
