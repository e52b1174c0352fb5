/*
 * NAME
 *	link_url.c - normalise one URL: scheme, host, IP literals, IDN,
 *	registrable domain
 * SYNOPSIS
 *	#include "links/links.h"
 *
 *	link_parts p;
 *	if (link_parse(raw, len, base, bare, &p) == 0) ... p.host, p.domain
 * DESCRIPTION
 *	Follows what a browser does with the same string, because the
 *	browser's reading is the one the attacker aims at (WHATWG URL):
 *	tab and newline are removed anywhere, leading and trailing control
 *	characters and spaces are dropped, "http:" may be followed by any
 *	number of slashes or back-slashes, the last '@' of the authority
 *	ends the user information, the host is percent-decoded, mapped with
 *	UTS #46 to A-labels (libidn2), and a host whose last label is a
 *	number is an IPv4 address in any of its forms (0x7f.1,
 *	017700000001, 2130706433, 127.1).
 *
 *	Schemes are read through the model of link_scheme.c: browsing
 *	schemes get the host parsing above; contact and in-message schemes
 *	are no links (-1); script, launch, office and app schemes are kept
 *	whole (their host parsed too when "//" follows the colon); share
 *	schemes and UNC paths (\\host\share, \\host@SSL@443\dav,
 *	\\?\UNC\host\share, file://host/, file:////host/) get the share's
 *	host, stripped of WebDAV's "@SSL" and "@port", and the URL
 *	"file://host/path"; file: URLs without a host (file:///C:/x,
 *	file://localhost/) are local files.
 *
 *	The registrable domain comes from libpsl with the newest of its
 *	built-in list and Debian's /usr/share/publicsuffix (psl_latest),
 *	private suffixes included, so "x.blogspot.com" and
 *	"bucket.s3.amazonaws.com" are domains of their own.
 * LIMITS
 *	LINK_MAX_URL bytes of a URL are read (LINK_F_CUT beyond),
 *	LINK_MAX_HOST bytes of a host (LINK_F_BADHOST beyond).
 * DIAGNOSTICS
 *	A host that cannot be normalised (bad IPv4, invalid IDN or
 *	punycode, forbidden characters) is kept as found, lower-cased, with
 *	LINK_F_BADHOST: the link is still judged.
 * SEE ALSO
 *	WHATWG URL Standard, host parsing; UTS #46; libpsl(3).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Default ports of the browsing schemes, left out of the normalised URL. */
static const struct {
	const char *name;
	const char *port;
} default_ports[] = {
    {"http", "80"}, {"https", "443"}, {"ftp", "21"}, {"ws", "80"}, {"wss", "443"}, {"webcal", "80"}, {"webcals", "443"},
};

static psl_ctx_t *g_psl_latest;
static const psl_ctx_t *g_psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* psl_init - newest list available: Debian's file or the built-in copy */
static void psl_init(void)
{
	g_psl_latest = psl_latest(NULL);
	g_psl = g_psl_latest ? g_psl_latest : psl_builtin();
}

/* link_psl - the shared context; NULL when no list at all could be loaded */
const psl_ctx_t *link_psl(void)
{
	pthread_once(&psl_once, psl_init);
	return g_psl;
}

