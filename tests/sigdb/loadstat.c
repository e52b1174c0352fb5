/*
 * NAME
 *	loadstat.c - what one libclamav engine costs: load time, compile time, memory
 * SYNOPSIS
 *	loadstat [-o OPTS] [-n ENGINES] [-s FILE]... [-r N] SIGDIR [SIGDIR...]
 *	  OPTS: comma-separated  std | nophish | nobytecode | pua | officialonly |
 *	        aconly | acdepth=MIN:MAX | nocache | cachesize=N
 * DESCRIPTION
 *	Loads and compiles the databases of every SIGDIR into one engine
 *	with the given load options and engine settings, the way
 *	mailwardend does (src/av/av.c), and prints one line of key=value:
 *	signatures, load and compile seconds, resident memory before, after
 *	and at the peak (VmRSS, VmHWM), and the anonymous part (RssAnon).
 *	With -n 2 a second engine is loaded beside the first (what a swap
 *	reload does) and the peak is printed again, then the first engine
 *	is freed and malloc_trim() runs, to show what the process gives back.
 *	With -s FILE (up to 8) the engine scans each FILE N times (default 50, the scan
 *	options of mailwardend: heuristics on, every parser) and prints the
 *	mean CPU milliseconds per scan (what an engine setting costs).
 *
 *	Measures options for tests/sigdb/options.sh and README figures;
 *	nothing of Mailwarden is linked in.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <clamav.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* status_kb - one "Name: N kB" field of /proc/self/status, -1 if missing */
static long status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			sscanf(line + n + 1, "%ld", &v);
	fclose(f);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct opts {
	unsigned int db;
	int aconly, acmin, acmax, nocache;
	long cachesize;
} opts;

