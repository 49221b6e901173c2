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
	// ErrNoUID is returned when the uid field's path leads to no value: a key on
	// the way is missing, or a value on the way is not an object.
	ErrNoUID = errors.New("frame: no uid")
	// ErrBadUID is returned when the uid is neither a non-empty string nor an
	// integer (a number without fraction or exponent).
	ErrBadUID = errors.New("frame: bad uid")
	// ErrNoTS is returned when the ts field's path leads to no value, as for
	// ErrNoUID.
	ErrNoTS = errors.New("frame: no ts")
	// ErrBadTS is returned when the ts is neither a JSON number nor a string of
	// ASCII digits.
	ErrBadTS = errors.New("frame: bad ts")
	// ErrTSRange is returned when the ts, converted to unix seconds and
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

// Frame is what kuniq needs of one frame. UID aliases the input line or the decoder's scratch
// buffer and is valid only until the next Decode call (and only as long as the line is not
// modified): copy it to keep it.
type Frame struct {
	// TS is the frame's time in unix seconds, whatever unit the frame counts in.
	TS  int64
	UID []byte
}

// FrameDecoder decodes frames; see the package doc for the exact contract. The zero value is
// ready to use with the default FrameConfig; NewFrameDecoder or Configure set another. A
// FrameDecoder is not safe for concurrent use: give each goroutine its own, since its scratch
// space is what makes Decode allocation-free.
type FrameDecoder struct {
	cfg *frameConfig // nil: defaultConfig
	// found is what the scan remembers of the last value each path led to.
	found [2]field
	// buf holds the uid when it had to be unescaped or repaired, and tsBuf a string ts that
	// had to be unescaped; they grow to the longest such value seen and are then reused.
	buf, tsBuf []byte
	// key holds an escaped key while it is compared with a path's key. Only raw keys short
	// enough to unescape to one are unescaped, so it never grows past 18 × the longest key.
	key []byte
	// qx is the first pass's list of the line's real quotes.
	qx quoteIndex
	// fast is the structural scanner's scratch space (frame_fast_simd.go; empty in a
	// build without it).
	//lint:ignore U1000 used by the GOEXPERIMENT=simd build only
	fast fastScratch
	// kinds is a bit stack of the open containers below the root, one bit per depth (1 =
	// object), sized for encoding/json's nesting limit.
	kinds [maxDepth/64 + 1]uint64
}

// NewFrameDecoder returns a decoder for frames laid out as c says.
func NewFrameDecoder(c FrameConfig) (*FrameDecoder, error) {
	d := &FrameDecoder{}
	if err := d.Configure(c); err != nil {
		return nil, err
	}
	return d, nil
}

// Configure makes d decode frames laid out as c says. On error d is unchanged.
func (d *FrameDecoder) Configure(c FrameConfig) error {
	if c.Format != FormatJSON {
		return fmt.Errorf("frame format %v: FrameDecoder decodes JSON (NewDecoder picks the decoder of a format)", c.Format)
	}
	fc, err := compileConfig(c)
	if err != nil {
		return err
	}
	d.cfg = fc
	if n := 18 * fc.maxKey; cap(d.key) < n {
		d.key = make([]byte, 0, n)
	}
	return nil
}

// field is what the scan remembers of the last value a path led to.
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

