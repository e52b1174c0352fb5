/*
 * NAME
 *	ex_html.c - active content in HTML and SVG: files built in the
 *	browser, credential forms, redirects, scripts in images
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_html(html, len, &lim, &out);
 * DESCRIPTION
 *	A bounded tokenizer, not a DOM: start and end tags with their
 *	attributes (quoted or not, character references decoded where a URL
 *	is read), comments, and the raw text of <script> and <style>.  It
 *	looks for what a browser would do on its own, not for ordinary links
 *	(the link module reads href and src of every HTML node it is given):
 *
 *	html.smuggling	script that builds a file in the browser (new Blob,
 *			URL.createObjectURL, msSaveOrOpenBlob/msSaveBlob) out
 *			of data it carries (atob(), a base64 string literal
 *			of EX_HTML_BLOB_MIN characters or more, a data: URL):
 *			each literal blob is decoded and emitted as a child
 *			object, named after the download name the script gives
 *			(.download = 'x', msSaveOrOpenBlob(b, 'x')); also a
 *			link with a download attribute and a data: URL (the
 *			file, named by the attribute, is emitted).
 *	html.credential_form  a form with a password field whose action is an
 *			absolute URL (the action is emitted as a link), or a
 *			password field with script that sends data
 *			(XMLHttpRequest, fetch, $.ajax/$.post, sendBeacon):
 *			the script's URLs are emitted as links.
 *	html.redirect	<meta http-equiv=refresh> to a URL (emitted as a link),
 *			or script that navigates (location = / .href = /
 *			.replace( / .assign( / window.open( with a literal URL).
 *	svg.script	an SVG document with <script>, an on* event handler,
 *			<foreignObject> (HTML inside an image), or a
 *			javascript: link.  (HTML documents have scripts and
 *			handlers as a matter of course: only the SVG case is a
 *			finding.)
 *
 *	data: URLs of PNG, JPEG and GIF images in src attributes are
 *	emitted as child objects too, so QR codes drawn inline are read.
 * LIMITS
 *	At most EX_HTML_ATTRS attributes per tag are read (the rest of the
 *	tag is skipped), attribute values and literals are pointers into
 *	the input (no copy) except decoded URLs (EX_URL_MAX) and decoded
 *	blobs (ex_budget()).  Script literals joined with '+' up to
 *	max_object * 4 / 3 characters.  Linear in the input but for the
 *	literal scan of each script, which is linear in the script.
 * DIAGNOSTICS
 *	Findings: html.smuggling, html.credential_form, html.redirect,
 *	svg.script, content.limits.
 * SEE ALSO
 *	MITRE ATT&CK T1027.006 (HTML smuggling), ex_int.h
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EX_HTML_ATTRS    256
#define EX_HTML_BLOB_MIN 64 /* characters of a base64 literal taken as a carried file */
#define EX_HTML_TAG      32

typedef struct span {
	const char *p;
	size_t n;
} span;

typedef struct attr {
	span name, value;
	int has_value;
} attr;

typedef struct hstate {
	ex_out *o;
	int svg_doc;   /* the first element is <svg> */
	int seen_elem; /* an element was seen */
	int in_form;
	int form_password;
	span form_action;
	int password; /* a password field anywhere */
	int script_sends;
	int smuggling_told, svg_told, cred_told;
	mw_buf sends; /* URLs of scripts that send data, NUL separated */
} hstate;

/* span_is - span equals s, ASCII case-insensitive */
static int span_is(span a, const char *s)
{
	return a.n == strlen(s) && strncasecmp(a.p, s, a.n) == 0;
}

static const attr *get_attr(const attr *av, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (span_is(av[i].name, name))
			return &av[i];
	return NULL;
}

