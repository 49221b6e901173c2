#!/usr/bin/env bash
# kafka.sh — real Apache Kafka (KRaft) for development and CI, without Docker: the jars come from
# Maven Central (scripts/kafka/pom.xml), the data lives in .kafka/ (ignored by git) and survives
# `down`/`up`.
#
# The single node (combined broker+controller) serves two client listeners:
#   PLAINTEXT  127.0.0.1:KAFKA_PORT     no TLS, no authentication (the demo, most tests)
#   SASL_SSL   127.0.0.1:KAFKA_PORT+2   TLS with .kafka/secure/ca.pem, SASL SCRAM-SHA-512,
#                                       SCRAM-SHA-256 or PLAIN as user "kuniq" with the password
#                                       in .kafka/secure/kuniq.password; client certificates
#                                       signed by that CA are checked if sent (mutual TLS)
# The controller listens on KAFKA_PORT+1 (PLAINTEXT, loopback).
#
#   scripts/kafka.sh fetch    download the broker jars into scripts/kafka/lib (once)
#   scripts/kafka.sh up       make the TLS material and password if missing, format storage if
#                             needed, start in the background, wait until both listeners serve
#                             (creating the SCRAM user if the broker lacks it); a running broker
#                             whose settings changed is restarted
#   scripts/kafka.sh down     stop the broker by its recorded pid (SIGTERM, then SIGKILL)
#   scripts/kafka.sh logs     print the broker's log
#   scripts/kafka.sh status   say whether it runs
#   scripts/kafka.sh secure   print the secure listener's settings as KUNIQ_* variables
#   scripts/kafka.sh wipe     down, then delete .kafka/ (a fresh cluster next time)
#
# A three-broker cluster (three KRaft nodes, each broker+controller, a static 3-voter quorum),
# PLAINTEXT only, in .kafka-cluster/; node N (1..3) listens on KAFKA_CLUSTER_PORT+2(N-1) and
# its controller on the port after:
#   scripts/kafka.sh cluster-up | cluster-down | cluster-status | cluster-wipe
#   scripts/kafka.sh cluster-logs N
#   scripts/kafka.sh cluster-node-up N      start node N (after a kill) and wait until it serves
#   scripts/kafka.sh cluster-node-kill N    SIGKILL node N by its pid
#   scripts/kafka.sh cluster-leader TOPIC   print the node leading most partitions of TOPIC
#   scripts/kafka.sh cluster-kill-leader TOPIC   SIGKILL that node (prints its id)
#
# Environment: KAFKA_PORT (default 9092), KAFKA_HEAP (512m), KAFKA_HOME (<repo>/.kafka);
# KAFKA_CLUSTER_PORT (9192), KAFKA_CLUSTER_HEAP (384m), KAFKA_CLUSTER_HOME (<repo>/.kafka-cluster),
# KAFKA_CLUSTER_JVM_OPTS (-XX:TieredStopAtLevel=1);
# KAFKA_WAIT (seconds to wait for start-up, 90).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lib="$root/scripts/kafka/lib"
home=${KAFKA_HOME:-$root/.kafka}
port=${KAFKA_PORT:-9092}
cport=$((port + 1))
sport=$((port + 2))
heap=${KAFKA_HEAP:-512m}
pidfile="$home/kafka.pid"
logfile="$home/kafka.log"
props="$home/server.properties"
secure="$home/secure"
user=kuniq

chome=${KAFKA_CLUSTER_HOME:-$root/.kafka-cluster}
cbase=${KAFKA_CLUSTER_PORT:-9192}
cheap=${KAFKA_CLUSTER_HEAP:-384m}
# Three JVMs starting at once on a small box: the C1 compiler alone halves their start-up
# (measured: 10-16 s instead of 20-31 s on 2 loaded cores); a test cluster needs no C2 peak.
cjvm=${KAFKA_CLUSTER_JVM_OPTS:--XX:TieredStopAtLevel=1}
nodes=(1 2 3)

log() { echo "kafka.sh: $*" >&2; }

# alive PIDFILE: the recorded process runs and is a broker. A pid file outlives a SIGKILLed
# broker, and pids are reused (pid_max is often 32768; thread ids share the space): without the
# command-line check, 'up' after a kill could take another process for the broker and 'down'
# would SIGTERM it.
alive() {
	[[ -f $1 ]] || return 1
	local pid
	pid=$(cat "$1")
	kill -0 "$pid" 2>/dev/null || return 1
	[[ ! -d /proc/$pid ]] || grep -qa 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null
}
running() { alive "$pidfile"; }

