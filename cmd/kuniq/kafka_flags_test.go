package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/kafka"
)

// kafkaCommands are the commands that talk to Kafka: each must take its connection flags
// from addKafkaFlags.
var kafkaCommands = []string{"run", "replay", "ingest", "view", "serve", "dlq", "compare"}

// TestKafkaFlagsAreDefinedOnce: every Kafka-facing command has --brokers with the one help
// text addKafkaFlags gives it, and only run and replay, which create stream topics, have
// --stream-retention.
func TestKafkaFlagsAreDefinedOnce(t *testing.T) {
	var want string
	for _, name := range kafkaCommands {
		flags := commandFlags(t, name)
		usage, ok := flags["brokers"]
		if !ok {
			t.Errorf("kuniq %s: no --brokers", name)
			continue
		}
		// The help's note of the other commands that read KUNIQ_BROKERS differs by command.
		usage, _, _ = strings.Cut(usage, "; also read by")
		if want == "" {
			want = usage
		}
		if usage != want {
			t.Errorf("kuniq %s --brokers: usage %q, want the shared %q", name, usage, want)
		}
		_, retention := flags["stream-retention"]
		if creates := name == "run" || name == "replay"; retention != creates {
			t.Errorf("kuniq %s: --stream-retention listed %v, want %v (only commands that create stream topics)", name, retention, creates)
		}
	}
	for _, name := range []string{"count", "gen"} {
		if _, ok := commandFlags(t, name)["brokers"]; ok {
			t.Errorf("kuniq %s lists --brokers, but it does not talk to Kafka", name)
		}
	}
}

// closedAddr is an address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestBrokerErrorHintsAtBrokersFlag: a command that finds no broker says where it looked and
// how to point it elsewhere.
func TestBrokerErrorHintsAtBrokersFlag(t *testing.T) {
	addr := closedAddr(t)
	_, _, err := kuniq(t, "ingest", "--brokers", addr, "--progress", "0", sampleFile)
	if err == nil {
		t.Fatalf("ingest with no broker at %s: err = nil", addr)
	}
	for _, want := range []string{addr, "--brokers", "KUNIQ_BROKERS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ingest with no broker: err %q lacks %q", err, want)
		}
	}
	if !errors.Is(err, sarama.ErrOutOfBrokers) {
		t.Errorf("ingest with no broker: err %v does not wrap sarama.ErrOutOfBrokers", err)
	}
}

func TestKafkaFlagsExplain(t *testing.T) {
	brokers := "a:9092, b:9092"
	timeout := kafka.DefaultTimeout
	kf := &kafkaFlags{brokers: &brokers, timeout: &timeout}
	other := errors.New("topic is gone")
	tests := []struct {
		name     string
		err      error
		wantHint bool
	}{
		{"nil", nil, false},
		{"not a connection error", other, false},
		{"no broker answered", fmt.Errorf("connect: %w", sarama.ErrOutOfBrokers), true},
		{"joined", errors.Join(other, fmt.Errorf("stage 1: %w", sarama.ErrOutOfBrokers)), true},
		{"kafka.ErrUnreachable (a silent broker)", fmt.Errorf("%w at a:9092: i/o timeout", kafka.ErrUnreachable), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kf.explain(tt.err)
			if !errors.Is(got, tt.err) && tt.err != nil {
				t.Errorf("explain(%v) = %v, which no longer wraps the error", tt.err, got)
			}
			hint := got != nil && strings.Contains(got.Error(), "set --brokers or KUNIQ_BROKERS") && strings.Contains(got.Error(), "a:9092,b:9092")
			if hint != tt.wantHint {
				t.Errorf("explain(%v) = %v: hint %v, want %v", tt.err, got, hint, tt.wantHint)
			}
		})
	}
}
