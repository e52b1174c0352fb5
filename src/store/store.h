/*
 * NAME
 *	store.h - the state database: sender history, fan-out windows,
 *	blocks, campaign fingerprints, run-time list edits
 * SYNOPSIS
 *	#include "store/store.h"
 *
 *	mw_store *s;
 *	if (store_open(statedir, &lim, &s, err, sizeof(err)) < 0) -> tempfail
 *	store_rcpt_seen(s, "a@free.example", "staff1@example.com", now, 600, &n);
 *	store_close(s);
 * DESCRIPTION
 *	One SQLite file, STATEDIR/mailwarden.db, in WAL mode with a busy
 *	timeout, so mailwardend and `mailwarden scan --state` can use it at
 *	the same time.  The schema is versioned (PRAGMA user_version) and
 *	created or migrated at open.  Every lookup made at RCPT time is one
 *	indexed query.  One connection per mw_store, serialised by a mutex:
 *	the statements are short.
 *
 *	Blocks have a kind ("sender", "domain", "campaign"), a value, the
 *	reason code and detail that caused them, the queue id of the message
 *	that caused them, and an expiry (0 = never).
 *
 *	List edits made at run time are kept as (list, entry, add/remove,
 *	expiry) rows and applied over the shipped lists with
 *	store_lists_apply().
 *
 *	Two backends behind one API (store_int.h, store_ops): SQLite alone
 *	(store_open, the default), or Redis shared by several gateways with
 *	the SQLite file as a warm local copy (store_open_shared, see
 *	store_redis.c and store_sync.c for the keys, the time budget, the
 *	fallback and the reconciliation rules).
 * LIMITS
 *	store_prune() deletes expired rows and keeps each history table under
 *	store_limits.max_rows (oldest first).
 * DIAGNOSTICS
 *	Functions return -1 when SQLite fails (locked past the timeout, disk
 *	full, corrupt file); the text is in store_error().  Callers answer
 *	tempfail: the store is part of the verdict.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_STORE_H
#define MW_STORE_H

#include <stddef.h>
#include <time.h>

#include "policy/lists.h"

typedef struct mw_store mw_store;

typedef struct store_limits {
	size_t max_rows;  /* per history table (senders, recipients, fingerprints) */
	unsigned busy_ms; /* wait for a lock this long before failing */
} store_limits;

typedef struct store_block {
	char kind[16];
	char value[256];
	char code[40];
	char detail[200];
	char source[64]; /* queue id of the message that caused it */
	time_t created;
	time_t expires; /* 0: never */
} store_block;

int store_open(const char *statedir, const store_limits *lim, mw_store **out, char *err, size_t errlen);

/* ---- the shared backend (store_redis.c, store_sync.c) ---- */

typedef struct store_shared_cfg {
	const char *address;       /* "host:port" or "/path/to/redis.sock" */
	const char *password_file; /* "[USER] PASSWORD" on its first line; mode 0600 or stricter; "" none */
	const char *prefix;        /* key and channel prefix, e.g. "mw:" */
	const char *gateway;       /* this gateway's name (quarantine ownership, tracking) */
	unsigned connect_ms;       /* connect time budget */
	unsigned command_ms;       /* per-command time budget */
	unsigned retry_ms;         /* pause between reconnection attempts while down */
	unsigned pull_s;           /* full pull of shared rules/blocks/lists into SQLite every this often */
	time_t history_ttl;        /* expiry of shared history keys (seconds) */
} store_shared_cfg;

/*
 * store_open_shared - the SQLite store in statedir plus Redis at
 * cfg->address.  Fails only when SQLite fails or the password file is
 * unsafe (group/world readable) or unreadable: an unreachable Redis is
 * not an error, the store starts "down" and reconnects by itself.
 */
int store_open_shared(const char *statedir, const store_limits *lim, const store_shared_cfg *cfg, mw_store **out,
                      char *err, size_t errlen);

/* store_backend - "sqlite" or "redis" */
const char *store_backend(const mw_store *s);

/*
 * store_on_change - call fn(arg) (from the store's own thread) when
 * another gateway changed rules, list edits or blocks, and after a
 * reconnection; the daemon rebuilds its snapshot there.
 */
