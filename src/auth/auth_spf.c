/*
 * NAME
 *	auth_spf.c - SPF of the envelope sender and the HELO name (libspf2)
 * SYNOPSIS
 *	#include "auth/auth_int.h"
 *
 *	auth_spf_check(session, cfg, input, info);
 * DESCRIPTION
 *	libspf2 evaluates the records (RFC 7208: include, redirect, a, mx,
 *	ptr, exists, macros, its own limit of 10 DNS mechanisms) and asks
 *	its questions through a DNS layer of ours (SPF_server_new_dns), so
 *	they go through the message's session: cached, counted against the
 *	budget, a failure answered TRY_AGAIN (libspf2: temperror).  Type 99
 *	(SPF) questions, obsolete since RFC 7208, are answered "no data"
 *	without asking.
 *
 *	Every TXT answer is screened before libspf2 compiles it (the macro
 *	compiler of libspf2 1.2.10 can underflow a length on long macro
 *	terms, CVE-2023-42118, not fixed in Debian 12): an SPF record with
 *	a macro term longer than AUTH_SPF_TERM_MAX or more than
 *	AUTH_SPF_MACROS_MAX macros is replaced by one libspf2 refuses to
 *	compile (the result is permerror, as for any broken record); any
 *	other TXT string (an exp= explanation) with a macro and more than
 *	AUTH_SPF_EXP_MAX bytes is dropped.
 *
 *	The MAIL FROM identity of the null sender is the HELO name
 *	(postmaster@HELO), as RFC 7208 section 2.4 says.  Without a client
 *	address nothing can be checked: both results are none.
 *
 *	We run the query ourselves (SPF_server_get_record and
 *	SPF_record_interpret, what SPF_request_query_mailfrom does) because
 *	libspf2 passes every loopback client unchecked; which clients are
 *	ours is auth.trusted_clients' business.
 * LIMITS
 *	AUTH_SPF_TERM_MAX, AUTH_SPF_MACROS_MAX (auth.h), AUTH_SPF_EXP_MAX.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth_int.h"
#include "util/log.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#define HAVE_NS_TYPE 1
#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#define AUTH_SPF_EXP_MAX 160

/* the record that stands for an unsafe one: libspf2 cannot compile it */
#define REFUSED_RECORD "v=spf1 refused-by-mailwarden:unsafe-macro-record ?all"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* libspf2's messages: its errors are bugs (it aborts after them), its
 * warnings go to our log, info and debug nowhere */
static void __attribute__((noreturn)) spf_log_error(const char *file, int line, const char *msg)
{
	log_err("auth: libspf2 %s:%d: %s", file ? file : "?", line, msg ? msg : "");
	abort();
}

static void spf_log_warning(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_info("auth: libspf2: %.200s", msg ? msg : "");
}

static void spf_log_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

static void spf_log_init(void)
{
	SPF_error_handler = spf_log_error;
	SPF_warning_handler = spf_log_warning;
	SPF_info_handler = spf_log_quiet;
	SPF_debug_handler = spf_log_quiet;
}

/* auth_spf_record_safe - see auth.h */
int auth_spf_record_safe(const char *txt, size_t len)
{
	size_t i = 0, macros = 0;
	int spf = len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');

	if (memchr(txt, '%', len) == NULL)
		return 1;
	if (!spf)
		return len <= AUTH_SPF_EXP_MAX;
	while (i < len) {
		size_t start, pct = 0;
		while (i < len && txt[i] == ' ')
			i++;
		start = i;
		while (i < len && txt[i] != ' ') {
			if (txt[i] == '%') {
				pct = 1;
				if (i + 1 < len && txt[i + 1] == '{')
					macros++;
			}
			i++;
		}
		if (pct && i - start > AUTH_SPF_TERM_MAX)
			return 0;
	}
	return macros <= AUTH_SPF_MACROS_MAX;
}

/* rr_put - room for one more record of len bytes at index idx */
static int rr_put(SPF_dns_rr_t *rr, int idx, size_t len)
{
	return SPF_dns_rr_buf_realloc(rr, idx, len) == SPF_E_SUCCESS;
}

