package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "jsonbase:", err)
		os.Exit(1)
	}
}

// frame is the two fields the baseline reads.
type frame struct {
	TS  json.Number `json:"ts"`
	UID string      `json:"uid"`
}

// counter keeps exact unique uids per minute.
type counter struct {
	minutes map[int64]map[string]struct{}
	frames  int64
	bad     int64
}

// add decodes one line and counts it; an undecodable line is only counted as bad.
func (c *counter) add(line []byte) {
	c.frames++
	var f frame
	if err := json.Unmarshal(line, &f); err != nil || f.UID == "" {
		c.bad++
		return
	}
	ts, err := f.TS.Int64()
	if err != nil {
		c.bad++
		return
	}
	m := ts - ts%60
	set := c.minutes[m]
	if set == nil {
		set = map[string]struct{}{}
		c.minutes[m] = set
	}
	set[f.UID] = struct{}{}
}

func run() error {
	limit := flag.Int64("n", 0, "stop after this many frames (0: all)")
	flag.Parse()
	var in io.Reader = os.Stdin
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	start := time.Now()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	c := counter{minutes: map[int64]map[string]struct{}{}}
	var nbytes int64
	for sc.Scan() && (*limit == 0 || c.frames < *limit) {
		nbytes += int64(len(sc.Bytes())) + 1
		c.add(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("jsonbase: %d frames (%d bad), %.1f MB in %.2fs: %.0f frames/s; %d minutes\n",
		c.frames, c.bad, float64(nbytes)/1e6, secs, float64(c.frames)/secs, len(c.minutes))
	fmt.Printf("RESULT frames=%d bytes=%d secs=%.3f minutes=%d\n", c.frames, nbytes, secs, len(c.minutes))
	return nil
}
