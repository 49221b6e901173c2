package window

import (
	"errors"
	"slices"
	"testing"
)

func TestKeyString(t *testing.T) {
	tests := []struct {
		k    Key
		want string
	}{
		{Key{Minute, 1468244340}, "minute/1468244340"},
		{Key{Hour, 1468242000}, "hour/1468242000"},
		{Key{Week, -259200}, "week/-259200"},
		{Key{Year, 0}, "year/0"},
	}
	for _, tt := range tests {
		if got := tt.k.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.k, got, tt.want)
		}
		b, err := tt.k.MarshalText()
		if err != nil || string(b) != tt.want {
			t.Errorf("%#v.MarshalText() = %q, %v, want %q", tt.k, b, err, tt.want)
		}
	}
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		in      string
		want    Key
		wantErr error
	}{
		{"minute/1468244340", Key{Minute, 1468244340}, nil},
		{"hour/1468242000", Key{Hour, 1468242000}, nil},
		{"day/1468195200", Key{Day, 1468195200}, nil},
		{"week/1468195200", Key{Week, 1468195200}, nil},
		{"month/1467331200", Key{Month, 1467331200}, nil},
		{"year/1451606400", Key{Year, 1451606400}, nil},
		{"year/0", Key{Year, 0}, nil},
		{"week/-259200", Key{Week, -259200}, nil},
		{"minute/-60", Key{Minute, -60}, nil},

		{"minute/1468244384", Key{}, ErrNotStart},          // a ts, not a start
		{"hour/1468244340", Key{}, ErrNotStart},            // a minute start only
		{"week/1468022400", Key{}, ErrNotStart},            // a Saturday
		{"month/1467417600", Key{}, ErrNotStart},           // July 2nd
		{"year/1467331200", Key{}, ErrNotStart},            // July 1st
		{"minute/9223372036854775800", Key{}, ErrNotStart}, // beyond MaxWindowTS
		{"minute/+1468244340", Key{}, ErrKey},
		{"minute/01468244340", Key{}, ErrKey},
		{"minute/-0", Key{}, ErrKey},
		{"minute/ 60", Key{}, ErrKey},
		{"minute/", Key{}, ErrKey},
		{"minute/1e9", Key{}, ErrKey},
		{"minute/99999999999999999999", Key{}, ErrKey},
		{"minute", Key{}, ErrKey},
		{"", Key{}, ErrKey},
		{"Minute/60", Key{}, ErrGranularity},
		{"decade/0", Key{}, ErrGranularity},
		{"/0", Key{}, ErrGranularity},
	}
	for _, tt := range tests {
		got, err := ParseKey(tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseKey(%q) = %v, %v, want error %v", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseKey(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParseKey(%q).String() = %q, want the input back", tt.in, s)
		}
		var u Key
		if err := u.UnmarshalText([]byte(tt.in)); err != nil || u != tt.want {
			t.Errorf("UnmarshalText(%q) = %v, %v, want %v", tt.in, u, err, tt.want)
		}
	}
}

// TestKeyRoundTrip checks String and ParseKey invert each other for the
// windows around many timestamps, and that End agrees with the granularity.
func TestKeyRoundTrip(t *testing.T) {
	for ts := int64(-5e9); ts < 5e9; ts += 7_777_777 {
		for _, k := range AppendKeys(nil, ts, All) {
			got, err := ParseKey(k.String())
			if err != nil || got != k {
				t.Fatalf("ParseKey(%q) = %v, %v, want %v", k.String(), got, err, k)
			}
			if got, want := k.End(), k.Granularity.End(k.Start); got != want {
				t.Fatalf("%v.End() = %d, want %d", k, got, want)
			}
		}
	}
}

