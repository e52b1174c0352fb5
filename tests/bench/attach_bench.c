/*
 * NAME
 *	attach_bench - archive walking cost, and the type table against libmagic
 * SYNOPSIS
 *	attach_bench walk FILE NAME [SIGS_DIR]	(one line: bytes, ms, MB/s, max RSS)
 *	attach_bench types FILE...		(table vs libmagic, per call)
 * DESCRIPTION
 *	walk: runs attach_scan_buffer() over FILE as attachment NAME with
 *	limits raised (archive_max_expanded 4095M, ratio 1000000) so only the
 *	archive size counts; with SIGS_DIR every member also goes through
 *	ClamAV.  Prints expanded bytes, elapsed ms, MB/s of expanded bytes
 *	and the process's peak RSS: run one file per process.
 *	types: loads libmagic once (timed), then times magic_buffer() and
 *	attach_type_detect() on the first ATTACH_HEAD bytes of each FILE.
 *	ATTACH_BENCH_STATUS=1 also prints the Vm/Rss lines of /proc/self/status.
 *	Built and driven by tests/bench/attach_bench.sh.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "attach/attach.h"
#include "av/av.h"
#include "policy/policy.h"
#include "util/util.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = x_malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static int walk(const char *file, const char *name, const char *sigs)
{
	const char *ov[] = {"limits.archive_max_expanded=4095M", "limits.archive_max_ratio=1000000",
	                    "limits.archive_max_members=1000000", NULL};
	char err[512], sig_ov[600];
	mw_config *cfg;
	av_engine *av = NULL;
	struct rusage ru;
	mw_verdict v;
	size_t len, i;
	char *data = slurp(file, &len);
	double t0, ms;
	int covered;

	if (sigs) {
		snprintf(sig_ov, sizeof(sig_ov), "paths.signatures=%s", sigs);
		ov[3] = sig_ov;
	}
	if (config_load(NULL, ov, sigs ? 4 : 3, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		return 2;
	}
	if (sigs) {
		av_global_init(err, sizeof(err));
		if ((av = av_engine_load(sigs, cfg, err, sizeof(err))) == NULL) {
			fprintf(stderr, "sigs: %s\n", err);
			return 2;
		}
	}
	verdict_init(&v);
	t0 = mw_now_ms();
	covered = attach_scan_buffer(&cfg->lim, av, "/tmp", name, NULL, data, len, &v);
	ms = mw_now_ms() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("%-28s packed %9zu  %s  %8.1f ms  covered %d  max RSS %6ld KiB  reasons:", name, len,
	       av ? "clamav" : "no-av ", ms, covered, ru.ru_maxrss);
	for (i = 0; i < v.nreasons; i++)
		printf(" %s", v.reasons[i].code);
	printf("\n");
	if (getenv("ATTACH_BENCH_STATUS")) {
		char line[256];
		FILE *f = fopen("/proc/self/status", "r");
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "Vm", 2) == 0 || strncmp(line, "Rss", 3) == 0)
				fputs(line, stdout);
		if (f)
			fclose(f);
	}
	x_free(data);
	if (av)
		av_engine_release(av);
	config_unref(cfg);
	return 0;
}

static int types(int n, char **files)
{
	double t0 = mw_now_ms(), load_ms, magic_us = 0, table_us = 0;
	magic_t m = magic_open(MAGIC_MIME_TYPE);
	int i, k, reps = 200;

	if (m == NULL || magic_load(m, NULL) != 0) {
		fprintf(stderr, "libmagic: cannot load\n");
		return 2;
	}
	load_ms = mw_now_ms() - t0;
	for (i = 0; i < n; i++) {
		size_t len;
		char *data = slurp(files[i], &len);
		size_t hl = len < ATTACH_HEAD ? len : ATTACH_HEAD;
		const char *mt = NULL;
		attach_type t = AT_UNKNOWN;
		double a, b;

		t0 = mw_now_ms();
		for (k = 0; k < reps; k++)
			mt = magic_buffer(m, data, hl);
		a = (mw_now_ms() - t0) * 1000 / reps;
		t0 = mw_now_ms();
		for (k = 0; k < reps * 100; k++)
			t = attach_type_detect(data, hl, NULL, 0, len);
		b = (mw_now_ms() - t0) * 1000 / (reps * 100);
		printf("%-24s libmagic %8.1f us (%s)   table %6.3f us (%s)\n",
		       strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i], a, mt ? mt : "?", b,
		       attach_type_name(t));
		magic_us += a;
		table_us += b;
		x_free(data);
	}
	printf("libmagic: load %.1f ms per handle, %.1f us per buffer on average; table: %.3f us per buffer\n", load_ms,
	       magic_us / n, table_us / n);
	magic_close(m);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "walk") == 0)
		return walk(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
	if (argc >= 3 && strcmp(argv[1], "types") == 0)
		return types(argc - 2, argv + 2);
	fprintf(stderr, "usage: attach_bench walk FILE NAME [SIGS_DIR] | types FILE...\n");
	return 2;
}