/* decode_refs - character references of an attribute value into out (at most EX_URL_MAX bytes) */
static void decode_refs(span v, char *out, size_t *olen)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp;", '&'},   {"quot;", '"'}, {"lt;", '<'},     {"gt;", '>'},   {"apos;", '\''},
	             {"colon;", ':'}, {"sol;", '/'},  {"period;", '.'}, {"tab;", '\t'}, {"newline;", '\n'}};
	size_t i = 0, k = 0, j;

	while (i < v.n && k < EX_URL_MAX) {
		if (v.p[i] == '&') {
			if (i + 2 < v.n && v.p[i + 1] == '#') {
				unsigned long c = 0;
				int hex = v.p[i + 2] == 'x' || v.p[i + 2] == 'X';
				size_t d = i + 2 + hex, st = d;
				while (d < v.n && d - st < 8 &&
				       (hex ? isxdigit((unsigned char)v.p[d]) : isdigit((unsigned char)v.p[d]))) {
					c = c * (hex ? 16 : 10) +
					    (unsigned long)(isdigit((unsigned char)v.p[d])
					                        ? v.p[d] - '0'
					                        : (tolower((unsigned char)v.p[d]) - 'a' + 10));
					d++;
				}
				if (d > st) {
					if (d < v.n && v.p[d] == ';')
						d++;
					out[k++] = c > 0 && c < 0x80 ? (char)c : '?';
					i = d;
					continue;
				}
			}
			for (j = 0; j < MW_ARRAY_LEN(named); j++) {
				size_t nl = strlen(named[j].name);
				if (v.n - i - 1 >= nl && strncasecmp(v.p + i + 1, named[j].name, nl) == 0)
					break;
			}
			if (j < MW_ARRAY_LEN(named)) {
				out[k++] = named[j].c;
				i += 1 + strlen(named[j].name);
				continue;
			}
		}
		out[k++] = v.p[i++];
	}
	*olen = k;
}

/* emit_url - an attribute value as a link */
static void emit_url(hstate *h, span v, const char *context)
{
	char buf[EX_URL_MAX + 1];
	size_t n;

	decode_refs(v, buf, &n);
	ex_link(h->o, buf, n, context);
}

/* absolute - an http(s), ftp or protocol-relative URL */
static int absolute(span v)
{
	size_t i = 0;

	while (i < v.n && isspace((unsigned char)v.p[i]))
		i++;
	return (v.n - i >= 7 && strncasecmp(v.p + i, "http://", 7) == 0) ||
	       (v.n - i >= 8 && strncasecmp(v.p + i, "https://", 8) == 0) ||
	       (v.n - i >= 6 && strncasecmp(v.p + i, "ftp://", 6) == 0) ||
	       (v.n - i >= 2 && v.p[i] == '/' && v.p[i + 1] == '/');
}

/*
 * data_url - decode a data: URL (base64 or percent-encoded) into b;
 * *mime gets its media type (at most 63 bytes).  0 when v is not one.
 */
static int data_url(hstate *h, span v, mw_buf *b, char *mime, size_t mimelen)
{
	const char *comma;
	size_t i = 0, hl;
	int b64;

	while (i < v.n && isspace((unsigned char)v.p[i]))
		i++;
	if (v.n - i < 5 || strncasecmp(v.p + i, "data:", 5) != 0)
		return 0;
	i += 5;
	if ((comma = memchr(v.p + i, ',', v.n - i)) == NULL)
		return 0;
	hl = (size_t)(comma - (v.p + i));
	b64 = hl >= 7 && strncasecmp(comma - 7, ";base64", 7) == 0;
	{
		const char *semi = memchr(v.p + i, ';', hl);
		size_t ml = semi ? (size_t)(semi - (v.p + i)) : hl;
		snprintf(mime, mimelen, "%.*s", (int)(ml < mimelen - 1 ? ml : mimelen - 1), v.p + i);
		for (i = 0; mime[i]; i++)
			mime[i] = (char)tolower((unsigned char)mime[i]);
	}
	buf_init(b, ex_budget(h->o) ? ex_budget(h->o) : 1);
	if (b64) {
		ex_b64_decode(comma + 1, v.n - (size_t)(comma + 1 - v.p), b);
	} else {
		const char *p = comma + 1, *e = v.p + v.n;
		while (p < e && !b->truncated) {
			if (*p == '%' && e - p >= 3 && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
				char hx[3] = {p[1], p[2], 0};
				buf_putc(b, (int)strtol(hx, NULL, 16));
				p += 3;
			} else {
				buf_putc(b, *p++);
			}
		}
	}
	return 1;
}

/* svg_finding - svg.script once per kind of detail */
static void svg_finding(hstate *h, const char *what)
{
	if (h->svg_told >= 4)
		return;
	h->svg_told++;
	ex_finding(h->o, "svg.script", "SVG image %s", what);
}

