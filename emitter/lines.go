package emitter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// ErrLineTooLong is returned, wrapped with the line number, when a line is longer than
// Config.MaxLineBytes: the broker would refuse it as a record, so Run stops before sending it
// rather than fail somewhere in the middle of a batch.
var ErrLineTooLong = errors.New("emitter: line too long")

// lineReader splits a stream into lines without their "\n" (or "\r\n"), skipping blank ones.
// The lines it returns alias its buffer and are valid until the next call.
type lineReader struct {
	br   *bufio.Reader
	max  int
	long []byte // a line longer than br's buffer, assembled
	line int64  // 1-based number of the last line read
	read int64  // bytes consumed, newlines and blank lines included
	// blank counts the lines skipped as blank.
	blank int64
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 1<<20), max: max}
}

// next returns the next non-blank line, or io.EOF after the last one.
func (lr *lineReader) next() ([]byte, error) {
	for {
		b, err := lr.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: assemble it, refusing to grow past max.
			lr.long = append(lr.long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				if len(lr.long) > lr.max+2 {
					lr.line++
					return nil, fmt.Errorf("line %d: longer than %d bytes: %w", lr.line, lr.max, ErrLineTooLong)
				}
				b, err = lr.br.ReadSlice('\n')
				lr.long = append(lr.long, b...)
			}
			b = lr.long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read line %d: %w", lr.line+1, err)
		}
		if len(b) == 0 && err != nil {
			return nil, io.EOF
		}
		lr.read += int64(len(b))
		lr.line++
		line := trimEOL(b)
		if isBlank(line) {
			lr.blank++
			if err != nil {
				return nil, io.EOF
			}
			continue
		}
		if len(line) > lr.max {
			return nil, fmt.Errorf("line %d: %d bytes > %d: %w", lr.line, len(line), lr.max, ErrLineTooLong)
		}
		return line, nil
	}
}

// trimEOL drops one trailing "\n" and then one "\r".
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// isBlank reports whether b holds only spaces, tabs and carriage returns: JSON whitespace that
// no frame can be. A frame starts with '{', so the loop ends at the first byte of any real one.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// slab hands out copies of lines from large shared blocks, so that keeping a record's bytes
// until its ack costs one allocation per block instead of one per record. A block is freed by
// the GC once every record carved from it was acknowledged.
type slab struct {
	buf  []byte
	size int
}

// copy returns a copy of b that stays valid until the GC frees it.
func (s *slab) copy(b []byte) []byte {
	if cap(s.buf)-len(s.buf) < len(b) {
		s.buf = make([]byte, 0, max(s.size, len(b)))
	}
	start := len(s.buf)
	s.buf = append(s.buf, b...)
	return s.buf[start:len(s.buf):len(s.buf)]
}
