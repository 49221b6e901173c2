package codec

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// FrameConfig says where a frame keeps its uid and ts and in which unit the ts counts. The
// zero value is kuniq's default: the root keys "uid" and "ts", in unix seconds.
type FrameConfig struct {
	// UIDField and TSField are field paths (see ParseField): a root key such as "uid", or a
	// dotted path into nested objects such as "user.id" (at most 16 keys), always anchored
	// at the root. "" means "uid" and "ts".
	UIDField, TSField string
	// TSUnit is what one unit of ts is: time.Second (also the zero value), time.Millisecond,
	// time.Microsecond or time.Nanosecond. The value is converted to unix seconds (truncated
	// toward zero) before the range check. It applies to every format: a protobuf frame's
	// int64 ts counts in this unit too.
	TSUnit time.Duration
	// Format is how frames are written: FormatJSON (the zero value) or FormatProtobuf. The
	// field paths apply to JSON only; a protobuf frame keeps its ts and uid in fields 1 and 2
	// of message Frame (codec/frame.proto), so with FormatProtobuf UIDField and TSField must
	// be "" or the defaults.
	Format Format
}

// The default field paths.
const (
	DefaultUIDField = "uid"
	DefaultTSField  = "ts"
)

// Validate reports a configuration the decoder cannot use.
func (c FrameConfig) Validate() error {
	_, err := compileConfig(c)
	return err
}

// ParseTSUnit parses the spelling of a ts unit: "s", "ms", "us" (or "µs") or "ns".
func ParseTSUnit(s string) (time.Duration, error) {
	switch s {
	case "s":
		return time.Second, nil
	case "ms":
		return time.Millisecond, nil
	case "us", "µs":
		return time.Microsecond, nil
	case "ns":
		return time.Nanosecond, nil
	}
	return 0, fmt.Errorf("ts unit %q: want s, ms, us or ns", s)
}

// maxPathKeys is the most keys a field path may have.
const maxPathKeys = 16

// ParseField splits a field path into the keys it names, from the root down. Keys are
// separated by dots; a backslash takes the next character literally, so `a\.b` is the one
// key "a.b" and `a\\b` the key `a\b` (the convention of gjson and of many log shippers). A
// path with an empty key (a leading, trailing or doubled dot), a trailing lone backslash or
// invalid UTF-8 is an error, so every key a path names is a non-empty string a frame can hold.
func ParseField(path string) ([]string, error) {
	if path == "" {
		return nil, errors.New("empty field path")
	}
	if !utf8.ValidString(path) {
		return nil, fmt.Errorf("field path %q: invalid UTF-8", path)
	}
	var keys []string
	var key strings.Builder
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '\\':
			if i+1 == len(path) {
				return nil, fmt.Errorf("field path %q: trailing backslash", path)
			}
			i++
			key.WriteByte(path[i])
		case '.':
			if key.Len() == 0 {
				return nil, fmt.Errorf("field path %q: empty key", path)
			}
			keys = append(keys, key.String())
			key.Reset()
		default:
			key.WriteByte(c)
		}
	}
	if key.Len() == 0 {
		return nil, fmt.Errorf("field path %q: empty key", path)
	}
	return append(keys, key.String()), nil
}

// Which field a path leads to.
const (
	fieldUID = iota
	fieldTS
)

// segment is one key of a field path, prepared for matching raw JSON keys.
type segment struct {
	key string
	// literal: the key can appear in a frame unescaped (no quote, backslash, control byte),
	// so a raw key without escapes matches it exactly when the bytes are equal.
	literal bool
	// repl: the key holds U+FFFD, which an invalid UTF-8 byte in a raw key decodes to.
	repl bool
	// minEsc and maxEsc bound the length of a raw key with an escape that can decode to key.
	minEsc, maxEsc int
}

// frameConfig is a FrameConfig compiled for the scanner.
type frameConfig struct {
	paths [2][]segment // by fieldUID, fieldTS
	// drop is how many decimal digits turn a ts in its unit into seconds (0, 3, 6 or 9);
	// scale is 10^drop.
	drop  int
	scale float64
	// names are the paths as configured, for error messages.
	names [2]string
	// maxKey is the longest key of either path, in bytes.
	maxKey int
	// rootOnly: both fields are root keys, which the structural scanner handles.
	rootOnly bool
	// levels[lvl][act] filters raw keys at key number lvl of the paths in act (a bit per
	// field) before they are compared with the paths' keys.
	levels [][4]keyFilter
}

// keyFilter tells from a raw key's length (bit min(n, 63)) whether it can be a path's key:
// exact, when it is the key's length; esc, when an escaped form of that length can decode to
// it (then only a key holding a backslash can); all, when keys need a full check anyway (a
// path key holds U+FFFD, which an invalid UTF-8 byte decodes to).
type keyFilter struct {
	exact, esc uint64
	first      [4]uint64 // the first bytes of the keys, a bit each
	all        bool
}

// defaultConfig is what the zero FrameDecoder uses.
var defaultConfig = mustCompile(FrameConfig{})

func mustCompile(c FrameConfig) *frameConfig {
	fc, err := compileConfig(c)
	if err != nil {
		panic(err)
	}
	return fc
}

