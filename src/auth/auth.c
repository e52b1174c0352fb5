/*
 * NAME
 *	auth.c - one message's SPF, DKIM and DMARC, and the helpers the
 *	checks share
 * SYNOPSIS
 *	See auth.h: auth_check(), auth_authserv_id(), auth_ip_in_list(),
 *	auth_summary(), auth_dkim_summary().
 * DESCRIPTION
 *	auth_check() opens a DNS session for the message (budget from the
 *	[auth] keys), makes it the thread's current one (libopendkim's DNS
 *	hooks find it there), runs SPF, DKIM and DMARC in that order (DMARC
 *	needs the other two), and formats the Authentication-Results value.
 *
 *	"The resolver is down" when every question of this message failed
 *	(timeout or SERVFAIL, not the budget) and a SOA question for our
 *	first protected domain, asked past the cache, fails too; with no
 *	protected domain, when no question of any message got an answer in
 *	the last DOWN_WINDOW seconds.  One sender's broken DNS therefore
 *	does not look like our own resolver failing.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth_int.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DOWN_WINDOW 60 /* seconds */

char *auth_domain_of(const char *addr, char *out, size_t len)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	mw_strlcpy(out, at ? at + 1 : "", len);
	mw_lower(out);
	len = strlen(out);
	if (len && out[len - 1] == '.')
		out[len - 1] = 0;
	return out;
}

char *auth_org_domain(const char *domain, char *out, size_t len)
{
	mw_regdomain(domain, out, len);
	return out;
}

int auth_aligned(const char *a, const char *b)
{
	char oa[AUTH_DOMAIN_MAX], ob[AUTH_DOMAIN_MAX];

	if (a == NULL || b == NULL || *a == 0 || *b == 0)
		return 0;
	if (strcasecmp(a, b) == 0)
		return 1;
	auth_org_domain(a, oa, sizeof(oa));
	auth_org_domain(b, ob, sizeof(ob));
	return *oa && strcasecmp(oa, ob) == 0;
}

/* ip_parse - text to family and bytes */
static int ip_parse(const char *s, size_t n, int *fam, unsigned char bin[16])
{
	char ip[64];

	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = 0;
	*fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	return inet_pton(*fam, ip, bin) == 1 ? 0 : -1;
}

int auth_ip_in_list(const char *ip, char *const *cidrs, size_t n)
{
	unsigned char a[16], b[16];
	int fa, fb;
	size_t i;

	if (ip == NULL || ip_parse(ip, strlen(ip), &fa, a) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		const char *c = cidrs[i], *slash = strchr(c, '/');
		size_t bits, full, k;

		if (ip_parse(c, slash ? (size_t)(slash - c) : strlen(c), &fb, b) < 0 || fb != fa)
			continue;
		bits = slash ? (size_t)strtoul(slash + 1, NULL, 10) : (fa == AF_INET ? 32 : 128);
		if (bits > (fa == AF_INET ? 32u : 128u))
			continue;
		full = bits / 8;
		if (memcmp(a, b, full) != 0)
			continue;
		k = bits % 8;
		if (k && ((a[full] ^ b[full]) & (0xff << (8 - k))))
			continue;
		return 1;
	}
	return 0;
}

static char host_name[256];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_load(void)
{
	if (gethostname(host_name, sizeof(host_name) - 1) < 0 || host_name[0] == 0)
		mw_strlcpy(host_name, "localhost", sizeof(host_name));
}

const char *auth_authserv_id(const mw_config *cfg)
{
	if (cfg->auth_authserv_id && *cfg->auth_authserv_id)
		return cfg->auth_authserv_id;
	pthread_once(&host_once, host_load);
	return host_name;
}

