package kafka

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// PasswordEnv is the environment variable LoadPassword is meant to be given: the SASL password
// is read from it or from a file, never from a flag (a flag's value shows in `ps`, in shell
// history and in --help defaults).
const PasswordEnv = "KUNIQ_SASL_PASSWORD"

// maxPasswordFile bounds what LoadPassword reads: a password file is a few bytes; anything
// large is the wrong file.
const maxPasswordFile = 64 << 10

// Secret holds a credential. However it is printed (fmt with any verb, %#v included, JSON,
// encoding.TextMarshaler, log/slog) it shows "[redacted]", or nothing when it is empty; only
// Reveal returns the value. A Config or Security can therefore be logged and wrapped into
// errors without leaking the password.
type Secret struct {
	value string
}

// NewSecret wraps a credential.
func NewSecret(value string) Secret { return Secret{value: value} }

// Reveal returns the credential itself: for the client handshake, nothing else.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

const redacted = "[redacted]"

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString is what %#v prints.
func (s Secret) GoString() string { return fmt.Sprintf("kafka.Secret(%q)", s.String()) }

// Format prints String for every verb, so %x or %q cannot reveal the value either.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// MarshalText makes JSON and other text encoders write String.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue makes log/slog write String.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// LoadPassword returns the SASL password from envValue (the value of KUNIQ_SASL_PASSWORD) or
// from the file at path; an empty result and no error when neither is given. Trailing line
// breaks of the file are dropped (`echo secret > file` works); other whitespace is kept. Both
// given is an error rather than a silent precedence, and so is an empty or oversized file.
// Errors name the variable or the file, never any of its content.
func LoadPassword(envValue, path string) (Secret, error) {
	switch {
	case path != "" && envValue != "":
		return Secret{}, fmt.Errorf("sasl password: both %s and the password file %s are set: use one", PasswordEnv, path)
	case path == "":
		return NewSecret(envValue), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return Secret{}, fmt.Errorf("sasl password file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return Secret{}, fmt.Errorf("sasl password file %s: %w", path, err)
	}
	if len(b) > maxPasswordFile {
		return Secret{}, fmt.Errorf("sasl password file %s is over %d KiB: not a password file", path, maxPasswordFile>>10)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return Secret{}, fmt.Errorf("sasl password file %s: %w", path, errEmptyPassword)
	}
	return NewSecret(pw), nil
}

var errEmptyPassword = errors.New("empty password")
