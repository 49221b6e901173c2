package window

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// unix returns the unix seconds of a UTC civil time, for readable tables.
func unix(year int, month time.Month, day, hour, min, sec int) int64 {
	return time.Date(year, month, day, hour, min, sec, 0, time.UTC).Unix()
}

func TestStartEnd(t *testing.T) {
	tests := []struct {
		name      string
		g         Granularity
		ts        int64
		wantStart int64
		wantEnd   int64
	}{
		{"minute sample", Minute, 1468244384, 1468244340, 1468244400},
		{"minute exact start", Minute, 1468244340, 1468244340, 1468244400},
		{"minute last second", Minute, 1468244399, 1468244340, 1468244400},
		{"minute negative", Minute, -1, -60, 0},
		{"minute negative exact", Minute, -60, -60, 0},
		{"hour sample", Hour, 1468244384, unix(2016, 7, 11, 13, 0, 0), unix(2016, 7, 11, 14, 0, 0)},
		{"hour negative", Hour, -3601, -7200, -3600},
		{"day sample", Day, 1468244384, unix(2016, 7, 11, 0, 0, 0), unix(2016, 7, 12, 0, 0, 0)},
		{"day epoch", Day, 0, 0, 86400},
		{"day before epoch", Day, -1, -86400, 0},
		{"week sample (Monday itself)", Week, 1468244384, unix(2016, 7, 11, 0, 0, 0), unix(2016, 7, 18, 0, 0, 0)},
		{"week Sunday night", Week, unix(2016, 7, 17, 23, 59, 59), unix(2016, 7, 11, 0, 0, 0), unix(2016, 7, 18, 0, 0, 0)},
		{"week epoch Thursday", Week, 0, unix(1969, 12, 29, 0, 0, 0), unix(1970, 1, 5, 0, 0, 0)},
		{"week across year end 2020", Week, unix(2020, 12, 31, 12, 0, 0), unix(2020, 12, 28, 0, 0, 0), unix(2021, 1, 4, 0, 0, 0)},
		{"week across year end 2021", Week, unix(2021, 1, 3, 23, 59, 59), unix(2020, 12, 28, 0, 0, 0), unix(2021, 1, 4, 0, 0, 0)},
		{"week 2015-53 into 2016", Week, unix(2016, 1, 1, 0, 0, 0), unix(2015, 12, 28, 0, 0, 0), unix(2016, 1, 4, 0, 0, 0)},
		{"week negative", Week, unix(1969, 7, 20, 20, 17, 0), unix(1969, 7, 14, 0, 0, 0), unix(1969, 7, 21, 0, 0, 0)},
		{"month 31 days", Month, unix(2016, 7, 11, 13, 39, 44), unix(2016, 7, 1, 0, 0, 0), unix(2016, 8, 1, 0, 0, 0)},
		{"month 30 days", Month, unix(2016, 4, 30, 23, 59, 59), unix(2016, 4, 1, 0, 0, 0), unix(2016, 5, 1, 0, 0, 0)},
		{"month Feb 2016 leap 29", Month, unix(2016, 2, 29, 12, 0, 0), unix(2016, 2, 1, 0, 0, 0), unix(2016, 3, 1, 0, 0, 0)},
		{"month Feb 2015 28", Month, unix(2015, 2, 28, 23, 59, 59), unix(2015, 2, 1, 0, 0, 0), unix(2015, 3, 1, 0, 0, 0)},
		{"month Feb 2000 leap 29", Month, unix(2000, 2, 29, 0, 0, 0), unix(2000, 2, 1, 0, 0, 0), unix(2000, 3, 1, 0, 0, 0)},
		{"month Feb 2100 not leap", Month, unix(2100, 2, 28, 23, 59, 59), unix(2100, 2, 1, 0, 0, 0), unix(2100, 3, 1, 0, 0, 0)},
		{"month Mar 1 2100", Month, unix(2100, 3, 1, 0, 0, 0), unix(2100, 3, 1, 0, 0, 0), unix(2100, 4, 1, 0, 0, 0)},
		{"month December", Month, unix(2016, 12, 31, 23, 59, 59), unix(2016, 12, 1, 0, 0, 0), unix(2017, 1, 1, 0, 0, 0)},
		{"month January", Month, unix(2017, 1, 1, 0, 0, 0), unix(2017, 1, 1, 0, 0, 0), unix(2017, 2, 1, 0, 0, 0)},
		{"month negative", Month, -1, unix(1969, 12, 1, 0, 0, 0), 0},
		{"month Feb 1900 not leap", Month, unix(1900, 2, 15, 0, 0, 0), unix(1900, 2, 1, 0, 0, 0), unix(1900, 3, 1, 0, 0, 0)},
		{"year 2016 leap", Year, 1468244384, unix(2016, 1, 1, 0, 0, 0), unix(2017, 1, 1, 0, 0, 0)},
		{"year last second", Year, unix(2016, 12, 31, 23, 59, 59), unix(2016, 1, 1, 0, 0, 0), unix(2017, 1, 1, 0, 0, 0)},
		{"year first second", Year, unix(2017, 1, 1, 0, 0, 0), unix(2017, 1, 1, 0, 0, 0), unix(2018, 1, 1, 0, 0, 0)},
		{"year 2000 leap", Year, unix(2000, 12, 31, 0, 0, 0), unix(2000, 1, 1, 0, 0, 0), unix(2001, 1, 1, 0, 0, 0)},
		{"year 2100 not leap", Year, unix(2100, 6, 1, 0, 0, 0), unix(2100, 1, 1, 0, 0, 0), unix(2101, 1, 1, 0, 0, 0)},
		{"year negative", Year, -1, unix(1969, 1, 1, 0, 0, 0), 0},
		{"year 1 BC (year 0, leap)", Year, unix(0, 3, 1, 0, 0, 0), unix(0, 1, 1, 0, 0, 0), unix(1, 1, 1, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.Start(tt.ts); got != tt.wantStart {
				t.Errorf("%v.Start(%d) = %d, want %d", tt.g, tt.ts, got, tt.wantStart)
			}
			if got := tt.g.End(tt.wantStart); got != tt.wantEnd {
				t.Errorf("%v.End(%d) = %d, want %d", tt.g, tt.wantStart, got, tt.wantEnd)
			}
			if got := tt.g.End(tt.ts); got != tt.wantEnd {
				t.Errorf("%v.End(%d) (not a start) = %d, want %d", tt.g, tt.ts, got, tt.wantEnd)
			}
		})
	}
}

