package kafka

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/IBM/sarama"
)

// Mechanism is a SASL mechanism kuniq can authenticate with.
type Mechanism string

// The SASL mechanisms kuniq supports. SCRAM never sends the password, only a proof of it; PLAIN
// sends it as is and belongs only inside TLS.
const (
	MechanismNone        Mechanism = ""
	MechanismPlain       Mechanism = "PLAIN"
	MechanismSCRAMSHA256 Mechanism = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 Mechanism = "SCRAM-SHA-512"
)

// Mechanisms lists the supported mechanisms, for help texts.
var Mechanisms = []Mechanism{MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512}

// ErrMechanism is returned, wrapped, for a SASL mechanism kuniq does not support.
var ErrMechanism = errors.New("kafka: unknown sasl mechanism")

// ParseMechanism accepts a mechanism name in any case ("scram-sha-512"); "" means no SASL.
func ParseMechanism(s string) (Mechanism, error) {
	m := Mechanism(strings.ToUpper(strings.TrimSpace(s)))
	if m == MechanismNone || m.known() {
		return m, nil
	}
	return "", fmt.Errorf("%w %q: use %s", ErrMechanism, s, mechanismList())
}

func (m Mechanism) known() bool {
	for _, k := range Mechanisms {
		if m == k {
			return true
		}
	}
	return false
}

