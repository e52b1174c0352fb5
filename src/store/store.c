/*
 * NAME
 *	store.c - SQLite state database
 * SYNOPSIS
 *	See store.h.
 * DESCRIPTION
 *	Prepared statements are kept per connection in stmt_sql[] order and
 *	prepared on first use.  Schema changes add a step to schema_steps[]
 *	and bump its version; store_open() applies the missing steps in one
 *	transaction each.
 * LIMITS
 *	store_limits.max_rows rows per history table; busy_ms lock wait.
 * DIAGNOSTICS
 *	-1 and store_error() on any SQLite failure.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/store.h"
#include "store/store_int.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const schema_steps[] = {
    /* version 1 */
    "CREATE TABLE senders(addr TEXT PRIMARY KEY, first_seen INTEGER, last_seen INTEGER, msgs INTEGER)"
    " WITHOUT ROWID;"
    "CREATE INDEX senders_last ON senders(last_seen);"
    "CREATE TABLE rcpts(sender TEXT, rcpt TEXT, last_seen INTEGER, PRIMARY KEY(sender, rcpt)) WITHOUT ROWID;"
    "CREATE INDEX rcpts_sender_time ON rcpts(sender, last_seen);"
    "CREATE INDEX rcpts_last ON rcpts(last_seen);"
    "CREATE TABLE blocks(kind TEXT, value TEXT, code TEXT, detail TEXT, source TEXT, created INTEGER,"
    " expires INTEGER, PRIMARY KEY(kind, value)) WITHOUT ROWID;"
    "CREATE TABLE fingerprints(fp TEXT PRIMARY KEY, first_seen INTEGER, last_seen INTEGER,"
    " flagged INTEGER NOT NULL DEFAULT 0, flag_sender TEXT, flag_code TEXT, flag_source TEXT, flag_time INTEGER)"
    " WITHOUT ROWID;"
    "CREATE INDEX fingerprints_last ON fingerprints(last_seen);"
    "CREATE TABLE fp_senders(sender TEXT, fp TEXT, last_seen INTEGER, PRIMARY KEY(sender, fp)) WITHOUT ROWID;"
    "CREATE INDEX fp_senders_last ON fp_senders(last_seen);"
    "CREATE TABLE list_edits(list TEXT, entry TEXT, op INTEGER, expires INTEGER, who TEXT, t INTEGER,"
    " PRIMARY KEY(list, entry)) WITHOUT ROWID;",
    /* version 2: quarantine index */
    "CREATE TABLE quarantine(id TEXT PRIMARY KEY, time INTEGER, queue_id TEXT, sender TEXT, rcpts TEXT,"
    " subject TEXT, size INTEGER, reasons TEXT, state TEXT, release_at INTEGER, expires INTEGER) WITHOUT ROWID;"
    "CREATE INDEX quarantine_state ON quarantine(state, release_at);"
    "CREATE INDEX quarantine_time ON quarantine(time);",
    /* version 3: message tracking */
    "CREATE TABLE messages(id INTEGER PRIMARY KEY, time INTEGER, queue_id TEXT, client TEXT, sender TEXT,"
    " sender_domain TEXT, hdr_from TEXT, subject TEXT, rcpts TEXT, size INTEGER, action TEXT, reasons TEXT,"
    " stage TEXT, quarantine_id TEXT);"
    "CREATE INDEX messages_time ON messages(time);"
    "CREATE INDEX messages_sender ON messages(sender, time);"
    "CREATE INDEX messages_sender_domain ON messages(sender_domain, time);"
    "CREATE INDEX messages_queue_id ON messages(queue_id);"
    "CREATE TABLE msg_rcpts(msg INTEGER, rcpt TEXT);"
    "CREATE INDEX msg_rcpts_rcpt ON msg_rcpts(rcpt);"
    "CREATE INDEX msg_rcpts_msg ON msg_rcpts(msg);"
    "CREATE TABLE msg_attachments(msg INTEGER, name TEXT, type TEXT, sha256 TEXT);"
    "CREATE INDEX msg_att_sha ON msg_attachments(sha256);"
    "CREATE INDEX msg_att_name ON msg_attachments(name);"
    "CREATE INDEX msg_att_msg ON msg_attachments(msg);"
    "CREATE TABLE msg_links(msg INTEGER, domain TEXT);"
    "CREATE INDEX msg_links_domain ON msg_links(domain);"
    "CREATE INDEX msg_links_msg ON msg_links(msg);"
    "CREATE TABLE alerts(id INTEGER PRIMARY KEY, time INTEGER, kind TEXT, text TEXT);",
    /* version 4: tunable rules and their audit trail */
    "CREATE TABLE rules(key TEXT PRIMARY KEY, value TEXT NOT NULL, who TEXT, time INTEGER) WITHOUT ROWID;"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, time INTEGER, who TEXT, key TEXT, old TEXT, new TEXT);",
    /* version 5: changes made while the shared store (Redis) was down, replayed by store_sync.c */
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, t INTEGER, op TEXT, args TEXT);",
    /* version 6: which shared store this file last joined (store_sync.c: seed_outbox) */
    "CREATE TABLE shared(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;",
    /* version 7: releases survive a crash (the state before "releasing", when
     * the release began, a note for the operator); console login failures */
    "ALTER TABLE quarantine ADD COLUMN release_from TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE quarantine ADD COLUMN release_started INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE quarantine ADD COLUMN note TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE login_failures(user TEXT PRIMARY KEY, failures INTEGER NOT NULL, last INTEGER NOT NULL)"
    " WITHOUT ROWID;",
    /* version 8: sender authentication in tracking (src/auth) */
    "ALTER TABLE messages ADD COLUMN from_domain TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE messages ADD COLUMN spf TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE messages ADD COLUMN dkim TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE messages ADD COLUMN dmarc TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE messages ADD COLUMN auth TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX messages_from_domain ON messages(from_domain, time);",
    /* version 9: alerts that name names (store_alerts.c): mailed, read marks */
    "ALTER TABLE alerts ADD COLUMN sender TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE alerts ADD COLUMN queue_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE alerts ADD COLUMN mailed INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE alerts ADD COLUMN detail TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX alerts_mailed ON alerts(mailed);"
    "CREATE TABLE alert_seen(who TEXT PRIMARY KEY, last_id INTEGER NOT NULL) WITHOUT ROWID;",
    /* a retro-scan copy's small encrypted file held in its row (quarantine.c: QROW_MAX) */
    "ALTER TABLE quarantine ADD COLUMN body BLOB;",
};

