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
	// dotted path into nested objects such as "user.id", always anchored at the root. ""
	// means "uid" and "ts".
	UIDField, TSField string
	// TSUnit is what one unit of ts is: time.Second (also the zero value), time.Millisecond,
	// time.Microsecond or time.Nanosecond. The value is converted to unix seconds (truncated
	// toward zero) before the range check.
	TSUnit time.Duration
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
	fc := &frameConfig{}
	for f, path := range [2]string{c.UIDField, c.TSField} {
		if path == "" {
			path = [2]string{DefaultUIDField, DefaultTSField}[f]
		}
		keys, err := ParseField(path)
		if err != nil {
			return nil, fmt.Errorf("%s field: %w", [2]string{"uid", "ts"}[f], err)
		}
		for _, k := range keys {
			fc.paths[f] = append(fc.paths[f], segment{
				key:     k,
				literal: !strings.ContainsFunc(k, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 }),
				repl:    strings.ContainsRune(k, utf8.RuneError),
			})
			fc.maxKey = max(fc.maxKey, len(k))
		}
		fc.names[f] = path
	}
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

func samePrefix(a, b []segment) bool {
	for i := range a {
		if a[i].key != b[i].key {
			return false
		}
	}
	return true
}
