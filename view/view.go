package view

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/window"
)

// ErrNoTable is returned, wrapped, by Open when the application's table topic does not exist:
// no `kuniq run --app <app>` has run against this cluster, or --app is misspelt.
var ErrNoTable = errors.New("view: no table")

// ErrNotRecovered is returned, wrapped, by queries made before the view has caught up with the
// table: their answer would miss rows.
var ErrNotRecovered = errors.New("view: not recovered yet")

// ErrClosed is returned, wrapped, by queries made after Run has started to close the storage,
// and by Run when it is called a second time (a Goka view runs once).
var ErrClosed = errors.New("view: closed")

// Config says which table to read and where to keep its local copy.
type Config struct {
	Kafka kafka.Config
	// App is the application id whose table is read ("kuniq" reads "kuniq-windows-table").
	App string
	// StateDir, if set, keeps the rows in LevelDB under StateDir/view across restarts;
	// empty keeps them in memory.
	StateDir string
	// AutoReconnect keeps the view running through broker errors (goka.WithViewAutoReconnect):
	// what a long-running server wants. Without it, Run returns the first error.
	AutoReconnect bool
	// Logger receives Goka's log lines; nil uses Goka's default (standard error).
	Logger goka.Logger
	// Retention per granularity, as `kuniq run` was given it (0 or absent: kept forever):
	// range queries use no window that may have been deleted.
	Retention map[window.Granularity]time.Duration
}

// DefaultConfig reads the default application's table, in memory, with run's default
// retention.
func DefaultConfig() Config {
	return Config{Kafka: kafka.DefaultConfig(), App: processor.DefaultApp, Retention: processor.DefaultConfig().Retention}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.App == "" {
		errs = append(errs, errors.New("empty app"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("view config: %w", err)
	}
	return nil
}

// Table is the topic the view reads.
func (c Config) Table() goka.Table { return processor.NamesFor(c.App).Table() }

// View is a recovered (or recovering) local copy of an application's window table.
type View struct {
	gv        *goka.View
	table     goka.Table
	retention map[window.Granularity]time.Duration

	// mu orders reads against shutdown: readers hold it shared; the first storage Close takes
	// it exclusively and sets closed, so no read runs on a closing LevelDB, and no read reaches
	// the goka.View after Run's close nils its partitions (goka view.go close()).
	mu     sync.RWMutex
	closed bool

	started atomic.Bool
	done    chan struct{} // closed when Run returns
	runErr  error         // Run's result, readable once done is closed
}

// Open checks that the table exists and builds the view. It starts nothing: call Run. opts
// are passed to goka.NewView after kuniq's own, so tests can add goka.WithViewTester (which
// then also skips the table check, as there is no broker to ask).
func Open(ctx context.Context, cfg Config, opts ...goka.ViewOption) (*View, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	table := cfg.Table()
	v := &View{table: table, retention: cfg.Retention, done: make(chan struct{})}
	sb := storage.MemoryBuilder()
	if cfg.StateDir != "" {
		sb = storage.DefaultBuilder(filepath.Join(cfg.StateDir, "view"))
	}
	base := []goka.ViewOption{
		goka.WithViewStorageBuilder(v.guard(sb)),
		goka.WithViewConsumerSaramaBuilder(func(brokers []string, clientID string) (sarama.Consumer, error) {
			sc := cfg.Kafka.Sarama()
			sc.ClientID = clientID
			return sarama.NewConsumer(brokers, sc)
		}),
		goka.WithViewTopicManagerBuilder(func(brokers []string) (goka.TopicManager, error) {
			return goka.NewTopicManager(brokers, cfg.Kafka.Sarama(), cfg.Kafka.TopicManager())
		}),
	}
	if cfg.AutoReconnect {
		base = append(base, goka.WithViewAutoReconnect())
	}
	if cfg.Logger != nil {
		base = append(base, goka.WithViewLogger(cfg.Logger))
	}
	if len(opts) == 0 {
		// With a tester (opts given) there is no broker to ask.
		if err := checkTable(ctx, cfg.Kafka, string(table)); err != nil {
			return nil, fmt.Errorf("open view of app %q: %w", cfg.App, err)
		}
	}
	gv, err := goka.NewView(cfg.Kafka.Brokers, table, processor.TableCodec{}, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("open view of app %q: %w", cfg.App, err)
	}
	v.gv = gv
	return v, nil
}

// checkTable returns ErrNoTable, wrapped, if topic does not exist or has no partitions.
func checkTable(ctx context.Context, kc kafka.Config, topic string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	type answer struct {
		n   int
		err error
	}
	// sarama takes no context: ask in a goroutine (bounded by sarama's own timeouts) so a
	// cancelled ctx returns at once.
	ch := make(chan answer, 1)
	go func() {
		sc := kc.Sarama()
		// kuniq's config retries metadata for 5 s so that a just-created topic is seen;
		// here a missing topic is the usual answer, and a typo should not cost 5 s.
		sc.Metadata.Retry.Max = 2
		sc.Metadata.Retry.Backoff = 200 * time.Millisecond
		client, err := sarama.NewClient(kc.Brokers, sc)
		if err != nil {
			ch <- answer{err: fmt.Errorf("connect to %v: %w", kc.Brokers, err)}
			return
		}
		defer client.Close()
		ps, err := client.Partitions(topic)
		ch <- answer{n: len(ps), err: err}
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case a := <-ch:
		switch {
		case errors.Is(a.err, sarama.ErrUnknownTopicOrPartition) || (a.err == nil && a.n == 0):
			return fmt.Errorf("%w: topic %q does not exist", ErrNoTable, topic)
		case a.err != nil:
			return fmt.Errorf("partitions of %q: %w", topic, a.err)
		}
		return nil
	}
}

// guard wraps the storage builder so that closing any partition's storage first waits for
// running reads and then turns further reads away (see View.mu).
func (v *View) guard(b storage.Builder) storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		st, err := b(topic, partition)
		if err != nil {
			return nil, err
		}
		return &guardedStorage{Storage: st, v: v}, nil
	}
}

type guardedStorage struct {
	storage.Storage
	v *View
}

func (g *guardedStorage) Close() error {
	g.v.mu.Lock()
	g.v.closed = true
	g.v.mu.Unlock()
	return g.Storage.Close()
}

// Run consumes the table until ctx is done (nil then) or, without AutoReconnect, until an error.
// It may be called once; the view is closed when it returns.
func (v *View) Run(ctx context.Context) error {
	if !v.started.CompareAndSwap(false, true) {
		return fmt.Errorf("run view of %s again: %w", v.table, ErrClosed)
	}
	err := v.gv.Run(ctx)
	if err != nil {
		err = fmt.Errorf("run view of %s: %w", v.table, err)
	}
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.runErr = err
	close(v.done)
	return err
}

// Recovered reports whether every partition has caught up with the table, so queries answer.
func (v *View) Recovered() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return !v.closed && v.gv.Recovered()
}

// WaitRecovered returns nil once the view has recovered; an error if ctx ends first or Run
// returned before recovery.
func (v *View) WaitRecovered(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !v.Recovered() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for view of %s to recover: %w", v.table, ctx.Err())
		case <-v.done:
			if v.runErr != nil {
				return v.runErr
			}
			return fmt.Errorf("wait for view of %s to recover: %w", v.table, ErrClosed)
		case <-t.C:
		}
	}
	return nil
}

// read runs f with the goka.View while holding off shutdown; it fails when not recovered.
func (v *View) read(f func(gv *goka.View) error) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.closed {
		return ErrClosed
	}
	if !v.gv.Recovered() {
		return ErrNotRecovered
	}
	return f(v.gv)
}
