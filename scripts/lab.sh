#!/bin/sh
# lab.sh - the loopback lab: a private Postfix instance on 127.0.0.1 that
# hands every message to mailwardend and relays what it accepts to an
# smtp-sink that keeps one file per delivered message.
#
#   SMTP client -> 127.0.0.1:$LAB_PORT  Postfix smtpd  --milter-->  mailwardend
#                                       |  (accepted mail)
#                                       v
#                  127.0.0.1:$SINK_PORT smtp-sink -> $RUN_DIR/sink/msg.XXXXXXXX
#
# Usage: scripts/lab.sh start|stop|status|restart-milter|stop-milter|start-milter
#                      |stop-sink|start-sink   (the sink down: mail waits in the MTA queue)
#
# MTA=sendmail runs the same lab with a private Sendmail in place of
# Postfix (scripts/lab-sendmail.sh, docs/sendmail.md); everything else
# (sink, mailwardend, its configuration) is shared.
#
# Environment (all optional):
#   MTA               postfix | sendmail                (default postfix)
#   RUN_DIR           where everything lives            (default $REPO/run)
#   LAB_PORT          Postfix smtpd / Sendmail port     (default 2525)
#   SINK_PORT         smtp-sink port                    (default 2526)
#   MILTER            unix | inet | none                (default unix)
#   MILTER_INET_PORT  mailwardend port when MILTER=inet (default 2527)
#   MW_ARGS           extra mailwardend arguments
#   MW_CGROUP         a cgroup directory mailwardend is started in (memory tests)
#   SIGS_DIR          signature directory               (default $REPO/sigs)
#   LISTS_DIR         shipped lists (paths.lists)  (default $REPO/data/lists if
#                     it exists, else an empty $RUN_DIR/mailwarden/lists)
#   BUILD_DIR         where mailwardend was built       (default build)
#   MAILWARDEND       the daemon binary   (default $REPO/$BUILD_DIR/mailwardend)
#   LAB_USER          the daemon's unprivileged user    (default mailwarden)
#   SENDMAIL_ROOT     unpacked sendmail-bin/-cf (MTA=sendmail; default
#                     /var/cache/mailwarden-lab/sendmail, see deps.sh)
#   SM_MILTER_TIMEOUTS  MTA=sendmail: T= of the filter (default
#                     C:10s;S:10s;R:30s;E:5m; restart-milter applies a change)
#
# Layout under $RUN_DIR:
#   postfix/etc/{main.cf,master.cf}  private config_directory (postfix -c)
#   postfix/queue, postfix/data      queue_directory, data_directory
#   sendmail/                        MTA=sendmail instead: etc/sendmail.{mc,cf},
#                                    queue/, bin/ (see lab-sendmail.sh)
#   mailwarden/                      daemon user's dir (mode 0750, group
#                                    postfix): mailwardend.sock, state/, tmp/
#   sink/msg.*                       one file per delivered message: smtp-sink
#                                    X-Client-Addr/X-Mail-Args/X-Rcpt-Args/
#                                    Received lines, then the full message
#   log/{postfix,mailwardend,sink}.log   (sendmail.log with MTA=sendmail)
#   pid/{mailwardend,sink}.pid       processes we started, stopped by PID
#   lab.env                          the settings `start` used
#
# Needs root (Postfix's master runs as root, mailwardend drops to LAB_USER).
# The first start creates the system user `mailwarden` (useradd --system,
# no home, nologin shell) if it does not exist.
#
# The system Postfix (/etc/postfix) is never read for settings, written or
# started: everything goes through `postfix -c $RUN_DIR/postfix/etc`.  As
# root, postfix(1) accepts a non-default config directory without it being
# listed in alternate_config_directories of /etc/postfix/main.cf (that
# check only binds the set-gid postdrop/sendmail, which the lab never uses),
# and /etc/postfix/main.cf need not exist.  meta_directory stays
# /etc/postfix (read only: postfix-files, dynamicmaps.cf).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)

