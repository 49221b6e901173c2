package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/retry"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/window"
)

// App is one kuniq application under test: its topics, its instances, its input.
type App struct {
	t          testing.TB
	kc         kafka.Config
	dir        string
	Name       string
	Input      string
	Output     string
	DLQ        string
	Partitions int
	// Flags are added to every instance's `kuniq run`.
	Flags []string
}

// NewApp names an application and its topics uniquely on the broker of kc.
func NewApp(t testing.TB, kc kafka.Config, name string, partitions int) *App {
	var b [3]byte
	_, _ = rand.Read(b[:])
	app := "chaos-" + name + "-" + hex.EncodeToString(b[:])
	return &App{t: t, kc: kc, dir: t.TempDir(), Name: app, Input: app + "-frames", Output: app + "-uniques",
		DLQ: app + "-dlq", Partitions: partitions}
}

// StateDir is the state directory of instance name (kept across its restarts).
func (a *App) StateDir(name string) string { return filepath.Join(a.dir, "state-"+name) }

// Start runs `kuniq run` instance name.
func (a *App) Start(name string, extra ...string) *Process {
	return Exec(a.t, a.dir, name, a.RunArgs(a.StateDir(name), extra...)...)
}

// RunArgs are the arguments of `kuniq run` for an instance of the app with state in stateDir.
func (a *App) RunArgs(stateDir string, extra ...string) []string {
	args := []string{"run", "--brokers", strings.Join(a.kc.Brokers, ","), "--app", a.Name,
		"--input", a.Input, "--output", a.Output, "--dlq", a.DLQ, "--partitions", strconv.Itoa(a.Partitions),
		"--state-dir", stateDir, "--idle-timeout", "3s", "--flush-interval", "200ms"}
	return append(append(args, a.Flags...), extra...)
}

// Dir is the app's scratch directory.
func (a *App) Dir() string { return a.dir }

