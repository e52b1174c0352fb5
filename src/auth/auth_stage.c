/*
 * NAME
 *	auth_stage.c - the engine stage: authenticate the message, then
 *	judge the identities it claims
 * SYNOPSIS
 *	#include "auth/auth.h"
 *
 *	auth_stage(scan);
 *	n = auth_mailboxes(value, boxes, AUTH_MAX_FROM);
 * DESCRIPTION
 *	Runs when [auth] enable is yes, except on rescans (held mail is
 *	judged again on content; its authentication belongs to the moment
 *	it arrived) and for clients in auth.trusted_clients (our own
 *	servers).  Reasons, facts only (docs/auth.md):
 *
 *	auth.dmarc_reject, auth.dmarc_quarantine: DMARC fails and the policy
 *	that applies (p=, or sp= for a sub-domain) is reject or quarantine,
 *	and no trusted forwarder vouched for the message.
 *
 *	auth.protected_spoof: the envelope sender, a From or the Sender
 *	domain is protected ([domains] protected) and that identity did not
 *	pass authentication: an aligned SPF or DKIM pass (for From: DMARC
 *	pass, or an aligned pass when the domain has no DMARC record).
 *
 *	auth.partner_spoof: the same for a partner domain (list "partner")
 *	that fails: DMARC fail, or without a DMARC record an SPF fail or
 *	softfail of that domain or a failing aligned signature, with no
 *	aligned pass.  A partner that publishes nothing cannot fail (nor
 *	authenticate).
 *
 *	auth.lookalike_sender: the domain of a From, Reply-To, the envelope
 *	sender or the HELO name imitates a protected or partner domain
 *	(links_lookalike(), the model of link.lookalike), or mixes scripts.
 *
 *	auth.display_name_claim: a From, Sender or Reply-To display name
 *	contains an [domains] org_names entry, a protected or a partner
 *	domain, and the address is in none of those domains.
 *
 *	auth.temperror: the resolver is down (no DNS server answered), or
 *	a DNS failure left a protected or partner identity unchecked (with
 *	auth.temperror_any = yes: any DNS failure in SPF, DKIM or DMARC).
 *	Its default action is tempfail: the sender retries.
 * LIMITS
 *	AUTH_MAX_FROM mailboxes per From, Reply-To or Sender field; the
 *	first AUTH_MAX_FROM From fields.  Display names of AUTH_NAME_MAX
 *	bytes, addresses of AUTH_ADDR_MAX bytes.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth_int.h"
#include "scan/scan.h"
#include "links/links.h"
#include "util/log.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* auth_mailboxes - split an address list into display names and lower-case addresses */
size_t auth_mailboxes(const char *v, auth_mailbox *out, size_t max)
{
	size_t n = 0, len = v ? strlen(v) : 0, i = 0;

	while (i < len && n < max) {
		size_t start = i, lt = (size_t)-1, gt = (size_t)-1, colon = (size_t)-1;
		int quote = 0, depth = 0, angle = 0;
		auth_mailbox *m;
		const char *a, *nm;
		size_t al, nl;

		/* one mailbox: up to a comma outside quotes, comments and angle brackets */
		for (; i < len; i++) {
			char c = v[i];
			if (quote) {
				if (c == '\\' && i + 1 < len)
					i++;
				else if (c == '"')
					quote = 0;
			} else if (depth) {
				if (c == '\\' && i + 1 < len)
					i++;
				else if (c == '(')
					depth++;
				else if (c == ')')
					depth--;
			} else if (c == '"') {
				quote = 1;
			} else if (c == '(') {
				depth = 1;
			} else if (c == '<' && !angle) {
				angle = 1;
				lt = i;
			} else if (c == '>' && angle) {
				angle = 0;
				gt = i;
			} else if (c == ':' && !angle && lt == (size_t)-1 && colon == (size_t)-1) {
				colon = i; /* "group: a@b, ..." */
			} else if ((c == ',' || c == ';') && !angle) {
				break;
			}
		}
		if (colon != (size_t)-1 && (lt == (size_t)-1 || colon < lt) &&
		    memchr(v + start, '@', colon - start) == NULL)
			start = colon + 1;
		m = &out[n];
		memset(m, 0, sizeof(*m));
		if (lt != (size_t)-1 && gt != (size_t)-1 && gt > lt) {
			a = v + lt + 1;
			al = gt - lt - 1;
			nm = v + start;
			nl = lt - start;
		} else {
			const char *paren;
			a = v + start;
			al = i - start;
			paren = memchr(a, '(', al);
			nm = "";
			nl = 0;
			if (paren) {
				const char *close = memchr(paren, ')', (size_t)(a + al - paren));
				nm = paren + 1;
				nl = close ? (size_t)(close - paren - 1) : (size_t)(a + al - paren - 1);
				al = (size_t)(paren - a);
			}
		}
		if (al >= sizeof(m->addr))
			al = sizeof(m->addr) - 1;
		memcpy(m->addr, a, al);
		m->addr[al] = 0;
		if (nl >= sizeof(m->name))
			nl = sizeof(m->name) - 1;
		memcpy(m->name, nm, nl);
		m->name[nl] = 0;
		{
			char *t = mw_trim(m->addr);
			memmove(m->addr, t, strlen(t) + 1);
			mw_lower(m->addr);
			t = mw_trim(m->name);
			if (*t == '"') {
				size_t l;
				t++;
				l = strlen(t);
				if (l && t[l - 1] == '"')
					t[l - 1] = 0;
			}
			memmove(m->name, t, strlen(t) + 1);
		}
		if (strchr(m->addr, '@') && strlen(m->addr) >= 3)
			n++;
		i++; /* past the comma */
	}
	return n;
}

