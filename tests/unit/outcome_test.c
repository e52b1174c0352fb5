/*
 * NAME
 *	outcome_test.c - after the verdict: quarantine and hold, retro
 *	copies, tracking, release exactly once, holds, interrupted releases,
 *	rescans
 * SYNOPSIS
 *	build/tests/outcome_test		(from the top of the tree: sigs/)
 * DESCRIPTION
 *	src/outcome/outcome.c over a real SQLite store and encrypted
 *	quarantine in a temporary directory, with messages scanned by the
 *	real engine:
 *	  - outcome_finish(): quarantine and hold written (id returned,
 *	    bytes and metadata read back), no quarantine gives
 *	    quarantine.unavailable and tempfail, a retro copy is kept for
 *	    accepted mail with active attachments when retro_days > 0, every
 *	    message gets a tracking row;
 *	  - outcome_release(): the release command is a shell script written
 *	    here that records its argv and standard input; it runs once, a
 *	    second release is refused, a failing command puts the row back;
 *	  - outcome_release_argv() refuses unsafe senders and recipients;
 *	  - outcome_due_holds(): a due held message is rescanned and released
 *	    when clean, kept when it now matches a signature (the database
 *	    grew meanwhile) or its sender was blocked;
 *	  - outcome_resolve_releases(): a row left "releasing" is marked
 *	    released when the probe finds it queued (exit 0), put back with a
 *	    note when not (exit 1) or when no probe is configured;
 *	  - outcome_rescan_all(): a kept copy that now matches raises an
 *	    alert, blocks the sender and moves to quarantined; two delivered
 *	    messages carrying the same attachment keep it once (one blob)
 *	    and both are named by the late detection.
 *	"Old" signatures are a directory holding only the EICAR line of
 *	sigs/mailwarden-test.ndb, so the marker (assembled at run time) is
 *	found only after the "update" to the full file.  Temporary
 *	directories go under $TMPDIR (default /tmp).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "av/av.h"
#include "engine/engine.h"
#include "auth/auth.h"
#include "outcome/outcome.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "store/quarantine.h"
#include "store/store.h"
#include "util/spool.h"
#include "util/util.h"

#ifndef SIGS_DIR
#define SIGS_DIR "sigs"
#endif

#define NOW ((time_t)1700000000)

static char marker[64];
static char old_sigs[300]; /* only the EICAR signature: the marker is a "zero day" */
static av_engine *av_old, *av_new;

typedef struct fixture {
	char dir[300];
	char release[400]; /* the release command (a script recording what it got) */
	char probe0[400];  /* a probe that finds the message queued (exit 0) */
	char probe1[400];  /* a probe that does not (exit 1) */
	mw_store *st;
	mw_quar *q;
	mw_config *cfg;
	mw_env env;
} fixture;

/* ---- helpers ---- */

static void tmp_dir(char *out, size_t len)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, len, "%s/mw_outcome_test.XXXXXX", t && *t ? t : "/tmp");
	if (mkdtemp(out) == NULL)
		fail_msg("mkdtemp %s failed", out);
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		fail_msg("cannot write %s", path);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/* slurp - a whole file, NUL-terminated; NULL if absent */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = x_malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, fp);
	buf[*len] = 0;
	fclose(fp);
	return buf;
}

/* runs - how many times the release script ran */
static int runs(const fixture *f)
{
	char path[400];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "%s/rel.%d.args", f->dir, n);
		if (access(path, F_OK) != 0)
			return n;
		n++;
	}
}

/* run_file - what run i of the release script recorded: "args" or "msg" */
static char *run_file(const fixture *f, int i, const char *what, size_t *len)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/rel.%d.%s", f->dir, i, what);
	return slurp(path, len);
}

