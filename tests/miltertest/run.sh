#!/bin/sh
# run.sh - run every tests/miltertest/t-*.lua with Debian's miltertest
# against the real mailwardend: starts the daemon in the foreground on a
# unix socket in a temporary directory (repo sigs/, temporary state and
# tmp dirs), runs each script, checks the daemon is still alive, stops it
# by PID and prints "N passed, N failed".  Exit 1 if anything failed.
#
# Environment: BUILD_DIR (default build), MAILWARDEND (default
# $REPO/$BUILD_DIR/mailwardend), SIGS_DIR (default $REPO/sigs), LISTS_DIR
# (default $REPO/data/lists, else an empty temporary one),
# MT_VERBOSE=1 shows every script's output.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO/$BUILD_DIR ;; esac
MAILWARDEND=${MAILWARDEND:-$BUILD_DIR/mailwardend}
SIGS_DIR=${SIGS_DIR:-$REPO/sigs}

passed=0
failed=0

if ! command -v miltertest >/dev/null; then
	echo "miltertest: not installed (sh scripts/deps.sh test)"
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -x "$MAILWARDEND" ]; then
	echo "miltertest: $MAILWARDEND not built"
	echo "0 passed, 1 failed"
	exit 1
fi

tmp=$(mktemp -d /tmp/mw-miltertest.XXXXXX)
chmod 0755 "$tmp"
sock=$tmp/mailwardend.sock
log=$tmp/mailwardend.log
mkdir "$tmp/state" "$tmp/tmp"
LISTS_DIR=${LISTS_DIR:-$REPO/data/lists}
if [ ! -d "$LISTS_DIR" ]; then
	LISTS_DIR=$tmp/lists
	mkdir "$LISTS_DIR"
fi
userarg=""
if [ "$(id -u)" = 0 ]; then
	user=nobody
	getent passwd mailwarden >/dev/null && user=mailwarden
	chown "$user" "$tmp/state" "$tmp/tmp"
	userarg="-u $user"
fi

pid=""
# alive - the daemon runs (a dead child of ours stays a zombie until waited)
alive() {
	[ -n "$pid" ] && [ -r "/proc/$pid/status" ] &&
		! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

cleanup() {
	if alive; then
		kill -TERM "$pid" 2>/dev/null
		n=0
		while alive && [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		alive && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if [ "$failed" -gt 0 ] || [ -n "${MT_KEEP:-}" ]; then
		echo "miltertest: daemon log kept in $log"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck disable=SC2086
"$MAILWARDEND" -f -p "unix:$sock" $userarg -o "paths.signatures=$SIGS_DIR" -o "paths.lists=$LISTS_DIR" \
	-o "paths.state=$tmp/state" -o "paths.tmp=$tmp/tmp" </dev/null >"$log" 2>&1 &
pid=$!

n=0
while [ ! -S "$sock" ]; do
	if ! alive || [ $n -ge 150 ]; then
		echo "miltertest: mailwardend did not create $sock"
		tail -n 20 "$log"
		failed=1
		echo "0 passed, 1 failed"
		exit 1
	fi
	sleep 0.1
	n=$((n + 1))
done

for t in "$HERE"/t-*.lua; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .lua)
	out=$(timeout 120 miltertest -D "socket=unix:$sock" -D "lib=$HERE/common.lua" -s "$t" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		echo "PASS $name"
		[ -n "${MT_VERBOSE:-}" ] && [ -n "$out" ] && echo "$out" | sed 's/^/    /'
	else
		failed=$((failed + 1))
		echo "FAIL $name (exit $rc)"
		echo "$out" | tail -n 20 | sed 's/^/    /'
	fi
done

# The daemon must have survived every script.
if alive; then
	passed=$((passed + 1))
	echo "PASS daemon-alive"
else
	failed=$((failed + 1))
	echo "FAIL daemon-alive: mailwardend exited during the scripts"
	tail -n 20 "$log" | sed 's/^/    /'
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
