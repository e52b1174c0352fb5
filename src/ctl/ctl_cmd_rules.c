/*
 * NAME
 *	ctl_cmd_rules.c - control commands: rules, lockdown, history,
 *	revert, export, import
 * SYNOPSIS
 *	rules show [KEY|SECTION] | rules set KEY VALUE | rules unset KEY
 *	lockdown [0|1|2] | history [N] | revert ID | export | import
 * DESCRIPTION
 *	A rule is any configuration key outside [daemon] and [paths] (those
 *	are deployment settings), plus actions.CODE.  A new value is first
 *	loaded into a trial configuration (the file, the -o overrides, every
 *	rule and the new one) exactly as the daemon would load it; only when
 *	that succeeds is it saved (store_rule_set: the rule and its audit row
 *	in one transaction) and the snapshot rebuilt, so it applies to the
 *	next message.  If the rebuild fails the old value is put back.
 *
 *	Audit keys: a rule's own key; "list.NAME" (old "" and new "ENTRY ..."
 *	for an addition, the reverse for a removal); "block.KIND" likewise;
 *	"quarantine.release"/"quarantine.delete" (not revertible).  revert
 *	reads those back.
 *
 *	export writes rules and list edits as commands (list edits are the
 *	difference between the shipped list files and the effective lists);
 *	import accepts the same lines, checks them all, then applies them
 *	and rebuilds once.
 * LIMITS
 *	Values up to 400 bytes; history up to 1000 rows at once.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl_int.h"

#include <stdio.h>
#include <string.h>

#define MAX_VALUE 400

/* join - words joined by single spaces into out; -1 if too long */
static int join(size_t argc, char **argv, char *out, size_t len)
{
	size_t i, n = 0;

	out[0] = 0;
	for (i = 0; i < argc; i++) {
		size_t w = strlen(argv[i]);
		if (n + w + 2 > len)
			return -1;
		if (i)
			out[n++] = ' ';
		memcpy(out + n, argv[i], w + 1);
		n += w;
	}
	return 0;
}

/* key_allowed - a tunable key: section.key outside [daemon], [paths], [console], [store] */
static int key_allowed(ctl_conn *c, const char *key)
{
	static const char *const fixed[] = {"daemon.", "paths.", "console.", "store."};
	size_t i;

	if (strchr(key, '.') == NULL || strchr(key, '=') || strlen(key) > 100)
		return ctl_err(c, "invalid", "a rule key is section.key (sender.fanout_threshold) or actions.CODE");
	for (i = 0; i < MW_ARRAY_LEN(fixed); i++)
		if (strncmp(key, fixed[i], strlen(fixed[i])) == 0)
			return ctl_err(c, "invalid", "%.*s keys are deployment settings: edit mailwarden.conf",
			               (int)strlen(fixed[i]) - 1, fixed[i]);
	return 0;
}

/* trial - would the rules plus key=value load?  0, or -1 after ERR invalid */
static int trial(ctl_conn *c, mw_store *st, const char *key, const char *value)
{
	char extra[600], err[512];
	mw_config *t;

	if (value == NULL)
		return 0;
	snprintf(extra, sizeof(extra), "%s=%s", key, value);
	if ((t = c->h->trial(st, extra, err, sizeof(err))) == NULL) {
		/* "-o key=value: what is wrong": the key=value part is the request itself */
		const char *why = strncmp(err, "-o ", 3) == 0 && strstr(err, ": ") ? strstr(err, ": ") + 2 : err;
		return ctl_err(c, "invalid", "%s", why);
	}
	config_unref(t);
	return 0;
}

