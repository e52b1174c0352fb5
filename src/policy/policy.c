/*
 * NAME
 *	policy.c - configuration file, key table, code->action policy
 * SYNOPSIS
 *	See policy.h.
 * DESCRIPTION
 *	config_keys[] lists every configuration key: section, name, type,
 *	default, minimum, maximum, description.  Loading starts from the
 *	defaults, parses the file with libinih, then applies "-o" overrides,
 *	validating each value against its entry.  Unknown sections or keys
 *	are errors (a typo in a security setting must not pass silently).
 *
 *	The [limits] defaults of the MIME parser repeat mime.h's MIME_DEF_
 *	values; policy_test checks that they agree.
 *
 *	Value syntax: sizes take K, M or G suffixes (powers of 1024);
 *	durations take s, m, h or d; lists are separated by commas or white
 *	space; modes are octal; actions are accept, tag, hold, quarantine,
 *	reject or tempfail.
 * DIAGNOSTICS
 *	"file:line: [section] key: problem", first problem found.
 * SEE ALSO
 *	etc/mailwarden.conf.sample, printed by `mailwarden config --sample`.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/extract.h"
#include "policy/policy.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#ifndef MW_DATADIR
#define MW_DATADIR "/usr/share/mailwarden"
#endif
#ifndef MW_STATEDIR
#define MW_STATEDIR "/var/lib/mailwarden"
#endif

typedef enum { K_STR, K_SIZE, K_COUNT, K_SECONDS, K_MODE, K_LIST, K_BOOL } key_type;

typedef struct config_key {
	const char *section;
	const char *name;
	key_type type;
	size_t offset;
	const char *def;
	unsigned long long min, max;
	const char *desc;
} config_key;

#define OFF(f) offsetof(mw_config, f)
#define MB(n)  ((unsigned long long)(n)*1024 * 1024)

static const config_key config_keys[] = {
    {"daemon", "socket", K_STR, OFF(socket), "unix:/run/mailwarden/milter.sock", 0, 0,
     "milter socket: unix:/path or inet:port@127.0.0.1"},
    {"daemon", "user", K_STR, OFF(user), "mailwarden", 0, 0, "user to run as after binding when started as root"},
    {"daemon", "socket_group", K_STR, OFF(socket_group), "", 0, 0,
     "group given the unix socket (the MTA's group, e.g. postfix); empty: unchanged"},
    {"daemon", "socket_mode", K_MODE, OFF(socket_mode), "0660", 0, 0777, "permissions of the unix socket (octal)"},
    {"daemon", "pidfile", K_STR, OFF(pidfile), "", 0, 0, "pid file; empty: none"},
    {"daemon", "reload_interval", K_SECONDS, OFF(reload_interval), "60", 0, 86400,
     "seconds between checks of the signature directory for changes; 0: only on SIGHUP"},
    {"daemon", "milter_timeout", K_SECONDS, OFF(milter_timeout), "300", 10, 3600,
     "seconds to wait on the MTA before giving up a connection"},
    {"daemon", "control_socket", K_STR, OFF(control_socket), "/run/mailwarden/control.sock", 0, 0,
     "control socket for the console and `mailwarden ctl` (mode 0660); empty: none"},
    {"daemon", "control_group", K_STR, OFF(control_group), "", 0, 0,
     "group whose members may use the control socket (root and daemon.user always may)"},
    {"daemon", "apply_command", K_STR, OFF(apply_command), "", 0, 0,
     "root command (no shell) that applies [mta] and [system] settings, reboots, manages the TLS "
     "certificate (docs/appliance.md); empty: saved only"},
    {"paths", "signatures", K_STR, OFF(signatures), MW_STATEDIR "/sigs", 0, 0,
     "ClamAV signature database directory (.cvd/.cld/.ndb/.hdb ...)"},
    {"paths", "lists", K_STR, OFF(lists), MW_DATADIR "/lists", 0, 0,
     "directory of shipped lists, one NAME.txt per list (freemail, storage, ...)"},
    {"paths", "state", K_STR, OFF(state), MW_STATEDIR, 0, 0, "state directory (store, quarantine, keys)"},
    {"paths", "tmp", K_STR, OFF(tmp), "/var/tmp", 0, 0,
     "directory for spilled message data (unlinked files, mode 0600)"},
    {"domains", "protected", K_LIST, OFF(protected_domains), "", 0, 0,
     "our own domains (and their sub-domains): recipients here are staff; the appliance's Postfix "
     "relays these"},
    {"domains", "org_names", K_LIST, OFF(org_names), "", 0, 0,
     "names of our organisation and partners as they appear in display names (comma separated)"},
    {"domains", "public", K_LIST, OFF(public_addresses), "", 0, 0,
     "public addresses (e.g. info@example.com) that accept mail from anyone"},
    {"sender", "fanout_threshold", K_COUNT, OFF(fanout_threshold), "5", 1, 100000,
     "an external sender reaching more than this many distinct internal recipients ..."},
    {"sender", "fanout_window", K_SECONDS, OFF(fanout_window), "10m", 60, 86400,
     "... within this time is refused as sender.fanout"},
    {"sender", "fanout_block", K_SECONDS, OFF(fanout_block), "24h", 60, 31536000,
     "how long a fanned-out sender stays refused"},
    {"sender", "fanout_by_domain", K_BOOL, OFF(fanout_by_domain), "no", 0, 1,
     "also count per registrable domain for senders that are not free-mail"},
    {"sender", "autoblock_time", K_SECONDS, OFF(autoblock_time), "7d", 0, 31536000,
     "block a sender whose message got one of autoblock_codes for this long; 0: never"},
    {"sender", "autoblock_codes", K_LIST, OFF(autoblock_codes),
     "av.infected, attach.executable, attach.double_ext, attach.rtlo, attach.type_mismatch, "
     "attach.archive_exec, link.blocked_domain, sender.campaign",
     0, 0, "reason codes that mark a message as malicious for auto-block and campaign fingerprints"},
    {"sender", "campaign_min_text", K_COUNT, OFF(campaign_min_text), "20", 5, 10000,
     "characters of subject+body skeleton needed for a text fingerprint"},
    {"sender", "history_ttl", K_SECONDS, OFF(history_ttl), "30d", 3600, 31536000,
     "sender history, recipient windows and unflagged fingerprints are kept this long"},
    {"sender", "store_max_rows", K_COUNT, OFF(store_max_rows), "1000000", 1000, 100000000,
     "rows kept per history table (oldest are pruned first)"},
    {"quarantine", "retention", K_SECONDS, OFF(quar_retention), "30d", 3600, 31536000,
     "quarantined messages are deleted after this long"},
    {"quarantine", "release_command", K_STR, OFF(release_command), "/usr/sbin/sendmail -G -i", 0, 0,
     "sendmail-compatible command that re-injects released mail (run without a shell; "
     "-f SENDER -- RCPT... are appended); it must bypass the milter (Postfix: non_smtpd_milters empty)"},
    {"quarantine", "release_probe", K_STR, OFF(release_probe), "", 0, 0,
     "command run as PROBE ID (no shell) for a release cut off by a crash: exit 0 when the MTA's queue holds "
     "the message (header X-Mailwarden-Released: ID), 1 when not; e.g. the shipped mailwarden-release-probe; "
     "empty: such a release is always put back for the operator"},
    {"quarantine", "retro_days", K_COUNT, OFF(retro_days), "7", 0, 365,
     "days an encrypted copy of delivered mail with attachments is kept and rescanned when signatures change; "
     "0: off"},
    {"hold", "hold_time", K_SECONDS, OFF(hold_time), "30m", 0, 604800,
     "a held message is rescanned and released (if clean) after this long"},
    {"hold", "first_contact", K_BOOL, OFF(first_contact), "yes", 0, 1,
     "hold the first mail from an unknown external sender that carries active content (hold.first_contact)"},
    {"hold", "lockdown", K_COUNT, OFF(lockdown), "0", 0, 2,
     "0 off; 1 hold all external mail with attachments or links; 2 hold all external mail (policy.lockdown)"},
    {"console", "idle_timeout", K_SECONDS, OFF(console_idle), "10m", 0, 86400,
     "serial console: log out after this long without input; 0: never"},
    {"console", "max_delay", K_SECONDS, OFF(console_max_delay), "30s", 1, 600,
     "serial console: longest delay after failed logins (1 s, doubling per failure)"},
    {"console", "pbkdf2_iterations", K_COUNT, OFF(console_iterations), "200000", 100000, 10000000,
     "serial console: PBKDF2-SHA256 iterations for a new password (keep a login under 1 s)"},
    {"auth", "enable", K_BOOL, OFF(auth_enable), "no", 0, 1,
     "check SPF, DKIM and DMARC of every message and add Authentication-Results (DNS through auth.resolver)"},
    {"auth", "resolver", K_STR, OFF(auth_resolver), "", 0, 0,
     "DNS servers to ask, IP or IP@port, comma separated; empty: the name servers of /etc/resolv.conf"},
    {"auth", "resolver_tcp", K_BOOL, OFF(auth_resolver_tcp), "no", 0, 1,
     "ask the DNS servers over TCP only (a network that passes no UDP to them)"},
    {"auth", "authserv_id", K_STR, OFF(auth_authserv_id), "", 0, 0,
     "authserv-id of our Authentication-Results (received ones with it are removed); empty: this host's name"},
    {"auth", "lookup_timeout", K_COUNT, OFF(auth_timeout), "2000", 50, 30000,
     "milliseconds one DNS lookup may take; then its result is temperror"},
    {"auth", "message_budget", K_COUNT, OFF(auth_budget), "6000", 100, 120000,
     "milliseconds of DNS waiting per message; lookups beyond it are temperror"},
    {"auth", "max_lookups", K_COUNT, OFF(auth_max_lookups), "40", 5, 1000,
     "DNS lookups per message that reach the network (cache hits are free); beyond: temperror"},
    {"auth", "cache_entries", K_COUNT, OFF(auth_cache_entries), "10000", 0, 1000000,
     "DNS answers kept in the cache shared by all connections (least recently used go first); 0: none"},
    {"auth", "cache_max_ttl", K_SECONDS, OFF(auth_cache_max_ttl), "1d", 0, 604800,
     "longest time a DNS answer is cached (its TTL when shorter)"},
    {"auth", "spf", K_BOOL, OFF(auth_spf), "yes", 0, 1, "check SPF of the envelope sender and the HELO name"},
    {"auth", "dkim", K_BOOL, OFF(auth_dkim), "yes", 0, 1, "verify DKIM signatures"},
    {"auth", "dmarc", K_BOOL, OFF(auth_dmarc), "yes", 0, 1, "evaluate DMARC for the header From domain"},
    {"auth", "dkim_max_signatures", K_COUNT, OFF(auth_dkim_max_sigs), "5", 1, 20,
     "DKIM signatures verified per message (the others are ignored)"},
    {"auth", "temperror_any", K_BOOL, OFF(auth_temperror_any), "no", 0, 1,
     "auth.temperror for every DNS failure; no: only when it leaves a protected or partner identity unchecked or "
     "no DNS server answers"},
    {"auth", "trusted_clients", K_LIST, OFF(auth_trusted_clients), "", 0, 0,
     "client networks (CIDR) whose mail is ours and is not checked, e.g. the internal mail server"},
    {"auth", "trusted_forwarders", K_LIST, OFF(auth_trusted_forwarders), "", 0, 0,
     "mailing lists and forwarders (domains) whose valid DKIM signature vouches for the mail they re-send"},
    {"store", "backend", K_STR, OFF(store_backend), "sqlite", 0, 0,
     "sqlite: state in this gateway's file only; redis: shared with every gateway using the same Redis "
     "(the file stays as the local copy)"},
    {"store", "address", K_STR, OFF(store_address), "127.0.0.1:6379", 0, 0,
     "backend = redis: host:port, [ipv6]:port or /path/to/redis.sock"},
    {"store", "password_file", K_STR, OFF(store_password_file), "", 0, 0,
     "file with \"USER PASSWORD\" (Redis ACL user) or \"PASSWORD\" on its first line, owned by the daemon "
     "user, mode 0600 (refused if group or others may read it); empty: no AUTH"},
    {"store", "prefix", K_STR, OFF(store_prefix), "mw:", 0, 0, "prefix of every Redis key and channel"},
    {"store", "gateway", K_STR, OFF(store_gateway), "", 0, 0,
     "this gateway's name among those sharing the store (quarantine owner); empty: the host name"},
    {"store", "connect_timeout", K_COUNT, OFF(store_connect_ms), "200", 10, 10000, "milliseconds to connect to Redis"},
    {"store", "command_timeout", K_COUNT, OFF(store_command_ms), "200", 10, 10000,
     "milliseconds per Redis command; past it the gateway uses its local copy"},
    {"store", "retry_interval", K_COUNT, OFF(store_retry_ms), "1000", 100, 60000,
     "milliseconds between reconnection attempts while Redis is down"},
    {"store", "pull_interval", K_SECONDS, OFF(store_pull), "60", 5, 3600,
     "full copy of the shared rules, lists, blocks and flags into the local file this often"},
    {"store", "tls", K_BOOL, OFF(store_tls), "no", 0, 1,
     "TLS to Redis; not available with Debian 12's hiredis 0.14 (yes is refused): use a unix socket, "
     "loopback, or a tunnel"},
    {"antivirus", "reload_mode", K_STR, OFF(av_reload_mode), "auto", 0, 0,
     "signature reload: swap (beside the old engine), inplace (old engine freed first, mail gets 451 "
     "meanwhile), auto (swap when two engines fit)"},
    {"antivirus", "reload_reserve", K_SIZE, OFF(av_reload_reserve), "64M", 0, MB(65536),
     "memory that must stay free beside both engines for reload_mode auto to choose swap"},
    {"antivirus", "last_good", K_STR, OFF(av_last_good), "", 0, 0,
     "copy of the last set that loaded, for a failed in-place reload; empty: STATE/sigs.last-good; none: off"},
    {"antivirus", "pua", K_BOOL, OFF(av_pua), "no", 0, 1,
     "load the potentially-unwanted-application databases (.hdu .hsu .ndu .ldu ...)"},
    {"antivirus", "bytecode", K_BOOL, OFF(av_bytecode), "yes", 0, 1, "load signed bytecode signatures"},
    {"antivirus", "phishing", K_BOOL, OFF(av_phishing), "yes", 0, 1,
     "load phishing databases (.pdb .wdb .gdb) when present (link.phishing)"},
    {"antivirus", "ac_maxdepth", K_COUNT, OFF(av_ac_maxdepth), "3", 2, 3,
     "libclamav pattern trie depth: 3 (its default); 2: engine about 27 % smaller, same detection, scans slower"},
    {"antivirus", "scan_cache", K_SIZE, OFF(av_scan_cache), "32M", 0, MB(1024),
     "memory for libclamav's clean answers on content seen before, with what it reported inside (kept per "
     "signature set), and a quarter more for what our extractors found in it; 0: both off"},
    {"mta", "relay_host", K_STR, OFF(relay_host), "", 0, 0,
     "internal mail server for accepted mail: [host]:port, host:port or [host]; empty: mail waits in "
     "the queue"},
    {"mta", "mynetworks", K_LIST, OFF(mynetworks), "127.0.0.0/8", 0, 0,
     "networks (a.b.c.d/len) that may relay outbound mail through the appliance"},
    {"mta", "tls", K_STR, OFF(tls), "may", 0, 0,
     "STARTTLS for sending servers: may (offered) or none (the certificate: `tls show`)"},
    {"mta", "relay_tls", K_STR, OFF(relay_tls), "may", 0, 0,
     "TLS towards relay_host: none, may (when offered) or encrypt (required)"},
    {"system", "hostname", K_STR, OFF(hostname), "", 0, 0,
     "host name of the appliance (Postfix's banner, alert mail); empty: mailwarden-DEVICEID"},
    {"system", "network", K_STR, OFF(network), "dhcp", 0, 0, "network set-up: dhcp or static"},
    {"system", "address", K_STR, OFF(address), "", 0, 0, "static network: address/prefix, e.g. 192.0.2.10/24"},
    {"system", "gateway", K_STR, OFF(gateway), "", 0, 0, "static network: default gateway (IPv4)"},
    {"system", "dns", K_LIST, OFF(dns), "", 0, 0, "DNS resolvers (IP addresses); empty: those DHCP gives"},
    {"system", "ntp", K_LIST, OFF(ntp), "", 0, 0, "time servers (NTP, host names or addresses); empty: none"},
    {"system", "configured", K_BOOL, OFF(configured), "no", 0, 1,
     "the console's guided set-up was completed (until then it starts at login)"},
    {"alert", "address", K_LIST, OFF(alert_address), "", 0, 0,
     "who gets alert mail (fan-out, campaign, auto-block, late detection, lockdown); empty: console "
     "and syslog"},
    {"alert", "from", K_STR, OFF(alert_from), "mailwarden", 0, 0,
     "sender of alert mail: an address, or a local part (the MTA adds its domain)"},
    {"alert", "delay", K_SECONDS, OFF(alert_delay), "60s", 0, 3600,
     "alerts raised within this time of the first go out in one mail"},
    {"alert", "max_per_hour", K_COUNT, OFF(alert_max_per_hour), "12", 1, 1000,
     "at most this many alert mails per hour; later alerts wait and go out together"},
    {"limits", "max_message_size", K_SIZE, OFF(lim.max_message_size), "50M", 1024, MB(2048),
     "largest message accepted (bytes); larger gets msg.too_big"},
    {"limits", "max_recipients", K_COUNT, OFF(lim.max_recipients), "1000", 1, 1000,
     "recipients per message (Postfix's smtpd_recipient_limit is 1000); more get 452 4.5.3 at RCPT time, "
     "so the sender sends them again in another transaction"},
    {"limits", "spool_memory", K_SIZE, OFF(lim.spool_memory), "1M", 4096, MB(256),
     "message bytes held in memory before spilling to paths.tmp"},
    {"limits", "max_header_line", K_SIZE, OFF(lim.mime.max_header_line), "64K", 998, MB(1),
     "longest logical header kept (bytes); longer gives mime.limits"},
    {"limits", "max_headers", K_COUNT, OFF(lim.mime.max_headers), "1000", 10, 100000, "header fields per part"},
    {"limits", "max_mime_depth", K_COUNT, OFF(lim.mime.max_depth), "30", 1, 1000,
     "multipart / message/rfc822 nesting depth"},
    {"limits", "max_mime_parts", K_COUNT, OFF(lim.mime.max_parts), "300", 1, 100000, "MIME parts per message"},
    {"limits", "max_boundary", K_COUNT, OFF(lim.mime.max_boundary), "200", 70, 10000,
     "longest multipart boundary (bytes)"},
    {"limits", "max_decoded", K_SIZE, OFF(lim.mime.max_decoded), "200M", 1024, MB(4096),
     "decoded bytes per message over all parts"},
    {"limits", "part_memory", K_SIZE, OFF(lim.mime.mem_part_max), "1M", 1024, MB(256),
     "decoded bytes per part held in memory before spilling to paths.tmp"},
    {"limits", "av_max_scansize", K_SIZE, OFF(lim.av_max_scansize), "400M", MB(1), MB(4095),
     "ClamAV: most data scanned per object (MaxScanSize)"},
    {"limits", "av_max_filesize", K_SIZE, OFF(lim.av_max_filesize), "100M", MB(1), MB(4095),
     "ClamAV: largest file or member scanned (MaxFileSize)"},
    {"limits", "av_max_recursion", K_COUNT, OFF(lim.av_max_recursion), "17", 1, 100,
     "ClamAV: archive nesting (MaxRecursion)"},
    {"limits", "av_max_files", K_COUNT, OFF(lim.av_max_files), "10000", 1, 1000000,
     "ClamAV: files scanned inside one archive (MaxFiles)"},
    {"limits", "av_max_scantime", K_COUNT, OFF(lim.av_max_scantime), "60000", 1000, 3600000,
     "ClamAV: milliseconds per scanned object (MaxScanTime)"},
    {"limits", "scan_time", K_COUNT, OFF(lim.scan_time), "120000", 10, 3600000,
     "milliseconds one message may spend in the engine, checked between stages and parts; more gives "
     "engine.timeout (tempfail). Keep it below Postfix's milter_content_timeout"},
    {"limits", "archive_max_depth", K_COUNT, OFF(lim.archive_max_depth), "5", 1, 20,
     "archive nesting walked by the attach stage; deeper gives attach.bomb"},
    {"limits", "archive_max_members", K_COUNT, OFF(lim.archive_max_members), "2000", 1, 1000000,
     "archive members per message, all levels; more gives attach.bomb"},
    {"limits", "archive_max_expanded", K_SIZE, OFF(lim.archive_max_expanded), "100M", MB(1), MB(4095),
     "bytes unpacked from archives per message, all levels; more gives attach.bomb"},
    {"limits", "archive_max_ratio", K_COUNT, OFF(lim.archive_max_ratio), "100", 2, 1000000,
     "unpacked/packed bytes of one archive above archive_ratio_floor; more gives attach.bomb"},
    {"limits", "archive_ratio_floor", K_SIZE, OFF(lim.archive_ratio_floor), "8M", 64 * 1024, MB(4095),
     "unpacked bytes of one archive before archive_max_ratio is checked"},
    {"limits", "archive_member_memory", K_SIZE, OFF(lim.archive_member_memory), "1M", 4096, MB(256),
     "archive member bytes held in memory before spilling to paths.tmp"},
    {"limits", "max_urls", K_COUNT, OFF(lim.max_urls), "500", 10, 100000,
     "distinct links per message judged by the links stage; more gives link.limits"},
    {"limits", "max_html_bytes", K_SIZE, OFF(lim.max_html_bytes), "4M", 64 * 1024, MB(1024),
     "text and HTML bytes per message read for links; more gives link.limits"},
    {"limits", "extract_max_object", K_SIZE, OFF(lim.extract_max_object), "20M", 64 * 1024, MB(1024),
     "bytes of one object decoded by an extractor (uuencode in text, a PDF embedded file, ...); "
     "more gives content.limits"},
    {"limits", "image_max_pixels", K_COUNT, OFF(lim.image_max_pixels), "8388608", 65536, 268435456,
     "pixels of one image decoded to look for a QR code; larger gives content.limits"},
};

/*
 * Keys whose values leave Mailwarden (Postfix's main.cf, the network
 * scripts, sendmail's command line) get a grammar check (policy_check.c):
 * the whole value of a K_STR key, each item of a K_LIST key.
 */
