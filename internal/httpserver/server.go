// Package httpserver is the HTTP server of `kuniq serve` and `kuniq run --http`, hardened for
// running next to a production cluster: it listens at once (a bad address fails at start,
// probes answer while the rest recovers), bounds every request (timeouts, header size), can
// require a bearer token for everything but /healthz, refuses foreign Host headers when bound
// to loopback (DNS rebinding), sets security headers on every response, and serves pprof only
// when asked to.
package httpserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"
)

// Config says how to serve.
type Config struct {
	// Addr is the listen address (host:port; port 0 picks one).
	Addr string
	// Token, if not empty, is required as "Authorization: Bearer <token>" on every route but
	// /healthz. Load it with LoadToken.
	Token Token
	// Pprof serves net/http/pprof under /debug/pprof/ (behind the token, if any).
	Pprof bool
	// Timeouts and the header limit; DefaultConfig's values suit probes, scrapes and the page.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
	// Log receives the server's records (nil: slog.Default()).
	Log *slog.Logger
}

// DefaultConfig returns the limits kuniq serves with: headers within 10 s and 64 KiB, the
// whole request within 30 s, the response within 60 s (a CPU profile takes ?seconds=N, keep N
// under it), idle keep-alive connections closed after 2 min.
func DefaultConfig(addr string) Config {
	return Config{
		Addr:              addr,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// Token is a bearer token. It prints as "[redacted]" however it is formatted.
type Token struct{ value string }

// TokenEnv is the environment variable LoadToken is meant to be given.
const TokenEnv = "KUNIQ_HTTP_TOKEN"

func (t Token) String() string {
	if t.value == "" {
		return ""
	}
	return "[redacted]"
}

// GoString is what %#v prints.
func (t Token) GoString() string { return "httpserver.Token(" + t.String() + ")" }

// LogValue makes log/slog write String.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// IsZero reports whether no token is set.
func (t Token) IsZero() bool { return t.value == "" }

// LoadToken returns the token from envValue (KUNIQ_HTTP_TOKEN's value) or the file at path
// (trailing line breaks dropped); both set is an error, neither is no token. Errors never
// show the token.
func LoadToken(envValue, path string) (Token, error) {
	switch {
	case envValue != "" && path != "":
		return Token{}, fmt.Errorf("http token: both %s and the token file %s are set: use one", TokenEnv, path)
	case path == "":
		return Token{value: strings.TrimSpace(envValue)}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Token{}, fmt.Errorf("http token file: %w", err)
	}
	if len(b) > 4096 {
		return Token{}, fmt.Errorf("http token file %s is over 4 KiB: not a token file", path)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" || strings.ContainsAny(v, " \t\r\n") {
		return Token{}, fmt.Errorf("http token file %s: empty, or whitespace inside the token", path)
	}
	return Token{value: v}, nil
}

// Server is a listening server; Serve runs it.
type Server struct {
	cfg      Config
	ln       net.Listener
	log      *slog.Logger
	loopback bool
}

// Listen binds cfg.Addr at once, so a bad or taken address is an error before anything else
// starts. Bound to a non-loopback address without a token it logs a warning: anyone who can
// reach the port can read the metrics and the API.
func Listen(cfg Config) (*Server, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, ln: ln, log: log, loopback: isLoopback(ln.Addr())}
	if !s.loopback && cfg.Token.IsZero() {
		log.Warn("WARNING: HTTP server on a non-loopback address without a token: anyone who reaches it can read it; set --http-token-file or "+TokenEnv,
			"addr", ln.Addr().String())
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// ReadyFunc reports whether the service is ready, and the reason when it is not.
type ReadyFunc func() (bool, string)

// Handler wraps routes with kuniq's probes and protections:
//
//	GET /healthz   200 "ok" while the process serves at all (no token needed: liveness)
//	GET /readyz    200 "ready", or 503 with the reason ready gives
//	/debug/pprof/  when Config.Pprof
//	anything else  routes
//
// Every response carries X-Content-Type-Options, X-Frame-Options, Referrer-Policy and a
// Content-Security-Policy of 'none' (a route that serves a page sets its own, stricter policy
// for it); with a token, all but /healthz answer 401 without it; bound to loopback, a request
// whose Host is not a loopback name answers 403.
func (s *Server) Handler(ready ReadyFunc, routes http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ok, why := ready(); !ok {
			w.Header().Set("Retry-After", "5")
			text(w, http.StatusServiceUnavailable, "not ready: "+why)
			return
		}
		text(w, http.StatusOK, "ready")
	})
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if routes != nil {
		mux.Handle("/", routes)
	}
	return s.protect(mux)
}

func (s *Server) protect(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.cfg.Token.value)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if s.loopback && !loopbackHost(r.Host) {
			text(w, http.StatusForbidden, "forbidden: Host "+fmt.Sprintf("%q", r.Host)+" is not a loopback name (this server is bound to loopback)")
			return
		}
		if !s.cfg.Token.IsZero() && r.URL.Path != "/healthz" {
			got := []byte(r.Header.Get("Authorization"))
			if subtle.ConstantTimeCompare(got, want) != 1 {
				h.Set("WWW-Authenticate", `Bearer realm="kuniq"`)
				text(w, http.StatusUnauthorized, "unauthorized: send Authorization: Bearer <token>")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// Serve serves h until ctx ends, then finishes the requests in flight (at most 5 s).
func (s *Server) Serve(ctx context.Context, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// isLoopback reports whether a listen address accepts loopback connections only.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// loopbackHost reports whether a Host header names this machine's loopback: localhost (or a
// name under .localhost), 127.0.0.0/8 or ::1, with any port.
func loopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
