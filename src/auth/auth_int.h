/*
 * NAME
 *	auth_int.h - what the files of src/auth share: the per-message DNS
 *	session, answers, packet helpers
 * DESCRIPTION
 *	A session is one message's view of the resolver: it counts lookups
 *	and time against the message budget and collects the statistics
 *	that end up in mw_auth_info.  Lookups return a copy of the DNS
 *	answer packet (the caller frees it) and a status.
 *
 *	libopendkim's DNS hooks receive no per-message argument, so the
 *	session of the thread's current message is also reachable through
 *	auth_session_current() while auth_check() runs.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_AUTH_INT_H
#define MW_AUTH_INT_H

#include <stddef.h>

#include "auth/auth.h"

typedef enum dns_status {
	DNS_OK = 0,   /* an answer with data of the asked type */
	DNS_NODATA,   /* the name exists, no data of that type */
	DNS_NXDOMAIN, /* no such name */
	DNS_SERVFAIL, /* the server failed or refused */
	DNS_TIMEOUT,  /* no answer within auth.lookup_timeout */
	DNS_BUDGET,   /* the message's budget is spent: not asked */
	DNS_BADNAME,  /* not a name we ask about (too long, empty label) */
} dns_status;

/* dns_temporary - a status that means "try again later" */
#define dns_temporary(st) ((st) == DNS_SERVFAIL || (st) == DNS_TIMEOUT || (st) == DNS_BUDGET)

typedef struct dns_answer {
	dns_status status;
	unsigned char *pkt; /* the answer packet (x_free), NULL for failures */
	size_t len;
	unsigned ttl;
} dns_answer;

#define AUTH_MEMO_MAX 16 /* temporary failures remembered per message */

typedef struct auth_session {
	auth_resolver *r;
	size_t timeout_ms, budget_ms, max_lookups;
	double spent_ms;
	size_t dkim_max;       /* signatures verified (auth.dkim_max_signatures) */
	unsigned lookups;      /* questions sent to the network */
	unsigned cached;       /* answered from the cache */
	unsigned answered;     /* answered by the network */
	unsigned failures;     /* failed: timeout, SERVFAIL, budget */
	unsigned net_failures; /* failed on the network (timeout, SERVFAIL) */
	int budget_spent;
	struct {
		char key[300];
		dns_status status;
	} memo[AUTH_MEMO_MAX]; /* names that failed in this message: not asked twice */
	size_t nmemo;
} auth_session;

void auth_session_init(auth_session *s, auth_resolver *r);
/* auth_session_current - the session of this thread's running auth_check (NULL outside) */
auth_session *auth_session_current(void);
void auth_session_set_current(auth_session *s);

/* auth_dns_query - one question (type: ns_t_*) through the cache and the resolver */
void auth_dns_query(auth_session *s, const char *name, int type, dns_answer *out);
void auth_dns_answer_free(dns_answer *a);
/*
 * auth_dns_prefetch - ask n questions at once (those neither cached nor
 * failed already), wait for them together (one lookup timeout, within the
 * budget) and keep the answers in the cache, where the checks then find
 * them: the first wave of a message costs one round trip, not one per
 * question.  Failures are remembered for the session.
 */
void auth_dns_prefetch(auth_session *s, const char *const *names, const int *types, size_t n);
/*
 * auth_dns_probe - 1 if the resolver answers (anything but a failure) a
 * SOA question for name, asked on the network past the cache and the
 * budget: tells "our resolver is down" from "the sender's DNS is broken"
 */
int auth_dns_probe(auth_session *s, const char *name);

/*
 * auth_dns_txt - the TXT records of an answer packet, each record's
 * strings joined and NUL-terminated: an array of *n strings (free it with
 * auth_dns_txt_free), NULL if none.  Records of other types (a CNAME on
 * the way) are skipped.
 */
char **auth_dns_txt(const unsigned char *pkt, size_t len, size_t *n);
/* auth_txt_join - a TXT record's character-strings joined (x_malloc'ed, NUL-terminated) */
char *auth_txt_join(const unsigned char *rd, size_t rdlen);
void auth_dns_txt_free(char **v, size_t n);

/* auth_dns_valid_name - 1 if name can be asked (1..253 bytes, labels 1..63, no NUL) */
int auth_dns_valid_name(const char *name);

/* the three checks (auth_spf.c, auth_dkim.c, auth_dmarc.c) */
void auth_spf_check(auth_session *s, const mw_config *cfg, const auth_input *in, mw_auth_info *info);
/* DKIM in three steps, so the key lookups join the first wave of questions */
void *auth_dkim_start(auth_session *s, const mw_config *cfg, const auth_input *in);
size_t auth_dkim_keys(void *h, char (*names)[AUTH_DOMAIN_MAX + AUTH_SELECTOR_MAX + 16], size_t max);
void auth_dkim_finish(void *h, mw_auth_info *info);
void auth_dmarc_check(auth_session *s, const mw_config *cfg, const auth_input *in, mw_auth_info *info);

/*
 * auth_spf_answer - an answer packet read as the SPF DNS layer reads it,
 * for every record type it asks (A, AAAA, MX, PTR, TXT), with every SPF
 * record that passes the screen compiled by libspf2; returns the records
 * found.  For the fuzzer and tests: this is what a sender's DNS feeds us.
 */
size_t auth_spf_answer(const unsigned char *pkt, size_t len);

/* auth_org_domain - organisational (registrable) domain of a lower-case domain into out */
char *auth_org_domain(const char *domain, char *out, size_t len);
/* auth_aligned - relaxed alignment: both have the same organisational domain */
int auth_aligned(const char *a, const char *b);

/* auth_domain_of - lower-case domain of an address ("" none) into out */
char *auth_domain_of(const char *addr, char *out, size_t len);

#endif