static const struct {
	const char *section, *name;
	int (*check)(const char *v, char *why, size_t len);
} key_checks[] = {
    {"domains", "protected", cfgcheck_domain}, {"mta", "relay_host", cfgcheck_relay_host},
    {"mta", "mynetworks", cfgcheck_cidr4},     {"mta", "tls", cfgcheck_tls},
    {"mta", "relay_tls", cfgcheck_relay_tls},  {"system", "hostname", cfgcheck_hostname},
    {"system", "network", cfgcheck_network},   {"system", "address", cfgcheck_cidr4},
    {"system", "gateway", cfgcheck_ipv4},      {"system", "dns", cfgcheck_ip},
    {"system", "ntp", cfgcheck_host},          {"alert", "address", cfgcheck_address},
    {"alert", "from", cfgcheck_sender},
};

static int (*key_check(const config_key *k))(const char *, char *, size_t)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(key_checks); i++)
		if (strcmp(key_checks[i].section, k->section) == 0 && strcmp(key_checks[i].name, k->name) == 0)
			return key_checks[i].check;
	return NULL;
}

/* ---- value parsing ---- */

static int parse_number(const char *v, key_type t, unsigned long long *out)
{
	unsigned long long n, mult = 1;
	char *end;

	if (t == K_MODE) {
		errno = 0;
		n = strtoull(v, &end, 8);
		if (errno || end == v || *end)
			return -1;
		*out = n;
		return 0;
	}
	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -1;
	if (*end) {
		char s = (char)tolower((unsigned char)*end);
		if (end[1] && !(tolower((unsigned char)end[1]) == 'b' && end[2] == 0 && t == K_SIZE))
			return -1;
		if (t == K_SIZE && s == 'k')
			mult = 1024ULL;
		else if (t == K_SIZE && s == 'm')
			mult = 1024ULL * 1024;
		else if (t == K_SIZE && s == 'g')
			mult = 1024ULL * 1024 * 1024;
		else if (t == K_SECONDS && s == 's')
			mult = 1;
		else if (t == K_SECONDS && s == 'm')
			mult = 60;
		else if (t == K_SECONDS && s == 'h')
			mult = 3600;
		else if (t == K_SECONDS && s == 'd')
			mult = 86400;
		else
			return -1;
	}
	if (n > ~0ULL / mult)
		return -1;
	*out = n * mult;
	return 0;
}

