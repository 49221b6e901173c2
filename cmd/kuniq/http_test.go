package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a stderr that a running command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// background runs a command until the test ends it; stop returns its error.
func background(t *testing.T, args ...string) (stderr *lockedBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, stderr) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stderr, stop
}

// waitHTTP polls url until it answers, and returns the status and body.
func waitHTTP(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeListensAtOnce(t *testing.T) {
	if _, _, err := kuniq(t, "serve", "--addr", "127.0.0.1:99999", "--brokers", closedAddr(t)); err == nil || !strings.Contains(err.Error(), "listen on 127.0.0.1:99999") {
		t.Errorf("serve --addr 127.0.0.1:99999: err = %v, want a listen error at once", err)
	}
	if _, _, err := kuniq(t, "run", "--http", "256.0.0.1:1", "--brokers", closedAddr(t)); err == nil || !strings.Contains(err.Error(), "listen on 256.0.0.1:1") {
		t.Errorf("run --http 256.0.0.1:1: err = %v, want a listen error at once", err)
	}
}

// TestServeWaitsForTable: with no broker (so no table), serve keeps running: alive, not ready,
// with the reason, and the API answers 503 rather than the process exiting.
func TestServeWaitsForTable(t *testing.T) {
	addr := closedAddr(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cr3t-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, stop := background(t, "serve", "--addr", addr, "--brokers", closedAddr(t), "--kafka-timeout", "500ms", "--http-token-file", tokenFile)
	base := "http://" + addr
	auth := []string{"Authorization", "Bearer s3cr3t-token"}
	tests := []struct {
		path     string
		header   []string
		wantCode int
		wantBody string
	}{
		{"/healthz", nil, 200, "ok"},
		{"/readyz", nil, 401, "unauthorized"},
		{"/readyz", auth, 503, "not ready: table not found yet"},
		{"/api/windows", auth, 503, "recovering"},
		{"/", auth, 503, "<!doctype html>"},
	}
	for _, tt := range tests {
		code, body := waitHTTP(t, base+tt.path, tt.header...)
		if code != tt.wantCode || !strings.Contains(strings.ToLower(body), strings.ToLower(tt.wantBody)) {
			t.Errorf("GET %s = %d %q, want %d and %q", tt.path, code, body, tt.wantCode, tt.wantBody)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "opening the window table") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Errorf("serve stopped with %v, want nil", err)
	}
	if s := stderr.String(); strings.Contains(s, "s3cr3t-token") || !strings.Contains(s, "opening the window table") {
		t.Errorf("stderr %q: want the wait logged, and never the token", s)
	}
}
