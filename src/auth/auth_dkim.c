/*
 * NAME
 *	auth_dkim.c - every DKIM signature of a message (libopendkim)
 * SYNOPSIS
 *	#include "auth/auth_int.h"
 *
 *	h = auth_dkim_start(session, cfg, input);	(feed the message)
 *	n = auth_dkim_keys(h, names, max);		(key names to prefetch)
 *	auth_dkim_finish(h, info);			(verify, results)
 * DESCRIPTION
 *	One DKIM_LIB for the process (made on first use).  The raw message
 *	is fed to dkim_chunk() as it was received (header fields, blank
 *	line, body); DKIM_LIBFLAGS_FIXCRLF turns bare LF line ends (a
 *	message file on disk) into CRLF as the signer saw them.
 *
 *	Key lookups go through libopendkim's replaceable resolver hooks
 *	(dkim_dns_set_query_start, _waitreply, _cancel): "start" asks our
 *	session synchronously (cache, budget, per-lookup timeout) and keeps
 *	the answer packet; "waitreply" hands it over.  The hooks carry no
 *	message argument, so the session is the thread's current one
 *	(auth_session_current()).  NXDOMAIN and NODATA answers are passed as
 *	packets with that rcode; a timeout or a spent budget is "expired"
 *	and a SERVFAIL an error, both of which libopendkim reports as a key
 *	retrieval failure: temperror.
 *
 *	A prescreen callback marks every signature after the first
 *	auth.dkim_max_signatures as ignored (result "policy"), so a message
 *	with hundreds of signatures costs at most that many key lookups and
 *	body hashes.
 *
 *	Results (RFC 8601 words): pass (signature and body hash verify);
 *	fail (bad signature or body hash: the message changed after
 *	signing); neutral (a signature libopendkim cannot process: syntax,
 *	expired, future); permerror (no key, revoked, unusable key);
 *	temperror (the key could not be fetched); policy (not verified).
 * LIMITS
 *	AUTH_MAX_SIGS signatures listed; auth.dkim_max_signatures verified.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth_int.h"
#include "util/log.h"
#include "util/util.h"

#include <arpa/nameser.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <opendkim/dkim.h>

#define FEED_CHUNK (64 * 1024)

static DKIM_LIB *g_lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int service_token; /* its address is libopendkim's "service handle" */

typedef struct dk_query {
	int status; /* DKIM_DNS_* */
	size_t len;
} dk_query;

/* synth - a reply packet without answers: header with rcode, the question */
static size_t synth(unsigned char *buf, size_t buflen, const char *qname, int type, int rcode)
{
	HEADER *h = (HEADER *)(void *)buf;
	int n;

	if (buflen < HFIXEDSZ + QFIXEDSZ + 2)
		return 0;
	memset(buf, 0, HFIXEDSZ);
	h->qr = 1;
	h->rd = 1;
	h->ra = 1;
	h->rcode = rcode & 0xf;
	h->qdcount = htons(1);
	n = dn_comp(qname, buf + HFIXEDSZ, (int)(buflen - HFIXEDSZ - QFIXEDSZ), NULL, NULL);
	if (n < 0)
		return 0;
	buf[HFIXEDSZ + n] = (unsigned char)(type >> 8);
	buf[HFIXEDSZ + n + 1] = (unsigned char)type;
	buf[HFIXEDSZ + n + 2] = 0;
	buf[HFIXEDSZ + n + 3] = ns_c_in;
	return (size_t)(HFIXEDSZ + n + QFIXEDSZ);
}

