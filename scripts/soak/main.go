// Command soak runs kuniq for a long time on live input (ts = now) at a steady rate, with
// instances joining mid-run, and reports whether it stays healthy: RSS, goroutines, threads
// and open files of every instance, stage 1's lag, and how soon each minute's final record
// came. `make soak` runs it; docs/reliability.md reports a run. It needs a broker and bin/kuniq.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/gen"
	"github.com/kuniq/kuniq/kafka"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	brokers    string
	bin        string
	rate       int
	duration   time.Duration
	frameBytes int
	partitions int
	instances  int
	joinAt     time.Duration
	every      time.Duration
	out        string
	retention  time.Duration
	calibrate  time.Duration
	share      float64
}

func run() error {
	var o options
	flag.StringVar(&o.brokers, "brokers", kafka.DefaultBrokers, "comma-separated brokers")
	flag.StringVar(&o.bin, "bin", "bin/kuniq", "the kuniq binary")
	flag.IntVar(&o.rate, "rate", 0, "frames/s to produce (0: calibrate first and use -share of the capacity)")
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long to produce")
	flag.IntVar(&o.frameBytes, "frame-bytes", 500, "size of the frames (challenge-shaped)")
	flag.IntVar(&o.partitions, "partitions", 4, "input partitions")
	flag.IntVar(&o.instances, "instances", 2, "instances running from the start")
	flag.DurationVar(&o.joinAt, "join-at", 0, "when one more instance joins (a rebalance; 0: at half the duration)")
	flag.DurationVar(&o.every, "sample", 10*time.Second, "sampling interval")
	flag.StringVar(&o.out, "out", "", "directory for logs, samples.csv and report.md (default a new one in $TMPDIR)")
	flag.DurationVar(&o.retention, "retention", 15*time.Minute, "retention of the input topic (bounds the disk a long run needs)")
	flag.DurationVar(&o.calibrate, "calibrate", 90*time.Second, "how long the capacity calibration produces as fast as it can")
	flag.Float64Var(&o.share, "share", 0.7, "share of the calibrated capacity to soak at")
	flag.Parse()
	if o.joinAt == 0 {
		o.joinAt = o.duration / 2
	}
	id := time.Now().Format("20060102150405")
	if o.out == "" {
		o.out = filepath.Join(os.TempDir(), "kuniq-soak-"+id)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	kc := kafka.DefaultConfig()
	kc.Brokers = kafka.ParseBrokers(o.brokers)
	ctx := context.Background()
	live, err := gen.NewLive(1000, o.frameBytes)
	if err != nil {
		return err
	}
	if o.rate == 0 {
		capacity, err := calibrate(ctx, kc, o, live, id)
		if err != nil {
			return fmt.Errorf("calibrate: %w", err)
		}
		o.rate = int(o.share * capacity)
		fmt.Printf("soak: capacity %.0f frames/s with %d instances; soaking at %d frames/s (%.0f%%)\n", capacity, o.instances, o.rate, 100*o.share)
	}
	return soak(ctx, kc, o, live, id)
}

// app is one kuniq application under the soak: its topics and instances.
type app struct {
	o         options
	kc        kafka.Config
	name      string
	input     string
	instances []*instance
}

type instance struct {
	name, http string
	cmd        *exec.Cmd
	done       chan struct{}
}

func newApp(ctx context.Context, kc kafka.Config, o options, name string) (*app, error) {
	a := &app{o: o, kc: kc, name: name, input: name + "-frames"}
	err := kc.EnsureTopicsContext(ctx, kafka.Topic{Name: a.input, Partitions: o.partitions, Retention: o.retention})
	return a, err
}

func (a *app) start(name string) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	in := &instance{name: name, http: "127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	args := []string{"run", "--brokers", a.o.brokers, "--app", a.name, "--input", a.input,
		"--output", a.name + "-uniques", "--dlq", a.name + "-dlq", "--partitions", strconv.Itoa(a.o.partitions),
		"--state-dir", filepath.Join(a.o.out, "state-"+a.name+"-"+name)}
	if supportsHTTP(a.o.bin) {
		args = append(args, "--http", in.http)
	} else {
		in.http = ""
	}
	log, err := os.Create(filepath.Join(a.o.out, a.name+"-"+name+".log"))
	if err != nil {
		return nil, err
	}
	in.cmd = exec.Command(a.o.bin, args...)
	in.cmd.Stdout, in.cmd.Stderr = log, log
	if err := in.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = in.cmd.Wait(); log.Close(); close(in.done) }()
	a.instances = append(a.instances, in)
	return in, nil
}

