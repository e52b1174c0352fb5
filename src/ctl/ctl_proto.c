/*
 * NAME
 *	ctl_proto.c - control protocol: request words, quoting, greeting,
 *	response lines
 * SYNOPSIS
 *	ctl_parse_request(line, len, &req, err, len);
 *	ctl_join(&buf, argc, argv);	ctl_classify(line, &text);
 * DESCRIPTION
 *	Pure functions, shared by the server, the client and the fuzzer
 *	(tests/fuzz/fuzz_ctl.c); docs/control-protocol.md is their
 *	specification.
 *
 *	A request line is UTF-8 without control characters.  Words are
 *	separated by one or more spaces.  A word that starts with '"' runs to
 *	the next unescaped '"', which must be followed by a space or the end
 *	of the line; inside, \" and \\ are the only escapes.  A bare word may
 *	not contain '"' or '\'.  ctl_quote() quotes exactly the words that
 *	need it, so ctl_parse_request(ctl_join(words)) gives the words back.
 * LIMITS
 *	CTL_MAX_LINE bytes, CTL_MAX_ARGS words.
 * DIAGNOSTICS
 *	ctl_parse_request() says what is wrong and where ("column 12:
 *	unterminated quote").
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl.h"

#include <stdio.h>
#include <string.h>

/* ctl_utf8_valid - well-formed UTF-8: shortest forms, no surrogates, <= U+10FFFF */
int ctl_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], need, cp, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* perr - format a parse error with its 1-based column */
static int perr(char *err, size_t errlen, size_t col, const char *what)
{
	snprintf(err, errlen, "column %zu: %s", col + 1, what);
	return -1;
}

int ctl_parse_request(const char *line, size_t len, ctl_req *req, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i = 0, o = 0;

	memset(req, 0, sizeof(*req));
	if (len >= CTL_MAX_LINE)
		return perr(err, errlen, CTL_MAX_LINE - 1, "line too long");
	if (!ctl_utf8_valid(s, len))
		return perr(err, errlen, 0, "not valid UTF-8");
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return perr(err, errlen, i, "control character");
	i = 0;
	for (;;) {
		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		if (req->argc == CTL_MAX_ARGS)
			return perr(err, errlen, i, "too many words");
		req->argv[req->argc++] = req->buf + o;
		if (s[i] == '"') {
			size_t start = i++;
			for (;;) {
				if (i == len)
					return perr(err, errlen, start, "unterminated quote");
				if (s[i] == '"')
					break;
				if (s[i] == '\\') {
					if (i + 1 == len || (s[i + 1] != '"' && s[i + 1] != '\\'))
						return perr(err, errlen, i, "bad escape (only \\\" and \\\\)");
					i++;
				}
				req->buf[o++] = (char)s[i++];
			}
			i++; /* the closing quote */
			if (i < len && s[i] != ' ')
				return perr(err, errlen, i, "text after closing quote");
		} else {
			while (i < len && s[i] != ' ') {
				if (s[i] == '"' || s[i] == '\\')
					return perr(err, errlen, i,
					            "quote or backslash inside a word (quote the word)");
				req->buf[o++] = (char)s[i++];
			}
		}
		req->buf[o++] = 0;
	}
	if (req->argc == 0)
		return perr(err, errlen, 0, "empty request");
	req->argv[req->argc] = NULL;
	return 0;
}

void ctl_quote(mw_buf *b, const char *word)
{
	const char *p;

	if (*word && strpbrk(word, " \"\\") == NULL) {
		buf_puts(b, word);
		return;
	}
	buf_putc(b, '"');
	for (p = word; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

int ctl_join(mw_buf *b, size_t argc, char *const *argv)
{
	size_t i, start = b->len;

	for (i = 0; i < argc; i++) {
		if (i)
			buf_putc(b, ' ');
		ctl_quote(b, argv[i]);
	}
	return b->len - start + 1 >= CTL_MAX_LINE || argc > CTL_MAX_ARGS ? -1 : 0;
}

int ctl_parse_greeting(const char *line, int *version)
{
	size_t n = strlen(CTL_MAGIC), i;
	int v = 0;

	if (strncmp(line, CTL_MAGIC " ", n + 1) != 0)
		return -1;
	for (i = n + 1; line[i] >= '0' && line[i] <= '9'; i++) {
		if (i - n > 3)
			return -1; /* at most three digits */
		v = v * 10 + (line[i] - '0');
	}
	if (i == n + 1 || (line[i] != 0 && line[i] != ' ') || v == 0 || line[n + 1] == '0')
		return -1;
	*version = v;
	return 0;
}

ctl_line_kind ctl_classify(const char *line, const char **text)
{
	size_t i;

	*text = line + strlen(line); /* always inside the line */
	if (line[0] == ' ') {
		*text = line + 1;
		return CTL_LINE_DATA;
	}
	if (strcmp(line, "OK") == 0)
		return CTL_LINE_OK;
	if (strncmp(line, "OK ", 3) == 0) {
		*text = line + 3;
		return CTL_LINE_OK;
	}
	if (strncmp(line, "ERR ", 4) == 0) {
		/* ERR CODE[ text]: the code is lower-case letters and '-' */
		for (i = 4; (line[i] >= 'a' && line[i] <= 'z') || line[i] == '-'; i++)
			;
		if (i == 4 || (line[i] != 0 && line[i] != ' '))
			return CTL_LINE_BAD;
		*text = line + 4;
		return CTL_LINE_ERR;
	}
	return CTL_LINE_BAD;
}

void ctl_sanitize(mw_buf *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	if (n > max) {
		n = max;
		while (n > 0 && (p[n] & 0xc0) == 0x80)
			n--; /* do not cut a UTF-8 sequence */
	}
	/* keep whole UTF-8 sequences only when the text is valid */
	if (!ctl_utf8_valid(p, n)) {
		for (i = 0; i < n; i++)
			buf_putc(out, p[i] < 0x20 || p[i] >= 0x7f ? '?' : p[i]);
		return;
	}
	for (i = 0; i < n; i++)
		buf_putc(out, p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i]);
}
