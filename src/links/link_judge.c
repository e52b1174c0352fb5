/*
 * NAME
 *	link_judge.c - classify links: lists, IP literals, scripts,
 *	lookalikes of our own and partner domains, text mismatch
 * SYNOPSIS
 *	#include "links/links.h"
 *
 *	links_classify(ls, &judge);
 *	link_lookalike("examp1e.com", "example.com", why, sizeof(why));
 * DESCRIPTION
 *	Every class is a fact about one link; the policy maps the reason
 *	codes to actions.
 *
 *	Lists ("link_block", "storage", "shortener") match the host and
 *	every parent domain, so an entry catches all its sub-domains; an
 *	entry "host/segment" also needs that first path segment.  Storage
 *	and shortener links count only when clicked (not for images and
 *	style sheets), storage only in mail from outside.
 *
 *	A lookalike imitates a target: a protected domain ([domains]
 *	protected) or a partner (list "partner"), compared by registrable
 *	domain.  Both sides are reduced to a skeleton: U-labels, accents
 *	dropped, Cyrillic and Greek letters that look Latin mapped to them,
 *	0->o, 1->l, rn->m, vv->w.  The host imitates the target when the
 *	skeletons are equal, when the first labels are equal under another
 *	suffix, when they are one edit apart (insert, delete, substitute,
 *	swap; labels of 4 characters or more), or when the target appears
 *	as sub-domain labels of another domain ("example.com.evil.test").
 *	A label mixing Latin, Cyrillic or Greek letters is a lookalike
 *	whatever it imitates.
 *
 *	Text mismatch: the visible text of an <a> contains a URL or host
 *	name whose registrable domain differs from the link's.
 * LIMITS
 *	At most JUDGE_MAX_TARGETS protected and partner domains are
 *	compared.  Notes are cut to JUDGE_NOTE_MAX bytes.
 * DIAGNOSTICS
 *	None: a host that cannot be converted (bad punycode) is compared as
 *	it is written.
 * SEE ALSO
 *	Unicode TR #39 (confusables, mixed scripts).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"
#include "util/util.h"

#include <idn2.h>
#include <stdio.h>
#include <string.h>

#define JUDGE_MAX_TARGETS 256
#define JUDGE_NOTE_MAX    400
#define SKEL_MAX          (4 * LINK_MAX_HOST + 1)

static const struct {
	unsigned bit;
	const char *code;
	const char *name;
} class_table[LINK_C_COUNT] = {
    {LINK_C_BLOCKED, "link.blocked_domain", "blocked"}, {LINK_C_STORAGE, "link.storage", "storage"},
    {LINK_C_SHORTENER, "link.shortener", "shortener"},  {LINK_C_IP, "link.ip_literal", "ip_literal"},
    {LINK_C_LOOKALIKE, "link.lookalike", "lookalike"},  {LINK_C_MISMATCH, "link.text_mismatch", "text_mismatch"},
    {LINK_C_SCRIPT, "link.script", "script"},
};

/* link_class_code - reason code of one class bit, NULL if none */
const char *link_class_code(unsigned bit)
{
	size_t i;

	for (i = 0; i < LINK_C_COUNT; i++)
		if (class_table[i].bit == bit)
			return class_table[i].code;
	return NULL;
}

/* link_class_name - short name of one class bit, NULL if none */
const char *link_class_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < LINK_C_COUNT; i++)
		if (class_table[i].bit == bit)
			return class_table[i].name;
	return NULL;
}

/* Latin-1 Supplement and Latin Extended-A letters U+00E0..U+017F to their base letter. */
static const char latin_base[] = "aaaaaa?ceeeeiiiidnooooo?ouuuuypy"
                                 "aaaaaaccccccccddddeeeeeeeeeegggg"
                                 "gggghhhhiiiiiiiiii??jjkkklllllll"
                                 "lllnnnnnn?nnoooooo??rrrrrrssssss"
                                 "ssttttttuuuuuuuuuuuuwwyyyzzzzzzf";

/* Cyrillic and Greek letters that look like Latin ones (lower case; UTS #39 confusables). */
static const struct {
	unsigned cp;
	char latin;
} look_latin[] = {
    {0x0430, 'a'}, {0x0435, 'e'}, {0x043e, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0443, 'y'}, {0x0445, 'x'},
    {0x0456, 'i'}, {0x0458, 'j'}, {0x0455, 's'}, {0x04bb, 'h'}, {0x0501, 'd'}, {0x051b, 'q'}, {0x051d, 'w'},
    {0x04cf, 'l'}, {0x0432, 'b'}, {0x043a, 'k'}, {0x043c, 'm'}, {0x043d, 'h'}, {0x0442, 't'}, {0x044c, 'b'},
    {0x0491, 'r'}, {0x0457, 'i'}, {0x0475, 'v'}, {0x03bf, 'o'}, {0x03b1, 'a'}, {0x03bd, 'v'}, {0x03c1, 'p'},
    {0x03b9, 'i'}, {0x03ba, 'k'}, {0x03c5, 'u'}, {0x03c7, 'x'}, {0x03f2, 'c'}, {0x03b5, 'e'}, {0x03c4, 't'},
    {0x03b2, 'b'}, {0x03b3, 'y'}, {0x03c9, 'w'},
};