// DeadLetters reads the dead-letter topic: the reason of each record, and the records.
func (a *App) DeadLetters() ([]codec.DeadLetter, error) {
	recs, err := a.kc.ReadAll(a.DLQ)
	if err != nil {
		return nil, err
	}
	var out []codec.DeadLetter
	for _, r := range recs {
		d, err := codec.DeadLetterFromKafka(r.Value, r.Headers)
		if err != nil {
			return nil, fmt.Errorf("dead letter %s: %w", r.Key, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Input is a generated input: its lines (in production order), their keys, and the truth.
type Input struct {
	Lines [][]byte
	Keys  [][]byte
	Truth []gen.WindowTruth
}

// Generate makes count challenge-shaped frames (seeded; ts advancing 1 s per 100 frames).
func Generate(t testing.TB, count int, seed uint64) Input {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Count, cfg.Seed, cfg.Pool, cfg.Rate, cfg.FrameBytes = count, seed, 20_000, 100, 600
	g, err := gen.New(cfg)
	must(t, err, "generator")
	var buf bytes.Buffer
	_, err = g.WriteTo(&buf)
	must(t, err, "generate")
	in := Input{Truth: g.Truth()}
	var d codec.FrameDecoder
	for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		key := []byte(nil)
		if f, err := d.Decode(l); err == nil {
			key = bytes.Clone(f.UID)
		}
		in.Lines, in.Keys = append(in.Lines, l), append(in.Keys, key)
	}
	return in
}

// Reference counts the lines with the engine `kuniq count` runs (all six granularities, the
// defaults of `kuniq run`): the undisturbed result every case must reproduce exactly.
func Reference(t testing.TB, lines [][]byte) map[window.Key]codec.Result {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.Granularities = window.All
	out := &collect{m: map[window.Key]codec.Result{}}
	c, err := engine.NewCounter(cfg, out)
	must(t, err, "counter")
	var d codec.FrameDecoder
	for i, l := range lines {
		c.Add(engine.Decode(&d, int64(i+1), l))
	}
	c.Close()
	return out.m
}

type collect struct{ m map[window.Key]codec.Result }

func (c *collect) Result(r codec.Result)       { c.m[r.Key()] = r }
func (c *collect) DeadLetter(codec.DeadLetter) {}

// Producer sends lines into a topic at a steady rate, riding out broker faults: a batch that
// fails is sent again (its records may then be written twice, which HLL union absorbs).
type Producer struct {
	kc    kafka.Config
	topic string
	in    Input
	rate  int
	// Sent counts records acknowledged; Resent records sent again after an error.
	Sent, Resent atomic.Int64
	done         chan struct{}
	err          error
}

// Produce starts sending in in the background, rate records a second.
func Produce(ctx context.Context, kc kafka.Config, topic string, in Input, rate int) *Producer {
	p := &Producer{kc: kc, topic: topic, in: in, rate: rate, done: make(chan struct{})}
	go func() { defer close(p.done); p.err = p.run(ctx) }()
	return p
}

// Wait waits until every line was sent (or ctx ended) and returns the error.
func (p *Producer) Wait() error { <-p.done; return p.err }

func (p *Producer) run(ctx context.Context) error {
	sc := p.kc.Sarama()
	sc.Producer.Return.Successes = true
	sc.Producer.Partitioner = sarama.NewHashPartitioner
	sc.Producer.RequiredAcks = sarama.WaitForAll
	var prod sarama.SyncProducer
	defer func() {
		if prod != nil {
			prod.Close()
		}
	}()
	const batch = 50
	interval := time.Duration(float64(time.Second) * batch / float64(p.rate))
	next := time.Now()
	outage := retry.NewOutage("chaos producer", nil)
	for i := 0; i < len(p.in.Lines); {
		msgs := make([]*sarama.ProducerMessage, 0, batch)
		for j := i; j < min(i+batch, len(p.in.Lines)); j++ {
			m := &sarama.ProducerMessage{Topic: p.topic, Value: sarama.ByteEncoder(p.in.Lines[j])}
			if p.in.Lines[j] == nil {
				m.Value = nil // a tombstone
			}
			if k := p.in.Keys[j]; k != nil {
				m.Key = sarama.ByteEncoder(k)
			}
			msgs = append(msgs, m)
		}
		for attempt := 1; len(msgs) > 0; attempt++ {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var err error
			if prod == nil {
				prod, err = sarama.NewSyncProducer(p.kc.Brokers, sc)
			}
			if err == nil {
				err = prod.SendMessages(msgs)
			}
			if err == nil {
				outage.OK()
				break
			}
			outage.Fail(err)
			var perrs sarama.ProducerErrors
			if errors.As(err, &perrs) {
				failed := make([]*sarama.ProducerMessage, 0, len(perrs))
				for _, pe := range perrs {
					failed = append(failed, pe.Msg)
				}
				p.Sent.Add(int64(len(msgs) - len(failed)))
				p.Resent.Add(int64(len(failed)))
				msgs = failed
			} else if prod != nil {
				prod.Close()
				prod = nil
			}
			retry.DefaultBackoff.Sleep(ctx, attempt)
		}
		p.Sent.Add(int64(len(msgs)))
		i += batch
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			next = time.Now()
		}
	}
	return nil
}

// Results reads the output topic: every record, and the latest record per window (highest
// revision; a final one wins over early ones of the same revision).
func (a *App) Results() ([]Record, map[window.Key]codec.Result, error) {
	recs, err := a.kc.ReadAll(a.Output)
	if err != nil {
		return nil, nil, err
	}
	var all []Record
	latest := map[window.Key]codec.Result{}
	for _, r := range recs {
		if r.Value == nil {
			continue
		}
		res, err := codec.ParseResult(r.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("output record %s: %w", r.Key, err)
		}
		all = append(all, Record{Result: res, At: r.Timestamp})
		prev, ok := latest[res.Key()]
		if !ok || res.Revision > prev.Revision || (res.Revision == prev.Revision && res.Final) {
			latest[res.Key()] = res
		}
	}
	return all, latest, nil
}

// Record is a result record and when Kafka got it.
type Record struct {
	codec.Result
	At time.Time
}

// WaitFinal polls the output until every window of ref has a final record with ref's uniques
// and the output has been quiet for settle, or timeout passes. It returns the last read.
func (a *App) WaitFinal(ref map[window.Key]codec.Result, timeout, settle time.Duration) ([]Record, map[window.Key]codec.Result) {
	deadline := time.Now().Add(timeout)
	var all []Record
	var latest map[window.Key]codec.Result
	lastN, quietSince := -1, time.Now()
	for {
		a2, l2, err := a.Results()
		if err == nil {
			all, latest = a2, l2
		}
		done := err == nil
		for k, r := range ref {
			if g, ok := latest[k]; !ok || !g.Final || g.Uniques != r.Uniques {
				done = false
				break
			}
		}
		if len(all) != lastN {
			lastN, quietSince = len(all), time.Now()
		}
		if done && time.Since(quietSince) >= settle {
			return all, latest
		}
		if time.Now().After(deadline) {
			return all, latest
		}
		time.Sleep(time.Second)
	}
}

// InputFrames counts, per minute window, the valid frames in the app's input topic as it is
// now: what an exact pipeline counts when a producer wrote some records twice.
func (a *App) InputFrames() (map[window.Key]int64, int64, error) {
	recs, err := a.kc.ReadAll(a.Input)
	if err != nil {
		return nil, 0, err
	}
	out := map[window.Key]int64{}
	var d codec.FrameDecoder
	for _, r := range recs {
		if len(r.Value) > processor.DefaultMaxFrameBytes {
			continue // a dead letter too_large, not a frame
		}
		if f, err := d.Decode(r.Value); err == nil {
			out[window.Key{Granularity: window.Minute, Start: window.Minute.Start(f.TS)}]++
		}
	}
	return out, int64(len(recs)), nil
}

// Outcome compares an application's results with the reference and the exact truth.
type Outcome struct {
	Windows     int      // windows of the reference
	Missing     int      // reference windows without a final record
	Different   []string // windows whose final uniques differ from the reference
	MaxErr      float64  // largest relative error of final uniques against the exact truth
	FramesLost  int64    // frames in the input topic the app does not count (minute windows)
	FramesExtra int64    // frames the app counts beyond those in the input topic (minute windows)
}

// Identical: every reference window is final with the reference's uniques.
func (o Outcome) Identical() bool { return o.Missing == 0 && len(o.Different) == 0 }

// Compare judges latest against ref (uniques), the frames in the input topic and the truth.
func Compare(latest, ref map[window.Key]codec.Result, frames map[window.Key]int64, truth []gen.WindowTruth) Outcome {
	o := Outcome{Windows: len(ref)}
	for k, r := range ref {
		g, ok := latest[k]
		if !ok || !g.Final {
			o.Missing++
			continue
		}
		if g.Uniques != r.Uniques {
			o.Different = append(o.Different, fmt.Sprintf("%s: %d, reference %d", k, g.Uniques, r.Uniques))
		}
		if n, ok := frames[k]; ok && k.Granularity == window.Minute {
			if g.Frames < n {
				o.FramesLost += n - g.Frames
			} else {
				o.FramesExtra += g.Frames - n
			}
		}
	}
	for _, w := range truth {
		gr, _ := window.ParseGranularity(w.Granularity)
		if g, ok := latest[window.Key{Granularity: gr, Start: w.Start}]; ok && w.Uniques > 0 {
			o.MaxErr = math.Max(o.MaxErr, math.Abs(float64(g.Uniques)-float64(w.Uniques))/float64(w.Uniques))
		}
	}
	return o
}

// LongestGap is the longest time between two consecutive result records from `from` on: how
// long the pipeline published nothing.
func LongestGap(all []Record, from time.Time) time.Duration {
	var ts []time.Time
	for _, r := range all {
		if !r.At.Before(from) {
			ts = append(ts, r.At)
		}
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	var gap time.Duration
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].Sub(ts[i-1]))
	}
	return gap
}

// RecoveredAfter is how long after `at` the first result record reached Kafka: how soon the
// pipeline published again after a fault ended (early results come every second while frames
// flow). It is -1 if nothing came after at.
func RecoveredAfter(all []Record, at time.Time) time.Duration {
	best := time.Duration(-1)
	for _, r := range all {
		if d := r.At.Sub(at); d >= 0 && (best < 0 || d < best) {
			best = d
		}
	}
	return best
}
