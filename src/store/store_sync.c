/*
 * NAME
 *	store_sync.c - the shared store's background: change notification,
 *	reconnection, the outbox of changes made while Redis was down,
 *	reconciliation, and quarantine releases across gateways
 * SYNOPSIS
 *	store_on_change(store, fn, arg);	(the daemon rebuilds its snapshot)
 *	store_sync(store);			(reconnect, push, pull)
 *	store_release_ask(store, gw, id, who, 30, result, len);
 *	store_release_next(store, 2, &req); ...; store_release_done(store, &req, ok, text);
 * DESCRIPTION
 *	One thread per shared store.  While Redis answers it holds a second
 *	connection SUBSCRIBEd to "P changes": a gateway that changes rules,
 *	list edits, blocks or flagged fingerprints PUBLISHes the kind; every
 *	gateway then copies the shared state into its SQLite file (rd_pull)
 *	and calls the on-change function, so a lockdown set on one gateway
 *	is in the other's snapshot a few milliseconds later.  Blocks and
 *	flags need no notification to take effect: the RCPT and end-of-message
 *	checks read them from Redis at every call.  Pub/sub loses messages
 *	sent while a subscriber is disconnected, so every (re)subscription
 *	is followed by a full pull; a full pull also runs every pull_s
 *	seconds.
 *
 *	While Redis is down every write goes to SQLite and to the outbox
 *	table (operation, time, fields).  The thread retries every retry_ms;
 *	when Redis answers again it replays the outbox oldest first, then
 *	pulls, then switches the request path back to Redis (and replays
 *	what arrived meanwhile).  Conflict rules of the replay:
 *	  - fan-out attempts, sender history, fingerprints, flags, tracking
 *	    rows and audit rows are merged (added to the shared state);
 *	  - a block added while down is kept unless the shared block on the
 *	    same key was created later; a block removed while down is removed
 *	    unless the shared one was created after the removal;
 *	  - a rule or list edit made while down is applied unless the shared
 *	    value was changed later (last writer wins, by time; the losing
 *	    change stays in the local audit trail and is logged).
 *
 *	Releases: quarantine files stay on the gateway that wrote them.  A
 *	release of another gateway's message is a request pushed on that
 *	gateway's list "P relq:GW" with a reply key; the owner's daemon pops
 *	it (store_release_next, in its own thread and connection), releases
 *	exactly as a local release (claim, re-inject once) and pushes the
 *	result; the asking side waits with a time limit.
 * LIMITS
 *	The outbox is replayed in batches of OUTBOX_BATCH rows.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/store_rd.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define OUTBOX_BATCH 500

/* ---- the outbox ---- */

int outbox_add(mw_store *s, time_t t, const char *op, const char *const *fields, size_t n)
{
	sqlite3_stmt *st = NULL;
	mw_buf args;
	size_t i;
	int rc = -1;

	buf_init(&args, 0);
	for (i = 0; i < n; i++) {
		if (i)
			buf_putc(&args, OUTBOX_SEP);
		buf_puts(&args, fields[i] ? fields[i] : "");
	}
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO outbox(t, op, args) VALUES(?1, ?2, ?3)", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, t);
		sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, args.p ? args.p : "", -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "outbox");
	} else {
		store_fail(s, "outbox");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	buf_free(&args);
	return rc;
}

long outbox_count(mw_store *s)
{
	sqlite3_stmt *st = NULL;
	long n = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM outbox", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return n;
}

typedef struct ob_row {
	long long id;
	time_t t;
	char op[16];
	char *args;
} ob_row;

/* split - args at OUTBOX_SEP into f (at most n); the count */
static size_t split(char *args, char **f, size_t n)
{
	size_t k = 0;

	while (k < n) {
		f[k++] = args;
		if ((args = strchr(args, OUTBOX_SEP)) == NULL)
			break;
		*args++ = 0;
	}
	return k;
}

static int push_track(mw_store *s, const store_track_rec *r)
{
	return store_redis_ops.track_add(s, r);
}

