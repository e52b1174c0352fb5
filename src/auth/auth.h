/*
 * NAME
 *	auth.h - sender authenticity: SPF, DKIM, DMARC over a bounded,
 *	cached resolver; Authentication-Results
 * SYNOPSIS
 *	#include "auth/auth.h"
 *
 *	auth_resolver *r = auth_resolver_shared(cfg);	(or auth_resolver_new)
 *	auth_input in = {client, helo, mail_from, raw, from, nfrom};
 *	mw_auth_info info;
 *	auth_check(r, cfg, &in, &info);		(SPF, DKIM, DMARC, A-R value)
 *	auth_resolver_unref(r);
 *
 *	auth_stage(scan);			(the engine stage: the above plus
 *						 auth.* reasons)
 *	auth_ar_is_ours(value, len, id);	(a received A-R with our id?)
 * DESCRIPTION
 *	SPF (RFC 7208) of the envelope sender and of the HELO name with
 *	libspf2, every DKIM signature (RFC 6376) with libopendkim, DMARC
 *	(RFC 7489) of the header From domain with libopendmarc.  All three
 *	libraries ask their DNS questions through one resolver (auth_dns.c:
 *	libunbound forwarding to [auth] resolver, behind our own cache), so
 *	every lookup is bounded in time (auth.lookup_timeout), every message
 *	in lookups and time (auth.max_lookups, auth.message_budget), and
 *	answers are shared by all threads until their TTL runs out.
 *
 *	Results use the RFC 8601 words (pass, fail, softfail, neutral, none,
 *	temperror, permerror, policy).  A DNS failure (timeout, SERVFAIL,
 *	budget spent) makes the method it hit temperror.  The stage turns
 *	results into reasons (docs/auth.md has the rules):
 *	auth.dmarc_reject, auth.dmarc_quarantine, auth.protected_spoof,
 *	auth.partner_spoof, auth.lookalike_sender, auth.display_name_claim,
 *	auth.temperror.
 *
 *	The resolver is shared by the whole process and made on first use
 *	from the [auth] keys; a configuration with other resolver keys gets
 *	a new one (the old one is freed when its last user is done).
 * LIMITS
 *	AUTH_MAX_SIGS signatures kept in the result; [auth]
 *	dkim_max_signatures verified per message (the others are ignored
 *	and counted).  AUTH_HEADER_MAX bytes of Authentication-Results.
 *	Domains longer than 253 bytes are not looked up.
 * DIAGNOSTICS
 *	auth_check() never fails: a resolver that cannot be made or reached
 *	gives temperror results and resolver_down.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_AUTH_H
#define MW_AUTH_H

#include <stddef.h>

#include "policy/policy.h"
#include "util/spool.h"

#define AUTH_MAX_SIGS     8
#define AUTH_DOMAIN_MAX   256
#define AUTH_HEADER_MAX   2000
#define AUTH_MAX_FROM     4 /* header From addresses examined */
#define AUTH_SELECTOR_MAX 64
#define AUTH_NAME_MAX     400 /* display name bytes kept */
#define AUTH_ADDR_MAX     321

/* RFC 8601 result words. */
typedef enum auth_res {
	AUTH_NONE = 0,
	AUTH_PASS,
	AUTH_FAIL,
	AUTH_SOFTFAIL,
	AUTH_NEUTRAL,
	AUTH_TEMPERROR,
	AUTH_PERMERROR,
	AUTH_POLICY,
} auth_res;

/* One DKIM signature. */
typedef struct auth_sig {
	char domain[AUTH_DOMAIN_MAX]; /* d=, lower case */
	char selector[AUTH_SELECTOR_MAX];
	char b[12]; /* first 8 characters of b= (RFC 6008 header.b) */
	auth_res result;
	char why[80]; /* libopendkim's reason when not pass */
	int aligned;  /* d= has the header From's organisational domain */
} auth_sig;

/* What the authentication of one message found (part of mw_result). */
typedef struct mw_auth_info {
	int ran; /* the checks ran (auth.enable and not a rescan) */
	/* SPF */
	auth_res spf;                     /* MAIL FROM identity (the HELO one when the sender is null) */
	auth_res spf_helo;                /* HELO identity */
	char spf_domain[AUTH_DOMAIN_MAX]; /* the MAIL FROM domain checked ("" null sender) */
	char helo[AUTH_DOMAIN_MAX];
	char client[64];
	int spf_aligned; /* SPF pass for a domain with the header From's organisational domain */
	/* DKIM */
	size_t nsigs;      /* signatures listed in sigs[] */
	size_t sigs_total; /* DKIM-Signature fields in the message */
	auth_sig sigs[AUTH_MAX_SIGS];
	/* DMARC */
	auth_res dmarc;                     /* pass, fail, none, temperror, permerror */
	char from_domain[AUTH_DOMAIN_MAX];  /* first header From domain ("" none) */
	char dmarc_domain[AUTH_DOMAIN_MAX]; /* where the record was found (From or organisational domain) */
	char dmarc_p, dmarc_sp;             /* 'n', 'q', 'r' or 0 */
	char dmarc_applied;                 /* the policy that applies to this message: 'n', 'q', 'r' or 0 */
	int dmarc_pct;
	char forwarder[AUTH_DOMAIN_MAX]; /* auth.trusted_forwarders domain whose valid signature vouched */
	/* the identity the message authenticated as: the header From domain
	 * when DMARC passed or (no record) an aligned SPF or DKIM pass */
	char authenticated[AUTH_DOMAIN_MAX];
	/* DNS */
	unsigned dns_lookups;  /* answered by the network */
	unsigned dns_cached;   /* answered from the cache */
	unsigned dns_failures; /* timeouts, SERVFAIL, budget spent */
	int budget_spent;      /* auth.message_budget or max_lookups ran out */
	int resolver_down;     /* no lookup of this message got an answer, some failed */
	double dns_ms;         /* time waited for DNS answers */
	/* Authentication-Results value (without the field name), folded with "\n\t" */
	char header[AUTH_HEADER_MAX];
} mw_auth_info;

