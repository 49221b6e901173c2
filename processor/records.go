package processor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// The pipeline's internal records: what stage 1 (pre-aggregation) sends stage 2 (the window
// table) on the partials topic, what stage 2 sends itself on its loop topic, and the rows of its
// table. They live here, beside the code that gives them their meaning (preagg.go writes
// partials and marks; windows.go enforces the register/finalise/expire protocol), so the state
// machine reads in one package; their sketches use codec's sketch format.
//
// All are binary: 'K', a kind letter and the layout's version. They are internal: both stages
// of one kuniq version read them. The table's rows outlive a process, so an upgraded kuniq
// still reads the rows of the layout before (version 1: no closed records, no coalesced
// corrections; such a row reads as a window never closed with nothing pending).
const magic = 'K'

const (
	kindPartial  = 'P'
	kindMark     = 'M'
	kindCommand  = 'C'
	kindWindow   = 'W'
	kindControl  = 'X'
	pipelineVers = 1 // partials, marks, commands
	tableVers    = 2 // window and control rows; version 1 is still read
)

// ErrRecord is returned, wrapped, for bytes that are not a pipeline record.
var ErrRecord = errors.New("processor: bad pipeline record")

// Partial is one flush of one input partition's frames for one window: a sketch of their
// uids and how many frames it holds. Key: the window (window.Key.String()).
type Partial struct {
	Partition int32 // the input partition the frames came from
	// First and Last are the input offsets the flush read (all its frames, of every window):
	// stage 2 uses them to count each flush's frames once. First is -1 for a flush that read no
	// new frame and only settled frames the bit-flip guard held (Last is then the previous
	// flush's).
	First, Last int64
	Frames      int64
	Sketch      *sketch.Sketch
}

// Mark is an input partition's progress, broadcast to every stage-2 partition after the
// partials it covers were acknowledged. Key: the stage-2 partition's control key.
type Mark struct {
	Partition int32 // the input partition whose progress this is
	// Watermark and MaxTS of the partition's clock; math.MinInt64 until it has anchored.
	Watermark, MaxTS int64
	// Idle: the partition was read to its end and saw no frame for the idle timeout; it
	// must not hold windows open.
	Idle bool
}

// PartialsCodec is the goka.Codec of the partials topic. Decode returns *Partial or *Mark.
type PartialsCodec struct{}

// Encode encodes a *Partial or *Mark.
func (PartialsCodec) Encode(v any) ([]byte, error) {
	switch m := v.(type) {
	case *Partial:
		b := []byte{magic, kindPartial, pipelineVers}
		b = binary.AppendVarint(b, int64(m.Partition))
		b = binary.AppendVarint(b, m.First)
		b = binary.AppendVarint(b, m.Last)
		b = binary.AppendVarint(b, m.Frames)
		return codec.AppendSketch(b, m.Sketch)
	case *Mark:
		b := []byte{magic, kindMark, pipelineVers}
		b = binary.AppendVarint(b, int64(m.Partition))
		b = binary.AppendVarint(b, m.Watermark)
		b = binary.AppendVarint(b, m.MaxTS)
		return append(b, boolByte(m.Idle)), nil
	}
	return nil, fmt.Errorf("%w: PartialsCodec cannot encode %T", ErrRecord, v)
}

// Decode returns a *Partial or a *Mark.
func (PartialsCodec) Decode(b []byte) (any, error) {
	r, kind, err := newReader(b)
	if err != nil {
		return nil, err
	}
	switch kind {
	case kindPartial:
		p := &Partial{Partition: int32(r.varint()), First: r.varint(), Last: r.varint(), Frames: r.varint()}
		if r.err != nil {
			return nil, r.err
		}
		if p.Sketch, err = codec.DecodeSketch(r.rest()); err != nil {
			return nil, fmt.Errorf("%w: partial: %w", ErrRecord, err)
		}
		return p, nil
	case kindMark:
		m := &Mark{Partition: int32(r.varint()), Watermark: r.varint(), MaxTS: r.varint(), Idle: r.byte() == 1}
		return m, r.done()
	}
	return nil, fmt.Errorf("%w: kind %q on the partials topic", ErrRecord, kind)
}

// Op is what a Command asks of a table row.
type Op uint8

const (
	// OpRegister, to a control row: a new window exists in this partition; finalise it when
	// the watermark passes its end.
	OpRegister Op = iota + 1
	// OpFinalize, to a window row: the watermark passed your end: publish your final result.
	OpFinalize
	// OpExpire, to a window row: your retention is over: delete yourself.
	OpExpire
	// OpFinalized and OpExpired, to a control row: Window did it; stop asking.
	OpFinalized
	OpExpired
	// OpClose, to a window row: the lateness has passed you: publish your closed record.
	OpClose
	// OpClosed, to a control row: Window published its closed record.
	OpClosed
	// OpCorrect, to a control row: Window holds a correction due at At; tell it when.
	OpCorrect
	// OpPublish, to a window row: your pending correction is due: publish it.
	OpPublish
	// OpPublished, to a control row: Window has no correction pending any more.
	OpPublished
	lastOp = OpPublished
)