// TestWindowLengths checks month and year lengths in days directly, since an
// off-by-one in the calendar shows up as a wrong length.
func TestWindowLengths(t *testing.T) {
	tests := []struct {
		g        Granularity
		start    int64
		wantDays int64
	}{
		{Month, unix(2016, 1, 1, 0, 0, 0), 31},
		{Month, unix(2016, 2, 1, 0, 0, 0), 29},
		{Month, unix(2017, 2, 1, 0, 0, 0), 28},
		{Month, unix(2000, 2, 1, 0, 0, 0), 29},
		{Month, unix(2100, 2, 1, 0, 0, 0), 28},
		{Month, unix(2016, 9, 1, 0, 0, 0), 30},
		{Month, unix(2016, 11, 1, 0, 0, 0), 30},
		{Month, unix(2016, 12, 1, 0, 0, 0), 31},
		{Year, unix(2016, 1, 1, 0, 0, 0), 366},
		{Year, unix(2015, 1, 1, 0, 0, 0), 365},
		{Year, unix(2000, 1, 1, 0, 0, 0), 366},
		{Year, unix(2100, 1, 1, 0, 0, 0), 365},
		{Year, unix(1600, 1, 1, 0, 0, 0), 366},
		{Week, unix(2020, 12, 28, 0, 0, 0), 7},
	}
	for _, tt := range tests {
		got := (tt.g.End(tt.start) - tt.start) / secondsPerDay
		if got != tt.wantDays {
			t.Errorf("%v starting %s lasts %d days, want %d", tt.g, time.Unix(tt.start, 0).UTC().Format(time.DateOnly), got, tt.wantDays)
		}
	}
}

