package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/IBM/sarama"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/emitter"
	"github.com/kuniq/kuniq/kafka"
	"github.com/kuniq/kuniq/processor"
	"github.com/kuniq/kuniq/sketch"
)

// runDLQ reads the dead-letter topic: how many frames were not counted and why, a few of each
// reason, and, on request, their original bytes back into the input topic or into a file.
func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dlq", "dlq [flags]  (count the dead letters by reason, show a few, re-ingest or extract their frames)", stdout)
	kf := addKafkaFlags(fs)
	topic := fs.String("dlq", string(processor.DefaultDeadLetter), "dead-letter topic")
	show := fs.Int("show", 3, fmt.Sprintf("print this many dead letters of each reason (frames cut to %d characters on a character boundary, non-printables escaped)", showWidth))
	reasons := fs.String("reason", "", "only dead letters of these reasons, a comma list ("+strings.Join(knownReasons, ",")+"); empty: all")
	since := fs.String("since", "", "only dead letters written since: RFC 3339 (2025-01-02T15:04:05Z), unix seconds, or a duration ago (90m, 36h, 7d); empty: all")
	reingest := fs.Bool("reingest", false, "produce the matching dead letters' original bytes back into --input, each distinct frame once")
	input := fs.String("input", string(processor.DefaultInput), "topic --reingest writes to")
	partitions := fs.Int("partitions", 4, "partitions of --input when --reingest creates it")
	reKey := fs.String("reingest-key", "uid", "record key of re-ingested frames: uid (the frame's uid, where --input-format and --uid-field say the processor finds it; its original partition/offset when the frame does not decode) or origin (always the original partition/offset)")
	framesTo := fs.String("frames", "", "write the matching dead letters' original bytes to this file ('-': stdout; the report then goes to stderr), one per line (with --input-format protobuf: a length-delimited stream, as count --input-format protobuf reads)")
	frameFlags := addInputFlags(fs, "; dlq decodes dead letters' frames with it for --reingest-key uid, and with protobuf --frames writes a delimited stream",
		"; dlq finds a dead letter's uid with it for --reingest-key uid")
	if err := fs.parse(args); err != nil {
		return err
	}
	if _, err := kf.setup(stderr); err != nil {
		return err
	}
	now := time.Now()
	sinceT, sinceErr := parseSince(*since, now)
	wanted, reasonErr := parseReasons(*reasons)
	var bad outOfRange
	bad.check(*show >= 0, "--show %d: want 0 or more dead letters per reason", *show)
	bad.check(fs.NArg() == 0, "dlq takes no arguments, got %q", fs.Args())
	bad.check(sinceErr == nil, "--since %q: %v", *since, sinceErr)
	bad.check(reasonErr == nil, "--reason %q: %v", *reasons, reasonErr)
	bad.check(*reKey == "uid" || *reKey == "origin", "--reingest-key %q: want uid or origin", *reKey)
	bad.check(*partitions >= 1, "--partitions %d: want 1 or more", *partitions)
	bad.check(!*reingest || *input != *topic, "--reingest into the dead-letter topic %q itself: want the input topic (--input)", *input)
	if err := bad.err(); err != nil {
		return err
	}
	frame, err := frameFlags.frameConfig()
	if err != nil {
		return err
	}
	kc, err := kf.config()
	if err != nil {
		return err
	}
	report := stdout

	opt := dlqOptions{reasons: wanted, since: sinceT, show: *show, keyByUID: *reKey == "uid", frame: frame}
	if *framesTo != "" {
		w := stdout
		if *framesTo == "-" {
			report = stderr
		} else {
			f, err := os.Create(*framesTo)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		bw := bufio.NewWriterSize(w, 1<<20)
		defer bw.Flush()
		opt.lines = bw
	}
	var re *emitter.Reingest
	if *reingest {
		err := kc.EnsureTopicsContext(ctx, kafka.Topic{Name: *input, Partitions: *partitions})
		if err != nil && !errors.Is(err, kafka.ErrPartitionMismatch) {
			return kf.explain(err)
		}
		if re, err = emitter.NewReingest(kc, *input, "kuniq dlq --reingest "+buildVersion()); err != nil {
			return kf.explain(err)
		}
		opt.reingest = re
	}

	sc, err := newDLQScan(opt)
	if err != nil {
		return err
	}
	err = kc.Scan(ctx, *topic, kafka.ScanFrom{Since: sinceT}, sc.record)
	if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		err = fmt.Errorf("dead-letter topic %q does not exist (--dlq): nothing was dead-lettered there yet, or the name is wrong: %w", *topic, err)
	}
	var acked int64
	var reErr error
	if re != nil {
		acked, reErr = re.Close()
	}
	if opt.lines != nil {
		if ferr := opt.lines.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("--frames %s: %w", *framesTo, ferr)
		}
	}
	if err == nil || sc.letters > 0 {
		sc.print(report, *topic, *since, *reasons)
	}
	if re != nil {
		fmt.Fprintf(report, "re-ingested %d of %d frames into %q%s\n", acked, sc.reingested, *input, sc.skipped("re-ingest"))
	}
	if opt.lines != nil {
		fmt.Fprintf(report, "wrote %d frames to %s%s\n", sc.linesWritten, *framesTo, sc.skipped("lines"))
	}
	return kf.explain(errors.Join(err, reErr))
}

