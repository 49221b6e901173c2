package gen

import (
	"encoding/json"
	"testing"
)

func TestLiveFramesCountAtTheirTSAndUID(t *testing.T) {
	l, err := NewLive(20, 600)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		b := l.AppendLive(nil, i, 1_800_000_000+int64(i), "0123456789abcdef012")
		var root map[string]any // encoding/json keeps the last duplicate key, as kuniq does
		if err := json.Unmarshal(b, &root); err != nil {
			t.Fatalf("frame %d is not JSON: %v\n%s", i, err, b)
		}
		if root["uid"] != "0123456789abcdef012" || root["ts"] != float64(1_800_000_000+i) {
			t.Errorf("frame %d counts as uid %v ts %v", i, root["uid"], root["ts"])
		}
	}
}
