package window

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Key names one window: its granularity and its start. Its text form,
// "<granularity>/<start>" such as "minute/1468244340", is the Kafka key of the
// window's records and table entries, so it must stay stable.
type Key struct {
	Granularity Granularity
	Start       int64 // unix seconds, a window start of Granularity
}

// ErrKey is returned, wrapped, by ParseKey when the text is not of the form
// "<granularity>/<start>" with a canonical decimal start (no sign "+", no
// leading zeros, no spaces): each window has exactly one key.
var ErrKey = errors.New("window: malformed key")

// ErrNotStart is returned, wrapped, by ParseKey when the start is well formed
// but is not the start of a window of that granularity (or lies outside
// MinWindowTS..MaxWindowTS), such as "hour/1468244340".
var ErrNotStart = errors.New("window: not a window start")

// String returns the key's text form, "minute/1468244340".
func (k Key) String() string {
	var buf [32]byte
	return string(k.AppendTo(buf[:0]))
}

// AppendTo appends the key's text form to dst and returns the extended
// slice; with a reused dst it does not allocate.
func (k Key) AppendTo(dst []byte) []byte {
	dst = append(dst, k.Granularity.String()...)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, k.Start, 10)
}

// MarshalText returns the key's text form.
func (k Key) MarshalText() ([]byte, error) {
	if !k.Granularity.Valid() {
		return nil, fmt.Errorf("marshal key: %v: %w", k.Granularity, ErrGranularity)
	}
	return k.AppendTo(nil), nil
}

// UnmarshalText parses what MarshalText returns, with ParseKey's checks.
func (k *Key) UnmarshalText(b []byte) error {
	v, err := ParseKey(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// End returns the end of the window, the start of the next one.
func (k Key) End() int64 { return k.Granularity.End(k.Start) }

// ParseKey parses a key's text form. It is strict, because keys come from
// Kafka, not from people: the granularity must be a lowercase name, the start
// canonical decimal and an actual window start. Errors wrap ErrKey,
// ErrGranularity or ErrNotStart.
func ParseKey(s string) (Key, error) {
	name, num, ok := strings.Cut(s, "/")
	if !ok {
		return Key{}, fmt.Errorf("parse key %q: no '/': %w", s, ErrKey)
	}
	g := Granularity(len(names))
	for i, n := range names {
		if name == n {
			g = Granularity(i)
			break
		}
	}
	if !g.Valid() {
		return Key{}, fmt.Errorf("parse key %q: %w", s, ErrGranularity)
	}
	start, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return Key{}, fmt.Errorf("parse key %q: %w: %w", s, ErrKey, err)
	}
	if !canonicalInt(num) {
		return Key{}, fmt.Errorf("parse key %q: start is not canonical: %w", s, ErrKey)
	}
	if start < MinWindowTS || start > MaxWindowTS || g.Start(start) != start {
		return Key{}, fmt.Errorf("parse key %q: %w", s, ErrNotStart)
	}
	return Key{Granularity: g, Start: start}, nil
}

// canonicalInt reports whether s, already known to parse as an int64, is
// spelled as strconv.FormatInt would spell it.
func canonicalInt(s string) bool {
	if s[0] == '+' {
		return false
	}
	digits := strings.TrimPrefix(s, "-")
	if digits[0] == '0' {
		return s == "0" // not "-0", not "007"
	}
	return true
}

// AppendKeys appends to dst the key of every window of the granularities gs
// that contains ts, in the order of gs, and returns the extended slice. With a
// dst reused across calls (dst[:0]) it does not allocate. The civil date is
// computed once and shared by the day, week, month and year windows, because
// this runs for every frame. Like Start it panics on an invalid granularity.
func AppendKeys(dst []Key, ts int64, gs []Granularity) []Key {
	day := floorDiv(ts, secondsPerDay)
	var (
		haveCivil             bool
		yearStart, monthStart int64
	)
	for _, g := range gs {
		var start int64
		switch g {
		case Minute, Hour:
			start = g.Start(ts)
		case Day:
			start = day * secondsPerDay
		case Week:
			start = weekStartDay(day) * secondsPerDay
		case Month, Year:
			if !haveCivil {
				yearStart, monthStart = monthYearStartDays(day)
				haveCivil = true
			}
			if g == Month {
				start = monthStart * secondsPerDay
			} else {
				start = yearStart * secondsPerDay
			}
		default:
			panic(fmt.Sprintf("window: AppendKeys with invalid %v", g))
		}
		dst = append(dst, Key{Granularity: g, Start: start})
	}
	return dst
}