/* replay_one - push one outbox row; 0 done (or dropped as superseded), -1 Redis failed */
static int replay_one(mw_store *s, ob_row *o)
{
	char *f[8];
	size_t n = split(o->args, f, 8);
	unsigned distinct;
	int first, rc = 0;

	if (strcmp(o->op, "rcpt") == 0 && n == 3) {
		rc = store_redis_ops.rcpt_seen(s, f[0], f[1], o->t, (time_t)strtoll(f[2], NULL, 10), &distinct);
	} else if (strcmp(o->op, "sender") == 0 && n == 1) {
		rc = store_redis_ops.sender_seen(s, f[0], o->t, &first);
	} else if (strcmp(o->op, "badd") == 0 && n == 7) {
		store_block b;
		memset(&b, 0, sizeof(b));
		mw_strlcpy(b.kind, f[0], sizeof(b.kind));
		mw_strlcpy(b.value, f[1], sizeof(b.value));
		mw_strlcpy(b.code, f[2], sizeof(b.code));
		mw_strlcpy(b.detail, f[3], sizeof(b.detail));
		mw_strlcpy(b.source, f[4], sizeof(b.source));
		b.created = (time_t)strtoll(f[5], NULL, 10);
		b.expires = (time_t)strtoll(f[6], NULL, 10);
		if ((rc = rd_block_add_if_newer(s, &b)) == 0)
			log_info("reconcile: block %s %s superseded by a later shared block", b.kind, b.value);
	} else if (strcmp(o->op, "bdel") == 0 && n == 2) {
		if ((rc = rd_block_remove_if_older(s, f[0], f[1], o->t)) == 2)
			log_info("reconcile: removal of block %s %s superseded by a later shared block", f[0], f[1]);
	} else if (strcmp(o->op, "fp") == 0 && n == 2) {
		rc = store_redis_ops.fp_record(s, f[0], f[1], o->t);
	} else if (strcmp(o->op, "fpfs") == 0 && n == 3) {
		rc = store_redis_ops.fp_flag_sender(s, f[0], f[1], f[2], o->t);
	} else if (strcmp(o->op, "fpf") == 0 && n == 4) {
		rc = store_redis_ops.fp_flag(s, f[0], f[1], f[2], f[3], o->t);
	} else if (strcmp(o->op, "list") == 0 && n == 5) {
		if ((rc = rd_list_edit_if_newer(s, f[0], f[1], atoi(f[2]), (time_t)strtoll(f[3], NULL, 10), f[4],
		                                o->t)) == 0)
			log_warn("reconcile: list edit %s %s by %s superseded by a later change on another gateway",
			         f[0], f[1], f[4]);
	} else if (strcmp(o->op, "rule") == 0 && n == 4) {
		if ((rc = rd_rule_set_if_newer(s, f[0], atoi(f[2]) ? f[1] : NULL, f[3], o->t)) == 0)
			log_warn("reconcile: rule %s = %s by %s superseded by a later change on another gateway", f[0],
			         atoi(f[2]) ? f[1] : "(file)", f[3]);
	} else if (strcmp(o->op, "audit") == 0 && n == 4) {
		rc = store_redis_ops.audit_add(s, o->t, f[0], f[1], f[2], f[3]);
	} else if (strcmp(o->op, "track") == 0 && n == 1) {
		rc = sq_track_load(s, strtoll(f[0], NULL, 10), push_track);
	} else if (strcmp(o->op, "quar") == 0 && n == 1) {
		rc = rd_quar_push_local(s, f[0]);
	} else {
		log_err("reconcile: outbox row %lld: unknown operation %s (dropped)", o->id, o->op);
		return 0;
	}
	return rc < 0 ? -1 : 0;
}

