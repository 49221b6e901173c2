package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// The field numbers of message Frame (codec/frame.proto).
const (
	protoFieldTS  protowire.Number = 1
	protoFieldUID protowire.Number = 2
)

// confluentHeader is the length of Confluent's wire-format header before the message indexes:
// the magic byte 0 and a 4-byte big-endian schema id.
const confluentHeader = 5

// ProtoDecoder decodes frames in protobuf's wire format of message Frame { int64 ts = 1;
// string uid = 2; } (codec/frame.proto), without generated code and without allocating. The
// zero value is ready to use with the default FrameConfig (ts in seconds); NewProtoDecoder
// sets another ts unit.
//
// The rules, and where they differ from the protobuf runtime's (proto.Unmarshal of the same
// message, which the tests decode against):
//
//   - Confluent's wire format is accepted: a message that starts with the byte 0 is read as
//     the magic byte 0, a 4-byte big-endian schema id, the message indexes (a zigzag varint
//     count and that many zigzag varints; the single byte 0 stands for [0]) and then the
//     message. A plain message can never start with 0 (that would be the tag of field 0,
//     which is invalid), so the rule is unambiguous. The schema id and the indexes are read
//     past and not checked: see ConfluentSchemaID.
//   - Fields other than 1 and 2 are skipped, whatever their wire type (forward compatible:
//     a producer may add fields). Unknown fields must still be well-formed.
//   - ts and uid: the last occurrence wins, as in the runtime. ts counts in FrameConfig.TSUnit
//     and is converted to unix seconds by the same rule as a JSON integer ts, then checked
//     against [MinTS, MaxTS] (ErrTSRange).
//   - A missing field is ErrNoTS or ErrNoUID, an empty uid ErrBadUID. The runtime cannot tell
//     a missing field from a zero one (proto3 writers omit zero values), so a ts of 0 (1970)
//     written by such a writer reads as missing: no real frame has it.
//   - A known field with the wrong wire type (ts as bytes, uid as a varint) is ErrBadTS or
//     ErrBadUID. The runtime would keep it as an unknown field and read the field as unset;
//     here a producer with the wrong schema is told so.
//   - A uid that is not valid UTF-8 is ErrBadUID (the runtime refuses it too: proto3 strings
//     are UTF-8), in any occurrence.
//   - Everything else that is not protobuf (a truncated message, a bad varint, a field number
//     outside 1..2^29-1, mismatched groups, a reserved wire type, a short Confluent header) is
//     ErrSyntax.
//
// A ProtoDecoder holds no scratch space; it is still not meant for concurrent use, like every
// Decoder.
type ProtoDecoder struct {
	cfg *frameConfig // nil: defaultConfig
}

// NewProtoDecoder returns a decoder for protobuf frames whose ts counts in c.TSUnit. c's field
// paths must be the defaults (they apply to JSON only).
func NewProtoDecoder(c FrameConfig) (*ProtoDecoder, error) {
	c.Format = FormatProtobuf
	fc, err := compileConfig(c)
	if err != nil {
		return nil, err
	}
	return &ProtoDecoder{cfg: fc}, nil
}

// Decode decodes one message, plain or in Confluent's wire format. On error the Frame is zero
// and the error wraps one of the package's sentinels. The Frame's UID aliases msg.
func (d *ProtoDecoder) Decode(msg []byte) (Frame, error) {
	c := d.cfg
	if c == nil {
		c = defaultConfig
	}
	b := msg
	if len(msg) > 0 && msg[0] == 0 {
		n, err := confluentPrefix(msg)
		if err != nil {
			return Frame{}, err
		}
		b = msg[n:]
	}
	var (
		ts         uint64
		uid        []byte
		hasTS      bool
		hasUID     bool
		tsWireBad  protowire.Type
		uidWireBad protowire.Type
		badTS      bool
		badUID     bool
		badUTF8    bool
	)
	for len(b) > 0 {
		off := len(msg) - len(b)
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Frame{}, fmt.Errorf("decode protobuf frame at offset %d: tag: %v: %w", off, protowire.ParseError(n), ErrSyntax)
		}
		if num > protowire.MaxValidNumber {
			return Frame{}, fmt.Errorf("decode protobuf frame at offset %d: field number %d over %d: %w", off, num, protowire.MaxValidNumber, ErrSyntax)
		}
		b = b[n:]
		switch {
		case num == protoFieldTS && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return Frame{}, fmt.Errorf("decode protobuf frame at offset %d: field 1 (ts): %v: %w", off, protowire.ParseError(n), ErrSyntax)
			}
			ts, hasTS, b = v, true, b[n:]
			continue
		case num == protoFieldUID && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Frame{}, fmt.Errorf("decode protobuf frame at offset %d: field 2 (uid): %v: %w", off, protowire.ParseError(n), ErrSyntax)
			}
			if !utf8.Valid(v) {
				badUTF8 = true
			}
			uid, hasUID, b = v, true, b[n:]
			continue
		case num == protoFieldTS:
			badTS, tsWireBad = true, typ
		case num == protoFieldUID:
			badUID, uidWireBad = true, typ
		}
		// An unknown field, or a known one with the wrong wire type: it must still be
		// well-formed, so that what follows it is read from the right place.
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return Frame{}, fmt.Errorf("decode protobuf frame at offset %d: field %d (wire type %d): %v: %w", off, num, typ, protowire.ParseError(n), ErrSyntax)
		}
		b = b[n:]
	}

	// The order of the verdicts is JSON's: the message as a whole, then the uid, then the ts.
	switch {
	case badUID:
		return Frame{}, fmt.Errorf("decode protobuf frame: field 2 (uid) has wire type %s, want bytes (a string): %w", wireTypeName(uidWireBad), ErrBadUID)
	case badUTF8:
		return Frame{}, fmt.Errorf("decode protobuf frame: field 2 (uid) is not valid UTF-8: %w", ErrBadUID)
	case !hasUID:
		return Frame{}, fmt.Errorf("decode protobuf frame: field 2 (uid) missing: %w", ErrNoUID)
	case len(uid) == 0:
		return Frame{}, fmt.Errorf("decode protobuf frame: field 2 (uid): empty string: %w", ErrBadUID)
	case badTS:
		return Frame{}, fmt.Errorf("decode protobuf frame: field 1 (ts) has wire type %s, want varint (an int64): %w", wireTypeName(tsWireBad), ErrBadTS)
	case !hasTS:
		return Frame{}, fmt.Errorf("decode protobuf frame: field 1 (ts) missing: %w", ErrNoTS)
	}
	secs, ok := c.seconds(int64(ts))
	if !ok {
		return Frame{}, fmt.Errorf("decode protobuf frame: field 1 (ts) %d: %w", int64(ts), ErrTSRange)
	}
	return Frame{TS: secs, UID: uid}, nil
}