// showWidth is the width a shown frame is cut to, in characters of its escaped form.
const showWidth = 120

// dlqOptions are what `kuniq dlq` keeps, shows and writes.
type dlqOptions struct {
	reasons  map[string]bool // nil: all
	since    time.Time
	show     int
	keyByUID bool
	// frame is how the processor decoded the frames (--input-format, --uid-field...): how
	// --reingest finds a frame's uid, and whether --frames writes lines or a delimited stream.
	frame    codec.FrameConfig
	lines    *bufio.Writer // --frames
	reingest frameSender   // --reingest
}

// frameSender is where --reingest sends frames (emitter.Reingest; a fake in tests).
type frameSender interface {
	Send(key, value []byte, origin string) error
}

// dlqScan counts and handles the dead letters of one scan. It holds no record: the counts, a
// few examples per reason, and the set of frames seen (for the distinct counts), which after
// maxExact frames gives way to HyperLogLog estimates unless frames are written (then each
// must be written once, and the set stays exact).
type dlqScan struct {
	opt      dlqOptions
	byReason map[string]*reasonCount
	seen     map[framePos]struct{} // nil once estimating
	topics   map[string]uint32
	letters  int64
	older    int64  // dead letters of the older JSON format
	foreign  int64  // records that are no dead letters of kuniq
	firstBad string // the first of them
	dec      codec.Decoder
	key      []byte

	reingested, linesWritten int64
	// Frames that --reingest and --frames skip, by why.
	skipHead, skipTombstone, skipLossy, skipNotLine int64
}

type reasonCount struct {
	letters, distinct int64
	hll               *sketch.Sketch
	shown             []string
}

// framePos identifies the input record a dead letter is about.
type framePos struct {
	topic     uint32
	partition int32
	offset    int64
}

// maxExact bounds the exact set of frames seen when it is only counted: 1M positions, 53 MiB of
// heap (measured: a map of 2^20 framePos).
// (A variable for the test.)
var maxExact = 1 << 20

func newDLQScan(opt dlqOptions) (*dlqScan, error) {
	dec, err := codec.NewDecoder(opt.frame)
	if err != nil {
		return nil, err
	}
	return &dlqScan{opt: opt, byReason: map[string]*reasonCount{}, seen: map[framePos]struct{}{}, topics: map[string]uint32{}, dec: dec}, nil
}