enum {
	ST_RCPT_UPSERT,
	ST_RCPT_COUNT,
	ST_SENDER_GET,
	ST_SENDER_UPSERT,
	ST_BLOCK_ADD,
	ST_BLOCK_DEL,
	ST_BLOCK_FIND,
	ST_BLOCK_LIST,
	ST_FP_UPSERT,
	ST_FPS_UPSERT,
	ST_FP_FLAG_SENDER,
	ST_FP_FLAG,
	ST_FP_FLAGGED,
	ST_LIST_EDIT,
	ST_LIST_ALL,
	ST_COUNT
};

_Static_assert(ST_COUNT <= 32, "mw_store.st is too small");

static const char *const stmt_sql[ST_COUNT] = {
    [ST_RCPT_UPSERT] = "INSERT INTO rcpts(sender, rcpt, last_seen) VALUES(?1, ?2, ?3)"
                       " ON CONFLICT(sender, rcpt) DO UPDATE SET last_seen = excluded.last_seen",
    [ST_RCPT_COUNT] = "SELECT count(*) FROM rcpts WHERE sender = ?1 AND last_seen >= ?2",
    [ST_SENDER_GET] = "SELECT msgs FROM senders WHERE addr = ?1",
    [ST_SENDER_UPSERT] = "INSERT INTO senders(addr, first_seen, last_seen, msgs) VALUES(?1, ?2, ?2, 1)"
                         " ON CONFLICT(addr) DO UPDATE SET last_seen = excluded.last_seen, msgs = msgs + 1",
    [ST_BLOCK_ADD] = "INSERT OR REPLACE INTO blocks(kind, value, code, detail, source, created, expires)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_BLOCK_DEL] = "DELETE FROM blocks WHERE kind = ?1 AND value = ?2",
    [ST_BLOCK_FIND] = "SELECT kind, value, code, detail, source, created, expires FROM blocks"
                      " WHERE kind = ?1 AND value = ?2 AND (expires = 0 OR expires > ?3)",
    [ST_BLOCK_LIST] = "SELECT kind, value, code, detail, source, created, expires FROM blocks"
                      " WHERE expires = 0 OR expires > ?1 ORDER BY created",
    [ST_FP_UPSERT] = "INSERT INTO fingerprints(fp, first_seen, last_seen) VALUES(?1, ?2, ?2)"
                     " ON CONFLICT(fp) DO UPDATE SET last_seen = excluded.last_seen",
    [ST_FPS_UPSERT] = "INSERT INTO fp_senders(sender, fp, last_seen) VALUES(?1, ?2, ?3)"
                      " ON CONFLICT(sender, fp) DO UPDATE SET last_seen = excluded.last_seen",
    [ST_FP_FLAG_SENDER] = "UPDATE fingerprints SET flagged = 1, flag_sender = ?1, flag_code = ?2,"
                          " flag_source = ?3, flag_time = ?4"
                          " WHERE flagged = 0 AND fp IN (SELECT fp FROM fp_senders WHERE sender = ?1)",
    [ST_FP_FLAG] = "INSERT INTO fingerprints(fp, first_seen, last_seen, flagged, flag_sender, flag_code,"
                   " flag_source, flag_time) VALUES(?1, ?5, ?5, 1, ?2, ?3, ?4, ?5)"
                   " ON CONFLICT(fp) DO UPDATE SET flagged = 1, flag_sender = ?2, flag_code = ?3,"
                   " flag_source = ?4, flag_time = ?5",
    [ST_FP_FLAGGED] = "SELECT flag_sender, flag_code, flag_source, flag_time FROM fingerprints"
                      " WHERE fp = ?1 AND flagged = 1",
    [ST_LIST_EDIT] = "INSERT OR REPLACE INTO list_edits(list, entry, op, expires, who, t)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_LIST_ALL] = "SELECT list, entry, op FROM list_edits WHERE expires = 0 OR expires > ?1 ORDER BY t",
};

