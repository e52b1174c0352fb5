/*
 * NAME
 *	ctl_cmd_lists.c - control commands: named lists and blocks
 * SYNOPSIS
 *	list show [NAME [FILTER]] | list add NAME ENTRY [DAYS] | list remove NAME ENTRY
 *	block sender|domain VALUE [DAYS] [REASON...] | unblock sender|domain VALUE
 *	blocks [FILTER]
 * DESCRIPTION
 *	List edits are kept in the state database (store_list_edit) over the
 *	shipped list files and applied by a snapshot rebuild, so they take
 *	effect at the next message and survive a restart; an addition may
 *	expire after DAYS.  Blocks are rows of the blocks table with code
 *	"manual" and the reason as detail (who did it is in the audit
 *	trail, not in the block: its detail is quoted in the 550 text); the
 *	RCPT-time sender check refuses a blocked sender, or any address of
 *	a blocked registrable domain, with 550.
 *
 *	Each edit is followed by an audit row ("list.NAME", "block.KIND").
 *	The store offers no transaction spanning both calls, so a crash
 *	between them can lose the audit row of an edit that was made (never
 *	the reverse).
 * LIMITS
 *	list show prints at most SHOW_MAX entries; blocks at most SHOW_MAX.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl_int.h"
#include "util/hash.h"

#include <stdio.h>
#include <string.h>

#define SHOW_MAX 1000

static const char *const known_lists[] = {"freemail", "allow", "storage", "shortener", "link_block", "partner"};

/* list_known - a shipped list name, or one present in the current snapshot */
static int list_known(const mw_lists *l, const char *name)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(known_lists); i++)
		if (strcmp(known_lists[i], name) == 0)
			return 1;
	for (i = 0; i < lists_nlists(l); i++)
		if (strcmp(lists_name(l, i), name) == 0)
			return 1;
	return 0;
}

