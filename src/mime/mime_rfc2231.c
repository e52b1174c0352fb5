/*
 * NAME
 *	mime_rfc2231.c - Content-Type / Content-Disposition parameters
 * SYNOPSIS
 *	#include "mime/mime_decode.h"
 *
 *	name = mime_param_get(value, len, "filename", max, &nbad);
 *	boundary = mime_param_raw(value, len, "boundary", max);
 * DESCRIPTION
 *	The parameter list after the first ';' is split into name=value
 *	pairs.  Values are tokens or quoted strings (backslash escapes are
 *	removed).  Parsing is lenient where mail readers are: an unquoted
 *	value runs to the next ';' (so "filename=my file.pdf" keeps its
 *	space), an unterminated quoted string runs to the end.
 *
 *	mime_param_get() then applies, in order of preference:
 *	1. RFC 2231 "name*=charset'lang'%XX" (one extended value);
 *	2. RFC 2231 continuations "name*0", "name*1*", ... joined in
 *	   section order up to the first missing section; the charset of
 *	   section 0 applies to the extended sections;
 *	3. the plain "name" value, RFC 2047 decoded when it holds
 *	   encoded-words (not allowed by the RFCs, but what many mailers,
 *	   Japanese ones above all, send: filename="=?ISO-2022-JP?B?...?=").
 *	The result is UTF-8; control characters become U+FFFD so that a %00
 *	cannot hide the real end of a file name.
 * LIMITS
 *	At most 256 parameters per value and section numbers below 1000 are
 *	considered; the result is at most max bytes.
 * DIAGNOSTICS
 *	*nbad counts unterminated quotes, bad %XX, missing sections and
 *	conversion errors.
 * SEE ALSO
 *	RFC 2045 section 5.1, RFC 2183, RFC 2231, mime_rfc2047.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_int.h"

#include <ctype.h>
#include <string.h>

#define PARAM_MAX   256
#define SECTION_MAX 1000

/* is_ws - RFC 5322 white space, plus line ends left by lenient unfolding */
static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* split_name - parse "name", "name*", "name*N", "name*N*" into pv */
static void split_name(mime_param *pv, const char *s, size_t n)
{
	const char *star = memchr(s, '*', n);
	size_t i;

	pv->section = -1;
	pv->ext = 0;
	if (star != NULL) {
		const char *q = star + 1, *end = s + n;
		int sec = -1;

		while (q < end && isdigit((unsigned char)*q) && sec < SECTION_MAX) {
			sec = (sec < 0 ? 0 : sec * 10) + (*q - '0');
			q++;
		}
		if (q < end && *q == '*') {
			pv->ext = 1;
			q++;
		} else if (sec < 0) {
			/* "name*" alone */
			pv->ext = 1;
		}
		if (q == end && sec < SECTION_MAX) {
			pv->section = sec;
			n = (size_t)(star - s);
		} else {
			/* Odd suffix: keep it as part of the name, matches nothing. */
			pv->section = -1;
			pv->ext = 0;
		}
	}
	pv->name = x_strndup(s, n);
	for (i = 0; pv->name[i]; i++)
		pv->name[i] = (char)tolower((unsigned char)pv->name[i]);
}

/* mime_params_parse - split a header value into parameters; returns the count */
size_t mime_params_parse(const char *value, size_t len, mime_param **out)
{
	mime_param *pv = NULL;
	size_t n = 0, i = 0;
	int inq = 0;

	/* Skip the leading type or disposition token. */
	for (; i < len && (inq || value[i] != ';'); i++) {
		if (value[i] == '"')
			inq = !inq;
		else if (value[i] == '\\' && inq && i + 1 < len)
			i++;
	}
	while (i < len && n < PARAM_MAX) {
		size_t ns, ne;
		mw_buf v;

		while (i < len && (is_ws(value[i]) || value[i] == ';'))
			i++;
		ns = i;
		while (i < len && value[i] != '=' && value[i] != ';' && !is_ws(value[i]))
			i++;
		ne = i;
		while (i < len && is_ws(value[i]))
			i++;
		if (i >= len || value[i] != '=' || ne == ns) {
			/* No value: skip to the next ';'. */
			while (i < len && value[i] != ';')
				i++;
			continue;
		}
		i++;
		while (i < len && is_ws(value[i]))
			i++;
		buf_init(&v, 0);
		if (i < len && value[i] == '"') {
			for (i++; i < len && value[i] != '"'; i++) {
				if (value[i] == '\\' && i + 1 < len)
					i++;
				if (value[i] != '\r' && value[i] != '\n')
					buf_putc(&v, value[i]);
			}
			if (i < len)
				i++; /* closing quote */
			while (i < len && value[i] != ';')
				i++; /* junk after the quoted string */
		} else {
			size_t vs = i;
			while (i < len && value[i] != ';')
				i++;
			size_t ve = i;
			while (ve > vs && is_ws(value[ve - 1]))
				ve--;
			buf_append(&v, value + vs, ve - vs);
		}
		pv = x_realloc(pv, (n + 1) * sizeof(*pv));
		split_name(&pv[n], value + ns, ne - ns);
		pv[n].value = v.p;
		pv[n].len = v.len;
		n++;
	}
	*out = pv;
	return n;
}

