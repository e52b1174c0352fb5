#!/bin/sh
# bench.sh - the signature database on the real daemon (issue 17), one run:
#   - per scale (SIGDB_SCALES, default "0.25 0.5 1.0" of 2 M MD5 + 3 M SHA-256
#     hashes + 150,000 body signatures, tests/sigdb/gen.py): mailwardend's
#     load time and resident memory (VmRSS after the load; the engine's
#     share as the daemon measured it), and the database on disk;
#   - at the largest scale, one SIGHUP reload per mode
#     (antivirus.reload_mode swap, inplace): the daemon's peak RSS during
#     the reload (VmRSS sampled every 20 ms) over its steady RSS, and how
#     long mail was deferred (from the daemon's log);
#   - the options table (tests/sigdb/options.sh, libclamav alone) at
#     SIGDB_OPTIONS_SCALE (0.25).
# Writes Markdown to tests/sigdb/RESULTS.md (or SIGDB_OUT) and stdout.
#
# Environment: BUILD_DIR (build), SIGDB_SCALES, SIGDB_CACHE (generated
# databases, default $BUILD_DIR/sigdb-cache), SIGDB_OPTIONS_SCALE,
# SIGDB_OUT, SIGDB_PORT_BASE (2561: lab, +1 sink), SIGDB_KEEP=1 keeps the
# lab's RUN_DIR.
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
SCALES=${SIGDB_SCALES:-0.25 0.5 1.0}
CACHE=${SIGDB_CACHE:-$REPO/$BUILD_DIR/sigdb-cache}
OPT_SCALE=${SIGDB_OPTIONS_SCALE:-0.25}
OUT=${SIGDB_OUT:-$REPO/tests/sigdb/RESULTS.md}
BASE=${SIGDB_PORT_BASE:-2561}
PY=/usr/bin/python3
LAB="sh $REPO/scripts/lab.sh"
[ "$(id -u)" = 0 ] || { echo "sigdb bench: needs root (private Postfix)" >&2; exit 1; }