// record handles one record of the dead-letter topic.
func (s *dlqScan) record(r kafka.Record) error {
	if !s.opt.since.IsZero() && r.Timestamp.Before(s.opt.since) {
		return nil // Scan starts at the first record as new as since; later ones may be older
	}
	d, value, older, ok := s.decode(r)
	if !ok || s.opt.reasons != nil && !s.opt.reasons[d.Reason] {
		return nil
	}
	s.letters++
	rc := s.byReason[d.Reason]
	if rc == nil {
		hll, _ := sketch.New(sketch.DefaultPrecision)
		rc = &reasonCount{hll: hll}
		s.byReason[d.Reason] = rc
	}
	rc.letters++
	pos := framePos{topic: s.topicID(d.Topic), partition: d.Partition, offset: d.Offset}
	s.key = fmt.Appendf(s.key[:0], "%d/%d/%d", pos.topic, pos.partition, pos.offset)
	rc.hll.InsertHash(sketch.Hash(s.key))
	if s.seen != nil {
		if _, dup := s.seen[pos]; dup {
			return nil // written twice by a retried flush: shown, counted and handled once
		}
		s.seen[pos] = struct{}{}
		rc.distinct++
		if len(s.seen) > maxExact && s.opt.lines == nil && s.opt.reingest == nil {
			s.seen = nil
		}
	}
	if len(rc.shown) < s.opt.show {
		rc.shown = append(rc.shown, describe(d, value, !older && r.Value == nil))
	}
	return s.handleFrame(d, value, older, r.Value == nil)
}

// decode reads a dead letter: a record with kuniq's headers (the value is the frame's bytes),
// or a JSON value of an older release (older). ok is false for anything else.
func (s *dlqScan) decode(r kafka.Record) (d codec.DeadLetter, value []byte, older, ok bool) {
	var err error
	if _, has := r.Headers[codec.HeaderReason]; has {
		if d, err = codec.DeadLetterFromKafka(r.Value, r.Headers); err == nil {
			return d, r.Value, false, true
		}
	} else {
		var v any
		if v, err = (codec.DeadLetterCodec{}).Decode(r.Value); err == nil {
			if d = v.(codec.DeadLetter); d.Reason != "" {
				s.older++
				return d, []byte(d.Frame), true, true
			}
			err = errors.New("a JSON value without a reason")
		}
	}
	s.foreign++
	if s.firstBad == "" {
		s.firstBad = fmt.Sprintf("partition %d offset %d: %v", r.Partition, r.Offset, err)
	}
	return d, nil, false, false
}

func (s *dlqScan) topicID(t string) uint32 {
	id, ok := s.topics[t]
	if !ok {
		id = uint32(len(s.topics))
		s.topics[t] = id
	}
	return id
}

// handleFrame writes the dead letter's frame where asked, if its original bytes are known.
func (s *dlqScan) handleFrame(d codec.DeadLetter, value []byte, older, nilValue bool) error {
	if s.opt.lines == nil && s.opt.reingest == nil {
		return nil
	}
	switch {
	case d.Reason == codec.Reason(codec.ErrTooLarge):
		s.skipHead++ // only its head was kept
		return nil
	case !older && nilValue:
		s.skipTombstone++
		return nil
	case older && bytes.ContainsRune(value, utf8.RuneError):
		s.skipLossy++ // the older format replaced invalid UTF-8: not the original bytes
		return nil
	}
	if s.opt.lines != nil {
		if s.opt.frame.Format == codec.FormatProtobuf {
			s.opt.lines.Write(codec.AppendDelimited(nil, value)) // any bytes can be a message of a delimited stream
			s.linesWritten++
		} else if lineSafe(value) {
			s.opt.lines.Write(value)
			s.opt.lines.WriteByte('\n')
			s.linesWritten++
		} else {
			s.skipNotLine++
		}
	}
	if s.opt.reingest != nil {
		origin := fmt.Sprintf("%s/%d/%d", d.Topic, d.Partition, d.Offset)
		key := []byte(fmt.Sprintf("%d/%d", d.Partition, d.Offset))
		if s.opt.keyByUID {
			if f, err := s.dec.Decode(value); err == nil {
				key = f.UID
			}
		}
		if err := s.opt.reingest.Send(key, value, origin); err != nil {
			return err
		}
		s.reingested++
	}
	return nil
}

