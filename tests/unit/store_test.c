/*
 * NAME
 *	store_test.c - the SQLite state database: edges, pruning, migration
 *	and failure
 * SYNOPSIS
 *	build/tests/store_test
 * DESCRIPTION
 *	What store_backend_test.c (the same cases on SQLite and Redis) and
 *	quarantine_test.c do not cover, on a real SQLite file:
 *	  - the fan-out window at its edge, per sender;
 *	  - sender history: first/known, and first again after pruning;
 *	  - blocks: the expiry edge, replacing a block, kinds kept apart,
 *	    listing order and fields;
 *	  - fingerprints: flagging one sender's only, pruning keeps flagged;
 *	  - list edits: expiry edge, a later edit of an entry wins, an
 *	    expired removal gives the shipped entry back;
 *	  - rules and audit: old values, newest first by id, limits;
 *	  - store_prune: time to live and the max_rows cap per table;
 *	  - store_track_prune and every tracking criterion at its edge;
 *	  - migration: a version-4 file made here with the statements the
 *	    old schema had is brought to the current version, its rows kept;
 *	  - failure: a newer schema, a corrupt file, a read-only file, a
 *	    locked database give -1 and a message, never a crash.
 *	Temporary directories go under $TMPDIR (default /tmp).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "store/quarantine.h"
#include "store/store.h"
#include "util/util.h"

typedef struct fixture {
	char dir[300];
	mw_store *st;
} fixture;

static void tmp_dir(char *out, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, len, "%s/mw_store_test.XXXXXX", t && *t ? t : "/tmp");
	if (mkdtemp(out) == NULL)
		fail_msg("mkdtemp %s failed", out);
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static mw_store *open_at(const char *dir, size_t max_rows, unsigned busy_ms)
{
	store_limits lim = {max_rows, busy_ms};
	char err[512];
	mw_store *st = NULL;

	if (store_open(dir, &lim, &st, err, sizeof(err)) < 0)
		fail_msg("store_open %s: %s", dir, err);
	return st;
}

static int setup_rows(void **state, size_t max_rows)
{
	fixture *f = x_calloc(1, sizeof(*f));

	tmp_dir(f->dir, sizeof(f->dir));
	f->st = open_at(f->dir, max_rows, 2000);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_rows(state, 100000);
}

static int setup_small(void **state)
{
	return setup_rows(state, 10);
}

static int teardown(void **state)
{
	fixture *f = *state;

	store_close(f->st);
	rm_rf(f->dir);
	x_free(f);
	return 0;
}

/* sql_int - one integer from a query on the file itself (a second connection) */
static long long sql_int(const char *dir, const char *sql)
{
	char path[400];
	sqlite3 *db;
	sqlite3_stmt *q;
	long long v = -1;

	snprintf(path, sizeof(path), "%s/mailwarden.db", dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* ---- fan-out window and sender history ---- */

static void test_fanout_window_edge(void **state)
{
	fixture *f = *state;
	unsigned n = 0;

	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "s1@example.com", 1000, 600, &n), 0);
	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "s2@example.com", 1100, 600, &n), 0);
	assert_int_equal(n, 2);
	/* exactly window seconds later s1 still counts (last_seen >= now - window) */
	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "s3@example.com", 1600, 600, &n), 0);
	assert_int_equal(n, 3);
	/* one second later it has left the window */
	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "s3@example.com", 1601, 600, &n), 0);
	assert_int_equal(n, 2);
	/* seeing s1 again puts it back, once */
	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "s1@example.com", 1602, 600, &n), 0);
	assert_int_equal(n, 3);
	/* a shorter window on the same rows counts fewer */
	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "s1@example.com", 1602, 1, &n), 0);
	assert_int_equal(n, 2); /* s1 at 1602 and s3 at 1601 */
	/* keys are what the caller gives (the sender module lower-cases them) */
	assert_int_equal(store_rcpt_seen(f->st, "@free.example", "s9@example.com", 1602, 600, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_count(f->st, "rcpts"), 4);
}

