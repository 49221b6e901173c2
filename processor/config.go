package processor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/metrics"
	"github.com/kuniq/kuniq/window"
)

// Stage selects what one `kuniq run` process runs.
type Stage string

const (
	StageBoth    Stage = "both"
	StagePreAgg  Stage = "preagg"
	StageWindows Stage = "windows"
)

// Config is everything a processor instance needs.
type Config struct {
	Kafka kafka.Config
	Names Names
	// Input, Output and DeadLetter are the user-facing topics.
	Input, Output, DeadLetter goka.Stream
	// Partitions is used when kuniq creates a missing topic.
	Partitions int
	// Engine: granularities, precision and the event-time clock (per input partition).
	Engine engine.Config
	// IdleTimeout: an input partition without frames for this long stops holding windows open.
	IdleTimeout time.Duration
	// FlushInterval bounds how long counted frames wait in stage 1 before stage 2 sees them;
	// MaxPending flushes a partition early; reading stops at twice as many while flushes fail,
	// which also bounds what a crash makes the next owner read again.
	FlushInterval time.Duration
	MaxPending    int
	// EarlyInterval: stage 2 publishes a changed open window at most this often (0: finals only).
	EarlyInterval time.Duration
	// CorrectionInterval: stage 2 publishes at most one correction of a final window per
	// this much wall time after its previous record (0: every late partial at once); the last
	// one is always published, at the latest in the window's closed record.
	CorrectionInterval time.Duration
	// Retention per granularity, in event time after the window's end; 0 keeps it forever.
	Retention map[window.Granularity]time.Duration
	// StateDir holds stage 2's LevelDB tables, under StateDir/<app>; the default is
	// <os.TempDir()>/kuniq.
	StateDir string
	Stage    Stage
	// Decoders is the number of goroutines decoding stage 1's frames (0: one per core); a
	// single busy partition is decoded on all of them.
	Decoders int
	// MaxFrameBytes: a frame longer than this is a dead letter "too_large" holding its head
	// only, so no frame can make a dead letter over the producer's size limit.
	MaxFrameBytes int
	// HandoverTimeout bounds how long a revoked or stopping partition waits for its last flush
	// to be acknowledged before it leaves the records to be read again by its next owner.
	HandoverTimeout time.Duration
	// SharedOutput lets the app write into output and dead-letter topics that hold another
	// app's records (refused otherwise: ErrForeignTopic).
	SharedOutput bool
	// Logger receives kuniq's log records (nil: slog.Default()).
	Logger *slog.Logger
	// Metrics receives the events the metrics count (nil: none); Health, if not nil, is filled
	// in as the stages start, for /readyz and the state metrics.
	Metrics *metrics.Pipeline
	Health  *Health
	// Options are passed to every Goka processor after kuniq's own (tests plug in a tester).
	Options []goka.ProcessorOption
}

// DefaultConfig returns the defaults of `kuniq run`.
func DefaultConfig() Config {
	e := engine.DefaultConfig()
	e.Granularities = window.All
	return Config{
		Kafka:         kafka.DefaultConfig(),
		Names:         NamesFor(DefaultApp),
		Input:         DefaultInput,
		Output:        DefaultOutput,
		DeadLetter:    DefaultDeadLetter,
		Partitions:    4,
		Engine:        e,
		IdleTimeout:   10 * time.Second,
		FlushInterval: 500 * time.Millisecond,
		MaxPending:    20000,
		EarlyInterval: time.Second,
		// Frames up to 20 s late make one correction, two when stage 1 lags or the input
		// paused across the window's end (docs/design.md, "When a window is output").
		CorrectionInterval: 20 * time.Second,
		Retention: map[window.Granularity]time.Duration{
			window.Minute: 7 * 24 * time.Hour,
			window.Hour:   90 * 24 * time.Hour,
		},
		StateDir:        filepath.Join(os.TempDir(), "kuniq"),
		Stage:           StageBoth,
		MaxFrameBytes:   DefaultMaxFrameBytes,
		HandoverTimeout: 5 * time.Second,
	}
}

// DefaultMaxFrameBytes is the default frame size limit: 1 MiB, far above any real frame and
// far below the producer's limit (kafka.MaxMessageBytes), which a dead letter must fit.
const DefaultMaxFrameBytes = 1 << 20

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	var errs []error
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Engine.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Names.App == "" {
		errs = append(errs, errors.New("empty app id"))
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("partitions %d < 1", c.Partitions))
	}
	if c.FlushInterval <= 0 || c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("flush interval %v and idle timeout %v must be > 0", c.FlushInterval, c.IdleTimeout))
	}
	if c.MaxPending < 1 {
		errs = append(errs, fmt.Errorf("max pending %d < 1", c.MaxPending))
	}
	if c.EarlyInterval < 0 {
		errs = append(errs, fmt.Errorf("early interval %v < 0: use 0 for finals only", c.EarlyInterval))
	}
	if c.CorrectionInterval < 0 {
		errs = append(errs, fmt.Errorf("correction interval %v < 0: use 0 to publish every correction at once", c.CorrectionInterval))
	}
	if c.Decoders < 0 {
		errs = append(errs, fmt.Errorf("decoders %d < 0 (0: one per core)", c.Decoders))
	}
	if c.MaxFrameBytes < 1024 || c.MaxFrameBytes > kafka.MaxMessageBytes/2 {
		errs = append(errs, fmt.Errorf("max frame bytes %d outside 1024..%d (half the producer's limit)", c.MaxFrameBytes, kafka.MaxMessageBytes/2))
	}
	if c.HandoverTimeout <= 0 {
		errs = append(errs, fmt.Errorf("handover timeout %v must be > 0", c.HandoverTimeout))
	}
	for g, r := range c.Retention {
		if r < 0 {
			errs = append(errs, fmt.Errorf("%s retention %v < 0: use 0 to keep windows forever", g, r))
		}
		// A window deleted while frames may still reach it would come back with a partial count.
		if r > 0 && r < c.Engine.Clock.Lateness {
			errs = append(errs, fmt.Errorf("%s retention %v is shorter than the allowed lateness %v", g, r, c.Engine.Clock.Lateness))
		}
	}
	switch c.Stage {
	case StageBoth, StagePreAgg, StageWindows:
	default:
		errs = append(errs, fmt.Errorf("stage %q: want both, preagg or windows", c.Stage))
	}
	return errors.Join(errs...)
}