/* the resolver-wide clock of the last answer, for "the resolver is down" */
static double last_answer_s;
static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * prefetch - the questions every message starts with, asked together:
 * SPF of the MAIL FROM domain and of the HELO name, the From domain's
 * DMARC record, every DKIM key.  What they lead to (includes, the
 * organisational domain's DMARC record) is asked afterwards as needed.
 */
static void prefetch(auth_session *s, const mw_config *cfg, const auth_input *in, void *dk)
{
	char keys[AUTH_MAX_SIGS][AUTH_DOMAIN_MAX + AUTH_SELECTOR_MAX + 16];
	char spf[AUTH_DOMAIN_MAX], from[AUTH_DOMAIN_MAX], dmarc[AUTH_DOMAIN_MAX + 8];
	const char *names[AUTH_MAX_SIGS + 3];
	int types[AUTH_MAX_SIGS + 3];
	size_t n = 0, k, i;
	int client = in->client && *in->client;

	if (cfg->auth_spf && client) {
		auth_domain_of(in->mail_from, spf, sizeof(spf));
		if (*spf)
			names[n++] = spf;
		if (in->helo && strchr(in->helo, '.') && *in->helo != '[')
			names[n++] = in->helo;
	}
	if (cfg->auth_dmarc && in->nfrom > 0 && *auth_domain_of(in->from[0], from, sizeof(from))) {
		snprintf(dmarc, sizeof(dmarc), "_dmarc.%s", from);
		names[n++] = dmarc;
	}
	k = auth_dkim_keys(dk, keys, s->dkim_max < AUTH_MAX_SIGS ? s->dkim_max : AUTH_MAX_SIGS);
	for (i = 0; i < k; i++)
		names[n++] = keys[i];
	for (i = 0; i < n; i++)
		types[i] = ns_t_txt; /* every first question is a TXT one */
	auth_dns_prefetch(s, names, types, n);
}

void auth_check(auth_resolver *r, const mw_config *cfg, const auth_input *in, mw_auth_info *info)
{
	auth_session s;
	double now;
	void *dk;

	memset(info, 0, sizeof(*info));
	info->ran = 1;
	mw_printable(info->client, sizeof(info->client), in->client ? in->client : "", sizeof(info->client) - 4, 0);
	mw_printable(info->helo, sizeof(info->helo), in->helo ? in->helo : "", sizeof(info->helo) - 4, 0);
	mw_lower(info->helo);
	auth_session_init(&s, r);
	s.timeout_ms = cfg->auth_timeout;
	s.budget_ms = cfg->auth_budget;
	s.max_lookups = cfg->auth_max_lookups;
	s.dkim_max = cfg->auth_dkim_max_sigs;
	auth_session_set_current(&s);
	dk = cfg->auth_dkim ? auth_dkim_start(&s, cfg, in) : NULL;
	prefetch(&s, cfg, in, dk);
	if (cfg->auth_spf)
		auth_spf_check(&s, cfg, in, info);
	auth_dkim_finish(dk, info);
	auth_dmarc_check(&s, cfg, in, info);
	auth_session_set_current(NULL);
	info->dns_lookups = s.answered;
	info->dns_cached = s.cached;
	info->dns_failures = s.failures;
	info->budget_spent = s.budget_spent;
	info->dns_ms = s.spent_ms;
	now = mono();
	if (s.answered > 0 || s.cached > 0) {
		pthread_mutex_lock(&last_mu);
		last_answer_s = now;
		pthread_mutex_unlock(&last_mu);
	} else if (s.net_failures > 0) {
		if (cfg->protected_domains.n > 0) {
			/* our own domain must resolve: if it does, the sender's DNS is broken, not ours */
			info->resolver_down = !auth_dns_probe(&s, cfg->protected_domains.v[0]);
		} else {
			pthread_mutex_lock(&last_mu);
			info->resolver_down = last_answer_s == 0 || now - last_answer_s > DOWN_WINDOW;
			pthread_mutex_unlock(&last_mu);
		}
	}
	auth_ar_format(info, auth_authserv_id(cfg), info->header, sizeof(info->header));
}

const char *auth_summary(const mw_auth_info *a)
{
	size_t i;
	int sig_fail = 0, sig_temp = 0;

	if (!a->ran)
		return "";
	if (a->authenticated[0])
		return "pass";
	if (a->dmarc == AUTH_FAIL)
		return "fail";
	for (i = 0; i < a->nsigs; i++) {
		if (a->sigs[i].result == AUTH_FAIL || a->sigs[i].result == AUTH_PERMERROR)
			sig_fail = 1;
		if (a->sigs[i].result == AUTH_TEMPERROR)
			sig_temp = 1;
	}
	if (a->dmarc == AUTH_TEMPERROR || a->spf == AUTH_TEMPERROR || sig_temp || a->budget_spent)
		return "temperror";
	if (a->spf == AUTH_FAIL || a->spf == AUTH_SOFTFAIL || sig_fail)
		return "fail";
	if (a->dmarc == AUTH_PERMERROR || a->spf == AUTH_PERMERROR)
		return "permerror";
	return "none";
}

char *auth_dkim_summary(const mw_auth_info *a, char *out, size_t len)
{
	mw_buf b;
	size_t i;

	buf_init(&b, len > 1 ? len - 1 : 1);
	for (i = 0; i < a->nsigs; i++)
		buf_printf(&b, "%s%s d=%s s=%s", i ? ", " : "", auth_res_name(a->sigs[i].result), a->sigs[i].domain,
		           a->sigs[i].selector);
	if (a->nsigs == 0)
		buf_puts(&b, a->ran ? "none" : "");
	mw_strlcpy(out, b.p, len);
	buf_free(&b);
	return out;
}
