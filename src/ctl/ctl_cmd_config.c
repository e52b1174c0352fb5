/*
 * NAME
 *	ctl_cmd_config.c - control commands on the configuration as a whole:
 *	config show/get/check/export/import, import, setup apply; batches;
 *	applying a change where the setting lives
 * SYNOPSIS
 *	config show [all|SECTION|KEY]	config get KEY		config check KEY VALUE
 *	config export | export		config import (data)	import (data)
 *	setup apply (data)
 * DESCRIPTION
 *	config show puts the three layers side by side: the built-in
 *	default, the configuration file (with the daemon's -o overrides) and
 *	the rule kept in the state database, and says which one is in effect
 *	(a rule always wins over the file).
 *
 *	A batch applies several changes as one: every line is checked first
 *	(the key may be set at run time, the value loads in a trial
 *	configuration, list entries are valid), then each change is saved
 *	and audited as "WHO LABEL", the snapshot is rebuilt once, and a head
 *	row "batch.LABEL" records the range of audit rows ("N change(s)
 *	#A-#B").  If anything fails, what was saved is put back, so a batch
 *	is applied whole or not at all.  `revert` of the head row reverts the
 *	whole batch, itself as a batch.  Changes that change nothing (a rule
 *	to its current value, adding a listed entry) are left out.
 *
 *	import adds the lines of an export; config import makes the run-time
 *	rules and list edits exactly those of the text (rules not in it are
 *	unset, list entries not in it are removed or restored): "import it
 *	back" restores an exported configuration.  setup apply is the batch
 *	of the console's guided set-up.
 *
 *	After every change ctl_applied() puts it where it lives
 *	(appl_key_applies): Postfix settings are applied at once through the
 *	privileged helper ("postfix": main.cf rewritten, Postfix reloaded);
 *	system settings (host name, network, resolver, time) are remembered
 *	as waiting for `apply`, which the console offers; raising hold.lockdown
 *	raises an alert.
 * LIMITS
 *	CFGTEXT_MAX_OPS changes per batch; PENDING_MAX waiting keys.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "alert/alert.h"
#include "appliance/appliance.h"
#include "ctl/ctl_int.h"
#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_MAX 32

static pthread_mutex_t pending_mu = PTHREAD_MUTEX_INITIALIZER;
static char pending[PENDING_MAX][64];
static size_t npending;

static void pending_add(const char *key)
{
	size_t i;

	pthread_mutex_lock(&pending_mu);
	for (i = 0; i < npending; i++)
		if (strcmp(pending[i], key) == 0)
			break;
	if (i == npending && npending < PENDING_MAX)
		mw_strlcpy(pending[npending++], key, sizeof(pending[0]));
	pthread_mutex_unlock(&pending_mu);
}

void ctl_pending(char *out, size_t len)
{
	size_t i, n = 0;

	out[0] = 0;
	pthread_mutex_lock(&pending_mu);
	for (i = 0; i < npending && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? " " : "", pending[i]);
	pthread_mutex_unlock(&pending_mu);
}

void ctl_pending_clear(void)
{
	pthread_mutex_lock(&pending_mu);
	npending = 0;
	pthread_mutex_unlock(&pending_mu);
}

size_t ctl_lockdown_level(ctl_conn *c)
{
	mw_config *cfg = c->h->cfg();
	size_t l = cfg->lockdown;

	config_unref(cfg);
	return l;
}

/* out_lines - each line of text as a data line, prefixed */
static void out_lines(ctl_conn *c, const char *prefix, const char *text)
{
	const char *p = text;

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		if (n)
			ctl_out(c, "%s%.*s", prefix, (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

/* apply_postfix - the privileged helper rewrites main.cf and reloads Postfix; 0 or -1 (reported) */
static int apply_postfix(ctl_conn *c)
{
	mw_buf out;
	char err[400];
	int st;

	if (!priv_configured()) {
		ctl_out(c,
		        "(Postfix is not managed on this host: [daemon] apply_command is empty; the setting is saved)");
		return 0;
	}
	buf_init(&out, PRIV_MAX_OUTPUT);
	st = priv_run("postfix", 0, NULL, NULL, 0, &out, err, sizeof(err));
	if (st == 0) {
		out_lines(c, "", out.p);
		if (out.len == 0)
			ctl_out(c, "Postfix: main.cf rewritten and reloaded");
	} else {
		out_lines(c, "  ", out.p);
		ctl_out(c, "Postfix: NOT applied (%s); the setting is saved: fix the cause, then `apply`",
		        st < 0 ? err : "the apply command failed");
		pending_add("postfix");
	}
	buf_free(&out);
	return st == 0 ? 0 : -1;
}

void ctl_applied(ctl_conn *c, const char *const *keys, size_t n, size_t lockdown_before)
{
	int postfix = 0, system = 0, lockdown = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (appl_key_applies(keys[i])) {
		case APPLY_POSTFIX: postfix = 1; break;
		case APPLY_SYSTEM:
			system = 1;
			pending_add(keys[i]);
			break;
		default: break;
		}
		if (strcmp(keys[i], "hold.lockdown") == 0)
			lockdown = 1;
	}
	if (postfix)
		apply_postfix(c);
	if (system) {
		char p[600];
		ctl_pending(p, sizeof(p));
		if (priv_configured())
			ctl_out(
			    c,
			    "(needs apply: %s; `apply` puts them into effect now, the network may drop for a moment)",
			    p);
		else
			ctl_out(c,
			        "(saved: %s; this host's network is not managed by Mailwarden: [daemon] apply_command "
			        "is empty)",
			        p);
	}
	if (lockdown) {
		size_t now = ctl_lockdown_level(c);
		mw_store *st = c->h->store ? __atomic_load_n(c->h->store, __ATOMIC_ACQUIRE) : NULL;
		if (now > lockdown_before)
			alert_raise(st, ALERT_LOCKDOWN, "", "", "lockdown level %zu (was %zu) set by %s: %s", now,
			            lockdown_before, c->who,
			            now >= 2 ? "all external mail is held"
			                     : "external mail with attachments or links is held");
	}
}

/* ---- key/value maps of configurations ---- */

typedef struct kv {
	char *key, *value;
} kv;

typedef struct kvs {
	kv *v;
	size_t n;
} kvs;

static void kv_add(const char *key, const char *value, void *arg)
{
	kvs *m = arg;

	m->v = x_realloc(m->v, (m->n + 1) * sizeof(*m->v));
	m->v[m->n].key = x_strdup(key);
	m->v[m->n++].value = x_strdup(value);
}

static const char *kv_get(const kvs *m, const char *key)
{
	size_t i;

	for (i = m->n; i-- > 0;) /* the last one wins */
		if (strcmp(m->v[i].key, key) == 0)
			return m->v[i].value;
	return NULL;
}

static void kv_del(kvs *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i].key, key) == 0) {
			x_free(m->v[i].key);
			x_free(m->v[i].value);
			m->v[i] = m->v[--m->n];
			i--;
		}
}

