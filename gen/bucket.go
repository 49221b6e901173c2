package gen

import "time"

// TODO(window): switch to window.Granularity / Start / End / window.All
// once package window lands; this private copy exists only so the truth
// does not wait for it, and bucket_test.go pins the same UTC rules.

// granularities are the six window sizes, fine to coarse, by their wire
// names (MISSION.md §3).
var granularities = [...]string{"minute", "hour", "day", "week", "month", "year"}

const numGran = len(granularities)

const (
	gMinute = iota
	gHour
	gDay
	gWeek
	gMonth
	gYear
)

// mondayEpoch is 1969-12-29T00:00:00Z, the Monday before the unix epoch
// (a Thursday): ISO weeks are whole weeks from it.
const mondayEpoch = -3 * 86400

// floorDiv rounds toward minus infinity, so times before 1970 bucket right.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// bucket returns the UTC window [start, end) of granularity g holding ts.
func bucket(g int, ts int64) (start, end int64) {
	fixed := func(size, origin int64) (int64, int64) {
		s := floorDiv(ts-origin, size)*size + origin
		return s, s + size
	}
	switch g {
	case gMinute:
		return fixed(60, 0)
	case gHour:
		return fixed(3600, 0)
	case gDay:
		return fixed(86400, 0)
	case gWeek:
		return fixed(7*86400, mondayEpoch)
	case gMonth:
		t := time.Unix(ts, 0).UTC()
		s := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return s.Unix(), s.AddDate(0, 1, 0).Unix()
	default:
		t := time.Unix(ts, 0).UTC()
		s := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		return s.Unix(), s.AddDate(1, 0, 0).Unix()
	}
}