func (a *app) stop() {
	for _, in := range a.instances {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, in := range a.instances {
		select {
		case <-in.done:
		case <-time.After(30 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.done
		}
	}
}

// lag is stage 1's lag over the input: high-water marks minus committed offsets.
func (a *app) lag(ctx context.Context) (int64, error) {
	hw, committed, err := a.kc.GroupOffsets(ctx, a.name+"-preagg", a.input)
	if err != nil {
		return 0, err
	}
	var n int64
	for k, h := range hw {
		n += max(0, h-committed[k])
	}
	return n, nil
}

// consumed is what stage 1 has committed over the input.
func (a *app) consumed(ctx context.Context) (int64, error) {
	_, committed, err := a.kc.GroupOffsets(ctx, a.name+"-preagg", a.input)
	var n int64
	for _, c := range committed {
		n += c
	}
	return n, err
}

// producer sends live frames (ts = now) at rate frames/s (0: as fast as it can) until ctx ends.
type producer struct {
	sent, failed int64
}

func produce(ctx context.Context, kc kafka.Config, topic string, live *gen.Live, rate int) (*producer, <-chan struct{}, error) {
	sc := kc.Sarama()
	sc.ClientID = "kuniq-soak"
	sc.Producer.Partitioner = sarama.NewHashPartitioner
	sc.Producer.Return.Successes = false
	sc.Producer.Flush.Frequency = 20 * time.Millisecond
	sc.Producer.Flush.Bytes = 1 << 20
	prod, err := sarama.NewAsyncProducer(kc.Brokers, sc)
	if err != nil {
		return nil, nil, err
	}
	p := &producer{}
	done := make(chan struct{})
	go func() {
		for range prod.Errors() {
			p.failed++
		}
	}()
	go func() {
		defer close(done)
		defer prod.AsyncClose()
		rng := rand.New(rand.NewPCG(1, 2))
		uids := make([]string, 100_000)
		for i := range uids {
			uids[i] = fmt.Sprintf("%03x%016x", rng.IntN(1<<12), rng.Uint64())
		}
		start := time.Now()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				due := p.sent + 1000
				if rate > 0 {
					due = int64(now.Sub(start).Seconds() * float64(rate))
				}
				ts := now.Unix()
				for ; p.sent < due; p.sent++ {
					uid := uids[rng.IntN(len(uids))]
					v := live.AppendLive(nil, rng.IntN(1000), ts, uid)
					select {
					case prod.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(uid), Value: sarama.ByteEncoder(v)}:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	return p, done, nil
}

// calibrate produces as fast as it can into an app of its own and measures how fast the
// instances keep committing once a backlog has built up: the capacity of this machine with
// the producer on it.
func calibrate(ctx context.Context, kc kafka.Config, o options, live *gen.Live, id string) (float64, error) {
	a, err := newApp(ctx, kc, o, "soak-cal-"+id)
	if err != nil {
		return 0, err
	}
	for i := range o.instances {
		if _, err := a.start(fmt.Sprintf("i%d", i)); err != nil {
			return 0, err
		}
	}
	defer a.stop()
	pctx, stop := context.WithTimeout(ctx, o.calibrate)
	defer stop()
	_, done, err := produce(pctx, kc, a.input, live, 0)
	if err != nil {
		return 0, err
	}
	time.Sleep(o.calibrate / 3) // joins, start-up, and a backlog
	c0, err := a.consumed(ctx)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	<-done
	c1, err := a.consumed(ctx)
	if err != nil {
		return 0, err
	}
	lag, _ := a.lag(ctx)
	rate := float64(c1-c0) / time.Since(t0).Seconds()
	fmt.Printf("soak: calibration: committed %.0f frames/s while the producer ran flat out (lag at the end %d)\n", rate, lag)
	if lag < int64(rate) && rate > 0 {
		fmt.Println("soak: the lag stayed under a second of input: the producer, not kuniq, was the limit")
	}
	return rate, nil
}

type sample struct {
	at       time.Duration
	instance string
	rssKiB   int64
	threads  int64
	fds      int
	gor      int64 // -1: unknown
	lag      int64
}

func soak(ctx context.Context, kc kafka.Config, o options, live *gen.Live, id string) error {
	a, err := newApp(ctx, kc, o, "soak-"+id)
	if err != nil {
		return err
	}
	for i := range o.instances {
		if _, err := a.start(fmt.Sprintf("i%d", i)); err != nil {
			return err
		}
	}
	defer a.stop()
	time.Sleep(15 * time.Second) // joins and start-up
	start := time.Now()
	pctx, stopProducer := context.WithTimeout(ctx, o.duration)
	defer stopProducer()
	p, produced, err := produce(pctx, kc, a.input, live, o.rate)
	if err != nil {
		return err
	}
	csv, err := os.Create(filepath.Join(o.out, "samples.csv"))
	if err != nil {
		return err
	}
	defer csv.Close()
	fmt.Fprintln(csv, "seconds,instance,rss_kib,threads,open_files,goroutines,lag")
	var samples []sample
	joined := false
	t := time.NewTicker(o.every)
	defer t.Stop()
	fmt.Printf("soak: %d frames/s of %d B for %v, %d instances, one more at %v; logs and samples in %s\n",
		o.rate, o.frameBytes, o.duration, o.instances, o.joinAt, o.out)
loop:
	for {
		select {
		case <-produced:
			break loop
		case <-t.C:
		}
		at := time.Since(start)
		if !joined && at >= o.joinAt {
			if _, err := a.start(fmt.Sprintf("i%d", len(a.instances))); err != nil {
				return err
			}
			joined = true
			fmt.Printf("soak: %v: instance i%d joined\n", at.Round(time.Second), len(a.instances)-1)
		}
		lag, err := a.lag(ctx)
		if err != nil {
			lag = -1
		}
		for _, in := range a.instances {
			select {
			case <-in.done:
				return fmt.Errorf("instance %s exited during the soak (see %s)", in.name, o.out)
			default:
			}
			s := probe(in)
			s.at, s.lag = at, lag
			samples = append(samples, s)
			fmt.Fprintf(csv, "%.0f,%s,%d,%d,%d,%d,%d\n", at.Seconds(), s.instance, s.rssKiB, s.threads, s.fds, s.gor, s.lag)
		}
	}
	end := time.Now()
	time.Sleep(30 * time.Second) // the last minutes close and finalise
	report := summarize(o, samples, p, start, end)
	finals, err := finalDelays(kc, a.name+"-uniques", start, end)
	if err != nil {
		return err
	}
	report += finals
	fmt.Print(report)
	return os.WriteFile(filepath.Join(o.out, "report.md"), []byte(report), 0o644)
}

// probe reads an instance's resources from /proc and, if it serves metrics, its goroutines.
func probe(in *instance) sample {
	s := sample{instance: in.name, gor: -1}
	pid := in.cmd.Process.Pid
	if f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			n, _ := strconv.ParseInt(strings.Fields(v + " 0")[0], 10, 64)
			switch k {
			case "VmRSS":
				s.rssKiB = n
			case "Threads":
				s.threads = n
			}
		}
		f.Close()
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.fds = len(ents)
	}
	if in.http != "" {
		if g, err := goroutines(in.http); err == nil {
			s.gor = g
		}
	}
	return s
}

func goroutines(addr string) (int64, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int64(f), err
		}
	}
	return 0, errors.New("no go_goroutines")
}