/* link_is_tld - the label is an ICANN top-level suffix (no "*" default rule) */
int link_is_tld(const char *label, size_t n)
{
	char buf[64];
	size_t i;
	const psl_ctx_t *psl = link_psl();

	if (n == 0 || n >= sizeof(buf))
		return 0;
	for (i = 0; i < n; i++)
		buf[i] = (char)(label[i] >= 'A' && label[i] <= 'Z' ? label[i] + 32 : label[i]);
	buf[n] = 0;
	if (psl == NULL)
		return n >= 2 && n <= 6;
	return psl_is_public_suffix2(psl, buf, PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
}

/* link_registrable - eTLD+1 of host; the host itself when it has none */
char *link_registrable(const char *host, char *out, size_t len)
{
	const psl_ctx_t *psl = link_psl();
	const char *r = psl ? psl_registrable_domain(psl, host) : NULL;

	if (r == NULL && psl == NULL) {
		/* no list: the last two labels */
		const char *dot = strrchr(host, '.');
		r = host;
		if (dot) {
			const char *p = dot;
			while (p > host && p[-1] != '.')
				p--;
			r = p;
		}
	}
	mw_strlcpy(out, r ? r : host, len);
	return out;
}

/* hexval - value of a hex digit or -1 */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ipv4_number - one part: 0x hex, 0 octal, decimal; -1 if not a number */
static int ipv4_number(const char *s, size_t n, unsigned long long *out)
{
	unsigned base = 10;
	unsigned long long v = 0;
	size_t i = 0;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	for (; i < n; i++) {
		int d = hexval((unsigned char)s[i]);
		if (d < 0 || (unsigned)d >= base)
			return -1;
		if (v <= 0xffffffffULL)
			v = v * base + (unsigned)d;
	}
	*out = v;
	return 0;
}

/* ends_in_number - the last label is decimal digits or 0x-hex: an IPv4 host by WHATWG rules */
static int ends_in_number(const char *h)
{
	const char *last = strrchr(h, '.');
	size_t i;

	last = last ? last + 1 : h;
	if (*last == 0)
		return 0;
	if (last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
		for (i = 2; last[i]; i++)
			if (hexval((unsigned char)last[i]) < 0)
				return 0;
		return 1;
	}
	for (i = 0; last[i]; i++)
		if (last[i] < '0' || last[i] > '9')
			return 0;
	return 1;
}

/* ipv4_parse - WHATWG IPv4 parser; dotted quad into out; -1 if not valid */
static int ipv4_parse(const char *h, char *out, size_t len)
{
	unsigned long long part[4], v = 0;
	size_t np = 0, i;
	const char *p = h;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (np == 4 || n == 0 || ipv4_number(p, n, &part[np]) < 0)
			return -1;
		np++;
		if (!dot)
			break;
		p = dot + 1;
	}
	for (i = 0; i + 1 < np; i++) {
		if (part[i] > 255)
			return -1;
		v |= part[i] << (8 * (3 - i));
	}
	if (part[np - 1] >= (1ULL << (8 * (5 - np))))
		return -1;
	v += part[np - 1];
	snprintf(out, len, "%llu.%llu.%llu.%llu", (v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255);
	return 0;
}

/* pct_decode - percent-decode n bytes into out (cap bytes); returns length or -1 if too long */
static long pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
		    hexval((unsigned char)s[i + 2]) >= 0) {
			c = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[o] = 0;
	return (long)o;
}

/* set_host_idn - host with non-ASCII bytes to A-labels */
static void set_host_idn(link_parts *p, const char *h)
{
	uint8_t *a = NULL;
	int rc = idn2_lookup_u8((const uint8_t *)h, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);

	if (rc != IDN2_OK)
		rc = idn2_lookup_u8((const uint8_t *)h, &a, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	p->flags |= LINK_F_IDN;
	if (rc == IDN2_OK && strlen((char *)a) <= LINK_MAX_HOST) {
		mw_strlcpy(p->host, (char *)a, sizeof(p->host));
	} else {
		p->flags |= LINK_F_BADHOST;
		mw_strlcpy(p->host, h, sizeof(p->host));
	}
	idn2_free(a);
}

/* set_host_u - the U-label form of p->host for people and confusable checks */
static void set_host_u(link_parts *p)
{
	char *u = NULL;

	mw_strlcpy(p->host_u, p->host, sizeof(p->host_u));
	if (strstr(p->host, "xn--") == NULL)
		return;
	p->flags |= LINK_F_IDN;
	if (idn2_to_unicode_8z8z(p->host, &u, 0) == IDN2_OK)
		mw_strlcpy(p->host_u, u, sizeof(p->host_u));
	else
		p->flags |= LINK_F_BADHOST;
	idn2_free(u);
}

/* set_host - normalise host bytes [h, h+n) into p */
static void set_host(link_parts *p, const char *h, size_t n)
{
	char dec[4 * LINK_MAX_HOST + 1], ip[INET6_ADDRSTRLEN + 2];
	struct in6_addr a6;
	long len;
	size_t i;
	int ascii = 1;

	if (n > 0 && h[0] == '[') {
		size_t m = n > 1 && h[n - 1] == ']' ? n - 2 : n - 1;
		mw_strlcpy(dec, "", sizeof(dec));
		if (m < sizeof(dec)) {
			memcpy(dec, h + 1, m);
			dec[m] = 0;
		}
		p->flags |= LINK_F_IP | LINK_F_IPV6;
		if (inet_pton(AF_INET6, mw_lower(dec), &a6) == 1 &&
		    inet_ntop(AF_INET6, &a6, ip + 1, INET6_ADDRSTRLEN)) {
			ip[0] = '[';
			strcat(ip, "]");
			mw_strlcpy(p->host, ip, sizeof(p->host));
		} else {
			p->flags |= LINK_F_BADHOST;
			snprintf(p->host, sizeof(p->host), "[%.200s]", dec);
		}
		return;
	}
	len = pct_decode(h, n, dec, sizeof(dec));
	if (len < 0) {
		p->flags |= LINK_F_BADHOST;
		len = 0;
		dec[0] = 0;
	}
	while (len > 0 && dec[len - 1] == '.')
		dec[--len] = 0;
	if (len == 0) {
		p->flags |= LINK_F_BADHOST | LINK_F_NOHOST;
		return;
	}
	for (i = 0; i < (size_t)len; i++)
		if ((unsigned char)dec[i] >= 0x80)
			ascii = 0;
	if (!ascii)
		set_host_idn(p, dec);
	else if (mw_strlcpy(p->host, dec, sizeof(p->host)) >= sizeof(p->host))
		p->flags |= LINK_F_BADHOST;
	if (!ascii && (p->flags & LINK_F_BADHOST))
		return;
	if (ends_in_number(p->host)) {
		p->flags |= LINK_F_IP;
		if (ipv4_parse(p->host, ip, sizeof(ip)) < 0) {
			p->flags |= LINK_F_BADHOST;
			return;
		}
		if (strcmp(ip, p->host) != 0)
			p->flags |= LINK_F_IPODD;
		mw_strlcpy(p->host, ip, sizeof(p->host));
		return;
	}
	for (i = 0; p->host[i]; i++) {
		unsigned char c = (unsigned char)p->host[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			p->flags |= LINK_F_BADHOST;
	}
}

/* put_rest - append path, query and fragment, back-slashes in the path as slashes, controls escaped */
static void put_rest(mw_buf *b, const char *s, size_t n)
{
	size_t i;
	int path = 1;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '?' || c == '#')
			path = 0;
		if (c == '\\' && path)
			c = '/';
		if (c <= ' ' || c == 0x7f)
			buf_printf(b, "%%%02X", c);
		else
			buf_putc(b, c);
	}
}

