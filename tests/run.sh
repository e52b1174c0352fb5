#!/bin/sh
# run.sh - the whole test suite, called by `make test` after the build:
#   (0) tests/layers.py: the include graph of src/ (no circle, no arrow up),
#   (a) every unit test binary $BUILD_DIR/tests/*_test (cmocka),
#   (b) tests/unit/mime_ref.sh (parser input/expected-output pairs), if present,
#   (b2) tests/benign/run.py: the benign mail set through `mailwarden scan`
#       (zero false positives; prints the hold.first_contact share),
#   (c) tests/miltertest/run.sh (scripted milter sessions, real daemon),
#   (d) pytest tests/integration, once per MTA: "integration[postfix]"
#       (every test) and "integration[sendmail]" (the tests that go
#       through the lab again, with a private Sendmail: docs/sendmail.md),
#       counted separately.
# Sums passed/failed over the suites and ends with the line
# "N passed, N failed".  Exits non-zero if anything failed, or if nothing
# passed at all (no tests collected is a failure).
#
# Environment: BUILD_DIR (default build); SUITES (default "layers unit ref
# benign milter integration") to run a subset; PYTEST_ARGS extra pytest arguments;
# MW_IT_MTAS (default "postfix sendmail") the MTAs of the integration matrix.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
SUITES=${SUITES:-layers unit ref benign milter integration}
PYTHON=/usr/bin/python3 # Debian's, which has pytest (not a pyenv one)

total_pass=0
total_fail=0
summary=""
out=$(mktemp /tmp/mw-test-out.XXXXXX)
trap 'rm -f "$out"' EXIT

note() {
	summary="$summary
  $1"
}

add() { # add SUITE PASSED FAILED
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	note "$(printf '%-28s %4d passed, %4d failed' "$1" "$2" "$3")"
}

# last_count WORD FILE - the number before WORD on the last line that has it
last_count() {
	grep -Eo "[0-9]+ $1" "$2" | tail -n 1 | awk '{print $1}'
}

run_unit() {
	found=0
	for t in "$BUILD_DIR"/tests/*_test; do
		[ -x "$t" ] || continue
		found=1
		name=$(basename "$t")
		echo "==== unit: $name"
		timeout 300 "$t" >"$out" 2>&1
		rc=$?
		cat "$out"
		# cmocka: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
		p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -n 1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | tail -n 1)
		p=${p:-0}
		f=${f:-0}
		if [ $rc != 0 ] && [ "$f" = 0 ]; then
			f=1 # crashed or exited non-zero without a cmocka summary
			echo "unit: $name exited $rc without a failure count: counted as 1 failure"
		fi
		add "unit/$name" "$p" "$f"
	done
	[ $found = 1 ] || note "unit: no $BUILD_DIR/tests/*_test binaries"
}

# Suites that end with "N passed, N failed" themselves.
run_counted() { # run_counted NAME COMMAND...
	name=$1
	shift
	echo "==== $name: $*"
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(tail -n 5 "$out" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1/p' | tail -n 1)
	f=$(tail -n 5 "$out" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\2/p' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ $rc != 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "$name: exited $rc without a failure count: counted as 1 failure"
	elif [ $rc = 0 ] && [ "$p" = 0 ] && [ "$f" = 0 ]; then
		p=1 # a script that only reports by exit status
	fi
	add "$name" "$p" "$f"
}

run_ref() {
	if [ -f tests/unit/mime_ref.sh ]; then
		run_counted "mime_ref" sh tests/unit/mime_ref.sh "$BUILD_DIR"
	else
		note "mime_ref: tests/unit/mime_ref.sh not present, skipped"
	fi
}

# run_layers - the include graph of src/: no circle, no arrow up (tests/layers.py)
run_layers() {
	run_counted "layers" $PYTHON tests/layers.py
}

run_benign() {
	run_counted "benign" $PYTHON tests/benign/run.py --build "$BUILD_DIR"
}

run_milter() {
	run_counted "miltertest" sh tests/miltertest/run.sh
}

# run_integration MTA - the end-to-end suite through one MTA.  The first
# MTA runs every test; later ones only those using the lab (MW_IT_LAB_ONLY:
# the scan CLI and docs tests do not depend on the MTA).
run_integration() {
	mta=$1
	name="integration[$mta]"
	echo "==== $name: pytest tests/integration (MW_IT_MTA=$mta)"
	if ! $PYTHON -c 'import pytest' 2>/dev/null; then
		echo "pytest missing for $PYTHON: sh scripts/deps.sh test"
		add "$name" 0 1
		return
	fi
	lab_only=0
	[ "$mta" = "$first_mta" ] || lab_only=1
	# shellcheck disable=SC2086
	MW_IT_MTA=$mta MW_IT_LAB_ONLY=$lab_only timeout 900 $PYTHON -m pytest -p no:cacheprovider -ra \
		${PYTEST_ARGS:-} tests/integration >"$out" 2>&1
	rc=$?
	cat "$out"
	# the closing line: "=== 20 passed, 1 failed, 2 skipped, 1 error in 61.2s ==="
	last=$(grep -E '^=+ .*(passed|failed|error|no tests ran).* in [0-9.]+s' "$out" | tail -n 1)
	p=$(echo "$last" | grep -Eo '[0-9]+ passed' | awk '{print $1}')
	f=$(echo "$last" | grep -Eo '[0-9]+ failed' | awk '{print $1}')
	e=$(echo "$last" | grep -Eo '[0-9]+ errors?' | awk '{print $1}')
	p=${p:-0}
	f=$((${f:-0} + ${e:-0}))
	if [ $rc != 0 ] && [ $rc != 5 ] && [ "$f" = 0 ]; then
		f=1
		echo "$name: pytest exited $rc without a failure count: counted as 1 failure"
	fi
	add "$name" "$p" "$f"
	sk=$(echo "$last" | grep -Eo "[0-9]+ skipped" | awk "{print \$1}")
	if [ -n "$sk" ]; then
		note "$(printf '%-28s %4d skipped (reasons: the SKIPPED lines above)' "" "$sk")"
	fi
}

MW_IT_MTAS=${MW_IT_MTAS:-postfix sendmail}
first_mta=$(echo "$MW_IT_MTAS" | awk '{print $1}')

for s in $SUITES; do
	case $s in
	unit) run_unit ;;
	ref) run_ref ;;
	layers) run_layers ;;
	benign) run_benign ;;
	milter) run_milter ;;
	integration) for m in $MW_IT_MTAS; do run_integration "$m"; done ;;
	*) echo "tests/run.sh: unknown suite $s" >&2; exit 2 ;;
	esac
done

rc=0
[ "$total_fail" != 0 ] && rc=1
if [ "$total_pass" = 0 ]; then
	note "no test passed (none collected?): that is a failure"
	rc=1
fi
echo
echo "==== summary$summary"
echo "$total_pass passed, $total_fail failed"
exit $rc
