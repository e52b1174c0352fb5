/*
 * NAME
 *	store_int.h - private to src/store: the connection and helpers
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_STORE_INT_H
#define MW_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

struct store_redis;

struct mw_store {
	/* the mutex serialises every use of db and of the cached statements */
	sqlite3 *db;
	pthread_mutex_t mu;
	sqlite3_stmt *st[32];
	int depth;     /* lock nesting (store.c lock/unlock) */
	int batch;     /* store_batch_begin nesting: transactions inside are savepoints of it */
	int batch_txn; /* the batch's BEGIN succeeded: its end commits */
	store_limits lim;
	char path[4096];
	char err[600];
	struct store_redis *rd; /* NULL: SQLite only (store_redis.c) */
};

/* store_fail - record sqlite's message with what; returns -1 (caller holds mu) */
int store_fail(mw_store *s, const char *what);
/* store_exec - run SQL without results (caller holds mu) */
int store_exec(mw_store *s, const char *sql);
/* store_begin, store_commit, store_rollback - a write transaction, or
 * inside a batch (store_batch_begin) a savepoint of the batch's (caller holds mu) */
int store_begin(mw_store *s);
int store_commit(mw_store *s);
void store_rollback(mw_store *s);

/*
 * The backend interface.  Both implementations have the same semantics
 * as the public functions of store.h of the same name; store_backend.c
 * picks one per call (Redis while it answers, SQLite otherwise) and keeps
 * the SQLite copy warm.
 */
typedef struct store_ops {
	const char *name;
	int (*rcpt_seen)(mw_store *s, const char *sender_key, const char *rcpt, time_t now, time_t window,
	                 unsigned *distinct);
	int (*sender_seen)(mw_store *s, const char *addr, time_t now, int *first);
	int (*sender_known)(mw_store *s, const char *addr);
	int (*block_add)(mw_store *s, const store_block *b);
	int (*block_remove)(mw_store *s, const char *kind, const char *value);
	int (*block_find)(mw_store *s, const char *kind, const char *value, time_t now, store_block *out);
	int (*block_list)(mw_store *s, time_t now, void (*fn)(const store_block *b, void *arg), void *arg);
	int (*fp_record)(mw_store *s, const char *fp, const char *sender, time_t now);
	int (*fp_flag_sender)(mw_store *s, const char *sender, const char *code, const char *source, time_t now);
	int (*fp_flag)(mw_store *s, const char *fp, const char *sender, const char *code, const char *source,
	               time_t now);
	int (*fp_flagged)(mw_store *s, const char *fp, store_block *why);
	int (*list_edit)(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who);
	int (*lists_apply)(mw_store *s, mw_lists *l, time_t now);
	int (*rule_set)(mw_store *s, const char *key, const char *value, const char *who, time_t now, char *old,
	                size_t oldlen);
	int (*rules)(mw_store *s, void (*fn)(const char *key, const char *value, void *arg), void *arg);
	int (*audit)(mw_store *s, size_t limit, void (*fn)(const store_audit_row *r, void *arg), void *arg);
	int (*audit_get)(mw_store *s, long long id, store_audit_row *out);
	int (*audit_add)(mw_store *s, time_t now, const char *who, const char *key, const char *old, const char *new_);
	int (*track_add)(mw_store *s, const store_track_rec *r);
	int (*track_find)(mw_store *s, const store_track_query *q, void (*fn)(const store_track_row *r, void *arg),
	                  void *arg);
} store_ops;

extern const store_ops store_sqlite_ops; /* store.c, store_rules.c, store_track.c */
extern const store_ops store_redis_ops;  /* store_redis.c */

/* the SQLite implementation (store.c, store_rules.c, store_track.c) */
int sq_rcpt_seen(mw_store *s, const char *sender_key, const char *rcpt, time_t now, time_t window, unsigned *distinct);
int sq_sender_seen(mw_store *s, const char *addr, time_t now, int *first);
int sq_sender_known(mw_store *s, const char *addr);
int sq_block_add(mw_store *s, const store_block *b);
int sq_block_remove(mw_store *s, const char *kind, const char *value);
int sq_block_find(mw_store *s, const char *kind, const char *value, time_t now, store_block *out);
int sq_block_list(mw_store *s, time_t now, void (*fn)(const store_block *b, void *arg), void *arg);
int sq_fp_record(mw_store *s, const char *fp, const char *sender, time_t now);
int sq_fp_flag_sender(mw_store *s, const char *sender, const char *code, const char *source, time_t now);
int sq_fp_flag(mw_store *s, const char *fp, const char *sender, const char *code, const char *source, time_t now);
int sq_fp_flagged(mw_store *s, const char *fp, store_block *why);
int sq_list_edit(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who);
int sq_lists_apply(mw_store *s, mw_lists *l, time_t now);
int sq_rule_set(mw_store *s, const char *key, const char *value, const char *who, time_t now, char *old, size_t oldlen);
int sq_rules(mw_store *s, void (*fn)(const char *key, const char *value, void *arg), void *arg);
int sq_audit(mw_store *s, size_t limit, void (*fn)(const store_audit_row *r, void *arg), void *arg);
int sq_audit_get(mw_store *s, long long id, store_audit_row *out);
int sq_audit_add(mw_store *s, time_t now, const char *who, const char *key, const char *old, const char *new_);
int sq_track_add(mw_store *s, const store_track_rec *r);
int sq_track_find(mw_store *s, const store_track_query *q, void (*fn)(const store_track_row *r, void *arg), void *arg);
long sq_track_prune(mw_store *s, time_t before, size_t max_rows);
long sq_prune(mw_store *s, time_t now, time_t history_ttl);
/* sq_track_last_id - rowid of the last message this connection inserted */
long long sq_track_last_id(mw_store *s);

