package kafkatest

import "github.com/kuniq/kuniq/kafka"

// Record is one record read back from a topic.
type Record = kafka.Record

// ReadAll reads every record of topic that exists now (see kafka.Config.ReadAll).
func ReadAll(cfg kafka.Config, topic string) ([]Record, error) { return cfg.ReadAll(topic) }
