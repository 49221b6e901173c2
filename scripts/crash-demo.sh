#!/usr/bin/env bash
# make crash-demo: kill a processor with SIGKILL mid-stream and show that nothing is lost.
# Two instances count half the frames; one is killed (no flush, no commit, no goodbye); the rest
# of the frames arrive; it is restarted on its own state; when every window is final, its counts
# are printed next to the exact ones and next to an uninterrupted run over the same topic.
source "$(dirname "$0")/demo-lib.sh" crash
frames=${DEMO_FRAMES:-200000}
half=$((frames / 2))

say "1. Kafka"
scripts/kafka.sh up

say "2. generate $frames frames with disorder, and the exact counts"
"$bin" gen --count "$frames" --seed 9 --disorder-pct 5 --out "$work/frames.jsonl" --truth "$work/truth.jsonl"
head -n "$half" "$work/frames.jsonl" >"$work/first.jsonl"
tail -n +"$((half + 1))" "$work/frames.jsonl" >"$work/second.jsonl"

say "3. two instances of app $id; the first half of the frames"
start a "$id"
start b "$id"
"$bin" ingest --progress 0 --input "$id-frames" --partitions 4 "$work/first.jsonl"

say "4. wait until the pipeline is mid-stream (the first windows are final)"
until "$bin" view --app "$id" --json --granularity minute 2>/dev/null | grep -q '"final":true'; do sleep 1; done
"$bin" view --app "$id" --granularity minute

say "5. the second half arrives -- and instance a dies with SIGKILL"
"$bin" ingest --progress 0 --input "$id-frames" --partitions 4 "$work/second.jsonl" &
ingest=$!
sleep 1
kill -9 "$pid_a"
echo "killed a (pid $pid_a) with SIGKILL while frames were flowing"
wait "$ingest"

say "6. restart a on its own state directory (what a supervisor would do)"
sleep 2
start a "$id"
wait_final "$id"
echo "every window final"

say "7. an uninterrupted run over the same topic, for reference (app $id-ref, one instance)"
start ref "$id-ref"
wait_final "$id-ref"

say "8. verdict: crashed run vs uninterrupted run vs exact counts"
sleep 3 # corrections after the idle finalisation settle
"$bin" compare --truth "$work/truth.jsonl" --topic "$id-uniques" --reference-topic "$id-ref-uniques" --granularity all
