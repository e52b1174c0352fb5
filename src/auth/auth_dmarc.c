/*
 * NAME
 *	auth_dmarc.c - DMARC of the header From domain (libopendmarc), and
 *	which identity the message authenticated as
 * SYNOPSIS
 *	#include "auth/auth_int.h"
 *
 *	auth_dmarc_check(session, cfg, input, info);	(after SPF and DKIM)
 * DESCRIPTION
 *	We fetch the record ourselves, through the session (cache, budget):
 *	TXT at _dmarc.FROM-DOMAIN, else at _dmarc.ORGANISATIONAL-DOMAIN
 *	(libpsl, the registrable domain), keeping the TXT records that begin
 *	with "v=DMARC1"; exactly one must remain (RFC 7489 6.6.3).
 *	libopendmarc parses it (opendmarc_policy_store_dmarc), takes the SPF
 *	result of the MAIL FROM domain (the HELO name for the null sender)
 *	and every DKIM signature's result, checks alignment (adkim, aspf;
 *	relaxed alignment with Debian's public suffix list, loaded once) and
 *	gives the policy to apply: p=, or sp= when the record is the
 *	organisational domain's.
 *
 *	We change its answer in two cases.  A DNS failure that left an
 *	aligned identity unverified (a DKIM key of the From domain, the SPF
 *	of an aligned MAIL FROM) turns a fail into temperror: the policy is
 *	not applied on missing facts.  A valid signature of a domain in
 *	auth.trusted_forwarders (a mailing list that re-signs) is noted in
 *	info->forwarder; the stage then does not apply the policy.  pct= is
 *	reported but not sampled: the policy applies to every failing
 *	message, so a verdict can be reproduced.
 *
 *	More than one From field, or From addresses in different domains,
 *	make DMARC permerror (the policy of which domain should apply?).
 *
 *	"Authenticated" (info->authenticated): the From domain, when DMARC
 *	passed, or, with no DMARC record or auth.dmarc = no, when an SPF or
 *	DKIM pass has the From domain's organisational domain.
 * LIMITS
 *	DMARC records of at most DMARC_RECORD_MAX bytes are parsed.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth_int.h"
#include "util/log.h"
#include "util/util.h"

#include <arpa/nameser.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <opendmarc/dmarc.h>

#define DMARC_RECORD_MAX 2048
#define PSL_FILE         "/usr/share/publicsuffix/public_suffix_list.dat"

static OPENDMARC_LIB_T g_dmarc_lib; /* libopendmarc keeps a pointer to it */
static pthread_once_t dmarc_once = PTHREAD_ONCE_INIT;

static void dmarc_init(void)
{
	memset(&g_dmarc_lib, 0, sizeof(g_dmarc_lib));
	if (access(PSL_FILE, R_OK) == 0) {
		g_dmarc_lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
		mw_strlcpy((char *)g_dmarc_lib.tld_source_file, PSL_FILE, sizeof(g_dmarc_lib.tld_source_file));
	} else {
		g_dmarc_lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
		log_warn("auth: %s is missing: DMARC relaxed alignment compares whole domains only", PSL_FILE);
	}
	if (opendmarc_policy_library_init(&g_dmarc_lib) != DMARC_PARSE_OKAY)
		log_err("auth: libopendmarc: library init failed");
}

/* fetch_record - the one v=DMARC1 record at _dmarc.domain: 1 found, 0 none, -1 temporary failure */
static int fetch_record(auth_session *s, const char *domain, char *out, size_t len)
{
	char name[AUTH_DOMAIN_MAX + 8];
	dns_answer a;
	char **txt;
	size_t n, i, found = 0;

	if (strlen(domain) + 7 >= sizeof(name))
		return 0;
	memcpy(name, "_dmarc.", 7);
	mw_strlcpy(name + 7, domain, sizeof(name) - 7);
	auth_dns_query(s, name, ns_t_txt, &a);
	if (dns_temporary(a.status)) {
		auth_dns_answer_free(&a);
		return -1;
	}
	txt = a.status == DNS_OK ? auth_dns_txt(a.pkt, a.len, &n) : NULL;
	for (i = 0; txt && i < n; i++) {
		const char *t = txt[i];
		while (*t == ' ' || *t == '\t')
			t++;
		if (strncmp(t, "v=DMARC1", 8) != 0 || (t[8] && t[8] != ';' && t[8] != ' ' && t[8] != '\t'))
			continue;
		if (++found == 1)
			mw_strlcpy(out, t, len);
	}
	if (txt)
		auth_dns_txt_free(txt, n);
	auth_dns_answer_free(&a);
	return found == 1 && strlen(out) < len - 1 ? 1 : 0;
}

