package emitter

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/kafka"
)

// HeaderOrigin names, on a record Reingest wrote, where its frame was first read:
// "<topic>/<partition>/<offset>" of the input record that became a dead letter.
const HeaderOrigin = "kuniq.reingest.origin"

// Reingest produces frames back into an input topic: the original bytes of dead letters
// (`kuniq dlq --reingest`), each value exactly the bytes given, keyed as the caller says, with
// HeaderProducer and HeaderOrigin. Order does not matter here (each frame carries its own ts),
// so it uses sarama's async producer with kuniq's settings (acks from every in-sync replica,
// sarama's retries, ~17 s). Send and Close are for one goroutine.
type Reingest struct {
	topic    string
	producer sarama.AsyncProducer
	hdrName  []byte
	acked    atomic.Int64
	failed   atomic.Int64
	mu       sync.Mutex
	firstErr error
	drained  sync.WaitGroup
}

// NewReingest connects a producer for topic; producer is the HeaderProducer value.
func NewReingest(kc kafka.Config, topic, producer string) (*Reingest, error) {
	sc := kc.Sarama()
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	sc.Producer.Partitioner = sarama.NewHashPartitioner
	p, err := sarama.NewAsyncProducer(kc.Brokers, sc)
	if errors.Is(err, sarama.ErrOutOfBrokers) {
		return nil, fmt.Errorf("reingest into %q: connect to %v: %w: %w", topic, kc.Brokers, kafka.ErrUnreachable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reingest into %q: %w", topic, err)
	}
	r := &Reingest{topic: topic, producer: p, hdrName: []byte(producer)}
	r.drained.Add(2)
	go func() {
		defer r.drained.Done()
		for range p.Successes() {
			r.acked.Add(1)
		}
	}()
	go func() {
		defer r.drained.Done()
		for pe := range p.Errors() {
			r.failed.Add(1)
			r.mu.Lock()
			if r.firstErr == nil {
				r.firstErr = fmt.Errorf("reingest into %q: %w", r.topic, pe.Err)
			}
			r.mu.Unlock()
		}
	}()
	return r, nil
}

// Send queues one frame. value is sent exactly as given (nil: no value); Send keeps no
// reference to key or value after it returns (they are copied). It returns the first error of
// an earlier send, if any, so a caller can stop early.
func (r *Reingest) Send(key, value []byte, origin string) error {
	if err := r.err(); err != nil {
		return err
	}
	m := &sarama.ProducerMessage{Topic: r.topic, Key: sarama.ByteEncoder(append([]byte(nil), key...)),
		Headers: []sarama.RecordHeader{
			{Key: []byte(HeaderProducer), Value: r.hdrName},
			{Key: []byte(HeaderOrigin), Value: []byte(origin)},
		}}
	if value != nil {
		m.Value = sarama.ByteEncoder(append([]byte{}, value...))
	}
	r.producer.Input() <- m
	return nil
}

func (r *Reingest) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstErr
}

// Close waits until every frame sent was acknowledged or failed, and returns the number
// acknowledged and the first error (with the count of the failed).
func (r *Reingest) Close() (acked int64, err error) {
	r.producer.AsyncClose()
	r.drained.Wait()
	err = r.err()
	if n := r.failed.Load(); n > 1 {
		err = fmt.Errorf("%w (and %d more frames failed)", err, n-1)
	}
	return r.acked.Load(), err
}
