package processor_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/internal/pki"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/view"
	"github.com/kuniq/kuniq/window"
)

// TestIntegrationSecurePipeline runs the whole pipeline over the broker's SASL_SSL listener
// (TLS with the broker's CA, SCRAM-SHA-512), through the Go APIs: historical ingest, a
// processor instance to final results, the view's read path and the output topic. Every
// window is final within the error bounds with exact frame counts, and the view agrees with
// the output topic window by window.
func TestIntegrationSecurePipeline(t *testing.T) {
	kc := kafkatest.SecureConfig(t)
	prefix := kafkatest.Name(t, "sec")
	app := prefix
	c := &cluster{t: t, kc: kc, dir: t.TempDir(), prefix: prefix, partitions: 4,
		input: prefix + "-frames", output: prefix + "-uniques", dlq: prefix + "-dlq"}
	gc := gen.DefaultConfig()
	gc.Count, gc.Seed, gc.Pool, gc.Rate, gc.FrameBytes = 6_000, 17, 1_500, 20, 400
	g, err := gen.New(gc)
	if err != nil {
		t.Fatal(err)
	}
	var frames bytes.Buffer
	if _, err := g.WriteTo(&frames); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := kc.EnsureTopics(kafka.Topic{Name: c.input, Partitions: c.partitions}); err != nil {
		t.Fatal(err)
	}
	ec := emitter.DefaultConfig()
	ec.Kafka, ec.Topic = kc, c.input
	in, err := emitter.NewIngest(ec)
	if err != nil {
		t.Fatal(err)
	}
	st, err := in.Run(ctx, &frames)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if st.Frames != int64(gc.Count) {
		t.Fatalf("ingested %d frames, want %d", st.Frames, gc.Count)
	}

	pc := processor.DefaultConfig()
	pc.Kafka = kc
	pc.Names = processor.NamesFor(app)
	pc.Input, pc.Output, pc.DeadLetter = goka.Stream(c.input), goka.Stream(c.output), goka.Stream(c.dlq)
	pc.Partitions = c.partitions
	pc.StateDir = filepath.Join(c.dir, "state")
	pc.IdleTimeout, pc.FlushInterval = 3*time.Second, 200*time.Millisecond
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- processor.Run(runCtx, pc) }()
	defer func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("processor.Run: %v", err)
		}
	}()

	latest := c.waitFinal(g.Truth(), 3*time.Minute)
	checkAccuracy(t, latest, g.Truth(), true)

	v, err := view.Open(ctx, view.Config{Kafka: kc, App: app})
	if err != nil {
		t.Fatalf("view.Open: %v", err)
	}
	viewCtx, stopView := context.WithCancel(ctx)
	viewDone := make(chan error, 1)
	go func() { viewDone <- v.Run(viewCtx) }()
	defer func() {
		stopView()
		if err := <-viewDone; err != nil {
			t.Errorf("view.Run: %v", err)
		}
	}()
	if err := v.WaitRecovered(ctx); err != nil {
		t.Fatal(err)
	}
	for _, w := range g.Truth() {
		gr, _ := window.ParseGranularity(w.Granularity)
		k := window.Key{Granularity: gr, Start: w.Start}
		// The table may be a flush behind the output topic for a moment: poll briefly.
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, ok, err := v.Get(k)
			if err != nil {
				t.Fatalf("view.Get(%s): %v", k, err)
			}
			out := latest[k]
			if ok && got.Final && got.Uniques == out.Uniques && got.Frames == out.Frames {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("view %s = %+v (found %v), output topic %+v", k, got, ok, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Logf("%d windows final over SASL_SSL; view and output topic agree", len(latest))
}

// TestIntegrationSecureWrongSettings: a wrong password or a wrong CA stops each Go entry point
// (processor.Run, ingest, view.Open) with an error naming the cause, well before sarama's
// metadata retries (10 × 500 ms) would have run out.
func TestIntegrationSecureWrongSettings(t *testing.T) {
	good := kafkatest.SecureConfig(t)
	password := good.Security.SASLPassword.Reveal()
	wrongPassword := good
	wrongPassword.Security.SASLPassword = kafka.NewSecret(password + "-wrong")
	wrongCA := good
	ca, err := pki.NewCA("someone else's CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wrongCA.Security.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(wrongCA.Security.CAFile, ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := kafkatest.Name(t, "secbad")
	// The input exists, so ingest gets as far as connecting.
	if err := good.EnsureTopics(kafka.Topic{Name: prefix + "-frames", Partitions: 1}); err != nil {
		t.Fatal(err)
	}

	entry := map[string]func(ctx context.Context, kc kafka.Config) error{
		"processor.Run": func(ctx context.Context, kc kafka.Config) error {
			pc := processor.DefaultConfig()
			pc.Kafka, pc.Names = kc, processor.NamesFor(prefix)
			pc.Input, pc.Output, pc.DeadLetter = goka.Stream(prefix+"-frames"), goka.Stream(prefix+"-uniques"), goka.Stream(prefix+"-dlq")
			pc.StateDir = t.TempDir()
			return processor.Run(ctx, pc)
		},
		"ingest": func(ctx context.Context, kc kafka.Config) error {
			ec := emitter.DefaultConfig()
			ec.Kafka, ec.Topic = kc, prefix+"-frames"
			in, err := emitter.NewIngest(ec)
			if err != nil {
				return err
			}
			_, err = in.Run(ctx, strings.NewReader(`{"ts":1468244384,"uid":"a"}`+"\n"))
			return err
		},
		"view.Open": func(ctx context.Context, kc kafka.Config) error {
			v, err := view.Open(ctx, view.Config{Kafka: kc, App: prefix})
			if err == nil {
				err = errors.New("opened")
				_ = v
			}
			return err
		},
	}
	settings := []struct {
		name string
		kc   kafka.Config
		is   error
		says string
	}{
		{"wrong password", wrongPassword, sarama.ErrSASLAuthenticationFailed, "SASL Authentication failed"},
		{"wrong ca", wrongCA, kafka.ErrUntrusted, "not signed by the CA in " + wrongCA.Security.CAFile},
	}
	bound := time.Duration(good.Sarama().Metadata.Retry.Max) * good.Sarama().Metadata.Retry.Backoff
	for _, s := range settings {
		for _, name := range []string{"processor.Run", "ingest", "view.Open"} {
			t.Run(s.name+"/"+name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				start := time.Now()
				err := entry[name](ctx, s.kc)
				took := time.Since(start)
				t.Logf("%v: %v", took.Round(time.Millisecond), err)
				switch {
				case err == nil:
					t.Fatal("no error")
				case !errors.Is(err, s.is) || !strings.Contains(err.Error(), s.says):
					t.Errorf("error is not %v saying %q", s.is, s.says)
				case strings.Contains(err.Error(), password):
					t.Errorf("the error contains the password")
				}
				if took >= bound {
					t.Errorf("took %v, want less than one metadata retry cycle (%v)", took, bound)
				}
			})
		}
	}
}
