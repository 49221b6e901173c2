#!/usr/bin/env bash
# make screenshot: the picture of kuniq's page in docs/img/page.png (the README shows it), taken
# from a live pipeline rather than a fixture: 100 minutes of challenge-shaped frames ending just
# before now, one `kuniq run --http` instance serving the page, headless Chromium asking the
# page's range form for an answer. SCREENSHOT_PORT is the page's port (default 8090).
source "$(dirname "$0")/demo-lib.sh" shot
addr=127.0.0.1:${SCREENSHOT_PORT:-8090}
out=${SCREENSHOT_OUT:-docs/img/page.png}

scripts/kafka.sh up
# 240,000 frames, the clock advancing 1 s every 40 frames: 6,000 s (100 minutes) that end 20 s
# ago, so the newest minute is still open when the picture is taken.
now=$(date +%s)
"$bin" gen --count 240000 --rate 40 --start $((now - 6020)) --seed 11 --disorder-pct 5 \
	--late-pct 0.1 --malformed-pct 0.2 --out "$work/frames.jsonl"
start a "$id" --http "$addr"
"$bin" ingest --input "$id-frames" --partitions 4 "$work/frames.jsonl"
# Until stage 1 has read every record (its health says so), then one page poll more.
deadline=$((SECONDS + 120))
until grep -q '"frames_total":240000[,}]' <<<"$(curl -fs "http://$addr/api/v1/health" || true)"; do
	if ((SECONDS > deadline)); then
		echo "screenshot: kuniq run did not read the 240000 frames within 120 s; its log: $work/a.log" >&2
		exit 1
	fi
	sleep 0.5
done
sleep 2
mkdir -p "$(dirname "$out")"
go run ./scripts/screenshot -url "http://$addr/" -out "$out" -click '#uniquesform button' -clicked '#answer .n'
