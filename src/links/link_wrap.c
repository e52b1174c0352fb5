/*
 * NAME
 *	link_wrap.c - unwrap redirectors and click trackers that carry
 *	their target in the URL
 * SYNOPSIS
 *	#include "links/link_int.h"
 *
 *	link_unwrap(url, host, found, arg);	(found(arg, target, len, how))
 * DESCRIPTION
 *	A click on a redirector goes where its URL says; the reader sees
 *	the redirector.  Mail security gateways, search engines, social
 *	networks and mailing services all wrap links this way, and
 *	attackers use the same wrappers (open redirects, Bing "ck/a" links
 *	behind QR codes, Google AMP) so that a filter judges the wrapper.
 *	So the target is taken out and judged as a link of its own.
 *
 *	The model is general: whatever follows the host (path, query,
 *	fragment) is searched for an embedded absolute URL -- "http:" or
 *	"https:" at the start of a path segment or parameter value, a UNC
 *	path (\\host\...), a file: URL, or a scheme that launches a local
 *	handler -- percent-encoded up to WRAP_ROUNDS times; every parameter
 *	value and path segment that looks like base64 or base64url is
 *	decoded (also after a short prefix, as Bing's "a1") and taken when
 *	it decodes to such a URL.  A target must parse (link_parse) as a
 *	web URL with a host, a share, a local file or a launching scheme;
 *	anything else is not a target.
 *
 *	A few wrappers hide the target in a shape of their own and are
 *	read by name: Proofpoint URL Defense v2 ("-3A__" escapes) and v3
 *	("__URL__;"), Mimecast ("domain="), Google AMP viewer
 *	(google.TLD/amp/s/host/path), the AMP cache (HOST.cdn.ampproject.org
 *	/c/s/host/path) and Google Translate's proxy (HOST.translate.goog,
 *	whose first label spells the host with "-" for "." and "--" for
 *	"-").  Opaque trackers (the target is kept on the tracker's server)
 *	cannot be unwrapped; shorteners are a class of their own.
 * LIMITS
 *	LINK_MAX_TARGETS targets per URL; WRAP_MAX_PARAMS parameters and
 *	path segments examined; WRAP_ROUNDS rounds of percent decoding;
 *	candidates longer than LINK_MAX_URL are cut.  Work is linear in the
 *	URL (at most LINK_MAX_URL bytes).  The caller bounds the depth of
 *	recursion (LINK_MAX_WRAP).
 * SEE ALSO
 *	links.c (targets become links), link_url.c; docs/threats.md
 *	("redirector abuse").
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"
#include "util/util.h"

#include <string.h>
#include <strings.h>

#define WRAP_MAX_PARAMS 64
#define WRAP_ROUNDS     3
#define WRAP_MIN_B64    12 /* shortest base64 worth decoding ("http://a.bc" is 16 chars encoded) */

typedef struct wrap {
	link_found_fn found;
	void *arg;
	size_t n;
	unsigned seen[LINK_MAX_TARGETS];
	link_parts *p;
	char *buf, *buf2;     /* LINK_MAX_URL + 1 each */
	const char *how_rest; /* "path" after a host, "argument" after a scheme */
} wrap;

