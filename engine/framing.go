package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/kuniq/kuniq/codec"
)

// framing cuts a byte stream into frames for Read: lines for JSON, length-delimited messages
// (a varint length, then the message, as Java's writeDelimitedTo writes them) for protobuf.
// split asks it where a chunk may end; a decoder walks the chunk's frames with it. Neither
// allocates per frame.
type framing interface {
	// cut returns the length of the longest prefix of buf that holds only whole frames, or -1
	// when no frame ends in buf. stop reports that buf cannot be framed past that prefix (a
	// corrupt length prefix): split then queues buf whole and reads no more.
	cut(buf []byte, maxLen int) (n int, stop bool)
	// decode decodes the frames of the chunk buf with d, numbered from 0, appends them to dst
	// and returns how many frames (lines, blank ones included) buf holds. An error means the
	// stream is broken there and cannot be read on: the frame at the break is the last in
	// dst, a dead letter.
	decode(d codec.Decoder, buf []byte, maxLen int, dst []Frame) ([]Frame, int64, error)
}

// framingOf is the framing of a format's streams.
func framingOf(f codec.Format) framing {
	if f == codec.FormatProtobuf {
		return delimited{}
	}
	return lines{}
}

// lines frames JSON: one frame per line. Empty lines are skipped but counted; a line longer
// than maxLen is a dead letter holding its head, the rest of it the next "line".
type lines struct{}

func (lines) cut(buf []byte, _ int) (int, bool) {
	i := bytes.LastIndexByte(buf, '\n')
	if i < 0 {
		return -1, false
	}
	return i + 1, false
}

func (lines) decode(d codec.Decoder, buf []byte, maxLen int, dst []Frame) ([]Frame, int64, error) {
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
		if len(l) > maxLen {
			dst = append(dst, Frame{Offset: line, Line: l[:min(len(l), TooLargeHead)], Err: ErrLineTooLong})
		} else {
			dst = append(dst, Decode(d, line, l))
		}
		line++
	}
	return dst, line, nil
}

// ErrTruncated is the decoding error of a length-delimited stream that ends inside a length
// prefix or a message: the stream was cut short (reason "syntax").
var ErrTruncated = fmt.Errorf("%w: delimited stream ends inside a message", codec.ErrSyntax)

// delimited frames protobuf: a varint length, then that many bytes of message, repeated. A
// zero-length message is a message (one without uid and ts: a dead letter, no_uid). A length
// prefix that is not a varint (reason "syntax") or says more than maxLen bytes ("too_large")
// breaks the stream: nothing after it can be trusted to start at a message.
type delimited struct{}

func (delimited) cut(buf []byte, maxLen int) (int, bool) {
	pos := 0
	for pos < len(buf) {
		_, n, err := codec.NextDelimited(buf[pos:], maxLen)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return pos, true
		}
		pos += n
	}
	if pos == 0 {
		return -1, false
	}
	return pos, false
}

func (delimited) decode(d codec.Decoder, buf []byte, maxLen int, dst []Frame) ([]Frame, int64, error) {
	var n int64
	for ; len(buf) > 0; n++ {
		msg, k, err := codec.NextDelimited(buf, maxLen)
		switch {
		case err == nil:
			dst = append(dst, Decode(d, n, msg))
			buf = buf[k:]
			continue
		case errors.Is(err, io.ErrUnexpectedEOF):
			// split ends chunks after whole messages, so this is the end of the input.
			err = fmt.Errorf("%w: %d bytes left after the last whole message", ErrTruncated, len(buf))
			dst = append(dst, Frame{Offset: n, Line: buf[:min(len(buf), TooLargeHead)], Err: err})
			return dst, n + 1, nil
		default:
			err = fmt.Errorf("%w; the rest of the input (%d bytes from this prefix on) is not read", err, len(buf))
			dst = append(dst, Frame{Offset: n, Line: buf[:min(len(buf), TooLargeHead)], Err: err})
			return dst, n + 1, err
		}
	}
	return dst, n, nil
}
