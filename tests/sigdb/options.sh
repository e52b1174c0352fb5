#!/bin/sh
# options.sh - what libclamav's load options and engine settings save and
# cost, measured on one generated database with tests/sigdb/loadstat
# (one fresh process per setting, so every figure is its own peak).
#
# Usage: tests/sigdb/options.sh LOADSTAT GENDIR [SIGDIR]
# Prints a Markdown table: setting, signatures, load s, engine MB, peak MB,
# and each engine's size as a ratio of the default (CL_DB_STDOPT).
set -eu
LS=${1:?usage: options.sh LOADSTAT GENDIR [SIGDIR]}
GEN=${2:?usage: options.sh LOADSTAT GENDIR [SIGDIR]}
SIGS=${3:-$(cd "$(dirname "$0")/../.." && pwd)/sigs}

echo "| setting | signatures | load s | engine MB | peak MB | engine / default |"
echo "|---|---|---|---|---|---|"
base=""
for o in std std,pua std,nophish std,nobytecode std,nocache std,acdepth=2:2 std,acdepth=3:3 std,aconly; do
	line=$("$LS" -o "$o" "$SIGS" "$GEN") || { echo "| $o | failed | | | | |"; continue; }
	eval "$(echo "$line" | tr ' ' '\n' | grep -E '^(sigs|load_s|compile_s|engine_kb|hwm_kb|rss0_kb)=' | sed 's/^/v_/')"
	[ -n "$base" ] || base=$v_engine_kb
	awk -v o="$o" -v s="$v_sigs" -v l="$v_load_s" -v c="$v_compile_s" -v e="$v_engine_kb" -v h="$v_hwm_kb" \
		-v r0="$v_rss0_kb" -v b="$base" \
		'BEGIN { printf "| %s | %d | %.1f | %.0f | %.0f | %.3f |\n", o, s, l + c, e / 1024, (h - r0) / 1024, e / b }'
done
