// Command accuracy measures sketch error against exact counts and the size
// of encoded sketches, and prints the tables of docs/accuracy.md:
//
//	go run ./sketch/internal/accuracy -trials 40
//
// Each trial streams distinct hex uids into one
// sketch per precision, hashing each uid once, and records the relative
// error (estimate-n)/n at every checkpoint cardinality. Trials differ in a
// per-trial salt, so their hashes are independent; checkpoints within a
// trial are prefixes of one stream.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/kuniq/kuniq/sketch"
)

func main() {
	trials := flag.Int("trials", 40, "independent streams per precision")
	flag.Parse()
	if err := run(*trials); err != nil {
		fmt.Fprintln(os.Stderr, "accuracy:", err)
		os.Exit(1)
	}
}

var (
	precisions = []uint8{10, 12, 14, 16}
	cards      = []int{100, 1_000, 10_000, 100_000, 1_000_000}
)

func run(trials int) error {
	// errs[p][c] collects the relative errors of every trial.
	errs := make([][][]float64, len(precisions))
	for i := range errs {
		errs[i] = make([][]float64, len(cards))
	}
	uid := make([]byte, 0, 19)
	for trial := range trials {
		set := make([]*sketch.Sketch, len(precisions))
		for i, p := range precisions {
			s, err := sketch.New(p)
			if err != nil {
				return err
			}
			set[i] = s
		}
		salt := uint64(trial+1) * 0x9e3779b97f4a7c15
		next := 0
		for c, n := range cards {
			for ; next < n; next++ {
				// Distinct within a trial: multiplying by an odd constant
				// and xoring a salt are bijections of 64-bit i.
				v := uint64(next)*0xbf58476d1ce4e5b9 ^ salt
				uid = strconv.AppendUint(uid[:0], v, 16)
				h := sketch.Hash(uid)
				for _, s := range set {
					s.InsertHash(h)
				}
			}
			for i, s := range set {
				e := float64(s.Estimate())
				errs[i][c] = append(errs[i][c], (e-float64(n))/float64(n))
			}
		}
	}

	fmt.Printf("Relative error of Estimate against the exact count, %d trials per cell:\n", trials)
	fmt.Printf("mean (bias) / RMSE / max |error|, in %%. Theory: standard error 1.04/√(2^p).\n\n")
	fmt.Print("| p | theory |")
	for _, n := range cards {
		fmt.Printf(" n = %s |", human(n))
	}
	fmt.Print("\n|---|---|")
	for range cards {
		fmt.Print("---|")
	}
	fmt.Println()
	for i, p := range precisions {
		fmt.Printf("| %d | %.2f %% |", p, 104/math.Sqrt(float64(uint(1)<<p)))
		for c := range cards {
			mean, rmse, worst := stats(errs[i][c])
			fmt.Printf(" %+.2f / %.2f / %.2f |", 100*mean, 100*rmse, 100*worst)
		}
		fmt.Println()
	}

	fmt.Printf("\nBytes of MarshalBinary (the codec adds a 4-byte header):\n\n")
	fmt.Println("| p | 100 users | 1k users | sparse→dense switch at | dense |")
	fmt.Println("|---|---|---|---|---|")
	for _, p := range precisions {
		row, err := sizes(p)
		if err != nil {
			return err
		}
		fmt.Println(row)
	}
	return nil
}

// sizes reports the encoded size of one sketch at 100 and 1,000 users, the
// user count at which it turns dense, and its dense size.
func sizes(p uint8) (string, error) {
	s, err := sketch.New(p)
	if err != nil {
		return "", err
	}
	size := func() (int, error) {
		b, err := s.MarshalBinary()
		if !s.Sparse() {
			return -len(b), err
		}
		return len(b), err
	}
	var at100, at1k, switchAt int
	uid := make([]byte, 0, 19)
	for i := 0; ; i++ {
		if i == 100 || i == 1000 {
			n, err := size()
			if err != nil {
				return "", err
			}
			if i == 100 {
				at100 = n
			} else {
				at1k = n
			}
		}
		if !s.Sparse() && switchAt == 0 {
			switchAt = i
		}
		if switchAt != 0 && i >= 1000 {
			break
		}
		s.Insert(strconv.AppendUint(uid[:0], uint64(i)*0xbf58476d1ce4e5b9, 16))
	}
	dense, err := size()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("| %d | %s | %s | %s users | %d B |", p, cellBytes(at100, 100), cellBytes(at1k, 1000), human(switchAt), -dense), nil
}

func cellBytes(n, users int) string {
	if n < 0 {
		return fmt.Sprintf("%d B (dense)", -n)
	}
	return fmt.Sprintf("%d B (%.1f B/user)", n, float64(n)/float64(users))
}

func stats(xs []float64) (mean, rmse, worst float64) {
	for _, x := range xs {
		mean += x
		rmse += x * x
		worst = max(worst, math.Abs(x))
	}
	n := float64(len(xs))
	return mean / n, math.Sqrt(rmse / n), worst
}

func human(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
