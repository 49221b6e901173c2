package codec

import "fmt"

// Format is how input frames are written.
type Format uint8

const (
	// FormatJSON is one JSON object per frame (FrameDecoder): a line in a file, a record's
	// value on Kafka.
	FormatJSON Format = iota
	// FormatProtobuf is protobuf's wire format of message Frame in codec/frame.proto
	// (ProtoDecoder): a record's value on Kafka (plain, or in Confluent's wire format), or a
	// length-delimited message in a file (ReadDelimited's framing, as Java's
	// writeDelimitedTo writes it).
	FormatProtobuf
)

// String returns the flag spelling of f: "json" or "protobuf".
func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatProtobuf:
		return "protobuf"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat is the inverse of Format.String ("proto" is accepted for "protobuf").
func ParseFormat(s string) (Format, error) {
	switch s {
	case "json":
		return FormatJSON, nil
	case "protobuf", "proto":
		return FormatProtobuf, nil
	}
	return 0, fmt.Errorf("frame format %q: want json or protobuf", s)
}

// Decoder decodes one frame. Like FrameDecoder, a Decoder is not safe for concurrent use,
// and the Frame it returns may alias its input or its scratch space until the next call.
type Decoder interface {
	Decode(frame []byte) (Frame, error)
}

// NewDecoder returns the decoder of c.Format configured by c: a *FrameDecoder for JSON, a
// *ProtoDecoder for protobuf.
func NewDecoder(c FrameConfig) (Decoder, error) {
	if c.Format == FormatProtobuf {
		return NewProtoDecoder(c)
	}
	return NewFrameDecoder(c)
}
