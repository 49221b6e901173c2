package codec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// pb builds a message from pieces: each piece is appended as it is, so cases can hold raw
// bytes, tags and values in any order.
func pb(pieces ...[]byte) []byte { return bytes.Join(pieces, nil) }

func pbVarint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func pbBytes(num protowire.Number, v string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

// confluent wraps msg in Confluent's wire format with schema id 7 and the given raw index
// bytes.
func confluent(indexes []byte, msg []byte) []byte {
	return pb([]byte{0, 0, 0, 0, 7}, indexes, msg)
}

var protoCases = []struct {
	name   string
	msg    []byte
	unit   time.Duration
	ts     int64
	uid    string
	reason string
}{
	{name: "ts then uid", msg: pb(pbVarint(1, 1468244384), pbBytes(2, "a1b2c3")), ts: 1468244384, uid: "a1b2c3"},
	{name: "uid then ts", msg: pb(pbBytes(2, "u"), pbVarint(1, 1468244384)), ts: 1468244384, uid: "u"},
	{name: "last ts wins", msg: pb(pbVarint(1, 5), pbBytes(2, "u"), pbVarint(1, 1468244384)), ts: 1468244384, uid: "u"},
	{name: "last uid wins", msg: pb(pbBytes(2, "old"), pbVarint(1, 9), pbBytes(2, "new")), ts: 9, uid: "new"},
	{name: "unknown fields of every wire type skipped", msg: pb(
		pbVarint(3, 42), pbBytes(15, strings.Repeat("payload", 40)),
		protowire.AppendFixed32(protowire.AppendTag(nil, 4, protowire.Fixed32Type), 1),
		protowire.AppendFixed64(protowire.AppendTag(nil, 5, protowire.Fixed64Type), 1),
		protowire.AppendTag(nil, 6, protowire.StartGroupType), pbVarint(1, 77), protowire.AppendTag(nil, 6, protowire.EndGroupType),
		pbVarint(1, 100), pbBytes(2, "u"), pbVarint(536870911, 1)), ts: 100, uid: "u"},
	{name: "uid with multibyte UTF-8", msg: pb(pbVarint(1, 1), pbBytes(2, "Zoë ☃")), ts: 1, uid: "Zoë ☃"},
	{name: "max ts", msg: pb(pbVarint(1, uint64(MaxTS)), pbBytes(2, "u")), ts: MaxTS, uid: "u"},
	{name: "ms", msg: pb(pbVarint(1, 1468244384999), pbBytes(2, "u")), unit: time.Millisecond, ts: 1468244384, uid: "u"},
	{name: "us", msg: pb(pbVarint(1, 1468244384999999), pbBytes(2, "u")), unit: time.Microsecond, ts: 1468244384, uid: "u"},
	{name: "ns", msg: pb(pbVarint(1, 1468244384999999999), pbBytes(2, "u")), unit: time.Nanosecond, ts: 1468244384, uid: "u"},
	{name: "ns int64 max is 2262", msg: pb(pbVarint(1, math.MaxInt64), pbBytes(2, "u")), unit: time.Nanosecond, ts: math.MaxInt64 / 1000000000, uid: "u"},
	{name: "negative ms truncates to 0", msg: pb(pbVarint(1, uint64(1<<64-500)), pbBytes(2, "u")), unit: time.Millisecond, ts: 0, uid: "u"},
	{name: "zero ts written", msg: pb(pbVarint(1, 0), pbBytes(2, "u")), ts: 0, uid: "u"},
	{name: "confluent [0] as one byte", msg: confluent([]byte{0}, pb(pbVarint(1, 7), pbBytes(2, "u"))), ts: 7, uid: "u"},
	{name: "confluent explicit [1 2]", msg: confluent([]byte{4, 2, 4}, pb(pbVarint(1, 7), pbBytes(2, "u"))), ts: 7, uid: "u"},

	{name: "empty message", msg: []byte{}, reason: "no_uid"},
	{name: "no uid", msg: pbVarint(1, 7), reason: "no_uid"},
	{name: "empty uid", msg: pb(pbVarint(1, 7), pbBytes(2, "")), reason: "bad_uid"},
	{name: "uid not UTF-8", msg: pb(pbVarint(1, 7), pbBytes(2, "a\xffb")), reason: "bad_uid"},
	{name: "earlier uid not UTF-8", msg: pb(pbBytes(2, "\xff"), pbVarint(1, 7), pbBytes(2, "ok")), reason: "bad_uid"},
	{name: "uid as varint", msg: pb(pbVarint(1, 7), pbVarint(2, 42)), reason: "bad_uid"},
	{name: "no ts", msg: pbBytes(2, "u"), reason: "no_ts"},
	{name: "ts as bytes", msg: pb(pbBytes(1, "1468244384"), pbBytes(2, "u")), reason: "bad_ts"},
	{name: "ts as fixed64", msg: pb(protowire.AppendFixed64(protowire.AppendTag(nil, 1, protowire.Fixed64Type), 1468244384), pbBytes(2, "u")), reason: "bad_ts"},
	{name: "negative ts", msg: pb(pbVarint(1, uint64(1<<64-1)), pbBytes(2, "u")), reason: "ts_range"},
	{name: "ts past 9999", msg: pb(pbVarint(1, uint64(MaxTS+1)), pbBytes(2, "u")), reason: "ts_range"},
	{name: "negative ms below -1 s", msg: pb(pbVarint(1, uint64(1<<64-1000)), pbBytes(2, "u")), unit: time.Millisecond, reason: "ts_range"},
	{name: "uid checked before ts", msg: pbVarint(1, uint64(1<<64-1)), reason: "no_uid"},

	{name: "truncated uid", msg: pb(pbVarint(1, 7), pbBytes(2, "abcdef"))[:6], reason: "syntax"},
	{name: "truncated ts varint", msg: []byte{0x08, 0xa0}, reason: "syntax"},
	{name: "truncated tag", msg: []byte{0x80}, reason: "syntax"},
	{name: "varint overflow", msg: pb([]byte{0x08}, bytes.Repeat([]byte{0xff}, 10), []byte{0x01}), reason: "syntax"},
	{name: "field number 0 after a field", msg: pb(pbVarint(1, 7), []byte{0x00, 0x01}), reason: "syntax"},
	{name: "field number over 2^29-1", msg: pb(pbVarint(536870912, 1), pbVarint(1, 7), pbBytes(2, "u")), reason: "syntax"},
	{name: "end group without start", msg: pb(protowire.AppendTag(nil, 6, protowire.EndGroupType), pbVarint(1, 7), pbBytes(2, "u")), reason: "syntax"},
	{name: "unclosed group", msg: pb(pbVarint(1, 7), pbBytes(2, "u"), protowire.AppendTag(nil, 6, protowire.StartGroupType)), reason: "syntax"},
	{name: "reserved wire type 6", msg: pb([]byte{0x1e, 0x00}, pbVarint(1, 7), pbBytes(2, "u")), reason: "syntax"},
	{name: "unknown bytes field runs past the end", msg: pb(pbVarint(1, 7), pbBytes(2, "u"), []byte{0x7a, 0x10, 'x'}), reason: "syntax"},
	{name: "a JSON frame is not protobuf", msg: []byte(`{"ts":1468244384,"uid":"u"}`), reason: "syntax"},
	{name: "confluent header too short", msg: []byte{0, 0, 0, 7}, reason: "syntax"},
	{name: "confluent header without indexes", msg: []byte{0, 0, 0, 0, 7}, reason: "syntax"},
	{name: "confluent index count past the end", msg: confluent([]byte{40}, []byte{0x08}), reason: "syntax"},
	{name: "confluent negative index count", msg: confluent([]byte{3}, pb(pbVarint(1, 7), pbBytes(2, "u"))), reason: "syntax"},
	{name: "confluent with an empty message", msg: confluent([]byte{0}, nil), reason: "no_uid"},
}

func TestProtoDecode(t *testing.T) {
	for _, tc := range protoCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewProtoDecoder(FrameConfig{TSUnit: tc.unit})
			if err != nil {
				t.Fatal(err)
			}
			f, err := d.Decode(tc.msg)
			if got := Reason(err); got != tc.reason {
				t.Fatalf("Decode(%x) = %+v, %v: reason %q, want %q", tc.msg, f, err, got, tc.reason)
			}
			if err == nil && (f.TS != tc.ts || string(f.UID) != tc.uid) {
				t.Errorf("Decode(%x) = ts %d uid %q, want ts %d uid %q", tc.msg, f.TS, f.UID, tc.ts, tc.uid)
			}
			if err != nil && (f.TS != 0 || f.UID != nil) {
				t.Errorf("Decode(%x) = %+v with error %v, want the zero Frame", tc.msg, f, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "decode protobuf frame") {
				t.Errorf("error %q does not say it is about a protobuf frame", err)
			}
		})
	}
}