void store_on_change(mw_store *s, void (*fn)(void *arg), void *arg);

typedef struct store_shared_status {
	int shared;               /* 0: SQLite only */
	int up;                   /* Redis reachable now */
	time_t down_since;        /* 0 when up */
	unsigned long failures;   /* transitions to down */
	unsigned long reconciles; /* successful reconciliations */
	unsigned long fallbacks;  /* operations answered from SQLite while down */
	long pending;             /* local changes waiting to be pushed */
	char address[160];
	char gateway[64];
	char last_error[200];
} store_shared_status;

/* store_shared_status - health of the shared backend (for status and stats) */
void store_shared_get_status(mw_store *s, store_shared_status *out);

/* store_sync - reconnect if down, push pending changes, pull shared state; 0 up, -1 down */
int store_sync(mw_store *s);

/* store_gateway - this gateway's name ("" for SQLite only) */
const char *store_gateway(const mw_store *s);

/* ---- quarantine release across gateways (store_sync.c) ---- */

typedef struct store_release_req {
	char id[40];
	char who[64];
	char reply_key[96];
} store_release_req;

/* store_release_ask - ask gateway gw to release id; waits up to timeout_s; 0 released, -1 with why in result */
int store_release_ask(mw_store *s, const char *gw, const char *id, const char *who, int timeout_s, char *result,
                      size_t len);
/* store_release_next - the next request for this gateway (1), none within timeout_s (0), -1 down */
int store_release_next(mw_store *s, int timeout_s, store_release_req *out);
/* store_release_done - answer a request: ok 1 released, 0 failed with text */
void store_release_done(mw_store *s, const store_release_req *r, int ok, const char *text);
void store_close(mw_store *s);

/*
 * store_batch_begin, store_batch_end - the writes between them commit as
 * one transaction: one commit (WAL frames, locks) instead of one per
 * statement.  The connection is held meanwhile, so a batch is short and
 * holds only writes nothing waits on: never a quarantine, whose commit
 * must precede the reply to the sender.  Nested batches join the outer
 * one.  No-ops for a NULL store and for a shared (Redis) store.
 * store_batch_end returns -1 when the commit failed (the batch's writes
 * are lost, as each would have been on its own; logged).
 */
void store_batch_begin(mw_store *s);
int store_batch_end(mw_store *s);
/* store_own_like_dir - as root, give path (and -wal, -shm) to dir's owner */
void store_own_like_dir(const char *dir, const char *path);
const char *store_error(mw_store *s);
const char *store_path(const mw_store *s);

/*
 * store_rcpt_seen - record that sender_key tried rcpt now; *distinct gets the
 * number of distinct recipients from sender_key since now - window.
 */
int store_rcpt_seen(mw_store *s, const char *sender_key, const char *rcpt, time_t now, time_t window,
                    unsigned *distinct);

/* store_sender_seen - count a message from addr; *first is 1 if never seen before */
int store_sender_seen(mw_store *s, const char *addr, time_t now, int *first);

/* store_sender_known - 1 if a message from addr was seen before, 0 if not */
int store_sender_known(mw_store *s, const char *addr);

/* store_block_add - insert or replace a block */
int store_block_add(mw_store *s, const store_block *b);
/* store_block_remove - 0 removed, 1 there was none */
int store_block_remove(mw_store *s, const char *kind, const char *value);
/* store_block_find - 1 active block found (copied to out), 0 none */
int store_block_find(mw_store *s, const char *kind, const char *value, time_t now, store_block *out);
/* store_block_list - call fn for every active block; returns count or -1 */
int store_block_list(mw_store *s, time_t now, void (*fn)(const store_block *b, void *arg), void *arg);

/* store_fp_record - remember fingerprint fp seen from sender */
int store_fp_record(mw_store *s, const char *fp, const char *sender, time_t now);
/* store_fp_flag_sender - flag every fingerprint seen from sender as a campaign; returns rows flagged */
int store_fp_flag_sender(mw_store *s, const char *sender, const char *code, const char *source, time_t now);
/* store_fp_flag - flag one fingerprint */
int store_fp_flag(mw_store *s, const char *fp, const char *sender, const char *code, const char *source, time_t now);
/* store_fp_flagged - 1 if fp is flagged (why: the sender and code that flagged it), 0 if not */
int store_fp_flagged(mw_store *s, const char *fp, store_block *why);