/* utf8_next - decode one code point at s (never past NUL); *cp = 0xfffd on bad bytes */
static size_t utf8_next(const unsigned char *s, unsigned *cp)
{
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;
	*cp = n == 4 ? s[0] & 7u : n == 3 ? s[0] & 15u : s[0] & 31u;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return i;
		}
		*cp = (*cp << 6) | (s[i] & 0x3fu);
	}
	if (n == 1)
		*cp = 0xfffd;
	return n;
}

typedef enum { SC_NONE = 0, SC_LATIN = 1, SC_CYRILLIC = 2, SC_GREEK = 4 } script_bit;

/* script_of - Latin, Cyrillic or Greek letter (SC_ bit), else SC_NONE */
static unsigned script_of(unsigned cp)
{
	if ((cp >= 'a' && cp <= 'z') || (cp >= 0xe0 && cp < 0x250))
		return SC_LATIN;
	if (cp >= 0x400 && cp < 0x530)
		return SC_CYRILLIC;
	if (cp >= 0x370 && cp < 0x400)
		return SC_GREEK;
	return SC_NONE;
}

/* link_mixed_script - a label with letters of two of Latin, Cyrillic, Greek */
int link_mixed_script(const char *host_u)
{
	const unsigned char *s = (const unsigned char *)host_u;
	unsigned seen = 0, cp;

	while (*s) {
		s += utf8_next(s, &cp);
		if (cp == '.') {
			seen = 0;
			continue;
		}
		seen |= script_of(cp);
		if (seen != 0 && (seen & (seen - 1)) != 0)
			return 1;
	}
	return 0;
}

/* skeleton - what a person sees, reduced: see DESCRIPTION */
static void skeleton(const char *u8, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)u8;
	size_t o = 0, i, r;
	unsigned cp;
	char c;

	while (*s && o + 5 < outlen) {
		const unsigned char *start = s;
		s += utf8_next(s, &cp);
		c = 0;
		if (cp < 0x80) {
			c = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
			c = c == '0' ? 'o' : c == '1' ? 'l' : c;
		} else if (cp >= 0xe0 && cp < 0x180 && latin_base[cp - 0xe0] != '?') {
			c = latin_base[cp - 0xe0];
		} else {
			for (i = 0; i < MW_ARRAY_LEN(look_latin); i++)
				if (look_latin[i].cp == cp)
					c = look_latin[i].latin;
		}
		if (c) {
			out[o++] = c;
		} else {
			memcpy(out + o, start, (size_t)(s - start));
			o += (size_t)(s - start);
		}
	}
	out[o] = 0;
	/* rn -> m, vv -> w, in place */
	for (i = 0, r = 0; out[r]; i++, r++) {
		if ((out[r] == 'r' && out[r + 1] == 'n') || (out[r] == 'v' && out[r + 1] == 'v')) {
			out[i] = out[r] == 'r' ? 'm' : 'w';
			r++;
		} else {
			out[i] = out[r];
		}
	}
	out[i] = 0;
}

/* one_edit - Damerau-Levenshtein distance of a and b is exactly 1 */
static int one_edit(const char *a, size_t la, const char *b, size_t lb)
{
	size_t i = 0;

	if (la < lb) {
		const char *t = a;
		size_t tl = la;
		a = b;
		la = lb;
		b = t;
		lb = tl;
	}
	if (la - lb > 1)
		return 0;
	while (i < lb && a[i] == b[i])
		i++;
	if (la == lb) {
		if (i == la)
			return 0;
		if (memcmp(a + i + 1, b + i + 1, la - i - 1) == 0)
			return 1;
		return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		       memcmp(a + i + 2, b + i + 2, la - i - 2) == 0;
	}
	return memcmp(a + i + 1, b + i, lb - i) == 0;
}

/* to_unicode - U-labels of an A-label domain (or the domain as is) */
static void to_unicode(const char *a, char *out, size_t len)
{
	char *u = NULL;

	if (strstr(a, "xn--") && idn2_to_unicode_8z8z(a, &u, 0) == IDN2_OK)
		mw_strlcpy(out, u, len);
	else
		mw_strlcpy(out, a, len);
	idn2_free(u);
}

/* One domain that must not be imitated. */
typedef struct target {
	char dom[LINK_MAX_HOST + 1]; /* registrable, A-labels */
	char skel[SKEL_MAX];
	size_t label; /* length of the skeleton's first label */
} target;

