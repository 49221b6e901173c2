package chaos

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Row is one case's line of the table.
type Row struct {
	Case        string
	FramesIn    int64 // records produced (and acknowledged), poison included
	Windows     int
	MaxErr      float64
	FramesLost  int64
	FramesExtra int64
	Identical   bool
	Recover     time.Duration // -1: not applicable
	Note        string
	Pass        bool
}

var (
	rowsMu sync.Mutex
	rows   []Row
)

// Report adds a row to the suite's table.
func Report(r Row) {
	rowsMu.Lock()
	rows = append(rows, r)
	rowsMu.Unlock()
}

// WriteTable writes the table of every reported row as Markdown.
func WriteTable(w io.Writer) {
	rowsMu.Lock()
	defer rowsMu.Unlock()
	fmt.Fprintln(w, "| case | frames in | windows checked | max error | frames lost | frames over-counted | uniques identical | time to recover | result | note |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		rec := "–"
		if r.Recover >= 0 {
			rec = r.Recover.Round(100 * time.Millisecond).String()
		}
		res := "pass"
		if !r.Pass {
			res = "FAIL"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.2f %% | %d | %d | %s | %s | %s | %s |\n", r.Case, r.FramesIn, r.Windows,
			100*r.MaxErr, r.FramesLost, r.FramesExtra, yesNo(r.Identical), rec, res, strings.ReplaceAll(r.Note, "|", "/"))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
