package emitter_test

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/kafka"
)

// paced reads data at about perSec lines a second, so a fault can land mid-ingest.
type paced struct {
	data   []byte
	perSec int
	start  time.Time
	lines  int
}

func (p *paced) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	if p.start.IsZero() {
		p.start = time.Now()
	}
	time.Sleep(time.Until(p.start.Add(time.Duration(p.lines) * time.Second / time.Duration(p.perSec))))
	n := 0
	for k := 0; k < 100 && n < len(p.data); k++ { // up to 100 lines a read
		i := bytes.IndexByte(p.data[n:], '\n')
		if i < 0 {
			i = len(p.data) - n - 1
		}
		if n+i+1 > len(b) {
			break
		}
		n += i + 1
		p.lines++
	}
	if n == 0 {
		n = min(len(b), len(p.data)) // a line longer than b
	}
	copy(b, p.data[:n])
	p.data = p.data[n:]
	return n, nil
}

// TestIntegrationClusterIngestLeaderLoss: on the three-broker cluster (replication 3,
// min.insync.replicas 2), the broker leading most of the topic's partitions is SIGKILLed
// mid-ingest. The ingest goes on with the new leaders, without giving up, and the topic holds
// every line exactly once, each partition in input order.
func TestIntegrationClusterIngestLeaderLoss(t *testing.T) {
	c := kafkatest.NewCluster(t)
	kc := c.Config
	topic := kafkatest.Name(t, "ingest-cluster")
	if err := kc.EnsureTopics(kafka.Topic{Name: topic, Partitions: 4}); err != nil {
		t.Fatal(err)
	}
	data, lines := testLines(t, 40_000, 500)
	var once sync.Once
	var killed int32
	var killErr error
	var snaps []emitter.Progress
	var mu sync.Mutex
	ec := emitter.DefaultConfig()
	ec.Kafka, ec.Topic = kc, topic
	ec.ProgressEvery = 100 * time.Millisecond
	ec.Progress = func(p emitter.Progress) {
		mu.Lock()
		snaps = append(snaps, p)
		mu.Unlock()
		if p.Frames >= 3000 {
			once.Do(func() { killed, _, killErr = c.KillBusiestLeader(topic) })
		}
	}
	st, err := newIngest(t, ec).RunSources(t.Context(), emitter.ReaderSource("paced", &paced{data: data, perSec: 5000}))
	if killErr != nil || killed == 0 {
		t.Fatalf("kill the busiest leader: broker %d, %v", killed, killErr)
	}
	if err != nil {
		t.Fatalf("ingest through the loss of broker %d: %v", killed, err)
	}
	recs := readStamped(t, c.Config, topic)
	checkExactlyOnce(t, recs, source{id: "paced", lines: lines})
	var stalled time.Duration
	for _, p := range snaps {
		stalled = max(stalled, p.Stalled)
	}
	t.Logf("broker %d killed at 3,000 frames: %d outage(s), longest stall seen %v, %d batches resent, %.1fs in all",
		killed, st.Outages, stalled.Round(time.Millisecond), st.Retried, st.Elapsed.Seconds())
}
