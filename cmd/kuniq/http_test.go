package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuniq/kuniq/metrics"
	"github.com/kuniq/kuniq/view"
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

// TestRunRoutes: run --http answers /api/v1/health from its metrics, also when the page's
// handler (whose own /api/v1/health says there is no pipeline) answers everything else.
func TestRunRoutes(t *testing.T) {
	m := metrics.New()
	m.Acked(42, nil)
	page := view.NewHandler(&pendingView{})
	for _, tc := range []struct {
		name     string
		page     http.Handler
		target   string
		code     int
		contains string
	}{
		{"health without page", nil, "/api/v1/health", http.StatusOK, `"frames_total":42`},
		{"no page", nil, "/", http.StatusNotFound, ""},
		{"health beside the page", page, "/api/v1/health", http.StatusOK, `"frames_total":42`},
		{"the page, waiting for its view", page, "/", http.StatusServiceUnavailable, "<svg"},
		{"metrics", page, "/metrics", http.StatusOK, "kuniq_frames_total 42"},
	} {
		rec := httptest.NewRecorder()
		routes(m, tc.page).ServeHTTP(rec, httptest.NewRequest("GET", tc.target, nil))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s: GET %s = %d %.120q, want %d with %q", tc.name, tc.target, rec.Code, rec.Body.String(), tc.code, tc.contains)
		}
	}
}
