package processor_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/window"
)

// liveProducer sends frames with ts = now (10 % of them up to 20 s late, as the challenge
// generator's -d 20 -p 10), in bursts, and remembers the exact users per minute.
type liveProducer struct {
	t     *testing.T
	p     sarama.SyncProducer
	topic string
	rng   *rand.Rand
	users map[int64]map[int]bool // minute start -> users
}

func newLiveProducer(t *testing.T, kc kafka.Config, topic string) *liveProducer {
	sc := kc.Sarama()
	sc.Producer.Return.Successes = true
	sc.Producer.Partitioner = sarama.NewHashPartitioner
	p, err := sarama.NewSyncProducer(kc.Brokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &liveProducer{t: t, p: p, topic: topic, rng: rand.New(rand.NewPCG(7, 8)), users: map[int64]map[int]bool{}}
}

// burst sends n frames now, spread over the partitions by uid.
func (lp *liveProducer) burst(n int) {
	msgs := make([]*sarama.ProducerMessage, 0, n)
	now := time.Now().Unix()
	for range n {
		ts := now
		if lp.rng.IntN(10) == 0 {
			ts -= 1 + lp.rng.Int64N(20)
		}
		u := lp.rng.IntN(3000)
		uid := fmt.Sprintf("%019x", uint64(u)*0x9e3779b97f4a7c15>>4)
		m := window.Minute.Start(ts)
		if lp.users[m] == nil {
			lp.users[m] = map[int]bool{}
		}
		lp.users[m][u] = true
		msgs = append(msgs, &sarama.ProducerMessage{Topic: lp.topic, Key: sarama.StringEncoder(uid),
			Value: sarama.StringEncoder(fmt.Sprintf(`{"ts":%d,"uid":%q}`, ts, uid))})
	}
	if err := lp.p.SendMessages(msgs); err != nil {
		lp.t.Fatal(err)
	}
}

// run sends bursts of 50..350 frames every 250 ms for d: ~800 frames/s on average, bursty.
func (lp *liveProducer) run(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		lp.burst(50 + lp.rng.IntN(300))
	}
}

// liveRecord is a result and when it reached the output topic.
type liveRecord struct {
	codec.Result
	at time.Time
}

func (c *cluster) liveResults() []liveRecord {
	c.t.Helper()
	recs, err := c.kc.ReadAll(c.output)
	if err != nil {
		c.t.Fatal(err)
	}
	var out []liveRecord
	for _, r := range recs {
		res, err := codec.ParseResult(r.Value)
		if err != nil {
			c.t.Fatalf("record %s: %v", r.Key, err)
		}
		out = append(out, liveRecord{res, r.Timestamp})
	}
	slices.SortStableFunc(out, func(a, b liveRecord) int { return a.at.Compare(b.at) })
	return out
}