// wireTypeName names a wire type the way protobuf's documentation does.
func wireTypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "bytes"
	case protowire.StartGroupType:
		return "start-group"
	case protowire.EndGroupType:
		return "end-group"
	}
	return fmt.Sprintf("%d", t)
}

// confluentPrefix returns the length of the Confluent wire-format header at the start of msg
// (msg[0] is 0): magic byte, schema id, message indexes.
func confluentPrefix(msg []byte) (int, error) {
	if len(msg) < confluentHeader+1 {
		return 0, fmt.Errorf("decode protobuf frame: starts with 0 (Confluent's magic byte) but has %d bytes, too short for the 5-byte header and the message indexes: %w", len(msg), ErrSyntax)
	}
	b := msg[confluentHeader:]
	count, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, fmt.Errorf("decode protobuf frame: Confluent message indexes: %v: %w", protowire.ParseError(n), ErrSyntax)
	}
	b = b[n:]
	k := protowire.DecodeZigZag(count)
	// Each index takes at least a byte, which bounds the loop by the message's length.
	if k < 0 || k > int64(len(b)) {
		return 0, fmt.Errorf("decode protobuf frame: Confluent message indexes: count %d with %d bytes left: %w", k, len(b), ErrSyntax)
	}
	for range k {
		_, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return 0, fmt.Errorf("decode protobuf frame: Confluent message index: %v: %w", protowire.ParseError(n), ErrSyntax)
		}
		b = b[n:]
	}
	return len(msg) - len(b), nil
}

// ConfluentSchemaID returns the schema id of a record value in Confluent's wire format, and
// false for a plain message. kuniq reads it for diagnostics only and does not validate it: the
// decoder needs no schema (fields 1 and 2 are all it reads, and it skips the rest), and the id
// is only meaningful to the registry the producer used, which kuniq does not talk to.
func ConfluentSchemaID(msg []byte) (uint32, bool) {
	if len(msg) < confluentHeader || msg[0] != 0 {
		return 0, false
	}
	return binary.BigEndian.Uint32(msg[1:confluentHeader]), true
}

// AppendProtoFrame appends the wire encoding of Frame{ts, uid}: field 1 then field 2, both
// always written (a proto3 writer would omit a zero ts; kuniq's decoder reads it either way).
// ts is in the unit the reader is configured for (FrameConfig.UnitsPerSecond).
func AppendProtoFrame(b []byte, ts int64, uid []byte) []byte {
	b = protowire.AppendTag(b, protoFieldTS, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(ts))
	b = protowire.AppendTag(b, protoFieldUID, protowire.BytesType)
	return protowire.AppendBytes(b, uid)
}

// AppendDelimited appends msg with its length in front as a varint: the framing of a
// length-delimited stream (Java's writeDelimitedTo, Go's protodelim).
func AppendDelimited(b, msg []byte) []byte {
	b = protowire.AppendVarint(b, uint64(len(msg)))
	return append(b, msg...)
}

// ErrDelimited is returned, wrapped, by NextDelimited when a length-delimited stream cannot be
// read on: a length prefix that is not a varint (also wrapping ErrSyntax), or one over the
// limit (also wrapping ErrTooLarge), so Reason names the dead letter of the bytes at the
// prefix. Nothing after it can be trusted to start at a message, so readers stop there rather
// than guess.
var ErrDelimited = errors.New("delimited protobuf stream: bad length prefix")

// NextDelimited reads the message at the start of b, a piece of a length-delimited stream: it
// returns the message and the bytes it took with its prefix. A message longer than max is
// ErrDelimited (a corrupt prefix would otherwise ask for gigabytes). When b ends inside the
// prefix or the message, n is 0 and err is io.ErrUnexpectedEOF: more input is needed, or, at
// the end of the input, the stream was cut short.
func NextDelimited(b []byte, max int) (msg []byte, n int, err error) {
	l, k := protowire.ConsumeVarint(b)
	if k < 0 {
		if err := protowire.ParseError(k); !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, fmt.Errorf("%w: %v: %w", ErrDelimited, err, ErrSyntax)
		}
		return nil, 0, io.ErrUnexpectedEOF
	}
	if l > uint64(max) {
		return nil, 0, fmt.Errorf("%w: a message of %d bytes, over the limit of %d (is this a length-delimited protobuf stream?): %w", ErrDelimited, l, max, ErrTooLarge)
	}
	if uint64(len(b)-k) < l {
		return nil, 0, io.ErrUnexpectedEOF
	}
	return b[k : k+int(l)], k + int(l), nil
}
