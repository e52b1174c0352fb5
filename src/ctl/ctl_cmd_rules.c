/*
 * NAME
 *	ctl_cmd_rules.c - control commands: rules, lockdown, history,
 *	revert, export, import
 * SYNOPSIS
 *	rules show [KEY|SECTION] | rules set KEY VALUE | rules unset KEY
 *	lockdown [0|1|2] | history [N] | revert ID
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
 *	"quarantine.release"/"quarantine.delete" and "action.*" (apply,
 *	reboot, certificates: not revertible); "batch.*" heads a change of
 *	several keys (ctl_cmd_config.c: setup, import, a batch revert).
 *	revert reads those back.
 *
 *	After a change, ctl_applied() (ctl_cmd_config.c) puts it where it
 *	lives: Postfix settings are applied at once, system settings wait
 *	for `apply`.  export and import are in ctl_cmd_config.c.
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

/* ctl_key_allowed - a tunable key: section.key outside [daemon], [paths], [console], [store] */
int ctl_key_allowed(ctl_conn *c, const char *key)
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

/* ctl_trial - would the rules plus key=value load?  0, or -1 after ERR invalid */
int ctl_trial(ctl_conn *c, mw_store *st, const char *key, const char *value)
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

/* ctl_each_effective - call fn("section.key", value) for every effective key of cfg */
void ctl_each_effective(const mw_config *cfg, void (*fn)(const char *key, const char *value, void *arg), void *arg)
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
	ctl_each_effective(cfg, show_effective, &s);
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
	size_t lockdown_before = ctl_lockdown_level(c);

	if (st == NULL || ctl_key_allowed(c, key) < 0 || ctl_trial(c, st, key, value) < 0)
		return -1;
	if (store_rule_set(st, key, value, who, time(NULL), old, sizeof(old)) < 0)
		return ctl_err(c, "failed", "saving the rule: %s", store_error(st));
	if (c->h->rebuild(st, err, sizeof(err)) < 0) {
		store_rule_set(st, key, old[0] ? old : NULL, who, time(NULL), NULL, 0);
		c->h->rebuild(st, err, sizeof(err));
		return ctl_err(c, "failed", "the new rules do not load, old value put back: %s", err);
	}
	ctl_out(c, "%s = %s (was %s)", key, value ? value : "(file)", old[0] ? old : "(file)");
	ctl_applied(c, &key, 1, lockdown_before);
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
	if (strncmp(r.key, "batch.", 6) == 0)
		return ctl_batch_revert(c, &r);
	if (strncmp(r.key, "action.", 7) == 0)
		return ctl_err(c, "invalid",
		               "%.60s was an action (apply, reboot, certificate), not a setting: it cannot be "
		               "reverted",
		               r.key);
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
