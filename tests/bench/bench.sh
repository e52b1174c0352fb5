#!/bin/sh
# bench.sh - throughput, latency and memory of the real path, with and
# without the milter, all measured in one run (called by `make bench`).
#
# Starts a private lab (scripts/lab.sh) in a temporary RUN_DIR on its own
# ports (beside `make run`), then for ROUNDS rounds interleaves the modes
# MILTER=none (Postfix alone: the ceiling), unix and inet, switching only
# the milter part between runs (lab.sh restart-milter).  Per run:
#   - smtp-source -s SESSIONS -m MESSAGES -l SIZE: accepted messages/s
#   - latency.py: COUNT messages over one session, DATA->250 p50/p95 and
#     single-session messages/s
#   - the daemon's peak RSS (VmHWM from /proc/PID/status)
#   - delivered count at the sink and the verdict header on delivered mail
# Then one BIG_MB (50) MB message through the unix milter: RSS delta.
# Prints a table and writes it to tests/bench/last-results.md.
# Bounded: every client under `timeout`, rounds skipped past BENCH_BUDGET s.
#
# Environment: BUILD_DIR, BENCH_MESSAGES (2000), BENCH_SESSIONS (20),
# BENCH_SIZE (2048), BENCH_PROBE (200), BENCH_ROUNDS (2), BENCH_BIG_MB (50),
# BENCH_PORT_BASE (2545: lab, +1 sink, +2 inet milter), BENCH_BUDGET (150),
# BENCH_MODES ("none unix inet"), BENCH_KEEP=1 keeps the RUN_DIR.
set -eu

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
MESSAGES=${BENCH_MESSAGES:-2000}
SESSIONS=${BENCH_SESSIONS:-20}
SIZE=${BENCH_SIZE:-2048}
PROBE=${BENCH_PROBE:-200}
ROUNDS=${BENCH_ROUNDS:-2}
BIG_MB=${BENCH_BIG_MB:-50}
BASE=${BENCH_PORT_BASE:-2545}
BUDGET=${BENCH_BUDGET:-150}
MODES=${BENCH_MODES:-none unix inet}
PY=/usr/bin/python3
LAB="sh $REPO/scripts/lab.sh"
OUT_MD=$REPO/tests/bench/last-results.md

[ "$(id -u)" = 0 ] || { echo "bench: needs root (private Postfix)" >&2; exit 1; }

RUN_DIR=$(mktemp -d /tmp/mw-bench.XXXXXX)
chmod 0755 "$RUN_DIR"
LAB_PORT=$BASE
SINK_PORT=$((BASE + 1))
MILTER_INET_PORT=$((BASE + 2))
SIGS_DIR=$REPO/sigs
# The big-message run must be scanned, not refused as msg.too_big (50M).
MW_ARGS="${MW_ARGS:-} -o limits.max_message_size=100M"
export RUN_DIR LAB_PORT SINK_PORT MILTER_INET_PORT SIGS_DIR MW_ARGS
RES=$RUN_DIR/results.tsv
: >"$RES"

