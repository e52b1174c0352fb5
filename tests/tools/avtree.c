/*
 * NAME
 *	avtree - print every object libclamav visits in a file
 * SYNOPSIS
 *	build/tools/avtree [SIGDIR] FILE
 * DESCRIPTION
 *	Loads the signatures of SIGDIR (default sigs/), scans FILE with the
 *	daemon's scan options and prints one line per object libclamav's
 *	file-inspection callback reports: depth, type, size, attributes
 *	(normalised or decrypted layers) and the chain of names.  A
 *	development aid for the content tree (which objects libclamav
 *	extracts from which formats).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void visit(void *arg, const av_object *o)
{
	unsigned i;

	(void)arg;
	printf("%u %-22s %10zu %s ", o->depth, o->type, o->len, o->made ? "made" : "-   ");
	for (i = 0; i < o->depth; i++)
		printf("%s > ", o->ancestors && o->ancestors[i] ? o->ancestors[i] : "?");
	printf("%s\n", o->name ? o->name : "(no name)");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 2 ? argv[1] : "sigs", *file = argv[argc > 2 ? 2 : 1];
	mw_config *cfg;
	av_engine *e;
	av_hooks h = {visit, NULL, NULL, NULL};
	av_result r;
	char err[512];
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: avtree [SIGDIR] FILE\n");
		return 2;
	}
	if (config_load(NULL, NULL, 0, &cfg, err, sizeof(err)) < 0 || av_global_init(err, sizeof(err)) < 0 ||
	    (e = av_engine_load(dir, cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "avtree: %s\n", err);
		return 2;
	}
	if ((fd = open(file, O_RDONLY)) < 0) {
		perror(file);
		return 2;
	}
	av_scan_fd_hooks(e, fd, file, &h, &r);
	printf("result: %s %s\n", r.status == AV_CLEAN ? "clean" : r.status == AV_FOUND ? "found" : "error", r.name);
	close(fd);
	av_engine_release(e);
	config_unref(cfg);
	return 0;
}
