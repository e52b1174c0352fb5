/*
 * NAME
 *	engine_test.c - the verdict engine as one call
 * SYNOPSIS
 *	build/tests/engine_test		(from the top of the tree: sigs/)
 * DESCRIPTION
 *	engine_scan() and engine_rcpt() (src/engine/engine.c) over messages
 *	built here, with the project's own signature file:
 *	  - the stage order: ClamAV scans a part whole before the attach
 *	    stage walks its archive, so a member libclamav already visited
 *	    is not scanned a second time (one av.infected, on the part);
 *	  - the size stage: over limits.max_message_size nothing is parsed;
 *	  - the time budget: past limits.scan_time the scan stops with
 *	    engine.timeout (tempfail);
 *	  - no signature database: av.unavailable (tempfail), the other
 *	    stages still report;
 *	  - a required store that is missing: store.unavailable (tempfail);
 *	    a deferred message is not recorded in the sender history;
 *	  - the policy: [actions] overrides and lockdown change the action;
 *	  - engine_rcpt() with a store that is locked: store.unavailable
 *	    with SQLite's text;
 *	  - the coverage set (scan_cover_add, scan_covered: memory and
 *	    descriptor content, sizes, the MW_COVER_MAX bound);
 *	  - result_json() read back by Python's json module (an oracle we did
 *	    not write), with hostile envelope strings;
 *	  - verdict_reasons_line().
 *	The marker of sigs/mailwarden-test.ndb and EICAR are assembled at
 *	run time; zip archives are written here with libarchive.  Temporary
 *	directories go under $TMPDIR (default /tmp).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include "attach/attach_int.h"
#include "av/av.h"
#include "av/av_cache.h"
#include "engine/engine.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "store/store.h"
#include "util/hash.h"
#include "util/util.h"

#ifndef SIGS_DIR
#define SIGS_DIR "sigs"
#endif

static av_engine *av; /* loaded once from SIGS_DIR */
static mw_config *base_cfg;
static char marker[64];

/* ---- helpers ---- */

static void make_marker(void)
{
	snprintf(marker, sizeof(marker), "%s%s", "MAILWARDEN-TEST-", "MARKER-7f3a9c1e");
}

