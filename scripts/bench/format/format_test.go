package format

import (
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ts   int64
		uid  string
	}{
		{"challenge", 1468244384, "0123456789abcdef012"},
		{"short uid", 1, "a"},
		{"negative ts", -5, "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := AppendFixed28(nil, tt.ts, tt.uid)
			if err != nil {
				t.Fatalf("AppendFixed28: %v", err)
			}
			if ts, uid, err := DecodeFixed28(rec); err != nil || ts != tt.ts || string(uid) != tt.uid {
				t.Errorf("DecodeFixed28 = %d, %q, %v; want %d, %q", ts, uid, err, tt.ts, tt.uid)
			}
			if ts, uid, err := DecodeProto(AppendProto(nil, tt.ts, tt.uid)); err != nil || ts != tt.ts || string(uid) != tt.uid {
				t.Errorf("DecodeProto = %d, %q, %v; want %d, %q", ts, uid, err, tt.ts, tt.uid)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	rec, err := AppendFixed28(nil, 1468244384, "0123456789abcdef012")
	if err != nil || len(rec) != Fixed28Size {
		t.Errorf("AppendFixed28: %d bytes, %v; want %d", len(rec), err, Fixed28Size)
	}
	if got, want := len(AppendProto(nil, 1468244384, "0123456789abcdef012")), 1+5+1+1+19; got != want {
		t.Errorf("AppendProto: %d bytes, want %d", got, want)
	}
}

func TestBadRecords(t *testing.T) {
	tests := []struct {
		name   string
		decode func([]byte) (int64, []byte, error)
		rec    []byte
	}{
		{"fixed short", DecodeFixed28, make([]byte, 27)},
		{"fixed zero uid length", DecodeFixed28, make([]byte, 28)},
		{"fixed uid too long", DecodeFixed28, append(make([]byte, 8), append([]byte{20}, make([]byte, 19)...)...)},
		{"proto empty", DecodeProto, nil},
		{"proto no uid", DecodeProto, []byte{tagTS, 5}},
		{"proto length past end", DecodeProto, []byte{tagTS, 5, tagUID, 9, 'a'}},
		{"proto wire type 5", DecodeProto, []byte{1<<3 | 5, 0, 0, 0, 0}},
		{"proto truncated varint", DecodeProto, []byte{tagTS, 0x80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := tt.decode(tt.rec); !errors.Is(err, ErrFormat) {
				t.Errorf("decode(%x) error = %v, want ErrFormat", tt.rec, err)
			}
		})
	}
}

func FuzzDecodeFixed28(f *testing.F) {
	rec, _ := AppendFixed28(nil, 1468244384, "0123456789abcdef012")
	f.Add(rec)
	f.Fuzz(func(t *testing.T, b []byte) {
		if ts, uid, err := DecodeFixed28(b); err == nil {
			again, err := AppendFixed28(nil, ts, string(uid))
			if err != nil {
				t.Fatalf("re-encode %d %q: %v", ts, uid, err)
			}
			if ts2, uid2, _ := DecodeFixed28(again); ts2 != ts || string(uid2) != string(uid) {
				t.Errorf("round trip = %d %q, want %d %q", ts2, uid2, ts, uid)
			}
		}
	})
}

func FuzzDecodeProto(f *testing.F) {
	f.Add(AppendProto(nil, 1468244384, "0123456789abcdef012"))
	f.Add([]byte{tagUID, 1, 'x', tagTS, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if ts, uid, err := DecodeProto(b); err == nil {
			if ts2, uid2, err := DecodeProto(AppendProto(nil, ts, string(uid))); err != nil || ts2 != ts || string(uid2) != string(uid) {
				t.Errorf("round trip = %d %q %v, want %d %q", ts2, uid2, err, ts, uid)
			}
		}
	})
}
