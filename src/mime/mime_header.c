/*
 * NAME
 *	mime_header.c - header fields of one part: storage and Content-*
 * SYNOPSIS
 *	#include "mime/mime_int.h"
 *
 *	mime_hdr_add(p, part, line, len);	(one unfolded header field)
 *	mime_hdr_interpret(p, part);		(at the end of the headers)
 * DESCRIPTION
 *	mime_hdr_add() receives one logical header field, already unfolded
 *	and cut at max_header_line by the parser.  It splits name and value,
 *	stores the value RFC 2047 decoded as UTF-8, and remembers the raw
 *	values of Content-Type, Content-Transfer-Encoding and
 *	Content-Disposition (first occurrence wins, as in most readers; a
 *	second one is a problem because readers disagree).
 *
 *	mime_hdr_interpret() derives type, charset, encoding, disposition,
 *	file name and boundary from the raw values.  An absent Content-Type
 *	defaults to text/plain, or message/rfc822 in multipart/digest; an
 *	invalid one is a problem and defaults to text/plain (RFC 2045 5.2).
 *	An unknown disposition is reported as "attachment" (RFC 2183 2.8).
 * LIMITS
 *	max_headers fields stored per part (Content-* fields beyond it are
 *	still interpreted, so they cannot be hidden behind padding);
 *	MIME_HDR_TOTAL_MAX stored header bytes per message; max_boundary.
 * DIAGNOSTICS
 *	Problems: "NUL byte in header", "header without colon", "too many
 *	headers", "header storage limit", "duplicate content-type" (and
 *	-transfer-encoding, -disposition), "invalid content-type", "unknown
 *	content-transfer-encoding", "multipart without boundary", "boundary
 *	too long", "bad file name encoding".
 * SEE ALSO
 *	RFC 5322 2.2, RFC 2045, RFC 2183, mime_parse.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define TYPE_MAX    127
#define CHARSET_MAX 64
#define CTE_MAX     64

/* Content-* fields remembered raw. */
static const struct {
	const char *name;
	size_t off;
	const char *dup;
} raw_fields[] = {
    {"content-type", offsetof(mime_part, ct_raw), "duplicate content-type"},
    {"content-transfer-encoding", offsetof(mime_part, cte_raw), "duplicate content-transfer-encoding"},
    {"content-disposition", offsetof(mime_part, cd_raw), "duplicate content-disposition"},
};

/* Transfer encodings. */
static const struct {
	const char *name;
	mime_cte cte;
} cte_names[] = {
    {"7bit", CTE_7BIT}, {"8bit", CTE_8BIT}, {"binary", CTE_BINARY}, {"quoted-printable", CTE_QP}, {"base64", CTE_B64},
};

/* is_ws - white space */
static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* cte_decodes - does a transfer-encoding value name base64 or quoted-printable (any spelling)? */
static int cte_decodes(const char *v, size_t n)
{
	char key[CTE_MAX + 1];
	size_t k = 0, j;

	for (j = 0; j < n && k < CTE_MAX; j++) {
		char ch = v[j] >= 'A' && v[j] <= 'Z' ? (char)(v[j] + 32) : v[j];
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			key[k++] = ch;
	}
	key[k] = 0;
	return strstr(key, "base64") != NULL || strstr(key, "quotedprintable") != NULL;
}

