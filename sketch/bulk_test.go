package sketch

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// sameState fails unless got and want encode to the same bytes and estimate the same: with
// one writer (ours) and the state a function of the set of hashes, equal sets must give equal
// bytes, so this is the strictest comparison there is.
func sameState(t *testing.T, got, want *Sketch) {
	t.Helper()
	g, err := got.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	w, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got.Sparse() != want.Sparse() || got.Estimate() != want.Estimate() || !bytes.Equal(g, w) {
		t.Fatalf("sparse %v, estimate %d, %d bytes; want sparse %v, estimate %d, %d bytes",
			got.Sparse(), got.Estimate(), len(g), want.Sparse(), want.Estimate(), len(w))
	}
}

// TestInsertHashesIsInsertHash: bulk inserts in any batch sizes, from any starting state
// (empty, sparse with keys still pending, dense), with repeats within and across batches,
// give the state InsertHash gives, also where the batch crosses the sparse→dense switch.
func TestInsertHashesIsInsertHash(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before int // hashes inserted one by one first (pending keys stay pending below 128)
		n      int // hashes then inserted in bulk
		batch  int
		dup    float64 // share of the bulk hashes that repeat an earlier one
	}{
		{"empty batch", 0, 0, 1, 0},
		{"one", 0, 1, 1, 0},
		{"below the radix sort", 0, radixMin - 1, radixMin - 1, 0},
		{"at the radix sort", 0, radixMin, radixMin, 0},
		{"sparse, one batch", 0, 5000, 5000, 0},
		{"sparse, repeats", 0, 5000, 700, 0.5},
		{"onto pending keys", 100, 3000, 1000, 0.1},
		{"onto a sorted list", 3000, 3000, BuilderBatch, 0.1},
		{"crosses the dense switch in a batch", 0, 9000, BuilderBatch, 0},
		{"crosses it at once", 0, 20000, 20000, 0},
		{"repeats of a sparse sketch only", 4000, 4000, 333, 1},
		{"onto a dense sketch", 20000, 5000, 1000, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.before)))
			first := hashes(1, tc.before)
			bulk := hashes(2, tc.n)
			seen := slices.Clone(first)
			for i := range bulk {
				if len(seen) > 0 && r.Float64() < tc.dup {
					bulk[i] = seen[r.IntN(len(seen))]
				}
				seen = append(seen, bulk[i])
			}
			want := build(t, 14, seen)
			got := build(t, 14, first)
			for len(bulk) > 0 {
				n := min(tc.batch, len(bulk))
				got.InsertHashes(bulk[:n])
				bulk = bulk[n:]
			}
			sameState(t, got, want)
			// And InsertHash goes on from the bulk state as from its own.
			more := hashes(3, 500)
			for _, h := range more {
				got.InsertHash(h)
				want.InsertHash(h)
			}
			sameState(t, got, want)
		})
	}
}

func TestBuilderIsInsertHash(t *testing.T) {
	for _, n := range []int{0, 1, BuilderBatch - 1, BuilderBatch, BuilderBatch + 1, 7700, 30000} {
		hs := hashes(uint64(n), n)
		b := NewBuilder(mustNew(t, 14))
		for i, h := range hs {
			b.Insert(h)
			if i == n/2 {
				sameState(t, b.Sketch(), build(t, 14, hs[:i+1])) // Sketch mid-way, then go on
			}
		}
		if b.sketch.regs != nil && b.buf != nil {
			t.Errorf("n=%d: the Builder holds a buffer after its sketch turned dense", n)
		}
		sameState(t, b.Sketch(), build(t, 14, hs))
	}
}

// TestSortKeys checks the radix sort against slices.Sort, with keys whose digits are all
// alike in some positions (passes skipped, the result ending in the other buffer).
func TestSortKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, tc := range []struct {
		name string
		n    int
		mask uint32
	}{
		{"small", 10, ^uint32(0)},
		{"uniform", 5000, ^uint32(0)},
		{"one varying digit", 1000, 0x0000ff00},
		{"three varying digits", 1000, 0xffff00ff},
		{"all equal", 600, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := make([]uint32, tc.n)
			for i := range keys {
				keys[i] = r.Uint32()&tc.mask | 0x01000000&^tc.mask
			}
			want := slices.Clone(keys)
			slices.Sort(want)
			sortKeys(keys, nil)
			if !slices.Equal(keys, want) {
				t.Fatalf("sortKeys differs from slices.Sort")
			}
		})
	}
}

// FuzzInsertHashes: any hashes, in any batch split, give InsertHash's state.
func FuzzInsertHashes(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint16(1))
	f.Add(bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 300), uint16(300))
	f.Fuzz(func(t *testing.T, raw []byte, batch uint16) {
		var hs []uint64
		for len(raw) >= 8 {
			hs = append(hs, binary.LittleEndian.Uint64(raw))
			raw = raw[8:]
		}
		// Low precision, so that a fuzzer's few hundred hashes also cross into dense.
		want := build(t, 6, hs)
		got := mustNew(t, 6)
		for step := max(int(batch), 1); len(hs) > 0; {
			n := min(step, len(hs))
			got.InsertHashes(hs[:n])
			hs = hs[n:]
		}
		sameState(t, got, want)
	})
}
