// Package kafka holds, in one place, how kuniq talks to Apache Kafka: the protocol version
// sarama speaks, the sarama.Config every Goka processor, view and emitter is built with, the
// connection's security (TLS and SASL), the topic manager settings (replication, retention,
// compaction) and topic creation.
//
// Why one place: Kafka 4 dropped the old protocol versions that Goka's default config asks
// for (V2_0_0_0 is still accepted by Kafka 4.1, but older clients' ApiVersions are not), and
// Goka's topic manager defaults (replication 2, 1 h stream retention) fail on a single broker
// or silently delete history. Every component goes through Config so they cannot disagree.
//
// Security: Config.Security turns on TLS (CA, client certificate for mutual TLS) and SASL
// (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). The password is a Secret, which no fmt verb, JSON or
// slog output reveals; LoadPassword reads it from KUNIQ_SASL_PASSWORD or a file. Wrong
// credentials and untrusted certificates fail within about a second with an error that names
// the cause (Permanent reports them), instead of after sarama's metadata retries.
//
// Durability: producers wait for every in-sync replica (acks=all); topics kuniq creates get
// min(3, brokers) replicas and, from three replicas on, min.insync.replicas 2.
package kafka