// TestProtoDecodeMatchesRuntime runs the table cases through the protobuf runtime's decoding of
// message Frame too: every difference must be a documented one.
func TestProtoDecodeMatchesRuntime(t *testing.T) {
	for _, tc := range protoCases {
		d, _ := NewProtoDecoder(FrameConfig{TSUnit: tc.unit})
		t.Run(tc.name, func(t *testing.T) {
			cfg := FrameConfig{TSUnit: tc.unit}
			checkProtoAgainstRef(t, d, tc.msg, cfg.UnitsPerSecond())
		})
	}
}

// TestProtoDecodeDoesNotAllocate: the decoder is on stage 1's hot path.
func TestProtoDecodeDoesNotAllocate(t *testing.T) {
	msgs := sampleProto(t)
	var d ProtoDecoder
	if n := testing.AllocsPerRun(100, func() {
		for _, m := range msgs[:100] {
			if _, err := d.Decode(m); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 0 {
		t.Errorf("Decode allocates %.1f times per 100 frames, want 0", n)
	}
}

// TestProtoDecoderConfig: field paths are JSON's; a protobuf config with one is refused, and
// FrameDecoder refuses the protobuf format rather than read protobuf as JSON.
func TestProtoDecoderConfig(t *testing.T) {
	for _, c := range []FrameConfig{
		{Format: FormatProtobuf, UIDField: "user.id"},
		{Format: FormatProtobuf, TSField: "time"},
		{Format: FormatProtobuf, TSUnit: time.Minute},
		{Format: Format(9)},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v.Validate() = nil, want an error", c)
		}
	}
	for _, c := range []FrameConfig{{Format: FormatProtobuf}, {Format: FormatProtobuf, UIDField: "uid", TSField: "ts", TSUnit: time.Millisecond}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v, want nil", c, err)
		}
		if d, err := NewDecoder(c); err != nil {
			t.Errorf("NewDecoder(%+v): %v", c, err)
		} else if _, ok := d.(*ProtoDecoder); !ok {
			t.Errorf("NewDecoder(%+v) = %T, want *ProtoDecoder", c, d)
		}
	}
	if _, err := NewFrameDecoder(FrameConfig{Format: FormatProtobuf}); err == nil {
		t.Error("NewFrameDecoder with FormatProtobuf = nil error, want a refusal")
	}
	if d, err := NewDecoder(FrameConfig{}); err != nil {
		t.Error(err)
	} else if _, ok := d.(*FrameDecoder); !ok {
		t.Errorf("NewDecoder(FrameConfig{}) = %T, want *FrameDecoder", d)
	}
	for s, want := range map[string]Format{"json": FormatJSON, "protobuf": FormatProtobuf, "proto": FormatProtobuf} {
		if got, err := ParseFormat(s); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v, want %v", s, got, err, want)
		}
	}
	if _, err := ParseFormat("avro"); err == nil {
		t.Error(`ParseFormat("avro") = nil error`)
	}
}

