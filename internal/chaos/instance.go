package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds bin/kuniq for the suite once (the processes under test are real).
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kuniq-chaos-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kuniq")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/kuniq")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Process is a kuniq process under test.
type Process struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, once done is closed
}

// Exec starts bin/kuniq with args, its output in a log file under dir.
func Exec(t testing.TB, dir, name string, args ...string) *Process {
	t.Helper()
	return ExecCommand(t, dir, name, append([]string{Binary(t)}, args...)...)
}

// ExecCommand starts argv (a wrapper around bin/kuniq, say), its output in a log file under dir.
func ExecCommand(t testing.TB, dir, name string, argv ...string) *Process {
	t.Helper()
	log := filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	f, err := os.Create(log)
	must(t, err, "log of %s", name)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	must(t, cmd.Start(), "start %s", name)
	p := &Process{Name: name, Log: log, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.Term(20 * time.Second)
		if t.Failed() || os.Getenv("KUNIQ_CHAOS_LOGS") != "" {
			b, _ := os.ReadFile(log)
			if len(b) > 8000 && os.Getenv("KUNIQ_CHAOS_LOGS") == "" {
				b = b[len(b)-8000:]
			}
			t.Logf("log of %s:\n%s", name, b)
		}
	})
	return p
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Alive tells whether the process is still running.
func (p *Process) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Exit waits up to d for the process to exit and returns its error (nil: exit 0); ok is false
// if it still runs.
func (p *Process) Exit(d time.Duration) (err error, ok bool) {
	select {
	case <-p.done:
		return p.err, true
	case <-time.After(d):
		return nil, false
	}
}

// Kill ends the process with SIGKILL.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Term sends SIGTERM and waits up to d (then SIGKILL); it returns how long the exit took.
func (p *Process) Term(d time.Duration) time.Duration {
	if !p.Alive() {
		return 0
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGCONT) // a paused process cannot exit
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(d):
		p.Kill()
	}
	return time.Since(start)
}

// Stop pauses the process (SIGSTOP); Cont resumes it.
func (p *Process) Stop() { _ = p.cmd.Process.Signal(syscall.SIGSTOP) }

// Cont resumes a paused process.
func (p *Process) Cont() { _ = p.cmd.Process.Signal(syscall.SIGCONT) }

// Output returns the process's log so far.
func (p *Process) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}