/* smuggled - emit a file the page builds, with html.smuggling */
static void smuggled(hstate *h, const char *how, const char *name, size_t nlen, const char *type, const mw_buf *b)
{
	if (h->smuggling_told++ < 4)
		ex_finding(h->o, "html.smuggling", "%s builds a file%s%.*s (%zu bytes)", how, name ? " " : "",
		           (int)(nlen < 80 ? nlen : 80), name ? name : "", b->len);
	if (b->truncated)
		ex_limit(h->o, EX_LIM_DECODED, "a file built by the page is larger than %zu bytes", b->max);
	ex_object(h->o, name, nlen, type && *type ? type : NULL, b->p ? b->p : "", b->len);
}

/* ---- scripts ---- */

typedef struct lit {
	const char *p; /* start of the first literal's text */
	size_t n;      /* raw length spanned (first literal only, or joined text in buf) */
	mw_buf joined;
	int is_joined;
} lit;

/* literal_end - end of a JS string literal starting after quote q; returns index after the closing quote */
static size_t literal_end(const char *s, size_t n, size_t i, char q)
{
	while (i < n) {
		if (s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == q)
			return i + 1;
		if (s[i] == '\n' && q != '`')
			return i; /* unterminated */
		i++;
	}
	return n;
}

/* b64ish - mostly base64 characters, no spaces */
static int b64ish(const char *p, size_t n)
{
	size_t i, good = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (isalnum(c) || c == '+' || c == '/' || c == '=' || c == '-' || c == '_')
			good++;
		else if (c == ' ')
			return 0;
	}
	return n > 0 && good * 100 >= n * 98;
}

/*
 * quoted_after - the string literal that is argument arg (0: the first,
 * also after '=') after needle in s, within the same statement: commas
 * are counted at the call's own parenthesis level.  1 when found.
 */
static int quoted_after(const char *s, size_t n, const char *needle, int arg, span *out)
{
	const char *at = s;
	size_t left = n;

	while ((at = ex_memcasemem(at, left, needle, strlen(needle))) != NULL) {
		size_t i = (size_t)(at - s) + strlen(needle), e;
		int commas = 0, depth = 0;
		while (i < n && i - (size_t)(at - s) < 400) {
			char c = s[i];
			if (c == '\'' || c == '"' || c == '`') {
				if (commas >= arg && depth <= 1) {
					e = literal_end(s, n, i + 1, c);
					out->p = s + i + 1;
					out->n = e > i + 1 ? e - i - 2 : 0;
					return out->n > 0;
				}
				i = literal_end(s, n, i + 1, c);
				continue;
			}
			if (c == '(' || c == '[' || c == '{')
				depth++;
			else if ((c == ')' || c == ']' || c == '}') && --depth <= 0)
				break;
			else if (c == ',' && depth <= 1)
				commas++;
			else if (c == ';' || c == '\n')
				break;
			i++;
		}
		at++;
		left = n - (size_t)(at - s);
	}
	return 0;
}

