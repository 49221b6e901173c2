package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/kafka"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "live:", err)
		os.Exit(1)
	}
}

func run() error {
	brokers := flag.String("brokers", kafka.DefaultBrokers, "comma-separated brokers")
	topic := flag.String("topic", "", "input topic to produce into (created when missing)")
	output := flag.String("output", "", "output topic of the kuniq run to read results from")
	partitions := flag.Int("partitions", 4, "partitions of the input topic when created")
	rate := flag.Int("rate", 2000, "frames per second")
	duration := flag.Duration("duration", 200*time.Second, "how long to produce")
	settle := flag.Duration("settle", 15*time.Second, "wait this long after the last frame before reading results")
	frameBytes := flag.Int("frame-bytes", gen.DefaultFrameBytes, "size of the template frames")
	pool := flag.Int("pool", 100_000, "distinct users")
	outOfOrder := flag.Duration("out-of-order", 5*time.Second, "the run's allowed out-of-orderness")
	flag.Parse()
	if *topic == "" || *output == "" {
		return errors.New("-topic and -output are required")
	}
	kc := kafka.DefaultConfig()
	kc.Brokers = kafka.ParseBrokers(*brokers)
	if err := kc.EnsureTopics(kafka.Topic{Name: *topic, Partitions: *partitions}); err != nil {
		return err
	}
	live, err := gen.NewLive(1000, *frameBytes)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	uids := make([]string, *pool)
	for i := range uids {
		uids[i] = fmt.Sprintf("%03x%016x", rng.IntN(1<<12), rng.Uint64()) // 19 hex chars, as the challenge's
	}

	sc := kc.Sarama()
	sc.ClientID = "bench-live"
	// A live source sends promptly: the frames' delivery delay is not what is measured.
	sc.Producer.Flush.Frequency = 20 * time.Millisecond
	sc.Producer.Partitioner = sarama.NewHashPartitioner
	prod, err := sarama.NewAsyncProducer(kc.Brokers, sc)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	var failed int
	done := make(chan struct{})
	go func() {
		for range prod.Successes() {
		}
		close(done)
	}()
	errDone := make(chan struct{})
	go func() {
		for err := range prod.Errors() {
			if failed == 0 {
				fmt.Fprintln(os.Stderr, "live: produce:", err)
			}
			failed++
		}
		close(errDone)
	}()

	start := time.Now()
	var sent int64
	tick := time.NewTicker(10 * time.Millisecond)
	for now := start; now.Sub(start) < *duration; now = <-tick.C {
		due := int64(now.Sub(start).Seconds() * float64(*rate))
		for ; sent < due; sent++ {
			uid := uids[rng.IntN(len(uids))]
			v := live.AppendLive(nil, rng.IntN(1000), time.Now().Unix(), uid)
			prod.Input() <- &sarama.ProducerMessage{Topic: *topic, Key: sarama.StringEncoder(uid), Value: sarama.ByteEncoder(v)}
		}
	}
	tick.Stop()
	stop := time.Now()
	prod.AsyncClose()
	<-done
	<-errDone
	fmt.Fprintf(os.Stderr, "live: sent %d frames in %.1fs (%d failed); waiting %v for results\n", sent, stop.Sub(start).Seconds(), failed, *settle)
	time.Sleep(*settle)

	recs, err := kc.ReadAll(*output)
	if err != nil {
		return err
	}
	lat := latencies(recs, start, stop, *outOfOrder)
	if len(lat) == 0 {
		return fmt.Errorf("no final minute of the run in %s (%d records)", *output, len(recs))
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	fmt.Printf("live: %d frames at %d/s; %d complete minutes; close -> final latency p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms (min %.0f ms)\n",
		sent, *rate, len(lat), ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99)), ms(lat[len(lat)-1]), ms(lat[0]))
	fmt.Printf("RESULT frames=%d windows=%d p50_ms=%.0f p90_ms=%.0f p99_ms=%.0f max_ms=%.0f min_ms=%.0f\n",
		sent, len(lat), ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99)), ms(lat[len(lat)-1]), ms(lat[0]))
	return nil
}

// result is the part of a result record the latency needs.
type result struct {
	Granularity string `json:"granularity"`
	Start       int64  `json:"start"`
	End         int64  `json:"end"`
	Final       bool   `json:"final"`
	Revision    int    `json:"revision"`
}

// latencies returns, for each first final record of a minute wholly inside [start, stop) whose
// closing moment (end + outOfOrder) came before stop, its record time minus that moment.
func latencies(recs []kafka.Record, start, stop time.Time, outOfOrder time.Duration) []time.Duration {
	var out []time.Duration
	seen := map[int64]bool{}
	for _, r := range recs {
		var res result
		if r.Value == nil || json.Unmarshal(r.Value, &res) != nil {
			continue
		}
		if res.Granularity != "minute" || !res.Final || res.Revision != 0 || seen[res.Start] {
			continue
		}
		closeAt := time.Unix(res.End, 0).Add(outOfOrder)
		if time.Unix(res.Start, 0).Before(start) || closeAt.After(stop) {
			continue
		}
		seen[res.Start] = true
		out = append(out, r.Timestamp.Sub(closeAt))
	}
	return out
}

// percentile returns the nearest-rank q-th percentile of sorted, which must not be empty.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(float64(len(sorted))*q/100+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
