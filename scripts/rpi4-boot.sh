#!/bin/bash
# rpi4-boot.sh - boot the Raspberry Pi 4 SD-card image under QEMU's
# raspi4b model (QEMU 9 and later; scripts/deps.sh firmware installs
# QEMU 10 from bookworm-backports) to the serial console.
#
# Usage: scripts/rpi4-boot.sh [IMAGE]   (default build/firmware/rpi4/mailwarden-rpi4.img)
#
# What is booted is the image's own: kernel (vmlinuz), device tree
# (bcm2711-rpi-4-b.dtb), initramfs (initrd.img) and kernel command line
# (cmdline.txt), read from its FAT boot partition with mtools; the whole
# image is the SD card (a sparse copy, grown to the power of two QEMU's SD
# model wants; the image file is never written).  QEMU
# does not run the Pi's GPU firmware (start4.elf, config.txt): it loads
# kernel, dtb and initramfs itself, as the firmware would.
#
# The serial ports: PL011 (ttyAMA0) and the mini UART (ttyS1, the
# appliance's console, console=ttyS1,115200 in cmdline.txt) are logged to
# files.  The boot passes when the mini UART shows the kernel, the SD card
# on emmc2, the initramfs mounting MWROOT from it, rc.boot mounting MWDATA
# and provisioning it (first boot), rc.boot finishing and `mailwarden
# console`'s first-boot prompt ("New password:"), with no soft lockup or
# RCU stall on the way.  Bounded by RPI4_BOOT_TIMEOUT seconds (default
# 480; a boot takes about a minute on a loaded 2-CPU host); QEMU runs
# under `nice -n ${RPI4_BOOT_NICE:-10}` and is stopped by its PID.
#
# What QEMU gets that the real board does not (QEMU only; the image is
# not changed, see the comments below): two kernel command-line options,
# a copy of the dtb with the mini UART polled (QEMU's interrupt-enable
# bits are swapped) and without the SD slot's supplies (their GPIO
# expander is not modelled), and the card in emmc2, the Pi 4's SD slot.
#
# Not modelled by QEMU's raspi4b, so not tested here (the log shows what
# the kernel found): the GENET Ethernet controller (QEMU disables its
# device-tree node), the PCIe root port and so the VL805 USB 3 controller
# behind it (the Pi 4's USB-A ports), the firmware's GPIO expander, the
# hardware watchdog's reset.  See firmware/README.md for how those are
# covered instead.
#
# Output: build/firmware/rpi4-boot/: uart0.log, uart1.log (the mini UART),
# uart1.timed (each line with the second it arrived), times.txt (the
# milestones), qemu.log, summary.txt.  RPI4_BOOT_KEEP=1 keeps the SD card
# copy (sd.img) for a look at /data afterwards.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
IMG=${1:-$REPO/build/firmware/rpi4/mailwarden-rpi4.img}
OUT=${RPI4_BOOT_DIR:-$REPO/build/firmware/rpi4-boot}
TIMEOUT=${RPI4_BOOT_TIMEOUT:-480}
QEMU=${QEMU:-qemu-system-aarch64}

die() { echo "rpi4-boot: $*" >&2; exit 1; }
[ -f "$IMG" ] || die "$IMG missing (make firmware BOARD=rpi4)"
"$QEMU" -M help | grep -q '^raspi4b' || die "$QEMU has no raspi4b machine (QEMU >= 9: sh scripts/deps.sh firmware)"
command -v mcopy >/dev/null || die "mcopy missing (mtools: scripts/deps.sh firmware)"
command -v fdtput >/dev/null || die "fdtput missing (device-tree-compiler: scripts/deps.sh firmware)"

rm -rf "$OUT"
mkdir -p "$OUT"
# the boot partition starts at 1 MiB (scripts/firmware-build.sh image_sdcard)
for f in vmlinuz initrd.img bcm2711-rpi-4-b.dtb cmdline.txt; do
	mcopy -n -i "$IMG@@1M" "::$f" "$OUT/$f" || die "no $f on the image's boot partition"
