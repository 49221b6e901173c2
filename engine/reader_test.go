package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/testkit"
)

type readFrame struct {
	Offset int64
	Line   string
	TS     int64
	Hash   uint64
	Reason string
}

// equalFrames fails t when got and want differ in length or at any frame (the first
// difference), label saying which read got came from.
func equalFrames(t *testing.T, label string, got, want []readFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", label, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: frame %d = %+v, want %+v", label, i, got[i], want[i])
		}
	}
}

func readAll(t *testing.T, in []byte, workers int) []readFrame {
	t.Helper()
	var got []readFrame
	err := Read(context.Background(), iotest.HalfReader(bytes.NewReader(in)), ReadConfig{Workers: workers, MaxLine: 64 << 10}, func(fs []Frame) error {
		for _, f := range fs {
			got = append(got, readFrame{f.Offset, string(f.Line), f.TS, f.Hash, reasonOf(f.Err)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func reasonOf(err error) string {
	if err == nil {
		return ""
	}
	return codec.Reason(err)
}

// The reference: one line at a time, in order, on one goroutine.
func readNaive(in []byte) []readFrame {
	var d codec.FrameDecoder
	var out []readFrame
	for i, l := range strings.Split(string(in), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		f := Decode(&d, int64(i+1), []byte(l))
		if len(l) > 64<<10 {
			f = Frame{Offset: int64(i + 1), Line: []byte(l[:1024]), Err: ErrLineTooLong}
		}
		out = append(out, readFrame{f.Offset, string(f.Line), f.TS, f.Hash, reasonOf(f.Err)})
	}
	return out
}

func TestReadParallelEqualsSequential(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.MalformedPct, cfg.DisorderPct = 3000, 7, 2, 10
	frames, _ := testkit.Generate(t, cfg)
	buf := bytes.NewBuffer(frames)
	// Edge cases at the end: blank lines, CRLF, a line over MaxLine, no final newline.
	buf.WriteString("\n   \n{\"ts\":1468244390,\"uid\":\"crlf\"}\r\n")
	buf.WriteString(`{"ts":1468244390,"uid":"` + strings.Repeat("x", 70<<10) + "\"}\n")
	buf.WriteString(`{"ts":1468244391,"uid":"last"}`)
	in := buf.Bytes()

	want := readNaive(in)
	if len(want) != 3000+3 {
		t.Fatalf("reference read %d frames, want %d", len(want), 3003)
	}
	for _, workers := range []int{1, 2, 4, 7} {
		equalFrames(t, fmt.Sprintf("workers %d", workers), readAll(t, in, workers), want)
	}
}

func TestReadStopsOnCallbackError(t *testing.T) {
	in := bytes.Repeat([]byte(`{"ts":1,"uid":"a"}`+"\n"), 200000)
	stop := errors.New("stop")
	calls := 0
	err := Read(context.Background(), bytes.NewReader(in), ReadConfig{Workers: 2}, func([]Frame) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Read = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func TestReadEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "\n\n  \n"} {
		if got := readAll(t, []byte(in), 2); len(got) != 0 {
			t.Errorf("Read(%q) = %v, want nothing", in, got)
		}
	}
	_ = fmt.Sprint()
}

// TestReadFrameConfig checks that Read's decoders follow ReadConfig.Frame on every worker,
// and that a bad configuration is an error before anything is read.
func TestReadFrameConfig(t *testing.T) {
	var in bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&in, `{"uid":"root","user":{"id":"u%d"},"ts":%d}`+"\n", i%7, 1468244384000+int64(i))
	}
	cfg := codec.FrameConfig{UIDField: "user.id", TSUnit: time.Millisecond}
	for _, workers := range []int{1, 3} {
		var n int
		hashes := map[uint64]bool{}
		err := Read(context.Background(), bytes.NewReader(in.Bytes()), ReadConfig{Workers: workers, Frame: cfg}, func(fs []Frame) error {
			for _, f := range fs {
				if f.Err != nil || f.TS != 1468244384+int64(n)/1000 {
					return fmt.Errorf("frame %d: ts %d, err %v", f.Offset, f.TS, f.Err)
				}
				hashes[f.Hash] = true
				n++
			}
			return nil
		})
		if err != nil || n != 3000 || len(hashes) != 7 {
			t.Errorf("workers %d: %d frames, %d distinct uids, err %v; want 3000, 7, nil", workers, n, len(hashes), err)
		}
	}
	err := Read(context.Background(), bytes.NewReader(in.Bytes()), ReadConfig{Frame: codec.FrameConfig{UIDField: ".x"}}, func([]Frame) error {
		t.Error("fn called with a bad frame configuration")
		return nil
	})
	if err == nil {
		t.Error("Read with a bad frame configuration: err = nil")
	}
}