func supportsHTTP(bin string) bool {
	out, _ := exec.Command(bin, "run", "--help").CombinedOutput()
	return strings.Contains(string(out), "-http")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// summarize renders the samples as a table of one row per tenth of the run: the median over
// instances of each resource, and the largest lag.
func summarize(o options, samples []sample, p *producer, start, end time.Time) string {
	var b strings.Builder
	secs := end.Sub(start).Seconds()
	fmt.Fprintf(&b, "\n## Soak %s: %d frames in %.0f s (%.0f frames/s of %d B), %d producer errors\n\n",
		start.UTC().Format(time.RFC3339), p.sent, secs, float64(p.sent)/secs, o.frameBytes, p.failed)
	fmt.Fprintln(&b, "| minutes | instances | RSS MiB (median, max) | goroutines (median, max) | threads (max) | open files (max) | stage-1 lag (max, frames) |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|")
	buckets := 10
	span := end.Sub(start) / time.Duration(buckets)
	for i := range buckets {
		lo, hi := span*time.Duration(i), span*time.Duration(i+1)
		var rss, gor, thr, fds, lag []int64
		names := map[string]bool{}
		for _, s := range samples {
			if s.at < lo || s.at >= hi {
				continue
			}
			names[s.instance] = true
			rss, thr, fds, lag = append(rss, s.rssKiB/1024), append(thr, s.threads), append(fds, int64(s.fds)), append(lag, s.lag)
			if s.gor >= 0 {
				gor = append(gor, s.gor)
			}
		}
		if len(rss) == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %.1f–%.1f | %d | %d, %d | %s | %d | %d | %d |\n", lo.Minutes(), hi.Minutes(), len(names),
			median(rss), slices.Max(rss), medMax(gor), slices.Max(thr), slices.Max(fds), slices.Max(lag))
	}
	return b.String()
}

