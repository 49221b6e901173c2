package processor

import (
	"fmt"
	"hash/fnv"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
)

// Default user-facing topics (docs/design.md, "The records"); flags may rename them.
const (
	DefaultInput      goka.Stream = "frames"
	DefaultOutput     goka.Stream = "uniques"
	DefaultDeadLetter goka.Stream = "frames-dlq"
	DefaultApp                    = "kuniq"
)

// Names are the groups and internal topics of one application. Every one is prefixed with
// the application id, as Kafka Streams does with application.id, so two apps on one cluster
// never share state: `--app kuniq-p16` replays the same input into a separate table.
type Names struct {
	App string
	// PreAgg is stage 1's consumer group: frames -> partials.
	PreAgg goka.Group
	// Windows is stage 2's group; its table is Goka's "<app>-windows-table", its loop topic
	// "<app>-windows-loop".
	Windows goka.Group
	// Partials is the topic between the stages.
	Partials goka.Stream
}

// NamesFor returns the names of application app.
func NamesFor(app string) Names {
	return Names{
		App:      app,
		PreAgg:   goka.Group(app + "-preagg"),
		Windows:  goka.Group(app + "-windows"),
		Partials: goka.Stream(app + "-partials"),
	}
}

// Table is the stage-2 table topic (the changelog of the window rows).
func (n Names) Table() goka.Table { return goka.GroupTable(n.Windows) }

// Loop is stage 2's loop topic (Goka's name for it).
func (n Names) Loop() string { return string(n.Windows) + "-loop" }

// ControlKeys returns, for each of n partitions, a key that Goka's partitioner (FNV-1a of the
// key, modulo n) routes to that partition. Stage 1 broadcasts its marks to these keys, and
// each is the control row of its stage-2 partition. Deterministic for a given n.
func ControlKeys(n int) []string {
	keys := make([]string, n)
	found := 0
	for i := 0; found < n; i++ {
		k := fmt.Sprintf("ctl/%d", i)
		p := partitionOf(k, n)
		if p >= 0 && keys[p] == "" {
			keys[p] = k
			found++
		}
	}
	return keys
}

// partitionOf is Goka's default partitioner (processor.go hashing, sarama's custom hash
// partitioner): FNV-1a 32, as int32, absolute value, modulo n. It returns -1 for the one
// hash value where Goka and sarama disagree (math.MinInt32), so such keys are never used.
func partitionOf(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	v := int32(h.Sum32())
	if v == -1<<31 {
		return -1
	}
	if v < 0 {
		v = -v
	}
	return int(v % int32(n))
}

// IsControlKey tells control rows from window rows in the table.
func IsControlKey(key string) bool { return len(key) > 4 && key[:4] == "ctl/" }

// Headers are the headers every record of the application carries: its id (codec.HeaderApp),
// by which run and replay refuse to write into a topic another application writes to.
func (n Names) Headers() goka.Headers { return goka.Headers{codec.HeaderApp: []byte(n.App)} }
