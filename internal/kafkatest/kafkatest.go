// Package kafkatest gives integration tests a real broker and topics of their own.
//
// Integration tests are named TestIntegration*; `make test` runs them in a second pass with
// KUNIQ_BROKERS pointing at the broker scripts/kafka.sh started. Locally, without KUNIQ_BROKERS,
// they skip; under CI=true a missing broker is a failure, never a silent skip.
package kafkatest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

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

// Name returns a name unique to this test run ("<prefix>-<test>-<random>"), so topics and groups
// from an earlier run never meet this one.
func Name(t testing.TB, prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	test := strings.NewReplacer("/", "-", " ", "-", "#", "-").Replace(t.Name())
	return prefix + "-" + test + "-" + hex.EncodeToString(b[:])
}