// Decode decodes one frame from line, which may end in "\n" or "\r\n" (any JSON whitespace
// around the object is allowed). It validates the whole line; on error the Frame is zero and
// the error wraps one of the package's sentinels.
func (d *FrameDecoder) Decode(line []byte) (Frame, error) {
	c := d.cfg
	if c == nil {
		c = defaultConfig
	}
	if !c.rootOnly || !d.scanFast(line, c) {
		// The general scanner: for nested paths, for a CPU or build without the structural
		// scanner, and for every line that one rejects (it also tells what is wrong).
		if off, what := d.scan(line, c); what != "" {
			return Frame{}, fmt.Errorf("decode frame at offset %d: %s: %w", off, what, ErrSyntax)
		}
	}

	var f Frame
	uid := d.found[fieldUID]
	switch uid.state {
	case fieldMissing:
		return Frame{}, fmt.Errorf("decode frame: %s: %w", c.names[fieldUID], ErrNoUID)
	case fieldString:
		f.UID = d.uidBytes(line[uid.start:uid.end])
		if len(f.UID) == 0 {
			return Frame{}, fmt.Errorf("decode frame: %s: empty string: %w", c.names[fieldUID], ErrBadUID)
		}
	case fieldNumber:
		if uid.flags&numInt == 0 {
			return Frame{}, fmt.Errorf("decode frame at offset %d: %s: number %.40q is not an integer: %w", uid.start, c.names[fieldUID], line[uid.start:uid.end], ErrBadUID)
		}
		// An integer counts as its decimal text, which JSON makes canonical (no leading
		// zeros, no plus sign) except for minus zero.
		f.UID = line[uid.start:uid.end]
		if len(f.UID) == 2 && f.UID[0] == '-' && f.UID[1] == '0' {
			f.UID = f.UID[1:]
		}
	default:
		return Frame{}, fmt.Errorf("decode frame at offset %d: %s: not a string or a number: %w", uid.start, c.names[fieldUID], ErrBadUID)
	}

	ts := d.found[fieldTS]
	switch ts.state {
	case fieldMissing:
		return Frame{}, fmt.Errorf("decode frame: %s: %w", c.names[fieldTS], ErrNoTS)
	case fieldNumber:
		t, ok := parseTS(line[ts.start:ts.end], ts.flags&numInt != 0, c)
		if !ok {
			return Frame{}, fmt.Errorf("decode frame: %s %.40q: %w", c.names[fieldTS], line[ts.start:ts.end], ErrTSRange)
		}
		f.TS = t
	case fieldString:
		digits := line[ts.start:ts.end]
		if bytes.IndexByte(digits, '\\') >= 0 {
			d.tsBuf = appendUnquote(d.tsBuf[:0], digits)
			digits = d.tsBuf
		}
		if !allDigits(digits) {
			return Frame{}, fmt.Errorf("decode frame at offset %d: %s: string %.40q is not all digits: %w", ts.start, c.names[fieldTS], digits, ErrBadTS)
		}
		t, ok := parseDigits(digits, c.drop)
		if !ok {
			return Frame{}, fmt.Errorf("decode frame: %s %.40q: %w", c.names[fieldTS], digits, ErrTSRange)
		}
		f.TS = t
	default:
		return Frame{}, fmt.Errorf("decode frame at offset %d: %s: not a number or a string of digits: %w", ts.start, c.names[fieldTS], ErrBadTS)
	}
	return f, nil
}

// uidBytes returns the uid's string value as encoding/json would decode it: the raw bytes
// themselves when they need no unescaping or repair (the common case, no copy), else the
// unquoted bytes in d.buf.
func (d *FrameDecoder) uidBytes(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return raw
	}
	d.buf = appendUnquote(d.buf[:0], raw)
	return d.buf
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c-'0' > 9 {
			return false
		}
	}
	return len(b) > 0
}

// parseTS turns a validated JSON number in c's unit into unix seconds, reporting false when
// they are out of range. Integers are converted exactly (dropping the unit's last digits
// truncates toward zero); other numbers go through strconv.ParseFloat, are divided by the
// unit and truncated toward zero.
func parseTS(num []byte, isInt bool, c *frameConfig) (int64, bool) {
	if isInt {
		neg := num[0] == '-'
		if neg {
			num = num[1:]
		}
		v, ok := parseDigits(num, c.drop)
		if !ok || neg && v != 0 {
			return 0, false
		}
		return v, true
	}
	// string(num) does not allocate for short numbers: ParseFloat does not keep its
	// argument, so the conversion may live on the stack.
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		// The number is valid JSON, so the only error is ErrRange: overflow to ±Inf, which
		// is out of range either way.
		return 0, false
	}
	f = math.Trunc(f / c.scale)
	if !(f >= float64(MinTS) && f <= float64(MaxTS)) {
		return 0, false
	}
	return int64(f), true
}

// parseDigits returns the value of the decimal digits in b with the last drop of them cut
// off (a ts in its unit, truncated to seconds), reporting false when it exceeds MaxTS.
func parseDigits(b []byte, drop int) (int64, bool) {
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) <= drop {
		return 0, true
	}
	b = b[:len(b)-drop]
	// MaxTS has 12 digits, so more mean out of range; this also keeps the sum below from
	// overflowing.
	if len(b) > 12 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		v = v*10 + int64(c-'0')
	}
	return v, v <= MaxTS
}
