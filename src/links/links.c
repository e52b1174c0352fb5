/*
 * NAME
 *	links.c - the link set of one message and the engine stage
 * SYNOPSIS
 *	See links.h.
 * DESCRIPTION
 *	A link set collects what the extractors find, part by part.  Each
 *	candidate is looked up by its raw text and anchor text first, so a
 *	link repeated a thousand times in a newsletter is normalised once
 *	and listed once.  New candidates are normalised with link_parse()
 *	and stored, strings in an arena freed with the set.
 *
 *	The stage reads every text and HTML leaf of the MIME tree (calendar
 *	and vCard parts and attachments unfolded first), judges
 *	the links against the configuration and the lists, and adds one
 *	reason per class and registrable domain (at most REPORT_PER_CODE
 *	domains per class; the action is the same for more).
 *
 *	The sender counts as external unless both the envelope sender and
 *	the From header are in a protected domain.  The result gets the
 *	number of clicked links (res->nlinks: the sender stage's first
 *	contact, free-mail and lockdown rules read it) and the registrable
 *	domains, clicked links first (result_add_domain, for tracking).
 * LIMITS
 *	max_urls distinct links (more candidates are counted, not
 *	normalised or stored, so work stays bounded); max_bytes
 *	of text and HTML per message (the rest of a part is not read).
 *	Either gives link.limits.  Not-a-link candidates (mailto:, cid:)
 *	are remembered up to KEYS_PER_URL * max_urls, then parsed each time.
 * DIAGNOSTICS
 *	Nothing fails: memory exhaustion aborts (x_malloc); a part whose
 *	text cannot be read is skipped.  Crossed limits become link.limits.
 * SEE ALSO
 *	links.h, link_extract.c, link_url.c, link_judge.c, engine.h.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"
#include "scan/scan.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CHUNK_SIZE      (64 * 1024)
#define KEYS_PER_URL    4
#define REPORT_PER_CODE 4
#define MAX_DEPTH       1000

typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
} chunk;

typedef struct key {
	const char *raw, *text;
	size_t rn, tn;
	unsigned h;
	long link; /* index in v, or -1: not a link, -2: over the limit */
} key;

struct link_set {
	size_t max_urls, max_bytes, used_bytes;
	size_t over_urls;
	int over_bytes, over_attr;
	link_url *v;
	size_t n, cap;
	key *keys;
	size_t nkeys, keycap, maxkeys;
	unsigned *slots; /* key index + 1; 0 = empty */
	size_t nslots;
	chunk *arena;
	const char *part;
	link_parts *tmp;
	int over_wrap; /* a redirector chain was deeper than LINK_MAX_WRAP */
	/* incremental judging (links_stage and the node entry points) */
	size_t judged;         /* links [0, judged) are classified and reported */
	size_t over_counted;   /* over_urls already counted in the result */
	unsigned limits_shown; /* kinds of limit already reported (LIM_ bits) */
	int external;          /* -1: not known yet */
	size_t nshown[LINK_C_COUNT];
	const char *shown[LINK_C_COUNT][REPORT_PER_CODE];
};

#define LIM_URLS  1
#define LIM_BYTES 2
#define LIM_ATTR  4
#define LIM_WRAP  8

