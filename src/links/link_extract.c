/*
 * NAME
 *	link_extract.c - find URL candidates in plain text and in HTML
 * SYNOPSIS
 *	#include "links/link_int.h"
 *
 *	link_extract_text(&sink, text, len);
 *	link_extract_html(&sink, html, len);
 * DESCRIPTION
 *	Both extractors make one pass over their input and never look back
 *	further than the current token, so time is linear in the input.
 *	They find candidates; link_parse() decides what is a link.
 *
 *	Text: a UNC path ("\\server\share\x.lnk") and a scheme that
 *	launches a handler written without "//" ("search-ms:query=...",
 *	"ms-msdt:/id ...", link_text_scheme()) run to white space or a
 *	quote, as a mail client that makes them clickable reads them.
 *	Otherwise a URL starts at a scheme followed by "://" and ends at white
 *	space, a quote, angle bracket or non-ASCII byte (Japanese text
 *	often follows a URL without a space); in the host part non-ASCII is
 *	allowed unless it follows the last dot ("https://evil.example です"
 *	ends before the kana).  A bare host ("www.example.com/x",
 *	"examp1e.com") is a run of host characters whose last label is a
 *	top-level public suffix, or that starts with "www."; one that
 *	follows '@' (an address) or '/' (a path) is not a host.  Trailing
 *	punctuation and unbalanced closing brackets are not part of a URL.
 *
 *	HTML: a tolerant tokenizer in the spirit of the HTML5 one.  Tag and
 *	attribute names are case-insensitive, white space (newlines
 *	included) may appear anywhere between them, values may be quoted
 *	or not and contain character references.  Comments are skipped
 *	except Outlook's conditional comments ("<!--[if mso]>"), whose
 *	content Outlook renders.  <script> content is skipped; <style>
 *	content is read as CSS.  Text between tags is decoded and read as
 *	text, except inside <a>, where it becomes the anchor's visible text.
 * LIMITS
 *	LINK_MAX_ATTR bytes of one attribute value are decoded and read;
 *	a longer value is cut and reported through the sink's limit().
 *	Text runs are decoded into a buffer no larger than the run.
 * DIAGNOSTICS
 *	None: broken markup is read the way a browser would read it, never
 *	an error.  An over-long attribute value is reported through limit().
 * SEE ALSO
 *	links.h, link_url.c; WHATWG HTML "tokenization", WHATWG URL.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"
#include "util/util.h"

#include <pthread.h>
#include <string.h>

/* Byte classes. */
#define CH_HOST   0x01 /* A-Z a-z 0-9 - _ . */
#define CH_ALNUM  0x02
#define CH_ALPHA  0x04
#define CH_SCHEME 0x08 /* A-Z a-z 0-9 + - . */
#define CH_URL    0x10 /* may continue a URL in text */
#define CH_WS     0x20 /* HTML white space */
#define CH_NAME   0x40 /* tag name characters */

static unsigned char cls[256];
static pthread_once_t cls_once = PTHREAD_ONCE_INIT;

/* cls_init - fill the byte class table */
static void cls_init(void)
{
	int c;

	for (c = 0; c < 256; c++) {
		unsigned char v = 0;
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int digit = c >= '0' && c <= '9';

		if (alpha)
			v |= CH_ALPHA;
		if (alpha || digit)
			v |= CH_ALNUM | CH_SCHEME | CH_HOST | CH_NAME;
		if (c == '-' || c == '.')
			v |= CH_SCHEME | CH_HOST;
		if (c == '+')
			v |= CH_SCHEME;
		if (c == '_')
			v |= CH_HOST;
		if (c == '-' || c == ':')
			v |= CH_NAME;
		if (c > 0x20 && c < 0x7f && !strchr("<>\"'`{}|\\^", c))
			v |= CH_URL;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
			v |= CH_WS;
		cls[c] = v;
	}
}

#define IS(c, k) (cls[(unsigned char)(c)] & (k))