static void kv_free(kvs *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		x_free(m->v[i].key);
		x_free(m->v[i].value);
	}
	x_free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* sections every `config show` lists: the appliance's settings */
static int always_shown(const char *key)
{
	static const char *const sect[] = {"domains.", "mta.", "system.", "alert."};
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(sect); i++)
		if (strncmp(key, sect[i], strlen(sect[i])) == 0)
			return 1;
	return 0;
}

static const char *shown(const char *v)
{
	return v == NULL ? "-" : *v ? v : "(empty)";
}

int ctl_run_config_show(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	mw_config *def = NULL, *file = NULL, *eff = NULL;
	kvs D = {0}, F = {0}, E = {0}, R = {0};
	char err[512], b1[40], b2[40], b3[40], p[600];
	const char *want = argc ? argv[0] : NULL;
	size_t i, rows = 0;
	int rc = -1, all = want && strcmp(want, "all") == 0;

	if (st == NULL)
		return -1;
	if (config_load(NULL, NULL, 0, &def, err, sizeof(err)) < 0 ||
	    (file = c->h->trial(NULL, NULL, err, sizeof(err))) == NULL) {
		ctl_err(c, "failed", "the configuration does not load: %s", err);
		goto out;
	}
	eff = c->h->cfg();
	ctl_each_effective(def, kv_add, &D);
	ctl_each_effective(file, kv_add, &F);
	ctl_each_effective(eff, kv_add, &E);
	if (store_rules(st, kv_add, &R) < 0) {
		ctl_err(c, "failed", "%s", store_error(st));
		goto out;
	}
	if (want && !all && strchr(want, '.') && kv_get(&E, want)) {
		const char *r = kv_get(&R, want), *f = kv_get(&F, want), *d = kv_get(&D, want);
		ctl_out(c, "%s   (a change applies: %s)", want, appl_applies_name(appl_key_applies(want)));
		ctl_out(c, "  in effect  %s", shown(kv_get(&E, want)));
		ctl_out(c, "  rule       %s", r ? shown(r) : "(none)");
		ctl_out(c, "  file       %s%s", shown(f), f && d && strcmp(f, d) == 0 ? "   (the default)" : "");
		ctl_out(c, "  default    %s", shown(d));
		ctl_out(c,
		        r ? "The rule wins; `rules unset %s` returns to the file's value."
		          : "The file's value is in effect; `rules set %s VALUE` overrides it.",
		        want);
		rc = ctl_ok(c, "%s from the %s", want, r ? "rule" : f && d && strcmp(f, d) == 0 ? "default" : "file");
		goto out;
	}
	ctl_out(c, "file %s; %zu rule(s) in the state database win over it", file->source, R.n);
	ctl_pending(p, sizeof(p));
	if (p[0])
		ctl_out(c, "waiting for `apply`: %s", p);
	if (!priv_configured())
		ctl_out(c, "([mta] and [system] are saved only: [daemon] apply_command is empty on this host)");
	ctl_out(c, "%-27s %-22s %-7s %s", "KEY", "IN EFFECT", "FROM", "FILE");
	for (i = 0; i < E.n; i++) {
		const char *k = E.v[i].key, *r = kv_get(&R, k), *f = kv_get(&F, k), *d = kv_get(&D, k);
		int differs = f && d && strcmp(f, d) != 0;
		if (want && !all) {
			size_t wl = strlen(want);
			if (strncmp(k, want, wl) != 0 || k[wl] != '.')
				continue;
		} else if (!all && !r && !differs && !always_shown(k)) {
			continue;
		}
		ctl_out(c, "%-27s %-22s %-7s %s", mw_cut(k, 27, b1, sizeof(b1)),
		        mw_cut(shown(E.v[i].value), 22, b2, sizeof(b2)),
		        r         ? "rule"
		        : differs ? "file"
		                  : "default",
		        mw_cut(differs ? shown(f) : "(default)", 20, b3, sizeof(b3)));
		rows++;
	}
	if (rows == 0 && want && !all) {
		ctl_err(c, "not-found", "no key or section \"%.60s\" (config show all lists every key)", want);
		goto out;
	}
	rc = ctl_ok(c, "%zu key(s); `config show KEY` for one key's layers, `config show all` for every key", rows);
out:
	kv_free(&D);
	kv_free(&F);
	kv_free(&E);
	kv_free(&R);
	config_unref(def);
	config_unref(file);
	config_unref(eff);
	return rc;
}

