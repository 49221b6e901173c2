package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/kuniq/kuniq/codec"
)

// chunkSize is how much input one decoding job covers: ~500 challenge frames, large enough
// that handing chunks between goroutines costs little next to decoding them.
const chunkSize = 1 << 20

// ReadConfig sets how Read splits and decodes its input.
type ReadConfig struct {
	// Workers decode in parallel; 0 means GOMAXPROCS. 1 decodes on one goroutine beside the
	// reader. Any value gives the same batches in the same order.
	Workers int
	// MaxLine is the longest line or protobuf message accepted; a longer line is a dead letter
	// ("syntax"), a longer message's length prefix breaks the stream ("too_large", see Read),
	// never a crash or an unbounded buffer. 0 means 16 MiB.
	MaxLine int
	// Frame configures the decoders: the format (JSON lines, or a length-delimited protobuf
	// stream) and where frames keep their uid and ts (Config.Frame).
	Frame codec.FrameConfig
}

// ErrLineTooLong is the decoding error of a line longer than ReadConfig.MaxLine.
var ErrLineTooLong = fmt.Errorf("%w: line too long", codec.ErrSyntax)

type chunk struct {
	buf    []byte
	lines  int64   // lines (or messages) in the chunk, counted by its decoder
	frames []Frame // Offset relative to the chunk's first line (0) until handed on
	broken error   // the stream cannot be read past this chunk's last frame
	done   chan struct{}
}

// Read splits r into frames, decodes them on Workers goroutines and calls fn with each batch
// of frames strictly in input order, from one goroutine at a time. Frame.Line aliases a buffer
// that is reused after fn returns.
//
// JSON input is split into lines: line numbers (Frame.Offset) start at 1; empty lines are
// skipped but counted. A trailing "\r" is JSON whitespace, so CRLF files need no special case.
//
// Protobuf input (Frame.Format) is a length-delimited stream: Frame.Offset numbers the
// messages from 1, and Frame.Line is the message without its prefix. A stream that ends inside
// a prefix or a message ends with a dead letter (ErrTruncated, "syntax"). A length prefix
// that is not a varint ("syntax") or exceeds MaxLine ("too_large") is a dead letter holding
// the bytes from the prefix on (their first TooLargeHead), and Read then returns an error
// wrapping codec.ErrDelimited, after fn has had every frame before it: no later byte can be
// trusted to start a message.
func Read(ctx context.Context, r io.Reader, cfg ReadConfig, fn func([]Frame) error) error {
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	maxLine := cfg.MaxLine
	if maxLine <= 0 {
		maxLine = 16 << 20
	}
	if err := cfg.Frame.Validate(); err != nil {
		return err
	}
	p := &chunks{
		frame:   cfg.Frame,
		framing: framingOf(cfg.Frame.Format),
		maxLine: maxLine,
		jobs:    make(chan *chunk, workers),
		ordered: make(chan *chunk, 2*workers), // bounds the chunks in flight
		free:    make(chan *chunk, 3*workers+2),
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.split(ctx, r) })
	for range workers {
		g.Go(p.decode)
	}
	g.Go(func() error { return p.handOver(ctx, fn) })
	return g.Wait()
}

// chunks is Read's machinery: split cuts the input into chunks at line ends and queues each
// twice, on jobs for a decoder and on ordered for handOver, which waits for each in turn.
type chunks struct {
	frame               codec.FrameConfig
	framing             framing
	maxLine             int
	jobs, ordered, free chan *chunk
}

// get returns a recycled chunk or a new one.
func (p *chunks) get() *chunk {
	select {
	case c := <-p.free:
		return c
	default:
		return &chunk{buf: make([]byte, 0, chunkSize)}
	}
}

func (p *chunks) recycle(c *chunk) {
	select {
	case p.free <- c:
	default:
	}
}

// split reads r into chunks that end at a frame's end (or hold a piece of a line longer than
// maxLine) and queues them.
func (p *chunks) split(ctx context.Context, r io.Reader) error {
	defer close(p.jobs)
	defer close(p.ordered)
	var carry []byte
	for eof := false; !eof; {
		c := p.get()
		c.buf = append(c.buf[:0], carry...)
		var err error
		if eof, err = fill(c, r); err != nil {
			return err
		}
		carry = carry[:0]
		if !eof {
			cut, stop := p.framing.cut(c.buf, p.maxLine)
			switch {
			case stop:
				// The stream is broken after cut: the decoder makes the rest one dead letter.
				eof = true
			case cut >= 0:
				carry = append(carry, c.buf[cut:]...)
				c.buf = c.buf[:cut]
			case len(c.buf) <= p.maxLine:
				// No frame ends yet: read on with the whole chunk carried over.
				carry = append(carry, c.buf...)
				p.recycle(c)
				continue
			default:
				// A line longer than maxLine: this piece becomes a dead letter, the rest
				// of the line follows as the next "line" (also not JSON). (A message
				// cannot get here: its prefix says it is too long before it is read.)
			}
		}
		c.done = make(chan struct{})
		for _, q := range []chan *chunk{p.ordered, p.jobs} {
			select {
			case q <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// fill reads up to chunkSize more bytes into c.buf, reporting the end of the input.
func fill(c *chunk, r io.Reader) (eof bool, err error) {
	target := len(c.buf) + chunkSize
	c.buf = slices.Grow(c.buf, chunkSize)
	for len(c.buf) < target {
		n, err := r.Read(c.buf[len(c.buf):target])
		c.buf = c.buf[:len(c.buf)+n]
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("read input: %w", err)
		}
	}
	return false, nil
}

// decode decodes the chunks of jobs until split closes it.
func (p *chunks) decode() error {
	d, _ := codec.NewDecoder(p.frame) // validated by Read
	for c := range p.jobs {
		c.frames, c.lines, c.broken = p.framing.decode(d, c.buf, p.maxLine, c.frames[:0])
		close(c.done)
	}
	return nil
}

// handOver calls fn with each chunk's frames in input order, once its decoder is done. Line
// numbers are counted here, in order, rather than by split, so the one goroutine that cannot
// run in parallel does not scan every byte again.
func (p *chunks) handOver(ctx context.Context, fn func([]Frame) error) error {
	line := int64(1) // of the next chunk's first line
	for c := range p.ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for i := range c.frames {
			c.frames[i].Offset += line
		}
		line += c.lines
		if err := fn(c.frames); err != nil {
			return err
		}
		if c.broken != nil {
			return fmt.Errorf("read input: message %d: %w", line-1, c.broken)
		}
		p.recycle(c)
	}
	return nil
}
