/*
 * NAME
 *	clamav_rss.c - how much memory libclamav alone needs to scan one file
 * SYNOPSIS
 *	cc -O2 -o /tmp/clamav_rss tests/bench/clamav_rss.c \
 *		$(pkg-config --cflags --libs libclamav)
 *	/tmp/clamav_rss SIGDIR FILE
 * DESCRIPTION
 *	Loads the signatures of SIGDIR, then scans FILE with cl_scandesc()
 *	(the call mailwardend makes for a spilled part) and prints the peak
 *	resident set (VmHWM) and the anonymous resident memory (RssAnon)
 *	before and after.  Nothing of mailwardend is involved, so the
 *	difference between this growth and the daemon's growth for the same
 *	part (tests/bench/last-results.md, "Big message") is what mailwardend
 *	itself spends.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <clamav.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* status_kb - one "Name: N kB" field of /proc/self/status */
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

int main(int argc, char **argv)
{
	struct cl_scan_options opts;
	struct cl_engine *engine;
	const char *virname = NULL;
	unsigned long scanned = 0;
	unsigned int sigs = 0;
	long hwm0, anon0;
	cl_error_t rc;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SIGDIR FILE\n", argv[0]);
		return 2;
	}
	if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS || (engine = cl_engine_new()) == NULL ||
	    cl_load(argv[1], engine, &sigs, CL_DB_STDOPT) != CL_SUCCESS || cl_engine_compile(engine) != CL_SUCCESS) {
		fprintf(stderr, "%s: cannot load signatures from %s\n", argv[0], argv[1]);
		return 1;
	}
	if ((fd = open(argv[2], O_RDONLY)) < 0) {
		perror(argv[2]);
		return 1;
	}
	hwm0 = status_kb("VmHWM");
	anon0 = status_kb("RssAnon");
	memset(&opts, 0, sizeof(opts));
	opts.general = CL_SCAN_GENERAL_HEURISTICS;
	opts.parse = ~0U;
	rc = cl_scandesc(fd, argv[2], &virname, &scanned, engine, &opts);
	printf("%u signatures; scan: %s; VmHWM %ld -> %ld kB (+%ld); RssAnon %ld -> %ld kB\n", sigs,
	       rc == CL_VIRUS ? virname : cl_strerror(rc), hwm0, status_kb("VmHWM"), status_kb("VmHWM") - hwm0, anon0,
	       status_kb("RssAnon"));
	close(fd);
	cl_engine_free(engine);
	return rc == CL_CLEAN || rc == CL_VIRUS ? 0 : 1;
}
