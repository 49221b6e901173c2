package kafka_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/internal/pki"
	"github.com/kuniq/kuniq/kafka"
)

// roundTrip creates a topic through cfg, produces n records with cfg's producer settings and
// reads them back through cfg: every client kuniq builds from a Config must work over it.
func roundTrip(t *testing.T, cfg kafka.Config, n int) {
	t.Helper()
	topic := kafkatest.Name(t, "secure")
	if err := cfg.EnsureTopics(kafka.Topic{Name: topic, Partitions: 2}); err != nil {
		t.Fatalf("EnsureTopics: %v", err)
	}
	producer, err := sarama.NewSyncProducer(cfg.Brokers, cfg.Sarama())
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	want := map[string]string{}
	var msgs []*sarama.ProducerMessage
	for i := range n {
		k, v := fmt.Sprintf("k%04d", i), fmt.Sprintf(`{"ts":%d,"uid":"%019x"}`, 1468244384+i, i)
		want[k] = v
		msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(k), Value: sarama.StringEncoder(v)})
	}
	if err := producer.SendMessages(msgs); err != nil {
		t.Fatalf("SendMessages: %v", err)
	}
	if err := producer.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := cfg.ReadAll(topic)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
	for _, r := range recs {
		if want[r.Key] != string(r.Value) {
			t.Fatalf("record %s = %q, want %q", r.Key, r.Value, want[r.Key])
		}
	}
}

// TestIntegrationSecureMechanisms: over the SASL_SSL listener, with each mechanism and with a
// client certificate on top, kuniq's admin, producer and consumer all work.
func TestIntegrationSecureMechanisms(t *testing.T) {
	s := kafkatest.SecureListener(t)
	cases := []struct {
		name string
		mech kafka.Mechanism
		mtls bool
	}{
		{"scram-sha-512", kafka.MechanismSCRAMSHA512, false},
		{"scram-sha-256", kafka.MechanismSCRAMSHA256, false},
		{"plain", kafka.MechanismPlain, false},
		{"scram-sha-512-client-cert", kafka.MechanismSCRAMSHA512, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := s.Config(t, tc.mech)
			if tc.mtls {
				cfg.Security.CertFile, cfg.Security.KeyFile = s.ClientCert(), s.ClientKey()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := cfg.WaitReady(ctx); err != nil {
				t.Fatal(err)
			}
			roundTrip(t, cfg, 300)
		})
	}
}

// foreignCA writes a CA that did not sign the broker's certificate, and a client certificate
// it signed, into dir.
func foreignCA(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("not the broker's CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.Issue(pki.Leaf{CommonName: kafkatest.SecureUser, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	for path, b := range map[string][]byte{caFile: ca.CertPEM(), certFile: cert, keyFile: key} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caFile, certFile, keyFile
}

// TestIntegrationSecureFailFast: every wrong setting fails the first thing kuniq does against
// a cluster (EnsureTopics, as `kuniq run` and `ingest` do) with an error that names the cause,
// that Permanent recognises, that never contains the password, and that comes back before one
// cycle of metadata retries (Retry.Max × Backoff, 5 s) could have passed: the cause was
// recognised, not retried.
func TestIntegrationSecureFailFast(t *testing.T) {
	s := kafkatest.SecureListener(t)
	plain := kafkatest.Config(t)
	foreign, _, _ := foreignCA(t)
	good := s.Config(t, kafka.MechanismSCRAMSHA512)
	password := good.Security.SASLPassword.Reveal()
	cases := []struct {
		name   string
		mutate func(*kafka.Config)
		is     error  // errors.Is target
		says   string // the message names the cause
	}{
		{"wrong password scram-sha-512", func(c *kafka.Config) { c.Security.SASLPassword = kafka.NewSecret(password + "x") },
			sarama.ErrSASLAuthenticationFailed, "invalid credentials"},
		{"wrong password scram-sha-256", func(c *kafka.Config) {
			c.Security.SASLMechanism = kafka.MechanismSCRAMSHA256
			c.Security.SASLPassword = kafka.NewSecret("not-" + password)
		}, sarama.ErrSASLAuthenticationFailed, "invalid credentials"},
		{"wrong password plain", func(c *kafka.Config) {
			c.Security.SASLMechanism = kafka.MechanismPlain
			c.Security.SASLPassword = kafka.NewSecret(strings.ToUpper(password))
		}, sarama.ErrSASLAuthenticationFailed, "Invalid username or password"},
		{"unknown user", func(c *kafka.Config) { c.Security.SASLUser = "mallory" },
			sarama.ErrSASLAuthenticationFailed, "invalid credentials"},
		{"wrong ca", func(c *kafka.Config) { c.Security.CAFile = foreign },
			kafka.ErrUntrusted, "not signed by the CA in " + foreign},
		{"system roots only", func(c *kafka.Config) { c.Security.TLS, c.Security.CAFile = true, "" },
			kafka.ErrUntrusted, "not signed by a CA in the system's roots"},
		{"tls to the plaintext listener", func(c *kafka.Config) {
			c.Brokers = plain.Brokers
		}, kafka.ErrTLSHandshake, "TLS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mutate(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v (the case must be wrong only against the broker)", err)
			}
			sc := cfg.Sarama()
			bound := time.Duration(sc.Metadata.Retry.Max) * sc.Metadata.Retry.Backoff
			start := time.Now()
			err := cfg.EnsureTopics(kafka.Topic{Name: kafkatest.Name(t, "never"), Partitions: 1})
			took := time.Since(start)
			t.Logf("failed after %v: %v", took.Round(time.Millisecond), err)
			if err == nil {
				t.Fatal("EnsureTopics succeeded")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error is not %v", tc.is)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error does not say %q", tc.says)
			}
			if !kafka.Permanent(err) {
				t.Errorf("Permanent(err) = false")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error contains the password")
			}
			if took >= bound {
				t.Errorf("took %v, want less than one metadata retry cycle (%v)", took, bound)
			}
		})
	}
}

