package processor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/kafka"
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
	// MaxPending flushes a partition early (each pending frame is held in memory by Goka).
	FlushInterval time.Duration
	MaxPending    int
	// EarlyInterval: stage 2 publishes a changed open window at most this often (0: finals only).
	EarlyInterval time.Duration
	// Retention per granularity, in event time after the window's end; 0 keeps it forever.
	Retention map[window.Granularity]time.Duration
	// StateDir holds stage 2's LevelDB tables, under StateDir/<app>; the default is
	// <os.TempDir()>/kuniq.
	StateDir string
	Stage    Stage
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
		Retention: map[window.Granularity]time.Duration{
			window.Minute: 7 * 24 * time.Hour,
			window.Hour:   90 * 24 * time.Hour,
		},
		StateDir: filepath.Join(os.TempDir(), "kuniq"),
		Stage:    StageBoth,
	}
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
