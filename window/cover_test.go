package window

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// at parses an RFC 3339 time for the tests.
func at(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.Unix()
}

var keepAll = Retained{Granularities: All}

// describe is a cover in short: "30 minute + 2 hour".
func describe(keys []Key) string {
	n := map[Granularity]int{}
	for _, k := range keys {
		n[k.Granularity]++
	}
	s := ""
	for _, g := range All {
		if n[g] > 0 {
			if s != "" {
				s += " + "
			}
			s += fmt.Sprintf("%d %s", n[g], g)
		}
	}
	return s
}

func TestCover(t *testing.T) {
	tests := []struct {
		name, from, to string
		r              Retained
		want           string
	}{
		{"one minute", "2016-07-11T13:39:00Z", "2016-07-11T13:40:00Z", keepAll, "1 minute"},
		{"a whole day is the day window", "2016-07-11T00:00:00Z", "2016-07-12T00:00:00Z", keepAll, "1 day"},
		{"minutes at the edges, hours between", "2016-07-11T10:30:00Z", "2016-07-11T13:17:00Z", keepAll, "47 minute + 2 hour"},
		{"across midnight", "2016-07-11T22:45:00Z", "2016-07-12T01:00:00Z", keepAll, "15 minute + 2 hour"},
		{"a week from Monday", "2016-07-11T00:00:00Z", "2016-07-18T00:00:00Z", keepAll, "1 week"},
		{"a month", "2016-07-01T00:00:00Z", "2016-08-01T00:00:00Z", keepAll, "1 month"},
		{"a year", "2016-01-01T00:00:00Z", "2017-01-01T00:00:00Z", keepAll, "1 year"},
		// 2016-02-29 is a Monday: one day then months beats weeks that never meet a 1st.
		{"months, not weeks", "2016-02-29T00:00:00Z", "2016-05-01T00:00:00Z", keepAll, "1 day + 2 month"},
		{"weeks where months do not fit", "2016-07-04T00:00:00Z", "2016-07-25T00:00:00Z", keepAll, "3 week"},
		{"across a month boundary", "2016-07-30T23:50:00Z", "2016-08-02T00:10:00Z", keepAll, "20 minute + 2 day"},
		{"years, months, weeks, days, hours, minutes", "2015-12-31T23:59:00Z", "2018-03-13T01:01:00Z", keepAll,
			"2 minute + 1 hour + 5 day + 1 week + 2 month + 2 year"},
		{"only hours and days counted", "2016-07-11T10:00:00Z", "2016-07-13T02:00:00Z",
			Retained{Granularities: []Granularity{Hour, Day}}, "16 hour + 1 day"},
		{"only minutes counted", "2016-07-11T10:30:00Z", "2016-07-11T12:00:00Z",
			Retained{Granularities: []Granularity{Minute}}, "90 minute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to := at(t, tc.from), at(t, tc.to)
			keys, err := Cover(from, to, tc.r)
			if err != nil {
				t.Fatalf("Cover(%s, %s): %v", tc.from, tc.to, err)
			}
			if got := describe(keys); got != tc.want {
				t.Errorf("Cover(%s, %s) = %s (%v), want %s", tc.from, tc.to, got, keys, tc.want)
			}
			checkExact(t, from, to, keys, tc.r)
		})
	}
}

// checkExact: keys are sorted, retained, and tile [from, to) exactly.
func checkExact(t *testing.T, from, to int64, keys []Key, r Retained) {
	t.Helper()
	pos := from
	for _, k := range keys {
		if k.Start != pos {
			t.Fatalf("cover of %d..%d: %s starts at %d, want %d (gap or overlap) in %v", from, to, k, k.Start, pos, keys)
		}
		if !r.Has(k) {
			t.Errorf("cover uses %s, which is not retained", k)
		}
		pos = k.End()
	}
	if pos != to {
		t.Fatalf("cover of %d..%d ends at %d", from, to, pos)
	}
}

// fewest is the brute-force answer: the shortest path over every minute boundary.
func fewest(from, to int64, r Retained) int {
	n := int((to - from) / 60)
	dist := make([]int, n+1)
	for i := range dist {
		dist[i] = math.MaxInt
	}
	dist[0] = 0
	for i := range n {
		if dist[i] == math.MaxInt {
			continue
		}
		t := from + int64(i)*60
		for _, g := range r.Granularities {
			k := Key{Granularity: g, Start: t}
			if g.Start(t) != t || k.End() > to || !r.Has(k) {
				continue
			}
			j := int((k.End() - from) / 60)
			dist[j] = min(dist[j], dist[i]+1)
		}
	}
	return dist[n]
}

// TestCoverFewest: for random minute-aligned ranges up to 75 days, crossing hours, days,
// weeks and months, the cover tiles the range exactly with as few windows as the brute force
// over every minute boundary finds, also with minutes and hours expired before the range.
func TestCoverFewest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := at(t, "2016-01-25T00:00:00Z")
	expired := Retained{Granularities: All, Horizon: map[Granularity]int64{Minute: base + 40*86400, Hour: base + 20*86400}}
	for i := range 150 {
		r := keepAll
		from := base + 60*rng.Int64N(60*24*50)
		to := from + 60*(1+rng.Int64N(60*24*(1+rng.Int64N(75))))
		if i%3 == 2 {
			r = expired
			// Align the boundaries to what is retained there.
			from, to = alignTo(r, from, from), alignTo(r, to, to-1)
			if to <= from {
				continue
			}
		}
		keys, err := Cover(from, to, r)
		if err != nil {
			t.Fatalf("Cover(%s, %s): %v", stamp(from), stamp(to), err)
		}
		checkExact(t, from, to, keys, r)
		if want := fewest(from, to, r); len(keys) != want {
			t.Errorf("Cover(%s, %s) = %d windows (%s), the fewest is %d", stamp(from), stamp(to), len(keys), describe(keys), want)
		}
	}
}