fetch() {
	if [[ -f $lib/.complete ]]; then return; fi
	command -v mvn >/dev/null || { log "maven (mvn) is required: apt-get install maven"; exit 1; }
	command -v java >/dev/null || { log "a JDK 17+ is required: apt-get install openjdk-17-jdk-headless"; exit 1; }
	log "fetching Kafka jars from Maven Central into $lib"
	(cd "$root/scripts/kafka" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies)
	touch "$lib/.complete"
}

# tools DIR: build the helper programs (ready, certs) into DIR; cached by go build.
tools() {
	mkdir -p "$1"
	(cd "$root" && go build -o "$1/" ./scripts/kafka/ready ./scripts/kafka/certs)
}

# common_props: the settings every node shares (a 2-core box: few threads, a small cleaner).
common_props() {
	cat <<PROPS
num.partitions=4
# kuniq creates its topics explicitly; a typo must fail, not create a topic.
auto.create.topics.enable=false
# Consumer groups (Goka processors) start at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
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

# write_props FILE CERTSUM: the single node's configuration. CERTSUM (the server key store's
# hash) is recorded so that new certificates make the file differ, which restarts the broker.
write_props() {
	local pw
	pw=$(tr -d '\r\n' <"$secure/$user.password")
	mkdir -p "$home/data"
	(
		umask 077 # the file holds the PLAIN password
		cat >"$1" <<PROPS
# Written by scripts/kafka.sh; edits are overwritten on the next 'up'.
# server key store sha256 $2
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_SSL://127.0.0.1:$sport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
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
$(common_props)
# The secure listener: TLS from the PEM files in $secure (made by scripts/kafka/certs),
# SCRAM users from the metadata log (scripts/kafka/ready creates "$user"), PLAIN from the
# JAAS line below. A client certificate is checked if one is sent (mutual TLS), not required.
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$secure/server.pem
listener.name.sasl_ssl.ssl.truststore.type=PEM
listener.name.sasl_ssl.ssl.truststore.location=$secure/ca.pem
listener.name.sasl_ssl.ssl.client.auth=requested
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$user="$pw";
PROPS
	)
}

# format PROPS DATA [ID]: format storage once (a random cluster id unless given).
format() {
	local cfg=$1 data=$2 id=${3:-}
	if [[ -f $data/meta.properties ]]; then return; fi
	if [[ -z $id ]]; then id=$(java -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1); fi
	log "formatting storage in $data (cluster id $id)"
	java -cp "$lib/*" kafka.tools.StorageTool format -t "$id" -c "$cfg" --ignore-formatted >>"$(dirname "$data")/kafka.log" 2>&1
}

# launch PROPS PIDFILE LOGFILE HEAP [JVM-OPTS]: start a broker in the background, record its pid.
launch() {
	local cfg=$1 pf=$2 lf=$3 hp=$4 opts=${5:-}
	# setsid: the broker outlives this shell and is not hit by a Ctrl-C meant for make
	# (macOS has no setsid; nohup keeps it alive there).
	local detach=setsid
	command -v setsid >/dev/null || detach=nohup
	$detach java -Xms"$hp" -Xmx"$hp" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 $opts \
		-Djava.awt.headless=true -Dlog4j2.level=INFO \
		-Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
		-cp "$lib/*" kafka.Kafka "$cfg" >>"$lf" 2>&1 </dev/null &
	echo $! >"$pf"
}

# wait_plain PIDFILE LOGFILE ADDR TOOLS: until the broker answers a metadata request on ADDR.
wait_plain() {
	local pf=$1 lf=$2 addr=$3 bin=$4
	local deadline=$((SECONDS + ${KAFKA_WAIT:-90}))
	while ((SECONDS < deadline)); do
		if ! alive "$pf"; then
			log "broker exited during start-up; last log lines of $lf:"
			tail -n 30 "$lf" >&2 || true
			exit 1
		fi
		# A metadata request answered by the broker, not just an open port.
		if "$bin/ready" --brokers "$addr" --timeout 2s >/dev/null 2>&1; then return; fi
		sleep 1
	done
	log "broker did not answer on $addr within ${KAFKA_WAIT:-90}s; see $lf"
	exit 1
}

wait_ready() {
	wait_plain "$pidfile" "$logfile" "127.0.0.1:$port" "$home"
	# The secure listener, with the SCRAM user created if this broker lacks it.
	if ! "$home/ready" --brokers "127.0.0.1:$port" --secure "127.0.0.1:$sport" \
		--secure-dir "$secure" --user "$user" --timeout 30s; then
		log "the SASL_SSL listener on 127.0.0.1:$sport does not accept user $user; see $logfile"
		exit 1
	fi
	log "ready on 127.0.0.1:$port (PLAINTEXT) and 127.0.0.1:$sport (SASL_SSL) (pid $(cat "$pidfile"))"
}

up() {
	fetch
	mkdir -p "$home"
	tools "$home"
	local sum
	sum=$("$home/certs" --dir "$secure" --hosts 127.0.0.1,localhost,::1 --user "$user")
	write_props "$props.new" "$sum"
	if running; then
		if cmp -s "$props" "$props.new"; then
			rm -f "$props.new"
			log "already running (pid $(cat "$pidfile"))"
			wait_ready
			return
		fi
		log "settings changed since the broker started (listeners or certificates): restarting it"
		down
	fi
	mv "$props.new" "$props"
	format "$props" "$home/data"
	log "starting broker (heap $heap, log $logfile)"
	launch "$props" "$pidfile" "$logfile" "$heap"
	wait_ready
}

# stop PIDFILE NAME: SIGTERM, up to 30 s, then SIGKILL.
stop() {
	local pf=$1 name=$2
	if ! alive "$pf"; then
		rm -f "$pf"
		log "$name not running"
		return
	fi
	local pid
	pid=$(cat "$pf")
	log "stopping $name (pid $pid)"
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name still alive after 30s: SIGKILL"
		kill -9 "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$pf"
	log "$name stopped"
}

down() { stop "$pidfile" broker; }

secure_env() {
	echo "KUNIQ_SECURE_BROKERS=127.0.0.1:$sport"
	echo "KUNIQ_SECURE_DIR=$secure"
	echo "# kuniq flags: --brokers 127.0.0.1:$sport --tls-ca $secure/ca.pem --sasl-mechanism SCRAM-SHA-512 --sasl-user $user --sasl-password-file $secure/$user.password"
}

# ---- the three-broker cluster ----

node_dir() { echo "$chome/node-$1"; }
node_port() { echo $((cbase + 2 * ($1 - 1))); }
cluster_addrs() {
	local a=() n
	for n in "${nodes[@]}"; do a+=("127.0.0.1:$(node_port "$n")"); done
	local IFS=,
	echo "${a[*]}"
}

write_node_props() {
	local n=$1 dir voters="" m
	dir=$(node_dir "$n")
	for m in "${nodes[@]}"; do voters+="${voters:+,}$m@127.0.0.1:$(($(node_port "$m") + 1))"; done
	mkdir -p "$dir/data"
	cat >"$2" <<PROPS
# Written by scripts/kafka.sh cluster-up; edits are overwritten on the next 'cluster-up'.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(node_port "$n"),CONTROLLER://127.0.0.1:$(($(node_port "$n") + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$(node_port "$n")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# Three brokers: internal topics with three replicas, two of them in sync for a write.
offsets.topic.replication.factor=3
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
# A killed broker is fenced (its partitions get new leaders) after 6 s without a heartbeat
# instead of Kafka's 9 s; still well above a GC pause on this small box.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
$(common_props)
PROPS
}

node_up() {
	local n=$1 dir
	dir=$(node_dir "$n")
	if alive "$dir/kafka.pid"; then return; fi
	format "$dir/server.properties" "$dir/data" "$(cat "$chome/cluster.id")"
	log "starting cluster node $n on 127.0.0.1:$(node_port "$n") (heap $cheap, log $dir/kafka.log)"
	launch "$dir/server.properties" "$dir/kafka.pid" "$dir/kafka.log" "$cheap" "$cjvm"
}

# cluster_wait [NODE...]: until the given nodes answer and all three brokers are registered.
cluster_wait() {
	local n dir
	for n in "$@"; do
		dir=$(node_dir "$n")
		wait_plain "$dir/kafka.pid" "$dir/kafka.log" "127.0.0.1:$(node_port "$n")" "$chome"
	done
	"$chome/ready" --brokers "$(cluster_addrs)" --brokers-want "${#nodes[@]}" --timeout "${KAFKA_WAIT:-90}s"
}

cluster_up() {
	fetch
	mkdir -p "$chome"
	tools "$chome"
	if [[ ! -f $chome/cluster.id ]]; then
		java -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$chome/cluster.id"
	fi
	local n dir started=$SECONDS
	for n in "${nodes[@]}"; do
		dir=$(node_dir "$n")
		write_node_props "$n" "$dir/server.properties.new"
		if alive "$dir/kafka.pid" && ! cmp -s "$dir/server.properties" "$dir/server.properties.new"; then
			log "settings of cluster node $n changed: restarting it"
			stop "$dir/kafka.pid" "cluster node $n"
		fi
		mv "$dir/server.properties.new" "$dir/server.properties"
	done
	# All three at once: none can serve before a quorum of controllers is up.
	for n in "${nodes[@]}"; do node_up "$n"; done
	cluster_wait "${nodes[@]}"
	log "cluster ready on $(cluster_addrs) after $((SECONDS - started))s"
}

cluster_down() {
	local n pf
	# SIGTERM all nodes together (a node stopping alone waits for the others' controller),
	# then wait for each like stop does.
	for n in "${nodes[@]}"; do
		pf="$(node_dir "$n")/kafka.pid"
		if alive "$pf"; then
			log "stopping cluster node $n (pid $(cat "$pf"))"
			kill "$(cat "$pf")" 2>/dev/null || true
		fi
	done
	for n in "${nodes[@]}"; do
		pf="$(node_dir "$n")/kafka.pid"
		if [[ -f $pf ]] && ! alive "$pf"; then
			rm -f "$pf"
			log "cluster node $n stopped"
		else
			stop "$pf" "cluster node $n"
		fi
	done
}

node_kill() {
	local n=$1 pf pid
	pf="$(node_dir "$n")/kafka.pid"
	if ! alive "$pf"; then
		log "cluster node $n is not running"
		return 1
	fi
	pid=$(cat "$pf")
	log "SIGKILL cluster node $n (pid $pid)"
	kill -9 "$pid"
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$pf"
}

cluster_status() {
	local n rc=0 pf
	for n in "${nodes[@]}"; do
		pf="$(node_dir "$n")/kafka.pid"
		if alive "$pf"; then
			echo "node $n 127.0.0.1:$(node_port "$n") running (pid $(cat "$pf"))"
		else
			echo "node $n 127.0.0.1:$(node_port "$n") stopped"
			rc=1
		fi
	done
	return $rc
}

cluster_leader() {
	[[ -x $chome/ready ]] || tools "$chome"
	"$chome/ready" --brokers "$(cluster_addrs)" --leader-of "$1"
}

check_node() {
	case "${1:-}" in 1 | 2 | 3) ;; *) echo "node must be 1, 2 or 3" >&2; exit 2 ;; esac
}

