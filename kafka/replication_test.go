package kafka

import (
	"errors"
	"testing"
)

func TestReplication(t *testing.T) {
	cases := []struct {
		name                string
		replication, minISR int
		brokers             int
		wantRF, wantMinISR  int
		wantErr             bool
	}{
		{"single broker", 0, 0, 1, 1, 0, false},
		{"two brokers", 0, 0, 2, 2, 0, false},
		{"three brokers", 0, 0, 3, 3, 2, false},
		{"six brokers", 0, 0, 6, 3, 2, false},
		{"override down", 1, 0, 3, 1, 0, false},
		{"override up", 5, 0, 6, 5, 2, false},
		{"override beyond the cluster", 3, 0, 1, 0, 0, true},
		{"min insync override", 0, 3, 5, 3, 3, false},
		{"min insync above replication", 0, 2, 1, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Replication, c.MinInsyncReplicas = tc.replication, tc.minISR
			rf, minISR, err := c.replication(tc.brokers)
			if tc.wantErr {
				if !errors.Is(err, ErrReplication) {
					t.Fatalf("replication(%d) = %d, %d, %v; want ErrReplication", tc.brokers, rf, minISR, err)
				}
				return
			}
			if err != nil || rf != tc.wantRF || minISR != tc.wantMinISR {
				t.Errorf("replication(%d) = %d, %d, %v; want %d, %d", tc.brokers, rf, minISR, err, tc.wantRF, tc.wantMinISR)
			}
		})
	}
}

func TestDefaultReplication(t *testing.T) {
	for brokers, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 3, 4: 3, 100: 3} {
		if got := DefaultReplication(brokers); got != want {
			t.Errorf("DefaultReplication(%d) = %d, want %d", brokers, got, want)
		}
	}
}

func TestTopicConfig(t *testing.T) {
	c := DefaultConfig()
	cases := []struct {
		name           string
		topic          Topic
		minISR         int
		policy, retain string
		wantMinISR     string // "" for absent
	}{
		{"stream kept forever", Topic{Name: "s"}, 0, "delete", "-1", ""},
		{"table", Topic{Name: "t", Compact: true}, 2, "compact", "-1", "2"},
		{"stream with retention", Topic{Name: "r", Retention: 3600e9}, 2, "delete", "3600000", "2"},
	}
	for _, tc := range cases {
		cfg := c.topicConfig(tc.topic, tc.minISR)
		if *cfg["cleanup.policy"] != tc.policy || *cfg["retention.ms"] != tc.retain {
			t.Errorf("%s: cleanup.policy %s retention.ms %s, want %s %s", tc.name, *cfg["cleanup.policy"], *cfg["retention.ms"], tc.policy, tc.retain)
		}
		got, ok := cfg["min.insync.replicas"]
		switch {
		case tc.wantMinISR == "" && ok:
			t.Errorf("%s: min.insync.replicas %s set, want the broker's default", tc.name, *got)
		case tc.wantMinISR != "" && (!ok || *got != tc.wantMinISR):
			t.Errorf("%s: min.insync.replicas = %v, want %s", tc.name, got, tc.wantMinISR)
		}
	}
}

func TestTopicManagerReplication(t *testing.T) {
	c := DefaultConfig()
	if tm := c.TopicManager(); tm.Table.Replication != -1 || tm.Stream.Replication != -1 {
		t.Errorf("auto replication: Goka factors %d/%d, want -1 (the broker's default)", tm.Table.Replication, tm.Stream.Replication)
	}
	c.Replication = 2
	if tm := c.TopicManager(); tm.Table.Replication != 2 || tm.Stream.Replication != 2 {
		t.Errorf("replication 2: Goka factors %d/%d", tm.Table.Replication, tm.Stream.Replication)
	}
}

func TestBusiest(t *testing.T) {
	cases := []struct {
		name    string
		leaders map[int32]int32
		want    int32
		parts   []int32
		err     bool
	}{
		{"one leader", map[int32]int32{0: 2, 1: 2}, 2, []int32{0, 1}, false},
		{"most partitions", map[int32]int32{0: 1, 1: 3, 2: 3, 3: 2}, 3, []int32{1, 2}, false},
		{"tie to the lowest id", map[int32]int32{0: 3, 1: 2, 2: 1, 3: 3, 4: 2}, 2, []int32{1, 4}, false},
		{"leaderless partitions ignored", map[int32]int32{0: -1, 1: -1, 2: 1}, 1, []int32{2}, false},
		{"no leader", map[int32]int32{0: -1}, -1, nil, true},
	}
	for _, tc := range cases {
		got, parts, err := busiest(tc.leaders)
		if (err != nil) != tc.err || got != tc.want || len(parts) != len(tc.parts) {
			t.Errorf("%s: busiest = %d %v %v, want %d %v", tc.name, got, parts, err, tc.want, tc.parts)
			continue
		}
		for i := range parts {
			if parts[i] != tc.parts[i] {
				t.Errorf("%s: partitions %v, want %v", tc.name, parts, tc.parts)
			}
		}
	}
}

func TestConfigValidateReplication(t *testing.T) {
	cases := []struct {
		name                string
		replication, minISR int
		ok                  bool
	}{
		{"auto", 0, 0, true},
		{"explicit", 3, 2, true},
		{"negative replication", -1, 0, false},
		{"negative min insync", 0, -1, false},
		{"min insync above replication", 2, 3, false},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		c.Replication, c.MinInsyncReplicas = tc.replication, tc.minISR
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
