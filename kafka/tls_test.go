package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuniq/kuniq/internal/pki"
)

// tlsServer accepts connections on loopback and completes a TLS handshake with cfg (or, with
// cfg nil, behaves like a Kafka PLAINTEXT listener given a ClientHello: reads and closes). The
// handshake result of each connection goes to the returned channel.
func tlsServer(t *testing.T, cfg *tls.Config) (string, <-chan tls.ConnectionState) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	states := make(chan tls.ConnectionState, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if cfg == nil {
					var b [5]byte
					_, _ = io.ReadFull(c, b[:])
					return
				}
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					states <- tc.ConnectionState()
					var b [1]byte
					_, _ = tc.Read(b[:]) // until the client hangs up
				}
			}()
		}
	}()
	return ln.Addr().String(), states
}

func serverConfig(t *testing.T, certPEM, keyPEM []byte) *tls.Config {
	t.Helper()
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

func TestTLSDialer(t *testing.T) {
	p := newTestPKI(t, "127.0.0.1", "localhost")
	foreign := newTestPKI(t, "127.0.0.1")
	onlyLocalhost, onlyLocalhostKey, err := p.ca.Issue(pki.Leaf{CommonName: "broker", Hosts: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	expired, expiredKey, err := p.ca.Issue(pki.Leaf{CommonName: "broker", Hosts: []string{"127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(p.ca.Cert)
	mtls := serverConfig(t, p.serverCert, p.serverKey)
	mtls.ClientAuth, mtls.ClientCAs = tls.RequireAndVerifyClientCert, clientCAs

	cases := []struct {
		name   string
		server *tls.Config // nil: not a TLS listener
		sec    Security
		is     error // nil: the handshake succeeds
		says   string
	}{
		{"trusted", serverConfig(t, p.serverCert, p.serverKey), Security{CAFile: p.caFile}, nil, ""},
		{"wrong ca", serverConfig(t, p.serverCert, p.serverKey), Security{CAFile: foreign.caFile},
			ErrUntrusted, "not signed by the CA in " + foreign.caFile},
		{"system roots", serverConfig(t, p.serverCert, p.serverKey), Security{TLS: true},
			ErrUntrusted, "not signed by a CA in the system's roots"},
		// Dialled by IP address, a certificate for a name only must fail: the check that a
		// custom VerifyConnection would skip (ConnectionState.ServerName is empty for IPs).
		{"certificate for another name", serverConfig(t, onlyLocalhost, onlyLocalhostKey), Security{CAFile: p.caFile},
			ErrUntrusted, "not issued for that name or address"},
		{"expired certificate", serverConfig(t, expired, expiredKey), Security{CAFile: p.caFile},
			ErrUntrusted, "is not valid"},
		{"skip verify accepts anything", serverConfig(t, p.serverCert, p.serverKey), Security{InsecureSkipVerify: true, CAFile: foreign.caFile}, nil, ""},
		{"not a tls listener", nil, Security{CAFile: p.caFile}, ErrTLSHandshake, "closed the connection during the TLS handshake"},
		{"mutual tls", mtls, Security{CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, states := tlsServer(t, tc.server)
			c := DefaultConfig()
			c.Brokers = []string{addr}
			c.Security = tc.sec
			sc := c.Sarama()
			d := sc.Net.Proxy.Dialer.(*tlsDialer)
			conn, err := d.Dial("tcp", addr)
			if tc.is == nil {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer conn.Close()
				st := <-states
				if tc.sec.CertFile != "" && (len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "kuniq") {
					t.Errorf("the server did not get the client certificate")
				}
				if d.failed.Load() {
					t.Errorf("a good handshake left the dialer failed")
				}
				return
			}
			if err == nil {
				conn.Close()
				t.Fatal("Dial succeeded")
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Dial error %q, want %v saying %q", err, tc.is, tc.says)
			}
			if !Permanent(err) {
				t.Errorf("Permanent(%v) = false", err)
			}
			// The retry guard now skips sarama's remaining metadata retries.
			if !d.failed.Load() || sc.Metadata.Retry.BackoffFunc(1, 10) < sc.Metadata.Timeout {
				t.Errorf("failed = %v, backoff %v: the guard would retry", d.failed.Load(), sc.Metadata.Retry.BackoffFunc(1, 10))
			}
		})
	}
}

// TestTLSDialerTransient: a refused connection is not the certificate's fault: no verdict, and
// sarama keeps its normal backoff.
func TestTLSDialerTransient(t *testing.T) {
	p := newTestPKI(t, "127.0.0.1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := DefaultConfig()
	c.Brokers = []string{addr}
	c.Security = Security{CAFile: p.caFile}
	sc := c.Sarama()
	d := sc.Net.Proxy.Dialer.(*tlsDialer)
	if _, err := d.Dial("tcp", addr); err == nil || Permanent(err) {
		t.Fatalf("Dial to a closed port = %v, want a transient error", err)
	}
	if d.failed.Load() {
		t.Error("a refused connection marked the dialer failed")
	}
	if got := sc.Metadata.Retry.BackoffFunc(1, 10); got > sc.Metadata.Retry.Backoff {
		t.Errorf("backoff %v, want at most the normal %v", got, sc.Metadata.Retry.Backoff)
	}
}

// TestTLSFilesReadPerDial: a certificate replaced on disk is used by the next connection.
func TestTLSFilesReadPerDial(t *testing.T) {
	p := newTestPKI(t, "127.0.0.1")
	rotated := newTestPKI(t, "127.0.0.1")
	addr, states := tlsServer(t, serverConfig(t, rotated.serverCert, rotated.serverKey))
	c := DefaultConfig()
	c.Security = Security{CAFile: p.caFile}
	d := c.Sarama().Net.Proxy.Dialer.(*tlsDialer)
	if _, err := d.Dial("tcp", addr); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Dial before the CA file changed = %v, want ErrUntrusted", err)
	}
	p.write(t, "ca.pem", rotated.ca.CertPEM())
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("Dial after the CA file changed: %v", err)
	}
	conn.Close()
	<-states
	if d.failed.Load() {
		t.Error("the good handshake did not clear the failure")
	}
}

func TestConnectErrorHint(t *testing.T) {
	reset := &net.OpError{Op: "read", Err: syscall.ECONNRESET}
	cases := []struct {
		name string
		tls  bool
		err  error
		hint bool
	}{
		{"eof without tls", false, io.EOF, true},
		{"reset without tls", false, reset, true},
		{"broken pipe without tls", false, &net.OpError{Op: "write", Err: syscall.EPIPE}, true},
		{"eof with tls", true, io.EOF, false},
		{"refused", false, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		c.Security.TLS = tc.tls
		err := c.connectError(tc.err)
		if got := strings.Contains(err.Error(), "add --tls"); got != tc.hint {
			t.Errorf("%s: %q, want hint %v", tc.name, err, tc.hint)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v does not wrap %v", tc.name, err, tc.err)
		}
	}
}
