/*
 * NAME
 *	snapshot.c - the daemon's current configuration and lists, swapped whole
 * SYNOPSIS
 *	snap_init(path, overrides, n, cfg, lists);
 *	cfg = snap_cfg(); lists = snap_lists();		(each a reference)
 *	snap_rebuild(store, err, len);			(after a rule or list change)
 * DESCRIPTION
 *	The effective configuration and lists are built by env_config() and
 *	env_lists() (src/scan/env.c), the same code `mailwarden scan --state`
 *	uses: file, -o overrides, run-time rules; list files, run-time edits.
 *	snap_rebuild() builds both anew and swaps them under a mutex held only
 *	for the pointer swap; a message in flight keeps the snapshot it
 *	started with (its references).  If the new configuration does not
 *	load, the old one stays and the error is returned.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "milter/milter.h"
#include "store/store.h"
#include "util/log.h"
#include "util/util.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t rebuild_mu = PTHREAD_MUTEX_INITIALIZER;
static char *conf_path;
static char **base_ov;
static size_t nbase;

void snap_init(const char *path, const char *const *ov, size_t n, mw_config *cfg, mw_lists *lists)
{
	size_t i;

	conf_path = path ? x_strdup(path) : NULL;
	base_ov = x_calloc(n ? n : 1, sizeof(*base_ov));
	for (i = 0; i < n; i++)
		base_ov[i] = x_strdup(ov[i]);
	nbase = n;
	g_daemon.cfg = cfg;
	g_daemon.lists = lists;
}

mw_config *snap_cfg(void)
{
	mw_config *c;

	pthread_mutex_lock(&snap_mu);
	c = config_ref(g_daemon.cfg);
	pthread_mutex_unlock(&snap_mu);
	return c;
}

mw_lists *snap_lists(void)
{
	mw_lists *l;

	pthread_mutex_lock(&snap_mu);
	l = lists_ref(g_daemon.lists);
	pthread_mutex_unlock(&snap_mu);
	return l;
}

/* snap_build_config - file + base overrides + rules (+ extra, for a trial); NULL with err */
mw_config *snap_build_config(mw_store *st, const char *extra, char *err, size_t errlen)
{
	return env_config(conf_path, (const char *const *)base_ov, nbase, st, extra, err, errlen);
}

int snap_rebuild(mw_store *st, char *err, size_t errlen)
{
	mw_config *c, *oldc;
	mw_lists *l, *oldl;

	pthread_mutex_lock(&rebuild_mu);
	c = snap_build_config(st, NULL, err, errlen);
	if (c == NULL) {
		pthread_mutex_unlock(&rebuild_mu);
		return -1;
	}
	l = env_lists(c, st, time(NULL), err, errlen);
	if (l == NULL) {
		config_unref(c);
		pthread_mutex_unlock(&rebuild_mu);
		return -1;
	}
	pthread_mutex_lock(&snap_mu);
	oldc = g_daemon.cfg;
	oldl = g_daemon.lists;
	g_daemon.cfg = c;
	g_daemon.lists = l;
	pthread_mutex_unlock(&snap_mu);
	config_unref(oldc);
	lists_unref(oldl);
	pthread_mutex_unlock(&rebuild_mu);
	return 0;
}

void snap_free(void)
{
	size_t i;

	for (i = 0; i < nbase; i++)
		x_free(base_ov[i]);
	x_free(base_ov);
	x_free(conf_path);
}