/* ---- identities ---- */

typedef struct judge {
	mw_scan *st;
	const mw_config *cfg;
	const mw_lists *lists;
	const mw_auth_info *a;
	int temp; /* some method ended in temperror, or the budget ran out */
} judge;

static int is_protected(const judge *j, const char *d)
{
	return *d && config_is_protected(j->cfg, d);
}

static const char *partner_of(const judge *j, const char *d)
{
	return *d && j->lists ? lists_match_domain(j->lists, "partner", d) : NULL;
}

/* authenticated_for - an SPF or DKIM pass aligned with d; for the From domain, DMARC decides */
static int authenticated_for(const judge *j, const char *d)
{
	const mw_auth_info *a = j->a;
	size_t i;

	if (strcasecmp(d, a->from_domain) == 0 && (a->dmarc == AUTH_PASS || a->dmarc == AUTH_FAIL))
		return a->dmarc == AUTH_PASS;
	if (a->spf == AUTH_PASS && auth_aligned(*a->spf_domain ? a->spf_domain : a->helo, d))
		return 1;
	for (i = 0; i < a->nsigs; i++)
		if (a->sigs[i].result == AUTH_PASS && auth_aligned(a->sigs[i].domain, d))
			return 1;
	return 0;
}

/* failed_for - authentication of d positively failed (not merely absent) */
static int failed_for(const judge *j, const char *d)
{
	const mw_auth_info *a = j->a;
	size_t i;

	if (authenticated_for(j, d))
		return 0;
	if (strcasecmp(d, a->from_domain) == 0 && a->dmarc == AUTH_FAIL)
		return 1;
	if ((a->spf == AUTH_FAIL || a->spf == AUTH_SOFTFAIL) && auth_aligned(a->spf_domain, d))
		return 1;
	for (i = 0; i < a->nsigs; i++)
		if ((a->sigs[i].result == AUTH_FAIL || a->sigs[i].result == AUTH_PERMERROR) &&
		    auth_aligned(a->sigs[i].domain, d))
			return 1;
	return 0;
}

