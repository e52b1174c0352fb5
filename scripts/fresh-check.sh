#!/bin/bash
# fresh-check.sh - prove the README's two commands on a fresh Debian 12
# machine: a clean root (mmdebstrap minbase plus what a new machine of ours
# has, scripts/fresh-machine.list), this tree copied in, and inside it, as
# root, exactly what a new user types:
#
#   make run     (installs packages, builds, starts the lab)
#   swaks ...    one message through the lab; it must reach the sink with
#                Mailwarden's verdict headers
#   make stop    and no lab process may be left
#   make test    every suite
#
# Usage: scripts/fresh-check.sh        (make fresh-check; needs root)
#
# Caching.  Only the base root is cached, as a tarball in FRESH_CACHE keyed
# by a hash of its inputs (apt sources, the host's Acquire settings, the
# package list, the mmdebstrap options), like the firmware root filesystem.
# It never holds a package of the project: those are installed by the
# README's commands on every run, so a missing install step fails here.
# The downloaded .deb files are kept in FRESH_CACHE/apt-archives, bind
# mounted as the root's /var/cache/apt/archives: a warm run downloads
# nothing, but still installs everything.  One check runs at a time per
# machine (a lock in FRESH_CACHE).
#
# Isolation.  The root is unpacked under FRESH_TMP and entered with chroot
# inside new mount and PID namespaces (unshare): /proc, /sys, /dev, a tmpfs
# /run and the apt archive are mounted only in that mount namespace, so
# they vanish with it and the host never sees them; every process started
# inside (the lab's Postfix, mailwardend, the test labs) is in the PID
# namespace, which the kernel empties when its first process ends, and
# unshare --kill-child ends that one when unshare ends, which setpriv
# --pdeathsig ties to this script's end (even by SIGKILL, which leaves only
# the work directory).  At exit (also on SIGINT or SIGTERM) the unshare
# process is killed by its PID, any process
# still rooted in the work directory is listed and killed by PID, and the
# work directory is removed.  The network is the host's: the loopback the
# lab listens on is shared with other labs (hence FRESH_LAB_PORT), and apt
# reaches the Debian archive through the host's resolv.conf and sources.
#
# Environment:
#   FRESH_CACHE      base tarballs, apt archive, times.log
#                    (default /var/cache/mailwarden-fresh)
#   FRESH_TMP        where the root is unpacked, a few GB (default /var/tmp)
#   FRESH_LAB_PORT   LAB_PORT of `make run` inside (default 2535)
#   FRESH_SINK_PORT  its SINK_PORT (default 2536)
#   FRESH_SOURCES    an apt deb822 sources file (default: the host's)
#   FRESH_SUITE      default bookworm
#   FRESH_KEEP=1     keep the work directory (for a look after a failure)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
FRESH_CACHE=${FRESH_CACHE:-/var/cache/mailwarden-fresh}
FRESH_TMP=${FRESH_TMP:-/var/tmp}
FRESH_LAB_PORT=${FRESH_LAB_PORT:-2535}
FRESH_SINK_PORT=${FRESH_SINK_PORT:-2536}
SUITE=${FRESH_SUITE:-bookworm}
SRC=/srv/mailwarden # where the tree lands in the root (not /root: mode 0700)
T0=$(date +%s)

say() { echo "fresh-check: $*" >&2; }
die() { echo "fresh-check: error: $*" >&2; exit 1; }
elapsed() { echo "$(($(date +%s) - T0))s"; }

# timed NAME CMD... - run a step, print and log its wall time
timed() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	say "== $name"
	"$@" || rc=$?
	say "== $name: $(($(date +%s) - t0)) s$([ $rc = 0 ] || echo ", FAILED (exit $rc)")"
	[ -d "$FRESH_CACHE" ] && echo "$(date '+%F %T') $name $(($(date +%s) - t0))s rc=$rc" >>"$FRESH_CACHE/times.log"
	return $rc
}

# ---------------------------------------------------------------- inside
# What runs in the clean root, as a new user would, from $SRC.

# lab_processes - lab daemons still running in this PID namespace
lab_processes() {
	local d c
	for d in /proc/[0-9]*; do
		c=$(cat "$d/comm" 2>/dev/null) || continue
		case $c in
		master | smtpd | qmgr | pickup | cleanup | smtp | smtp-sink | mailwardend | sendmail)
			echo "${d#/proc/} $c"
			;;
		esac
	done
}