// TestSecondsMatchesParseTS: a protobuf int64 ts and the same integer in a JSON frame give the
// same seconds and the same verdict in every unit (one rule, two spellings).
func TestSecondsMatchesParseTS(t *testing.T) {
	vals := []int64{0, 1, -1, 999, -999, 1000, -1000, 1468244384, MaxTS, MaxTS + 1, -MaxTS, math.MaxInt64, math.MinInt64,
		MaxTS*1000 + 999, MaxTS*1000 + 1000, 1468244384123456789}
	for _, unit := range []time.Duration{time.Second, time.Millisecond, time.Microsecond, time.Nanosecond} {
		for _, v := range vals {
			checkSeconds(t, v, unit)
		}
	}
}

func FuzzSecondsMatchesParseTS(f *testing.F) {
	f.Add(int64(1468244384), uint8(0))
	f.Add(int64(-999), uint8(1))
	f.Fuzz(func(t *testing.T, v int64, u uint8) {
		units := []time.Duration{time.Second, time.Millisecond, time.Microsecond, time.Nanosecond}
		checkSeconds(t, v, units[int(u)%len(units)])
	})
}

func checkSeconds(t *testing.T, v int64, unit time.Duration) {
	t.Helper()
	c := mustCompile(FrameConfig{TSUnit: unit})
	got, ok := c.seconds(v)
	want, wok := parseTS(strconv.AppendInt(nil, v, 10), true, c)
	if ok != wok || ok && got != want {
		t.Errorf("seconds(%d) in %v = %d, %v; the JSON rule says %d, %v", v, unit, got, ok, want, wok)
	}
}

