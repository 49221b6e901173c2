package emitter

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The headers of every record Ingest writes. A record names the program that wrote it and the
// line it holds, so a resumed ingest (Config.FromLine) can tell which lines already reached
// the topic, and anyone can trace a frame back to its file.
const (
	// HeaderProducer is Config.Producer: "kuniq ingest" and its version. (Records of the
	// pipeline carry codec.HeaderApp, their application id; an ingest belongs to no app.)
	HeaderProducer = "kuniq.producer"
	// HeaderSource is the Source.ID of the line's input: an absolute path, or "-" for stdin.
	HeaderSource = "kuniq.ingest.source"
	// HeaderLine is the line's 1-based number in that input.
	HeaderLine = "kuniq.ingest.line"
)

// Source is one input of an ingest: a file or stdin.
type Source struct {
	// Name is how messages name it: the path as given, "-" for stdin.
	Name string
	// ID identifies it in HeaderSource, so a resume recognises its lines: an absolute path, or
	// "-". Empty means Name.
	ID string
	// Open opens it when its turn comes; Run closes it.
	Open func() (io.ReadCloser, error)
}

// ReaderSource is a Source reading r (named name; "-" for stdin).
func ReaderSource(name string, r io.Reader) Source {
	return Source{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

func (s Source) id() string {
	if s.ID != "" {
		return s.ID
	}
	return s.Name
}

// Position names a line of an ingest's input.
type Position struct {
	// Source is the Source.Name of the input the line is in ("" when the input ended: the
	// position after the last line).
	Source string
	// Line is the line's 1-based number in that source.
	Line int64
	// Input is its 1-based number in the whole input, the sources joined in order: the value
	// of Config.FromLine (`kuniq ingest --from-line`) that resumes there.
	Input int64
}

// String says where the line is: "frames.jsonl line 4601", with the input's line number when
// it differs ("b.jsonl line 10 (line 1010 of the input)").
func (p Position) String() string {
	if p.Source == "" {
		return fmt.Sprintf("line %d of the input (after its end)", p.Input)
	}
	s := p.Source + " line " + strconv.FormatInt(p.Line, 10)
	if p.Line != p.Input {
		s += fmt.Sprintf(" (line %d of the input)", p.Input)
	}
	return s
}

// ErrGaveUp is returned, wrapped in a *ResumeError, when the broker could not take records for
// longer than Config.RetryTimeout.
var ErrGaveUp = errors.New("emitter: gave up retrying")

// ErrRefused is returned, wrapped in a *ResumeError, when the broker refused a record for good
// (a line too large for the topic's max.message.bytes, missing authorization, ...): no retry
// can write it.
var ErrRefused = errors.New("emitter: the broker refused a record")

// ResumeError is the error of an ingest that stopped before the end of its input: it gave up
// (ErrGaveUp), the broker refused a record (ErrRefused), reading failed, or the context ended.
// Every line before Resume was written exactly once; lines after it may have been written too.
// An ingest of the same input with Config.FromLine = Resume.Input writes each line that is not
// in the topic yet, and none twice.
type ResumeError struct {
	Resume Position
	Err    error
}

func (e *ResumeError) Error() string {
	return fmt.Sprintf("%v; resume from %v (--from-line %d)", e.Err, e.Resume, e.Resume.Input)
}

func (e *ResumeError) Unwrap() error { return e.Err }

// lineRef locates a record's line: its source (an index into Run's sources) and its numbers.
type lineRef struct {
	src   int
	line  int64 // in the source
	input int64 // in the whole input
}

// after reports whether r comes after o in the input.
func (r lineRef) after(o lineRef) bool {
	if r.src != o.src {
		return r.src > o.src
	}
	return r.line > o.line
}
