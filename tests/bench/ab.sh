#!/bin/sh
# NAME
#	ab.sh - two mailwardend binaries, same lab, interleaved: CPU per message
# SYNOPSIS
#	sh tests/bench/ab.sh A_BINARY B_BINARY
#	sh tests/bench/ab.sh none B_BINARY	(A: Postfix without a milter)
# DESCRIPTION
#	Starts one private lab (scripts/lab.sh, Postfix on 127.0.0.1, unix
#	milter socket) in a temporary RUN_DIR and, for AB_ROUNDS rounds,
#	restarts the milter with binary A, then B, and sends AB_MESSAGES plain
#	AB_SIZE-byte messages over AB_SESSIONS sessions (smtp-source).  Per
#	run it reads, before and after the send:
#	  - /proc/stat: CPU time of the whole machine (client, Postfix, the
#	    milter, the sink: what a milter really costs the box);
#	  - /proc/PID/stat and /proc/PID/task/*/status of mailwardend: its
#	    CPU time and context switches.
#	and prints one line per run and the medians per binary: msg/s, machine
#	CPU ms per message, mailwardend CPU ms per message, mailwardend
#	context switches per message.  CPU per message is much less noisy
#	than msg/s on a shared machine.  Bounded: AB_ROUNDS x 2 runs, each
#	killed after 180 s.
#	AB_MAIL=attach sends, instead, messages with a 200 KB PDF-like
#	attachment, different bytes in each (tests/bench/ab_send.py), from
#	known correspondents; AB_MAIL=attach-same the same attachment in
#	every message (as make bench-peers sends it).  AB_SIGDB_SCALE=S loads the realistic
#	generated database (tests/sigdb/gen.py at scale S, cached in
#	BUILD_DIR/sigdb-cache) beside sigs/: the cost of a real deployment's
#	signatures, not of a test set of two.
# ENVIRONMENT
#	AB_ROUNDS (3), AB_MESSAGES (2000; 200 with AB_MAIL=attach),
#	AB_SESSIONS (20; 10 with attach), AB_SIZE (2048), AB_MAIL (plain),
#	AB_SIGDB_SCALE (0), BUILD_DIR (build), AB_PORT_BASE (2585: lab,
#	+1 sink), AB_PERF (unset: a file name; perf record -g of binary B
#	during its measured sends, one file per round: FILE.ROUND),
#	AB_FRESH_STATE (0; 1: each run starts from an empty state directory,
#	so two binaries with different store schemas can be compared: an
#	older one refuses a database a newer one has migrated).
# LICENSE
#	GPL-2.0-or-later
set -eu
A=${1:?usage: ab.sh A_BINARY B_BINARY}
B=${2:?usage: ab.sh A_BINARY B_BINARY}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${AB_ROUNDS:-3}
MAIL=${AB_MAIL:-plain}
case $MAIL in
plain) MESSAGES=${AB_MESSAGES:-2000} SESSIONS=${AB_SESSIONS:-20} WARM=100 ;;
attach | attach-same) MESSAGES=${AB_MESSAGES:-200} SESSIONS=${AB_SESSIONS:-10} WARM=20 ;;
*) echo "ab.sh: AB_MAIL must be plain, attach or attach-same" >&2; exit 2 ;;
esac
SIZE=${AB_SIZE:-2048}
BASE=${AB_PORT_BASE:-2585}
SCALE=${AB_SIGDB_SCALE:-0}
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO/$BUILD_DIR ;; esac
LAB="sh $REPO/scripts/lab.sh"
RUN_DIR=$(mktemp -d /tmp/mw-ab.XXXXXX)
chmod 755 "$RUN_DIR"
export RUN_DIR LAB_PORT=$BASE SINK_PORT=$((BASE + 1)) MILTER=unix
OUT=$RUN_DIR/ab.tsv
: >"$OUT"
cleanup() {
	$LAB stop >/dev/null 2>&1 || true
	rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$SCALE" != 0 ]; then
	gen=$BUILD_DIR/sigdb-cache/scale-$SCALE
	[ -f "$gen/mwgen.about" ] || /usr/bin/python3 "$REPO/tests/sigdb/gen.py" --scale "$SCALE" "$gen" >/dev/null
	mkdir -p "$RUN_DIR/sigs"
	cp "$REPO"/sigs/* "$gen"/mwgen.* "$RUN_DIR/sigs/"
	chmod -R a+rX "$RUN_DIR/sigs"
	export SIGS_DIR="$RUN_DIR/sigs"
	echo "ab: realistic database, scale $SCALE ($(sed -n 's/^signatures=//p' "$gen/mwgen.about") signatures)"
fi
# send N SESSIONS: one load of the chosen mail (bounded: 180 s)
send() {
	if [ "$MAIL" = plain ]; then
		timeout 180 smtp-source -s "$2" -m "$1" -l "$SIZE" -f ab@sender.example -t rcpt@example.com \
			"127.0.0.1:$BASE" >/dev/null 2>&1 || true
	else
		timeout 180 /usr/bin/python3 "$REPO/tests/bench/ab_send.py" "$BASE" "$MAIL" "$1" "$2" ${3:-} ||
			echo "ab: some messages were not accepted (see above)" >&2
	fi
}

busy_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
pid_ticks() { [ "$1" = self ] && echo 0 || awk '{print $14 + $15}' "/proc/$1/stat"; }
pid_ctxsw() {
	[ "$1" = self ] && { echo 0; return; }
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/^(non)?voluntary_ctxt_switches:/ {n += $2} END {print n + 0}'
}

if [ "$A" = none ]; then
	MAILWARDEND=$B $LAB start >/dev/null
else
	MAILWARDEND=$A $LAB start >/dev/null
fi
r=1
while [ $r -le "$ROUNDS" ]; do
	for v in A B; do
		bin=$A
		[ $v = B ] && bin=$B
		if [ "${AB_FRESH_STATE:-0}" = 1 ] && [ "$bin" != none ]; then
			$LAB stop-milter >/dev/null
			rm -rf "$RUN_DIR/mailwarden/state"
		fi
		if [ "$bin" = none ]; then
			MILTER=none $LAB restart-milter >/dev/null
			pid=self
		else
			MILTER=unix MAILWARDEND=$bin $LAB restart-milter >/dev/null
			pid=$(cat "$RUN_DIR/pid/mailwardend.pid")
		fi
		sleep 1
		# warm up: signatures loaded, Postfix processes started
		send "$WARM" 5 --warm
		sleep 1
		perf_pid=
		if [ -n "${AB_PERF:-}" ] && [ $v = B ] && [ "$pid" != self ]; then
			perf record -q -g -p "$pid" -o "$AB_PERF.$r" >/dev/null 2>&1 &
			perf_pid=$!
			sleep 1
		fi
		m0=$(busy_ticks) p0=$(pid_ticks "$pid") c0=$(pid_ctxsw "$pid") t0=$(date +%s.%N)
		send "$MESSAGES" "$SESSIONS"
		if [ -n "$perf_pid" ]; then
			kill -INT "$perf_pid" 2>/dev/null || true
			wait "$perf_pid" 2>/dev/null || true
		fi
		t1=$(date +%s.%N) m1=$(busy_ticks) p1=$(pid_ticks "$pid") c1=$(pid_ctxsw "$pid")
		hz=$(getconf CLK_TCK)
		echo "$v $t0 $t1 $m0 $m1 $p0 $p1 $c0 $c1 $hz" |
			awk -v n="$MESSAGES" '{d = $3 - $2; printf "%s\t%.1f\t%.2f\t%.2f\t%.1f\n", $1, n / d,
				($5 - $4) * 1000 / $10 / n, ($7 - $6) * 1000 / $10 / n, ($9 - $8) / n}' >>"$OUT"
		tail -n 1 "$OUT" | awk -v r=$r '{printf "ab: round %d %s: %s msg/s, machine CPU %s ms/msg, mailwardend CPU %s ms/msg, %s context switches/msg\n", r, $1, $2, $3, $4, $5}'
	done
	r=$((r + 1))
done
python3 - "$OUT" "$A" "$B" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
med = {}
for v in ("A", "B"):
    cols = [[float(x) for x in r[1:]] for r in rows if r[0] == v]
    med[v] = [statistics.median(c) for c in zip(*cols)]
names = ("msg/s", "machine CPU ms/msg", "mailwardend CPU ms/msg", "mailwardend ctx switches/msg")
print("ab: medians over %d rounds; A = %s, B = %s" % (len(rows) // 2, sys.argv[2], sys.argv[3]))
print("| measure | A | B | B / A |")
print("|---|---|---|---|")
for i, n in enumerate(names):
    a, b = med["A"][i], med["B"][i]
    print("| %s | %.2f | %.2f | %s |" % (n, a, b, "%.2f" % (b / a) if a else "-"))
PY