/* clean - drop tab/newline anywhere and controls/space at both ends; returns length */
static size_t clean(const char *raw, size_t n, char *out, unsigned *flags)
{
	size_t i, o = 0;

	if (n > LINK_MAX_URL) {
		n = LINK_MAX_URL;
		*flags |= LINK_F_CUT;
	}
	while (n > 0 && (unsigned char)*raw <= ' ') {
		raw++;
		n--;
	}
	while (n > 0 && (unsigned char)raw[n - 1] <= ' ')
		n--;
	for (i = 0; i < n; i++)
		if (raw[i] != '\t' && raw[i] != '\n' && raw[i] != '\r')
			out[o++] = raw[i];
	out[o] = 0;
	return o;
}

/* relative - resolve a relative reference against base */
static int relative(const char *s, size_t n, const char *base, link_parts *p)
{
	link_parts *b = x_malloc(sizeof(*b));
	mw_buf u;
	int rc = -1;

	if (link_parse(base, strlen(base), NULL, 0, b) == 0 && !(b->flags & LINK_F_NOHOST)) {
		unsigned flags = p->flags;
		*p = *b;
		p->flags = (b->flags & ~LINK_F_CUT) | flags;
		buf_init(&u, LINK_MAX_URL);
		/* the base's origin and directory, then the reference */
		{
			const char *slash = strrchr(b->url, '/');
			const char *origin_end = strstr(b->url, "://");
			origin_end = origin_end ? strchr(origin_end + 3, '/') : NULL;
			if (s[0] == '/' || origin_end == NULL || slash < origin_end) {
				buf_append(&u, b->url, origin_end ? (size_t)(origin_end - b->url) : strlen(b->url));
				if (s[0] != '/')
					buf_putc(&u, '/');
			} else {
				buf_append(&u, b->url, (size_t)(slash - b->url) + 1);
			}
		}
		put_rest(&u, s, n);
		mw_strlcpy(p->url, u.p, sizeof(p->url));
		buf_free(&u);
		rc = 0;
	}
	x_free(b);
	return rc;
}

