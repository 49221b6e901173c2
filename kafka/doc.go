// Package kafka holds, in one place, how kuniq talks to Apache Kafka: the protocol version
// sarama speaks, the sarama.Config every Goka processor, view and emitter is built with, the
// topic manager settings (replication, retention, compaction) and topic creation.
//
// Why one place: Kafka 4 dropped the old protocol versions that Goka's default config asks
// for (V2_0_0_0 is still accepted by Kafka 4.1, but older clients' ApiVersions are not), and
// Goka's topic manager defaults (replication 2, 1 h stream retention) fail on a single broker
// or silently delete history. Every component goes through Config so they cannot disagree.
package kafka
