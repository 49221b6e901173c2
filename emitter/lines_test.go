package emitter

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// readAll drains a lineReader, copying each line; it returns the numbers of the lines skipped
// as too long apart.
func readAll(lr *lineReader) (got []string, long []int64, err error) {
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return got, long, nil
		}
		if errors.Is(err, ErrLineTooLong) {
			long = append(long, lr.line)
			continue
		}
		if err != nil {
			return got, long, err
		}
		got = append(got, string(line))
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 1<<20+12345) // longer than the reader's 1 MiB buffer
	tests := []struct {
		name      string
		in        string
		max       int
		want      []string
		wantBlank int64
		wantLong  []int64 // line numbers skipped as too long
	}{
		{name: "empty", in: "", max: 10},
		{name: "no trailing newline", in: "{a}\n{b}", max: 10, want: []string{"{a}", "{b}"}},
		{name: "trailing newline", in: "{a}\n{b}\n", max: 10, want: []string{"{a}", "{b}"}},
		{name: "crlf", in: "{a}\r\n{b}\r\n", max: 10, want: []string{"{a}", "{b}"}},
		{name: "blank lines", in: "\n{a}\n\n \t\r\n\r\n{b}\n\n", max: 10, want: []string{"{a}", "{b}"}, wantBlank: 5},
		{name: "only blank", in: "\n\n  \n", max: 10, wantBlank: 3},
		{name: "blank last line without newline", in: "{a}\n  ", max: 10, want: []string{"{a}"}, wantBlank: 1},
		{name: "malformed is not judged", in: "not json\n{\"uid\":\n", max: 10, want: []string{"not json", `{"uid":`}},
		{name: "exactly max", in: "12345\n", max: 5, want: []string{"12345"}},
		{name: "over max is skipped", in: "{a}\n123456\n{b}\n", max: 5, want: []string{"{a}", "{b}"}, wantLong: []int64{2}},
		{name: "over max last without newline", in: "{a}\n123456", max: 5, want: []string{"{a}"}, wantLong: []int64{2}},
		{name: "longer than buffer", in: "{a}\n" + long + "\n{b}", max: 2 << 20, want: []string{"{a}", long, "{b}"}},
		{name: "longer than buffer and max", in: long + "\n{b}\n\n" + long + "\r\n{c}", max: 1 << 20,
			want: []string{"{b}", "{c}"}, wantBlank: 1, wantLong: []int64{1, 4}},
		{name: "longer than buffer and max at the end", in: "{a}\n" + long, max: 1 << 20, want: []string{"{a}"}, wantLong: []int64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(tt.in), tt.max)
			got, gotLong, err := readAll(lr)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(gotLong, tt.wantLong) {
				t.Errorf("lines skipped as too long = %v, want %v", gotLong, tt.wantLong)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("line %d = %.40q (%d bytes), want %.40q (%d bytes)", i, got[i], len(got[i]), tt.want[i], len(tt.want[i]))
				}
			}
			if lr.blank != tt.wantBlank {
				t.Errorf("blank = %d, want %d", lr.blank, tt.wantBlank)
			}
			if lr.read != int64(len(tt.in)) {
				t.Errorf("read = %d bytes, want %d", lr.read, len(tt.in))
			}
		})
	}
}

// FuzzLineReader checks the splitter against strings.Split: the lines it returns are exactly
// the input's non-blank lines, without "\n" and one trailing "\r", in order, and those longer
// than the limit are reported by number and skipped.
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{"", "\n", "{a}\r\n\r\n{b}", " \t\n{\"uid\":\"x\"}\n", "\r\r\n\r", "{abcdef}\n{a}\n"} {
		f.Add([]byte(s), uint16(4))
	}
	f.Fuzz(func(t *testing.T, in []byte, limit uint16) {
		max := int(limit)%(len(in)+2) + 1
		var want []string
		var wantLong []int64
		var blank int64
		parts := strings.Split(string(in), "\n")
		if len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1] // the split after a final newline is no line
		}
		for i, p := range parts {
			p = strings.TrimSuffix(p, "\r")
			switch {
			case strings.Trim(p, " \t\r") == "":
				blank++
			case len(p) > max:
				wantLong = append(wantLong, int64(i+1))
			default:
				want = append(want, p)
			}
		}
		lr := newLineReader(bytes.NewReader(in), max)
		got, long, err := readAll(lr)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
			t.Fatalf("lines = %q, want %q", got, want)
		}
		if !slices.Equal(long, wantLong) {
			t.Errorf("too long = %v, want %v", long, wantLong)
		}
		if lr.blank != blank {
			t.Errorf("blank = %d, want %d", lr.blank, blank)
		}
		if lr.read != int64(len(in)) {
			t.Errorf("read = %d, want %d", lr.read, len(in))
		}
	})
}

func TestSlabCopiesSurviveReuse(t *testing.T) {
	s := slab{size: 8}
	src := []byte("abcde")
	a := s.copy(src)
	copy(src, "XXXXX")
	b := s.copy([]byte("fgh"))
	c := s.copy([]byte("0123456789")) // larger than a block
	b = append(b, '!')                // must not run into c or a later copy
	if string(a) != "abcde" || string(b[:3]) != "fgh" || string(c) != "0123456789" {
		t.Errorf("copies = %q %q %q, want abcde fgh 0123456789", a, b, c)
	}
}
