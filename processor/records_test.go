package processor

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

func testSketch(t testing.TB, users int) *sketch.Sketch {
	s, err := sketch.New(14)
	if err != nil {
		t.Fatal(err)
	}
	for i := range users {
		s.InsertHash(sketch.Hash([]byte{byte(i), byte(i >> 8), byte(i >> 16)}))
	}
	return s
}

func TestPipelineRecordsRoundTrip(t *testing.T) {
	minute := window.Key{Granularity: window.Minute, Start: 1468244340}
	month := window.Key{Granularity: window.Month, Start: window.Month.Start(1468244340)}
	for _, tc := range []struct {
		name  string
		codec interface {
			Encode(any) ([]byte, error)
			Decode([]byte) (any, error)
		}
		v any
	}{
		{"partial", PartialsCodec{}, &Partial{Partition: 3, First: 100, Last: 5099, Frames: 1234, Sketch: testSketch(t, 1000)}},
		{"dense partial", PartialsCodec{}, &Partial{Partition: 0, First: 0, Last: 0, Frames: 1, Sketch: testSketch(t, 20000)}},
		{"mark", PartialsCodec{}, &Mark{Partition: 7, Watermark: math.MinInt64, MaxTS: math.MinInt64, Idle: true}},
		{"mark live", PartialsCodec{}, &Mark{Partition: 1, Watermark: 1468244395, MaxTS: 1468244400}},
		{"register", CommandCodec{}, &Command{Op: OpRegister, Window: month}},
		{"finalize", CommandCodec{}, &Command{Op: OpFinalize}},
		{"correct", CommandCodec{}, &Command{Op: OpCorrect, Window: minute, At: 1700000010123}},
		{"published", CommandCodec{}, &Command{Op: OpPublished, Window: minute}},
		{"window", TableCodec{}, &WindowState{Count: engine.Count{Sketch: testSketch(t, 50), Frames: 60, LateFrames: 2, Final: true, Revision: 1}, EarlyAt: 1700000000123, Upto: map[int32]int64{0: 10, 3: 99}}},
		{"window pending", TableCodec{}, &WindowState{Count: engine.Count{Sketch: testSketch(t, 50), Frames: 60, LateFrames: 2, Final: true, Revision: 1}, LastAt: 1700000005000, Pending: true}},
		{"window closed", TableCodec{}, &WindowState{Count: engine.Count{Sketch: testSketch(t, 50), Frames: 60, Final: true, Closed: true}, LastAt: 1700000005000}},
		{"window fresh", TableCodec{}, &WindowState{Count: engine.Count{Sketch: testSketch(t, 0)}}},
		{"control", TableCodec{}, &Control{Watermark: 1468244395, Final: 1468244395, Inputs: map[int32]window.Progress{0: {Watermark: 1468244395, MaxTS: 1468244400}, 1: {Watermark: math.MinInt64, MaxTS: math.MinInt64, Idle: true}}, Open: []window.Key{minute, month}, Expiring: []window.Key{minute}}},
		{"control closing and pending", TableCodec{}, &Control{Watermark: 1468244395, Final: 1700000000, Inputs: map[int32]window.Progress{0: {Watermark: 1468244395, MaxTS: 1468244400, Idle: true}},
			Closing: []window.Key{minute}, Pending: []Due{{Window: minute, At: 1700000010123}, {Window: month, At: 1}}}},
	} {
		b, err := tc.codec.Encode(tc.v)
		if err != nil {
			t.Fatalf("%s: Encode: %v", tc.name, err)
		}
		got, err := tc.codec.Decode(b)
		if err != nil {
			t.Fatalf("%s: Decode: %v", tc.name, err)
		}
		// Sketches are compared by estimate: the encoding is not canonical.
		normalize := func(v any) any {
			switch x := v.(type) {
			case *Partial:
				c := *x
				c.Sketch = nil
				return [2]any{c, x.Sketch.Estimate()}
			case *WindowState:
				c := *x
				c.Sketch = nil
				if len(c.Upto) == 0 {
					c.Upto = nil
				}
				return [2]any{c, x.Sketch.Estimate()}
			}
			return v
		}
		if !reflect.DeepEqual(normalize(got), normalize(tc.v)) {
			t.Errorf("%s: round trip = %+v, want %+v", tc.name, got, tc.v)
		}
		// Every prefix is rejected with ErrRecord or a sketch error, never a panic.
		for i := range len(b) {
			if _, err := tc.codec.Decode(b[:i]); err == nil {
				t.Errorf("%s: Decode of %d-byte prefix succeeded", tc.name, i)
				break
			}
		}
	}
}

func TestPipelineDecodeRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":        nil,
		"other magic":  []byte("ks\x01"),
		"future vers":  {magic, kindMark, 9, 0, 0, 0, 0},
		"wrong kind":   {magic, kindWindow, pipelineVers},
		"huge count":   {magic, kindControl, pipelineVers, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad key":      {magic, kindCommand, pipelineVers, byte(OpRegister), 0, 3},
		"unknown op":   {magic, kindCommand, pipelineVers, byte(lastOp) + 1, 0, 0},
		"op zero":      {magic, kindCommand, pipelineVers, 0, 0, 0},
		"table vers 3": {magic, kindControl, tableVers + 1, 0, 0, 0, 0},
		"trailing":     {magic, kindMark, pipelineVers, 0, 0, 0, 0, 7},
	} {
		var err error
		switch {
		case len(b) > 1 && b[1] == kindCommand:
			_, err = CommandCodec{}.Decode(b)
		case len(b) > 1 && (b[1] == kindControl):
			_, err = TableCodec{}.Decode(b)
		default:
			_, err = PartialsCodec{}.Decode(b)
		}
		if !errors.Is(err, ErrRecord) {
			t.Errorf("%s: err = %v, want ErrRecord", name, err)
		}
	}
}

// TestTableDecodesVersion1 reads rows of the layout before closed records and coalesced
// corrections, as a table written by an older kuniq holds them: an upgrade must recover it.
func TestTableDecodesVersion1(t *testing.T) {
	minute := window.Key{Granularity: window.Minute, Start: 1468244340}
	sk := testSketch(t, 50)
	// Version 1 window row: frames, late frames, final, revision, early-at, upto, sketch.
	wb := []byte{magic, kindWindow, 1}
	wb = binary.AppendVarint(wb, 60)
	wb = binary.AppendVarint(wb, 2)
	wb = append(wb, 1)
	wb = binary.AppendVarint(wb, 1)
	wb = binary.AppendVarint(wb, 1700000000123)
	wb = binary.AppendUvarint(wb, 1)
	wb = binary.AppendVarint(wb, 3)
	wb = binary.AppendVarint(wb, 99)
	wb, err := codec.AppendSketch(wb, sk)
	if err != nil {
		t.Fatal(err)
	}
	v, err := TableCodec{}.Decode(wb)
	if err != nil {
		t.Fatalf("Decode(version 1 window): %v", err)
	}
	st := v.(*WindowState)
	if st.Frames != 60 || st.LateFrames != 2 || !st.Final || st.Revision != 1 || st.EarlyAt != 1700000000123 ||
		st.Closed || st.Pending || st.LastAt != 0 || st.Upto[3] != 99 || st.Sketch.Estimate() != sk.Estimate() {
		t.Errorf("version 1 window = %+v", st)
	}
	// Version 1 control row: watermark, inputs, open, expiring.
	cb := []byte{magic, kindControl, 1}
	cb = binary.AppendVarint(cb, 1468244395)
	cb = binary.AppendUvarint(cb, 1)
	cb = binary.AppendVarint(cb, 0)
	cb = binary.AppendVarint(cb, 1468244395)
	cb = binary.AppendVarint(cb, 1468244400)
	cb = append(cb, 0)
	cb = appendKeys(cb, []window.Key{minute})
	cb = appendKeys(cb, nil)
	v, err = TableCodec{}.Decode(cb)
	if err != nil {
		t.Fatalf("Decode(version 1 control): %v", err)
	}
	want := &Control{Watermark: 1468244395, Final: 1468244395, Inputs: map[int32]window.Progress{0: {Watermark: 1468244395, MaxTS: 1468244400}},
		Open: []window.Key{minute}}
	if got := v.(*Control); !reflect.DeepEqual(got, want) {
		t.Errorf("version 1 control = %+v, want %+v", got, want)
	}
}

func FuzzDecodePipeline(f *testing.F) {
	p, _ := PartialsCodec{}.Encode(&Partial{Partition: 1, Frames: 2, Sketch: testSketch(f, 10)})
	m, _ := PartialsCodec{}.Encode(&Mark{Partition: 1, Watermark: 5})
	c, _ := TableCodec{}.Encode(&Control{Open: []window.Key{{Granularity: window.Hour, Start: 3600}}})
	w, _ := TableCodec{}.Encode(&WindowState{Count: engine.Count{Sketch: testSketch(f, 3)}, Upto: map[int32]int64{1: 2}})
	cmd, _ := CommandCodec{}.Encode(&Command{Op: OpCorrect, Window: window.Key{Granularity: window.Hour, Start: 3600}, At: 5})
	c2, _ := TableCodec{}.Encode(&Control{Closing: []window.Key{{Granularity: window.Hour, Start: 3600}}, Pending: []Due{{Window: window.Key{Granularity: window.Minute, Start: 60}, At: 9}}})
	for _, seed := range [][]byte{p, m, c, w, cmd, c2} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = PartialsCodec{}.Decode(b)
		_, _ = TableCodec{}.Decode(b)
		_, _ = CommandCodec{}.Decode(b)
	})
}