static int parse_opts(const char *s, opts *o)
{
	char *copy = strdup(s), *save = NULL, *t;
	int rc = 0;

	for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "std") == 0)
			o->db = CL_DB_STDOPT;
		else if (strcmp(t, "nophish") == 0)
			o->db &= ~(unsigned)(CL_DB_PHISHING | CL_DB_PHISHING_URLS);
		else if (strcmp(t, "nobytecode") == 0)
			o->db &= ~(unsigned)CL_DB_BYTECODE;
		else if (strcmp(t, "pua") == 0)
			o->db |= CL_DB_PUA;
		else if (strcmp(t, "officialonly") == 0)
			o->db |= CL_DB_OFFICIAL_ONLY;
		else if (strcmp(t, "aconly") == 0)
			o->aconly = 1;
		else if (sscanf(t, "acdepth=%d:%d", &o->acmin, &o->acmax) == 2)
			;
		else if (strcmp(t, "nocache") == 0)
			o->nocache = 1;
		else if (sscanf(t, "cachesize=%ld", &o->cachesize) == 1)
			;
		else {
			fprintf(stderr, "loadstat: unknown option %s\n", t);
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

/* load - one engine from every directory; NULL on failure */
static struct cl_engine *load(char **dirs, int ndirs, const opts *o, unsigned int *sigs, double *tl, double *tc)
{
	struct cl_engine *e = cl_engine_new();
	double t0;
	int i;

	if (e == NULL)
		return NULL;
	if (o->aconly)
		cl_engine_set_num(e, CL_ENGINE_AC_ONLY, 1);
	if (o->acmin)
		cl_engine_set_num(e, CL_ENGINE_AC_MINDEPTH, o->acmin);
	if (o->acmax)
		cl_engine_set_num(e, CL_ENGINE_AC_MAXDEPTH, o->acmax);
	if (o->nocache)
		cl_engine_set_num(e, CL_ENGINE_DISABLE_CACHE, 1);
	if (o->cachesize)
		cl_engine_set_num(e, CL_ENGINE_CACHE_SIZE, o->cachesize);
	t0 = now();
	for (i = 0; i < ndirs; i++) {
		cl_error_t rc = cl_load(dirs[i], e, sigs, o->db);
		if (rc != CL_SUCCESS) {
			fprintf(stderr, "loadstat: %s: %s\n", dirs[i], cl_strerror(rc));
			cl_engine_free(e);
			return NULL;
		}
	}
	*tl = now() - t0;
	t0 = now();
	if (cl_engine_compile(e) != CL_SUCCESS) {
		fprintf(stderr, "loadstat: compile failed\n");
		cl_engine_free(e);
		return NULL;
	}
	*tc = now() - t0;
	return e;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/*
 * scan_ms - mean CPU ms of one in-memory scan of path (-1 on error), as
 * av_scan_mem() does it.  The first bytes change every round, so
 * libclamav's cache of clean results never answers instead of the scan.
 */
static double scan_ms(struct cl_engine *e, const char *path, int rounds, const char **found)
{
	struct cl_scan_options o;
	unsigned long scanned;
	unsigned char *buf;
	double t0, ms = -1;
	size_t len;
	FILE *f = fopen(path, "rb");
	int i;

	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(len + 16);
	if (buf == NULL || fread(buf, 1, len, f) != len || len < 16) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	memset(&o, 0, sizeof(o));
	o.general = CL_SCAN_GENERAL_HEURISTICS;
	o.parse = ~0U;
	o.heuristic = CL_SCAN_HEURISTIC_BROKEN | CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_MACROS |
	              CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
	t0 = cpu_s();
	for (i = 0; i < rounds; i++) {
		cl_fmap_t *map;
		cl_error_t rc;
		snprintf((char *)buf + len - 12, 12, "%011d", i); /* the tail: keeps the file type */
		map = cl_fmap_open_memory(buf, len);
		*found = NULL;
		rc = cl_scanmap_callback(map, path, found, &scanned, e, &o, NULL);
		cl_fmap_close(map);
		if (rc != CL_CLEAN && rc != CL_VIRUS)
			goto out;
	}
	ms = (cpu_s() - t0) * 1000.0 / rounds;
out:
	free(buf);
	return ms;
}

int main(int argc, char **argv)
{
	opts o = {CL_DB_STDOPT, 0, 0, 0, 0, 0};
	struct cl_engine *e1, *e2 = NULL;
	unsigned int sigs = 0, sigs2 = 0;
	double tl, tc, tl2, tc2;
	long rss0, rss1, hwm1;
	int c, engines = 1, rounds = 50, nscan = 0, k;
	const char *scanfile[8];

	while ((c = getopt(argc, argv, "o:n:s:r:")) != -1) {
		if (c == 's' && nscan < 8) {
			scanfile[nscan++] = optarg;
			continue;
		}
		if (c == 'r' && (rounds = atoi(optarg)) > 0)
			continue;
		if (c == 'o' && parse_opts(optarg, &o) == 0)
			continue;
		if (c == 'n' && (engines = atoi(optarg)) >= 1 && engines <= 2)
			continue;
		fprintf(stderr, "usage: loadstat [-o OPTS] [-n 1|2] [-s FILE]... [-r N] SIGDIR...\n");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: loadstat [-o OPTS] [-n 1|2] [-s FILE]... [-r N] SIGDIR...\n");
		return 2;
	}
	if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS)
		return 1;
	rss0 = status_kb("VmRSS");
	e1 = load(argv + optind, argc - optind, &o, &sigs, &tl, &tc);
	if (e1 == NULL)
		return 1;
	malloc_trim(0);
	rss1 = status_kb("VmRSS");
	hwm1 = status_kb("VmHWM");
	printf("sigs=%u load_s=%.2f compile_s=%.2f rss0_kb=%ld rss_kb=%ld hwm_kb=%ld anon_kb=%ld engine_kb=%ld "
	       "peak_over_steady=%.2f",
	       sigs, tl, tc, rss0, rss1, hwm1, status_kb("RssAnon"), rss1 - rss0,
	       rss1 > rss0 ? (double)(hwm1 - rss0) / (double)(rss1 - rss0) : 0.0);
	for (k = 0; k < nscan; k++) {
		const char *found = NULL;
		double ms = scan_ms(e1, scanfile[k], rounds, &found);
		printf(" scan%d_ms=%.3f found%d=%s", k, ms, k, found ? found : "-");
	}
	if (engines == 2) {
		e2 = load(argv + optind, argc - optind, &o, &sigs2, &tl2, &tc2);
		if (e2 == NULL)
			return 1;
		printf(" two_rss_kb=%ld two_hwm_kb=%ld", status_kb("VmRSS"), status_kb("VmHWM"));
		cl_engine_free(e1);
		e1 = NULL;
		malloc_trim(0);
		printf(" after_free_rss_kb=%ld", status_kb("VmRSS"));
		cl_engine_free(e2);
	}
	if (e1)
		cl_engine_free(e1);
	malloc_trim(0);
	printf(" freed_rss_kb=%ld\n", status_kb("VmRSS"));
	return 0;
}
