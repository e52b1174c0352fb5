/*
 * NAME
 *	link_look.c - lookalike domains: what imitates one of our own or a
 *	partner's domains, by characters and by words
 * SYNOPSIS
 *	#include "links/link_int.h"
 *
 *	link_targets *ts = link_targets_new(cfg, lists);
 *	r = link_look(ts, host, host_u, domain, why, sizeof(why));
 *	link_targets_free(ts);
 *
 *	links_lookalike(cfg, lists, "nenkin-example.example", why, len);
 * DESCRIPTION
 *	A target is a registrable domain that must not be imitated: a
 *	protected domain ([domains] protected) or a partner (list
 *	"partner").  Both sides are reduced to a skeleton, what a person
 *	sees: U-labels, accents dropped, Cyrillic and Greek letters that
 *	look Latin mapped to them, 0->o, 1->l, and (folded) rn->m, vv->w;
 *	one-edit comparisons also use the unfolded form, so "parnter" is
 *	one swap from "partner" even though its "rn" folds.
 *
 *	Strong signs, tried for every target first (the best attribution
 *	when two targets share a word):
 *	  - the same skeleton (confusable characters, punycode);
 *	  - the target's name under another suffix (nenkin.com);
 *	  - one edit from the name (nenkln.example, nenkni.example);
 *	  - the target spelt out inside another domain, with dots or
 *	    hyphens (nenkin.example.evil.example, nenkin-example.example,
 *	    nenkin.example-secure.com), or its words in another order
 *	    (example-nenkin.example).
 *	Word signs, for names of four characters or more, in the host
 *	without its public suffix, one label at a time:
 *	  - the name as words of a longer label (login-nenkin.example,
 *	    nenkin-support.evil.example);
 *	  - the name glued to a decoy word or to the target's own suffix
 *	    (mynenkin.example, nenkinlogin.com, nenkinexample.example);
 *	  - a word one edit from a name of six or more characters inside a
 *	    longer label (nenkim-login.example).
 *	A label that is exactly the name, under another registrable domain,
 *	is how services name their tenants (nenkin.cybozu.com,
 *	nenkin.sharepoint.com) and is left alone; so are proxies that spell
 *	a host in their first label (cdn.ampproject.org, translate.goog),
 *	whose target is unwrapped and judged as a link of its own.
 *
 *	A label mixing Latin, Cyrillic or Greek letters is suspect whatever
 *	it imitates (link_mixed_script).
 * LIMITS
 *	LOOK_MAX_TARGETS targets; MAX_WORDS words of a host.
 * SEE ALSO
 *	Unicode TR #39 (confusables, mixed scripts); link_judge.c;
 *	tests/unit/links_test.c (test_lookalike_generated builds the
 *	variants an attacker would register and checks each one).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"
#include "util/util.h"

#include <idn2.h>
#include <stdio.h>
#include <string.h>

#define LOOK_MAX_TARGETS 256
#define SKEL_MAX         (4 * LINK_MAX_HOST + 1)
#define MAX_WORDS        64
#define NAME_WORDS       16

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
    {0x0491, 'r'}, {0x0457, 'i'}, {0x0475, 'v'}, {0x043f, 'n'}, {0x0433, 'r'}, {0x0261, 'g'}, {0x03bf, 'o'},
    {0x03b1, 'a'}, {0x03bd, 'v'}, {0x03c1, 'p'}, {0x03b9, 'i'}, {0x03ba, 'k'}, {0x03c5, 'u'}, {0x03c7, 'x'},
    {0x03f2, 'c'}, {0x03b5, 'e'}, {0x03c4, 't'}, {0x03b2, 'b'}, {0x03b3, 'y'}, {0x03c9, 'w'}, {0x03b7, 'n'},
};

/* Words an imitation glues to the name: mynenkin, nenkinlogin, secure-nenkin. */
static const char *const decoys[] = {
    "login",    "signin",  "secure", "security", "verify",   "account", "accounts", "support", "portal",  "online",
    "mail",     "webmail", "web",    "www",      "my",       "id",      "auth",     "sso",     "update",  "service",
    "services", "info",    "help",   "office",   "official", "app",     "net",      "com",     "jp",      "co",
    "go",       "or",      "ne",     "center",   "pay",      "bank",    "user",     "member",  "members", "mypage",
    "notice",   "system",  "admin",  "cloud",    "news",     "share",   "file",     "files",   "cs"};