int ctl_run_config_get(ctl_conn *c, size_t argc, char **argv)
{
	mw_config *eff;
	kvs E = {0};
	const char *v;
	int rc;

	(void)argc;
	if (strncmp(argv[0], "list.", 5) == 0) {
		mw_lists *l = c->h->lists();
		const char *name = argv[0] + 5;
		mw_buf b;
		size_t i, n = lists_count(l, name);
		buf_init(&b, CTL_MAX_LINE - 10);
		for (i = 0; i < n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", lists_entry(l, name, i));
		ctl_out(c, "%s", b.truncated ? "(too many entries: list show)" : b.p ? b.p : "");
		buf_free(&b);
		lists_unref(l);
		return ctl_ok(c, "%s: %zu entries", argv[0], n);
	}
	eff = c->h->cfg();
	ctl_each_effective(eff, kv_add, &E);
	config_unref(eff);
	if ((v = kv_get(&E, argv[0])) == NULL)
		rc = ctl_err(c, "not-found", "no key \"%.60s\"", argv[0]);
	else {
		ctl_out(c, "%s", v);
		rc = ctl_ok(c, "%s", argv[0]);
	}
	kv_free(&E);
	return rc;
}

/* split_items - list items of a value (comma separated when it has a comma, else white space) */
static size_t split_items(char *v, char **items, size_t max)
{
	const char *seps = strchr(v, ',') ? "," : " ";
	char *save = NULL, *tok;
	size_t n = 0;

	for (tok = strtok_r(v, seps, &save); tok && n < max; tok = strtok_r(NULL, seps, &save)) {
		tok = mw_trim(tok);
		if (*tok)
			items[n++] = tok;
	}
	return n;
}

int ctl_run_config_check(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	mw_buf v;
	size_t i;
	int rc = -1;

	if (st == NULL)
		return -1;
	buf_init(&v, 1000);
	for (i = 1; i < argc; i++)
		buf_printf(&v, "%s%s", i > 1 ? " " : "", argv[i]);
	if (strncmp(argv[0], "list.", 5) == 0) {
		char *items[200], norm[300];
		size_t n = split_items(v.p ? v.p : (char *)"", items, MW_ARRAY_LEN(items));
		for (i = 0; i < n; i++)
			if (ctl_list_state(c, argv[0] + 5, items[i], norm, sizeof(norm)) < 0)
				goto out;
		rc = ctl_ok(c, "valid: %zu entr%s for %s", n, n == 1 ? "y" : "ies", argv[0] + 5);
		goto out;
	}
	if (ctl_key_allowed(c, argv[0]) < 0 || ctl_trial(c, st, argv[0], v.p ? v.p : "") < 0)
		goto out;
	rc = ctl_ok(c, "valid (applies: %s)", appl_applies_name(appl_key_applies(argv[0])));
out:
	buf_free(&v);
	return rc;
}

/* ---- export ---- */

static void export_rule(const char *key, const char *value, void *arg)
{
	cfg_op op = {CFG_RULE_SET, 0, (char *)key, (char *)value, 0};
	mw_buf *b = arg;

	cfgtext_write_op(b, &op);
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
		cfg_op op = {cmp < 0 ? CFG_LIST_REMOVE : CFG_LIST_ADD, 0, (char *)name, (char *)(cmp < 0 ? s : e), 0};
		if (cmp == 0) {
			i++;
			j++;
			continue;
		}
		cfgtext_write_op(b, &op);
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
	char err[512], t[32], host[256];
	mw_buf b;
	size_t i;

	(void)argc;
	(void)argv;
	if (st == NULL)
		return -1;
	cfg = c->h->cfg();
	buf_init(&b, CTL_MAX_OUT);
	mw_fmt_time(time(NULL), t, sizeof(t));
	alert_host(cfg, host, sizeof(host));
	buf_printf(&b, "# Mailwarden configuration of %.40s, exported %s\n", host, t);
	buf_printf(&b, "# by %s.  The run-time rules and list edits; they win over\n", c->who);
	buf_printf(&b, "# %.75s\n", cfg->source);
	buf_puts(&b, "# `config import` makes them exactly these; `import` adds them.\n");
	buf_puts(&b, "mailwarden-config 1\n");
	if (store_rules(st, export_rule, &b) < 0) {
		buf_free(&b);
		config_unref(cfg);
		return ctl_err(c, "failed", "%s", store_error(st));
	}
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
	buf_puts(&b, "# end\n");
	lists_unref(shipped);
	lists_unref(eff);
	config_unref(cfg);
	ctl_out(c, "%s", b.p);
	buf_free(&b);
	return ctl_ok(c, "%s", ""); /* nothing after "# end": the text pastes back as it is */
}

/* ---- batches ---- */

static void newest_id(const store_audit_row *r, void *arg)
{
	*(long long *)arg = r->id;
}

static long long last_audit_id(mw_store *st)
{
	long long id = 0;

	store_audit(st, 1, newest_id, &id);
	return id;
}

/* line_err - prefix "line N: " to the error the helpers set */
static int line_err(ctl_conn *c, size_t line)
{
	char e[CTL_MAX_LINE], code[32];
	size_t sp;

	if (line == 0)
		return -1;
	snprintf(e, sizeof(e), "%s", c->final + 4);
	sp = strcspn(e, " ");
	snprintf(code, sizeof(code), "%.*s", (int)sp, e);
	return ctl_err(c, code, "line %zu: %s", line, e[sp] ? e + sp + 1 : "");
}

typedef struct done_op {
	cfg_op_kind kind;
	char *key, *value; /* for rollback: the rule's old value (NULL: none), or the list entry */
} done_op;

/* rollback - undo what a failed batch saved, newest first */
static void rollback(ctl_conn *c, mw_store *st, done_op *d, size_t n, const char *who)
{
	char saved[CTL_MAX_LINE], err[512];

	mw_strlcpy(saved, c->final, sizeof(saved));
	while (n-- > 0) {
		if (d[n].kind == CFG_RULE_SET || d[n].kind == CFG_RULE_UNSET) {
			store_rule_set(st, d[n].key, d[n].value, who, time(NULL), NULL, 0);
		} else {
			char key[80];
			int add = d[n].kind == CFG_LIST_REMOVE;
			snprintf(key, sizeof(key), "list.%.60s", d[n].key);
			store_list_edit(st, d[n].key, d[n].value, add, 0, who);
			store_audit_add(st, time(NULL), who, key, add ? "" : d[n].value, add ? d[n].value : "");
		}
	}
	c->h->rebuild(st, err, sizeof(err));
	mw_strlcpy(c->final, saved, sizeof(c->final));
}

/*
 * batch - check every op, then apply them as one audited change labelled
 * label; 0 after OK, -1 after ERR (nothing changed)
 */
static int batch(ctl_conn *c, mw_store *st, const cfg_op *ops, size_t n, const char *label)
{
	char who[CTL_WHO_MAX], rollwho[CTL_WHO_MAX], norm[300], err[512], old[512];
	char *skip = x_calloc(n ? n : 1, 1), **norms = x_calloc(n ? n : 1, sizeof(char *));
	done_op *done = x_calloc(n ? n : 1, sizeof(*done));
	const char **keys = x_calloc(n ? n : 1, sizeof(*keys));
	size_t i, ndone = 0, nkeys = 0, lockdown_before = ctl_lockdown_level(c);
	long long first, last;
	kvs R = {0};
	int rc = -1;

	snprintf(who, sizeof(who), "%.40s %s", c->who, label);
	snprintf(rollwho, sizeof(rollwho), "%.40s rollback", c->who);
	if (store_rules(st, kv_add, &R) < 0) {
		ctl_err(c, "failed", "%s", store_error(st));
		goto out;
	}
	/* 1: check everything, note what would change nothing */
	for (i = 0; i < n; i++) {
		const cfg_op *op = &ops[i];
		const char *cur = kv_get(&R, op->key);
		int present;
		switch (op->kind) {
		case CFG_RULE_SET:
			if (ctl_key_allowed(c, op->key) < 0 || ctl_trial(c, st, op->key, op->value) < 0) {
				line_err(c, op->line);
				goto out;
			}
			skip[i] = cur && strcmp(cur, op->value) == 0;
			break;
		case CFG_RULE_UNSET:
			if (ctl_key_allowed(c, op->key) < 0) {
				line_err(c, op->line);
				goto out;
			}
			skip[i] = cur == NULL;
			break;
		case CFG_LIST_ADD:
		case CFG_LIST_REMOVE:
			if ((present = ctl_list_state(c, op->key, op->value, norm, sizeof(norm))) < 0) {
				line_err(c, op->line);
				goto out;
			}
			skip[i] = op->kind == CFG_LIST_ADD ? present : !present;
			norms[i] = x_strdup(norm);
			break;
		}
	}
	/* 2: save each change, audited as WHO LABEL */
	first = last_audit_id(st) + 1;
	for (i = 0; i < n; i++) {
		const cfg_op *op = &ops[i];
		if (skip[i])
			continue;
		if (op->kind == CFG_RULE_SET || op->kind == CFG_RULE_UNSET) {
			if (store_rule_set(st, op->key, op->value, who, time(NULL), old, sizeof(old)) < 0) {
				ctl_err(c, "failed", "saving %s: %s; nothing changed", op->key, store_error(st));
				rollback(c, st, done, ndone, rollwho);
				goto out;
			}
			done[ndone].kind = op->kind;
			done[ndone].key = op->key;
			done[ndone++].value = old[0] ? x_strdup(old) : NULL;
			keys[nkeys++] = op->key;
			ctl_out(c, "%s = %s (was %s)", op->key, op->value ? op->value : "(file)",
			        old[0] ? old : "(file)");
		} else {
			if (ctl_list_change(c, op->key, op->value, op->kind == CFG_LIST_ADD, op->days, who) < 0) {
				line_err(c, op->line);
				rollback(c, st, done, ndone, rollwho);
				goto out;
			}
			done[ndone].kind = op->kind;
			done[ndone].key = op->key;
			done[ndone++].value = x_strdup(norms[i]);
		}
	}
	if (ndone == 0) {
		rc = ctl_ok(c, "nothing to change: the configuration already is so");
		goto out;
	}
	/* 3: one rebuild; the combination must load too */
	if (c->h->rebuild(st, err, sizeof(err)) < 0) {
		ctl_err(c, "invalid", "the new settings do not load together (%s); nothing changed", err);
		rollback(c, st, done, ndone, rollwho);
		goto out;
	}
	last = last_audit_id(st);
	{
		char head[100];
		snprintf(head, sizeof(head), "%zu change(s) #%lld-#%lld", ndone, first, last);
		snprintf(old, sizeof(old), "batch.%s", label);
		if (store_audit_add(st, time(NULL), c->who, old, "", head) < 0)
			log_err("control: batch %s saved, its audit head row failed: %s", label, store_error(st));
		ctl_out(c, "%s: %s, history #%lld (`revert %lld` undoes them all)", label, head, last_audit_id(st),
		        last_audit_id(st));
	}
	ctl_applied(c, keys, nkeys, lockdown_before);
	rc = ctl_ok(c, "%zu change(s) applied", ndone);
out:
	for (i = 0; i < ndone; i++)
		x_free(done[i].value);
	for (i = 0; i < n; i++)
		x_free(norms[i]);
	x_free(norms);
	x_free(done);
	x_free(keys);
	x_free(skip);
	kv_free(&R);
	return rc;
}

/* parse_data - the request's data as configuration text; -1 after ERR */
static int parse_data(ctl_conn *c, cfgtext *t)
{
	char err[300];

	if (cfgtext_parse(c->data ? c->data : "", c->data ? strlen(c->data) : 0, t, err, sizeof(err)) < 0)
		return ctl_err(c, "invalid", "%s; nothing changed", err);
	return 0;
}

/* batch_from_data - the operations of the command's data lines, applied as one change named what */
static int batch_from_data(ctl_conn *c, const char *what)
{
	mw_store *st = ctl_store(c);
	cfgtext t;
	int rc;

	if (st == NULL || parse_data(c, &t) < 0)
		return -1;
	rc = batch(c, st, t.ops, t.n, what);
	cfgtext_free(&t);
	return rc;
}

int ctl_run_import(ctl_conn *c, size_t argc, char **argv)
{
	(void)argc;
	(void)argv;
	return batch_from_data(c, "import");
}

int ctl_run_setup_apply(ctl_conn *c, size_t argc, char **argv)
{
	(void)argc;
	(void)argv;
	return batch_from_data(c, "setup");
}

static void add_op(cfgtext *t, cfg_op_kind kind, const char *key, const char *value, unsigned long days)
{
	if (t->n % 64 == 0)
		t->ops = x_realloc(t->ops, (t->n + 64) * sizeof(*t->ops));
	t->ops[t->n].kind = kind;
	t->ops[t->n].line = 0;
	t->ops[t->n].key = x_strdup(key);
	t->ops[t->n].value = value ? x_strdup(value) : NULL;
	t->ops[t->n++].days = days;
}

/* list_diff - ops that turn list name of cur into want (both sorted) */
static void list_diff(cfgtext *ops, const mw_lists *cur, const mw_lists *want, const char *name, const cfgtext *t)
{
	size_t i = 0, j = 0, nc = lists_count(cur, name), nw = lists_count(want, name), k;

	while (i < nc || j < nw) {
		const char *a = i < nc ? lists_entry(cur, name, i) : NULL;
		const char *b = j < nw ? lists_entry(want, name, j) : NULL;
		int cmp = a == NULL ? 1 : b == NULL ? -1 : strcmp(a, b);
		if (cmp == 0) {
			i++;
			j++;
		} else if (cmp < 0) {
			add_op(ops, CFG_LIST_REMOVE, name, a, 0);
			i++;
		} else {
			unsigned long days = 0;
			for (k = 0; k < t->n; k++) /* keep an expiry the text gave */
				if (t->ops[k].kind == CFG_LIST_ADD && strcmp(t->ops[k].key, name) == 0 &&
				    strcmp(t->ops[k].value, b) == 0)
					days = t->ops[k].days;
			add_op(ops, CFG_LIST_ADD, name, b, days);
			j++;
		}
	}
}

int ctl_run_config_import(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	cfgtext t, ops;
	kvs R = {0}, W = {0};
	mw_lists *cur = NULL, *want = NULL;
	mw_config *cfg = NULL;
	char err[512];
	size_t i;
	int rc = -1;

	(void)argc;
	(void)argv;
	if (st == NULL || parse_data(c, &t) < 0)
		return -1;
	memset(&ops, 0, sizeof(ops));
	/* the text's own lines first, so an error names its line */
	for (i = 0; i < t.n; i++) {
		char norm[300];
		const cfg_op *op = &t.ops[i];
		if ((op->kind == CFG_RULE_SET &&
		     (ctl_key_allowed(c, op->key) < 0 || ctl_trial(c, st, op->key, op->value) < 0)) ||
		    (op->kind == CFG_RULE_UNSET && ctl_key_allowed(c, op->key) < 0) ||
		    ((op->kind == CFG_LIST_ADD || op->kind == CFG_LIST_REMOVE) &&
		     ctl_list_state(c, op->key, op->value, norm, sizeof(norm)) < 0)) {
			line_err(c, op->line);
			goto out;
		}
	}
	if (store_rules(st, kv_add, &R) < 0) {
		ctl_err(c, "failed", "%s", store_error(st));
		goto out;
	}
	/* the rules the text wants */
	for (i = 0; i < t.n; i++)
		if (t.ops[i].kind == CFG_RULE_SET) {
			kv_del(&W, t.ops[i].key);
			kv_add(t.ops[i].key, t.ops[i].value, &W);
		} else if (t.ops[i].kind == CFG_RULE_UNSET) {
			kv_del(&W, t.ops[i].key);
		}
	for (i = 0; i < R.n; i++)
		if (kv_get(&W, R.v[i].key) == NULL)
			add_op(&ops, CFG_RULE_UNSET, R.v[i].key, NULL, 0);
	for (i = 0; i < W.n; i++) {
		const char *cur_v = kv_get(&R, W.v[i].key);
		if (cur_v == NULL || strcmp(cur_v, W.v[i].value) != 0)
			add_op(&ops, CFG_RULE_SET, W.v[i].key, W.v[i].value, 0);
	}
	/* the lists the text wants: shipped lists plus its edits */
	cfg = c->h->cfg();
	cur = c->h->lists();
	want = lists_new();
	if (lists_load_dir(want, cfg->lists, err, sizeof(err)) < 0) {
		ctl_err(c, "failed", "the shipped lists do not load: %s", err);
		goto out;
	}
	for (i = 0; i < t.n; i++) {
		if (t.ops[i].kind == CFG_LIST_ADD && lists_add(want, t.ops[i].key, t.ops[i].value) < 0) {
			ctl_err(c, "invalid", "line %zu: bad list name or entry; nothing changed", t.ops[i].line);
			goto out;
		}
		if (t.ops[i].kind == CFG_LIST_REMOVE)
			lists_remove(want, t.ops[i].key, t.ops[i].value);
	}
	for (i = 0; i < lists_nlists(want); i++)
		list_diff(&ops, cur, want, lists_name(want, i), &t);
	for (i = 0; i < lists_nlists(cur); i++)
		if (lists_count(want, lists_name(cur, i)) == 0)
			list_diff(&ops, cur, want, lists_name(cur, i), &t);
	rc = batch(c, st, ops.ops, ops.n, "config-import");
out:
	lists_unref(want);
	lists_unref(cur);
	config_unref(cfg);
	kv_free(&R);
	kv_free(&W);
	cfgtext_free(&ops);
	cfgtext_free(&t);
	return rc;
}

int ctl_batch_revert(ctl_conn *c, const store_audit_row *head)
{
	mw_store *st = ctl_store(c);
	long long a, b, id;
	char tag[CTL_WHO_MAX + 40];
	cfgtext ops;
	int rc;

	if (st == NULL)
		return -1;
	if (sscanf(head->new_, "%*u change(s) #%lld-#%lld", &a, &b) != 2 || a < 1 || b < a || b - a > CFGTEXT_MAX_OPS)
		return ctl_err(c, "invalid", "history #%lld is a batch without its range", head->id);
	snprintf(tag, sizeof(tag), "%s %s", head->who, head->key + 6);
	memset(&ops, 0, sizeof(ops));
	for (id = b; id >= a; id--) {
		store_audit_row r;
		char entry[300];
		if (store_audit_get(st, id, &r) != 1 || strcmp(r.who, tag) != 0)
			continue;
		if (strncmp(r.key, "list.", 5) == 0) {
			const char *v = r.new_[0] ? r.new_ : r.old;
			snprintf(entry, sizeof(entry), "%.*s", (int)strcspn(v, " "), v);
			add_op(&ops, r.new_[0] ? CFG_LIST_REMOVE : CFG_LIST_ADD, r.key + 5, entry, 0);
		} else {
			add_op(&ops, r.old[0] ? CFG_RULE_SET : CFG_RULE_UNSET, r.key, r.old[0] ? r.old : NULL, 0);
		}
	}
	rc = batch(c, st, ops.ops, ops.n, "revert");
	if (rc == 0)
		ctl_ok(c, "reverted #%lld (%zu change(s))", head->id, ops.n);
	cfgtext_free(&ops);
	return rc;
}