/* script - one script body */
static void script(hstate *h, const char *s, size_t n)
{
	static const char *const builders[] = {"new Blob", "createObjectURL", "msSaveOrOpenBlob", "msSaveBlob"};
	static const char *const senders[] = {"XMLHttpRequest", "fetch(",     "$.ajax",
	                                      "$.post",         "sendBeacon", "jQuery.ajax"};
	static const char *const navs[] = {"location.href", "location.replace", "location.assign",
	                                   "location=",     "location =",       "window.open"};
	int builds = 0, carries = 0, sends = 0;
	size_t i, cap = h->o->lim.max_object / 3 * 4 + 4;
	span nm = {NULL, 0}, ty = {NULL, 0};
	char type[64];

	for (i = 0; i < MW_ARRAY_LEN(builders); i++)
		builds |= ex_memcasemem(s, n, builders[i], strlen(builders[i])) != NULL;
	for (i = 0; i < MW_ARRAY_LEN(senders); i++)
		sends |= memmem(s, n, senders[i], strlen(senders[i])) != NULL;
	carries = memmem(s, n, "atob(", 5) != NULL;
	/* navigation to a literal URL */
	for (i = 0; i < MW_ARRAY_LEN(navs); i++) {
		span u;
		if (quoted_after(s, n, navs[i], 0, &u) && absolute(u)) {
			if (h->svg_doc)
				svg_finding(h, "script navigates to another page");
			else
				ex_finding(h->o, "html.redirect", "script navigates to %.*s",
				           (int)(u.n < 120 ? u.n : 120), u.p);
			emit_url(h, u, "script navigation");
		}
	}
	if (sends) {
		h->script_sends = 1;
		/* remember the script's absolute URLs: they matter if the page asks for a password */
		for (i = 0; i < n; i++) {
			if (s[i] == '\'' || s[i] == '"' || s[i] == '`') {
				size_t e = literal_end(s, n, i + 1, s[i]);
				span u = {s + i + 1, e > i + 1 ? e - i - 2 : 0};
				if (u.n > 0 && u.n < EX_URL_MAX && absolute(u) && h->sends.len < 64 * 1024) {
					buf_append(&h->sends, u.p, u.n);
					buf_putc(&h->sends, 0);
				}
				i = e - 1;
			}
		}
	}
	if (!builds)
		return;
	/* names and types the script gives its file */
	if (!quoted_after(s, n, ".download", 0, &nm) && !quoted_after(s, n, "msSaveOrOpenBlob", 1, &nm) &&
	    !quoted_after(s, n, "msSaveBlob", 1, &nm) && !quoted_after(s, n, "'download'", 1, &nm))
		nm.p = NULL;
	type[0] = 0;
	if (quoted_after(s, n, "type:", 0, &ty) || quoted_after(s, n, "type :", 0, &ty))
		snprintf(type, sizeof(type), "%.*s", (int)(ty.n < 63 ? ty.n : 63), ty.p);
	/* literal blobs: string literals (joined with +) that are base64 or data: URLs */
	for (i = 0; i < n && !h->o->stop; i++) {
		mw_buf joined;
		size_t e, j;
		char q = s[i];
		mw_buf b;
		char mime[64];

		if (q != '\'' && q != '"' && q != '`')
			continue;
		buf_init(&joined, cap);
		e = literal_end(s, n, i + 1, q);
		buf_append(&joined, s + i + 1, e > i + 1 ? e - i - 2 : 0);
		/* 'abc' + 'def' + ... */
		for (j = e; j < n;) {
			size_t k = j;
			while (k < n && (isspace((unsigned char)s[k]) || s[k] == '+'))
				k++;
			if (k == j || k >= n || (s[k] != '\'' && s[k] != '"' && s[k] != '`') ||
			    memchr(s + j, '+', k - j) == NULL)
				break;
			q = s[k];
			e = literal_end(s, n, k + 1, q);
			buf_append(&joined, s + k + 1, e > k + 1 ? e - k - 2 : 0);
			j = e;
		}
		span v = {joined.p ? joined.p : "", joined.len};
		if (joined.len >= 5 && data_url(h, v, &b, mime, sizeof(mime))) {
			carries = 1;
			smuggled(h, "script", nm.p, nm.n, mime, &b);
			buf_free(&b);
		} else if (joined.len >= EX_HTML_BLOB_MIN && b64ish(joined.p, joined.len)) {
			carries = 1;
			buf_init(&b, ex_budget(h->o) ? ex_budget(h->o) : 1);
			ex_b64_decode(joined.p, joined.len, &b);
			if (b.len > 0)
				smuggled(h, "script", nm.p, nm.n, type, &b);
			buf_free(&b);
		}
		buf_free(&joined);
		i = j - 1;
	}
	if (carries && !h->smuggling_told)
		ex_finding(h->o, "html.smuggling", "script builds a file from data it carries (atob)");
}

/* ---- tags ---- */