/* fill_rr - the records of type t in an answer packet, in libspf2's shape */
static void fill_rr(SPF_dns_rr_t *rr, const unsigned char *pkt, size_t len, ns_type t)
{
	ns_msg msg;
	ns_rr r;
	int cnt = 0, i, n;
	char name[NS_MAXDNAME];

	if (pkt == NULL || ns_initparse(pkt, (int)len, &msg) < 0) {
		rr->herrno = TRY_AGAIN; /* no usable answer: as if none came */
		return;
	}
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		const unsigned char *rd;
		size_t rdlen;

		if (ns_parserr(&msg, ns_s_an, i, &r) < 0)
			break;
		if (ns_rr_type(r) != t || ns_rr_class(r) != ns_c_in)
			continue;
		rd = ns_rr_rdata(r);
		rdlen = ns_rr_rdlen(r);
		switch (t) {
		case ns_t_a:
			if (rdlen != 4 || !rr_put(rr, cnt, sizeof(rr->rr[cnt]->a)))
				continue;
			memcpy(&rr->rr[cnt]->a, rd, 4);
			cnt++;
			break;
		case ns_t_aaaa:
			if (rdlen != 16 || !rr_put(rr, cnt, sizeof(rr->rr[cnt]->aaaa)))
				continue;
			memcpy(&rr->rr[cnt]->aaaa, rd, 16);
			cnt++;
			break;
		case ns_t_mx:
		case ns_t_ptr: {
			const unsigned char *at = t == ns_t_mx ? rd + NS_INT16SZ : rd;
			if ((t == ns_t_mx && rdlen < NS_INT16SZ) ||
			    ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), at, name, sizeof(name)) < 0)
				continue;
			if (!rr_put(rr, cnt, strlen(name) + 1))
				continue;
			strcpy(t == ns_t_mx ? rr->rr[cnt]->mx : rr->rr[cnt]->ptr, name);
			cnt++;
			break;
		}
		case ns_t_txt: {
			char *s = auth_txt_join(rd, rdlen);
			size_t sl = strlen(s); /* a NUL inside ends the string for libspf2 too */
			if (!auth_spf_record_safe(s, sl)) {
				int spf = strncasecmp(s, "v=spf1", 6) == 0;
				log_warn("auth: SPF: refused an unsafe TXT record of %s (%zu bytes with macros)",
				         rr->domain ? rr->domain : "?", sl);
				if (!spf) {
					x_free(s);
					continue;
				}
				x_free(s);
				s = x_strdup(REFUSED_RECORD);
				sl = strlen(s);
			}
			if (rr_put(rr, cnt, sl + 1)) {
				memcpy(rr->rr[cnt]->txt, s, sl + 1);
				cnt++;
			}
			x_free(s);
			break;
		}
		default: break;
		}
	}
	rr->num_rr = cnt;
	if (cnt == 0)
		rr->herrno = NO_DATA;
}

/* layer_lookup - libspf2's DNS lookup, through the session */
static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *srv, const char *domain, ns_type t, int should_cache)
{
	auth_session *s = srv->hook;
	SPF_dns_rr_t *rr;
	dns_answer a;

	(void)should_cache;
	if (t == ns_t_spf)
		return SPF_dns_rr_new_init(srv, domain, t, 0, NO_DATA);
	auth_dns_query(s, domain, t, &a);
	switch (a.status) {
	case DNS_OK:
		rr = SPF_dns_rr_new_init(srv, domain, t, (int)a.ttl, NETDB_SUCCESS);
		if (rr)
			fill_rr(rr, a.pkt, a.len, t);
		break;
	case DNS_NODATA: rr = SPF_dns_rr_new_init(srv, domain, t, (int)a.ttl, NO_DATA); break;
	case DNS_NXDOMAIN:
	case DNS_BADNAME: rr = SPF_dns_rr_new_init(srv, domain, t, (int)a.ttl, HOST_NOT_FOUND); break;
	default: rr = SPF_dns_rr_new_init(srv, domain, t, 0, TRY_AGAIN); break;
	}
	auth_dns_answer_free(&a);
	if (rr == NULL)
		abort(); /* libspf2 treats NULL as out of memory; x_ allocation aborts too */
	return rr;
}

/* the layer with nothing behind it: every name unknown (compiling records needs a server) */
static SPF_dns_rr_t *null_lookup(SPF_dns_server_t *srv, const char *domain, ns_type t, int should_cache)
{
	(void)should_cache;
	return SPF_dns_rr_new_init(srv, domain, t, 0, HOST_NOT_FOUND);
}

/* auth_spf_answer - see auth_int.h */
size_t auth_spf_answer(const unsigned char *pkt, size_t len)
{
	static const ns_type types[] = {ns_t_a, ns_t_aaaa, ns_t_mx, ns_t_ptr, ns_t_txt};
	SPF_dns_server_t layer;
	SPF_server_t *srv;
	size_t k, total = 0;
	int i;

	pthread_once(&log_once, spf_log_init);
	memset(&layer, 0, sizeof(layer));
	layer.lookup = null_lookup;
	layer.name = "mailwarden-null";
	srv = SPF_server_new_dns(&layer, 0);
	for (k = 0; k < MW_ARRAY_LEN(types); k++) {
		SPF_dns_rr_t *rr = SPF_dns_rr_new_init(&layer, "fuzz.example", types[k], 0, NETDB_SUCCESS);
		fill_rr(rr, pkt, len, types[k]);
		total += rr->num_rr > 0 ? (size_t)rr->num_rr : 0;
		for (i = 0; types[k] == ns_t_txt && srv && i < rr->num_rr; i++) {
			SPF_request_t *req = SPF_request_new(srv);
			SPF_response_t *resp = SPF_response_new(req);
			SPF_record_t *rec = NULL;
			if (strncasecmp(rr->rr[i]->txt, "v=spf1", 6) == 0)
				SPF_record_compile(srv, resp, &rec, rr->rr[i]->txt);
			if (rec)
				SPF_record_free(rec);
			SPF_response_free(resp);
			SPF_request_free(req);
		}
		SPF_dns_rr_free(rr);
	}
	if (srv)
		SPF_server_free(srv);
	return total;
}

