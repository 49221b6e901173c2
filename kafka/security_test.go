package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/internal/pki"
)

// testPKI is a CA with a server and a client certificate, written to a temporary directory.
type testPKI struct {
	ca                    *pki.Authority
	dir                   string
	caFile                string
	serverCert, serverKey []byte
	clientCert, clientKey string
}

func newTestPKI(t *testing.T, hosts ...string) testPKI {
	t.Helper()
	ca, err := pki.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{ca: ca, dir: t.TempDir()}
	p.caFile = p.write(t, "ca.pem", ca.CertPEM())
	if p.serverCert, p.serverKey, err = ca.Issue(pki.Leaf{CommonName: "broker", Hosts: hosts}); err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.Issue(pki.Leaf{CommonName: "kuniq", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	p.clientCert, p.clientKey = p.write(t, "client.pem", cert), p.write(t, "client.key", key)
	return p
}

func (p testPKI) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSecurityValidate(t *testing.T) {
	p := newTestPKI(t, "127.0.0.1")
	garbage := p.write(t, "garbage.pem", []byte("not a certificate"))
	pw := NewSecret("pw")
	cases := []struct {
		name string
		s    Security
		want string // "" for valid; else a substring of the error
	}{
		{"plaintext", Security{}, ""},
		{"tls with system roots", Security{TLS: true}, ""},
		{"tls with ca", Security{CAFile: p.caFile}, ""},
		{"mutual tls", Security{CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}, ""},
		{"scram-sha-512", Security{CAFile: p.caFile, SASLMechanism: MechanismSCRAMSHA512, SASLUser: "u", SASLPassword: pw}, ""},
		{"scram-sha-256 without tls", Security{SASLMechanism: MechanismSCRAMSHA256, SASLUser: "u", SASLPassword: pw}, ""},
		{"plain without tls is allowed, with a warning", Security{SASLMechanism: MechanismPlain, SASLUser: "u", SASLPassword: pw}, ""},
		{"unknown mechanism", Security{SASLMechanism: "GSSAPI", SASLUser: "u", SASLPassword: pw}, `unknown sasl mechanism "GSSAPI": use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`},
		{"lowercase mechanism", Security{SASLMechanism: "scram-sha-512", SASLUser: "u", SASLPassword: pw}, "unknown sasl mechanism"},
		{"mechanism without user", Security{SASLMechanism: MechanismPlain, SASLPassword: pw}, "without a user (--sasl-user)"},
		{"user without mechanism", Security{SASLUser: "u"}, `sasl user "u" without a mechanism`},
		{"user without password", Security{SASLMechanism: MechanismSCRAMSHA512, SASLUser: "u"}, "without a password (KUNIQ_SASL_PASSWORD or --sasl-password-file)"},
		{"password without mechanism", Security{SASLPassword: pw}, "sasl password given without a mechanism"},
		{"cert without key", Security{CertFile: p.clientCert}, "without its key (--tls-key)"},
		{"key without cert", Security{KeyFile: p.clientKey}, "without its certificate (--tls-cert)"},
		{"cert and key swapped", Security{CertFile: p.clientKey, KeyFile: p.clientCert}, "tls client certificate"},
		{"missing ca file", Security{CAFile: filepath.Join(p.dir, "nope.pem")}, "no such file"},
		{"ca file without certificates", Security{CAFile: garbage}, "holds no PEM certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Errorf("Validate() = nil, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("Validate() = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseMechanism(t *testing.T) {
	cases := []struct {
		in   string
		want Mechanism
		err  bool
	}{
		{"", MechanismNone, false},
		{"PLAIN", MechanismPlain, false},
		{"scram-sha-256", MechanismSCRAMSHA256, false},
		{" Scram-Sha-512 ", MechanismSCRAMSHA512, false},
		{"SCRAM-SHA-1", "", true},
		{"OAUTHBEARER", "", true},
	}
	for _, tc := range cases {
		got, err := ParseMechanism(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseMechanism(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if tc.err && !errors.Is(err, ErrMechanism) {
			t.Errorf("ParseMechanism(%q) error %v is not ErrMechanism", tc.in, err)
		}
	}
}

func TestSecurityProtocolAndString(t *testing.T) {
	pw := NewSecret("pw")
	cases := []struct {
		name         string
		s            Security
		protocol, in string
	}{
		{"none", Security{}, "PLAINTEXT", "PLAINTEXT"},
		{"tls", Security{TLS: true}, "SSL", "system roots"},
		{"ca implies tls", Security{CAFile: "/ca.pem"}, "SSL", "ca /ca.pem"},
		{"sasl", Security{SASLMechanism: MechanismPlain, SASLUser: "u", SASLPassword: pw}, "SASL_PLAINTEXT", `PLAIN user "u", password set`},
		{"sasl+tls", Security{CAFile: "/ca.pem", SASLMechanism: MechanismSCRAMSHA512, SASLUser: "u"}, "SASL_SSL", "no password"},
		{"insecure", Security{InsecureSkipVerify: true}, "SSL", "INSECURE"},
	}
	for _, tc := range cases {
		if got := tc.s.Protocol(); got != tc.protocol {
			t.Errorf("%s: Protocol() = %q, want %q", tc.name, got, tc.protocol)
		}
		if got := tc.s.String(); !strings.Contains(got, tc.in) {
			t.Errorf("%s: String() = %q, want it to contain %q", tc.name, got, tc.in)
		}
	}
}

func TestWarnings(t *testing.T) {
	cases := []struct {
		name string
		s    Security
		want []string
	}{
		{"verified tls", Security{CAFile: "/ca.pem", SASLMechanism: MechanismPlain}, nil},
		{"skip verify", Security{InsecureSkipVerify: true}, []string{"verification is OFF"}},
		{"skip verify ignores ca", Security{InsecureSkipVerify: true, CAFile: "/ca.pem"}, []string{"verification is OFF", "--tls-ca /ca.pem is ignored"}},
		{"plain in clear text", Security{SASLMechanism: MechanismPlain}, []string{"clear text"}},
		{"scram without tls", Security{SASLMechanism: MechanismSCRAMSHA512}, nil},
	}
	for _, tc := range cases {
		got := tc.s.Warnings()
		if len(got) != len(tc.want) {
			t.Errorf("%s: Warnings() = %q, want %d warnings", tc.name, got, len(tc.want))
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], tc.want[i]) {
				t.Errorf("%s: warning %d = %q, want it to contain %q", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

// TestWarnOnce: an unsafe setting is announced through Warn once per process, however many
// clients are built from it.
func TestWarnOnce(t *testing.T) {
	var got []string
	old := Warn
	Warn = func(msg string) { got = append(got, msg) }
	defer func() { Warn = old }()
	c := DefaultConfig()
	// A CA path no other test uses, so the message is new to this process.
	c.Security = Security{InsecureSkipVerify: true, CAFile: "/warn-once-test/ca.pem"}
	for range 3 {
		c.Sarama()
	}
	seen := map[string]int{}
	for _, m := range got {
		seen[m]++
	}
	ignored := 0
	for m, n := range seen {
		if n != 1 {
			t.Errorf("warning %q given %d times, want once", m, n)
		}
		if strings.Contains(m, "/warn-once-test/ca.pem is ignored") {
			ignored++
		}
	}
	// This CA path is new to the process; the skip-verify warning may have been given by an
	// earlier test already.
	if ignored != 1 {
		t.Errorf("warnings = %q, want the ignored-CA warning exactly once", got)
	}
}

func TestSaramaSecurity(t *testing.T) {
	p := newTestPKI(t, "127.0.0.1")
	pw := NewSecret("s3cret")
	cases := []struct {
		name      string
		s         Security
		mechanism sarama.SASLMechanism
		scram     bool
		tls       bool
	}{
		{"plaintext", Security{}, "", false, false},
		{"tls", Security{CAFile: p.caFile}, "", false, true},
		{"plain", Security{CAFile: p.caFile, SASLMechanism: MechanismPlain, SASLUser: "u", SASLPassword: pw}, sarama.SASLTypePlaintext, false, true},
		{"scram-sha-256", Security{SASLMechanism: MechanismSCRAMSHA256, SASLUser: "u", SASLPassword: pw}, sarama.SASLTypeSCRAMSHA256, true, false},
		{"scram-sha-512", Security{CAFile: p.caFile, SASLMechanism: MechanismSCRAMSHA512, SASLUser: "u", SASLPassword: pw}, sarama.SASLTypeSCRAMSHA512, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Security = tc.s
			sc := c.Sarama()
			if err := sc.Validate(); err != nil {
				t.Fatalf("sarama rejects the config: %v", err)
			}
			if sc.Producer.RequiredAcks != sarama.WaitForAll {
				t.Errorf("RequiredAcks = %v, want WaitForAll", sc.Producer.RequiredAcks)
			}
			secured := tc.s.TLSEnabled() || tc.s.SASLEnabled()
			if got := sc.Metadata.Retry.BackoffFunc != nil; got != secured {
				t.Errorf("retry guard installed = %v, want %v", got, secured)
			}
			if got := sc.Net.Proxy.Enable; got != tc.tls {
				t.Errorf("TLS dialer installed = %v, want %v", got, tc.tls)
			}
			if sc.Net.SASL.Enable != (tc.mechanism != "") || sc.Net.SASL.Mechanism != tc.mechanism {
				t.Errorf("SASL = %v %q, want %q", sc.Net.SASL.Enable, sc.Net.SASL.Mechanism, tc.mechanism)
			}
			if tc.mechanism != "" && (sc.Net.SASL.User != "u" || sc.Net.SASL.Password != "s3cret" || sc.Net.SASL.Version != sarama.SASLHandshakeV1) {
				t.Errorf("SASL user/password/version not applied")
			}
			if got := sc.Net.SASL.SCRAMClientGeneratorFunc != nil; got != tc.scram {
				t.Errorf("SCRAM client = %v, want %v", got, tc.scram)
			}
		})
	}
}

// TestPasswordNeverShown: the password appears in no rendering of a Config or its parts, in no
// error of Validate or LoadPassword, and in no log line.
func TestPasswordNeverShown(t *testing.T) {
	const password = "Tr0ub4dor&3-horse-battery"
	p := newTestPKI(t, "127.0.0.1")
	good := DefaultConfig()
	good.Security = Security{CAFile: p.caFile, SASLMechanism: MechanismSCRAMSHA512, SASLUser: "kuniq", SASLPassword: NewSecret(password)}

	var outputs []string
	show := func(label, s string) { outputs = append(outputs, label+": "+s) }
	for _, v := range []any{good, &good, good.Security, &good.Security, good.Security.SASLPassword} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
			show(fmt.Sprintf("%s of %T", verb, v), fmt.Sprintf(verb, v))
		}
	}
	show("String", good.String())
	show("Security.String", good.Security.String())
	for _, v := range []any{good, good.Security, good.Security.SASLPassword} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		show(fmt.Sprintf("json of %T", v), string(b))
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "kafka", good, "security", good.Security, "pw", good.Security.SASLPassword)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "kafka", good, "security", good.Security, "pw", good.Security.SASLPassword)
	show("slog", logs.String())

	// Invalid configurations that still carry the password.
	bad := []Security{
		{SASLMechanism: "SCRAM-SHA-1", SASLUser: "kuniq", SASLPassword: NewSecret(password)},
		{SASLPassword: NewSecret(password)},
		{SASLMechanism: MechanismPlain, SASLPassword: NewSecret(password)},
		{CertFile: p.caFile, KeyFile: p.caFile, SASLMechanism: MechanismPlain, SASLUser: "kuniq", SASLPassword: NewSecret(password)},
	}
	for i, s := range bad {
		c := good
		c.Security = s
		if err := c.Validate(); err == nil {
			t.Errorf("bad config %d validates", i)
		} else {
			show(fmt.Sprintf("Validate error %d", i), err.Error())
		}
	}
	file := p.write(t, "pw", []byte(password+"\n"))
	empty := p.write(t, "empty", []byte("\n"))
	for _, args := range [][2]string{{password, file}, {"", empty}, {"", filepath.Join(p.dir, password)}} {
		if _, err := LoadPassword(args[0], args[1]); err == nil {
			t.Errorf("LoadPassword(%q) succeeded", args[1])
		} else if args[1] != filepath.Join(p.dir, password) { // that one names the file, by design
			show("LoadPassword error", err.Error())
		}
	}

	for _, out := range outputs {
		if strings.Contains(out, password) {
			t.Errorf("password shown in %s", out)
		}
		// A hex rendering would hide it from the check above.
		if strings.Contains(strings.ToLower(out), fmt.Sprintf("%x", password)) {
			t.Errorf("password shown as hex in %s", out)
		}
	}
	if !strings.Contains(good.String(), "password set") {
		t.Errorf("String() = %q, want it to say the password is set", good.String())
	}
}

func TestLoadPassword(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cases := []struct {
		name      string
		env, path string
		want      string
		err       string
	}{
		{"neither", "", "", "", ""},
		{"environment", "from-env", "", "from-env", ""},
		{"file", "", file("a", "from-file"), "from-file", ""},
		{"file with newline", "", file("b", "pw\n"), "pw", ""},
		{"file with crlf", "", file("c", "pw\r\n"), "pw", ""},
		{"spaces are kept", "", file("d", " p w \n"), " p w ", ""},
		{"both", "from-env", file("e", "from-file"), "", "both KUNIQ_SASL_PASSWORD and the password file"},
		{"empty file", "", file("f", "\n"), "", "empty password"},
		{"missing file", "", filepath.Join(dir, "missing"), "", "no such file"},
		{"oversized file", "", file("g", strings.Repeat("x", maxPasswordFile+1)), "", "not a password file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadPassword(tc.env, tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("LoadPassword = %v, want error with %q", err, tc.err)
				}
				return
			}
			if err != nil || got.Reveal() != tc.want {
				t.Fatalf("LoadPassword = %q, %v; want %q", got.Reveal(), err, tc.want)
			}
		})
	}
}

func TestSecretRendering(t *testing.T) {
	cases := []struct {
		verb string
		set  string
		zero string
	}{
		{"%v", "[redacted]", ""},
		{"%s", "[redacted]", ""},
		{"%q", "[redacted]", ""},
		{"%#v", `kafka.Secret("[redacted]")`, `kafka.Secret("")`},
	}
	for _, tc := range cases {
		if got := fmt.Sprintf(tc.verb, NewSecret("x")); got != tc.set {
			t.Errorf("Sprintf(%s, secret) = %q, want %q", tc.verb, got, tc.set)
		}
		if got := fmt.Sprintf(tc.verb, Secret{}); got != tc.zero {
			t.Errorf("Sprintf(%s, empty secret) = %q, want %q", tc.verb, got, tc.zero)
		}
	}
}