/* mime_hdr_add - store one unfolded field; line is modified in place */
void mime_hdr_add(mime_parser *p, mime_part *part, char *line, size_t len)
{
	const mime_limits *lim = mime_parser_limits(p);
	size_t *total = mime_parser_hdr_bytes(p);
	char *colon, *name, *val;
	size_t nlen, vlen, i;

	if (memchr(line, 0, len) != NULL) {
		mime_problem_add(p, MIME_PROB_MALFORMED, part, "NUL byte in header");
		for (i = 0; i < len; i++)
			if (line[i] == 0)
				line[i] = ' ';
	}
	if ((colon = memchr(line, ':', len)) == NULL) {
		mime_problem_add(p, MIME_PROB_MALFORMED, part, "header without colon");
		return;
	}
	name = line;
	nlen = (size_t)(colon - line);
	while (nlen > 0 && is_ws(name[nlen - 1]))
		nlen--;
	val = colon + 1;
	vlen = len - (size_t)(val - line);
	while (vlen > 0 && is_ws(*val))
		val++, vlen--;
	while (vlen > 0 && is_ws(val[vlen - 1]))
		vlen--;
	name[nlen] = 0;
	val[vlen] = 0;

	for (i = 0; i < MW_ARRAY_LEN(raw_fields); i++) {
		if (strcasecmp(name, raw_fields[i].name) == 0) {
			char **slot = (char **)((char *)part + raw_fields[i].off);
			if (*slot == NULL) {
				*slot = x_strndup(val, vlen);
			} else {
				mime_problem_add(p, MIME_PROB_MALFORMED, part, raw_fields[i].dup);
				/* Readers differ on which one counts.  An encoding that
				 * decodes (base64, quoted-printable) shows what the
				 * readers that take it see; the other view is the text
				 * itself, scanned as it is.  So the decoding one wins. */
				if (raw_fields[i].off == offsetof(mime_part, cte_raw) && cte_decodes(val, vlen) &&
				    !cte_decodes(*slot, strlen(*slot))) {
					x_free(*slot);
					*slot = x_strndup(val, vlen);
				}
			}
		}
	}

	part->nhdr_seen++;
	if (part->nhdr_seen > lim->max_headers) {
		mime_problem_add(p, MIME_PROB_LIMITS, part, "too many headers");
		return;
	}
	if (*total + nlen + vlen > MIME_HDR_TOTAL_MAX) {
		mime_problem_add(p, MIME_PROB_LIMITS, part, "header storage limit");
		return;
	}
	if (part->nhdr == part->ahdr) {
		part->ahdr = part->ahdr ? part->ahdr * 2 : 16;
		part->hdr = x_realloc(part->hdr, part->ahdr * sizeof(*part->hdr));
	}
	mime_hdr *h = &part->hdr[part->nhdr++];
	size_t olen;

	h->name = x_strndup(name, nlen);
	h->value = mime_rfc2047_decode(val, vlen, 3 * vlen + 16, &olen, NULL);
	*total += nlen + olen;
}

/* lower_dup - lower-case copy of at most max bytes; NULL when longer */
static char *lower_dup(const char *s, size_t n, size_t max)
{
	char *r;
	size_t i;

	if (n > max)
		return NULL;
	r = x_strndup(s, n);
	for (i = 0; r[i]; i++)
		r[i] = (char)tolower((unsigned char)r[i]);
	return r;
}

/* first_token - the value up to ';' or '(', trimmed */
static void first_token(const char *v, const char **s, size_t *n)
{
	size_t i = 0, e;

	while (v[i] && is_ws(v[i]))
		i++;
	e = i;
	while (v[e] && v[e] != ';' && v[e] != '(')
		e++;
	while (e > i && is_ws(v[e - 1]))
		e--;
	*s = v + i;
	*n = e - i;
}

/* type_ok - "token/token" with no white space or specials */
static int type_ok(const char *s, size_t n)
{
	size_t i, slash = 0, nslash = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/') {
			slash = i;
			nslash++;
		} else if (c <= ' ' || c >= 0x7f || strchr("()<>@,;:\\\"[]?=", c)) {
			return 0;
		}
	}
	return nslash == 1 && slash > 0 && slash + 1 < n;
}

/* interpret_type - type, charset and boundary from Content-Type */
static void interpret_type(mime_parser *p, mime_part *part)
{
	const mime_limits *lim = mime_parser_limits(p);
	const char *s;
	size_t n;

	if (part->ct_raw != NULL) {
		first_token(part->ct_raw, &s, &n);
		if (n <= TYPE_MAX && type_ok(s, n))
			part->type = lower_dup(s, n, TYPE_MAX);
		else
			mime_problem_add(p, MIME_PROB_MALFORMED, part, "invalid content-type");
	}
	if (part->type == NULL) {
		if (part->ct_raw == NULL && part->parent && part->parent->type &&
		    strcmp(part->parent->type, "multipart/digest") == 0)
			part->type = x_strdup("message/rfc822");
		else
			part->type = x_strdup("text/plain");
	}
	if (part->ct_raw == NULL)
		return;
	size_t ctlen = strlen(part->ct_raw);
	char *cs = mime_param_raw(part->ct_raw, ctlen, "charset", CHARSET_MAX + 1);
	if (cs != NULL) {
		char *t = mw_trim(cs);
		if (*t && strlen(t) <= CHARSET_MAX)
			part->charset = lower_dup(t, strlen(t), CHARSET_MAX);
		x_free(cs);
	}
	if (strncmp(part->type, "multipart/", 10) == 0) {
		char *b = mime_param_raw(part->ct_raw, ctlen, "boundary", lim->max_boundary + 1);
		if (b == NULL || *b == 0)
			mime_problem_add(p, MIME_PROB_MALFORMED, part, "multipart without boundary");
		else if (strlen(b) > lim->max_boundary) {
			mime_problem_add(p, MIME_PROB_LIMITS, part, "boundary too long");
			part->boundary_bad = 1;
		} else {
			part->boundary = x_strdup(b);
		}
		x_free(b);
	}
}

