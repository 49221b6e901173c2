package format

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat is returned, wrapped, when bytes are not a record of the layout asked for.
var ErrFormat = errors.New("format: bad record")

// Fixed28Size is the size of a Fixed28 record.
const Fixed28Size = 28

// maxUID is the longest uid a Fixed28 record holds (the challenge's uids are 19 characters).
const maxUID = Fixed28Size - 9

// AppendFixed28 appends the 28-byte record of ts and uid; uid must be at most 19 bytes.
func AppendFixed28(b []byte, ts int64, uid string) ([]byte, error) {
	if len(uid) == 0 || len(uid) > maxUID {
		return b, fmt.Errorf("uid of %d bytes: %w", len(uid), ErrFormat)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	b = append(b, byte(len(uid)))
	b = append(b, uid...)
	for range maxUID - len(uid) {
		b = append(b, 0)
	}
	return b, nil
}

// DecodeFixed28 returns the ts and uid of a Fixed28 record; uid aliases rec.
func DecodeFixed28(rec []byte) (ts int64, uid []byte, err error) {
	if len(rec) != Fixed28Size {
		return 0, nil, fmt.Errorf("fixed28 of %d bytes: %w", len(rec), ErrFormat)
	}
	n := int(rec[8])
	if n == 0 || n > maxUID {
		return 0, nil, fmt.Errorf("fixed28 uid length %d: %w", n, ErrFormat)
	}
	return int64(binary.BigEndian.Uint64(rec)), rec[9 : 9+n], nil
}

// Protobuf field tags of message Frame { int64 ts = 1; string uid = 2; }.
const (
	tagTS  = 1 << 3   // field 1, wire type 0 (varint)
	tagUID = 2<<3 | 2 // field 2, length-delimited
)

// AppendProto appends the protobuf wire encoding of Frame{ts, uid}.
func AppendProto(b []byte, ts int64, uid string) []byte {
	b = append(b, tagTS)
	b = binary.AppendUvarint(b, uint64(ts))
	b = append(b, tagUID)
	b = binary.AppendUvarint(b, uint64(len(uid)))
	return append(b, uid...)
}

// DecodeProto reads Frame{ts, uid} from protobuf wire bytes, in any field order, the last
// occurrence of a field winning as protobuf's own decoders do; unknown varint and
// length-delimited fields are skipped. uid aliases rec.
func DecodeProto(rec []byte) (ts int64, uid []byte, err error) {
	var haveTS, haveUID bool
	for len(rec) > 0 {
		tag, n := binary.Uvarint(rec)
		if n <= 0 {
			return 0, nil, fmt.Errorf("proto tag: %w", ErrFormat)
		}
		rec = rec[n:]
		switch tag & 7 {
		case 0:
			v, n := binary.Uvarint(rec)
			if n <= 0 {
				return 0, nil, fmt.Errorf("proto varint of field %d: %w", tag>>3, ErrFormat)
			}
			rec = rec[n:]
			if tag>>3 == 1 {
				ts, haveTS = int64(v), true
			}
		case 2:
			l, n := binary.Uvarint(rec)
			if n <= 0 || l > uint64(len(rec)-n) {
				return 0, nil, fmt.Errorf("proto length of field %d: %w", tag>>3, ErrFormat)
			}
			v := rec[n : n+int(l)]
			rec = rec[n+int(l):]
			if tag>>3 == 2 {
				uid, haveUID = v, true
			}
		default:
			return 0, nil, fmt.Errorf("proto wire type %d: %w", tag&7, ErrFormat)
		}
	}
	if !haveTS || !haveUID || len(uid) == 0 {
		return 0, nil, fmt.Errorf("proto without ts or uid: %w", ErrFormat)
	}
	return ts, uid, nil
}
