/*
 * NAME
 *	ctl_cmd_state.c - control commands: status, quarantine, track,
 *	tail, signatures
 * SYNOPSIS
 *	status | quarantine list|show|release|delete | track [WORD VALUE]...
 *	(track words include claimed DOMAIN and auth RESULT: sender authentication)
 *	tail [N] | sigs [status] | sigs reload
 * DESCRIPTION
 *	Read-mostly views of the daemon's state, formatted for 80 columns.
 *	A quarantine ID may be given as a unique prefix (at least 6
 *	characters) of the 32-character ID.  With a shared store (Redis)
 *	`quarantine list` shows every gateway's messages, and a release of
 *	another gateway's message is asked of that gateway
 *	(store_release_ask), which re-injects it; status shows the shared
 *	store's health (outages, pending changes, last error).  A release takes the same path
 *	as `mailwarden quarantine release` (outcome_release: claimed, then
 *	re-injected exactly once) and is audited.
 *
 *	sigs reload sends SIGUSR1 to the daemon itself: mailwardend's
 *	signal thread hands it to the reload thread, which compiles the new
 *	engine beside the old one and rescans held and quarantined mail,
 *	exactly as for SIGHUP; the command waits (bounded) for the result.
 *	A load that takes longer (the full database in place on a small
 *	board: minutes) is reported as still running, with its mode, and
 *	`sigs` shows when it ends: no client is kept waiting for minutes.
 * LIMITS
 *	quarantine list and track print at most 1000 rows; sigs reload waits
 *	RELOAD_WAIT_S seconds.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "content/content.h"
#include "ctl/ctl_int.h"
#include "outcome/outcome.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef MW_VERSION
#define MW_VERSION "dev"
#endif

#define RELOAD_WAIT_S 120
#define ROWS_MAX      1000

/* count_cb - count rows of a listing */
static void count_quar(const quar_meta *m, void *arg)
{
	(void)m;
	(*(size_t *)arg)++;
}

static void count_block(const store_block *b, void *arg)
{
	(void)b;
	(*(size_t *)arg)++;
}

static void count_rule(const char *k, const char *v, void *arg)
{
	(void)k;
	(void)v;
	(*(size_t *)arg)++;
}

int ctl_run_status(ctl_conn *c, size_t argc, char **argv)
{
	static const unsigned windows[3] = {5, 60, 24 * 60};
	mw_store *st = c->h->store ? __atomic_load_n(c->h->store, __ATOMIC_ACQUIRE) : NULL;
	mw_quar *q = c->h->quar ? __atomic_load_n(c->h->quar, __ATOMIC_ACQUIRE) : NULL;
	ctl_counts w[3];
	const mw_code_info *tab;
	mw_config *cfg = c->h->cfg();
	time_t now = time(NULL), up;
	size_t i, k, ncodes, held = 0, quarantined = 0, blocks = 0, rules = 0;
	av_info ai;
	char t[32];

	(void)argc;
	(void)argv;
	up = now - ctl_started;
	ctl_out(c, "mailwardend %s, pid %ld, up %ldd %02ld:%02ld:%02ld", MW_VERSION, (long)getpid(), (long)(up / 86400),
	        (long)(up / 3600 % 24), (long)(up / 60 % 60), (long)(up % 60));
	av_mgr_info(c->h->av, &ai);
	mw_fmt_time(ai.loaded_at, t, sizeof(t));
	if (ai.loaded)
		ctl_out(c, "signatures  %lu loaded %s (libclamav %s)", ai.sigs, t, ai.version);
	else
		ctl_out(c, "signatures  NONE LOADED: mail is deferred (451)  %.50s", ai.last_error);
	if (st) {
		store_shared_status ss;
		store_block_list(st, now, count_block, &blocks);
		store_rules(st, count_rule, &rules);
		ctl_out(c, "store       ok, %ld messages tracked, %zu active blocks, %zu rules",
		        store_count(st, "messages"), blocks, rules);
		store_shared_get_status(st, &ss);
		if (ss.shared && ss.up)
			ctl_out(c, "shared      redis %s ok, gateway %s; outages %lu, reconciled %lu", ss.address,
			        ss.gateway, ss.failures, ss.reconciles);
		else if (ss.shared) {
			mw_fmt_time(ss.down_since, t, sizeof(t));
			ctl_out(c, "shared      redis %s DOWN since %s: local copy in use, %ld change(s) pending",
			        ss.address, t, ss.pending);
			ctl_out(c, "            outages %lu, local answers %lu, last error: %.80s", ss.failures,
			        ss.fallbacks, ss.last_error);
		}
	} else {
		ctl_out(c, "store       NOT OPEN: mail is deferred (451)");
	}
	if (q) {
		quar_list(q, "held", 1000000, count_quar, &held);
		quar_list(q, "quarantined", 1000000, count_quar, &quarantined);
		ctl_out(c, "quarantine  ok, %zu held, %zu quarantined", held, quarantined);
	} else {
		ctl_out(c, "quarantine  NOT OPEN: held and quarantined mail is deferred");
	}
	ctl_out(c, "lockdown    %zu%s   fan-out threshold %zu in %zus", cfg->lockdown,
	        cfg->lockdown ? " (ON)" : " (off)", cfg->fanout_threshold, cfg->fanout_window);
	config_unref(cfg);
	for (i = 0; i < 3; i++)
		ctl_stats_window(now, windows[i], &w[i]);
	ctl_out(c, "%-28s %9s %9s %9s", "verdicts (since start)", "5 min", "1 hour", "24 hours");
	for (k = 0; k < MW_ACTION_COUNT; k++)
		ctl_out(c, "  %-26s %9lu %9lu %9lu", action_name((mw_action)k), w[0].action[k], w[1].action[k],
		        w[2].action[k]);
	ctl_out(c, "  %-26s %9lu %9lu %9lu", "total", w[0].total, w[1].total, w[2].total);
	tab = reason_table(&ncodes);
	ctl_out(c, "%-28s", "reason codes");
	for (k = 0; k < ncodes && k < MW_CODES_MAX; k++)
		if (w[2].code[k])
			ctl_out(c, "  %-26s %9lu %9lu %9lu", tab[k].code, w[0].code[k], w[1].code[k], w[2].code[k]);
	return ctl_ok(c, "%s", "");
}

