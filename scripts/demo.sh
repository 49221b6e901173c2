#!/usr/bin/env bash
# make demo: the whole pipeline end to end on a real Kafka broker. Generates challenge-shaped
# frames (with disorder, very late frames, bit flips and malformed lines), ingests them, runs two
# processor instances, waits until every window is final, then shows per-minute uniques from the
# Goka view and the comparison with the exact counts, and ends with the page's address and the
# unique users of an arbitrary range. DEMO_FRAMES scales it (default 200000); DEMO_PORT is the
# page's port (default 8080); on a terminal the page keeps serving until Ctrl-C.
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

say "9. the page, and unique users over an arbitrary range (not a window: minutes and hours merged)"
addr=127.0.0.1:${DEMO_PORT:-8080}
"$bin" serve --app "$id" --addr "$addr" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	grep -q "table recovered" "$work/serve.log" && break
	sleep 0.2
done
from=2016-07-11T13:40:00Z to=2016-07-11T13:43:00Z
echo "bin/kuniq uniques --app $id --from $from --to $to"
"$bin" uniques --app "$id" --from "$from" --to "$to"
echo "the same from the API: http://$addr/api/v1/uniques?from=$from&to=$to"
echo
echo "The topics stay: 'bin/kuniq view --app $id' reads the table again."
echo "page: http://$addr/  (bin/kuniq serve --app $id --addr $addr)"
if [[ -t 0 && -t 1 ]]; then
	echo "serving until Ctrl-C"
	wait "${pids[-1]}" || true
fi
