package codec

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseField(t *testing.T) {
	tests := []struct {
		path    string
		want    []string
		wantErr bool
	}{
		{path: "uid", want: []string{"uid"}},
		{path: "user.id", want: []string{"user", "id"}},
		{path: "a.b.c.d", want: []string{"a", "b", "c", "d"}},
		{path: `a\.b`, want: []string{"a.b"}},
		{path: `a\.b.c`, want: []string{"a.b", "c"}},
		{path: `a\\b`, want: []string{`a\b`}},
		{path: `a\\.b`, want: []string{`a\`, "b"}},
		{path: `\u`, want: []string{"u"}},
		{path: `a"b`, want: []string{`a"b`}},
		{path: "ü.世界", want: []string{"ü", "世界"}},
		{path: "with space", want: []string{"with space"}},
		{path: "", wantErr: true},
		{path: ".", wantErr: true},
		{path: ".a", wantErr: true},
		{path: "a.", wantErr: true},
		{path: "a..b", wantErr: true},
		{path: `a\`, wantErr: true},
		{path: "a\xff", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseField(tt.path)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ParseField(%q) = %q, %v; want %q, error %v", tt.path, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseTSUnit(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"s", time.Second}, {"ms", time.Millisecond}, {"us", time.Microsecond}, {"µs", time.Microsecond}, {"ns", time.Nanosecond},
	}
	for _, tt := range tests {
		if got, err := ParseTSUnit(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseTSUnit(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "S", "sec", "m", "1ms", "ps"} {
		if got, err := ParseTSUnit(bad); err == nil {
			t.Errorf("ParseTSUnit(%q) = %v, want an error", bad, got)
		}
	}
}

func TestFrameConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  FrameConfig
		want string // "" for valid, else a substring of the error
	}{
		{name: "zero value", cfg: FrameConfig{}},
		{name: "explicit defaults", cfg: FrameConfig{UIDField: "uid", TSField: "ts", TSUnit: time.Second}},
		{name: "nested", cfg: FrameConfig{UIDField: "user.id", TSField: "user.ts", TSUnit: time.Nanosecond}},
		{name: "siblings deep", cfg: FrameConfig{UIDField: "a.b.c", TSField: "a.b.d"}},
		{name: "prefix key is not a path prefix", cfg: FrameConfig{UIDField: "ab", TSField: "a.b"}},
		{name: "dotted key beside its split", cfg: FrameConfig{UIDField: `a\.b`, TSField: "a.b"}},
		{name: "same field", cfg: FrameConfig{UIDField: "x", TSField: "x"}, want: "one contains the other"},
		{name: "uid inside ts", cfg: FrameConfig{UIDField: "ts.id"}, want: "one contains the other"},
		{name: "ts inside uid", cfg: FrameConfig{UIDField: "a", TSField: "a.t"}, want: "one contains the other"},
		{name: "bad uid path", cfg: FrameConfig{UIDField: "a..b"}, want: "uid field"},
		{name: "bad ts path", cfg: FrameConfig{TSField: "t."}, want: "ts field"},
		{name: "16 keys", cfg: FrameConfig{UIDField: strings.Repeat("k.", 15) + "uid"}},
		{name: "17 keys", cfg: FrameConfig{UIDField: strings.Repeat("k.", 16) + "uid"}, want: "more than 16 keys"},
		{name: "bad unit", cfg: FrameConfig{TSUnit: time.Minute}, want: "ts unit"},
		{name: "negative unit", cfg: FrameConfig{TSUnit: -time.Second}, want: "ts unit"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v, want an error with %q", tt.name, err, tt.want)
		}
		d, nerr := NewFrameDecoder(tt.cfg)
		if (nerr == nil) != (err == nil) || (nerr == nil) != (d != nil) {
			t.Errorf("%s: NewFrameDecoder = %v, %v; Validate = %v", tt.name, d, nerr, err)
		}
	}
}

// TestConfigureKeepsDecoderOnError checks that a bad configuration leaves a decoder as it was.
func TestConfigureKeepsDecoderOnError(t *testing.T) {
	d, err := NewFrameDecoder(FrameConfig{UIDField: "user.id", TSUnit: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Configure(FrameConfig{UIDField: "a."}); err == nil {
		t.Fatal("Configure(a.) = nil, want an error")
	}
	f, err := d.Decode([]byte(`{"user":{"id":"a"},"ts":1468244384000}`))
	if err != nil || string(f.UID) != "a" || f.TS != 1468244384 {
		t.Errorf("after a failed Configure: Decode = %+v, %v; want {TS:1468244384 UID:a}", f, err)
	}
	if _, err := d.Decode([]byte(`{"uid":"a","ts":1}`)); !errors.Is(err, ErrNoUID) {
		t.Errorf("after a failed Configure: root uid error = %v, want ErrNoUID", err)
	}
}

// TestDecodeErrorNamesField checks that a dead letter's detail names the configured field.
func TestDecodeErrorNamesField(t *testing.T) {
	d, err := NewFrameDecoder(FrameConfig{UIDField: "user.id", TSField: "meta.t"})
	if err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		`{"ts":1}`:                              "user.id",
		`{"user":{"id":"a"}}`:                   "meta.t",
		`{"user":{"id":"a"},"meta":{"t":true}}`: "meta.t",
		`{"user":{"id":1.5},"meta":{"t":1}}`:    "user.id",
	} {
		if _, err := d.Decode([]byte(line)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) error = %v, want it to name %q", line, err, want)
		}
	}
}