// refStart and refEnd compute windows with time.Time: slow but obviously
// right, the reference for the property test.
func refStart(g Granularity, ts int64) time.Time {
	t := time.Unix(ts, 0).UTC()
	switch g {
	case Minute:
		return t.Truncate(time.Minute)
	case Hour:
		return t.Truncate(time.Hour)
	case Day:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case Week:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	case Year:
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	panic("bad granularity")
}

func refEnd(g Granularity, start time.Time) time.Time {
	switch g {
	case Minute:
		return start.Add(time.Minute)
	case Hour:
		return start.Add(time.Hour)
	case Day:
		return start.AddDate(0, 0, 1)
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	case Year:
		return start.AddDate(1, 0, 0)
	}
	panic("bad granularity")
}

// TestStartEndMatchTime compares Start and End with the time.Time reference
// over random timestamps at several scales, including before 1970 and years
// far beyond 9999 (time.Time is proleptic Gregorian too).
func TestStartEndMatchTime(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	scales := []int64{1 << 31, 1 << 36, 1 << 44}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, scale := range scales {
		for range n {
			ts := r.Int64N(2*scale) - scale
			for _, g := range All {
				start := refStart(g, ts).Unix()
				if got := g.Start(ts); got != start {
					t.Fatalf("%v.Start(%d) = %d, want %d (%s)", g, ts, got, start, time.Unix(start, 0).UTC())
				}
				end := refEnd(g, time.Unix(start, 0).UTC()).Unix()
				if got := g.End(start); got != end {
					t.Fatalf("%v.End(%d) = %d, want %d", g, start, got, end)
				}
			}
		}
	}
}

// TestStartEndExtremes checks the invariants at the edges of the supported
// range, where time.Time itself cannot serve as a reference.
func TestStartEndExtremes(t *testing.T) {
	for _, ts := range []int64{MinWindowTS, MinWindowTS + 1, MaxWindowTS - 1, MaxWindowTS, -1 << 62, 1 << 62} {
		for _, g := range All {
			start, end := g.Start(ts), g.End(ts)
			if !(start <= ts && ts < end) {
				t.Errorf("%v at %d: window [%d, %d) does not hold ts", g, ts, start, end)
			}
			if got := g.Start(start); got != start {
				t.Errorf("%v.Start(%d) = %d, want the start itself", g, start, got)
			}
			if got := g.Start(end); got != end {
				t.Errorf("%v.Start(end %d) = %d, want the end itself", g, end, got)
			}
		}
	}
}

// TestCivilRoundTrip checks civilFromDays and daysFromCivil invert each other,
// and the shortcut month and year starts agree with them, on every day of ±800 years around the epoch (two full 400-year eras each
// way, so every leap rule is crossed).
func TestCivilRoundTrip(t *testing.T) {
	const span = 800 * 366
	prevY, prevM, prevD := civilFromDays(-span - 1)
	for d := int64(-span); d <= span; d++ {
		y, m, day := civilFromDays(d)
		if got := daysFromCivil(y, m, day); got != d {
			t.Fatalf("daysFromCivil(civilFromDays(%d) = %d-%d-%d) = %d", d, y, m, day, got)
		}
		ys, ms := monthYearStartDays(d)
		if want := daysFromCivil(y, 1, 1); ys != want {
			t.Fatalf("year start of day %d (%d-%d-%d) = %d, want %d", d, y, m, day, ys, want)
		}
		if want := daysFromCivil(y, m, 1); ms != want {
			t.Fatalf("month start of day %d (%d-%d-%d) = %d, want %d", d, y, m, day, ms, want)
		}
		// Each day follows the previous one.
		switch {
		case y == prevY && m == prevM && day == prevD+1:
		case y == prevY && m == prevM+1 && day == 1 && prevD == daysInMonth(prevY, prevM):
		case y == prevY+1 && m == 1 && day == 1 && prevM == 12 && prevD == 31:
		default:
			t.Fatalf("day %d is %d-%d-%d after %d-%d-%d", d, y, m, day, prevY, prevM, prevD)
		}
		prevY, prevM, prevD = y, m, day
	}
}

func TestParseGranularity(t *testing.T) {
	tests := []struct {
		in      string
		want    Granularity
		wantErr bool
	}{
		{"minute", Minute, false},
		{"hour", Hour, false},
		{"day", Day, false},
		{"week", Week, false},
		{"month", Month, false},
		{"year", Year, false},
		{" Month ", Month, false},
		{"YEAR", Year, false},
		{"", 0, true},
		{"all", 0, true},
		{"minutes", 0, true},
		{"fortnight", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseGranularity(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrGranularity) {
				t.Errorf("ParseGranularity(%q) error = %v, want ErrGranularity", tt.in, err)
			}
			if msg := fmt.Sprint(err); !strings.Contains(msg, "want one of minute, hour, day, week, month, year") {
				t.Errorf("ParseGranularity(%q) error %q does not list the granularities", tt.in, msg)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseGranularity(%q) = %v, %v, want %v, nil", tt.in, got, err, tt.want)
		}
	}
	for _, g := range All {
		got, err := ParseGranularity(g.String())
		if err != nil || got != g {
			t.Errorf("ParseGranularity(%v.String()) = %v, %v, want %v", g, got, err, g)
		}
	}
	if got, want := Granularity(9).String(), "granularity(9)"; got != want {
		t.Errorf("Granularity(9).String() = %q, want %q", got, want)
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in      string
		want    []Granularity
		wantErr bool
	}{
		{"minute", []Granularity{Minute}, false},
		{"minute,hour", []Granularity{Minute, Hour}, false},
		{"year,minute,day", []Granularity{Minute, Day, Year}, false},
		{"hour,hour,minute,hour", []Granularity{Minute, Hour}, false},
		{"all", All, false},
		{"ALL", All, false},
		{"week, all", All, false},
		{" month , week ", []Granularity{Week, Month}, false},
		{"", nil, true},
		{"minute,,hour", nil, true},
		{"minute,decade", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseList(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrGranularity) {
				t.Errorf("ParseList(%q) = %v, %v, want ErrGranularity", tt.in, got, err)
			}
			// The error says what is allowed.
			if msg := fmt.Sprint(err); !strings.Contains(msg, "minute, hour, day, week, month, year or all") {
				t.Errorf("ParseList(%q) error %q does not list the granularities", tt.in, msg)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseList(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	// The result is the caller's: modifying it must not touch All.
	got, _ := ParseList("all")
	got[0] = Year
	if All[0] != Minute {
		t.Errorf("ParseList(\"all\") returned All itself; All[0] = %v after modification", All[0])
	}
}

func TestGranularityText(t *testing.T) {
	for _, g := range All {
		b, err := g.MarshalText()
		if err != nil {
			t.Fatalf("%v.MarshalText() error = %v", g, err)
		}
		var got Granularity
		if err := got.UnmarshalText(b); err != nil || got != g {
			t.Errorf("UnmarshalText(%q) = %v, %v, want %v", b, got, err, g)
		}
	}
	if _, err := Granularity(6).MarshalText(); !errors.Is(err, ErrGranularity) {
		t.Errorf("Granularity(6).MarshalText() error = %v, want ErrGranularity", err)
	}
	var g Granularity
	if err := g.UnmarshalText([]byte("eon")); !errors.Is(err, ErrGranularity) {
		t.Errorf("UnmarshalText(eon) error = %v, want ErrGranularity", err)
	}
}

func TestStartPanicsOnInvalid(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Granularity(6).Start(0) did not panic")
		}
	}()
	Granularity(6).Start(0)
}

// sink keeps the compiler from optimising benchmark bodies away.
var sink int64

func BenchmarkStart(b *testing.B) {
	for _, g := range All {
		b.Run(g.String(), func(b *testing.B) {
			b.ReportAllocs()
			ts := int64(1468244384)
			for b.Loop() {
				sink += g.Start(ts)
				ts += 7919 // move through months and years, not one cached date
			}
		})
	}
}

func BenchmarkEnd(b *testing.B) {
	for _, g := range []Granularity{Month, Year} {
		b.Run(g.String(), func(b *testing.B) {
			b.ReportAllocs()
			ts := int64(1468244384)
			for b.Loop() {
				sink += g.End(ts)
				ts += 7919
			}
		})
	}
}

// BenchmarkStartTime is the time.Time way to find a month or year start: the
// cost that the civil-date code avoids.
func BenchmarkStartTime(b *testing.B) {
	for _, g := range []Granularity{Week, Month, Year} {
		b.Run(g.String(), func(b *testing.B) {
			b.ReportAllocs()
			ts := int64(1468244384)
			for b.Loop() {
				sink += refStart(g, ts).Unix()
				ts += 7919
			}
		})
	}
}