/* start_tag - one start tag with its attributes */
static void start_tag(hstate *h, const char *name, const attr *av, size_t na)
{
	const attr *a;
	size_t i;

	if (!h->seen_elem) {
		h->seen_elem = 1;
		h->svg_doc = strcmp(name, "svg") == 0;
	}
	if (h->svg_doc) {
		for (i = 0; i < na; i++)
			if (av[i].name.n > 2 && strncasecmp(av[i].name.p, "on", 2) == 0) {
				char what[80];
				snprintf(what, sizeof(what), "with an event handler (%.*s)",
				         (int)(av[i].name.n < 40 ? av[i].name.n : 40), av[i].name.p);
				svg_finding(h, what);
				break;
			}
		if (strcmp(name, "foreignobject") == 0)
			svg_finding(h, "embeds HTML (foreignObject)");
		if ((a = get_attr(av, na, "href")) != NULL || (a = get_attr(av, na, "xlink:href")) != NULL) {
			size_t k = 0;
			while (k < a->value.n && isspace((unsigned char)a->value.p[k]))
				k++;
			if (a->value.n - k >= 11 && strncasecmp(a->value.p + k, "javascript:", 11) == 0)
				svg_finding(h, "with a javascript: link");
		}
	}
	if (strcmp(name, "form") == 0) {
		h->in_form = 1;
		h->form_password = 0;
		a = get_attr(av, na, "action");
		h->form_action = a ? a->value : (span){NULL, 0};
	} else if (strcmp(name, "input") == 0) {
		if ((a = get_attr(av, na, "type")) != NULL && span_is(a->value, "password")) {
			h->password = 1;
			if (h->in_form)
				h->form_password = 1;
		}
	} else if (strcmp(name, "meta") == 0) {
		const attr *he = get_attr(av, na, "http-equiv"), *c = get_attr(av, na, "content");
		if (he && span_is(he->value, "refresh") && c) {
			const char *u = ex_memcasemem(c->value.p, c->value.n, "url", 3);
			if (u) {
				span v = {u + 3, c->value.n - (size_t)(u + 3 - c->value.p)};
				while (v.n && (isspace((unsigned char)*v.p) || *v.p == '=')) {
					v.p++;
					v.n--;
				}
				if (v.n && (*v.p == '\'' || *v.p == '"')) {
					v.p++;
					v.n--;
					while (v.n && (v.p[v.n - 1] == '\'' || v.p[v.n - 1] == '"'))
						v.n--;
				}
				if (v.n) {
					ex_finding(h->o, "html.redirect", "meta refresh to %.*s",
					           (int)(v.n < 120 ? v.n : 120), v.p);
					emit_url(h, v, "meta refresh");
				}
			}
		}
	}
	/* data: URLs: downloads are smuggling; images are read for QR codes */
	for (i = 0; i < na; i++) {
		mw_buf b;
		char mime[64];

		if (!(span_is(av[i].name, "href") || span_is(av[i].name, "src") || span_is(av[i].name, "data") ||
		      span_is(av[i].name, "xlink:href")))
			continue;
		if (av[i].value.n < 5 ||
		    ex_memcasemem(av[i].value.p, av[i].value.n < 16 ? av[i].value.n : 16, "data:", 5) == NULL)
			continue;
		if (!data_url(h, av[i].value, &b, mime, sizeof(mime)))
			continue;
		a = get_attr(av, na, "download");
		if (a && (strcmp(name, "a") == 0 || strcmp(name, "area") == 0)) {
			smuggled(h, "a download link with a data: URL", a->value.n ? a->value.p : NULL, a->value.n,
			         mime, &b);
		} else if (strcmp(mime, "image/png") == 0 || strcmp(mime, "image/jpeg") == 0 ||
		           strcmp(mime, "image/gif") == 0) {
			ex_object(h->o, NULL, 0, mime, b.p ? b.p : "", b.len);
		} else if (strcmp(name, "iframe") == 0 || strcmp(name, "embed") == 0 || strcmp(name, "object") == 0) {
			smuggled(h, "an embedded data: URL", NULL, 0, mime, &b);
		}
		buf_free(&b);
	}
}

/* form_end - </form> or the end of the input */
static void form_end(hstate *h)
{
	if (h->in_form && h->form_password && h->form_action.p && absolute(h->form_action)) {
		h->cred_told = 1;
		ex_finding(h->o, "html.credential_form", "password form posts to %.*s",
		           (int)(h->form_action.n < 120 ? h->form_action.n : 120), h->form_action.p);
		emit_url(h, h->form_action, "password form action");
	}
	h->in_form = 0;
	h->form_password = 0;
}