static void list_free(mw_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		x_free(l->v[i]);
	x_free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* list_set - comma-separated when there is a comma (items may hold spaces), else white space */
static void list_set(mw_strlist *l, const char *value)
{
	const char *seps = strchr(value, ',') ? "," : " \t";
	char *copy = x_strdup(value), *save = NULL, *tok;

	list_free(l);
	for (tok = strtok_r(copy, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
		tok = mw_trim(tok);
		if (*tok == 0)
			continue;
		l->v = x_realloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = mw_lower(x_strdup(tok));
	}
	x_free(copy);
}

/* set_key - validate and store one value; writes the problem into err */
static int set_key(mw_config *c, const config_key *k, const char *value, char *err, size_t errlen)
{
	void *field = (char *)c + k->offset;
	unsigned long long n;
	char why[200];

	switch (k->type) {
	case K_STR:
		if (key_check(k) && key_check(k)(value, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "[%s] %s: %s", k->section, k->name, why);
			return -1;
		}
		x_free(*(char **)field);
		*(char **)field = x_strdup(value);
		return 0;
	case K_LIST: {
		mw_strlist *l = field;
		size_t i;
		list_set(l, value);
		for (i = 0; key_check(k) && i < l->n; i++)
			if (key_check(k)(l->v[i], why, sizeof(why)) < 0) {
				snprintf(err, errlen, "[%s] %s: %s", k->section, k->name, why);
				return -1;
			}
		return 0;
	}
	case K_BOOL:
		if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
		    strcasecmp(value, "on") == 0)
			*(size_t *)field = 1;
		else if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
		         strcasecmp(value, "off") == 0)
			*(size_t *)field = 0;
		else {
			snprintf(err, errlen, "[%s] %s: \"%.60s\" is not yes or no", k->section, k->name, value);
			return -1;
		}
		return 0;
	case K_SIZE:
	case K_COUNT:
	case K_SECONDS:
	case K_MODE:
		if (parse_number(value, k->type, &n) < 0) {
			snprintf(err, errlen, "[%s] %s: \"%.60s\" is not a valid %s", k->section, k->name, value,
			         k->type == K_SIZE      ? "size (e.g. 10M)"
			         : k->type == K_SECONDS ? "duration (e.g. 30s, 10m)"
			         : k->type == K_MODE    ? "octal mode"
			                                : "number");
			return -1;
		}
		if (n < k->min || n > k->max) {
			snprintf(err, errlen, "[%s] %s: %llu is out of range %llu..%llu", k->section, k->name, n,
			         k->min, k->max);
			return -1;
		}
		*(size_t *)field = (size_t)n;
		return 0;
	}
	return -1;
}

