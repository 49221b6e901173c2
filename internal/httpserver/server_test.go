package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secret = "tok-3b1e-never-logged"

// start serves a handler with cfg's limits on a free loopback port (or cfg.Addr) until the
// test ends.
func start(t *testing.T, cfg Config, ready ReadyFunc, routes http.Handler) (*Server, string) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, s.Handler(ready, routes)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, "http://" + s.Addr().String()
}

func get(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func hello() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
}

func TestListenFailsAtOnce(t *testing.T) {
	for _, addr := range []string{"not-an-address", "127.0.0.1:99999"} {
		if _, err := Listen(DefaultConfig(addr)); err == nil {
			t.Errorf("Listen(%q) = nil error", addr)
		}
	}
}

func TestProbes(t *testing.T) {
	ready, why := false, "table not recovered: stage 2 is recovering"
	_, base := start(t, DefaultConfig(""), func() (bool, string) { return ready, why }, hello())
	tests := []struct {
		name     string
		path     string
		ready    bool
		wantCode int
		wantBody string
	}{
		{"alive while not ready", "/healthz", false, 200, "ok\n"},
		{"not ready gives the reason", "/readyz", false, 503, "not ready: table not recovered: stage 2 is recovering\n"},
		{"ready", "/readyz", true, 200, "ready\n"},
		{"the routes", "/anything", true, 200, "hello"},
	}
	for _, tt := range tests {
		ready = tt.ready
		code, _, body := get(t, base+tt.path)
		if code != tt.wantCode || body != tt.wantBody {
			t.Errorf("%s: GET %s = %d %q, want %d %q", tt.name, tt.path, code, body, tt.wantCode, tt.wantBody)
		}
	}
}

func TestToken(t *testing.T) {
	cfg := DefaultConfig("")
	cfg.Token = Token{value: secret}
	cfg.Pprof = true
	_, base := start(t, cfg, func() (bool, string) { return true, "" }, hello())
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"healthz needs no token", "/healthz", "", 200},
		{"readyz does", "/readyz", "", 401},
		{"routes do", "/metrics", "", 401},
		{"pprof does", "/debug/pprof/", "", 401},
		{"wrong token", "/metrics", "Bearer wrong", 401},
		{"token without Bearer", "/metrics", secret, 401},
		{"right token", "/metrics", "Bearer " + secret, 200},
		{"right token on readyz", "/readyz", "Bearer " + secret, 200},
		{"right token on pprof", "/debug/pprof/", "Bearer " + secret, 200},
	}
	for _, tt := range tests {
		var h []string
		if tt.auth != "" {
			h = []string{"Authorization", tt.auth}
		}
		code, hdr, body := get(t, base+tt.path, h...)
		if code != tt.want {
			t.Errorf("%s: GET %s = %d, want %d", tt.name, tt.path, code, tt.want)
		}
		if code == 401 && hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
		}
		if strings.Contains(body, secret) {
			t.Errorf("%s: the body shows the token", tt.name)
		}
	}
}

func TestPprofOnlyWhenAsked(t *testing.T) {
	_, base := start(t, DefaultConfig(""), func() (bool, string) { return true, "" }, nil)
	if code, _, _ := get(t, base+"/debug/pprof/"); code != 404 {
		t.Errorf("GET /debug/pprof/ without Pprof = %d, want 404", code)
	}
}

// TestHostCheck: bound to loopback, only loopback names are served (DNS rebinding).
func TestHostCheck(t *testing.T) {
	s, base := start(t, DefaultConfig(""), func() (bool, string) { return true, "" }, hello())
	port := s.Addr().(*net.TCPAddr).Port
	tests := []struct {
		host string
		want int
	}{
		{fmt.Sprintf("127.0.0.1:%d", port), 200},
		{fmt.Sprintf("localhost:%d", port), 200},
		{"LOCALHOST", 200},
		{"app.localhost:8080", 200},
		{fmt.Sprintf("[::1]:%d", port), 200},
		{"127.1.2.3", 200},
		{fmt.Sprintf("evil.example:%d", port), 403},
		{"10.0.0.1", 403},
		{"localhost.evil.example", 403},
	}
	for _, tt := range tests {
		if code, _, _ := get(t, base+"/x", "Host", tt.host); code != tt.want {
			t.Errorf("Host %q: %d, want %d", tt.host, code, tt.want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	_, base := start(t, DefaultConfig(""), func() (bool, string) { return true, "" }, hello())
	for _, path := range []string{"/healthz", "/readyz", "/page"} {
		_, h, _ := get(t, base+path)
		for name, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, name, got, want)
			}
		}
	}
}

// TestLimits: a header over MaxHeaderBytes is refused, and a client that never finishes its
// header is disconnected after ReadHeaderTimeout (slowloris).
func TestLimits(t *testing.T) {
	cfg := DefaultConfig("")
	cfg.MaxHeaderBytes = 4 << 10
	cfg.ReadHeaderTimeout = 200 * time.Millisecond
	s, base := start(t, cfg, func() (bool, string) { return true, "" }, hello())
	if code, _, _ := get(t, base+"/x", "X-Big", strings.Repeat("a", 16<<10)); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB header: %d, want 431", code)
	}
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n") // and never the blank line
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = bufio.NewReader(c).ReadString('\n')
	if took := time.Since(start); err == nil || took > 3*time.Second {
		t.Errorf("unfinished header: read %v after %v, want the connection closed after ~200ms", err, took)
	}
}

func TestNonLoopbackWithoutTokenWarns(t *testing.T) {
	tests := []struct {
		name, addr string
		token      Token
		warn       bool
	}{
		{"loopback", "127.0.0.1:0", Token{}, false},
		{"all interfaces, no token", "0.0.0.0:0", Token{}, true},
		{"all interfaces, token", "0.0.0.0:0", Token{value: secret}, false},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		cfg := DefaultConfig(tt.addr)
		cfg.Token = tt.token
		cfg.Log = slog.New(slog.NewTextHandler(&buf, nil))
		s, err := Listen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.ln.Close()
		if got := strings.Contains(buf.String(), "WARNING: HTTP server on a non-loopback address without a token"); got != tt.warn {
			t.Errorf("%s: warned %v, want %v (log %q)", tt.name, got, tt.warn, buf.String())
		}
		if strings.Contains(buf.String(), secret) {
			t.Errorf("%s: the log shows the token", tt.name)
		}
	}
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good", secret+"\n")
	tests := []struct {
		name, env, path string
		want            string
		wantErr         bool
	}{
		{name: "none"},
		{name: "env", env: secret, want: secret},
		{name: "file", path: good, want: secret},
		{name: "both", env: secret, path: good, wantErr: true},
		{name: "empty file", path: file("empty", "\n"), wantErr: true},
		{name: "space inside", path: file("space", "a b\n"), wantErr: true},
		{name: "missing file", path: filepath.Join(dir, "nope"), wantErr: true},
	}
	for _, tt := range tests {
		tok, err := LoadToken(tt.env, tt.path)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the token", tt.name)
		}
		if err == nil && tok.value != tt.want {
			t.Errorf("%s: token %q, want %q", tt.name, tok.value, tt.want)
		}
		if s := fmt.Sprintf("%v %s %#v %q %x", tok, tok, tok, tok, tok); tok.value != "" && strings.Contains(s, tok.value) {
			t.Errorf("%s: formatting shows the token: %s", tt.name, s)
		}
	}
}
