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

// DeadLetter is a frame kuniq did not count, with the reason. On the dead-letter topic it is a
// Kafka record whose value is the frame's original bytes and whose headers carry the rest
// (KafkaHeaders; Kafka Connect's convention), so nothing is escaped and a frame can be
// re-ingested byte for byte; `kuniq count --dead-letters` writes it as a JSON line.
type DeadLetter struct {
	// Reason is a short stable word: syntax, no_uid, bad_uid, no_ts, bad_ts, ts_range, late,
	// ts_jump, null_value, too_large.
	Reason string `json:"reason"`
	// Detail is the human-readable error.
	Detail string `json:"detail,omitempty"`
	// Partition and Offset locate the frame: the input partition and the offset in it, or 0
	// and the line number (1-based) of `kuniq count`'s input.
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
	// TS is the frame's timestamp when it had a valid one (late, ts_jump), else 0.
	TS int64 `json:"ts,omitempty"`
	// Frame is the raw frame (in JSON, invalid UTF-8 is replaced); for too_large only its head.
	Frame string `json:"frame"`
	// Topic is the input topic the frame was read from ("" for `kuniq count`).
	Topic string `json:"topic,omitempty"`
}

// The headers of a dead-letter record on Kafka. Every record kuniq writes also carries
// HeaderApp, the application id that wrote it.
const (
	HeaderApp       = "kuniq.app"
	HeaderReason    = "kuniq.error.reason"
	HeaderDetail    = "kuniq.error.detail"
	HeaderTopic     = "kuniq.error.topic"
	HeaderPartition = "kuniq.error.partition"
	HeaderOffset    = "kuniq.error.offset"
	HeaderTS        = "kuniq.error.ts"
)

// KafkaHeaders are the headers of d's record on the dead-letter topic; the value is d.Frame.
func (d DeadLetter) KafkaHeaders() map[string][]byte {
	h := map[string][]byte{
		HeaderReason:    []byte(d.Reason),
		HeaderTopic:     []byte(d.Topic),
		HeaderPartition: strconv.AppendInt(nil, int64(d.Partition), 10),
		HeaderOffset:    strconv.AppendInt(nil, d.Offset, 10),
	}
	if d.Detail != "" {
		h[HeaderDetail] = []byte(d.Detail)
	}
	if d.TS != 0 {
		h[HeaderTS] = strconv.AppendInt(nil, d.TS, 10)
	}
	return h
}

// DeadLetterFromKafka is the dead letter of a record on the dead-letter topic. A record
// without kuniq's headers is not one of its dead letters: an error.
func DeadLetterFromKafka(value []byte, headers map[string][]byte) (DeadLetter, error) {
	d := DeadLetter{Reason: string(headers[HeaderReason]), Detail: string(headers[HeaderDetail]),
		Topic: string(headers[HeaderTopic]), Frame: string(value)}
	if d.Reason == "" {
		return DeadLetter{}, fmt.Errorf("codec: not a kuniq dead letter (no %s header)", HeaderReason)
	}
	var err error
	num := func(name string) int64 {
		v, ok := headers[name]
		if !ok || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(string(v), 10, 64)
		if perr != nil {
			err = fmt.Errorf("codec: dead letter header %s=%q: %w", name, v, perr)
		}
		return n
	}
	d.Partition, d.Offset, d.TS = int32(num(HeaderPartition)), num(HeaderOffset), num(HeaderTS)
	return d, err
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
	if d.Topic != "" {
		b = append(b, `,"topic":`...)
		b = appendJSONString(b, d.Topic)
	}
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