RUN_DIR=$(mktemp -d /tmp/mw-sigdb-bench.XXXXXX)
chmod 0755 "$RUN_DIR"
export RUN_DIR
cleanup() {
	$LAB stop >/dev/null 2>&1 || true
	[ -n "${SIGDB_KEEP:-}" ] && echo "sigdb bench: RUN_DIR kept: $RUN_DIR" || rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gen() { # gen SCALE -> prints the directory (cached)
	d=$CACHE/scale-$1
	if [ ! -f "$d/mwgen.about" ]; then
		mkdir -p "$CACHE"
		$PY tests/sigdb/gen.py --scale "$1" "$d" >&2
	fi
	echo "$d"
}

milter_pid() { cat "$RUN_DIR/pid/mailwardend.pid"; }
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
log() { cat "$RUN_DIR/log/mailwardend.log"; }

# start_with SIGS MODE - a fresh daemon on SIGS with reload_mode MODE; echoes load seconds
start_with() {
	$LAB stop >/dev/null 2>&1 || true
	rm -rf "$RUN_DIR/log" "$RUN_DIR/mailwarden/state"
	SIGS_DIR=$1 MW_ARGS="-o antivirus.reload_mode=$2" LAB_WAIT_TENTHS=6000 \
		LAB_PORT=$BASE SINK_PORT=$((BASE + 1)) $LAB start >/dev/null 2>&1 || true
	log | sed -n 's/.*signatures: \([0-9]*\) signatures, engine ~\([0-9]*\) MB, loaded in \([0-9.]*\) s.*/\1 \2 \3/p' | tail -n 1
}

sigs_for() { # sigs_for SCALE -> a signature directory: sigs/ + the generated set (links)
	d=$RUN_DIR/sigs-$1
	rm -rf "$d"
	mkdir -p "$d"
	cp sigs/*.ndb "$d/"
	for f in "$(gen "$1")"/mwgen.*; do ln "$f" "$d/" 2>/dev/null || cp "$f" "$d/"; done
	chmod -R a+rX "$d"
	echo "$d"
}

# reload_peak MODE - HUP and sample VmRSS until the reload is logged; "peak_kb steady_kb deferred_s"
reload_peak() {
	pid=$(milter_pid)
	steady=$(rss_kb "$pid")
	before=$(log | wc -l)
	kill -HUP "$pid"
	peak=$steady
	n=0
	while [ $n -lt 60000 ]; do
		r=$(rss_kb "$pid" 2>/dev/null || echo 0)
		[ "$r" -gt "$peak" ] && peak=$r
		if log | tail -n +"$((before + 1))" | grep -q 'signatures: [0-9]* signatures, engine'; then break; fi
		sleep 0.02
		n=$((n + 1))
	done
	def=$(log | tail -n +"$((before + 1))" | sed -n 's/.*mail was deferred for \([0-9.]*\) s.*/\1/p' | tail -n 1)
	echo "$peak $steady ${def:-0}"
}

PORTS_NOTE="(lab: Postfix on loopback, mailwardend, sink)"
{
	echo "# Signature database on the real daemon (tests/sigdb/bench.sh)"
	echo
	echo "$(date -u '+%F %T') UTC, $(uname -m), $(nproc) CPUs shared with other work, libclamav $(pkg-config --modversion libclamav) $PORTS_NOTE."
	echo
	echo "## Load time and memory by database size"
	echo
	echo "| scale | signatures | files MB | load s | daemon RSS MB | engine MB (daemon's measure) | RSS / RSS at 1.0 |"
	echo "|---|---|---|---|---|---|---|"
} >"$RUN_DIR/out.md"

last_sigs=""
rows=""
for s in $SCALES; do
	sd=$(sigs_for "$s")
	res=$(start_with "$sd" auto)
	set -- $res
	pid=$(milter_pid)
	rss=$(rss_kb "$pid")
	mb=$(du -Lsm "$sd" | awk '{print $1}')
	rows="$rows$s $1 $mb $3 $rss $2
"
	last_sigs=$sd
	echo "sigdb bench: scale $s: $1 signatures, load $3 s, RSS $((rss / 1024)) MB" >&2
done
top=$(echo "$rows" | awk 'NF {r = $5} END {print r}')
echo "$rows" | awk -v top="$top" 'NF { printf "| %s | %d | %d | %.1f | %.0f | %d | %.2f |\n", $1, $2, $3, $4, $5 / 1024, $6, $5 / top }' >>"$RUN_DIR/out.md"

{
	echo
	echo "## Reload at the largest scale, each mode"
	echo
	echo "| reload_mode | steady RSS MB | peak RSS MB during reload | peak / steady | mail deferred s |"
	echo "|---|---|---|---|---|"
} >>"$RUN_DIR/out.md"
for mode in swap inplace; do
	start_with "$last_sigs" "$mode" >/dev/null
	set -- $(reload_peak "$mode")
	awk -v m="$mode" -v p="$1" -v st="$2" -v d="$3" \
		'BEGIN { printf "| %s | %.0f | %.0f | %.2f | %.1f |\n", m, st / 1024, p / 1024, p / st, d }' >>"$RUN_DIR/out.md"
	echo "sigdb bench: reload $mode: peak $(($1 / 1024)) MB over steady $(($2 / 1024)) MB, deferred $3 s" >&2
done
$LAB stop >/dev/null 2>&1 || true

{
	echo
	echo "## libclamav load options and engine settings (scale $OPT_SCALE, libclamav alone)"
	echo
	if [ -x "$BUILD_DIR/sigdb/loadstat" ]; then
		sh tests/sigdb/options.sh "$BUILD_DIR/sigdb/loadstat" "$(gen "$OPT_SCALE")"
	else
		echo "($BUILD_DIR/sigdb/loadstat not built)"
	fi
} >>"$RUN_DIR/out.md"
cp "$RUN_DIR/out.md" "$OUT"
cat "$OUT"
