/*
 * scanbench.c - time engine_scan() on one message, engine loaded once:
 *   scanbench SIGS_DIR LISTS_DIR FILE [N]
 * prints min / median / max milliseconds per scan over N runs (default 200)
 * (every one a real scan: antivirus.scan_cache is off unless
 * SCANBENCH_CACHE is set) and the verdict of the last run, and the
 * process's CPU time (user +
 * system, page faults included) per scan, which shared machines disturb
 * far less than the clock.  For `make bench` and profiling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "av/av.h"
#include "engine/engine.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "util/util.h"

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double tv_ms(const struct timeval *tv)
{
	return tv->tv_sec * 1000.0 + tv->tv_usec / 1000.0;
}

int main(int argc, char **argv)
{
	struct rusage ru0, ru1;
	char err[512], ov1[600], ov2[600];
	/* every scan a real one: the scan cache would answer the repeats */
	const char *ovs[4] = {ov1, ov2, "paths.tmp=/tmp",
	                      getenv("SCANBENCH_CACHE") ? "antivirus.scan_cache=32M" : "antivirus.scan_cache=0"};
	mw_config *cfg;
	mw_lists *lists = lists_new();
	av_engine *av;
	FILE *fp;
	char *data;
	long len;
	int i, n = argc > 4 ? atoi(argv[4]) : 200;
	double *t;
	mw_result *res = x_calloc(1, sizeof(*res));
	mw_env env;

	if (argc < 4) {
		fprintf(stderr, "usage: scanbench SIGS_DIR LISTS_DIR FILE [N]\n");
		return 2;
	}
	snprintf(ov1, sizeof(ov1), "paths.signatures=%s", argv[1]);
	snprintf(ov2, sizeof(ov2), "paths.lists=%s", argv[2]);
	if (config_load(NULL, ovs, 4, &cfg, err, sizeof(err)) < 0 ||
	    lists_load_dir(lists, argv[2], err, sizeof(err)) < 0 || av_global_init(err, sizeof(err)) < 0 ||
	    (av = av_engine_load(argv[1], cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "scanbench: %s\n", err);
		return 1;
	}
	if ((fp = fopen(argv[3], "rb")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	data = x_malloc((size_t)len + 1);
	if (fread(data, 1, (size_t)len, fp) != (size_t)len)
		return 1;
	fclose(fp);
	t = x_calloc((size_t)n, sizeof(*t));
	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.lists = lists;
	env.av = av;
	getrusage(RUSAGE_SELF, &ru0);
	for (i = 0; i < n; i++) {
		mw_msg *m = msg_new(cfg);
		double t0;
		msg_set_sender(m, "sender@example.net");
		msg_add_rcpt(m, "staff@example.com");
		msg_write(m, data, (size_t)len);
		t0 = mw_now_ms();
		engine_scan(m, &env, res);
		t[i] = mw_now_ms() - t0;
		msg_free(m);
	}
	getrusage(RUSAGE_SELF, &ru1);
	qsort(t, (size_t)n, sizeof(*t), cmp_d);
	printf("%s: %ld bytes, %d scans: min %.3f ms, median %.3f ms, max %.3f ms, CPU %.3f ms/scan, action %s\n",
	       argv[3], len, n, t[0], t[n / 2], t[n - 1],
	       (tv_ms(&ru1.ru_utime) + tv_ms(&ru1.ru_stime) - tv_ms(&ru0.ru_utime) - tv_ms(&ru0.ru_stime)) / n,
	       action_name(res->verdict.action));
	av_engine_release(av);
	lists_unref(lists);
	config_unref(cfg);
	x_free(t);
	x_free(data);
	x_free(res);
	return 0;
}