/* One word of a host or target: [b, b+n) of its skeleton, in label `label` (0 = leftmost). */
typedef struct word {
	size_t b, n;
	int label;
} word;

/* One domain that must not be imitated. */
typedef struct target {
	char dom[LINK_MAX_HOST + 1]; /* registrable, A-labels */
	char skel[SKEL_MAX];         /* folded skeleton */
	char plain[SKEL_MAX];        /* skeleton without rn->m, vv->w */
	char sfxj[64];               /* the suffix without dots: "example", "cojp" */
	size_t label, plabel;        /* lengths of the first label of skel and plain */
	word nw[NAME_WORDS], sw[NAME_WORDS];
	size_t nn, ns; /* words of the name (in skel) and of the suffix (in skel) */
} target;

struct link_targets {
	target *t;
	size_t n, nprot; /* t[0..nprot) protected, the rest partners */
};

/* What is compared of one host. */
typedef struct hostview {
	const char *host, *dom;
	char sk[SKEL_MAX], plain[SKEL_MAX]; /* registrable domain, folded and not */
	char hsk[SKEL_MAX];                 /* the whole host, folded */
	size_t lab, plab;                   /* first label lengths of sk and plain */
	size_t body;                        /* bytes of hsk before its public suffix */
	word hw[MAX_WORDS];
	size_t nh;
	int proxy;
} hostview;

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

/* skeleton - what a person sees, reduced (see DESCRIPTION); fold: also rn->m, vv->w */
static void skeleton(const char *u8, char *out, size_t outlen, int fold)
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
	if (!fold)
		return;
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

/* label_len - length of the first label */
static size_t label_len(const char *s)
{
	const char *dot = strchr(s, '.');

	return dot ? (size_t)(dot - s) : strlen(s);
}

/* split - words of s[0..n) at '.', '-', '_'; returns the count */
static size_t split(const char *s, size_t n, word *w, size_t max)
{
	size_t i = 0, k = 0, b;
	int label = 0;

	while (i < n && k < max) {
		b = i;
		while (i < n && s[i] != '.' && s[i] != '-' && s[i] != '_')
			i++;
		if (i > b) {
			w[k].b = b;
			w[k].n = i - b;
			w[k].label = label;
			k++;
		}
		if (i < n && s[i] == '.')
			label++;
		i++;
	}
	return k;
}

/* target_set - registrable domain, skeletons and words of a target */
static void target_set(target *t, const char *domain)
{
	char u[SKEL_MAX];
	const char *sfx;
	size_t i, o = 0;

	link_registrable(domain, t->dom, sizeof(t->dom));
	to_unicode(t->dom, u, sizeof(u));
	skeleton(u, t->skel, sizeof(t->skel), 1);
	skeleton(u, t->plain, sizeof(t->plain), 0);
	t->label = label_len(t->skel);
	t->plabel = label_len(t->plain);
	t->nn = split(t->skel, t->label, t->nw, NAME_WORDS);
	sfx = t->skel[t->label] == '.' ? t->skel + t->label + 1 : "";
	t->ns = split(sfx, strlen(sfx), t->sw, NAME_WORDS);
	for (i = 0; i < t->ns; i++) /* suffix words are kept relative to skel */
		t->sw[i].b += (size_t)(sfx - t->skel);
	for (i = 0; sfx[i] && o + 1 < sizeof(t->sfxj); i++)
		if (sfx[i] != '.')
			t->sfxj[o++] = sfx[i];
	t->sfxj[o] = 0;
}