/* auth_res_name - "pass", "fail", ... */
const char *auth_res_name(auth_res r);

/* The resolver: libunbound, its dispatcher thread and our cache. */
typedef struct auth_resolver auth_resolver;

typedef struct auth_dns_conf {
	const char *servers;  /* "IP[@port], ..." forwarders; "" /etc/resolv.conf */
	size_t timeout_ms;    /* per lookup */
	size_t budget_ms;     /* per message, time waited */
	size_t max_lookups;   /* per message, network lookups */
	size_t cache_entries; /* 0: no cache */
	size_t cache_max_ttl; /* seconds */
} auth_dns_conf;

/* auth_resolver_new - a resolver of its own (benchmarks, tests); NULL with err on failure */
auth_resolver *auth_resolver_new(const auth_dns_conf *c, char *err, size_t errlen);
/* auth_resolver_shared - the process's resolver for cfg's [auth] keys (one reference); NULL with err */
auth_resolver *auth_resolver_shared(const mw_config *cfg, char *err, size_t errlen);
void auth_resolver_unref(auth_resolver *r); /* NULL is safe */
/* auth_resolver_stats - cache entries, hits and misses since start */
void auth_resolver_stats(auth_resolver *r, size_t *entries, unsigned long *hits, unsigned long *misses);

/* The message to check. */
typedef struct auth_input {
	const char *client;      /* client IP address text; "" or NULL: unknown (SPF none) */
	const char *helo;        /* HELO/EHLO name; "" unknown */
	const char *mail_from;   /* envelope sender; "" the null sender */
	const mw_spool *raw;     /* header and body, as received */
	const char *const *from; /* header From addresses (lower case), first one counts for DMARC */
	size_t nfrom;
	size_t nfrom_fields; /* From header fields: more than one makes DMARC permerror */
} auth_input;

/*
 * auth_check - SPF, DKIM and DMARC of one message with resolver r (NULL:
 * every lookup fails) under cfg's [auth] keys; fills info, the
 * Authentication-Results value included.  Thread-safe.
 */
void auth_check(auth_resolver *r, const mw_config *cfg, const auth_input *in, mw_auth_info *info);

/* auth_authserv_id - [auth] authserv_id, or this host's name */
const char *auth_authserv_id(const mw_config *cfg);

/*
 * auth_ar_authserv_id - the authserv-id of an Authentication-Results
 * value (comments and white space skipped, a quoted-string unquoted) into
 * out; returns 0, or -1 when the value has none.  Reads at most len bytes.
 */
int auth_ar_authserv_id(const char *value, size_t len, char *out, size_t outlen);

/* auth_ar_is_ours - 1 if the A-R value's authserv-id is id (any case) */
int auth_ar_is_ours(const char *value, size_t len, const char *id);

/* auth_ar_format - the Authentication-Results value of info with authserv-id id */
void auth_ar_format(const mw_auth_info *info, const char *id, char *out, size_t outlen);

/*
 * auth_spf_record_safe - 1 if an SPF record is within the bounds we
 * hand to libspf2 (no macro term longer than AUTH_SPF_TERM_MAX, at
 * most AUTH_SPF_MACROS_MAX macros): see docs/auth.md, CVE-2023-42118.
 */
#define AUTH_SPF_TERM_MAX   128
#define AUTH_SPF_MACROS_MAX 16
int auth_spf_record_safe(const char *txt, size_t len);

/* auth_ip_in_list - 1 if ip (text) is in one of the CIDR entries ("10.0.0.0/8", "::1") */
int auth_ip_in_list(const char *ip, char *const *cidrs, size_t n);

/*
 * auth_summary - one word for tracking: "pass" (authenticated as the
 * From domain), "fail" (DMARC fail, or an SPF fail/softfail or failing
 * signature and nothing passing aligned), "temperror", "permerror",
 * "none"; "" when the checks did not run
 */
const char *auth_summary(const mw_auth_info *a);
/* auth_dkim_summary - "pass d=a.example s=s1, fail d=b.example s=s2" or "none" into out */
char *auth_dkim_summary(const mw_auth_info *a, char *out, size_t len);

/* auth_json - ', "auth": {...}' for the JSON result (nothing when the checks did not run) */
struct mw_buf;
void auth_json(const mw_auth_info *a, struct mw_buf *out);

/* One mailbox of an address list. */
typedef struct auth_mailbox {
	char name[AUTH_NAME_MAX]; /* display name, unquoted, "" none */
	char addr[AUTH_ADDR_MAX]; /* lower case */
} auth_mailbox;

/*
 * auth_mailboxes - split a (decoded) address-list field value into at
 * most max mailboxes: commas outside quotes, comments and angle brackets
 * separate them; "group:" prefixes are skipped; entries without an '@'
 * are dropped.  Returns the count.
 */
size_t auth_mailboxes(const char *value, auth_mailbox *out, size_t max);

/* auth_stage - the engine stage: auth_check on the message, auth.* reasons */
struct mw_scan;
void auth_stage(struct mw_scan *s);

#endif
