/*
 * NAME
 *	extract.c - the extractor table, limits, and the emitting helpers
 *	every extractor shares
 * SYNOPSIS
 *	#include "extract/extract.h"
 *	#include "extract/ex_int.h"	(extractors only)
 * DESCRIPTION
 *	ex_out applies the per-input limits of ex_limits to what extractors
 *	emit, so each extractor only decodes: names are converted to UTF-8
 *	and made safe here, details made printable, links cut at control
 *	characters, and a crossed limit becomes one content.limits finding
 *	per kind.
 *
 *	ex_scan_urls() finds URLs written in free text (calendar
 *	descriptions, scripts, QR code text, PDF JavaScript) the way a
 *	reader's "linkify" does: scheme:// for the schemes below, "www.", and
 *	\\host\share.  It reports what is written; normalising and judging is
 *	the link module's work.
 * LIMITS
 *	See extract.h.  Names at most EX_NAME_MAX bytes, links EX_URL_MAX,
 *	details EX_DETAIL_MAX.
 * SEE ALSO
 *	extract.h, README.md
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"
#include "mime/mime_decode.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

static const ex_format formats[] = {
    {"uuencode", ex_uuencode, "text holding 'begin MODE NAME' ... 'end'"},
    {"yenc", ex_yenc, "text holding '=ybegin' ... '=yend'"},
    {"binhex", ex_binhex, "text holding '(This file must be converted with BinHex 4.0)'"},
    {"legacy", ex_legacy_text, "a text body: uuencode, yEnc and BinHex together"},
    {"ics", ex_ics, "an iCalendar object (text/calendar, .ics)"},
    {"html", ex_html, "an HTML or SVG document"},
    {"qr", ex_qr, "a PNG, JPEG or GIF image"},
    {"pdf", ex_pdf, "a PDF file, or a PDF object or decoded stream"},
    {"office", ex_office, "an OOXML (docx, xlsx, pptx, ...) or ODF (odt, ods, ...) package"},
    {"rtf", ex_rtf, "an RTF document"},
    {"ole", ex_ole, "an OLE2 compound file (an embedded oleObject, a .doc/.xls)"},
};

/* ex_formats - the table */
const ex_format *ex_formats(size_t *n)
{
	*n = MW_ARRAY_LEN(formats);
	return formats;
}

/* ex_format_find - by name */
const ex_format *ex_format_find(const char *name)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(formats); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

