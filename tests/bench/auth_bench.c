/*
 * NAME
 *	auth_bench - time sender authentication per message, cache cold
 *	and warm
 * SYNOPSIS
 *	auth_bench RESOLVER DIR N [ROUNDS]
 * DESCRIPTION
 *	DIR holds N messages m0.eml .. m(N-1).eml, each with m*.env: one line
 *	"CLIENT HELO MAIL-FROM FROM-ADDRESS".  Their domains are all
 *	different, so the first pass over them finds nothing cached (cold);
 *	the next ROUNDS passes (default 1) find every answer in the cache
 *	(warm).  One resolver (auth_resolver_new) asks RESOLVER
 *	("IP@port"), as mailwardend's shared one does.  Each message runs
 *	auth_check() once, which is what the auth stage adds to a scan.
 *	Prints one JSON object: per pass the median, p95 and mean
 *	milliseconds, DNS lookups and cache hits per message, and the
 *	results seen (so a broken setup shows).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth.h"
#include "engine/engine.h"
#include "util/spool.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static mw_spool *load(const char *path)
{
	mw_spool *s = spool_new(1 << 20, "/tmp");
	char buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(4);
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		spool_write(s, buf, n);
	fclose(f);
	return s;
}

typedef struct pass_stats {
	double med, p95, mean;
	double lookups, cached;
	unsigned pass_dkim, pass_dmarc, pass_spf;
} pass_stats;

static void run_pass(auth_resolver *r, const mw_config *cfg, const char *dir, size_t n, pass_stats *ps)
{
	double *ms = x_calloc(n, sizeof(*ms));
	mw_auth_info *info = x_calloc(1, sizeof(*info));
	size_t i;

	memset(ps, 0, sizeof(*ps));
	for (i = 0; i < n; i++) {
		char path[4096], client[64], helo[256], from[320], hfrom[320];
		const char *fromv[1];
		auth_input in;
		mw_spool *raw;
		FILE *f;
		double t0;

		snprintf(path, sizeof(path), "%s/m%zu.env", dir, i);
		if ((f = fopen(path, "r")) == NULL ||
		    fscanf(f, "%63s %255s %319s %319s", client, helo, from, hfrom) != 4) {
			fprintf(stderr, "auth_bench: %s: bad or missing\n", path);
			exit(4);
		}
		fclose(f);
		snprintf(path, sizeof(path), "%s/m%zu.eml", dir, i);
		raw = load(path);
		memset(&in, 0, sizeof(in));
		fromv[0] = hfrom;
		in.client = client;
		in.helo = helo;
		in.mail_from = from;
		in.raw = raw;
		in.from = fromv;
		in.nfrom = 1;
		in.nfrom_fields = 1;
		t0 = mw_now_ms();
		auth_check(r, cfg, &in, info);
		ms[i] = mw_now_ms() - t0;
		ps->mean += ms[i];
		ps->lookups += info->dns_lookups;
		ps->cached += info->dns_cached;
		ps->pass_spf += info->spf == AUTH_PASS;
		ps->pass_dkim += info->nsigs > 0 && info->sigs[0].result == AUTH_PASS;
		ps->pass_dmarc += info->dmarc == AUTH_PASS;
		spool_free(raw);
	}
	qsort(ms, n, sizeof(*ms), cmp_d);
	ps->med = ms[n / 2];
	ps->p95 = ms[(n * 95) / 100 < n ? (n * 95) / 100 : n - 1];
	ps->mean /= (double)n;
	ps->lookups /= (double)n;
	ps->cached /= (double)n;
	x_free(ms);
	x_free(info);
}

static void print_pass(const char *name, const pass_stats *p, int comma)
{
	printf("%s\"%s\": {\"median_ms\": %.3f, \"p95_ms\": %.3f, \"mean_ms\": %.3f, \"lookups\": %.2f, "
	       "\"cached\": %.2f, \"spf_pass\": %u, \"dkim_pass\": %u, \"dmarc_pass\": %u}",
	       comma ? ", " : "", name, p->med, p->p95, p->mean, p->lookups, p->cached, p->pass_spf, p->pass_dkim,
	       p->pass_dmarc);
}

int main(int argc, char **argv)
{
	char err[512], ov_res[300];
	const char *ov[6];
	mw_config *cfg;
	auth_dns_conf dc;
	auth_resolver *r;
	pass_stats cold, warm;
	size_t n, rounds, k;

	if (argc < 4) {
		fprintf(stderr, "usage: auth_bench RESOLVER DIR N [ROUNDS]\n");
		return 4;
	}
	n = strtoul(argv[3], NULL, 10);
	rounds = argc > 4 ? strtoul(argv[4], NULL, 10) : 1;
	if (n == 0 || rounds == 0)
		return 4;
	snprintf(ov_res, sizeof(ov_res), "auth.resolver=%s", argv[1]);
	ov[0] = "auth.enable=yes";
	ov[1] = ov_res;
	ov[2] = "auth.authserv_id=bench.test";
	ov[3] = "domains.protected=example.com";
	ov[4] = "auth.lookup_timeout=2000";
	ov[5] = "auth.message_budget=10000";
	if (config_load(NULL, ov, 6, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "auth_bench: %s\n", err);
		return 4;
	}
	memset(&dc, 0, sizeof(dc));
	dc.servers = argv[1];
	dc.timeout_ms = cfg->auth_timeout;
	dc.budget_ms = cfg->auth_budget;
	dc.max_lookups = cfg->auth_max_lookups;
	dc.cache_entries = cfg->auth_cache_entries;
	dc.cache_max_ttl = cfg->auth_cache_max_ttl;
	if ((r = auth_resolver_new(&dc, err, sizeof(err))) == NULL) {
		fprintf(stderr, "auth_bench: %s\n", err);
		return 4;
	}
	run_pass(r, cfg, argv[2], n, &cold);
	for (k = 0; k < rounds; k++)
		run_pass(r, cfg, argv[2], n, &warm);
	printf("{\"messages\": %zu, ", n);
	print_pass("cold", &cold, 0);
	print_pass("warm", &warm, 1);
	printf("}\n");
	auth_resolver_unref(r);
	config_unref(cfg);
	return 0;
}
