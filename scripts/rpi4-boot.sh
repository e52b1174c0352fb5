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
# files.  The boot passes when the mini UART shows the kernel, the
# initramfs mounting MWROOT from the SD card, rc.boot finishing and
# `mailwarden console`'s prompt (first boot: "New password:").  Bounded by
# RPI4_BOOT_TIMEOUT seconds (default 1800: TCG is slow); QEMU is stopped by
# its PID.
#
# Not modelled by QEMU's raspi4b, so not tested here (the log shows what
# the kernel found): the GENET Ethernet controller (bcmgenet: no MAC is
# emulated, the driver's probe finds nothing), the PCIe root port and so
# the VL805 USB 3 controller behind it (the Pi 4's USB-A ports), the
# hardware watchdog's reset.  See firmware/README.md for how those are
# covered instead.
#
# Output: build/firmware/rpi4-boot/{uart0.log,uart1.log,qemu.log,summary.txt}
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
IMG=${1:-$REPO/build/firmware/rpi4/mailwarden-rpi4.img}
OUT=${RPI4_BOOT_DIR:-$REPO/build/firmware/rpi4-boot}
TIMEOUT=${RPI4_BOOT_TIMEOUT:-1800}
QEMU=${QEMU:-qemu-system-aarch64}

die() { echo "rpi4-boot: $*" >&2; exit 1; }
[ -f "$IMG" ] || die "$IMG missing (make firmware BOARD=rpi4)"
"$QEMU" -M help | grep -q '^raspi4b' || die "$QEMU has no raspi4b machine (QEMU >= 9: sh scripts/deps.sh firmware)"
command -v mcopy >/dev/null || die "mcopy missing (mtools: scripts/deps.sh firmware)"

rm -rf "$OUT"
mkdir -p "$OUT"
# the boot partition starts at 1 MiB (scripts/firmware-build.sh image_sdcard)
for f in vmlinuz initrd.img bcm2711-rpi-4-b.dtb cmdline.txt; do
	mcopy -n -i "$IMG@@1M" "::$f" "$OUT/$f" || die "no $f on the image's boot partition"
done
# QEMU only: drivers of devices the model lacks fault at probe time
# (Broadcom L2 interrupt controller, the HDMI I2C) and clocks it does not
# model must not be switched off; the real board boots cmdline.txt as is.
cmdline="initcall_blacklist=brcmstb_l2_driver_init,brcmstb_i2c_driver_init clk_ignore_unused $(tr -d '\n' <"$OUT/cmdline.txt")"
size=$(stat -c %s "$IMG")
card=1
while [ $card -lt "$size" ]; do card=$((card * 2)); done
# a sparse copy, grown to the power of two (the image file is never written)
cp --sparse=always "$IMG" "$OUT/sd.img"
truncate -s "$card" "$OUT/sd.img"

echo "$QEMU -M raspi4b ... (kernel, dtb, initramfs and cmdline.txt from $IMG)" >"$OUT/qemu.log"
start=$(date +%s)
"$QEMU" -M raspi4b -m 2G -display none -no-reboot -monitor none \
	-kernel "$OUT/vmlinuz" -initrd "$OUT/initrd.img" -dtb "$OUT/bcm2711-rpi-4-b.dtb" \
	-append "$cmdline" \
	-drive "if=sd,format=raw,file=$OUT/sd.img" \
	-serial "file:$OUT/uart0.log" -serial "file:$OUT/uart1.log" \
	</dev/null >>"$OUT/qemu.log" 2>&1 &
qpid=$!
stop() {
	rm -f "$OUT/sd.img"
	if kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$qpid" 2>/dev/null || true
	fi
}
trap stop EXIT

want=(
	"kernel:Linux version"
	"initramfs mounts the SD card's root:mounting.*MWROOT|switch_root|mailwarden-boot:"
	"rc.boot done:mailwarden-boot: boot done"
	"serial console prompt:New password:|Mailwarden login:"
)
ok=0
while :; do
	if grep -aEq "New password:|Mailwarden login:" "$OUT/uart1.log" 2>/dev/null; then
		ok=1
		break
	fi
	kill -0 "$qpid" 2>/dev/null || break
	[ $(($(date +%s) - start)) -lt "$TIMEOUT" ] || break
	sleep 2
done
secs=$(($(date +%s) - start))
stop

# What the model cannot run is checked where it is built: the initramfs
# must carry the drivers of the real board's SD controller (emmc2) and
# Ethernet (GENET, its UniMAC MDIO bus and the Broadcom PHY).
mods=$( (gzip -dc "$OUT/initrd.img" 2>/dev/null || cat "$OUT/initrd.img") | cpio -t --quiet 2>/dev/null | tr '\n' ' ')
pass=0
fail=0
{
	echo "rpi4 image under QEMU $("$QEMU" --version | head -n 1 | awk '{print $4}') -M raspi4b, ${secs}s"
	for w in "${want[@]}"; do
		name=${w%%:*}
		rx=${w#*:}
		if grep -aEq "$rx" "$OUT/uart1.log" "$OUT/uart0.log" 2>/dev/null; then
			echo "PASS $name"
			pass=$((pass + 1))
		else
			echo "FAIL $name"
			fail=$((fail + 1))
		fi
	done
	for m in sdhci-iproc genet mdio-bcm-unimac broadcom; do
		if echo "$mods" | grep -q "/$m.ko"; then
			echo "PASS initramfs carries $m.ko (real board; not modelled or not used by QEMU)"
			pass=$((pass + 1))
		else
			echo "FAIL initramfs lacks $m.ko"
			fail=$((fail + 1))
		fi
	done
	echo "-- what the kernel found (not modelled: GENET Ethernet, PCIe/VL805 USB):"
	grep -ahiE "genet|bcmgenet|eth0|mmc[0-9]|sdhci|pcie|xhci|usb [0-9]" "$OUT/uart1.log" "$OUT/uart0.log" |
		head -n 15 | sed 's/^/   /' || true
} | tee "$OUT/summary.txt"
echo "$pass passed, $fail failed"
[ $ok = 1 ] && [ $fail = 0 ]