int outbox_replay(mw_store *s)
{
	for (;;) {
		sqlite3_stmt *st = NULL;
		ob_row rows[OUTBOX_BATCH];
		size_t n = 0, i;
		int rc = 0;

		pthread_mutex_lock(&s->mu);
		if (sqlite3_prepare_v2(s->db, "SELECT id, t, op, args FROM outbox ORDER BY id LIMIT ?1", -1, &st,
		                       NULL) != SQLITE_OK) {
			store_fail(s, "outbox");
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
		sqlite3_bind_int(st, 1, OUTBOX_BATCH);
		while (n < OUTBOX_BATCH && sqlite3_step(st) == SQLITE_ROW) {
			const unsigned char *op = sqlite3_column_text(st, 2), *a = sqlite3_column_text(st, 3);
			rows[n].id = sqlite3_column_int64(st, 0);
			rows[n].t = (time_t)sqlite3_column_int64(st, 1);
			mw_strlcpy(rows[n].op, op ? (const char *)op : "", sizeof(rows[n].op));
			rows[n].args = x_strdup(a ? (const char *)a : "");
			n++;
		}
		sqlite3_finalize(st);
		pthread_mutex_unlock(&s->mu);
		if (n == 0)
			return 0;
		for (i = 0; i < n; i++) {
			if (rc == 0 && replay_one(s, &rows[i]) == 0) {
				char sql[80];
				snprintf(sql, sizeof(sql), "DELETE FROM outbox WHERE id = %lld", rows[i].id);
				pthread_mutex_lock(&s->mu);
				store_exec(s, sql);
				pthread_mutex_unlock(&s->mu);
			} else {
				rc = -1;
			}
			x_free(rows[i].args);
		}
		if (rc < 0)
			return -1;
	}
}

/*
 * outbox_seed - a file that joins a shared store (first time, or another
 * Redis or prefix): queue its own rules, list edits, active blocks,
 * flagged fingerprints, tracking rows and quarantine index for the first
 * reconciliation, so joining merges them (by the usual conflict rules)
 * instead of the first pull replacing them.  Sender history and fan-out
 * windows are not pushed: they age out within sender.history_ttl.
 */
int outbox_seed(mw_store *s)
{
	static const char *const seed[] = {
	    "INSERT INTO outbox(t, op, args) SELECT coalesce(time, 0), 'rule', key || char(31) || value || char(31) ||"
	    " '1' || char(31) || coalesce(who, '') FROM rules",
	    "INSERT INTO outbox(t, op, args) SELECT coalesce(t, 0), 'list', list || char(31) || entry || char(31) ||"
	    " op || char(31) || expires || char(31) || coalesce(who, '') FROM list_edits",
	    "INSERT INTO outbox(t, op, args) SELECT created, 'badd', kind || char(31) || value || char(31) ||"
	    " coalesce(code, '') || char(31) || coalesce(detail, '') || char(31) || coalesce(source, '') ||"
	    " char(31) || created || char(31) || expires FROM blocks",
	    "INSERT INTO outbox(t, op, args) SELECT coalesce(flag_time, 0), 'fpf', fp || char(31) ||"
	    " coalesce(flag_sender, '') || char(31) || coalesce(flag_code, '') || char(31) ||"
	    " coalesce(flag_source, '') FROM fingerprints WHERE flagged = 1",
	    "INSERT INTO outbox(t, op, args) SELECT time, 'track', id FROM messages ORDER BY id",
	    "INSERT INTO outbox(t, op, args) SELECT time, 'quar', id FROM quarantine WHERE state != 'deleted'",
	};
	store_redis *rd = s->rd;
	sqlite3_stmt *st = NULL;
	char joined[300] = "", want[300];
	size_t i;
	int rc = -1, queued = 0;

	snprintf(want, sizeof(want), "%s %s", rd->address, rd->prefix);
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM shared WHERE key = 'joined'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		mw_strlcpy(joined, (const char *)sqlite3_column_text(st, 0), sizeof(joined));
	sqlite3_finalize(st);
	st = NULL;
	if (strcmp(joined, want) == 0) {
		rc = 0;
		goto out;
	}
	if (store_begin(s) < 0)
		goto out;
	queued = sqlite3_total_changes(s->db);
	for (i = 0; i < MW_ARRAY_LEN(seed); i++)
		if (store_exec(s, seed[i]) < 0)
			goto rollback;
	queued = sqlite3_total_changes(s->db) - queued;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO shared(key, value) VALUES('joined', ?1)", -1, &st,
	                       NULL) != SQLITE_OK)
		goto rollback;
	sqlite3_bind_text(st, 1, want, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	st = NULL;
	if (store_commit(s) < 0)
		goto rollback;
	if (queued > 0)
		log_info("store %s joins the shared store %s (prefix %s): %d row(s) of its own state queued for the "
		         "first reconciliation",
		         s->path, rd->address, rd->prefix, queued);
	rc = 0;
	goto out;
rollback:
	store_fail(s, "joining the shared store");
	sqlite3_finalize(st);
	store_rollback(s);
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* ---- reconnection and reconciliation ---- */

int store_sync(mw_store *s)
{
	store_redis *rd = s->rd;
	long pending;
	int was;

	if (rd == NULL)
		return 0;
	rd_sync_mode(1);
	pending = outbox_count(s);
	if (rd->c == NULL && rd_connect(s) < 0)
		goto down;
	if (outbox_replay(s) < 0 || rd_pull(s) < 0)
		goto down;
	was = __atomic_exchange_n(&rd->up, 1, __ATOMIC_ACQ_REL);
	/* changes made between the replay and the switch went to SQLite only */
	if (outbox_replay(s) < 0)
		goto down;
	if (!was) {
		time_t since;
		pthread_mutex_lock(&rd->st_mu);
		since = rd->down_since;
		rd->down_since = 0;
		rd->reconciles++;
		rd->last_error[0] = 0;
		pthread_mutex_unlock(&rd->st_mu);
		log_info("shared store %s %s: %ld local change(s) pushed, shared state copied locally", rd->address,
		         rd->reconciles + rd->failures > 1 ? "back" : "connected", pending > 0 ? pending : 0);
		(void)since;
		rd_publish(s, "all");
	}
	rd_sync_mode(0);
	return 0;
down:
	rd_sync_mode(0);
	return -1;
}

/* ---- the thread: subscriber, retries, periodic pulls ---- */

/* pause_ms - sleep in steps of at most 100 ms, returning early when the store closes */
static void pause_ms(store_redis *rd, unsigned ms)
{
	while (ms > 0 && !__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE)) {
		unsigned step = ms > 100 ? 100 : ms;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static void notify(mw_store *s)
{
	store_redis *rd = s->rd;

	if (rd->on_change)
		rd->on_change(rd->on_change_arg);
}

static redisContext *subscribe(mw_store *s)
{
	store_redis *rd = s->rd;
	char err[300], ch[128];
	redisContext *c = rd_new_conn(rd, rd->command_ms, err, sizeof(err));
	redisReply *r;

	if (c == NULL)
		return NULL;
	rd_key(rd, ch, sizeof(ch), "changes");
	{
		const char *argv[2] = {"SUBSCRIBE", ch};
		r = redisCommandArgv(c, 2, argv, NULL);
	}
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		log_err("shared store: SUBSCRIBE %s: %s", ch, r ? r->str : c->errstr);
		if (r)
			freeReplyObject(r);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(r);
	return c;
}

static void *sync_thread(void *arg)
{
	mw_store *s = arg;
	store_redis *rd = s->rd;
	redisContext *sub = NULL;
	time_t last_pull = time(NULL);

	rd_sync_mode(1);
	while (!__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd;
		void *reply = NULL;
		int changed = 0;

		if (!rd_up(s)) {
			if (sub) {
				redisFree(sub);
				sub = NULL;
			}
			if (store_sync(s) < 0) {
				rd_sync_mode(1);
				pause_ms(rd, rd->retry_ms);
				continue;
			}
			rd_sync_mode(1);
			notify(s);
			last_pull = time(NULL);
		}
		if (sub == NULL) {
			if ((sub = subscribe(s)) == NULL) {
				pause_ms(rd, rd->retry_ms);
				continue;
			}
			/* messages published while we were not subscribed are lost: pull */
			if (rd_pull(s) == 0)
				notify(s);
		}
		pfd.fd = sub->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 250) > 0) {
			if (redisBufferRead(sub) != REDIS_OK) {
				redisFree(sub);
				sub = NULL;
				continue;
			}
			while (redisGetReplyFromReader(sub, &reply) == REDIS_OK && reply) {
				redisReply *r = reply;
				if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->str &&
				    strcmp(r->element[0]->str, "message") == 0)
					changed = 1;
				freeReplyObject(r);
				reply = NULL;
			}
		}
		if (changed && rd_up(s)) {
			if (rd_pull(s) == 0)
				notify(s);
			last_pull = time(NULL);
		} else if (rd_up(s) && time(NULL) - last_pull >= (time_t)rd->pull_s) {
			if (outbox_count(s) > 0)
				outbox_replay(s);
			rd_pull(s);
			notify(s);
			last_pull = time(NULL);
		}
	}
	if (sub)
		redisFree(sub);
	return NULL;
}