// lineSafe reports whether frame, written as one line, reads back as itself in `kuniq ingest`
// (and `kuniq count`): no newline in it, not blank (blank lines are skipped), and no trailing
// "\r" (a line's "\r\n" ending is trimmed).
func lineSafe(frame []byte) bool {
	if bytes.IndexByte(frame, '\n') >= 0 || bytes.HasSuffix(frame, []byte("\r")) {
		return false
	}
	return len(bytes.Trim(frame, " \t\r")) > 0
}

// describe is the line shown for a dead letter.
func describe(d codec.DeadLetter, value []byte, tombstone bool) string {
	where := fmt.Sprintf("%d/%d", d.Partition, d.Offset)
	if d.Topic != "" {
		where = d.Topic + "/" + where
	}
	s := where
	if d.TS != 0 {
		s += fmt.Sprintf(" ts %d", d.TS)
	}
	switch {
	case tombstone:
		s += ": (tombstone: no value)"
	case d.Reason == codec.Reason(codec.ErrTooLarge):
		s += fmt.Sprintf(" (its first %d bytes): %s", len(value), showFrame(value, showWidth))
	default:
		s += fmt.Sprintf(" (%d bytes): %s", len(value), showFrame(value, showWidth))
	}
	if d.Detail != "" {
		s += " — " + showText(d.Detail, showWidth)
	}
	return s
}

// showFrame renders a frame for a terminal, quoted: printable UTF-8 as it is, everything else
// escaped as Go does (\x00, \n, \u200b; an invalid byte as \xff), cut to at most width
// characters of that form, always between two characters, never inside one or inside an
// escape ("…" marks the cut).
func showFrame(b []byte, width int) string {
	out := []byte{'"'}
	var piece []byte
	for i := 0; i < len(b); {
		r, w := utf8.DecodeRune(b[i:])
		piece = piece[:0]
		if r == utf8.RuneError && w == 1 {
			piece = fmt.Appendf(piece, `\x%02x`, b[i])
		} else {
			q := strconv.AppendQuote(piece, string(b[i:i+w]))
			piece = q[1 : len(q)-1]
		}
		if utf8.RuneCount(out)-1+utf8.RuneCount(piece) > width {
			return string(out) + `"…`
		}
		out = append(out, piece...)
		i += w
	}
	return string(append(out, '"'))
}

// showText is a detail message cut like a frame, without the quotes.
func showText(s string, width int) string {
	q := showFrame([]byte(s), width)
	q = strings.TrimPrefix(q, `"`)
	if strings.HasSuffix(q, `"…`) {
		return strings.TrimSuffix(q, `"…`) + "…"
	}
	return strings.TrimSuffix(q, `"`)
}

