package emitter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// ErrLineTooLong is returned, wrapped with the line's position, for a line longer than
// Config.MaxLineBytes. Run skips such a line (Stats.TooLong counts them, the log names each)
// and goes on: the broker would refuse it, and one bad line must not stop an ingest.
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

// next returns the next non-blank line, or io.EOF after the last one. A line longer than max
// is consumed whole (without holding it) and reported as an error wrapping ErrLineTooLong,
// with lr.line its number; the next call goes on with the line after it.
func (lr *lineReader) next() ([]byte, error) {
	for {
		b, err := lr.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: assemble it, but stop holding it past max.
			lr.long = append(lr.long[:0], b...)
			n := int64(len(b))
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = lr.br.ReadSlice('\n')
				n += int64(len(b))
				if len(lr.long) <= lr.max+2 {
					lr.long = append(lr.long, b...)
				}
			}
			if len(lr.long) > lr.max+2 {
				lr.read += n
				lr.line++
				lr.long = lr.long[:0]
				if err != nil && !errors.Is(err, io.EOF) {
					return nil, fmt.Errorf("read line %d: %w", lr.line, err)
				}
				return nil, fmt.Errorf("line %d: %d bytes > %d: %w", lr.line, n-eolBytes(b), lr.max, ErrLineTooLong)
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

// eolBytes is the length of the line ending at the end of b: 2 for "\r\n", 1 for "\n", else 0.
func eolBytes(b []byte) int64 {
	return int64(len(b) - len(trimEOL(b)))
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