func TestAppendKeys(t *testing.T) {
	ts := unix(2020, 12, 31, 23, 59, 30)
	got := AppendKeys(nil, ts, All)
	want := []Key{
		{Minute, unix(2020, 12, 31, 23, 59, 0)},
		{Hour, unix(2020, 12, 31, 23, 0, 0)},
		{Day, unix(2020, 12, 31, 0, 0, 0)},
		{Week, unix(2020, 12, 28, 0, 0, 0)},
		{Month, unix(2020, 12, 1, 0, 0, 0)},
		{Year, unix(2020, 1, 1, 0, 0, 0)},
	}
	if !slices.Equal(got, want) {
		t.Errorf("AppendKeys(nil, %d, All) = %v, want %v", ts, got, want)
	}
	// The order of gs is kept, and dst's contents are kept.
	dst := []Key{{Minute, 0}}
	got = AppendKeys(dst, ts, []Granularity{Year, Minute})
	want = []Key{{Minute, 0}, {Year, unix(2020, 1, 1, 0, 0, 0)}, {Minute, unix(2020, 12, 31, 23, 59, 0)}}
	if !slices.Equal(got, want) {
		t.Errorf("AppendKeys(dst, %d, [year minute]) = %v, want %v", ts, got, want)
	}
	// AppendKeys must agree with Start for every granularity, negative ts too.
	for ts := int64(-3e9); ts < 3e9; ts += 3_333_331 {
		for i, k := range AppendKeys(nil, ts, All) {
			if k.Granularity != All[i] || k.Start != All[i].Start(ts) {
				t.Fatalf("AppendKeys(%d)[%d] = %v, want %v/%d", ts, i, k, All[i], All[i].Start(ts))
			}
		}
	}
}

func TestAppendKeysAllocs(t *testing.T) {
	dst := make([]Key, 0, len(All))
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendKeys(dst[:0], 1468244384, All)
	})
	if allocs != 0 {
		t.Errorf("AppendKeys with a reused dst allocates %v times, want 0", allocs)
	}
	var buf []byte
	allocs = testing.AllocsPerRun(100, func() {
		buf = Key{Minute, 1468244340}.AppendTo(buf[:0])
	})
	if allocs != 0 {
		t.Errorf("Key.AppendTo with a reused buffer allocates %v times, want 0", allocs)
	}
}

// FuzzParseKey checks ParseKey never panics, and that what it accepts is a
// window start that prints back to the same text.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"minute/1468244340", "week/-259200", "year/0", "hour/1468244340", "minute/+1", "x/y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if !errors.Is(err, ErrKey) && !errors.Is(err, ErrGranularity) && !errors.Is(err, ErrNotStart) {
				t.Fatalf("ParseKey(%q) error %v wraps no sentinel", s, err)
			}
			return
		}
		if k.String() != s {
			t.Fatalf("ParseKey(%q).String() = %q", s, k.String())
		}
		if k.Granularity.Start(k.Start) != k.Start || k.End() <= k.Start {
			t.Fatalf("ParseKey(%q) = %v, not a window: end %d", s, k, k.End())
		}
	})
}

// FuzzParseList checks ParseList never panics and returns a sorted set.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"minute,hour", "all", "year,minute,year", "", ",", "week, ALL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gs, err := ParseList(s)
		if err != nil {
			if !errors.Is(err, ErrGranularity) {
				t.Fatalf("ParseList(%q) error %v does not wrap ErrGranularity", s, err)
			}
			return
		}
		if len(gs) == 0 {
			t.Fatalf("ParseList(%q) = empty list, nil error", s)
		}
		for i, g := range gs {
			if !g.Valid() || (i > 0 && gs[i-1] >= g) {
				t.Fatalf("ParseList(%q) = %v, not a sorted set of valid granularities", s, gs)
			}
		}
	})
}

var sinkKeys []Key

func BenchmarkAppendKeys(b *testing.B) {
	b.ReportAllocs()
	dst := make([]Key, 0, len(All))
	ts := int64(1468244384)
	for b.Loop() {
		dst = AppendKeys(dst[:0], ts, All)
		ts += 7919
	}
	sinkKeys = dst
}

// BenchmarkAppendKeysViaStart is AppendKeys done one Start per granularity:
// what sharing the civil date saves.
func BenchmarkAppendKeysViaStart(b *testing.B) {
	b.ReportAllocs()
	dst := make([]Key, 0, len(All))
	ts := int64(1468244384)
	for b.Loop() {
		dst = dst[:0]
		for _, g := range All {
			dst = append(dst, Key{g, g.Start(ts)})
		}
		ts += 7919
	}
	sinkKeys = dst
}
