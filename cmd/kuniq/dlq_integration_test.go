package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/internal/kafkatest"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/window"
)

// produceRaw writes records into topic as they are: nil values stay tombstones, headers kept.
func produceRaw(t *testing.T, kc kafka.Config, topic string, msgs []*sarama.ProducerMessage) {
	t.Helper()
	sc := kc.Sarama()
	sc.Producer.Return.Successes = true
	p, err := sarama.NewSyncProducer(kc.Brokers, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, m := range msgs {
		m.Topic = topic
	}
	if err := p.SendMessages(msgs); err != nil {
		t.Fatalf("produce into %s: %v", topic, err)
	}
}

// runApp runs `kuniq run` in-process for app until done says the topics hold what the test
// waits for (or two minutes pass), then stops it as SIGTERM would.
func runApp(t *testing.T, kc kafka.Config, app, input string, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs bytes.Buffer
	exited := make(chan error, 1)
	go func() {
		exited <- run(ctx, []string{"run", "--brokers", strings.Join(kc.Brokers, ","), "--app", app, "--input", input,
			"--output", app + "-uniques", "--dlq", app + "-dlq", "--partitions", "1", "--state-dir", t.TempDir(),
			"--idle-timeout", "2s", "--flush-interval", "200ms"}, &out, &errs)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for !done() {
		select {
		case err := <-exited:
			t.Fatalf("kuniq run --app %s exited early: %v\n%s", app, err, errs.String())
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			<-exited
			t.Fatalf("kuniq run --app %s: the topics never held what the test waits for", app)
		}
	}
	cancel()
	if err := <-exited; err != nil && !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("kuniq run --app %s: %v", app, err)
	}
}

// finalFrames sums the frames of the final minute records on topic whose window starts in
// [from, to), the highest revision of each window.
func finalFrames(t *testing.T, kc kafka.Config, topic string, from, to int64) int64 {
	recs, err := kc.ReadAll(topic)
	if err != nil {
		return -1
	}
	best := map[int64]codec.Result{}
	for _, r := range recs {
		res, err := codec.ParseResult(r.Value)
		if err != nil || res.Granularity != window.Minute || !res.Final || res.Start < from || res.Start >= to {
			continue
		}
		if b, ok := best[res.Start]; !ok || res.Revision >= b.Revision {
			best[res.Start] = res
		}
	}
	var n int64
	for _, r := range best {
		n += r.Frames
	}
	return n
}

var reasonRow = regexp.MustCompile(`(?m)^  (\w+) +(\d+) +(\d+)$`)

// reasonTable parses the table of a dlq report: reason -> {frames, letters}.
func reasonTable(report string) map[string][2]int {
	out := map[string][2]int{}
	for _, m := range reasonRow.FindAllStringSubmatch(report, -1) {
		f, _ := strconv.Atoi(m[2])
		l, _ := strconv.Atoi(m[3])
		out[m[1]] = [2]int{f, l}
	}
	return out
}

// TestIntegrationDLQPoisonFrames: poison frames (binary, 2 MiB of control bytes, NUL, BOM,
// empty, a tombstone) and very late frames amid good ones are dead-lettered by a real `kuniq
// run`, which counts the good ones; `kuniq dlq` reports each reason, tells a dead letter
// written twice and one of the older JSON format, filters by --since, writes frames with
// --frames, and --reingest puts the original bytes back: byte for byte for the binary ones, and
// the late ones, re-ingested into a fresh app's input, are counted there.
func TestIntegrationDLQPoisonFrames(t *testing.T) {
	kc, _ := kafkatest.Ready(t, 5*time.Minute)
	brokers := strings.Join(kc.Brokers, ",")
	app := kafkatest.Name(t, "dlq")
	input, dlq := app+"-frames", app+"-dlq"
	if err := kc.EnsureTopics(kafka.Topic{Name: input, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	const t0 = 1468244400 // 2016-07-11T13:40:00Z, a minute boundary
	good := func(from, n int) []*sarama.ProducerMessage {
		var out []*sarama.ProducerMessage
		for i := from; i < from+n; i++ {
			v := fmt.Sprintf(`{"ts":%d,"uid":"%019x"}`, t0+i/10, i%150)
			out = append(out, &sarama.ProducerMessage{Key: sarama.StringEncoder(strconv.Itoa(i)), Value: sarama.StringEncoder(v)})
		}
		return out
	}
	poison := map[string][]byte{
		"binary":  {0xff, 0xfe, 0x00, 0x81, 0xc3, 0x28, 0x9f},
		"control": bytes.Repeat([]byte{1, 2, 3, 0x1b, 0x7f}, 2<<20/5),
		"nul":     []byte("{\"ts\":1468244400,\x00\"uid\":\"a\"}"),
		"bom":     []byte("\xef\xbb\xbf{\"ts\":1468244400,\"uid\":\"a\"}"),
		"empty":   {},
	}
	var late [][]byte
	msgs := good(0, 300)
	for _, name := range []string{"binary", "control", "nul", "bom", "empty"} {
		msgs = append(msgs, &sarama.ProducerMessage{Key: sarama.StringEncoder(name), Value: sarama.ByteEncoder(poison[name])})
	}
	msgs = append(msgs, &sarama.ProducerMessage{Key: sarama.StringEncoder("tombstone")}) // nil value
	for i := range 12 {
		v := []byte(fmt.Sprintf(`{"ts":%d,"uid":"late%015d"}`, t0-7200+i, i))
		late = append(late, v)
		msgs = append(msgs, &sarama.ProducerMessage{Key: sarama.StringEncoder(fmt.Sprint("late", i)), Value: sarama.ByteEncoder(v)})
	}
	msgs = append(msgs, good(300, 300)...)
	produceRaw(t, kc, input, msgs)

	// The 600 good frames fall in minutes t0 and t0+60: wait until both are final.
	runApp(t, kc, app, input, func() bool {
		return finalFrames(t, kc, app+"-uniques", t0, t0+120) == 600
	})

	dlqCmd := func(args ...string) (string, string) {
		t.Helper()
		return mustKuniq(t, append([]string{"dlq", "--brokers", brokers, "--dlq", dlq}, args...)...)
	}
	out, _ := dlqCmd("--show", "1")
	t.Logf("kuniq dlq --show 1:\n%s", out)
	table := reasonTable(out)
	want := map[string]int{"syntax": 4, "too_large": 1, "null_value": 1, "late": 12}
	for r, n := range want {
		if table[r][0] != n {
			t.Errorf("dlq: %d frames of reason %s, want %d:\n%s", table[r][0], r, n, out)
		}
	}
	if len(table) != len(want) {
		t.Errorf("dlq: reasons %v, want %v:\n%s", table, want, out)
	}
	if !strings.Contains(out, "(its first 1024 bytes): \"\\x01\\x02\\x03\\x1b\\x7f") {
		t.Errorf("dlq does not show the too_large head escaped:\n%s", out)
	}

	// A dead letter written again (as a retried flush does) and one of the older JSON format.
	recs, err := kc.ReadAll(dlq)
	if err != nil {
		t.Fatal(err)
	}
	var again *sarama.ProducerMessage
	for _, r := range recs {
		if r.Header(codec.HeaderReason) == "late" {
			again = &sarama.ProducerMessage{Key: sarama.StringEncoder(r.Key), Value: sarama.ByteEncoder(r.Value)}
			for k, v := range r.Headers {
				again.Headers = append(again.Headers, sarama.RecordHeader{Key: []byte(k), Value: v})
			}
			break
		}
	}
	older := &sarama.ProducerMessage{Key: sarama.StringEncoder("0/999"),
		Value: sarama.StringEncoder(`{"reason":"no_ts","partition":0,"offset":999,"frame":"{\"uid\":\"old\"}"}`)}
	produceRaw(t, kc, dlq, []*sarama.ProducerMessage{again, older})
	afterAll := time.Now()
	out, _ = dlqCmd("--show", "0")
	table = reasonTable(out)
	if table["late"] != [2]int{12, 13} || table["no_ts"] != [2]int{1, 1} {
		t.Errorf("dlq after a repeat and an older letter: late %v, no_ts %v; want [12 13] and [1 1]:\n%s", table["late"], table["no_ts"], out)
	}
	for _, must := range []string{"20 dead letters", "19 distinct frames, 1 written again", "1 dead letters are in the format of kuniq releases before"} {
		if !strings.Contains(out, must) {
			t.Errorf("dlq report lacks %q:\n%s", must, out)
		}
	}

	// --since: nothing was dead-lettered after afterAll; all of it within the last hour.
	if out, _ := dlqCmd("--since", afterAll.Add(time.Second).UTC().Format(time.RFC3339)); !strings.HasPrefix(out, "0 dead letters") {
		t.Errorf("dlq --since after the last letter:\n%s", out)
	}
	if out, _ := dlqCmd("--since", "1h", "--reason", "late"); !strings.HasPrefix(out, "13 dead letters") {
		t.Errorf("dlq --since 1h --reason late:\n%s", out)
	}

	// --frames: the frames that are lines; the empty one, the tombstone and the head are not.
	file := filepath.Join(t.TempDir(), "frames.jsonl")
	out, _ = dlqCmd("--frames", file, "--show", "0")
	gotLines, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wantLines := [][]byte{poison["binary"], poison["nul"], poison["bom"], []byte(`{"uid":"old"}`)}
	wantLines = append(wantLines, late...)
	if !sameSet(bytes.Split(bytes.TrimSuffix(gotLines, []byte("\n")), []byte("\n")), wantLines) {
		t.Errorf("--frames wrote %q, want the binary, NUL, BOM, older and late frames", gotLines)
	}
	if !strings.Contains(out, "wrote 16 frames") || !strings.Contains(out, "1 too_large") || !strings.Contains(out, "1 tombstones") ||
		!strings.Contains(out, "1 that are no line") {
		t.Errorf("--frames report does not account for every frame:\n%s", out)
	}

	// --reingest of the syntax ones: their bytes, exactly, into another topic.
	raw := app + "-syntax"
	out, _ = dlqCmd("--reason", "syntax", "--reingest", "--input", raw, "--partitions", "1")
	if !strings.Contains(out, fmt.Sprintf("re-ingested 4 of 4 frames into %q", raw)) {
		t.Errorf("dlq --reingest --reason syntax:\n%s", out)
	}
	back, err := kc.ReadAll(raw)
	if err != nil {
		t.Fatal(err)
	}
	var values [][]byte
	for _, r := range back {
		values = append(values, r.Value)
		if !strings.HasPrefix(r.Header(emitter.HeaderProducer), "kuniq dlq --reingest") || !strings.HasPrefix(r.Header(emitter.HeaderOrigin), input+"/0/") {
			t.Errorf("re-ingested record headers %v", r.Headers)
		}
	}
	if !sameSet(values, [][]byte{poison["binary"], poison["nul"], poison["bom"], poison["empty"]}) {
		t.Errorf("re-ingested values %q, want the four syntax frames byte for byte", values)
	}

	// The late ones into a fresh app's input, once each although one was dead-lettered twice:
	// that app counts them.
	fixed := kafkatest.Name(t, "dlq-fixed")
	out, _ = dlqCmd("--reason", "late", "--reingest", "--input", fixed+"-frames", "--partitions", "1")
	if !strings.Contains(out, "re-ingested 12 of 12 frames") {
		t.Errorf("dlq --reingest --reason late:\n%s", out)
	}
	runApp(t, kc, fixed, fixed+"-frames", func() bool {
		return finalFrames(t, kc, fixed+"-uniques", t0-7200, t0-7200+60) == 12
	})
}

// sameSet reports whether a and b hold the same byte strings, as many times each.
func sameSet(a, b [][]byte) bool {
	sa, sb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		sa[i] = string(a[i])
	}
	for i := range b {
		sb[i] = string(b[i])
	}
	slices.Sort(sa)
	slices.Sort(sb)
	return slices.Equal(sa, sb)
}