/* store_list_edit - persist a run-time list edit (add=1 add, 0 remove); expires 0 = never */
int store_list_edit(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who);
/* store_lists_apply - apply every unexpired edit to l (a private, unshared snapshot) */
int store_lists_apply(mw_store *s, mw_lists *l, time_t now);

/* store_prune - expire old rows, enforce max_rows; returns rows deleted */
long store_prune(mw_store *s, time_t now, time_t history_ttl);

/* ---- message tracking (store_track.c) ---- */

typedef struct store_att {
	const char *name;   /* UTF-8 file name, "" if none; archive members "outer.zip/inner.exe" */
	const char *type;   /* true or declared type */
	const char *sha256; /* hex, "" if not computed */
} store_att;

typedef struct store_track_rec {
	time_t time;
	const char *queue_id, *client, *sender, *hdr_from, *subject;
	const char *action, *reasons, *stage, *quarantine_id;
	const char *const *rcpts;
	size_t nrcpts;
	size_t size;
	const store_att *atts;
	size_t natts;
	const char *const *link_domains;
	size_t nlinks;
	/* sender authentication (src/auth), "" when not checked */
	const char *from_domain;        /* header From domain */
	const char *spf, *dkim, *dmarc; /* results: "pass", ...; dkim lists every signature */
	const char *auth;               /* pass, fail, temperror, permerror, none */
} store_track_rec;

/* store_track_add - log one message (every outcome); the rows commit together */
int store_track_add(mw_store *s, const store_track_rec *r);

typedef struct store_track_query {
	const char *sender;      /* address, exact (any case) */
	const char *domain;      /* sender domain: exact or parent */
	const char *rcpt;        /* recipient address */
	const char *subject;     /* substring of the decoded subject */
	const char *sha256;      /* attachment hash (prefix of at least 8 hex digits) */
	const char *name;        /* substring of an attachment name */
	const char *link_domain; /* registrable domain of a link */
	const char *action;      /* accept, reject, ... */
	const char *claimed;     /* envelope or header From domain: exact or parent */
	const char *auth;        /* authentication summary: pass, fail, temperror, permerror, none */
	time_t since, until;     /* 0: open */
	size_t limit;            /* 0: 100 */
} store_track_query;

typedef struct store_track_row {
	long long id;
	time_t time;
	char queue_id[64], client[64], sender[321], hdr_from[321], subject[300], rcpts[1000];
	char action[16], reasons[600], stage[16], quarantine_id[40];
	size_t size;
	char from_domain[256], spf[16], dkim[300], dmarc[16], auth[16];
} store_track_row;

/* store_track_find - rows matching every given criterion, newest first; count or -1 */
int store_track_find(mw_store *s, const store_track_query *q, void (*fn)(const store_track_row *r, void *arg),
                     void *arg);

/* store_track_prune - delete rows older than before, then the oldest above max_rows */
long store_track_prune(mw_store *s, time_t before, size_t max_rows);

/* store_alert - record an alert (retro-scan detections) and log it */
int store_alert(mw_store *s, time_t now, const char *kind, const char *text);

/* ---- tunable rules and audit (store_rules.c) ---- */

/*
 * store_rule_set - set (value non-NULL) or remove (NULL: back to the
 * configuration file) one rule "section.key", and append who/when/old/new
 * to the audit trail, in one transaction.  *old gets the previous rule
 * value ("" when there was none) if old is not NULL.
 */
int store_rule_set(mw_store *s, const char *key, const char *value, const char *who, time_t now, char *old,
                   size_t oldlen);
/* store_rules - call fn(key, value) for every rule, sorted by key; count or -1 */
int store_rules(mw_store *s, void (*fn)(const char *key, const char *value, void *arg), void *arg);

