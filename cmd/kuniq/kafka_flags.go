package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/kafka"
)

// kafkaFlags are the connection flags of every Kafka-facing command (run, replay, ingest,
// view, serve, dlq, compare). This is the one place they are defined and turned into a
// kafka.Config, so a connection setting is added here once for all of them.
//
// The SASL password has no flag: a flag's value shows in `ps`, in shell history and in --help
// defaults. It is read from KUNIQ_SASL_PASSWORD or from --sasl-password-file, and only
// kafka.Secret ever holds it, which prints as "[redacted]".
type kafkaFlags struct {
	brokers *string
	timeout *time.Duration

	tls, insecure   *bool
	ca, cert, key   *string
	mechanism, user *string
	passwordFile    *string

	log *logFlags
	// slog is the command's logger, set by setup.
	slog *slog.Logger
}

func addKafkaFlags(fs *flagSet) *kafkaFlags {
	return &kafkaFlags{
		brokers:      fs.String("brokers", kafka.DefaultBrokers, "comma-separated Kafka bootstrap brokers (host:port)"),
		timeout:      fs.Duration("kafka-timeout", kafka.DefaultTimeout, "bound on every request to Kafka: dialing, each response, metadata and admin calls"),
		tls:          fs.Bool("tls", false, "connect to Kafka over TLS (on when any other --tls-* flag is given)"),
		ca:           fs.String("tls-ca", "", "PEM file of the CA certificates that sign the brokers' certificates (empty: the system's roots)"),
		cert:         fs.String("tls-cert", "", "PEM client certificate for mutual TLS (with --tls-key)"),
		key:          fs.String("tls-key", "", "PEM private key of --tls-cert"),
		insecure:     fs.Bool("tls-insecure-skip-verify", false, "accept any broker certificate: encrypted but NOT authenticated; for debugging only, warns at start"),
		mechanism:    fs.String("sasl-mechanism", "", "SASL authentication: "+mechanisms()+" (empty: none)"),
		user:         fs.String("sasl-user", "", "SASL user name"),
		passwordFile: fs.String("sasl-password-file", "", "file holding the SASL password (trailing newline dropped); or set "+kafka.PasswordEnv+" instead; the password itself is never a flag"),
		log:          addLogFlags(fs),
	}
}

// setup builds the command's logger (--log-level, --log-format); call it after parsing.
func (k *kafkaFlags) setup(stderr io.Writer) (*slog.Logger, error) {
	l, err := k.log.logger(stderr)
	if err != nil {
		return nil, err
	}
	k.slog = l
	return l, nil
}

func mechanisms() string {
	names := make([]string, len(kafka.Mechanisms))
	for i, m := range kafka.Mechanisms {
		names[i] = string(m)
	}
	return strings.Join(names, "|")
}

// config is kuniq's default Kafka configuration with the connection flags applied, validated:
// a wrong mechanism, an unreadable CA or key, a user without a password fail here, before any
// connection. No error carries the password.
func (k *kafkaFlags) config() (kafka.Config, error) {
	c := kafka.DefaultConfig()
	c.Brokers = kafka.ParseBrokers(*k.brokers)
	c.Timeout = *k.timeout
	m, err := kafka.ParseMechanism(*k.mechanism)
	if err != nil {
		return c, fmt.Errorf("--sasl-mechanism: %w", err)
	}
	pw, err := kafka.LoadPassword(os.Getenv(kafka.PasswordEnv), *k.passwordFile)
	if err != nil {
		return c, err
	}
	c.Security = kafka.Security{
		TLS: *k.tls, CAFile: *k.ca, CertFile: *k.cert, KeyFile: *k.key, InsecureSkipVerify: *k.insecure,
		SASLMechanism: m, SASLUser: *k.user, SASLPassword: pw,
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("kafka settings: %w", err)
	}
	log := k.slog
	if log == nil {
		log = commandLog()
	}
	for _, w := range c.Security.Warnings() {
		log.Warn("WARNING: " + w)
	}
	if c.Security.Protocol() != "PLAINTEXT" {
		log.Debug("kafka security", "settings", c.Security.String())
	}
	return c, nil
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