/* arena_alloc - n bytes that live as long as the set */
static char *arena_alloc(link_set *ls, size_t n)
{
	chunk *c = ls->arena;

	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		c = x_malloc(sizeof(*c) + cap);
		c->cap = cap;
		c->used = 0;
		c->next = ls->arena;
		ls->arena = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

/* arena_dup - NUL-terminated copy of n bytes in the arena */
static const char *arena_dup(link_set *ls, const char *s, size_t n)
{
	char *d = arena_alloc(ls, n + 1);

	memcpy(d, s, n);
	d[n] = 0;
	return d;
}

/* links_new - an empty set with its limits */
link_set *links_new(size_t max_urls, size_t max_bytes)
{
	link_set *ls = x_calloc(1, sizeof(*ls));

	ls->max_urls = max_urls ? max_urls : LINK_DEF_MAX_URLS;
	ls->max_bytes = max_bytes ? max_bytes : LINK_DEF_MAX_HTML_BYTES;
	ls->maxkeys = ls->max_urls * KEYS_PER_URL;
	ls->tmp = x_malloc(sizeof(*ls->tmp));
	ls->part = "";
	ls->external = -1;
	return ls;
}

/* links_free - the set, its links and every string; NULL is safe */
void links_free(link_set *ls)
{
	chunk *c, *next;

	if (ls == NULL)
		return;
	for (c = ls->arena; c; c = next) {
		next = c->next;
		x_free(c);
	}
	x_free(ls->v);
	x_free(ls->keys);
	x_free(ls->slots);
	x_free(ls->tmp);
	x_free(ls);
}

/* links_count - links stored */
size_t links_count(const link_set *ls)
{
	return ls->n;
}

/* links_get - the i'th link in the order found, NULL past the end */
const link_url *links_get(const link_set *ls, size_t i)
{
	return i < ls->n ? &ls->v[i] : NULL;
}

/* hash - FNV-1a of raw URL and anchor text */
static unsigned hash(const char *s, size_t n, const char *t, size_t tn)
{
	unsigned h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (i = 0; i < tn; i++)
		h = (h ^ (unsigned char)t[i]) * 16777619u;
	return h;
}

/* key_find - index of the key or -1; *slot gets where it would go */
static long key_find(const link_set *ls, unsigned h, const char *s, size_t n, const char *t, size_t tn, size_t *slot)
{
	size_t i;

	if (ls->nslots == 0)
		return -1;
	for (i = h & (ls->nslots - 1);; i = (i + 1) & (ls->nslots - 1)) {
		const key *k;
		if (ls->slots[i] == 0) {
			*slot = i;
			return -1;
		}
		k = &ls->keys[ls->slots[i] - 1];
		if (k->h == h && k->rn == n && k->tn == tn && memcmp(k->raw, s, n) == 0 && memcmp(k->text, t, tn) == 0)
			return (long)(ls->slots[i] - 1);
	}
}

/* key_add - remember a candidate and what became of it */
static void key_add(link_set *ls, unsigned h, const char *s, size_t n, const char *t, size_t tn, long link)
{
	key *k;
	size_t i, slot = 0;

	if (ls->nkeys >= ls->maxkeys)
		return;
	if ((ls->nkeys + 1) * 2 > ls->nslots) {
		size_t ns = ls->nslots ? ls->nslots * 2 : 256;
		x_free(ls->slots);
		ls->slots = x_calloc(ns, sizeof(*ls->slots));
		ls->nslots = ns;
		for (i = 0; i < ls->nkeys; i++) {
			size_t j = ls->keys[i].h & (ns - 1);
			while (ls->slots[j])
				j = (j + 1) & (ns - 1);
			ls->slots[j] = (unsigned)i + 1;
		}
	}
	if (ls->nkeys == ls->keycap) {
		ls->keycap = ls->keycap ? ls->keycap * 2 : 64;
		ls->keys = x_realloc(ls->keys, ls->keycap * sizeof(*ls->keys));
	}
	key_find(ls, h, s, n, t, tn, &slot);
	k = &ls->keys[ls->nkeys];
	k->raw = link >= 0 ? ls->v[link].raw : arena_dup(ls, s, n);
	k->text = link >= 0 ? ls->v[link].text : arena_dup(ls, t, tn);
	k->rn = n;
	k->tn = tn;
	k->h = h;
	k->link = link;
	ls->slots[slot] = (unsigned)++ls->nkeys;
}

/* store - a new link from parsed parts p; returns its index */
static long store(link_set *ls, link_src src, unsigned flags, const char *s, size_t kn, const char *t, size_t tn,
                  const link_parts *p, unsigned h)
{
	link_url *u;

	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 32;
		ls->v = x_realloc(ls->v, ls->cap * sizeof(*ls->v));
	}
	u = &ls->v[ls->n];
	memset(u, 0, sizeof(*u));
	u->raw = arena_dup(ls, s, kn);
	u->text = arena_dup(ls, t, tn);
	u->url = arena_dup(ls, p->url, strlen(p->url));
	u->scheme = arena_dup(ls, p->scheme, strlen(p->scheme));
	u->host = arena_dup(ls, p->host, strlen(p->host));
	u->host_u = strcmp(p->host, p->host_u) == 0 ? u->host : arena_dup(ls, p->host_u, strlen(p->host_u));
	u->domain = arena_dup(ls, p->domain, strlen(p->domain));
	u->part = ls->part;
	u->note = "";
	u->via = "";
	u->targets = "";
	u->parent = -1;
	u->src = src;
	u->flags = p->flags | (flags & LINK_F_LOADED);
	ls->n++;
	key_add(ls, h, s, kn, t, tn, (long)ls->n - 1);
	return (long)ls->n - 1;
}