// alignTo rounds boundary b down to the finest granularity retained at inside.
func alignTo(r Retained, b, inside int64) int64 {
	for _, g := range All {
		if r.Has(Key{Granularity: g, Start: g.Start(inside)}) {
			return g.Start(b)
		}
	}
	return b
}

func TestCoverRejects(t *testing.T) {
	now := at(t, "2016-09-01T00:00:00Z")
	// Default retention: minutes 7 days, hours 90 days, coarser forever.
	r := Retained{Granularities: All, Horizon: map[Granularity]int64{Minute: now - 7*86400, Hour: now - 90*86400}}
	tests := []struct {
		name, from, to string
		r              Retained
		boundary       string
		g              Granularity
		earlier, later string
	}{
		{"from inside a minute", "2016-08-31T10:30:30Z", "2016-08-31T11:00:00Z", r, "from", Minute, "2016-08-31T10:30:00Z", "2016-08-31T10:31:00Z"},
		{"to inside a minute", "2016-08-31T10:30:00Z", "2016-08-31T11:00:01Z", r, "to", Minute, "2016-08-31T11:00:00Z", "2016-08-31T11:01:00Z"},
		{"minutes expired: hours", "2016-08-01T10:30:00Z", "2016-08-31T11:00:00Z", r, "from", Hour, "2016-08-01T10:00:00Z", "2016-08-01T11:00:00Z"},
		{"hours expired: days", "2016-05-01T10:00:00Z", "2016-08-31T11:00:00Z", r, "from", Day, "2016-05-01T00:00:00Z", "2016-05-02T00:00:00Z"},
		{"only hours counted", "2016-08-31T10:30:00Z", "2016-08-31T12:00:00Z", Retained{Granularities: []Granularity{Hour}}, "from", Hour, "2016-08-31T10:00:00Z", "2016-08-31T11:00:00Z"},
		{"beyond retention", "2016-05-01T00:00:00Z", "2016-08-31T00:00:00Z",
			Retained{Granularities: []Granularity{Minute, Hour}, Horizon: map[Granularity]int64{Minute: now - 7*86400, Hour: now - 90*86400}},
			"from", Hour, "2016-06-03T00:00:00Z", "2016-06-03T00:00:00Z"},
		{"empty", "2016-08-31T10:00:00Z", "2016-08-31T10:00:00Z", r, "", 0, "", ""},
		{"reversed", "2016-08-31T11:00:00Z", "2016-08-31T10:00:00Z", r, "", 0, "", ""},
		{"too long", "1800-01-01T00:00:00Z", "2016-01-01T00:00:00Z", r, "", 0, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := Cover(at(t, tc.from), at(t, tc.to), tc.r)
			var re *RangeError
			if !errors.As(err, &re) || !errors.Is(err, ErrRange) {
				t.Fatalf("Cover(%s, %s) = %v, %v; want a RangeError", tc.from, tc.to, keys, err)
			}
			if re.Boundary != tc.boundary {
				t.Errorf("boundary %q, want %q (%v)", re.Boundary, tc.boundary, err)
			}
			if tc.boundary == "" {
				return
			}
			if re.Granularity != tc.g || stamp(re.Earlier) != tc.earlier || stamp(re.Later) != tc.later {
				t.Errorf("error %q: %s, %s..%s; want %s, %s..%s", err, re.Granularity, stamp(re.Earlier), stamp(re.Later), tc.g, tc.earlier, tc.later)
			}
			// The suggested boundaries work.
			if re.Earlier != re.Later {
				for _, b := range []int64{re.Earlier, re.Later} {
					from, to := at(t, tc.from), at(t, tc.to)
					if tc.boundary == "from" {
						from = b
					} else {
						to = b
					}
					if _, err := Cover(from, to, tc.r); err != nil {
						t.Errorf("suggested %s %s: %v", tc.boundary, stamp(b), err)
					}
				}
			}
		})
	}
}

func TestRetainedHas(t *testing.T) {
	r := Retained{Granularities: []Granularity{Minute, Day}, Horizon: map[Granularity]int64{Minute: 1000 * 60}}
	for _, tc := range []struct {
		k    Key
		want bool
	}{
		{Key{Minute, 999 * 60}, false}, // ends at the horizon: gone
		{Key{Minute, 1000 * 60}, true},
		{Key{Hour, 0}, false}, // not counted
		{Key{Day, 0}, true},   // kept forever
	} {
		if got := r.Has(tc.k); got != tc.want {
			t.Errorf("Has(%s) = %v, want %v", tc.k, got, tc.want)
		}
	}
	if !slices.Equal(r.Granularities, []Granularity{Minute, Day}) {
		t.Error("Has changed its receiver")
	}
}

func BenchmarkCover(b *testing.B) {
	for _, bc := range []struct{ name, from, to string }{
		{"a day and minutes", "2016-07-11T10:31:00Z", "2016-07-12T13:17:00Z"},
		{"two years", "2015-12-31T23:59:00Z", "2018-03-13T01:01:00Z"},
		{"200 years", "1817-01-01T00:00:00Z", "2016-12-31T00:00:00Z"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			from, to := at(b, bc.from), at(b, bc.to)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Cover(from, to, keepAll); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
