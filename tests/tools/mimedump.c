/*
 * NAME
 *	mimedump - print the MIME part tree and problems of a message
 * SYNOPSIS
 *	mimedump [-b chunk] [-m mem_part_max] [-t textmax] FILE
 * DESCRIPTION
 *	Parses FILE with the mime module, feeding it in pieces of chunk
 *	bytes (default: the whole file at once), and prints one line per
 *	part and per problem in a stable format that tests/unit/mime_ref.sh
 *	diffs against tests/unit/mime/NAME.ref:
 *
 *	part ID depth=D type=T charset=C enc=E disp=D file="F" size=N sum=X
 *	  subject "S"			(when the part has a Subject field)
 *	  text "first textmax bytes"	(leaves of type text, UTF-8)
 *	problems N dropped M
 *	problem malformed|limits "ID" DETAIL
 *
 *	"-" stands for an absent value; the root's id is printed as "-".
 *	sum is the 32-bit FNV-1a of the decoded content.  Strings are
 *	printed with \n, \r, \t, \" and \\ escaped, other control bytes as
 *	\xHH; UTF-8 passes as is.
 * DIAGNOSTICS
 *	Exit 0 on success, 1 when the file cannot be read or parsing fails
 *	for an environment reason, 2 on usage errors.
 * SEE ALSO
 *	src/mime/mime.h, tests/unit/mime_ref.sh
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime.h"
#include "util/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* put_str - quoted, escaped string or - */
static void put_str(const char *s, size_t n)
{
	size_t i;

	if (s == NULL) {
		fputs("-", stdout);
		return;
	}
	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		default:
			if (c < 0x20 || c == 0x7f)
				printf("\\x%02x", c);
			else
				putchar(c);
		}
	}
	putchar('"');
}

/* opt - a value or - */
static const char *opt(const char *s)
{
	return s ? s : "-";
}

/* checksum - FNV-1a of the decoded content */
static uint32_t checksum(const mime_part *part)
{
	const void *data;
	int fd;
	size_t len, i, off = 0;
	uint32_t h = 2166136261u;
	unsigned char buf[65536];

	mime_part_body(part, &data, &fd, &len);
	while (off < len) {
		const unsigned char *p;
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);

		if (data != NULL) {
			p = (const unsigned char *)data + off;
		} else {
			ssize_t r = pread(fd, buf, n, (off_t)off);
			if (r <= 0)
				break;
			n = (size_t)r;
			p = buf;
		}
		for (i = 0; i < n; i++) {
			h ^= p[i];
			h *= 16777619u;
		}
		off += n;
	}
	return h;
}

/* dump - one part and its children */
static void dump(const mime_part *part, size_t textmax)
{
	const char *id = mime_part_id(part), *subj, *fn;
	size_t i;

	printf("part %s depth=%zu type=%s charset=%s enc=%s disp=%s file=", *id ? id : "-", mime_part_depth(part),
	       mime_part_type(part), opt(mime_part_charset(part)), mime_part_encoding(part),
	       opt(mime_part_disposition(part)));
	fn = mime_part_filename(part);
	put_str(fn, fn ? strlen(fn) : 0);
	if (mime_part_is_leaf(part)) {
		const void *data;
		int fd;
		size_t len;

		mime_part_body(part, &data, &fd, &len);
		printf(" size=%zu sum=%08x", len, (unsigned)checksum(part));
	} else {
		printf(" children=%zu", mime_part_nchildren(part));
	}
	putchar('\n');
	if ((subj = mime_part_header(part, "subject", 0)) != NULL) {
		fputs("  subject ", stdout);
		put_str(subj, strlen(subj));
		putchar('\n');
	}
	if (mime_part_is_leaf(part) && strncmp(mime_part_type(part), "text/", 5) == 0) {
		size_t tlen;
		char *t = mime_part_text(part, textmax, &tlen);

		fputs("  text ", stdout);
		put_str(t, tlen);
		putchar('\n');
		x_free(t);
	}
	for (i = 0; i < mime_part_nchildren(part); i++)
		dump(mime_part_child(part, i), textmax);
}

int main(int argc, char **argv)
{
	mime_limits lim;
	mime_parser *p;
	size_t chunk = 0, textmax = 60, i, off;
	struct stat st;
	char *data;
	int c, fd, rc = 0;

	mime_limits_default(&lim);
	while ((c = getopt(argc, argv, "b:m:t:")) != -1) {
		switch (c) {
		case 'b': chunk = strtoul(optarg, NULL, 10); break;
		case 'm': lim.mem_part_max = strtoul(optarg, NULL, 10); break;
		case 't': textmax = strtoul(optarg, NULL, 10); break;
		default: fprintf(stderr, "usage: mimedump [-b chunk] [-m mem_part_max] [-t textmax] FILE\n"); return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: mimedump [-b chunk] [-m mem_part_max] [-t textmax] FILE\n");
		return 2;
	}
	if ((fd = open(argv[optind], O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
		perror(argv[optind]);
		return 1;
	}
	data = x_malloc((size_t)st.st_size + 1);
	for (off = 0; off < (size_t)st.st_size;) {
		ssize_t r = read(fd, data + off, (size_t)st.st_size - off);
		if (r <= 0) {
			perror(argv[optind]);
			return 1;
		}
		off += (size_t)r;
	}
	close(fd);
	p = mime_parser_new(&lim, NULL);
	if (chunk == 0)
		chunk = off ? off : 1;
	for (i = 0; i < off && rc == 0; i += chunk)
		if (mime_parser_feed(p, data + i, off - i < chunk ? off - i : chunk) < 0)
			rc = 1;
	if (rc == 0 && mime_parser_finish(p) < 0)
		rc = 1;
	if (rc != 0) {
		perror("mime parser");
	} else {
		dump(mime_root(p), textmax);
		printf("problems %zu dropped %zu\n", mime_problem_count(p), mime_problem_dropped(p));
		for (i = 0; i < mime_problem_count(p); i++) {
			const mime_problem *pr = mime_problem_get(p, i);
			printf("problem %s \"%s\" %s\n",
			       pr->kind == MIME_PROB_LIMITS   ? "limits"
			       : pr->kind == MIME_PROB_HIDDEN ? "hidden"
			                                      : "malformed",
			       pr->part, pr->detail);
		}
	}
	mime_parser_free(p);
	x_free(data);
	return rc;
}