/* host_under - host is d or a sub-domain of it */
static int host_under(const char *host, const char *d)
{
	size_t hl = strlen(host), dl = strlen(d);

	return hl >= dl && strcmp(host + hl - dl, d) == 0 && (hl == dl || host[hl - dl - 1] == '.');
}

/* view_set - skeletons and words of a host (A-labels), its U-labels (or NULL) and registrable domain */
static void view_set(hostview *v, const char *host, const char *host_u, const char *dom)
{
	char u[SKEL_MAX];
	const char *sfx;
	size_t hl;

	v->host = host;
	v->dom = dom;
	to_unicode(dom, u, sizeof(u));
	skeleton(u, v->sk, sizeof(v->sk), 1);
	skeleton(u, v->plain, sizeof(v->plain), 0);
	v->lab = label_len(v->sk);
	v->plab = label_len(v->plain);
	if (host_u == NULL) {
		to_unicode(host, u, sizeof(u));
		host_u = u;
	}
	skeleton(host_u, v->hsk, sizeof(v->hsk), 1);
	/* drop the host's public suffix: the registrable domain's labels after the first */
	hl = strlen(v->hsk);
	v->body = hl;
	sfx = strchr(v->sk, '.');
	if (sfx && hl > strlen(sfx) && strcmp(v->hsk + hl - strlen(sfx), sfx) == 0)
		v->body = hl - strlen(sfx);
	v->nh = split(v->hsk, v->body, v->hw, MAX_WORDS);
	v->proxy = host_under(host, "cdn.ampproject.org") || host_under(host, "translate.goog");
}

/* word_is - host word w is the target word tw */
static int word_is(const hostview *v, const word *w, const target *t, const word *tw)
{
	return w->n == tw->n && memcmp(v->hsk + w->b, t->skel + tw->b, tw->n) == 0;
}

/* seq - host words from k spell the target words tw[0..n) (within the first `limit` host words) */
static int seq(const hostview *v, size_t limit, size_t k, const target *t, const word *tw, size_t n)
{
	size_t i;

	if (n == 0 || k + n > limit)
		return 0;
	for (i = 0; i < n; i++)
		if (!word_is(v, &v->hw[k + i], t, &tw[i]))
			return 0;
	return 1;
}

/* decoy - s[0..n) is a decoy word or the target's suffix without dots */
static int decoy(const char *s, size_t n, const target *t)
{
	size_t k;

	if (n == strlen(t->sfxj) && memcmp(s, t->sfxj, n) == 0)
		return 1;
	for (k = 0; k < MW_ARRAY_LEN(decoys); k++)
		if (strlen(decoys[k]) == n && memcmp(s, decoys[k], n) == 0)
			return 1;
	return 0;
}

/* glued - the name's words from host word k (label ends at last), glued to a decoy at one end */
static int glued(const hostview *v, size_t k, size_t last, const target *t)
{
	const word *f = &v->hw[k], *l, *n0 = &t->nw[0], *nz = &t->nw[t->nn - 1];
	const char *fs = v->hsk + f->b, *n0s = t->skel + n0->b, *nzs = t->skel + nz->b;
	size_t m, end = k + t->nn - 1;
	int front = 0, back = 0;

	if (end > last)
		return 0;
	for (m = 1; m + 1 < t->nn; m++)
		if (!word_is(v, &v->hw[k + m], t, &t->nw[m]))
			return 0;
	l = &v->hw[end];
	/* front: decoy + first name word; back: last name word + decoy */
	if (f->n > n0->n && memcmp(fs + f->n - n0->n, n0s, n0->n) == 0 && decoy(fs, f->n - n0->n, t))
		front = 1;
	if (l->n > nz->n && memcmp(v->hsk + l->b, nzs, nz->n) == 0 && decoy(v->hsk + l->b + nz->n, l->n - nz->n, t))
		back = 1;
	if (t->nn == 1)
		return front || back;
	return (front || word_is(v, f, t, n0)) && (back || word_is(v, l, t, nz)) && (front || back);
}

