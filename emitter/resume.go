package emitter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"
)

// ErrLayoutChanged is returned, wrapped, when a resume finds a line of its input on a partition
// that its key does not lead to today: the topic's partition count or the --key mode changed
// since that line was written, so which lines are already in the topic can no longer be told
// from the partitions' tails.
var ErrLayoutChanged = errors.New("emitter: the topic's partitioning changed since the lines were written")

// written is what a resumed ingest knows of each partition: the last line of its input already
// there. Records of one partition are written in line order and each batch only after the one
// before it was acknowledged, so a partition holds a prefix of the lines that hash to it: a line
// is in the topic exactly when it is not after its partition's last.
type written struct {
	last  []lineRef // by partition; src -1: none of this input's lines
	found []int64   // records of this input seen, by partition (for the log)
}

// has reports whether line r, which hashes to partition p, is already in the topic.
func (w *written) has(p int32, r lineRef) bool {
	last := w.last[p]
	return last.src >= 0 && !r.after(last)
}

// scanWritten reads the tail of each partition back to the newest record of one of srcs, in
// windows that grow eightfold from 1,024 records (a partition without any is read whole), and
// returns the last line of each partition. Records of other inputs (another file, another
// writer) are passed over. k keys the lines as Run does, to check that each record still
// hashes to the partition it is on.
func scanWritten(ctx context.Context, client sarama.Client, topic string, parts []int32, srcs []Source, k *keyer) (*written, error) {
	ids := make(map[string]int, len(srcs))
	for i, s := range srcs {
		if _, dup := ids[s.id()]; !dup {
			ids[s.id()] = i
		}
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	defer consumer.Close()
	w := &written{last: make([]lineRef, len(parts)), found: make([]int64, len(parts))}
	var key []byte
	for _, p := range parts {
		w.last[p] = lineRef{src: -1}
		hw, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("resume: high-water mark of %s/%d: %w", topic, p, err)
		}
		oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, fmt.Errorf("resume: oldest offset of %s/%d: %w", topic, p, err)
		}
		end := hw
		for window := int64(1024); end > oldest; window *= 8 {
			from := max(oldest, hw-window)
			err := readRange(ctx, consumer, topic, p, from, end, func(m *sarama.ConsumerMessage) error {
				src, line, ok := lineOf(m, ids)
				if !ok {
					return nil
				}
				key = k.appendKey(key[:0], m.Value)
				if !bytes.Equal(key, m.Key) || hashPartition(m.Key, len(parts)) != p {
					return fmt.Errorf("%s/%d offset %d holds %s line %d under key %q, which --key %v and %d partitions put elsewhere: %w",
						topic, p, m.Offset, srcs[src].Name, line, m.Key, k.mode, len(parts), ErrLayoutChanged)
				}
				w.found[p]++
				if r := (lineRef{src: src, line: line}); w.last[p].src < 0 || r.after(w.last[p]) {
					w.last[p] = r
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("resume: %w", err)
			}
			if w.last[p].src >= 0 {
				break
			}
			end = from // the next window reads only what this one did not
		}
	}
	return w, nil
}

// lineOf returns the source index and line of a record written by Run for one of ids.
func lineOf(m *sarama.ConsumerMessage, ids map[string]int) (src int, line int64, ok bool) {
	var id, num []byte
	for _, h := range m.Headers {
		switch string(h.Key) {
		case HeaderSource:
			id = h.Value
		case HeaderLine:
			num = h.Value
		}
	}
	if id == nil || num == nil {
		return 0, 0, false
	}
	src, ok = ids[string(id)]
	if !ok {
		return 0, 0, false
	}
	line, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || line < 1 {
		return 0, 0, false
	}
	return src, line, true
}

// readRange calls fn with each record of topic/p from offset from up to (not including) to.
func readRange(ctx context.Context, c sarama.Consumer, topic string, p int32, from, to int64, fn func(*sarama.ConsumerMessage) error) error {
	if from >= to {
		return nil
	}
	pc, err := c.ConsumePartition(topic, p, from)
	if err != nil {
		return fmt.Errorf("read %s/%d from %d: %w", topic, p, from, err)
	}
	defer pc.Close()
	idle := time.NewTimer(30 * time.Second)
	defer idle.Stop()
	for {
		select {
		case m := <-pc.Messages():
			if m.Offset >= to {
				return nil
			}
			if err := fn(m); err != nil {
				return err
			}
			if m.Offset >= to-1 {
				return nil
			}
			idle.Reset(30 * time.Second)
		case err := <-pc.Errors():
			return fmt.Errorf("read %s/%d: %w", topic, p, err)
		case <-idle.C:
			return fmt.Errorf("read %s/%d: no record for 30 s before offset %d", topic, p, to)
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
