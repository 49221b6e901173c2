package gen

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/kuniq/kuniq/window"
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
	g     window.Granularity
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
	last []lastWin // per window.All entry
}

type lastWin struct {
	start, end int64
	acc        *winAcc
}

func newTruth() *truth {
	return &truth{wins: make(map[winKey]*winAcc), last: make([]lastWin, len(window.All))}
}

func (t *truth) add(ts int64, user uint32) {
	for i, g := range window.All {
		c := &t.last[i]
		if ts < c.start || ts >= c.end || c.acc == nil {
			start := g.Start(ts)
			end := g.End(start)
			k := winKey{g, start}
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
	keys := make([]winKey, 0, len(g.truth.wins))
	for k := range g.truth.wins {
		keys = append(keys, k)
	}
	// Granularity values order fine to coarse.
	slices.SortFunc(keys, func(a, b winKey) int {
		return cmp.Or(cmp.Compare(a.g, b.g), cmp.Compare(a.start, b.start))
	})
	out := make([]WindowTruth, 0, len(keys))
	for _, k := range keys {
		a := g.truth.wins[k]
		out = append(out, WindowTruth{
			Granularity: k.g.String(),
			Start:       k.start,
			End:         a.end,
			Uniques:     len(a.users),
			Frames:      a.frames,
		})
	}
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
