package processor

import (
	"slices"
	"testing"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// TestControlKeys checks the routing contract stage 1's mark broadcast relies on: for every
// partition count, key p lands on partition p under the partitioner Goka's producers use
// (sarama's custom hash partitioner over goka.DefaultHasher, as goka.NewEmitter builds it).
func TestControlKeys(t *testing.T) {
	for n := 1; n <= 64; n++ {
		keys := ControlKeys(n)
		if len(keys) != n {
			t.Fatalf("len(ControlKeys(%d)) = %d, want %d", n, len(keys), n)
		}
		if again := ControlKeys(n); !slices.Equal(keys, again) {
			t.Errorf("ControlKeys(%d) not deterministic: %q then %q", n, keys, again)
		}
		part := sarama.NewCustomHashPartitioner(goka.DefaultHasher())("partials")
		for p, k := range keys {
			if !IsControlKey(k) {
				t.Errorf("ControlKeys(%d)[%d] = %q, IsControlKey = false", n, p, k)
			}
			got, err := part.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(k)}, int32(n))
			if err != nil {
				t.Fatalf("Partition(%q, %d): %v", k, n, err)
			}
			if got != int32(p) {
				t.Errorf("sarama/goka partition of ControlKeys(%d)[%d] = %q is %d, want %d", n, p, k, got, p)
			}
		}
	}
}

func TestIsControlKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"ctl/0", true},
		{"ctl/17", true},
		{"ctl/", false},
		{"ctl", false},
		{"minute/1468244340", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := IsControlKey(tc.key); got != tc.want {
			t.Errorf("IsControlKey(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}
