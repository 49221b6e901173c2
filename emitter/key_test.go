package emitter

import (
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/testkit"
)

func TestKeyer(t *testing.T) {
	const frame = `{"a":{"uid":"decoy","ts":1},"uid":"0123456789abcdef012","ts":1468244384}`
	tests := []struct {
		name string
		mode Keying
		line string
		want string
	}{
		{name: "uid: root uid, not the decoy", mode: KeyUID, line: frame, want: "0123456789abcdef012"},
		{name: "uid: escaped uid unescaped", mode: KeyUID, line: `{"uid":"a\u0062c","ts":1}`, want: "abc"},
		{name: "uid: malformed falls back to hash", mode: KeyUID, line: `{"uid":"x","ts":`, want: crc(`{"uid":"x","ts":`)},
		{name: "uid: empty uid falls back to hash", mode: KeyUID, line: `{"uid":"","ts":1}`, want: crc(`{"uid":"","ts":1}`)},
		{name: "hash: frame", mode: KeyHash, line: frame, want: crc(frame)},
		{name: "hash: malformed", mode: KeyHash, line: `{"uid":"x","ts":`, want: crc(`{"uid":"x","ts":`)},
		// The CRC-32C check value of "123456789" is e3069283 (RFC 3720, B.4).
		{name: "hash: standard check value", mode: KeyHash, line: "123456789", want: "e3069283"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := keyer{mode: tt.mode}
			got := k.appendKey([]byte("prefix:"), []byte(tt.line))
			if string(got) != "prefix:"+tt.want {
				t.Errorf("appendKey(%v, %q) = %q, want %q", tt.mode, tt.line, got, "prefix:"+tt.want)
			}
		})
	}
}

// crc is the CRC-32C of s as 8 lowercase hex digits, computed independently of appendKey.
func crc(s string) string {
	return fmt.Sprintf("%08x", crc32.Checksum([]byte(s), crc32.MakeTable(crc32.Castagnoli)))
}

func TestParseKeying(t *testing.T) {
	for _, k := range []Keying{KeyUID, KeyHash} {
		got, err := ParseKeying(k.String())
		if err != nil || got != k {
			t.Errorf("ParseKeying(%q) = %v, %v; want %v", k.String(), got, err, k)
		}
	}
	if _, err := ParseKeying("random"); err == nil {
		t.Error(`ParseKeying("random") succeeded, want an error`)
	}
}

// genLines returns the lines of a generated challenge-shaped stream.
func genLines(tb testing.TB, cfg gen.Config) ([][]byte, *gen.Generator) {
	tb.Helper()
	b, g := testkit.Generate(tb, cfg)
	return testkit.Lines(b), g
}

// TestKeysBalancePartitions checks, without a broker, what the integration test checks with
// one: the keys of both modes spread challenge-shaped frames evenly over the partitions
// through sarama's FNV-1a hash partitioner, and uid keys keep each user on one partition.
func TestKeysBalancePartitions(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Pool, cfg.FrameBytes, cfg.MalformedPct = 4000, 1000, 300, 2
	lines, _ := genLines(t, cfg)
	const partitions = 4
	for _, mode := range []Keying{KeyUID, KeyHash} {
		t.Run(mode.String(), func(t *testing.T) {
			k := keyer{mode: mode}
			part := sarama.NewHashPartitioner("frames")
			var dec keyer // decodes uids for the affinity check
			counts := make([]int, partitions)
			userPart := map[string]int32{}
			split := 0
			for _, line := range lines {
				key := k.appendKey(nil, line)
				if len(key) == 0 {
					t.Fatalf("empty key for %.60q", line)
				}
				p, err := part.Partition(&sarama.ProducerMessage{Key: sarama.ByteEncoder(key)}, partitions)
				if err != nil {
					t.Fatal(err)
				}
				counts[p]++
				f, err := dec.json.Decode(line)
				if err != nil {
					continue
				}
				uid := string(f.UID)
				if q, ok := userPart[uid]; ok && q != p {
					split++
				}
				userPart[uid] = p
			}
			for p, n := range counts {
				if want := len(lines) / partitions; n < want*8/10 || n > want*12/10 {
					t.Errorf("partition %d got %d of %d frames, want %d ± 20%%", p, n, len(lines), want)
				}
			}
			if mode == KeyUID && split != 0 {
				t.Errorf("%d frames of a user landed on another partition than the user's earlier ones, want 0", split)
			}
			if mode == KeyHash && split == 0 {
				t.Errorf("hash keys kept every user on one partition: the test data has too few repeats to show anything")
			}
		})
	}
}

func BenchmarkKey(b *testing.B) {
	cfg := gen.DefaultConfig()
	cfg.Count = 1000
	lines, _ := genLines(b, cfg)
	var bytes int64
	for _, l := range lines {
		bytes += int64(len(l))
	}
	for _, mode := range []Keying{KeyUID, KeyHash} {
		b.Run(mode.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(bytes / int64(len(lines)))
			k := keyer{mode: mode}
			var key []byte
			i := 0
			for b.Loop() {
				key = k.appendKey(key[:0], lines[i])
				i++
				if i == len(lines) {
					i = 0
				}
			}
		})
	}
}

func ExampleKeying() {
	k := keyer{mode: KeyUID}
	fmt.Printf("%s\n", k.appendKey(nil, []byte(`{"ts":1468244384,"uid":"00a1b2c3d4e5f6a7b8c"}`)))
	fmt.Printf("%s\n", k.appendKey(nil, []byte(`123456789`))) // not a frame: its CRC-32C
	// Output:
	// 00a1b2c3d4e5f6a7b8c
	// e3069283
}