// print writes the report.
func (s *dlqScan) print(w io.Writer, topic, since, reasons string) {
	var filters []string
	if reasons != "" {
		filters = append(filters, "reason "+reasons)
	}
	if since != "" {
		filters = append(filters, "since "+s.opt.since.UTC().Format(time.RFC3339))
	}
	head := fmt.Sprintf("%d dead letters on %s", s.letters, topic)
	if len(filters) > 0 {
		head += " (" + strings.Join(filters, ", ") + ")"
	}
	var distinct int64
	estimated := s.seen == nil
	for _, rc := range s.byReason {
		if estimated {
			rc.distinct = int64(rc.hll.Estimate())
		}
		distinct += rc.distinct
	}
	approx := ""
	if estimated {
		approx = "≈"
	}
	if s.letters > 0 {
		head += fmt.Sprintf(": %s%d distinct frames", approx, distinct)
		if dups := s.letters - distinct; dups > 0 && !estimated {
			head += fmt.Sprintf(", %d written again by a retried flush (counted once below)", dups)
		}
	}
	fmt.Fprintln(w, head)
	order := make([]string, 0, len(s.byReason))
	for r := range s.byReason {
		order = append(order, r)
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := s.byReason[order[i]], s.byReason[order[j]]
		if a.distinct != b.distinct {
			return a.distinct > b.distinct
		}
		return order[i] < order[j]
	})
	if len(order) > 0 {
		fmt.Fprintf(w, "  %-10s %9s %9s\n", "reason", "frames", "letters")
	}
	for _, r := range order {
		rc := s.byReason[r]
		fmt.Fprintf(w, "  %-10s %9s %9d\n", r, approx+strconv.FormatInt(rc.distinct, 10), rc.letters)
		for _, line := range rc.shown {
			fmt.Fprintf(w, "      %s\n", line)
		}
	}
	if estimated {
		fmt.Fprintf(w, "note: more than %d distinct frames; their counts are HyperLogLog estimates (±1%%)\n", maxExact)
	}
	if s.older > 0 {
		fmt.Fprintf(w, "note: %d dead letters are in the format of kuniq releases before dead letters carried headers (a JSON value each);\n"+
			"      their frames were stored as JSON strings, where invalid UTF-8 was replaced by U+FFFD: frames holding one are not re-ingested\n", s.older)
	}
	if s.foreign > 0 {
		fmt.Fprintf(w, "note: %d record(s) are not kuniq dead letters and were passed over (the first at %s)\n", s.foreign, s.firstBad)
	}
}

// skipped says which frames --reingest or --frames (what) left out, and why.
func (s *dlqScan) skipped(what string) string {
	var parts []string
	if s.skipHead > 0 {
		parts = append(parts, fmt.Sprintf("%d too_large (only their first %d bytes were kept)", s.skipHead, 1024))
	}
	if s.skipTombstone > 0 {
		parts = append(parts, fmt.Sprintf("%d tombstones (no value to write)", s.skipTombstone))
	}
	if s.skipLossy > 0 {
		parts = append(parts, fmt.Sprintf("%d of the older format with replaced bytes", s.skipLossy))
	}
	if what == "lines" && s.skipNotLine > 0 {
		parts = append(parts, fmt.Sprintf("%d that are no line (a newline inside, blank, or a trailing \\r): use --reingest for those", s.skipNotLine))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; skipped " + strings.Join(parts, ", ")
}

// parseSince reads --since: RFC 3339, unix seconds, or a duration before now (with "d" for
// days). Empty is the zero time: no filter.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			return time.Time{}, errors.New("want unix seconds > 0")
		}
		return time.Unix(n, 0), nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, errors.New("want RFC 3339 (2025-01-02T15:04:05Z), unix seconds, or a duration ago (90m, 36h, 7d)")
	}
	return now.Add(-d), nil
}

// parseAgo is time.ParseDuration with days ("7d", "1d12h").
func parseAgo(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, err
		}
		days, s = time.Duration(n*24*float64(time.Hour)), s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d+days <= 0 {
		return 0, errors.New("not a positive duration")
	}
	return d + days, nil
}

// knownReasons are the reasons stage 1 and `kuniq count` give.
var knownReasons = []string{codec.Reason(codec.ErrSyntax), codec.Reason(codec.ErrNoUID), codec.Reason(codec.ErrBadUID),
	codec.Reason(codec.ErrNoTS), codec.Reason(codec.ErrBadTS), codec.Reason(codec.ErrTSRange), codec.ReasonLate, codec.ReasonJump,
	codec.Reason(codec.ErrNullValue), codec.Reason(codec.ErrTooLarge), codec.Reason(errors.New("other"))}

// parseReasons reads --reason: a comma list of known reasons; empty: nil (all).
func parseReasons(s string) (map[string]bool, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]bool{}
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		known := false
		for _, k := range knownReasons {
			known = known || k == r
		}
		if !known {
			return nil, fmt.Errorf("unknown reason %q: want a comma list of %s", r, strings.Join(knownReasons, ", "))
		}
		out[r] = true
	}
	return out, nil
}