static void unwrap(link_set *ls, long k);

typedef struct target_ctx {
	link_set *ls;
	long parent;
} target_ctx;

/* add_domain - note a target's registrable domain on the link it came from */
static void add_domain(link_set *ls, long k, const char *d)
{
	const char *have = ls->v[k].targets;
	size_t hl = strlen(have), dl = strlen(d);
	const char *p;
	char *n;

	for (p = have; (p = strstr(p, d)) != NULL; p++)
		if ((p == have || p[-1] == ' ') && (p[dl] == ' ' || p[dl] == 0))
			return;
	if (hl + dl + 2 > 512)
		return;
	n = arena_alloc(ls, hl + dl + 2);
	memcpy(n, have, hl);
	n[hl] = hl ? ' ' : 0;
	memcpy(n + hl + (hl ? 1 : 0), d, dl + 1);
	ls->v[k].targets = n;
}

/* on_target - link_unwrap's callback: the target becomes a link of its own, unwrapped in turn */
static void on_target(void *arg, const char *s, size_t n, const char *how)
{
	target_ctx *c = arg;
	link_set *ls = c->ls;
	link_parts *p;
	const link_url *pu = &ls->v[c->parent];
	size_t kn = n > LINK_MAX_URL ? LINK_MAX_URL : n, slot;
	unsigned h;
	long a, k;
	mw_buf via;

	if (pu->depth >= LINK_MAX_WRAP) {
		ls->v[c->parent].flags |= LINK_F_DEEP;
		ls->over_wrap = 1;
		return;
	}
	p = x_malloc(sizeof(*p));
	if (link_parse(s, n, NULL, 0, p) < 0)
		goto out;
	for (a = c->parent; a >= 0 && p->domain[0]; a = ls->v[a].parent)
		add_domain(ls, a, p->domain);
	h = hash(s, kn, "\001", 1);
	if (key_find(ls, h, s, kn, "\001", 1, &slot) >= 0)
		goto out;
	if (ls->n >= ls->max_urls) {
		ls->over_urls++;
		key_add(ls, h, s, kn, "\001", 1, -2);
		goto out;
	}
	buf_init(&via, 300);
	pu = &ls->v[c->parent];
	if (pu->via[0])
		buf_printf(&via, "%s > ", pu->via);
	buf_printf(&via, "%s (%s)", pu->host[0] ? pu->host : pu->scheme, how);
	k = store(ls, pu->src, pu->flags & LINK_F_LOADED, s, kn, "\001", 1, p, h);
	ls->v[k].text = "";
	ls->v[k].via = arena_dup(ls, via.p, via.len);
	ls->v[k].parent = c->parent;
	ls->v[k].depth = ls->v[c->parent].depth + 1;
	ls->v[k].part = ls->v[c->parent].part;
	ls->v[k].flags |= LINK_F_TARGET;
	buf_free(&via);
	unwrap(ls, k);
out:
	x_free(p);
}

/* unwrap - the targets carried in link k (redirectors, trackers, handlers with a URL) */
static void unwrap(link_set *ls, long k)
{
	target_ctx c = {ls, k};

	link_unwrap(ls->v[k].url, ls->v[k].host, on_target, &c);
}

/* set_emit - the extractors' sink: dedupe, normalise, store, unwrap */
static void set_emit(void *arg, link_src src, unsigned flags, const char *s, size_t n, const char *t, size_t tn,
                     const char *base)
{
	link_set *ls = arg;
	link_parts *p = ls->tmp;
	size_t kn = n > LINK_MAX_URL ? LINK_MAX_URL : n;
	unsigned h;
	size_t slot;

	if (t == NULL) {
		t = "";
		tn = 0;
	}
	h = hash(s, kn, t, tn);
	if (key_find(ls, h, s, kn, t, tn, &slot) >= 0)
		return;
	if (ls->n >= ls->max_urls) {
		/* full: not normalised (bounded work), counted as a link */
		ls->over_urls++;
		key_add(ls, h, s, kn, t, tn, -2);
		return;
	}
	if (link_parse(s, n, base, (flags & LINK_F_BARE) != 0, p) < 0) {
		key_add(ls, h, s, kn, t, tn, -1);
		return;
	}
	unwrap(ls, store(ls, src, flags, s, kn, t, tn, p, h));
}