/* ---- quarantine ---- */

typedef struct qfind {
	const char *prefix;
	size_t n;
	char id[QUAR_ID_LEN + 1];
	char gateway[64];
} qfind;

static void qfind_cb(const quar_meta *m, void *arg)
{
	qfind *f = arg;

	if (strncmp(m->id, f->prefix, strlen(f->prefix)) == 0 && strcmp(m->id, f->id) != 0) {
		f->n++;
		mw_strlcpy(f->id, m->id, sizeof(f->id));
		mw_strlcpy(f->gateway, m->gateway, sizeof(f->gateway));
	}
}

/* owner - the gateway holding id's file (shared store), "" when it is here or unknown */
static void owner(mw_quar *q, const char *id, char gw[64])
{
	static const char *const states[] = {"held", "quarantined"};
	qfind f;
	size_t i;

	memset(&f, 0, sizeof(f));
	f.prefix = id;
	for (i = 0; i < MW_ARRAY_LEN(states); i++)
		quar_list_all(q, states[i], 1000000, qfind_cb, &f);
	mw_strlcpy(gw, f.n == 1 ? f.gateway : "", 64);
}

/* resolve_id - the full ID for an ID or unique prefix (any gateway's); -1 after ERR */
static int resolve_id(ctl_conn *c, mw_quar *q, const char *prefix, char id[QUAR_ID_LEN + 1])
{
	static const char *const states[] = {"held", "quarantined", "released", "kept", "releasing"};
	qfind f;
	size_t i;

	if (strlen(prefix) == QUAR_ID_LEN) {
		mw_strlcpy(id, prefix, QUAR_ID_LEN + 1);
		return 0;
	}
	if (strlen(prefix) < 6 || strlen(prefix) > QUAR_ID_LEN)
		return ctl_err(c, "invalid", "give the ID or at least its first 6 characters");
	memset(&f, 0, sizeof(f));
	f.prefix = prefix;
	for (i = 0; i < MW_ARRAY_LEN(states); i++)
		quar_list_all(q, states[i], 1000000, qfind_cb, &f);
	if (f.n == 0)
		return ctl_err(c, "not-found", "no quarantined message %.40s", prefix);
	if (f.n > 1)
		return ctl_err(c, "invalid", "%.40s is not unique: give more characters", prefix);
	mw_strlcpy(id, f.id, QUAR_ID_LEN + 1);
	return 0;
}