static const config_key *find_key(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(config_keys); i++)
		if (strcmp(config_keys[i].section, section) == 0 && strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* set_any - one section/key/value, including [actions] */
static int set_any(mw_config *c, const char *section, const char *name, const char *value, char *err, size_t errlen)
{
	const config_key *k;

	if (strcmp(section, "actions") == 0) {
		int idx = reason_index(name);
		mw_action a;

		if (idx < 0) {
			snprintf(err, errlen, "[actions] %.60s: unknown reason code (see `mailwarden reasons`)", name);
			return -1;
		}
		if (action_parse(value, &a) < 0) {
			snprintf(err, errlen,
			         "[actions] %s: \"%.40s\" is not an action (accept, tag, hold, quarantine, reject, "
			         "tempfail)",
			         name, value);
			return -1;
		}
		c->actions[idx] = a;
		return 0;
	}
	k = find_key(section, name);
	if (k == NULL) {
		int known = 0;
		size_t i;
		for (i = 0; i < MW_ARRAY_LEN(config_keys); i++)
			if (strcmp(config_keys[i].section, section) == 0)
				known = 1;
		if (known)
			snprintf(err, errlen, "[%.40s] %.60s: unknown key", section, name);
		else
			snprintf(err, errlen, "[%.40s]: unknown section", section);
		return -1;
	}
	return set_key(c, k, value, err, errlen);
}

struct ini_ctx {
	mw_config *c;
	char err[300];
	int failed;
	const config_key *seen[64]; /* list keys set in this file so far: more lines add to them */
	size_t nseen;
};

/* list_more - a list key given again (or continued on an indented line): the entries add up */
static char *list_more(struct ini_ctx *ctx, const char *section, const char *name, const char *value)
{
	const config_key *k = find_key(section, name);
	const mw_strlist *l;
	mw_buf b;
	size_t i;

	if (k == NULL || k->type != K_LIST)
		return NULL;
	for (i = 0; i < ctx->nseen && ctx->seen[i] != k; i++)
		;
	if (i == ctx->nseen) {
		if (ctx->nseen < MW_ARRAY_LEN(ctx->seen))
			ctx->seen[ctx->nseen++] = k;
		return NULL;
	}
	l = (const mw_strlist *)((const char *)ctx->c + k->offset);
	buf_init(&b, 0);
	for (i = 0; i < l->n; i++)
		buf_printf(&b, "%s, ", l->v[i]);
	buf_puts(&b, value);
	return b.p;
}

static int cfg_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	char e[300], *joined;
	int rc;

	if (ctx->failed)
		return 1; /* keep only the first problem; inih reports its line */
	joined = list_more(ctx, section, name, value);
	rc = set_any(ctx->c, section, name, joined ? joined : value, e, sizeof(e));
	x_free(joined);
	if (rc < 0) {
		memcpy(ctx->err, e, sizeof(e));
		ctx->failed = 1;
		return 0;
	}
	return 1;
}