/* ---- Redis (store_redis.c) ---- */

/* rd_open - parse cfg, read the password file, connect (a failure to connect is not an error) */
int rd_open(mw_store *s, const store_shared_cfg *cfg, char *err, size_t errlen);
void rd_close(mw_store *s);
/* rd_up - 1 when the shared backend is to be used for this call */
int rd_up(mw_store *s);
/* rd_down - mark the connection lost (logged once, counted, alerted) */
void rd_down(mw_store *s, const char *why);
/* rd_connect - (re)connect the command connection; 0 up */
int rd_connect(mw_store *s);
/* rd_publish - tell the other gateways that kind ("rules", "lists", "blocks") changed */
void rd_publish(mw_store *s, const char *kind);
/* rd_fallback - count one operation answered from SQLite while down */
void rd_fallback(mw_store *s);
/* rd_quar_put - index one quarantined message in Redis (owner: this gateway) */
int rd_quar_put(mw_store *s, const char *id, time_t t, const char *queue_id, const char *sender, const char *rcpts,
                const char *subject, size_t size, const char *reasons, const char *state, time_t release_at,
                time_t expires);
/* rd_quar_state - update the state of an indexed message */
int rd_quar_state(mw_store *s, const char *id, const char *state, time_t release_at);
/* rd_quar_list - every gateway's index rows in state (NULL: held and quarantined), newest first */
typedef struct rd_quar_row {
	char id[40], gateway[64], queue_id[64], sender[321], subject[300], reasons[600], state[16];
	char rcpts[1000];
	time_t time, release_at, expires;
	size_t size;
} rd_quar_row;
int rd_quar_list(mw_store *s, const char *state, size_t limit, void (*fn)(const rd_quar_row *r, void *arg), void *arg);
/* rd_quar_push_local - copy the local quarantine index row id to Redis (reconciliation) */
int rd_quar_push_local(mw_store *s, const char *id);
/* rd_prune_indexes - drop index entries (blocks, quarantine) whose keys expired; entries removed */
long rd_prune_indexes(mw_store *s);
/* rd_track_trim - drop shared tracking rows older than before, and the oldest above max_rows */
long rd_track_trim(mw_store *s, time_t before, size_t max_rows);

/* the conflict-aware pushes used by reconciliation (store_redis.c) */
int rd_block_add_if_newer(mw_store *s, const store_block *b);
int rd_block_remove_if_older(mw_store *s, const char *kind, const char *value, time_t t);
/* rd_rule_set_if_newer - 1 applied, 0 a later change on another gateway wins, -1 error */
int rd_rule_set_if_newer(mw_store *s, const char *key, const char *value, const char *who, time_t t);
int rd_list_edit_if_newer(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who,
                          time_t t);
/* rd_pull - copy the shared rules, list edits, blocks and flagged fingerprints into SQLite */
int rd_pull(mw_store *s);

/* ---- the outbox: local changes made while Redis was down (store_sync.c) ---- */

/* outbox_add - remember op (fields joined by OUTBOX_SEP) for the next reconciliation */
#define OUTBOX_SEP '\x1f'
int outbox_add(mw_store *s, time_t t, const char *op, const char *const *fields, size_t n);
long outbox_count(mw_store *s);
/* outbox_seed - queue this file's own state when it joins a shared store (once per address and prefix) */
int outbox_seed(mw_store *s);
/* outbox_replay - push every pending change (oldest first); 0 all pushed, -1 stopped by an error */
int outbox_replay(mw_store *s);
/* sq_outbox_track - the tracking record of local message id, pushed by fn; 0, or -1 */
int sq_track_load(mw_store *s, long long id, int (*fn)(mw_store *s, const store_track_rec *r));

#endif