typedef struct qlist_ctx {
	ctl_conn *c;
	size_t n;
} qlist_ctx;

static void out_line(void *arg, const char *text)
{
	ctl_out(arg, "%s", text);
}

static void qlist_row(const quar_meta *m, void *arg)
{
	qlist_ctx *x = arg;

	x->n++;
	ctl_row_quar(m, out_line, x->c);
}

int ctl_run_quar_list(ctl_conn *c, size_t argc, char **argv)
{
	static const char *const states[] = {"held", "quarantined", "released", "kept", "deleted"};
	mw_quar *q = ctl_quar(c);
	const char *state = NULL;
	unsigned long n = 50;
	qlist_ctx x = {c, 0};
	size_t i, a = 0;

	if (q == NULL)
		return -1;
	if (argc > 0 && argv[0][0] >= '0' && argv[0][0] <= '9')
		a = 0;
	else if (argc > 0)
		state = argv[a++];
	if (a < argc && ctl_parse_uint(argv[a], 1, ROWS_MAX, &n) < 0)
		return ctl_err(c, "invalid", "N is 1..%d", ROWS_MAX);
	if (state && strcmp(state, "all") != 0) {
		for (i = 0; i < MW_ARRAY_LEN(states); i++)
			if (strcmp(states[i], state) == 0)
				break;
		if (i == MW_ARRAY_LEN(states))
			return ctl_err(c, "invalid", "state is held, quarantined, released, kept, deleted or all");
	}
	ctl_row_quar(NULL, out_line, c);
	if (state && strcmp(state, "all") == 0) {
		for (i = 0; i < MW_ARRAY_LEN(states) && x.n < n; i++)
			if (quar_list_all(q, states[i], n - x.n, qlist_row, &x) < 0)
				return ctl_err(c, "failed", "reading the quarantine index");
	} else if (quar_list_all(q, state, n, qlist_row, &x) < 0) {
		return ctl_err(c, "failed", "reading the quarantine index");
	}
	return ctl_ok(c, "%zu message(s)", x.n);
}

int ctl_run_quar_show(ctl_conn *c, size_t argc, char **argv)
{
	mw_quar *q = ctl_quar(c);
	quar_meta *m;
	char id[QUAR_ID_LEN + 1], t[32], buf[400];
	size_t i;

	(void)argc;
	if (q == NULL || resolve_id(c, q, argv[0], id) < 0)
		return -1;
	m = x_malloc(sizeof(*m));
	if (quar_get_meta(q, id, m) != 1) {
		x_free(m);
		return ctl_err(c, "not-found", "no quarantined message %s", id);
	}
	ctl_out(c, "id          %s", m->id);
	mw_fmt_time(m->time, t, sizeof(t));
	ctl_out(c, "received    %s  queue id %s", t, mw_cut(m->queue_id, 30, buf, sizeof(buf)));
	ctl_out(c, "state       %s", m->state);
	if (m->release_at) {
		mw_fmt_time(m->release_at, t, sizeof(t));
		ctl_out(c, "release at  %s (rescanned first)", t);
	}
	ctl_out(c, "sender      %s", mw_cut(m->sender, 66, buf, sizeof(buf)));
	for (i = 0; i < m->nrcpts && i < 20; i++)
		ctl_out(c, "%-11s %s", i ? "" : "recipients", mw_cut(m->rcpts[i], 66, buf, sizeof(buf)));
	if (m->nrcpts > 20)
		ctl_out(c, "            ... %zu more", m->nrcpts - 20);
	ctl_out(c, "subject     %s", mw_cut(m->subject, 66, buf, sizeof(buf)));
	ctl_out(c, "size        %zu bytes", m->size);
	ctl_out(c, "reasons     %s", mw_cut(m->reasons, 66, buf, sizeof(buf)));
	if (m->note[0])
		ctl_out(c, "note        %s", mw_cut(m->note, 66, buf, sizeof(buf)));
	mw_fmt_time(m->expires, t, sizeof(t));
	ctl_out(c, "expires     %s", t);
	x_free(m);
	return ctl_ok(c, "%s", "");
}