static mw_config *cfg_for(const fixture *f, const char *const *ov, size_t n)
{
	const char *all[16];
	char tmp[400], rel[500], probe[500], err[512];
	mw_config *c = NULL;
	size_t i, k = 0;

	snprintf(tmp, sizeof(tmp), "paths.tmp=%s", f->dir);
	snprintf(rel, sizeof(rel), "quarantine.release_command=%s", f->release);
	snprintf(probe, sizeof(probe), "quarantine.release_probe=%s", f->probe0);
	all[k++] = "paths.signatures=" SIGS_DIR;
	all[k++] = "domains.protected=example.com";
	all[k++] = tmp;
	all[k++] = rel;
	all[k++] = probe;
	all[k++] = "hold.hold_time=30m";
	all[k++] = "quarantine.retro_days=7";
	assert_true(k + n <= MW_ARRAY_LEN(all));
	for (i = 0; i < n; i++)
		all[k++] = ov[i];
	if (config_load(NULL, all, k, &c, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	return c;
}

/* use_cfg - the fixture's environment with this configuration (the old one released) */
static void use_cfg(fixture *f, mw_config *c)
{
	config_unref(f->cfg);
	f->cfg = c;
	f->env.cfg = c;
}

static int setup(void **state)
{
	fixture *f = x_calloc(1, sizeof(*f));
	store_limits lim = {100000, 2000};
	char err[512], text[1200];

	tmp_dir(f->dir, sizeof(f->dir));
	snprintf(f->release, sizeof(f->release), "%s/release.sh", f->dir);
	snprintf(text, sizeof(text),
	         "#!/bin/sh\n"
	         "# records its arguments and standard input; fails while %s/fail exists\n"
	         "d='%s'\n"
	         "n=$(ls \"$d\" | grep -c '^rel\\..*\\.args$')\n"
	         "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done > \"$d/rel.$n.args\"\n"
	         "cat > \"$d/rel.$n.msg\"\n"
	         "[ -e \"$d/fail\" ] && exit 1\n"
	         "exit 0\n",
	         f->dir, f->dir);
	write_file(f->release, text, 0755);
	snprintf(f->probe0, sizeof(f->probe0), "%s/probe0.sh", f->dir);
	snprintf(text, sizeof(text), "#!/bin/sh\nprintf '%%s\\n' \"$@\" >> '%s/probe.args'\nexit 0\n", f->dir);
	write_file(f->probe0, text, 0755);
	snprintf(f->probe1, sizeof(f->probe1), "%s/probe1.sh", f->dir);
	snprintf(text, sizeof(text), "#!/bin/sh\nprintf '%%s\\n' \"$@\" >> '%s/probe.args'\nexit 1\n", f->dir);
	write_file(f->probe1, text, 0755);
	if (store_open(f->dir, &lim, &f->st, err, sizeof(err)) < 0 ||
	    quar_open(f->dir, f->st, &f->q, err, sizeof(err)) < 0)
		fail_msg("state: %s", err);
	f->cfg = cfg_for(f, NULL, 0);
	memset(&f->env, 0, sizeof(f->env));
	f->env.cfg = f->cfg;
	f->env.av = av_new;
	f->env.store = f->st;
	f->env.store_required = 1;
	f->env.quar = f->q;
	f->env.now = NOW;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	quar_close(f->q);
	store_close(f->st);
	config_unref(f->cfg);
	rm_rf(f->dir);
	x_free(f);
	return 0;
}

static int group_setup(void **state)
{
	char err[512], path[400], line[4096];
	const char *t = getenv("TMPDIR");
	mw_config *c = NULL;
	FILE *in;

	(void)state;
	snprintf(marker, sizeof(marker), "%s%s", "MAILWARDEN-TEST-", "MARKER-7f3a9c1e");
	signal(SIGPIPE, SIG_IGN); /* as the daemon: a release command that stops reading is an error, not a signal */
	if (av_global_init(err, sizeof(err)) < 0 || config_load(NULL, NULL, 0, &c, err, sizeof(err)) < 0)
		return -1;
	/* the old database: the EICAR line of the project's file only */
	snprintf(old_sigs, sizeof(old_sigs), "%s/mw_outcome_sigs.XXXXXX", t && *t ? t : "/tmp");
	if (mkdtemp(old_sigs) == NULL || (in = fopen(SIGS_DIR "/mailwarden-test.ndb", "r")) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/old.ndb", old_sigs);
	while (fgets(line, sizeof(line), in))
		if (strncmp(line, "Mailwarden.Test.EICAR:", 22) == 0) {
			FILE *out = fopen(path, "w");
			if (out == NULL)
				return -1;
			fputs(line, out);
			fclose(out);
		}
	fclose(in);
	av_old = av_engine_load(old_sigs, c, err, sizeof(err));
	av_new = av_engine_load(SIGS_DIR, c, err, sizeof(err));
	config_unref(c);
	if (av_old == NULL || av_new == NULL)
		print_error("signatures: %s\n", err);
	return av_old && av_new ? 0 : -1;
}

static int group_teardown(void **state)
{
	char path[400];

	(void)state;
	av_engine_release(av_old);
	av_engine_release(av_new);
	snprintf(path, sizeof(path), "%s/old.ndb", old_sigs);
	unlink(path);
	rmdir(old_sigs);
	return 0;
}

/*
 * plain_msg - a text message; every one gets words of its own, so that a
 * sender auto-blocked for an earlier message (its campaign fingerprint
 * flagged) does not turn the next one into sender.campaign
 */
static char *plain_msg(const char *from, const char *subject, const char *text)
{
	static unsigned serial;
	size_t n = strlen(text) + 600;
	char *raw = x_malloc(n), words[64];
	unsigned k = ++serial;
	int i;

	for (i = 0; i < 5; i++, k /= 26)
		snprintf(words + 6 * i, sizeof(words) - 6 * (size_t)i, "%cword ", 'a' + k % 26);
	snprintf(raw, n,
	         "From: %s\r\nTo: staff@example.com\r\nSubject: %s\r\nMessage-ID: <%s@sender.example>\r\n\r\n%s\r\n"
	         "%s\r\n",
	         from, subject, subject, text, words);
	return raw;
}

/* with_blob - a message with one application/octet-stream attachment holding text (active content) */
static char *with_blob(const char *from, const char *subject, const char *content)
{
	size_t n = strlen(content) + 1000;
	char *raw = x_malloc(n);

	snprintf(raw, n,
	         "From: %s\r\nTo: staff@example.com\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
	         "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n--BB\r\n"
	         "Content-Type: text/plain\r\n\r\nThe data you asked for.\r\n--BB\r\n"
	         "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n"
	         "\r\n%s\r\n--BB--\r\n",
	         from, subject, content);
	return raw;
}

/*
 * deliver - what the milter does at end of message: scan, then
 * outcome_finish; returns the action, the quarantine id in qid
 */
static mw_action deliver(fixture *f, const mw_env *env, const char *sender, const char *const *rcpts, size_t n,
                         const char *raw, char qid[40])
{
	mw_result *res = x_calloc(1, sizeof(*res));
	mw_msg *m = msg_new(env->cfg);
	mw_action a;
	size_t i;

	(void)f;
	msg_set_queue_id(m, "QOUT");
	msg_set_client(m, "192.0.2.9", "client.example", "client.example");
	msg_set_sender(m, sender);
	for (i = 0; i < n; i++)
		assert_int_equal(msg_add_rcpt(m, rcpts[i]), 0);
	assert_int_equal(msg_write(m, raw, strlen(raw)), 0);
	engine_scan(m, env, res);
	outcome_finish(env, m, res, qid);
	a = res->verdict.action;
	msg_free(m);
	x_free(res);
	return a;
}

/* deliver_text - deliver a new text message of its own (see plain_msg) */
static mw_action deliver_text(fixture *f, const mw_env *env, const char *sender, const char *const *rcpts, size_t n,
                              const char *text, char qid[40])
{
	char *raw = plain_msg(sender, "another", text);
	mw_action a = deliver(f, env, sender, rcpts, n, raw, qid);

	x_free(raw);
	return a;
}

typedef struct track_seen {
	store_track_row rows[4];
	int n;
} track_seen;

static void track_keep(const store_track_row *r, void *arg)
{
	track_seen *s = arg;

	if (s->n < 4)
		s->rows[s->n] = *r;
	s->n++;
}

/* tracked - the tracking rows of sender */
static int tracked(fixture *f, const char *sender, track_seen *s)
{
	store_track_query q;

	memset(&q, 0, sizeof(q));
	memset(s, 0, sizeof(*s));
	q.sender = sender;
	return store_track_find(f->st, &q, track_keep, s);
}

/* sql_text, sql_int - one value read from the state file with a second connection */
static char *sql_text(fixture *f, const char *sql)
{
	char path[400];
	sqlite3 *db;
	sqlite3_stmt *q;
	char *v = NULL;

	snprintf(path, sizeof(path), "%s/mailwarden.db", f->dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		v = x_strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v ? v : x_strdup("");
}

static long sql_int(fixture *f, const char *sql)
{
	char *t = sql_text(f, sql);
	long v = strtol(t, NULL, 10);

	x_free(t);
	return v;
}

static quar_meta *meta_of(fixture *f, const char *id)
{
	quar_meta *m = x_calloc(1, sizeof(*m));

	if (quar_get_meta(f->q, id, m) != 1)
		fail_msg("no quarantine row %s", id);
	return m;
}

typedef struct ids {
	char id[8][QUAR_ID_LEN + 1];
	int n;
} ids;

static void keep_id(const quar_meta *m, void *arg)
{
	ids *s = arg;

	if (s->n < 8)
		mw_strlcpy(s->id[s->n], m->id, sizeof(s->id[0]));
	s->n++;
}

static int in_state(fixture *f, const char *state, ids *s)
{
	memset(s, 0, sizeof(*s));
	return quar_list(f->q, state, 100, keep_id, s);
}

/* ---- outcome_finish ---- */

static void test_finish_quarantine(void **state)
{
	fixture *f = *state;
	const char *ov[] = {"actions.av.infected=quarantine"};
	const char *rc2[] = {"staff@example.com", "info@example.com"};
	char text[200], qid[40], err[300];
	mw_spool *back = spool_new(1 << 20, NULL);
	quar_meta *m;
	track_seen s;
	char *raw, *got;

	use_cfg(f, cfg_for(f, ov, 1));
	snprintf(text, sizeof(text), "payload %s", marker);
	raw = plain_msg("q@sender.example", "quarantine-me", text);
	assert_int_equal(deliver(f, &f->env, "q@sender.example", rc2, 2, raw, qid), MW_QUARANTINE);
	assert_int_equal(strlen(qid), QUAR_ID_LEN);
	m = meta_of(f, qid);
	assert_string_equal(m->state, "quarantined");
	assert_string_equal(m->sender, "q@sender.example");
	assert_int_equal(m->nrcpts, 2);
	assert_string_equal(m->rcpts[1], "info@example.com");
	assert_string_equal(m->subject, "quarantine-me");
	assert_string_equal(m->queue_id, "QOUT");
	assert_non_null(strstr(m->reasons, "av.infected"));
	assert_int_equal(m->time, NOW);
	assert_int_equal(m->release_at, 0);
	assert_int_equal(m->expires, NOW + 30 * 86400); /* quarantine.retention default 30d */
	/* the durable copy holds the original bytes */
	if (quar_read(f->q, qid, m, back, err, sizeof(err)) < 0)
		fail_msg("quar_read: %s", err);
	assert_int_equal(spool_size(back), strlen(raw));
	got = x_malloc(strlen(raw));
	assert_int_equal(spool_pread(back, got, strlen(raw), 0), (ssize_t)strlen(raw));
	assert_memory_equal(got, raw, strlen(raw));
	/* tracked with the quarantine id */
	assert_int_equal(tracked(f, "q@sender.example", &s), 1);
	assert_string_equal(s.rows[0].action, "quarantine");
	assert_string_equal(s.rows[0].quarantine_id, qid);
	assert_string_equal(s.rows[0].stage, "eom");
	assert_string_equal(s.rows[0].client, "192.0.2.9");
	assert_non_null(strstr(s.rows[0].reasons, "av.infected"));
	assert_int_equal(s.rows[0].time, NOW);
	x_free(got);
	x_free(m);
	x_free(raw);
	spool_free(back);
}

static void test_finish_hold(void **state)
{
	fixture *f = *state;
	const char *ov[] = {"hold.lockdown=2"};
	const char *rc1[] = {"staff@example.com"};
	char qid[40];
	quar_meta *m;
	track_seen s;
	char *raw = plain_msg("h@sender.example", "hold-me", "plain words");

	use_cfg(f, cfg_for(f, ov, 1));
	assert_int_equal(deliver(f, &f->env, "h@sender.example", rc1, 1, raw, qid), MW_HOLD);
	assert_int_equal(strlen(qid), QUAR_ID_LEN);
	m = meta_of(f, qid);
	assert_string_equal(m->state, "held");
	assert_int_equal(m->release_at, NOW + 30 * 60);
	assert_non_null(strstr(m->reasons, "policy.lockdown"));
	assert_int_equal(tracked(f, "h@sender.example", &s), 1);
	assert_string_equal(s.rows[0].action, "hold");
	assert_string_equal(s.rows[0].quarantine_id, qid);
	/* a refusal at RCPT time is tracked too */
	{
		mw_verdict v;
		verdict_init(&v);
		verdict_add(&v, "sender.blocked", "envelope", "%s", "by hand");
		config_apply_verdict(f->cfg, &v);
		outcome_track_rcpt(&f->env, "QR", "192.0.2.9", "h@sender.example", "boss@example.com", &v);
	}
	assert_int_equal(tracked(f, "h@sender.example", &s), 2);
	assert_string_equal(s.rows[0].stage, "rcpt"); /* same time: the later row first */
	assert_string_equal(s.rows[0].action, "reject");
	assert_string_equal(s.rows[0].rcpts, "boss@example.com");
	assert_string_equal(s.rows[1].stage, "eom");
	x_free(m);
	x_free(raw);
}

static void test_finish_without_quarantine(void **state)
{
	fixture *f = *state;
	const char *ov[] = {"hold.lockdown=2"};
	const char *rc1[] = {"staff@example.com"};
	mw_env env;
	char qid[40] = "junk";
	ids held;
	track_seen s;
	char *raw = plain_msg("n@sender.example", "no-quarantine", "plain words");

	use_cfg(f, cfg_for(f, ov, 1));
	env = f->env;
	env.quar = NULL;
	/* held, but it cannot be written durably: tempfail, so the sender retries */
	assert_int_equal(deliver(f, &env, "n@sender.example", rc1, 1, raw, qid), MW_TEMPFAIL);
	assert_string_equal(qid, "");
	assert_int_equal(in_state(f, NULL, &held), 0);
	assert_int_equal(tracked(f, "n@sender.example", &s), 1);
	assert_string_equal(s.rows[0].action, "tempfail");
	assert_non_null(strstr(s.rows[0].reasons, "quarantine.unavailable"));
	assert_non_null(strstr(s.rows[0].reasons, "policy.lockdown"));
	assert_string_equal(s.rows[0].quarantine_id, "");
	/* accepted mail needs no quarantine */
	use_cfg(f, cfg_for(f, NULL, 0));
	env.cfg = f->cfg;
	assert_int_equal(deliver(f, &env, "boss@example.com", rc1, 1, raw, qid), MW_ACCEPT);
	x_free(raw);
}

static void test_retro_copy(void **state)
{
	fixture *f = *state;
	const char *ov[] = {"hold.first_contact=no"};
	const char *ov0[] = {"hold.first_contact=no", "quarantine.retro_days=0"};
	const char *rc1[] = {"staff@example.com"};
	char qid[40];
	ids kept;
	quar_meta *m;
	track_seen s;
	char *blob = with_blob("r@sender.example", "with-data", "raw data 0001");
	char *text = plain_msg("t@sender.example", "just-text", "plain words");

	use_cfg(f, cfg_for(f, ov, 1));
	/* accepted, active attachment: an encrypted copy is kept for rescans */
	assert_int_equal(deliver(f, &f->env, "r@sender.example", rc1, 1, blob, qid), MW_ACCEPT);
	assert_string_equal(qid, ""); /* not a quarantine: the 250 does not wait for it */
	assert_int_equal(in_state(f, "kept", &kept), 1);
	m = meta_of(f, kept.id[0]);
	assert_string_equal(m->sender, "r@sender.example");
	assert_int_equal(m->expires, NOW + 7 * 86400);
	assert_int_equal(tracked(f, "r@sender.example", &s), 1);
	assert_string_equal(s.rows[0].action, "accept");
	x_free(m);
	/* plain text: nothing to keep */
	assert_int_equal(deliver(f, &f->env, "t@sender.example", rc1, 1, text, qid), MW_ACCEPT);
	assert_int_equal(in_state(f, "kept", &kept), 1);
	assert_int_equal(tracked(f, "t@sender.example", &s), 1);
	/* retro_days = 0: off */
	use_cfg(f, cfg_for(f, ov0, 2));
	assert_int_equal(deliver(f, &f->env, "r2@sender.example", rc1, 1, blob, qid), MW_ACCEPT);
	assert_int_equal(in_state(f, "kept", &kept), 1);
	assert_int_equal(tracked(f, "r2@sender.example", &s), 1);
	x_free(blob);
	x_free(text);
}

/* ---- release ---- */

static void test_release_once(void **state)
{
	fixture *f = *state;
	const char *ov[] = {"actions.av.infected=quarantine"};
	const char *rc2[] = {"staff@example.com", "info@example.com"};
	char text[200], qid[40], qid2[40], err[300], want[200];
	quar_meta *m;
	size_t len;
	char *raw, *args, *msg;

	use_cfg(f, cfg_for(f, ov, 1));
	snprintf(text, sizeof(text), "false positive %s", marker);
	raw = plain_msg("fp@sender.example", "release-me", text);
	assert_int_equal(deliver(f, &f->env, "fp@sender.example", rc2, 2, raw, qid), MW_QUARANTINE);
	if (outcome_release(&f->env, qid, "test", err, sizeof(err)) < 0)
		fail_msg("release: %s", err);
	assert_int_equal(runs(f), 1);
	args = run_file(f, 0, "args", &len);
	assert_string_equal(args, "-f\nfp@sender.example\n--\nstaff@example.com\ninfo@example.com\n");
	msg = run_file(f, 0, "msg", &len);
	snprintf(want, sizeof(want), "X-Mailwarden-Released: %s; ", qid);
	assert_int_equal(strncmp(msg, want, strlen(want)), 0);
	assert_non_null(strstr(msg, "\r\n"));
	assert_string_equal(strstr(msg, "\r\n") + 2, raw); /* then the original bytes, unchanged */
	m = meta_of(f, qid);
	assert_string_equal(m->state, "released");
	x_free(m);
	x_free(args);
	x_free(msg);
	/* a second release is refused and runs nothing */
	assert_int_equal(outcome_release(&f->env, qid, "test", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "released"));
	assert_int_equal(runs(f), 1);
	/* an unknown id */
	assert_int_equal(outcome_release(&f->env, "00000000000000000000000000000000", "test", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no quarantined message"));

	/* the command fails: the row goes back, the next try delivers */
	assert_int_equal(deliver_text(f, &f->env, "fp@sender.example", rc2, 1, text, qid2), MW_QUARANTINE);
	{
		char flag[400];
		snprintf(flag, sizeof(flag), "%s/fail", f->dir);
		write_file(flag, "", 0644);
		assert_int_equal(outcome_release(&f->env, qid2, "test", err, sizeof(err)), -1);
		assert_non_null(strstr(err, "exit status 1"));
		assert_int_equal(runs(f), 2);
		m = meta_of(f, qid2);
		assert_string_equal(m->state, "quarantined");
		assert_string_equal(m->release_from, "");
		x_free(m);
		unlink(flag);
	}
	if (outcome_release(&f->env, qid2, "test", err, sizeof(err)) < 0)
		fail_msg("release after the failure: %s", err);
	assert_int_equal(runs(f), 3);
	m = meta_of(f, qid2);
	assert_string_equal(m->state, "released");
	x_free(m);
	/* a release already under way (claimed elsewhere) is not started twice */
	assert_int_equal(deliver_text(f, &f->env, "fp@sender.example", rc2, 1, text, qid2), MW_QUARANTINE);
	assert_int_equal(quar_claim(f->q, qid2, "quarantined", "releasing"), 1);
	assert_int_equal(outcome_release(&f->env, qid2, "test", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "releasing"));
	assert_int_equal(runs(f), 3);
	x_free(raw);
	{
		/* forged verdict and Authentication-Results fields (ours by authserv-id,
		 * folded too) do not leave with a release; anybody else's A-R does */
		char forged[2000], qid3[40], want3[1200];
		const char *id = auth_authserv_id(f->cfg);
		char *raw3 = plain_msg("forger@sender.example", "forged-fields", text);
		snprintf(forged, sizeof(forged),
		         "X-Mailwarden-Verdict: accept\r\nAuthentication-Results: %s;\r\n\tdmarc=pass\r\n"
		         "Authentication-Results: mx.other.example; spf=pass\r\n%s",
		         id, raw3);
		assert_int_equal(deliver(f, &f->env, "forger@sender.example", rc2, 2, forged, qid3), MW_QUARANTINE);
		if (outcome_release(&f->env, qid3, "test", err, sizeof(err)) < 0)
			fail_msg("release: %s", err);
		msg = run_file(f, runs(f) - 1, "msg", &len);
		snprintf(want3, sizeof(want3), "Authentication-Results: mx.other.example; spf=pass\r\n%s", raw3);
		assert_string_equal(strstr(msg, "\r\n") + 2, want3);
		x_free(msg);
		x_free(raw3);
	}
}

typedef struct argv_case {
	const char *command, *sender;
	const char *rcpts[3];
	size_t nrcpts;
	const char *want; /* argv joined by spaces, or NULL: refused */
} argv_case;

static void test_release_argv(void **state)
{
	static const argv_case cases[] = {
	    {"/usr/sbin/sendmail -G -i",
	     "a@b.example",
	     {"s@example.com"},
	     1,
	     "/usr/sbin/sendmail|-G|-i|-f|a@b.example|--|s@example.com"},
	    {"/bin/x", "", {"s@example.com", "t@example.com"}, 2, "/bin/x|-f|<>|--|s@example.com|t@example.com"},
	    {"  /bin/x\t-a  ", "a@b", {"s@example.com"}, 1, "/bin/x|-a|-f|a@b|--|s@example.com"},
	    {"sendmail -i", "a@b", {"s@example.com"}, 1, NULL},          /* not an absolute path */
	    {"", "a@b", {"s@example.com"}, 1, NULL},                     /* no command */
	    {"/bin/x", "-oQ/tmp/x", {"s@example.com"}, 1, NULL},         /* an option, not a sender */
	    {"/bin/x", "a@b", {"s@example.com", "-X/tmp/log"}, 2, NULL}, /* an option, not a recipient */
	    {"/bin/x", "a@b", {"s@example.com", ""}, 2, NULL},           /* an empty recipient */
	    {"/bin/x", "a@b", {NULL}, 0, NULL},                          /* nobody to deliver to */
	    {"/bin/x \"quoted arg\"",
	     "a;rm -rf /@b",
	     {"s@example.com"},
	     1, /* no shell: words stay words */
	     "/bin/x|\"quoted|arg\"|-f|a;rm -rf /@b|--|s@example.com"},
	};
	char(*rcpts)[321] = x_calloc(3, 321);
	char *argv[16], buf[1024], err[200], joined[600]; /* joined: argv with | between words */
	size_t i, k;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		const argv_case *c = &cases[i];
		int n;

		for (k = 0; k < 3; k++)
			mw_strlcpy(rcpts[k], c->rcpts[k] ? c->rcpts[k] : "", 321);
		err[0] = 0;
		n = outcome_release_argv(c->command, c->sender, rcpts, c->nrcpts, argv, MW_ARRAY_LEN(argv), buf,
		                         sizeof(buf), err, sizeof(err));
		if (c->want == NULL) {
			if (n >= 0 || err[0] == 0)
				fail_msg("case %zu: want refused with a reason, got %d (%s)", i, n, err);
			continue;
		}
		if (n < 0)
			fail_msg("case %zu: refused: %s", i, err);
		joined[0] = 0;
		for (k = 0; k < (size_t)n; k++)
			snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s", k ? "|" : "",
			         argv[k]);
		assert_null(argv[n]);
		if (strcmp(joined, c->want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, joined, c->want);
	}
	/* more recipients than argv has room for: refused, not cut */
	{
		char(*many)[321] = x_calloc(20, 321);
		for (k = 0; k < 20; k++)
			snprintf(many[k], 321, "r%zu@example.com", k);
		assert_true(outcome_release_argv("/bin/x", "a@b", many, 20, argv, MW_ARRAY_LEN(argv), buf, sizeof(buf),
		                                 err, sizeof(err)) < 0);
		x_free(many);
	}
	x_free(rcpts);
}

/* ---- holds ---- */

static void test_due_holds(void **state)
{
	fixture *f = *state;
	const char *ov[] = {"hold.lockdown=2"};
	const char *rc1[] = {"staff@example.com"};
	char text[200], clean_id[40], zero_id[40], blocked_id[40];
	mw_env at_hold, later;
	quar_meta *m;
	store_block b;
	char *clean = plain_msg("ok@sender.example", "clean-held", "nothing wrong here");
	char *zero, *other = plain_msg("bad@sender.example", "blocked-held", "words of a blocked sender");

	use_cfg(f, cfg_for(f, ov, 1));
	snprintf(text, sizeof(text), "a new threat %s", marker);
	zero = plain_msg("z@sender.example", "zero-day-held", text);
	/* held under the old signatures, which do not know the marker */
	at_hold = f->env;
	at_hold.av = av_old;
	assert_int_equal(deliver(f, &at_hold, "ok@sender.example", rc1, 1, clean, clean_id), MW_HOLD);
	assert_int_equal(deliver(f, &at_hold, "z@sender.example", rc1, 1, zero, zero_id), MW_HOLD);
	assert_int_equal(deliver(f, &at_hold, "bad@sender.example", rc1, 1, other, blocked_id), MW_HOLD);

	/* not due yet: nothing happens */
	later = f->env;
	later.now = NOW + 30 * 60 - 1;
	assert_int_equal(outcome_due_holds(&later), 0);
	assert_int_equal(runs(f), 0);

	/* meanwhile: the signatures grew, one sender was blocked */
	memset(&b, 0, sizeof(b));
	strcpy(b.kind, "sender");
	strcpy(b.value, "bad@sender.example");
	strcpy(b.code, "manual");
	b.created = NOW + 60;
	assert_int_equal(store_block_add(f->st, &b), 0);
	later.now = NOW + 30 * 60;
	later.av = av_new;
	assert_int_equal(outcome_due_holds(&later), 3);
	/* the clean one was rescanned (lockdown is no reason to keep it) and released once */
	assert_int_equal(runs(f), 1);
	{
		size_t len;
		char *args = run_file(f, 0, "args", &len);
		assert_non_null(strstr(args, "ok@sender.example"));
		x_free(args);
	}
	m = meta_of(f, clean_id);
	assert_string_equal(m->state, "released");
	x_free(m);
	/* the one that now matches stays, quarantined */
	m = meta_of(f, zero_id);
	assert_string_equal(m->state, "quarantined");
	x_free(m);
	/* the blocked sender's stays too */
	m = meta_of(f, blocked_id);
	assert_string_equal(m->state, "quarantined");
	x_free(m);
	/* nothing is due any more */
	later.now += 3600;
	assert_int_equal(outcome_due_holds(&later), 0);
	assert_int_equal(runs(f), 1);
	/* a rescan records no history: each sender counted once, when its mail was held */
	assert_int_equal(sql_int(f, "SELECT msgs FROM senders WHERE addr = 'ok@sender.example'"), 1);
	assert_int_equal(sql_int(f, "SELECT msgs FROM senders WHERE addr = 'z@sender.example'"), 1);
	x_free(clean);
	x_free(zero);
	x_free(other);
}

/* ---- interrupted releases ---- */

/* count_alert_rows - alerts of the outcome module (releases, late detections); the
 * stages raise their own (sender.autoblock, sender.fanout, ...: src/alert) */
static void count_alert_rows(fixture *f, long want)
{
	long n = sql_int(f, "SELECT count(*) FROM alerts WHERE kind IN ('release', 'retro.av')");

	if (n != want)
		fail_msg("alerts: %ld rows, want %ld", n, want);
}

static void test_resolve_releases(void **state)
{
	fixture *f = *state;
	const char *ov_q[] = {"actions.av.infected=quarantine"};
	const char *rc1[] = {"staff@example.com"};
	char text[200], id[40], p1[500], path[400], err[300];
	const char *ov_p1[] = {"actions.av.infected=quarantine", p1};
	const char *ov_none[] = {"actions.av.infected=quarantine", "quarantine.release_probe="};
	const char *ov_held[] = {"hold.lockdown=2", "quarantine.release_probe="};
	quar_meta *m;
	size_t len;
	char *pargs, *h;

	use_cfg(f, cfg_for(f, ov_q, 1));
	snprintf(text, sizeof(text), "cut off %s", marker);

	/* a release cut off by a crash, and the probe finds it in the MTA's queue: released */
	assert_int_equal(deliver_text(f, &f->env, "cut@sender.example", rc1, 1, text, id), MW_QUARANTINE);
	assert_int_equal(quar_claim(f->q, id, "quarantined", "releasing"), 1);
	m = meta_of(f, id);
	assert_string_equal(m->release_from, "quarantined");
	assert_true(m->release_started > 0);
	/* one that began at `before` or later is not old enough to be touched */
	assert_int_equal(outcome_resolve_releases(&f->env, m->release_started), 0);
	x_free(m);
	assert_int_equal(outcome_resolve_releases(&f->env, time(NULL) + 1), 1);
	m = meta_of(f, id);
	assert_string_equal(m->state, "released");
	assert_string_equal(m->note, "");
	x_free(m);
	snprintf(path, sizeof(path), "%s/probe.args", f->dir);
	pargs = slurp(path, &len);
	assert_non_null(pargs);
	assert_int_equal(len, QUAR_ID_LEN + 1); /* probed once, with the id as its one argument */
	assert_int_equal(strncmp(pargs, id, QUAR_ID_LEN), 0);
	x_free(pargs);
	count_alert_rows(f, 0);
	assert_int_equal(store_count(f->st, "audit"), 1); /* "recovery": released, found in the MTA queue */
	assert_int_equal(runs(f), 0);                     /* and nothing sent again */

	/* the probe says it is not queued: back to quarantined with a note and an alert */
	snprintf(p1, sizeof(p1), "quarantine.release_probe=%s", f->probe1);
	use_cfg(f, cfg_for(f, ov_p1, 2));
	assert_int_equal(deliver_text(f, &f->env, "cut@sender.example", rc1, 1, text, id), MW_QUARANTINE);
	assert_int_equal(quar_claim(f->q, id, "quarantined", "releasing"), 1);
	assert_int_equal(outcome_resolve_releases(&f->env, time(NULL) + 1), 1);
	m = meta_of(f, id);
	assert_string_equal(m->state, "quarantined");
	assert_string_equal(m->release_from, "");
	assert_non_null(strstr(m->note, "not in the MTA queue"));
	x_free(m);
	count_alert_rows(f, 1);
	assert_int_equal(runs(f), 0);

	/* no probe configured: nobody decides blindly */
	use_cfg(f, cfg_for(f, ov_none, 2));
	assert_int_equal(deliver_text(f, &f->env, "cut@sender.example", rc1, 1, text, id), MW_QUARANTINE);
	assert_int_equal(quar_claim(f->q, id, "quarantined", "releasing"), 1);
	assert_int_equal(outcome_resolve_releases(&f->env, time(NULL) + 1), 1);
	m = meta_of(f, id);
	assert_string_equal(m->state, "quarantined");
	assert_non_null(strstr(m->note, "could not be asked"));
	x_free(m);
	count_alert_rows(f, 2);
	/* the operator releases it again: delivered once, the note cleared */
	if (outcome_release(&f->env, id, "test", err, sizeof(err)) < 0)
		fail_msg("release: %s", err);
	assert_int_equal(runs(f), 1);
	m = meta_of(f, id);
	assert_string_equal(m->state, "released");
	assert_string_equal(m->note, "");
	x_free(m);

	/* a held message cut off goes back to quarantined, not held (no second automatic release) */
	use_cfg(f, cfg_for(f, ov_held, 2));
	h = plain_msg("cut2@sender.example", "held-cut", "plain words");
	assert_int_equal(deliver(f, &f->env, "cut2@sender.example", rc1, 1, h, id), MW_HOLD);
	assert_int_equal(quar_claim(f->q, id, "held", "releasing"), 1);
	assert_int_equal(outcome_resolve_releases(&f->env, time(NULL) + 1), 1);
	m = meta_of(f, id);
	assert_string_equal(m->state, "quarantined");
	x_free(m);
	count_alert_rows(f, 3);
	x_free(h);
}

/* ---- rescans after a signature update ---- */

static void test_rescan_all(void **state)
{
	fixture *f = *state;
	const char *ov[] = {"hold.first_contact=no"};
	const char *ov_lock[] = {"hold.first_contact=no", "hold.lockdown=2"};
	const char *rc2[] = {"staff@example.com", "info@example.com"};
	char blob[200], kid[40], cid[40], hid[40];
	mw_env old_env;
	ids kept;
	quar_meta *m;
	store_block b;
	char *bad, *good, *held;

	use_cfg(f, cfg_for(f, ov, 1));
	snprintf(blob, sizeof(blob), "binary-ish data %s", marker);
	bad = with_blob("Late@Sender.example", "late-detection", blob);
	good = with_blob("fine@sender.example", "fine-data", "harmless data 42");
	old_env = f->env;
	old_env.av = av_old;
	/* delivered under the old signatures: accepted, copies kept */
	assert_int_equal(deliver(f, &old_env, "Late@Sender.example", rc2, 2, bad, cid), MW_ACCEPT);
	assert_int_equal(deliver(f, &old_env, "fine@sender.example", rc2, 1, good, cid), MW_ACCEPT);
	assert_int_equal(in_state(f, "kept", &kept), 2);
	/* one held message that also carries the marker */
	use_cfg(f, cfg_for(f, ov_lock, 2));
	old_env.cfg = f->cfg;
	held = plain_msg("heldz@sender.example", "held-zero", blob);
	assert_int_equal(deliver(f, &old_env, "heldz@sender.example", rc2, 1, held, hid), MW_HOLD);
	count_alert_rows(f, 0);

	/* the update: everything kept, held and quarantined is scanned again (the
	 * held one moves to quarantined on the way and may be counted twice) */
	assert_true(outcome_rescan_all(&f->env) >= 3);
	count_alert_rows(f, 1);
	/* the kept copy that matches: quarantined now, its sender blocked */
	assert_int_equal(in_state(f, "kept", &kept), 1);
	m = meta_of(f, kept.id[0]);
	assert_string_equal(m->sender, "fine@sender.example");
	x_free(m);
	assert_int_equal(in_state(f, "quarantined", &kept), 2); /* it and the held one below */
	strcpy(kid, strcmp(kept.id[0], hid) == 0 ? kept.id[1] : kept.id[0]);
	m = meta_of(f, kid);
	assert_string_equal(m->sender, "Late@Sender.example");
	x_free(m);
	assert_int_equal(store_block_find(f->st, "sender", "late@sender.example", NOW + 1, &b), 1);
	assert_string_equal(b.code, "av.infected");
	assert_non_null(strstr(b.detail, "Mailwarden.Test.Marker"));
	assert_int_equal(b.expires, NOW + 7 * 86400); /* sender.autoblock_time default 7d */
	/* the held one that now matches is quarantined (not released when due) */
	m = meta_of(f, hid);
	assert_string_equal(m->state, "quarantined");
	x_free(m);
	/* the alert names the message, the sender, every recipient and the signature */
	{
		char *txt = sql_text(f, "SELECT kind || ': ' || text FROM alerts");
		print_message("    %s\n", txt);
		assert_non_null(strstr(txt, "retro.av: "));
		assert_non_null(strstr(txt, kid));
		assert_non_null(strstr(txt, "Late@Sender.example"));
		assert_non_null(strstr(txt, "staff@example.com, info@example.com"));
		assert_non_null(strstr(txt, "Mailwarden.Test.Marker"));
		assert_non_null(strstr(txt, "late-detection"));
		x_free(txt);
	}
	/* a second pass finds nothing new to alert about */
	assert_int_equal(outcome_rescan_all(&f->env), 3); /* kept 1, quarantined 2 */
	count_alert_rows(f, 1);
	x_free(bad);
	x_free(good);
	x_free(held);
}

/* with_b64 - a message whose attachment is content, base64 in lines of 76 (as mail clients send it) */
static char *with_b64(const char *from, const char *subject, const char *content)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)content;
	size_t len = strlen(content), i, col = 0;
	mw_buf b;

	buf_init(&b, 0);
	buf_printf(&b,
	           "From: %s\r\nTo: staff@example.com\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
	           "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n--BB\r\n"
	           "Content-Type: text/plain\r\n\r\nThe report, %s.\r\n--BB\r\n"
	           "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
	           "Content-Disposition: attachment; filename=\"report.bin\"\r\n\r\n",
	           from, subject, subject);
	for (i = 0; i < len; i += 3) {
		unsigned v =
		    (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);
		char q[4] = {al[v >> 18 & 63], al[v >> 12 & 63], i + 1 < len ? al[v >> 6 & 63] : '=',
		             i + 2 < len ? al[v & 63] : '='};
		buf_append(&b, q, 4);
		if ((col += 4) == 76 || i + 3 >= len) {
			buf_printf(&b, "\r\n");
			col = 0;
		}
	}
	buf_printf(&b, "--BB--\r\n");
	return b.p; /* the caller frees it */
}

/* file_count - regular files in dir whose names end in suffix */
static int file_count(const char *dir, const char *suffix)
{
	char cmd[600];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -c '%s$'", dir, suffix);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/*
 * test_retro_shared - two delivered messages carrying the same attachment
 * keep one stored copy of it (a blob) and a small file each; the late
 * signature raises an alert for each message, naming its recipients.
 */
static void test_retro_shared(void **state)
{
	fixture *f = *state;
	const char *ov[] = {"hold.first_contact=no"};
	const char *rc1[] = {"staff@example.com"};
	const char *rc2[] = {"boss@example.com", "info@example.com"};
	char qid[40], bdir[400], qdir[400];
	mw_env old_env;
	mw_buf data;
	ids kept;
	char *one, *two;
	int i;

	use_cfg(f, cfg_for(f, ov, 1));
	buf_init(&data, 0);
	for (i = 0; i < 400; i++)
		buf_printf(&data, "row %04d of the quarterly figures, nothing to see here\n", i);
	buf_printf(&data, "%s\n", marker);
	one = with_b64("one@sender.example", "figures-one", data.p);
	two = with_b64("two@other.example", "figures-two", data.p);
	old_env = f->env;
	old_env.av = av_old;
	assert_int_equal(deliver(f, &old_env, "one@sender.example", rc1, 1, one, qid), MW_ACCEPT);
	assert_int_equal(deliver(f, &old_env, "two@other.example", rc2, 2, two, qid), MW_ACCEPT);
	assert_int_equal(in_state(f, "kept", &kept), 2);
	/* one stored attachment; the rest of each message is small, held in its row (no file of its own) */
	snprintf(bdir, sizeof(bdir), "%s/quarantine/blobs", f->dir);
	snprintf(qdir, sizeof(qdir), "%s/quarantine", f->dir);
	assert_int_equal(quar_blob_count(f->q), 1);
	assert_int_equal(file_count(bdir, "\\.mwb"), 1);
	assert_int_equal(file_count(qdir, "\\.mwq"), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM quarantine WHERE state = 'kept' AND length(body) < 4000"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM quarantine_blobs WHERE size > 25000"), 1);
	count_alert_rows(f, 0);
	/* the signature arrives: both messages are named, each with its recipients */
	assert_int_equal(outcome_rescan_all(&f->env), 2);
	count_alert_rows(f, 2);
	assert_int_equal(in_state(f, "quarantined", &kept), 2);
	assert_int_equal(
	    sql_int(f, "SELECT count(*) FROM alerts WHERE kind = 'retro.av' AND text LIKE '%one@sender.example to "
	               "staff@example.com now matches Mailwarden.Test.Marker%'"),
	    1);
	assert_int_equal(sql_int(f,
	                         "SELECT count(*) FROM alerts WHERE kind = 'retro.av' AND text LIKE '%two@other.example"
	                         " to boss@example.com, info@example.com now matches Mailwarden.Test.Marker%'"),
	                 1);
	for (i = 0; i < 2; i++) { /* each alert names its message */
		char *txt = sql_text(f, "SELECT group_concat(text, ' | ') FROM alerts WHERE kind = 'retro.av'");
		assert_non_null(strstr(txt, kept.id[i]));
		x_free(txt);
	}
	x_free(one);
	x_free(two);
	buf_free(&data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_finish_quarantine, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish_hold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_finish_without_quarantine, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retro_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retro_shared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_once, setup, teardown),
	    cmocka_unit_test(test_release_argv),
	    cmocka_unit_test_setup_teardown(test_due_holds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_releases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rescan_all, setup, teardown),
	};

	return cmocka_run_group_tests_name("outcome", tests, group_setup, group_teardown);
}
