package format

import (
	"strconv"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/testkit"
)

// BenchmarkFormat gets {ts, uid} of the 1,000 sample frames back out, one record per op,
// from each encoding of them; B/frame is the mean record size.
func BenchmarkFormat(b *testing.B) {
	lines := testkit.SampleLines(b)
	var d codec.FrameDecoder
	var two, fixed, proto [][]byte
	for _, l := range lines {
		f, err := d.Decode(l)
		if err != nil {
			b.Fatal(err)
		}
		uid := string(f.UID)
		two = append(two, []byte(`{"ts":`+strconv.FormatInt(f.TS, 10)+`,"uid":"`+uid+`"}`))
		rec, err := AppendFixed28(nil, f.TS, uid)
		if err != nil {
			b.Fatal(err)
		}
		fixed = append(fixed, rec)
		proto = append(proto, AppendProto(nil, f.TS, uid))
	}
	run := func(name string, recs [][]byte, decode func([]byte) (int64, []byte, error)) {
		b.Run(name, func(b *testing.B) {
			var total int
			for _, r := range recs {
				total += len(r)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ts, uid, err := decode(recs[i%len(recs)])
				if err != nil || ts == 0 || len(uid) == 0 {
					b.Fatalf("decode: %d %q %v", ts, uid, err)
				}
				i++
			}
			b.ReportMetric(float64(total)/float64(len(recs)), "B/frame")
		})
	}
	json := func(rec []byte) (int64, []byte, error) {
		f, err := d.Decode(rec)
		return f.TS, f.UID, err
	}
	run("json_challenge_frame", lines, json)
	run("json_ts_uid_only", two, json)
	run("proto_wire", proto, DecodeProto)
	run("fixed28", fixed, DecodeFixed28)
}
