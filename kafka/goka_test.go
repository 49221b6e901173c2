package kafka

import (
	"testing"
	"time"
)

// TestBatchSaramaLingersLess: stage 1's emitters send a whole phase of a flush and then wait,
// so their producer lingers BatchLinger; every other setting, and every other producer's
// linger, stays as Sarama() has it.
func TestBatchSaramaLingersLess(t *testing.T) {
	c := DefaultConfig()
	plain, batch := c.Sarama(), c.batchSarama()
	if got := batch.Producer.Flush.Frequency; got != BatchLinger {
		t.Errorf("batch producer lingers %v, want %v", got, BatchLinger)
	}
	if got := plain.Producer.Flush.Frequency; got != 20*time.Millisecond {
		t.Errorf("other producers linger %v, want 20ms", got)
	}
	if batch.Producer.RequiredAcks != plain.Producer.RequiredAcks || batch.Net.MaxOpenRequests != plain.Net.MaxOpenRequests ||
		batch.Producer.Retry.Max != plain.Producer.Retry.Max || batch.Producer.Compression != plain.Producer.Compression {
		t.Errorf("batch producer differs from Sarama() beyond its linger")
	}
	if BatchLinger <= 0 {
		t.Errorf("BatchLinger %v: with no linger, size or count set Sarama flushes each message at once (see BatchEmitterOptions)", BatchLinger)
	}
}
