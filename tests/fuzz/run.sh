#!/bin/sh
# NAME
#	run.sh - run libFuzzer targets for a while each
# SYNOPSIS
#	sh tests/fuzz/run.sh SECONDS BIN...
# DESCRIPTION
#	Each BIN (e.g. build/fuzz/fuzz_mime) runs with -max_total_time=SECONDS
#	on the corpus tests/fuzz/corpus/NAME/ (created; its contents are not
#	committed), seeded from tests/fuzz/seeds/NAME/ and, for fuzz_mime,
#	from tests/samples/*.eml.  A target passes when libFuzzer exits 0 (no
#	crash, leak, timeout or out-of-memory).  The log and any crash inputs
#	are left in tests/fuzz/corpus/NAME.out/ (not committed); copy a crash
#	input to tests/fuzz/seeds/NAME/ as a regression seed once fixed.
# DIAGNOSTICS
#	Ends with "N passed, N failed"; exits 1 if any target failed.
# LICENSE
#	GPL-2.0-or-later
secs=${1:?usage: run.sh SECONDS BIN...}
shift
[ $# -gt 0 ] || { echo "usage: run.sh SECONDS BIN..." >&2; exit 2; }
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0
fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus="$top/tests/fuzz/corpus/$name"
	crashdir="$top/tests/fuzz/corpus/$name.out"
	mkdir -p "$corpus" "$crashdir"
	seeds=""
	[ -d "$top/tests/fuzz/seeds/$name" ] && seeds="$top/tests/fuzz/seeds/$name"
	if [ "$name" = fuzz_mime ]; then
		for f in "$top"/tests/samples/*.eml; do
			[ -f "$f" ] && cp -n "$f" "$corpus/" 2>/dev/null
		done
	fi
	log="$crashdir/fuzz.log"
	# shellcheck disable=SC2086
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$crashdir/" -print_final_stats=1 "$corpus" $seeds >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "passed $name (${execs:-?} execs)"
		pass=$((pass + 1))
	else
		echo "FAILED $name (see $log, artifacts in $crashdir)"
		grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -5
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
