package codec

import (
	"encoding/json"
	"testing"
)

func TestDeadLetterRoundTrip(t *testing.T) {
	for _, d := range []DeadLetter{
		{Reason: "syntax", Detail: `frame: syntax error at byte 3`, Offset: 17, Frame: "{\"ts\":\x01\xff"},
		{Reason: ReasonLate, Source: 3, Offset: 99, TS: 1468244384, Frame: `{"ts":1468244384,"uid":"a"}`},
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