static void test_sender_history(void **state)
{
	fixture *f = *state;
	int first = -1;

	assert_int_equal(store_sender_known(f->st, "new@sender.example"), 0);
	assert_int_equal(store_sender_known(f->st, "new@sender.example"), 0); /* asking does not record */
	assert_int_equal(store_sender_seen(f->st, "new@sender.example", 1000, &first), 0);
	assert_int_equal(first, 1);
	assert_int_equal(store_sender_seen(f->st, "new@sender.example", 2000, &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(store_sender_seen(f->st, "other@sender.example", 2000, &first), 0);
	assert_int_equal(first, 1);
	assert_int_equal(sql_int(f->dir, "SELECT msgs FROM senders WHERE addr = 'new@sender.example'"), 2);
	assert_int_equal(sql_int(f->dir, "SELECT first_seen FROM senders WHERE addr = 'new@sender.example'"), 1000);
	/* history older than its time to live is forgotten: first contact again */
	assert_int_equal(store_prune(f->st, 2000 + 3600, 3600), 0); /* last seen exactly ttl ago: kept */
	assert_int_equal(store_sender_known(f->st, "new@sender.example"), 1);
	assert_int_equal(store_prune(f->st, 2000 + 3601, 3600), 2);
	assert_int_equal(store_sender_known(f->st, "new@sender.example"), 0);
	assert_int_equal(store_sender_seen(f->st, "new@sender.example", 6000, &first), 0);
	assert_int_equal(first, 1);
}

/* ---- blocks ---- */

typedef struct blocks_seen {
	store_block b[8];
	int n;
} blocks_seen;

static void keep_block(const store_block *b, void *arg)
{
	blocks_seen *s = arg;

	if (s->n < 8)
		s->b[s->n++] = *b;
}

static store_block block(const char *kind, const char *value, const char *code, time_t created, time_t expires)
{
	store_block b;

	memset(&b, 0, sizeof(b));
	mw_strlcpy(b.kind, kind, sizeof(b.kind));
	mw_strlcpy(b.value, value, sizeof(b.value));
	mw_strlcpy(b.code, code, sizeof(b.code));
	snprintf(b.detail, sizeof(b.detail), "detail of %s", value);
	mw_strlcpy(b.source, "Q1", sizeof(b.source));
	b.created = created;
	b.expires = expires;
	return b;
}

static void test_blocks_expiry_and_replace(void **state)
{
	fixture *f = *state;
	store_block b = block("sender", "x@free.example", "manual", 100, 200), got;
	blocks_seen seen;

	assert_int_equal(store_block_add(f->st, &b), 0);
	/* the expiry is exclusive: active at 199, gone at 200 */
	assert_int_equal(store_block_find(f->st, "sender", "x@free.example", 199, &got), 1);
	assert_int_equal(store_block_find(f->st, "sender", "x@free.example", 200, &got), 0);
	/* kinds are kept apart */
	assert_int_equal(store_block_find(f->st, "domain", "x@free.example", 150, NULL), 0);
	/* adding it again replaces it: permanent now, other code */
	b = block("sender", "x@free.example", "sender.fanout", 300, 0);
	assert_int_equal(store_block_add(f->st, &b), 0);
	assert_int_equal(store_count(f->st, "blocks"), 1);
	assert_int_equal(store_block_find(f->st, "sender", "x@free.example", 1000000, &got), 1);
	assert_string_equal(got.code, "sender.fanout");
	assert_int_equal(got.created, 300);
	assert_int_equal(got.expires, 0);

	b = block("domain", "evil.example", "manual", 50, 500);
	assert_int_equal(store_block_add(f->st, &b), 0);
	b = block("campaign", "fp123", "sender.campaign", 400, 0);
	assert_int_equal(store_block_add(f->st, &b), 0);
	/* listed oldest first, with every field */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_block_list(f->st, 450, keep_block, &seen), 3);
	assert_string_equal(seen.b[0].value, "evil.example");
	assert_string_equal(seen.b[1].value, "x@free.example");
	assert_string_equal(seen.b[2].kind, "campaign");
	assert_string_equal(seen.b[0].detail, "detail of evil.example");
	assert_string_equal(seen.b[0].source, "Q1");
	assert_int_equal(seen.b[0].expires, 500);
	/* expired ones are not listed, and pruning deletes them (only them) */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_block_list(f->st, 600, keep_block, &seen), 2);
	assert_true(store_prune(f->st, 600, 86400) >= 1);
	assert_int_equal(store_count(f->st, "blocks"), 2);
	assert_int_equal(store_block_remove(f->st, "campaign", "fp123"), 0);
	assert_int_equal(store_block_remove(f->st, "campaign", "fp123"), 1);
	assert_int_equal(store_count(f->st, "blocks"), 1);
}

/* ---- fingerprints ---- */

static void test_fingerprint_flags(void **state)
{
	fixture *f = *state;
	store_block why;

	assert_int_equal(store_fp_record(f->st, "fpA", "x@free.example", 1000), 0);
	assert_int_equal(store_fp_record(f->st, "fpB", "x@free.example", 1000), 0);
	assert_int_equal(store_fp_record(f->st, "fpB", "y@free.example", 1000), 0); /* one campaign, two senders */
	assert_int_equal(store_fp_record(f->st, "fpC", "y@free.example", 1000), 0);
	/* flagging x's flags what x sent, not y's own */
	assert_int_equal(store_fp_flag_sender(f->st, "x@free.example", "av.infected", "Q9", 1100), 2);
	assert_int_equal(store_fp_flagged(f->st, "fpA", NULL), 1);
	assert_int_equal(store_fp_flagged(f->st, "fpB", &why), 1);
	assert_string_equal(why.kind, "campaign");
	assert_string_equal(why.value, "fpB");
	assert_string_equal(why.detail, "x@free.example");
	assert_string_equal(why.code, "av.infected");
	assert_string_equal(why.source, "Q9");
	assert_int_equal(why.created, 1100);
	assert_int_equal(store_fp_flagged(f->st, "fpC", NULL), 0);
	/* y flagged later: fpB keeps its first flag, fpC gets y's */
	assert_int_equal(store_fp_flag_sender(f->st, "y@free.example", "sender.fanout", "Q10", 1200), 1);
	assert_int_equal(store_fp_flagged(f->st, "fpB", &why), 1);
	assert_string_equal(why.code, "av.infected");
	assert_int_equal(store_fp_flagged(f->st, "fpC", &why), 1);
	assert_string_equal(why.code, "sender.fanout");
	/* an unflagged fingerprint and the sender links age out; flagged ones stay */
	assert_int_equal(store_fp_record(f->st, "fpD", "z@free.example", 1000), 0);
	assert_true(store_prune(f->st, 1000 + 7200, 3600) >= 1);
	assert_int_equal(store_count(f->st, "fingerprints"), 3);
	assert_int_equal(store_fp_flagged(f->st, "fpA", NULL), 1);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM fingerprints WHERE fp = 'fpD'"), 0);
	assert_int_equal(store_count(f->st, "fp_senders"), 0);
	/* flagging a sender whose links aged out finds nothing more */
	assert_int_equal(store_fp_flag_sender(f->st, "z@free.example", "av.infected", "Q11", 9000), 0);
}