/* claim - one claimed identity (part: envelope, from, sender) */
static void claim(judge *j, const char *part, const char *addr)
{
	char d[AUTH_DOMAIN_MAX];
	const char *partner;

	auth_domain_of(addr, d, sizeof(d));
	if (*d == 0 || authenticated_for(j, d))
		return;
	if (j->a->forwarder[0] && strcasecmp(d, j->a->from_domain) == 0)
		return; /* a trusted forwarder re-signed it */
	if (is_protected(j, d)) {
		if (j->temp)
			verdict_add(j->st->verdict, "auth.temperror", part,
			            "cannot check the protected domain %.100s: DNS failure", d);
		else
			verdict_add(j->st->verdict, "auth.protected_spoof", part,
			            "%.120s claims our domain %.100s and does not pass SPF, DKIM or DMARC", addr, d);
	} else if ((partner = partner_of(j, d)) != NULL) {
		if (failed_for(j, d))
			verdict_add(j->st->verdict, "auth.partner_spoof", part,
			            "%.120s claims partner %.100s and fails authentication", addr, partner);
		else if (j->temp)
			verdict_add(j->st->verdict, "auth.temperror", part,
			            "cannot check the partner domain %.100s: DNS failure", d);
	}
}

/* lookalike - the domain imitates a protected or partner domain (the model of link.lookalike) */
static void lookalike(judge *j, const char *part, const char *domain)
{
	char why[300];

	if (*domain == 0 || *domain == '[')
		return;
	if (links_lookalike(j->cfg, j->lists, domain, why, sizeof(why)) > 0)
		verdict_add(j->st->verdict, "auth.lookalike_sender", part, "%.100s imitates %.150s", domain, why);
}

/* claims_org - what of our organisation or a partner a display name names, or NULL */
static const char *claims_org(const judge *j, const char *name)
{
	char low[AUTH_NAME_MAX];
	size_t i, n;

	if (*name == 0)
		return NULL;
	mw_strlcpy(low, name, sizeof(low));
	mw_lower(low);
	for (i = 0; i < j->cfg->org_names.n; i++)
		if (strstr(low, j->cfg->org_names.v[i]))
			return j->cfg->org_names.v[i];
	for (i = 0; i < j->cfg->protected_domains.n; i++)
		if (strstr(low, j->cfg->protected_domains.v[i]))
			return j->cfg->protected_domains.v[i];
	n = j->lists ? lists_count(j->lists, "partner") : 0;
	for (i = 0; i < n; i++) {
		const char *e = lists_entry(j->lists, "partner", i);
		if (strchr(e, '/') == NULL && strstr(low, e))
			return e;
	}
	return NULL;
}

static void display_claim(judge *j, const char *part, const auth_mailbox *m)
{
	char d[AUTH_DOMAIN_MAX];
	const char *org = claims_org(j, m->name);

	if (org == NULL)
		return;
	auth_domain_of(m->addr, d, sizeof(d));
	if (is_protected(j, d) || partner_of(j, d))
		return;
	verdict_add(j->st->verdict, "auth.display_name_claim", part,
	            "display name \"%.60s\" claims %.60s but the address is %.100s", m->name, org, m->addr);
}

/* any_temperror - a method ended in temperror, or the budget ran out */
static int any_temperror(const mw_auth_info *a)
{
	size_t i;

	if (a->spf == AUTH_TEMPERROR || a->spf_helo == AUTH_TEMPERROR || a->dmarc == AUTH_TEMPERROR || a->budget_spent)
		return 1;
	for (i = 0; i < a->nsigs; i++)
		if (a->sigs[i].result == AUTH_TEMPERROR)
			return 1;
	return 0;
}

/* header_boxes - the mailboxes of every field name (first max fields), count of fields in *nfields */
static size_t header_boxes(const mime_part *root, const char *name, auth_mailbox *out, size_t max, size_t *nfields)
{
	size_t n = 0, k;
	const char *v;

	*nfields = 0;
	for (k = 0; (v = mime_part_header(root, name, k)) != NULL; k++) {
		(*nfields)++;
		if (k < AUTH_MAX_FROM && n < max)
			n += auth_mailboxes(v, out + n, max - n);
	}
	return n;
}