func medMax(v []int64) string {
	if len(v) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d, %d", median(v), slices.Max(v))
}

func median(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// finalDelays reads the output and reports, for every minute wholly inside the run, how long
// after the earliest moment the rule allows (its end + 5 s) its first final record came, and
// how many revisions it needed.
func finalDelays(kc kafka.Config, topic string, start, end time.Time) (string, error) {
	type res struct {
		Granularity string `json:"granularity"`
		Start, End  int64
		Final       bool
		Revision    int
	}
	first := map[int64]time.Duration{}
	revisions := map[int64]int{}
	err := kc.Scan(context.Background(), topic, kafka.ScanFrom{}, func(r kafka.Record) error {
		var x res
		if r.Value == nil || json.Unmarshal(r.Value, &x) != nil || x.Granularity != "minute" || !x.Final {
			return nil
		}
		if time.Unix(x.Start, 0).Before(start) || time.Unix(x.End, 0).After(end) {
			return nil
		}
		d := r.Timestamp.Sub(time.Unix(x.End+5, 0))
		if prev, ok := first[x.Start]; !ok || d < prev {
			first[x.Start] = d
		}
		revisions[x.Start] = max(revisions[x.Start], x.Revision)
		return nil
	})
	if err != nil {
		return "", err
	}
	want := int(end.Sub(start).Minutes()) - 1
	var ds []time.Duration
	maxRev := 0
	for s, d := range first {
		ds = append(ds, d)
		maxRev = max(maxRev, revisions[s])
	}
	slices.Sort(ds)
	var b strings.Builder
	if len(ds) == 0 {
		fmt.Fprintf(&b, "\nNo final minute record found in %s.\n", topic)
		return b.String(), nil
	}
	pct := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	fmt.Fprintf(&b, "\nMinutes wholly inside the run: %d with a final record (about %d expected); first final after end + 5 s: p50 %v, p99 %v, max %v; highest revision %d.\n",
		len(ds), want, pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond), maxRev)
	return b.String(), nil
}