/* lower - ASCII lower case of one byte */
static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* ---- character references ---- */

static const struct {
	const char *name;
	unsigned cp;
} entities[] = {
    {"amp", '&'},    {"lt", '<'},       {"gt", '>'},       {"quot", '"'},      {"apos", '\''},     {"nbsp", 0xa0},
    {"colon", ':'},  {"sol", '/'},      {"bsol", '\\'},    {"period", '.'},    {"comma", ','},     {"semi", ';'},
    {"Tab", '\t'},   {"NewLine", '\n'}, {"excl", '!'},     {"num", '#'},       {"dollar", '$'},    {"percnt", '%'},
    {"lpar", '('},   {"rpar", ')'},     {"ast", '*'},      {"plus", '+'},      {"equals", '='},    {"quest", '?'},
    {"commat", '@'}, {"lsqb", '['},     {"rsqb", ']'},     {"lowbar", '_'},    {"grave", '`'},     {"lcub", '{'},
    {"rcub", '}'},   {"verbar", '|'},   {"Hat", '^'},      {"hyphen", 0x2010}, {"dash", 0x2010},   {"shy", 0xad},
    {"zwj", 0x200d}, {"zwnj", 0x200c},  {"ensp", 0x2002},  {"emsp", 0x2003},   {"thinsp", 0x2009}, {"copy", 0xa9},
    {"reg", 0xae},   {"middot", 0xb7},  {"lsquo", 0x2018}, {"rsquo", 0x2019},  {"ldquo", 0x201c},  {"rdquo", 0x201d},
};

/* put_utf8 - encode cp (bad ones as U+FFFD); returns bytes written */
static size_t put_utf8(unsigned long cp, char *o)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * entity_at - decode the reference at s[0] == '&'; returns bytes consumed
 * (0: not a reference) and the output in o.  Output never exceeds the
 * bytes consumed: the shortest reference producing k bytes is >= k long.
 */
static size_t entity_at(const char *s, size_t n, char *o, size_t *olen)
{
	size_t i = 1, j;
	unsigned long cp = 0;

	if (n > 2 && s[1] == '#') {
		int hex = 0, digits = 0;

		i = 2;
		if (i < n && (s[i] == 'x' || s[i] == 'X')) {
			hex = 1;
			i++;
		}
		for (; i < n; i++) {
			int c = (unsigned char)s[i], d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && lower(c) >= 'a' && lower(c) <= 'f')
				d = lower(c) - 'a' + 10;
			else
				break;
			if (cp <= 0x10ffff)
				cp = cp * (hex ? 16 : 10) + (unsigned long)d;
			digits++;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		*olen = put_utf8(cp, o);
		return i;
	}
	for (j = 1; j < n && j < 12 && IS(s[j], CH_ALNUM); j++)
		;
	if (j == 1 || j >= n || s[j] != ';')
		return 0;
	for (i = 0; i < MW_ARRAY_LEN(entities); i++)
		if (strlen(entities[i].name) == j - 1 && memcmp(entities[i].name, s + 1, j - 1) == 0) {
			*olen = put_utf8(entities[i].cp, o);
			return j + 1;
		}
	return 0;
}

/* link_entity_decode - decode every reference; out must hold n bytes */
size_t link_entity_decode(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		const char *amp = memchr(s + i, '&', n - i);
		size_t run = amp ? (size_t)(amp - (s + i)) : n - i, used, olen = 0;

		memmove(out + o, s + i, run);
		o += run;
		i += run;
		if (amp == NULL)
			break;
		used = entity_at(s + i, n - i, out + o, &olen);
		if (used == 0) {
			out[o++] = '&';
			i++;
		} else {
			o += olen;
			i += used;
		}
	}
	return o;
}

/* ---- plain text ---- */

