package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/IBM/sarama"
)

// ErrUntrusted is returned, wrapped, when a broker's TLS certificate does not verify: not
// signed by the CA in Security.CAFile (or by a system root without one), not issued for the
// broker's host name or address, or expired.
var ErrUntrusted = errors.New("kafka: broker certificate not trusted")

// ErrTLSHandshake is returned, wrapped, for the other TLS failures that no retry can cure: the
// address does not speak TLS (a PLAINTEXT listener), or the broker refused the handshake (it
// requires a client certificate, or does not trust the one given).
var ErrTLSHandshake = errors.New("kafka: tls handshake failed")

// ErrTLSFiles is returned, wrapped, when a CA, certificate or key file cannot be read or parsed.
var ErrTLSFiles = errors.New("kafka: tls files")

// applyTLS makes every connection of sc a TLS connection and returns the dialer.
//
// kuniq does the TLS handshake in its own dialer (sarama's proxy hook) instead of letting
// sarama wrap the connection: sarama would see a failed handshake only as the error of its
// first request, a network error like any other ("broken pipe"), and retry it. The dialer
// sees the handshake's own error, so it can say what is wrong (ErrUntrusted, ErrTLSHandshake)
// and tell the retry guard (guard.go) that no retry will help. Certificate verification is
// crypto/tls's own (RootCAs, the broker's host as ServerName). The files are read on every
// dial, so rotated certificates apply to new connections.
//
// Side effects: sc.Net.TLS.Enable stays false (the connection is TLS before sarama sees it)
// and sarama's logger says "using proxy" for each connection it opens.
func (s Security) applyTLS(sc *sarama.Config) *tlsDialer {
	d := &tlsDialer{sec: s, sc: sc}
	sc.Net.Proxy.Enable = true
	sc.Net.Proxy.Dialer = d
	return d
}

// tlsDialer dials TCP and completes the TLS handshake before handing the connection to sarama.
type tlsDialer struct {
	sec Security
	sc  *sarama.Config
	// failed is set when the last handshake failed in a way a retry cannot fix; a successful
	// one clears it.
	failed atomic.Bool
}

// Dial implements proxy.Dialer.
func (d *tlsDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext implements proxy.ContextDialer. The dial timeout covers the handshake too.
func (d *tlsDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	tc, err := d.sec.clientTLS()
	if err != nil {
		d.failed.Store(true)
		return nil, err
	}
	td := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: d.sc.Net.DialTimeout, KeepAlive: d.sc.Net.KeepAlive, LocalAddr: d.sc.Net.LocalAddr},
		Config:    tc,
	}
	conn, err := td.DialContext(ctx, network, addr)
	if err != nil {
		if explained, final := d.sec.explainTLS(addr, err); final {
			d.failed.Store(true)
			return nil, explained
		}
		return nil, err
	}
	d.failed.Store(false)
	return conn, nil
}

// clientTLS builds the client's tls.Config from the files, read now.
func (s Security) clientTLS() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.InsecureSkipVerify}
	if s.CAFile != "" && !s.InsecureSkipVerify {
		pool, err := loadCA(s.CAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	if s.CertFile != "" || s.KeyFile != "" {
		cert, err := loadKeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// explainTLS turns a failed TLS dial into an error that names the cause, and reports whether
// it is final (a retry would meet the same certificate or listener) or may be transient (a
// refused or timed-out connection: the broker may be starting).
func (s Security) explainTLS(addr string, err error) (error, bool) {
	var (
		verr   *tls.CertificateVerificationError
		unk    x509.UnknownAuthorityError
		host   x509.HostnameError
		inval  x509.CertificateInvalidError
		header tls.RecordHeaderError
		op     *net.OpError
	)
	trust := "a CA in the system's roots"
	if s.CAFile != "" {
		trust = "the CA in " + s.CAFile
	}
	switch {
	case errors.As(err, &unk):
		return fmt.Errorf("%w: %s presented a certificate not signed by %s (--tls-ca): %w", ErrUntrusted, addr, trust, err), true
	case errors.As(err, &host):
		return fmt.Errorf("%w: the certificate of %s is not issued for that name or address (connect by a name it lists): %w", ErrUntrusted, addr, err), true
	case errors.As(err, &inval):
		return fmt.Errorf("%w: the certificate of %s is not valid: %w", ErrUntrusted, addr, err), true
	case errors.As(err, &verr):
		return fmt.Errorf("%w: %s: %w", ErrUntrusted, addr, err), true
	case errors.As(err, &header):
		return fmt.Errorf("%w: %s does not speak TLS (a PLAINTEXT or SASL_PLAINTEXT listener? then drop --tls): %w", ErrTLSHandshake, addr, err), true
	case errors.As(err, &op) && op.Op == "remote error":
		return fmt.Errorf("%w: %s refused the handshake (does it require a client certificate, --tls-cert, signed by a CA it trusts?): %w", ErrTLSHandshake, addr, err), true
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		// What a Kafka PLAINTEXT listener does with a ClientHello: it reads the first bytes as
		// a request size far over its limit and closes. (A broker shutting down in the middle
		// of a handshake looks the same, rarely; the next metadata refresh tries again.)
		return fmt.Errorf("%w: %s closed the connection during the TLS handshake (a PLAINTEXT or SASL_PLAINTEXT listener? then drop --tls): %w", ErrTLSHandshake, addr, err), true
	}
	return err, false
}

// loadCA reads a PEM file of CA certificates.
func loadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: tls ca: %w", ErrTLSFiles, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%w: tls ca %s holds no PEM certificate", ErrTLSFiles, path)
	}
	return pool, nil
}

// loadKeyPair reads a PEM client certificate and its key.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		// crypto/tls's messages name the problem, never the key's bytes.
		return tls.Certificate{}, fmt.Errorf("%w: tls client certificate %s / key %s: %w", ErrTLSFiles, certFile, keyFile, err)
	}
	return cert, nil
}

// connectError wraps a failure to connect to the cluster. A connection closed by the broker
// before it answered, on a config without TLS, is what a TLS listener does to a plaintext
// client: the message says so, as a likely cause (a broker going down looks the same).
func (c Config) connectError(err error) error {
	at := strings.Join(c.Brokers, ",")
	if !c.Security.TLSEnabled() && (errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		return fmt.Errorf("%w at %s: %w (the broker closed the connection: if this is a TLS listener, SSL or SASL_SSL, add --tls)", ErrUnreachable, at, err)
	}
	return fmt.Errorf("%w at %s: %w", ErrUnreachable, at, err)
}
