#!/bin/sh
# peers.sh - `make bench-peers`: mailwardend side by side with Debian's
# clamav-milter + clamd and rspamd (milter mode, antivirus on the same
# clamd) through one private Postfix on loopback, same signatures (only
# sigs/), same mail, interleaved in one run; then mailwardend's scaling
# (size, attachments, archive depth, URLs) and a bounded soak.  Writes
# tests/bench/RESULTS.md.  The work is done by tests/bench/peers.py (its
# docstring lists the setup and every PEERS_* knob); this wrapper checks
# root, installs the peers' packages (scripts/deps.sh peers: their system
# services are stopped and disabled, never used) and checks the build.
#
# Bounded: about 12-15 minutes with the defaults (PEERS_BUDGET,
# PEERS_SOAK_SECONDS); every load has a deadline.
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
[ "$(id -u)" = 0 ] || { echo "bench-peers: needs root (private Postfix, daemons drop privileges)" >&2; exit 1; }
sh "$REPO/scripts/deps.sh" peers
case $BUILD_DIR in /*) bd=$BUILD_DIR ;; *) bd=$REPO/$BUILD_DIR ;; esac
for b in mailwardend mailwarden; do
	[ -x "$bd/$b" ] || { echo "bench-peers: $bd/$b not built (make B=$BUILD_DIR all)" >&2; exit 1; }
done
export PEERS_COMMAND="${PEERS_COMMAND:-make bench-peers B=$BUILD_DIR}"
exec /usr/bin/python3 "$REPO/tests/bench/peers.py"
