package engine

import (
	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// Frame is one decoded input frame, in arrival order.
type Frame struct {
	// Offset locates the frame: the line number (1-based) or the partition offset.
	Offset int64
	// Line is the raw frame; it may alias a reused buffer, so a Source copies what it keeps.
	Line []byte
	TS   int64
	// Hash is sketch.Hash of the uid; valid when Err is nil.
	Hash uint64
	// Err is the decoding error, nil for a valid frame.
	Err error
}

// Decode decodes line (a JSON line or a protobuf message, whichever d decodes) with d into a
// Frame, hashing the uid once for every window. A nil line is a Kafka record without a value:
// codec.ErrNullValue.
func Decode(d codec.Decoder, offset int64, line []byte) Frame {
	if line == nil {
		return Frame{Offset: offset, Err: codec.ErrNullValue}
	}
	f, err := d.Decode(line)
	if err != nil {
		return Frame{Offset: offset, Line: line, Err: err}
	}
	return Frame{Offset: offset, Line: line, TS: f.TS, Hash: sketch.Hash(f.UID)}
}

// Sink receives what a Source decides.
type Sink interface {
	// Accept is called for each counted frame with the windows containing it. keys is reused.
	Accept(ts int64, hash uint64, keys []window.Key)
	// Reject is called for each frame that is not counted.
	Reject(d codec.DeadLetter)
}

// Stats counts a Source's frames by outcome.
type Stats struct {
	Frames   int64            // frames seen, valid or not
	Accepted int64            // frames counted
	Dead     map[string]int64 // dead letters by reason
}

// DeadTotal is the number of dead letters of every reason.
func (s Stats) DeadTotal() int64 {
	var n int64
	for _, v := range s.Dead {
		n += v
	}
	return n
}

type heldItem struct {
	offset int64
	hash   uint64
}

// Source is the front end of one input (a file, or one Kafka partition): it decides, frame by
// frame, what is counted, in which windows, and what is a dead letter. It is not safe for
// concurrent use.
type Source struct {
	id    int32
	gs    []window.Granularity
	clock *window.Clock[heldItem]
	sink  Sink
	keys  []window.Key
	// lines of frames the clock holds (suspect timestamps), by offset, so their dead letters
	// carry the frame even though the reader's buffer has moved on.
	held    map[int64][]byte
	current Frame
	settled bool
	stats   Stats
	decide  func(heldItem, int64, window.Verdict)
}

// NewSource returns a Source with id (the partition, 0 for count) that counts into gs.
func NewSource(id int32, gs []window.Granularity, clock window.Config, sink Sink) *Source {
	s := &Source{
		id:    id,
		gs:    gs,
		clock: window.NewClock[heldItem](clock),
		sink:  sink,
		held:  map[int64][]byte{},
		stats: Stats{Dead: map[string]int64{}},
	}
	s.decide = s.onVerdict
	return s
}

// Add feeds one frame in arrival order.
func (s *Source) Add(f Frame) {
	s.stats.Frames++
	if f.Err != nil {
		s.reject(codec.Reason(f.Err), f.Err.Error(), f.Offset, 0, f.Line)
		return
	}
	s.current, s.settled = f, false
	s.clock.Observe(f.TS, heldItem{offset: f.Offset, hash: f.Hash}, s.decide)
	if !s.settled {
		// The clock holds it until a jump is confirmed or rejected: keep its line.
		s.held[f.Offset] = append([]byte(nil), f.Line...)
	}
	s.current = Frame{}
}

// Flush settles every held frame: call it at the end of the input.
func (s *Source) Flush() { s.clock.Flush(s.decide) }

func (s *Source) onVerdict(it heldItem, ts int64, v window.Verdict) {
	line, isCurrent := s.current.Line, it.offset == s.current.Offset && s.current.Line != nil
	if isCurrent {
		s.settled = true
	} else {
		line = s.held[it.offset]
		delete(s.held, it.offset)
	}
	switch v {
	case window.Accept:
		s.stats.Accepted++
		s.keys = window.AppendKeys(s.keys[:0], ts, s.gs)
		s.sink.Accept(ts, it.hash, s.keys)
	case window.Late:
		s.reject(codec.ReasonLate, "ts is older than the watermark minus the allowed lateness", it.offset, ts, line)
	default:
		s.reject(codec.ReasonJump, "ts jumped far from the event time and was not confirmed by other frames", it.offset, ts, line)
	}
}

func (s *Source) reject(reason, detail string, offset, ts int64, line []byte) {
	s.stats.Dead[reason]++
	s.sink.Reject(codec.DeadLetter{Reason: reason, Detail: detail, Partition: s.id, Offset: offset, TS: ts, Frame: string(line)})
}

// Watermark is the source's watermark (math.MinInt64 until the clock has anchored).
func (s *Source) Watermark() int64 { return s.clock.Watermark() }

// MaxTS is the largest accepted ts (math.MinInt64 until anchored).
func (s *Source) MaxTS() int64 { return s.clock.MaxTS() }

// Held is the number of frames waiting for a jump to be confirmed or rejected.
func (s *Source) Held() int { return s.clock.Held() }

// Stats returns the counts so far. The Dead map is shared: copy it to keep it.
func (s *Source) Stats() Stats { return s.stats }

// OldestHeld is the smallest offset among the frames the clock holds. A Kafka consumer must
// not commit past it: those frames are neither counted nor dead-lettered yet.
func (s *Source) OldestHeld() (int64, bool) {
	oldest, ok := int64(0), false
	for off := range s.held {
		if !ok || off < oldest {
			oldest, ok = off, true
		}
	}
	return oldest, ok
}
