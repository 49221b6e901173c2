// Package kafkatest gives integration tests a real broker and topics of their own.
//
// Integration tests are named TestIntegration*; `make test` runs them in a second pass with
// KUNIQ_BROKERS pointing at the broker scripts/kafka.sh started. Locally, without KUNIQ_BROKERS,
// they skip; under CI=true a missing broker is a failure, never a silent skip.
package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/kafka"
)

// Config returns the kafka.Config of the test broker, or skips (fails under CI) without one.
func Config(t testing.TB) kafka.Config {
	t.Helper()
	brokers := os.Getenv("KUNIQ_BROKERS")
	if brokers == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KUNIQ_BROKERS is not set under CI=true: integration tests need the broker (make kafka-up)")
		}
		t.Skip("KUNIQ_BROKERS not set: start a broker with `make kafka-up` and set KUNIQ_BROKERS=127.0.0.1:9092")
	}
	cfg := kafka.DefaultConfig()
	cfg.Brokers = kafka.ParseBrokers(brokers)
	cfg.ClientID = "kuniq-test"
	return cfg
}

// Ready is Config once the broker answers: it returns the config and a context that ends
// after timeout (and with the test), for the test's own waits.
func Ready(t testing.TB, timeout time.Duration) (kafka.Config, context.Context) {
	t.Helper()
	cfg := Config(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	if err := cfg.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return cfg, ctx
}

// Name returns a name unique to this test run ("<prefix>-<test>-<random>"), so topics and groups
// from an earlier run never meet this one.
func Name(t testing.TB, prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	test := strings.NewReplacer("/", "-", " ", "-", "#", "-").Replace(t.Name())
	return prefix + "-" + test + "-" + hex.EncodeToString(b[:])
}