# Settings of a running lab win over defaults, so `lab.sh stop` finds what
# `RUN_DIR=... LAB_PORT=... lab.sh start` started.  MW_ARGS and LISTS_DIR
# set to the empty string (not unset) reset them to the defaults.
RUN_DIR=${RUN_DIR:-$REPO/run}
case $RUN_DIR in /*) ;; *) RUN_DIR=$(pwd)/$RUN_DIR ;; esac
if [ "${1:-}" != start ] && [ -f "$RUN_DIR/lab.env" ]; then
	# shellcheck disable=SC1091
	. "$RUN_DIR/lab.env"
fi
MTA=${MTA:-${SAVED_MTA:-postfix}}
LAB_PORT=${LAB_PORT:-${SAVED_LAB_PORT:-2525}}
SINK_PORT=${SINK_PORT:-${SAVED_SINK_PORT:-2526}}
MILTER=${MILTER:-${SAVED_MILTER:-unix}}
MILTER_INET_PORT=${MILTER_INET_PORT:-${SAVED_MILTER_INET_PORT:-2527}}
MW_ARGS=${MW_ARGS-${SAVED_MW_ARGS:-}}
SIGS_DIR=${SIGS_DIR:-${SAVED_SIGS_DIR:-$REPO/sigs}}
LISTS_DIR=${LISTS_DIR-${SAVED_LISTS_DIR:-}}
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$REPO/$BUILD_DIR ;; esac
MAILWARDEND=${MAILWARDEND:-${SAVED_MAILWARDEND:-$BUILD_DIR/mailwardend}}
LAB_USER=${LAB_USER:-mailwarden}
MAILWARDEN_CLI=$(dirname "$MAILWARDEND")/mailwarden

PF_ETC=$RUN_DIR/postfix/etc
PF_QUEUE=$RUN_DIR/postfix/queue
PF_DATA=$RUN_DIR/postfix/data
MW_DIR=$RUN_DIR/mailwarden
MW_SOCK=$MW_DIR/mailwardend.sock
MW_CONF=$RUN_DIR/mailwarden.conf
SINK_DIR=$RUN_DIR/sink
LOG_DIR=$RUN_DIR/log
PID_DIR=$RUN_DIR/pid

WAIT_TENTHS=${LAB_WAIT_TENTHS:-150} # readiness bound: 15 s

case $MTA in
postfix | sendmail) ;;
*) echo "lab: error: MTA must be postfix or sendmail (got '$MTA')" >&2; exit 1 ;;
esac
# The Sendmail functions (sm_*, start_sendmail, stop_sendmail): they use the
# variables above and the helpers below, called only after both are defined.
# shellcheck source=scripts/lab-sendmail.sh
. "$REPO/scripts/lab-sendmail.sh"

say() { echo "lab: $*"; }
die() { echo "lab: error: $*" >&2; exit 1; }

# tail_log - show the end of a log to explain a failure
tail_log() {
	if [ -f "$1" ]; then
		echo "---- last lines of $1 ----" >&2
		tail -n 25 "$1" >&2
		echo "----" >&2
	else
		echo "(no log file $1)" >&2
	fi
}

# port_open PORT - true when something accepts TCP on 127.0.0.1:PORT
port_open() {
	# bash-free check: ss lists listening sockets without connecting.
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q "127.0.0.1:$1"
}

# start_time PID - the process's start time (clock ticks since boot, field 22
# of /proc/PID/stat, read after the command name, which may hold spaces)
start_time() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'
}

# record_start PIDFILE - remember when the process in PIDFILE started, so a
# PID the kernel gives to another process later is not taken for ours
record_start() {
	p=$(head -n 1 "$1" 2>/dev/null | tr -dc 0-9)
	[ -n "$p" ] && start_time "$p" >"$1.start" 2>/dev/null || true
}

# pid_alive PIDFILE NAME - print the PID if the process in PIDFILE is alive,
# is NAME and (when recorded) started when ours did: PIDs wrap within
# minutes on a busy machine, and another lab's process of the same name
# must never be taken for (and stopped as) ours; empty otherwise.
pid_alive() {
	[ -f "$1" ] || return 0
	p=$(head -n 1 "$1" 2>/dev/null | tr -dc 0-9)
	case $p in '') return 0 ;; esac
	[ -d "/proc/$p" ] || return 0
	if [ -f "$1.start" ] && [ "$(cat "$1.start" 2>/dev/null)" != "$(start_time "$p")" ]; then
		return 0
	fi
	# a zombie (not reaped by a parent that is not us) is gone
	[ "$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null)" = Z ] && return 0
	comm=$(cat "/proc/$p/comm" 2>/dev/null || true)
	case $comm in "$2"*) echo "$p" ;; esac
	return 0
}

# started_alive PID NAME - true while a process this script has just put
# in the background (`setsid NAME ... &`) is alive.  Until the forked shell
# has exec'd setsid and setsid has exec'd NAME, its comm is still this
# shell's or "setsid": pid_alive, made for PID files of earlier runs, takes
# that for a recycled PID and says "gone", and a start on a busy machine
# failed with "exited during start" while the daemon was still starting.
started_alive() {
	[ -d "/proc/$1" ] || return 1
	[ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" != Z ] || return 1
	case $(cat "/proc/$1/comm" 2>/dev/null) in
	"$2"* | setsid | "$SELF_COMM") return 0 ;;
	esac
	return 1
}
SELF_COMM=$(cat /proc/$$/comm 2>/dev/null || echo sh)

# stop_pid PIDFILE NAME - SIGTERM, wait (bounded), SIGKILL; idempotent.
stop_pid() {
	p=$(pid_alive "$1" "$2")
	if [ -n "$p" ]; then
		kill -TERM "$p" 2>/dev/null || true
		n=0
		while [ -d "/proc/$p" ] && [ $n -lt 100 ]; do
			# a zombie child of ours counts as gone
			st=$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
			[ "$st" = Z ] && break
			sleep 0.1
			n=$((n + 1))
		done
		if [ -d "/proc/$p" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null)" != Z ]; then
			say "$2 ($p) ignored SIGTERM for 10 s, sending SIGKILL"
			kill -KILL "$p" 2>/dev/null || true
		fi
		say "stopped $2 ($p)"
	fi
	rm -f "$1" "$1.start"
}

# milter_spec - Postfix's name for the milter socket, or empty for none
milter_spec() {
	case $MILTER in
	unix) echo "unix:$MW_SOCK" ;;
	inet) echo "inet:127.0.0.1:$MILTER_INET_PORT" ;;
	none) echo "" ;;
	*) die "MILTER must be unix, inet or none (got '$MILTER')" ;;
	esac
}

# ensure_user - the unprivileged daemon user; created once, documented above
ensure_user() {
	if ! getent passwd "$LAB_USER" >/dev/null; then
		say "creating system user $LAB_USER (useradd --system)"
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin --user-group "$LAB_USER"
	fi
}

write_env() {
	cat >"$RUN_DIR/lab.env" <<EOF
# written by lab.sh start; read by later lab.sh commands
SAVED_MTA=$MTA
SAVED_LAB_PORT=$LAB_PORT
SAVED_SINK_PORT=$SINK_PORT
SAVED_MILTER=$MILTER
SAVED_MILTER_INET_PORT=$MILTER_INET_PORT
SAVED_MW_ARGS='$MW_ARGS'
SAVED_SIGS_DIR='$SIGS_DIR'
SAVED_LISTS_DIR='$LISTS_DIR'
SAVED_MAILWARDEND='$MAILWARDEND'
SAVED_SM_MILTER_TIMEOUTS='$SM_MILTER_TIMEOUTS'
EOF
}

# write_postfix_config - main.cf and master.cf of the private instance
write_postfix_config() {
	mkdir -p "$PF_ETC"
	cat >"$PF_ETC/main.cf" <<EOF
# Private Postfix instance of the Mailwarden lab (generated by lab.sh).
# pickup takes mail released from the quarantine (sendmail -C this dir);
# non_smtpd_milters is empty, so it does not pass mailwardend again.
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = mailwarden-lab-$LAB_PORT
maillog_file = $LOG_DIR/postfix.log
maillog_file_prefixes = $LOG_DIR
myhostname = mailwarden-lab.localdomain
mydomain = localdomain
myorigin = \$myhostname

# Loopback only, IPv4 only.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtp_bind_address = 127.0.0.1

# No local delivery: everything is relayed to the sink.
mydestination =
local_recipient_maps =
local_transport = error:local delivery is disabled in the lab
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relay_domains =
relayhost = [127.0.0.1]:$SINK_PORT
default_transport = smtp
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject
notify_classes =
smtputf8_enable = yes
smtpd_peername_lookup = no
smtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no

# Tests send hundreds of mails fast and get many 5xx on purpose.
message_size_limit = 104857600
mailbox_size_limit = 0
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 100
smtp_destination_concurrency_limit = 20
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 60s

# The milter: fail closed.
smtpd_milters = $(milter_spec)
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 300s
milter_connect_macros = j {daemon_name} {daemon_addr} v _ {client_addr} {client_name} {client_port}
milter_helo_macros = {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}
milter_rcpt_macros = i {rcpt_addr} {rcpt_host} {rcpt_mailer}
milter_data_macros = i
milter_end_of_header_macros = i
milter_end_of_data_macros = i {mail_addr} {auth_authen} {client_addr}
EOF
	# No chroot anywhere (last-but-4 column "n").
	cat >"$PF_ETC/master.cf" <<EOF
# Private Postfix instance of the Mailwarden lab (generated by lab.sh).
# pickup takes mail released from the quarantine (sendmail -C this dir);
# non_smtpd_milters is empty, so it does not pass mailwardend again.
# service            type  private unpriv chroot wakeup maxproc command
127.0.0.1:$LAB_PORT  inet  n       -      n      -      -       smtpd
pickup               unix  n       -      n      60     1       pickup
cleanup              unix  n       -      n      -      0       cleanup
qmgr                 unix  n       -      n      300    1       qmgr
rewrite              unix  -       -      n      -      -       trivial-rewrite
bounce               unix  -       -      n      -      0       bounce
defer                unix  -       -      n      -      0       bounce
trace                unix  -       -      n      -      0       bounce
verify               unix  -       -      n      -      1       verify
flush                unix  n       -      n      1000?  0       flush
proxymap             unix  -       -      n      -      -       proxymap
smtp                 unix  -       -      n      -      -       smtp
relay                unix  -       -      n      -      -       smtp
showq                unix  n       -      n      -      -       showq
error                unix  -       -      n      -      -       error
retry                unix  -       -      n      -      -       error
discard              unix  -       -      n      -      -       discard
anvil                unix  -       -      n      -      1       anvil
scache               unix  -       -      n      -      1       scache
postlog              unix-dgram n  -      n      -      1       postlogd
EOF
}

# start_sink - smtp-sink on 127.0.0.1:$SINK_PORT, one file per message
start_sink() {
	if [ -n "$(pid_alive "$PID_DIR/sink.pid" smtp-sink)" ]; then
		return 0
	fi
	port_open "$SINK_PORT" && die "127.0.0.1:$SINK_PORT is already in use (SINK_PORT)"
	mkdir -p "$SINK_DIR"
	chown nobody "$SINK_DIR"
	# -d: one dump file per transaction, "msg." + random hex; -u: drop root;
	# -m: connection bound; -c off (quiet log).  setsid: own session, so a
	# ^C in the starting terminal does not kill it.
	setsid smtp-sink -u nobody -d "$SINK_DIR/msg." -m 200 -h sink.localdomain \
		"127.0.0.1:$SINK_PORT" 500 </dev/null >>"$LOG_DIR/sink.log" 2>&1 &
	echo $! >"$PID_DIR/sink.pid"
	record_start "$PID_DIR/sink.pid"
	n=0
	while ! port_open "$SINK_PORT"; do
		if ! started_alive "$(cat "$PID_DIR/sink.pid")" smtp-sink || [ $n -ge "$WAIT_TENTHS" ]; then
			tail_log "$LOG_DIR/sink.log"
			die "smtp-sink did not come up on 127.0.0.1:$SINK_PORT"
		fi
		sleep 0.1
		n=$((n + 1))
	done
	say "smtp-sink on 127.0.0.1:$SINK_PORT (pid $(cat "$PID_DIR/sink.pid"))"
}

# write_mw_conf LISTS - the lab's mailwarden.conf: an organisation at
# example.com whose public addresses are info@ and soudan@; released mail
# goes back through this Postfix's sendmail (pickup has no milter), or with
# MTA=sendmail through the lab Sendmail's command line (no milter either).
write_mw_conf() {
	if [ "$MTA" = sendmail ]; then
		release=$(sm_release_command)
		probe="$REPO/scripts/mailwarden-release-probe sendmail $SM_QUEUE"
	else
		release="/usr/sbin/sendmail -C $PF_ETC -G -i"
		probe="$REPO/scripts/mailwarden-release-probe postfix $PF_ETC"
	fi
	cat >"$MW_CONF" <<CONF
# mailwarden.conf for the loopback lab (written by scripts/lab.sh)
[daemon]
socket_group = postfix
reload_interval = 5
# control socket of the console and mailwarden ctl (root and the daemon user)
control_socket = $MW_DIR/control.sock

[paths]
signatures = $SIGS_DIR
lists = $1
state = $MW_DIR/state
tmp = $MW_DIR/tmp

[domains]
protected = example.com
public = info@example.com, soudan@example.com
org_names = Example Corporation, 日本年金機構

[quarantine]
release_command = $release
# a release cut off by a crash: does this MTA's queue hold it?
release_probe = $probe

[antivirus]
# the daemon's copy of the last signature set that loaded (beside, not
# inside, the state directory, which some tests put on a tiny tmpfs)
last_good = $MW_DIR/sigs.last-good
[system]
# the lab is set up by this file: the console's guided set-up does not start
configured = yes
CONF
	chmod 0644 "$MW_CONF"
}

# start_milter - mailwardend in the foreground of a background job
start_milter() {
	[ "$MILTER" = none ] && return 0
	if [ -n "$(pid_alive "$PID_DIR/mailwardend.pid" mailwardend)" ]; then
		return 0
	fi
	[ -x "$MAILWARDEND" ] || die "$MAILWARDEND not built (run make, or set BUILD_DIR/MAILWARDEND)"
	mkdir -p "$MW_DIR/state" "$MW_DIR/tmp"
	lists=$LISTS_DIR
	if [ -z "$lists" ]; then
		lists=$REPO/data/lists
		if [ ! -d "$lists" ]; then
			lists=$MW_DIR/lists
			mkdir -p "$lists"
		fi
	fi
	chown "$LAB_USER:postfix" "$MW_DIR"
	chmod 0750 "$MW_DIR"
	chown "$LAB_USER:$LAB_USER" "$MW_DIR/state" "$MW_DIR/tmp"
	chmod 0700 "$MW_DIR/state" "$MW_DIR/tmp"
	rm -f "$MW_SOCK"
	case $MILTER in
	unix) spec="unix:$MW_SOCK" ;;
	inet)
		port_open "$MILTER_INET_PORT" && die "127.0.0.1:$MILTER_INET_PORT is already in use (MILTER_INET_PORT)"
		spec="inet:$MILTER_INET_PORT@127.0.0.1"
		;;
	esac
	write_mw_conf "$lists"
	echo "==== $(date '+%F %T') start: $MAILWARDEND -f -c $MW_CONF -p $spec $MW_ARGS" >>"$LOG_DIR/mailwardend.log"
	if [ -n "${MW_CGROUP:-}" ]; then
		# MW_CGROUP: start the daemon inside that (memory) cgroup, so every
		# byte it allocates is charged there from the first one
		# shellcheck disable=SC2016,SC2086
		setsid sh -c 'echo $$ >"$1/cgroup.procs" || exit 1; shift; exec "$@"' sh "$MW_CGROUP" \
			"$MAILWARDEND" -f -c "$MW_CONF" -p "$spec" -u "$LAB_USER" \
			$MW_ARGS </dev/null >>"$LOG_DIR/mailwardend.log" 2>&1 &
		cg_pid=$!
		n=0
		while [ "$(cat /proc/$cg_pid/comm 2>/dev/null)" = sh ] && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
	else
		# shellcheck disable=SC2086
		setsid "$MAILWARDEND" -f -c "$MW_CONF" -p "$spec" -u "$LAB_USER" \
			$MW_ARGS </dev/null >>"$LOG_DIR/mailwardend.log" 2>&1 &
	fi
	echo $! >"$PID_DIR/mailwardend.pid"
	record_start "$PID_DIR/mailwardend.pid"
	n=0
	while :; do
		if ! started_alive "$(cat "$PID_DIR/mailwardend.pid")" mailwardend; then
			tail_log "$LOG_DIR/mailwardend.log"
			die "mailwardend exited during start"
		fi
		if [ "$MILTER" = unix ] && [ -S "$MW_SOCK" ]; then break; fi
		if [ "$MILTER" = inet ] && port_open "$MILTER_INET_PORT"; then break; fi
		if [ $n -ge "$WAIT_TENTHS" ]; then
			tail_log "$LOG_DIR/mailwardend.log"
			die "mailwardend socket $spec did not appear in $((WAIT_TENTHS / 10)) s"
		fi
		sleep 0.1
		n=$((n + 1))
	done
	say "mailwardend on $spec (pid $(cat "$PID_DIR/mailwardend.pid"), user $LAB_USER)"
}

stop_milter() {
	stop_pid "$PID_DIR/mailwardend.pid" mailwardend
}

# smtp_greets PORT - true when 127.0.0.1:PORT answers with a 220 greeting
smtp_greets() {
	/usr/bin/python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
ok = s.recv(512).startswith(b"220")
s.sendall(b"QUIT\r\n")
s.close()
sys.exit(0 if ok else 1)
PY
}

postfix_running() {
	postfix -c "$PF_ETC" status >/dev/null 2>&1
}

start_postfix() {
	mkdir -p "$PF_QUEUE" "$PF_DATA"
	chown root:root "$PF_QUEUE"
	chmod 0755 "$PF_QUEUE"
	chown postfix "$PF_DATA"
	if postfix_running; then
		postfix -c "$PF_ETC" reload >/dev/null 2>&1
		return 0
	fi
	port_open "$LAB_PORT" && die "127.0.0.1:$LAB_PORT is already in use (LAB_PORT)"
	# `postfix check` (part of start) creates the queue subdirectories with
	# the owners and modes of /etc/postfix/postfix-files.
	if ! postfix -c "$PF_ETC" start >>"$LOG_DIR/postfix-start.log" 2>&1; then
		tail_log "$LOG_DIR/postfix-start.log"
		tail_log "$LOG_DIR/postfix.log"
		die "postfix -c $PF_ETC start failed"
	fi
	n=0
	while ! port_open "$LAB_PORT"; do
		if [ $n -ge "$WAIT_TENTHS" ]; then
			tail_log "$LOG_DIR/postfix.log"
			die "Postfix smtpd did not come up on 127.0.0.1:$LAB_PORT"
		fi
		sleep 0.1
		n=$((n + 1))
	done
	# The port answers: wait for the greeting too (bounded).
	n=0
	until smtp_greets "$LAB_PORT"; do
		if [ $n -ge 20 ]; then
			tail_log "$LOG_DIR/postfix.log"
			die "Postfix smtpd on 127.0.0.1:$LAB_PORT does not greet"
		fi
		sleep 0.5
		n=$((n + 1))
	done
	say "Postfix (private, config $PF_ETC) on 127.0.0.1:$LAB_PORT"
}

# pf_master_pid - the pid in this lab's Postfix master.pid (empty if none)
pf_master_pid() {
	[ -f "$PF_QUEUE/pid/master.pid" ] && tr -dc 0-9 <"$PF_QUEUE/pid/master.pid"
	return 0
}

stop_postfix() {
	[ -f "$PF_ETC/main.cf" ] || return 0
	mpid=$(pf_master_pid)
	if postfix_running; then
		postfix -c "$PF_ETC" stop >/dev/null 2>&1 || true
	fi
	if [ -n "$mpid" ] && [ "$(cat /proc/"$mpid"/comm 2>/dev/null)" = master ]; then
		n=0
		while [ -d "/proc/$mpid" ] && [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		if [ -d "/proc/$mpid" ] && [ "$(cat /proc/"$mpid"/comm 2>/dev/null)" = master ]; then
			say "Postfix master ($mpid) still up after 10 s: abort"
			postfix -c "$PF_ETC" abort >/dev/null 2>&1 || kill -KILL "$mpid" 2>/dev/null || true
		fi
		say "stopped Postfix (master $mpid)"
	fi
}

cmd_start() {
	[ "$(id -u)" = 0 ] || die "the lab needs root (Postfix master); try sudo"
	command -v postfix >/dev/null || die "postfix is not installed: run sh scripts/deps.sh"
	if [ "$MTA" = sendmail ]; then sm_check_installed; fi
	command -v smtp-sink >/dev/null || die "smtp-sink is not installed: run sh scripts/deps.sh"
	milter_spec >/dev/null
	mkdir -p "$RUN_DIR" "$LOG_DIR" "$PID_DIR"
	chmod 0755 "$RUN_DIR"
	# Every daemon user must be able to reach its files under RUN_DIR.
	d=$RUN_DIR
	while [ "$d" != / ]; do
		if ! runuser -u postfix -- test -x "$d" 2>/dev/null; then
			die "$d is not searchable by user postfix; choose another RUN_DIR"
		fi
		d=$(dirname "$d")
	done
	[ "$MILTER" = none ] || ensure_user
	write_env
	if [ "$MTA" = sendmail ]; then
		sm_write_config
	else
		write_postfix_config
	fi
	trap 'echo "lab: start failed; stopping what was started" >&2; cmd_stop >&2' EXIT
	start_sink
	start_milter
	if [ "$MTA" = sendmail ]; then
		start_sendmail
	else
		start_postfix
	fi
	trap - EXIT
	if [ "$MTA" = sendmail ]; then
		queue_hint="(and Sendmail's queue: $SM_DIR/bin/sendmail -bp)"
		mta_log=sendmail
	else
		queue_hint="(and Postfix's hold queue: postqueue -c $PF_ETC -p)"
		mta_log=postfix
	fi
	cat <<EOF

Mailwarden lab is up (MTA: $MTA, milter: $MILTER $(milter_spec)).
  send a test message:
    swaks --server 127.0.0.1:$LAB_PORT --from alice@sender.example --to bob@example.com \\
          --header 'Subject: lab test' --body 'hello from the lab'
  delivered mail lands in:  $SINK_DIR/msg.*   (one file per message)
  held / quarantined mail:  runuser -u $LAB_USER -- $MAILWARDEN_CLI quarantine list -o paths.state=$MW_DIR/state
                            $queue_hint
  logs:                     $LOG_DIR/{$mta_log,mailwardend,sink}.log
  stop it:                  make stop   (or sh scripts/lab.sh stop)
EOF
}

cmd_stop() {
	stop_postfix
	stop_sendmail
	stop_milter
	stop_pid "$PID_DIR/sink.pid" smtp-sink
	return 0
}

cmd_status() {
	rc=0
	if [ "$MTA" = sendmail ]; then
		if sendmail_running; then
			echo "sendmail:    running, pid $(sm_daemon_pid), on 127.0.0.1:$LAB_PORT (config $SM_CF)"
		else
			echo "sendmail:    stopped"; rc=1
		fi
	elif [ -f "$PF_ETC/main.cf" ] && postfix_running; then
		echo "postfix:     running on 127.0.0.1:$LAB_PORT (config $PF_ETC)"
	else
		echo "postfix:     stopped"; rc=1
	fi
	p=$(pid_alive "$PID_DIR/mailwardend.pid" mailwardend)
	if [ -n "$p" ]; then
		echo "mailwardend: running, pid $p, milter $MILTER $(milter_spec)"
	elif [ "$MILTER" = none ]; then
		echo "mailwardend: not used (MILTER=none)"
	else
		echo "mailwardend: stopped"; rc=1
	fi
	p=$(pid_alive "$PID_DIR/sink.pid" smtp-sink)
	if [ -n "$p" ]; then
		echo "smtp-sink:   running, pid $p, 127.0.0.1:$SINK_PORT, $(find "$SINK_DIR" -name 'msg.*' -type f 2>/dev/null | wc -l) message(s) in $SINK_DIR"
	else
		echo "smtp-sink:   stopped"; rc=1
	fi
	return $rc
}

# restart-milter: stop mailwardend, start it again with the current MILTER
# (which may differ from the running one: Postfix's smtpd_milters is then
# updated and Postfix reloaded, so a benchmark can switch none/unix/inet
# without restarting Postfix or the sink; Sendmail gets a new .cf and is
# restarted).
cmd_restart_milter() {
	[ "$(id -u)" = 0 ] || die "the lab needs root"
	if [ "$MTA" = sendmail ]; then
		[ -f "$SM_CF" ] || die "the lab is not set up in $RUN_DIR: run start first"
	else
		[ -f "$PF_ETC/main.cf" ] || die "the lab is not set up in $RUN_DIR: run start first"
	fi
	milter_spec >/dev/null
	stop_milter
	[ "$MILTER" = none ] || ensure_user
	start_milter
	if [ "$MTA" = sendmail ]; then
		if sm_needs_reconfigure; then
			sm_reconfigure
		fi
		write_env
		return 0
	fi
	want=$(milter_spec)
	have=$(postconf -c "$PF_ETC" -h smtpd_milters)
	if [ "$want" != "$have" ]; then
		postconf -c "$PF_ETC" -e "smtpd_milters = $want"
		old=$(pf_smtpd_pids)
		postfix -c "$PF_ETC" reload >/dev/null 2>&1 || true
		wait_gone "$old"
		say "Postfix now uses milter '${want:-none}' (reloaded)"
	fi
	write_env
}

# pf_smtpd_pids - the smtpd processes of this lab's Postfix master
pf_smtpd_pids() {
	mpid=$(pf_master_pid)
	[ -n "$mpid" ] && pgrep -P "$mpid" -x smtpd || true
}

# wait_gone PIDS - after a reload, old smtpd processes still have the old
# milter setting and may take one more connection: wait (bounded, 5 s)
# until they have exited, so the next message sees the new milter
wait_gone() {
	n=0
	for p in $1; do
		while [ -d "/proc/$p" ] && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
	done
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
restart-milter) cmd_restart_milter ;;
stop-milter) stop_milter ;;
start-milter) start_milter ;;
stop-sink) stop_pid "$PID_DIR/sink.pid" smtp-sink ;;
start-sink) start_sink ;;
*)
	echo "usage: $0 start|stop|status|restart-milter|stop-milter|start-milter|stop-sink|start-sink" >&2
	exit 2
	;;
esac
