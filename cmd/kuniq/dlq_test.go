package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/kafka"
)

func TestShowFrame(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		width int
		want  string
	}{
		{"ascii", `{"ts":1,"uid":"a"}`, 120, `"{\"ts\":1,\"uid\":\"a\"}"`},
		{"empty", "", 120, `""`},
		{"control bytes", "\x00\x01\x1b\x7f\n\t", 120, `"\x00\x01\x1b\x7f\n\t"`},
		{"invalid UTF-8", "\xff\xfe\xc3\x28", 120, `"\xff\xfe\xc3("`},
		{"BOM is escaped", "\ufeff{}", 120, `"\ufeff{}"`},
		{"printable UTF-8 stays", "día 🙂 ü", 120, `"día 🙂 ü"`},
		{"cut between characters", "abcdef", 4, `"abcd"…`},
		{"cut never splits a rune", "ééééé", 3, `"ééé"…`},
		{"cut never splits an escape", "ab\x00cd", 4, `"ab"…`},
		{"exactly the width", "abcd", 4, `"abcd"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := showFrame([]byte(tt.in), tt.width); got != tt.want {
				t.Errorf("showFrame(%q, %d) = %s, want %s", tt.in, tt.width, got, tt.want)
			}
		})
	}
}

// FuzzShowFrame: whatever the bytes, the shown form is valid UTF-8, at most width characters
// between its quotes, and unquotes to a prefix of the frame (the whole frame when not cut):
// the cut never falls inside a character or an escape.
func FuzzShowFrame(f *testing.F) {
	for _, s := range []string{"", "abc", "\x00\xff", "ééé", "\ufeff{}", strings.Repeat("🙂", 50)} {
		f.Add([]byte(s), uint8(10))
	}
	f.Fuzz(func(t *testing.T, b []byte, w uint8) {
		width := int(w%200) + 1
		got := showFrame(b, width)
		if !utf8.ValidString(got) {
			t.Fatalf("showFrame(%q) = %q: not valid UTF-8", b, got)
		}
		quoted, cut := strings.CutSuffix(got, "…")
		if n := utf8.RuneCountInString(quoted) - 2; n > width {
			t.Fatalf("showFrame(%q, %d) = %s: %d characters", b, width, got, n)
		}
		back, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("showFrame(%q) = %s: does not unquote: %v", b, got, err)
		}
		if !bytes.HasPrefix(b, []byte(back)) || !cut && back != string(b) {
			t.Fatalf("showFrame(%q, %d) = %s: unquotes to %q, not the frame's prefix", b, width, got, back)
		}
	})
}

func TestParseSince(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"2025-05-31T10:00:00Z", time.Date(2025, 5, 31, 10, 0, 0, 0, time.UTC), true},
		{"2025-05-31T10:00:00+02:00", time.Date(2025, 5, 31, 8, 0, 0, 0, time.UTC), true},
		{"1748772000", time.Unix(1748772000, 0), true},
		{"90m", now.Add(-90 * time.Minute), true},
		{"7d", now.Add(-7 * 24 * time.Hour), true},
		{"1d12h", now.Add(-36 * time.Hour), true},
		{"0", time.Time{}, false},
		{"-5m", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"2025-05-31", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestLineSafe(t *testing.T) {
	tests := []struct {
		frame string
		want  bool
	}{
		{`{"ts":1}`, true}, {"\x00\xff", true}, {"\ufeff{}", true},
		{"", false}, {"  \t", false}, {"a\nb", false}, {"a\r", false}, {"a\rb", true},
	}
	for _, tt := range tests {
		if got := lineSafe([]byte(tt.frame)); got != tt.want {
			t.Errorf("lineSafe(%q) = %v, want %v", tt.frame, got, tt.want)
		}
	}
}

// dlqRecords are dead-letter records of every kind `kuniq dlq` meets: each reason, binary and
// empty frames, a tombstone, a too_large head, one dead letter written twice by a retried
// flush, one of the older JSON format, and a record that is no dead letter at all.
func dlqRecords() []kafka.Record {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	rec := func(off int64, d codec.DeadLetter, value []byte) kafka.Record {
		d.Topic = "frames"
		return kafka.Record{Partition: 0, Offset: off, Value: value, Headers: d.KafkaHeaders(), Timestamp: at.Add(time.Duration(off) * time.Minute)}
	}
	late := []byte(`{"ts":1468237000,"uid":"0123456789abcdef012"}`)
	return []kafka.Record{
		rec(0, codec.DeadLetter{Reason: "syntax", Detail: "frame: syntax error at byte 0", Partition: 1, Offset: 10}, []byte{0xff, 0xfe, 0x00, 0x81}),
		rec(1, codec.DeadLetter{Reason: "syntax", Partition: 1, Offset: 11}, []byte{}),
		rec(2, codec.DeadLetter{Reason: "syntax", Partition: 1, Offset: 12}, []byte("\ufeff{\"ts\":1,\"uid\":\"a\"}")),
		rec(3, codec.DeadLetter{Reason: "null_value", Partition: 2, Offset: 5}, nil),
		rec(4, codec.DeadLetter{Reason: "too_large", Partition: 2, Offset: 6}, bytes.Repeat([]byte{1, 2, 3, 0x1b}, 256)),
		rec(5, codec.DeadLetter{Reason: "late", TS: 1468237000, Partition: 3, Offset: 99}, late),
		rec(6, codec.DeadLetter{Reason: "late", TS: 1468237000, Partition: 3, Offset: 99}, late), // a retried flush
		rec(7, codec.DeadLetter{Reason: "no_uid", Partition: 3, Offset: 100}, []byte("{\"ts\":1,\n\"x\":1}")),
		{Partition: 0, Offset: 8, Value: []byte(`{"reason":"no_ts","partition":4,"offset":7,"frame":"{\"uid\":\"b\"}"}`), Timestamp: at.Add(8 * time.Minute)},
		{Partition: 0, Offset: 9, Value: []byte(`{"reason":"syntax","source":4,"offset":8,"frame":"\ufffd\ufffd"}`), Timestamp: at.Add(9 * time.Minute)},
		{Partition: 0, Offset: 10, Value: []byte("not a dead letter"), Timestamp: at.Add(10 * time.Minute)},
	}
}

// sent is a frame a fake Reingest received.
type sent struct{ key, value, origin string }

type fakeSender struct{ got []sent }

func (f *fakeSender) Send(key, value []byte, origin string) error {
	f.got = append(f.got, sent{string(key), string(value), origin})
	return nil
}

func scanAll(t *testing.T, opt dlqOptions) *dlqScan {
	t.Helper()
	sc, err := newDLQScan(opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range dlqRecords() {
		if err := sc.record(r); err != nil {
			t.Fatal(err)
		}
	}
	return sc
}

// TestDLQReport compares the report on dlqRecords with testdata/dlq-report.golden (rewritten
// with -update): counts by reason, distinct frames, a few of each, the older format and the
// foreign record noted.
func TestDLQReport(t *testing.T) {
	var b strings.Builder
	scanAll(t, dlqOptions{show: 2}).print(&b, "frames-dlq", "", "")
	golden := filepath.Join("testdata", "dlq-report.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("report =\n%s\nwant (%s)\n%s", b.String(), golden, want)
	}
	for _, must := range []string{"10 dead letters on frames-dlq: 9 distinct frames, 1 written again", "late               1         2",
		"not kuniq dead letters", "before dead letters carried headers", `"\xff\xfe\x00\x81"`, "(tombstone: no value)"} {
		if !strings.Contains(b.String(), must) {
			t.Errorf("report lacks %q", must)
		}
	}
}

// TestDLQFilters: --reason and --since keep only their dead letters.
func TestDLQFilters(t *testing.T) {
	tests := []struct {
		name    string
		opt     dlqOptions
		letters int64
		reasons []string
	}{
		{"reason", dlqOptions{reasons: map[string]bool{"late": true, "no_ts": true}}, 3, []string{"late", "no_ts"}},
		{"since", dlqOptions{since: time.Date(2025, 6, 1, 12, 5, 0, 0, time.UTC)}, 5, []string{"late", "no_uid", "no_ts", "syntax"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scanAll(t, tt.opt)
			if sc.letters != tt.letters || len(sc.byReason) != len(tt.reasons) {
				t.Errorf("%d letters of %d reasons, want %d of %v", sc.letters, len(sc.byReason), tt.letters, tt.reasons)
			}
			for _, r := range tt.reasons {
				if sc.byReason[r] == nil {
					t.Errorf("reason %s missing", r)
				}
			}
		})
	}
}

// TestDLQReingestAndFrames: --reingest sends each distinct frame once, byte for byte, keyed by
// its uid or its origin; --frames writes those that are lines; both skip what has no original
// bytes (a tombstone, a too_large head, an older letter with replaced bytes) and say so.
func TestDLQReingestAndFrames(t *testing.T) {
	var lines bytes.Buffer
	fs := &fakeSender{}
	bw := bufio.NewWriter(&lines)
	sc := scanAll(t, dlqOptions{reingest: fs, lines: bw, keyByUID: true})
	bw.Flush()
	want := []sent{
		{"1/10", "\xff\xfe\x00\x81", "frames/1/10"},
		{"1/11", "", "frames/1/11"},
		{"1/12", "\ufeff{\"ts\":1,\"uid\":\"a\"}", "frames/1/12"},
		{"0123456789abcdef012", `{"ts":1468237000,"uid":"0123456789abcdef012"}`, "frames/3/99"},
		{"3/100", "{\"ts\":1,\n\"x\":1}", "frames/3/100"},
		{"4/7", `{"uid":"b"}`, "/4/7"},
	}
	if len(fs.got) != len(want) {
		t.Fatalf("reingested %d frames %q, want %d", len(fs.got), fs.got, len(want))
	}
	for i := range want {
		if fs.got[i] != want[i] {
			t.Errorf("frame %d = %+q, want %+q", i, fs.got[i], want[i])
		}
	}
	wantLines := "\xff\xfe\x00\x81\n\ufeff{\"ts\":1,\"uid\":\"a\"}\n{\"ts\":1468237000,\"uid\":\"0123456789abcdef012\"}\n{\"uid\":\"b\"}\n"
	if lines.String() != wantLines {
		t.Errorf("--frames wrote %q, want %q", lines.String(), wantLines)
	}
	if sc.skipHead != 1 || sc.skipTombstone != 1 || sc.skipLossy != 1 || sc.skipNotLine != 2 {
		t.Errorf("skipped head %d, tombstone %d, lossy %d, no line %d; want 1, 1, 1, 2", sc.skipHead, sc.skipTombstone, sc.skipLossy, sc.skipNotLine)
	}
	note := sc.skipped("lines")
	for _, must := range []string{"1 too_large", "1 tombstones", "2 that are no line", "use --reingest"} {
		if !strings.Contains(note, must) {
			t.Errorf("skip note %q lacks %q", note, must)
		}
	}
	origin := scanAll(t, dlqOptions{reingest: &fakeSender{}})
	if got := origin.opt.reingest.(*fakeSender).got[3].key; got != "3/99" {
		t.Errorf("--reingest-key origin: key %q, want the original partition/offset 3/99", got)
	}
}

// TestDLQProtobuf: with --input-format protobuf, --reingest keys a dead letter by the uid of
// its protobuf frame (a late one, say), and --frames writes a length-delimited stream
// that holds every frame, binary or not, byte for byte.
func TestDLQProtobuf(t *testing.T) {
	frame := codec.FrameConfig{Format: codec.FormatProtobuf}
	msg := codec.AppendProtoFrame(nil, 1468237000, []byte("u1"))
	recs := []kafka.Record{
		{Offset: 0, Value: msg, Headers: codec.DeadLetter{Reason: "late", TS: 1468237000, Topic: "frames-pb", Partition: 1, Offset: 7}.KafkaHeaders()},
		{Offset: 1, Value: []byte("a\nline\r"), Headers: codec.DeadLetter{Reason: "syntax", Topic: "frames-pb", Partition: 2, Offset: 8}.KafkaHeaders()},
	}
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	fs := &fakeSender{}
	sc, err := newDLQScan(dlqOptions{reingest: fs, lines: bw, keyByUID: true, frame: frame})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := sc.record(r); err != nil {
			t.Fatal(err)
		}
	}
	bw.Flush()
	want := []sent{{"u1", string(msg), "frames-pb/1/7"}, {"2/8", "a\nline\r", "frames-pb/2/8"}}
	if fmt.Sprint(fs.got) != fmt.Sprint(want) {
		t.Errorf("reingested %+q, want %+q", fs.got, want)
	}
	wantOut := codec.AppendDelimited(codec.AppendDelimited(nil, msg), []byte("a\nline\r"))
	if !bytes.Equal(out.Bytes(), wantOut) || sc.linesWritten != 2 || sc.skipNotLine != 0 {
		t.Errorf("--frames wrote %q (%d frames, %d skipped), want the delimited stream %q", out.Bytes(), sc.linesWritten, sc.skipNotLine, wantOut)
	}
}

// TestDLQNestedUID: with --uid-field, --reingest keys a JSON dead letter by its nested uid,
// as the processor read it, not by a root uid (a decoy here).
func TestDLQNestedUID(t *testing.T) {
	frame := []byte(`{"uid":"decoy","user":{"id":"u7"},"ts":1468237000}`)
	fs := &fakeSender{}
	sc, err := newDLQScan(dlqOptions{reingest: fs, keyByUID: true, frame: codec.FrameConfig{UIDField: "user.id"}})
	if err != nil {
		t.Fatal(err)
	}
	r := kafka.Record{Value: frame, Headers: codec.DeadLetter{Reason: "late", TS: 1468237000, Topic: "frames", Partition: 3, Offset: 9}.KafkaHeaders()}
	if err := sc.record(r); err != nil {
		t.Fatal(err)
	}
	if len(fs.got) != 1 || fs.got[0].key != "u7" {
		t.Errorf("reingested %+q, want one frame keyed u7", fs.got)
	}
}

// TestDLQDistinctEstimates: past maxExact distinct frames, when nothing is written, the set
// gives way to estimates within HyperLogLog's error.
func TestDLQDistinctEstimates(t *testing.T) {
	defer func(m int) { maxExact = m }(maxExact)
	maxExact = 20_000
	sc, err := newDLQScan(dlqOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(maxExact + 30_000)
	for i := range n {
		d := codec.DeadLetter{Reason: "syntax", Topic: "frames", Partition: int32(i % 4), Offset: i}
		if err := sc.record(kafka.Record{Offset: i, Value: []byte("x"), Headers: d.KafkaHeaders()}); err != nil {
			t.Fatal(err)
		}
	}
	if sc.seen != nil {
		t.Fatalf("exact set kept %d frames, want it dropped past %d", len(sc.seen), maxExact)
	}
	var b strings.Builder
	sc.print(&b, "frames-dlq", "", "")
	est := sc.byReason["syntax"].distinct
	if est < n*98/100 || est > n*102/100 || !strings.Contains(b.String(), "≈") {
		t.Errorf("distinct estimate %d of %d frames (report %q), want within 2%% and marked ≈", est, n, b.String())
	}
}