static mw_config *config_defaults(void)
{
	mw_config *c = x_calloc(1, sizeof(*c));
	const mw_code_info *tab;
	size_t i, n;
	char err[300];

	c->refs = 1;
	for (i = 0; i < MW_ARRAY_LEN(config_keys); i++) {
		int rc = set_key(c, &config_keys[i], config_keys[i].def, err, sizeof(err));
		(void)rc;
		if (rc < 0) {
			fprintf(stderr, "mailwarden: bad built-in default: %s\n", err);
			abort();
		}
	}
	tab = reason_table(&n);
	for (i = 0; i < n; i++)
		c->actions[i] = tab[i].def_action;
	return c;
}

/* cidr_ok - "IP" or "IP/len" (IPv4 or IPv6) */
static int cidr_ok(const char *s)
{
	char ip[64];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;
	long len;
	int v6;

	if (n == 0 || n >= sizeof(ip))
		return 0;
	memcpy(ip, s, n);
	ip[n] = 0;
	v6 = strchr(ip, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, ip, bin) != 1)
		return 0;
	if (slash == NULL)
		return 1;
	len = strtol(slash + 1, &end, 10);
	return end != slash + 1 && *end == 0 && len >= 0 && len <= (v6 ? 128 : 32);
}

/* servers_ok - "IP[@port], ..." (empty: /etc/resolv.conf) */
static int servers_ok(const char *v, char *bad, size_t badlen)
{
	char *copy = x_strdup(v), *tok, *save = NULL;
	int ok = 1;

	for (tok = strtok_r(copy, ", \t", &save); tok && ok; tok = strtok_r(NULL, ", \t", &save)) {
		char *at = strchr(tok, '@'), *end;
		long port = 53;
		if (at) {
			*at = 0;
			port = strtol(at + 1, &end, 10);
			if (end == at + 1 || *end)
				port = -1;
		}
		ok = port >= 1 && port <= 65535 && strchr(tok, '/') == NULL && cidr_ok(tok);
		if (!ok)
			mw_strlcpy(bad, tok, badlen);
	}
	x_free(copy);
	return ok;
}

