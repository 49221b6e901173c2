package engine

import (
	"bytes"
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
	// MaxLine is the longest line accepted; a longer one is a dead letter ("syntax"), never a
	// crash or an unbounded buffer. 0 means 16 MiB.
	MaxLine int
	// Frame configures the decoders: where frames keep their uid and ts (Config.Frame).
	Frame codec.FrameConfig
}

// ErrLineTooLong is the decoding error of a line longer than ReadConfig.MaxLine.
var ErrLineTooLong = fmt.Errorf("%w: line too long", codec.ErrSyntax)

type chunk struct {
	buf    []byte
	lines  int64   // lines in the chunk, counted by its decoder
	frames []Frame // Offset relative to the chunk's first line (0) until handed on
	done   chan struct{}
}

// Read splits r into lines, decodes them on Workers goroutines and calls fn with each batch
// of frames strictly in input order, from one goroutine at a time. Frame.Line aliases a buffer
// that is reused after fn returns. Line numbers (Frame.Offset) start at 1; empty lines are
// skipped but counted. A trailing "\r" is JSON whitespace, so CRLF files need no special case.
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

// split reads r into chunks that end at a line end (or hold a piece of a line longer than
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
			cut := bytes.LastIndexByte(c.buf, '\n')
			switch {
			case cut >= 0:
				carry = append(carry, c.buf[cut+1:]...)
				c.buf = c.buf[:cut+1]
			case len(c.buf) <= p.maxLine:
				// No line end yet: read on with the whole chunk carried over.
				carry = append(carry, c.buf...)
				p.recycle(c)
				continue
			default:
				// A line longer than maxLine: this piece becomes a dead letter, the rest
				// of the line follows as the next "line" (also not JSON).
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
	d, _ := codec.NewFrameDecoder(p.frame) // validated by Read
	for c := range p.jobs {
		c.frames, c.lines = decodeChunk(d, c.buf, p.maxLine, c.frames[:0])
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
		p.recycle(c)
	}
	return nil
}

// decodeChunk decodes the lines of buf, numbering them from 0, and returns the frames and
// how many lines (empty ones included) buf holds.
func decodeChunk(d *codec.FrameDecoder, buf []byte, maxLine int, dst []Frame) ([]Frame, int64) {
	var line int64
	for len(buf) > 0 {
		end := bytes.IndexByte(buf, '\n')
		var l []byte
		if end < 0 {
			l, buf = buf, nil
		} else {
			l, buf = buf[:end], buf[end+1:]
		}
		if len(bytes.TrimSpace(l)) == 0 {
			line++
			continue
		}
		if len(l) > maxLine {
			dst = append(dst, Frame{Offset: line, Line: l[:min(len(l), 1024)], Err: ErrLineTooLong})
		} else {
			dst = append(dst, Decode(d, line, l))
		}
		line++
	}
	return dst, line
}
