package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuniq/kuniq/internal/pki"
	"github.com/kuniq/kuniq/kafka"
)

// securityFlags are the flags of issue 8 that every Kafka-facing command must have.
var securityFlags = []string{"tls", "tls-ca", "tls-cert", "tls-key", "tls-insecure-skip-verify",
	"sasl-mechanism", "sasl-user", "sasl-password-file", "log-level", "log-format"}

func TestSecurityFlagsOnEveryKafkaCommand(t *testing.T) {
	for _, name := range kafkaCommands {
		flags := commandFlags(t, name)
		for _, f := range securityFlags {
			if _, ok := flags[f]; !ok {
				t.Errorf("kuniq %s: no --%s", name, f)
			}
		}
		for f := range flags {
			if strings.Contains(f, "password") && f != "sasl-password-file" {
				t.Errorf("kuniq %s has --%s: the password must never be a flag", name, f)
			}
		}
	}
	for _, name := range []string{"count", "gen"} {
		if _, ok := commandFlags(t, name)["tls"]; ok {
			t.Errorf("kuniq %s lists --tls, but it does not talk to Kafka", name)
		}
	}
}

// pemFiles writes a CA and a client certificate with its key into dir.
func pemFiles(t *testing.T) (ca, cert, key string) {
	t.Helper()
	dir := t.TempDir()
	a, err := pki.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, k, err := a.Issue(pki.Leaf{CommonName: "client", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	for name, b := range map[string][]byte{ca: a.CertPEM(), cert: c, key: k} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, cert, key
}

// parseKafka parses args as a Kafka-facing command would and returns the configuration.
func parseKafka(t *testing.T, args ...string) (kafka.Config, error) {
	t.Helper()
	fs := newFlagSet("test", "test", io.Discard)
	kf := addKafkaFlags(fs)
	if err := fs.parse(args); err != nil {
		return kafka.Config{}, err
	}
	if _, err := kf.setup(io.Discard); err != nil {
		return kafka.Config{}, err
	}
	return kf.config()
}

const testPassword = "pw-Xq7-never-printed"

func TestSecurityFlagsConfig(t *testing.T) {
	ca, cert, key := pemFiles(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		protocol string // want, when no error
		check    func(kafka.Security) bool
		wantErr  string
	}{
		{name: "nothing: PLAINTEXT", protocol: "PLAINTEXT"},
		{name: "--tls alone: system roots", args: []string{"--tls"}, protocol: "SSL",
			check: func(s kafka.Security) bool { return s.TLS && s.CAFile == "" }},
		{name: "--tls-ca turns TLS on", args: []string{"--tls-ca", ca}, protocol: "SSL",
			check: func(s kafka.Security) bool { return s.CAFile == ca }},
		{name: "mutual TLS", args: []string{"--tls-ca", ca, "--tls-cert", cert, "--tls-key", key}, protocol: "SSL",
			check: func(s kafka.Security) bool { return s.CertFile == cert && s.KeyFile == key }},
		{name: "env twins", env: map[string]string{"KUNIQ_TLS_CA": ca, "KUNIQ_SASL_MECHANISM": "scram-sha-256", "KUNIQ_SASL_USER": "u", kafka.PasswordEnv: testPassword},
			protocol: "SASL_SSL", check: func(s kafka.Security) bool {
				return s.SASLMechanism == kafka.MechanismSCRAMSHA256 && s.SASLUser == "u" && s.SASLPassword.Reveal() == testPassword
			}},
		{name: "password from the file, newline dropped", args: []string{"--tls", "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-user", "kuniq", "--sasl-password-file", pwFile},
			protocol: "SASL_SSL", check: func(s kafka.Security) bool { return s.SASLPassword.Reveal() == testPassword }},
		{name: "PLAIN over TLS", args: []string{"--tls", "--sasl-mechanism", "plain", "--sasl-user", "u"}, env: map[string]string{kafka.PasswordEnv: testPassword},
			protocol: "SASL_SSL", check: func(s kafka.Security) bool { return s.SASLMechanism == kafka.MechanismPlain }},
		{name: "insecure skip verify turns TLS on", args: []string{"--tls-insecure-skip-verify"}, protocol: "SSL",
			check: func(s kafka.Security) bool { return s.InsecureSkipVerify }},
		{name: "unknown mechanism", args: []string{"--sasl-mechanism", "GSSAPI"}, wantErr: "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"},
		{name: "user without password", args: []string{"--sasl-mechanism", "PLAIN", "--sasl-user", "u"}, wantErr: "without a password (KUNIQ_SASL_PASSWORD or --sasl-password-file)"},
		{name: "mechanism without user", args: []string{"--sasl-mechanism", "PLAIN"}, env: map[string]string{kafka.PasswordEnv: testPassword}, wantErr: "without a user (--sasl-user)"},
		{name: "both env and file", args: []string{"--sasl-mechanism", "PLAIN", "--sasl-user", "u", "--sasl-password-file", pwFile}, env: map[string]string{kafka.PasswordEnv: testPassword}, wantErr: "use one"},
		{name: "certificate without key", args: []string{"--tls-cert", cert}, wantErr: "without its key (--tls-key)"},
		{name: "missing CA file", args: []string{"--tls-ca", filepath.Join(t.TempDir(), "nope.pem")}, wantErr: "nope.pem"},
		{name: "a password flag does not exist", args: []string{"--sasl-password", testPassword}, wantErr: "flag provided but not defined: -sasl-password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(kafka.PasswordEnv, "")
			os.Unsetenv(kafka.PasswordEnv)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := parseKafka(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testPassword) {
					t.Errorf("err %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got := c.Security.Protocol(); got != tt.protocol {
				t.Errorf("protocol %s, want %s (%s)", got, tt.protocol, c.Security)
			}
			if tt.check != nil && !tt.check(c.Security) {
				t.Errorf("security %#v is not what the flags say", c.Security)
			}
			if strings.Contains(c.String(), testPassword) {
				t.Errorf("Config.String() %q shows the password", c)
			}
		})
	}
}

// TestPasswordNeverShown: with the password in the environment and in a file, no command's
// help, error or log (at debug level) shows it.
func TestPasswordNeverShown(t *testing.T) {
	t.Setenv(kafka.PasswordEnv, testPassword)
	for _, name := range kafkaCommands {
		out, errs, _ := kuniq(t, name, "--help")
		if strings.Contains(out+errs, testPassword) {
			t.Errorf("kuniq %s --help shows the password", name)
		}
	}
	addr := closedAddr(t)
	runs := [][]string{
		{"dlq", "--brokers", addr, "--kafka-timeout", "1s", "--log-level", "debug", "--tls", "--sasl-mechanism", "PLAIN", "--sasl-user", "u"},
		{"dlq", "--brokers", addr, "--kafka-timeout", "1s", "--log-level", "debug", "--log-format", "json", "--sasl-mechanism", "SCRAM-SHA-512"},
		{"ingest", "--brokers", addr, "--kafka-timeout", "1s", "--log-level", "debug", "--tls", "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-user", "u", "--progress", "0", sampleFile},
	}
	for _, args := range runs {
		_, errs, err := kuniq(t, args...)
		if err == nil {
			t.Errorf("kuniq %s: err = nil, want a connection or settings error", strings.Join(args, " "))
			continue
		}
		if strings.Contains(err.Error()+errs, testPassword) {
			t.Errorf("kuniq %s shows the password:\nerr %v\nstderr %s", strings.Join(args, " "), err, errs)
		}
	}
}

func TestInsecureSkipVerifyWarns(t *testing.T) {
	_, errs, _ := kuniq(t, "dlq", "--brokers", closedAddr(t), "--kafka-timeout", "1s", "--tls-insecure-skip-verify")
	if !strings.Contains(errs, "level=WARN") || !strings.Contains(errs, "WARNING: TLS certificate verification is OFF") {
		t.Errorf("--tls-insecure-skip-verify: stderr %q lacks the warning", errs)
	}
}

func TestLogFlags(t *testing.T) {
	tests := []struct {
		name, level, format string
		want                []string // in stderr
		wantErr             string
	}{
		{name: "json", level: "info", format: "json", want: []string{`"level":"WARN"`, `"msg":"WARNING: TLS certificate verification is OFF`}},
		{name: "text", level: "warn", format: "text", want: []string{"level=WARN"}},
		{name: "error level hides the warning", level: "error", format: "text"},
		{name: "bad format", level: "info", format: "xml", wantErr: "use text|json"},
		{name: "bad level", level: "loud", format: "text", wantErr: "use debug|info|warn|error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, err := kuniq(t, "dlq", "--brokers", closedAddr(t), "--kafka-timeout", "1s", "--tls-insecure-skip-verify",
				"--log-level", tt.level, "--log-format", tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
			if len(tt.want) == 0 && strings.Contains(errs, "WARN") {
				t.Errorf("--log-level %s: stderr %q has a warning", tt.level, errs)
			}
		})
	}
}
