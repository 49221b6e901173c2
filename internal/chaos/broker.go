package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuniq/kuniq/kafka"
)

// Broker is a single-node broker of scripts/kafka.sh with a directory and ports of its own, so
// a case can kill it without disturbing anything else.
type Broker struct {
	t    testing.TB
	root string // the repository, for scripts/kafka.sh
	home string
	port int
}

// StartBroker formats and starts a fresh broker on port (and port+1 for its controller).
func StartBroker(t testing.TB, port int) *Broker {
	t.Helper()
	b := &Broker{t: t, root: repoRoot(t), home: filepath.Join(t.TempDir(), "kafka"), port: port}
	b.script("up")
	t.Cleanup(func() { b.script("down") })
	return b
}

// Addr is the broker's PLAINTEXT address.
func (b *Broker) Addr() string { return "127.0.0.1:" + strconv.Itoa(b.port) }

// Config is a kafka.Config for the broker.
func (b *Broker) Config() kafka.Config {
	kc := kafka.DefaultConfig()
	kc.Brokers = []string{b.Addr()}
	kc.ClientID = "kuniq-chaos"
	return kc
}

// Up starts the broker again (after Kill or Down) and waits until it answers.
func (b *Broker) Up() { b.script("up") }

// Down stops the broker gracefully.
func (b *Broker) Down() { b.script("down") }

// Kill ends the broker with SIGKILL and waits until the process is gone.
func (b *Broker) Kill() { b.signal(syscall.SIGKILL, true) }

// Pause stops the broker with SIGSTOP: its sockets stay open and silent.
func (b *Broker) Pause() { b.signal(syscall.SIGSTOP, false) }

// Resume continues a paused broker.
func (b *Broker) Resume() { b.signal(syscall.SIGCONT, false) }

func (b *Broker) pid() int {
	raw, err := os.ReadFile(filepath.Join(b.home, "kafka.pid"))
	if err != nil {
		b.t.Fatalf("broker pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		b.t.Fatalf("broker pid %q: %v", raw, err)
	}
	return pid
}

func (b *Broker) signal(sig syscall.Signal, wait bool) {
	b.t.Helper()
	pid := b.pid()
	if err := syscall.Kill(pid, sig); err != nil {
		b.t.Fatalf("signal %v to broker %d: %v", sig, pid, err)
	}
	for wait && syscall.Kill(pid, 0) == nil {
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *Broker) script(verb string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(b.root, "scripts", "kafka.sh"), verb)
	cmd.Env = append(os.Environ(), "KAFKA_HOME="+b.home, "KAFKA_PORT="+strconv.Itoa(b.port), "KAFKA_HEAP=384m")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.t.Fatalf("kafka.sh %s (port %d): %v\n%s", verb, b.port, err, out)
	}
}

// repoRoot finds the repository from the package directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// port returns the chaos broker port: KUNIQ_CHAOS_PORT, or 9592.
func port(t testing.TB) int {
	if v := os.Getenv("KUNIQ_CHAOS_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("KUNIQ_CHAOS_PORT=%q: %v", v, err)
		}
		return p
	}
	return 9592
}

func must(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