int rd_start_thread(mw_store *s)
{
	if (pthread_create(&s->rd->thr, NULL, sync_thread, s) != 0)
		return -1;
	s->rd->thr_started = 1;
	return 0;
}

void rd_stop_thread(mw_store *s)
{
	store_redis *rd = s->rd;

	if (rd == NULL || !rd->thr_started)
		return;
	__atomic_store_n(&rd->stop, 1, __ATOMIC_RELEASE);
	pthread_join(rd->thr, NULL);
	rd->thr_started = 0;
}

void store_on_change(mw_store *s, void (*fn)(void *arg), void *arg)
{
	if (s->rd == NULL)
		return;
	s->rd->on_change_arg = arg;
	__atomic_store_n(&s->rd->on_change, fn, __ATOMIC_RELEASE);
}

void store_shared_get_status(mw_store *s, store_shared_status *out)
{
	store_redis *rd = s->rd;

	memset(out, 0, sizeof(*out));
	if (rd == NULL)
		return;
	out->shared = 1;
	out->up = rd_up(s);
	pthread_mutex_lock(&rd->st_mu);
	out->down_since = out->up ? 0 : rd->down_since;
	out->failures = rd->failures;
	out->reconciles = rd->reconciles;
	out->fallbacks = rd->fallbacks;
	mw_strlcpy(out->last_error, rd->last_error, sizeof(out->last_error));
	pthread_mutex_unlock(&rd->st_mu);
	mw_strlcpy(out->address, rd->address, sizeof(out->address));
	mw_strlcpy(out->gateway, rd->gw, sizeof(out->gateway));
	out->pending = outbox_count(s);
}

