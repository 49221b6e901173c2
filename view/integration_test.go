package view

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/window"
)

// emitRows writes rows into the table topic the way stage 2 does: a Goka producer, so keys land
// on the partitions Goka's FNV-1a hasher (and so the view's Get) expects.
func emitRows(t *testing.T, kc kafka.Config, table goka.Table, rows map[string]any) {
	t.Helper()
	em, err := goka.NewEmitter(kc.Brokers, goka.Stream(table), processor.TableCodec{},
		goka.WithEmitterProducerBuilder(goka.ProducerBuilderWithConfig(kc.Sarama())))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for k, v := range rows {
		p, err := em.Emit(k, v)
		if err != nil {
			t.Fatal(err)
		}
		p.Then(func(err error) {
			if err != nil {
				errs = append(errs, err) // Then runs on the producer's goroutine; read after Finish
			}
		})
	}
	if err := em.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func runView(t *testing.T, cfg Config) (*View, context.CancelFunc) {
	t.Helper()
	v, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := v.WaitRecovered(wctx); err != nil {
		stop()
		t.Fatal(err)
	}
	return v, stop
}

// TestIntegrationView writes a table to the real broker as the pipeline would, then checks that
// a view recovers it (in memory and in LevelDB, twice), that Windows, Get, Progress and the
// HTTP API return those rows, and that a row updated while the view runs shows up.
func TestIntegrationView(t *testing.T) {
	kc, _ := kafkatest.Ready(t, 60*time.Second)
	app := kafkatest.Name(t, "kuniq")
	table := processor.NamesFor(app).Table()
	const partitions = 4
	if err := kc.EnsureTopics(kafka.Topic{Name: string(table), Partitions: partitions, Compact: true}); err != nil {
		t.Fatal(err)
	}
	rows := testRows(t)
	// testRows' control keys must be real ones: the rows of two of the four partitions.
	for _, k := range []string{"ctl/0", "ctl/3"} {
		if !slices.Contains(processor.ControlKeys(partitions), k) {
			t.Fatalf("%s is not a control key of %d partitions: %v", k, partitions, processor.ControlKeys(partitions))
		}
	}
	emitRows(t, kc, table, rows)

	cfg := DefaultConfig()
	cfg.Kafka = kc
	cfg.App = app
	cfg.Logger = testLogger{t}

	t.Run("missing table", func(t *testing.T) {
		c := cfg
		c.App = app + "-missing"
		if _, err := Open(context.Background(), c); !errors.Is(err, ErrNoTable) {
			t.Fatalf("Open(missing app) = %v, want ErrNoTable", err)
		}
		// And asking did not create it (on a broker with auto.create.topics.enable=true).
		if err := checkTable(context.Background(), kc, string(c.Table())); !errors.Is(err, ErrNoTable) {
			t.Errorf("after Open(missing app) the table check = %v, want ErrNoTable", err)
		}
	})

	check := func(t *testing.T, v *View) {
		t.Helper()
		got, err := v.Windows(window.Minute, math.MinInt64, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{60, 1468244340, 1468244400, 1468244460}
		if !slices.Equal(starts(got), want) {
			t.Errorf("Windows(minute) starts = %v, want %v", starts(got), want)
		}
		for _, r := range got {
			src := rows[r.Key().String()].(*processor.WindowState)
			if w := src.Result(r.Key()); r != w {
				t.Errorf("Windows: %+v, want %+v", r, w)
			}
		}
		r, ok, err := v.Get(hour(1468242000))
		if err != nil || !ok || r.Uniques != 250 || r.Frames != 417 {
			t.Errorf("Get(hour) = %+v, %v, %v; want 250 uniques, 417 frames", r, ok, err)
		}
		p, err := v.Progress()
		if err != nil || p.Partitions != 2 || p.Watermark != 1468244380 || len(p.Inputs) != 3 {
			t.Errorf("Progress() = %+v, %v; want 2 partitions, watermark 1468244380, 3 inputs", p, err)
		}
	}

	t.Run("memory", func(t *testing.T) {
		v, stop := runView(t, cfg)
		defer stop()
		check(t, v)

		srv := httptest.NewServer(NewHandler(v))
		defer srv.Close()
		res, err := http.Get(srv.URL + "/api/windows?granularity=minute&from=2016-07-11T13:39:00Z&limit=2")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var rs []codec.Result
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &rs) != nil {
			t.Fatalf("GET /api/windows = %d %s", res.StatusCode, body)
		}
		if got, want := starts(rs), []int64{1468244400, 1468244460}; !slices.Equal(got, want) {
			t.Errorf("GET /api/windows starts = %v, want %v", got, want)
		}
		res, err = http.Get(srv.URL + "/api/windows/minute/1468244340")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if r, err := codec.ParseResult(body); err != nil || r.Uniques != 100 || !r.Final || r.Revision != 1 {
			t.Errorf("GET /api/windows/minute/1468244340 = %d %s (%v), want 100 uniques, final, revision 1", res.StatusCode, body, err)
		}

		// A row written while the view runs reaches it (the pipeline finalising a window).
		update := &processor.WindowState{Count: engine.Count{Sketch: newSketch(t, 300, 50), Frames: 400, Final: true}}
		emitRows(t, kc, table, map[string]any{minute(1468244400).String(): update})
		deadline := time.Now().Add(20 * time.Second)
		for {
			r, ok, err := v.Get(minute(1468244400))
			if err == nil && ok && r.Final && r.Frames == 400 && r.Uniques == update.Sketch.Estimate() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("updated row not seen: %+v, %v, %v", r, ok, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		rows[minute(1468244400).String()] = update
	})

	t.Run("state dir", func(t *testing.T) {
		c := cfg
		c.StateDir = t.TempDir()
		for range 2 { // the second start resumes from the LevelDB offsets
			v, stop := runView(t, c)
			check(t, v)
			stop()
		}
	})
}

// testLogger sends Goka's log lines to the test log.
type testLogger struct{ t *testing.T }

func (l testLogger) Print(v ...any)                 { l.t.Log(v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(v...) }
func (l testLogger) Printf(format string, v ...any) { l.t.Logf(format, v...) }
