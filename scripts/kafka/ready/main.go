// Command ready waits until a Kafka broker answers a metadata request. scripts/kafka.sh builds
// it once and calls it, so `make kafka-up` returns only when the broker really serves.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kuniq/kuniq/kafka"
)

func main() {
	brokers := flag.String("brokers", kafka.DefaultBrokers, "comma-separated broker addresses")
	timeout := flag.Duration("timeout", 60*time.Second, "how long to wait")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cfg := kafka.DefaultConfig()
	cfg.Brokers = kafka.ParseBrokers(*brokers)
	if err := cfg.WaitReady(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ready:", err)
		os.Exit(1)
	}
}
