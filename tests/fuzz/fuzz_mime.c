/*
 * NAME
 *	fuzz_mime - libFuzzer target: the whole MIME parser
 * DESCRIPTION
 *	The first byte chooses small limits (so limit paths are reached) and
 *	three split points; the input is fed in four pieces, then the tree is
 *	walked and every accessor called, text conversion included.  The
 *	same input fed in one piece must give the same tree, content sizes
 *	and problems (streaming equivalence).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* summary - ids, types, sizes and problems, to compare two parses */
static void summary(mw_buf *b, const mime_part *part)
{
	const void *data;
	size_t len, i;
	int fd;

	mime_part_body(part, &data, &fd, &len);
	buf_printf(b, "%s|%s|%s|%zu|%zu;", mime_part_id(part), mime_part_type(part),
	           mime_part_filename(part) ? mime_part_filename(part) : "-", len, mime_part_nchildren(part));
	for (i = 0; i < mime_part_nchildren(part); i++)
		summary(b, mime_part_child(part, i));
}

/* parse_summary - parse in the given pieces and summarize */
static void parse_summary(mw_buf *b, const mime_limits *lim, const uint8_t *data, const size_t *cut, size_t ncut)
{
	mime_parser *p = mime_parser_new(lim, NULL);
	size_t i;

	for (i = 0; i + 1 < ncut; i++)
		if (mime_parser_feed(p, data + cut[i], cut[i + 1] - cut[i]) < 0)
			__builtin_trap();
	if (mime_parser_finish(p) < 0)
		__builtin_trap();
	summary(b, mime_root(p));
	for (i = 0; i < mime_problem_count(p); i++)
		buf_printf(b, "%d|%s|%s;", (int)mime_problem_get(p, i)->kind, mime_problem_get(p, i)->part,
		           mime_problem_get(p, i)->detail);
	mime_parser_free(p);
}

/* walk - touch everything a consumer would */
static void walk(const mime_part *part)
{
	const void *data;
	size_t len, i, tl;
	int fd;
	char *t, c;

	(void)mime_part_id(part);
	(void)strlen(mime_part_type(part));
	(void)mime_part_charset(part);
	(void)strlen(mime_part_encoding(part));
	(void)mime_part_disposition(part);
	if (mime_part_filename(part))
		(void)strlen(mime_part_filename(part));
	(void)mime_part_header(part, "subject", 0);
	mime_part_body(part, &data, &fd, &len);
	if (len > 0 && fd >= 0 && pread(fd, &c, 1, (off_t)len - 1) != 1)
		__builtin_trap();
	if ((t = mime_part_text(part, 200, &tl)) != NULL) {
		if (tl > 200 || strlen(t) > tl)
			__builtin_trap();
		x_free(t);
	}
	for (i = 0; i < mime_part_nchildren(part); i++)
		walk(mime_part_child(part, i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mime_limits lim;
	mime_parser *p;
	size_t cut[5], i;

	mime_limits_default(&lim);
	if (size > 0 && (data[0] & 1)) {
		lim.max_header_line = 300;
		lim.max_headers = 5;
		lim.max_depth = 3;
		lim.max_parts = 6;
		lim.max_boundary = 20;
		lim.max_decoded = 500;
		lim.mem_part_max = (data[0] & 2) ? 64 : 4096; /* spilling costs a file per part */
	}
	cut[0] = 0;
	cut[1] = size > 1 ? data[1] % (size + 1) : 0;
	cut[2] = size > 2 ? cut[1] + data[2] * 7 % (size - cut[1] + 1) : cut[1];
	cut[3] = size > 3 ? cut[2] + data[3] * 13 % (size - cut[2] + 1) : cut[2];
	cut[4] = size;
	p = mime_parser_new(&lim, NULL);
	for (i = 0; i < 4; i++)
		if (mime_parser_feed(p, data + cut[i], cut[i + 1] - cut[i]) < 0)
			__builtin_trap();
	if (mime_parser_finish(p) < 0)
		__builtin_trap();
	walk(mime_root(p));
	for (i = 0; i < mime_problem_count(p); i++)
		(void)strlen(mime_problem_get(p, i)->detail);
	mime_parser_free(p);

	mw_buf a, b;
	size_t whole[2] = {0, size};

	buf_init(&a, 0);
	buf_init(&b, 0);
	parse_summary(&a, &lim, data, cut, 5);
	parse_summary(&b, &lim, data, whole, 2);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
		__builtin_trap();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