/* long_line - the number of the first line libinih would cut (INI_MAX_LINE), or 0; rewinds fp */
static int long_line(FILE *fp)
{
	int ch, line = 1, found = 0;
	size_t len = 0;

	while ((ch = getc(fp)) != EOF && !found) {
		if (ch == '\n') {
			line++;
			len = 0;
		} else if (++len >= INI_MAX_LINE - 1) {
			found = line;
		}
	}
	rewind(fp);
	return found;
}

/* config_load - defaults, file, overrides */
int config_load(const char *path, const char *const *overrides, size_t noverrides, mw_config **out, char *err,
                size_t errlen)
{
	mw_config *c = config_defaults();
	size_t i;

	c->source = x_strdup(path ? path : "(embedded defaults)");
	if (path) {
		struct ini_ctx ctx;
		FILE *fp = fopen(path, "r");
		int line;

		memset(&ctx, 0, sizeof(ctx));
		ctx.c = c;
		if (fp == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if ((line = long_line(fp)) > 0) {
			fclose(fp);
			snprintf(err, errlen,
			         "%s:%d: line longer than %d bytes: continue a list on the next line, indented (or "
			         "repeat the key: list entries add up)",
			         path, line, INI_MAX_LINE - 1);
			goto fail;
		}
		line = ini_parse_file(fp, cfg_ini_handler, &ctx);
		fclose(fp);
		if (line != 0) {
			if (ctx.failed)
				snprintf(err, errlen, "%s:%d: %s", path, line, ctx.err);
			else if (line > 0)
				snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)", path,
				         line);
			else
				snprintf(err, errlen, "%s: cannot read", path);
			goto fail;
		}
	}
	for (i = 0; i < noverrides; i++) {
		char sect[64], e[300];
		const char *eq = strchr(overrides[i], '='), *dot = strchr(overrides[i], '.');
		char *key, *val;

		if (eq == NULL || dot == NULL || dot > eq || (size_t)(dot - overrides[i]) >= sizeof(sect)) {
			snprintf(err, errlen, "-o %.80s: expected section.key=value", overrides[i]);
			goto fail;
		}
		memcpy(sect, overrides[i], (size_t)(dot - overrides[i]));
		sect[dot - overrides[i]] = 0;
		key = x_strndup(dot + 1, (size_t)(eq - dot - 1));
		val = x_strdup(eq + 1);
		if (set_any(c, mw_trim(sect), mw_trim(key), mw_trim(val), e, sizeof(e)) < 0) {
			snprintf(err, errlen, "-o %.80s: %s", overrides[i], e);
			x_free(key);
			x_free(val);
			goto fail;
		}
		x_free(key);
		x_free(val);
	}
	for (i = 0; i < c->autoblock_codes.n; i++) {
		if (reason_lookup(c->autoblock_codes.v[i]) == NULL) {
			snprintf(err, errlen, "%s: [sender] autoblock_codes: unknown reason code \"%.60s\"", c->source,
			         c->autoblock_codes.v[i]);
			goto fail;
		}
	}
	{
		char bad[64];
		if (!servers_ok(c->auth_resolver, bad, sizeof(bad))) {
			snprintf(err, errlen, "%s: [auth] resolver: \"%.60s\" is not IP or IP@port", c->source, bad);
			goto fail;
		}
	}
	for (i = 0; i < c->auth_trusted_clients.n; i++) {
		if (!cidr_ok(c->auth_trusted_clients.v[i])) {
			snprintf(err, errlen,
			         "%s: [auth] trusted_clients: \"%.60s\" is not an address or network (CIDR)", c->source,
			         c->auth_trusted_clients.v[i]);
			goto fail;
		}
	}
	if (strcmp(c->store_backend, "sqlite") != 0 && strcmp(c->store_backend, "redis") != 0) {
		snprintf(err, errlen, "%s: [store] backend: \"%.40s\" is not sqlite or redis", c->source,
		         c->store_backend);
		goto fail;
	}
	if (c->store_tls) {
		snprintf(err, errlen,
		         "%s: [store] tls = yes: this build's hiredis (Debian 12: 0.14) has no TLS; use a unix socket, "
		         "loopback or a tunnel",
		         c->source);
		goto fail;
	}
	if (strcmp(c->av_reload_mode, "auto") != 0 && strcmp(c->av_reload_mode, "swap") != 0 &&
	    strcmp(c->av_reload_mode, "inplace") != 0) {
		snprintf(err, errlen, "%s: [antivirus] reload_mode: \"%.40s\" is not auto, swap or inplace", c->source,
		         c->av_reload_mode);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	config_unref(c);
	return -1;
}