/* mime_params_free - free what mime_params_parse made */
void mime_params_free(mime_param *pv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		x_free(pv[i].name);
		x_free(pv[i].value);
	}
	x_free(pv);
}

/* hexv - value of a hex digit or -1 */
static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* pct_decode - append %XX-decoded bytes */
static void pct_decode(mw_buf *b, const char *s, size_t n, size_t *nbad)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h1 = i + 1 < n ? hexv(s[i + 1]) : -1;
			int h2 = i + 2 < n ? hexv(s[i + 2]) : -1;

			if (h1 >= 0 && h2 >= 0) {
				buf_putc(b, h1 << 4 | h2);
				i += 2;
				continue;
			}
			(*nbad)++;
		}
		buf_putc(b, s[i]);
	}
}

/* split_ext - "charset'lang'text": the charset (malloc'd or NULL) and where text starts */
static char *split_ext(const char *s, size_t n, size_t *text, size_t *nbad)
{
	const char *q1 = memchr(s, '\'', n), *q2;

	if (q1 == NULL || (q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - s))) == NULL) {
		(*nbad)++;
		*text = 0;
		return NULL;
	}
	*text = (size_t)(q2 + 1 - s);
	return q1 > s ? x_strndup(s, (size_t)(q1 - s)) : NULL;
}

/* find_ext - the first parameter with this name and section; ext -1: either form */
static const mime_param *find_ext(const mime_param *pv, size_t n, const char *name, int section, int ext)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pv[i].section == section && (ext < 0 || pv[i].ext == ext) && strcmp(pv[i].name, name) == 0)
			return &pv[i];
	return NULL;
}

/* find - the first parameter with this name and section */
static const mime_param *find(const mime_param *pv, size_t n, const char *name, int section)
{
	return find_ext(pv, n, name, section, -1);
}

/* finish_text - controls to U+FFFD and cut at max; takes s, returns malloc'd */
static char *finish_text(char *s, size_t len, size_t max, size_t *nbad)
{
	mw_buf b;
	size_t i, start = 0;

	buf_init(&b, 0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			buf_append(&b, s + start, i - start);
			buf_append(&b, "\xef\xbf\xbd", 3);
			(*nbad)++;
			start = i + 1;
		}
	}
	buf_append(&b, s + start, len - start);
	x_free(s);
	if (b.len > max) {
		size_t n = max;
		while (n > 0 && ((unsigned char)b.p[n] & 0xc0) == 0x80)
			n--;
		b.len = n;
		b.p[n] = 0;
	}
	return b.p;
}

/* mime_param_get - see mime_decode.h; the result is malloc'd */
char *mime_param_get(const char *value, size_t len, const char *name, size_t max, size_t *nbad)
{
	mime_param *pv;
	const mime_param *m;
	size_t n = mime_params_parse(value, len, &pv), bad = 0, olen = 0, text;
	char *res = NULL, *cs = NULL;
	mw_buf b;

	buf_init(&b, 0);
	if ((m = find_ext(pv, n, name, -1, 1)) != NULL) {
		cs = split_ext(m->value, m->len, &text, &bad);
		pct_decode(&b, m->value + text, m->len - text, &bad);
		res = mime_charset_to_utf8(cs, b.p, b.len, max, &olen, NULL);
	} else if (find(pv, n, name, 0) != NULL) {
		int k, ext0 = 0;

		for (k = 0; k < SECTION_MAX && (m = find(pv, n, name, k)) != NULL; k++) {
			text = 0;
			if (m->ext) {
				if (k == 0) {
					cs = split_ext(m->value, m->len, &text, &bad);
					ext0 = 1;
				}
				pct_decode(&b, m->value + text, m->len - text, &bad);
			} else {
				buf_append(&b, m->value, m->len);
			}
		}
		if (k < SECTION_MAX && find(pv, n, name, k + 1) != NULL)
			bad++; /* a gap in the sections */
		if (!ext0 && memmem(b.p, b.len, "=?", 2) != NULL)
			res = mime_rfc2047_decode(b.p, b.len, max, &olen, NULL);
		else
			res = mime_charset_to_utf8(cs, b.p, b.len, max, &olen, NULL);
	} else if ((m = find_ext(pv, n, name, -1, 0)) != NULL) {
		if (memmem(m->value, m->len, "=?", 2) != NULL)
			res = mime_rfc2047_decode(m->value, m->len, max, &olen, NULL);
		else
			res = mime_charset_to_utf8(NULL, m->value, m->len, max, &olen, NULL);
	}
	if (res != NULL)
		res = finish_text(res, olen, max, &bad);
	x_free(cs);
	buf_free(&b);
	mime_params_free(pv, n);
	if (nbad)
		*nbad = bad;
	return res;
}

/* mime_param_raw - undecoded plain parameter value; malloc'd or NULL */
char *mime_param_raw(const char *value, size_t len, const char *name, size_t max)
{
	mime_param *pv;
	size_t n = mime_params_parse(value, len, &pv);
	const mime_param *m = find_ext(pv, n, name, -1, 0);
	char *res = NULL;

	if (m != NULL)
		res = x_strndup(m->value, m->len < max ? m->len : max);
	mime_params_free(pv, n);
	return res;
}
