package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/kafka"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lag:", err)
		os.Exit(1)
	}
}

func run() error {
	brokers := flag.String("brokers", kafka.DefaultBrokers, "comma-separated brokers")
	topic := flag.String("topic", "", "topic the group consumes")
	group := flag.String("group", "", "consumer group id, e.g. <app>-preagg")
	wait := flag.Bool("wait", false, "poll until the lag is zero")
	every := flag.Duration("interval", 200*time.Millisecond, "poll interval with -wait")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up waiting after this long")
	startMS := flag.Int64("start", 0, "unix ms the timing starts from (default: now)")
	snapshot := flag.Bool("snapshot", false, "with -wait: done when the group has reached the high-water marks of the first poll, "+
		"not today's (for a topic that never stops growing, such as partials with their heartbeats)")
	flag.Parse()
	if *topic == "" || *group == "" {
		return errors.New("-topic and -group are required")
	}
	start := time.Now()
	if *startMS > 0 {
		start = time.UnixMilli(*startMS)
	}
	kc := kafka.DefaultConfig()
	kc.Brokers = kafka.ParseBrokers(*brokers)
	sc := kc.Sarama()
	sc.ClientID = "bench-lag"
	client, err := sarama.NewClient(kc.Brokers, sc)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer admin.Close()

	var first time.Time
	var firstConsumed int64
	var target map[int32]int64 // with -snapshot: the high-water marks to reach
	lastPrint := time.Now()
	for {
		l, err := measure(client, admin, *topic, *group, target)
		if err != nil {
			return err
		}
		if *snapshot && target == nil {
			target = l.hw
		}
		now := time.Now()
		if !*wait {
			fmt.Printf("group %s on %s: lag %d, consumed %d of %d\n", *group, *topic, l.lag, l.consumed, l.total)
			return nil
		}
		if first.IsZero() && l.consumed > 0 {
			first, firstConsumed = now, l.consumed
		}
		if l.lag == 0 && l.total > 0 {
			secs := now.Sub(start).Seconds()
			steady := now.Sub(first).Seconds()
			fmt.Printf("lag: group %s consumed all %d records of %s in %.2fs (first commit seen after %.2fs; steady %.0f records/s)\n",
				*group, l.total, *topic, secs, first.Sub(start).Seconds(), float64(l.consumed-firstConsumed)/max(steady, 1e-9))
			fmt.Printf("RESULT consumed=%d secs=%.3f first_secs=%.3f steady_secs=%.3f steady_records=%d\n",
				l.consumed, secs, first.Sub(start).Seconds(), steady, l.consumed-firstConsumed)
			return nil
		}
		if now.Sub(start) > *timeout {
			return fmt.Errorf("group %s still %d behind on %s after %v", *group, l.lag, *topic, *timeout)
		}
		if now.Sub(lastPrint) >= 5*time.Second {
			fmt.Fprintf(os.Stderr, "lag: %s: %d of %d consumed after %.0fs\n", *group, l.consumed, l.total, now.Sub(start).Seconds())
			lastPrint = now
		}
		time.Sleep(*every)
	}
}

// lagInfo sums a group's position on a topic over its partitions.
type lagInfo struct {
	total    int64 // records in the topic: high-water mark minus oldest offset
	consumed int64 // records behind the committed offsets
	lag      int64 // total - consumed
	hw       map[int32]int64
}

// measure returns the group's position; with target non-nil, a partition's end is its target
// offset instead of its current high-water mark.
func measure(client sarama.Client, admin sarama.ClusterAdmin, topic, group string, target map[int32]int64) (lagInfo, error) {
	parts, err := client.Partitions(topic)
	if err != nil {
		return lagInfo{}, fmt.Errorf("partitions of %s: %w", topic, err)
	}
	offs, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
	if err != nil {
		return lagInfo{}, fmt.Errorf("offsets of group %s: %w", group, err)
	}
	li := lagInfo{hw: map[int32]int64{}}
	for _, p := range parts {
		hw, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return lagInfo{}, fmt.Errorf("high-water mark of %s/%d: %w", topic, p, err)
		}
		old, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return lagInfo{}, fmt.Errorf("oldest offset of %s/%d: %w", topic, p, err)
		}
		li.hw[p] = hw
		if t, ok := target[p]; ok {
			hw = t
		}
		li.total += hw - old
		committed := old // no commit yet: nothing consumed
		if b := offs.GetBlock(topic, p); b != nil && b.Offset >= old {
			committed = min(b.Offset, hw)
		}
		li.consumed += committed - old
	}
	li.lag = li.total - li.consumed
	return li, nil
}
