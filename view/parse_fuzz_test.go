package view

import (
	"errors"
	"net/url"
	"testing"

	"github.com/kuniq/kuniq/window"
)

// FuzzParseQuery feeds raw query strings to the API's parsers: they may reject (with ErrQuery),
// never panic, and what they accept must be a query View can run.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"granularity=minute&from=1468244340&to=1468244400&limit=60",
		"granularity=all&from=2016-07-11T13:39:00Z",
		"granularity=minute,,hour", "from=-9223372036854775808", "limit=100001", "to=1e9",
		"from=2016-07-11T15:39:00%2B02:00&to=2016-07-11T13:39:00Z",
	} {
		f.Add(s, "minute", "1468244340")
	}
	f.Fuzz(func(t *testing.T, rawQuery, g, at string) {
		v, err := url.ParseQuery(rawQuery)
		if err == nil {
			qs, err := ParseQuery(v)
			if err != nil && !errors.Is(err, ErrQuery) {
				t.Errorf("ParseQuery(%q) error %v does not wrap ErrQuery", rawQuery, err)
			}
			for _, q := range qs {
				if !q.Granularity.Valid() || q.From > q.To || q.Last < 0 || q.Last > MaxLast {
					t.Errorf("ParseQuery(%q) accepted %+v", rawQuery, q)
				}
			}
		}
		k, err := ParseWindow(g, at)
		if err != nil {
			if !errors.Is(err, ErrQuery) {
				t.Errorf("ParseWindow(%q, %q) error %v does not wrap ErrQuery", g, at, err)
			}
			return
		}
		if _, err := window.ParseKey(k.String()); err != nil {
			t.Errorf("ParseWindow(%q, %q) = %v, not a window: %v", g, at, k, err)
		}
	})
}

// FuzzUniquesRange feeds raw query strings to ParseRange and what it accepts to window.Cover:
// either may refuse (ErrQuery, ErrRange), neither may panic, and a cover tiles the range.
func FuzzUniquesRange(f *testing.F) {
	for _, s := range []string{
		"from=1468244340&to=1468244400", "from=2016-07-11T13:39:00Z&to=2016-07-12T00:00:00Z",
		"from=2016-02-29T00:00:00Z&to=2016-05-01T00:00:00Z", "from=1468244350&to=1468244400",
		"to=1468244400", "from=-9223372036854775808&to=9223372036854775807", "from=0&to=6311390400",
	} {
		f.Add(s)
	}
	r := window.Retained{Granularities: window.All, Horizon: map[window.Granularity]int64{window.Minute: 1468000000}}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		v, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		from, to, err := ParseRange(v)
		if err != nil {
			if !errors.Is(err, ErrQuery) {
				t.Errorf("ParseRange(%q) error %v does not wrap ErrQuery", rawQuery, err)
			}
			return
		}
		keys, err := window.Cover(from, to, r)
		if err != nil {
			if !errors.Is(err, window.ErrRange) {
				t.Errorf("Cover(%d, %d) error %v does not wrap ErrRange", from, to, err)
			}
			return
		}
		pos := from
		for _, k := range keys {
			if k.Start != pos || !r.Has(k) {
				t.Fatalf("Cover(%d, %d) = %v does not tile the range with retained windows", from, to, keys)
			}
			pos = k.End()
		}
		if pos != to {
			t.Fatalf("Cover(%d, %d) ends at %d", from, to, pos)
		}
	})
}
