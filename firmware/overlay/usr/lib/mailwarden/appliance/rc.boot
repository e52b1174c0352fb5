#!/bin/sh
# rc.boot - appliance start-up, run once by busybox init (sysinit).
#
# The root filesystem is mounted read-only; everything that changes lives
# on the data partition (LABEL=MWDATA) mounted at /data:
#   /data/etc/mailwarden.conf          settings (written at first boot from
#                                      the package's, the firmware's and the
#                                      board's defaults; the console's rules
#                                      in the state database win over it)
#   /data/etc/appliance.conf           board facts (interface, test sink)
#   /data/etc/tls/{key,chain}.pem      the SMTP server key and certificate
#   /data/mailwarden/{sigs,state,tmp}  -> /var/lib/mailwarden   (bind mount)
#   /data/postfix/{spool,lib}          -> /var/spool/postfix, /var/lib/postfix
#   /data/log                          -> /var/log
#   /data/sink/msg.*                   test image only: the "internal server"
# First boot (no /data/.provisioned): directories, device key, hostname,
# rpi4: a one-time root password for the maintenance login on tty1.  The
# serial console (`mailwarden console`) asks for its admin password itself,
# then runs the guided set-up.  Then `apply boot` (host name, network,
# resolver, time servers, the TLS key at first boot, Postfix's main.cf:
# the same script the console's changes use), and Postfix.
# mailwardend, chronyd and the sink are started by init (respawn, see svc).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { echo "mailwarden-boot: $*" >/dev/console 2>/dev/null || echo "mailwarden-boot: $*"; }

mount_base() {
	mountpoint -q /proc || mount -t proc proc /proc
	mountpoint -q /sys || mount -t sysfs sysfs /sys
	mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mountpoint -q /dev/pts || mount -t devpts -o gid=5,mode=620 devpts /dev/pts
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
	mkdir -p /run/lock /run/mailwarden /run/postfix
	ln -sf /proc/self/fd /dev/fd 2>/dev/null
	hostname localhost
}