/* target_set - registrable domain, skeleton and label length of a target */
static void target_set(target *t, const char *domain)
{
	char u[SKEL_MAX];
	const char *dot;

	link_registrable(domain, t->dom, sizeof(t->dom));
	to_unicode(t->dom, u, sizeof(u));
	skeleton(u, t->skel, sizeof(t->skel));
	dot = strchr(t->skel, '.');
	t->label = dot ? (size_t)(dot - t->skel) : strlen(t->skel);
}

/* imitates - 1 if host (registrable dom, skeleton sk) imitates t */
static int imitates(const char *host, const char *dom, const char *sk, const target *t, char *why, size_t len)
{
	const char *dot = strchr(sk, '.'), *p;
	size_t lab = dot ? (size_t)(dot - sk) : strlen(sk), tl = strlen(t->dom), hl = strlen(host);

	if (strcmp(dom, t->dom) == 0)
		return 0;
	if (strcmp(sk, t->skel) == 0) {
		snprintf(why, len, "looks like %s (confusable characters)", t->dom);
		return 1;
	}
	if (lab == t->label && memcmp(sk, t->skel, lab) == 0 && lab >= 3) {
		snprintf(why, len, "the name of %s under another suffix", t->dom);
		return 1;
	}
	if (t->label >= 4 && one_edit(sk, lab, t->skel, t->label)) {
		snprintf(why, len, "one edit away from %s", t->dom);
		return 1;
	}
	/* the target as labels in front of another domain: example.com.evil.test, example-com.evil.test */
	for (p = host; tl > 0 && (p = strstr(p, t->dom)) != NULL; p++) {
		if ((p == host || p[-1] == '.' || p[-1] == '-') && (p[tl] == '.' || p[tl] == '-') &&
		    (size_t)(p - host) + tl < hl - strlen(dom)) {
			snprintf(why, len, "names %s in front of %s", t->dom, dom);
			return 1;
		}
	}
	return 0;
}

/* link_lookalike - see links.h */
int link_lookalike(const char *host, const char *target_dom, char *why, size_t len)
{
	target *t = x_malloc(sizeof(*t));
	char dom[LINK_MAX_HOST + 1], u[SKEL_MAX], sk[SKEL_MAX];
	int r = 0;

	target_set(t, target_dom);
	link_registrable(host, dom, sizeof(dom));
	to_unicode(dom, u, sizeof(u));
	skeleton(u, sk, sizeof(sk));
	if (why && len)
		why[0] = 0;
	r = imitates(host, dom, sk, t, why ? why : u, why ? len : 0);
	x_free(t);
	return r;
}