/* ---- list edits ---- */

static void test_list_edits_apply(void **state)
{
	fixture *f = *state;
	mw_lists *l;

	/* shipped: freemail has free.example and mail.example; storage has share.example */
	assert_int_equal(store_list_edit(f->st, "freemail", "new.example", 1, 0, "alice"), 0);
	assert_int_equal(store_list_edit(f->st, "freemail", "mail.example", 0, 0, "alice"), 0);
	assert_int_equal(store_list_edit(f->st, "storage", "drop.example", 1, 500, "bob"), 0);
	assert_int_equal(store_list_edit(f->st, "freemail", "free.example", 0, 500, "bob"), 0);
	assert_int_equal(store_list_edit(f->st, "allow", "boss@free.example", 1, 0, "carol"), 0); /* a new list */
	/* the later edit of an entry replaces the earlier one */
	assert_int_equal(store_list_edit(f->st, "freemail", "flip.example", 1, 0, "alice"), 0);
	assert_int_equal(store_list_edit(f->st, "freemail", "flip.example", 0, 0, "alice"), 0);
	assert_int_equal(store_count(f->st, "list_edits"), 6);

	for (int round = 0; round < 2; round++) {
		time_t now = round == 0 ? 499 : 500; /* expires is exclusive: in force at 499, gone at 500 */
		l = lists_new();
		assert_int_equal(lists_add(l, "freemail", "free.example"), 0);
		assert_int_equal(lists_add(l, "freemail", "mail.example"), 0);
		assert_int_equal(lists_add(l, "storage", "share.example"), 0);
		assert_int_equal(store_lists_apply(f->st, l, now), 0);
		assert_non_null(lists_match_domain(l, "freemail", "new.example"));
		assert_null(lists_match_domain(l, "freemail", "mail.example"));
		assert_null(lists_match_domain(l, "freemail", "flip.example"));
		assert_non_null(lists_match_domain(l, "storage", "share.example"));
		assert_non_null(lists_match_addr(l, "allow", "boss@free.example"));
		if (round == 0) {
			assert_non_null(lists_match_domain(l, "storage", "drop.example"));
			assert_null(lists_match_domain(l, "freemail", "free.example"));
		} else {
			/* the expired removal gives the shipped entry back; the expired addition is gone */
			assert_null(lists_match_domain(l, "storage", "drop.example"));
			assert_non_null(lists_match_domain(l, "freemail", "free.example"));
		}
		/* applying twice gives the same lists */
		assert_int_equal(store_lists_apply(f->st, l, now), 0);
		assert_int_equal(lists_count(l, "freemail"), round == 0 ? 1 : 2);
		lists_unref(l);
	}
	/* pruning deletes the expired edits, not the permanent ones */
	assert_int_equal(store_prune(f->st, 501, 86400), 2);
	assert_int_equal(store_count(f->st, "list_edits"), 4);
}

/* ---- rules and audit ---- */

static void audit_keep(const store_audit_row *r, void *arg)
{
	store_audit_row *rows = arg;
	int i;

	for (i = 0; i < 16 && rows[i].id; i++)
		;
	if (i < 16)
		rows[i] = *r;
}

static void rule_count(const char *k, const char *v, void *arg)
{
	(void)k;
	(void)v;
	(*(int *)arg)++;
}