int ctl_run_quar_release(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	mw_quar *q = st ? ctl_quar(c) : NULL;
	char id[QUAR_ID_LEN + 1], err[512], gw[64];
	mw_config *cfg;
	mw_lists *lists;
	av_engine *av;
	mw_env env;
	int rc;

	(void)argc;
	if (q == NULL || resolve_id(c, q, argv[0], id) < 0)
		return -1;
	owner(q, id, gw);
	if (gw[0] && strcmp(gw, store_gateway(st)) != 0) {
		/* the file is on another gateway: it releases it (store_sync.c) */
		if (store_release_ask(st, gw, id, c->who, 30, err, sizeof(err)) < 0)
			return ctl_err(c, "failed", "release %s on gateway %s: %s", id, gw, err);
		ctl_out(c, "released %s on gateway %s: %s", id, gw, err);
		return ctl_ok(c, "%s", "");
	}
	cfg = c->h->cfg();
	lists = c->h->lists();
	av = av_mgr_acquire(c->h->av);
	c->h->env(&env, cfg, lists, av);
	rc = outcome_release(&env, id, c->who, err, sizeof(err));
	av_engine_release(av);
	lists_unref(lists);
	config_unref(cfg);
	if (rc < 0)
		return ctl_err(c, "failed", "release %s: %s", id, err);
	store_audit_add(st, time(NULL), c->who, "quarantine.release", id, "released");
	ctl_out(c, "released %s: re-injected once, the MTA delivers it now", id);
	return ctl_ok(c, "%s", "");
}

int ctl_run_quar_delete(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	mw_quar *q = st ? ctl_quar(c) : NULL;
	char id[QUAR_ID_LEN + 1];

	(void)argc;
	if (q == NULL || resolve_id(c, q, argv[0], id) < 0)
		return -1;
	if (quar_delete(q, id) < 0)
		return ctl_err(c, "failed", "deleting %s: %s", id, store_error(st));
	store_audit_add(st, time(NULL), c->who, "quarantine.delete", id, "deleted");
	return ctl_ok(c, "deleted %s", id);
}

/* ---- track ---- */

static void track_row(const store_track_row *r, void *arg)
{
	ctl_row_track(r, out_line, arg);
}

