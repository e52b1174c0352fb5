#!/bin/sh
# deps.sh - install every Debian package that building, running and testing
# Mailwarden needs.  Idempotent: packages already present are skipped, and
# apt-get update runs only when something is missing.
#
# Usage: scripts/deps.sh [build|run|test|all|firmware]   (default: all)
#
# `firmware` is the arm64 appliance toolchain (cross compiler, mmdebstrap,
# qemu-user-static for the emulated chroot and the arm64 unit tests,
# qemu-system-arm for the system test, image tools).  binfmt-support is
# left out on purpose: scripts/firmware-build.sh registers qemu-aarch64 in
# binfmt_misc only for the duration of a root filesystem build.
#
# The system Postfix is installed only for its binaries (postfix, postconf,
# smtp-sink, smtp-source); it is preseeded to "No configuration" and never
# started, so the machine's own mail setup is untouched.  The lab
# (scripts/lab.sh) runs a private instance under its own directories.
set -eu

what=${1:-all}

BUILD="build-essential pkg-config libmilter-dev libclamav-dev libinih-dev
  libsqlite3-dev libmbedtls-dev libarchive-dev libmagic-dev libpsl-dev
  libidn2-dev publicsuffix"
RUN="postfix swaks libclamav12 clamav libmilter1.0.1"
TEST="libcmocka-dev sqlite3 miltertest clang libclang-rt-14-dev libfuzzer-14-dev
  zip unzip python3 python3-pytest procps iproute2 valgrind jlha-utils p7zip-full"
FIRMWARE="gcc-aarch64-linux-gnu libc6-dev-arm64-cross mmdebstrap arch-test
  qemu-user-static qemu-system-arm ipxe-qemu e2fsprogs dosfstools mtools fdisk
  cpio xz-utils zstd kmod dpkg-dev python3 ca-certificates"

case $what in
build) pkgs=$BUILD ;;
run) pkgs="$BUILD $RUN" ;;
test | all) pkgs="$BUILD $RUN $TEST" ;;
firmware) pkgs=$FIRMWARE ;;
*) echo "usage: $0 [build|run|test|all|firmware]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: need root to install:$missing" >&2
	exit 1
fi

echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Keep the system MTA unconfigured and stopped: the lab runs its own.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