/* strong - the signs tried for every target first; why says how */
static int strong(const hostview *v, const target *t, char *why, size_t len)
{
	const char *p;
	size_t i, tl = strlen(t->dom), hl = strlen(v->host);

	if (strcmp(v->dom, t->dom) == 0)
		return 0;
	if (strcmp(v->sk, t->skel) == 0) {
		snprintf(why, len, "looks like %s (confusable characters)", t->dom);
		return 1;
	}
	if (v->lab == t->label && v->lab >= 3 && memcmp(v->sk, t->skel, v->lab) == 0) {
		snprintf(why, len, "the name of %s under another suffix", t->dom);
		return 1;
	}
	if (t->label >= 4 &&
	    (one_edit(v->sk, v->lab, t->skel, t->label) || one_edit(v->plain, v->plab, t->plain, t->plabel))) {
		snprintf(why, len, "one edit away from %s", t->dom);
		return 1;
	}
	if (v->proxy)
		return 0;
	/* the target as labels in front of another domain: example.com.evil.test */
	for (p = v->host; tl > 0 && (p = strstr(p, t->dom)) != NULL; p++)
		if ((p == v->host || p[-1] == '.' || p[-1] == '-') && (p[tl] == '.' || p[tl] == '-') &&
		    (size_t)(p - v->host) + tl < hl - strlen(v->dom)) {
			snprintf(why, len, "names %s in front of %s", t->dom, v->dom);
			return 1;
		}
	for (i = 0; i < v->nh && t->ns > 0; i++) {
		if (seq(v, v->nh, i, t, t->nw, t->nn) && seq(v, v->nh, i + t->nn, t, t->sw, t->ns)) {
			snprintf(why, len, "spells out %s inside another domain", t->dom);
			return 1;
		}
		if (seq(v, v->nh, i, t, t->sw, t->ns) && seq(v, v->nh, i + t->ns, t, t->nw, t->nn)) {
			snprintf(why, len, "the words of %s in another order", t->dom);
			return 1;
		}
	}
	return 0;
}

/* weak - the name as a word of another label, glued to a decoy, or misspelt in a longer label */
static int weak(const hostview *v, const target *t, char *why, size_t len)
{
	size_t i, k;

	if (v->proxy || t->label < 4 || t->nn == 0 || strcmp(v->dom, t->dom) == 0)
		return 0;
	for (i = 0; i < v->nh; i++) {
		size_t first = i, last = i;
		while (last + 1 < v->nh && v->hw[last + 1].label == v->hw[i].label)
			last++;
		i = last;
		if (last - first + 1 == t->nn && seq(v, last + 1, first, t, t->nw, t->nn))
			continue; /* the label is the name: a service's tenant */
		for (k = first; k <= last; k++) {
			if (seq(v, last + 1, k, t, t->nw, t->nn)) {
				snprintf(why, len, "the name of %s as a word of another domain", t->dom);
				return 1;
			}
			if (glued(v, k, last, t)) {
				snprintf(why, len, "the name of %s glued to another word", t->dom);
				return 1;
			}
			if (t->nn == 1 && t->label >= 6 && last > first &&
			    one_edit(v->hsk + v->hw[k].b, v->hw[k].n, t->skel, t->label)) {
				snprintf(why, len, "the name of %s, one edit away, as a word of another domain",
				         t->dom);
				return 1;
			}
		}
	}
	return 0;
}

/* link_targets_new - protected domains, then partners */
link_targets *link_targets_new(const mw_config *cfg, const mw_lists *lists)
{
	link_targets *ts = x_calloc(1, sizeof(*ts));
	size_t i, n;

	n = (cfg ? cfg->protected_domains.n : 0) + (lists ? lists_count(lists, "partner") : 0);
	ts->t = x_calloc(n < LOOK_MAX_TARGETS ? n + 1 : LOOK_MAX_TARGETS, sizeof(*ts->t));
	if (cfg)
		for (i = 0; i < cfg->protected_domains.n && ts->n < LOOK_MAX_TARGETS; i++)
			target_set(&ts->t[ts->n++], cfg->protected_domains.v[i]);
	ts->nprot = ts->n;
	n = lists ? lists_count(lists, "partner") : 0;
	for (i = 0; i < n && ts->n < LOOK_MAX_TARGETS; i++) {
		const char *e = lists_entry(lists, "partner", i);
		if (strchr(e, '/') == NULL)
			target_set(&ts->t[ts->n++], e);
	}
	return ts;
}