/* tmp_dir - a fresh directory $TMPDIR/mw_NAME_test.XXXXXX */
static void tmp_dir(char *out, size_t len, const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, len, "%s/mw_%s_test.XXXXXX", t && *t ? t : "/tmp", name);
	if (mkdtemp(out) == NULL)
		fail_msg("mkdtemp %s failed", out);
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* cfg_with - the embedded defaults, our signatures, then the overrides */
static mw_config *cfg_with(const char *const *ov, size_t n)
{
	const char *all[16];
	char err[512];
	mw_config *c = NULL;
	size_t i;

	assert_true(n + 2 <= MW_ARRAY_LEN(all));
	all[0] = "paths.signatures=" SIGS_DIR;
	all[1] = "domains.protected=example.com";
	for (i = 0; i < n; i++)
		all[i + 2] = ov[i];
	if (config_load(NULL, all, n + 2, &c, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	return c;
}

static char *b64(const void *data, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *d = data;
	char *o = x_malloc(n * 4 / 3 + n / 57 * 2 + 8), *p = o;
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v =
		    (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
		*p++ = t[v >> 18 & 63];
		*p++ = t[v >> 12 & 63];
		*p++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*p++ = i + 2 < n ? t[v & 63] : '=';
		if ((i / 3 + 1) % 19 == 0)
			*p++ = '\r', *p++ = '\n';
	}
	*p = '\0';
	return o;
}

/* zip_of - a deflated zip archive holding one member, written with libarchive */
static unsigned char *zip_of(const char *name, const void *data, size_t len, size_t *outlen)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = len + 4096, used = 0;
	unsigned char *buf = x_malloc(cap);

	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*outlen = used;
	return buf;
}

/* with_attachment - a multipart message: text, then one base64 attachment */
static char *with_attachment(const char *from, const char *subject, const char *text, const char *fname,
                             const char *ctype, const void *data, size_t len)
{
	char *enc = b64(data, len), *raw;
	size_t rl = strlen(enc) + strlen(text) + 1024;

	raw = x_malloc(rl);
	snprintf(raw, rl,
	         "From: %s\r\nTo: staff@example.com\r\nSubject: %s\r\nMessage-ID: <e1@sender.example>\r\n"
	         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n--BB\r\n"
	         "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n--BB\r\n"
	         "Content-Type: %s\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--BB--\r\n",
	         from, subject, text, ctype, fname, enc);
	x_free(enc);
	return raw;
}

static char *plain(const char *from, const char *subject, const char *text)
{
	size_t rl = strlen(text) + 512;
	char *raw = x_malloc(rl);

	snprintf(raw, rl, "From: %s\r\nTo: staff@example.com\r\nSubject: %s\r\n\r\n%s\r\n", from, subject, text);
	return raw;
}

/* scan_raw - engine_scan over raw with the envelope sender -> rcpt */
static void scan_raw(const mw_env *env, const char *sender, const char *rcpt, const char *raw, size_t len,
                     mw_result *res)
{
	mw_msg *m = msg_new(env->cfg);

	msg_set_queue_id(m, "QENGINE1");
	msg_set_sender(m, sender);
	if (rcpt)
		assert_int_equal(msg_add_rcpt(m, rcpt), 0);
	assert_int_equal(msg_write(m, raw, len), 0);
	engine_scan(m, env, res);
	msg_free(m);
}

static mw_env env_of(const mw_config *c)
{
	mw_env e;

	memset(&e, 0, sizeof(e));
	e.cfg = c;
	e.av = av;
	return e;
}

static size_t count_code(const mw_verdict *v, const char *code)
{
	size_t i, n = 0;

	for (i = 0; i < v->nreasons; i++)
		n += strcmp(v->reasons[i].code, code) == 0;
	return n;
}

static const mw_reason *find_code(const mw_verdict *v, const char *code)
{
	size_t i;

	for (i = 0; i < v->nreasons; i++)
		if (strcmp(v->reasons[i].code, code) == 0)
			return &v->reasons[i];
	return NULL;
}

static void dump(const mw_verdict *v)
{
	size_t i;

	print_message("    action %s\n", action_name(v->action));
	for (i = 0; i < v->nreasons; i++)
		print_message("    %s [%s] %s\n", v->reasons[i].code, v->reasons[i].part, v->reasons[i].detail);
}

static void want_action(const mw_verdict *v, mw_action want, const char *what)
{
	if (v->action != want) {
		dump(v);
		fail_msg("%s: got %s, want %s", what, action_name(v->action), action_name(want));
	}
}

static int group_setup(void **state)
{
	char err[512];

	(void)state;
	make_marker();
	if (av_global_init(err, sizeof(err)) < 0)
		return -1;
	base_cfg = cfg_with(NULL, 0);
	av = av_engine_load(SIGS_DIR, base_cfg, err, sizeof(err));
	if (av == NULL)
		print_error("av_engine_load %s: %s\n", SIGS_DIR, err);
	return av ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	av_engine_release(av);
	config_unref(base_cfg);
	return 0;
}

/* ---- the stage order: av before attach ---- */

/*
 * The marker inside a deflated zip: the raw part does not contain it, so
 * only an unpacking scan finds it.  libclamav unpacks the zip in the
 * whole-part scan (av stage) and reports the member to the coverage set;
 * the attach stage walks the same zip (its attach.archive_exec for the
 * member's .js name shows it got there) and, finding the member covered,
 * does not give it to ClamAV again.  Were attach to run first, or the
 * coverage set not work, the member would be scanned on its own and a
 * second av.infected "... in run.js" would appear on the member's part.
 */
static void test_av_before_attach(void **state)
{
	mw_result *res = x_calloc(1, sizeof(*res));
	mw_env env = env_of(base_cfg);
	char body[200];
	size_t zlen;
	unsigned char *zip;
	char *raw;
	const mw_reason *r;

	(void)state;
	snprintf(body, sizeof(body), "var figures = \"%s\";", marker);
	zip = zip_of("run.js", body, strlen(body), &zlen);
	assert_null(memmem(zip, zlen, marker, strlen(marker))); /* deflated: not in the raw bytes */
	raw =
	    with_attachment("a@sender.example", "figures", "see attached", "figures.zip", "application/zip", zip, zlen);
	scan_raw(&env, "a@sender.example", "staff@example.com", raw, strlen(raw), res);
	if (count_code(&res->verdict, "av.infected") != 1) {
		dump(&res->verdict);
		fail_msg("want exactly one av.infected (the whole-part scan), got %zu",
		         count_code(&res->verdict, "av.infected"));
	}
	r = find_code(&res->verdict, "av.infected");
	assert_string_equal(r->part, "2");
	/* the name alone: a hit of the attach walk would say "... in run.js" */
	if (strncmp(r->detail, "Mailwarden.Test.Marker", 22) != 0 || strstr(r->detail, " in "))
		fail_msg("av.infected detail \"%s\": want the whole-part hit Mailwarden.Test.Marker", r->detail);
	/* the attach stage did walk the archive down to the member */
	r = find_code(&res->verdict, "attach.archive_exec");
	if (r == NULL || strstr(r->detail, "run.js") == NULL || strcmp(r->part, "2") == 0) {
		dump(&res->verdict);
		fail_msg("want attach.archive_exec on the member run.js (a part below 2)");
	}
	want_action(&res->verdict, MW_REJECT, "zip with the marker");
	assert_true(res->av_sigs >= 2);
	x_free(raw);
	x_free(zip);
	x_free(res);
}

/* ---- the size stage ---- */

static void test_size_stage(void **state)
{
	const char *ov[] = {"limits.max_message_size=1024"};
	mw_config *c = cfg_with(ov, 1);
	mw_env env = env_of(c);
	mw_result *res = x_calloc(1, sizeof(*res));
	char text[1600];
	char *raw;

	(void)state;
	/* the marker sits inside the first 1024 bytes: were the message
	 * parsed and scanned, av.infected would be reported */
	snprintf(text, sizeof(text), "%s %1400s", marker, "padding");
	raw = plain("a@sender.example", "big", text);
	assert_true(strlen(raw) > 1024);
	scan_raw(&env, "a@sender.example", "staff@example.com", raw, strlen(raw), res);
	assert_int_equal(res->verdict.nreasons, 1);
	assert_string_equal(res->verdict.reasons[0].code, "msg.too_big");
	want_action(&res->verdict, MW_REJECT, "over max_message_size");
	assert_int_equal(res->size, strlen(raw)); /* every byte received is counted */
	assert_int_equal(res->nparts, 0);         /* nothing parsed */
	assert_int_equal(res->nparts_listed, 0);
	x_free(raw);

	/* exactly at the limit: parsed and scanned */
	raw = x_malloc(1025);
	{
		size_t hl;
		snprintf(raw, 1025, "Subject: edge\r\n\r\n%s ", marker);
		hl = strlen(raw);
		memset(raw + hl, 'x', 1024 - hl);
		raw[1024] = 0;
	}
	scan_raw(&env, "a@sender.example", "staff@example.com", raw, 1024, res);
	assert_int_equal(count_code(&res->verdict, "msg.too_big"), 0);
	assert_int_equal(count_code(&res->verdict, "av.infected"), 1);
	x_free(raw);
	x_free(res);
	config_unref(c);
}

/* ---- the time budget ---- */

/*
 * 120 parts of 32 KiB each: parsing, decoding and scanning them takes far
 * longer than the smallest budget the configuration allows (10 ms); the
 * run without a budget measures how much longer, so a failure says why.
 */
static void test_time_budget(void **state)
{
	const char *ov[] = {"limits.scan_time=10"};
	mw_config *c = cfg_with(ov, 1);
	mw_env env = env_of(c), free_env = env_of(base_cfg);
	mw_result *res = x_calloc(1, sizeof(*res));
	mw_buf raw;
	char *blob = x_malloc(32 * 1024 + 1), *enc;
	const mw_reason *r;
	double full_ms;
	int i;

	(void)state;
	for (i = 0; i < 32 * 1024; i++)
		blob[i] = (char)('a' + (i * 7 + i / 26) % 26);
	blob[32 * 1024] = 0;
	enc = b64(blob, 32 * 1024);
	buf_init(&raw, 0);
	buf_puts(&raw, "From: a@sender.example\r\nSubject: many parts\r\nMIME-Version: 1.0\r\n"
	               "Content-Type: multipart/mixed; boundary=\"P\"\r\n\r\n");
	for (i = 0; i < 120; i++)
		buf_printf(&raw,
		           "--P\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
		           "filename=\"data%d.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
		           i, enc);
	buf_puts(&raw, "--P--\r\n");

	scan_raw(&free_env, "a@sender.example", "staff@example.com", raw.p, raw.len, res);
	full_ms = res->verdict.elapsed_ms;
	assert_int_equal(count_code(&res->verdict, "engine.timeout"), 0);
	print_message("    %zu bytes, %zu parts: %.1f ms without a budget (budget under test: 10 ms)\n", raw.len,
	              res->nparts, full_ms);
	if (full_ms < 30)
		fail_msg("the message took only %.1f ms: too fast to test a 10 ms budget", full_ms);

	scan_raw(&env, "a@sender.example", "staff@example.com", raw.p, raw.len, res);
	if (count_code(&res->verdict, "engine.timeout") != 1) {
		dump(&res->verdict);
		fail_msg("want one engine.timeout after %.1f ms with a 10 ms budget", res->verdict.elapsed_ms);
	}
	r = find_code(&res->verdict, "engine.timeout");
	assert_non_null(strstr(r->detail, "limits.scan_time (10 ms)"));
	want_action(&res->verdict, MW_TEMPFAIL, "over scan_time");
	/* the scan stopped early: well under the unbounded run */
	if (res->verdict.elapsed_ms > full_ms)
		fail_msg("stopped after %.1f ms, the full scan took %.1f ms", res->verdict.elapsed_ms, full_ms);
	buf_free(&raw);
	x_free(enc);
	x_free(blob);
	x_free(res);
	config_unref(c);
}

/* ---- missing parts of the environment ---- */

static void test_av_unavailable(void **state)
{
	mw_env env = env_of(base_cfg);
	mw_result *res = x_calloc(1, sizeof(*res));
	static const char pe[] = "MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";
	char *raw;

	(void)state;
	env.av = NULL;
	raw = with_attachment("a@sender.example", "setup", "install this", "setup.exe", "application/octet-stream", pe,
	                      sizeof(pe) - 1);
	scan_raw(&env, "a@sender.example", "staff@example.com", raw, strlen(raw), res);
	assert_int_equal(count_code(&res->verdict, "av.unavailable"), 1);
	want_action(&res->verdict, MW_TEMPFAIL, "no signature database");
	assert_int_equal(res->av_sigs, 0);
	/* the other stages still ran: the executable is named in the verdict */
	assert_int_equal(count_code(&res->verdict, "attach.executable"), 1);
	x_free(raw);

	/* a clean plain-text message is deferred too: never passed unscanned */
	raw = plain("a@sender.example", "hello", "nothing to see");
	scan_raw(&env, "a@sender.example", "staff@example.com", raw, strlen(raw), res);
	assert_int_equal(res->verdict.nreasons, 1);
	assert_string_equal(res->verdict.reasons[0].code, "av.unavailable");
	want_action(&res->verdict, MW_TEMPFAIL, "clean mail, no signature database");
	x_free(raw);
	x_free(res);
}

static void test_store_unavailable(void **state)
{
	mw_env env = env_of(base_cfg);
	mw_result *res = x_calloc(1, sizeof(*res));
	store_limits lim = {100000, 2000};
	char dir[300], err[512];
	mw_store *st;
	mw_verdict v;
	char *raw = plain("a@sender.example", "hello", "a plain note");

	(void)state;
	/* the daemon requires its store: without it, tempfail */
	env.store_required = 1;
	scan_raw(&env, "a@sender.example", "staff@example.com", raw, strlen(raw), res);
	assert_int_equal(count_code(&res->verdict, "store.unavailable"), 1);
	want_action(&res->verdict, MW_TEMPFAIL, "scan, store required and missing");
	engine_rcpt(&env, "a@sender.example", "staff@example.com", "Q1", &v);
	assert_int_equal(count_code(&v, "store.unavailable"), 1);
	want_action(&v, MW_TEMPFAIL, "rcpt, store required and missing");

	/* a stateless scan (the command without --state) does not need one */
	env.store_required = 0;
	scan_raw(&env, "a@sender.example", "staff@example.com", raw, strlen(raw), res);
	assert_int_equal(res->verdict.nreasons, 0);
	want_action(&res->verdict, MW_ACCEPT, "stateless scan");
	engine_rcpt(&env, "a@sender.example", "staff@example.com", "Q1", &v);
	want_action(&v, MW_ACCEPT, "stateless rcpt");

	/* with the store: accepted mail is recorded after the policy ... */
	tmp_dir(dir, sizeof(dir), "engine");
	if (store_open(dir, &lim, &st, err, sizeof(err)) < 0)
		fail_msg("store_open: %s", err);
	env.store = st;
	env.store_required = 1;
	scan_raw(&env, "a@sender.example", "staff@example.com", raw, strlen(raw), res);
	want_action(&res->verdict, MW_ACCEPT, "with the store");
	assert_int_equal(store_sender_known(st, "a@sender.example"), 1);
	/* ... a deferred one is not (it will come again) */
	env.av = NULL;
	scan_raw(&env, "b@sender.example", "staff@example.com", raw, strlen(raw), res);
	want_action(&res->verdict, MW_TEMPFAIL, "deferred");
	assert_int_equal(store_sender_known(st, "b@sender.example"), 0);
	store_close(st);
	rm_rf(dir);
	x_free(raw);
	x_free(res);
}

/* A store whose database another connection holds locked: store.unavailable with SQLite's text. */
static void test_rcpt_store_locked(void **state)
{
	const char *ov[] = {"actions.sender.freemail=tag"};
	mw_config *c = cfg_with(ov, 1);
	mw_env env = env_of(c);
	mw_lists *l = lists_new();
	store_limits lim = {100000, 50};
	char dir[300], path[400], err[512];
	const mw_reason *r;
	mw_store *st;
	sqlite3 *db;
	mw_verdict v;

	(void)state;
	tmp_dir(dir, sizeof(dir), "engine");
	if (store_open(dir, &lim, &st, err, sizeof(err)) < 0)
		fail_msg("store_open: %s", err);
	assert_int_equal(lists_add(l, "freemail", "free.example"), 0);
	env.lists = l;
	env.store = st;
	env.store_required = 1;
	engine_rcpt(&env, "x@free.example", "staff@example.com", "Q1", &v);
	want_action(&v, MW_TAG, "free-mail to staff with the override");
	assert_int_equal(count_code(&v, "sender.freemail"), 1);

	snprintf(path, sizeof(path), "%s/mailwarden.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	engine_rcpt(&env, "x@free.example", "staff2@example.com", "Q2", &v);
	r = find_code(&v, "store.unavailable");
	if (r == NULL) {
		dump(&v);
		fail_msg("a locked database: want store.unavailable");
	}
	assert_non_null(strstr(r->detail, "locked"));
	want_action(&v, MW_TEMPFAIL, "locked store");
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* the lock is gone: the same call works again */
	engine_rcpt(&env, "x@free.example", "staff2@example.com", "Q3", &v);
	want_action(&v, MW_TAG, "after the lock");
	store_close(st);
	rm_rf(dir);
	lists_unref(l);
	config_unref(c);
}

/* ---- the policy ---- */

static void test_policy_mapping(void **state)
{
	const char *quar[] = {"actions.av.infected=quarantine"};
	const char *acc[] = {"actions.av.infected=accept"};
	const char *lock1[] = {"hold.lockdown=1"};
	const char *lock2[] = {"hold.lockdown=2"};
	mw_config *cq = cfg_with(quar, 1), *ca = cfg_with(acc, 1), *l1 = cfg_with(lock1, 1), *l2 = cfg_with(lock2, 1);
	mw_result *res = x_calloc(1, sizeof(*res));
	mw_env env = env_of(base_cfg);
	char text[200];
	char *infected, *clean, *att;

	(void)state;
	snprintf(text, sizeof(text), "hello %s", marker);
	infected = plain("a@sender.example", "x", text);
	clean = plain("a@sender.example", "x", "plain words only");
	att = with_attachment("a@sender.example", "minutes", "attached", "minutes.txt", "text/plain", "minutes", 7);

	scan_raw(&env, "a@sender.example", "staff@example.com", infected, strlen(infected), res);
	want_action(&res->verdict, MW_REJECT, "default av.infected");
	assert_int_equal(find_code(&res->verdict, "av.infected")->action, MW_REJECT);

	env.cfg = cq;
	scan_raw(&env, "a@sender.example", "staff@example.com", infected, strlen(infected), res);
	want_action(&res->verdict, MW_QUARANTINE, "actions.av.infected=quarantine");
	assert_int_equal(find_code(&res->verdict, "av.infected")->action, MW_QUARANTINE);

	/* an override to accept keeps the fact, the action follows the policy */
	env.cfg = ca;
	scan_raw(&env, "a@sender.example", "staff@example.com", infected, strlen(infected), res);
	want_action(&res->verdict, MW_ACCEPT, "actions.av.infected=accept");
	assert_int_equal(count_code(&res->verdict, "av.infected"), 1);

	/* lockdown 1: external mail with an attachment is held, plain text passes */
	env.cfg = l1;
	scan_raw(&env, "a@sender.example", "staff@example.com", att, strlen(att), res);
	want_action(&res->verdict, MW_HOLD, "lockdown 1, attachment");
	assert_int_equal(count_code(&res->verdict, "policy.lockdown"), 1);
	scan_raw(&env, "a@sender.example", "staff@example.com", clean, strlen(clean), res);
	want_action(&res->verdict, MW_ACCEPT, "lockdown 1, plain text");
	/* lockdown 2: all external mail is held; our own is not */
	env.cfg = l2;
	scan_raw(&env, "a@sender.example", "staff@example.com", clean, strlen(clean), res);
	want_action(&res->verdict, MW_HOLD, "lockdown 2, plain text");
	scan_raw(&env, "boss@example.com", "staff@example.com", clean, strlen(clean), res);
	want_action(&res->verdict, MW_ACCEPT, "lockdown 2, internal sender");
	/* a rescan (release decision) adds no hold */
	env.rescan = 1;
	scan_raw(&env, "a@sender.example", "staff@example.com", clean, strlen(clean), res);
	want_action(&res->verdict, MW_ACCEPT, "lockdown 2, rescan");

	x_free(infected);
	x_free(clean);
	x_free(att);
	x_free(res);
	config_unref(cq);
	config_unref(ca);
	config_unref(l1);
	config_unref(l2);
}

/* ---- the coverage set ---- */

static void test_cover_set(void **state)
{
	mw_scan st;
	char a[300], b[300], path[400], dir[300];
	size_t i;
	FILE *fp;
	int fd;

	(void)state;
	memset(&st, 0, sizeof(st));
	memset(a, 'a', sizeof(a));
	memcpy(b, a, sizeof(b));
	b[150] = 'b';                                             /* same size, other content */
	assert_int_equal(scan_covered(&st, a, -1, sizeof(a)), 0); /* empty set */
	scan_cover_add(&st, a, sizeof(a));
	assert_int_equal(st.ncover, 1);
	assert_int_equal(scan_covered(&st, a, -1, sizeof(a)), 1);
	assert_int_equal(scan_covered(&st, b, -1, sizeof(b)), 0);
	assert_int_equal(scan_covered(&st, a, -1, sizeof(a) - 1), 0); /* a prefix is another object */

	/* the same bytes read from a descriptor (a spilled member) */
	tmp_dir(dir, sizeof(dir), "engine");
	snprintf(path, sizeof(path), "%s/member", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(a, 1, sizeof(a), fp), sizeof(a));
	fclose(fp);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(scan_covered(&st, NULL, fd, sizeof(a)), 1);
	/* a descriptor that cannot give the bytes back: not covered (scanned, never skipped) */
	assert_int_equal(truncate(path, 100), 0);
	assert_int_equal(scan_covered(&st, NULL, fd, sizeof(a)), 0);
	close(fd);
	unlink(path);
	rmdir(dir);

	/* an empty object can be recorded and found */
	scan_cover_add(&st, "", 0);
	assert_int_equal(scan_covered(&st, "", -1, 0), 1);

	/* fill the set: beyond MW_COVER_MAX nothing is recorded, so later objects count as not covered */
	for (i = st.ncover; i < MW_COVER_MAX; i++) {
		size_t n = i;
		scan_cover_add(&st, &n, sizeof(n));
	}
	assert_int_equal(st.ncover, MW_COVER_MAX);
	scan_cover_add(&st, b, sizeof(b));
	assert_int_equal(st.ncover, MW_COVER_MAX);
	assert_int_equal(scan_covered(&st, b, -1, sizeof(b)), 0);
	assert_int_equal(scan_covered(&st, a, -1, sizeof(a)), 1); /* the first ones stay */
	{
		size_t n = MW_COVER_MAX - 1;
		assert_int_equal(scan_covered(&st, &n, -1, sizeof(n)), 1);
	}
	scan_free(&st);
	assert_int_equal(st.ncover, 0);
	assert_null(st.cover);
	assert_int_equal(scan_covered(&st, a, -1, sizeof(a)), 0);
}

/* ---- result_json, read back by Python ---- */

/* run_python - python3 SCRIPT FILE, its standard output in out (NUL-terminated); exit status */
static int run_python(const char *script, const char *file, char *out, size_t outlen)
{
	char cmd[2400];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "python3 -c '%s' '%s' 2>&1", script, file);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = 0;
	return pclose(p);
}

static void test_result_json(void **state)
{
	/* prints the fields one per line, as UTF-8; fails on anything json does not accept */
	static const char script[] =
	    "import json, sys\n"
	    "raw = open(sys.argv[1], \"rb\").read()\n"
	    "d = json.loads(raw.decode(\"utf-8\"))\n"
	    "out = [d[\"action\"], \",\".join(r[\"code\"] + \"@\" + r[\"part\"] + \"=\" + r[\"action\"] for r in "
	    "d[\"reasons\"]),\n"
	    "       d[\"queue_id\"], d[\"envelope_from\"], \"|\".join(d[\"envelope_rcpt\"]), d[\"subject\"],\n"
	    "       d[\"from\"], str(d[\"parts_total\"]), \";\".join(p[\"part\"] + \":\" + p.get(\"filename\", \"\") "
	    "for "
	    "p in d[\"parts\"]),\n"
	    "       str(d[\"signatures\"] > 0), str(d[\"size\"]), str(d[\"reasons_dropped\"]), str(d[\"elapsed_ms\"] "
	    ">= "
	    "0)]\n"
	    "sys.stdout.buffer.write((\"\\n\".join(out) + \"\\n\").encode(\"utf-8\"))\n";
	mw_env env = env_of(base_cfg);
	mw_result *res = x_calloc(1, sizeof(*res));
	mw_msg *m = msg_new(base_cfg);
	char dir[300], path[400], out[4096], want[2048], subj_hdr[200];
	const char *subject = "請求書のご送付 (5月分)";
	char *enc, *raw;
	mw_buf json;
	FILE *fp;
	int rc;

	(void)state;
	enc = b64(subject, strlen(subject));
	snprintf(subj_hdr, sizeof(subj_hdr), "=?UTF-8?B?%s?=", enc);
	x_free(enc);
	raw = with_attachment("Kanri <kanri@sender.example>", subj_hdr, "see the file", "見積書.pdf.exe",
	                      "application/octet-stream", "MZ", 2);
	/* envelope strings come from the MTA as they are: quotes, backslashes,
	 * control characters and bytes that are not UTF-8 must still give JSON */
	msg_set_queue_id(m, "Q\x01"
	                    "7\t\"x\"");
	msg_set_sender(m, "\"odd\\\\name\"@sender.example");
	msg_add_rcpt(m, "staff@example.com");
	msg_add_rcpt(m, "bad\xff\x80\x80"
	                "byte@example.com");
	assert_int_equal(msg_write(m, raw, strlen(raw)), 0);
	engine_scan(m, &env, res);
	buf_init(&json, 0);
	result_json(m, res, &json);
	assert_int_equal(json.p[0], '{');
	assert_int_equal(json.p[json.len - 1], '}');
	assert_null(memchr(json.p, '\n', json.len)); /* one line */

	tmp_dir(dir, sizeof(dir), "engine");
	snprintf(path, sizeof(path), "%s/result.json", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(json.p, 1, json.len, fp), json.len);
	fclose(fp);
	rc = run_python(script, path, out, sizeof(out));
	if (rc != 0)
		fail_msg("python3 json could not read result_json's output (%d):\n%s\n%s", rc, out, json.p);
	snprintf(want, sizeof(want),
	         "reject\n"
	         "attach.double_ext@2=reject,attach.executable@2=reject\n"
	         "Q\x01"
	         "7\t\"x\"\n"
	         "\"odd\\\\name\"@sender.example\n"
	         "staff@example.com|bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	         "byte@example.com\n"
	         "%s\n"
	         "Kanri <kanri@sender.example>\n"
	         "3\n"
	         "1:;2:見積書.pdf.exe\n"
	         "True\n"
	         "%zu\n"
	         "0\n"
	         "True\n",
	         subject, strlen(raw));
	if (strcmp(out, want) != 0) {
		print_message("json: %s\n", json.p);
		fail_msg("fields read back by python3:\n%s\nwant:\n%s", out, want);
	}
	unlink(path);
	rmdir(dir);
	buf_free(&json);
	msg_free(m);
	x_free(raw);
	x_free(res);
}

/* ---- verdict_reasons_line ---- */

static void test_reasons_line(void **state)
{
	mw_verdict v;
	mw_buf b;
	size_t i;

	(void)state;
	verdict_init(&v);
	buf_init(&b, 0);
	verdict_reasons_line(&v, &b);
	assert_string_equal(b.p, "none");
	buf_free(&b);

	verdict_add(&v, "link.storage", "1", "%s", "storage.example");
	verdict_add(&v, "av.infected", "2", "%s", "Sig.A");
	verdict_add(&v, "link.storage", "1", "%s", "other.example"); /* same code, other detail */
	verdict_add(&v, "av.infected", "3", "%s", "Sig.B");
	verdict_add(&v, "hold.first_contact", "", "%s", "first");
	buf_init(&b, 0);
	verdict_reasons_line(&v, &b);
	assert_string_equal(b.p, "link.storage, av.infected, hold.first_contact"); /* each code once, in order */
	buf_free(&b);

	/* past MW_MAX_REASONS: the line lists the kept ones, the action still counts the dropped */
	verdict_init(&v);
	for (i = 0; i < MW_MAX_REASONS; i++)
		verdict_add(&v, "mime.malformed", "1", "problem %zu", i);
	verdict_add(&v, "av.infected", "9", "%s", "Sig.Late");
	assert_int_equal(v.nreasons, MW_MAX_REASONS);
	assert_int_equal(v.dropped, 1);
	buf_init(&b, 0);
	verdict_reasons_line(&v, &b);
	assert_string_equal(b.p, "mime.malformed");
	buf_free(&b);
	config_apply_verdict(base_cfg, &v);
	assert_int_equal(v.action, MW_REJECT);
}

/* json_sans_time - result_json without its elapsed_ms value */
static char *json_sans_time(const mw_msg *m, const mw_result *res)
{
	mw_buf b;
	char *p, *q;

	buf_init(&b, 0);
	result_json(m, res, &b);
	p = strstr(b.p, "\"elapsed_ms\":");
	if (p && (q = strpbrk(p, ",}")) != NULL)
		memmove(p, q, strlen(q) + 1);
	return b.p;
}

/* test_cache_same_verdict - every sample scanned twice by one engine (the
 * second time libclamav's answers come from the scan cache, av_cache.c):
 * the same verdict, reasons, parts and content tree */
static void test_cache_same_verdict(void **state)
{
	const char *dirs[] = {"tests/samples"};
	mw_env env = env_of(base_cfg);
	mw_result *res = x_calloc(1, sizeof(*res));
	size_t d, files = 0;

	(void)state;
	for (d = 0; d < MW_ARRAY_LEN(dirs); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;
		if (dir == NULL)
			fail_msg("%s: cannot open", dirs[d]);
		while ((de = readdir(dir)) != NULL) {
			char path[512], *raw = NULL, *j1, *j2;
			size_t len = 0, n = strlen(de->d_name);
			int k;
			if (n < 5 || strcmp(de->d_name + n - 4, ".eml") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			{
				FILE *f = fopen(path, "rb");
				if (f == NULL || (raw = mw_read_all(f, 64u << 20, &len)) == NULL)
					fail_msg("%s: cannot read", path);
				fclose(f);
			}
			for (k = 0, j1 = j2 = NULL; k < 2; k++) {
				mw_msg *m = msg_new(env.cfg);
				msg_set_queue_id(m, "QCACHE1");
				msg_set_sender(m, "partner@partner.example");
				assert_int_equal(msg_add_rcpt(m, "staff@example.com"), 0);
				assert_int_equal(msg_write(m, raw, len), 0);
				memset(res, 0, sizeof(*res));
				engine_scan(m, &env, res);
				if (k == 0)
					j1 = json_sans_time(m, res);
				else
					j2 = json_sans_time(m, res);
				msg_free(m);
			}
			if (strcmp(j1, j2) != 0)
				fail_msg("%s: the second scan differs:\n%s\n%s", path, j1, j2);
			x_free(j1);
			x_free(j2);
			x_free(raw);
			files++;
		}
		closedir(dir);
	}
	assert_true(files >= 20);
	{
		av_cache_stat st;
		av_engine_cache_stats(av, &st);
		assert_true(st.hits >= files); /* the second scans were answered by the cache */
	}
	x_free(res);
}

/*
 * test_repeat_shares_work - a part is hashed once per scan (the scan
 * cache's key is the tracked attachment's SHA-256), and a repeated part
 * is not searched for hidden containers again when the first search
 * found no candidate; one that had one is searched (and judged) again.
 */
static void test_repeat_shares_work(void **state)
{
	mw_env env = env_of(base_cfg);
	mw_result *res = x_calloc(1, sizeof(*res));
	unsigned char *pic = x_malloc(64 * 1024), *zip, *hid;
	size_t zlen, i;
	char *clean, *hidden, want[65];
	unsigned long h0;
	int k;

	(void)state;
	/* a GIF-looking picture of pseudo-random bytes: no container header anywhere */
	memcpy(pic, "GIF89a", 6);
	for (i = 6; i < 64 * 1024; i++)
		pic[i] = (unsigned char)((i * 2654435761u) >> 13);
	for (i = 6; i + 1 < 64 * 1024; i++)
		if (pic[i] == 'P' || pic[i] == 0x1f || pic[i] == 'B' || pic[i] == 0xfd || pic[i] == '7' ||
		    pic[i] == 'R' || pic[i] == 0x28 || pic[i] == 'M' || pic[i] == 0x04 || pic[i] == 'L' ||
		    pic[i] == 'x' || pic[i] == '0' || pic[i] == 0xc7 || pic[i] == 'q' || pic[i] == 'u' ||
		    pic[i] == '-' || pic[i] == 'W' || pic[i] == '!' || pic[i] == 0x89)
			pic[i] = 'a'; /* no signature's first byte: nothing to try */
	zip = zip_of("inside.txt", "hidden text\n", 12, &zlen);
	hid = x_malloc(64 * 1024 + zlen);
	memcpy(hid, pic, 32 * 1024);
	memcpy(hid + 32 * 1024, zip, zlen);
	memcpy(hid + 32 * 1024 + zlen, pic + 32 * 1024, 32 * 1024);
	clean =
	    with_attachment("a@partner.example", "pic", "see the picture", "photo.gif", "image/gif", pic, 64 * 1024);
	hidden = with_attachment("a@partner.example", "pic", "see the picture", "photo2.gif", "image/gif", hid,
	                         64 * 1024 + zlen);
	mw_sha256_buf(pic, 64 * 1024, want);
	h0 = at_carve_memo_hits();
	for (k = 0; k < 2; k++) {
		memset(res, 0, sizeof(*res));
		scan_raw(&env, "a@partner.example", "staff@example.com", clean, strlen(clean), res);
		assert_int_equal(count_code(&res->verdict, "attach.inconsistent"), 0);
		assert_int_equal(res->natts, 1);
		assert_string_equal(res->atts[0].sha256, want);
		memset(res, 0, sizeof(*res));
		scan_raw(&env, "a@partner.example", "staff@example.com", hidden, strlen(hidden), res);
		if (count_code(&res->verdict, "attach.inconsistent") != 1) {
			for (i = 0; i < res->verdict.nreasons; i++)
				print_error("%s %s\n", res->verdict.reasons[i].code, res->verdict.reasons[i].detail);
			fail_msg("scan %d: the zip hidden in the picture not found", k + 1);
		}
	}
	/* the clean picture's second search answered by the memo, the other's never */
	assert_int_equal(at_carve_memo_hits(), h0 + 1);
	x_free(clean);
	x_free(hidden);
	x_free(zip);
	x_free(hid);
	x_free(pic);
	x_free(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_av_before_attach),   cmocka_unit_test(test_size_stage),
	    cmocka_unit_test(test_time_budget),        cmocka_unit_test(test_av_unavailable),
	    cmocka_unit_test(test_store_unavailable),  cmocka_unit_test(test_rcpt_store_locked),
	    cmocka_unit_test(test_policy_mapping),     cmocka_unit_test(test_cover_set),
	    cmocka_unit_test(test_result_json),        cmocka_unit_test(test_reasons_line),
	    cmocka_unit_test(test_cache_same_verdict), cmocka_unit_test(test_repeat_shares_work),
	};

	return cmocka_run_group_tests_name("engine", tests, group_setup, group_teardown);
}
