#!/usr/bin/env bash
# The sizing numbers of docs/operations.md: one `kuniq run` (both stages) over FRAMES
# challenge-shaped frames on PARTITIONS partitions, read back through its own /metrics.
# Prints frames/s, CPU seconds per million frames, peak RSS, the state directory and the
# changelog on disk. Needs the broker (make kafka-up) and bin/kuniq (make build).
#   KAFKA_PORT=9092 FRAMES=200000 PARTITIONS=4 scripts/ops-sizing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KAFKA_PORT=${KAFKA_PORT:-9092}
FRAMES=${FRAMES:-200000}
PARTITIONS=${PARTITIONS:-4}
BROKERS=127.0.0.1:$KAFKA_PORT
KAFKA_DATA=${KAFKA_HOME:-$PWD/.kafka}/data
bin=bin/kuniq
tag=sizing-$(date +%s)
work=$(mktemp -d)
pid=
# GNU time ignores SIGINT: signal kuniq, its child.
stop() { [[ -n $pid ]] && kill -INT "$(pgrep -P "$pid")" 2>/dev/null; wait 2>/dev/null || true; pid=; }
trap 'stop; rm -rf "$work"' EXIT

"$bin" gen --count "$FRAMES" --rate 1000 --pool 100000 --seed 3 --out "$work/frames.jsonl"
"$bin" ingest --brokers "$BROKERS" --input "$tag" --partitions "$PARTITIONS" --progress 0 "$work/frames.jsonl"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$work/maxrss" "$bin" run --brokers "$BROKERS" --app "$tag" --input "$tag" \
	--output "$tag-out" --dlq "$tag-dlq" --state-dir "$work/state" --idle-timeout 2s --http "127.0.0.1:$port" \
	--log-level warn &
pid=$!
metric() { curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | awk -v m="$1" '$1 == m { print $2 }'; }
lag() { curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | awk '$1 ~ /^kuniq_consumer_lag/ { s += $2; n++ } END { if (n) print s; else print -1 }'; }
while :; do
	got=$(metric kuniq_frames_total || true)
	if [[ -n $got ]] && python3 -c "import sys; sys.exit(float('$got') != $FRAMES)" && [[ $(lag) == 0 ]]; then break; fi
	sleep 0.5
done
end=$(date +%s.%N)
cpu=$(metric process_cpu_seconds_total)
rss=$(metric process_resident_memory_bytes)
sleep 3 # let the table settle before measuring it
state=$(du -sb "$work/state" | cut -f1)
# Only the .log segments: Kafka preallocates 10 MiB index files per partition.
logs() { cat "$@" 2>/dev/null | wc -c; }
changelog=$(logs "$KAFKA_DATA/$tag-windows-table-"*/*.log)
partials=$(logs "$KAFKA_DATA/$tag-partials-"*/*.log)
input=$(logs "$KAFKA_DATA/$tag-"[0-9]*/*.log)
stop
python3 - "$FRAMES" "$PARTITIONS" "$start" "$end" "$cpu" "$rss" "$(cat "$work/maxrss")" "$state" "$changelog" "$partials" "$input" <<'PY'
import sys
n, parts, start, end, cpu, rss, maxrss, state, changelog, partials, inp = sys.argv[1:]
n, el, cpu, rss = int(n), float(end) - float(start), float(cpu), float(rss)
print(f"frames {n} on {parts} partitions: {el:.1f} s from start to all counted ({n/el:,.0f} frames/s, start-up included)")
print(f"CPU {cpu:.1f} s: {cpu/n*1e6:.1f} s per million frames ({cpu/el:.2f} cores busy on average)")
print(f"RSS at the end {rss/2**20:.0f} MiB, peak {int(maxrss)/1024:.0f} MiB")
print(f"state dir {int(state)/2**20:.2f} MiB; table changelog (before compaction) {int(changelog)/2**20:.2f} MiB ({int(changelog)/n:.1f} B/frame); "
      f"partials topic {int(partials)/2**20:.2f} MiB ({int(partials)/n:.1f} B/frame); input topic {int(inp)/2**20:.0f} MiB ({int(inp)/n:.0f} B/frame)")
PY