typedef struct store_audit_row {
	long long id;
	time_t time;
	char who[64], key[128], old[512], new_[512];
} store_audit_row;

/* store_audit - the newest limit entries, newest first; count or -1 */
int store_audit(mw_store *s, size_t limit, void (*fn)(const store_audit_row *r, void *arg), void *arg);
/* store_audit_get - one entry (1 found, 0 none, -1 error) */
int store_audit_get(mw_store *s, long long id, store_audit_row *out);
/* store_audit_add - record a change that is not a rule (list edits, blocks, releases) */
int store_audit_add(mw_store *s, time_t now, const char *who, const char *key, const char *old, const char *new_);

/* ---- console logins (store_login.c; local, whatever the backend) ---- */

/* store_login_state - failed logins in a row for user and the time of the last (0 and 0: none) */
int store_login_state(mw_store *s, const char *user, unsigned *failures, time_t *last);
/* store_login_failed - one more failed login for user at now; *failures gets the count */
int store_login_failed(mw_store *s, const char *user, time_t now, unsigned *failures);
/* store_login_ok - a good login clears the count */
int store_login_ok(mw_store *s, const char *user);

/* ---- alerts (store_alerts.c) ---- */

struct mw_buf;

typedef struct store_alert_row {
	long long id;
	time_t time;
	time_t mailed; /* 0: waiting for the alert mail; -1: not mailed (no address); else when */
	char kind[40];
	char sender[321];
	char queue_id[64];
	char text[1200]; /* one-line summary */
} store_alert_row;

/* store_alert_add - record an alert waiting for its mail; its id, or -1 */
long long store_alert_add(mw_store *s, time_t now, const char *kind, const char *sender, const char *queue_id,
                          const char *text);
/* store_alerts_waiting - alerts not yet mailed (mailed = 0), oldest first; count or -1 */
int store_alerts_waiting(mw_store *s, size_t limit, void (*fn)(const store_alert_row *r, void *arg), void *arg);
/* store_alert_mailed - set mailed (a time, or -1) and the text that was sent (may be NULL) */
int store_alert_mailed(mw_store *s, long long id, time_t mailed, const char *detail);
/* store_alerts_list - alerts with id > after, newest first; count or -1 */
int store_alerts_list(mw_store *s, long long after, size_t limit, void (*fn)(const store_alert_row *r, void *arg),
                      void *arg);
/* store_alert_get - one alert and its mailed text (detail may be NULL): 1 found, 0 none, -1 error */
int store_alert_get(mw_store *s, long long id, store_alert_row *out, struct mw_buf *detail);
/* store_alert_seen - the newest alert id who has read (0: none); -1 on error */
long long store_alert_seen(mw_store *s, const char *who);
/* store_alert_set_seen - who has read every alert up to id */
int store_alert_set_seen(mw_store *s, const char *who, long long id);
/* store_alerts_prune - delete alerts older than before; rows deleted or -1 */
long store_alerts_prune(mw_store *s, time_t before);

/* The messages an alert names (tracking rows with their recipients and attachments). */
typedef struct store_msg_att {
	char name[256], type[80], sha256[65];
} store_msg_att;

#define STORE_MSG_RCPTS 100
#define STORE_MSG_ATTS  20

typedef struct store_msg {
	long long id;
	time_t time;
	char queue_id[64], sender[321], subject[300], action[16], reasons[300], stage[16];
	char rcpts[STORE_MSG_RCPTS][321];
	size_t nrcpts, nrcpts_total;
	store_msg_att atts[STORE_MSG_ATTS];
	size_t natts, natts_total;
} store_msg;

/*
 * store_track_messages - messages from sender (an address; "@domain" for a
 * domain and its sub-domains), or with queue id qid, or carrying an
 * attachment with hash sha256 (any non-NULL criterion; at least one),
 * since `since`, newest first, at most max: into out (caller's array).
 * Returns the count or -1.
 */
int store_track_messages(mw_store *s, const char *sender, const char *qid, const char *sha256, time_t since,
                         store_msg *out, size_t max);

/* store_count - rows in a table (for tests, status and benchmarks) */
long store_count(mw_store *s, const char *table);

#endif
