/*
 * NAME
 *	extract_dump - run an extractor of src/extract over a file and print
 *	what it emits
 * SYNOPSIS
 *	extract_dump [-f FORMAT] [-r DEPTH] [-o DIR] FILE
 *	extract_dump -m [-r DEPTH] MESSAGE
 *	extract_dump -l
 * DESCRIPTION
 *	Runs the extractor FORMAT (default: the one ex_sniff() picks for the
 *	content) over FILE with the default limits and prints one line per
 *	emitted item, in the order emitted:
 *
 *	object NAME TYPE SIZE FNV	a child object ("-" for no name or type;
 *					FNV-1a 32-bit of its bytes)
 *	link URL (CONTEXT)		a link
 *	finding CODE DETAIL		a finding
 *
 *	With -r DEPTH, every child object is run through the extractor
 *	ex_sniff() picks for it, up to DEPTH levels, its lines indented by
 *	two spaces per level: how the content tree will look once the engine
 *	walks it.  With -o DIR, child objects are written to DIR as
 *	N-NAME (N counts from 1).  -l lists the formats.
 *
 *	The last line is "rc N" (the extractor's return value).
 *
 *	With -m, FILE is a message: it is parsed by src/mime and every leaf
 *	goes to the extractor its type calls for (text/plain: legacy,
 *	text/html: html and legacy, text/calendar: ics, image/...: qr, anything
 *	else: what ex_sniff() picks), under a line "part ID TYPE (FORMAT)":
 *	a preview of the content tree the engine will build.
 * DIAGNOSTICS
 *	Exit 0; 1 when FILE cannot be read; 2 on usage errors.
 * SEE ALSO
 *	src/extract/extract.h, src/extract/README.md
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/extract.h"
#include "mime/mime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct dump {
	int level;
	int max_level;
	const char *outdir;
	unsigned *counter;
	const ex_limits *lim;
} dump;

static int on_link(void *ctx, const char *url, const char *context);
static int on_finding(void *ctx, const char *code, const char *detail);

static uint32_t fnv(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

static void indent(const dump *d)
{
	int i;

	for (i = 0; i < d->level; i++)
		fputs("  ", stdout);
}

static int on_object(void *ctx, const char *name, const char *type, const void *data, size_t len)
{
	dump *d = ctx;

	indent(d);
	printf("object %s %s %zu %08x\n", name ? name : "-", type ? type : "-", len, fnv(data, len));
	if (d->outdir) {
		char path[4096];
		const char *base = name ? strrchr(name, '/') : NULL;
		FILE *f;
		snprintf(path, sizeof(path), "%s/%u-%s", d->outdir, ++*d->counter,
		         base   ? base + 1
		         : name ? name
		                : "object");
		if ((f = fopen(path, "wb")) != NULL) {
			fwrite(data, 1, len, f);
			fclose(f);
		}
	}
	if (d->level < d->max_level) {
		const ex_format *f = ex_sniff(data, len);
		dump sub = *d;
		mw_emit e;
		sub.level++;
		e.object = NULL;
		e.ctx = &sub;
		if (f) {
			e.object = on_object;
			e.link = on_link;
			e.finding = on_finding;
			indent(&sub);
			printf("(%s)\n", f->name);
			f->run(data, len, d->lim, &e);
		}
	}
	return 0;
}

static int on_link(void *ctx, const char *url, const char *context)
{
	indent(ctx);
	printf("link %s (%s)\n", url, context);
	return 0;
}

static int on_finding(void *ctx, const char *code, const char *detail)
{
	indent(ctx);
	printf("finding %s %s\n", code, detail);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			p = realloc(p, cap);
			if (p == NULL)
				break;
		}
		got = fread(p + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return p ? p : malloc(1);
}

/* leaf_format - the extractor for one MIME leaf */
static const ex_format *leaf_format(const mime_part *p, const void *data, size_t len)
{
	const char *t = mime_part_type(p);

	if (strcmp(t, "text/plain") == 0)
		return ex_format_find("legacy");
	if (strcmp(t, "text/html") == 0 || strcmp(t, "image/svg+xml") == 0)
		return ex_format_find("html");
	if (strcmp(t, "text/calendar") == 0)
		return ex_format_find("ics");
	if (strncmp(t, "image/", 6) == 0)
		return ex_format_find("qr");
	return ex_sniff(data, len);
}