/* trim_end - drop trailing punctuation and unbalanced closing brackets from [b, e) */
static size_t trim_end(const char *s, size_t b, size_t e)
{
	long paren = 0, brack = 0;
	size_t i;

	for (i = b; i < e; i++) {
		paren += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
		brack += s[i] == '[' ? 1 : s[i] == ']' ? -1 : 0;
	}
	while (e > b) {
		char c = s[e - 1];
		if (c != 0 && strchr(".,;:!?*", c)) {
			e--;
		} else if (c == ')' && paren < 0) {
			paren++;
			e--;
		} else if (c == ']' && brack < 0) {
			brack++;
			e--;
		} else {
			break;
		}
	}
	return e;
}

/* path_end - end of the URL characters from p */
static size_t path_end(const char *s, size_t n, size_t p)
{
	while (p < n && IS(s[p], CH_URL))
		p++;
	return p;
}

/* path_text_end - end of a path written in text (UNC, search-ms:): up to white space, quotes, brackets */
static size_t path_text_end(const char *s, size_t n, size_t p)
{
	while (p < n && (unsigned char)s[p] > ' ' && s[p] != 0x7f && !strchr("\"'<>`", s[p]))
		p++;
	return p;
}

/* scheme_url_end - end of a URL whose authority starts at p */
static size_t scheme_url_end(const char *s, size_t n, size_t p)
{
	size_t b = p, dot = 0, i;

	while (p < n) {
		unsigned char c = (unsigned char)s[p];
		if (c == '/' || c == '?' || c == '#' || c == '\\' || (c < 0x80 && !IS(c, CH_URL)))
			break;
		if (c == '.')
			dot = p;
		p++;
	}
	for (i = dot > b ? dot : b; i < p; i++)
		if ((unsigned char)s[i] >= 0x80 && dot > b)
			return i; /* non-ASCII after the last dot: text, not host */
	for (i = b; i < p; i++)
		if ((unsigned char)s[i] >= 0x80 && dot == 0)
			return i; /* no dot at all: stop at the text */
	if (p < n && (s[p] == '/' || s[p] == '?' || s[p] == '#'))
		p = path_end(s, n, p);
	return p;
}

/*
 * bare_host - the candidate host run [hs, e) contains the dot at `dot`;
 * returns the end of an accepted bare URL in *end (0 if none) and the
 * end of the host run.
 */
static size_t bare_host(const char *s, size_t n, size_t hs, size_t dot, size_t *b, size_t *end)
{
	size_t e = dot, he, last, i;
	int numeric = 1, dots = 0;

	while (e < n && IS(s[e], CH_HOST))
		e++;
	*end = 0;
	if (hs > 0 && (s[hs - 1] == '@' || s[hs - 1] == '/' || s[hs - 1] == '\\' || s[hs - 1] == '.' ||
	               s[hs - 1] == '%' || s[hs - 1] == '&' || s[hs - 1] == '='))
		return e;
	while (hs < e && (s[hs] == '.' || s[hs] == '-' || s[hs] == '_'))
		hs++;
	he = e;
	while (he > hs && (s[he - 1] == '.' || s[he - 1] == '-' || s[he - 1] == '_'))
		he--;
	if (he <= hs)
		return e;
	if (e < n && s[e] == '@')
		return e; /* user@host: an address */
	last = he;
	while (last > hs && s[last - 1] != '.')
		last--;
	if (last == hs)
		return e;
	for (i = hs; i < he; i++) {
		if (s[i] == '.')
			dots++;
		else if (!(s[i] >= '0' && s[i] <= '9'))
			numeric = 0;
	}
	if (numeric) {
		if (dots != 3 || he >= n || (s[he] != '/' && s[he] != ':'))
			return e;
	} else {
		int www = he - hs > 4 && lower(s[hs]) == 'w' && lower(s[hs + 1]) == 'w' && lower(s[hs + 2]) == 'w' &&
		          s[hs + 3] == '.';
		for (i = last; i < he; i++)
			if (!IS(s[i], CH_ALPHA))
				break;
		if (!www && (i < he || he - last < 2 || !link_is_tld(s + last, he - last)))
			if (!(he - last > 4 && memcmp(s + last, "xn--", 4) == 0))
				return e;
	}
	*b = hs;
	if (he == e && e < n && (s[e] == ':' || s[e] == '/' || s[e] == '?' || s[e] == '#'))
		*end = trim_end(s, hs, path_end(s, n, e));
	else
		*end = he;
	return e;
}

