/*
 * NAME
 *	link_judge.c - classify links: lists, IP literals, what the scheme
 *	does, lookalikes of our own and partner domains, text mismatch
 * SYNOPSIS
 *	#include "links/links.h"
 *
 *	links_classify(ls, &judge);
 * DESCRIPTION
 *	Every class is a fact about one link; the policy maps the reason
 *	codes to actions.
 *
 *	Lists ("link_block", "storage", "shortener") match the host and
 *	every parent domain, so an entry catches all its sub-domains; an
 *	entry "host/segment" also needs that first path segment.  Storage
 *	and shortener links count only when clicked (not for images and
 *	style sheets), only for browsing schemes, storage only in mail
 *	from outside.
 *
 *	What the scheme does (link_scheme.c): a script is link.script; a
 *	launching handler is link.dangerous_scheme in any mail, an Office
 *	document or a local file only in mail from outside (inside, they
 *	open our own documents); a network share is link.unc in mail from
 *	outside, and in internal mail unless its host is ours (one label, a
 *	protected domain, a private address, a local suffix); an unknown
 *	application is link.app_handler.
 *
 *	Lookalikes: link_look.c.  A user name before '@' that shows a
 *	target is a lookalike too.
 *
 *	Text mismatch: the visible text of an <a> contains a URL or host
 *	name whose registrable domain is neither the link's nor that of a
 *	redirector target inside it.
 * LIMITS
 *	Notes are cut to JUDGE_NOTE_MAX bytes.
 * DIAGNOSTICS
 *	None: a host that cannot be converted (bad punycode) is compared as
 *	it is written.
 * SEE ALSO
 *	link_look.c, link_scheme.c, links.c.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

#define JUDGE_NOTE_MAX 400

static const struct {
	unsigned bit;
	const char *code;
	const char *name;
} class_table[LINK_C_COUNT] = {
    {LINK_C_BLOCKED, "link.blocked_domain", "blocked"},
    {LINK_C_STORAGE, "link.storage", "storage"},
    {LINK_C_SHORTENER, "link.shortener", "shortener"},
    {LINK_C_IP, "link.ip_literal", "ip_literal"},
    {LINK_C_LOOKALIKE, "link.lookalike", "lookalike"},
    {LINK_C_MISMATCH, "link.text_mismatch", "text_mismatch"},
    {LINK_C_SCRIPT, "link.script", "script"},
    {LINK_C_SCHEME, "link.dangerous_scheme", "dangerous_scheme"},
    {LINK_C_UNC, "link.unc", "unc"},
    {LINK_C_APP, "link.app_handler", "app_handler"},
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
	link_targets *t;
} judge_ctx;

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

/* intranet - a host of our own network: one label, a protected domain, a private address, a local suffix */
static int intranet(const link_judge *j, const link_url *u)
{
	static const char *const local_sfx[] = {".local", ".lan",       ".internal",   ".intranet",
	                                        ".corp",  ".home.arpa", ".localdomain"};
	const char *h = u->host;
	size_t i, hl = strlen(h);
	unsigned a, b;

	if (u->flags & LINK_F_IPV6)
		return strncmp(h, "[fd", 3) == 0 || strncmp(h, "[fc", 3) == 0 || strncmp(h, "[fe80:", 6) == 0 ||
		       strcmp(h, "[::1]") == 0;
	if (u->flags & LINK_F_IP) {
		if (sscanf(h, "%u.%u", &a, &b) != 2)
			return 0;
		return a == 10 || a == 127 || (a == 172 && b >= 16 && b < 32) || (a == 192 && b == 168) ||
		       (a == 169 && b == 254);
	}
	if (strchr(h, '.') == NULL || (j->cfg && config_is_protected(j->cfg, h)))
		return 1;
	for (i = 0; i < MW_ARRAY_LEN(local_sfx); i++) {
		size_t l = strlen(local_sfx[i]);
		if (hl > l && strcmp(h + hl - l, local_sfx[i]) == 0)
			return 1;
	}
	return 0;
}

/* in_list - d is one of the space-separated words of list */
static int in_list(const char *list, const char *d)
{
	size_t dl = strlen(d);
	const char *p;

	for (p = list; dl && (p = strstr(p, d)) != NULL; p++)
		if ((p == list || p[-1] == ' ') && (p[dl] == ' ' || p[dl] == 0))
			return 1;
	return 0;
}