send_one() {
	local token=$1 n=0 f
	swaks --server "127.0.0.1:$LAB_PORT" --from alice@sender.example --to bob@example.com \
		--header "Subject: fresh-check" --header "X-Fresh-Check: $token" \
		--body "hello from a fresh machine" || return 1
	# Postfix relays to the sink in the background: wait (bounded) for it
	while :; do
		f=$(grep -l "X-Fresh-Check: $token" run/sink/msg.* 2>/dev/null | head -n 1 || true)
		[ -n "$f" ] && break
		[ $n -lt 600 ] || { echo "the message did not reach run/sink/ in 60 s"; return 1; }
		sleep 0.1
		n=$((n + 1))
	done
	grep -q '^X-Mailwarden-Verdict: ' "$f" || { echo "$f has no X-Mailwarden-Verdict header"; return 1; }
	echo "delivered: $f ($(grep -h '^X-Mailwarden-Verdict: ' "$f"))"
}

stop_lab() {
	local left
	make stop || return 1
	left=$(lab_processes)
	[ -z "$left" ] || { echo "make stop left lab processes running:"; echo "$left"; return 1; }
}

inside() {
	cd "$SRC"
	export LAB_PORT SINK_PORT
	timed "inside: make run" make run
	timed "inside: one message through the lab" send_one "fresh-$(date +%s)-$$" || {
		make stop || true
		return 1
	}
	timed "inside: make stop" stop_lab
	timed "inside: make test" make test
	# keep the shared .deb cache to what the archive still has
	apt-get autoclean -q >/dev/null 2>&1 || true
}

if [ "${1:-}" = inside ]; then
	inside
	exit 0
fi

# ---------------------------------------------------------------- outside

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, chroot, mounts)"
sh "$REPO/scripts/deps.sh" fresh
command -v git >/dev/null || die "git is needed to copy the tree"

mkdir -p "$FRESH_CACHE/apt-archives/partial"
exec 9>"$FRESH_CACHE/lock"
if ! flock -n 9; then
	say "another fresh-check runs on this machine: waiting for it"
	flock 9
fi

sources_file() {
	local f=$FRESH_CACHE/apt.sources
	if [ -n "${FRESH_SOURCES:-}" ]; then
		cp "$FRESH_SOURCES" "$f"
	elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$f"
	else
		cat >"$f" <<-EOF
			Types: deb
			URIs: http://deb.debian.org/debian
			Suites: $SUITE $SUITE-updates
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	fi
	echo "$f"
}