int ctl_run_track(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	store_track_query q;
	unsigned long limit = 50;
	size_t i;
	int n;

	if (st == NULL)
		return -1;
	memset(&q, 0, sizeof(q));
	for (i = 0; i + 1 < argc; i += 2) {
		const char *w = argv[i], *v = argv[i + 1];
		if (strcmp(w, "sender") == 0)
			q.sender = v;
		else if (strcmp(w, "domain") == 0)
			q.domain = v;
		else if (strcmp(w, "to") == 0)
			q.rcpt = v;
		else if (strcmp(w, "subject") == 0)
			q.subject = v;
		else if (strcmp(w, "hash") == 0)
			q.sha256 = v;
		else if (strcmp(w, "name") == 0)
			q.name = v;
		else if (strcmp(w, "link") == 0)
			q.link_domain = v;
		else if (strcmp(w, "action") == 0)
			q.action = v;
		else if (strcmp(w, "claimed") == 0)
			q.claimed = v;
		else if (strcmp(w, "auth") == 0)
			q.auth = v;
		else if (strcmp(w, "since") == 0 || strcmp(w, "until") == 0) {
			if (mw_parse_when(v, strcmp(w, "since") == 0 ? &q.since : &q.until) < 0)
				return ctl_err(c, "invalid", "%s takes 30m, 24h, 7d or 2026-11-22[T10:00]", w);
		} else if (strcmp(w, "limit") == 0 && ctl_parse_uint(v, 1, ROWS_MAX, &limit) < 0)
			return ctl_err(c, "invalid", "limit is 1..%d", ROWS_MAX);
	}
	if (q.sha256 && strlen(q.sha256) < 8)
		return ctl_err(c, "invalid", "hash needs at least 8 hex digits");
	q.limit = limit;
	if ((n = store_track_find(st, &q, track_row, c)) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	return ctl_ok(c, "%d message(s), newest first", n);
}

int ctl_run_tail(ctl_conn *c, size_t argc, char **argv)
{
	unsigned long n = 20;
	mw_buf b;

	if (argc == 1)
		ctl_parse_uint(argv[0], 1, CTL_TAIL_MAX, &n);
	buf_init(&b, 0);
	ctl_stats_tail(n, &b);
	if (b.len)
		ctl_out(c, "%s", b.p);
	buf_free(&b);
	return ctl_ok(c, "%s", "");
}

/* ---- signatures ---- */

static void sigs_lines(ctl_conn *c, const av_info *ai)
{
	char t[32];

	mw_fmt_time(ai->loaded_at, t, sizeof(t));
	ctl_out(c, "loaded      %s", ai->loaded ? "yes" : "NO: mail is deferred (451) until a database loads");
	ctl_out(c, "signatures  %lu", ai->sigs);
	ctl_out(c, "loaded at   %s", t);
	ctl_out(c, "directory   %s", ai->dir);
	ctl_out(c, "libclamav   %s", ai->version);
	ctl_out(c, "reloads     %lu (%lu failed)", ai->reloads, ai->failed_reloads);
	if (ai->loaded)
		ctl_out(c, "engine      ~%zu MB, loaded in %.1f s%s", ai->engine_bytes >> 20, ai->load_s,
		        ai->fallback ? ", FROM THE LAST GOOD COPY" : "");
	if (ai->last_mode)
		ctl_out(c, "last load   %s%s", ai->last_mode == AV_RELOAD_SWAP ? "swap" : "in place",
		        ai->last_mode == AV_RELOAD_INPLACE ? "" : " (no mail deferred)");
	if (ai->last_mode == AV_RELOAD_INPLACE)
		ctl_out(c, "deferred    %.1f s (mail got 451 meanwhile)", ai->deferred_s);
	if (ai->last_error[0])
		ctl_out(c, "last error  %s", ai->last_error);
	if (ai->loaded)
		ctl_out(c, "scan cache  %lu hits, %lu misses; %zu entries, %zu KB (antivirus.scan_cache)",
		        ai->cache_hits, ai->cache_misses, ai->cache_entries, ai->cache_bytes >> 10);
	if (ai->loaded) {
		ex_memo_stat ms;
		content_memo_stats(&ms);
		ctl_out(c, "extractors  %lu replayed, %lu run; %zu kept, %zu KB (a quarter of antivirus.scan_cache)",
		        ms.hits, ms.misses, ms.entries, ms.bytes >> 10);
	}
	if (ai->reloading)
		ctl_out(c, "reloading   for %ld s, %s", (long)(time(NULL) - ai->reload_start),
		        ai->last_mode == AV_RELOAD_INPLACE ? "in place: mail is deferred (451) until it ends"
		                                           : "by swap: the old signatures serve meanwhile");
}

int ctl_run_sigs(ctl_conn *c, size_t argc, char **argv)
{
	av_info ai;

	(void)argc;
	(void)argv;
	av_mgr_info(c->h->av, &ai);
	sigs_lines(c, &ai);
	return ctl_ok(c, "%s", "");
}

int ctl_run_sigs_reload(ctl_conn *c, size_t argc, char **argv)
{
	av_info before, now;
	int i;

	(void)argc;
	(void)argv;
	av_mgr_info(c->h->av, &before);
	if (kill(getpid(), SIGUSR1) < 0)
		return ctl_err(c, "failed", "cannot signal the reload thread");
	for (i = 0; i < RELOAD_WAIT_S * 10; i++) {
		usleep(100000);
		av_mgr_info(c->h->av, &now);
		if (now.reloads != before.reloads || now.failed_reloads != before.failed_reloads)
			break;
	}
	sigs_lines(c, &now);
	if (now.failed_reloads != before.failed_reloads)
		return ctl_err(c, "failed", "reload failed, the old signatures stay in use: %.200s", now.last_error);
	if (now.reloads == before.reloads && now.reloading)
		return ctl_ok(c, "still loading after %d s (%s); `sigs` shows when it ends", RELOAD_WAIT_S,
		              now.last_mode == AV_RELOAD_INPLACE ? "in place: mail is deferred (451) until then"
		                                                 : "by swap: the old signatures serve meanwhile");
	if (now.reloads == before.reloads)
		return ctl_err(c, "failed", "no reload within %d s", RELOAD_WAIT_S);
	return ctl_ok(c, "reloaded; held and quarantined mail is being rescanned");
}
