// Command certs makes the TLS material and the SCRAM password of the development broker's
// SASL_SSL listener, once: scripts/kafka.sh runs it on every `up`, and it changes only what is
// missing, expiring within 30 days, or no longer signed by the CA. Into --dir it writes
//
//	ca.pem          the CA certificate clients trust (--tls-ca), mode 0644
//	ca.key          the CA's key, 0600 (kept to sign renewed certificates)
//	server.pem      the broker's key and certificate chain (Kafka's PEM key store), 0600
//	client.pem      a client certificate for mutual TLS (CN = --user), 0644
//	client.key      its key, 0600
//	<user>.password the SCRAM/PLAIN password of --user, 0600 (generated once, never rotated here)
//
// It prints the SHA-256 of server.pem, so the caller can tell when the broker must reload it.
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kuniq/kuniq/internal/pki"
)

const renewBefore = 30 * 24 * time.Hour

func main() {
	dir := flag.String("dir", ".kafka/secure", "directory of the TLS material")
	hosts := flag.String("hosts", "127.0.0.1,localhost,::1", "comma-separated names and addresses the server certificate is valid for")
	user := flag.String("user", "kuniq", "SASL user whose password file to create")
	flag.Parse()
	sum, err := run(*dir, strings.Split(*hosts, ","), *user)
	if err != nil {
		fmt.Fprintln(os.Stderr, "certs:", err)
		os.Exit(1)
	}
	fmt.Println(sum)
}

func run(dir string, hosts []string, user string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	until := time.Now().Add(renewBefore)

	ca, fresh, err := loadOrMakeCA(path("ca.pem"), path("ca.key"), until)
	if err != nil {
		return "", err
	}
	if err := ensureLeaf(ca, fresh, path("server.pem"), "", pki.Leaf{CommonName: hosts[0], Hosts: hosts}, until); err != nil {
		return "", err
	}
	if err := ensureLeaf(ca, fresh, path("client.pem"), path("client.key"), pki.Leaf{CommonName: user, Client: true}, until); err != nil {
		return "", err
	}
	if err := ensurePassword(path(user + ".password")); err != nil {
		return "", err
	}
	b, err := os.ReadFile(path("server.pem"))
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// loadOrMakeCA returns the CA in certPath/keyPath, or a new one (fresh) if they are missing,
// unreadable or expiring.
func loadOrMakeCA(certPath, keyPath string, until time.Time) (*pki.Authority, bool, error) {
	c, cerr := os.ReadFile(certPath)
	k, kerr := os.ReadFile(keyPath)
	if cerr == nil && kerr == nil {
		ca, err := pki.Load(c, k)
		if err == nil && ca.Cert.NotAfter.After(until) {
			return ca, false, nil
		}
		note("CA in %s is unusable or expiring (%v): making a new one", certPath, err)
	}
	ca, err := pki.NewCA("kuniq development CA", 10*365*24*time.Hour)
	if err != nil {
		return nil, false, err
	}
	key, err := ca.KeyPEM()
	if err != nil {
		return nil, false, err
	}
	if err := write(keyPath, key, 0o600); err != nil {
		return nil, false, err
	}
	if err := write(certPath, ca.CertPEM(), 0o644); err != nil {
		return nil, false, err
	}
	note("made a CA: %s", certPath)
	return ca, true, nil
}

// ensureLeaf (re)issues a certificate unless the existing one is signed by ca, valid for its
// hosts and not expiring. With keyPath empty, key and certificate chain go into certPath
// together (Kafka's PEM key store); otherwise the key goes to keyPath.
func ensureLeaf(ca *pki.Authority, caFresh bool, certPath, keyPath string, l pki.Leaf, until time.Time) error {
	if !caFresh {
		b, err := os.ReadFile(certPath)
		if err == nil {
			if err = ca.Verify(b, l.Hosts, l.Client, until); err == nil {
				if keyPath == "" {
					return nil
				}
				if _, err = os.Stat(keyPath); err == nil {
					return nil
				}
			}
		}
		if !errors.Is(err, fs.ErrNotExist) {
			note("%s: %v: issuing a new one", certPath, err)
		}
	}
	cert, key, err := ca.Issue(l)
	if err != nil {
		return err
	}
	if keyPath == "" {
		// Key first, then the chain up to the CA.
		return write(certPath, append(append(key, cert...), ca.CertPEM()...), 0o600)
	}
	if err := write(keyPath, key, 0o600); err != nil {
		return err
	}
	return write(certPath, cert, 0o644)
}

func ensurePassword(path string) error {
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != "" {
		return nil
	}
	var r [24]byte
	if _, err := rand.Read(r[:]); err != nil {
		return err
	}
	// URL-safe base64: no quotes or backslashes, so it can sit in a JAAS line unescaped.
	return write(path, []byte(base64.RawURLEncoding.EncodeToString(r[:])+"\n"), 0o600)
}

// write replaces path atomically with mode.
func write(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func note(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "certs: "+format+"\n", args...)
}