// TestIntegrationSecureWithoutTLS: a client without TLS at the SASL_SSL listener cannot be told
// apart from a broker going away, so sarama retries it; the error still suggests --tls.
func TestIntegrationSecureWithoutTLS(t *testing.T) {
	cfg := kafkatest.SecureConfig(t)
	cfg.Security.CAFile = ""
	start := time.Now()
	err := cfg.EnsureTopics(kafka.Topic{Name: kafkatest.Name(t, "never"), Partitions: 1})
	t.Logf("failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if err == nil || !strings.Contains(err.Error(), "add --tls") {
		t.Fatalf("EnsureTopics = %v, want an error that suggests --tls", err)
	}
}

// TestIntegrationSecureFailFastVsSarama measures what the guard saves: the same wrong settings
// through sarama's own TLS and SASL (kuniq's retry settings, no kuniq dialer or guard) and
// through kuniq's Security. It logs both times and their ratio; it asserts only that each
// fails for the right reason (times are measurements, not asserts).
func TestIntegrationSecureFailFastVsSarama(t *testing.T) {
	s := kafkatest.SecureListener(t)
	foreign, _, _ := foreignCA(t)
	good := s.Config(t, kafka.MechanismPlain)
	cases := []struct {
		name       string
		ca         string
		pw         string
		is         error
		saramaSays string
	}{
		{"wrong password", s.CA(), "wrong", sarama.ErrSASLAuthenticationFailed, "SASL Authentication failed"},
		{"wrong ca", foreign, good.Security.SASLPassword.Reveal(), kafka.ErrUntrusted, "certificate signed by unknown authority"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := os.ReadFile(tc.ca)
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(b)
			plain := kafka.DefaultConfig()
			sc := plain.Sarama()
			sc.Net.TLS.Enable, sc.Net.TLS.Config = true, &tls.Config{RootCAs: pool}
			sc.Net.SASL.Enable, sc.Net.SASL.Mechanism = true, sarama.SASLTypePlaintext
			sc.Net.SASL.User, sc.Net.SASL.Password = kafkatest.SecureUser, tc.pw
			start := time.Now()
			_, serr := sarama.NewClusterAdmin(s.Brokers, sc)
			saramaTook := time.Since(start)

			cfg := good
			cfg.Security.CAFile, cfg.Security.SASLPassword = tc.ca, kafka.NewSecret(tc.pw)
			start = time.Now()
			err = cfg.EnsureTopics(kafka.Topic{Name: kafkatest.Name(t, "never"), Partitions: 1})
			kuniqTook := time.Since(start)
			t.Logf("sarama alone: %v; kuniq: %v (%.3f of sarama's)", saramaTook.Round(time.Millisecond),
				kuniqTook.Round(time.Millisecond), kuniqTook.Seconds()/saramaTook.Seconds())
			if serr == nil || !strings.Contains(serr.Error(), tc.saramaSays) {
				t.Errorf("sarama alone: %v, want %q", serr, tc.saramaSays)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("kuniq: %v, want %v", err, tc.is)
			}
		})
	}
}
