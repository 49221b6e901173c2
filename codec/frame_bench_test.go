package codec

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fastjson"
)

// BenchmarkDecodeFrame decodes the 1,000 challenge frames round-robin, one
// frame per op (so ns/op is ns/frame and MB/s is real frame bytes), with our
// decoder, our decoder as it was before issue 11 (frame_before_test.go), and
// two baselines. The baselines do less: neither checks that the
// uid and ts come from the root object's last keys the way our contract
// needs (encoding/json even matches "UID" case-insensitively), and fastjson
// accepts some inputs encoding/json rejects.
//
//	go test -run '^$' -bench DecodeFrame -benchmem ./codec/
func BenchmarkDecodeFrame(b *testing.B) {
	lines := sampleLines(b)
	var total int
	for _, l := range lines {
		total += len(l)
	}
	avg := int64(total / len(lines))

	b.Run("kuniq", func(b *testing.B) {
		var d FrameDecoder
		b.SetBytes(avg)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f, err := d.Decode(lines[i%len(lines)])
			if err != nil || f.TS == 0 {
				b.Fatalf("Decode: %v", err)
			}
			i++
		}
	})

	b.Run("before", func(b *testing.B) {
		var d FrameDecoderV0
		b.SetBytes(avg)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			f, err := d.DecodeV0(lines[i%len(lines)])
			if err != nil || f.TS == 0 {
				b.Fatalf("Decode: %v", err)
			}
			i++
		}
	})

	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var v struct {
				TS  json.Number `json:"ts"`
				UID string      `json:"uid"`
			}
			if err := json.Unmarshal(lines[i%len(lines)], &v); err != nil || v.UID == "" {
				b.Fatalf("Unmarshal: %v", err)
			}
			i++
		}
	})

	b.Run("fastjson", func(b *testing.B) {
		var p fastjson.Parser
		b.SetBytes(avg)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			v, err := p.ParseBytes(lines[i%len(lines)])
			if err != nil {
				b.Fatalf("ParseBytes: %v", err)
			}
			if v.GetInt64("ts") == 0 || len(v.GetStringBytes("uid")) == 0 {
				b.Fatal("fastjson: no ts or uid")
			}
			i++
		}
	})
}
