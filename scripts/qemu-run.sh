#!/bin/sh
# qemu-run.sh - boot the qemu-virt-arm64 appliance image by hand, with its
# serial console (115200 8N1, `mailwarden console`) on this terminal.
# Quit with Ctrl-A X.
#
# Usage: scripts/qemu-run.sh [--port N] [--persist DIR] [IMAGE_DIR]
#   --port N       SMTP forward 127.0.0.1:N -> guest :25 (default 2625;
#                  `make run` uses 2525)
#   --persist DIR  keep the appliance's data disk in DIR/data.img (copied
#                  from the image at the first run): settings, queue and
#                  quarantine survive, `reboot` reboots.  Without it every
#                  run is a first boot (-snapshot).
#   --help         the details
# IMAGE_DIR defaults to build/firmware/qemu-virt-arm64.  Nothing else leaves
# the emulated machine (user-mode networking, restrict=on).
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
exec python3 "$REPO/tests/qemu/appliance.py" run "$@"