# The host's apt Acquire settings (proxy, Valid-Until of a snapshot
# archive, ...): how this machine reaches the archive, so the fresh root
# has them as a fresh machine here does.
APTOPTS=()
for f in /etc/apt/apt.conf.d/*; do
	[ -f "$f" ] && grep -q '^[[:space:]]*Acquire' "$f" && APTOPTS+=("--aptopt=$f")
done
MM_OPTS=(--variant=minbase --format=tar --quiet)
LIST=$REPO/scripts/fresh-machine.list

base_tar() {
	local src key
	src=$(sources_file)
	key=$({
		cat "$src" "$LIST"
		echo "$SUITE" "${MM_OPTS[@]}"
		for f in "${APTOPTS[@]}"; do cat "${f#--aptopt=}"; done
	} | sha256sum | cut -c1-16)
	echo "$FRESH_CACHE/base-$key.tar"
}

build_base() {
	local tar src pkgs
	tar=$(base_tar)
	if [ -f "$tar" ]; then
		say "base root: cached $(basename "$tar") ($(du -h "$tar" | cut -f1))"
		return 0
	fi
	src=$(sources_file)
	pkgs=$(grep -v '^[[:space:]]*\(#\|$\)' "$LIST" | paste -sd,)
	say "base root: mmdebstrap minbase + $pkgs"
	rm -f "$tar.tmp"
	mmdebstrap "${MM_OPTS[@]}" "${APTOPTS[@]}" --include="$pkgs" "$SUITE" "$tar.tmp" "$src"
	mv "$tar.tmp" "$tar"
	# older bases (other inputs) are stale
	find "$FRESH_CACHE" -maxdepth 1 -name 'base-*.tar' ! -name "$(basename "$tar")" -delete
	say "base root: $(du -h "$tar" | cut -f1) $(basename "$tar")"
}

WORK=""
UNSHARE_PID=""
cleanup() {
	local rc=$? p left=""
	trap - EXIT INT TERM
	if [ -n "$UNSHARE_PID" ] && [ -d "/proc/$UNSHARE_PID" ]; then
		# SIGKILL: unshare blocks SIGTERM and SIGINT while it waits for
		# its child; its death SIGKILLs the child (--kill-child), the
		# first process of the PID namespace, and with it all the others
		say "stopping the check (unshare, pid $UNSHARE_PID)"
		kill -KILL "$UNSHARE_PID" 2>/dev/null || true
		wait "$UNSHARE_PID" 2>/dev/null || true
	fi
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		# nothing may live on in the root: the PID namespace should have
		# taken everything with it; whatever did not is named and killed
		for p in /proc/[0-9]*; do
			case $(readlink "$p/root" 2>/dev/null) in
			"$WORK"/root | "$WORK"/root/*)
				left="$left ${p#/proc/}($(cat "$p/comm" 2>/dev/null))"
				kill -KILL "${p#/proc/}" 2>/dev/null || true
				;;
			esac
		done
		[ -z "$left" ] || { say "killed processes left in the root:$left"; rc=1; }
		if grep -qF " $WORK/" /proc/self/mountinfo; then
			say "mounts left under $WORK (kept, not removed):"
			grep -F " $WORK/" /proc/self/mountinfo >&2
			rc=1
		elif [ "${FRESH_KEEP:-0}" = 1 ]; then
			say "work directory kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	say "$([ $rc = 0 ] && echo passed || echo FAILED) after $(elapsed)"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# copy_tree DIR - this checkout as it is (tracked and untracked files, not
# the ignored ones such as build/ and run/), uncommitted changes included
copy_tree() {
	mkdir -p "$1"
	(cd "$REPO" && git ls-files -z -c -o --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done | tar --null -T - -cf -) | tar -xf - -C "$1"
	say "tree: $(find "$1" -type f | wc -l) files copied to $SRC"
}

unpack() {
	WORK=$(mktemp -d "$FRESH_TMP/mw-fresh.XXXXXX")
	chmod 0755 "$WORK"
	mkdir "$WORK/root"
	tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$(base_tar)" -C "$WORK/root"
	# what the machine itself provides: name resolution, host name
	rm -f "$WORK/root/etc/resolv.conf"
	cp -L /etc/resolv.conf "$WORK/root/etc/resolv.conf"
	[ -f /etc/hosts ] && cp -L /etc/hosts "$WORK/root/etc/hosts"
	[ -f /etc/hostname ] && cp -L /etc/hostname "$WORK/root/etc/hostname"
	copy_tree "$WORK/root$SRC"
}

run_inside() {
	local rc=0
	# setpriv --pdeathsig: unshare dies with this script, even by SIGKILL
	setpriv --pdeathsig KILL -- \
		unshare --mount --propagation private --pid --fork --kill-child=SIGKILL -- \
		/bin/bash -c '
			set -e
			R=$1 A=$2
			# the root a mount point, as / is on a machine: unshare
			# --propagation (the lab'"'"'s Sendmail wrapper) needs one
			mount --bind "$R" "$R"
			mount -t proc proc "$R/proc"
			mount --rbind /sys "$R/sys"
			mount --rbind /dev "$R/dev"
			mount -t tmpfs -o mode=0755,nosuid,nodev fresh-run "$R/run"
			mkdir -m 1777 "$R/run/lock"
			mount --bind "$A" "$R/var/cache/apt/archives"
			shift 2
			exec chroot "$R" /usr/bin/env -i "$@"' fresh "$WORK/root" "$FRESH_CACHE/apt-archives" \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
		LAB_PORT="$FRESH_LAB_PORT" SINK_PORT="$FRESH_SINK_PORT" \
		/bin/bash "$SRC/scripts/fresh-check.sh" inside &
	UNSHARE_PID=$!
	wait "$UNSHARE_PID" || rc=$?
	UNSHARE_PID=""
	return $rc
}

timed "base root" build_base
timed "unpack and copy" unpack
timed "inside the fresh root" run_inside