// sampleProto is the 1,000 challenge frames as protobuf messages (their ts and uid), the
// delimited stream of testdata/challenge-sample-1000.pb.
func sampleProto(tb testing.TB) [][]byte {
	tb.Helper()
	data, err := os.ReadFile("../testdata/challenge-sample-1000.pb")
	if err != nil {
		tb.Fatal(err)
	}
	var msgs [][]byte
	for len(data) > 0 {
		m, n, err := NextDelimited(data, 1<<20)
		if err != nil {
			tb.Fatalf("testdata/challenge-sample-1000.pb: %v", err)
		}
		msgs, data = append(msgs, m), data[n:]
	}
	return msgs
}

// TestProtoSampleGolden: testdata/challenge-sample-1000.pb is the JSON sample's frames as a
// length-delimited protobuf stream, and decodes to exactly what the JSON lines decode to
// (-update rewrites it from the JSON sample).
func TestProtoSampleGolden(t *testing.T) {
	lines := sampleLines(t)
	var jd FrameDecoder
	var want []byte
	for _, l := range lines {
		f, err := jd.Decode(l)
		if err != nil {
			t.Fatal(err)
		}
		want = AppendDelimited(want, AppendProtoFrame(nil, f.TS, f.UID))
	}
	const path = "../testdata/challenge-sample-1000.pb"
	if updateGolden() {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the JSON sample's frames encoded now (%d vs %d bytes); rerun with -update if the encoding changed on purpose", path, len(got), len(want))
	}
	var pd ProtoDecoder
	for i, m := range sampleProto(t) {
		jf, _ := jd.Decode(lines[i])
		pf, err := pd.Decode(m)
		if err != nil || pf.TS != jf.TS || !bytes.Equal(pf.UID, jf.UID) {
			t.Fatalf("message %d = %+v, %v; line %d is ts %d uid %q", i+1, pf, err, i+1, jf.TS, jf.UID)
		}
	}
}

// TestProtoGolden decodes the messages of testdata/proto-frames.golden (one per line: hex
// bytes, a tab, and the expected "ts uid" or "!reason"): bytes written by other producers and
// by earlier kuniq versions must keep decoding as they did. -update appends nothing: the file
// is written by hand and only ever grows.
func TestProtoGolden(t *testing.T) {
	f, err := os.Open("testdata/proto-frames.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d ProtoDecoder
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		hexMsg, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("golden line %q: want HEX<TAB>EXPECTED", line)
		}
		msg, err := hex.DecodeString(strings.ReplaceAll(hexMsg, " ", ""))
		if err != nil {
			t.Fatalf("golden line %q: %v", line, err)
		}
		fr, err := d.Decode(msg)
		got := fmt.Sprintf("%d %s", fr.TS, fr.UID)
		if err != nil {
			got = "!" + Reason(err)
		}
		if got != want {
			t.Errorf("Decode(%s) = %q (%v), want %q", hexMsg, got, err, want)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d golden messages", n)
	}
}