cleanup() {
	$LAB stop >/dev/null 2>&1 || true
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "bench: RUN_DIR kept: $RUN_DIR"
	else
		rm -rf "$RUN_DIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START=$(date +%s)
elapsed() { echo $(($(date +%s) - START)); }

sink_count() { find "$RUN_DIR/sink" -name 'msg.*' -type f 2>/dev/null | wc -l; }

# wait_drained - nothing queued but held mail (bounded: 120 s)
wait_drained() {
	n=0
	while [ "$(postqueue -c "$RUN_DIR/postfix/etc" -j 2>/dev/null | grep -vc '"queue_name": *"hold"')" != 0 ]; do
		n=$((n + 1))
		if [ $n -gt 600 ]; then
			echo "bench: Postfix queue not drained after 120 s" >&2
			return 1
		fi
		sleep 0.2
	done
}

milter_pid() {
	p=$(cat "$RUN_DIR/pid/mailwardend.pid" 2>/dev/null || true)
	[ -n "$p" ] && [ -r "/proc/$p/status" ] && echo "$p"
	return 0
}

status_kb() { # status_kb PID FIELD
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

echo "bench: lab in $RUN_DIR, ports $LAB_PORT/$SINK_PORT/$MILTER_INET_PORT"
MILTER=none $LAB start >/dev/null

run_mode() { # run_mode MODE ROUND
	mode=$1
	MILTER=$mode $LAB restart-milter >/dev/null
	sleep 1 # let Postfix's reload retire the old smtpd processes
	before=$(sink_count)
	t0=$(date +%s.%N)
	rc=0
	timeout 180 smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" \
		-f bench@sender.example -t rcpt@example.com -M bench.example \
		"127.0.0.1:$LAB_PORT" >"$RUN_DIR/source.out" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	[ $rc = 0 ] || { echo "bench: smtp-source ($mode) exited $rc:" >&2; tail -n 5 "$RUN_DIR/source.out" >&2; }
	probe=$(timeout 180 $PY "$REPO/tests/bench/latency.py" --port "$LAB_PORT" \
		--count "$PROBE" --size "$SIZE") || probe='{}'
	wait_drained || true
	delivered=$(($(sink_count) - before))
	hwm=0
	pid=$(milter_pid)
	[ -n "$pid" ] && hwm=$(status_kb "$pid" VmHWM)
	newest=$(ls -t "$RUN_DIR"/sink/msg.* 2>/dev/null | head -n 1)
	hdr=no
	[ -n "$newest" ] && grep -q '^X-Mailwarden-Verdict:' "$newest" && hdr=yes
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$2" "$t0" "$t1" \
		"$delivered" "$hwm" "$hdr" "$rc" "$probe" >>"$RES"
	echo "bench: round $2 $mode: $(echo "$t0 $t1" | awk -v m="$MESSAGES" '{printf "%.0f msg/s", m / ($2 - $1)}'), delivered $delivered, header $hdr, probe $probe"
}

r=1
while [ $r -le "$ROUNDS" ]; do
	if [ $r -gt 1 ] && [ "$(elapsed)" -gt "$BUDGET" ]; then
		echo "bench: time budget ${BUDGET}s used, skipping rounds $r..$ROUNDS"
		break
	fi
	for mode in $MODES; do
		run_mode "$mode" "$r"
	done
	r=$((r + 1))
done

# One big message through the unix milter: how much does RSS grow?
MILTER=unix $LAB restart-milter >/dev/null
sleep 1
pid=$(milter_pid)
rss0=$(status_kb "$pid" VmRSS)
big=$(timeout 300 $PY "$REPO/tests/bench/latency.py" --port "$LAB_PORT" --big "$BIG_MB" --pid "$pid") || big='{}'
hwm1=$(status_kb "$pid" VmHWM 2>/dev/null || echo 0)
printf 'big\t%s\t%s\t%s\t%s\n' "$BIG_MB" "$rss0" "$hwm1" "$big" >"$RUN_DIR/big.tsv"
wait_drained || true
echo "bench: big message: $big, RSS before ${rss0} kB, peak after ${hwm1} kB"
# The same attachment size scanned by libclamav alone (no mailwardend):
# what of the growth is libclamav's own (tests/bench/clamav_rss.c).
head -c $((BIG_MB * 1024 * 1024 * 3 / 4)) /dev/urandom >"$RUN_DIR/big.bin"
case $BUILD_DIR in /*) cr=$BUILD_DIR ;; *) cr=$REPO/$BUILD_DIR ;; esac
clam=$("$cr/bench/clamav_rss" "$REPO/sigs" "$RUN_DIR/big.bin" 2>&1) || true
rm -f "$RUN_DIR/big.bin"
echo "bench: libclamav alone on the same size: $clam"
printf 'clam\t%s\n' "$clam" >>"$RUN_DIR/big.tsv"

# The campaign workload: RCPT reply times with and without the milter.
camp_unix=$(timeout 300 $PY "$REPO/tests/bench/campaign.py" --port "$LAB_PORT") || camp_unix='{}'
MILTER=none $LAB restart-milter >/dev/null
sleep 1
camp_none=$(timeout 300 $PY "$REPO/tests/bench/campaign.py" --port "$LAB_PORT") || camp_none='{}'
wait_drained || true
echo "bench: campaign workload, milter: $camp_unix"
echo "bench: campaign workload, no milter: $camp_none"
printf 'campaign with mailwardend (unix): `%s`\n\ncampaign without a milter: `%s`\n' "$camp_unix" "$camp_none" >"$RUN_DIR/campaign.md"

$PY - "$RES" "$RUN_DIR/big.tsv" "$OUT_MD" "$MESSAGES" "$SESSIONS" "$SIZE" "$PROBE" "$(elapsed)" <<'PY'
import json, os, platform, statistics, sys, time
res, bigf, out, messages, sessions, size, probe, elapsed = sys.argv[1:]
messages = int(messages)
rows = {}
for line in open(res):
    mode, rnd, t0, t1, delivered, hwm, hdr, rc, pj = line.rstrip("\n").split("\t", 8)
    p = json.loads(pj or "{}")
    r = rows.setdefault(mode, {"tput": [], "p50": [], "p95": [], "seq": [], "hwm": [],
                               "delivered": [], "hdr": set(), "rc": set(), "errors": 0})
    r["tput"].append(messages / (float(t1) - float(t0)))
    for k, jk in (("p50", "p50_ms"), ("p95", "p95_ms"), ("seq", "msgs_per_s")):
        if p.get(jk) is not None:
            r[k].append(p[jk])
    r["errors"] += p.get("errors", 0) or 0
    r["hwm"].append(int(hwm or 0))
    r["delivered"].append(int(delivered))
    r["hdr"].add(hdr)
    r["rc"].add(rc)

def med(v):
    return statistics.median(v) if v else float("nan")

base = rows.get("none")
lines = []
lines.append("# Mailwarden bench, %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
lines.append("")
lines.append("Host: %s, %d CPUs, %s. Lab: private Postfix on 127.0.0.1 -> smtp-sink; "
             "modes interleaved in one run (%s s). Medians over rounds." %
             (platform.node(), os.cpu_count(), platform.release(), elapsed))
lines.append("Throughput: smtp-source -s %s -m %d -l %s (accepted msg/s as the client sees it). "
             "Latency: %s messages over one session, DATA->250." % (sessions, messages, size, probe))
lines.append("")
lines.append("| mode | rounds | msg/s (%s sessions) | vs none | msg/s (1 session) | p50 ms | p95 ms | p50 vs none | daemon peak RSS | delivered/run | verdict header | errors |" % sessions)
lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
for mode in ("none", "unix", "inet"):
    r = rows.get(mode)
    if not r:
        continue
    t, p50 = med(r["tput"]), med(r["p50"])
    ratio = "%.2f" % (t / med(base["tput"])) if base else "-"
    lratio = "%.2f" % (p50 / med(base["p50"])) if base and base["p50"] else "-"
    rss = "-" if mode == "none" else "%.1f MB" % (max(r["hwm"]) / 1024.0)
    lines.append("| %s | %d | %.0f | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s | %d%s |" % (
        mode, len(r["tput"]), t, ratio, med(r["seq"]), p50, med(r["p95"]), lratio, rss,
        "/".join(str(d) for d in r["delivered"]), ",".join(sorted(r["hdr"])),
        r["errors"], "" if r["rc"] == {"0"} else " (smtp-source rc %s)" % ",".join(sorted(r["rc"]))))
lines.append("")
for line in open(bigf):
    if line.startswith("clam\t"):
        lines.append("The same attachment size (%d bytes of random data) scanned by libclamav alone, "
                     "tests/bench/clamav_rss.c: %s" % (int(mb) * 1024 * 1024 * 3 // 4, line[5:].strip()))
        continue
    _, mb, rss0, hwm1, bj = line.rstrip("\n").split("\t", 4)
    b = json.loads(bj or "{}")
    delta = (int(hwm1 or 0) - int(rss0 or 0)) / 1024.0
    lines.append("Big message (unix milter): %s MB message (%s bytes on the wire), reply %s %s in %.1f s; "
                 "daemon RSS before %.1f MB, peak (VmHWM) after %.1f MB: delta %.1f MB." % (
                     mb, b.get("bytes", "?"), b.get("code", "?"), b.get("reply", ""),
                     b.get("seconds", float("nan")), int(rss0 or 0) / 1024.0,
                     int(hwm1 or 0) / 1024.0, delta))
    base, peak = b.get("base_kb") or {}, b.get("peak_kb") or {}
    if peak:
        def d(k):
            return (peak.get(k, 0) - base.get(k, 0)) / 1024.0
        lines.append("Sampled every 10 ms during that message: RssAnon (heap) +%.1f MB "
                     "(peak %.1f MB), RssFile (mapped files, page cache) +%.1f MB (peak %.1f MB)." % (
                         d("RssAnon"), peak.get("RssAnon", 0) / 1024.0,
                         d("RssFile"), peak.get("RssFile", 0) / 1024.0))
text = "\n".join(lines) + "\n"
sys.stdout.write("\n" + text)
with open(out, "w") as f:
    f.write(text)
PY
{ echo; echo "Campaign workload (tests/bench/campaign.py: 30 RCPTs from one free-mail sender, 10 rotated"
  echo "senders replaying the template, 300 ordinary messages; RCPT reply times as the client sees them):"
  echo; cat "$RUN_DIR/campaign.md"; } >>"$OUT_MD"
echo "bench: written to $OUT_MD ($(elapsed) s)"
