package kafka

import (
	"strings"
	"testing"

	"github.com/xdg-go/scram"
)

// converse runs sarama's SCRAM loop (kuniq's client against an xdg-go/scram server) and
// returns the client's and the server's verdicts.
func converse(t *testing.T, h scram.HashGeneratorFcn, password string, creds scram.StoredCredentials) (clientErr error, serverValid bool) {
	t.Helper()
	srv, err := h.NewServer(func(user string) (scram.StoredCredentials, error) { return creds, nil })
	if err != nil {
		t.Fatal(err)
	}
	sconv := srv.NewConversation()
	c := newSCRAMClient(h)()
	if err := c.Begin("kuniq", password, ""); err != nil {
		return err, false
	}
	msg, err := c.Step("")
	for err == nil && !c.Done() {
		var challenge string
		challenge, _ = sconv.Step(msg) // a refusal is a challenge too ("e=invalid-proof")
		msg, err = c.Step(challenge)
	}
	return err, sconv.Valid()
}

func TestSCRAMClient(t *testing.T) {
	for _, h := range []struct {
		name string
		fn   scram.HashGeneratorFcn
	}{{"SHA-256", sha256Hash}, {"SHA-512", sha512Hash}} {
		kf := scram.KeyFactors{Salt: "c2FsdHNhbHQ=", Iters: 4096}
		stored := func(pw string) scram.StoredCredentials {
			cl, err := h.fn.NewClient("kuniq", pw, "")
			if err != nil {
				t.Fatal(err)
			}
			creds, err := cl.GetStoredCredentialsWithError(kf)
			if err != nil {
				t.Fatal(err)
			}
			return creds
		}
		right := stored("right")
		// An impostor that accepts any proof it cannot check: it knows StoredKey but not
		// ServerKey, so its final signature is wrong.
		impostor := right
		impostor.ServerKey = stored("other").ServerKey

		cases := []struct {
			name      string
			password  string
			creds     scram.StoredCredentials
			clientErr string // "" for none
			valid     bool
		}{
			{"right password", "right", right, "", true},
			{"wrong password", "wrong", right, "server error", false},
			{"server without the real key", "right", impostor, "server validation failed", true},
		}
		for _, tc := range cases {
			t.Run(h.name+"/"+tc.name, func(t *testing.T) {
				err, valid := converse(t, h.fn, tc.password, tc.creds)
				if valid != tc.valid {
					t.Errorf("server valid = %v, want %v", valid, tc.valid)
				}
				switch {
				case tc.clientErr == "" && err != nil:
					t.Errorf("client error %v, want none", err)
				case tc.clientErr != "" && (err == nil || !strings.Contains(err.Error(), tc.clientErr)):
					t.Errorf("client error %v, want %q", err, tc.clientErr)
				}
				if err != nil && strings.Contains(err.Error(), tc.password) {
					t.Errorf("client error %q contains the password", err)
				}
			})
		}
	}
}

// TestSCRAMBeginHidesPassword: a password SASLprep rejects is reported without its bytes.
func TestSCRAMBeginHidesPassword(t *testing.T) {
	pw := "bad\u0007bell-secret"
	err := newSCRAMClient(sha512Hash)().Begin("kuniq", pw, "")
	if err == nil {
		t.Fatal("Begin accepted a control character")
	}
	if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "bell-secret") {
		t.Errorf("Begin error %q shows the password", err)
	}
}