func mechanismList() string {
	names := make([]string, len(Mechanisms))
	for i, m := range Mechanisms {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// Security says how kuniq protects and authenticates its connections to Kafka. The zero value is
// a PLAINTEXT connection without authentication. It is meant to be filled from flags one to
// one (cmd/kuniq):
//
//	--tls                       TLS
//	--tls-ca FILE               CAFile
//	--tls-cert FILE             CertFile
//	--tls-key FILE              KeyFile
//	--tls-insecure-skip-verify  InsecureSkipVerify
//	--sasl-mechanism NAME       SASLMechanism (ParseMechanism)
//	--sasl-user NAME            SASLUser
//	--sasl-password-file FILE   SASLPassword = LoadPassword(os.Getenv(PasswordEnv), FILE)
//
// Files are read when a connection is made, not when the Config is built, so certificates
// rotated on disk are picked up by the next connection; Validate reads them once up front so
// that a wrong path fails at start-up.
type Security struct {
	// TLS turns TLS on. Any of the other TLS fields turns it on too.
	TLS bool
	// CAFile is a PEM file of the CA certificates that sign the brokers' certificates; empty
	// trusts the system's roots (what a managed cluster with a public CA needs).
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its private key for mutual TLS;
	// both or neither.
	CertFile, KeyFile string
	// InsecureSkipVerify accepts any broker certificate: the connection is encrypted but not
	// authenticated, so anyone on the path can read and change it. For debugging only; kuniq
	// warns whenever it is on.
	InsecureSkipVerify bool
	// SASLMechanism selects SASL authentication; MechanismNone disables it.
	SASLMechanism Mechanism
	// SASLUser is the SASL user name.
	SASLUser string
	// SASLPassword is the SASL password; see LoadPassword. It never appears in output.
	SASLPassword Secret
}

// TLSEnabled reports whether connections use TLS.
func (s Security) TLSEnabled() bool {
	return s.TLS || s.CAFile != "" || s.CertFile != "" || s.KeyFile != "" || s.InsecureSkipVerify
}

// SASLEnabled reports whether connections authenticate with SASL.
func (s Security) SASLEnabled() bool { return s.SASLMechanism != MechanismNone }

// Protocol is Kafka's name for the resulting security protocol (PLAINTEXT, SSL,
// SASL_PLAINTEXT or SASL_SSL): the listener of the broker this must match.
func (s Security) Protocol() string {
	switch {
	case s.TLSEnabled() && s.SASLEnabled():
		return "SASL_SSL"
	case s.TLSEnabled():
		return "SSL"
	case s.SASLEnabled():
		return "SASL_PLAINTEXT"
	}
	return "PLAINTEXT"
}

// String describes the settings without the password ("SASL_SSL (ca /etc/ca.pem,
// SCRAM-SHA-512 user kuniq, password set)").
func (s Security) String() string {
	var parts []string
	if s.TLSEnabled() {
		ca := "system roots"
		if s.CAFile != "" {
			ca = "ca " + s.CAFile
		}
		parts = append(parts, ca)
		if s.CertFile != "" {
			parts = append(parts, "client cert "+s.CertFile)
		}
		if s.InsecureSkipVerify {
			parts = append(parts, "INSECURE: broker certificate not verified")
		}
	}
	if s.SASLEnabled() {
		pw := "no password"
		if !s.SASLPassword.IsZero() {
			pw = "password set"
		}
		parts = append(parts, fmt.Sprintf("%s user %q, %s", s.SASLMechanism, s.SASLUser, pw))
	}
	if len(parts) == 0 {
		return s.Protocol()
	}
	return s.Protocol() + " (" + strings.Join(parts, ", ") + ")"
}

// Validate reports settings that cannot work: an unknown mechanism, a user without a mechanism
// or a password (or the other way round), a certificate without its key, and CA, certificate
// or key files that cannot be read or parsed. It never includes the password.
func (s Security) Validate() error {
	var errs []error
	if s.SASLMechanism != MechanismNone && !s.SASLMechanism.known() {
		errs = append(errs, fmt.Errorf("%w %q: use %s", ErrMechanism, string(s.SASLMechanism), mechanismList()))
	}
	switch {
	case s.SASLEnabled() && s.SASLUser == "":
		errs = append(errs, fmt.Errorf("sasl mechanism %s without a user (--sasl-user)", s.SASLMechanism))
	case !s.SASLEnabled() && s.SASLUser != "":
		errs = append(errs, fmt.Errorf("sasl user %q without a mechanism (--sasl-mechanism %s)", s.SASLUser, mechanismList()))
	}
	switch {
	case s.SASLEnabled() && s.SASLPassword.IsZero():
		errs = append(errs, fmt.Errorf("sasl mechanism %s without a password (%s or --sasl-password-file)", s.SASLMechanism, PasswordEnv))
	case !s.SASLEnabled() && !s.SASLPassword.IsZero():
		errs = append(errs, fmt.Errorf("sasl password given without a mechanism (--sasl-mechanism %s)", mechanismList()))
	}
	switch {
	case s.CertFile != "" && s.KeyFile == "":
		errs = append(errs, fmt.Errorf("tls client certificate %s without its key (--tls-key)", s.CertFile))
	case s.CertFile == "" && s.KeyFile != "":
		errs = append(errs, fmt.Errorf("tls client key %s without its certificate (--tls-cert)", s.KeyFile))
	case s.CertFile != "":
		if _, err := loadKeyPair(s.CertFile, s.KeyFile); err != nil {
			errs = append(errs, err)
		}
	}
	if s.CAFile != "" {
		if _, err := loadCA(s.CAFile); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Warnings returns what is allowed but unsafe: skipping certificate verification, and PLAIN
// without TLS (the password crosses the network as is). Sarama prints each once per process
// through Warn; a CLI may show them itself at start-up.
func (s Security) Warnings() []string {
	var w []string
	if s.InsecureSkipVerify {
		w = append(w, "TLS certificate verification is OFF (--tls-insecure-skip-verify): the broker is not authenticated; anyone on the network path can read and change the traffic and capture credentials")
		if s.CAFile != "" {
			w = append(w, fmt.Sprintf("--tls-ca %s is ignored while certificate verification is off", s.CAFile))
		}
	}
	if s.SASLMechanism == MechanismPlain && !s.TLSEnabled() {
		w = append(w, "SASL PLAIN without TLS sends the password in clear text: add --tls, or use SCRAM-SHA-512")
	}
	return w
}

// Warn receives the Security warnings, each once per process. It writes to standard error;
// a program with its own logger may replace it before building any Config.
var Warn = func(msg string) { fmt.Fprintln(os.Stderr, "kuniq: WARNING:", msg) }

var warned sync.Map

func warnOnce(msg string) {
	if _, dup := warned.LoadOrStore(msg, true); !dup {
		Warn(msg)
	}
}

// apply writes the settings into a sarama config for a cluster reached through seeds.
func (s Security) apply(sc *sarama.Config, seeds []string) {
	for _, w := range s.Warnings() {
		warnOnce(w)
	}
	var dialer *tlsDialer
	if s.TLSEnabled() {
		dialer = s.applyTLS(sc)
	}
	if s.SASLEnabled() {
		s.applySASL(sc)
	}
	if dialer != nil || s.SASLEnabled() {
		guardRetries(sc, s, seeds, dialer)
	}
}

func (s Security) applySASL(sc *sarama.Config) {
	sc.Net.SASL.Enable = true
	sc.Net.SASL.Handshake = true
	sc.Net.SASL.Version = sarama.SASLHandshakeV1
	sc.Net.SASL.User = s.SASLUser
	sc.Net.SASL.Password = s.SASLPassword.Reveal()
	switch s.SASLMechanism {
	case MechanismPlain:
		sc.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case MechanismSCRAMSHA256:
		sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		sc.Net.SASL.SCRAMClientGeneratorFunc = newSCRAMClient(sha256Hash)
	case MechanismSCRAMSHA512:
		sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		sc.Net.SASL.SCRAMClientGeneratorFunc = newSCRAMClient(sha512Hash)
	default:
		// Validate rejects it; sarama refuses an unknown mechanism by name too.
		sc.Net.SASL.Mechanism = sarama.SASLMechanism(s.SASLMechanism)
	}
}