/* read_attrs - attributes from i up to '>'; returns the index after it */
static size_t read_attrs(hstate *h, const char *s, size_t n, size_t i, attr *av, size_t *na)
{
	*na = 0;
	while (i < n) {
		size_t st;
		attr a;

		while (i < n && (isspace((unsigned char)s[i]) || s[i] == '/'))
			i++;
		if (i >= n || s[i] == '>')
			return i < n ? i + 1 : n;
		st = i;
		while (i < n && !isspace((unsigned char)s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/')
			i++;
		if (i == st) {
			i++;
			continue;
		}
		memset(&a, 0, sizeof(a));
		a.name.p = s + st;
		a.name.n = i - st;
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i < n && s[i] == '=') {
			i++;
			while (i < n && isspace((unsigned char)s[i]))
				i++;
			a.has_value = 1;
			if (i < n && (s[i] == '"' || s[i] == '\'')) {
				const char *e = memchr(s + i + 1, s[i], n - i - 1);
				a.value.p = s + i + 1;
				a.value.n = e ? (size_t)(e - (s + i + 1)) : n - i - 1;
				i = e ? (size_t)(e - s) + 1 : n;
			} else {
				st = i;
				while (i < n && !isspace((unsigned char)s[i]) && s[i] != '>')
					i++;
				a.value.p = s + st;
				a.value.n = i - st;
			}
		} else {
			a.value.p = s + i;
		}
		if (*na < EX_HTML_ATTRS) {
			av[(*na)++] = a;
		} else {
			const char *gt = memchr(s + i, '>', n - i);
			ex_limit(h->o, EX_LIM_OTHER, "a tag with more than %d attributes was not read to its end",
			         EX_HTML_ATTRS);
			return gt ? (size_t)(gt - s) + 1 : n;
		}
	}
	return n;
}

/* raw_text_end - the "</name" that ends raw text from i; n when absent */
static size_t raw_text_end(const char *s, size_t n, size_t i, const char *name)
{
	size_t nl = strlen(name);
	const char *p = s + i;

	while ((p = memchr(p, '<', n - (size_t)(p - s))) != NULL) {
		size_t at = (size_t)(p - s);
		if (n - at >= nl + 2 && p[1] == '/' && strncasecmp(p + 2, name, nl) == 0)
			return at;
		p++;
	}
	return n;
}

/* ex_html - see the file header */
int ex_html(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	attr *av = x_malloc(EX_HTML_ATTRS * sizeof(*av));
	const char *s = in;
	size_t i = 0, na;
	hstate h;
	ex_out o;

	ex_out_init(&o, emit, lim, "HTML");
	memset(&h, 0, sizeof(h));
	h.o = &o;
	buf_init(&h.sends, 0);
	while (i < len && !o.stop) {
		const char *lt = memchr(s + i, '<', len - i);
		char name[EX_HTML_TAG + 1];
		int is_script;
		size_t st, k;
		int end = 0;

		if (lt == NULL)
			break;
		i = (size_t)(lt - s) + 1;
		if (len - i >= 3 && memcmp(s + i, "!--", 3) == 0) {
			const char *e = memmem(s + i + 3, len - i - 3, "-->", 3);
			i = e ? (size_t)(e - s) + 3 : len;
			continue;
		}
		if (i < len && (s[i] == '!' || s[i] == '?')) {
			const char *e = memchr(s + i, '>', len - i);
			i = e ? (size_t)(e - s) + 1 : len;
			continue;
		}
		if (i < len && s[i] == '/') {
			end = 1;
			i++;
		}
		st = i;
		while (i < len && (isalnum((unsigned char)s[i]) || s[i] == ':' || s[i] == '-' || s[i] == '_'))
			i++;
		if (i == st || !isalpha((unsigned char)s[st]))
			continue;
		/* local name: svg:script is script */
		{
			const char *c = memchr(s + st, ':', i - st);
			size_t from = c ? (size_t)(c - s) + 1 : st;
			for (k = 0; from + k < i && k < EX_HTML_TAG; k++)
				name[k] = (char)tolower((unsigned char)s[from + k]);
			name[k] = 0;
		}
		if (end) {
			const char *e = memchr(s + i, '>', len - i);
			i = e ? (size_t)(e - s) + 1 : len;
			if (strcmp(name, "form") == 0)
				form_end(&h);
			continue;
		}
		i = read_attrs(&h, s, len, i, av, &na);
		start_tag(&h, name, av, na);
		is_script = strcmp(name, "script") == 0;
		if (is_script || strcmp(name, "style") == 0) {
			size_t e = raw_text_end(s, len, i, name);
			if (is_script) {
				if (h.svg_doc)
					svg_finding(&h, "carries a script");
				script(&h, s + i, e - i);
			}
			i = e;
		}
	}
	if (!o.stop)
		form_end(&h);
	if (!o.stop && !h.cred_told && h.password && h.script_sends) {
		size_t off = 0;
		ex_finding(&o, "html.credential_form", "password field with script that sends data");
		while (off < h.sends.len && !o.stop) {
			size_t l = strlen(h.sends.p + off);
			ex_link(&o, h.sends.p + off, l, "script of a password page");
			off += l + 1;
		}
	}
	buf_free(&h.sends);
	x_free(av);
	return ex_out_rc(&o);
}