/* links_add_url - one URL as written, found at part (see links.h) */
void links_add_url(link_set *ls, const char *part, const char *url, size_t n, const char *text, size_t tn)
{
	size_t i = 0;

	ls->part = arena_dup(ls, part ? part : "", part ? strlen(part) : 0);
	while (n > 0 && (unsigned char)*url <= ' ') {
		url++;
		n--;
	}
	if (text) { /* anchor text as people see it: white space collapsed, cut */
		char *c = arena_alloc(ls, LINK_MAX_TEXT + 1);
		size_t o = 0;
		for (i = 0; i < tn && o < LINK_MAX_TEXT; i++) {
			char ch = (unsigned char)text[i] <= ' ' ? ' ' : text[i];
			if (ch == ' ' && (o == 0 || c[o - 1] == ' '))
				continue;
			c[o++] = ch;
		}
		while (o > 0 && c[o - 1] == ' ')
			o--;
		set_emit(ls, LINK_FROM_HREF, 0, url, n, c, o, NULL);
	} else {
		set_emit(ls, LINK_FROM_HREF, 0, url, n, NULL, 0, NULL);
	}
}

/* set_limit - an extractor bound was reached (link.limits) */
static void set_limit(void *arg, const char *what)
{
	link_set *ls = arg;

	(void)what;
	ls->over_attr = 1;
}

/* budget - bytes of this input that may be read */
static size_t budget(link_set *ls, const char *part, size_t n)
{
	size_t left = ls->max_bytes - ls->used_bytes;

	if (n > left) {
		n = left;
		ls->over_bytes = 1;
	}
	ls->used_bytes += n;
	ls->part = arena_dup(ls, part ? part : "", part ? strlen(part) : 0);
	return n;
}

/* links_scan_text - extract from plain text within the byte budget */
void links_scan_text(link_set *ls, const char *part, const char *s, size_t n)
{
	link_sink k = {set_emit, set_limit, ls};

	link_extract_text(&k, s, budget(ls, part, n));
}

/* links_scan_html - extract from HTML within the byte budget */
void links_scan_html(link_set *ls, const char *part, const char *s, size_t n)
{
	link_sink k = {set_emit, set_limit, ls};

	link_extract_html(&k, s, budget(ls, part, n));
}

/* has_ext - file name ends in one of the extensions (with the dot) */
static int has_ext(const char *fn, const char *const *ext)
{
	const char *dot = fn ? strrchr(fn, '.') : NULL;

	for (; dot && *ext; ext++)
		if (strcasecmp(dot, *ext) == 0)
			return 1;
	return 0;
}

/* part_kind - 2 HTML, 1 text, 3 folded text (calendar, vCard), 0 neither */
static int part_kind(const mime_part *p)
{
	static const char *const html_types[] = {"text/html", "application/xhtml+xml", "image/svg+xml", NULL};
	static const char *const folded_types[] = {"text/calendar", "application/ics", "text/vcard",
	                                           "text/x-vcard",  "text/directory",  NULL};
	static const char *const html_ext[] = {".htm", ".html", ".xhtml", ".shtml", ".hta", ".svg", NULL};
	static const char *const text_ext[] = {".txt", ".url", ".csv", NULL};
	static const char *const folded_ext[] = {".ics", ".vcs", ".vcf", NULL};
	const char *type = mime_part_type(p), *fn = mime_part_filename(p);
	size_t i;

	for (i = 0; html_types[i]; i++)
		if (strcmp(type, html_types[i]) == 0)
			return 2;
	for (i = 0; folded_types[i]; i++)
		if (strcmp(type, folded_types[i]) == 0)
			return 3;
	if (has_ext(fn, html_ext))
		return 2;
	if (has_ext(fn, folded_ext))
		return 3;
	if (strncmp(type, "text/", 5) == 0 || has_ext(fn, text_ext))
		return 1;
	return 0;
}

/*
 * unfold - join folded lines in place (RFC 5545 3.1, RFC 6350 3.2: a line
 * break followed by one space or tab continues the line); returns the new
 * length.  Unfolded, "mailto:tanaka@e\r\n xample.com" is one address, not
 * an address and a host "xample.com".
 */