void auth_stage(mw_scan *st)
{
	const mw_config *cfg = st->env->cfg;
	mw_auth_info *a = &st->res->auth;
	const mime_part *root = st->mime ? mime_root(st->mime) : NULL;
	auth_mailbox *from, *other;
	const char *fromv[AUTH_MAX_FROM * AUTH_MAX_FROM];
	const char *client = msg_client_addr(st->msg), *env_from = msg_sender(st->msg);
	size_t nfrom = 0, nfields = 0, nother, i, k;
	auth_resolver *r;
	auth_input in;
	judge j;
	char err[300];

	if (!cfg->auth_enable || st->env->rescan)
		return;
	if (strcmp(client, "local") == 0)
		client = "";
	if (*client && auth_ip_in_list(client, cfg->auth_trusted_clients.v, cfg->auth_trusted_clients.n))
		return;
	from = x_calloc(AUTH_MAX_FROM * AUTH_MAX_FROM, sizeof(*from));
	other = x_calloc(AUTH_MAX_FROM * AUTH_MAX_FROM, sizeof(*other));
	if (root)
		nfrom = header_boxes(root, "from", from, AUTH_MAX_FROM * AUTH_MAX_FROM, &nfields);
	for (i = 0; i < nfrom; i++)
		fromv[i] = from[i].addr;
	memset(&in, 0, sizeof(in));
	in.client = client;
	in.helo = msg_helo(st->msg);
	in.mail_from = env_from;
	in.raw = msg_raw(st->msg);
	in.from = fromv;
	in.nfrom = nfrom;
	in.nfrom_fields = nfields;
	r = auth_resolver_shared(cfg, err, sizeof(err));
	if (r == NULL)
		log_err("%s: auth: %s", msg_queue_id(st->msg), err);
	auth_check(r, cfg, &in, a);
	auth_resolver_unref(r);

	memset(&j, 0, sizeof(j));
	j.st = st;
	j.cfg = cfg;
	j.lists = st->env->lists;
	j.a = a;
	j.temp = any_temperror(a);
	if (a->resolver_down)
		verdict_add(st->verdict, "auth.temperror", "", "no DNS server answered (%u lookups failed)",
		            a->dns_failures);
	else if (cfg->auth_temperror_any && j.temp)
		verdict_add(st->verdict, "auth.temperror", "", "DNS failure: spf=%s helo=%s dmarc=%s%s",
		            auth_res_name(a->spf), auth_res_name(a->spf_helo), auth_res_name(a->dmarc),
		            a->budget_spent ? ", DNS budget spent" : "");
	if (*env_from)
		claim(&j, "envelope", env_from);
	for (i = 0; i < nfrom; i++)
		claim(&j, "from", from[i].addr);
	if (root) {
		nother = header_boxes(root, "sender", other, AUTH_MAX_FROM, &k);
		for (i = 0; i < nother; i++) {
			claim(&j, "sender", other[i].addr);
			display_claim(&j, "sender", &other[i]);
		}
	}
	/* after the claims: a refusal names our own or a partner's domain first */
	if (a->dmarc == AUTH_FAIL && a->forwarder[0] == 0) {
		if (a->dmarc_applied == 'r')
			verdict_add(st->verdict, "auth.dmarc_reject", "from",
			            "DMARC fails for %.100s, its policy is reject", a->from_domain);
		else if (a->dmarc_applied == 'q')
			verdict_add(st->verdict, "auth.dmarc_quarantine", "from",
			            "DMARC fails for %.100s, its policy is quarantine", a->from_domain);
	}
	for (i = 0; i < nfrom; i++) {
		char d[AUTH_DOMAIN_MAX];
		display_claim(&j, "from", &from[i]);
		lookalike(&j, "from", auth_domain_of(from[i].addr, d, sizeof(d)));
	}
	if (root) {
		nother = header_boxes(root, "reply-to", other, AUTH_MAX_FROM, &k);
		for (i = 0; i < nother; i++) {
			char d[AUTH_DOMAIN_MAX];
			display_claim(&j, "reply-to", &other[i]);
			lookalike(&j, "reply-to", auth_domain_of(other[i].addr, d, sizeof(d)));
		}
	}
	if (*env_from) {
		char d[AUTH_DOMAIN_MAX];
		lookalike(&j, "envelope", auth_domain_of(env_from, d, sizeof(d)));
	}
	if (a->helo[0] && strchr(a->helo, '.'))
		lookalike(&j, "helo", a->helo);
	x_free(from);
	x_free(other);
}