/* q_start - libopendkim's "start a query": answered at once from our session */
static int q_start(void *srv, int type, unsigned char *query, unsigned char *buf, size_t buflen, void **qh)
{
	auth_session *s = auth_session_current();
	dk_query *q = x_calloc(1, sizeof(*q));
	dns_answer a;

	(void)srv;
	memset(&a, 0, sizeof(a));
	if (s == NULL)
		a.status = DNS_SERVFAIL;
	else
		auth_dns_query(s, (const char *)query, type, &a);
	switch (a.status) {
	case DNS_OK:
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		if (a.pkt && a.len <= buflen) {
			memcpy(buf, a.pkt, a.len);
			q->len = a.len;
		} else if (a.pkt == NULL) {
			q->len = synth(buf, buflen, (const char *)query, type,
			               a.status == DNS_NXDOMAIN ? NXDOMAIN : NOERROR);
		}
		q->status = q->len ? DKIM_DNS_SUCCESS : DKIM_DNS_ERROR;
		break;
	case DNS_BADNAME:
		q->len = synth(buf, buflen, (const char *)query, type, NXDOMAIN);
		q->status = q->len ? DKIM_DNS_SUCCESS : DKIM_DNS_ERROR;
		break;
	case DNS_TIMEOUT:
	case DNS_BUDGET: q->status = DKIM_DNS_EXPIRED; break;
	default: q->status = DKIM_DNS_ERROR; break;
	}
	auth_dns_answer_free(&a);
	*qh = q;
	return 0;
}

static int q_cancel(void *srv, void *qh)
{
	(void)srv;
	x_free(qh);
	return 0;
}

static int q_wait(void *srv, void *qh, struct timeval *to, size_t *bytes, int *error, int *dnssec)
{
	dk_query *q = qh;

	(void)srv;
	(void)to;
	if (bytes)
		*bytes = q->len;
	if (error)
		*error = 0;
	if (dnssec)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	return q->status;
}

/* prescreen - ignore the signatures beyond auth.dkim_max_signatures */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	auth_session *s = auth_session_current();
	size_t max = s && s->dkim_max ? s->dkim_max : 5;
	int i;

	(void)dkim;
	for (i = (int)max; i < nsigs; i++)
		dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

static void lib_init(void)
{
	/* keys are fetched at end of message (DELAYSIGPROC), after auth_check
	 * prefetched them with the other first questions */
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_DELAYSIGPROC;

	g_lib = dkim_init(NULL, NULL);
	if (g_lib == NULL) {
		log_err("auth: libopendkim: dkim_init failed");
		return;
	}
	dkim_options(g_lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags));
	dkim_dns_set_query_service(g_lib, &service_token);
	dkim_dns_set_query_start(g_lib, q_start);
	dkim_dns_set_query_cancel(g_lib, q_cancel);
	dkim_dns_set_query_waitreply(g_lib, q_wait);
	dkim_dns_set_close(g_lib, NULL);
	dkim_set_prescreen(g_lib, prescreen);
}

/* sig_result - RFC 8601 word and reason of one verified (or not) signature */
static auth_res sig_result(DKIM_SIGINFO *sig, char *why, size_t len)
{
	unsigned flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig), bh = dkim_sig_getbh(sig);
	const char *es = err > 0 ? dkim_sig_geterrorstr(err) : NULL;

	why[0] = 0;
	if (flags & DKIM_SIGFLAG_IGNORE) {
		mw_strlcpy(why, "not verified: over auth.dkim_max_signatures", len);
		return AUTH_POLICY;
	}
	if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
		return AUTH_PASS;
	if (bh == DKIM_SIGBH_MISMATCH &&
	    (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_BADSIG || err == DKIM_SIGERROR_UNKNOWN)) {
		mw_strlcpy(why, "body hash mismatch", len); /* the body changed after signing */
		return AUTH_FAIL;
	}
	if (es)
		mw_strlcpy(why, es, len);
	switch (err) {
	case DKIM_SIGERROR_KEYFAIL: return AUTH_TEMPERROR;
	case DKIM_SIGERROR_NOKEY:
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYREVOKED:
	case DKIM_SIGERROR_KEYDECODE:
	case DKIM_SIGERROR_KEYTOOSMALL: return AUTH_PERMERROR;
	case DKIM_SIGERROR_BADSIG: return AUTH_FAIL;
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_UNKNOWN:
		if (bh == DKIM_SIGBH_MISMATCH) {
			mw_strlcpy(why, "body hash mismatch", len);
			return AUTH_FAIL;
		}
		if (flags & DKIM_SIGFLAG_PROCESSED) {
			if (why[0] == 0)
				mw_strlcpy(why, "signature did not verify", len);
			return AUTH_FAIL;
		}
		if (why[0] == 0)
			mw_strlcpy(why, "not processed", len);
		return AUTH_NEUTRAL;
	default: return AUTH_NEUTRAL; /* syntax, expired, in the future, ... */
	}
}

