#!/bin/sh
# options.sh - what libclamav's load options and engine settings save and
# cost, measured on one generated database with tests/sigdb/loadstat
# (one fresh process per setting, so every figure is its own peak).
#
# Usage: tests/sigdb/options.sh LOADSTAT GENDIR [SIGDIR]
# Prints a Markdown table: setting, signatures, load s, engine MB, peak MB,
# each engine's size as a ratio of the default (CL_DB_STDOPT), and the CPU
# ms of one in-memory scan of three 200 KB files (random bytes, an ELF
# executable, HTML text), each as a ratio of the default's.
set -eu
LS=${1:?usage: options.sh LOADSTAT GENDIR [SIGDIR]}
GEN=${2:?usage: options.sh LOADSTAT GENDIR [SIGDIR]}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
SIGS=${3:-$REPO/sigs}
ROUNDS=${OPTIONS_ROUNDS:-30}
W=$(mktemp -d /tmp/mw-sigdb-opts.XXXXXX)
trap 'rm -rf "$W"' EXIT
head -c 204800 /dev/urandom >"$W/random.bin"
# an executable of the build host, cut or padded to 200 KB
{ cat /bin/ls /bin/ls; head -c 204800 /dev/zero; } | head -c 204800 >"$W/elf.bin"
python3 - "$W/page.html" <<'PY'
import random, sys
r = random.Random(7)
words = ["mail", "pension", "report", "schedule", "invoice", "meeting", "record", "office", "notice"]
out = ["<html><head><title>report</title></head><body>"]
while sum(len(x) for x in out) < 204800:
    out.append('<p class="c%d">%s <a href="https://www.example.com/%s">%s</a></p>\n' %
               (r.randrange(9), " ".join(r.choice(words) for _ in range(12)), r.choice(words), r.choice(words)))
out.append("</body></html>\n")
open(sys.argv[1], "w").write("".join(out)[:204800])
PY

echo "| setting | signatures | load s | engine MB | peak MB | engine / default | scan random / default | scan ELF / default | scan HTML / default |"
echo "|---|---|---|---|---|---|---|---|---|"
base=""
for o in std std,pua std,nophish std,nobytecode std,nocache std,acdepth=2:2 std,acdepth=3:3 std,aconly; do
	line=$("$LS" -o "$o" -r "$ROUNDS" -s "$W/random.bin" -s "$W/elf.bin" -s "$W/page.html" "$SIGS" "$GEN" 2>/dev/null) ||
		{ echo "| $o | does not load | | | | | | | |"; continue; }
	eval "$(echo "$line" | tr ' ' '\n' | grep -E '^(sigs|load_s|compile_s|engine_kb|hwm_kb|rss0_kb|scan[0-9]_ms)=' | sed 's/^/v_/')"
	if [ -z "$base" ]; then
		base=$v_engine_kb
		b0=$v_scan0_ms b1=$v_scan1_ms b2=$v_scan2_ms
	fi
	awk -v o="$o" -v s="$v_sigs" -v l="$v_load_s" -v c="$v_compile_s" -v e="$v_engine_kb" -v h="$v_hwm_kb" \
		-v r0="$v_rss0_kb" -v b="$base" -v s0="$v_scan0_ms" -v s1="$v_scan1_ms" -v s2="$v_scan2_ms" \
		-v b0="$b0" -v b1="$b1" -v b2="$b2" \
		'BEGIN { printf "| %s | %d | %.1f | %.0f | %.0f | %.3f | %.2f (%.1f ms) | %.2f (%.1f ms) | %.2f (%.1f ms) |\n",
		  o, s, l + c, e / 1024, (h - r0) / 1024, e / b, s0 / b0, s0, s1 / b1, s1, s2 / b2, s2 }'
done
