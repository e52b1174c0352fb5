#!/bin/bash
# firmware-build.sh - build the Mailwarden arm64 appliance on an x86_64
# Debian 12 host: cross sysroot, cross-built binaries and unit tests, the
# mailwarden .deb, the Debian root filesystem (cached), the kernel with a
# small initramfs, and the image of one board.
#
# Usage: scripts/firmware-build.sh COMMAND [BOARD]
#   image BOARD   the whole chain; output in $FW_DIR/BOARD/   (BOARD: a
#                 directory under board/, e.g. qemu-virt-arm64 or rpi4)
#   sysroot       arm64 -dev packages unpacked by mmdebstrap --variant=extract
#   cross         mailwardend, mailwarden, unit tests for aarch64
#   deb           $FW_DIR/deb/mailwarden_VERSION_arm64.deb
#   kernel        linux-image-arm64, busybox-static, raspi-firmware unpacked
#   rootfs        the base root filesystem tarball (cached by its inputs)
#   test-arm64    the cross-built unit tests under qemu-user
#
# Environment: FW_DIR (outputs, default $REPO/build/firmware), FW_CACHE
# (caches and cross objects, default $REPO/build-fw), FW_SOURCES (an apt
# deb822 sources file; default: derived from the host's debian.sources),
# FW_SUITE (default bookworm), FW_REUSE_BINARIES=1 (image: package the
# arm64 binaries already in $FW_CACHE/obj-arm64 instead of rebuilding them,
# for firmware work while the C tree does not build).
#
# Nothing is installed into the host's dpkg database except the build
# tools (scripts/deps.sh firmware).  The root filesystem needs arm64 code
# to run: qemu-aarch64 is registered in binfmt_misc only while this script
# runs and unregistered at exit (unless it was registered before).
# Every step prints and logs ($FW_DIR/times.log) how long it took.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
FW_DIR=${FW_DIR:-$REPO/build/firmware}
# The expensive parts (sysroot, kernel tree, root filesystem tarball, cross
# objects) live outside build/ so that `make clean` keeps them.
FW_CACHE=${FW_CACHE:-$REPO/build-fw}
CACHE=$FW_CACHE/cache
SUITE=${FW_SUITE:-bookworm}
TRIPLET=aarch64-linux-gnu
OBJ=$FW_CACHE/obj-arm64
VERSION=$(sed -n 's/^VERSION *:= *//p' "$REPO/Makefile")
BINFMT=/proc/sys/fs/binfmt_misc

say() { echo "firmware: $*" >&2; }
die() { echo "firmware: error: $*" >&2; exit 1; }

# timed NAME CMD... - run a step, print and log its wall time
timed() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	local dt
	dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	say "$name: ${dt} s"
	mkdir -p "$FW_DIR"
	echo "$(date '+%F %T') $name ${dt}s" >>"$FW_DIR/times.log"
}

# pkglist FILE - the package names of a list file, comma separated
pkglist() { grep -v '^[[:space:]]*\(#\|$\)' "$1" | tr -s ' \n' ',' | sed 's/,$//'; }

# treehash PATH... - a short hash of files and directories (content, mode,
# names; not times), the cache keys
treehash() {
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$REPO" -cf - "$@" |
		sha256sum | cut -c1-16
}

sources_file() {
	local f=$CACHE/apt.sources
	mkdir -p "$CACHE"
	if [ -n "${FW_SOURCES:-}" ]; then
		cp "$FW_SOURCES" "$f"
	elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
		# The host's Debian archive, plus non-free-firmware for raspi-firmware.
		sed -e 's/^Components: main$/Components: main non-free-firmware/' \
			/etc/apt/sources.list.d/debian.sources >"$f"
	else
		cat >"$f" <<-EOF
			Types: deb
			URIs: http://deb.debian.org/debian
			Suites: $SUITE $SUITE-updates
			Components: main non-free-firmware
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	fi
	echo "$f"
}