/* starts - the head of in (after white space) begins with s, case-insensitively */
static int starts(const unsigned char *in, size_t len, const char *s)
{
	size_t i = 0, n = strlen(s);

	if (len >= 3 && in[0] == 0xef && in[1] == 0xbb && in[2] == 0xbf)
		i = 3;
	while (i < len && (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n'))
		i++;
	return len - i >= n && strncasecmp((const char *)in + i, s, n) == 0;
}

/* ex_sniff - the extractor for content that looks like a format */
const ex_format *ex_sniff(const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t head = len < 1024 ? len : 1024;

	if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return ex_format_find("qr");
	if (len >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
		return ex_format_find("qr");
	if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
		return ex_format_find("qr");
	if (len >= 8 && memcmp(p, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
		return ex_format_find("ole");
	if (len >= 4 && memcmp(p, "PK\x03\x04", 4) == 0)
		return ex_format_find("office");
	if (memmem(p, head, "%PDF-", 5) != NULL)
		return ex_format_find("pdf");
	if (starts(p, len, "{\\rt"))
		return ex_format_find("rtf");
	if (starts(p, len, "BEGIN:VCALENDAR"))
		return ex_format_find("ics");
	if (starts(p, len, "<!doctype html") || starts(p, len, "<html") || starts(p, len, "<svg") ||
	    starts(p, len, "<?xml") || starts(p, len, "<head") || starts(p, len, "<body"))
		return ex_format_find("html");
	return ex_format_find("legacy");
}

/* ex_limits_default - the EX_DEF_ values */
void ex_limits_default(ex_limits *lim)
{
	lim->max_objects = EX_DEF_MAX_OBJECTS;
	lim->max_object = EX_DEF_MAX_OBJECT;
	lim->max_decoded = EX_DEF_MAX_DECODED;
	lim->max_links = EX_DEF_MAX_LINKS;
	lim->max_depth = EX_DEF_MAX_DEPTH;
	lim->max_pixels = EX_DEF_MAX_PIXELS;
}

/* ex_out_init - wrap out; lim NULL: defaults */
void ex_out_init(ex_out *o, const mw_emit *out, const ex_limits *lim, const char *fmt)
{
	memset(o, 0, sizeof(*o));
	o->e = out;
	if (lim)
		o->lim = *lim;
	else
		ex_limits_default(&o->lim);
	if (o->lim.max_depth == 0)
		o->lim.max_depth = 1;
	o->fmt = fmt;
}

int ex_out_rc(const ex_out *o)
{
	return o->stop ? 1 : 0;
}

/* ex_finding - see ex_int.h */
int ex_finding(ex_out *o, const char *code, const char *fmt, ...)
{
	char raw[1024], detail[EX_DETAIL_MAX + 8];
	va_list ap;

	if (o->stop)
		return 1;
	if (o->e == NULL || o->e->finding == NULL)
		return 0;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	mw_printable(detail, sizeof(detail), raw, EX_DETAIL_MAX, 1);
	if (o->e->finding(o->e->ctx, code, detail))
		o->stop = 1;
	return o->stop;
}

/* ex_limit - content.limits once per kind */
int ex_limit(ex_out *o, unsigned kind, const char *fmt, ...)
{
	char raw[512];
	va_list ap;

	if (o->told & kind)
		return o->stop;
	o->told |= kind;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	return ex_finding(o, "content.limits", "%s: %s", o->fmt, raw);
}

/* ex_budget - bytes an object may still decode */
size_t ex_budget(const ex_out *o)
{
	size_t left = o->lim.max_decoded > o->decoded ? o->lim.max_decoded - o->decoded : 0;

	return o->lim.max_object < left ? o->lim.max_object : left;
}

void ex_charge(ex_out *o, size_t n)
{
	o->decoded = n > (size_t)-1 - o->decoded ? (size_t)-1 : o->decoded + n;
}

/* safe_name - UTF-8 name without control characters or path tricks left to the caller's rules */
static char *safe_name(const char *name, size_t n)
{
	size_t olen, i;
	char *s;

	if (n > EX_NAME_MAX)
		n = EX_NAME_MAX;
	s = mime_charset_to_utf8(NULL, name, n, 4 * EX_NAME_MAX, &olen, NULL);
	for (i = 0; i < olen; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	return s;
}

/* ex_object - see ex_int.h */
int ex_object(ex_out *o, const char *name, size_t namelen, const char *type, const void *data, size_t len)
{
	char *n = NULL, t[128];

	if (o->stop)
		return 1;
	if (o->nobj >= o->lim.max_objects) {
		ex_limit(o, EX_LIM_OBJECTS, "more than %zu objects in one input (limits.archive_max_members)",
		         o->lim.max_objects);
		return 1;
	}
	if (len > o->lim.max_decoded - (o->decoded < o->lim.max_decoded ? o->decoded : o->lim.max_decoded)) {
		ex_limit(o, EX_LIM_DECODED, "more than %zu decoded bytes in one input (limits.archive_max_expanded)",
		         o->lim.max_decoded);
		return 0;
	}
	o->nobj++;
	ex_charge(o, len);
	if (o->e == NULL || o->e->object == NULL)
		return 0;
	if (name && namelen)
		n = safe_name(name, namelen);
	if (type) {
		/* a type hint comes from the input (FMTTYPE, data: URLs): printable ASCII only */
		size_t i;
		for (i = 0; type[i] && i < sizeof(t) - 1; i++)
			t[i] = (unsigned char)type[i] > 0x20 && (unsigned char)type[i] < 0x7f ? type[i] : '?';
		t[i] = 0;
	}
	if (o->e->object(o->e->ctx, n, type ? t : NULL, data ? data : "", len))
		o->stop = 1;
	x_free(n);
	return o->stop;
}

/* ex_link - see ex_int.h */
int ex_link(ex_out *o, const char *url, size_t len, const char *context)
{
	char buf[EX_URL_MAX + 1], ctx[128];
	size_t i;

	if (o->stop)
		return 1;
	while (len > 0 && (*url == ' ' || *url == '\t' || *url == '\r' || *url == '\n'))
		url++, len--;
	for (i = 0; i < len && i < EX_URL_MAX; i++) {
		if ((unsigned char)url[i] < 0x20 || url[i] == 0x7f)
			break;
		buf[i] = url[i];
	}
	while (i > 0 && buf[i - 1] == ' ')
		i--;
	if (i == 0)
		return 0;
	buf[i] = 0;
	if (o->nlinks >= o->lim.max_links) {
		ex_limit(o, EX_LIM_LINKS, "more than %zu links in one input (limits.max_urls)", o->lim.max_links);
		return 0;
	}
	o->nlinks++;
	if (o->e == NULL || o->e->link == NULL)
		return 0;
	/* the context may quote the input (a property name): printable */
	mw_printable(ctx, sizeof(ctx), context ? context : o->fmt, sizeof(ctx) - 4, 1);
	if (o->e->link(o->e->ctx, buf, ctx))
		o->stop = 1;
	return o->stop;
}

/* ex_memcasemem - case-insensitive search */
const char *ex_memcasemem(const char *h, size_t hl, const char *needle, size_t nl)
{
	size_t i;

	unsigned char lo, up;

	if (nl == 0 || nl > hl)
		return NULL;
	lo = (unsigned char)tolower((unsigned char)needle[0]);
	up = (unsigned char)toupper((unsigned char)needle[0]);
	for (i = 0; i + nl <= hl; i++)
		if (((unsigned char)h[i] == lo || (unsigned char)h[i] == up) && strncasecmp(h + i, needle, nl) == 0)
			return h + i;
	return NULL;
}

/* URL starts written in free text. */
static const char *const url_starts[] = {"http://", "https://", "ftp://", "file://", "www."};

/* ex_is_url - text starts with a URL form */
int ex_is_url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(url_starts); i++)
		if (n > strlen(url_starts[i]) && strncasecmp(s, url_starts[i], strlen(url_starts[i])) == 0)
			return 1;
	return n > 3 && s[0] == '\\' && s[1] == '\\' && s[2] != '\\' && s[2] != ' ';
}

/* url_end - a URL in text runs to white space, a quote, an angle bracket or a control character */
static size_t url_end(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < EX_URL_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == 0x7f)
			break;
	}
	/* trailing punctuation belongs to the sentence */
	while (i > 0 && strchr(".,;:!?)]}", s[i - 1]) != NULL)
		i--;
	return i;
}

/* ex_scan_urls - every URL written in text */
int ex_scan_urls(ex_out *o, const char *text, size_t len, const char *context)
{
	size_t i = 0;

	while (i < len && !o->stop) {
		unsigned char c = (unsigned char)text[i];
		int word_start = i == 0 || !((text[i - 1] >= 'a' && text[i - 1] <= 'z') ||
		                             (text[i - 1] >= 'A' && text[i - 1] <= 'Z') ||
		                             (text[i - 1] >= '0' && text[i - 1] <= '9'));
		if ((c == 'h' || c == 'H' || c == 'f' || c == 'F' || c == 'w' || c == 'W' || c == '\\') && word_start &&
		    ex_is_url(text + i, len - i)) {
			size_t n = url_end(text + i, len - i);
			if (n > 4) {
				ex_link(o, text + i, n, context);
				i += n;
				continue;
			}
		}
		i++;
	}
	return o->stop;
}

/* ex_b64_decode - base64 into a capped buffer */
size_t ex_b64_decode(const char *in, size_t len, mw_buf *out)
{
	unsigned char tmp[MIME_B64_OUT_MAX(4096)];
	mime_b64 st;
	size_t i, n, total = 0;

	mime_b64_init(&st);
	for (i = 0; i < len; i += 4096) {
		size_t k = len - i < 4096 ? len - i : 4096;
		n = mime_b64_decode(&st, in + i, k, tmp);
		buf_append(out, tmp, n);
		total += n;
		if (out->truncated)
			return total;
	}
	n = mime_b64_finish(&st, tmp);
	buf_append(out, tmp, n);
	return total + n;
}

/* ex_line - the next line */
int ex_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *nl;
	size_t start = *pos, end;

	if (start >= len)
		return 0;
	nl = memchr(text + start, '\n', len - start);
	end = nl ? (size_t)(nl - text) : len;
	*pos = nl ? end + 1 : len;
	if (end > start && text[end - 1] == '\r')
		end--;
	*line = text + start;
	*n = end - start;
	return 1;
}

uint32_t ex_crc32(uint32_t crc, const void *p, size_t n)
{
	while (n > 0) {
		uInt k = n > 1u << 30 ? 1u << 30 : (uInt)n;
		crc = (uint32_t)crc32(crc, p, k);
		p = (const char *)p + k;
		n -= k;
	}
	return crc;
}

/* ex_legacy_text - the three legacy encodings over one text body */
int ex_legacy_text(const void *in, size_t len, const ex_limits *lim, const mw_emit *out)
{
	int rc;

	if ((rc = ex_uuencode(in, len, lim, out)) != 0)
		return rc;
	if ((rc = ex_yenc(in, len, lim, out)) != 0)
		return rc;
	return ex_binhex(in, len, lim, out);
}