/* finish_host - host_u, domain and the URL "scheme://host" + rest */
static void finish_host(link_parts *p, const char *pb, size_t pn, const char *defport, const char *rest, size_t rn)
{
	mw_buf u;

	set_host_u(p);
	if (p->flags & LINK_F_IP)
		mw_strlcpy(p->domain, p->host, sizeof(p->domain));
	else
		link_registrable(p->host, p->domain, sizeof(p->domain));
	buf_init(&u, LINK_MAX_URL);
	buf_printf(&u, "%s://%s", p->scheme, p->host);
	while (pn > 1 && pb[0] == '0') {
		pb++;
		pn--;
	}
	if (pn > 0 && !(defport && strlen(defport) == pn && memcmp(defport, pb, pn) == 0)) {
		buf_putc(&u, ':');
		buf_append(&u, pb, pn);
	}
	put_rest(&u, rest, rn);
	if (rn == 0)
		buf_putc(&u, '/');
	mw_strlcpy(p->url, u.p, sizeof(p->url));
	buf_free(&u);
}

/* local_file - a file on the reader's own disk: kept whole, no host */
static int local_file(link_parts *p, const char *s, size_t n)
{
	mw_buf u;

	mw_strlcpy(p->scheme, "file", sizeof(p->scheme));
	p->flags |= LINK_F_LOCAL | LINK_F_NOHOST;
	p->host[0] = p->host_u[0] = p->domain[0] = 0;
	buf_init(&u, LINK_MAX_URL);
	buf_puts(&u, "file:///");
	while (n > 0 && (*s == '/' || *s == '\\')) {
		s++;
		n--;
	}
	put_rest(&u, s, n);
	mw_strlcpy(p->url, u.p, sizeof(p->url));
	buf_free(&u);
	return 0;
}

/*
 * share_path - a path on a network share, s just after the leading
 * separators: "host\share\x", "host@SSL@443\DavWWWRoot\x",
 * "?\UNC\host\share".  Local forms ("?\C:\", "localhost\c$") are
 * local files.
 */
static int share_path(link_parts *p, const char *s, size_t n)
{
	size_t he = 0, hn;
	const char *at;

	if (n >= 2 && (s[0] == '?' || s[0] == '.') && (s[1] == '\\' || s[1] == '/')) {
		if (n >= 6 && strncasecmp(s + 2, "UNC", 3) == 0 && (s[5] == '\\' || s[5] == '/')) {
			s += 6;
			n -= 6;
		} else {
			return local_file(p, s + 2, n - 2); /* device path: \\?\C:\... */
		}
	}
	while (he < n && s[he] != '\\' && s[he] != '/' && s[he] != '?' && s[he] != '#')
		he++;
	hn = he;
	if ((at = memchr(s, '@', he)) != NULL) {
		/* WebDAV through the WebClient service: host@SSL, host@SSL@port, host@port */
		p->flags |= LINK_F_WEBDAV;
		hn = (size_t)(at - s);
	}
	if (hn == 0 || (hn == 9 && strncasecmp(s, "localhost", 9) == 0) || (hn == 2 && s[1] == ':') ||
	    (hn == 1 && (s[0] == '.' || s[0] == '?')))
		return local_file(p, s + (hn == 2 ? 0 : he), n - (hn == 2 ? 0 : he));
	mw_strlcpy(p->scheme, "file", sizeof(p->scheme));
	p->flags |= LINK_F_SHARE;
	set_host(p, s, hn);
	if (p->flags & LINK_F_NOHOST) {
		p->flags &= ~(unsigned)LINK_F_SHARE;
		return local_file(p, s + he, n - he);
	}
	finish_host(p, NULL, 0, NULL, s + he, n - he);
	return 0;
}

/* file_url - "file:" + s[a..m): a share when a host follows, else a local file */
static int file_url(link_parts *p, const char *s, size_t a, size_t m)
{
	size_t r = a;

	while (r < m && (s[r] == '/' || s[r] == '\\'))
		r++;
	/* file://host/x, file:////host/x, file:///\\host\x: a host; file:///C:/x, file:/x: local */
	if (r - a == 2 || r - a >= 4 || (r - a >= 2 && memmem(s + a, r - a, "\\\\", 2)))
		return share_path(p, s + r, m - r);
	return local_file(p, s + r, m - r);
}

