package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countStdin runs `kuniq count args...` with input on stdin, as `printf ... | kuniq count`
// does, and returns the result records and the dead letters' reasons.
func countStdin(t *testing.T, input string, args ...string) (uniques, frames map[int64]int64, dead []string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	withStdin(t, in)
	dlq := filepath.Join(dir, "dead.jsonl")
	out, _ := mustKuniq(t, append([]string{"count", "--quiet", "--dead-letters", dlq}, args...)...)
	uniques, frames = map[int64]int64{}, map[int64]int64{}
	for _, r := range parseResults(t, out) {
		uniques[r.Start] = int64(r.Uniques)
		frames[r.Start] = r.Frames
	}
	b, err := os.ReadFile(dlq)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if _, reason, ok := strings.Cut(line, `"reason":"`); ok {
			reason, _, _ = strings.Cut(reason, `"`)
			dead = append(dead, reason)
		}
	}
	return uniques, frames, dead
}

// TestCountInputFlags is the acceptance for configurable input: a ts as a string of
// digits, --ts-unit ms, --uid-field into a nested object, numeric uids, and their env twins.
func TestCountInputFlags(t *testing.T) {
	const minute = 1468244340 // the minute of 1468244384
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		input     string
		uniques   int64 // in the minute
		frames    int64
		wantDeads []string
	}{
		{name: "ts string", input: `{"uid":"a","ts":"1468244384"}` + "\n", uniques: 1, frames: 1},
		{name: "ts ms", args: []string{"--ts-unit", "ms"}, input: `{"uid":"a","ts":1468244384000}` + "\n", uniques: 1, frames: 1},
		{name: "ts ms string", args: []string{"--ts-unit", "ms"}, input: `{"uid":"a","ts":"1468244384999"}` + "\n", uniques: 1, frames: 1},
		{name: "ts ms without the flag", input: `{"uid":"a","ts":1468244384000}` + "\n" + `{"uid":"b","ts":1468244384}` + "\n", uniques: 1, frames: 1, wantDeads: []string{"ts_range"}},
		{name: "ts ns", args: []string{"--ts-unit", "ns"}, input: `{"uid":"a","ts":1468244384123456789}` + "\n", uniques: 1, frames: 1},
		{name: "ts unit from env", env: map[string]string{"KUNIQ_TS_UNIT": "us"}, input: `{"uid":"a","ts":1468244384000000}` + "\n", uniques: 1, frames: 1},
		{name: "uid field", args: []string{"--uid-field", "user.id"}, input: `{"user":{"id":"a"},"ts":1468244384}` + "\n", uniques: 1, frames: 1},
		{name: "uid field decoys", args: []string{"--uid-field", "user.id"},
			input:   `{"uid":"x","id":"y","user":{"id":"a"},"ts":1468244384}` + "\n" + `{"uid":"a","o":{"user":{"id":"z"}},"ts":1468244384}` + "\n",
			uniques: 1, frames: 1, wantDeads: []string{"no_uid"}},
		{name: "uid field from env", env: map[string]string{"KUNIQ_UID_FIELD": "user.id"}, input: `{"user":{"id":"a"},"ts":1468244384}` + "\n", uniques: 1, frames: 1},
		{name: "ts field", args: []string{"--ts-field", "meta.time", "--ts-unit", "ms"}, input: `{"uid":"a","ts":1,"meta":{"time":"1468244384000"}}` + "\n", uniques: 1, frames: 1},
		{name: "ts field from env", env: map[string]string{"KUNIQ_TS_FIELD": "t"}, input: `{"uid":"a","t":1468244384}` + "\n", uniques: 1, frames: 1},
		{name: "key with a dot", args: []string{"--uid-field", `user\.id`}, input: `{"user.id":"a","user":{"id":"b"},"ts":1468244384}` + "\n", uniques: 1, frames: 1},
		{name: "number and string uid are one user", input: `{"uid":42,"ts":1468244384}` + "\n" + `{"uid":"42","ts":1468244385}` + "\n", uniques: 1, frames: 2},
		{name: "fraction uid", input: `{"uid":4.2,"ts":1468244384}` + "\n" + `{"uid":"a","ts":1468244384}` + "\n", uniques: 1, frames: 1, wantDeads: []string{"bad_uid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			uniques, frames, dead := countStdin(t, tt.input, tt.args...)
			if uniques[minute] != tt.uniques || frames[minute] != tt.frames || len(uniques) != 1 {
				t.Errorf("uniques %v, frames %v; want %d uniques and %d frames in minute %d only", uniques, frames, tt.uniques, tt.frames, minute)
			}
			if strings.Join(dead, ",") != strings.Join(tt.wantDeads, ",") {
				t.Errorf("dead letters %q, want %q", dead, tt.wantDeads)
			}
		})
	}
}

func TestInputFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--ts-unit", "h"}, want: "ts unit"},
		{args: []string{"--ts-unit", "MS"}, want: "ts unit"},
		{args: []string{"--uid-field", "user."}, want: "empty key"},
		{args: []string{"--ts-field", ""}, want: "empty field path"},
		{args: []string{"--uid-field", "a", "--ts-field", "a.t"}, want: "one contains the other"},
		{env: map[string]string{"KUNIQ_TS_UNIT": "days"}, want: "ts unit"},
		{args: []string{"--input-format", "xml"}, want: "--input-format"},
		{args: []string{"--input-format", "protobuf", "--uid-field", "user.id"}, want: "--uid-field \"user.id\" applies to JSON input only"},
		{args: []string{"--ts-field", "t"}, env: map[string]string{"KUNIQ_INPUT_FORMAT": "protobuf"}, want: "--ts-field \"t\" applies to JSON input only"},
		{args: []string{"--input-format", "protobuf", "--ts-unit", "h"}, want: "ts unit"},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		for _, cmd := range []string{"count", "run", "replay"} {
			args := append([]string{cmd}, tt.args...)
			if cmd != "count" {
				args = append(args, "--app", "input-flag-test", "--brokers", "127.0.0.1:1")
			}
			out, _, err := kuniq(t, append(args, os.DevNull)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || out != "" {
				t.Errorf("kuniq %s: err = %v, stdout %q; want an error with %q and no output", strings.Join(args, " "), err, out, tt.want)
			}
		}
		for k := range tt.env {
			os.Unsetenv(k)
		}
	}
}

// TestInputFlagsEverywhere checks that every command that decodes frames has the four flags.
func TestInputFlagsEverywhere(t *testing.T) {
	for _, cmd := range []string{"count", "run", "replay"} {
		out, _, err := kuniq(t, cmd, "--help") // help goes to stdout
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("kuniq %s --help: err = %v", cmd, err)
		}
		flags := helpFlags(t, out)
		for _, name := range []string{"input-format", "uid-field", "ts-field", "ts-unit"} {
			if _, ok := flags[name]; !ok {
				t.Errorf("kuniq %s --help lacks -%s", cmd, name)
			}
		}
	}
}