func compileConfig(c FrameConfig) (*frameConfig, error) {
	switch c.Format {
	case FormatJSON:
	case FormatProtobuf:
		// A user who sets a field path for protobuf frames expects it to be honoured; refuse it
		// rather than silently read fields 1 and 2.
		if u := c.UIDField; u != "" && u != DefaultUIDField {
			return nil, fmt.Errorf("uid field %q: field paths apply to JSON frames; a protobuf frame's uid is field 2 of message Frame", u)
		}
		if t := c.TSField; t != "" && t != DefaultTSField {
			return nil, fmt.Errorf("ts field %q: field paths apply to JSON frames; a protobuf frame's ts is field 1 of message Frame", t)
		}
	default:
		return nil, fmt.Errorf("frame format %v: want json or protobuf", c.Format)
	}
	fc := &frameConfig{}
	for f, path := range [2]string{c.UIDField, c.TSField} {
		if path == "" {
			path = [2]string{DefaultUIDField, DefaultTSField}[f]
		}
		keys, err := ParseField(path)
		if err == nil && len(keys) > maxPathKeys {
			err = fmt.Errorf("field path %q: more than %d keys", path, maxPathKeys)
		}
		if err != nil {
			return nil, fmt.Errorf("%s field: %w", [2]string{"uid", "ts"}[f], err)
		}
		for _, k := range keys {
			fc.paths[f] = append(fc.paths[f], newSegment(k))
			fc.maxKey = max(fc.maxKey, len(k))
		}
		fc.names[f] = path
	}
	for lvl := 0; lvl < max(len(fc.paths[0]), len(fc.paths[1])); lvl++ {
		var fs [4]keyFilter
		for act := range 4 {
			for f := range 2 {
				if act&(1<<f) == 0 || lvl >= len(fc.paths[f]) {
					continue
				}
				seg := fc.paths[f][lvl]
				fs[act].exact |= 1 << min(len(seg.key), 63)
				fs[act].first[seg.key[0]>>6] |= 1 << (seg.key[0] & 63)
				for n := seg.minEsc; n <= min(seg.maxEsc, 63); n++ {
					fs[act].esc |= 1 << n
				}
				fs[act].all = fs[act].all || seg.repl
			}
		}
		fc.levels = append(fc.levels, fs)
	}
	fc.rootOnly = len(fc.paths[fieldUID]) == 1 && len(fc.paths[fieldTS]) == 1
	// One path may not lead through the other's value: the value cannot be both an object
	// and a uid or ts.
	u, t := fc.paths[fieldUID], fc.paths[fieldTS]
	if n := min(len(u), len(t)); samePrefix(u[:n], t[:n]) {
		return nil, fmt.Errorf("uid field %q and ts field %q: one contains the other", fc.names[fieldUID], fc.names[fieldTS])
	}
	switch c.TSUnit {
	case 0, time.Second:
		fc.drop, fc.scale = 0, 1
	case time.Millisecond:
		fc.drop, fc.scale = 3, 1e3
	case time.Microsecond:
		fc.drop, fc.scale = 6, 1e6
	case time.Nanosecond:
		fc.drop, fc.scale = 9, 1e9
	default:
		return nil, fmt.Errorf("ts unit %v: want 1s, 1ms, 1µs or 1ns", c.TSUnit)
	}
	return fc, nil
}

// pow10 holds 10^drop for the drops compileConfig sets.
var pow10 = [10]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// seconds converts a ts that is already an integer in c's unit (a protobuf frame's int64) to
// unix seconds, truncated toward zero, and reports false outside [MinTS, MaxTS]. It is the rule
// parseTS applies to a JSON integer, for an int64: the same value in either format gives the
// same seconds and the same verdict (TestSecondsMatchesParseTS, FuzzSecondsMatchesParseTS).
func (c *frameConfig) seconds(v int64) (int64, bool) {
	s := v / pow10[c.drop] // Go's division truncates toward zero, as dropping digits does
	return s, s >= MinTS && s <= MaxTS
}

// UnitsPerSecond is how many units of ts one second holds: 1 for seconds, 1000 for
// milliseconds. A writer that has a frame's time in seconds (a decoded Frame.TS) multiplies by
// it to write the ts in the configured unit.
func (c FrameConfig) UnitsPerSecond() int64 {
	switch c.TSUnit {
	case time.Millisecond:
		return 1e3
	case time.Microsecond:
		return 1e6
	case time.Nanosecond:
		return 1e9
	}
	return 1
}

func newSegment(k string) segment {
	s := segment{
		key:     k,
		literal: !strings.ContainsFunc(k, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 }),
		repl:    strings.ContainsRune(k, utf8.RuneError),
		maxEsc:  6 * len(k), // every byte as a \uXXXX of its own, at worst
	}
	// The shortest raw key with an escape: the key with its cheapest character escaped.
	s.minEsc = 6 * len(k)
	for _, r := range k {
		raw := 6 // \uXXXX
		switch {
		case strings.ContainsRune("\"\\/\b\f\n\r\t", r):
			raw = 2
		case r > 0xFFFF:
			raw = 12 // a surrogate pair
		}
		s.minEsc = min(s.minEsc, len(k)-utf8.RuneLen(r)+raw)
	}
	return s
}

func samePrefix(a, b []segment) bool {
	for i := range a {
		if a[i].key != b[i].key {
			return false
		}
	}
	return true
}