/* has_exact - 1 if entry is itself in list (not only covered by a parent domain) */
static int has_exact(const mw_lists *l, const char *list, const char *entry)
{
	size_t lo = 0, hi = lists_count(l, list);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(lists_entry(l, list, mid), entry);
		if (cmp == 0)
			return 1;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* normalise - lower case, leading '.' removed; -1 if not a valid entry */
static int normalise(const char *list, const char *in, char *out, size_t len)
{
	mw_lists *scratch;
	int bad;

	if (strlen(in) > LISTS_MAX_ENTRY || *in == 0)
		return -1;
	mw_strlcpy(out, in[0] == '.' ? in + 1 : in, len);
	mw_lower(out);
	scratch = lists_new();
	bad = lists_add(scratch, list, out) < 0 || lists_count(scratch, list) != 1;
	if (!bad)
		mw_strlcpy(out, lists_entry(scratch, list, 0), len);
	lists_unref(scratch);
	return bad ? -1 : 0;
}

int ctl_list_state(ctl_conn *c, const char *list, const char *entry, char *norm, size_t len)
{
	mw_lists *l = c->h->lists();
	int known = list_known(l, list), present = -1;

	if (known && normalise(list, entry, norm, len) == 0)
		present = has_exact(l, list, norm);
	lists_unref(l);
	if (!known)
		return ctl_err(c, "invalid",
		               "no list \"%.32s\" (freemail, allow, storage, shortener, link_block, partner)", list);
	if (present < 0)
		return ctl_err(c, "invalid", "\"%.80s\" is not a domain or address entry for %s", entry, list);
	return present;
}

int ctl_list_change(ctl_conn *c, const char *list, const char *entry, int add, unsigned long days, const char *who)
{
	mw_store *st = ctl_store(c);
	mw_lists *l;
	char norm[LISTS_MAX_ENTRY + 1], newv[LISTS_MAX_ENTRY + 40], key[LISTS_MAX_NAME + 8], t[32];
	time_t now = time(NULL), expires = days ? now + (time_t)days * 86400 : 0;
	int known, present;

	if (st == NULL)
		return -1;
	l = c->h->lists();
	known = list_known(l, list);
	if (known && normalise(list, entry, norm, sizeof(norm)) == 0)
		present = has_exact(l, list, norm);
	else
		present = -1;
	lists_unref(l);
	if (!known)
		return ctl_err(c, "invalid",
		               "no list \"%.32s\" (freemail, allow, storage, shortener, link_block, "
		               "partner)",
		               list);
	if (present < 0)
		return ctl_err(c, "invalid", "\"%.80s\" is not a domain or address entry", entry);
	if (!add && !present)
		return ctl_err(c, "not-found", "%s has no entry %s", list, norm);
	if (store_list_edit(st, list, norm, add, expires, who) < 0)
		return ctl_err(c, "failed", "recording the edit: %s", store_error(st));
	mw_fmt_time(expires, t, sizeof(t));
	snprintf(newv, sizeof(newv), "%s%s%s", norm, expires ? " until " : "", expires ? t : "");
	snprintf(key, sizeof(key), "list.%s", list);
	if (store_audit_add(st, now, who, key, add ? "" : norm, add ? newv : "") < 0)
		return ctl_err(c, "failed", "edit recorded, audit row failed: %s", store_error(st));
	ctl_out(c, "%s %s %s%s", add ? "added to" : "removed from", list, newv,
	        add && present ? " (already listed)" : "");
	return 0;
}

int ctl_run_list_show(ctl_conn *c, size_t argc, char **argv)
{
	mw_lists *l = c->h->lists();
	size_t i, n, shown = 0, matched = 0;

	if (argc == 0) {
		for (i = 0; i < lists_nlists(l); i++)
			ctl_out(c, "%-12s %6zu entries", lists_name(l, i), lists_count(l, lists_name(l, i)));
		n = lists_nlists(l);
		lists_unref(l);
		return ctl_ok(c, "%zu list(s); list show NAME [FILTER] for entries", n);
	}
	if (!list_known(l, argv[0])) {
		lists_unref(l);
		return ctl_err(c, "not-found", "no list \"%.32s\"", argv[0]);
	}
	n = lists_count(l, argv[0]);
	for (i = 0; i < n; i++) {
		const char *e = lists_entry(l, argv[0], i);
		if (argc == 2 && strstr(e, argv[1]) == NULL)
			continue;
		matched++;
		if (shown < SHOW_MAX) {
			ctl_out(c, "%s", e);
			shown++;
		}
	}
	lists_unref(l);
	if (matched > shown)
		ctl_out(c, "... %zu more (add a FILTER)", matched - shown);
	return ctl_ok(c, "%zu of %zu entries", matched, n);
}

int ctl_run_list_add(ctl_conn *c, size_t argc, char **argv)
{
	unsigned long days = 0;

	if (argc == 3)
		ctl_parse_uint(argv[2], 0, 3650, &days);
	if (ctl_list_change(c, argv[0], argv[1], 1, days, c->who) < 0 || ctl_apply(c) < 0)
		return -1;
	return ctl_ok(c, "applied");
}

int ctl_run_list_remove(ctl_conn *c, size_t argc, char **argv)
{
	(void)argc;
	if (ctl_list_change(c, argv[0], argv[1], 0, 0, c->who) < 0 || ctl_apply(c) < 0)
		return -1;
	return ctl_ok(c, "applied");
}

/* block_value - normalise a sender address or a domain (to its registrable domain) */
static int block_value(ctl_conn *c, const char *kind, const char *in, char *out, size_t len)
{
	char low[256];
	size_t i;

	mw_strlcpy(low, in[0] == '@' || in[0] == '.' ? in + 1 : in, sizeof(low));
	mw_lower(low);
	for (i = 0; low[i]; i++)
		if ((unsigned char)low[i] <= ' ' || strchr("<>\"\\,;", low[i]))
			return ctl_err(c, "invalid", "\"%.80s\" contains a character not allowed here", in);
	if (strcmp(kind, "sender") == 0) {
		const char *at = strrchr(low, '@');
		if (at == NULL || at == low || at[1] == 0)
			return ctl_err(c, "invalid", "a sender is an address: user@domain");
		mw_strlcpy(out, low, len);
		return 0;
	}
	if (strchr(low, '@') || strchr(low, '.') == NULL)
		return ctl_err(c, "invalid", "a domain looks like example.com");
	mw_regdomain(low, out, len);
	return 0;
}

int ctl_block_change(ctl_conn *c, const char *kind, const char *value, int add, unsigned long days, const char *reason,
                     const char *who)
{
	mw_store *st = ctl_store(c);
	char v[256], desc[400], key[32], t[32];
	time_t now = time(NULL);
	store_block b;
	int rc;

	if (st == NULL || block_value(c, kind, value, v, sizeof(v)) < 0)
		return -1;
	snprintf(key, sizeof(key), "block.%s", kind);
	if (add) {
		memset(&b, 0, sizeof(b));
		mw_strlcpy(b.kind, kind, sizeof(b.kind));
		mw_strlcpy(b.value, v, sizeof(b.value));
		mw_strlcpy(b.code, "manual", sizeof(b.code));
		mw_strlcpy(b.detail, reason && *reason ? reason : "blocked on the console", sizeof(b.detail));
		/* source stays empty: it names a message in the 550 text; who is in the audit trail */
		b.created = now;
		b.expires = days ? now + (time_t)days * 86400 : 0;
		if (store_block_add(st, &b) < 0)
			return ctl_err(c, "failed", "%s", store_error(st));
		mw_fmt_time(b.expires, t, sizeof(t));
		snprintf(desc, sizeof(desc), "%s until %s: %.200s", v, b.expires ? t : "unblocked", b.detail);
		store_audit_add(st, now, who, key, "", desc);
		ctl_out(c, "blocked %s %s (%s)", kind, v, b.expires ? t : "until unblocked");
		if (strcmp(v, value) != 0 && strcmp(kind, "domain") == 0)
			ctl_out(c, "(registrable domain of %s: its sub-domains are blocked too)", value);
		return 0;
	}
	memset(&b, 0, sizeof(b));
	/* the block as it was, for the audit line; whether there was one is the removal's answer */
	if (store_block_find(st, kind, v, now, &b) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	if ((rc = store_block_remove(st, kind, v)) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	if (rc == 1)
		return ctl_err(c, "not-found", "no block on %s %s (see `blocks`)", kind, v);
	snprintf(desc, sizeof(desc), "%s (%s: %.200s)", v, b.code[0] ? b.code : "manual", b.detail);
	store_audit_add(st, now, who, key, desc, "");
	ctl_out(c, "unblocked %s %s", kind, v);
	return 0;
}

int ctl_run_block(ctl_conn *c, size_t argc, char **argv)
{
	unsigned long days = 0;
	char reason[200] = "";
	size_t i = 2, n = 0;

	if (argc > 2 && argv[2][0] >= '0' && argv[2][0] <= '9') {
		ctl_parse_uint(argv[2], 0, 3650, &days);
		i = 3;
	}
	for (; i < argc; i++)
		n += (size_t)snprintf(reason + n, n < sizeof(reason) ? sizeof(reason) - n : 0, "%s%s", n ? " " : "",
		                      argv[i]);
	if (ctl_block_change(c, argv[0], argv[1], 1, days, reason, c->who) < 0)
		return -1;
	return ctl_ok(c, "applied: the next mail from it is refused with 550");
}

int ctl_run_unblock(ctl_conn *c, size_t argc, char **argv)
{
	(void)argc;
	if (ctl_block_change(c, argv[0], argv[1], 0, 0, "", c->who) < 0)
		return -1;
	return ctl_ok(c, "applied");
}

typedef struct blocks_ctx {
	ctl_conn *c;
	const char *filter;
	size_t shown, matched;
} blocks_ctx;

static void block_row(const store_block *b, void *arg)
{
	blocks_ctx *x = arg;
	char t[32], v[64], d[80], s[40];

	if (x->filter && strstr(b->value, x->filter) == NULL && strstr(b->code, x->filter) == NULL)
		return;
	if (++x->matched > SHOW_MAX)
		return;
	x->shown++;
	mw_fmt_time(b->expires, t, sizeof(t));
	ctl_out(x->c, "%-6s %-36s %-18s %s", b->kind, mw_cut(b->value, 36, v, sizeof(v)), b->code,
	        b->expires ? t : "never");
	ctl_out(x->c, "       %s%s%s", mw_cut(b->detail, 50, d, sizeof(d)), b->source[0] ? " / " : "",
	        mw_cut(b->source, 20, s, sizeof(s)));
}

int ctl_run_blocks(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	blocks_ctx x;

	if (st == NULL)
		return -1;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.filter = argc ? argv[0] : NULL;
	ctl_out(c, "%-6s %-36s %-18s %s", "KIND", "VALUE", "WHY", "EXPIRES");
	if (store_block_list(st, time(NULL), block_row, &x) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	if (x.matched > x.shown)
		ctl_out(c, "... %zu more (add a FILTER)", x.matched - x.shown);
	return ctl_ok(c, "%zu active block(s)", x.matched);
}
