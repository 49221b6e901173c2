package kafkatest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kuniq/kuniq/kafka"
)

// The secure listener of the test broker (scripts/kafka.sh: SASL_SSL on KAFKA_PORT+2). `make
// test` sets both variables; `scripts/kafka.sh secure` prints them.
const (
	// SecureBrokersEnv names the SASL_SSL address ("127.0.0.1:9094").
	SecureBrokersEnv = "KUNIQ_SECURE_BROKERS"
	// SecureDirEnv names the directory with ca.pem, kuniq.password, client.pem and client.key.
	SecureDirEnv = "KUNIQ_SECURE_DIR"
	// SecureUser is the SCRAM/PLAIN user the script creates.
	SecureUser = "kuniq"
)

// Secure is the test broker's secure listener.
type Secure struct {
	Brokers []string
	Dir     string
}

// CA is the CA file clients trust.
func (s Secure) CA() string { return filepath.Join(s.Dir, "ca.pem") }

// PasswordFile holds SecureUser's password.
func (s Secure) PasswordFile() string { return filepath.Join(s.Dir, SecureUser+".password") }

// ClientCert and ClientKey are a client certificate signed by the CA, for mutual TLS.
func (s Secure) ClientCert() string { return filepath.Join(s.Dir, "client.pem") }
func (s Secure) ClientKey() string  { return filepath.Join(s.Dir, "client.key") }

// SecureListener returns the secure listener, or skips (fails under CI) without one.
func SecureListener(t testing.TB) Secure {
	t.Helper()
	brokers, dir := os.Getenv(SecureBrokersEnv), os.Getenv(SecureDirEnv)
	if brokers == "" || dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s and %s are not set under CI=true: the SASL_SSL tests need the broker's secure listener (make kafka-up; make integration sets them)", SecureBrokersEnv, SecureDirEnv)
		}
		t.Skipf("%s / %s not set: start the broker with `make kafka-up` and export what `scripts/kafka.sh secure` prints", SecureBrokersEnv, SecureDirEnv)
	}
	return Secure{Brokers: kafka.ParseBrokers(brokers), Dir: dir}
}

// SecureConfig returns a kafka.Config for the secure listener: TLS trusting the broker's CA,
// SCRAM-SHA-512 as SecureUser with the generated password.
func SecureConfig(t testing.TB) kafka.Config {
	t.Helper()
	s := SecureListener(t)
	return s.Config(t, kafka.MechanismSCRAMSHA512)
}

// Config returns a kafka.Config for the secure listener with mechanism m.
func (s Secure) Config(t testing.TB, m kafka.Mechanism) kafka.Config {
	t.Helper()
	pw, err := kafka.LoadPassword("", s.PasswordFile())
	if err != nil {
		t.Fatal(err)
	}
	cfg := kafka.DefaultConfig()
	cfg.Brokers = s.Brokers
	cfg.ClientID = "kuniq-test"
	cfg.Security = kafka.Security{CAFile: s.CA(), SASLMechanism: m, SASLUser: SecureUser, SASLPassword: pw}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}