static size_t unfold(char *t, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (t[i] == '\r' && i + 2 < n && t[i + 1] == '\n' && (t[i + 2] == ' ' || t[i + 2] == '\t')) {
			i += 3;
			continue;
		}
		if (t[i] == '\n' && i + 1 < n && (t[i + 1] == ' ' || t[i + 1] == '\t')) {
			i += 2;
			continue;
		}
		t[o++] = t[i++];
	}
	return o;
}

/* scan_tree - depth-first over the parts: text and HTML leaves as UTF-8 */
static void scan_tree(link_set *ls, const mime_part *p, int depth)
{
	size_t i, n, len = 0;
	int kind;
	char *t;

	if (depth > MAX_DEPTH)
		return;
	if (!mime_part_is_leaf(p)) {
		n = mime_part_nchildren(p);
		for (i = 0; i < n; i++)
			scan_tree(ls, mime_part_child(p, i), depth + 1);
		return;
	}
	if ((kind = part_kind(p)) == 0)
		return;
	if (ls->used_bytes >= ls->max_bytes) {
		const void *d;
		int fd;
		mime_part_body(p, &d, &fd, &len);
		if (len)
			ls->over_bytes = 1;
		return;
	}
	t = mime_part_text(p, ls->max_bytes - ls->used_bytes + 1, &len);
	if (t == NULL)
		return;
	if (kind == 3)
		len = unfold(t, len);
	if (kind == 2)
		links_scan_html(ls, mime_part_id(p), t, len);
	else
		links_scan_text(ls, mime_part_id(p), t, len);
	x_free(t);
}

/* links_scan_mime - every text and HTML leaf under root */
void links_scan_mime(link_set *ls, const mime_part *root)
{
	if (root)
		scan_tree(ls, root, 0);
}

/* links_limited - 1 if a limit was crossed; which in detail */
int links_limited(const link_set *ls, char *detail, size_t len)
{
	mw_buf b;
	int r = ls->over_urls || ls->over_bytes || ls->over_attr || ls->over_wrap;

	buf_init(&b, len ? len - 1 : 0);
	if (ls->over_urls)
		buf_printf(&b, "%zu more links than max_urls=%zu; ", ls->over_urls, ls->max_urls);
	if (ls->over_bytes)
		buf_printf(&b, "text and HTML beyond max_html_bytes=%zu not read; ", ls->max_bytes);
	if (ls->over_attr)
		buf_printf(&b, "an HTML attribute longer than %d bytes was cut; ", LINK_MAX_ATTR);
	if (ls->over_wrap)
		buf_printf(&b, "a redirector chain deeper than %d levels was not followed; ", LINK_MAX_WRAP);
	if (b.len >= 2)
		b.p[b.len - 2] = 0;
	if (len)
		mw_strlcpy(detail, b.p ? b.p : "", len);
	buf_free(&b);
	return r;
}

/* set_note - keep a link's classification note in the arena */
static void set_note(void *arg, link_url *u, const char *note)
{
	u->note = arena_dup(arg, note, strlen(note));
}

/* links_classify - classes and notes of every link */
void links_classify(link_set *ls, const link_judge *j)
{
	link_judge_all(j, ls->v, ls->n, set_note, ls);
}

/* link_src_name - "text", "href", ... for output */
const char *link_src_name(link_src src)
{
	static const char *const names[LINK_FROM_COUNT] = {"text", "href", "src", "action", "refresh", "css", "base"};

	return (unsigned)src < LINK_FROM_COUNT ? names[src] : "?";
}

/* note_for - the "name: why" segment of a note, without the name */
static void note_for(const char *note, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	const char *p = note, *e;

	out[0] = 0;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == note || (p >= note + 2 && p[-2] == ';')) && p[nl] == ':') {
			p += nl + 2;
			e = strstr(p, "; ");
			snprintf(out, len, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
			return;
		}
		p++;
	}
}

/* addr_domain - the domain of the first address in s, lower case, into out */
static int addr_domain(const char *s, char *out, size_t len)
{
	const char *at = s ? strrchr(s, '@') : NULL;
	size_t n;

	if (at == NULL)
		return -1;
	n = strcspn(at + 1, ">) \t\r\n,;\"");
	if (n == 0 || n >= len)
		return -1;
	memcpy(out, at + 1, n);
	out[n] = 0;
	mw_lower(out);
	return 0;
}

