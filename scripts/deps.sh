#!/bin/sh
# deps.sh - install every Debian package that building, running and testing
# Mailwarden needs.  Idempotent: packages already present are skipped, and
# apt-get update runs only when something is missing.
#
# Usage: scripts/deps.sh [build|run|test|all|firmware|peers|fresh]   (default: all)
#
# `fresh` is what `make fresh-check` needs on the host (mmdebstrap); the
# packages the check proves are the other groups, installed in the clean
# root by the README's own commands.
#
# `peers` is what `make bench-peers` compares against: Debian's clamd +
# clamav-milter and rspamd.  Their packages want to start system daemons
# (and clamav-freshclam wants to download); policy-rc.d stops that during
# the install, and afterwards every system unit of theirs is stopped and
# disabled: the benchmark runs private instances under its own run dir.
#
# `firmware` is the arm64 appliance toolchain (cross compiler, mmdebstrap,
# qemu-user-static for the emulated chroot and the arm64 unit tests,
# qemu-system-arm for the system test, image tools).  QEMU 7.2 of bookworm
# has no Raspberry Pi 4 model (-M raspi4b, QEMU 9 and later), so
# qemu-system-arm (and its -common/-data) comes from bookworm-backports
# (QEMU 10): the suite is added with the host's own Debian archive URI and
# pinned so that only those QEMU packages are taken from it (priority 500)
# and nothing else is ever upgraded from there (100 for the rest, as
# backports' own default).  binfmt-support is
# left out on purpose: scripts/firmware-build.sh registers qemu-aarch64 in
# binfmt_misc only for the duration of a root filesystem build.
#
# The system Postfix is installed only for its binaries (postfix, postconf,
# smtp-sink, smtp-source); it is preseeded to "No configuration" and never
# started, so the machine's own mail setup is untouched.  The lab
# (scripts/lab.sh) runs a private instance under its own directories.
#
# nsd (test) likewise: only its binary is used, by the sender-authentication
# tests' private instance on a loopback port; its system service is
# disabled after the install.
#
# Sendmail (the MTA=sendmail lab, docs/sendmail.md) cannot be installed
# beside Postfix: sendmail-bin and postfix both provide and conflict with
# mail-transport-agent, so `apt-get install sendmail-bin` would remove
# postfix (and its postinst would start a system daemon).  For `run`,
# `test` and `all` this script therefore installs only what the Sendmail
# binary needs (m4 and its shared libraries), fetches sendmail-bin and
# sendmail-cf with `apt-get download` and unpacks them with `dpkg-deb -x`
# into SENDMAIL_ROOT (default /var/cache/mailwarden-lab/sendmail): no
# maintainer script runs, nothing is written to /usr, /etc or the dpkg
# database, and no daemon starts.  SENDMAIL=no skips that step.
set -eu

what=${1:-all}

# One install at a time on this machine: several checkouts (or a test run
# beside a benchmark) may call this script together, and apt/dpkg take
# their own locks only for the install itself, not for our check-then-install.
if [ -z "${MW_DEPS_LOCKED:-}" ] && command -v flock >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	MW_DEPS_LOCKED=1 exec flock /var/lock/mailwarden-deps.lock sh "$0" "$@"
fi

BUILD="build-essential pkg-config libmilter-dev libclamav-dev libinih-dev
  libsqlite3-dev libmbedtls-dev libssl-dev libarchive-dev libmagic-dev libpsl-dev
  libidn2-dev publicsuffix libhiredis-dev libjson-c-dev libzbar-dev libpng-dev libjpeg-dev libgif-dev zlib1g-dev
  libspf2-dev libopendkim-dev libopendmarc-dev libunbound-dev"
RUN="postfix swaks libclamav12 clamav libmilter1.0.1 libhiredis0.14
  libspf2-2 libopendkim11 libopendmarc2 libunbound8 publicsuffix
  m4 util-linux python3 libdb5.3 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2
  libssl3 libwrap0"
# unpacked, never installed (see above)
SENDMAIL_PKGS="sendmail-bin sendmail-cf"
SENDMAIL_ROOT=${SENDMAIL_ROOT:-/var/cache/mailwarden-lab/sendmail}
# The differential test (tests/difftest) builds archives and streams with
# the tools on the last line (Debian main has no RAR writer: rar is made by
# the generator itself) and asks clamscan (RUN's clamav), 7z and
# bsdtar/bsdcat (libarchive-tools) as oracles.
TEST="libcmocka-dev sqlite3 miltertest clang clang-tools-14 libclang-rt-14-dev libfuzzer-14-dev
  zip unzip python3 python3-pytest procps iproute2 valgrind jlha-utils p7zip-full redis-server
  ncompress lzip zstd libarchive-tools lz4 lzop arj gcab xorriso cpio
  qrencode python3-pil nsd opendkim-tools python3-dkim python3-nacl"
# (the last line: the QEMU test serves DNS zones to the appliance, tests/qemu/run.py)
FIRMWARE="gcc-aarch64-linux-gnu libc6-dev-arm64-cross mmdebstrap arch-test
  qemu-user-static qemu-system-arm ipxe-qemu e2fsprogs dosfstools mtools fdisk
  device-tree-compiler
  cpio xz-utils zstd kmod dpkg-dev python3 ca-certificates
  nsd opendkim-tools python3-dkim python3-nacl"
PEERS="clamav-daemon clamav-milter rspamd linux-perf"
FRESH="mmdebstrap"

