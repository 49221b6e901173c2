package kafka_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/kafka"
)

// The TestIntegrationCluster* tests run against the three-broker cluster (make test-cluster).

// topicSettings returns a topic's replica counts per partition and its min.insync.replicas
// with where the value comes from.
func topicSettings(t *testing.T, cfg kafka.Config, topic string) (replicas []int, minISR string, source sarama.ConfigSource) {
	t.Helper()
	ps, err := cfg.DescribePartitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		replicas = append(replicas, len(p.Replicas))
	}
	admin, err := sarama.NewClusterAdmin(cfg.Brokers, cfg.Sarama())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: []string{"min.insync.replicas"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == "min.insync.replicas" {
			return replicas, e.Value, e.Source
		}
	}
	t.Fatalf("topic %s: no min.insync.replicas in its config", topic)
	return nil, "", 0
}

// TestIntegrationClusterTopics: on three brokers kuniq creates its topics (directly and
// through Goka's topic manager) with three replicas and min.insync.replicas 2 set on the topic
// itself; Replication overrides both; Goka accepts an existing topic's factor.
func TestIntegrationClusterTopics(t *testing.T) {
	cl := kafkatest.NewCluster(t)
	cfg := cl.Config
	stream, table := kafkatest.Name(t, "stream"), kafkatest.Name(t, "table")
	if err := cfg.EnsureTopics(kafka.Topic{Name: stream, Partitions: 4}, kafka.Topic{Name: table, Partitions: 4, Compact: true}); err != nil {
		t.Fatal(err)
	}
	tm, err := cfg.TopicManagerBuilder()(cfg.Brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	gokaTable, gokaLoop := kafkatest.Name(t, "goka-table"), kafkatest.Name(t, "goka-loop")
	if err := tm.EnsureTableExists(gokaTable, 2); err != nil {
		t.Fatalf("EnsureTableExists: %v", err)
	}
	if err := tm.EnsureStreamExists(gokaLoop, 2); err != nil {
		t.Fatalf("EnsureStreamExists: %v", err)
	}
	two := cfg
	two.Replication = 2
	small := kafkatest.Name(t, "rf2")
	if err := two.EnsureTopics(kafka.Topic{Name: small, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	// Goka's own check would refuse this topic for a config that wants 3 replicas.
	if err := tm.EnsureStreamExists(small, 2); err != nil {
		t.Errorf("EnsureStreamExists on an existing 2-replica topic: %v", err)
	}

	cases := []struct {
		topic    string
		replicas int
		minISR   string
		onTopic  bool
	}{
		{stream, 3, "2", true},
		{table, 3, "2", true},
		{gokaTable, 3, "2", true},
		{gokaLoop, 3, "2", true},
		// The broker's default (2 on this cluster), not set by kuniq on a 2-replica topic.
		{small, 2, "2", false},
	}
	for _, tc := range cases {
		replicas, minISR, source := topicSettings(t, cfg, tc.topic)
		for p, n := range replicas {
			if n != tc.replicas {
				t.Errorf("%s/%d: %d replicas, want %d", tc.topic, p, n, tc.replicas)
			}
		}
		if minISR != tc.minISR || (source == sarama.SourceTopic) != tc.onTopic {
			t.Errorf("%s: min.insync.replicas %s from %v, want %s set on the topic: %v", tc.topic, minISR, source, tc.minISR, tc.onTopic)
		}
	}
}

// produce sends n records keyed prefix-i with kuniq's producer settings (acks=all).
func produce(t *testing.T, cfg kafka.Config, topic, prefix string, n int) {
	t.Helper()
	sc := cfg.Sarama()
	if sc.Producer.RequiredAcks != sarama.WaitForAll {
		t.Fatalf("RequiredAcks = %v, want WaitForAll", sc.Producer.RequiredAcks)
	}
	p, err := sarama.NewSyncProducer(cfg.Brokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*sarama.ProducerMessage
	for i := range n {
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprintf("%s-%05d", prefix, i)),
			Value: sarama.StringEncoder(fmt.Sprintf(`{"ts":%d,"uid":"%s%015d"}`, 1468244384+i, prefix, i))})
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatalf("SendMessages: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkAll reads topic and requires exactly the records of the given prefixes, once each.
func checkAll(t *testing.T, cfg kafka.Config, topic string, n int, prefixes ...string) {
	t.Helper()
	recs, err := cfg.ReadAll(topic)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Key]++
	}
	for _, prefix := range prefixes {
		for i := range n {
			if k := fmt.Sprintf("%s-%05d", prefix, i); seen[k] != 1 {
				t.Fatalf("record %s read %d times, want once", k, seen[k])
			}
		}
	}
	if len(recs) != n*len(prefixes) {
		t.Fatalf("read %d records, want %d", len(recs), n*len(prefixes))
	}
}

// TestIntegrationClusterRoundTrip: kuniq's config produces (acks=all) and consumes through the
// cluster, across partitions led by different brokers.
func TestIntegrationClusterRoundTrip(t *testing.T) {
	cl := kafkatest.NewCluster(t)
	topic := kafkatest.Name(t, "roundtrip")
	if err := cl.Config.EnsureTopics(kafka.Topic{Name: topic, Partitions: 6}); err != nil {
		t.Fatal(err)
	}
	leaders, err := cl.Config.Leaders(topic)
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[int32]bool{}
	for _, l := range leaders {
		distinct[l] = true
	}
	if len(distinct) < 2 {
		t.Errorf("6 partitions led by %d broker(s): %v; want them spread", len(distinct), leaders)
	}
	produce(t, cl.Config, topic, "a", 3000)
	checkAll(t, cl.Config, topic, 3000, "a")
}

// TestIntegrationClusterKillLeader proves the failover helpers the chaos tests build on: the
// broker leading most partitions is found (by kafka.Config and by the script alike) and
// SIGKILLed; its partitions get new leaders; writes with acks=all go on (2 of 3 replicas meet
// min.insync.replicas 2); the broker comes back and catches up; nothing written is lost.
func TestIntegrationClusterKillLeader(t *testing.T) {
	cl := kafkatest.NewCluster(t)
	topic := kafkatest.Name(t, "failover")
	if err := cl.Config.EnsureTopics(kafka.Topic{Name: topic, Partitions: 6}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.WaitLeaders(topic, -1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	produce(t, cl.Config, topic, "before", 1000)

	want, wantParts, err := cl.Config.BusiestLeader(topic)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("..", "scripts", "kafka.sh")
	cmd := exec.Command(script, "cluster-leader", topic)
	cmd.Env = append(cmd.Environ(), "KAFKA_CLUSTER_HOME="+cl.Home, "KAFKA_CLUSTER_PORT="+strings.Split(cl.Config.Brokers[0], ":")[1])
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kafka.sh cluster-leader: %v", err)
	}
	if got, _ := strconv.Atoi(strings.TrimSpace(string(out))); int32(got) != want {
		t.Errorf("kafka.sh cluster-leader = %q, BusiestLeader = %d", out, want)
	}

	start := time.Now()
	id, parts, err := cl.KillBusiestLeader(topic)
	if err != nil {
		t.Fatal(err)
	}
	if id != want || len(parts) != len(wantParts) || len(parts) == 0 {
		t.Errorf("killed broker %d (partitions %v), want %d (%v)", id, parts, want, wantParts)
	}
	if cl.Running(id) {
		t.Fatalf("broker %d still running after the kill", id)
	}
	leaders, err := cl.WaitLeaders(topic, id, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("broker %d killed (led %v); new leaders %v after %v", id, parts, leaders, time.Since(start).Round(100*time.Millisecond))

	produce(t, cl.Config, topic, "during", 1000)

	start = time.Now()
	if err := cl.Start(id); err != nil {
		t.Fatal(err)
	}
	if !cl.Running(id) {
		t.Fatalf("broker %d not running after Start", id)
	}
	if err := cl.WaitInSync(topic, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("broker %d back and in sync after %v", id, time.Since(start).Round(100*time.Millisecond))
	produce(t, cl.Config, topic, "after", 1000)
	checkAll(t, cl.Config, topic, 1000, "before", "during", "after")
}