const char *store_gateway(const mw_store *s)
{
	return s->rd ? s->rd->gw : "";
}

/* ---- releases across gateways ---- */

int store_release_ask(mw_store *s, const char *gw, const char *id, const char *who, int timeout_s, char *result,
                      size_t len)
{
	store_redis *rd = s->rd;
	unsigned char rnd[8];
	char q[200], reply[96], msg[300], err[300], to[24];
	redisContext *c;
	redisReply *r;
	size_t i;
	int rc = -1;

	if (rd == NULL || !rd_up(s)) {
		snprintf(result, len, "the shared store is not reachable: ask on gateway %s", gw);
		return -1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(result, len, "getrandom: %s", strerror(errno));
		return -1;
	}
	rd_key(rd, q, sizeof(q), "relq:%s", gw);
	rd_key(rd, reply, sizeof(reply), "relr:");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(reply + strlen(reply), 3, "%02x", rnd[i]);
	snprintf(msg, sizeof(msg), "%s\x1f%.60s\x1f%s", id, who, reply);
	if ((c = rd_new_conn(rd, (unsigned)(timeout_s + 2) * 1000, err, sizeof(err))) == NULL) {
		snprintf(result, len, "%s", err);
		return -1;
	}
	{
		const char *argv[3] = {"RPUSH", q, msg};
		r = redisCommandArgv(c, 3, argv, NULL);
	}
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(result, len, "queueing the request: %s", r ? r->str : c->errstr);
		goto out;
	}
	freeReplyObject(r);
	snprintf(to, sizeof(to), "%d", timeout_s);
	{
		const char *argv[3] = {"BLPOP", reply, to};
		r = redisCommandArgv(c, 3, argv, NULL);
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[1]->str == NULL) {
		snprintf(result, len, "gateway %s did not answer within %d s (its daemon down?)", gw, timeout_s);
		goto out;
	}
	if (strncmp(r->element[1]->str, "ok\x1f", 3) == 0) {
		snprintf(result, len, "%s", r->element[1]->str + 3);
		rc = 0;
	} else {
		const char *sep = strchr(r->element[1]->str, '\x1f');
		snprintf(result, len, "%s", sep ? sep + 1 : r->element[1]->str);
	}