// Command is a message stage 2 sends itself through its loop topic, because a Goka callback
// may write only the row of its own key.
type Command struct {
	Op     Op
	Window window.Key // to a control row: the window concerned
	At     int64      // OpCorrect: the wall time the correction is due, unix ms
}

// CommandCodec is the goka.Codec of stage 2's loop topic.
type CommandCodec struct{}

// Encode encodes a *Command.
func (CommandCodec) Encode(v any) ([]byte, error) {
	c, ok := v.(*Command)
	if !ok {
		return nil, fmt.Errorf("%w: CommandCodec cannot encode %T", ErrRecord, v)
	}
	b := []byte{magic, kindCommand, pipelineVers, byte(c.Op)}
	b = appendKey(b, c.Window)
	if c.Op == OpCorrect {
		b = binary.AppendVarint(b, c.At)
	}
	return b, nil
}

// Decode returns a *Command.
func (CommandCodec) Decode(b []byte) (any, error) {
	r, kind, err := newReader(b)
	if err != nil {
		return nil, err
	}
	if kind != kindCommand {
		return nil, fmt.Errorf("%w: kind %q on the loop topic", ErrRecord, kind)
	}
	c := &Command{Op: Op(r.byte()), Window: r.key()}
	if c.Op < OpRegister || c.Op > lastOp {
		return nil, fmt.Errorf("%w: unknown op %d", ErrRecord, c.Op)
	}
	if c.Op == OpCorrect {
		c.At = r.varint()
	}
	return c, r.done()
}

// WindowState is a window's row in the stage-2 table: its count (whose Result is the record
// published for it) and what stage 2 needs to keep that count exact.
type WindowState struct {
	engine.Count
	// EarlyAt is the wall time (unix ms) of the last early record: at most one per second.
	EarlyAt int64
	// LastAt is the wall time (unix ms) of the last record as a final window (its first final
	// or its last correction), from which the correction interval counts; Pending, that late
	// frames changed it since and a correction awaits its turn.
	LastAt  int64
	Pending bool
	// Upto is, per input partition, the position of the last flush counted in Frames (2×Last,
	// +1 for a flush that only settled held frames), so a partial delivered twice is counted once.
	Upto map[int32]int64
}

// Control is the row of a stage-2 partition's control key: its view of every input
// partition's progress and the windows it must still finalise or delete.
type Control struct {
	// Inputs is every input partition's progress as its marks reported it.
	Inputs map[int32]window.Progress
	// Watermark is the combined event-time watermark the partition last acted on; Final how
	// far windows are final (beyond Watermark while the whole input is idle: every window
	// that ended on the wall clock).
	Watermark, Final int64
	// Open are the partition's windows not yet known final (told to finalise until they
	// acknowledge); Closing the final ones awaiting their closed record at the end of the
	// lateness; Expiring the closed ones awaiting deletion at the end of their retention.
	Open, Closing, Expiring []window.Key
	// Pending are the windows holding a correction, with the wall time it is due.
	Pending []Due
}

// Due is a window's pending correction and when to publish it (unix ms).
type Due struct {
	Window window.Key
	At     int64
}

// TableCodec is the goka.Codec of the stage-2 table. Decode returns *WindowState or *Control.
type TableCodec struct{}

