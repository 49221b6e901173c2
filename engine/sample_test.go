package engine

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/kuniq/kuniq/window"
)

// exactCounts counts distinct root uids per window with encoding/json: the reference.
func exactCounts(t *testing.T, in []byte) map[window.Key]int {
	t.Helper()
	users := map[window.Key]map[string]bool{}
	for _, line := range bytes.Split(in, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var f struct {
			TS  int64  `json:"ts"`
			UID string `json:"uid"`
		}
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatal(err)
		}
		for _, k := range window.AppendKeys(nil, f.TS, window.All) {
			if users[k] == nil {
				users[k] = map[string]bool{}
			}
			users[k][f.UID] = true
		}
	}
	out := map[window.Key]int{}
	for k, u := range users {
		out[k] = len(u)
	}
	return out
}