static void test_rules_and_audit_order(void **state)
{
	fixture *f = *state;
	store_audit_row rows[16];
	char old[64];
	int n = 0, i;

	/* removing a rule that is not set: old "" and still audited */
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", NULL, "alice", 500, old, sizeof(old)), 0);
	assert_string_equal(old, "");
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", "2", "alice", 400, old, sizeof(old)), 0);
	assert_string_equal(old, "");
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", "0", "bob", 300, old, sizeof(old)), 0);
	assert_string_equal(old, "2");
	assert_int_equal(store_rule_set(f->st, "actions.link.storage", "reject", "bob", 300, NULL, 0), 0);
	assert_int_equal(store_audit_add(f->st, 200, NULL, "list.freemail", NULL, "+x.example"), 0);
	assert_int_equal(store_rules(f->st, rule_count, &n), 2);
	assert_int_equal(n, 2);
	/* newest first by entry, whatever the clock said (it went backwards here) */
	memset(rows, 0, sizeof(rows));
	assert_int_equal(store_audit(f->st, 0, audit_keep, rows), 5);
	assert_string_equal(rows[0].key, "list.freemail");
	assert_string_equal(rows[0].who, "");
	assert_string_equal(rows[0].old, "");
	assert_string_equal(rows[0].new_, "+x.example");
	assert_string_equal(rows[1].key, "actions.link.storage");
	assert_string_equal(rows[2].new_, "0");
	assert_string_equal(rows[2].old, "2");
	assert_string_equal(rows[4].old, "");
	assert_string_equal(rows[4].new_, "");
	assert_int_equal(rows[4].time, 500);
	for (i = 1; i < 5; i++)
		assert_true(rows[i].id < rows[i - 1].id);
	memset(rows, 0, sizeof(rows));
	assert_int_equal(store_audit(f->st, 2, audit_keep, rows), 2);
	/* 30 more entries: the default limit (0) is 20 */
	for (i = 0; i < 30; i++)
		assert_int_equal(store_audit_add(f->st, 600 + i, "x", "k", "", "v"), 0);
	assert_int_equal(store_audit(f->st, 0, audit_keep, rows), 20);
	assert_int_equal(store_count(f->st, "audit"), 35);
}

/* ---- pruning ---- */

/* 15 rows in each history table with max_rows 10: the 5 oldest go */
static void test_prune_row_caps(void **state)
{
	fixture *f = *state;
	char a[64], r[64];
	unsigned n;
	int first, i;
	long gone;

	for (i = 1; i <= 15; i++) {
		snprintf(a, sizeof(a), "s%02d@sender.example", i);
		snprintf(r, sizeof(r), "r%02d@example.com", i);
		assert_int_equal(store_sender_seen(f->st, a, 1000 + i, &first), 0);
		assert_int_equal(store_rcpt_seen(f->st, "fan@free.example", r, 1000 + i, 600, &n), 0);
		assert_int_equal(store_fp_record(f->st, a, a, 1000 + i), 0); /* fp_senders row per sender */
	}
	assert_int_equal(n, 15);
	gone = store_prune(f->st, 1100, 86400);
	/* senders 5, rcpts 5, fp_senders 5; fingerprints are not capped (only aged) */
	assert_int_equal(gone, 15);
	assert_int_equal(store_count(f->st, "senders"), 10);
	assert_int_equal(store_count(f->st, "rcpts"), 10);
	assert_int_equal(store_count(f->st, "fp_senders"), 10);
	assert_int_equal(store_sender_known(f->st, "s05@sender.example"), 0);
	assert_int_equal(store_sender_known(f->st, "s06@sender.example"), 1);
	assert_int_equal(store_rcpt_seen(f->st, "fan@free.example", "r15@example.com", 1016, 600, &n), 0);
	assert_int_equal(n, 10);
	/* nothing left to do */
	assert_int_equal(store_prune(f->st, 1100, 86400), 0);
}

/* ---- tracking ---- */

typedef struct track_seen {
	store_track_row rows[8];
	int n;
} track_seen;

static void track_keep(const store_track_row *r, void *arg)
{
	track_seen *s = arg;

	if (s->n < 8)
		s->rows[s->n] = *r;
	s->n++;
}

static int find(mw_store *st, const store_track_query *q, track_seen *s)
{
	memset(s, 0, sizeof(*s));
	return store_track_find(st, q, track_keep, s);
}

static void add_msg(mw_store *st, time_t t, const char *qid, const char *sender, const char *const *rcpts,
                    size_t nrcpts, const char *att, const char *sha, const char *link)
{
	store_track_rec r;
	store_att a = {att, "application/zip", sha};
	const char *links[1] = {link};

	memset(&r, 0, sizeof(r));
	r.time = t;
	r.queue_id = qid;
	r.client = "192.0.2.7";
	r.sender = sender;
	r.hdr_from = "Sender <x@y>";
	r.subject = "subject of ";
	r.action = "quarantine";
	r.reasons = "link.storage";
	r.stage = "eom";
	r.quarantine_id = "abc123";
	r.rcpts = rcpts;
	r.nrcpts = nrcpts;
	r.size = 4321;
	r.atts = &a;
	r.natts = att ? 1 : 0;
	r.link_domains = links;
	r.nlinks = link ? 1 : 0;
	assert_int_equal(store_track_add(st, &r), 0);
}