/* external - the sender is outside our domains */
static int external(const mw_scan *s)
{
	const mw_config *cfg = s->env->cfg;
	const mime_part *root = s->mime ? mime_root(s->mime) : NULL;
	char d[256];

	if (addr_domain(msg_sender(s->msg), d, sizeof(d)) < 0 || !config_is_protected(cfg, d))
		return 1;
	if (root == NULL || addr_domain(mime_part_header(root, "from", 0), d, sizeof(d)) < 0 ||
	    !config_is_protected(cfg, d))
		return 1;
	return 0;
}

/* report - reasons for links [from, n): one per class and registrable domain, a few per class per message */
static void report(link_set *ls, size_t from, mw_verdict *v)
{
	size_t c, i, k;
	char why[200];

	for (c = 0; c < LINK_C_COUNT; c++) {
		unsigned bit = 1u << c;

		for (i = from; i < ls->n && ls->nshown[c] < REPORT_PER_CODE; i++) {
			const link_url *u = &ls->v[i];
			const char *d = u->domain[0] ? u->domain : u->scheme;
			if (!(u->classes & bit))
				continue;
			for (k = 0; k < ls->nshown[c]; k++)
				if (strcmp(ls->shown[c][k], d) == 0)
					break;
			if (k < ls->nshown[c])
				continue;
			ls->shown[c][ls->nshown[c]++] = d;
			note_for(u->note, link_class_name(bit), why, sizeof(why));
			if (u->via[0])
				verdict_add(v, link_class_code(bit), u->part, "%.80s (%s; via %s)", u->url, why,
				            u->via);
			else
				verdict_add(v, link_class_code(bit), u->part, "%.80s (%s)", u->url, why);
		}
	}
}

/* summary - links [from, n) counted (clicked ones as written) and their domains listed, clicked first */
static void summary(link_set *ls, size_t from, mw_result *res)
{
	size_t i;
	int pass;

	res->nlinks += ls->over_urls - ls->over_counted;
	ls->over_counted = ls->over_urls;
	for (i = from; i < ls->n; i++)
		if (!(ls->v[i].flags & (LINK_F_LOADED | LINK_F_TARGET)))
			res->nlinks++;
	for (pass = 0; pass < 2; pass++)
		for (i = from; i < ls->n; i++)
			if (ls->v[i].domain[0] && !(ls->v[i].flags & LINK_F_NOHOST) &&
			    !!(ls->v[i].flags & LINK_F_LOADED) == pass)
				result_add_domain(res, ls->v[i].domain);
}

/* limits - link.limits once for each kind of limit crossed */
static void limits(link_set *ls, mw_verdict *v)
{
	unsigned now = (ls->over_urls ? LIM_URLS : 0) | (ls->over_bytes ? LIM_BYTES : 0) |
	               (ls->over_attr ? LIM_ATTR : 0) | (ls->over_wrap ? LIM_WRAP : 0);
	char d[300];

	if ((now & ~ls->limits_shown) == 0)
		return;
	ls->limits_shown |= now;
	links_limited(ls, d, sizeof(d));
	verdict_add(v, "link.limits", "", "%s", d);
}

/* scan_set - the scan's link set, made on first use (freed by engine_scan) */
static link_set *scan_set(mw_scan *s)
{
	const mw_config *cfg = s->env->cfg;

	if (s->links == NULL)
		s->links = links_new(cfg->lim.max_urls, cfg->lim.max_html_bytes);
	if (s->links->external < 0)
		s->links->external = external(s);
	return s->links;
}

/* judge_new - classify, report and count what was added since the last call */
static void judge_new(mw_scan *s, link_set *ls)
{
	link_judge j;
	size_t from = ls->judged;

	j.cfg = s->env->cfg;
	j.lists = s->env->lists;
	j.external = ls->external;
	if (ls->n > from)
		link_judge_all(&j, ls->v + from, ls->n - from, set_note, ls);
	ls->judged = ls->n;
	summary(ls, from, s->res);
	report(ls, from, s->verdict);
	limits(ls, s->verdict);
}

/* links_stage - the engine stage: every text and HTML leaf of the MIME tree */
int links_stage(struct mw_scan *s)
{
	const mime_part *root = s->mime ? mime_root(s->mime) : NULL;
	link_set *ls;

	if (root == NULL)
		return 0;
	ls = scan_set(s);
	links_scan_mime(ls, root);
	judge_new(s, ls);
	return 0;
}

