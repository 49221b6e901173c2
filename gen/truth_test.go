package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"
)

// calendarStart is the test's own bucket math, from package time, so the
// truth is checked against something other than package window.
func calendarStart(g string, ts int64) (start, end time.Time) {
	t := time.Unix(ts, 0).UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch g {
	case "minute":
		s := t.Truncate(time.Minute)
		return s, s.Add(time.Minute)
	case "hour":
		s := t.Truncate(time.Hour)
		return s, s.Add(time.Hour)
	case "day":
		return day, day.AddDate(0, 0, 1)
	case "week":
		s := day.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
		return s, s.AddDate(0, 0, 7)
	case "month":
		s := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return s, s.AddDate(0, 1, 0)
	default:
		s := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		return s, s.AddDate(1, 0, 0)
	}
}

// TestTruthBruteForce recounts the output with encoding/json, skipping the
// lines OnFrame marked as not counted, and wants Truth exactly.
func TestTruthBruteForce(t *testing.T) {
	cfg := Config{
		Count: 4000, Rate: 5, Pool: 300, Seed: 77,
		// A Saturday two minutes before New Year: the stream crosses a
		// minute, hour, day, month and year; the 40-day jumps cross weeks
		// and months.
		Start:       time.Date(2016, 12, 31, 23, 58, 0, 0, time.UTC).Unix(),
		DisorderPct: 15, DisorderMax: 20 * time.Second,
		LatePct: 5, BitFlipPct: 5, MalformedPct: 5,
		JumpEvery: 1500, JumpBy: 40 * 24 * time.Hour,
	}
	ls, infos, g := run(t, cfg)

	type key struct {
		g     string
		start int64
	}
	type acc struct {
		end    int64
		frames int
		users  map[string]bool
	}
	want := map[key]*acc{}
	names := []string{"minute", "hour", "day", "week", "month", "year"}
	for i, line := range ls {
		if !infos[i].Kind.Counted() {
			continue
		}
		uid, ts, ok := inspect(t, line).countable()
		if !ok {
			t.Fatalf("counted line %d does not parse: %.120s", i, line)
		}
		for _, n := range names {
			s, e := calendarStart(n, ts)
			k := key{n, s.Unix()}
			if want[k] == nil {
				want[k] = &acc{end: e.Unix(), users: map[string]bool{}}
			}
			want[k].frames++
			want[k].users[uid] = true
		}
	}
	got := g.Truth()
	if len(got) != len(want) {
		t.Errorf("Truth() has %d windows, brute force %d", len(got), len(want))
	}
	for _, w := range got {
		a := want[key{w.Granularity, w.Start}]
		if a == nil {
			t.Errorf("Truth() has %s/%d, brute force does not", w.Granularity, w.Start)
			continue
		}
		if w.End != a.end || w.Uniques != len(a.users) || w.Frames != a.frames {
			t.Errorf("%s/%d: end %d uniques %d frames %d, want %d %d %d",
				w.Granularity, w.Start, w.End, w.Uniques, w.Frames, a.end, len(a.users), a.frames)
		}
	}
	// Sorted fine to coarse, then by start.
	rank := func(w WindowTruth) string {
		return fmt.Sprintf("%d/%020d", slices.Index(names, w.Granularity), w.Start)
	}
	if !slices.IsSortedFunc(got, func(a, b WindowTruth) int { return bytes.Compare([]byte(rank(a)), []byte(rank(b))) }) {
		t.Errorf("Truth() not sorted by granularity then start")
	}
	// Each granularity's frame total is every counted frame.
	counted := g.Stats().Kinds[Clean] + g.Stats().Kinds[Disordered]
	for _, n := range names {
		sum := 0
		for _, w := range got {
			if w.Granularity == n {
				sum += w.Frames
			}
		}
		if sum != counted {
			t.Errorf("%s windows hold %d frames, want %d counted", n, sum, counted)
		}
	}
}

func TestTruthBeforeWriteTo(t *testing.T) {
	g, err := New(Config{Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Truth(); got != nil {
		t.Errorf("Truth() before WriteTo = %v, want nil", got)
	}
}

func TestWriteTruth(t *testing.T) {
	_, _, g := run(t, Config{Count: 500, Rate: 3, Pool: 50, Seed: 3})
	want := g.Truth()
	var b bytes.Buffer
	if err := WriteTruth(&b, want); err != nil {
		t.Fatalf("WriteTruth: %v", err)
	}
	var got []WindowTruth
	for _, line := range lines(t, b.Bytes()) {
		var w WindowTruth
		if err := json.Unmarshal(line, &w); err != nil {
			t.Fatalf("line %s: %v", line, err)
		}
		got = append(got, w)
	}
	if !slices.Equal(got, want) {
		t.Errorf("WriteTruth round trip: got %d windows, want %d equal ones", len(got), len(want))
	}
	if first := string(lines(t, b.Bytes())[0]); !bytes.HasPrefix([]byte(first), []byte(`{"granularity":"minute","start":`)) {
		t.Errorf("first line %s, want the result record's field names", first)
	}
	if err := WriteTruth(&failWriter{}, want); err == nil {
		t.Errorf("WriteTruth to a failing writer = nil, want an error")
	}
}
