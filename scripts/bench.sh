#!/usr/bin/env bash
# bench.sh — what `make bench` runs: kuniq's performance, measured as RATIOS within one run
# (kuniq vs a bare consumer on the same topic, our decoder vs encoding/json, count vs `wc -l`
# on the same file), repeated, and printed as ranges. docs/performance.md reports a run of it.
#
# Parts (BENCH_PARTS, comma list; default all):
#   decoder  go test -bench DecodeFrame ./codec/, default and GOEXPERIMENT=simd builds (ours vs
#            our decoder before issue 11 vs encoding/json vs fastjson; AVX-512 vs AVX2) and
#            go test -bench Format ./scripts/bench/format/ (JSON vs protobuf wire vs fixed 28 B)
#   count    kuniq count (default and GOEXPERIMENT=simd builds) vs wc -l vs an encoding/json
#            program on the same file; --workers 1 vs default; a CPU profile of count's
#            engine: the JSON parser's share
#   e2e      ingest into a fresh 4-partition topic; a bare sarama consumer group vs
#            `kuniq run` until its stage 1 (and then stage 2) has consumed everything;
#            changelog and partials bytes per input frame, table size after the run
#   latency  frames at a live rate with ts = now; window close -> final record, p50/p99
#   rss      VmRSS of a `kuniq run` sampled every second over a long run
#   scale    end-to-end stage 1 frames/s on 1, 2, 4 and 8 input partitions with 1 and 2
#            instances, each against a bare consumer group on the same topic
#   proto    JSON vs protobuf on the same BENCH_PROTO_FRAMES frames: bytes per frame (file, and
#            on the broker's disk in lz4 batches), `kuniq count` of the JSON file vs the
#            delimited file (gen --format protobuf), end to end: ingest into a JSON topic and
#            with --format protobuf into another, a bare consumer vs `kuniq run
#            --input-format json|protobuf` on each, for each of BENCH_PROTO_PARTITIONS
#            (the goal of 0.7 of the bare consumer holds on 4 partitions and on 1); and by codec (ingest --compression none,
#            lz4, zstd): bytes per frame on disk, ingest and bare-consumer frames/s (not in the
#            default parts)
#
# Environment (defaults in brackets):
#   BENCH_PARTS [decoder,count,e2e,latency,rss,scale]   BENCH_REPEAT [3] repetitions of each ratio
#   BENCH_FRAMES [1000000] frames for count and e2e   BENCH_JSON_FRAMES [100000] for the
#   encoding/json baseline (it runs ~20k frames/s)   BENCH_LATENCY_SECONDS [260: at least 3 whole minutes]
#   BENCH_LATENCY_RATE [2000] frames/s   BENCH_RSS_FRAMES [5000000]   BENCH_RSS_FRAME_BYTES [400]
#   BENCH_SCALE_FRAMES [400000] frames per scale topic   BENCH_SCALE_PARTITIONS [1 2 4 8]
#   BENCH_PROTO_FRAMES [400000] frames of the proto part   BENCH_PROTO_COPIES [10] times the
#   file is ingested into the protobuf topic (a protobuf topic of 400k frames is read in one
#   fetch, too fast for a steady rate; kuniq's frames then repeat 400 s of event time, late
#   but within the lateness, so all are decoded and counted)   BENCH_PROTO_PARTITIONS [4 1]
#   partitions of the proto part's end-to-end topics (the first also for the by-codec table)
#   BENCH_PROTO_CODECS [none lz4 zstd] codecs of the by-codec table (lz4 reuses the first
#   end-to-end topics)
#   BENCH_DIR [${TMPDIR:-/tmp}/kuniq-bench] data files (generated files are reused)
#   KUNIQ_BROKERS [127.0.0.1:9092]   KAFKA_HOME [<repo>/.kafka] (for on-disk topic sizes)
#
# Topics and apps are named bench-<part>-<run id>; nothing is deleted afterwards.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

