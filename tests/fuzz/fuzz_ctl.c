/*
 * NAME
 *	fuzz_ctl - libFuzzer target: the control protocol parser
 * DESCRIPTION
 *	Each input line is parsed as a request, a greeting and a response
 *	line.  A request that parses must survive a round trip (quote the
 *	words, parse again: the same words) and a command lookup; a
 *	response line's payload must lie inside the line.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl.h"
#include "util/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void one_line(const char *line, size_t len)
{
	ctl_req *a = x_malloc(sizeof(*a)), *b = x_malloc(sizeof(*b));
	char err[200];
	const char *text;
	int version;
	size_t i, skip;
	mw_buf q;

	if (ctl_parse_request(line, len, a, err, sizeof(err)) == 0) {
		if (a->argc == 0 || a->argc > CTL_MAX_ARGS || a->argv[a->argc] != NULL)
			__builtin_trap();
		buf_init(&q, 0);
		if (ctl_join(&q, a->argc, a->argv) == 0) {
			if (ctl_parse_request(q.p, q.len, b, err, sizeof(err)) != 0 || b->argc != a->argc)
				__builtin_trap();
			for (i = 0; i < a->argc; i++)
				if (strcmp(a->argv[i], b->argv[i]) != 0)
					__builtin_trap();
		}
		buf_free(&q);
		ctl_lookup(a->argc, a->argv, &skip, err, sizeof(err));
	} else if (err[0] == 0) {
		__builtin_trap(); /* every refusal says why */
	}
	if (ctl_parse_greeting(line, &version) == 0 && (version < 1 || version > 999))
		__builtin_trap();
	if (ctl_classify(line, &text) != CTL_LINE_BAD && (text < line || text > line + strlen(line)))
		__builtin_trap();
	buf_init(&q, 0);
	ctl_sanitize(&q, line, 100);
	for (i = 0; i < q.len; i++)
		if ((unsigned char)q.p[i] < 0x20 || q.p[i] == 0x7f)
			__builtin_trap();
	buf_free(&q);
	x_free(a);
	x_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = x_malloc(size + 1);
	size_t start = 0, i;

	memcpy(copy, data, size);
	copy[size] = 0;
	for (i = 0; i <= size; i++) {
		if (i < size && copy[i] != '\n')
			continue;
		copy[i] = 0;
		/* lines with NUL bytes are cut there, as strlen would */
		one_line(copy + start, strlen(copy + start));
		start = i + 1;
	}
	x_free(copy);
	return 0;
}
