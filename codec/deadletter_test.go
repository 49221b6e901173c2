package codec

import (
	"encoding/json"
	"testing"
)

func TestDeadLetterRoundTrip(t *testing.T) {
	for _, d := range []DeadLetter{
		{Reason: "syntax", Detail: `frame: syntax error at byte 3`, Offset: 17, Frame: "{\"ts\":\x01\xff"},
		{Reason: ReasonLate, Partition: 3, Offset: 99, TS: 1468244384, Frame: `{"ts":1468244384,"uid":"a"}`},
		{Reason: ReasonJump, Frame: "tab\tquote\"backslash\\\u2028"},
	} {
		b := d.AppendJSON(nil)
		if !json.Valid(b) {
			t.Fatalf("AppendJSON(%+v) = %s: not JSON", d, b)
		}
		v, err := DeadLetterCodec{}.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		got := v.(DeadLetter)
		want := d
		want.Frame = string([]rune(d.Frame)) // invalid UTF-8 becomes U+FFFD, as encoding/json does
		if got != want {
			t.Errorf("round trip = %+v, want %+v", got, want)
		}
	}
}

// TestDeadLetterDecodesOldRecords reads records written before "source" became "partition":
// a dead-letter topic keeps them for as long as its retention.
func TestDeadLetterDecodesOldRecords(t *testing.T) {
	tests := []struct {
		name, json    string
		wantPartition int32
	}{
		{"old name", `{"reason":"late","source":3,"offset":99,"ts":1468244384,"frame":"x"}`, 3},
		{"new name", `{"reason":"late","partition":3,"offset":99,"ts":1468244384,"frame":"x"}`, 3},
		{"new name wins", `{"reason":"late","partition":2,"source":3,"offset":99,"frame":"x"}`, 2},
		{"new name zero wins", `{"reason":"late","partition":0,"source":3,"offset":99,"frame":"x"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := DeadLetterCodec{}.Decode([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if d := v.(DeadLetter); d.Partition != tt.wantPartition || d.Offset != 99 || d.Reason != ReasonLate {
				t.Errorf("Decode(%s) = %+v, want partition %d, offset 99, reason late", tt.json, d, tt.wantPartition)
			}
		})
	}
}

func TestDeadLetterKafkaRoundTrip(t *testing.T) {
	for _, d := range []DeadLetter{
		{Reason: "syntax", Detail: "frame: syntax error at offset 3", Partition: 2, Offset: 77, Topic: "frames", Frame: "\x00\xff binary \n\"quoted\""},
		{Reason: "late", Partition: 0, Offset: 1, TS: 1468244384, Topic: "frames", Frame: `{"ts":1468244384,"uid":"a"}`},
		{Reason: "null_value", Partition: 3, Offset: 9, Topic: "frames"},
	} {
		got, err := DeadLetterFromKafka([]byte(d.Frame), d.KafkaHeaders())
		if err != nil || got != d {
			t.Errorf("round trip of %+v = %+v, %v", d, got, err)
		}
	}
	if _, err := DeadLetterFromKafka([]byte("x"), nil); err == nil {
		t.Error("a record without kuniq's headers decoded as a dead letter")
	}
	if _, err := DeadLetterFromKafka(nil, map[string][]byte{HeaderReason: []byte("late"), HeaderOffset: []byte("x1")}); err == nil {
		t.Error("a bad offset header was accepted")
	}
}

// FuzzDeadLetterFromKafka: any value and headers decode or are refused; what decodes
// round-trips through KafkaHeaders.
func FuzzDeadLetterFromKafka(f *testing.F) {
	f.Add([]byte(`{"ts":1}`), "syntax", "2", "77", "", "frames")
	f.Add([]byte{0xff, 0}, "late", "0", "1", "1468244384", "frames")
	f.Add([]byte(nil), "null_value", "x", "", "", "")
	f.Fuzz(func(t *testing.T, value []byte, reason, partition, offset, ts, topic string) {
		h := map[string][]byte{HeaderReason: []byte(reason), HeaderPartition: []byte(partition), HeaderOffset: []byte(offset), HeaderTopic: []byte(topic)}
		if ts != "" {
			h[HeaderTS] = []byte(ts)
		}
		d, err := DeadLetterFromKafka(value, h)
		if err != nil {
			return
		}
		again, err := DeadLetterFromKafka([]byte(d.Frame), d.KafkaHeaders())
		if err != nil || again != d {
			t.Fatalf("round trip of %+v = %+v, %v", d, again, err)
		}
	})
}