mw_config *config_ref(mw_config *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_SEQ_CST);
	return c;
}

/* config_unref - drop one reference; frees at zero; NULL is safe */
void config_unref(mw_config *c)
{
	size_t i;

	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	for (i = 0; i < MW_ARRAY_LEN(config_keys); i++) {
		void *field = (char *)c + config_keys[i].offset;
		if (config_keys[i].type == K_STR)
			x_free(*(char **)field);
		else if (config_keys[i].type == K_LIST)
			list_free(field);
	}
	x_free(c->source);
	x_free(c);
}

mw_action config_action(const mw_config *c, const char *code)
{
	int idx = reason_index(code);

	return idx < 0 ? MW_TEMPFAIL : c->actions[idx];
}

int config_is_public(const mw_config *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->public_addresses.n; i++)
		if (strcasecmp(c->public_addresses.v[i], addr) == 0)
			return 1;
	return 0;
}

int config_is_protected(const mw_config *c, const char *domain)
{
	size_t i, dl = strlen(domain);

	for (i = 0; i < c->protected_domains.n; i++) {
		const char *p = c->protected_domains.v[i];
		size_t pl = strlen(p);
		if (dl == pl && strcmp(domain, p) == 0)
			return 1;
		if (dl > pl && domain[dl - pl - 1] == '.' && strcmp(domain + dl - pl, p) == 0)
			return 1;
	}
	return 0;
}