/* list_match - entry of list matching the link's host, or host/first-segment */
static const char *list_match(const mw_lists *l, const char *name, const link_url *u)
{
	const char *e, *path, *seg_end;
	char key[LINK_MAX_HOST + 130];
	size_t seglen;

	if (l == NULL || u->host[0] == 0)
		return NULL;
	if ((e = lists_match_domain(l, name, u->host)) != NULL)
		return e;
	path = strstr(u->url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	if (path == NULL)
		return NULL;
	path++;
	seg_end = path + strcspn(path, "/?#");
	seglen = (size_t)(seg_end - path);
	if (seglen == 0 || seglen > 120 || memchr(path, '.', seglen))
		return NULL;
	snprintf(key, sizeof(key), "%s/%.*s", u->host, (int)seglen, path);
	return lists_match_domain(l, name, mw_lower(key));
}

typedef struct judge_ctx {
	const link_judge *j;
	target *t;
	size_t nt;
} judge_ctx;

/* targets - protected domains and partners */
static void targets(judge_ctx *c)
{
	const link_judge *j = c->j;
	size_t i, n;

	n = (j->cfg ? j->cfg->protected_domains.n : 0) + (j->lists ? lists_count(j->lists, "partner") : 0);
	c->t = x_calloc(n < JUDGE_MAX_TARGETS ? n + 1 : JUDGE_MAX_TARGETS, sizeof(*c->t));
	if (j->cfg)
		for (i = 0; i < j->cfg->protected_domains.n && c->nt < JUDGE_MAX_TARGETS; i++)
			target_set(&c->t[c->nt++], j->cfg->protected_domains.v[i]);
	n = j->lists ? lists_count(j->lists, "partner") : 0;
	for (i = 0; i < n && c->nt < JUDGE_MAX_TARGETS; i++) {
		const char *e = lists_entry(j->lists, "partner", i);
		if (strchr(e, '/') == NULL)
			target_set(&c->t[c->nt++], e);
	}
}

/* note - append "name: what" to the link's note */
static void note(mw_buf *b, const char *name, const char *fmt, const char *arg)
{
	if (b->len)
		buf_puts(b, "; ");
	buf_printf(b, "%s: ", name);
	buf_printf(b, fmt, arg);
}

/* mismatch - the anchor text names another registrable domain; its domain in out */
static int mismatch(const link_url *u, link_parts *tp, char *out, size_t len)
{
	size_t off, n;
	int bare;

	if (u->text[0] == 0 || u->src != LINK_FROM_HREF || u->domain[0] == 0)
		return 0;
	if (link_text_first(u->text, strlen(u->text), &off, &n, &bare) < 0)
		return 0;
	if (link_parse(u->text + off, n, NULL, bare, tp) < 0 || (tp->flags & LINK_F_NOHOST) || tp->domain[0] == 0)
		return 0;
	if (strcmp(tp->domain, u->domain) == 0)
		return 0;
	mw_strlcpy(out, tp->domain, len);
	return 1;
}

/* classify_one - classes and note of one link */
static void classify_one(judge_ctx *c, link_url *u, link_parts *tp, mw_buf *nb)
{
	const link_judge *j = c->j;
	const char *e;
	char why[300], dom[LINK_MAX_HOST + 1];
	size_t i;

	buf_reset(nb);
	u->classes = 0;
	if (u->flags & LINK_F_SCRIPT) {
		int image = strncmp(u->url, "data:image/", 11) == 0 && strncmp(u->url, "data:image/svg", 14) != 0;
		if (!(image && (u->flags & LINK_F_LOADED))) {
			u->classes |= LINK_C_SCRIPT;
			note(nb, "script", "%s: URL", u->scheme);
		}
	}
	if (u->flags & LINK_F_NOHOST)
		goto out;
	if ((e = list_match(j->lists, "link_block", u)) != NULL) {
		u->classes |= LINK_C_BLOCKED;
		note(nb, "blocked", "%s is on the block list", e);
	}
	if (!(u->flags & LINK_F_LOADED)) {
		if (j->external && (e = list_match(j->lists, "storage", u)) != NULL) {
			u->classes |= LINK_C_STORAGE;
			note(nb, "storage", "%s", e);
		}
		if ((e = list_match(j->lists, "shortener", u)) != NULL) {
			u->classes |= LINK_C_SHORTENER;
			note(nb, "shortener", "%s", e);
		}
	}
	if (u->flags & LINK_F_IP) {
		u->classes |= LINK_C_IP;
		note(nb, "ip_literal", (u->flags & LINK_F_IPODD) ? "%s, written in another form" : "%s", u->host);
	}
	if (!(j->cfg && config_is_protected(j->cfg, u->host)) &&
	    !(j->lists && lists_match_domain(j->lists, "partner", u->host))) {
		char uh[SKEL_MAX], sk[SKEL_MAX];

		to_unicode(u->domain, uh, sizeof(uh));
		skeleton(uh, sk, sizeof(sk));
		if (!(u->flags & LINK_F_USERINFO) ||
		    link_parse(u->raw, strlen(u->raw), NULL, u->flags & LINK_F_BARE, tp) < 0)
			tp->userinfo[0] = 0;
		mw_lower(tp->userinfo);
		for (i = 0; i < c->nt; i++) {
			if (imitates(u->host, u->domain, sk, &c->t[i], why, sizeof(why)) ||
			    (tp->userinfo[0] && strstr(tp->userinfo, c->t[i].dom) &&
			     snprintf(why, sizeof(why), "user name before '@' shows %s", c->t[i].dom) > 0)) {
				u->classes |= LINK_C_LOOKALIKE;
				note(nb, "lookalike", "%s", why);
				break;
			}
		}
		if (!(u->classes & LINK_C_LOOKALIKE) && link_mixed_script(u->host_u)) {
			u->classes |= LINK_C_LOOKALIKE;
			note(nb, "lookalike", "%s mixes scripts", u->host_u);
		}
	}
	if (mismatch(u, tp, dom, sizeof(dom))) {
		u->classes |= LINK_C_MISMATCH;
		buf_printf(nb, "%stext_mismatch: text shows %s, link goes to %s", nb->len ? "; " : "", dom, u->domain);
	}
out:
	return;
}

/* link_judge_all - classify n links; set_note stores each note */
void link_judge_all(const link_judge *j, link_url *v, size_t n, void (*set_note)(void *, link_url *, const char *),
                    void *arg)
{
	judge_ctx c = {j, NULL, 0};
	link_parts *tp;
	mw_buf nb;
	size_t i;

	if (n == 0)
		return;
	tp = x_malloc(sizeof(*tp));

	buf_init(&nb, JUDGE_NOTE_MAX);
	targets(&c);
	for (i = 0; i < n; i++) {
		classify_one(&c, &v[i], tp, &nb);
		set_note(arg, &v[i], nb.p ? nb.p : "");
	}
	buf_free(&nb);
	x_free(c.t);
	x_free(tp);
}
