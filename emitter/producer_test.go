package emitter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/internal/retry"
)

// mockBroker is a sarama mock broker leading every partition of topic, answering produce
// requests with the responses in order (the last one repeats).
func mockBroker(t *testing.T, topic string, partitions int, produce ...any) *sarama.MockBroker {
	t.Helper()
	mb := sarama.NewMockBroker(t, 1)
	t.Cleanup(mb.Close)
	meta := sarama.NewMockMetadataResponse(t).SetBroker(mb.Addr(), mb.BrokerID())
	off := sarama.NewMockOffsetResponse(t)
	for p := range int32(partitions) {
		meta.SetLeader(topic, p, mb.BrokerID())
		off.SetOffset(topic, p, sarama.OffsetNewest, 0).SetOffset(topic, p, sarama.OffsetOldest, 0)
	}
	mb.SetHandlerByMap(map[string]sarama.MockResponse{
		"ApiVersionsRequest":    sarama.NewMockApiVersionsResponse(t),
		"MetadataRequest":       meta,
		"OffsetRequest":         off,
		"InitProducerIDRequest": sarama.NewMockInitProducerIDResponse(t).SetProducerID(7).SetProducerEpoch(0),
		"ProduceRequest":        sarama.NewMockSequence(produce...),
	})
	return mb
}

func produceResponse(t *testing.T, topic string, err sarama.KError) *sarama.MockProduceResponse {
	return sarama.NewMockProduceResponse(t).SetVersion(7).SetError(topic, 0, err)
}

// produceRequests counts the produce requests mb answered.
func produceRequests(mb *sarama.MockBroker) int {
	n := 0
	for _, rr := range mb.History() {
		if _, ok := rr.Request.(*sarama.ProduceRequest); ok {
			n++
		}
	}
	return n
}

// syncBuffer is a bytes.Buffer safe for the log's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProducerFaults drives Run against a mock broker that fails produce requests in chosen
// ways: transient errors are retried until they pass, a batch too large is split, a record the
// broker refuses or a fault that outlasts RetryTimeout stops the ingest with the line to
// resume from, and a cancelled context stops it promptly.
func TestProducerFaults(t *testing.T) {
	const topic = "frames"
	lines := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `{"ts":1468244384,"uid":"u%d"}`+"\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name       string
		lines      int
		flushBytes int // 1: one record per batch
		retry      time.Duration
		cancel     time.Duration // cancel the context after this long (0: never)
		produce    func(t *testing.T) []any
		wantErr    error
		wantResume int64 // Resume.Input of the ResumeError
		wantFrames int64
		wantLog    []string
		minReqs    int
	}{
		{name: "transient errors are retried", lines: 10, flushBytes: 1 << 20,
			produce: func(t *testing.T) []any {
				return []any{produceResponse(t, topic, sarama.ErrNotLeaderForPartition), produceResponse(t, topic, sarama.ErrNotEnoughReplicas), produceResponse(t, topic, sarama.ErrNoError)}
			},
			wantFrames: 10, minReqs: 3, wantLog: []string{"failing; retrying", "recovered"}},
		{name: "a batch too large is split", lines: 8, flushBytes: 1 << 20,
			produce: func(t *testing.T) []any {
				return []any{produceResponse(t, topic, sarama.ErrMessageSizeTooLarge), produceResponse(t, topic, sarama.ErrNoError)}
			},
			wantFrames: 8, minReqs: 2},
		{name: "a record too large stops at its line", lines: 5, flushBytes: 1,
			produce: func(t *testing.T) []any {
				ok := produceResponse(t, topic, sarama.ErrNoError)
				return []any{ok, ok, produceResponse(t, topic, sarama.ErrMessageSizeTooLarge)}
			},
			wantErr: sarama.ErrMessageSizeTooLarge, wantResume: 3, wantFrames: 2},
		{name: "refused for good", lines: 5, flushBytes: 1,
			produce: func(t *testing.T) []any {
				return []any{produceResponse(t, topic, sarama.ErrTopicAuthorizationFailed)}
			},
			wantErr: ErrRefused, wantResume: 1},
		{name: "gives up after the retry timeout", lines: 5, flushBytes: 1 << 20, retry: 300 * time.Millisecond,
			produce: func(t *testing.T) []any {
				return []any{produceResponse(t, topic, sarama.ErrNotEnoughReplicas)}
			},
			wantErr: ErrGaveUp, wantResume: 1, wantLog: []string{"failing; retrying"}},
		{name: "cancelled while failing", lines: 5, flushBytes: 1 << 20, cancel: 300 * time.Millisecond,
			produce: func(t *testing.T) []any {
				return []any{produceResponse(t, topic, sarama.ErrNotEnoughReplicas)}
			},
			wantErr: context.Canceled, wantResume: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mb := mockBroker(t, topic, 1, tt.produce(t)...)
			var log syncBuffer
			cfg := DefaultConfig()
			cfg.Kafka.Brokers = []string{mb.Addr()}
			cfg.Kafka.Timeout = 2 * time.Second
			cfg.Topic = topic
			cfg.FlushBytes = tt.flushBytes
			cfg.FlushFrequency = time.Millisecond
			cfg.Backoff = retry.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}
			cfg.RetryTimeout = cmpOr(tt.retry, time.Minute)
			cfg.Log = slog.New(slog.NewTextHandler(&log, nil))
			in, err := NewIngest(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel > 0 {
				time.AfterFunc(tt.cancel, cancel)
			}
			start := time.Now()
			st, err := in.Run(ctx, strings.NewReader(lines(tt.lines)))
			took := time.Since(start)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run: err = %v, want %v", err, tt.wantErr)
			}
			var re *ResumeError
			if tt.wantErr != nil {
				if !errors.As(err, &re) || re.Resume.Input != tt.wantResume || re.Resume.Line != tt.wantResume || re.Resume.Source != "-" {
					t.Errorf("Run: err %v, want a *ResumeError at line %d of -", err, tt.wantResume)
				}
				// Failed counts the lines read but not acknowledged: the failing one at least,
				// the rest only as far as the reader got before Run stopped.
				if st.Failed < 1 || st.Failed > int64(tt.lines)-st.Frames {
					t.Errorf("Failed = %d, want 1 to the %d lines not acknowledged", st.Failed, int64(tt.lines)-st.Frames)
				}
			}
			if st.Frames != tt.wantFrames {
				t.Errorf("Frames = %d, want %d", st.Frames, tt.wantFrames)
			}
			if n := produceRequests(mb); n < tt.minReqs {
				t.Errorf("%d produce requests, want at least %d", n, tt.minReqs)
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(log.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, log.String())
				}
			}
			if tt.cancel > 0 && took > tt.cancel+3*time.Second {
				t.Errorf("Run returned %v after the cancel, want within 3 s", took-tt.cancel)
			}
		})
	}
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func TestNextSeqWraps(t *testing.T) {
	for _, tc := range []struct {
		seq  int32
		n    int
		want int32
	}{{0, 5, 5}, {2147483640, 7, 2147483647}, {2147483640, 8, 0}, {2147483647, 2, 1}} {
		if got := nextSeq(tc.seq, tc.n); got != tc.want {
			t.Errorf("nextSeq(%d, %d) = %d, want %d", tc.seq, tc.n, got, tc.want)
		}
	}
}