out:
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return rc;
}

int store_release_next(mw_store *s, int timeout_s, store_release_req *out)
{
	store_redis *rd = s->rd;
	char q[200], to[24], err[300];
	redisReply *r;
	int rc = -1;

	if (rd == NULL)
		return -1;
	pthread_mutex_lock(&rd->rel_mu);
	if (rd->rel == NULL && (rd->rel = rd_new_conn(rd, (unsigned)(timeout_s + 2) * 1000, err, sizeof(err))) == NULL)
		goto out;
	rd_key(rd, q, sizeof(q), "relq:%s", rd->gw);
	snprintf(to, sizeof(to), "%d", timeout_s);
	{
		const char *argv[3] = {"BLPOP", q, to};
		r = redisCommandArgv(rd->rel, 3, argv, NULL);
	}
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		if (r)
			freeReplyObject(r);
		redisFree(rd->rel);
		rd->rel = NULL;
		goto out;
	}
	rc = 0;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->str) {
		char *c = x_strdup(r->element[1]->str), *f[3];
		if (split(c, f, 3) == 3) {
			memset(out, 0, sizeof(*out));
			mw_strlcpy(out->id, f[0], sizeof(out->id));
			mw_strlcpy(out->who, f[1], sizeof(out->who));
			mw_strlcpy(out->reply_key, f[2], sizeof(out->reply_key));
			rc = 1;
		}
		x_free(c);
	}
	freeReplyObject(r);
out:
	pthread_mutex_unlock(&rd->rel_mu);
	return rc;
}

void store_release_done(mw_store *s, const store_release_req *req, int ok, const char *text)
{
	store_redis *rd = s->rd;
	char msg[600];
	redisReply *r;

	if (rd == NULL)
		return;
	snprintf(msg, sizeof(msg), "%s\x1f%.500s", ok ? "ok" : "fail", text ? text : "");
	pthread_mutex_lock(&rd->rel_mu);
	if (rd->rel) {
		const char *argv[3] = {"RPUSH", req->reply_key, msg};
		const char *ex[3] = {"EXPIRE", req->reply_key, "120"};
		if ((r = redisCommandArgv(rd->rel, 3, argv, NULL)) != NULL)
			freeReplyObject(r);
		if ((r = redisCommandArgv(rd->rel, 3, ex, NULL)) != NULL)
			freeReplyObject(r);
	}
	pthread_mutex_unlock(&rd->rel_mu);
}

/* rd_quar_push_local - index the local quarantine row id in Redis (after an outage) */
int rd_quar_push_local(mw_store *s, const char *id)
{
	sqlite3_stmt *st = NULL;
	char qid[64] = "", sender[330] = "", rcpts[4000] = "", subject[300] = "", reasons[600] = "", state[16] = "";
	time_t t = 0, rel = 0, exp = 0;
	size_t size = 0;
	int found = 0;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(
	        s->db,
	        "SELECT time, queue_id, sender, rcpts, subject, size, reasons, state, release_at, expires"
	        " FROM quarantine WHERE id = ?1",
	        -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
#define COL(i, dst)                                                                                                    \
	mw_strlcpy(dst, sqlite3_column_text(st, i) ? (const char *)sqlite3_column_text(st, i) : "", sizeof(dst))
			t = (time_t)sqlite3_column_int64(st, 0);
			COL(1, qid);
			COL(2, sender);
			COL(3, rcpts);
			COL(4, subject);
			size = (size_t)sqlite3_column_int64(st, 5);
			COL(6, reasons);
			COL(7, state);
#undef COL
			rel = (time_t)sqlite3_column_int64(st, 8);
			exp = (time_t)sqlite3_column_int64(st, 9);
			found = 1;
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	if (!found)
		return 0;
	{
		char *p;
		for (p = rcpts; *p; p++)
			if (*p == '\n')
				*p = ',';
	}
	return rd_quar_put(s, id, t, qid, sender, rcpts, subject, size, reasons, state, rel, exp);
}
