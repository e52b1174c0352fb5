/*
 * NAME
 *	policy.h - deployment configuration and the code->action policy
 * SYNOPSIS
 *	#include "policy/policy.h"
 *
 *	mw_config *cfg;
 *	if (config_load(path, overrides, noverrides, &cfg, err, sizeof(err)) < 0) ...
 *	action = config_action(cfg, "av.infected");
 *	config_unref(cfg);
 * DESCRIPTION
 *	The configuration is an INI file (libinih): sections [daemon],
 *	[paths], [domains], [limits], [actions].  Every key is described by
 *	one table entry (config_keys.c) with its type, default, minimum,
 *	maximum and a one-line description; the sample configuration and
 *	`mailwarden config` are printed from that table.
 *
 *	A loaded configuration never changes.  It is reference-counted and
 *	swapped whole on reload; a failed load keeps the old one.
 * DIAGNOSTICS
 *	config_load() returns -1 and writes "file:line: what is wrong" (or
 *	"-o key: what is wrong") into err.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_POLICY_H
#define MW_POLICY_H

#include <stddef.h>

#include "verdict/verdict.h"
#include "mime/mime.h"

typedef struct mw_limits {
	mime_limits mime;
	size_t max_message_size;      /* bytes; larger mail gets msg.too_big */
	size_t max_recipients;        /* recipients per message; more get 452 4.5.3 at RCPT time */
	size_t spool_memory;          /* raw message bytes kept in memory before spilling */
	size_t av_max_scansize;       /* ClamAV CL_ENGINE_MAX_SCANSIZE */
	size_t av_max_filesize;       /* ClamAV CL_ENGINE_MAX_FILESIZE */
	size_t av_max_recursion;      /* ClamAV CL_ENGINE_MAX_RECURSION */
	size_t av_max_files;          /* ClamAV CL_ENGINE_MAX_FILES */
	size_t av_max_scantime;       /* ClamAV CL_ENGINE_MAX_SCANTIME, ms */
	size_t scan_time;             /* ms one message may spend in the engine (engine.timeout) */
	size_t archive_max_depth;     /* archive nesting levels walked (attach) */
	size_t archive_max_members;   /* archive members per message */
	size_t archive_max_expanded;  /* bytes unpacked per message, all levels */
	size_t archive_max_ratio;     /* unpacked / packed bytes of one archive ... */
	size_t archive_ratio_floor;   /* ... checked once this many bytes are unpacked */
	size_t archive_member_memory; /* member bytes held in memory before spilling */
	size_t max_urls;              /* distinct links judged per message (links) */
	size_t max_html_bytes;        /* text and HTML bytes read for links per message */
	size_t extract_max_object;    /* bytes of one object decoded by an extractor (src/extract) */
	size_t image_max_pixels;      /* pixels of one image decoded for QR codes (src/extract) */
} mw_limits;

typedef struct mw_strlist {
	char **v;
	size_t n;
} mw_strlist;

typedef struct mw_config {
	int refs;
	char *source; /* file path, or "(embedded defaults)" */
	/* [daemon] */
	char *socket;
	char *user;
	char *socket_group;
	size_t socket_mode;
	char *pidfile;
	size_t reload_interval; /* seconds between signature directory checks; 0 = off */
	size_t milter_timeout;  /* seconds libmilter waits on the MTA */
	char *control_socket;   /* control socket path (src/ctl); empty: none */
	char *control_group;    /* group allowed on the control socket; empty: root and daemon user only */
	char *apply_command;    /* root-side command that applies MTA and system settings; empty: none */
	/* [paths] */
	char *signatures;
	char *lists;
	char *state;
	char *tmp;
	/* [domains] */
	mw_strlist protected_domains;
	mw_strlist public_addresses;
	mw_strlist org_names;
	/* [sender] */
	size_t fanout_threshold;
	size_t fanout_window;
	size_t fanout_block;
	size_t fanout_by_domain;
	size_t autoblock_time;
	mw_strlist autoblock_codes;
	size_t campaign_min_text;
	size_t history_ttl;
	size_t store_max_rows;
	/* [quarantine] */
	size_t quar_retention;
	char *release_command;
	char *release_probe; /* "" or a command: PROBE ID exits 0 when the MTA queue holds that release */
	size_t retro_days;
	/* [hold] */
	size_t hold_time;
	size_t first_contact;
	size_t lockdown;
	/* [store] (src/store: the shared backend) */
	char *store_backend; /* "sqlite" or "redis" */
	char *store_address;
	char *store_password_file;
	char *store_prefix;
	char *store_gateway;
	size_t store_connect_ms, store_command_ms, store_retry_ms, store_pull, store_tls;
	/* [console] */
	size_t console_idle;       /* seconds without input before logout; 0: never */
	size_t console_max_delay;  /* longest delay after failed logins, seconds */
	size_t console_iterations; /* PBKDF2-SHA256 iterations for new passwords */
	/* [antivirus] (src/av) */
	char *av_reload_mode;     /* auto, swap or inplace */
	size_t av_reload_reserve; /* bytes that must stay free beside two engines for a swap */
	char *av_last_good;       /* copy of the last set that loaded; "" = STATE/sigs.last-good, "none" = off */
	size_t av_pua;            /* load PUA databases (.hdu .hsu .ndu .ldu ...): CL_DB_PUA */
	size_t av_bytecode;       /* load bytecode signatures (signed only): CL_DB_BYTECODE */
	size_t av_phishing;       /* load phishing databases (.pdb .wdb): CL_DB_PHISHING(_URLS) */
	size_t av_ac_maxdepth;    /* CL_ENGINE_AC_MAXDEPTH: depth of libclamav's pattern trie (2 or 3) */
	size_t av_scan_cache;     /* bytes of av_cache.c per engine; 0: off */
	/* [auth] (src/auth) */
	size_t auth_enable;
	char *auth_resolver;      /* "IP[@port], ..."; "" /etc/resolv.conf */
	size_t auth_resolver_tcp; /* ask them over TCP only */
	char *auth_authserv_id;   /* "" this host's name */
	size_t auth_timeout;      /* ms per DNS lookup */
	size_t auth_budget;       /* ms of DNS per message */
	size_t auth_max_lookups;  /* network lookups per message */
	size_t auth_cache_entries;
	size_t auth_cache_max_ttl;
	size_t auth_spf, auth_dkim, auth_dmarc;
	size_t auth_dkim_max_sigs;
	size_t auth_temperror_any;
	mw_strlist auth_trusted_clients;    /* CIDR */
	mw_strlist auth_trusted_forwarders; /* domains */
	/* [mta] (Postfix on the appliance: applied by [daemon] apply_command) */
	char *relay_host;      /* the internal mail server: [host]:port; empty: mail waits in the queue */
	mw_strlist mynetworks; /* networks allowed to relay outbound through the MTA */
	char *tls;             /* STARTTLS offered to sending servers: none, may */
	char *relay_tls;       /* TLS towards relay_host: none, may, encrypt */
	/* [system] (the appliance: host name, network, resolver, time) */
	char *hostname;
	char *network; /* dhcp, static */
	char *address; /* static: a.b.c.d/len */
	char *gateway;
	mw_strlist dns;
	mw_strlist ntp;
	size_t configured; /* the guided set-up has been completed */
	/* [alert] */
	mw_strlist alert_address; /* who gets alert mail; empty: console and syslog only */
	char *alert_from;         /* envelope and header sender of alert mail */
	size_t alert_delay;       /* seconds alerts are gathered before one mail goes out */
	size_t alert_max_per_hour;
	/* [limits] */
	mw_limits lim;
	/* [actions]: per reason_table() index */
	mw_action actions[MW_CODES_MAX];
} mw_config;

