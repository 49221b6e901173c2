package emitter

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// readAll drains a lineReader, copying each line.
func readAll(lr *lineReader) ([]string, error) {
	var got []string
	for {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
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
		wantErr   error
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
		{name: "over max", in: "{a}\n123456\n", max: 5, want: []string{"{a}"}, wantErr: ErrLineTooLong},
		{name: "longer than buffer", in: "{a}\n" + long + "\n{b}", max: 2 << 20, want: []string{"{a}", long, "{b}"}},
		{name: "longer than buffer and max", in: long + "\n", max: 1 << 20, wantErr: ErrLineTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(tt.in), tt.max)
			got, err := readAll(lr)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
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
			if tt.wantErr == nil && lr.read != int64(len(tt.in)) {
				t.Errorf("read = %d bytes, want %d", lr.read, len(tt.in))
			}
		})
	}
}

// FuzzLineReader checks the splitter against strings.Split: the lines it returns are exactly
// the input's non-blank lines, without "\n" and one trailing "\r", in order.
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{"", "\n", "{a}\r\n\r\n{b}", " \t\n{\"uid\":\"x\"}\n", "\r\r\n\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var want []string
		var blank int64
		parts := strings.Split(string(in), "\n")
		if len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1] // the split after a final newline is no line
		}
		for _, p := range parts {
			p = strings.TrimSuffix(p, "\r")
			if strings.Trim(p, " \t\r") == "" {
				blank++
				continue
			}
			want = append(want, p)
		}
		lr := newLineReader(bytes.NewReader(in), len(in)+1)
		got, err := readAll(lr)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
			t.Fatalf("lines = %q, want %q", got, want)
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
