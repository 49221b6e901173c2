package gen

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// WindowTruth is the exact count of one window over the frames kuniq must
// count (Clean and Disordered). Its JSON names match the result record's,
// so a checker can join the two on granularity and start.
type WindowTruth struct {
	Granularity string `json:"granularity"`
	Start       int64  `json:"start"`
	End         int64  `json:"end"`
	Uniques     int    `json:"uniques"`
	Frames      int    `json:"frames"`
}

type winKey struct {
	g     uint8
	start int64
}

type winAcc struct {
	end    int64
	frames int
	// users holds pool indexes; memory is windows × users in them.
	users map[uint32]struct{}
}

// truth accumulates exact counts per window. Frames mostly land in the
// window of the previous one, so each granularity caches its last window
// and pays one set insert per frame.
type truth struct {
	wins map[winKey]*winAcc
	last [numGran]struct {
		start, end int64
		acc        *winAcc
	}
}

func newTruth() *truth { return &truth{wins: make(map[winKey]*winAcc)} }

func (t *truth) add(ts int64, user uint32) {
	for g := range numGran {
		c := &t.last[g]
		if ts < c.start || ts >= c.end || c.acc == nil {
			start, end := bucket(g, ts)
			k := winKey{uint8(g), start}
			acc := t.wins[k]
			if acc == nil {
				acc = &winAcc{end: end, users: make(map[uint32]struct{})}
				t.wins[k] = acc
			}
			c.start, c.end, c.acc = start, end, acc
		}
		c.acc.frames++
		c.acc.users[user] = struct{}{}
	}
}

// Truth returns the exact counts of the last WriteTo, sorted by granularity
// (minute to year) then start; nil before WriteTo.
func (g *Generator) Truth() []WindowTruth {
	if g.truth == nil {
		return nil
	}
	out := make([]WindowTruth, 0, len(g.truth.wins))
	for k, a := range g.truth.wins {
		out = append(out, WindowTruth{
			Granularity: granularities[k.g],
			Start:       k.start,
			End:         a.end,
			Uniques:     len(a.users),
			Frames:      a.frames,
		})
	}
	rank := func(name string) int { return slices.Index(granularities[:], name) }
	slices.SortFunc(out, func(a, b WindowTruth) int {
		return cmp.Or(cmp.Compare(rank(a.Granularity), rank(b.Granularity)), cmp.Compare(a.Start, b.Start))
	})
	return out
}

// WriteTruth writes t as JSON lines, one WindowTruth per line.
func WriteTruth(w io.Writer, t []WindowTruth) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range t {
		if err := enc.Encode(&t[i]); err != nil {
			return fmt.Errorf("write truth: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}
