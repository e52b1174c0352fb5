#!/bin/sh
# qemu-run.sh - boot the qemu-virt-arm64 appliance image by hand, with its
# serial console (115200 8N1, `mailwarden console`) on this
# terminal.  -snapshot: nothing is written to the image files.  The guest's
# SMTP port 25 is forwarded to 127.0.0.1:$SMTP_PORT (default 2525); nothing
# else leaves the emulated machine (user-mode networking, restrict=on).
# Quit with Ctrl-A X.
#
# Usage: scripts/qemu-run.sh [IMAGE_DIR]   (default build/firmware/qemu-virt-arm64)
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$REPO/tests/qemu/appliance.py" run "${1:-$REPO/build/firmware/qemu-virt-arm64}"