# extract_tree NAME LISTFILE - arm64 packages (and dependencies) unpacked,
# never configured; cached by the list and the sources
extract_tree() {
	local name=$1 list=$2 src key dir
	src=$(sources_file)
	key=$(cat "$src" | sha256sum | cut -c1-8)$(treehash "${list#"$REPO"/}")
	dir=$CACHE/$name-$key
	if [ ! -f "$dir/.done" ]; then
		say "$name: unpacking $(pkglist "$list") (mmdebstrap --variant=extract)"
		rm -rf "$dir" "$dir.tmp"
		mmdebstrap --quiet --variant=extract --architectures=arm64 \
			--include="$(pkglist "$list")" "$SUITE" "$dir.tmp" "$src" >&2
		mv "$dir.tmp" "$dir"
		touch "$dir/.done"
		# older trees of the same kind are stale
		find "$CACHE" -maxdepth 1 -name "$name-*" ! -name "$name-$key" -exec rm -rf {} +
	fi
	echo "$dir"
}

sysroot_dir() { extract_tree sysroot "$REPO/firmware/sysroot.list"; }
kernel_dir() { extract_tree kernel "$REPO/firmware/kernel.list"; }

cross_env() {
	local s=$1
	export PKG_CONFIG_SYSROOT_DIR=$s
	export PKG_CONFIG_LIBDIR=$s/usr/lib/$TRIPLET/pkgconfig:$s/usr/share/pkgconfig
	unset PKG_CONFIG_PATH
}

do_cross() {
	local s
	s=$(sysroot_dir)
	cross_env "$s"
	make -C "$REPO" -j"$(nproc)" B="$OBJ" CC="$TRIPLET-gcc --sysroot=$s" \
		PREFIX=/usr SYSCONFDIR=/etc/mailwarden DATADIR=/usr/share/mailwarden \
		STATEDIR=/var/lib/mailwarden all unit
}

# qemu_user BIN ARGS... - run an arm64 program of ours on the host
qemu_user() {
	local s
	s=$(sysroot_dir)
	QEMU_LD_PREFIX=$s qemu-aarch64-static -L "$s" "$@"
}

deb_path() { echo "$FW_DIR/deb/mailwarden_${VERSION}_arm64.deb"; }