parts=",${BENCH_PARTS:-decoder,count,e2e,latency,rss,scale},"
repeat=${BENCH_REPEAT:-3}
frames=${BENCH_FRAMES:-1000000}
json_frames=${BENCH_JSON_FRAMES:-100000}
lat_seconds=${BENCH_LATENCY_SECONDS:-260}
lat_rate=${BENCH_LATENCY_RATE:-2000}
rss_frames=${BENCH_RSS_FRAMES:-5000000}
rss_frame_bytes=${BENCH_RSS_FRAME_BYTES:-400}
scale_frames=${BENCH_SCALE_FRAMES:-400000}
scale_partitions=${BENCH_SCALE_PARTITIONS:-1 2 4 8}
proto_frames=${BENCH_PROTO_FRAMES:-400000}
proto_copies=${BENCH_PROTO_COPIES:-10}
proto_partitions=${BENCH_PROTO_PARTITIONS:-4 1}
proto_codecs=${BENCH_PROTO_CODECS:-none lz4 zstd}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/kuniq-bench}
brokers=${KUNIQ_BROKERS:-127.0.0.1:9092}
kafka_data=${KAFKA_HOME:-$root/.kafka}/data
run_id=$(date +%Y%m%d%H%M%S)
mkdir -p "$work/bin" "$work/state"
summary=$work/summary-$run_id.txt
log=$work/log-$run_id.txt

has() { [[ $parts == *",$1,"* ]]; }
now_ms() { date +%s%3N; }
say() { echo "$*" | tee -a "$summary"; }
note() { echo "bench: $*" >&2; }
# field NAME LINE: the value of NAME=... in a "RESULT a=1 b=2" line.
field() { sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<"$2"; }
# range V...: "min–max (median m)" of numbers, rounded to the given precision.
range() {
	local prec=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v p="$prec" '{a[NR]=$1} END {
		f="%." p "f"; printf(f "–" f " (median " f ", n=%d)", a[1], a[NR], a[int((NR+1)/2)], NR) }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.4f", a / b }'; }
