// Command ready waits until a Kafka broker answers a metadata request. scripts/kafka.sh builds
// it once and calls it, so `make kafka-up` returns only when the broker really serves.
//
// With --secure it also makes the SASL_SSL listener usable: it creates (or repairs) the SCRAM
// credentials of --user from the password file in --secure-dir through the admin API on the
// plaintext listener, and returns only once that user authenticates over --secure with every
// mechanism (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN), trusting only the CA in --secure-dir. A
// broker formatted before the secure listener existed gets its user this way on the next `up`.
//
// With --brokers-want N it waits until N brokers are registered (the three-broker cluster).
// With --leader-of TOPIC it prints the id of the broker leading most partitions of TOPIC.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/kafka"
)

func main() {
	brokers := flag.String("brokers", kafka.DefaultBrokers, "comma-separated broker addresses (PLAINTEXT)")
	timeout := flag.Duration("timeout", 60*time.Second, "how long to wait")
	secure := flag.String("secure", "", "address of the SASL_SSL listener to prepare and check")
	dir := flag.String("secure-dir", ".kafka/secure", "directory with ca.pem and <user>.password")
	user := flag.String("user", "kuniq", "SASL user")
	want := flag.Int("brokers-want", 1, "wait until this many brokers are registered")
	leaderOf := flag.String("leader-of", "", "print the id of the broker leading most partitions of this topic, and exit")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cfg := kafka.DefaultConfig()
	cfg.Brokers = kafka.ParseBrokers(*brokers)
	cfg.ClientID = "kuniq-ready"
	var err error
	switch {
	case *leaderOf != "":
		err = printLeader(cfg, *leaderOf)
	default:
		err = cfg.WaitReady(ctx)
		if err == nil && *want > 1 {
			err = waitBrokers(ctx, cfg, *want)
		}
		if err == nil && *secure != "" {
			err = prepareSecure(ctx, cfg, *secure, *dir, *user)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ready:", err)
		os.Exit(1)
	}
}

// prepareSecure checks that user can log in over the secure listener with every mechanism,
// and creates the user's SCRAM credentials first if SCRAM is refused.
func prepareSecure(ctx context.Context, plain kafka.Config, addr, dir, user string) error {
	pw, err := kafka.LoadPassword("", filepath.Join(dir, user+".password"))
	if err != nil {
		return err
	}
	upserted := false
	for _, m := range []kafka.Mechanism{kafka.MechanismSCRAMSHA512, kafka.MechanismSCRAMSHA256, kafka.MechanismPlain} {
		sc := kafka.DefaultConfig()
		sc.Brokers = []string{addr}
		sc.ClientID = "kuniq-ready"
		sc.Security = kafka.Security{CAFile: filepath.Join(dir, "ca.pem"), SASLMechanism: m, SASLUser: user, SASLPassword: pw}
		for {
			err := sc.WaitReady(ctx)
			if err == nil {
				break
			}
			if !errors.Is(err, sarama.ErrSASLAuthenticationFailed) || m == kafka.MechanismPlain {
				return fmt.Errorf("%s over %s: %w", m, addr, err)
			}
			if !upserted {
				// A new broker, or one formatted before the secure listener: no such user yet
				// (or a stale password). Write both SCRAM credentials from the password file.
				if err := upsertSCRAM(plain, user, pw); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "ready: created SCRAM-SHA-256/512 credentials for user %q\n", user)
				upserted = true
			}
			// The credentials reach the broker through the metadata log: a few ms.
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s over %s: user %q still refused after creating it: %w", m, addr, user, err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

func upsertSCRAM(plain kafka.Config, user string, pw kafka.Secret) error {
	admin, err := sarama.NewClusterAdmin(plain.Brokers, plain.Sarama())
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer admin.Close()
	// One request per mechanism: Kafka 4.1 refuses two upserts of one user in one request
	// ("A user credential cannot be altered twice in the same request").
	for _, m := range []sarama.ScramMechanismType{sarama.SCRAM_MECHANISM_SHA_256, sarama.SCRAM_MECHANISM_SHA_512} {
		salt := make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return err
		}
		res, err := admin.UpsertUserScramCredentials([]sarama.AlterUserScramCredentialsUpsert{{
			Name: user, Mechanism: m, Iterations: 8192, Salt: salt, Password: []byte(pw.Reveal()),
		}})
		if err != nil {
			return fmt.Errorf("create %s credentials of %q: %w", m, user, err)
		}
		for _, r := range res {
			if r.ErrorCode != sarama.ErrNoError {
				msg := ""
				if r.ErrorMessage != nil {
					msg = *r.ErrorMessage
				}
				return fmt.Errorf("create %s credentials of %q: %w %s", m, r.User, r.ErrorCode, msg)
			}
		}
	}
	return nil
}

// waitBrokers waits until the cluster's metadata lists want brokers.
func waitBrokers(ctx context.Context, cfg kafka.Config, want int) error {
	for {
		n, err := brokerCount(cfg)
		if err == nil && n >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d brokers registered (%v): %w", n, want, err, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func brokerCount(cfg kafka.Config) (int, error) {
	sc := cfg.Sarama()
	sc.Metadata.Retry.Max = 0
	client, err := sarama.NewClient(cfg.Brokers, sc)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	return len(client.Brokers()), nil
}

func printLeader(cfg kafka.Config, topic string) error {
	id, parts, err := cfg.BusiestLeader(topic)
	if err != nil {
		return fmt.Errorf("topic %q: %w", topic, err)
	}
	fmt.Fprintf(os.Stderr, "ready: broker %d leads partitions %v of %q\n", id, parts, topic)
	fmt.Println(id)
	return nil
}
