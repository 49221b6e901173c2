package processor

import (
	"context"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/engine"
)

// read counts the partition's records from offset `from` until ctx ends or the claim's channel
// closes. Records go to the decoders in batches, so one partition is decoded on every core, and
// are applied to the partition strictly in offset order; reading waits while more than
// 2×MaxPending frames wait for a flush (Kafka unreachable: the backlog stays in Kafka, not in
// memory). It returns once every batch it read has been applied.
func (p *PreAgg) read(ctx context.Context, pt *partition, msgs <-chan *sarama.ConsumerMessage, from int64) {
	inflight := make(chan *engine.Batch, 4)
	// Applied batches come back for reuse: a fresh batch per 256 records was a quarter of
	// stage 1's own allocations on protobuf input, and garbage collection its biggest cost
	// after sarama's fetch path.
	free := make(chan *engine.Batch, cap(inflight)+2)
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		for b := range inflight {
			// The decoders outlive every claim: a submitted batch is always decoded.
			b.Wait(context.Background())
			pt.apply(p, b.Frames)
			b.Reset()
			select {
			case free <- b:
			default:
			}
		}
	}()
	defer func() {
		close(inflight)
		<-applied
	}()
	schemas := schemaLog{on: p.cfg.Engine.Frame.Format == codec.FormatProtobuf}
	for {
		if !pt.waitRoom(ctx, 2*p.cfg.MaxPending) {
			return
		}
		var b *engine.Batch
		select {
		case b = <-free:
		default:
			b = &engine.Batch{Values: make([][]byte, 0, batchSize), Offsets: make([]int64, 0, batchSize)}
		}
		add := func(m *sarama.ConsumerMessage) {
			if m.Offset < from {
				return // counted already (see partition.begin)
			}
			schemas.see(p, m)
			b.Values, b.Offsets = append(b.Values, m.Value), append(b.Offsets, m.Offset)
		}
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			add(m)
		case <-ctx.Done():
			return
		}
	fill:
		for len(b.Values) < batchSize {
			select {
			case m, ok := <-msgs:
				if !ok {
					break fill
				}
				add(m)
			default:
				break fill
			}
		}
		if len(b.Values) == 0 {
			continue
		}
		pt.mu.Lock()
		pt.decoding += len(b.Values)
		pt.mu.Unlock()
		if !p.decoders.Submit(ctx, b) {
			pt.mu.Lock()
			pt.decoding -= len(b.Values)
			pt.mu.Unlock()
			return // session over: these records were not counted, so they are not committed
		}
		inflight <- b
	}
}

// apply counts decoded frames in offset order.
func (pt *partition) apply(p *PreAgg, frames []engine.Frame) {
	now := p.now()
	pt.mu.Lock()
	for _, f := range frames {
		pt.src.Add(f)
		pt.tally.read(f.Offset)
		if pt.first < 0 {
			pt.first = f.Offset
		}
		pt.last, pt.read = f.Offset, max(pt.read, f.Offset)
	}
	pt.pending += len(frames)
	pt.decoding -= len(frames)
	pt.lastFrame, pt.settled = now, false
	full := pt.pending >= p.cfg.MaxPending
	pt.mu.Unlock()
	if full {
		p.wake()
	}
}

// waitRoom waits until fewer than limit frames are pending or being decoded; false if ctx
// ended first.
func (pt *partition) waitRoom(ctx context.Context, limit int) bool {
	for {
		pt.mu.Lock()
		room, ok := pt.room, pt.pending+pt.decoding < limit
		pt.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-room:
		case <-ctx.Done():
			return false
		}
	}
}

// schemaLog logs the Confluent schema ids a partition's protobuf records carry, once when a
// partition's first such record is read and again whenever the id changes: the decoder does
// not check them (fields 1 and 2 are all it reads; kuniq talks to no registry), so the log is
// where an operator sees that producers moved to a new schema version.
type schemaLog struct {
	on   bool
	seen bool
	id   uint32
}

func (s *schemaLog) see(p *PreAgg, m *sarama.ConsumerMessage) {
	if !s.on {
		return
	}
	id, ok := codec.ConfluentSchemaID(m.Value)
	if !ok || s.seen && id == s.id {
		return
	}
	p.log.Info("input records in Confluent's wire format: schema id read past, not checked against a registry",
		"topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "schema_id", id, "previous_schema_id", s.prev())
	s.seen, s.id = true, id
}

// prev is the last id logged, or -1 for none.
func (s *schemaLog) prev() int64 {
	if !s.seen {
		return -1
	}
	return int64(s.id)
}