func TestNextDelimited(t *testing.T) {
	msg := AppendProtoFrame(nil, 1468244384, []byte("u"))
	stream := AppendDelimited(AppendDelimited(nil, msg), nil)
	m, n, err := NextDelimited(stream, 100)
	if err != nil || !bytes.Equal(m, msg) || n != len(msg)+1 {
		t.Fatalf("NextDelimited = %x, %d, %v; want %x, %d", m, n, err, msg, len(msg)+1)
	}
	if m, n, err := NextDelimited(stream[n:], 100); err != nil || len(m) != 0 || n != 1 {
		t.Errorf("empty message: %x, %d, %v", m, n, err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":           {nil, io.ErrUnexpectedEOF},
		"cut in prefix":   {[]byte{0x80}, io.ErrUnexpectedEOF},
		"cut in message":  {stream[:5], io.ErrUnexpectedEOF},
		"over the limit":  {protowire.AppendVarint(nil, 101), ErrDelimited},
		"huge length":     {protowire.AppendVarint(nil, 1<<62), ErrDelimited},
		"prefix overflow": {bytes.Repeat([]byte{0xff}, 11), ErrDelimited},
	} {
		if _, n, err := NextDelimited(tc.b, 100); !errors.Is(err, tc.want) || n != 0 {
			t.Errorf("%s: NextDelimited(%x) = %d, %v; want 0, %v", name, tc.b, n, err, tc.want)
		}
	}
}

func TestConfluentSchemaID(t *testing.T) {
	if id, ok := ConfluentSchemaID(confluent([]byte{0}, nil)); !ok || id != 7 {
		t.Errorf("ConfluentSchemaID = %d, %v; want 7, true", id, ok)
	}
	if _, ok := ConfluentSchemaID(AppendProtoFrame(nil, 1, []byte("u"))); ok {
		t.Error("a plain message has a Confluent schema id")
	}
}

// FuzzDecodeProtoFrame checks that ProtoDecoder never panics and agrees with the protobuf
// runtime's decoding of message Frame (built from its descriptor with dynamicpb) on every
// input, but for the documented differences; in every ts unit, plain and in Confluent framing.
// It is seeded with the challenge sample's messages and the table cases.
func FuzzDecodeProtoFrame(f *testing.F) {
	for _, m := range sampleProto(f)[:100] {
		f.Add(uint8(0), m)
	}
	for i, tc := range protoCases {
		f.Add(uint8(i), tc.msg)
	}
	units := []time.Duration{time.Second, time.Millisecond, time.Microsecond, time.Nanosecond}
	decoders := make([]*ProtoDecoder, len(units))
	for i, u := range units {
		decoders[i], _ = NewProtoDecoder(FrameConfig{TSUnit: u})
	}
	f.Fuzz(func(t *testing.T, sel uint8, msg []byte) {
		i := int(sel) % len(units)
		if sel&0x80 != 0 {
			msg = confluent([]byte{0}, msg)
		}
		checkProtoAgainstRef(t, decoders[i], msg, FrameConfig{TSUnit: units[i]}.UnitsPerSecond())
	})
}

// BenchmarkDecodeProtoFrame decodes the challenge sample's frames as protobuf messages, one
// per op, plain and in Confluent framing, beside BenchmarkDecodeFrame's JSON of the same
// frames (bench.sh prints the two side by side):
//
//	go test -run '^$' -bench 'DecodeFrame/kuniq|DecodeProtoFrame' -benchmem ./codec/
func BenchmarkDecodeProtoFrame(b *testing.B) {
	msgs := sampleProto(b)
	for _, framing := range []string{"plain", "confluent"} {
		in := msgs
		if framing == "confluent" {
			in = make([][]byte, len(msgs))
			for i, m := range msgs {
				in[i] = confluent([]byte{0}, m)
			}
		}
		var total int
		for _, m := range in {
			total += len(m)
		}
		b.Run(framing, func(b *testing.B) {
			var d ProtoDecoder
			b.SetBytes(int64(total / len(in)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f, err := d.Decode(in[i%len(in)])
				if err != nil || f.TS == 0 {
					b.Fatalf("Decode: %v", err)
				}
				i++
			}
		})
	}
}