done
# QEMU only (the real board boots cmdline.txt and its dtb as they are):
# - initcall_blacklist: drivers of devices the model lacks fault at probe
#   time (Broadcom L2 interrupt controller, the HDMI I2C);
# - clk_ignore_unused: clocks the model does not have must not be switched
#   off.
cmdline="initcall_blacklist=brcmstb_l2_driver_init,brcmstb_i2c_driver_init clk_ignore_unused $(tr -d '\n' <"$OUT/cmdline.txt")"
# - the mini UART, polled: QEMU's model reads bit 0 of AUX_MU_IER as
#   "transmit interrupt" (the datasheet's text); the silicon, like a 16550
#   and Linux's 8250 driver, uses bit 0 for receive (the datasheet
#   erratum).  Once Linux opens ttyS1 and enables receive interrupts, the
#   model asserts its interrupt for an always-empty transmit FIFO and
#   never drops it: an interrupt storm on CPU 0 (soft lockups; the kernel
#   took ~4 minutes to open its console and the boot did not finish).  No
#   command-line option avoids it (threadirqs leaves CPU 0 to an irq
#   thread that never yields, so RCU stalls and module loading hangs), so
#   in the copy of the dtb given to QEMU the port is a plain 16550 (the
#   same registers, 32-bit spaced) without an interrupt, which the 8250
#   core polls (every 1-2 jiffies).  Still ttyS1 (alias serial1), still
#   the mini UART's registers and QEMU's serial port 1.
aux=/soc/serial@7e215040
[ "$(fdtget -t s "$OUT/bcm2711-rpi-4-b.dtb" "$aux" compatible 2>/dev/null)" = brcm,bcm2835-aux-uart ] ||
	die "the dtb has no mini UART at $aux"
fdtput -t s "$OUT/bcm2711-rpi-4-b.dtb" "$aux" compatible ns16550a
fdtput -d "$OUT/bcm2711-rpi-4-b.dtb" "$aux" interrupts
fdtput -t u "$OUT/bcm2711-rpi-4-b.dtb" "$aux" reg-shift 2
fdtput -t u "$OUT/bcm2711-rpi-4-b.dtb" "$aux" reg-io-width 4
fdtput -t s "$OUT/bcm2711-rpi-4-b.dtb" "$aux" no-loopback-test ""
# - the SD slot's supplies: its power switch (vmmc, a fixed regulator)
#   and its 1.8/3.3 V switch (vqmmc, a GPIO regulator) are driven through
#   the firmware's GPIO expander, which QEMU's firmware mailbox does not
#   implement ("Failed to get GPIO config"; both regulators' probes fail
#   with -EIO), so emmc2 would wait for its supplies for ever.  The copy
#   given to QEMU drops both supplies (QEMU's SD card needs no power
#   switch and stays at 3.3 V); the real board keeps them and loads both
#   regulator drivers from the initramfs (board/rpi4/modules).
emmc2=/emmc2bus/mmc@7e340000
for supply in vmmc-supply vqmmc-supply; do
	fdtget "$OUT/bcm2711-rpi-4-b.dtb" "$emmc2" "$supply" >/dev/null 2>&1 ||
		die "the dtb's emmc2 ($emmc2) has no $supply"
	fdtput -d "$OUT/bcm2711-rpi-4-b.dtb" "$emmc2" "$supply"
done
size=$(stat -c %s "$IMG")
card=1
while [ $card -lt "$size" ]; do card=$((card * 2)); done
# a sparse copy, grown to the power of two (the image file is never written)
cp --sparse=always "$IMG" "$OUT/sd.img"
truncate -s "$card" "$OUT/sd.img"

# The card goes into emmc2, the Pi 4's SD slot (the first generic-sdhci
# on QEMU's system bus; `-drive if=sd` would put it behind the GPIO
# multiplexer on the older Arasan controller, which on the Pi 4 is the
# WiFi chip's SDIO bus).
echo "$QEMU -M raspi4b ... (kernel, dtb, initramfs and cmdline.txt from $IMG)" >"$OUT/qemu.log"
echo "kernel command line: $cmdline" >>"$OUT/qemu.log"
# nice: other work on the host goes first; the guest's own timeouts (root
# device 30 s, data partition 5 s) are far from what a loaded host costs.
start=$(date +%s)
nice -n "${RPI4_BOOT_NICE:-10}" "$QEMU" -M raspi4b -m 2G -display none -no-reboot -monitor none \
	-kernel "$OUT/vmlinuz" -initrd "$OUT/initrd.img" -dtb "$OUT/bcm2711-rpi-4-b.dtb" \
	-append "$cmdline" \
	-drive "if=none,id=card,format=raw,file=$OUT/sd.img" \
	-device sd-card,drive=card,bus=/generic-sdhci/sd-bus \
	-serial "file:$OUT/uart0.log" -serial "file:$OUT/uart1.log" \
	</dev/null >>"$OUT/qemu.log" 2>&1 &
qpid=$!
stop() {
	[ -n "${RPI4_BOOT_KEEP:-}" ] || rm -f "$OUT/sd.img"
	if kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$qpid" 2>/dev/null || true
	fi
}
trap stop EXIT

