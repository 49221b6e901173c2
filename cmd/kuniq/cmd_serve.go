package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/view"
	"github.com/kuniq/kuniq/window"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]  (HTTP: /api/v1/windows, /api/v1/windows/{granularity}/{start}, /api/v1/uniques?from=&to=, /api/v1/progress, /healthz, /readyz, and a live page at /)", stdout)
	vf := addViewFlags(fs)
	ret := addRetentionFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP listen address")
	hf := addHTTPFlags(fs)
	stateDir := fs.String("state-dir", "", "keep the table copy in LevelDB under DIR/view, so a restart replays only new rows (empty: in memory)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	cfg, err := vf.config(stderr)
	if err != nil {
		return err
	}
	log := commandLog()
	cfg.StateDir = *stateDir
	cfg.Retention = ret.config()
	// A server outlives broker restarts and leader moves; a one-shot view does not need to.
	cfg.AutoReconnect = true
	// Listen first: a bad --addr fails at once, and the probes answer while the table is
	// missing or recovering.
	srv, err := hf.listen(*addr, log)
	if err != nil {
		return err
	}
	q := &pendingView{}
	log.Info("kuniq serve", "app", cfg.App, "url", "http://"+srv.Addr().String()+"/", "kafka", cfg.Kafka.String(),
		"note", "answers 503 until the table is recovered")

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(ctx, srv.Handler(q.ready, view.NewHandler(q))) })
	g.Go(func() error {
		v, err := waitForTable(ctx, cfg)
		if err != nil {
			return err
		}
		q.v.Store(v)
		g.Go(func() error {
			if err := v.WaitRecovered(ctx); err == nil {
				log.Info("table recovered", "app", cfg.App)
			}
			return nil
		})
		return v.Run(ctx)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return vf.kafka.explain(err)
}

// waitForTable opens the app's view, waiting (with backoff, logged at its state changes) while
// the table does not exist yet or Kafka cannot be reached: `serve` may start before `run`.
func waitForTable(ctx context.Context, cfg view.Config) (*view.View, error) {
	missing := retry.NewOutage("serve: opening the window table of app "+cfg.App, commandLog())
	for attempt := 1; ; attempt++ {
		v, err := openView(ctx, cfg)
		if err == nil {
			missing.OK()
			return v, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		missing.Fail(err)
		retry.DefaultBackoff.Sleep(ctx, min(attempt, 6))
	}
}

// pendingView is the view once it exists: until then the API answers 503 as while recovering.
type pendingView struct{ v atomic.Pointer[view.View] }

func (p *pendingView) ready() (bool, string) {
	v := p.v.Load()
	switch {
	case v == nil:
		return false, "table not found yet: waiting for the app's window table (has `kuniq run` started?)"
	case !v.Recovered():
		return false, "table not recovered: the view is reading the table"
	}
	return true, "ready"
}

func (p *pendingView) Recovered() bool {
	v := p.v.Load()
	return v != nil && v.Recovered()
}

func (p *pendingView) Query(q view.Query) ([]codec.Result, error) {
	if v := p.v.Load(); v != nil {
		return v.Query(q)
	}
	return nil, view.ErrNotRecovered
}

func (p *pendingView) Get(k window.Key) (codec.Result, bool, error) {
	if v := p.v.Load(); v != nil {
		return v.Get(k)
	}
	return codec.Result{}, false, view.ErrNotRecovered
}

func (p *pendingView) Uniques(from, to int64) (view.Range, error) {
	if v := p.v.Load(); v != nil {
		return v.Uniques(from, to)
	}
	return view.Range{}, view.ErrNotRecovered
}

func (p *pendingView) Progress() (view.Progress, error) {
	if v := p.v.Load(); v != nil {
		return v.Progress()
	}
	return view.Progress{}, view.ErrNotRecovered
}