# backports_qemu - qemu-system-arm from bookworm-backports (pinned), once
backports_qemu() {
	[ "$what" = firmware ] || return 0
	command -v qemu-system-aarch64 >/dev/null 2>&1 &&
		qemu-system-aarch64 -M help 2>/dev/null | grep -q '^raspi4b' && return 0
	[ "$(id -u)" = 0 ] || { echo "deps.sh: need root to install QEMU from bookworm-backports" >&2; exit 1; }
	src=/etc/apt/sources.list.d/mailwarden-backports.sources
	if [ ! -f "$src" ]; then
		uri=""
		[ -f /etc/apt/sources.list.d/debian.sources ] &&
			uri=$(awk '/^URIs:/ {u = $2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == "bookworm") {print u; exit}}' \
				/etc/apt/sources.list.d/debian.sources)
		[ -z "$uri" ] && [ -f /etc/apt/sources.list ] &&
			uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list)
		[ -n "$uri" ] || { echo "deps.sh: no bookworm archive in the apt sources to take backports from" >&2; exit 1; }
		printf '%s\n' "# scripts/deps.sh firmware: QEMU 10 (-M raspi4b) from bookworm-backports" \
			"Types: deb" "URIs: $uri" "Suites: bookworm-backports" "Components: main" \
			"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" >"$src"
	fi
	printf '%s\n' "# scripts/deps.sh firmware: only QEMU's system emulator from bookworm-backports" \
		"Package: *" "Pin: release n=bookworm-backports" "Pin-Priority: 100" "" \
		"Package: qemu-system-arm qemu-system-common qemu-system-data" \
		"Pin: release n=bookworm-backports" "Pin-Priority: 500" >/etc/apt/preferences.d/mailwarden-backports
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		qemu-system-arm qemu-system-common qemu-system-data
}

case $what in
build) pkgs=$BUILD ;;
run) pkgs="$BUILD $RUN" ;;
test | all) pkgs="$BUILD $RUN $TEST" ;;
firmware) pkgs=$FIRMWARE ;;
peers) pkgs="$BUILD $RUN $TEST $PEERS" ;;
fresh) pkgs=$FRESH ;;
*) echo "usage: $0 [build|run|test|all|firmware|peers|fresh]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

# stop_peer_services - the peers' system daemons must not run: the
# benchmark starts private ones.  Idempotent; a no-op without systemd.
stop_peer_services() {
	[ "$what" = peers ] || return 0
	for u in clamav-daemon clamav-milter clamav-freshclam rspamd; do
		if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
			systemctl disable --now "$u" >/dev/null 2>&1 || true
		elif [ -x "/etc/init.d/$u" ]; then
			"/etc/init.d/$u" stop >/dev/null 2>&1 || true
			update-rc.d "$u" disable >/dev/null 2>&1 || true
		fi
	done
}

# stop_test_services - nsd (TEST) is installed for its binary only: the
# sender-authentication tests run a private instance on a loopback port
# (tests/integration/dnslab.py); the system service must not serve port 53.
stop_test_services() {
	case $what in test | all | peers) ;; *) return 0 ;; esac
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		systemctl disable --now nsd >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/nsd ]; then
		/etc/init.d/nsd stop >/dev/null 2>&1 || true
		update-rc.d nsd disable >/dev/null 2>&1 || true
	fi
}

# sendmail_unpacked - true when SENDMAIL_ROOT holds a usable Sendmail
sendmail_unpacked() {
	[ -x "$SENDMAIL_ROOT/usr/libexec/sendmail/sendmail" ] &&
		[ -f "$SENDMAIL_ROOT/usr/share/sendmail/cf/m4/cf.m4" ]
}

# unpack_sendmail - apt-get download + dpkg-deb -x into SENDMAIL_ROOT
unpack_sendmail() {
	[ "$(id -u)" = 0 ] || { echo "deps.sh: need root to unpack Sendmail into $SENDMAIL_ROOT" >&2; exit 1; }
	tmp=$(mktemp -d /tmp/mw-sendmail-debs.XXXXXX)
	# apt's download sandbox user must be able to write there
	chown _apt "$tmp" 2>/dev/null || chmod 0777 "$tmp"
	# shellcheck disable=SC2086
	if ! (cd "$tmp" && apt-get download -q $SENDMAIL_PKGS); then
		apt-get update -q
		(cd "$tmp" && apt-get download -q $SENDMAIL_PKGS)
	fi
	rm -rf "$SENDMAIL_ROOT.new"
	mkdir -p "$SENDMAIL_ROOT.new"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$SENDMAIL_ROOT.new"
	done
	dpkg-deb -f "$tmp"/sendmail-bin_*.deb Version >"$SENDMAIL_ROOT.new/VERSION"
	rm -rf "$tmp" "$SENDMAIL_ROOT"
	mv "$SENDMAIL_ROOT.new" "$SENDMAIL_ROOT"
	echo "deps.sh: Sendmail $(cat "$SENDMAIL_ROOT/VERSION") unpacked in $SENDMAIL_ROOT (not installed)"
}

want_sendmail=no
case $what in run | test | all) [ "${SENDMAIL:-yes}" = no ] || want_sendmail=yes ;; esac

if [ -z "$missing" ]; then
	backports_qemu
	stop_peer_services
	stop_test_services
	if [ $want_sendmail = yes ] && ! sendmail_unpacked; then
		unpack_sendmail
	fi
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
backports_qemu
stop_peer_services
stop_test_services
if [ $want_sendmail = yes ] && ! sendmail_unpacked; then
	unpack_sendmail
fi
