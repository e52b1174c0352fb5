/*
 * NAME
 *	store_backend.c - the public store API over the two backends
 * SYNOPSIS
 *	See store.h.
 * DESCRIPTION
 *	A store opened with store_open() is SQLite only: every call goes to
 *	store_sqlite_ops.  A store opened with store_open_shared() has both:
 *	  - while Redis is up, a read is answered by Redis, and a write goes
 *	    to Redis and then to SQLite (write-through: the local copy stays
 *	    warm for an outage; a failed local write is logged, not fatal);
 *	  - a Redis call that fails or runs out of its time budget marks the
 *	    backend down (logged at error level, counted, an alert row) and
 *	    the same call is answered by SQLite at once, so no decision waits
 *	    longer than one time budget;
 *	  - while down, reads and writes go to SQLite, and each write is also
 *	    kept in the outbox for reconciliation (store_sync.c).
 *	Changes other gateways must see in their snapshots (rules, list
 *	edits, blocks, flags) are announced with rd_publish().
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/store_rd.h"
#include "util/log.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

const store_ops store_sqlite_ops = {
    .name = "sqlite",
    .rcpt_seen = sq_rcpt_seen,
    .sender_seen = sq_sender_seen,
    .sender_known = sq_sender_known,
    .block_add = sq_block_add,
    .block_remove = sq_block_remove,
    .block_find = sq_block_find,
    .block_list = sq_block_list,
    .fp_record = sq_fp_record,
    .fp_flag_sender = sq_fp_flag_sender,
    .fp_flag = sq_fp_flag,
    .fp_flagged = sq_fp_flagged,
    .list_edit = sq_list_edit,
    .lists_apply = sq_lists_apply,
    .rule_set = sq_rule_set,
    .rules = sq_rules,
    .audit = sq_audit,
    .audit_get = sq_audit_get,
    .audit_add = sq_audit_add,
    .track_add = sq_track_add,
    .track_find = sq_track_find,
};

#define SQ (&store_sqlite_ops)
#define RD (&store_redis_ops)
#define UP (rd_up(s))

/* wt_begin/wt_end - around a write-through (see store_rd.h: wt) */
static int wt_begin(mw_store *s)
{
	if (!rd_up(s))
		return 0;
	pthread_rwlock_rdlock(&s->rd->wt);
	return 1;
}

static void wt_end(mw_store *s, int held)
{
	if (held)
		pthread_rwlock_unlock(&s->rd->wt);
}
#define NUM 24

int store_open_shared(const char *statedir, const store_limits *lim, const store_shared_cfg *cfg, mw_store **out,
                      char *err, size_t errlen)
{
	mw_store *s;

	if (store_open(statedir, lim, &s, err, errlen) < 0)
		return -1;
	if (rd_open(s, cfg, err, errlen) < 0) {
		store_close(s);
		*out = NULL;
		return -1;
	}
	if (outbox_seed(s) < 0) {
		snprintf(err, errlen, "%s", s->err);
		store_close(s);
		*out = NULL;
		return -1;
	}
	/* first contact now, so the first message already uses Redis; if it is
	 * not there the thread keeps trying and mail is judged on SQLite */
	if (store_sync(s) < 0)
		log_err("shared store %s not reachable at start (%s): filtering on the local copy until it is",
		        cfg->address, s->rd->last_error);
	if (rd_start_thread(s) < 0) {
		snprintf(err, errlen, "cannot start the shared store's thread");
		store_close(s);
		*out = NULL;
		return -1;
	}
	*out = s;
	return 0;
}

const char *store_backend(const mw_store *s)
{
	return s->rd ? "redis" : "sqlite";
}

/* local - the write-through copy failed: the shared state has it, the local copy lags until the next pull */
static void local(mw_store *s, int rc, const char *what)
{
	if (rc < 0)
		log_warn("local copy of %s: %s", what, s->err);
}

/* keep - while down: remember a write for the reconciliation */
static void keep(mw_store *s, time_t t, const char *op, const char *const *f, size_t n)
{
	rd_fallback(s);
	if (outbox_add(s, t, op, f, n) < 0)
		log_err("shared store: could not keep %s for reconciliation: %s", op, s->err);
}

static void num(char *out, long long v)
{
	snprintf(out, NUM, "%lld", v);
}

int store_rcpt_seen(mw_store *s, const char *sender_key, const char *rcpt, time_t now, time_t window,
                    unsigned *distinct)
{
	unsigned mine;
	int rc;

	if (UP && RD->rcpt_seen(s, sender_key, rcpt, now, window, distinct) == 0) {
		local(s, SQ->rcpt_seen(s, sender_key, rcpt, now, window, &mine), "a recipient");
		return 0;
	}
	rc = SQ->rcpt_seen(s, sender_key, rcpt, now, window, distinct);
	if (rc == 0 && s->rd) {
		char w[NUM];
		const char *f[3] = {sender_key, rcpt, w};
		num(w, window);
		keep(s, now, "rcpt", f, 3);
	}
	return rc;
}

