package main

import (
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/internal/logging"
	"github.com/kuniq/kuniq/kafka"
)

// logFlags are --log-level and --log-format, which every Kafka-facing command has (addKafkaFlags
// adds them): the commands that run for long, and whose logs an operator collects.
type logFlags struct {
	level, format *string
}

func addLogFlags(fs *flagSet) *logFlags {
	return &logFlags{
		level:  fs.String("log-level", "info", "least severe log records written to stderr: "+logging.Levels),
		format: fs.String("log-format", "text", "log records as "+logging.Formats+" (json: one object per line, for log collectors)"),
	}
}

// current is the logger of the command running now. sarama's logger is one process-wide
// variable read by sarama's goroutines: it is set once, before any goroutine runs (init), to a
// forwarder, and commands change where it forwards to (in tests many commands run in one
// process).
var (
	current    atomic.Pointer[slog.Logger]
	libSarama  atomic.Pointer[logging.Library]
	discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))
)

func init() {
	libSarama.Store(logging.NewDebugLibrary(discardLog, "sarama"))
	sarama.Logger = saramaForwarder{}
	// kafka warns through this once per process; the commands log the warnings themselves at
	// start (kafkaFlags.config), every time.
	kafka.Warn = func(string) {}
}

type saramaForwarder struct{}

func (saramaForwarder) Print(v ...any)                 { libSarama.Load().Print(v...) }
func (saramaForwarder) Printf(format string, v ...any) { libSarama.Load().Printf(format, v...) }
func (saramaForwarder) Println(v ...any)               { libSarama.Load().Println(v...) }

// logger builds the command's logger from the flags and makes it the destination of slog's
// default, of sarama's logger and of kafka's security warnings.
func (f *logFlags) logger(stderr io.Writer) (*slog.Logger, error) {
	l, err := logging.New(stderr, *f.level, *f.format)
	if err != nil {
		return nil, err
	}
	current.Store(l)
	libSarama.Store(logging.NewDebugLibrary(l, "sarama"))
	slog.SetDefault(l)
	return l, nil
}

// gokaLogger is Goka's logger for the command's slog logger.
func gokaLogger(l *slog.Logger) goka.Logger { return logging.NewLibrary(l, "goka") }

// log is the command's logger once logger() ran, else one that writes nothing.
func commandLog() *slog.Logger {
	if l := current.Load(); l != nil {
		return l
	}
	return discardLog
}
