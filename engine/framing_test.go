package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/testkit"
)

var protoConfig = codec.FrameConfig{Format: codec.FormatProtobuf}

// readDelimited reads a delimited stream with Read and returns the frames and Read's error.
func readDelimited(tb testing.TB, in []byte, workers, maxLen int) ([]readFrame, error) {
	tb.Helper()
	var got []readFrame
	err := Read(context.Background(), iotest.HalfReader(bytes.NewReader(in)), ReadConfig{Workers: workers, MaxLine: maxLen, Frame: protoConfig}, func(fs []Frame) error {
		for _, f := range fs {
			got = append(got, readFrame{f.Offset, string(f.Line), f.TS, f.Hash, reasonOf(f.Err)})
		}
		return nil
	})
	return got, err
}

// readDelimitedNaive is the reference: one message at a time, on one goroutine, in one buffer.
func readDelimitedNaive(in []byte, maxLen int) (out []readFrame, broken bool) {
	var d codec.ProtoDecoder
	for n := int64(1); len(in) > 0; n++ {
		msg, k, err := codec.NextDelimited(in, maxLen)
		if err != nil {
			if errors.Is(err, codec.ErrDelimited) {
				broken = true
			} else {
				err = ErrTruncated
			}
			return append(out, readFrame{n, string(in[:min(len(in), TooLargeHead)]), 0, 0, codec.Reason(err)}), broken
		}
		f := Decode(&d, n, msg)
		out = append(out, readFrame{f.Offset, string(f.Line), f.TS, f.Hash, reasonOf(f.Err)})
		in = in[k:]
	}
	return out, false
}

func protoMsg(ts int64, uid string) []byte { return codec.AppendProtoFrame(nil, ts, []byte(uid)) }

// TestReadDelimited: the framing's edge cases, each after a good message (which must still be
// counted) and, where the stream can go on, before one.
func TestReadDelimited(t *testing.T) {
	good := codec.AppendDelimited(nil, protoMsg(1468244384, "a"))
	last := codec.AppendDelimited(nil, protoMsg(1468244385, "b"))
	const maxLen = 64
	tests := []struct {
		name    string
		in      []byte
		reasons []string // of the frames after the first good one
		broken  bool     // Read returns an error wrapping codec.ErrDelimited
	}{
		{name: "clean", in: last, reasons: []string{""}},
		{name: "zero-length message", in: append([]byte{0}, last...), reasons: []string{"no_uid", ""}},
		{name: "truncated length", in: []byte{0x80}, reasons: []string{"syntax"}},
		{name: "truncated length of two bytes", in: []byte{0xff, 0x80}, reasons: []string{"syntax"}},
		{name: "EOF mid-message", in: last[:len(last)-3], reasons: []string{"syntax"}},
		{name: "EOF after the length", in: last[:1], reasons: []string{"syntax"}},
		{name: "message at the limit", in: codec.AppendDelimited(nil, append(protoMsg(1468244384, "c"), make([]byte, maxLen-len(protoMsg(1468244384, "c")))...)), reasons: []string{"syntax"}},
		{name: "oversize length", in: append(protowire.AppendVarint(nil, maxLen+1), last...), reasons: []string{"too_large"}, broken: true},
		{name: "huge length", in: append(protowire.AppendVarint(nil, 1<<62), last...), reasons: []string{"too_large"}, broken: true},
		{name: "length not a varint", in: append(bytes.Repeat([]byte{0xff}, 11), last...), reasons: []string{"syntax"}, broken: true},
		{name: "wrong wire type", in: append(codec.AppendDelimited(nil, []byte{0x0a, 0x01, 'x', 0x12, 0x01, 'a'}), last...), reasons: []string{"bad_ts", ""}},
		{name: "missing uid", in: append(codec.AppendDelimited(nil, []byte{0x08, 0x01}), last...), reasons: []string{"no_uid", ""}},
		{name: "ts out of range", in: append(codec.AppendDelimited(nil, protoMsg(-5, "a")), last...), reasons: []string{"ts_range", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append(append([]byte(nil), good...), tt.in...)
			want, wantBroken := readDelimitedNaive(in, maxLen)
			if wantBroken != tt.broken {
				t.Fatalf("reference: broken %v, want %v", wantBroken, tt.broken)
			}
			for _, workers := range []int{1, 3} {
				got, err := readDelimited(t, in, workers, maxLen)
				if gotBroken := errors.Is(err, codec.ErrDelimited); gotBroken != tt.broken || err != nil && !gotBroken {
					t.Fatalf("workers %d: Read = %v, want broken %v", workers, err, tt.broken)
				}
				if len(got) == 0 {
					t.Fatalf("workers %d: no frames, want the good message first", workers)
				}
				var reasons []string
				for _, f := range got[1:] {
					reasons = append(reasons, f.Reason)
				}
				if got[0].Reason != "" || strings.Join(reasons, ",") != strings.Join(tt.reasons, ",") {
					t.Errorf("workers %d: reasons %q after %q, want %q after the good message", workers, reasons, got[0].Reason, tt.reasons)
				}
				equalFrames(t, fmt.Sprintf("workers %d", workers), got, want)
			}
		})
	}
}