/* text_scan - call found(s+b, e-b, bare) for each candidate; stop when it returns nonzero */
static void text_scan(const char *s, size_t n, int (*found)(void *, size_t, size_t, int), void *arg)
{
	size_t i, hs = 0;

	pthread_once(&cls_once, cls_init);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (IS(c, CH_HOST)) {
			if (c == '.' && i > hs && i + 1 < n && IS(s[i - 1], CH_ALNUM) && IS(s[i + 1], CH_ALNUM)) {
				size_t b = hs, end, e = bare_host(s, n, hs, i, &b, &end);
				if (end) {
					if (found(arg, b, end, 1))
						return;
					e = end > e ? end : e;
				}
				i = e - 1;
				hs = e;
			}
			continue;
		}
		if (c == '\\' && i + 2 < n && s[i + 1] == '\\' && (i == 0 || !IS(s[i - 1], CH_URL)) &&
		    (IS(s[i + 2], CH_HOST) || s[i + 2] == '?')) {
			/* a UNC path: \\host\share\file (mail clients make these clickable) */
			size_t e = trim_end(s, i, path_text_end(s, n, i + 2));
			if (e > i + 3 && found(arg, i, e, 0))
				return;
			i = e - 1;
			hs = e;
			continue;
		}
		if (c == ':' && i > hs && i + 1 < n && !(i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/')) {
			/* a launching scheme without "//": search-ms:query=..., ms-msdt:/id ..., file:///C:/ */
			size_t j = i, e;
			char sch[LINK_MAX_SCHEME + 1];
			while (j > hs && IS(s[j - 1], CH_SCHEME))
				j--;
			while (j < i && !IS(s[j], CH_ALPHA))
				j++;
			if (j < i && i - j <= LINK_MAX_SCHEME && (j == 0 || !IS(s[j - 1], CH_URL) || s[j - 1] == '(')) {
				size_t k;
				for (k = 0; k < i - j; k++)
					sch[k] = (char)lower(s[j + k]);
				sch[i - j] = 0;
				if (link_text_scheme(sch, s + i + 1, n - i - 1)) {
					e = trim_end(s, j, path_text_end(s, n, i + 1));
					if (e > i + 1 && found(arg, j, e, 0))
						return;
					i = e - 1;
					hs = e;
					continue;
				}
			}
		}
		if (c == ':' && i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/') {
			size_t j = i;
			while (j > hs && IS(s[j - 1], CH_SCHEME))
				j--;
			while (j < i && !IS(s[j], CH_ALPHA))
				j++;
			if (j < i && i - j <= LINK_MAX_SCHEME) {
				size_t e = trim_end(s, j, scheme_url_end(s, n, i + 3));
				if (e > i + 3 && found(arg, j, e, 0))
					return;
				if (e > i) {
					i = e - 1;
					hs = e;
					continue;
				}
			}
		}
		hs = i + 1;
	}
}

typedef struct text_emit {
	const link_sink *k;
	const char *s;
} text_emit;

/* emit_found - hand one text candidate to the sink */
static int emit_found(void *arg, size_t b, size_t e, int bare)
{
	text_emit *t = arg;

	t->k->emit(t->k->arg, LINK_FROM_TEXT, bare ? LINK_F_BARE : 0, t->s + b, e - b, NULL, 0, NULL);
	return 0;
}

/* link_extract_text - every URL candidate in text */
void link_extract_text(const link_sink *k, const char *s, size_t n)
{
	text_emit t = {k, s};

	text_scan(s, n, emit_found, &t);
}

typedef struct first_found {
	size_t off, len;
	int bare, found;
} first_found;