int store_sender_seen(mw_store *s, const char *addr, time_t now, int *first)
{
	int mine, rc;

	if (UP && RD->sender_seen(s, addr, now, first) == 0) {
		local(s, SQ->sender_seen(s, addr, now, &mine), "a sender");
		return 0;
	}
	rc = SQ->sender_seen(s, addr, now, first);
	if (rc == 0 && s->rd)
		keep(s, now, "sender", &addr, 1);
	return rc;
}

int store_sender_known(mw_store *s, const char *addr)
{
	int rc;

	if (UP && (rc = RD->sender_known(s, addr)) >= 0) {
		/* known here from before the shared store, or from an outage */
		if (rc == 0 && SQ->sender_known(s, addr) == 1)
			return 1;
		return rc;
	}
	if (s->rd)
		rd_fallback(s);
	return SQ->sender_known(s, addr);
}

int store_block_add(mw_store *s, const store_block *b)
{
	int rc, held = wt_begin(s);

	if (held && RD->block_add(s, b) == 0) {
		local(s, SQ->block_add(s, b), "a block");
		wt_end(s, held);
		rd_publish(s, "blocks");
		return 0;
	}
	wt_end(s, held);
	rc = SQ->block_add(s, b);
	if (rc == 0 && s->rd) {
		char c[NUM], e[NUM];
		const char *f[7] = {b->kind, b->value, b->code, b->detail, b->source, c, e};
		num(c, b->created);
		num(e, b->expires);
		keep(s, b->created ? b->created : time(NULL), "badd", f, 7);
	}
	return rc;
}

int store_block_remove(mw_store *s, const char *kind, const char *value)
{
	int rc, held = wt_begin(s);

	if (held && (rc = RD->block_remove(s, kind, value)) >= 0) {
		int lrc = SQ->block_remove(s, kind, value);
		local(s, lrc < 0 ? -1 : 0, "a block removal");
		wt_end(s, held);
		rd_publish(s, "blocks");
		/* removed locally but not shared (an outage copy): still a removal */
		return rc == 1 && lrc == 0 ? 0 : rc;
	}
	wt_end(s, held);
	rc = SQ->block_remove(s, kind, value);
	if (rc >= 0 && s->rd) {
		const char *f[2] = {kind, value};
		keep(s, time(NULL), "bdel", f, 2);
	}
	return rc;
}

int store_block_find(mw_store *s, const char *kind, const char *value, time_t now, store_block *out)
{
	int rc;

	if (UP && (rc = RD->block_find(s, kind, value, now, out)) >= 0)
		return rc;
	if (s->rd)
		rd_fallback(s);
	return SQ->block_find(s, kind, value, now, out);
}

int store_block_list(mw_store *s, time_t now, void (*fn)(const store_block *b, void *arg), void *arg)
{
	/* a failure after some rows were listed would list them twice: collect first */
	if (UP) {
		int rc = RD->block_list(s, now, fn, arg);
		if (rc >= 0)
			return rc;
	}
	return SQ->block_list(s, now, fn, arg);
}

int store_fp_record(mw_store *s, const char *fp, const char *sender, time_t now)
{
	int rc;

	if (UP && RD->fp_record(s, fp, sender, now) == 0) {
		local(s, SQ->fp_record(s, fp, sender, now), "a fingerprint");
		return 0;
	}
	rc = SQ->fp_record(s, fp, sender, now);
	if (rc == 0 && s->rd) {
		const char *f[2] = {fp, sender};
		keep(s, now, "fp", f, 2);
	}
	return rc;
}

int store_fp_flag_sender(mw_store *s, const char *sender, const char *code, const char *source, time_t now)
{
	int rc, held = wt_begin(s);

	if (held && (rc = RD->fp_flag_sender(s, sender, code, source, now)) >= 0) {
		int lrc = SQ->fp_flag_sender(s, sender, code, source, now);
		local(s, lrc < 0 ? -1 : 0, "fingerprint flags");
		wt_end(s, held);
		rd_publish(s, "fps");
		return rc;
	}
	wt_end(s, held);
	rc = SQ->fp_flag_sender(s, sender, code, source, now);
	if (rc >= 0 && s->rd) {
		const char *f[3] = {sender, code, source};
		keep(s, now, "fpfs", f, 3);
	}
	return rc;
}

int store_fp_flag(mw_store *s, const char *fp, const char *sender, const char *code, const char *source, time_t now)
{
	int rc, held = wt_begin(s);

	if (held && RD->fp_flag(s, fp, sender, code, source, now) == 0) {
		local(s, SQ->fp_flag(s, fp, sender, code, source, now), "a fingerprint flag");
		wt_end(s, held);
		rd_publish(s, "fps");
		return 0;
	}
	wt_end(s, held);
	rc = SQ->fp_flag(s, fp, sender, code, source, now);
	if (rc == 0 && s->rd) {
		const char *f[4] = {fp, sender, code, source};
		keep(s, now, "fpf", f, 4);
	}
	return rc;
}

