package kafka

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// metadataTimeout bounds one metadata refresh, retries included, on a secured connection when
// nothing else set sarama's Metadata.Timeout: the guard below needs a deadline to stop at.
const metadataTimeout = time.Minute

// never is a backoff past any metadata deadline: sarama answers it by skipping the remaining
// retries and returning the error it has.
const never = 1000 * time.Hour

// guardRetries makes wrong credentials and untrusted certificates fail at once instead of
// after every metadata retry.
//
// sarama retries a failed metadata request Metadata.Retry.Max times (10 in kuniq), Backoff
// (500 ms) apart, whatever the cause. It means to stop early on a SASL authentication failure,
// but misses it (it looks for the error with errors.As, which sarama's own wrapping of the
// broker's message defeats), and a failed TLS handshake is a network error to it: measured on
// the development broker, a wrong password took 9–13 s to report and a wrong CA over 5 s.
// sarama consults Metadata.Retry.BackoffFunc before each retry, so the guard decides there:
// if the dialer saw a handshake fail for good, or a probe connection to a seed broker (with the
// same settings, bounded by the backoff) is refused for a reason no retry can fix (Permanent,
// or a TLS alert from the broker), it returns a backoff past the deadline and sarama returns
// the error, its own message naming the cause. Otherwise it sleeps the normal backoff, less the
// probe's time. Only secured configs get the guard; a probe runs only when a retry is due.
func guardRetries(sc *sarama.Config, s Security, seeds []string, d *tlsDialer) {
	if sc.Metadata.Timeout <= 0 {
		sc.Metadata.Timeout = metadataTimeout
	}
	g := &guard{sec: s, sc: sc, seeds: seeds, dialer: d}
	sc.Metadata.Retry.BackoffFunc = g.backoff
}

type guard struct {
	sec    Security
	sc     *sarama.Config
	seeds  []string
	dialer *tlsDialer
	mu     sync.Mutex // one probe at a time per config
}

func (g *guard) backoff(retries, maxRetries int) time.Duration {
	wait := g.sc.Metadata.Retry.Backoff
	if g.dialer != nil && g.dialer.failed.Load() {
		return never
	}
	start := time.Now()
	if g.permanent(max(wait, time.Second)) {
		return never
	}
	return max(0, wait-time.Since(start))
}

// permanent opens one connection to the first seed broker with the guarded settings, within
// limit, and reports whether it was refused for good.
func (g *guard) permanent(limit time.Duration) bool {
	if len(g.seeds) == 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	pc := *g.sc
	pc.Net.DialTimeout, pc.Net.ReadTimeout, pc.Net.WriteTimeout = limit, limit, limit
	pc.Metadata.Retry.BackoffFunc = nil
	if g.dialer != nil {
		pc.Net.Proxy.Dialer = &tlsDialer{sec: g.sec, sc: &pc}
	}
	b := sarama.NewBroker(g.seeds[0])
	if err := b.Open(&pc); err != nil {
		return false
	}
	defer b.Close()
	_, err := b.Connected() // waits for the dial, the handshake and the SASL login
	if err == nil {
		// Without SASL nothing was read yet: a broker refusing a client certificate says so
		// on the first read (TLS 1.3).
		_, err = b.ApiVersions(&sarama.ApiVersionsRequest{})
	}
	if err == nil {
		return false
	}
	var op *net.OpError
	return Permanent(err) || (errors.As(err, &op) && op.Op == "remote error")
}