static int spf_outcome(auth_res r)
{
	switch (r) {
	case AUTH_PASS: return DMARC_POLICY_SPF_OUTCOME_PASS;
	case AUTH_TEMPERROR: return DMARC_POLICY_SPF_OUTCOME_TMPFAIL;
	case AUTH_NONE: return DMARC_POLICY_SPF_OUTCOME_NONE;
	default: return DMARC_POLICY_SPF_OUTCOME_FAIL;
	}
}

static int dkim_outcome(auth_res r)
{
	switch (r) {
	case AUTH_PASS: return DMARC_POLICY_DKIM_OUTCOME_PASS;
	case AUTH_TEMPERROR: return DMARC_POLICY_DKIM_OUTCOME_TMPFAIL;
	default: return DMARC_POLICY_DKIM_OUTCOME_FAIL;
	}
}

/* forwarder - a passing signature of a trusted forwarder, or NULL */
static const char *forwarder(const mw_config *cfg, const mw_auth_info *info)
{
	size_t i, k;

	for (i = 0; i < info->nsigs; i++) {
		const char *d = info->sigs[i].domain;
		size_t dl = strlen(d);
		if (info->sigs[i].result != AUTH_PASS)
			continue;
		for (k = 0; k < cfg->auth_trusted_forwarders.n; k++) {
			const char *f = cfg->auth_trusted_forwarders.v[k];
			size_t fl = strlen(f);
			if (strcmp(d, f) == 0 || (dl > fl && d[dl - fl - 1] == '.' && strcmp(d + dl - fl, f) == 0))
				return d;
		}
	}
	return NULL;
}

/* run_policy - libopendmarc over the record and our SPF and DKIM results */
static void run_policy(const char *record, const char *org, const auth_input *in, mw_auth_info *info)
{
	DMARC_POLICY_T *p;
	const char *client = in->client && *in->client ? in->client : "0.0.0.0";
	const char *spf_dom = *info->spf_domain ? info->spf_domain : info->helo;
	int st, v, dk = 0, sp = 0;
	size_t i;

	p = opendmarc_policy_connect_init((unsigned char *)client, strchr(client, ':') != NULL);
	if (p == NULL) {
		info->dmarc = AUTH_TEMPERROR;
		return;
	}
	if (opendmarc_policy_store_from_domain(p, (unsigned char *)info->from_domain) != DMARC_PARSE_OKAY ||
	    opendmarc_policy_store_dmarc(p, (unsigned char *)record, (unsigned char *)info->from_domain,
	                                 (unsigned char *)org) != DMARC_PARSE_OKAY) {
		info->dmarc = AUTH_PERMERROR; /* a record libopendmarc cannot parse */
		goto out;
	}
	if (*spf_dom)
		(void)opendmarc_policy_store_spf(
		    p, (unsigned char *)spf_dom, spf_outcome(info->spf),
		    *info->spf_domain ? DMARC_POLICY_SPF_ORIGIN_MAILFROM : DMARC_POLICY_SPF_ORIGIN_HELO, NULL);
	for (i = 0; i < info->nsigs; i++)
		if (info->sigs[i].domain[0] && info->sigs[i].result != AUTH_POLICY)
			(void)opendmarc_policy_store_dkim(p, (unsigned char *)info->sigs[i].domain,
			                                  (unsigned char *)info->sigs[i].selector,
			                                  dkim_outcome(info->sigs[i].result), NULL);
	st = opendmarc_get_policy_to_enforce(p);
	if (opendmarc_policy_fetch_p(p, &v) == DMARC_PARSE_OKAY)
		info->dmarc_p = (char)v;
	if (opendmarc_policy_fetch_sp(p, &v) == DMARC_PARSE_OKAY)
		info->dmarc_sp = (char)v;
	if (opendmarc_policy_fetch_pct(p, &v) == DMARC_PARSE_OKAY)
		info->dmarc_pct = v;
	(void)opendmarc_policy_fetch_alignment(p, &dk, &sp);
	switch (st) {
	case DMARC_POLICY_PASS: info->dmarc = AUTH_PASS; break;
	case DMARC_POLICY_REJECT:
		info->dmarc_applied = 'r';
		info->dmarc = AUTH_FAIL;
		break;
	case DMARC_POLICY_QUARANTINE:
		info->dmarc_applied = 'q';
		info->dmarc = AUTH_FAIL;
		break;
	case DMARC_POLICY_NONE:
		info->dmarc_applied = 'n';
		info->dmarc = AUTH_FAIL;
		break;
	case DMARC_POLICY_ABSENT: info->dmarc = AUTH_NONE; break;
	default: info->dmarc = AUTH_PERMERROR; break;
	}
out:
	opendmarc_policy_connect_shutdown(p);
}