case "${1:-}" in
fetch) fetch ;;
up) up ;;
down) down ;;
logs) cat "$logfile" ;;
status) if running; then echo "running (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
secure) secure_env ;;
wipe) down; rm -rf "$home" ;;
cluster-up) cluster_up ;;
cluster-down) cluster_down ;;
cluster-status) cluster_status ;;
cluster-logs) check_node "${2:-}"; cat "$(node_dir "$2")/kafka.log" ;;
cluster-wipe) cluster_down; rm -rf "$chome" ;;
cluster-node-up) check_node "${2:-}"; [[ -x $chome/ready ]] || tools "$chome"; node_up "$2"; cluster_wait "$2" ;;
cluster-node-kill) check_node "${2:-}"; node_kill "$2" ;;
cluster-leader) cluster_leader "${2:?topic}" ;;
cluster-kill-leader) n=$(cluster_leader "${2:?topic}"); node_kill "$n"; echo "$n" ;;
*)
	echo "usage: $0 fetch|up|down|logs|status|secure|wipe" >&2
	echo "       $0 cluster-up|cluster-down|cluster-status|cluster-wipe|cluster-logs N|cluster-node-up N|cluster-node-kill N|cluster-leader TOPIC|cluster-kill-leader TOPIC" >&2
	exit 2
	;;
esac