/* store_fail - remember SQLite's message; returns -1 */
int store_fail(mw_store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%.60s: %.200s (%.200s)", what, sqlite3_errmsg(s->db), s->path);
	log_err("store: %s", s->err);
	return -1;
}

/* stmt - prepared statement i, reset and unbound; NULL on failure */
static sqlite3_stmt *stmt(mw_store *s, int i)
{
	if (s->st[i] == NULL) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) !=
		    SQLITE_OK) {
			store_fail(s, "prepare");
			return NULL;
		}
	} else {
		sqlite3_reset(s->st[i]);
		sqlite3_clear_bindings(s->st[i]);
	}
	return s->st[i];
}

int store_exec(mw_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%.200s (%.200s)", msg ? msg : "error", s->path);
		sqlite3_free(msg);
		log_err("store: %s", s->err);
		return -1;
	}
	return 0;
}

int store_begin(mw_store *s)
{
	return store_exec(s, s->batch ? "SAVEPOINT mw_part" : "BEGIN IMMEDIATE");
}

int store_commit(mw_store *s)
{
	return store_exec(s, s->batch ? "RELEASE mw_part" : "COMMIT");
}

void store_rollback(mw_store *s)
{
	if (s->batch && store_exec(s, "ROLLBACK TO mw_part") == 0)
		store_exec(s, "RELEASE mw_part");
	else if (!s->batch)
		store_exec(s, "ROLLBACK");
}

