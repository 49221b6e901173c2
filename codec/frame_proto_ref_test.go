package codec

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// refFrameDesc is message Frame of codec/frame.proto, built with descriptorpb (the schema as
// protoc would hand it to the runtime), so the protobuf runtime can decode frames as the
// reference for ProtoDecoder: no generated code, no protoc.
var refFrameDesc = func() protoreflect.MessageDescriptor {
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	fdp := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("codec/frame.proto"),
		Package: proto.String("kuniq.v1"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Frame"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("ts"), JsonName: proto.String("ts"), Number: proto.Int32(1), Label: opt, Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
				{Name: proto.String("uid"), JsonName: proto.String("uid"), Number: proto.Int32(2), Label: opt, Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
			},
		}},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		panic(err)
	}
	return fd.Messages().Get(0)
}()

// refProto is what the protobuf runtime makes of a plain message: the fields' values, and
// which known fields it kept as unknown because of their wire type.
type refProto struct {
	err               error
	ts                int64
	uid               string
	tsWrong, uidWrong bool
}

func decodeProtoRef(msg []byte) refProto {
	m := dynamicpb.NewMessage(refFrameDesc)
	if err := proto.Unmarshal(msg, m); err != nil {
		return refProto{err: err}
	}
	fields := refFrameDesc.Fields()
	r := refProto{
		ts:  m.Get(fields.ByNumber(1)).Int(),
		uid: m.Get(fields.ByNumber(2)).String(),
	}
	// A known field with the wrong wire type lands in the unknown fields.
	for b := []byte(m.GetUnknown()); len(b) > 0; {
		num, _, n := protowire.ConsumeField(b)
		if n < 0 {
			break
		}
		r.tsWrong = r.tsWrong || num == 1
		r.uidWrong = r.uidWrong || num == 2
		b = b[n:]
	}
	return r
}

// checkProtoAgainstRef decodes msg (a plain message, or one in Confluent framing, which the
// reference is given without its header) with d and with the runtime and fails t where they
// disagree beyond the documented differences: a known field of the wrong wire type (ours:
// bad_ts/bad_uid; the runtime: unset), and missing versus zero (the runtime cannot tell them
// apart, so ours may say no_ts/no_uid where the runtime says 0 or "").
func checkProtoAgainstRef(t *testing.T, d *ProtoDecoder, msg []byte, unit int64) {
	t.Helper()
	got, err := d.Decode(msg)
	plain := msg
	if len(msg) > 0 && msg[0] == 0 {
		n, herr := confluentPrefix(msg)
		if herr != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Decode(%x) = %v, want a syntax error for the bad Confluent header (%v)", msg, err, herr)
			}
			return
		}
		plain = msg[n:]
	}
	ref := decodeProtoRef(plain)
	reason := Reason(err)
	switch {
	case ref.err != nil:
		// The runtime refuses the message: bad wire data, or a uid that is not UTF-8.
		if reason != "syntax" && reason != "bad_uid" {
			t.Fatalf("Decode(%x) = %+v, %v; the runtime refuses it (%v)", msg, got, err, ref.err)
		}
	case reason == "syntax":
		t.Fatalf("Decode(%x): %v; the runtime accepts it as ts=%d uid=%q", msg, err, ref.ts, ref.uid)
	case ref.uidWrong:
		if reason != "bad_uid" {
			t.Fatalf("Decode(%x) = %v, want bad_uid: field 2 has the wrong wire type", msg, err)
		}
	case ref.uid == "":
		if reason != "no_uid" && reason != "bad_uid" {
			t.Fatalf("Decode(%x) = %+v, %v; want no_uid or bad_uid for an empty uid", msg, got, err)
		}
	case ref.tsWrong:
		if reason != "bad_ts" {
			t.Fatalf("Decode(%x) = %v, want bad_ts: field 1 has the wrong wire type", msg, err)
		}
	default:
		secs := ref.ts / unit
		inRange := secs >= MinTS && secs <= MaxTS
		switch {
		case reason == "no_ts" && ref.ts == 0:
		case !inRange:
			if reason != "ts_range" {
				t.Fatalf("Decode(%x) = %+v, %v; want ts_range for ts %d", msg, got, err, ref.ts)
			}
		case err != nil:
			t.Fatalf("Decode(%x): %v; the runtime reads ts=%d uid=%q", msg, err, ref.ts, ref.uid)
		case got.TS != secs || string(got.UID) != ref.uid:
			t.Fatalf("Decode(%x) = ts %d uid %q, the runtime: ts %d (%d s) uid %q", msg, got.TS, got.UID, ref.ts, secs, ref.uid)
		}
	}
}
