package kafkatest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuniq/kuniq/kafka"
)

// The three-broker cluster of `make kafka-cluster-up` (scripts/kafka.sh cluster-up). `make
// test-cluster` sets both variables.
const (
	// ClusterBrokersEnv names the cluster's PLAINTEXT addresses, node 1 first.
	ClusterBrokersEnv = "KUNIQ_CLUSTER_BROKERS"
	// ClusterHomeEnv names its directory (node-N/kafka.pid, node-N/kafka.log).
	ClusterHomeEnv = "KUNIQ_CLUSTER_HOME"
)

// Cluster controls the local three-broker cluster: it finds the broker leading most
// partitions of a topic, SIGKILLs brokers by their recorded pid and starts them again through
// scripts/kafka.sh. Broker id N is node N of the script.
type Cluster struct {
	Config kafka.Config
	Home   string
	script string
	port   string
	killed map[int32]bool
}

// NewCluster returns the cluster, or skips (fails under CI) without one. Brokers a test kills
// and does not start again are started at its end, so the next test finds three.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	brokers, home := os.Getenv(ClusterBrokersEnv), os.Getenv(ClusterHomeEnv)
	if brokers == "" || home == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s and %s are not set under CI=true: the cluster tests need `make kafka-cluster-up` (make test-cluster sets them)", ClusterBrokersEnv, ClusterHomeEnv)
		}
		t.Skipf("%s / %s not set: run `make test-cluster`", ClusterBrokersEnv, ClusterHomeEnv)
	}
	cfg := kafka.DefaultConfig()
	cfg.Brokers = kafka.ParseBrokers(brokers)
	cfg.ClientID = "kuniq-test"
	_, port, err := net.SplitHostPort(cfg.Brokers[0])
	if err != nil {
		t.Fatalf("%s: %v", ClusterBrokersEnv, err)
	}
	_, self, _, _ := runtime.Caller(0)
	c := &Cluster{
		Config: cfg, Home: home, port: port, killed: map[int32]bool{},
		script: filepath.Join(filepath.Dir(self), "..", "..", "scripts", "kafka.sh"),
	}
	t.Cleanup(func() {
		for id := range c.killed {
			if err := c.Start(id); err != nil {
				t.Errorf("restart broker %d after the test: %v", id, err)
			}
		}
	})
	return c
}

// pid returns the recorded pid of broker id, or 0 if it is not running.
func (c *Cluster) pid(id int32) (int, error) {
	b, err := os.ReadFile(filepath.Join(c.Home, fmt.Sprintf("node-%d", id), "kafka.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("pid file of broker %d: %w", id, err)
	}
	if !alive(pid) {
		return 0, nil
	}
	return pid, nil
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc (macOS): kill(0) is the answer
	}
	// "pid (comm) S ...": the state follows the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// Running reports whether broker id's process runs.
func (c *Cluster) Running(id int32) bool {
	pid, err := c.pid(id)
	return err == nil && pid > 0
}

// Kill sends SIGKILL to broker id and returns once its process is gone.
func (c *Cluster) Kill(id int32) error {
	pid, err := c.pid(id)
	if err != nil {
		return err
	}
	if pid == 0 {
		return fmt.Errorf("broker %d is not running", id)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill broker %d (pid %d): %w", id, pid, err)
	}
	c.killed[id] = true
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("broker %d (pid %d) still alive 30 s after SIGKILL", id, pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A stale pid file could name a reused pid and make the script think the node runs.
	_ = os.Remove(filepath.Join(c.Home, fmt.Sprintf("node-%d", id), "kafka.pid"))
	return nil
}

// Start starts broker id (scripts/kafka.sh cluster-node-up) and returns once it answers and
// all three brokers are registered again.
func (c *Cluster) Start(id int32) error {
	cmd := exec.Command(c.script, "cluster-node-up", strconv.Itoa(int(id)))
	cmd.Env = append(os.Environ(), "KAFKA_CLUSTER_HOME="+c.Home, "KAFKA_CLUSTER_PORT="+c.port)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("start broker %d: %v\n%s", id, err, out)
	}
	delete(c.killed, id)
	return nil
}

// KillBusiestLeader SIGKILLs the broker that leads most partitions of topic and returns its id
// and the partitions it led.
func (c *Cluster) KillBusiestLeader(topic string) (int32, []int32, error) {
	id, parts, err := c.Config.BusiestLeader(topic)
	if err != nil {
		return -1, nil, err
	}
	return id, parts, c.Kill(id)
}

// WaitLeaders waits until every partition of topic has a leader other than gone (-1: any
// leader), and returns the leaders.
func (c *Cluster) WaitLeaders(topic string, gone int32, timeout time.Duration) (map[int32]int32, error) {
	deadline := time.Now().Add(timeout)
	for {
		leaders, err := c.surviving().Leaders(topic)
		if err == nil && len(leaders) > 0 {
			ok := true
			for _, l := range leaders {
				ok = ok && l >= 0 && l != gone
			}
			if ok {
				return leaders, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("topic %q: partitions without a leader other than %d after %v (leaders %v, %v)", topic, gone, timeout, leaders, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitInSync waits until every replica of every partition of topic is in sync again (a
// restarted broker has caught up).
func (c *Cluster) WaitInSync(topic string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ps, err := c.Config.DescribePartitions(topic)
		if err == nil {
			ok := len(ps) > 0
			for _, p := range ps {
				ok = ok && p.Leader >= 0 && len(p.ISR) == len(p.Replicas)
			}
			if ok {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %q not in sync after %v: %v %v", topic, timeout, ps, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// surviving is the config with the killed brokers' addresses left out, so a request does not
// start with a dead seed.
func (c *Cluster) surviving() kafka.Config {
	cfg := c.Config
	cfg.Brokers = slices.DeleteFunc(slices.Clone(cfg.Brokers), func(addr string) bool {
		for id := range c.killed {
			if int(id) >= 1 && int(id) <= len(c.Config.Brokers) && c.Config.Brokers[id-1] == addr {
				return true
			}
		}
		return false
	})
	return cfg
}
