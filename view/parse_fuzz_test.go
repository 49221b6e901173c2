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
