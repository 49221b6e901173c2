package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/kuniq/kuniq/internal/httpserver"
	"github.com/kuniq/kuniq/metrics"
	"github.com/kuniq/kuniq/processor"
)

// httpFlags are the settings of kuniq's HTTP servers (serve, run --http) besides the address.
type httpFlags struct {
	tokenFile *string
	pprof     *bool
}

func addHTTPFlags(fs *flagSet) *httpFlags {
	return &httpFlags{
		tokenFile: fs.String("http-token-file", "", "file holding a bearer token the HTTP server requires on every route but /healthz; or set "+httpserver.TokenEnv+" (empty: no token)"),
		pprof:     fs.Bool("pprof", false, "also serve Go's profiler under /debug/pprof/ (behind the token, if any)"),
	}
}

// listen binds addr with the flags' token and pprof setting.
func (h *httpFlags) listen(addr string, log *slog.Logger) (*httpserver.Server, error) {
	tok, err := httpserver.LoadToken(os.Getenv(httpserver.TokenEnv), *h.tokenFile)
	if err != nil {
		return nil, err
	}
	cfg := httpserver.DefaultConfig(addr)
	cfg.Token, cfg.Pprof, cfg.Log = tok, *h.pprof, log
	return httpserver.Listen(cfg)
}

// runProcessor runs the processor; with --http it first listens there and serves /metrics,
// /healthz and /readyz for as long as the processor runs.
func runProcessor(ctx context.Context, cfg processor.Config, rf *runFlags, log *slog.Logger, run func(context.Context, processor.Config) error) error {
	if *rf.http == "" {
		return run(ctx, cfg)
	}
	srv, err := rf.httpf.listen(*rf.http, log)
	if err != nil {
		return err
	}
	m := metrics.New()
	h := processor.NewHealth(cfg.Stage)
	m.Watch(h)
	cfg.Metrics, cfg.Health = m, h
	log.Info("serving metrics", "url", "http://"+srv.Addr().String()+"/metrics", "probes", "/healthz /readyz", "pprof", *rf.httpf.pprof)
	g, gctx := errgroup.WithContext(ctx)
	sctx, stopServer := context.WithCancel(context.Background())
	g.Go(func() error {
		defer stopServer()
		return run(gctx, cfg)
	})
	g.Go(func() error {
		// The server outlives the processor's shutdown by nothing: it stops when Run returns.
		err := srv.Serve(sctx, srv.Handler(h.Ready, routes(m)))
		if ctx.Err() == nil && sctx.Err() == nil {
			return err // the server failed while the processor runs
		}
		return nil
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// routes are run --http's own routes: /metrics.
func routes(m *metrics.Pipeline) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}
