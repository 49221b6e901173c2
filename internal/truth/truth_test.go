package truth

import (
	"errors"
	"strings"
	"testing"
)

func TestReadTruth(t *testing.T) {
	good := `{"granularity":"minute","start":1468244340,"end":1468244400,"uniques":41,"frames":60}`
	tests := []struct {
		name    string
		in      string
		want    int // windows read, when no error is wanted
		wantErr bool
	}{
		{"one window", good + "\n", 1, false},
		{"blank lines", "\n" + good + "\n\n" + good + "\n", 2, false},
		{"empty", "", 0, false},
		{"a result record", `{"granularity":"minute","start":1468244340,"end":1468244400,"start_time":"2016-07-11T13:39:00Z","uniques":41,"frames":60,"final":true,"revision":0,"late_frames":0}`, -1, true},
		{"not JSON", "not json\n", -1, true},
		{"empty object", "{}\n", -1, true},
		{"unknown granularity", `{"granularity":"decade","start":0,"end":60,"uniques":1,"frames":1}`, -1, true},
		{"not a window start", `{"granularity":"minute","start":1468244341,"end":1468244401,"uniques":1,"frames":1}`, -1, true},
		{"wrong end", `{"granularity":"minute","start":1468244340,"end":1468244401,"uniques":1,"frames":1}`, -1, true},
		{"no users", `{"granularity":"minute","start":1468244340,"end":1468244400,"uniques":0,"frames":0}`, -1, true},
		{"more users than frames", `{"granularity":"minute","start":1468244340,"end":1468244400,"uniques":5,"frames":4}`, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, err := ReadTruth(strings.NewReader(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrNotTruth) {
					t.Errorf("ReadTruth(%q) = %v, %v; want an error wrapping ErrNotTruth", tt.in, ws, err)
				}
				return
			}
			if err != nil || len(ws) != tt.want {
				t.Errorf("ReadTruth(%q) = %d windows, %v; want %d", tt.in, len(ws), err, tt.want)
			}
		})
	}
}
