package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/kafka"
)

// kafkaFlags are the connection flags of every Kafka-facing command (run, replay, ingest,
// view, serve, dlq, compare). This is the one place they are defined and turned into a
// kafka.Config, so a connection setting (TLS, SASL) is added here once for all of them.
type kafkaFlags struct {
	brokers *string
	timeout *time.Duration
}

func addKafkaFlags(fs *flagSet) *kafkaFlags {
	return &kafkaFlags{
		brokers: fs.String("brokers", kafka.DefaultBrokers, "comma-separated Kafka bootstrap brokers (host:port)"),
		timeout: fs.Duration("kafka-timeout", kafka.DefaultTimeout, "bound on every request to Kafka: dialing, each response, metadata and admin calls"),
	}
}

// config is kuniq's default Kafka configuration with the connection flags applied.
func (k *kafkaFlags) config() kafka.Config {
	c := kafka.DefaultConfig()
	c.Brokers = kafka.ParseBrokers(*k.brokers)
	c.Timeout = *k.timeout
	return c
}

// explain adds to an error that says no broker answered where kuniq looked, and how to
// point it elsewhere.
func (k *kafkaFlags) explain(err error) error {
	if err == nil || !(errors.Is(err, sarama.ErrOutOfBrokers) || errors.Is(err, kafka.ErrUnreachable)) {
		return err
	}
	return fmt.Errorf("%w\n(no Kafka broker answered at %s within --kafka-timeout %v: is it running there? set --brokers or %s)",
		err, strings.Join(kafka.ParseBrokers(*k.brokers), ","), *k.timeout, envName("brokers"))
}
