package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/kuniq/kuniq/view"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]  (HTTP: /api/v1/windows, /api/v1/windows/{granularity}/{start}, /api/v1/uniques?from=&to=, /api/v1/progress, /healthz, and a live page at /)", stdout)
	vf := addViewFlags(fs)
	ret := addRetentionFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP listen address")
	stateDir := fs.String("state-dir", "", "keep the table copy in LevelDB under DIR/view, so a restart replays only new rows (empty: in memory)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	cfg := vf.config(stderr)
	cfg.StateDir = *stateDir
	cfg.Retention = ret.config()
	// A server outlives broker restarts and leader moves; a one-shot view does not need to.
	cfg.AutoReconnect = true
	v, err := openView(ctx, cfg)
	if err != nil {
		return vf.kafka.explain(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: view.NewHandler(v), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "kuniq serve: app %q on http://%s/ (answers 503 until the table is recovered)\n", cfg.App, ln.Addr())

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return v.Run(ctx) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := v.WaitRecovered(ctx); err == nil {
			fmt.Fprintln(stderr, "kuniq serve: table recovered")
		}
		<-ctx.Done()
		// Finish the requests in flight, then let the view close its storage.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return vf.kafka.explain(g.Wait())
}
