package pki

import (
	"crypto/tls"
	"testing"
	"time"
)

func TestIssueVerify(t *testing.T) {
	ca, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, serverKey, err := ca.Issue(Leaf{CommonName: "broker", Hosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	client, _, err := ca.Issue(Leaf{CommonName: "kuniq", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(time.Minute)
	cases := []struct {
		name   string
		by     *Authority
		cert   []byte
		hosts  []string
		client bool
		until  time.Time
		ok     bool
	}{
		{"server for its hosts", ca, server, []string{"127.0.0.1", "localhost"}, false, soon, true},
		{"server for another host", ca, server, []string{"10.0.0.1"}, false, soon, false},
		{"server by another CA", other, server, nil, false, soon, false},
		{"server as a client", ca, server, nil, true, soon, false},
		{"client", ca, client, nil, true, soon, true},
		{"client as a server", ca, client, nil, false, soon, false},
		{"expiring before until", ca, server, nil, false, time.Now().Add(3 * 365 * 24 * time.Hour), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.by.Verify(tc.cert, tc.hosts, tc.client, tc.until)
			if (err == nil) != tc.ok {
				t.Errorf("Verify = %v, want ok %v", err, tc.ok)
			}
		})
	}
	// The key and certificate form a pair crypto/tls accepts.
	if _, err := tls.X509KeyPair(server, serverKey); err != nil {
		t.Errorf("X509KeyPair: %v", err)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	ca, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(ca.CertPEM(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := back.Issue(Leaf{CommonName: "x", Hosts: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Verify(cert, []string{"localhost"}, false, time.Now()); err != nil {
		t.Errorf("a certificate issued by the reloaded CA does not verify against the original: %v", err)
	}
	leaf, _, err := ca.Issue(Leaf{CommonName: "leaf"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(leaf, key); err == nil {
		t.Error("Load accepted a leaf certificate as a CA")
	}
	if _, err := Load(ca.CertPEM(), []byte("not pem")); err == nil {
		t.Error("Load accepted a key that is not PEM")
	}
}
