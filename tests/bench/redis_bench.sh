#!/bin/sh
# redis_bench.sh - the shared store (Redis) against the SQLite store, one
# run (called by `make bench` through `make bench-redis`):
#   1. RCPT decision time p50/p99 (COUNT decisions in a row, engine_rcpt)
#      on SQLite, on Redis over loopback, and on Redis with 1 ms more
#      round trip (a delaying proxy in the bench process: this kernel has
#      no netem), and decisions/s of one gateway (THREADS threads, one
#      store);
#   2. decisions/s of two gateways (two processes, each its own store and
#      state file) sharing one Redis, against the one gateway of step 1.
# Starts its own redis-server on a free loopback port (stopped by PID),
# prints a table and writes it to tests/bench/last-results-redis.md.
# Environment: BUILD_DIR, REDIS_BENCH_COUNT (3000), REDIS_BENCH_SLOW_COUNT
# (500), REDIS_BENCH_THREADS (4), REDIS_BENCH_SECONDS (5).
set -eu

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
BIN=$REPO/$BUILD_DIR/bench/redis_bench
case $BUILD_DIR in /*) BIN=$BUILD_DIR/bench/redis_bench ;; esac
COUNT=${REDIS_BENCH_COUNT:-3000}
SLOW=${REDIS_BENCH_SLOW_COUNT:-500}
THREADS=${REDIS_BENCH_THREADS:-4}
SECONDS_=${REDIS_BENCH_SECONDS:-5}
OUT_MD=$REPO/tests/bench/last-results-redis.md

[ -x "$BIN" ] || { echo "redis_bench: $BIN not built" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis_bench: redis-server missing (scripts/deps.sh test)" >&2; exit 1; }

DIR=$(mktemp -d /tmp/mw-redis-bench.XXXXXX)
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$DIR/redis.conf" <<CONF
bind 127.0.0.1
port $PORT
dir $DIR
save ""
appendonly no
logfile $DIR/redis.log
CONF
redis-server "$DIR/redis.conf" </dev/null >/dev/null 2>&1 &
RPID=$!
cleanup() {
	kill "$RPID" 2>/dev/null || true
	wait "$RPID" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
n=0
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -lt 100 ] || { echo "redis_bench: redis-server did not start" >&2; exit 1; }
	sleep 0.1
done

one() { # one NAME ARGS... -> "p50 p99 rate"
	name=$1
	shift
	mkdir -p "$DIR/$name"
	timeout 300 "$BIN" "$DIR/$name" "$@"
}

echo "redis_bench: $COUNT decisions in a row, then $THREADS threads for ${SECONDS_}s, per setup"
sq=$(one sqlite sqlite "$COUNT" "$THREADS" "$SECONDS_")
rl=$(one redis redis "$COUNT" "$THREADS" "$SECONDS_" "127.0.0.1:$PORT" "bench1:")
rs=$(one slow redis "$SLOW" "$THREADS" "$SECONDS_" "127.0.0.1:$PORT" "bench2:" 500)
# two gateways at once, each its own store and state file, one Redis
one gw1 redis 200 "$THREADS" "$SECONDS_" "127.0.0.1:$PORT" "bench3:" >"$DIR/gw1.out" &
p1=$!
one gw2 redis 200 "$THREADS" "$SECONDS_" "127.0.0.1:$PORT" "bench3:" >"$DIR/gw2.out" &
p2=$!
wait $p1
wait $p2
two=$(awk '{s += $3} END {printf "%.0f", s}' "$DIR/gw1.out" "$DIR/gw2.out")

set -- $sq
sq50=$1 sq99=$2 sqr=$3
set -- $rl
rl50=$1 rl99=$2 rlr=$3
set -- $rs
rs50=$1 rs99=$2 rsr=$3
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

{
	echo "# Shared store (Redis) against SQLite: RCPT decisions, one run"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), hiredis $(pkg-config --modversion hiredis)."
	echo "A decision is engine_rcpt(): record the attempt and count the fan-out window, three block lookups"
	echo "(address, domain, registrable domain); with Redis also the write-through to the local SQLite copy."
	echo
	echo "| setup | p50 µs | p99 µs | decisions/s ($THREADS threads, one gateway) |"
	echo "|---|---:|---:|---:|"
	echo "| SQLite only | $sq50 | $sq99 | $sqr |"
	echo "| Redis, loopback | $rl50 | $rl99 | $rlr |"
	echo "| Redis, +1 ms round trip | $rs50 | $rs99 | $rsr |"
	echo
	echo "| ratio | value |"
	echo "|---|---:|"
	echo "| p50 Redis loopback / SQLite | $(ratio "$rl50" "$sq50") |"
	echo "| p50 Redis +1 ms / Redis loopback | $(ratio "$rs50" "$rl50") |"
	echo "| decisions/s two gateways on one Redis / one gateway | $(ratio "$two" "$rlr") ($two vs $rlr) |"
} >"$OUT_MD"
cat "$OUT_MD"