# grow_partition DEV - a data partition that is the last on its disk and
# ends 64 MiB or more before the disk does (the image written to a bigger
# card) is moved to end at the disk's end: sfdisk rewrites only its size,
# partx tells the kernel.  A whole-disk data device has nothing to move.
grow_partition() {
	name=${1##*/}
	sys=/sys/class/block/$name
	[ -f "$sys/partition" ] || return 0
	disk=$(basename "$(readlink -f "$sys/..")")
	nr=$(cat "$sys/partition")
	start=$(cat "$sys/start")
	size=$(cat "$sys/size")
	total=$(cat "/sys/class/block/$disk/size")
	[ $((total - start - size)) -ge 131072 ] || return 0
	command -v sfdisk >/dev/null 2>&1 || return 0
	if echo ", +" | sfdisk --no-reread --no-tell-kernel -q -N "$nr" "/dev/$disk" >/dev/null 2>&1; then
		partx -u --nr "$nr" "/dev/$disk" 2>/dev/null
		say "data partition $nr of $disk now ends at the end of the card"
	fi
}

mount_data() {
	dev=$(findfs LABEL=MWDATA 2>/dev/null)
	n=0
	while [ -z "$dev" ] && [ $n -lt 50 ]; do
		sleep 0.1
		dev=$(findfs LABEL=MWDATA 2>/dev/null)
		n=$((n + 1))
	done
	[ -n "$dev" ] && grow_partition "$dev"
	[ -n "$dev" ] && fsck.ext4 -p "$dev" >/dev/null 2>&1
	if [ -n "$dev" ] && mount -t ext4 -o noatime "$dev" /data; then
		say "data partition $dev on /data"
		# A device bigger than the file system (the image written to a
		# larger card or disk) is used whole: grown online, once; the
		# signatures alone need three times the database (live, last
		# good, an import being verified).
		if out=$(resize2fs "$dev" 2>&1) && printf '%s\n' "$out" | grep -q 'is now'; then
			say "data partition grown to its device: $(df -m /data | awk 'NR == 2 {print $2}') MB"
		fi
	else
		say "WARNING: no data partition (LABEL=MWDATA): state is kept in RAM and lost at power-off"
		mount -t tmpfs -o mode=0755 tmpfs /data
	fi
}

provision() {
	[ -f /data/.provisioned ] && return 0
	say "first boot: provisioning the data partition"
	mkdir -p /data/etc /data/log /data/postfix/spool /data/postfix/lib \
		/data/mailwarden/sigs /data/mailwarden/state /data/mailwarden/tmp
	[ -f /data/etc/appliance.conf ] || cp /etc/mailwarden/appliance.conf /data/etc/appliance.conf
	if [ ! -f /data/etc/mailwarden.conf ]; then
		# the package's configuration, then the firmware's and the board's
		# sections (INI: a later key wins)
		cat /etc/mailwarden/mailwarden.conf /etc/mailwarden/firmware.conf \
			/etc/mailwarden/board.conf >/data/etc/mailwarden.conf.new 2>/dev/null
		mv /data/etc/mailwarden.conf.new /data/etc/mailwarden.conf
	fi
	[ -n "$(ls -A /data/mailwarden/sigs)" ] || cp /usr/share/mailwarden/sigs/* /data/mailwarden/sigs/
	# Device key: 256 random bits, the key of the encrypted quarantine
	# (paths.state/device.key, the file mailwardend would otherwise
	# create on first use).
	key=/data/mailwarden/state/device.key
	if [ ! -s $key ]; then
		umask 077
		head -c 32 /dev/urandom >$key.tmp && sync && mv $key.tmp $key
		umask 022
	fi
	chown -R mailwarden:mailwarden /data/mailwarden
	chown postfix /data/postfix/lib
	chmod 0700 /data/mailwarden/state /data/mailwarden/tmp
	chmod 0600 $key
	# A device id (host name suffix when none is set) from the key's hash.
	id=$(sha256sum $key | cut -c1-6)
	echo "$id" >/data/etc/device-id
	. /data/etc/appliance.conf
	if [ "${CONSOLE_PASSWORD:-no}" = yes ] && [ ! -f /data/etc/shadow ]; then
		pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-12)
		hash=$(busybox mkpasswd -m sha512 "$pw")
		sed "s|^root:[^:]*:|root:$hash:|" /etc/shadow >/data/etc/shadow
		chmod 0640 /data/etc/shadow
		chgrp shadow /data/etc/shadow 2>/dev/null
		say "one-time root password for the maintenance login on tty1: $pw (shown once; change it)"
	fi
	sync
	touch /data/.provisioned
}

bind_state() {
	mount --bind /data/mailwarden /var/lib/mailwarden
	mount --bind /data/postfix/spool /var/spool/postfix
	mount --bind /data/postfix/lib /var/lib/postfix
	mount --bind /data/log /var/log
	[ -f /data/etc/shadow ] && mount --bind /data/etc/shadow /etc/shadow
	mkdir -p /var/lib/mailwarden/tmp
	chown mailwarden:postfix /run/mailwarden
	chmod 0750 /run/mailwarden
}

mount_base
mount_data
provision
. /data/etc/appliance.conf
bind_state
# host name, network, resolver, time servers, TLS key, main.cf
/usr/lib/mailwarden/appliance/apply boot 2>&1 | while read -r line; do say "$line"; done
# Signatures follow mailwarden.conf's paths.signatures (default: on /data).
if [ "${SINK:-no}" = yes ]; then
	mkdir -p /data/sink
	chown nobody /data/sink
fi
if postfix start >/dev/null 2>&1; then
	say "postfix started"
else
	say "ERROR: postfix did not start; see /var/log/mail.log"
fi
say "boot done in $(cut -d' ' -f1 /proc/uptime) s"
exit 0