/* scheme_classes - what the scheme does: script, local file, share, launcher, Office, unknown application */
static void scheme_classes(const link_judge *j, link_url *u, mw_buf *nb)
{
	const link_scheme_info *si = link_scheme(u->scheme);
	char why[300];

	if (u->flags & LINK_F_SCRIPT) {
		int image = strncmp(u->url, "data:image/", 11) == 0 && strncmp(u->url, "data:image/svg", 14) != 0;
		if (!(image && (u->flags & LINK_F_LOADED))) {
			u->classes |= LINK_C_SCRIPT;
			note(nb, "script", "%s: URL", u->scheme);
		}
	}
	if ((u->flags & LINK_F_LAUNCH) || ((u->flags & LINK_F_OFFICE) && j->external)) {
		/* a launcher is dangerous in any mail; an Office link from inside opens our own documents */
		u->classes |= LINK_C_SCHEME;
		snprintf(why, sizeof(why), "%s: %s", u->scheme, si->what);
		note(nb, "dangerous_scheme", "%s", why);
	}
	if ((u->flags & LINK_F_LOCAL) && j->external) {
		u->classes |= LINK_C_SCHEME;
		note(nb, "dangerous_scheme", "%s", "file: opens a file or program on the reader's disk");
	}
	if ((u->flags & LINK_F_SHARE) && (j->external || !intranet(j, u))) {
		u->classes |= LINK_C_UNC;
		snprintf(why, sizeof(why), "a file share on %s: %s, and Windows sends the reader's NTLM hash",
		         u->host_u,
		         (u->flags & LINK_F_WEBDAV) ? "WebDAV opens the remote file" : "SMB opens the remote file");
		note(nb, "unc", "%s", why);
	}
	if (u->flags & LINK_F_APP) {
		u->classes |= LINK_C_APP;
		snprintf(why, sizeof(why), "%s: %s", u->scheme, si->what);
		note(nb, "app_handler", "%s", why);
	}
}

/* classify_one - classes and note of one link */
static void classify_one(judge_ctx *c, link_url *u, link_parts *tp, mw_buf *nb)
{
	const link_judge *j = c->j;
	const char *e;
	char why[300], dom[LINK_MAX_HOST + 1];
	int web = !(u->flags & (LINK_F_SHARE | LINK_F_LAUNCH | LINK_F_OFFICE | LINK_F_APP | LINK_F_LOCAL));

	buf_reset(nb);
	u->classes = 0;
	scheme_classes(j, u, nb);
	if (u->flags & LINK_F_NOHOST)
		goto out;
	if ((e = list_match(j->lists, "link_block", u)) != NULL) {
		u->classes |= LINK_C_BLOCKED;
		note(nb, "blocked", "%s is on the block list", e);
	}
	if (!(u->flags & LINK_F_LOADED) && web) {
		if (j->external && (e = list_match(j->lists, "storage", u)) != NULL) {
			u->classes |= LINK_C_STORAGE;
			note(nb, "storage", "%s", e);
		}
		if ((e = list_match(j->lists, "shortener", u)) != NULL) {
			u->classes |= LINK_C_SHORTENER;
			note(nb, "shortener", "%s", e);
		}
	}
	if ((u->flags & LINK_F_IP) && !(u->classes & LINK_C_UNC) && !((u->flags & LINK_F_SHARE) && intranet(j, u))) {
		u->classes |= LINK_C_IP;
		note(nb, "ip_literal", (u->flags & LINK_F_IPODD) ? "%s, written in another form" : "%s", u->host);
	}
	if (!(u->flags & LINK_F_IP) && !(j->cfg && config_is_protected(j->cfg, u->host)) &&
	    !(j->lists && lists_match_domain(j->lists, "partner", u->host))) {
		const char *shown;

		if (!(u->flags & LINK_F_USERINFO) ||
		    link_parse(u->raw, strlen(u->raw), NULL, u->flags & LINK_F_BARE, tp) < 0)
			tp->userinfo[0] = 0;
		mw_lower(tp->userinfo);
		if (link_look(c->t, u->host, u->host_u, u->domain, why, sizeof(why))) {
			u->classes |= LINK_C_LOOKALIKE;
			note(nb, "lookalike", "%s", why);
		} else if ((shown = link_targets_named(c->t, tp->userinfo)) != NULL) {
			u->classes |= LINK_C_LOOKALIKE;
			snprintf(why, sizeof(why), "user name before '@' shows %s", shown);
			note(nb, "lookalike", "%s", why);
		} else if (link_mixed_script(u->host_u)) {
			u->classes |= LINK_C_LOOKALIKE;
			note(nb, "lookalike", "%s mixes scripts", u->host_u);
		}
	}
	if (mismatch(u, tp, dom, sizeof(dom)) && !in_list(u->targets, dom)) {
		u->classes |= LINK_C_MISMATCH;
		buf_printf(nb, "%stext_mismatch: text shows %s, link goes to %s", nb->len ? "; " : "", dom,
		           u->targets[0] ? u->targets : u->domain);
	}
out:
	return;
}

/* link_judge_all - classify n links; set_note stores each note */
void link_judge_all(const link_judge *j, link_url *v, size_t n, void (*set_note)(void *, link_url *, const char *),
                    void *arg)
{
	judge_ctx c = {j, NULL};
	link_parts *tp;
	mw_buf nb;
	size_t i;

	if (n == 0)
		return;
	tp = x_malloc(sizeof(*tp));

	buf_init(&nb, JUDGE_NOTE_MAX);
	c.t = link_targets_new(j->cfg, j->lists);
	for (i = 0; i < n; i++) {
		classify_one(&c, &v[i], tp, &nb);
		set_note(arg, &v[i], nb.p ? nb.p : "");
	}
	buf_free(&nb);
	link_targets_free(c.t);
	x_free(tp);
}
