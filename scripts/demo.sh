#!/usr/bin/env bash
# make demo: the whole pipeline end to end on a real Kafka broker. Generates challenge-shaped
# frames (with disorder, very late frames, bit flips and malformed lines), ingests them, runs two
# processor instances, waits until every window is final, then shows per-minute uniques from the
# Goka view and the comparison with the exact counts. DEMO_FRAMES scales it (default 200000).
source "$(dirname "$0")/demo-lib.sh" demo
frames=${DEMO_FRAMES:-200000}

say "1. Kafka (single-node KRaft broker from Maven jars)"
scripts/kafka.sh up

say "2. generate $frames frames (~2 KB each, 100k-user pool) with the exact counts beside them"
"$bin" gen --count "$frames" --seed 7 --disorder-pct 5 --late-pct 0.1 --bitflip-pct 0.05 \
	--malformed-pct 0.2 --out "$work/frames.jsonl" --truth "$work/truth.jsonl"

say "3. start two processor instances (app $id)"
start a "$id"
start b "$id"

say "4. ingest the frames into topic $id-frames"
"$bin" ingest --input "$id-frames" --partitions 4 "$work/frames.jsonl"

say "5. wait until every window is final"
t0=$SECONDS
wait_final "$id"
echo "all windows final $((SECONDS - t0)) s after the ingest finished"

say "6. per-minute and per-hour uniques, read back through the Goka view"
"$bin" view --app "$id" --granularity minute,hour,day

say "7. against the exact counts (every granularity)"
"$bin" compare --truth "$work/truth.jsonl" --topic "$id-uniques" --granularity all --verbose

say "8. dead letters on $id-dlq (bad frames are data, not crashes)"
"$bin" dlq --dlq "$id-dlq" --show 1
echo
echo "The topics stay: 'bin/kuniq view --app $id' reads the table again; 'bin/kuniq serve --app $id' serves it on :8080."