// TestIntegrationLivePause: live input (ts = now, 10 % up to 20 s late, in bursts) into two
// instances, paused for longer than the idle timeout, then resumed. No record is final before
// its window ended on the wall clock, no window needs more than 2 revisions, every window
// gets its closed record only once the lateness passed it, and the minutes' final counts
// match the exact ones. KUNIQ_LIVE_BIN runs the scenario against another kuniq binary (the
// numbers of docs/design.md, "Corrections", compare two builds this way).
func TestIntegrationLivePause(t *testing.T) {
	c := newCluster(t, 2)
	if bin := os.Getenv("KUNIQ_LIVE_BIN"); bin != "" {
		c.bin = bin
	}
	if err := c.kc.EnsureTopics(kafka.Topic{Name: c.input, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	app := c.prefix
	// --lateness 40s, so that windows close within the test.
	// The production default correction interval (the harness shortens it): this test
	// counts revisions.
	live := []string{"--lateness", "40s", "--retention-minute", "1h", "--correction-interval", "20s"}
	c.start(app, "a", live...)
	c.start(app, "b", live...)
	lp := newLiveProducer(t, c.kc, c.input)
	started := time.Now()
	// At least 20 s of input, then on to the 50th second of a minute: the pause of 20 s (the
	// harness's idle timeout is 3 s) spans the minute's end.
	lp.run(20 * time.Second)
	lp.run(time.Until(time.Unix(window.Minute.Start(time.Now().Unix()+10)+50, 0)))
	pause := time.Now()
	time.Sleep(20 * time.Second)
	resumed := time.Now()
	lp.run(50 * time.Second)
	stopped := time.Now()
	// Let the last minute end on the clock, become final (idle input: at its end + 5 s) and
	// take its corrections (late frames up to 20 s, one correction per 10 s), then wait for
	// the output to settle.
	lastMinute := window.Minute.Start(stopped.Unix())
	time.Sleep(time.Until(time.Unix(lastMinute+60+5+25, 0)))
	rs := c.liveResults()
	for n, quiet := len(rs), 0; quiet < 3; quiet++ {
		time.Sleep(2 * time.Second)
		if rs = c.liveResults(); len(rs) != n {
			n, quiet = len(rs), 0
		}
	}
	t.Logf("input %s..%s, paused %s..%s", started.UTC().Format(time.TimeOnly), stopped.UTC().Format(time.TimeOnly),
		pause.UTC().Format(time.TimeOnly), resumed.UTC().Format(time.TimeOnly))

	type stat struct {
		final, corrections, maxRev int
		last                       codec.Result
		closedAt                   time.Time
		afterClosed                bool
	}
	stats := map[window.Key]*stat{}
	early := 0
	for _, r := range rs {
		k := r.Key()
		st := stats[k]
		if st == nil {
			st = &stat{}
			stats[k] = st
		}
		if !st.closedAt.IsZero() {
			st.afterClosed = true
		}
		if !r.Final {
			early++
			if !st.last.Final {
				st.last = r.Result
			}
			continue
		}
		// Record timestamps are the producer's clock, this machine's: a final before the
		// window's end on it is the bug this test is about.
		if end := time.Unix(r.End, 0); r.at.Before(end) {
			t.Errorf("%s published final at %s, %v before its end on the wall clock", k, r.at.UTC().Format(time.TimeOnly), end.Sub(r.at))
		}
		if r.Revision == 0 && !r.Closed {
			st.final++
		}
		if r.Revision > st.maxRev {
			st.maxRev = r.Revision
			st.corrections++
		}
		if r.Closed {
			st.closedAt = r.at
			if lateEnd := time.Unix(r.End+40, 0); r.at.Before(lateEnd) {
				t.Errorf("%s closed at %s, before its end + lateness %s", k, r.at.UTC().Format(time.TimeOnly), lateEnd.UTC().Format(time.TimeOnly))
			}
		}
		st.last = r.Result
	}
	var keys []window.Key
	for k := range stats {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b window.Key) int {
		return cmp.Or(cmp.Compare(a.Granularity, b.Granularity), cmp.Compare(a.Start, b.Start))
	})
	corrections, maxRev := 0, 0
	for _, k := range keys {
		st := stats[k]
		corrections += st.corrections
		maxRev = max(maxRev, st.maxRev)
		t.Logf("%-18s final records %d, corrections %d, last revision %d, uniques %d, final %v, closed %v",
			k, st.final, st.corrections, st.last.Revision, st.last.Uniques, st.last.Final, !st.closedAt.IsZero())
		if st.maxRev > 2 {
			t.Errorf("%s needed %d revisions, want at most 2", k, st.maxRev)
		}
		if st.final > 1 {
			t.Errorf("%s published %d first finals", k, st.final)
		}
		if st.afterClosed {
			t.Errorf("%s published a record after its closed record", k)
		}
		// The event-time watermark stops at the last ts when the input goes quiet: the
		// minutes the lateness passed before then are closed, the last ones stay final.
		if k.Granularity == window.Minute && k.End()+40+5 < stopped.Unix() && st.closedAt.IsZero() {
			t.Errorf("%s: no closed record", k)
		}
		if k.Granularity == window.Minute && st.last.Final {
			exact := len(lp.users[k.Start])
			if d := float64(st.last.Uniques) - float64(exact); d > 0.01*float64(exact)+1 || -d > 0.01*float64(exact)+1 {
				t.Errorf("%s: %d uniques, exact %d", k, st.last.Uniques, exact)
			}
		}
		if k.Granularity >= window.Hour && st.last.Final && k.End() > time.Now().Unix() {
			t.Errorf("%s is final, but its end is still ahead on the wall clock", k)
		}
	}
	t.Logf("%d records (%d early) for %d windows: %d corrections, at most %d revisions per window",
		len(rs), early, len(stats), corrections, maxRev)
}
