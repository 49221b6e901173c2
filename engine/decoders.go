package engine

import (
	"context"
	"runtime"

	"github.com/kuniq/kuniq/codec"
)

// Decoders decode batches of frames on a fixed set of goroutines shared by every input that
// submits to them, so one busy Kafka partition is decoded on all cores. Order is the caller's:
// each Batch is its own job, and the caller hands batches on in the order it submitted them
// (Batch.Wait), as Read does with its chunks.
type Decoders struct {
	n        int
	maxBytes int
	frame    codec.FrameConfig
	jobs     chan *Batch
}

// Batch is one decoding job: Values[i] at Offsets[i] becomes Frames[i].
type Batch struct {
	Values  [][]byte
	Offsets []int64
	Frames  []Frame
	done    chan struct{}
}

// Reset empties b for reuse, keeping its capacity and dropping its references to the values
// (a Kafka fetch's buffers) and frames. Call it only once the frames have been consumed.
func (b *Batch) Reset() {
	clear(b.Values)
	clear(b.Frames)
	b.Values, b.Offsets, b.Frames, b.done = b.Values[:0], b.Offsets[:0], b.Frames[:0], nil
}

// TooLargeHead is how much of a frame over the size limit its dead letter keeps.
const TooLargeHead = 1024

// NewDecoders returns a pool of n decoders (0: GOMAXPROCS) configured by frame (the format,
// JSON or protobuf, and where frames keep their uid and ts; the caller validated it). A frame
// over maxBytes (0: no limit) is not decoded: it becomes codec.ErrTooLarge with its first
// TooLargeHead bytes. Run starts them.
func NewDecoders(n, maxBytes int, frame codec.FrameConfig) *Decoders {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Decoders{n: n, maxBytes: maxBytes, frame: frame, jobs: make(chan *Batch, 4*n)}
}

// Run decodes submitted batches until ctx is done.
func (d *Decoders) Run(ctx context.Context) error {
	done := make(chan struct{})
	for range d.n {
		go func() {
			defer func() { done <- struct{}{} }()
			dec, _ := codec.NewDecoder(d.frame)
			for {
				select {
				case b := <-d.jobs:
					b.Frames = b.Frames[:0]
					for i, v := range b.Values {
						if d.maxBytes > 0 && len(v) > d.maxBytes {
							b.Frames = append(b.Frames, Frame{Offset: b.Offsets[i], Line: v[:min(len(v), TooLargeHead)], Err: codec.ErrTooLarge})
							continue
						}
						b.Frames = append(b.Frames, Decode(dec, b.Offsets[i], v))
					}
					close(b.done)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	for range d.n {
		<-done
	}
	return nil
}

// Submit queues b for decoding. It returns false if ctx ended first (b is then never decoded).
func (d *Decoders) Submit(ctx context.Context, b *Batch) bool {
	b.done = make(chan struct{})
	select {
	case d.jobs <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

// Wait waits until b is decoded; false if ctx ended first.
func (b *Batch) Wait(ctx context.Context) bool {
	select {
	case <-b.done:
		return true
	case <-ctx.Done():
		return false
	}
}