static void test_track_queries(void **state)
{
	fixture *f = *state;
	static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const char *two[] = {"Staff1@Example.com", "info@example.com"}, *one[] = {"staff2@example.com"};
	store_track_query q;
	track_seen s;
	int i;

	add_msg(f->st, 1000, "Q1", "a@mail.free.example", two, 2, "invoice.zip", sha, "Share.Example");
	add_msg(f->st, 1001, "Q2", "b@ree.example", one, 1, NULL, NULL, NULL);
	add_msg(f->st, 1002, "Q3", "c@free.example", one, 1, NULL, NULL, NULL);
	add_msg(f->st, 1003, "Q4", "d@free_example", one, 1, NULL, NULL, NULL);

	/* every field comes back */
	memset(&q, 0, sizeof(q));
	q.rcpt = "STAFF1@example.COM";
	assert_int_equal(find(f->st, &q, &s), 1);
	assert_string_equal(s.rows[0].queue_id, "Q1");
	assert_string_equal(s.rows[0].client, "192.0.2.7");
	assert_string_equal(s.rows[0].sender, "a@mail.free.example");
	assert_string_equal(s.rows[0].rcpts, "Staff1@Example.com, info@example.com");
	assert_string_equal(s.rows[0].action, "quarantine");
	assert_string_equal(s.rows[0].reasons, "link.storage");
	assert_string_equal(s.rows[0].stage, "eom");
	assert_string_equal(s.rows[0].quarantine_id, "abc123");
	assert_int_equal(s.rows[0].size, 4321);
	assert_int_equal(s.rows[0].time, 1000);
	q.rcpt = "info@example.com"; /* the second recipient finds it too */
	assert_int_equal(find(f->st, &q, &s), 1);

	/* domain: itself or a parent at a label boundary, not any suffix */
	memset(&q, 0, sizeof(q));
	q.domain = "free.example";
	assert_int_equal(find(f->st, &q, &s), 2); /* mail.free.example, free.example; not ree.example */
	q.domain = "ree.example";
	assert_int_equal(find(f->st, &q, &s), 1);
	assert_string_equal(s.rows[0].queue_id, "Q2");
	q.domain = "example";
	assert_int_equal(find(f->st, &q, &s), 3);
	/* LIKE wildcards in what the operator typed match only themselves */
	q.domain = "%";
	assert_int_equal(find(f->st, &q, &s), 0);
	q.domain = "free_example";
	assert_int_equal(find(f->st, &q, &s), 1);
	assert_string_equal(s.rows[0].queue_id, "Q4");

	/* hash prefix in any case, link domain in any case, attachment name substring */
	memset(&q, 0, sizeof(q));
	q.sha256 = "0123456789ABCDEF";
	assert_int_equal(find(f->st, &q, &s), 1);
	q.sha256 = "0123456789abcdf0"; /* another prefix */
	assert_int_equal(find(f->st, &q, &s), 0);
	memset(&q, 0, sizeof(q));
	q.link_domain = "SHARE.example";
	assert_int_equal(find(f->st, &q, &s), 1);
	memset(&q, 0, sizeof(q));
	q.name = "voice";
	assert_int_equal(find(f->st, &q, &s), 1);
	/* criteria combine with AND */
	q.sender = "c@free.example";
	assert_int_equal(find(f->st, &q, &s), 0);

	/* limit, newest first; a limit above 1000 is cut to 1000 */
	for (i = 0; i < 20; i++)
		add_msg(f->st, 2000, "QL", "bulk@sender.example", one, 1, NULL, NULL, NULL);
	memset(&q, 0, sizeof(q));
	q.limit = 5;
	assert_int_equal(find(f->st, &q, &s), 5);
	assert_int_equal(s.rows[0].time, 2000);
	q.limit = 0; /* default 100 */
	assert_int_equal(find(f->st, &q, &s), 24);
	q.until = 1002; /* until is exclusive, since inclusive */
	q.since = 1001;
	assert_int_equal(find(f->st, &q, &s), 1);
	assert_string_equal(s.rows[0].queue_id, "Q2");
}

static void test_track_prune(void **state)
{
	fixture *f = *state;
	const char *rc[] = {"s@example.com", "t@example.com"};
	store_track_query q;
	track_seen s;
	char qid[16];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(qid, sizeof(qid), "Q%d", i);
		add_msg(f->st, 100 + i, qid, "a@sender.example", rc, 2, "a.zip", "aa", "share.example");
	}
	assert_int_equal(store_count(f->st, "msg_rcpts"), 20);
	/* older than 103: three; then the oldest above 5 rows: two more */
	assert_int_equal(store_track_prune(f->st, 103, 5), 5);
	assert_int_equal(store_count(f->st, "messages"), 5);
	assert_int_equal(store_count(f->st, "msg_rcpts"), 10);
	assert_int_equal(store_count(f->st, "msg_attachments"), 5);
	assert_int_equal(store_count(f->st, "msg_links"), 5);
	memset(&q, 0, sizeof(q));
	assert_int_equal(find(f->st, &q, &s), 5);
	assert_string_equal(s.rows[4].queue_id, "Q5");
	/* nothing more to do */
	assert_int_equal(store_track_prune(f->st, 103, 5), 0);
	assert_int_equal(store_track_prune(f->st, 1000, 100), 5);
	assert_int_equal(store_count(f->st, "msg_rcpts"), 0);
}

