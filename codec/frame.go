package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// The valid range of a frame's ts, in unix seconds: from the epoch through
// 9999-12-31T23:59:59Z, the last second an RFC 3339 timestamp can name.
const (
	MinTS int64 = 0
	MaxTS int64 = 253402300799
)

// Sentinel errors of Decode. Decode returns them wrapped with the offset or
// detail; match them with errors.Is, or map them with Reason.
var (
	// ErrSyntax is returned when the line is not exactly one JSON object
	// (optionally surrounded by JSON whitespace), as json.Unmarshal judges it:
	// malformed JSON, a corrupt or truncated tail, trailing data, an empty
	// line, a root that is not an object, or nesting deeper than 10000.
	ErrSyntax = errors.New("frame: syntax error")
	// ErrNoUID is returned when the root object has no "uid" key.
	ErrNoUID = errors.New("frame: no uid")
	// ErrBadUID is returned when the last root "uid" is not a string or is
	// the empty string.
	ErrBadUID = errors.New("frame: bad uid")
	// ErrNoTS is returned when the root object has no "ts" key.
	ErrNoTS = errors.New("frame: no ts")
	// ErrBadTS is returned when the last root "ts" is not a JSON number.
	ErrBadTS = errors.New("frame: bad ts")
	// ErrTSRange is returned when the last root "ts" is a number whose value,
	// truncated toward zero, is outside [MinTS, MaxTS] (overflow included).
	ErrTSRange = errors.New("frame: ts out of range")
	// ErrNullValue is the error of a Kafka record without a value (a tombstone): the
	// decoder never sees it; the reader reports it.
	ErrNullValue = errors.New("frame: null value")
	// ErrTooLarge is the error of a frame over the reader's size limit, which is not decoded.
	ErrTooLarge = errors.New("frame: too large")
)

// Reason returns the short, stable reason a dead-letter record carries for
// err: "syntax", "no_uid", "bad_uid", "no_ts", "bad_ts", "ts_range", "null_value" or "too_large" for the
// sentinels of this package (wrapped or not), "invalid" for any other error,
// and "" for nil. Dashboards and alerts key on these strings; only add to them.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrSyntax):
		return "syntax"
	case errors.Is(err, ErrNoUID):
		return "no_uid"
	case errors.Is(err, ErrBadUID):
		return "bad_uid"
	case errors.Is(err, ErrNoTS):
		return "no_ts"
	case errors.Is(err, ErrBadTS):
		return "bad_ts"
	case errors.Is(err, ErrTSRange):
		return "ts_range"
	case errors.Is(err, ErrNullValue):
		return "null_value"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	default:
		return "invalid"
	}
}

// Frame is what kuniq needs of one frame. UID aliases the input line or the
// decoder's scratch buffer and is valid only until the next Decode call (and
// only as long as the line is not modified): copy it to keep it.
type Frame struct {
	TS  int64
	UID []byte
}

// FrameDecoder decodes frames; see the package doc for the exact contract.
// The zero value is ready to use. A FrameDecoder is not safe for concurrent
// use: give each goroutine its own, since its scratch space is what makes
// Decode allocation-free.
type FrameDecoder struct {
	// buf holds the uid when it had to be unescaped or repaired; it grows to
	// the longest such uid seen and is then reused.
	buf []byte
	// key holds an escaped root key while it is compared with "uid"/"ts".
	// Only keys whose raw form is short enough to unescape to either are
	// unescaped, so it never grows.
	key [maxEscapedKey * 3]byte
	// kinds is a bit stack of the open containers below the root, one bit
	// per depth (1 = object), sized for encoding/json's nesting limit.
	kinds [maxDepth/64 + 1]uint64
}

// maxEscapedKey is the longest raw key that can unescape to "uid": three
// \uXXXX escapes.
const maxEscapedKey = 3 * 6

// field is what the root scan remembers of the last "uid" or "ts" value.
type field struct {
	state      uint8 // fieldMissing, fieldString, fieldNumber, fieldOther
	flags      uint8 // numInt for numbers
	start, end int   // the value's bytes, without quotes for strings
}

const (
	fieldMissing = iota
	fieldString
	fieldNumber
	fieldOther
)

// Decode decodes one frame from line, which may end in "\n" or "\r\n" (any
// JSON whitespace around the object is allowed). It validates the whole
// line; on error the Frame is zero and the error wraps one of the package's
// sentinels.
func (d *FrameDecoder) Decode(line []byte) (Frame, error) {
	uid, ts, off, what := d.scanRoot(line)
	if what != "" {
		return Frame{}, fmt.Errorf("decode frame at offset %d: %s: %w", off, what, ErrSyntax)
	}

	var f Frame
	switch uid.state {
	case fieldMissing:
		return Frame{}, fmt.Errorf("decode frame: %w", ErrNoUID)
	case fieldString:
		f.UID = d.uidBytes(line[uid.start:uid.end])
		if len(f.UID) == 0 {
			return Frame{}, fmt.Errorf("decode frame: empty string: %w", ErrBadUID)
		}
	default:
		return Frame{}, fmt.Errorf("decode frame at offset %d: not a string: %w", uid.start, ErrBadUID)
	}

	switch ts.state {
	case fieldMissing:
		return Frame{}, fmt.Errorf("decode frame: %w", ErrNoTS)
	case fieldNumber:
		t, ok := parseTS(line[ts.start:ts.end], ts.flags&numInt != 0)
		if !ok {
			return Frame{}, fmt.Errorf("decode frame: ts %.40q: %w", line[ts.start:ts.end], ErrTSRange)
		}
		f.TS = t
	default:
		return Frame{}, fmt.Errorf("decode frame at offset %d: not a number: %w", ts.start, ErrBadTS)
	}
	return f, nil
}

// uidBytes returns the uid's string value as encoding/json would decode it:
// the raw bytes themselves when they need no unescaping or repair (the
// common case, no copy), else the unquoted bytes in d.buf.
func (d *FrameDecoder) uidBytes(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return raw
	}
	d.buf = appendUnquote(d.buf[:0], raw)
	return d.buf
}

// parseTS turns a validated JSON number into a ts, reporting false when it is
// out of range. Integers are parsed exactly; other numbers go through
// strconv.ParseFloat and are truncated toward zero.
func parseTS(num []byte, isInt bool) (int64, bool) {
	if isInt {
		neg := num[0] == '-'
		if neg {
			num = num[1:]
		}
		// JSON integers have no leading zeros, so more digits than MaxTS has
		// mean out of range; this also keeps the sum below from overflowing.
		if len(num) > 12 {
			return 0, false
		}
		var v int64
		for _, c := range num {
			v = v*10 + int64(c-'0')
		}
		if neg && v != 0 || v > MaxTS {
			return 0, false
		}
		return v, true
	}
	// string(num) does not allocate for short numbers: ParseFloat does not
	// keep its argument, so the conversion may live on the stack.
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		// The number is valid JSON, so the only error is ErrRange: overflow
		// to ±Inf, which is out of range either way.
		return 0, false
	}
	f = math.Trunc(f)
	if !(f >= float64(MinTS) && f <= float64(MaxTS)) {
		return 0, false
	}
	return int64(f), true
}