/* links_node_url - one URL from any node of the content tree (see links.h) */
void links_node_url(struct mw_scan *s, const char *path, const char *url, size_t n, const char *text, size_t tn)
{
	link_set *ls = scan_set(s);

	links_add_url(ls, path, url, n, text, tn);
	judge_new(s, ls);
}

/* links_node_text - every link in the text or HTML of a node (see links.h) */
void links_node_text(struct mw_scan *s, const char *path, const char *data, size_t n, int html)
{
	link_set *ls = scan_set(s);

	if (html)
		links_scan_html(ls, path, data, n);
	else
		links_scan_text(ls, path, data, n);
	judge_new(s, ls);
}

/* links_format - one line per link, or one JSON object; see links.h */
void links_format(const link_set *ls, int json, mw_buf *out)
{
	size_t i, c;
	char lim[300];

	if (json)
		buf_puts(out, "{\"links\": [");
	for (i = 0; i < ls->n; i++) {
		const link_url *u = &ls->v[i];
		int first = 1;

		if (json) {
			buf_puts(out, i ? ", {\"part\": " : "{\"part\": ");
			buf_json_str(out, u->part, strlen(u->part));
			buf_printf(out, ", \"from\": \"%s\", \"url\": ", link_src_name(u->src));
			buf_json_str(out, u->url, strlen(u->url));
			buf_puts(out, ", \"raw\": ");
			buf_json_str(out, u->raw, strlen(u->raw));
			buf_puts(out, ", \"host\": ");
			buf_json_str(out, u->host, strlen(u->host));
			buf_puts(out, ", \"host_unicode\": ");
			buf_json_str(out, u->host_u, strlen(u->host_u));
			buf_puts(out, ", \"domain\": ");
			buf_json_str(out, u->domain, strlen(u->domain));
			buf_puts(out, ", \"text\": ");
			buf_json_str(out, u->text, strlen(u->text));
			buf_printf(out, ", \"ip\": %s, \"loaded\": %s, \"classes\": [",
			           (u->flags & LINK_F_IP) ? "true" : "false",
			           (u->flags & LINK_F_LOADED) ? "true" : "false");
			for (c = 0; c < LINK_C_COUNT; c++)
				if (u->classes & (1u << c)) {
					buf_printf(out, "%s\"%s\"", first ? "" : ", ", link_class_code(1u << c));
					first = 0;
				}
			buf_puts(out, "], \"note\": ");
			buf_json_str(out, u->note, strlen(u->note));
			buf_printf(out, ", \"does\": \"%s\", \"target\": %s, \"via\": ",
			           link_does_name(link_scheme(u->scheme)->does),
			           (u->flags & LINK_F_TARGET) ? "true" : "false");
			buf_json_str(out, u->via, strlen(u->via));
			buf_puts(out, ", \"targets\": ");
			buf_json_str(out, u->targets, strlen(u->targets));
			buf_putc(out, '}');
			continue;
		}
		buf_printf(out, "%s domain=%s class=", u->url, u->domain[0] ? u->domain : "-");
		for (c = 0; c < LINK_C_COUNT; c++)
			if (u->classes & (1u << c)) {
				buf_printf(out, "%s%s", first ? "" : ",", link_class_name(1u << c));
				first = 0;
			}
		buf_printf(out, "%s part=%s from=%s", first ? "-" : "", u->part[0] ? u->part : "0",
		           link_src_name(u->src));
		if (strcmp(u->host, u->host_u) != 0)
			buf_printf(out, " host=%s", u->host_u);
		if (u->text[0]) {
			char t[LINK_MAX_TEXT + 8];
			buf_printf(out, " text=\"%s\"", mw_printable(t, sizeof(t), u->text, 80, 1));
		}
		if (u->note[0])
			buf_printf(out, " note=\"%s\"", u->note);
		if (u->via[0])
			buf_printf(out, " via=\"%s\"", u->via);
		buf_putc(out, '\n');
	}
	if (json) {
		int l = links_limited(ls, lim, sizeof(lim));
		buf_printf(out, "], \"limited\": %s, \"limits\": ", l ? "true" : "false");
		buf_json_str(out, lim, strlen(lim));
		buf_putc(out, '}');
	} else if (links_limited(ls, lim, sizeof(lim))) {
		buf_printf(out, "# limits: %s\n", lim);
	}
}