/* first_cb - keep the first candidate and stop */
static int first_cb(void *arg, size_t b, size_t e, int bare)
{
	first_found *f = arg;

	f->off = b;
	f->len = e - b;
	f->bare = bare;
	f->found = 1;
	return 1;
}

/* link_text_first - the first candidate in s */
int link_text_first(const char *s, size_t n, size_t *off, size_t *len, int *bare)
{
	first_found f = {0, 0, 0, 0};

	text_scan(s, n, first_cb, &f);
	if (!f.found)
		return -1;
	*off = f.off;
	*len = f.len;
	*bare = f.bare;
	return 0;
}

/* ---- HTML ---- */

typedef enum { A_URL, A_SRCSET, A_STYLE, A_CONTENT, A_EQUIV } attr_kind;

static const struct {
	const char *name;
	size_t len;
	attr_kind kind;
	link_src src;
	unsigned flags;
} attr_table[] = {
    {"href", 4, A_URL, LINK_FROM_HREF, 0},
    {"xlink:href", 10, A_URL, LINK_FROM_HREF, 0},
    {"src", 3, A_URL, LINK_FROM_SRC, LINK_F_LOADED},
    {"action", 6, A_URL, LINK_FROM_ACTION, 0},
    {"formaction", 10, A_URL, LINK_FROM_ACTION, 0},
    {"background", 10, A_URL, LINK_FROM_SRC, LINK_F_LOADED},
    {"poster", 6, A_URL, LINK_FROM_SRC, LINK_F_LOADED},
    {"lowsrc", 6, A_URL, LINK_FROM_SRC, LINK_F_LOADED},
    {"dynsrc", 6, A_URL, LINK_FROM_SRC, LINK_F_LOADED},
    {"ping", 4, A_URL, LINK_FROM_SRC, LINK_F_LOADED},
    {"srcset", 6, A_SRCSET, LINK_FROM_SRC, LINK_F_LOADED},
    {"style", 5, A_STYLE, LINK_FROM_CSS, LINK_F_LOADED},
    {"content", 7, A_CONTENT, LINK_FROM_REFRESH, 0},
    {"http-equiv", 10, A_EQUIV, LINK_FROM_REFRESH, 0},
    {"data", 4, A_URL, LINK_FROM_SRC, LINK_F_LOADED}, /* <object data>: checked against the tag */
};

typedef struct html_st {
	const link_sink *k;
	char *buf; /* decoding buffer */
	size_t bufcap;
	char tag[24];
	int base_set;
	char base[LINK_MAX_URL + 1];
	/* the open <a> */
	int in_a;
	size_t a_len;
	char a_href[LINK_MAX_URL + 1];
	size_t a_tlen;
	char a_text[LINK_MAX_TEXT + 1];
	/* the current <meta> */
	int refresh;
	size_t content_len;
	char content[LINK_MAX_URL + 1];
} html_st;

/* need_buf - make the decoding buffer hold n bytes */
static char *need_buf(html_st *h, size_t n)
{
	if (n > h->bufcap) {
		x_free(h->buf);
		h->bufcap = n < 4096 ? 4096 : n;
		h->buf = x_malloc(h->bufcap);
	}
	return h->buf;
}

/* decode - the value with references decoded: v itself when it has none */
static const char *decode(html_st *h, const char *v, size_t n, size_t *out)
{
	char *b;

	if (memchr(v, '&', n) == NULL) {
		*out = n;
		return v;
	}
	b = need_buf(h, n);
	*out = link_entity_decode(v, n, b);
	return b;
}

/* base_of - the <base href> seen so far, or NULL */
static const char *base_of(html_st *h)
{
	return h->base_set ? h->base : NULL;
}

/* a_close - emit the open anchor with its text */
static void a_close(html_st *h)
{
	if (!h->in_a)
		return;
	while (h->a_tlen > 0 && h->a_text[h->a_tlen - 1] == ' ')
		h->a_tlen--;
	h->a_text[h->a_tlen] = 0;
	h->k->emit(h->k->arg, LINK_FROM_HREF, 0, h->a_href, h->a_len, h->a_text, h->a_tlen, base_of(h));
	h->in_a = 0;
}