/*
 * config_load - read path (NULL: embedded defaults only), then apply
 * overrides "section.key=value".  On success *out holds one reference.
 */
int config_load(const char *path, const char *const *overrides, size_t noverrides, mw_config **out, char *err,
                size_t errlen);

/*
 * config_file_path - the configuration file a command reads: explicit
 * when given, else MW_SYSCONFDIR/mailwarden.conf when it is readable,
 * else NULL (embedded defaults).
 */
const char *config_file_path(const char *explicit_path);

/* config_open - config_load(config_file_path(path), ...) with the error printed as "PROG: configuration: ..." */
mw_config *config_open(const char *prog, const char *path, const char *const *overrides, size_t noverrides);

mw_config *config_ref(mw_config *c);
void config_unref(mw_config *c);

/* config_action - the action for a reason code under this configuration */
mw_action config_action(const mw_config *c, const char *code);

/* config_is_public - 1 if addr (any case) is one of [domains] public */
int config_is_public(const mw_config *c, const char *addr);

/* config_is_protected - 1 if domain (lower case) is one of ours or a sub-domain of one */
int config_is_protected(const mw_config *c, const char *domain);

/* config_write_sample - print every key with its default and description (INI, commented) */
struct mw_buf;
void config_write_sample(struct mw_buf *out);

/* config_write_effective - print the effective value of every key */
void config_write_effective(const mw_config *c, struct mw_buf *out);

/*
 * config_extract_limits - the ex_limits of src/extract from [limits]:
 * archive_max_members, extract_max_object, archive_max_expanded,
 * max_urls, archive_max_depth, image_max_pixels.
 */
struct ex_limits;
void config_extract_limits(const mw_config *c, struct ex_limits *out);

/* config_apply_verdict - map each reason to its configured action; strongest wins */
void config_apply_verdict(const mw_config *c, mw_verdict *v);

/*
 * Value checks (policy_check.c) for settings that end up in another
 * program's configuration (Postfix main.cf, the appliance's network
 * scripts, sendmail's command line): each accepts one value or one list
 * item, returns 0, or -1 with why.  Accepted text never holds white
 * space, quotes, '|', '$', '\\' or control characters.
 */
int cfgcheck_domain(const char *v, char *why, size_t len);     /* LDH labels, A-labels for IDN */
int cfgcheck_host(const char *v, char *why, size_t len);       /* a domain or an IP address */
int cfgcheck_ip(const char *v, char *why, size_t len);         /* IPv4 or IPv6 address */
int cfgcheck_ipv4(const char *v, char *why, size_t len);       /* dotted quad; empty allowed */
int cfgcheck_cidr4(const char *v, char *why, size_t len);      /* a.b.c.d/len; empty allowed */
int cfgcheck_relay_host(const char *v, char *why, size_t len); /* [host]:port, host:port, [host]; empty */
int cfgcheck_address(const char *v, char *why, size_t len);    /* local@domain, plain ASCII */
int cfgcheck_sender(const char *v, char *why, size_t len);     /* an address or a bare local part */
int cfgcheck_hostname(const char *v, char *why, size_t len);   /* a domain; empty allowed */
int cfgcheck_tls(const char *v, char *why, size_t len);        /* none, may */
int cfgcheck_relay_tls(const char *v, char *why, size_t len);  /* none, may, encrypt */
int cfgcheck_network(const char *v, char *why, size_t len);    /* dhcp, static */

#endif