static int migrate(mw_store *s)
{
	sqlite3_stmt *q;
	int version = 0;
	size_t i;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
		return store_fail(s, "schema version");
	if (sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	for (i = (size_t)version; i < MW_ARRAY_LEN(schema_steps); i++) {
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %zu;", i + 1);
		if (store_exec(s, "BEGIN IMMEDIATE") < 0)
			return -1;
		if (store_exec(s, schema_steps[i]) < 0 || store_exec(s, bump) < 0) {
			store_exec(s, "ROLLBACK");
			return -1;
		}
		if (store_exec(s, "COMMIT") < 0)
			return -1;
	}
	if ((size_t)version > MW_ARRAY_LEN(schema_steps)) {
		snprintf(s->err, sizeof(s->err), "%.200s has schema version %d, newer than this program knows (%zu)",
		         s->path, version, MW_ARRAY_LEN(schema_steps));
		return -1;
	}
	return 0;
}

int store_open(const char *statedir, const store_limits *lim, mw_store **out, char *err, size_t errlen)
{
	mw_store *s = x_calloc(1, sizeof(*s));
	char pragmas[200];

	*out = NULL;
	{
		/* recursive: list callbacks run under the lock and may use the store */
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&s->mu, &a);
		pthread_mutexattr_destroy(&a);
	}
	s->lim = *lim;
	if (mkdir(statedir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "state directory %s: %s", statedir, strerror(errno));
		goto fail;
	}
	snprintf(s->path, sizeof(s->path), "%s/mailwarden.db", statedir);
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", s->path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, (int)lim->busy_ms);
	snprintf(pragmas, sizeof(pragmas),
	         "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
	if (store_exec(s, pragmas) < 0 || migrate(s) < 0) {
		snprintf(err, errlen, "%s", s->err);
		goto fail;
	}
	chmod(s->path, 0640);
	store_own_like_dir(statedir, s->path);
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

/*
 * store_own_like_dir - when root opens the daemon's state (the console,
 * `mailwarden track` run by root), give path and its SQLite companions
 * (-wal, -shm) to the directory's owner, so the daemon, running as that
 * user, can still write them.
 */
void store_own_like_dir(const char *dir, const char *path)
{
	static const char *const sfx[] = {"", "-wal", "-shm"};
	struct stat st;
	char p[4200];
	size_t i;

	if (geteuid() != 0 || stat(dir, &st) < 0 || st.st_uid == 0)
		return;
	for (i = 0; i < MW_ARRAY_LEN(sfx); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		if (lchown(p, st.st_uid, st.st_gid) < 0 && errno != ENOENT)
			log_warn("chown %s: %m", p);
	}
}

void store_close(mw_store *s)
{
	size_t i;

	if (s == NULL)
		return;
	rd_close(s);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->mu);
	x_free(s);
}

const char *store_error(mw_store *s)
{
	return s->err;
}

const char *store_path(const mw_store *s)
{
	return s->path;
}

/*
 * unlock - reset every cached statement, then release the connection.  A
 * SELECT stopped after its first row keeps a read transaction open; if
 * another process (the console, `mailwarden track`) then writes, this
 * connection's next write fails at once with SQLITE_BUSY_SNAPSHOT
 * ("database is locked", no busy wait).  So no statement stays active
 * once the mutex is released.
 */
static void unlock(mw_store *s)
{
	size_t i;

	if (--s->depth == 0)
		for (i = 0; i < ST_COUNT; i++)
			if (s->st[i])
				sqlite3_reset(s->st[i]);
	pthread_mutex_unlock(&s->mu);
}

/* lock - take the connection (recursive: list callbacks may call back in) */
static void lock(mw_store *s)
{
	pthread_mutex_lock(&s->mu);
	s->depth++;
}

void store_batch_begin(mw_store *s)
{
	if (s == NULL || s->rd != NULL)
		return; /* shared: the Redis write-through takes its own locks, never under ours */
	lock(s);
	/* a BEGIN that fails (busy) leaves the statements on their own */
	if (s->batch++ == 0)
		s->batch_txn = store_exec(s, "BEGIN IMMEDIATE") == 0;
}

int store_batch_end(mw_store *s)
{
	int rc = 0;

	if (s == NULL || s->rd != NULL)
		return 0;
	if (--s->batch == 0 && s->batch_txn) {
		size_t i;
		s->batch_txn = 0;
		for (i = 0; i < ST_COUNT; i++) /* no statement in progress at the commit */
			if (s->st[i])
				sqlite3_reset(s->st[i]);
		if (store_exec(s, "COMMIT") < 0) {
			store_exec(s, "ROLLBACK");
			rc = -1;
		}
	}
	unlock(s);
	return rc;
}

/* step_done - run a statement that returns no rows */
static int step_done(mw_store *s, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);

	if (rc != SQLITE_DONE)
		return store_fail(s, what);
	return 0;
}

