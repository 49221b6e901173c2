package kafka

import (
	"context"
	"errors"
)

// ErrUnreachable is returned, wrapped, when no broker of Config.Brokers could be reached or
// answered within Config.Timeout: a wrong address, a broker that is down, or one that accepts
// connections and never answers.
var ErrUnreachable = errors.New("kafka: no broker answered")

// call runs f, a blocking sarama call (bounded by Config.Timeout), and returns at once with
// ctx's error if ctx ends first: a signal is never held up by a silent broker. f then runs on
// in the background until its own timeout.
func call[T any](ctx context.Context, f func() (T, error)) (T, error) {
	if ctx.Err() != nil {
		var zero T
		return zero, ctx.Err()
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
