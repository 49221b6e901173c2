package engine

import (
	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/sketch"
	"github.com/kuniq/kuniq/window"
)

// Count is what one window has counted: the sketch of its users, its frames, and whether and
// how often its final record was published. A Counter's windows hold one, and so do the rows
// of the pipeline's window table (processor.WindowState), so Result is the one place a
// window's state becomes its record: `kuniq count`, the output topic and `kuniq view` agree
// by construction.
type Count struct {
	Sketch *sketch.Sketch
	// Frames counts accepted frames, LateFrames those that arrived after it was final.
	Frames, LateFrames int64
	Final              bool
	// Revision counts the corrections published after the first final record.
	Revision int
	// Closed: the window's last record was published; it can no longer change.
	Closed bool
}

// Result is the record of window k with this count. uniques is the sketch's estimate, with
// its precision and relative standard error (all 0 for a count without a sketch).
func (c *Count) Result(k window.Key) codec.Result {
	var uniques uint64
	var precision uint8
	var stdErr float64
	if c.Sketch != nil {
		uniques, precision, stdErr = c.Sketch.Estimate(), c.Sketch.Precision(), c.Sketch.StdError()
	}
	r := codec.NewResult(k, uniques, c.Frames)
	r.Final, r.Revision, r.LateFrames, r.Closed = c.Final, c.Revision, c.LateFrames, c.Closed
	r.Precision, r.StdError = precision, stdErr
	return r
}