static void test_alerts(void **state)
{
	fixture *f = *state;

	assert_int_equal(store_alert(f->st, 100, "retro.av", "message X now matches Sig"), 0);
	assert_int_equal(store_alert(f->st, 101, "release", "quarantine Y: note"), 0);
	assert_int_equal(store_count(f->st, "alerts"), 2);
	assert_int_equal(store_count(f->st, "no_such_table"), -1);
}

/* ---- migration from version 4 ---- */

/* The schema as it was at version 4 (schema_steps[0..3] of that time). */
static const char *const v4_schema =
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
    " PRIMARY KEY(list, entry)) WITHOUT ROWID;"
    "CREATE TABLE quarantine(id TEXT PRIMARY KEY, time INTEGER, queue_id TEXT, sender TEXT, rcpts TEXT,"
    " subject TEXT, size INTEGER, reasons TEXT, state TEXT, release_at INTEGER, expires INTEGER) WITHOUT ROWID;"
    "CREATE INDEX quarantine_state ON quarantine(state, release_at);"
    "CREATE INDEX quarantine_time ON quarantine(time);"
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
    "CREATE TABLE alerts(id INTEGER PRIMARY KEY, time INTEGER, kind TEXT, text TEXT);"
    "CREATE TABLE rules(key TEXT PRIMARY KEY, value TEXT NOT NULL, who TEXT, time INTEGER) WITHOUT ROWID;"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, time INTEGER, who TEXT, key TEXT, old TEXT, new TEXT);"
    "PRAGMA user_version = 4;";

/* Rows of a gateway that ran version 4 for a while. */
static const char *const v4_rows =
    "INSERT INTO senders VALUES('old@sender.example', 100, 200, 3);"
    "INSERT INTO rcpts VALUES('old@free.example', 'staff@example.com', 1000);"
    "INSERT INTO blocks VALUES('sender', 'bad@free.example', 'manual', 'by hand', 'Q0', 100, 0);"
    "INSERT INTO fingerprints VALUES('fpOld', 100, 200, 1, 'bad@free.example', 'av.infected', 'Q0', 150);"
    "INSERT INTO fp_senders VALUES('bad@free.example', 'fpOld', 200);"
    "INSERT INTO list_edits VALUES('freemail', 'old-free.example', 1, 0, 'alice', 100);"
    "INSERT INTO quarantine VALUES('0123456789abcdef0123456789abcdef', 100, 'Q7', 'old@sender.example',"
    " 'staff@example.com', 'old subject', 1234, 'hold.first_contact', 'held', 2000, 999999999);"
    "INSERT INTO messages VALUES(1, 100, 'Q7', '192.0.2.1', 'old@sender.example', 'sender.example', 'Old',"
    " 'old subject', 'staff@example.com', 1234, 'hold', 'hold.first_contact', 'eom',"
    " '0123456789abcdef0123456789abcdef');"
    "INSERT INTO msg_rcpts VALUES(1, 'staff@example.com');"
    "INSERT INTO alerts VALUES(1, 100, 'retro.av', 'old alert');"
    "INSERT INTO rules VALUES('hold.lockdown', '1', 'alice', 100);"
    "INSERT INTO audit VALUES(1, 100, 'alice', 'hold.lockdown', '', '1');";

static void make_v4(const char *dir)
{
	char path[400], *msg = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/mailwarden.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, v4_schema, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, v4_rows, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("making the version-4 file: %s", msg);
	sqlite3_close(db);
}

static void rule_value(const char *k, const char *v, void *arg)
{
	if (strcmp(k, "hold.lockdown") == 0)
		mw_strlcpy(arg, v, 16);
}