# stage1_rate LAG-RESULT: kuniq's stage-1 frames/s from scripts/bench/lag's RESULT line: the
# steady rate (from the first visible commit), or, when that commit already covered half the
# input (a small input read before the first commit), the wall rate including start-up.
stage1_rate() {
	local steady=$(field steady_records "$1") consumed=$(field consumed "$1")
	if ((steady * 2 >= consumed)); then
		div "$steady" "$(field steady_secs "$1")"
	else
		div "$consumed" "$(field secs "$1")"
	fi
}
# pids of kuniq instances this script started, stopped on exit.
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill -INT "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
stop_kuniq() { # stop_kuniq PID: graceful stop, wait for it
	kill -INT "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=()
	for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	pids=("${keep[@]+"${keep[@]}"}")
}
# gen_file N FRAME_BYTES: path of a generated file of N frames (seed 1), made once.
gen_file() {
	local f=$work/frames-$1-$2.jsonl
	if [[ ! -s $f ]]; then
		note "generating $1 frames of ~$2 B into $f"
		bin/kuniq gen --count "$1" --seed 1 --frame-bytes "$2" --out "$f.tmp" 2>>"$log"
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}
# rss_sampler PID FILE: append VmRSS (KiB) of PID to FILE every second while it lives.
rss_sampler() {
	sleep 1 # not the process as it execs
	while kill -0 "$1" 2>/dev/null; do
		awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null >>"$2" || true
		sleep 1
	done
}
# rss_report FILE: min/median/max and first-third vs last-third medians of the samples.
rss_report() {
	sort -g "$1" | awk '{a[NR]=$1} END { printf "%d samples: min %.0f MiB, median %.0f MiB, max %.0f MiB", NR, a[1]/1024, a[int((NR+1)/2)]/1024, a[NR]/1024 }'
	local n
	n=$(($(wc -l <"$1") / 3))
	if ((n > 0)); then
		median_of() { sort -g | awk '{a[NR]=$1} END { printf "%.0f", a[int((NR+1)/2)]/1024 }'; }
		printf '; median of the first third %s MiB, of the last third %s MiB' \
			"$(head -n "$n" "$1" | median_of)" "$(tail -n "$n" "$1" | median_of)"
	fi
}
# start_run APP TOPIC [extra flags]: start `kuniq run` in the background; sets run_pid.
start_run() {
	local app=$1 topic=$2
	shift 2
	bin/kuniq run --brokers "$brokers" --app "$app" --input "$topic" --output "$app-out" --dlq "$app-dlq" \
		--partitions 4 --state-dir "$work/state/$app" "$@" >>"$log" 2>&1 &
	run_pid=$!
	pids+=("$run_pid")
}
# lag_wait PID LAG-ARGS...: scripts/bench/lag -wait, but give up when the kuniq run PID exits
# first (a failed start would otherwise be waited on until lag's timeout).
lag_wait() {
	local pid=$1 out
	shift
	out=$(mktemp)
	"$work/bin/lag" -brokers "$brokers" -wait "$@" >"$out" &
	local lp=$!
	while kill -0 "$lp" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null; then
			kill "$lp" 2>/dev/null || true
			wait "$lp" 2>/dev/null || true
			note "kuniq run (pid $pid) exited before consuming everything; see $log"
			rm -f "$out"
			return 1
		fi
		sleep 0.2
	done
	wait "$lp"
	cat "$out" | tee -a "$log" | grep '^RESULT'
	rm -f "$out"
}
topic_disk_bytes() { # bytes of the topic's log segments on the broker's disk (compressed batches)
	cat "$kafka_data/$1"-*/*.log 2>/dev/null | wc -c
}

note "run $run_id; summary in $summary, logs in $log"
say "# kuniq bench $run_id on $(nproc) cores ($(uname -sm), $(go version | awk '{print $3}')); BENCH_PARTS=${parts:1:-1} BENCH_REPEAT=$repeat"

note "building"
make -s build
# The same binary built with the codec's SIMD paths (AVX-512 or AVX2, whichever the CPU has).
GOEXPERIMENT=simd go build -o "$work/bin/kuniq-simd" ./cmd/kuniq
for p in consume lag live jsonbase topicsize; do
	go build -o "$work/bin/$p" "./scripts/bench/$p"
done
if has e2e || has latency || has rss || has scale || has proto; then
	scripts/kafka.sh up
fi

# --- a. decoder -------------------------------------------------------------------------
if has decoder; then
	say ""
	say "## decoder: go test -run '^\$' -bench DecodeFrame -benchmem -count $repeat ./codec/"
	out=$(go test -run '^$' -bench 'DecodeFrame' -benchmem -count "$repeat" ./codec/ | tee -a "$log")
	ns() { awk -v n="BenchmarkDecodeFrame/$1-" 'index($1, n) == 1 { print $3 }' <<<"$out"; }
	mapfile -t k < <(ns kuniq)
	mapfile -t j < <(ns encoding_json)
	mapfile -t f < <(ns fastjson)
	mapfile -t o < <(ns before)
	rj=() rf=() ro=()
	for i in "${!k[@]}"; do
		rj+=("$(div "${j[$i]}" "${k[$i]}")")
		rf+=("$(div "${f[$i]}" "${k[$i]}")")
		ro+=("$(div "${o[$i]}" "${k[$i]}")")
	done
	say "  kuniq FrameDecoder  ns/frame $(range 0 "${k[@]}")"
	say "  before issue 11     ns/frame $(range 0 "${o[@]}"); before / kuniq: $(range 2 "${ro[@]}")x (goal 2x)"
	say "  encoding/json       ns/frame $(range 0 "${j[@]}")"
	say "  fastjson            ns/frame $(range 0 "${f[@]}")"
	say "  encoding/json / kuniq: $(range 1 "${rj[@]}")x; fastjson / kuniq: $(range 2 "${rf[@]}")x"

	say "## decoder, SIMD build: GOEXPERIMENT=simd go test -run '^\$' -bench 'DecodeFrame/(kuniq|before)\$|DecodeFrameWidth' -benchmem -count $repeat ./codec/"
	out=$(GOEXPERIMENT=simd go test -run '^$' -bench 'DecodeFrame/(kuniq|before)$|DecodeFrameWidth' -benchmem -count "$repeat" ./codec/ | tee -a "$log")
	mapfile -t k < <(ns kuniq)
	mapfile -t o < <(ns before)
	ro=()
	for i in "${!k[@]}"; do ro+=("$(div "${o[$i]}" "${k[$i]}")"); done
	say "  kuniq FrameDecoder  ns/frame $(range 0 "${k[@]}") (the CPU's widest SIMD)"
	say "  before issue 11     ns/frame $(range 0 "${o[@]}"); before / kuniq: $(range 2 "${ro[@]}")x (goal 2x)"
	for w in avx512 avx2; do
		mapfile -t v < <(awk -v n="BenchmarkDecodeFrameWidth/$w-" 'index($1, n) == 1 { print $3 }' <<<"$out")
		if ((${#v[@]})); then say "  $(printf '%-19s' "$w") ns/frame $(range 0 "${v[@]}")"; fi
	done

	say "## format: go test -run '^\$' -bench Format -benchmem -count $repeat ./scripts/bench/format/"
	out=$(go test -run '^$' -bench 'Format' -benchmem -count "$repeat" ./scripts/bench/format/ | tee -a "$log")
	for b in json_challenge_frame json_ts_uid_only proto_wire fixed28; do
		mapfile -t v < <(awk -v n="BenchmarkFormat/$b-" 'index($1, n) == 1 { print $3 }' <<<"$out")
		size=$(awk -v n="BenchmarkFormat/$b-" 'index($1, n) == 1 { print $5; exit }' <<<"$out")
		say "  $(printf '%-22s' "$b") ${size} B/frame, ns/frame $(range 1 "${v[@]}")"
	done
fi

# --- b. count ---------------------------------------------------------------------------
if has count; then
	file=$(gen_file "$frames" 2080)
	bytes=$(stat -c %s "$file")
	cat "$file" >/dev/null # warm the page cache: every contender reads from memory
	say ""
	say "## count: $frames frames, $((bytes / 1000000)) MB ($file, bin/kuniq gen --count $frames --seed 1)"
	wc_fps=() cnt_fps=() w1_fps=() js_fps=() simd_fps=() r_wc=() r_js=() r_par=() r_simd=()
	for r in $(seq "$repeat"); do
		t0=$(now_ms)
		wc -l "$file" >/dev/null
		t1=$(now_ms)
		bin/kuniq count --quiet --dead-letters none "$file" >/dev/null
		t2=$(now_ms)
		bin/kuniq count --quiet --dead-letters none --workers 1 "$file" >/dev/null
		t3=$(now_ms)
		"$work/bin/kuniq-simd" count --quiet --dead-letters none "$file" >/dev/null
		t4=$(now_ms)
		res=$("$work/bin/jsonbase" -n "$json_frames" "$file" | tee -a "$log" | grep '^RESULT')
		wcf=$(div "$frames" "$(div $((t1 - t0)) 1000)")
		cf=$(div "$frames" "$(div $((t2 - t1)) 1000)")
		w1f=$(div "$frames" "$(div $((t3 - t2)) 1000)")
		jf=$(div "$(field frames "$res")" "$(field secs "$res")")
		sf=$(div "$frames" "$(div $((t4 - t3)) 1000)")
		wc_fps+=("$wcf") cnt_fps+=("$cf") w1_fps+=("$w1f") js_fps+=("$jf") simd_fps+=("$sf")
		r_wc+=("$(div "$cf" "$wcf")") r_js+=("$(div "$cf" "$jf")") r_par+=("$(div "$cf" "$w1f")") r_simd+=("$(div "$sf" "$wcf")")
		note "count round $r: wc $wcf, count $cf, --workers 1 $w1f, SIMD build $sf, encoding/json $jf frames/s"
	done
	say "  wc -l FILE                          frames/s $(range 0 "${wc_fps[@]}")"
	say "  kuniq count FILE (workers = cores)  frames/s $(range 0 "${cnt_fps[@]}")"
	say "  kuniq count --workers 1 FILE        frames/s $(range 0 "${w1_fps[@]}")"
	say "  kuniq count FILE, SIMD build        frames/s $(range 0 "${simd_fps[@]}"); / wc -l: $(range 2 "${r_simd[@]}") (goal 0.33)"
	say "  jsonbase -n $json_frames FILE (encoding/json, 1 goroutine) frames/s $(range 0 "${js_fps[@]}")"
	say "  count / wc -l: $(range 2 "${r_wc[@]}"); count / encoding/json: $(range 1 "${r_js[@]}")x; parallel speed-up (default / --workers 1): $(range 2 "${r_par[@]}")x"

	prof=$work/count-$run_id.cpu
	say "## count profile: go test -run '^\$' -bench 'Count/granularity=minute/workers=0' -benchtime 40x -cpuprofile $prof ./scripts/bench/profile/"
	go test -run '^$' -bench 'Count/granularity=minute/workers=0' -benchtime 40x -cpuprofile "$prof" \
		-o "$work/bin/profile.test" ./scripts/bench/profile/ | tee -a "$log" | grep '^Benchmark' | sed 's/^/  /' | tee -a "$summary"
	top=$(go tool pprof -top -cum -nodecount 400 "$work/bin/profile.test" "$prof" 2>/dev/null)
	echo "$top" >>"$log"
	# cum SECONDS of the first function matching a regex ("170ms" and "2.1s" alike)
	cum() { awk -v re="$1" '$6 ~ re { v=$4; if (v ~ /ms$/) { sub(/ms$/, "", v); v/=1000 } else sub(/s$/, "", v); print v; exit }' <<<"$top"; }
	total=$(awk '/Total samples/ { for (i=1;i<=NF;i++) if ($i == "=") { v=$(i+1); sub(/s$/, "", v); print v; exit } }' <<<"$top")
	# The generator's setup (profile.frames) is not count's cost: leave it out of the total.
	setup=$(cum 'profile\.frames$')
	count_cpu=$(awk -v t="$total" -v s="${setup:-0}" 'BEGIN { print t - s }')
	say "  CPU: ${count_cpu}s of samples in count's engine (${total}s in the profile, ${setup:-0}s of it generating the input)"
	share() { # share LABEL REGEX: the function's cumulative share of count's CPU
		local v
		v=$(cum "$2")
		say "  $(printf '%-58s' "$1") $(awk -v v="${v:-0}" -v t="$count_cpu" 'BEGIN { printf "%5.1f %%", 100 * v / t }')"
	}
	share "JSON parsing: codec.(*FrameDecoder).Decode" 'codec\.\(\*FrameDecoder\)\.Decode$'
	share "  of it, the block pass (bitmaps, strings): codec.(*FrameDecoder).refill" 'codec\.\(\*FrameDecoder\)\.refill$'
	share "decode + uid hash (sketch.Hash inlined): engine.Decode" '^github.com/kuniq/kuniq/engine\.Decode$'
	share "windows, watermark, sketches: engine.(*Counter).Add" 'engine\.\(\*Counter\)\.Add$'
	share "reading and cutting lines: engine.Read.func2" 'engine\.Read\.func2$'
	share "garbage collection: runtime.gcBgMarkWorker" 'runtime\.gcBgMarkWorker$'
fi

# --- c, d. end to end -------------------------------------------------------------------
if has e2e; then
	file=$(gen_file "$frames" 2080)
	topic=bench-e2e-$run_id
	say ""
	say "## e2e: $frames frames ($file) into topic $topic, 4 partitions"
	t0=$(now_ms)
	bin/kuniq ingest --brokers "$brokers" --input "$topic" --partitions 4 --progress 0 "$file" 2>>"$log"
	t1=$(now_ms)
	say "  bin/kuniq ingest --input $topic --partitions 4 FILE: $(div "$frames" "$(div $((t1 - t0)) 1000)") frames/s"
	say "  on disk (lz4 batches): $(div "$(topic_disk_bytes "$topic")" "$frames") B/frame of $(div "$(stat -c %s "$file")" "$frames") B/frame of JSON"
	d_fps=() r_dec=() c_fps=() c_wall=() k_fps=() k_wall=() r_steady=() r_wall=() s2=() cl=() pa=() cl_disk=() tbl=()
	for r in $(seq "$repeat"); do
		res=$("$work/bin/consume" -brokers "$brokers" -topic "$topic" | tee -a "$log" | grep '^RESULT')
		cf=$(div "$(field frames "$res")" "$(field steady_secs "$res")")
		cw=$(div "$(field frames "$res")" "$(field secs "$res")")
		# The same consumer, decoding every frame as kuniq's stage 1 does: what parsing costs.
		res=$("$work/bin/consume" -brokers "$brokers" -topic "$topic" -decode | tee -a "$log" | grep '^RESULT')
		df=$(div "$(field frames "$res")" "$(field steady_secs "$res")")
		app=bench-e2e-$run_id-$r
		start=$(now_ms)
		start_run "$app" "$topic"
		if ! res=$(lag_wait "$run_pid" -group "$app-preagg" -topic "$topic" -start "$start"); then
			stop_kuniq "$run_pid"
			say "  round $r: kuniq run failed to start or died; round skipped (log: $log)"
			continue
		fi
		kf=$(stage1_rate "$res")
		kw=$(div "$(field consumed "$res")" "$(field secs "$res")")
		res2=$(lag_wait "$run_pid" -group "$app-windows" -topic "$app-partials" -snapshot -start "$start")
		stop_kuniq "$run_pid"
		d_fps+=("$df") r_dec+=("$(div "$kf" "$df")")
		c_fps+=("$cf") c_wall+=("$cw") k_fps+=("$kf") k_wall+=("$kw") s2+=("$(field secs "$res2")")
		r_steady+=("$(div "$kf" "$cf")") r_wall+=("$(div "$kw" "$cw")")
		note "e2e round $r: consumer $cf steady / $cw wall; kuniq stage 1 $kf steady / $kw wall frames/s; stage 2 done after $(field secs "$res2") s"
		# d. what the run wrote: the changelog (table topic) and the partials between the stages.
		t=$("$work/bin/topicsize" -brokers "$brokers" -topic "$app-windows-table" | tee -a "$log" | grep '^RESULT')
		p=$("$work/bin/topicsize" -brokers "$brokers" -topic "$app-partials" | tee -a "$log" | grep '^RESULT')
		cl+=("$(div "$(field bytes "$t")" "$frames")") pa+=("$(div "$(field bytes "$p")" "$frames")")
		cl_disk+=("$(div "$(topic_disk_bytes "$app-windows-table")" "$frames")")
		tbl+=("$(field records "$t") records, $(field live_keys "$t") live keys, $(div "$(field live_bytes "$t")" 1000000) MB live")
	done
	say "  bare sarama consumer group (scripts/bench/consume)  frames/s $(range 0 "${c_fps[@]}") steady; $(range 0 "${c_wall[@]}") incl. group join"
	say "  the same consumer with -decode (codec.FrameDecoder)  frames/s $(range 0 "${d_fps[@]}") steady"
	say "  kuniq run, stage 1 (lag of <app>-preagg -> 0)        frames/s $(range 0 "${k_fps[@]}") steady; $(range 0 "${k_wall[@]}") incl. startup"
	say "  kuniq / bare consumer: $(range 2 "${r_steady[@]}") steady; $(range 2 "${r_wall[@]}") wall (goal >= 0.7); kuniq / decoding consumer: $(range 2 "${r_dec[@]}")"
	say "  stage 2 caught up (<app>-windows reached the partials' end as of stage 1's end) after s: $(range 1 "${s2[@]}")"
	say "  changelog <app>-windows-table: B/input frame $(range 1 "${cl[@]}") (keys+values); on disk $(range 1 "${cl_disk[@]}")"
	say "  partials <app>-partials: B/input frame $(range 2 "${pa[@]}")"
	for x in "${tbl[@]}"; do say "  table after the run: $x"; done
fi

# --- e. latency -------------------------------------------------------------------------
if has latency; then
	app=bench-lat-$run_id
	say ""
	say "## latency: $lat_rate frames/s with ts = now for ${lat_seconds}s into $app-in; kuniq run --app $app"
	start_run "$app" "$app-in"
	lat_pid=$run_pid
	rss_file=$work/rss-lat-$run_id.txt
	: >"$rss_file"
	rss_sampler "$lat_pid" "$rss_file" &
	sleep 5 # the group joins first; frames before that would only be caught up with
	res=$("$work/bin/live" -brokers "$brokers" -topic "$app-in" -output "$app-out" -rate "$lat_rate" \
		-duration "${lat_seconds}s" 2>>"$log" | tee -a "$log")
	stop_kuniq "$lat_pid"
	say "  $(grep -v '^RESULT' <<<"$res")"
	say "  RSS of that kuniq run: $(rss_report "$rss_file")"
fi

# --- f. RSS over a long run -------------------------------------------------------------
if has rss; then
	file=$(gen_file "$rss_frames" "$rss_frame_bytes")
	topic=bench-rss-$run_id
	app=$topic
	say ""
	say "## rss: $rss_frames frames of ~$rss_frame_bytes B ($file) into $topic; kuniq run --app $app"
	t0=$(now_ms)
	bin/kuniq ingest --brokers "$brokers" --input "$topic" --partitions 4 --progress 0 "$file" 2>>"$log"
	t1=$(now_ms)
	say "  ingest: $(div "$rss_frames" "$(div $((t1 - t0)) 1000)") frames/s"
	rss_file=$work/rss-$run_id.txt
	: >"$rss_file"
	start=$(now_ms)
	start_run "$app" "$topic"
	rss_pid=$run_pid
	rss_sampler "$rss_pid" "$rss_file" &
	res=$(lag_wait "$rss_pid" -group "$app-preagg" -topic "$topic" -start "$start")
	lag_wait "$rss_pid" -group "$app-windows" -topic "$app-partials" -snapshot -start "$start" >/dev/null
	sleep 15 # idle: past the idle timeout every window is final; memory should fall back, not grow
	stop_kuniq "$rss_pid"
	say "  stage 1 consumed $rss_frames frames in $(field secs "$res") s: $(stage1_rate "$res") frames/s"
	say "  RSS sampled every second: $(rss_report "$rss_file")"
	say "  samples (MiB): $(awk '{ printf "%s%.0f", (NR>1?" ":""), $1/1024 }' "$rss_file")"
fi

# --- g. scaling: input partitions x instances ---------------------------------------------
# The same frames on topics of 1, 2, 4 and 8 partitions; on each a bare consumer group, then
# `kuniq run` with one instance and with two (both started together, so the group settles
# before most of the input is read; the rates are steady rates from the first commit).
if has scale; then
	file=$(gen_file "$scale_frames" 2080)
	say ""
	say "## scale: $scale_frames frames ($file) per topic; stage 1 steady frames/s (lag of <app>-preagg -> 0), $repeat rounds"
	say "  | partitions | bare consumer | kuniq, 1 instance | ratio | kuniq, 2 instances | ratio |"
	say "  |---|---|---|---|---|---|"
	for np in $scale_partitions; do
		topic=bench-scale-$run_id-p$np
		bin/kuniq ingest --brokers "$brokers" --input "$topic" --partitions "$np" --progress 0 "$file" 2>>"$log"
		c_fps=() k1=() r1=() k2=() r2=()
		for r in $(seq "$repeat"); do
			res=$("$work/bin/consume" -brokers "$brokers" -topic "$topic" | tee -a "$log" | grep '^RESULT')
			cf=$(div "$(field frames "$res")" "$(field steady_secs "$res")")
			c_fps+=("$cf")
			for n in 1 2; do
				app=bench-scale-$run_id-p$np-i$n-$r
				start=$(now_ms)
				started=()
				for i in $(seq "$n"); do
					start_run "$app" "$topic" --partitions "$np" --state-dir "$work/state/$app-$i"
					started+=("$run_pid")
				done
				if ! res=$(lag_wait "${started[0]}" -group "$app-preagg" -topic "$topic" -start "$start"); then
					say "  round $r, $np partitions, $n instances: kuniq run failed to start or died (log: $log)"
					for p in "${started[@]}"; do stop_kuniq "$p"; done
					continue
				fi
				for p in "${started[@]}"; do stop_kuniq "$p"; done
				kf=$(stage1_rate "$res")
				if ((n == 1)); then k1+=("$kf") r1+=("$(div "$kf" "$cf")"); else k2+=("$kf") r2+=("$(div "$kf" "$cf")"); fi
				note "scale round $r: $np partitions, $n instances: consumer $cf, kuniq $kf frames/s"
			done
		done
		say "  | $np | $(range 0 "${c_fps[@]}") | $(range 0 "${k1[@]}") | $(range 2 "${r1[@]}") | $(range 0 "${k2[@]}") | $(range 2 "${r2[@]}") |"
	done
fi

# --- h. JSON vs protobuf on the same frames ---------------------------------------------------
if has proto; then
	jf=$(gen_file "$proto_frames" 2080)
	pf=$work/frames-$proto_frames-2080.pb
	if [[ ! -s $pf ]]; then
		bin/kuniq gen --count "$proto_frames" --seed 1 --frame-bytes 2080 --format protobuf --out "$pf.tmp" 2>>"$log"
		mv "$pf.tmp" "$pf"
	fi
	cat "$jf" "$pf" >/dev/null
	say ""
	say "## proto: $proto_frames frames, JSON ($jf) vs protobuf ($pf, bin/kuniq gen --format protobuf, same flags)"
	say "  file: JSON $(div "$(stat -c %s "$jf")" "$proto_frames") B/frame, delimited protobuf $(div "$(stat -c %s "$pf")" "$proto_frames") B/frame"
	cj=() cp=() rc=()
	for r in $(seq "$repeat"); do
		t0=$(now_ms)
		bin/kuniq count --quiet --dead-letters none "$jf" >/dev/null
		t1=$(now_ms)
		bin/kuniq count --quiet --dead-letters none --input-format protobuf "$pf" >/dev/null
		t2=$(now_ms)
		a=$(div "$proto_frames" "$(div $((t1 - t0)) 1000)") b=$(div "$proto_frames" "$(div $((t2 - t1)) 1000)")
		cj+=("$a") cp+=("$b") rc+=("$(div "$b" "$a")")
		note "proto count round $r: json $a, protobuf $b frames/s"
	done
	say "  kuniq count JSON                        frames/s $(range 0 "${cj[@]}")"
	say "  kuniq count --input-format protobuf     frames/s $(range 0 "${cp[@]}"); protobuf / JSON $(range 1 "${rc[@]}")x"
	# proto_inputs FMT: the files one ingest of FMT reads (protobuf: the JSON file
	# $proto_copies times, for a steady rate) in $files, their frames in $frames_in.
	proto_inputs() {
		local copies=1
		[[ $1 == protobuf ]] && copies=$proto_copies
		files=()
		for _ in $(seq "$copies"); do files+=("$jf"); done
		frames_in=$((copies * proto_frames))
	}
	# The lz4 topics of the end-to-end rounds serve as the by-codec table's lz4 rows: their
	# bytes per frame (taken before the rounds: the apps' own topics share the name's prefix,
	# which topic_disk_bytes globs), ingest rate and bare-consumer rates, kept by format.
	declare -A lz4_bytes lz4_ingest lz4_consumer
	first_np=${proto_partitions%% *}
	for np in $proto_partitions; do
		for fmt in json protobuf; do
			topic=bench-proto-$fmt-p$np-$run_id
			proto_inputs "$fmt"
			t0=$(now_ms)
			bin/kuniq ingest --brokers "$brokers" --input "$topic" --partitions "$np" --progress 0 --format "$fmt" "${files[@]}" 2>>"$log"
			ingest_fps=$(div "$frames_in" "$(div $(($(now_ms) - t0)) 1000)")
			disk_bytes=$(div "$(topic_disk_bytes "$topic")" "$frames_in")
			say "  topic $topic ($np partition(s), ingest --format $fmt, the file ${#files[@]} time(s), $frames_in frames): on disk (lz4 batches) $disk_bytes B/frame"
			c_fps=() k_fps=() r_st=()
			for r in $(seq "$repeat"); do
				res=$("$work/bin/consume" -brokers "$brokers" -topic "$topic" | tee -a "$log" | grep '^RESULT')
				cf=$(div "$(field frames "$res")" "$(field steady_secs "$res")")
				app=bench-proto-$fmt-p$np-$run_id-$r
				start=$(now_ms)
				start_run "$app" "$topic" --input-format "$fmt"
				if ! res=$(lag_wait "$run_pid" -group "$app-preagg" -topic "$topic" -start "$start"); then
					stop_kuniq "$run_pid"
					say "  round $r: kuniq run failed to start or died; round skipped (log: $log)"
					continue
				fi
				stop_kuniq "$run_pid"
				kf=$(stage1_rate "$res")
				c_fps+=("$cf") k_fps+=("$kf") r_st+=("$(div "$kf" "$cf")")
				note "proto e2e $fmt $np partition(s) round $r: consumer $cf, kuniq stage 1 $kf frames/s steady"
			done
			if [[ $np == "$first_np" ]]; then
				lz4_ingest[$fmt]=$ingest_fps lz4_bytes[$fmt]=$disk_bytes lz4_consumer[$fmt]=$(range 0 "${c_fps[@]}")
			fi
			say "  $fmt, $np partition(s): bare consumer frames/s $(range 0 "${c_fps[@]}"); kuniq run --input-format $fmt stage 1 frames/s $(range 0 "${k_fps[@]}") steady; kuniq / bare $(range 2 "${r_st[@]}")"
		done
	done
	# The same frames with each batch codec (ingest --compression): bytes per frame on the
	# broker's disk, which are the bytes on the wire too (the broker stores the batches as
	# produced), what compressing costs the producer and decompressing a bare consumer.
	say "  by codec (ingest --compression, $first_np partition(s); the bare consumer's steady rate; $proto_copies copies of the file for protobuf):"
	say "  | format | codec | B/frame on disk and wire | ingest frames/s | bare consumer frames/s |"
	say "  |---|---|---|---|---|"
	for fmt in json protobuf; do
		proto_inputs "$fmt"
		for cc in $proto_codecs; do
			if [[ $cc == lz4 ]]; then
				say "  | $fmt | lz4 | ${lz4_bytes[$fmt]} | $(range 0 "${lz4_ingest[$fmt]}") | ${lz4_consumer[$fmt]} |"
				continue
			fi
			topic=bench-codec-$fmt-$cc-$run_id
			ing=() cons=()
			t0=$(now_ms)
			if ! bin/kuniq ingest --brokers "$brokers" --input "$topic" --partitions "$first_np" --progress 0 --quiet \
				--format "$fmt" --compression "$cc" "${files[@]}" 2>>"$log"; then
				say "  | $fmt | $cc | ingest failed (log: $log) | | |"
				continue
			fi
			t1=$(now_ms)
			ing+=("$(div "$frames_in" "$(div $((t1 - t0)) 1000)")")
			for r in $(seq "$repeat"); do
				res=$("$work/bin/consume" -brokers "$brokers" -topic "$topic" | tee -a "$log" | grep '^RESULT')
				cons+=("$(div "$(field frames "$res")" "$(field steady_secs "$res")")")
			done
			say "  | $fmt | $cc | $(div "$(topic_disk_bytes "$topic")" "$frames_in") | $(range 0 "${ing[@]}") | $(range 0 "${cons[@]}") |"
		done
	done
fi

note "done; summary in $summary"