int sq_rcpt_seen(mw_store *s, const char *sender_key, const char *rcpt, time_t now, time_t window, unsigned *distinct)
{
	sqlite3_stmt *q;
	int rc = -1;

	lock(s);
	if ((q = stmt(s, ST_RCPT_UPSERT)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, sender_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	if (step_done(s, q, "recording recipient") < 0)
		goto out;
	if ((q = stmt(s, ST_RCPT_COUNT)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, sender_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now - window);
	if (sqlite3_step(q) != SQLITE_ROW) {
		store_fail(s, "counting recipients");
		goto out;
	}
	*distinct = (unsigned)sqlite3_column_int(q, 0);
	rc = 0;
out:
	unlock(s);
	return rc;
}

int sq_sender_seen(mw_store *s, const char *addr, time_t now, int *first)
{
	sqlite3_stmt *q;
	int rc = -1, step;

	lock(s);
	if ((q = stmt(s, ST_SENDER_GET)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
	step = sqlite3_step(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_fail(s, "looking up sender");
		goto out;
	}
	*first = step == SQLITE_DONE;
	if ((q = stmt(s, ST_SENDER_UPSERT)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	if (step_done(s, q, "recording sender") < 0)
		goto out;
	rc = 0;
out:
	unlock(s);
	return rc;
}

int sq_sender_known(mw_store *s, const char *addr)
{
	sqlite3_stmt *q;
	int rc = -1, step;

	lock(s);
	if ((q = stmt(s, ST_SENDER_GET)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		rc = 1;
	else if (step == SQLITE_DONE)
		rc = 0;
	else
		store_fail(s, "looking up sender");
out:
	unlock(s);
	return rc;
}

int sq_block_add(mw_store *s, const store_block *b)
{
	sqlite3_stmt *q;
	int rc = -1;

	lock(s);
	if ((q = stmt(s, ST_BLOCK_ADD)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, b->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, b->value, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, b->code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, b->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, b->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, b->created);
	sqlite3_bind_int64(q, 7, b->expires);
	rc = step_done(s, q, "adding block");
out:
	unlock(s);
	return rc;
}

int sq_block_remove(mw_store *s, const char *kind, const char *value)
{
	sqlite3_stmt *q;
	int rc = -1;

	lock(s);
	if ((q = stmt(s, ST_BLOCK_DEL)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	if (step_done(s, q, "removing block") == 0)
		rc = sqlite3_changes(s->db) > 0 ? 0 : 1;
out:
	unlock(s);
	return rc;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	mw_strlcpy(dst, t ? (const char *)t : "", len);
}

static void read_block(sqlite3_stmt *q, store_block *b)
{
	memset(b, 0, sizeof(*b));
	copy_col(b->kind, sizeof(b->kind), q, 0);
	copy_col(b->value, sizeof(b->value), q, 1);
	copy_col(b->code, sizeof(b->code), q, 2);
	copy_col(b->detail, sizeof(b->detail), q, 3);
	copy_col(b->source, sizeof(b->source), q, 4);
	b->created = (time_t)sqlite3_column_int64(q, 5);
	b->expires = (time_t)sqlite3_column_int64(q, 6);
}

int sq_block_find(mw_store *s, const char *kind, const char *value, time_t now, store_block *out)
{
	sqlite3_stmt *q;
	int rc = -1, step;

	lock(s);
	if ((q = stmt(s, ST_BLOCK_FIND)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		if (out)
			read_block(q, out);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_fail(s, "looking up block");
	}
out:
	unlock(s);
	return rc;
}

int sq_block_list(mw_store *s, time_t now, void (*fn)(const store_block *b, void *arg), void *arg)
{
	sqlite3_stmt *q;
	int n = 0, step;
	store_block b;

	lock(s);
	if ((q = stmt(s, ST_BLOCK_LIST)) == NULL) {
		n = -1;
		goto out;
	}
	sqlite3_bind_int64(q, 1, now);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		read_block(q, &b);
		fn(&b, arg);
		n++;
	}
	if (step != SQLITE_DONE)
		n = store_fail(s, "listing blocks");
out:
	unlock(s);
	return n;
}

int sq_fp_record(mw_store *s, const char *fp, const char *sender, time_t now)
{
	sqlite3_stmt *q;
	int rc = -1;

	lock(s);
	if ((q = stmt(s, ST_FP_UPSERT)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, fp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	if (step_done(s, q, "recording fingerprint") < 0)
		goto out;
	if ((q = stmt(s, ST_FPS_UPSERT)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, fp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now);
	rc = step_done(s, q, "recording fingerprint sender");
out:
	unlock(s);
	return rc;
}

int sq_fp_flag_sender(mw_store *s, const char *sender, const char *code, const char *source, time_t now)
{
	sqlite3_stmt *q;
	int rc = -1;

	lock(s);
	if ((q = stmt(s, ST_FP_FLAG_SENDER)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, now);
	if (step_done(s, q, "flagging fingerprints") == 0)
		rc = sqlite3_changes(s->db);
out:
	unlock(s);
	return rc;
}

int sq_fp_flag(mw_store *s, const char *fp, const char *sender, const char *code, const char *source, time_t now)
{
	sqlite3_stmt *q;
	int rc = -1;

	lock(s);
	if ((q = stmt(s, ST_FP_FLAG)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, now);
	rc = step_done(s, q, "flagging fingerprint");
out:
	unlock(s);
	return rc;
}

int sq_fp_flagged(mw_store *s, const char *fp, store_block *why)
{
	sqlite3_stmt *q;
	int rc = -1, step;

	lock(s);
	if ((q = stmt(s, ST_FP_FLAGGED)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, fp, -1, SQLITE_STATIC);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		if (why) {
			memset(why, 0, sizeof(*why));
			mw_strlcpy(why->kind, "campaign", sizeof(why->kind));
			mw_strlcpy(why->value, fp, sizeof(why->value));
			copy_col(why->detail, sizeof(why->detail), q, 0); /* the sender that flagged it */
			copy_col(why->code, sizeof(why->code), q, 1);
			copy_col(why->source, sizeof(why->source), q, 2);
			why->created = (time_t)sqlite3_column_int64(q, 3);
		}
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_fail(s, "looking up fingerprint");
	}
out:
	unlock(s);
	return rc;
}

int sq_list_edit(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who)
{
	sqlite3_stmt *q;
	int rc = -1;

	lock(s);
	if ((q = stmt(s, ST_LIST_EDIT)) == NULL)
		goto out;
	sqlite3_bind_text(q, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, entry, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, add ? 1 : 0);
	sqlite3_bind_int64(q, 4, expires);
	sqlite3_bind_text(q, 5, who ? who : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, time(NULL));
	rc = step_done(s, q, "recording list edit");
out:
	unlock(s);
	return rc;
}

int sq_lists_apply(mw_store *s, mw_lists *l, time_t now)
{
	sqlite3_stmt *q;
	int rc = -1, step;

	lock(s);
	if ((q = stmt(s, ST_LIST_ALL)) == NULL)
		goto out;
	sqlite3_bind_int64(q, 1, now);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *list = (const char *)sqlite3_column_text(q, 0);
		const char *entry = (const char *)sqlite3_column_text(q, 1);
		if (list == NULL || entry == NULL)
			continue;
		if (sqlite3_column_int(q, 2))
			lists_add(l, list, entry);
		else
			lists_remove(l, list, entry);
	}
	if (step != SQLITE_DONE) {
		store_fail(s, "reading list edits");
		goto out;
	}
	rc = 0;
out:
	unlock(s);
	return rc;
}

/* prune_table - delete rows older than cutoff, then the oldest above max_rows */
static long prune_table(mw_store *s, const char *table, const char *timecol, const char *key, time_t cutoff)
{
	char sql[600];
	long n = 0;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s < %lld", table, timecol, (long long)cutoff);
	if (store_exec(s, sql) < 0)
		return -1;
	n += sqlite3_changes(s->db);
	snprintf(sql, sizeof(sql),
	         "DELETE FROM %s WHERE %s IN (SELECT %s FROM %s ORDER BY %s LIMIT"
	         " max((SELECT count(*) FROM %s) - %zu, 0))",
	         table, key, key, table, timecol, table, s->lim.max_rows);
	if (store_exec(s, sql) < 0)
		return -1;
	n += sqlite3_changes(s->db);
	return n;
}

long sq_prune(mw_store *s, time_t now, time_t history_ttl)
{
	char sql[200];
	long n = 0, k;

	lock(s);
	if (store_begin(s) < 0) {
		n = -1;
		goto out;
	}
	if ((k = prune_table(s, "senders", "last_seen", "addr", now - history_ttl)) < 0 ||
	    (n += k, k = prune_table(s, "rcpts", "last_seen", "(sender || ' ' || rcpt)", now - history_ttl)) < 0 ||
	    (n += k, k = prune_table(s, "fp_senders", "last_seen", "(sender || ' ' || fp)", now - history_ttl)) < 0) {
		store_rollback(s);
		n = -1;
		goto out;
	}
	n += k;
	/* Flagged fingerprints stay while any block could still refer to them. */
	snprintf(sql, sizeof(sql), "DELETE FROM fingerprints WHERE flagged = 0 AND last_seen < %lld",
	         (long long)(now - history_ttl));
	if (store_exec(s, sql) < 0) {
		store_rollback(s);
		n = -1;
		goto out;
	}
	n += sqlite3_changes(s->db);
	snprintf(sql, sizeof(sql), "DELETE FROM blocks WHERE expires != 0 AND expires < %lld", (long long)now);
	store_exec(s, sql);
	n += sqlite3_changes(s->db);
	snprintf(sql, sizeof(sql), "DELETE FROM list_edits WHERE expires != 0 AND expires < %lld", (long long)now);
	store_exec(s, sql);
	n += sqlite3_changes(s->db);
	if (store_commit(s) < 0)
		n = -1;
out:
	unlock(s);
	return n;
}

long store_count(mw_store *s, const char *table)
{
	static const char *const known[] = {"senders",    "rcpts",      "blocks",          "fingerprints",
	                                    "fp_senders", "list_edits", "quarantine",      "messages",
	                                    "msg_rcpts",  "alerts",     "msg_attachments", "msg_links",
	                                    "rules",      "audit",      "outbox",          "alert_seen"};
	char sql[100];
	sqlite3_stmt *q;
	long n = -1;
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(known); i++)
		if (strcmp(table, known[i]) == 0)
			break;
	if (i == MW_ARRAY_LEN(known))
		return -1;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", known[i]);
	lock(s);
	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			n = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	unlock(s);
	return n;
}
