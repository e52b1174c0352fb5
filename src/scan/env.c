/*
 * NAME
 *	env.c - the effective configuration and lists, built one way for
 *	every door
 * SYNOPSIS
 *	#include "scan/scan.h"
 *
 *	cfg = env_config(path, ov, nov, store, NULL, err, sizeof(err));
 *	lists = env_lists(cfg, store, time(NULL), err, sizeof(err));
 * DESCRIPTION
 *	What a verdict depends on besides the message: the configuration
 *	file, then the -o overrides of the command line, then the run-time
 *	rules kept in the state database (set over the control socket or the
 *	console: thresholds, code->action overrides, lockdown); and the
 *	shipped list files, then the run-time list edits in the state
 *	database.  mailwardend (its snapshots), `mailwarden scan --state`
 *	and the console's test build them here, so the same state gives the
 *	same verdict through every door.
 * DIAGNOSTICS
 *	NULL with a message in err when the file, an override, a rule or a
 *	list does not load, or the state database cannot be read.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "scan/scan.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

typedef struct ov_list {
	char **v;
	size_t n;
} ov_list;

static void ov_add(ov_list *o, const char *s)
{
	o->v = x_realloc(o->v, (o->n + 1) * sizeof(*o->v));
	o->v[o->n++] = x_strdup(s);
}

static void add_rule(const char *key, const char *value, void *arg)
{
	ov_list *o = arg;
	char *s = x_malloc(strlen(key) + strlen(value) + 2);

	sprintf(s, "%s=%s", key, value);
	o->v = x_realloc(o->v, (o->n + 1) * sizeof(*o->v));
	o->v[o->n++] = s;
}

/* env_config - see scan.h */
mw_config *env_config(const char *path, const char *const *ov, size_t nov, struct mw_store *st, const char *extra,
                      char *err, size_t errlen)
{
	ov_list o = {NULL, 0};
	mw_config *c = NULL;
	size_t i;

	for (i = 0; i < nov; i++)
		ov_add(&o, ov[i]);
	if (st && store_rules(st, add_rule, &o) < 0) {
		snprintf(err, errlen, "reading rules: %s", store_error(st));
		goto out;
	}
	if (extra)
		ov_add(&o, extra);
	if (config_load(path, (const char *const *)o.v, o.n, &c, err, errlen) < 0)
		c = NULL;
out:
	for (i = 0; i < o.n; i++)
		x_free(o.v[i]);
	x_free(o.v);
	return c;
}

/* env_lists - see scan.h */
mw_lists *env_lists(const mw_config *cfg, struct mw_store *st, time_t now, char *err, size_t errlen)
{
	mw_lists *l = lists_new();

	err[0] = 0;
	if (lists_load_dir(l, cfg->lists, err, errlen) < 0) {
		lists_unref(l);
		return NULL;
	}
	if (st && store_lists_apply(st, l, now) < 0) {
		snprintf(err, errlen, "reading list edits: %s", store_error(st));
		lists_unref(l);
		return NULL;
	}
	return l;
}