/* a_text - add visible text to the open anchor, white space collapsed */
static void a_text(html_st *h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && h->a_tlen < LINK_MAX_TEXT; i++) {
		char c = s[i];
		if (IS(c, CH_WS)) {
			if (h->a_tlen == 0 || h->a_text[h->a_tlen - 1] == ' ')
				continue;
			c = ' ';
		}
		h->a_text[h->a_tlen++] = c;
	}
}

/* text_run - text between tags */
static void text_run(html_st *h, const char *s, size_t n)
{
	size_t dn;
	const char *d;

	if (n == 0)
		return;
	d = decode(h, s, n, &dn);
	if (h->in_a)
		a_text(h, d, dn);
	else
		link_extract_text(h->k, d, dn);
}

/* emit_url - one URL from an attribute or CSS, white space trimmed */
static void emit_url(html_st *h, link_src src, unsigned flags, const char *v, size_t n)
{
	while (n > 0 && (unsigned char)*v <= ' ') {
		v++;
		n--;
	}
	while (n > 0 && (unsigned char)v[n - 1] <= ' ')
		n--;
	if (n > 0)
		h->k->emit(h->k->arg, src, flags, v, n, NULL, 0, base_of(h));
}

/* css_scan - url(...) and @import "..." in CSS text */
static void css_scan(html_st *h, const char *s, size_t n)
{
	size_t i, b, e;

	for (i = 0; i < n; i++) {
		char c = s[i], q = 0;

		if (c == '(' && i >= 3 && lower(s[i - 3]) == 'u' && lower(s[i - 2]) == 'r' && lower(s[i - 1]) == 'l') {
			b = i + 1;
		} else if (c == '@' && n - i > 7 && strncasecmp(s + i + 1, "import", 6) == 0) {
			b = i + 7;
		} else {
			continue;
		}
		while (b < n && IS(s[b], CH_WS))
			b++;
		if (b < n && (s[b] == '"' || s[b] == '\''))
			q = s[b++];
		for (e = b; e < n && (q ? s[e] != q : s[e] != ')' && !(c == '@' && (s[e] == ';' || IS(s[e], CH_WS))));
		     e++)
			;
		if (c == '@' && q == 0 && e - b > 4 && strncasecmp(s + b, "url(", 4) == 0)
			continue; /* @import url(...): the url( branch takes it */
		emit_url(h, LINK_FROM_CSS, LINK_F_LOADED, s + b, e - b);
		i = e < n ? e : n - 1;
	}
}

/* srcset_scan - "url 1x, url 2x" */
static void srcset_scan(html_st *h, const char *s, size_t n)
{
	size_t i = 0, b;

	while (i < n) {
		while (i < n && (IS(s[i], CH_WS) || s[i] == ','))
			i++;
		b = i;
		while (i < n && !IS(s[i], CH_WS))
			i++;
		if (i > b) {
			size_t e = i;
			while (e > b && s[e - 1] == ',')
				e--;
			emit_url(h, LINK_FROM_SRC, LINK_F_LOADED, s + b, e - b);
		}
		while (i < n && s[i] != ',')
			i++;
	}
}