/* config_apply_verdict - policy: each reason gets its configured action; strongest wins */
void config_apply_verdict(const mw_config *c, mw_verdict *v)
{
	size_t i, n;

	v->action = MW_ACCEPT;
	for (i = 0; i < v->nreasons; i++) {
		v->reasons[i].action = config_action(c, v->reasons[i].code);
		if (v->reasons[i].action > v->action)
			v->action = v->reasons[i].action;
	}
	(void)reason_table(&n);
	for (i = 0; i < n; i++)
		if (verdict_dropped_code(v, i))
			if (c->actions[i] > v->action)
				v->action = c->actions[i];
}

static const char *type_hint(key_type t)
{
	switch (t) {
	case K_SIZE: return "size";
	case K_COUNT: return "number";
	case K_SECONDS: return "duration";
	case K_MODE: return "octal mode";
	case K_LIST: return "list";
	case K_BOOL: return "yes/no";
	default: return "text";
	}
}

/* put_comment - text as "# " lines of at most 78 columns (libinih cuts long lines) */
static void put_comment(mw_buf *out, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = strlen(p), cut = n;
		if (n > 76) {
			for (cut = 76; cut > 0 && p[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = 76;
		}
		buf_printf(out, "# %.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

/* config_write_sample - commented sample configuration from the key table */
void config_write_sample(mw_buf *out)
{
	const mw_code_info *tab;
	const char *section = "";
	size_t i, n;

	buf_puts(out, "# mailwarden.conf - Mailwarden configuration (INI).\n"
	              "# Every key is shown commented out with its built-in default.\n"
	              "# Sizes take K/M/G, durations s/m/h/d, lists are comma separated.\n"
	              "# Generated by `mailwarden config --sample`; see README.md.\n");
	for (i = 0; i < MW_ARRAY_LEN(config_keys); i++) {
		const config_key *k = &config_keys[i];
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			buf_printf(out, "\n[%s]\n", section);
		}
		mw_buf d;
		buf_init(&d, 0);
		buf_printf(&d, "%s (%s", k->desc, type_hint(k->type));
		if (k->type == K_SIZE || k->type == K_COUNT || k->type == K_SECONDS)
			buf_printf(&d, ", %llu..%llu", k->min, k->max);
		buf_putc(&d, ')');
		put_comment(out, d.p);
		buf_free(&d);
		buf_printf(out, "#%s =%s%s\n", k->name, *k->def ? " " : "", k->def);
	}
	buf_puts(out, "\n[actions]\n# Action per reason code: accept, tag, hold, quarantine, reject, tempfail.\n");
	tab = reason_table(&n);
	for (i = 0; i < n; i++) {
		put_comment(out, tab[i].description);
		buf_printf(out, "#%s = %s\n", tab[i].code, action_name(tab[i].def_action));
	}
}

/* config_write_effective - every key with its current value */
void config_write_effective(const mw_config *c, mw_buf *out)
{
	const mw_code_info *tab;
	const char *section = "";
	size_t i, j, n;

	buf_printf(out, "# effective configuration, from %s\n", c->source);
	for (i = 0; i < MW_ARRAY_LEN(config_keys); i++) {
		const config_key *k = &config_keys[i];
		const void *field = (const char *)c + k->offset;
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			buf_printf(out, "[%s]\n", section);
		}
		buf_printf(out, "%s = ", k->name);
		switch (k->type) {
		case K_STR: buf_puts(out, *(char *const *)field); break;
		case K_MODE: buf_printf(out, "0%03zo", *(const size_t *)field); break;
		case K_BOOL: buf_puts(out, *(const size_t *)field ? "yes" : "no"); break;
		case K_LIST: {
			const mw_strlist *l = field;
			for (j = 0; j < l->n; j++)
				buf_printf(out, "%s%s", j ? ", " : "", l->v[j]);
			break;
		}
		default: buf_printf(out, "%zu", *(const size_t *)field); break;
		}
		buf_putc(out, '\n');
	}
	buf_puts(out, "[actions]\n");
	tab = reason_table(&n);
	for (i = 0; i < n; i++)
		buf_printf(out, "%s = %s\n", tab[i].code, action_name(c->actions[i]));
}

/* config_file_path - see policy.h */
const char *config_file_path(const char *explicit_path)
{
	static const char def_path[] = MW_SYSCONFDIR "/mailwarden.conf";

	if (explicit_path == NULL && access(def_path, R_OK) == 0)
		return def_path;
	return explicit_path;
}

/* config_open - see policy.h */
mw_config *config_open(const char *prog, const char *path, const char *const *overrides, size_t noverrides)
{
	mw_config *cfg;
	char err[512];

	if (config_load(config_file_path(path), overrides, noverrides, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: configuration: %s\n", prog, err);
		return NULL;
	}
	return cfg;
}

/* config_extract_limits - see policy.h */
void config_extract_limits(const mw_config *c, ex_limits *out)
{
	out->max_objects = c->lim.archive_max_members;
	out->max_object = c->lim.extract_max_object;
	out->max_decoded = c->lim.archive_max_expanded;
	out->max_links = c->lim.max_urls;
	out->max_depth = c->lim.archive_max_depth;
	out->max_pixels = c->lim.image_max_pixels;
}