/* link_parse - see links.h */
int link_parse(const char *raw, size_t n, const char *base, int bare, link_parts *p)
{
	char s[LINK_MAX_URL + 1];
	size_t m, j = 0, a, ae, hb, he, i, pb = 0, pe = 0;
	const char *defport = NULL;
	unsigned flags = 0;

	memset(p, 0, offsetof(link_parts, url));
	p->url[0] = 0;
	m = clean(raw, n, s, &flags);
	p->flags = flags;
	if (m == 0 || s[0] == '#')
		return -1;
	if (!bare && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
		while (j < m && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
		                 (s[j] >= '0' && s[j] <= '9') || s[j] == '+' || s[j] == '-' || s[j] == '.'))
			j++;
		if (j >= m || s[j] != ':' || j > LINK_MAX_SCHEME)
			j = 0;
	}
	if (j == 0 && !bare && m >= 2 && s[0] == '\\' && s[1] == '\\')
		return share_path(p, s + 2, m - 2); /* a UNC path, as a mail client opens it */
	if (j > 0) {
		const link_scheme_info *si;

		memcpy(p->scheme, s, j);
		p->scheme[j] = 0;
		mw_lower(p->scheme);
		si = link_scheme(p->scheme);
		switch (si->does) {
		case LINK_DOES_CONTACT:
		case LINK_DOES_INTERNAL: return -1;
		case LINK_DOES_FILE: return file_url(p, s, j + 1, m);
		case LINK_DOES_SHARE: p->flags |= LINK_F_SHARE; break;
		case LINK_DOES_BROWSE:
			for (i = 0; i < MW_ARRAY_LEN(default_ports); i++)
				if (strcmp(default_ports[i].name, p->scheme) == 0)
					defport = default_ports[i].port;
			break;
		case LINK_DOES_SCRIPT:
		case LINK_DOES_LAUNCH:
		case LINK_DOES_OFFICE:
		case LINK_DOES_APP:
			p->flags |= si->does == LINK_DOES_SCRIPT   ? LINK_F_SCRIPT
			            : si->does == LINK_DOES_LAUNCH ? LINK_F_LAUNCH
			            : si->does == LINK_DOES_OFFICE ? LINK_F_OFFICE
			                                           : LINK_F_APP;
			if (si->does != LINK_DOES_SCRIPT && j + 2 < m && s[j + 1] == '/' && s[j + 2] == '/')
				break; /* ldap://host, zoommtg://host: the host is judged too */
			p->flags |= LINK_F_NOHOST;
			snprintf(p->url, sizeof(p->url), "%s:%s", p->scheme, s + j + 1);
			return 0;
		}
		a = j + 1;
	} else if (bare) {
		mw_strlcpy(p->scheme, "http", sizeof(p->scheme));
		defport = "80";
		p->flags |= LINK_F_BARE;
		a = 0;
	} else if (m >= 2 && (s[0] == '/' || s[0] == '\\') && (s[1] == '/' || s[1] == '\\')) {
		mw_strlcpy(p->scheme, base && strncasecmp(base, "http:", 5) == 0 ? "http" : "https", sizeof(p->scheme));
		defport = strcmp(p->scheme, "http") == 0 ? "80" : "443";
		a = 0;
	} else {
		return base ? relative(s, m, base, p) : -1;
	}
	while (a < m && (s[a] == '/' || s[a] == '\\'))
		a++;
	for (ae = a; ae < m && s[ae] != '/' && s[ae] != '\\' && s[ae] != '?' && s[ae] != '#'; ae++)
		;
	hb = a;
	for (i = ae; i > a; i--)
		if (s[i - 1] == '@') {
			size_t ul = i - 1 - a < LINK_MAX_HOST ? i - 1 - a : LINK_MAX_HOST;
			memcpy(p->userinfo, s + a, ul);
			p->userinfo[ul] = 0;
			p->flags |= LINK_F_USERINFO;
			hb = i;
			break;
		}
	he = ae;
	if (hb < ae && s[hb] == '[') {
		const char *close = memchr(s + hb, ']', ae - hb);
		if (close) {
			he = (size_t)(close - s) + 1;
			if (he < ae && s[he] == ':') {
				pb = he + 1;
				pe = ae;
			}
		}
	} else {
		for (i = ae; i > hb; i--)
			if (s[i - 1] == ':') {
				he = i - 1;
				pb = i;
				pe = ae;
				break;
			}
	}
	for (i = pb; i < pe; i++)
		if (s[i] < '0' || s[i] > '9')
			p->flags |= LINK_F_BADHOST;
	set_host(p, s + hb, he - hb);
	if (p->flags & LINK_F_NOHOST) {
		snprintf(p->url, sizeof(p->url), "%s://%s", p->scheme, s + ae);
		return 0;
	}
	finish_host(p, s + pb, pe - pb, defport, s + ae, m - ae);
	return 0;
}
