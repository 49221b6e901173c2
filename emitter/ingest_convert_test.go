package emitter

import (
	"bytes"
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
)

func protoIngest(t *testing.T, frame codec.FrameConfig, keying Keying) *Ingest {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Format, cfg.Frame, cfg.Keying = codec.FormatProtobuf, frame, keying
	in, err := NewIngest(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestProtoConverter: a JSON line becomes the message Frame of its ts (in the lines' unit) and
// uid; a line that is no frame is handed back as it is.
func TestProtoConverter(t *testing.T) {
	tests := []struct {
		name  string
		frame codec.FrameConfig
		line  string
		ok    bool
		ts    int64 // in the unit
		uid   string
	}{
		{name: "seconds", line: `{"ts":1468244384,"uid":"a","x":{"uid":"decoy"}}`, ok: true, ts: 1468244384, uid: "a"},
		{name: "escaped uid", line: `{"ts":"1468244384","uid":"\u00e9"}`, ok: true, ts: 1468244384, uid: "é"},
		{name: "numeric uid", line: `{"ts":1468244384,"uid":42}`, ok: true, ts: 1468244384, uid: "42"},
		{name: "ms, truncated to the second", frame: codec.FrameConfig{TSUnit: time.Millisecond}, line: `{"ts":1468244384999,"uid":"a"}`, ok: true, ts: 1468244384000, uid: "a"},
		{name: "nested uid", frame: codec.FrameConfig{UIDField: "user.id"}, line: `{"ts":1468244384,"user":{"id":"u"}}`, ok: true, ts: 1468244384, uid: "u"},
		{name: "malformed", line: `{"ts":1468244384,"uid":"a"`},
		{name: "no uid", line: `{"ts":1468244384}`},
		{name: "ns past int64", frame: codec.FrameConfig{TSUnit: time.Nanosecond}, line: `{"ts":9300000000000000000,"uid":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := protoIngest(t, tt.frame, KeyUID).converter()
			got, ok := c.convert([]byte(tt.line))
			if ok != tt.ok {
				t.Fatalf("convert(%s) ok = %v, want %v", tt.line, ok, tt.ok)
			}
			if !ok {
				if string(got) != tt.line {
					t.Errorf("convert(%s) = %q, want the line as it is", tt.line, got)
				}
				return
			}
			want := codec.AppendProtoFrame(nil, tt.ts, []byte(tt.uid))
			if !bytes.Equal(got, want) {
				t.Errorf("convert(%s) = %x, want %x", tt.line, got, want)
			}
			pc := tt.frame
			pc.Format, pc.UIDField = codec.FormatProtobuf, ""
			d, err := codec.NewProtoDecoder(pc)
			if err != nil {
				t.Fatal(err)
			}
			f, err := d.Decode(got)
			jf, jerr := protoIngest(t, tt.frame, KeyUID).converter().dec.Decode([]byte(tt.line))
			if err != nil || jerr != nil || f.TS != jf.TS || string(f.UID) != string(jf.UID) {
				t.Errorf("the message decodes to %+v, %v; the line to %+v, %v", f, err, jf, jerr)
			}
		})
	}
}

// TestProtoKeysMatchJSON: converted records keep the keys, and so the partitions, the JSON
// lines get (uid keying), and a line that is no frame keys by its CRC either way.
func TestProtoKeysMatchJSON(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Pool, cfg.MalformedPct = 3000, 500, 3
	lines, _ := genLines(t, cfg)
	in := protoIngest(t, codec.FrameConfig{}, KeyUID)
	pk, conv := in.keyer(), in.converter()
	jk := &keyer{mode: KeyUID}
	var notFrames int
	for _, l := range lines {
		v, ok := conv.convert(l)
		if !ok {
			notFrames++
		}
		if got, want := pk.appendKey(nil, v), jk.appendKey(nil, l); !bytes.Equal(got, want) {
			t.Fatalf("line %.60q: protobuf record key %q, JSON line key %q", l, got, want)
		}
	}
	if notFrames == 0 {
		t.Error("no malformed line in the generated data")
	}
}

// TestProtoConfigValidate: the lines' frame config must describe JSON.
func TestProtoConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Format, cfg.Frame = codec.FormatProtobuf, codec.FrameConfig{Format: codec.FormatProtobuf}
	if _, err := NewIngest(cfg); err == nil {
		t.Error("NewIngest with a protobuf frame config for the lines: err = nil")
	}
	cfg.Frame = codec.FrameConfig{UIDField: ".x"}
	if _, err := NewIngest(cfg); err == nil {
		t.Error("NewIngest with a bad uid field: err = nil")
	}
}

// TestKeyUIDFollowsFrameConfig: KeyUID finds the uid where Config.Frame says, in the unit it
// says: a nested uid with a millisecond ts is keyed by its user (the default config would see
// no root uid and a ts out of range, and fall back to the hash), a decoy root uid never counts.
func TestKeyUIDFollowsFrameConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Frame = codec.FrameConfig{UIDField: "user.id", TSUnit: time.Millisecond}
	in, err := NewIngest(cfg)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(`{"uid":"decoy","user":{"id":"u7"},"ts":1468244384000}`)
	if got := in.keyer().appendKey(nil, line); string(got) != "u7" {
		t.Errorf("key %q, want the nested uid u7", got)
	}
	if got := (&keyer{mode: KeyUID}).appendKey(nil, line); len(got) != 8 {
		t.Errorf("default keyer: key %q, want the 8-hex-digit hash fallback", got)
	}
}