/* each_effective - call fn("section.key", value) for every effective key of cfg */
static void each_effective(const mw_config *cfg, void (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	mw_buf b;
	char section[40] = "", *line, *save = NULL;

	buf_init(&b, 0);
	config_write_effective(cfg, &b);
	for (line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[200], *eq;
		if (line[0] == '#')
			continue;
		if (line[0] == '[') {
			snprintf(section, sizeof(section), "%.*s", (int)strcspn(line + 1, "]"), line + 1);
			continue;
		}
		if ((eq = strstr(line, " = ")) == NULL) {
			if ((eq = strstr(line, " =")) == NULL)
				continue;
		}
		snprintf(key, sizeof(key), "%s.%.*s", section, (int)(eq - line), line);
		fn(key, eq[2] == ' ' ? eq + 3 : eq + 2, arg);
	}
	buf_free(&b);
}

typedef struct show_ctx {
	ctl_conn *c;
	const char *want; /* key or "section." prefix */
	int prefix;
	size_t n;
	char value[MAX_VALUE + 100];
	int found;
} show_ctx;

static void show_effective(const char *key, const char *value, void *arg)
{
	show_ctx *s = arg;

	if (s->prefix ? strncmp(key, s->want, strlen(s->want)) != 0 : strcmp(key, s->want) != 0)
		return;
	ctl_out(s->c, "%s = %s", key, value);
	s->n++;
}

static void show_rule(const char *key, const char *value, void *arg)
{
	show_ctx *s = arg;

	if (s->want) {
		if (strcmp(key, s->want) == 0) {
			s->found = 1;
			mw_strlcpy(s->value, value, sizeof(s->value));
		}
		return;
	}
	ctl_out(s->c, "%s = %s", key, value);
	s->n++;
}

int ctl_run_rules_show(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	show_ctx s;
	char want[120];
	mw_config *cfg;

	if (st == NULL)
		return -1;
	memset(&s, 0, sizeof(s));
	s.c = c;
	if (argc == 0) {
		if (store_rules(st, show_rule, &s) < 0)
			return ctl_err(c, "failed", "%s", store_error(st));
		if (s.n == 0)
			ctl_out(c, "(no rules: the configuration file and its defaults apply)");
		return ctl_ok(c, "%zu rule(s)", s.n);
	}
	s.prefix = strchr(argv[0], '.') == NULL;
	snprintf(want, sizeof(want), "%.100s%s", argv[0], s.prefix ? "." : "");
	s.want = want;
	cfg = c->h->cfg();
	each_effective(cfg, show_effective, &s);
	config_unref(cfg);
	if (s.n == 0)
		return ctl_err(c, "not-found",
		               "no key or section \"%.60s\" (sections: sender, quarantine, hold, "
		               "limits, actions, domains)",
		               argv[0]);
	if (!s.prefix) {
		s.want = argv[0];
		store_rules(st, show_rule, &s);
		ctl_out(c,
		        s.found ? "(a rule set at run time; `rules unset %s` returns to the file)"
		                : "(from the configuration file or its default)",
		        argv[0]);
	}
	return ctl_ok(c, "%zu value(s)", s.n);
}

int ctl_rule_change(ctl_conn *c, const char *key, const char *value, const char *who)
{
	mw_store *st = ctl_store(c);
	char old[512], err[512];

	if (st == NULL || key_allowed(c, key) < 0 || trial(c, st, key, value) < 0)
		return -1;
	if (store_rule_set(st, key, value, who, time(NULL), old, sizeof(old)) < 0)
		return ctl_err(c, "failed", "saving the rule: %s", store_error(st));
	if (c->h->rebuild(st, err, sizeof(err)) < 0) {
		store_rule_set(st, key, old[0] ? old : NULL, who, time(NULL), NULL, 0);
		c->h->rebuild(st, err, sizeof(err));
		return ctl_err(c, "failed", "the new rules do not load, old value put back: %s", err);
	}
	ctl_out(c, "%s = %s (was %s)", key, value ? value : "(file)", old[0] ? old : "(file)");
	return 0;
}

int ctl_run_rules_set(ctl_conn *c, size_t argc, char **argv)
{
	char value[MAX_VALUE + 1];

	if (join(argc - 1, argv + 1, value, sizeof(value)) < 0)
		return ctl_err(c, "invalid", "value longer than %d bytes", MAX_VALUE);
	if (ctl_rule_change(c, argv[0], value, c->who) < 0)
		return -1;
	return ctl_ok(c, "applied");
}

int ctl_run_rules_unset(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	show_ctx s;

	(void)argc;
	if (st == NULL)
		return -1;
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.want = argv[0];
	if (store_rules(st, show_rule, &s) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	if (!s.found)
		return ctl_err(c, "not-found", "no rule %.100s (see `rules show`)", argv[0]);
	if (ctl_rule_change(c, argv[0], NULL, c->who) < 0)
		return -1;
	return ctl_ok(c, "applied");
}

int ctl_run_lockdown(ctl_conn *c, size_t argc, char **argv)
{
	static const char *const meaning[] = {"off", "hold external mail with attachments or links",
	                                      "hold all external mail"};
	mw_config *cfg;
	size_t level;

	if (argc == 1) {
		if (ctl_rule_change(c, "hold.lockdown", argv[0], c->who) < 0)
			return -1;
	}
	cfg = c->h->cfg();
	level = cfg->lockdown;
	config_unref(cfg);
	return ctl_ok(c, "lockdown %zu: %s", level, level < 3 ? meaning[level] : "?");
}

typedef struct hist_ctx {
	ctl_conn *c;
} hist_ctx;

static void hist_row(const store_audit_row *r, void *arg)
{
	hist_ctx *h = arg;
	char t[32], who[24], key[48], o[40], n[40];

	mw_fmt_time(r->time, t, sizeof(t));
	ctl_out(h->c, "#%-5lld %s %-20s %s", r->id, t, mw_cut(r->who, 20, who, sizeof(who)),
	        mw_cut(r->key, 36, key, sizeof(key)));
	ctl_out(h->c, "       %s -> %s", r->old[0] ? mw_cut(r->old, 32, o, sizeof(o)) : "(none)",
	        r->new_[0] ? mw_cut(r->new_, 32, n, sizeof(n)) : "(none)");
}

int ctl_run_history(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	unsigned long n = 20;
	hist_ctx h = {c};
	int got;

	if (st == NULL)
		return -1;
	if (argc == 1)
		ctl_parse_uint(argv[0], 1, 1000, &n);
	if ((got = store_audit(st, n, hist_row, &h)) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	return ctl_ok(c, "%d change(s), newest first; `revert ID` puts back an old value", got);
}

/* first_word - the first space-separated word of s into out */
static void first_word(const char *s, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)strcspn(s, " "), s);
}

int ctl_run_revert(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	store_audit_row r;
	unsigned long id;
	char who[CTL_WHO_MAX], w[300];
	int rc;

	(void)argc;
	if (st == NULL)
		return -1;
	ctl_parse_uint(argv[0], 1, 999999999, &id);
	if ((rc = store_audit_get(st, (long long)id, &r)) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	if (rc == 0)
		return ctl_err(c, "not-found", "no change #%lu (see `history`)", id);
	snprintf(who, sizeof(who), "%.40s revert#%lu", c->who, id);
	if (strncmp(r.key, "list.", 5) == 0) {
		first_word(r.new_[0] ? r.new_ : r.old, w, sizeof(w));
		if (ctl_list_change(c, r.key + 5, w, r.new_[0] == 0, 0, who) < 0 || ctl_apply(c) < 0)
			return -1;
	} else if (strncmp(r.key, "block.", 6) == 0) {
		first_word(r.new_[0] ? r.new_ : r.old, w, sizeof(w));
		if (ctl_block_change(c, r.key + 6, w, r.new_[0] == 0, 0, "", who) < 0)
			return -1;
	} else if (strncmp(r.key, "quarantine.", 11) == 0) {
		return ctl_err(c, "invalid", "a quarantine release or deletion cannot be reverted");
	} else {
		if (ctl_rule_change(c, r.key, r.old[0] ? r.old : NULL, who) < 0)
			return -1;
	}
	return ctl_ok(c, "reverted #%lu", id);
}

/* ---- export / import ---- */

static void export_rule(const char *key, const char *value, void *arg)
{
	mw_buf *b = arg;

	buf_puts(b, "rules set ");
	ctl_quote(b, key);
	buf_putc(b, ' ');
	ctl_quote(b, value);
	buf_putc(b, '\n');
}

/* export_list - list edits of one list: the difference between shipped and effective */
static void export_list(mw_buf *b, const mw_lists *shipped, const mw_lists *eff, const char *name)
{
	size_t i = 0, j = 0, ns = lists_count(shipped, name), ne = lists_count(eff, name);

	while (i < ns || j < ne) {
		const char *s = i < ns ? lists_entry(shipped, name, i) : NULL;
		const char *e = j < ne ? lists_entry(eff, name, j) : NULL;
		int cmp = s == NULL ? 1 : e == NULL ? -1 : strcmp(s, e);
		if (cmp == 0) {
			i++;
			j++;
			continue;
		}
		buf_printf(b, "list %s %s ", cmp < 0 ? "remove" : "add", name);
		ctl_quote(b, cmp < 0 ? s : e);
		buf_putc(b, '\n');
		if (cmp < 0)
			i++;
		else
			j++;
	}
}

int ctl_run_export(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	mw_lists *eff, *shipped;
	mw_config *cfg;
	char err[512], t[32];
	mw_buf b;
	size_t i;

	(void)argc;
	(void)argv;
	if (st == NULL)
		return -1;
	buf_init(&b, CTL_MAX_OUT);
	mw_fmt_time(time(NULL), t, sizeof(t));
	buf_printf(&b, "# Mailwarden rules and list edits, exported %s by %s\n", t, c->who);
	buf_puts(&b, "# Apply with: mailwarden ctl import < FILE\n");
	if (store_rules(st, export_rule, &b) < 0) {
		buf_free(&b);
		return ctl_err(c, "failed", "%s", store_error(st));
	}
	cfg = c->h->cfg();
	eff = c->h->lists();
	shipped = lists_new();
	if (lists_load_dir(shipped, cfg->lists, err, sizeof(err)) < 0) {
		buf_printf(&b, "# shipped lists unreadable (%.200s): list edits not exported\n", err);
	} else {
		for (i = 0; i < lists_nlists(eff); i++)
			export_list(&b, shipped, eff, lists_name(eff, i));
		for (i = 0; i < lists_nlists(shipped); i++)
			if (lists_count(eff, lists_name(shipped, i)) == 0)
				export_list(&b, shipped, eff, lists_name(shipped, i));
	}
	lists_unref(shipped);
	lists_unref(eff);
	config_unref(cfg);
	ctl_out(c, "%s", b.p);
	buf_free(&b);
	return ctl_ok(c, "export complete");
}

/* import_line - check (apply 0) or apply (1) one line; 0 ok or skipped, -1 after ctl_err */
static int import_line(ctl_conn *c, mw_store *st, const char *line, size_t lineno, int apply, const char *who)
{
	ctl_req *req = x_malloc(sizeof(*req));
	char err[300], value[MAX_VALUE + 1];
	unsigned long days = 0;
	int rc = -1;

	if (ctl_parse_request(line, strlen(line), req, err, sizeof(err)) < 0) {
		ctl_err(c, "invalid", "line %zu: %s", lineno, err);
		goto out;
	}
	if (req->argc >= 4 && strcmp(req->argv[0], "rules") == 0 && strcmp(req->argv[1], "set") == 0) {
		if (join(req->argc - 3, req->argv + 3, value, sizeof(value)) < 0) {
			ctl_err(c, "invalid", "line %zu: value too long", lineno);
			goto out;
		}
		if (key_allowed(c, req->argv[2]) < 0 || (!apply && trial(c, st, req->argv[2], value) < 0))
			goto lineerr;
		if (apply && store_rule_set(st, req->argv[2], value, who, time(NULL), NULL, 0) < 0) {
			ctl_err(c, "failed", "line %zu: %s", lineno, store_error(st));
			goto out;
		}
	} else if (req->argc == 3 && strcmp(req->argv[0], "rules") == 0 && strcmp(req->argv[1], "unset") == 0) {
		if (key_allowed(c, req->argv[2]) < 0)
			goto lineerr;
		if (apply && store_rule_set(st, req->argv[2], NULL, who, time(NULL), NULL, 0) < 0) {
			ctl_err(c, "failed", "line %zu: %s", lineno, store_error(st));
			goto out;
		}
	} else if ((req->argc == 4 || req->argc == 5) && strcmp(req->argv[0], "list") == 0 &&
	           (strcmp(req->argv[1], "add") == 0 || strcmp(req->argv[1], "remove") == 0)) {
		int add = strcmp(req->argv[1], "add") == 0;
		if (req->argc == 5 && (!add || ctl_parse_uint(req->argv[4], 0, 3650, &days) < 0)) {
			ctl_err(c, "invalid", "line %zu: DAYS is 0..3650, for list add only", lineno);
			goto out;
		}
		if (apply && ctl_list_change(c, req->argv[2], req->argv[3], add, days, who) < 0)
			goto lineerr;
		if (!apply) {
			mw_lists *l = lists_new();
			int bad = lists_add(l, req->argv[2], req->argv[3]) < 0;
			lists_unref(l);
			if (bad) {
				ctl_err(c, "invalid", "line %zu: bad list name or entry", lineno);
				goto out;
			}
		}
	} else {
		ctl_err(c, "invalid", "line %zu: only rules set/unset and list add/remove lines are imported", lineno);
		goto out;
	}
	rc = 0;
	goto out;
lineerr:
	/* prefix the line number to the error set by the helper */
	snprintf(err, sizeof(err), "%s", c->final + 4);
	{
		size_t sp = strcspn(err, " ");
		char code[32];
		snprintf(code, sizeof(code), "%.*s", (int)sp, err);
		ctl_err(c, code, "line %zu: %s", lineno, err[sp] ? err + sp + 1 : "");
	}
out:
	x_free(req);
	return rc;
}

int ctl_run_import(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	char who[CTL_WHO_MAX], *copy, *line, *rest;
	size_t pass, lineno, applied = 0;

	(void)argc;
	(void)argv;
	if (st == NULL)
		return -1;
	snprintf(who, sizeof(who), "%.50s import", c->who);
	for (pass = 0; pass < 2; pass++) {
		copy = x_strdup(c->data ? c->data : "");
		lineno = 0;
		rest = copy;
		while ((line = strsep(&rest, "\n")) != NULL) {
			lineno++;
			line = mw_trim(line);
			if (*line == 0 || *line == '#')
				continue;
			if (import_line(c, st, line, lineno, (int)pass, who) < 0) {
				x_free(copy);
				if (pass == 1)
					ctl_apply(c);
				return -1;
			}
			applied += pass;
		}
		x_free(copy);
	}
	if (ctl_apply(c) < 0)
		return -1;
	return ctl_ok(c, "%zu change(s) imported and applied", applied);
}
