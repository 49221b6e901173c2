package window

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Granularity is the length of a window: a minute, hour, day, ISO week,
// calendar month or calendar year, all in UTC. Finer granularities have
// smaller values, so sorting a []Granularity orders it fine to coarse.
type Granularity uint8

// The six granularities, fine to coarse.
const (
	Minute Granularity = iota
	Hour
	Day
	Week // ISO 8601: Monday 00:00 UTC to the next Monday
	Month
	Year
)

// All lists every granularity, fine to coarse. Callers must not modify it.
var All = []Granularity{Minute, Hour, Day, Week, Month, Year}

// MinWindowTS and MaxWindowTS bound the timestamps (unix seconds) a window can
// hold: within them every window's start and end fit in an int64, so Start
// and End never overflow; the bounds leave a year of headroom at each end of
// the int64 range. The Clock judges a timestamp outside them a Jump at once
// (it is typically a flipped sign or high bit). They are wider than the range
// a frame's ts may have (codec.MinTS..codec.MaxTS, years 1970 to 9999): that
// one is the input contract, this one the arithmetic's limit.
const (
	MinWindowTS int64 = math.MinInt64 + maxYearSeconds
	MaxWindowTS int64 = math.MaxInt64 - maxYearSeconds
)

const (
	secondsPerMinute = 60
	secondsPerHour   = 60 * secondsPerMinute
	secondsPerDay    = 24 * secondsPerHour
	secondsPerWeek   = 7 * secondsPerDay
	maxYearSeconds   = 366 * secondsPerDay
)

// ErrGranularity is returned, wrapped, by ParseGranularity, ParseList and
// ParseKey when a name is not one of "minute", "hour", "day", "week", "month",
// "year" (or "all" in a list), or when a list is empty.
var ErrGranularity = errors.New("window: unknown granularity")

var names = [...]string{
	Minute: "minute",
	Hour:   "hour",
	Day:    "day",
	Week:   "week",
	Month:  "month",
	Year:   "year",
}

// Valid reports whether g is one of the six granularities.
func (g Granularity) Valid() bool { return int(g) < len(names) }

// String returns the lowercase name used in keys and result records:
// "minute", "hour", "day", "week", "month" or "year".
func (g Granularity) String() string {
	if !g.Valid() {
		return fmt.Sprintf("granularity(%d)", uint8(g))
	}
	return names[g]
}

// MarshalText encodes g as its name, so JSON records carry
// "granularity":"minute" without a custom encoder.
func (g Granularity) MarshalText() ([]byte, error) {
	if !g.Valid() {
		return nil, fmt.Errorf("marshal %v: %w", g, ErrGranularity)
	}
	return []byte(names[g]), nil
}

// UnmarshalText is the inverse of MarshalText; it accepts what
// ParseGranularity accepts.
func (g *Granularity) UnmarshalText(b []byte) error {
	v, err := ParseGranularity(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// ParseGranularity parses a granularity name, ignoring case and surrounding
// spaces (it reads flags typed by people).
func ParseGranularity(s string) (Granularity, error) {
	t := strings.TrimSpace(s)
	for g, name := range names {
		if strings.EqualFold(t, name) {
			return Granularity(g), nil
		}
	}
	return 0, fmt.Errorf("granularity %q: want one of %s: %w", s, nameList, ErrGranularity)
}

// nameList is the six names as errors list them: "minute, hour, day, week, month, year".
var nameList = strings.Join(names[:], ", ")

// ParseList parses a comma-separated list of granularity names such as
// "minute,hour" or "all" (which may be mixed with names). The result holds
// each granularity once, sorted fine to coarse, in a new slice. An empty list
// or an empty element is an error: a typo such as "minute,,hour" should not
// silently count less than was asked for.
func ParseList(s string) ([]Granularity, error) {
	var set [len(names)]bool
	for part := range strings.SplitSeq(s, ",") {
		if strings.EqualFold(strings.TrimSpace(part), "all") {
			for i := range set {
				set[i] = true
			}
			continue
		}
		g, err := ParseGranularity(part)
		if err != nil {
			return nil, fmt.Errorf("granularities %q: %q is not one of %s or all: %w", s, part, nameList, ErrGranularity)
		}
		set[g] = true
	}
	gs := make([]Granularity, 0, len(names))
	for i, ok := range set {
		if ok {
			gs = append(gs, Granularity(i))
		}
	}
	return gs, nil
}

// Start returns the start (unix seconds, UTC) of the window of granularity g
// that contains ts: the largest window start <= ts. It works for negative ts
// (before 1970) through the proleptic Gregorian calendar, and is exact for
// MinWindowTS <= ts <= MaxWindowTS. It does not allocate and does not use time.Time,
// because it runs once per frame and granularity.
//
// Start panics if g is not Valid: granularities come from the constants or
// from ParseGranularity, so an invalid one is a programming error.
func (g Granularity) Start(ts int64) int64 {
	switch g {
	case Minute:
		return floorDiv(ts, secondsPerMinute) * secondsPerMinute
	case Hour:
		return floorDiv(ts, secondsPerHour) * secondsPerHour
	case Day:
		return floorDiv(ts, secondsPerDay) * secondsPerDay
	case Week:
		return weekStartDay(floorDiv(ts, secondsPerDay)) * secondsPerDay
	case Month:
		return monthStartDay(floorDiv(ts, secondsPerDay)) * secondsPerDay
	case Year:
		return yearStartDay(floorDiv(ts, secondsPerDay)) * secondsPerDay
	}
	panic(fmt.Sprintf("window: Start of invalid %v", g))
}

// End returns the end of the window of granularity g that starts at start:
// the start of the next window, so the window is [start, End(start)). Months
// last 28 to 31 days and years 365 or 366, so End computes rather than adds a
// constant. If start is not a window start, End returns the end of the window
// containing it. Like Start it panics on an invalid g.
func (g Granularity) End(start int64) int64 {
	switch g {
	case Minute, Hour, Day, Week:
		return g.Start(start) + g.fixedSeconds()
	case Month:
		d := monthStartDay(floorDiv(start, secondsPerDay))
		y, m, _ := civilFromDays(d)
		return (d + daysInMonth(y, m)) * secondsPerDay
	case Year:
		d := yearStartDay(floorDiv(start, secondsPerDay))
		y, _, _ := civilFromDays(d)
		return (d + daysInYear(y)) * secondsPerDay
	}
	panic(fmt.Sprintf("window: End of invalid %v", g))
}

// fixedSeconds is the length of the granularities whose length never varies
// (UTC has no daylight saving, and unix time has no leap seconds).
func (g Granularity) fixedSeconds() int64 {
	switch g {
	case Minute:
		return secondsPerMinute
	case Hour:
		return secondsPerHour
	case Day:
		return secondsPerDay
	case Week:
		return secondsPerWeek
	}
	return 0
}

// floorDiv divides rounding toward negative infinity, so that windows before
// 1970 start before their timestamps, not after (Go's / truncates).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
