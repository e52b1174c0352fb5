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
 *	The results (mw_auth_info, auth_res, the AUTH_ sizes) are part of
 *	the scan contract, scan/scan.h: the result carries them to the JSON,
 *	the milter's header and tracking.  Results use the RFC 8601 words (pass, fail, softfail, neutral, none,
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
#include "scan/scan.h"
#include "util/spool.h"

/* Display names and addresses of address lists (auth_mailboxes). */
#define AUTH_NAME_MAX 400 /* display name bytes kept */
#define AUTH_ADDR_MAX 321

/* The resolver: libunbound, its dispatcher thread and our cache. */
typedef struct auth_resolver auth_resolver;

typedef struct auth_dns_conf {
	const char *servers;  /* "IP[@port], ..." forwarders; "" /etc/resolv.conf */
	int tcp;              /* ask them over TCP only */
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
