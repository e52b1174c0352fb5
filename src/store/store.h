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
void store_close(mw_store *s);
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

/* store_count - rows in a table (for tests, status and benchmarks) */
long store_count(mw_store *s, const char *table);

#endif
