#!/usr/bin/env bash
# kafka.sh — a real single-node Apache Kafka (KRaft, combined broker+controller) for development
# and CI, without Docker: the jars come from Maven Central (scripts/kafka/pom.xml), the data lives
# in .kafka/ (ignored by git) and survives `down`/`up`.
#
#   scripts/kafka.sh fetch   download the broker jars into scripts/kafka/lib (once)
#   scripts/kafka.sh up      format storage if needed, start in the background, wait until ready
#   scripts/kafka.sh down    stop the broker by its recorded pid (SIGTERM, then SIGKILL)
#   scripts/kafka.sh logs    print the broker's log
#   scripts/kafka.sh status  say whether it runs
#   scripts/kafka.sh wipe    down, then delete .kafka/ (a fresh cluster next time)
#
# Environment: KAFKA_PORT (default 9092; the controller uses KAFKA_PORT+1), KAFKA_HEAP (default 512m),
# KAFKA_HOME (default <repo>/.kafka).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lib="$root/scripts/kafka/lib"
home=${KAFKA_HOME:-$root/.kafka}
port=${KAFKA_PORT:-9092}
cport=$((port + 1))
heap=${KAFKA_HEAP:-512m}
pidfile="$home/kafka.pid"
logfile="$home/kafka.log"
props="$home/server.properties"

log() { echo "kafka.sh: $*" >&2; }

running() {
	[[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

fetch() {
	if [[ -f $lib/.complete ]]; then return; fi
	command -v mvn >/dev/null || { log "maven (mvn) is required: apt-get install maven"; exit 1; }
	command -v java >/dev/null || { log "a JDK 17+ is required: apt-get install openjdk-17-jdk-headless"; exit 1; }
	log "fetching Kafka jars from Maven Central into $lib"
	(cd "$root/scripts/kafka" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies)
	touch "$lib/.complete"
}

write_props() {
	mkdir -p "$home/data"
	cat >"$props" <<PROPS
# Written by scripts/kafka.sh; edits are overwritten on the next 'up'.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$home/data
# One broker: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=4
# kuniq creates its topics explicitly; a typo must fail, not create a topic.
auto.create.topics.enable=false
# Consumer groups (Goka processors) start at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
# A 2-core box: a small log cleaner for compacted changelogs, few threads.
log.cleaner.dedupe.buffer.size=16777216
log.cleaner.threads=1
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
message.max.bytes=10485760
replica.fetch.max.bytes=10485760
log.retention.hours=-1
log.segment.bytes=268435456
PROPS
}

format() {
	if [[ -f $home/data/meta.properties ]]; then return; fi
	local id
	id=$(java -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
	log "formatting storage in $home/data (cluster id $id)"
	java -cp "$lib/*" kafka.tools.StorageTool format -t "$id" -c "$props" --ignore-formatted >>"$logfile" 2>&1
}

wait_ready() {
	local deadline=$((SECONDS + ${KAFKA_WAIT:-90}))
	(cd "$root" && go build -o "$home/ready" ./scripts/kafka/ready)
	while ((SECONDS < deadline)); do
		if ! running; then
			log "broker exited during start-up; last log lines:"
			tail -n 30 "$logfile" >&2 || true
			exit 1
		fi
		# A metadata request answered by the broker, not just an open port.
		if "$home/ready" --brokers "127.0.0.1:$port" --timeout 2s >/dev/null 2>&1; then
			log "ready on 127.0.0.1:$port (pid $(cat "$pidfile"))"
			return
		fi
		sleep 1
	done
	log "broker did not answer within ${KAFKA_WAIT:-90}s; see $logfile"
	exit 1
}

up() {
	fetch
	mkdir -p "$home"
	if running; then
		log "already running (pid $(cat "$pidfile"))"
		wait_ready
		return
	fi
	write_props
	format
	log "starting broker (heap $heap, log $logfile)"
	# setsid: the broker outlives this shell and is not hit by a Ctrl-C meant for make
	# (macOS has no setsid; nohup keeps it alive there).
	local detach=setsid
	command -v setsid >/dev/null || detach=nohup
	$detach java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-Djava.awt.headless=true -Dlog4j2.level=INFO \
		-Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
		-cp "$lib/*" kafka.Kafka "$props" >>"$logfile" 2>&1 </dev/null &
	echo $! >"$pidfile"
	wait_ready
}

down() {
	if ! running; then
		rm -f "$pidfile"
		log "not running"
		return
	fi
	local pid
	pid=$(cat "$pidfile")
	log "stopping broker (pid $pid)"
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "still alive after 30s: SIGKILL"
		kill -9 "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$pidfile"
	log "stopped"
}

case "${1:-}" in
fetch) fetch ;;
up) up ;;
down) down ;;
logs) cat "$logfile" ;;
status) if running; then echo "running (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
wipe) down; rm -rf "$home" ;;
*) echo "usage: $0 fetch|up|down|logs|status|wipe" >&2; exit 2 ;;
esac