/* check_v4_rows - the version-4 rows, read through the store; the file at version `current` */
static void check_v4_rows(const char *dir, mw_store *st, long long current)
{
	store_track_query q;
	track_seen s;
	store_block b;
	store_audit_row one;
	mw_lists *l = lists_new();
	char lock[16] = "";
	unsigned n = 0;

	assert_int_equal(store_sender_known(st, "old@sender.example"), 1);
	assert_int_equal(store_block_find(st, "sender", "bad@free.example", 5000, &b), 1);
	assert_string_equal(b.detail, "by hand");
	assert_int_equal(store_fp_flagged(st, "fpOld", &b), 1);
	assert_string_equal(b.code, "av.infected");
	assert_int_equal(store_lists_apply(st, l, 5000), 0);
	assert_non_null(lists_match_domain(l, "freemail", "old-free.example"));
	lists_unref(l);
	assert_int_equal(store_rules(st, rule_value, lock), 1);
	assert_string_equal(lock, "1");
	assert_int_equal(store_audit_get(st, 1, &one), 1);
	assert_string_equal(one.new_, "1");
	memset(&q, 0, sizeof(q));
	q.rcpt = "staff@example.com";
	assert_int_equal(find(st, &q, &s), 1);
	assert_string_equal(s.rows[0].quarantine_id, "0123456789abcdef0123456789abcdef");
	assert_int_equal(store_count(st, "alerts"), 1);
	/* the window row still counts */
	assert_int_equal(store_rcpt_seen(st, "old@free.example", "staff2@example.com", 1100, 600, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sql_int(dir, "PRAGMA user_version"), current);
}

static void test_migrate_from_v4(void **state)
{
	char dir[300], fresh[300], err[512];
	quar_meta *m = x_calloc(1, sizeof(*m));
	long long current;
	mw_store *st;
	mw_quar *q;

	(void)state;
	/* the version this program creates (schema_steps[] in src/store/store.c) */
	tmp_dir(fresh, sizeof(fresh));
	store_close(open_at(fresh, 1000, 2000));
	current = sql_int(fresh, "PRAGMA user_version");
	rm_rf(fresh);
	assert_true(current >= 7);
	tmp_dir(dir, sizeof(dir));
	make_v4(dir);
	assert_int_equal(sql_int(dir, "PRAGMA user_version"), 4);
	st = open_at(dir, 100000, 2000);
	check_v4_rows(dir, st, current);
	/* the tables and columns of versions 5 to 7 are there and work */
	assert_int_equal(store_count(st, "outbox"), 0);
	assert_int_equal(sql_int(dir, "SELECT count(*) FROM shared"), 0);
	assert_int_equal(sql_int(dir, "SELECT count(*) FROM login_failures"), 0);
	assert_int_equal(quar_open(dir, st, &q, err, sizeof(err)), 0);
	assert_int_equal(quar_get_meta(q, "0123456789abcdef0123456789abcdef", m), 1);
	assert_string_equal(m->state, "held");
	assert_string_equal(m->release_from, "");
	assert_int_equal(m->release_started, 0);
	assert_string_equal(m->note, "");
	assert_int_equal(m->release_at, 2000);
	/* a claim uses the new columns */
	assert_int_equal(quar_claim(q, m->id, "held", "releasing"), 1);
	assert_int_equal(quar_get_meta(q, "0123456789abcdef0123456789abcdef", m), 1);
	assert_string_equal(m->release_from, "held");
	assert_int_equal(quar_set_note(q, m->id, "checked"), 0);
	quar_close(q);
	store_close(st);
	/* opening again migrates nothing more and keeps everything */
	st = open_at(dir, 100000, 2000);
	check_v4_rows(dir, st, current);
	store_close(st);
	rm_rf(dir);
	x_free(m);
}

/* ---- failure ---- */

static void test_newer_schema_refused(void **state)
{
	char dir[300], path[400], err[512] = "";
	store_limits lim = {1000, 200};
	mw_store *st = NULL;
	sqlite3 *db;

	(void)state;
	tmp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/mailwarden.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE future(x); PRAGMA user_version = 99;", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(dir, &lim, &st, err, sizeof(err)), -1);
	assert_null(st);
	if (strstr(err, "newer than this program knows") == NULL)
		fail_msg("error text: \"%s\"", err);
	rm_rf(dir);
}

static void test_corrupt_file(void **state)
{
	char dir[300], path[400], err[512] = "";
	store_limits lim = {1000, 200};
	mw_store *st = NULL;
	FILE *fp;
	int i;

	(void)state;
	tmp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/mailwarden.db", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	for (i = 0; i < 1000; i++)
		fputs("this is not a database file ", fp);
	fclose(fp);
	assert_int_equal(store_open(dir, &lim, &st, err, sizeof(err)), -1);
	assert_null(st);
	if (strstr(err, "not a database") == NULL || strstr(err, path) == NULL)
		fail_msg("error text: \"%s\"", err);
	/* a state directory that cannot be made */
	snprintf(path, sizeof(path), "%s/mailwarden.db/sub", dir);
	assert_int_equal(store_open(path, &lim, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "state directory"));
	rm_rf(dir);
}

/*
 * A database this process may read but not write (as root, a child that
 * becomes nobody does the work): store_open, or the first write, fails
 * with a message.  Reported through a pipe: "open: TEXT" or "write: TEXT".
 */
static void test_read_only_file(void **state)
{
	char dir[300], path[400], out[700] = "";
	mw_store *st;
	int pfd[2], status;
	ssize_t got;
	pid_t pid;

	(void)state;
	tmp_dir(dir, sizeof(dir));
	st = open_at(dir, 1000, 2000);
	store_close(st);
	snprintf(path, sizeof(path), "%s/mailwarden.db", dir);
	assert_int_equal(chmod(path, 0444), 0);
	assert_int_equal(chmod(dir, 0555), 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		store_limits lim = {1000, 200};
		char err[512], line[600];
		unsigned n = 0;
		int rc;

		close(pfd[0]);
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
			_exit(3);
		if (access(path, R_OK) != 0) {
			snprintf(line, sizeof(line), "%s is not readable here (is $TMPDIR open to others?)", path);
			rc = write(pfd[1], line, strlen(line)) < 0 ? 2 : 4;
			_exit(rc);
		}
		if (store_open(dir, &lim, &st, err, sizeof(err)) < 0) {
			snprintf(line, sizeof(line), "open: %s", err);
			rc = 0;
		} else if (store_rcpt_seen(st, "a@free.example", "s@example.com", 1000, 600, &n) < 0) {
			snprintf(line, sizeof(line), "write: %s", store_error(st));
			store_close(st);
			rc = 0;
		} else {
			snprintf(line, sizeof(line), "the write succeeded");
			rc = 1;
		}
		if (write(pfd[1], line, strlen(line)) < 0)
			rc = 2;
		_exit(rc);
	}
	close(pfd[1]);
	got = read(pfd[0], out, sizeof(out) - 1);
	out[got > 0 ? got : 0] = 0;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	chmod(dir, 0700);
	rm_rf(dir);
	print_message("    read-only database: %s\n", out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child status %d: %s", status, out);
	/* the message names the file and what SQLite said */
	if (strstr(out, "mailwarden.db") == NULL ||
	    (strstr(out, "readonly") == NULL && strstr(out, "unable to open") == NULL))
		fail_msg("error text: \"%s\"", out);
}

/*
 * Another connection holds the database: writes fail after busy_ms (50
 * ms here) with "locked", reads go on, then everything works again.
 */
static void test_locked_database(void **state)
{
	fixture *f = *state;
	char path[400];
	sqlite3 *db;
	unsigned n = 0;
	int first;
	store_block b = block("sender", "x@free.example", "manual", 100, 0);
	store_track_rec r;
	const char *rc1[1] = {"s@example.com"};

	store_close(f->st);
	f->st = open_at(f->dir, 1000, 50);
	assert_int_equal(store_sender_seen(f->st, "known@sender.example", 100, &first), 0);
	snprintf(path, sizeof(path), "%s/mailwarden.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "s@example.com", 1000, 600, &n), -1);
	assert_non_null(strstr(store_error(f->st), "locked"));
	assert_non_null(strstr(store_error(f->st), path));
	assert_int_equal(store_sender_seen(f->st, "new@sender.example", 1000, &first), -1);
	assert_int_equal(store_block_add(f->st, &b), -1);
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", "1", "x", 1000, NULL, 0), -1);
	assert_int_equal(store_list_edit(f->st, "freemail", "x.example", 1, 0, "x"), -1);
	assert_true(store_prune(f->st, 1000, 3600) < 0);
	memset(&r, 0, sizeof(r));
	r.time = 1000;
	r.rcpts = rc1;
	r.nrcpts = 1;
	assert_int_equal(store_track_add(f->st, &r), -1);
	/* WAL: readers are not blocked by a writer */
	assert_int_equal(store_sender_known(f->st, "known@sender.example"), 1);

	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* nothing was half-written, and the store works again */
	assert_int_equal(store_count(f->st, "rules"), 0);
	assert_int_equal(store_count(f->st, "audit"), 0);
	assert_int_equal(store_count(f->st, "messages"), 0);
	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "s@example.com", 1000, 600, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", "1", "x", 1000, NULL, 0), 0);
	assert_int_equal(store_track_add(f->st, &r), 0);
}

/* ---- batches ---- */

/* test_batch - writes inside a batch (a transaction of its own inside it
 * too) are seen by another connection only when the outermost batch ends,
 * all of them; after it, statements commit on their own again */
static void test_batch(void **state)
{
	fixture *f = *state;
	const char *rcpt[1] = {"staff@example.com"};
	int first;

	store_batch_begin(NULL); /* no store: nothing to do */
	assert_int_equal(store_batch_end(NULL), 0);
	store_batch_begin(f->st);
	assert_int_equal(store_sender_seen(f->st, "a@sender.example", 1000, &first), 0);
	assert_int_equal(first, 1);
	assert_int_equal(store_fp_record(f->st, "att:0123", "a@sender.example", 1000), 0);
	add_msg(f->st, 1000, "Q1", "a@sender.example", rcpt, 1, "a.zip", "0123", "x.example");
	store_batch_begin(f->st);
	assert_int_equal(store_sender_seen(f->st, "b@sender.example", 1000, &first), 0);
	assert_int_equal(store_batch_end(f->st), 0);
	/* inside: this connection sees its writes, another does not yet */
	assert_int_equal(store_sender_known(f->st, "b@sender.example"), 1);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM senders"), 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(store_batch_end(f->st), 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM senders"), 2);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM messages"), 1);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM fp_senders"), 1);
	/* outside a batch again: each write commits at once */
	add_msg(f->st, 1001, "Q2", "c@sender.example", rcpt, 1, NULL, NULL, NULL);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM messages"), 2);
	assert_int_equal(store_sender_seen(f->st, "c@sender.example", 1001, &first), 0);
	assert_int_equal(sql_int(f->dir, "SELECT count(*) FROM senders"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fanout_window_edge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sender_history, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blocks_expiry_and_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fingerprint_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_edits_apply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_and_audit_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune_row_caps, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_track_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_track_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
	    cmocka_unit_test(test_migrate_from_v4),
	    cmocka_unit_test(test_newer_schema_refused),
	    cmocka_unit_test(test_corrupt_file),
	    cmocka_unit_test(test_read_only_file),
	    cmocka_unit_test_setup_teardown(test_locked_database, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