/* unverified_aligned - a DNS failure left an identity aligned with From unverified */
static int unverified_aligned(const mw_auth_info *info)
{
	size_t i;

	for (i = 0; i < info->nsigs; i++)
		if (info->sigs[i].result == AUTH_TEMPERROR && auth_aligned(info->sigs[i].domain, info->from_domain))
			return 1;
	return info->spf == AUTH_TEMPERROR &&
	       auth_aligned(*info->spf_domain ? info->spf_domain : info->helo, info->from_domain);
}

void auth_dmarc_check(auth_session *s, const mw_config *cfg, const auth_input *in, mw_auth_info *info)
{
	char record[DMARC_RECORD_MAX], org[AUTH_DOMAIN_MAX];
	const char *fwd;
	size_t i;
	int rc, multi = in->nfrom_fields > 1;

	info->dmarc = AUTH_NONE;
	if (in->nfrom > 0)
		auth_domain_of(in->from[0], info->from_domain, sizeof(info->from_domain));
	for (i = 1; i < in->nfrom; i++) {
		char d[AUTH_DOMAIN_MAX];
		if (strcmp(auth_domain_of(in->from[i], d, sizeof(d)), info->from_domain) != 0)
			multi = 1;
	}
	for (i = 0; i < info->nsigs; i++)
		info->sigs[i].aligned = auth_aligned(info->sigs[i].domain, info->from_domain);
	info->spf_aligned = info->spf == AUTH_PASS &&
	                    auth_aligned(*info->spf_domain ? info->spf_domain : info->helo, info->from_domain);
	if (info->from_domain[0] == 0)
		return;
	if (multi) {
		info->dmarc = AUTH_PERMERROR;
	} else if (cfg->auth_dmarc) {
		pthread_once(&dmarc_once, dmarc_init);
		auth_org_domain(info->from_domain, org, sizeof(org));
		rc = fetch_record(s, info->from_domain, record, sizeof(record));
		if (rc == 1) {
			mw_strlcpy(info->dmarc_domain, info->from_domain, sizeof(info->dmarc_domain));
			run_policy(record, NULL, in, info);
		} else if (rc == 0 && *org && strcmp(org, info->from_domain) != 0 &&
		           (rc = fetch_record(s, org, record, sizeof(record))) == 1) {
			mw_strlcpy(info->dmarc_domain, org, sizeof(info->dmarc_domain));
			run_policy(record, org, in, info);
		}
		if (rc < 0)
			info->dmarc = AUTH_TEMPERROR;
		if (info->dmarc == AUTH_FAIL && unverified_aligned(info))
			info->dmarc = AUTH_TEMPERROR;
	}
	if (info->dmarc == AUTH_FAIL && (fwd = forwarder(cfg, info)) != NULL)
		mw_strlcpy(info->forwarder, fwd, sizeof(info->forwarder));
	if (info->dmarc == AUTH_PASS) {
		mw_strlcpy(info->authenticated, info->from_domain, sizeof(info->authenticated));
	} else if (info->dmarc == AUTH_NONE) {
		int ok = info->spf_aligned;
		for (i = 0; i < info->nsigs && !ok; i++)
			ok = info->sigs[i].result == AUTH_PASS && info->sigs[i].aligned;
		if (ok)
			mw_strlcpy(info->authenticated, info->from_domain, sizeof(info->authenticated));
	}
}