/* walk - every leaf of the MIME tree through its extractor */
static void walk(const mime_part *p, dump *d, int depth)
{
	size_t i;

	if (depth > 100)
		return;
	if (mime_part_is_leaf(p)) {
		const void *data;
		int fd;
		size_t len;
		char *tmp = NULL;
		const ex_format *f;
		mw_emit e = {on_object, on_link, on_finding, d};

		mime_part_body(p, &data, &fd, &len);
		if (data == NULL) {
			tmp = malloc(len ? len : 1);
			if (tmp == NULL || pread(fd, tmp, len, 0) != (ssize_t)len) {
				free(tmp);
				return;
			}
			data = tmp;
		}
		f = leaf_format(p, data, len);
		printf("part %s %s (%s)\n", *mime_part_id(p) ? mime_part_id(p) : "-", mime_part_type(p),
		       f ? f->name : "none");
		if (f) {
			d->level = 1;
			f->run(data, len, d->lim, &e);
			if (strcmp(f->name, "html") == 0)
				ex_legacy_text(data, len, d->lim, &e);
			d->level = 0;
		}
		free(tmp);
		return;
	}
	for (i = 0; i < mime_part_nchildren(p); i++)
		walk(mime_part_child(p, i), d, depth + 1);
}

int main(int argc, char **argv)
{
	const char *fmt = NULL;
	const ex_format *f;
	ex_limits lim;
	unsigned counter = 0;
	dump d = {0, 0, NULL, &counter, &lim};
	mw_emit e = {on_object, on_link, on_finding, &d};
	size_t len, i, n;
	char *data;
	int c, rc, msg = 0;

	while ((c = getopt(argc, argv, "f:r:o:lm")) != -1) {
		switch (c) {
		case 'm': msg = 1; break;
		case 'f': fmt = optarg; break;
		case 'r': d.max_level = atoi(optarg); break;
		case 'o': d.outdir = optarg; break;
		case 'l': {
			const ex_format *t = ex_formats(&n);
			for (i = 0; i < n; i++)
				printf("%-10s %s\n", t[i].name, t[i].input);
			return 0;
		}
		default: goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	ex_limits_default(&lim);
	if ((data = slurp(argv[optind], &len)) == NULL) {
		perror(argv[optind]);
		return 1;
	}
	if (msg) {
		mime_parser *mp = mime_parser_new(NULL, NULL);
		d.max_level += 1; /* the leaf itself is level 1 */
		if (mime_parser_feed(mp, data, len) < 0 || mime_parser_finish(mp) < 0) {
			perror("mime");
			mime_parser_free(mp);
			free(data);
			return 1;
		}
		walk(mime_root(mp), &d, 0);
		mime_parser_free(mp);
		free(data);
		return 0;
	}
	f = fmt ? ex_format_find(fmt) : ex_sniff(data, len);
	if (f == NULL) {
		fprintf(stderr, "extract_dump: no format %s (extract_dump -l)\n", fmt ? fmt : "for this content");
		free(data);
		return 2;
	}
	printf("(%s)\n", f->name);
	rc = f->run(data, len, &lim, &e);
	printf("rc %d\n", rc);
	free(data);
	return 0;
usage:
	fprintf(stderr, "usage: extract_dump [-f FORMAT] [-r DEPTH] [-o DIR] FILE | -m [-r DEPTH] MESSAGE | -l\n");
	return 2;
}
