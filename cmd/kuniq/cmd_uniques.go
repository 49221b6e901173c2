package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/kuniq/kuniq/view"
)

func runUniques(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("uniques", "uniques --from T --to T [flags]  (unique users in [from, to) as one JSON object; T is unix seconds or RFC 3339)", stdout)
	vf := addViewFlags(fs)
	ret := addRetentionFlags(fs)
	fromS := fs.String("from", "", "start of the range, inclusive (unix seconds or RFC 3339)")
	toS := fs.String("to", "", "end of the range, exclusive (unix seconds or RFC 3339)")
	timeout := fs.Duration("timeout", 60*time.Second, "give up if the view has not recovered the table by then")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("uniques takes no arguments, got %q", fs.Args())
	}
	var bad outOfRange
	bad.check(*timeout > 0, "--timeout %v: want a duration > 0", *timeout)
	bad.check(*fromS != "" && *toS != "", "--from and --to are required (unix seconds or RFC 3339)")
	if err := bad.err(); err != nil {
		return err
	}
	from, err := view.ParseTime(*fromS)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to, err := view.ParseTime(*toS)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg, err := vf.config(stderr)
	if err != nil {
		return err
	}
	cfg.Retention = ret.config()
	v, err := openView(ctx, cfg)
	if err != nil {
		return vf.kafka.explain(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- v.Run(ctx) }()
	waitCtx, stopWait := context.WithTimeout(ctx, *timeout)
	err = v.WaitRecovered(waitCtx)
	stopWait()
	var r view.Range
	if err == nil {
		r, err = v.Uniques(from, to)
	}
	cancel()
	if rerr := <-runErr; err == nil {
		err = rerr
	}
	if err != nil {
		return vf.kafka.explain(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}