/* feed - the raw message to libopendkim; returns the last status */
static DKIM_STAT feed(DKIM *d, const mw_spool *raw)
{
	const unsigned char *mem = spool_mem(raw);
	size_t size = spool_size(raw);
	DKIM_STAT st = DKIM_STAT_OK;

	if (mem) {
		size_t off = 0;
		while (off < size && (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG)) {
			size_t n = size - off < FEED_CHUNK ? size - off : FEED_CHUNK;
			st = dkim_chunk(d, (unsigned char *)mem + off, n);
			off += n;
		}
	} else {
		unsigned char *chunk = x_malloc(FEED_CHUNK);
		off_t off = 0;
		while ((size_t)off < size && (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG)) {
			ssize_t got = spool_pread(raw, chunk, FEED_CHUNK, off);
			if (got <= 0)
				break;
			st = dkim_chunk(d, chunk, (size_t)got);
			off += got;
		}
		x_free(chunk);
	}
	if (st == DKIM_STAT_OK || st == DKIM_STAT_NOSIG)
		st = dkim_chunk(d, NULL, 0);
	return st;
}

void *auth_dkim_start(auth_session *s, const mw_config *cfg, const auth_input *in)
{
	DKIM_STAT st;
	DKIM *d;

	(void)s;
	(void)cfg;
	pthread_once(&lib_once, lib_init);
	if (g_lib == NULL || in->raw == NULL)
		return NULL;
	d = dkim_verify(g_lib, (const unsigned char *)"mailwarden", NULL, &st);
	if (d == NULL) {
		log_err("auth: libopendkim: dkim_verify: %s", dkim_getresultstr(st));
		return NULL;
	}
	(void)feed(d, in->raw);
	return d;
}

size_t auth_dkim_keys(void *h, char (*names)[AUTH_DOMAIN_MAX + AUTH_SELECTOR_MAX + 16], size_t max)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0, i;
	size_t n = 0;

	if (h == NULL || dkim_getsiglist(h, &sigs, &nsigs) != DKIM_STAT_OK)
		return 0;
	for (i = 0; i < nsigs && n < max; i++) {
		const unsigned char *dom = dkim_sig_getdomain(sigs[i]);
		const unsigned char *sel = dkim_sig_getselector(sigs[i]);
		if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) || dom == NULL || sel == NULL)
			continue;
		snprintf(names[n++], sizeof(names[0]), "%.63s._domainkey.%.253s", (const char *)sel, (const char *)dom);
	}
	return n;
}

void auth_dkim_finish(void *h, mw_auth_info *info)
{
	DKIM_SIGINFO **sigs = NULL;
	DKIM *d = h;
	int nsigs = 0, i;

	if (d == NULL)
		return;
	(void)dkim_eom(d, NULL); /* checks its own state: after a failed feed it does nothing */
	if (dkim_getsiglist(d, &sigs, &nsigs) != DKIM_STAT_OK)
		nsigs = 0;
	info->sigs_total = nsigs > 0 ? (size_t)nsigs : 0;
	for (i = 0; i < nsigs && info->nsigs < AUTH_MAX_SIGS; i++) {
		auth_sig *a = &info->sigs[info->nsigs++];
		const unsigned char *dom = dkim_sig_getdomain(sigs[i]);
		const unsigned char *sel = dkim_sig_getselector(sigs[i]);
		const unsigned char *b = dkim_sig_gettagvalue(sigs[i], 0, (unsigned char *)"b");

		mw_printable(a->domain, sizeof(a->domain), dom ? (const char *)dom : "", sizeof(a->domain) - 4, 0);
		mw_lower(a->domain);
		mw_printable(a->selector, sizeof(a->selector), sel ? (const char *)sel : "", sizeof(a->selector) - 4,
		             0);
		if (b) {
			size_t k, j = 0;
			for (k = 0; b[k] && j < 8; k++)
				if (b[k] > ' ' && b[k] < 0x7f)
					a->b[j++] = (char)b[k];
			a->b[j] = 0;
		}
		a->result = sig_result(sigs[i], a->why, sizeof(a->why));
	}
	dkim_free(d);
}