/* link_targets_free - NULL is safe */
void link_targets_free(link_targets *ts)
{
	if (ts == NULL)
		return;
	x_free(ts->t);
	x_free(ts);
}

/* link_targets_named - the target domain that s (a user name before '@') shows, or NULL */
const char *link_targets_named(const link_targets *ts, const char *s)
{
	size_t i;

	for (i = 0; s[0] && i < ts->n; i++)
		if (strstr(s, ts->t[i].dom))
			return ts->t[i].dom;
	return NULL;
}

/* look - 0, or 1 + index of the target the view imitates */
static size_t look(const link_targets *ts, const hostview *v, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (strong(v, &ts->t[i], why, len))
			return i + 1;
	for (i = 0; i < ts->n; i++)
		if (weak(v, &ts->t[i], why, len))
			return i + 1;
	return 0;
}

/* link_look - does host imitate a target? 0 no, 1 a protected domain, 2 a partner (see link_int.h) */
int link_look(const link_targets *ts, const char *host, const char *host_u, const char *dom, char *why, size_t len)
{
	hostview v; /* about 5 KB: on the stack, it is made for every link */
	size_t k;

	if (ts->n == 0)
		return 0;
	view_set(&v, host, host_u, dom);
	k = look(ts, &v, why, len);
	return k == 0 ? 0 : k - 1 < ts->nprot ? 1 : 2;
}

/* link_lookalike - see links.h */
int link_lookalike(const char *host, const char *target_dom, char *why, size_t len)
{
	link_targets ts;
	target t;
	char dom[LINK_MAX_HOST + 1], dummy[8];
	int r;

	target_set(&t, target_dom);
	ts.t = &t;
	ts.n = ts.nprot = 1;
	link_registrable(host, dom, sizeof(dom));
	if (why && len)
		why[0] = 0;
	r = link_look(&ts, host, NULL, dom, why ? why : dummy, why ? len : sizeof(dummy));
	return r != 0;
}

/* links_lookalike - does a sender domain imitate one of ours or a partner's? (see links.h) */
int links_lookalike(const mw_config *cfg, const mw_lists *lists, const char *domain, char *why, size_t whylen)
{
	link_targets *ts = NULL;
	hostview *v = NULL;
	link_parts *p;
	char how[300];
	mw_buf url;
	size_t k;
	int r = 0;

	if (why && whylen)
		why[0] = 0;
	if (domain == NULL || domain[0] == 0 || strlen(domain) > LINK_MAX_HOST * 4)
		return 0;
	p = x_malloc(sizeof(*p));
	buf_init(&url, 0);
	buf_printf(&url, "http://%s/", domain);
	if (link_parse(url.p, url.len, NULL, 0, p) < 0 || (p->flags & (LINK_F_NOHOST | LINK_F_IP)) || p->host[0] == 0 ||
	    (cfg && config_is_protected(cfg, p->host)) || (lists && lists_match_domain(lists, "partner", p->host)))
		goto out;
	ts = link_targets_new(cfg, lists);
	v = x_malloc(sizeof(*v));
	view_set(v, p->host, p->host_u, p->domain);
	if ((k = look(ts, v, how, sizeof(how))) != 0) {
		r = k - 1 < ts->nprot ? 1 : 2;
		if (why && whylen)
			snprintf(why, whylen, "%s: %s", ts->t[k - 1].dom, how);
	} else if (link_mixed_script(p->host_u)) {
		r = 3;
		if (why && whylen)
			snprintf(why, whylen, "%s: a label mixes Latin, Cyrillic or Greek letters", p->host_u);
	}
out:
	x_free(v);
	link_targets_free(ts);
	buf_free(&url);
	x_free(p);
	return r;
}