int store_fp_flagged(mw_store *s, const char *fp, store_block *why)
{
	int rc;

	if (UP && (rc = RD->fp_flagged(s, fp, why)) >= 0)
		return rc;
	if (s->rd)
		rd_fallback(s);
	return SQ->fp_flagged(s, fp, why);
}

int store_list_edit(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who)
{
	int rc, held = wt_begin(s);

	if (held && RD->list_edit(s, list, entry, add, expires, who) == 0) {
		local(s, SQ->list_edit(s, list, entry, add, expires, who), "a list edit");
		wt_end(s, held);
		rd_publish(s, "lists");
		return 0;
	}
	wt_end(s, held);
	rc = SQ->list_edit(s, list, entry, add, expires, who);
	if (rc == 0 && s->rd) {
		char a[NUM], e[NUM];
		const char *f[5] = {list, entry, a, e, who ? who : ""};
		num(a, add ? 1 : 0);
		num(e, expires);
		keep(s, time(NULL), "list", f, 5);
	}
	return rc;
}

int store_lists_apply(mw_store *s, mw_lists *l, time_t now)
{
	/* both backends only add/remove idempotently: a retry on SQLite is safe */
	if (UP && RD->lists_apply(s, l, now) == 0)
		return 0;
	return SQ->lists_apply(s, l, now);
}

int store_rule_set(mw_store *s, const char *key, const char *value, const char *who, time_t now, char *old,
                   size_t oldlen)
{
	int rc, held = wt_begin(s);

	if (held && RD->rule_set(s, key, value, who, now, old, oldlen) == 0) {
		local(s, SQ->rule_set(s, key, value, who, now, NULL, 0), "a rule");
		wt_end(s, held);
		rd_publish(s, "rules");
		return 0;
	}
	wt_end(s, held);
	rc = SQ->rule_set(s, key, value, who, now, old, oldlen);
	if (rc == 0 && s->rd) {
		const char *f[4] = {key, value ? value : "", value ? "1" : "0", who ? who : ""};
		keep(s, now, "rule", f, 4);
	}
	return rc;
}

int store_rules(mw_store *s, void (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	int rc;

	if (UP && (rc = RD->rules(s, fn, arg)) >= 0)
		return rc;
	return SQ->rules(s, fn, arg);
}

int store_audit(mw_store *s, size_t limit, void (*fn)(const store_audit_row *r, void *arg), void *arg)
{
	int rc;

	if (UP && (rc = RD->audit(s, limit, fn, arg)) >= 0)
		return rc;
	return SQ->audit(s, limit, fn, arg);
}

int store_audit_get(mw_store *s, long long id, store_audit_row *out)
{
	int rc;

	if (UP && (rc = RD->audit_get(s, id, out)) >= 0)
		return rc;
	return SQ->audit_get(s, id, out);
}

int store_audit_add(mw_store *s, time_t now, const char *who, const char *key, const char *old, const char *new_)
{
	int rc;

	if (UP && RD->audit_add(s, now, who, key, old, new_) == 0) {
		local(s, SQ->audit_add(s, now, who, key, old, new_), "an audit row");
		return 0;
	}
	rc = SQ->audit_add(s, now, who, key, old, new_);
	if (rc == 0 && s->rd) {
		const char *f[4] = {who ? who : "", key, old ? old : "", new_ ? new_ : ""};
		keep(s, now, "audit", f, 4);
	}
	return rc;
}

int store_track_add(mw_store *s, const store_track_rec *r)
{
	int rc;

	if (UP && RD->track_add(s, r) == 0) {
		local(s, SQ->track_add(s, r), "a tracking row");
		return 0;
	}
	rc = SQ->track_add(s, r);
	if (rc == 0 && s->rd) {
		char id[NUM];
		const char *f[1] = {id};
		num(id, sq_track_last_id(s));
		keep(s, r->time, "track", f, 1);
	}
	return rc;
}

int store_track_find(mw_store *s, const store_track_query *q, void (*fn)(const store_track_row *r, void *arg),
                     void *arg)
{
	int rc;

	/* Redis rows are found and handed to fn page by page; a failure half
	 * way is rare and shows as a shorter list followed by the local rows */
	if (UP && (rc = RD->track_find(s, q, fn, arg)) >= 0)
		return rc;
	return SQ->track_find(s, q, fn, arg);
}

long store_prune(mw_store *s, time_t now, time_t history_ttl)
{
	long n = 0;

	/* shared history keys expire by themselves; their indexes need a sweep */
	if (UP)
		n = rd_prune_indexes(s);
	return sq_prune(s, now, history_ttl) + (n > 0 ? n : 0);
}

long store_track_prune(mw_store *s, time_t before, size_t max_rows)
{
	if (UP)
		rd_track_trim(s, before, max_rows);
	return sq_track_prune(s, before, max_rows);
}