want=(
	"kernel on the mini UART:Linux version"
	"the SD card (emmc2) found:mmcblk[0-9]: p1 p2 p3"
	"initramfs mounts the SD card's MWROOT:EXT4-fs \\(mmcblk[0-9]p2\\): mounted"
	"rc.boot mounts MWDATA from the SD card:mailwarden-boot: data partition /dev/mmcblk[0-9]p3 on /data"
	"MWDATA moved to the end of the bigger card:mailwarden-boot: data partition 3 of mmcblk[0-9] now ends at the end of the card"
	"MWDATA's file system grown with it:mailwarden-boot: data partition grown to its device"
	"first boot provisions /data:mailwarden-boot: first boot: provisioning"
	"rc.boot done:mailwarden-boot: boot done"
	"console's first-boot prompt:New password:"
)
# Milestones on the mini UART, seconds since QEMU started (wall clock,
# polled every second): where the boot's time goes.
marks=(
	"kernel started:Booting Linux|Linux version"
	"console open (init runs):Run /init as init process"
	"initramfs mounted MWROOT:EXT4-fs \\(mmcblk[0-9]p2\\): mounted"
	"rc.boot mounted MWDATA:mailwarden-boot: data partition"
	"rc.boot done:mailwarden-boot: boot done"
	"console prompt:New password:"
)
declare -A seen=()
: >"$OUT/times.txt"
: >"$OUT/uart1.timed"
lines=0
ok=0
while :; do
	# uart1.timed: each complete line with the second it arrived
	n=$(wc -l 2>/dev/null <"$OUT/uart1.log" || echo 0)
	if [ "$n" -gt "$lines" ]; then
		sed -n "$((lines + 1)),${n}p" "$OUT/uart1.log" | sed "s/^/$(($(date +%s) - start))s | /" >>"$OUT/uart1.timed"
		lines=$n
	fi
	for m in "${marks[@]}"; do
		name=${m%%:*}
		[ -z "${seen[$name]:-}" ] || continue
		if grep -aEq "${m#*:}" "$OUT/uart1.log" 2>/dev/null; then
			seen[$name]=$(($(date +%s) - start))
			echo "${seen[$name]}s $name" | tee -a "$OUT/times.txt"
		fi
	done
	if [ -n "${seen["console prompt"]:-}" ]; then
		ok=1
		break
	fi
	kill -0 "$qpid" 2>/dev/null || break
	[ $(($(date +%s) - start)) -lt "$TIMEOUT" ] || break
	sleep 1
done
secs=$(($(date +%s) - start))
stop

# What the model cannot run is checked where it is built: the initramfs
# must carry the drivers of the real board's SD controller (emmc2) and
# Ethernet (GENET, its UniMAC MDIO bus and the Broadcom PHY).
mods=$( (gzip -dc "$OUT/initrd.img" 2>/dev/null || cat "$OUT/initrd.img") | cpio -t --quiet 2>/dev/null | tr '\n' ' ')
pass=0
fail=0
sum=$OUT/summary.txt
check() { # check NAME yes|no
	if [ "$2" = yes ]; then
		echo "PASS $1" >>"$sum"
		pass=$((pass + 1))
	else
		echo "FAIL $1" >>"$sum"
		fail=$((fail + 1))
	fi
}
has() { grep -aEq "$1" "$OUT/uart1.log" 2>/dev/null && echo yes || echo no; }
echo "rpi4 image under QEMU $("$QEMU" --version | head -n 1 | awk '{print $4}') -M raspi4b, ${secs}s" >"$sum"
for w in "${want[@]}"; do
	check "${w%%:*}" "$(has "${w#*:}")"
done
check "no soft lockup or RCU stall" "$(grep -aEq 'soft lockup|rcu_sched.*stall' "$OUT/uart1.log" && echo no || echo yes)"
for m in sdhci-iproc fixed gpio-regulator genet mdio-bcm-unimac broadcom; do
	check "initramfs carries $m.ko" "$(echo "$mods" | grep -q "/$m.ko" && echo yes || echo no)"
done
{
	echo "-- seconds since QEMU started (wall clock, this host):"
	sed 's/^/   /' "$OUT/times.txt"
	echo "-- what the kernel found (not modelled: GENET Ethernet, PCIe/VL805 USB):"
	grep -ahiE "genet|bcmgenet|eth0|mmc[0-9]|sdhci|pcie|xhci|usb [0-9]" "$OUT/uart1.log" |
		head -n 15 | sed 's/^/   /' || true
	echo "$pass passed, $fail failed"
} >>"$sum"
cat "$sum"
if [ $ok != 1 ] || [ $fail != 0 ]; then
	echo "rpi4-boot: FAILED: the rpi4 image did not reach the console's first-boot prompt with every check passing; see $OUT/uart1.timed and $sum" >&2
	exit 1
fi