// TestHashPartitionIsSaramas: Run picks partitions itself; they must be those of sarama's hash
// partitioner (and so of Goka's emitters).
func TestHashPartitionIsSaramas(t *testing.T) {
	sp := sarama.NewHashPartitioner("t")
	for i := range 5000 {
		key := []byte(fmt.Sprintf("%019x", uint64(i)*0x9e3779b97f4a7c15))
		if i%7 == 0 {
			key = key[:i%19+1]
		}
		for _, n := range []int{1, 3, 4, 16} {
			want, err := sp.Partition(&sarama.ProducerMessage{Key: sarama.ByteEncoder(key)}, int32(n))
			if err != nil {
				t.Fatal(err)
			}
			if got := hashPartition(key, n); got != want {
				t.Fatalf("hashPartition(%q, %d) = %d, sarama says %d", key, n, got, want)
			}
		}
	}
}

// TestCompressionValidate: any codec Kafka knows is accepted, an unknown one is not, and zstd
// only where the protocol version has it (Kafka 2.1).
func TestCompressionValidate(t *testing.T) {
	for _, tt := range []struct {
		codec   sarama.CompressionCodec
		version sarama.KafkaVersion
		ok      bool
	}{
		{sarama.CompressionNone, sarama.V3_9_0_0, true},
		{sarama.CompressionLZ4, sarama.V3_9_0_0, true},
		{sarama.CompressionZSTD, sarama.V3_9_0_0, true},
		{sarama.CompressionZSTD, sarama.V2_1_0_0, true},
		{sarama.CompressionZSTD, sarama.V2_0_0_0, false},
		{sarama.CompressionGZIP, sarama.V2_0_0_0, true},
		{sarama.CompressionCodec(5), sarama.V3_9_0_0, false},
		{sarama.CompressionCodec(-1), sarama.V3_9_0_0, false},
	} {
		cfg := DefaultConfig()
		cfg.Compression, cfg.Kafka.Version = tt.codec, tt.version
		if err := cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("compression %d on Kafka %v: Validate = %v, want ok %v", tt.codec, tt.version, err, tt.ok)
		}
	}
}
