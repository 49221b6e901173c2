package main

import (
	"strings"
	"testing"

	"github.com/kuniq/kuniq/codec"
)

// TestNonsenseValuesAreRefused: a value that means nothing is an error that says what is
// allowed, never a silent "use the default". Each is refused before any work or connection.
func TestNonsenseValuesAreRefused(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantInErr string
	}{
		{"count negative workers", []string{"count", "--workers", "-2", sampleFile}, "--workers -2: want 0 (one per core) or more"},
		{"count unknown granularity", []string{"count", "--granularity", "fortnight", sampleFile}, "minute, hour, day, week, month, year or all"},
		{"count precision", []string{"count", "--precision", "19", sampleFile}, "--precision 19: want 4..18"},
		{"ingest negative progress", []string{"ingest", "--progress", "-1s", sampleFile}, "--progress -1s: want a duration >= 0"},
		{"ingest no partitions", []string{"ingest", "--partitions", "0", sampleFile}, "--partitions 0: want 1 or more"},
		{"view negative timeout", []string{"view", "--timeout", "-1s"}, "--timeout -1s: want a duration > 0"},
		{"view zero timeout", []string{"view", "--timeout", "0s"}, "--timeout 0s: want a duration > 0"},
		{"view unknown granularity", []string{"view", "--granularity", "decade"}, "minute, hour, day, week, month, year or all"},
		{"gen zero pool", []string{"gen", "--pool", "0"}, "--pool 0: want 1 or more"},
		{"gen zero rate", []string{"gen", "--rate", "0"}, "--rate 0: want 1 or more"},
		{"gen zero start", []string{"gen", "--start", "0"}, "--start 0: want unix seconds > 0"},
		{"gen zero frame bytes", []string{"gen", "--frame-bytes", "0"}, "--frame-bytes 0: want 256 or more"},
		{"gen zero disorder max", []string{"gen", "--disorder-max", "0s"}, "--disorder-max 0s: want 1s or more"},
		{"run negative early interval", []string{"run", "--early-interval", "-1s"}, "early interval -1s < 0"},
		{"run negative retention", []string{"run", "--retention-day", "-1h"}, "day retention -1h0m0s < 0"},
		{"run unknown granularity", []string{"run", "--granularity", "minute,,hour"}, "minute, hour, day, week, month, year or all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := kuniq(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("kuniq %s: err = %v, want one containing %q", strings.Join(tt.args, " "), err, tt.wantInErr)
			}
			if out != "" {
				t.Errorf("kuniq %s: wrote %d bytes to stdout before refusing", strings.Join(tt.args, " "), len(out))
			}
		})
	}
}

// TestUniquesRefusesBadFlags: the range is checked before any broker is asked.
func TestUniquesRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no range", nil, "--from and --to are required"},
		{"no to", []string{"--from", "1468244340"}, "--from and --to are required"},
		{"bad from", []string{"--from", "yesterday", "--to", "1468244400"}, "--from"},
		{"bad to", []string{"--from", "1468244340", "--to", "2016-07-11 13:40"}, "--to"},
		{"an argument", []string{"--from", "1468244340", "--to", "1468244400", "extra"}, "no arguments"},
	} {
		_, _, err := kuniq(t, append([]string{"uniques", "--brokers", "127.0.0.1:1"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: kuniq uniques %v: err = %v, want one containing %q", tc.name, tc.args, err, tc.want)
		}
	}
}

func TestFinalText(t *testing.T) {
	for _, tc := range []struct {
		r    codec.Result
		want string
	}{
		{codec.Result{}, "early"},
		{codec.Result{Final: true}, "yes"},
		{codec.Result{Final: true, LateFrames: 3, Revision: 1}, "yes (+3 late)"},
		{codec.Result{Final: true, Closed: true}, "closed"},
		{codec.Result{Final: true, Closed: true, LateFrames: 2}, "closed (+2 late)"},
	} {
		if got := finalText(tc.r); got != tc.want {
			t.Errorf("finalText(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}