do_deb() {
	local root=$FW_DIR/deb/root deb
	deb=$(deb_path)
	rm -rf "$root"
	mkdir -p "$root/DEBIAN" "$root/usr/sbin" "$root/usr/bin" "$root/etc/mailwarden" \
		"$root/usr/share/mailwarden/lists" "$root/usr/share/mailwarden/sigs" \
		"$root/lib/systemd/system" "$root/usr/share/doc/mailwarden"
	"$TRIPLET-strip" --strip-unneeded -o "$root/usr/sbin/mailwardend" "$OBJ/mailwardend"
	"$TRIPLET-strip" --strip-unneeded -o "$root/usr/bin/mailwarden" "$OBJ/mailwarden"
	chmod 0755 "$root/usr/sbin/mailwardend" "$root/usr/bin/mailwarden"
	install -m 0644 "$REPO/firmware/deb/mailwarden.conf" "$root/etc/mailwarden/mailwarden.conf"
	qemu_user "$OBJ/mailwarden" config --sample >"$root/etc/mailwarden/mailwarden.conf.sample"
	chmod 0644 "$root/etc/mailwarden/mailwarden.conf.sample"
	if [ -d "$REPO/data/lists" ]; then
		install -m 0644 "$REPO"/data/lists/*.txt "$root/usr/share/mailwarden/lists/"
	fi
	install -m 0644 "$REPO"/sigs/* "$root/usr/share/mailwarden/sigs/"
	install -m 0644 "$REPO/firmware/deb/mailwardend.service" "$root/lib/systemd/system/"
	install -m 0644 "$REPO/LICENSE" "$root/usr/share/doc/mailwarden/copyright"
	install -m 0755 "$REPO/firmware/deb/postinst" "$REPO/firmware/deb/postrm" "$root/DEBIAN/"
	install -m 0644 "$REPO/firmware/deb/conffiles" "$root/DEBIAN/"
	local depends size
	depends=$(grep -v '^[[:space:]]*\(#\|$\)' "$REPO/firmware/deb/depends" | paste -sd, | sed 's/,/, /g')
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/arm64/" -e "s/@SIZE@/$size/" \
		-e "s/@DEPENDS@/$depends/" "$REPO/firmware/deb/control.in" >"$root/DEBIAN/control"
	(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
		xargs -0 md5sum >DEBIAN/md5sums)
	SOURCE_DATE_EPOCH=$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0) \
		dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
	dpkg-deb --info "$deb" | sed -n 's/^ *\(Package\|Version\|Architecture\|Depends\):/  &/p'
	say "deb: $deb"
}

# --- binfmt_misc: qemu-aarch64 for the emulated chroot, undone at exit ---
BINFMT_MOUNTED=0
BINFMT_OURS=0
binfmt_on() {
	# One emulated build at a time on this machine: another checkout's
	# build removes the entry it registered when it exits, which would
	# pull qemu-aarch64 away from under our dpkg.  Held until we exit.
	if [ -z "${BINFMT_LOCKED:-}" ]; then
		exec 9>/var/lock/mailwarden-binfmt.lock
		flock 9
		BINFMT_LOCKED=1
	fi
	if [ ! -e "$BINFMT/register" ]; then
		mount -t binfmt_misc binfmt_misc "$BINFMT" || die "cannot mount binfmt_misc"
		BINFMT_MOUNTED=1
	fi
	if [ ! -e "$BINFMT/qemu-aarch64" ]; then
		local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
		[ -f "$conf" ] || die "$conf missing (qemu-user-static)"
		# F: the interpreter is opened now, so the chroot need not contain it.
		# Magic and mask from qemu-user-static; interpreter: the static binary.
		grep -v '^#' "$conf" | sed 's|:[^:]*:[A-Z]*$|:/usr/bin/qemu-aarch64-static:F|' >"$BINFMT/register"
		BINFMT_OURS=1
	fi
}
binfmt_off() {
	if [ "$BINFMT_OURS" = 1 ] && [ -e "$BINFMT/qemu-aarch64" ]; then
		echo -1 >"$BINFMT/qemu-aarch64" || true
		BINFMT_OURS=0
	fi
	if [ "$BINFMT_MOUNTED" = 1 ]; then
		umount "$BINFMT" || true
		BINFMT_MOUNTED=0
	fi
}
trap binfmt_off EXIT

# The root filesystem's own packages plus the runtime libraries our .deb
# depends on; our .deb itself is installed per image (a code change does
# not rebuild the cached base).
ROOTFS_OPTS=(--variant=minbase --architectures=arm64 --format=tar
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/info/*')
rootfs_tar() {
	local src key
	src=$(sources_file)
	key=$({ cat "$src"; printf '%s\n' "${ROOTFS_OPTS[@]}"; } | sha256sum | cut -c1-8)
	key=$key$(treehash firmware/rootfs.list firmware/deb/depends)
	echo "$CACHE/rootfs-$key.tar"
}

do_rootfs() {
	local tar src pkgs
	tar=$(rootfs_tar)
	if [ -f "$tar" ]; then
		say "rootfs: cached $(basename "$tar")"
		return 0
	fi
	src=$(sources_file)
	pkgs="$(pkglist "$REPO/firmware/rootfs.list"),$(grep -v '^[[:space:]]*\(#\|$\)' "$REPO/firmware/deb/depends" | paste -sd,)"
	say "rootfs: mmdebstrap minbase + $pkgs (dpkg runs emulated: minutes)"
	binfmt_on
	rm -f "$tar.tmp"
	mmdebstrap --quiet "${ROOTFS_OPTS[@]}" --include="$pkgs" "$SUITE" "$tar.tmp" "$src"
	binfmt_off
	mv "$tar.tmp" "$tar"
	find "$CACHE" -maxdepth 1 -name 'rootfs-*.tar' ! -name "$(basename "$tar")" -delete
	say "rootfs: $(du -h "$tar" | cut -f1) $(basename "$tar")"
}

# modules_order KDIR KVER LIST - module paths (relative to lib/modules/KVER)
# in load order: each module's dependencies from modules.dep come first
modules_order() {
	python3 - "$1/lib/modules/$2/modules.dep" "$3" <<'PY'
import os, sys
dep_file, want_file = sys.argv[1], sys.argv[2]
deps, by_name = {}, {}
for line in open(dep_file):
    path, _, rest = line.partition(":")
    deps[path] = rest.split()
    name = os.path.basename(path).split(".ko")[0].replace("-", "_")
    by_name[name] = path
order, seen = [], set()
def add(path):
    if path in seen:
        return
    seen.add(path)
    for d in deps.get(path, []):
        add(d)
    order.append(path)
for line in open(want_file):
    name = line.split("#")[0].strip().replace("-", "_")
    if not name:
        continue
    if name in by_name:
        add(by_name[name])
    else:
        print("firmware: module %s is built in or absent; skipped" % name, file=sys.stderr)
print("\n".join(order))
PY
}

# make_initramfs BOARD KDIR OUT - busybox-static, the board's modules, init
make_initramfs() {
	local board=$1 kdir=$2 out=$3 kver ir
	kver=$(ls "$kdir/lib/modules")
	[ -f "$kdir/lib/modules/$kver/modules.dep" ] || depmod -b "$kdir" "$kver"
	ir=$FW_DIR/$board/initramfs
	rm -rf "$ir"
	mkdir -p "$ir/bin" "$ir/etc" "$ir/lib/modules" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/newroot"
	cp "$kdir/bin/busybox" "$ir/bin/busybox"
	install -m 0755 "$REPO/firmware/initramfs/init" "$ir/init"
	modules_order "$kdir" "$kver" "$REPO/board/$board/modules" >"$ir/etc/modules.list"
	: >"$ir/etc/modules.load"
	while read -r m; do
		[ -n "$m" ] || continue
		mkdir -p "$ir/lib/modules/$(dirname "$m")"
		cp "$kdir/lib/modules/$kver/$m" "$ir/lib/modules/$m"
		echo "$m" >>"$ir/etc/modules.load"
	done <"$ir/etc/modules.list"
	rm "$ir/etc/modules.list"
	(cd "$ir" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) |
		gzip -9n >"$out"
	say "initramfs: $(wc -l <"$ir/etc/modules.load") modules, $(du -h "$out" | cut -f1)"
}

# stage_rootfs BOARD - the base rootfs + our .deb + overlays in a directory
stage_rootfs() {
	local board=$1 st=$FW_DIR/$1/rootfs deb
	deb=$(deb_path)
	rm -rf "$st"
	mkdir -p "$st"
	tar -xpf "$(rootfs_tar)" -C "$st"
	# Our package: the same .deb a hand install uses, its postinst run
	# (emulated) in the staged tree.
	binfmt_on
	cp "$deb" "$st/tmp/mailwarden.deb"
	chroot "$st" /usr/bin/dpkg -i /tmp/mailwarden.deb
	rm "$st/tmp/mailwarden.deb"
	binfmt_off
	# Overlays: common, then the board's.
	cp -a "$REPO/firmware/overlay/." "$st/"
	[ -d "$REPO/board/$board/overlay" ] && cp -a "$REPO/board/$board/overlay/." "$st/"
	chown -R root:root "$st/usr/lib/mailwarden" "$st/etc/postfix" "$st/etc/inittab" \
		"$st/etc/mailwarden/appliance.conf" "$st/etc/mailwarden/firmware.conf" "$st/etc/clamav/freshclam.conf"
	[ -f "$st/etc/mailwarden/board.conf" ] && chown root:root "$st/etc/mailwarden/board.conf"
	# Read-only root: what changes points into /run or /data.
	mkdir -p "$st/sbin" "$st/data"
	ln -sf /bin/busybox "$st/sbin/init"
	# reboot, poweroff, halt: busybox's applets signal busybox init (which
	# runs rc.shutdown first); inittab's ctrl-alt-del line uses /sbin/reboot
	for a in reboot poweroff halt; do
		[ -e "$st/sbin/$a" ] || ln -s /bin/busybox "$st/sbin/$a"
	done
	# main.cf is written at boot and after each change by the apply script
	rm -f "$st/etc/postfix/main.cf"
	ln -s /run/postfix/main.cf "$st/etc/postfix/main.cf"
	ln -sf /run/resolv.conf "$st/etc/resolv.conf"
	ln -sf /run/mailname "$st/etc/mailname"
	echo "mailwarden $VERSION ($board) built $(date -u '+%F %T') UTC" >"$st/etc/mailwarden/build-info"
	# Every library our binaries need must be in the image.
	local lib missing=""
	for lib in $("$TRIPLET-readelf" -d "$st/usr/sbin/mailwardend" "$st/usr/bin/mailwarden" |
		sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u); do
		# (Debian's libspf2-2 is not multiarch: /usr/lib, on the loader's default path)
		[ -e "$st/usr/lib/$TRIPLET/$lib" ] || [ -e "$st/lib/$TRIPLET/$lib" ] || [ -e "$st/usr/lib/$lib" ] ||
			missing="$missing $lib"
	done
	[ -z "$missing" ] || die "libraries missing from the root filesystem:$missing (firmware/deb/depends)"
}

# mkext4 DIR LABEL SIZE_MB OUT - ext4 filled from DIR, no loop mount
mkext4() {
	rm -f "$4"
	if [ -n "$1" ]; then
		mke2fs -q -t ext4 -L "$2" -d "$1" -E root_owner=0:0 "$4" "$3M"
	else
		mke2fs -q -t ext4 -L "$2" -E root_owner=0:0 "$4" "$3M"
	fi
}

do_image() {
	local board=$1 out kdir kver
	[ -f "$REPO/board/$board/board.conf" ] || die "unknown board '$board' (see board/)"
	# shellcheck disable=SC1090
	. "$REPO/board/$board/board.conf"
	out=$FW_DIR/$board
	mkdir -p "$out"
	timed "sysroot" sysroot_dir >/dev/null
	if [ "${FW_REUSE_BINARIES:-0}" = 1 ] && [ -x "$OBJ/mailwardend" ] && [ -x "$OBJ/mailwarden" ]; then
		say "cross build: skipped, FW_REUSE_BINARIES=1 (binaries of $(date -r "$OBJ/mailwardend" '+%F %T'))"
	else
		timed "cross build" do_cross
	fi
	timed "deb" do_deb
	timed "kernel unpack" kernel_dir >/dev/null
	kdir=$(kernel_dir)
	kver=$(ls "$kdir/lib/modules")
	timed "rootfs" do_rootfs
	timed "stage rootfs" stage_rootfs "$board"
	cp "$kdir/boot/vmlinuz-$kver" "$out/vmlinuz"
	timed "initramfs" make_initramfs "$board" "$kdir" "$out/initrd.img"
	echo "$BOARD_CMDLINE" >"$out/cmdline"
	case $BOARD_LAYOUT in
	disks) timed "image" image_disks "$board" ;;
	sdcard) timed "image" image_sdcard "$board" "$kdir" "$kver" ;;
	*) die "board.conf: BOARD_LAYOUT must be disks or sdcard" ;;
	esac
	rm -rf "$out/rootfs" "$out/initramfs"
	cat >"$out/manifest" <<-EOF
		board=$board
		version=$VERSION
		kernel=$kver
		cmdline=$BOARD_CMDLINE
		deb=$(basename "$(deb_path)")
		rootfs_cache=$(basename "$(rootfs_tar)")
	EOF
	say "image for $board in $out:"
	ls -lhs "$out" | sed 's/^/  /'
}

image_disks() {
	local out=$FW_DIR/$1
	mkext4 "$out/rootfs" MWROOT "$BOARD_ROOT_SIZE_MB" "$out/rootfs.img"
	mkext4 "" MWDATA "$BOARD_DATA_SIZE_MB" "$out/data.img"
}

image_sdcard() {
	local board=$1 kdir=$2 kver=$3 out=$FW_DIR/$1 boot
	boot=$out/boot
	rm -rf "$boot"
	mkdir -p "$boot"
	cp "$kdir"/usr/lib/raspi-firmware/* "$boot/"
	cp "$kdir"/usr/lib/linux-image-"$kver"/broadcom/bcm2711-*.dtb "$boot/"
	cp "$out/vmlinuz" "$boot/vmlinuz"
	cp "$out/initrd.img" "$boot/initrd.img"
	cp "$REPO/board/$board/config.txt" "$boot/config.txt"
	echo "$BOARD_CMDLINE" >"$boot/cmdline.txt"
	# Partitions as files, then one MBR image: 1 MiB alignment.
	rm -f "$out/boot.vfat"
	mkfs.vfat -C -F 32 -n MWBOOT "$out/boot.vfat" $((BOARD_BOOT_SIZE_MB * 1024)) >/dev/null
	mcopy -i "$out/boot.vfat" -s "$boot"/* ::/
	mkext4 "$out/rootfs" MWROOT "$BOARD_ROOT_SIZE_MB" "$out/root.ext4"
	mkext4 "" MWDATA "$BOARD_DATA_SIZE_MB" "$out/data.ext4"
	local img=$out/mailwarden-$board.img b=$BOARD_BOOT_SIZE_MB r=$BOARD_ROOT_SIZE_MB d=$BOARD_DATA_SIZE_MB
	rm -f "$img"
	truncate -s $((1 + b + r + d))M "$img"
	sfdisk --quiet "$img" <<-EOF
		label: dos
		unit: sectors
		start=2048, size=$((b * 2048)), type=c, bootable
		start=$(((1 + b) * 2048)), size=$((r * 2048)), type=83
		start=$(((1 + b + r) * 2048)), size=$((d * 2048)), type=83
	EOF
	dd if="$out/boot.vfat" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
	dd if="$out/root.ext4" of="$img" bs=1M seek=$((1 + b)) conv=notrunc,sparse status=none
	dd if="$out/data.ext4" of="$img" bs=1M seek=$((1 + b + r)) conv=notrunc,sparse status=none
	rm -rf "$boot" "$out/boot.vfat" "$out/root.ext4" "$out/data.ext4"
	sfdisk --dump "$img" | sed 's/^/  /'
}

do_test_arm64() {
	local s t pass=0 fail=0 failed=""
	s=$(sysroot_dir)
	cd "$REPO"
	for t in "$OBJ"/tests/*_test; do
		[ -x "$t" ] || continue
		echo "== $(basename "$t") (qemu-aarch64)"
		if QEMU_LD_PREFIX=$s qemu-aarch64-static -L "$s" "$t"; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			failed="$failed $(basename "$t")"
		fi
	done
	[ -z "$failed" ] || echo "failed:$failed"
	echo "test-arm64: $pass passed, $fail failed"
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
}

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, chroot, binfmt_misc)"
sh "$REPO/scripts/deps.sh" firmware
cmd=${1:-image}
case $cmd in
image) do_image "${2:-qemu-virt-arm64}" ;;
sysroot) timed sysroot sysroot_dir ;;
kernel) timed "kernel unpack" kernel_dir ;;
cross) timed "cross build" do_cross ;;
deb) timed "cross build" do_cross && timed deb do_deb ;;
rootfs) timed rootfs do_rootfs ;;
test-arm64) timed "cross build" do_cross && do_test_arm64 ;;
*) die "unknown command '$cmd' (image|sysroot|cross|deb|kernel|rootfs|test-arm64)" ;;
esac
