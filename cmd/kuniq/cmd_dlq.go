package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/processor"
)

// runDLQ summarises the dead-letter topic: how many frames were not counted, and why.
func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dlq", "dlq [flags]  (count the dead letters by reason, show a few)", stdout)
	kf := addKafkaFlags(fs)
	topic := fs.String("dlq", string(processor.DefaultDeadLetter), "dead-letter topic")
	show := fs.Int("show", 3, "print this many dead letters of each reason (frames cut to 120 bytes)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if _, err := kf.setup(stderr); err != nil {
		return err
	}
	var bad outOfRange
	bad.check(*show >= 0, "--show %d: want 0 or more dead letters per reason", *show)
	bad.check(fs.NArg() == 0, "dlq takes no arguments, got %q", fs.Args())
	if err := bad.err(); err != nil {
		return err
	}
	kc, err := kf.config()
	if err != nil {
		return err
	}
	recs, err := kc.ReadAll(*topic)
	if err != nil {
		return kf.explain(err)
	}
	byReason := map[string][]codec.DeadLetter{}
	for _, r := range recs {
		v, err := codec.DeadLetterCodec{}.Decode(r.Value)
		if err != nil {
			return fmt.Errorf("%s record %q: %w", *topic, r.Key, err)
		}
		d := v.(codec.DeadLetter)
		byReason[d.Reason] = append(byReason[d.Reason], d)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	fmt.Fprintf(stdout, "%d dead letters on %s\n", len(recs), *topic)
	for _, r := range reasons {
		ds := byReason[r]
		fmt.Fprintf(stdout, "  %-9s %7d\n", r, len(ds))
		for _, d := range ds[:min(*show, len(ds))] {
			frame := d.Frame
			if len(frame) > 120 {
				frame = frame[:120] + "…"
			}
			fmt.Fprintf(stdout, "            partition %d offset %d ts %d: %q\n", d.Partition, d.Offset, d.TS, frame)
		}
	}
	return nil
}