// Encode encodes a *WindowState or *Control.
func (TableCodec) Encode(v any) ([]byte, error) {
	switch s := v.(type) {
	case *WindowState:
		b := []byte{magic, kindWindow, tableVers}
		b = binary.AppendVarint(b, s.Frames)
		b = binary.AppendVarint(b, s.LateFrames)
		b = append(b, boolByte(s.Final))
		b = binary.AppendVarint(b, int64(s.Revision))
		b = binary.AppendVarint(b, s.EarlyAt)
		b = append(b, boolByte(s.Closed), boolByte(s.Pending))
		b = binary.AppendVarint(b, s.LastAt)
		srcs := sortedPartitions(s.Upto)
		b = binary.AppendUvarint(b, uint64(len(srcs)))
		for _, src := range srcs {
			b = binary.AppendVarint(b, int64(src))
			b = binary.AppendVarint(b, s.Upto[src])
		}
		return codec.AppendSketch(b, s.Sketch)
	case *Control:
		b := []byte{magic, kindControl, tableVers}
		b = binary.AppendVarint(b, s.Watermark)
		b = binary.AppendVarint(b, s.Final)
		srcs := sortedPartitions(s.Inputs)
		b = binary.AppendUvarint(b, uint64(len(srcs)))
		for _, src := range srcs {
			st := s.Inputs[src]
			b = binary.AppendVarint(b, int64(src))
			b = binary.AppendVarint(b, st.Watermark)
			b = binary.AppendVarint(b, st.MaxTS)
			b = append(b, boolByte(st.Idle))
		}
		b = appendKeys(b, s.Open)
		b = appendKeys(b, s.Expiring)
		b = appendKeys(b, s.Closing)
		b = binary.AppendUvarint(b, uint64(len(s.Pending)))
		for _, d := range s.Pending {
			b = appendKey(b, d.Window)
			b = binary.AppendVarint(b, d.At)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: TableCodec cannot encode %T", ErrRecord, v)
}

// Decode returns a *WindowState or *Control.
func (TableCodec) Decode(b []byte) (any, error) {
	r, kind, vers, err := newVersionedReader(b, 1, tableVers)
	if err != nil {
		return nil, err
	}
	switch kind {
	case kindWindow:
		s := &WindowState{Count: engine.Count{Frames: r.varint(), LateFrames: r.varint(), Final: r.byte() == 1,
			Revision: int(r.varint())}, EarlyAt: r.varint()}
		if vers >= 2 {
			s.Closed, s.Pending = r.byte() == 1, r.byte() == 1
			s.LastAt = r.varint()
		}
		n := r.count()
		if n > 0 {
			s.Upto = make(map[int32]int64, n)
		}
		for range n {
			src := int32(r.varint())
			s.Upto[src] = r.varint()
		}
		if r.err != nil {
			return nil, r.err
		}
		if s.Sketch, err = codec.DecodeSketch(r.rest()); err != nil {
			return nil, fmt.Errorf("%w: window: %w", ErrRecord, err)
		}
		return s, nil
	case kindControl:
		c := &Control{Watermark: r.varint(), Inputs: map[int32]window.Progress{}}
		c.Final = c.Watermark
		if vers >= 2 {
			c.Final = r.varint()
		}
		n := r.count()
		for range n {
			src := int32(r.varint())
			c.Inputs[src] = window.Progress{Watermark: r.varint(), MaxTS: r.varint(), Idle: r.byte() == 1}
		}
		c.Open = r.keys()
		c.Expiring = r.keys()
		if vers >= 2 {
			c.Closing = r.keys()
			n := r.count()
			for range n {
				if r.err != nil {
					break
				}
				c.Pending = append(c.Pending, Due{Window: r.key(), At: r.varint()})
			}
		}
		return c, r.done()
	}
	return nil, fmt.Errorf("%w: kind %q in the window table", ErrRecord, kind)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func sortedPartitions[V any](m map[int32]V) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func appendKey(b []byte, k window.Key) []byte {
	b = append(b, byte(k.Granularity))
	return binary.AppendVarint(b, k.Start)
}

func appendKeys(b []byte, ks []window.Key) []byte {
	b = binary.AppendUvarint(b, uint64(len(ks)))
	for _, k := range ks {
		b = appendKey(b, k)
	}
	return b
}

// reader decodes the fields above; the first error sticks and later reads return zeros.
type reader struct {
	b   []byte
	err error
}

func newReader(b []byte) (*reader, byte, error) {
	r, kind, _, err := newVersionedReader(b, pipelineVers, pipelineVers)
	return r, kind, err
}

// newVersionedReader reads the header of a record whose layout version lies in [lo, hi].
func newVersionedReader(b []byte, lo, hi byte) (*reader, byte, byte, error) {
	if len(b) < 3 || b[0] != magic {
		return nil, 0, 0, fmt.Errorf("%w: no header", ErrRecord)
	}
	if b[2] < lo || b[2] > hi {
		return nil, 0, 0, fmt.Errorf("%w: version %d of kind %q, want %d..%d", ErrRecord, b[2], b[1], lo, hi)
	}
	return &reader{b: b[3:]}, b[1], b[2], nil
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated %s", ErrRecord, what)
	}
	r.b = nil
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) count() int {
	v, n := binary.Uvarint(r.b)
	// Every element takes at least one byte: a count beyond the bytes left is corrupt, and
	// must not become a huge allocation.
	if n <= 0 || v > uint64(len(r.b)) {
		r.fail("count")
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail("byte")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) key() window.Key {
	g := window.Granularity(r.byte())
	start := r.varint()
	if r.err == nil && (!g.Valid() || g.Start(start) != start) {
		r.err = fmt.Errorf("%w: %d/%d is not a window", ErrRecord, g, start)
	}
	return window.Key{Granularity: g, Start: start}
}

func (r *reader) keys() []window.Key {
	n := r.count()
	var ks []window.Key
	for range n {
		if r.err != nil {
			break
		}
		ks = append(ks, r.key())
	}
	return ks
}

func (r *reader) rest() []byte { b := r.b; r.b = nil; return b }

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", ErrRecord, len(r.b))
	}
	return r.err
}
