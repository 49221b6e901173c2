# Shared by demo.sh and crash-demo.sh: a fresh set of topics per run, instances in the
# background, cleanup on exit. Source it; it sets $bin, $work, $id and defines helpers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bin=$root/bin/kuniq
# The broker kafka.sh starts (KAFKA_PORT), unless KUNIQ_BROKERS names another.
export KUNIQ_BROKERS=${KUNIQ_BROKERS:-127.0.0.1:${KAFKA_PORT:-9092}}
work=$(mktemp -d "${TMPDIR:-/tmp}/kuniq-demo.XXXXXX")
id=${DEMO_ID:-$1-$(date +%s)}
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# start NAME APP [flags...]: a `kuniq run` instance in the background, its log in $work/NAME.log.
start() {
	local name=$1 app=$2
	shift 2
	"$bin" run --app "$app" --input "$id-frames" --output "$app-uniques" --dlq "$id-dlq" \
		--partitions 4 --state-dir "$work/state-$name" --idle-timeout "${DEMO_IDLE:-5s}" "$@" \
		>"$work/$name.log" 2>&1 &
	pids+=($!)
	eval "pid_$name=$!"
	echo "started $name (pid $!, app $app, log $work/$name.log)"
}

# wait_final APP: until every window of the truth has a final record on APP's output topic.
wait_final() {
	local app=$1 deadline=$((SECONDS + ${DEMO_TIMEOUT:-300}))
	until "$bin" compare --truth "$work/truth.jsonl" --topic "$app-uniques" --granularity all >/dev/null 2>&1; do
		if ((SECONDS > deadline)); then
			echo "timed out waiting for final results of $app; its last state:" >&2
			"$bin" compare --truth "$work/truth.jsonl" --topic "$app-uniques" --granularity all >&2 || true
			exit 1
		fi
		sleep 2
	done
}