/* interpret_cte - Content-Transfer-Encoding */
static void interpret_cte(mime_parser *p, mime_part *part)
{
	const char *s;
	size_t n, i;

	part->cte = CTE_7BIT;
	if (part->cte_raw == NULL || (first_token(part->cte_raw, &s, &n), n == 0)) {
		part->encoding = x_strdup("7bit");
		return;
	}
	part->encoding = lower_dup(s, n, CTE_MAX);
	if (part->encoding == NULL)
		part->encoding = x_strndup(s, CTE_MAX);
	for (i = 0; i < MW_ARRAY_LEN(cte_names); i++)
		if (strcmp(part->encoding, cte_names[i].name) == 0)
			break;
	if (i < MW_ARRAY_LEN(cte_names)) {
		part->cte = cte_names[i].cte;
	} else {
		/* "base-64", "x-base64", "Quoted_Printable": what a lenient
		 * reader decodes, we decode too (letters and digits compared);
		 * x-uuencode and friends pass through undecoded (the content
		 * tree's extractors find uuencode in them). */
		char key[CTE_MAX + 1];
		size_t k = 0, j;
		for (j = 0; part->encoding[j] && k < CTE_MAX; j++)
			if ((part->encoding[j] >= 'a' && part->encoding[j] <= 'z') ||
			    (part->encoding[j] >= '0' && part->encoding[j] <= '9'))
				key[k++] = part->encoding[j];
		key[k] = 0;
		if (k >= 6 && strcmp(key + k - 6, "base64") == 0)
			part->cte = CTE_B64;
		else if (k >= 15 && strcmp(key + k - 15, "quotedprintable") == 0)
			part->cte = CTE_QP;
		else
			part->cte = CTE_OTHER;
		mime_problem_add(p, MIME_PROB_MALFORMED, part,
		                 part->cte == CTE_OTHER
		                     ? "unknown content-transfer-encoding"
		                     : "misspelt content-transfer-encoding (decoded as its name says)");
	}
	/* Keep the stored name printable. */
	for (i = 0; part->encoding[i]; i++)
		if ((unsigned char)part->encoding[i] < 0x21 || (unsigned char)part->encoding[i] >= 0x7f)
			part->encoding[i] = '?';
}

/* interpret_disposition - Content-Disposition and the file name */
static void interpret_disposition(mime_parser *p, mime_part *part)
{
	const mime_limits *lim = mime_parser_limits(p);
	size_t nbad = 0, max = lim->max_header_line;
	const char *s;
	size_t n;

	if (part->cd_raw != NULL) {
		first_token(part->cd_raw, &s, &n);
		if (n == 6 && strncasecmp(s, "inline", 6) == 0)
			part->disposition = x_strdup("inline");
		else if (n > 0)
			part->disposition = x_strdup("attachment");
		part->filename = mime_param_get(part->cd_raw, strlen(part->cd_raw), "filename", max, &nbad);
	}
	if (part->filename == NULL && part->ct_raw != NULL)
		part->filename = mime_param_get(part->ct_raw, strlen(part->ct_raw), "name", max, &nbad);
	if (nbad)
		mime_problem_add(p, MIME_PROB_MALFORMED, part, "bad file name encoding");
}

/* mime_hdr_interpret - derive the Content-* facts at the end of the headers */
void mime_hdr_interpret(mime_parser *p, mime_part *part)
{
	interpret_type(p, part);
	interpret_cte(p, part);
	interpret_disposition(p, part);
}