/* refresh_url - the URL of a meta refresh content: "5; url='x'" */
static void refresh_url(html_st *h, const char *s, size_t n)
{
	size_t i = 0, e;
	char q = 0;

	while (i < n && (IS(s[i], CH_WS) || (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
		i++;
	if (i < n && (s[i] == ';' || s[i] == ','))
		i++;
	while (i < n && IS(s[i], CH_WS))
		i++;
	if (n - i > 3 && strncasecmp(s + i, "url", 3) == 0) {
		size_t j = i + 3;
		while (j < n && IS(s[j], CH_WS))
			j++;
		if (j < n && s[j] == '=') {
			i = j + 1;
			while (i < n && IS(s[i], CH_WS))
				i++;
		}
	}
	if (i < n && (s[i] == '"' || s[i] == '\''))
		q = s[i++];
	for (e = i; e < n && (q == 0 || s[e] != q); e++)
		;
	emit_url(h, LINK_FROM_REFRESH, 0, s + i, e - i);
}

/* attr - one attribute of the current tag */
static void attr(html_st *h, const char *name, const char *v, size_t vn)
{
	size_t i, dn, len = strlen(name);
	const char *d;

	for (i = 0; i < MW_ARRAY_LEN(attr_table); i++)
		if (attr_table[i].len == len && memcmp(attr_table[i].name, name, len) == 0)
			break;
	if (i == MW_ARRAY_LEN(attr_table))
		return;
	if (vn > LINK_MAX_ATTR) {
		h->k->limit(h->k->arg, "attribute value longer than the limit");
		vn = LINK_MAX_ATTR;
	}
	d = decode(h, v, vn, &dn);
	switch (attr_table[i].kind) {
	case A_URL:
		if (strcmp(name, "data") == 0 && strcmp(h->tag, "object") != 0)
			return;
		if (strcmp(name, "href") == 0) {
			if (strcmp(h->tag, "base") == 0) {
				if (!h->base_set) {
					h->base_set = 1;
					mw_strlcpy(h->base, "", sizeof(h->base));
					memcpy(h->base, d, dn < LINK_MAX_URL ? dn : LINK_MAX_URL);
					h->base[dn < LINK_MAX_URL ? dn : LINK_MAX_URL] = 0;
				}
				emit_url(h, LINK_FROM_BASE, LINK_F_LOADED, d, dn);
				return;
			}
			if (strcmp(h->tag, "a") == 0) {
				a_close(h);
				while (dn > 0 && (unsigned char)*d <= ' ') {
					d++;
					dn--;
				}
				while (dn > 0 && (unsigned char)d[dn - 1] <= ' ')
					dn--;
				if (dn == 0)
					return;
				h->a_len = dn < LINK_MAX_URL ? dn : LINK_MAX_URL;
				memcpy(h->a_href, d, h->a_len);
				h->a_tlen = 0;
				h->in_a = 1;
				return;
			}
			if (strcmp(h->tag, "link") == 0) {
				emit_url(h, LINK_FROM_HREF, LINK_F_LOADED, d, dn);
				return;
			}
		}
		emit_url(h, attr_table[i].src, attr_table[i].flags, d, dn);
		return;
	case A_SRCSET: srcset_scan(h, d, dn); return;
	case A_STYLE: css_scan(h, d, dn); return;
	case A_CONTENT:
		h->content_len = dn < LINK_MAX_URL ? dn : LINK_MAX_URL;
		memcpy(h->content, d, h->content_len);
		return;
	case A_EQUIV: h->refresh = dn >= 7 && strncasecmp(d, "refresh", 7) == 0; return;
	}
}

/* skip_to - index after the first c at or after i, or n */
static size_t skip_to(const char *s, size_t n, size_t i, char c)
{
	const char *p = i < n ? memchr(s + i, c, n - i) : NULL;

	return p ? (size_t)(p - s) + 1 : n;
}

/* raw_end - index of "</name" (case-insensitive) at or after i, or n */
static size_t raw_end(const char *s, size_t n, size_t i, const char *name)
{
	size_t len = strlen(name);

	while (i < n) {
		const char *p = memchr(s + i, '<', n - i);
		if (p == NULL)
			return n;
		i = (size_t)(p - s);
		if (n - i > len + 1 && s[i + 1] == '/' && strncasecmp(s + i + 2, name, len) == 0)
			return i;
		i++;
	}
	return n;
}

/* tag - parse a start tag at s[i] == '<'; returns the index after it */
static size_t tag(html_st *h, const char *s, size_t n, size_t i)
{
	size_t t = 0;
	char name[24];

	i++;
	while (i < n && IS(s[i], CH_NAME)) {
		if (t < sizeof(h->tag) - 1)
			h->tag[t++] = (char)lower(s[i]);
		i++;
	}
	h->tag[t] = 0;
	h->refresh = 0;
	h->content_len = 0;
	for (;;) {
		size_t nb, nl = 0, vb, ve;

		while (i < n && (IS(s[i], CH_WS) || s[i] == '/'))
			i++;
		if (i >= n)
			return n;
		if (s[i] == '>') {
			i++;
			break;
		}
		nb = i;
		while (i < n && !IS(s[i], CH_WS) && s[i] != '=' && s[i] != '>' && (s[i] != '/' || i == nb))
			i++;
		for (nl = 0; nb + nl < i && nl < sizeof(name) - 1; nl++)
			name[nl] = (char)lower(s[nb + nl]);
		name[nl] = 0;
		while (i < n && IS(s[i], CH_WS))
			i++;
		if (i >= n || s[i] != '=')
			continue;
		i++;
		while (i < n && IS(s[i], CH_WS))
			i++;
		if (i < n && (s[i] == '"' || s[i] == '\'')) {
			const char *qp;

			vb = i + 1;
			qp = vb < n ? memchr(s + vb, s[i], n - vb) : NULL;
			ve = qp ? (size_t)(qp - s) : n;
			i = qp ? ve + 1 : n;
		} else {
			vb = i;
			while (i < n && !IS(s[i], CH_WS) && s[i] != '>')
				i++;
			ve = i;
		}
		attr(h, name, s + vb, ve - vb);
	}
	if (strcmp(h->tag, "meta") == 0 && h->refresh && h->content_len)
		refresh_url(h, h->content, h->content_len);
	return i;
}

/* link_extract_html - every URL candidate in an HTML document */
void link_extract_html(const link_sink *k, const char *s, size_t n)
{
	html_st *h = x_calloc(1, sizeof(*h));
	size_t i = 0;

	pthread_once(&cls_once, cls_init);
	h->k = k;
	while (i < n) {
		const char *lt = memchr(s + i, '<', n - i);
		size_t p = lt ? (size_t)(lt - s) : n;
		char c;

		text_run(h, s + i, p - i);
		if (p + 1 >= n)
			break;
		c = s[p + 1];
		if (c == '!') {
			if (n - p >= 4 && s[p + 2] == '-' && s[p + 3] == '-') {
				const char *end;
				if (n - p > 4 && (s[p + 4] == '[' || s[p + 4] == '>')) {
					i = skip_to(s, n, p + 4, '>'); /* conditional comment: content is markup */
					continue;
				}
				if (n - p > 5 && s[p + 4] == '-' && s[p + 5] == '>') {
					i = p + 6;
					continue;
				}
				end = memmem(s + p + 4, n - p - 4, "-->", 3);
				i = end ? (size_t)(end - s) + 3 : n;
			} else {
				i = skip_to(s, n, p + 2, '>');
			}
		} else if (c == '/') {
			size_t q = p + 2;
			if (q < n && lower(s[q]) == 'a' && (q + 1 >= n || !IS(s[q + 1], CH_NAME)))
				a_close(h);
			i = skip_to(s, n, q, '>');
		} else if (c == '?') {
			i = skip_to(s, n, p + 2, '>');
		} else if (IS(c, CH_ALPHA)) {
			i = tag(h, s, n, p);
			if (strcmp(h->tag, "script") == 0) {
				i = raw_end(s, n, i, "script");
			} else if (strcmp(h->tag, "style") == 0) {
				size_t e = raw_end(s, n, i, "style");
				css_scan(h, s + i, e - i); /* raw text: no references */
				i = e;
			}
		} else {
			text_run(h, s + p, 1);
			i = p + 1;
		}
	}
	a_close(h);
	x_free(h->buf);
	x_free(h);
}