// TestReadDelimitedParallelEqualsSequential: a stream of many chunks, with bad messages among
// the good ones and a message longer than a chunk, reads the same on any number of workers as
// one message at a time.
func TestReadDelimitedParallelEqualsSequential(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed = 20000, 3
	frames, _ := testkit.Generate(t, cfg)
	var jd codec.FrameDecoder
	var in []byte
	for i, l := range testkit.Lines(frames) {
		f, err := jd.Decode(l)
		if err != nil {
			continue
		}
		switch i % 997 {
		case 1:
			in = codec.AppendDelimited(in, nil) // no uid
		case 2:
			in = codec.AppendDelimited(in, []byte{0x08}) // truncated
		case 3:
			// A message longer than a chunk: an unknown field of 1.5 MiB.
			big := protoMsg(f.TS, string(f.UID))
			big = protowire.AppendTag(big, 9, protowire.BytesType)
			big = protowire.AppendBytes(big, make([]byte, chunkSize*3/2))
			in = codec.AppendDelimited(in, big)
		}
		in = codec.AppendDelimited(in, protoMsg(f.TS, string(f.UID)))
	}
	const maxLen = 4 << 20
	want, _ := readDelimitedNaive(in, maxLen)
	for _, workers := range []int{1, 2, 4} {
		got, err := readDelimited(t, in, workers, maxLen)
		if err != nil {
			t.Fatal(err)
		}
		equalFrames(t, fmt.Sprintf("workers %d", workers), got, want)
	}
}

// TestReadDelimitedSample: the sample's delimited conversion reads to the same ts and uid
// hashes as its JSON lines, frame by frame.
func TestReadDelimitedSample(t *testing.T) {
	pb, err := os.ReadFile(filepath.Join(testkit.Root(t), "testdata/challenge-sample-1000.pb"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readDelimited(t, pb, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := readAll(t, testkit.Sample(t), 2)
	if len(got) != len(want) || len(got) != 1000 {
		t.Fatalf("%d protobuf frames, %d JSON frames, want 1000", len(got), len(want))
	}
	for i := range want {
		if g, w := got[i], want[i]; g.Offset != w.Offset || g.TS != w.TS || g.Hash != w.Hash || g.Reason != "" || w.Reason != "" {
			t.Fatalf("frame %d: protobuf %+v, JSON ts %d hash %x %q", i, g, w.TS, w.Hash, w.Reason)
		}
	}
}

// FuzzReadDelimited: any bytes read as a delimited stream give, on any number of workers, the
// frames of the one-message-at-a-time reference, and never a panic.
func FuzzReadDelimited(f *testing.F) {
	pb, err := os.ReadFile(filepath.Join(testkit.Root(f), "testdata/challenge-sample-1000.pb"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pb[:200])
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0x80})
	f.Add(append(protowire.AppendVarint(nil, 1<<40), pb[:30]...))
	f.Add(codec.AppendDelimited(nil, append([]byte{0, 0, 0, 0, 1, 0}, protoMsg(1468244384, "a")...))) // Confluent-framed
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxLen = 48
		want, wantBroken := readDelimitedNaive(in, maxLen)
		got, err := readDelimited(t, in, 2, maxLen)
		if errors.Is(err, codec.ErrDelimited) != wantBroken || err != nil && !wantBroken {
			t.Fatalf("Read = %v, reference broken %v", err, wantBroken)
		}
		equalFrames(t, "against the reference", got, want)
	})
}

// TestFramingAllocs: walking a chunk's frames allocates nothing per frame, in either framing.
func TestFramingAllocs(t *testing.T) {
	pb, err := os.ReadFile(filepath.Join(testkit.Root(t), "testdata/challenge-sample-1000.pb"))
	if err != nil {
		t.Fatal(err)
	}
	jsonl := testkit.Sample(t)
	for _, tt := range []struct {
		name string
		f    framing
		cfg  codec.FrameConfig
		in   []byte
	}{{"delimited", delimited{}, protoConfig, pb}, {"lines", lines{}, codec.FrameConfig{}, jsonl}} {
		d, err := codec.NewDecoder(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]Frame, 0, 1000)
		if _, n, _ := tt.f.decode(d, tt.in, 1<<20, dst); n != 1000 {
			t.Fatalf("%s: %d frames, want 1000", tt.name, n)
		}
		if a := testing.AllocsPerRun(10, func() { dst, _, _ = tt.f.decode(d, tt.in, 1<<20, dst[:0]) }); a != 0 {
			t.Errorf("%s: %v allocations per chunk of 1000 frames, want 0", tt.name, a)
		}
		if n, stop := tt.f.cut(tt.in, 1<<20); n != len(tt.in) || stop {
			t.Errorf("%s: cut = %d, %v; want %d, false", tt.name, n, stop, len(tt.in))
		}
	}
}