/* hexv - value of a hex digit or -1 */
static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* pct - percent-decode n bytes into out (cap > n); returns the length */
static size_t pct(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 0 && hexv((unsigned char)s[i + 1]) >= 0 &&
		    hexv((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(hexv((unsigned char)s[i + 1]) * 16 + hexv((unsigned char)s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = 0;
	return o;
}

/* has_pct - s has a %XX escape */
static int has_pct(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i++)
		if (s[i] == '%' && hexv((unsigned char)s[i + 1]) >= 0 && hexv((unsigned char)s[i + 2]) >= 0)
			return 1;
	return 0;
}

/* b64v - value of a base64 or base64url character, -1 if none */
static int b64v(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* b64 - decode base64 or base64url (padding optional); -1 on a bad character; out holds n bytes */
static long b64(const char *s, size_t n, char *out)
{
	unsigned acc = 0;
	size_t i, o = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		int v = b64v((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = 0;
	return (long)o;
}

/* ci_prefix - s (n bytes) starts with lit, ASCII case-insensitive */
static int ci_prefix(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && strncasecmp(s, lit, l) == 0;
}

/* hash - FNV-1a, for the per-URL dedupe */
static unsigned hash(const char *s, size_t n)
{
	unsigned h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* need - the working buffers, made on first use (most URLs carry no candidate at all) */
static void need(wrap *w)
{
	if (w->p == NULL) {
		w->p = x_malloc(sizeof(*w->p));
		w->buf = x_malloc(LINK_MAX_URL + 1);
		w->buf2 = x_malloc(LINK_MAX_URL + 1);
	}
}

/* target_ok - s parses as something a click goes to: a web host, a share, a local file, a handler */
static int target_ok(wrap *w, const char *s, size_t n)
{
	link_parts *p;

	need(w);
	p = w->p;

	if (n < 6)
		return 0;
	if (link_parse(s, n, NULL, 0, p) < 0)
		return 0;
	if (p->flags & (LINK_F_SHARE | LINK_F_LOCAL | LINK_F_LAUNCH | LINK_F_OFFICE))
		return 1;
	if (p->flags & (LINK_F_NOHOST | LINK_F_SCRIPT | LINK_F_APP))
		return 0;
	/* a web URL: a real host name or an IP */
	return (p->flags & LINK_F_IP) || strchr(p->host, '.') != NULL;
}

/* looks_absolute - cheap test before parsing: http(s):, //-less UNC, file:, or a launching scheme */
static int looks_absolute(const char *s, size_t n)
{
	size_t j = 0;
	char sch[LINK_MAX_SCHEME + 1];
	const link_scheme_info *si;

	if (ci_prefix(s, n, "http:") || ci_prefix(s, n, "https:") || ci_prefix(s, n, "file:"))
		return 1;
	if (n > 2 && s[0] == '\\' && s[1] == '\\')
		return 1;
	while (j < n && j < LINK_MAX_SCHEME &&
	       ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= '0' && s[j] <= '9' && j > 0) ||
	        s[j] == '-' || s[j] == '.'))
		j++;
	if (j < 2 || j >= n || s[j] != ':')
		return 0;
	memcpy(sch, s, j);
	sch[j] = 0;
	mw_lower(sch);
	si = link_scheme(sch);
	return si->does == LINK_DOES_LAUNCH || si->does == LINK_DOES_OFFICE || si->does == LINK_DOES_SHARE;
}

/* take - report one target once; 1 if taken */
static int take(wrap *w, const char *s, size_t n, const char *how)
{
	unsigned h;
	size_t i;

	while (n > 0 && (unsigned char)*s <= ' ') {
		s++;
		n--;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '"' || s[i] == '<' || s[i] == '>')
			break; /* a target ends at white space or markup */
	n = i;
	if (n > LINK_MAX_URL)
		n = LINK_MAX_URL;
	if (w->n >= LINK_MAX_TARGETS || !looks_absolute(s, n) || !target_ok(w, s, n))
		return 0;
	h = hash(s, n);
	for (i = 0; i < w->n; i++)
		if (w->seen[i] == h)
			return 1;
	w->seen[w->n++] = h;
	w->found(w->arg, s, n, how);
	return 1;
}

/* decoded - try s, then its percent-decodings (up to WRAP_ROUNDS); 1 if a target was taken */
static int decoded(wrap *w, const char *s, size_t n, const char *how)
{
	char *a, *b, *t;
	int round;

	if (!looks_absolute(s, n) && !has_pct(s, n))
		return 0; /* neither a URL nor anything that could decode to one */
	need(w);
	a = w->buf;
	b = w->buf2;
	if (n > LINK_MAX_URL)
		n = LINK_MAX_URL;
	memcpy(a, s, n);
	a[n] = 0;
	for (round = 0; round <= WRAP_ROUNDS; round++) {
		if (looks_absolute(a, n))
			return take(w, a, n, how);
		if (!has_pct(a, n))
			return 0;
		n = pct(a, n, b);
		t = a;
		a = b;
		b = t;
	}
	return 0;
}

/* base64_target - a parameter value or path segment that decodes (base64/base64url) to a target */
static int base64_target(wrap *w, const char *s, size_t n, const char *how)
{
	char v[LINK_MAX_URL + 1], d[LINK_MAX_URL + 1];
	size_t i, skip;
	long dn;

	if (n > LINK_MAX_URL)
		n = LINK_MAX_URL;
	if (has_pct(s, n)) { /* "%3D" padding, or an encoded value */
		n = pct(s, n, v);
		s = v;
	}
	if (n < WRAP_MIN_B64)
		return 0;
	for (i = 0; i < n; i++)
		if (b64v((unsigned char)s[i]) < 0 && s[i] != '=')
			return 0;
	for (skip = 0; skip < 4; skip++) { /* a short prefix before the data: Bing's "a1" */
		size_t tn;
		if ((dn = b64(s + skip, n - skip, d)) < 10)
			continue;
		for (tn = 0; tn < (size_t)dn && (unsigned char)d[tn] > ' ' && (unsigned char)d[tn] < 0x7f; tn++)
			;
		if (tn < 10)
			continue;
		if ((looks_absolute(d, tn) || ci_prefix(d, tn, "http%3a")) && decoded(w, d, tn, how))
			return 1;
	}
	return 0;
}

/* boundary - c may come right before an embedded URL */
static int boundary(int c)
{
	return c != 0 && strchr("/=?&;*-:|(!,_@", c) != NULL;
}

/* embedded_at - an absolute URL (maybe percent-encoded) starts at s[i]: its scheme prefix length, else 0 */
static size_t embedded_at(const char *s, size_t n, size_t i)
{
	static const char *const heads[] = {"https:", "http:",   "https%3a", "http%3a", "https%253a", "http%253a",
	                                    "file:",  "file%3a", "\\\\",     "%5c%5c",  "%255c%255c"};
	size_t k;
	int c = (unsigned char)s[i] | 0x20;

	if (c != 'h' && c != 'f' && s[i] != '\\' && s[i] != '%')
		return 0; /* the first byte of every head: most bytes stop here */
	if (i > 0 && !boundary((unsigned char)s[i - 1]))
		return 0;
	for (k = 0; k < MW_ARRAY_LEN(heads); k++)
		if (ci_prefix(s + i, n - i, heads[k]))
			return strlen(heads[k]);
	return 0;
}

/* scan_embedded - every embedded URL in rest (what follows the host) */
static void scan_embedded(wrap *w, const char *r, size_t n)
{
	size_t i = 0, e;

	while (i < n && w->n < LINK_MAX_TARGETS) {
		if (embedded_at(r, n, i) == 0) {
			i++;
			continue;
		}
		/* a parameter value ends at the next '&'; a path-embedded URL takes the rest */
		e = i;
		if (i > 0 && (r[i - 1] == '=' || r[i - 1] == ':'))
			while (e < n && r[e] != '&' && r[e] != '#')
				e++;
		else
			e = n;
		if (ci_prefix(r + i, e - i, "http") && memmem(r + i, e - i, "__;", 3)) /* Proofpoint v3 */
			e = i + (size_t)((const char *)memmem(r + i, e - i, "__;", 3) - (r + i));
		decoded(w, r + i, e - i, i > 0 && (r[i - 1] == '=' || r[i - 1] == ':') ? "parameter" : w->how_rest);
		i = e > i ? e : i + 1;
	}
}

/* scan_params - base64 values of parameters and path segments */
static void scan_params(wrap *w, const char *r, size_t n)
{
	size_t i = 0, b, count = 0;

	while (i < n && count < WRAP_MAX_PARAMS && w->n < LINK_MAX_TARGETS) {
		b = i;
		while (i < n && !strchr("/?&;#", r[i]))
			i++;
		if (i > b) {
			const char *eq = memchr(r + b, '=', i - b);
			const char *v = eq ? eq + 1 : r + b;
			count++;
			/* a launching scheme or share, maybe encoded (url=ms-msdt%3A...), else base64 */
			if (!(eq && decoded(w, v, (size_t)(r + i - v), "parameter")) &&
			    (size_t)(r + i - v) >= WRAP_MIN_B64)
				base64_target(w, v, (size_t)(r + i - v), "base64");
		}
		i++;
	}
}

/* param - the value of parameter name in rest, or NULL; *vn its length */
static const char *param(const char *r, size_t n, const char *name, size_t *vn)
{
	size_t l = strlen(name), i = 0;
	const char *q = memchr(r, '?', n);

	if (q == NULL)
		return NULL;
	i = (size_t)(q - r) + 1;
	while (i < n) {
		size_t b = i;
		while (i < n && r[i] != '&' && r[i] != '#')
			i++;
		if (i - b > l && strncasecmp(r + b, name, l) == 0 && r[b + l] == '=') {
			*vn = i - b - l - 1;
			return r + b + l + 1;
		}
		if (i < n && r[i] == '#')
			break;
		i++;
	}
	return NULL;
}

/* host_is - host equals d or is a sub-domain of it */
static int host_is(const char *host, const char *d)
{
	size_t hl = strlen(host), dl = strlen(d);

	return hl >= dl && strcmp(host + hl - dl, d) == 0 && (hl == dl || host[hl - dl - 1] == '.');
}

/* clamp - what snprintf wrote into an LINK_MAX_URL buffer (not what it wanted to) */
static size_t clamp(int o)
{
	return o < 0 ? 0 : (size_t)o >= LINK_MAX_URL ? LINK_MAX_URL - 1 : (size_t)o;
}

/* shapes - wrappers that hide their target in a form of their own */
static void shapes(wrap *w, const char *host, const char *r, size_t n)
{
	char t[LINK_MAX_URL + 1];
	const char *v;
	size_t vn, i, o = 0;

	if (host_is(host, "urldefense.proofpoint.com") && (v = param(r, n, "u", &vn)) != NULL) {
		/* v2: "-" escapes a hex byte, "_" is "/" */
		for (i = 0; i < vn && o < LINK_MAX_URL; i++) {
			if (v[i] == '-' && i + 2 < vn && hexv((unsigned char)v[i + 1]) >= 0 &&
			    hexv((unsigned char)v[i + 2]) >= 0) {
				t[o++] = (char)(hexv((unsigned char)v[i + 1]) * 16 + hexv((unsigned char)v[i + 2]));
				i += 2;
			} else {
				t[o++] = v[i] == '_' ? '/' : v[i];
			}
		}
		take(w, t, o, "Proofpoint u=");
		return;
	}
	if (host_is(host, "mimecast.com") && (v = param(r, n, "domain", &vn)) != NULL && vn < 200) {
		o = clamp(snprintf(t, LINK_MAX_URL, "https://%.*s/", (int)vn, v));
		take(w, t, o, "Mimecast domain=");
		return;
	}
	if (host_is(host, "cdn.ampproject.org")) {
		static const char *const pre[] = {"/c/s/", "/v/s/", "/i/s/", "/c/", "/v/", "/i/"};
		for (i = 0; i < MW_ARRAY_LEN(pre); i++)
			if (ci_prefix(r, n, pre[i])) {
				size_t pl = strlen(pre[i]);
				o = clamp(snprintf(t, LINK_MAX_URL, "%s://%.*s", pl == 5 ? "https" : "http",
				                   (int)(n - pl), r + pl));
				take(w, t, o, "AMP cache");
				return;
			}
	}
	if (host_is(host, "translate.goog") && strchr(host, '.') <= host + strlen(host) - strlen(".translate.goog")) {
		/* first label: "-" is ".", "--" is "-" */
		o = clamp(snprintf(t, LINK_MAX_URL, "https://"));
		for (i = 0; host[i] && host[i] != '.' && o + 1 < LINK_MAX_URL; i++) {
			if (host[i] == '-' && host[i + 1] == '-') {
				t[o++] = '-';
				i++;
			} else {
				t[o++] = host[i] == '-' ? '.' : host[i];
			}
		}
		if (o + n < LINK_MAX_URL) {
			memcpy(t + o, r, n);
			o += n;
		}
		take(w, t, o, "Google Translate proxy");
		return;
	}
	/* Google's AMP viewer: google.TLD/amp/s/host/path (https), /amp/host/path (http) */
	{
		char reg[LINK_MAX_HOST + 1];
		link_registrable(host, reg, sizeof(reg));
		if (strncmp(reg, "google.", 7) == 0 && ci_prefix(r, n, "/amp/")) {
			int s = ci_prefix(r, n, "/amp/s/");
			size_t pl = s ? 7 : 5;
			o = clamp(snprintf(t, LINK_MAX_URL, "%s://%.*s", s ? "https" : "http", (int)(n - pl), r + pl));
			take(w, t, o, "Google AMP");
		}
	}
}

/* link_unwrap - see link_int.h */
size_t link_unwrap(const char *url, const char *host, link_found_fn found, void *arg)
{
	wrap w;
	const char *r;
	size_t n;

	memset(&w, 0, sizeof(w));
	w.found = found;
	w.arg = arg;
	/* what follows the host, or the scheme of a URL without one */
	w.how_rest = "path";
	if ((r = strstr(url, "://")) != NULL && host && host[0]) {
		r += 3;
		r += strcspn(r, "/?#");
	} else if ((r = strchr(url, ':')) != NULL) {
		r++;
		w.how_rest = "argument";
	} else {
		return 0;
	}
	n = strlen(r);
	if (n == 0)
		return 0;
	if (host && host[0])
		shapes(&w, host, r, n);
	if (w.n == 0)
		scan_embedded(&w, r, n);
	if (w.n == 0)
		scan_params(&w, r, n);
	x_free(w.p);
	x_free(w.buf);
	x_free(w.buf2);
	return w.n;
}
