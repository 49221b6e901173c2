package gen

import (
	"bytes"
	"fmt"
	"strconv"
)

// Live makes frames for live input (ts = now) without running the generator per frame: n
// challenge-shaped templates of about size bytes, cut before their closing brace, to which
// AppendLive appends the frame's ts and uid as the last root keys (the last duplicate root key
// wins, so the frame counts at that ts for that user).
type Live struct {
	templates [][]byte
}

// NewLive generates the templates (seed 1).
func NewLive(n, size int) (*Live, error) {
	cfg := DefaultConfig()
	cfg.Count, cfg.FrameBytes, cfg.Seed = n, size, 1
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := g.WriteTo(&buf); err != nil {
		return nil, err
	}
	l := &Live{}
	for line := range bytes.Lines(buf.Bytes()) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) < 2 || line[len(line)-1] != '}' {
			return nil, fmt.Errorf("gen: template %q does not end in }", line)
		}
		l.templates = append(l.templates, line[:len(line)-1])
	}
	return l, nil
}

// AppendLive appends to dst template i (modulo their number) with ts and uid as its last root
// keys.
func (l *Live) AppendLive(dst []byte, i int, ts int64, uid string) []byte {
	dst = append(dst, l.templates[i%len(l.templates)]...)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"uid":"`...)
	dst = append(dst, uid...)
	return append(dst, `"}`...)
}
