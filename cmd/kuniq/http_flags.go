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
	"github.com/kuniq/kuniq/view"
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
// /api/v1/health, /healthz and /readyz for as long as the processor runs, and, when this
// process runs stage 2 and --http-page is on, the page and the query API from a view of the
// app's table (what `kuniq serve` answers, with this instance's pipeline numbers beside it).
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
	var page http.Handler
	if *rf.httpPage && cfg.Stage != processor.StagePreAgg {
		q := &pendingView{}
		page = view.NewHandler(q)
		log.Info("serving the page", "url", "http://"+srv.Addr().String()+"/", "note", "answers 503 until its view has recovered the table")
		g.Go(func() error {
			// The page is a window on the pipeline, not part of it: its view failing is logged
			// and leaves the processor running.
			if err := runPageView(sctx, cfg, q); err != nil && sctx.Err() == nil {
				log.Error("page view stopped; the page answers 503", "err", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer stopServer()
		return run(gctx, cfg)
	})
	g.Go(func() error {
		// The server outlives the processor's shutdown by nothing: it stops when Run returns.
		err := srv.Serve(sctx, srv.Handler(h.Ready, routes(m, page)))
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

// routes are run --http's own routes: /metrics, and /api/v1/health (the same registry read as
// JSON for the page); page, when not nil, answers the rest.
func routes(m *metrics.Pipeline, page http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("GET /api/v1/health", m.HealthHandler())
	if page != nil {
		mux.Handle("/", page)
	}
	return mux
}

// runPageView opens a view of the app's table for the page (once stage 2 has created it) and
// runs it until ctx ends. Its rows live under the processor's state directory (view/), so a
// restart replays only what is new.
func runPageView(ctx context.Context, cfg processor.Config, q *pendingView) error {
	vc := view.Config{Kafka: cfg.Kafka, App: cfg.Names.App, StateDir: cfg.StateDir, AutoReconnect: true,
		Retention: cfg.Retention, Logger: gokaLogger(cfg.Logger)}
	vc.Kafka.ClientID = "kuniq-view"
	v, err := waitForTable(ctx, vc)
	if err != nil {
		return err
	}
	q.v.Store(v)
	return v.Run(ctx)
}
