package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/kafka"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "consume:", err)
		os.Exit(1)
	}
}

func run() error {
	brokers := flag.String("brokers", kafka.DefaultBrokers, "comma-separated brokers")
	topic := flag.String("topic", "", "topic to read from its oldest offset")
	group := flag.String("group", "", "consumer group id (default: bench-consume-<nanos>, always fresh)")
	decode := flag.Bool("decode", false, "also decode every frame with codec.FrameDecoder")
	flag.Parse()
	if *topic == "" {
		return errors.New("-topic is required")
	}
	if *group == "" {
		*group = fmt.Sprintf("bench-consume-%d", time.Now().UnixNano())
	}
	kc := kafka.DefaultConfig()
	kc.Brokers = kafka.ParseBrokers(*brokers)
	sc := kc.Sarama()
	sc.ClientID = "bench-consume"
	// kuniq's config asks for Goka's copartitioning strategy; a plain group uses range.
	sc.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}

	start := time.Now()
	client, err := sarama.NewClient(kc.Brokers, sc)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer client.Close()
	parts, err := client.Partitions(*topic)
	if err != nil {
		return fmt.Errorf("partitions of %s: %w", *topic, err)
	}
	h := &handler{hw: map[int32]int64{}, decode: *decode}
	var total int64
	for _, p := range parts {
		hw, err := client.GetOffset(*topic, p, sarama.OffsetNewest)
		if err != nil {
			return fmt.Errorf("high-water mark of %s/%d: %w", *topic, p, err)
		}
		old, err := client.GetOffset(*topic, p, sarama.OffsetOldest)
		if err != nil {
			return fmt.Errorf("oldest offset of %s/%d: %w", *topic, p, err)
		}
		total += hw - old
		if hw > old {
			h.hw[p] = hw
		}
	}
	if total == 0 {
		return fmt.Errorf("topic %s is empty", *topic)
	}
	cg, err := sarama.NewConsumerGroupFromClient(*group, client)
	if err != nil {
		return fmt.Errorf("group %s: %w", *group, err)
	}
	defer cg.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.cancel = cancel
	h.left = len(h.hw)
	go func() {
		for err := range cg.Errors() {
			fmt.Fprintln(os.Stderr, "consume: group error:", err)
		}
	}()
	for ctx.Err() == nil {
		if err := cg.Consume(ctx, []string{*topic}, h); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return fmt.Errorf("consume: %w", err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	secs := h.end.Sub(start).Seconds()
	steady := h.end.Sub(h.first).Seconds()
	fmt.Printf("consume: %s: %d frames (%d expected), %.1f MB in %.2fs (steady %.2fs after the first message): %.0f frames/s, %.0f MB/s steady; bad frames %d\n",
		*topic, h.frames, total, float64(h.bytes)/1e6, secs, steady, float64(h.frames)/steady, float64(h.bytes)/steady/1e6, h.bad)
	fmt.Printf("RESULT frames=%d bytes=%d secs=%.3f steady_secs=%.3f\n", h.frames, h.bytes, secs, steady)
	return nil
}

// handler counts messages per partition until each reaches its high-water mark snapshot.
type handler struct {
	decode bool
	hw     map[int32]int64 // read only after construction
	cancel context.CancelFunc

	mu             sync.Mutex
	frames, bad    int64
	bytes          int64
	first, end     time.Time
	left           int
	donePartitions map[int32]bool
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	hw, ok := h.hw[claim.Partition()]
	if !ok {
		return nil // empty partition
	}
	var d codec.FrameDecoder
	var n, nb, bad int64
	// Counters are folded into the shared ones in batches: a mutex per message would
	// measure the lock, not the consumer.
	fold := func(done bool) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.frames += n
		h.bytes += nb
		h.bad += bad
		n, nb, bad = 0, 0, 0
		if done {
			if h.donePartitions == nil {
				h.donePartitions = map[int32]bool{}
			}
			if !h.donePartitions[claim.Partition()] {
				h.donePartitions[claim.Partition()] = true
				h.left--
				if h.left == 0 {
					h.end = time.Now()
					h.cancel()
				}
			}
		}
	}
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				fold(false)
				return nil
			}
			if n == 0 {
				h.mu.Lock()
				if h.first.IsZero() {
					h.first = time.Now()
				}
				h.mu.Unlock()
			}
			n++
			nb += int64(len(m.Value))
			if h.decode {
				if _, err := d.Decode(m.Value); err != nil {
					bad++
				}
			}
			sess.MarkMessage(m, "")
			if m.Offset >= hw-1 {
				fold(true)
				return nil
			}
			if n >= 4096 {
				fold(false)
			}
		case <-sess.Context().Done():
			fold(false)
			return nil
		}
	}
}
