package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, level, format string
		wantErr             error
		logs                func(*slog.Logger)
		want, notWant       string
	}{
		{name: "text info hides debug", level: "info", format: "text", logs: func(l *slog.Logger) { l.Debug("d"); l.Info("i", "k", 1) }, want: "level=INFO msg=i k=1", notWant: "msg=d"},
		{name: "json", level: "debug", format: "json", logs: func(l *slog.Logger) { l.Debug("d") }, want: `"level":"DEBUG","msg":"d"`},
		{name: "warning alias", level: "WARNING", format: "", logs: func(l *slog.Logger) { l.Info("i"); l.Warn("w") }, want: "msg=w", notWant: "msg=i"},
		{name: "bad level", level: "verbose", format: "text", wantErr: ErrLevel},
		{name: "bad format", level: "info", format: "logfmt", wantErr: ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New(&buf, tt.level, tt.format)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New(%q, %q) err = %v, want %v", tt.level, tt.format, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			tt.logs(l)
			if !strings.Contains(buf.String(), tt.want) {
				t.Errorf("log %q lacks %q", buf.String(), tt.want)
			}
			if tt.notWant != "" && strings.Contains(buf.String(), tt.notWant) {
				t.Errorf("log %q has %q", buf.String(), tt.notWant)
			}
		})
	}
}

// records decodes JSON log lines.
func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// TestLibraryRepeats: a library's error line that repeats every second is logged once, then
// as counts at 30 s, 1 min, 2 min; chatter is debug; another error is logged at once.
func TestLibraryRepeats(t *testing.T) {
	var buf bytes.Buffer
	l, _ := New(&buf, "debug", "json")
	a := NewLibrary(l, "goka")
	now := time.Unix(1_700_000_000, 0)
	a.repeats.now = func() time.Time { return now }
	a.Printf("setup generation %d", 3)
	for i := range 150 { // 150 s of one error a second
		a.Printf("Error committing offsets: %v", i)
		now = now.Add(time.Second)
	}
	a.Printf("error during execution of consumer group: %v", "EOF")
	recs := records(t, &buf)
	var got []string
	for _, r := range recs {
		s := r["level"].(string) + " " + r["msg"].(string)
		if n, ok := r["repeated"]; ok {
			s += " repeated " + strings.TrimSuffix(strings.TrimSuffix(jsonNum(n), ".0"), "")
		}
		if r["lib"] != "goka" {
			t.Errorf("record %v without lib=goka", r)
		}
		got = append(got, s)
	}
	want := []string{
		"DEBUG setup generation 3",
		"WARN Error committing offsets: 0",
		"WARN Error committing offsets: 30 repeated 30",
		"WARN Error committing offsets: 90 repeated 60",
		"WARN error during execution of consumer group: EOF",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDebugLibrary(t *testing.T) {
	var buf bytes.Buffer
	l, _ := New(&buf, "info", "text")
	NewDebugLibrary(l, "sarama").Printf("Error while sending ApiVersionsRequest V3 to broker %s", "b:9092")
	if buf.Len() != 0 {
		t.Errorf("sarama's line at info level: %q, want nothing (debug)", buf.String())
	}
	l, _ = New(&buf, "debug", "text")
	NewDebugLibrary(l, "sarama").Print("client/metadata fetching metadata")
	if !strings.Contains(buf.String(), "level=DEBUG msg=\"client/metadata fetching metadata\" lib=sarama") {
		t.Errorf("log %q", buf.String())
	}
}
