package main

import "testing"

func TestCounter(t *testing.T) {
	c := counter{minutes: map[int64]map[string]struct{}{}}
	for _, l := range []string{
		`{"ts":120,"uid":"a"}`,
		`{"uid":"a","ts":150}`,
		`{"ts":179,"uid":"b","x":{"uid":"decoy"}}`,
		`{"ts":180,"uid":"a"}`,
		`not json`,
		`{"ts":"x","uid":"a"}`,
	} {
		c.add([]byte(l))
	}
	if got, want := len(c.minutes[120]), 2; got != want {
		t.Errorf("uniques in minute 120 = %d, want %d", got, want)
	}
	if got, want := len(c.minutes[180]), 1; got != want {
		t.Errorf("uniques in minute 180 = %d, want %d", got, want)
	}
	if c.frames != 6 || c.bad != 2 {
		t.Errorf("frames %d, bad %d; want 6, 2", c.frames, c.bad)
	}
}