static auth_res from_spf(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return AUTH_PASS;
	case SPF_RESULT_FAIL: return AUTH_FAIL;
	case SPF_RESULT_SOFTFAIL: return AUTH_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return AUTH_NEUTRAL;
	case SPF_RESULT_NONE: return AUTH_NONE;
	case SPF_RESULT_TEMPERROR: return AUTH_TEMPERROR;
	case SPF_RESULT_PERMERROR: return AUTH_PERMERROR;
	default: return AUTH_PERMERROR;
	}
}

/*
 * query - SPF_request_query_mailfrom() without its "free ride" for
 * loopback clients (127.0.0.0/8, ::1 always pass there): whose mail is
 * ours is decided by auth.trusted_clients, before any check runs.
 */
static SPF_response_t *query(SPF_request_t *req)
{
	SPF_response_t *resp = SPF_response_new(req);
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;

	if (resp == NULL)
		return NULL;
	req->cur_dom = req->env_from_dp;
	if (req->cur_dom == NULL) {
		SPF_i_done(resp, SPF_RESULT_PERMERROR, SPF_REASON_NONE, SPF_E_NOT_CONFIG);
		return resp;
	}
	err = SPF_server_get_record(req->spf_server, req, resp, &rec);
	if (err != SPF_E_SUCCESS) {
		if (rec)
			SPF_record_free(rec);
		/* libspf2 1.2.10 leaves no result on a failed record lookup
		 * (fixed upstream after that release): our layer answers
		 * TRY_AGAIN for every DNS failure, so that is temperror */
		if (resp->result == SPF_RESULT_INVALID)
			resp->result = err == SPF_E_DNS_ERROR ? SPF_RESULT_TEMPERROR : SPF_RESULT_PERMERROR;
		SPF_i_done(resp, resp->result, resp->reason, err);
		return resp;
	}
	resp->spf_record_exp = rec;
	SPF_record_interpret(rec, req, resp, 0);
	SPF_record_free(rec);
	return resp;
}

/* one_check - one identity: sender "" is the HELO identity, postmaster@HELO (RFC 7208 2.3) */
static auth_res one_check(SPF_server_t *srv, const char *client, const char *helo, const char *sender)
{
	SPF_request_t *req = SPF_request_new(srv);
	SPF_response_t *resp;
	auth_res res;
	char pm[AUTH_DOMAIN_MAX + 16];
	int v6 = strchr(client, ':') != NULL;

	if ((v6 ? SPF_request_set_ipv6_str(req, client) : SPF_request_set_ipv4_str(req, client)) != SPF_E_SUCCESS) {
		SPF_request_free(req);
		return AUTH_NONE;
	}
	if (*helo)
		SPF_request_set_helo_dom(req, helo);
	if (*sender == 0) {
		snprintf(pm, sizeof(pm), "postmaster@%s", helo);
		sender = pm;
	}
	if (SPF_request_set_env_from(req, sender) != 0) {
		SPF_request_free(req);
		return AUTH_PERMERROR; /* not an address libspf2 can check */
	}
	resp = query(req);
	res = resp ? from_spf(SPF_response_result(resp)) : AUTH_TEMPERROR;
	if (resp)
		SPF_response_free(resp);
	SPF_request_free(req);
	return res;
}

/* helo_checkable - a HELO name worth an SPF check: a domain, not an address literal */
static int helo_checkable(const char *helo)
{
	return *helo && *helo != '[' && strchr(helo, '.') && auth_dns_valid_name(helo);
}

void auth_spf_check(auth_session *s, const mw_config *cfg, const auth_input *in, mw_auth_info *info)
{
	SPF_dns_server_t layer;
	SPF_server_t *srv;
	const char *client = in->client ? in->client : "";
	const char *helo = in->helo ? in->helo : "";
	const char *from = in->mail_from ? in->mail_from : "";
	unsigned char bin[16];

	(void)cfg;
	pthread_once(&log_once, spf_log_init);
	info->spf = info->spf_helo = AUTH_NONE;
	auth_domain_of(from, info->spf_domain, sizeof(info->spf_domain));
	if (*client == 0 || inet_pton(strchr(client, ':') ? AF_INET6 : AF_INET, client, bin) != 1)
		return;
	memset(&layer, 0, sizeof(layer));
	layer.lookup = layer_lookup;
	layer.name = "mailwarden";
	layer.hook = s;
	srv = SPF_server_new_dns(&layer, 0);
	if (srv == NULL) {
		info->spf = info->spf_helo = AUTH_TEMPERROR;
		return;
	}
	if (helo_checkable(helo))
		info->spf_helo = one_check(srv, client, helo, "");
	if (*from)
		info->spf = one_check(srv, client, helo, from);
	else if (helo_checkable(helo))
		info->spf = info->spf_helo; /* the null sender: postmaster@HELO */
	SPF_server_free(srv);
}
