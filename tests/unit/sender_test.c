/*
 * sender_test.c - sender policy pieces: recipient classes, free-mail list
 * matching, mailbox parsing, campaign skeletons and fingerprints (same
 * campaign in ISO-2022-JP and UTF-8 with other names, numbers and dates
 * gives one fingerprint; different business mails differ), and the RCPT
 * path against a real SQLite store: fan-out, blocks, allow list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "mime/mime.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "sender/sender.h"
#include "store/store.h"
#include "util/util.h"

static mw_config *cfg_with(const char *const *ov, size_t n)
{
	char err[512];
	mw_config *c = NULL;

	if (config_load(NULL, ov, n, &c, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	return c;
}

static mw_lists *lists_std(void)
{
	mw_lists *l = lists_new();

	lists_add(l, "freemail", "yahoo.co.jp");
	lists_add(l, "freemail", "gmail.com");
	lists_add(l, "freemail", "docomo.ne.jp");
	lists_add(l, "allow", "friend@gmail.com");
	return l;
}

static void test_rcpt_class(void **state)
{
	const char *ov[] = {"domains.protected=example.com, example.jp", "domains.public=info@example.com"};
	mw_config *c = cfg_with(ov, 2);
	static const struct {
		const char *rcpt;
		rcpt_class want;
	} cases[] = {
	    {"info@example.com", RCPT_PUBLIC},     {"INFO@Example.COM", RCPT_PUBLIC},
	    {"tanaka@example.com", RCPT_STAFF},    {"sato@branch.example.jp", RCPT_STAFF},
	    {"someone@other.example", RCPT_OTHER}, {"no-at-sign", RCPT_OTHER},
	};
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		rcpt_class got = sender_rcpt_class(c, cases[i].rcpt);
		if (got != cases[i].want)
			fail_msg("%s: got class %d, want %d", cases[i].rcpt, got, cases[i].want);
	}
	assert_true(sender_is_external(c, "x@yahoo.co.jp"));
	assert_false(sender_is_external(c, "boss@example.com"));
	assert_false(sender_is_external(c, ""));
	config_unref(c);
}

static void test_freemail_match(void **state)
{
	mw_lists *l = lists_std();

	(void)state;
	assert_string_equal(sender_freemail(l, "A@Yahoo.Co.Jp"), "yahoo.co.jp");
	assert_string_equal(sender_freemail(l, "x@mail.docomo.ne.jp"), "docomo.ne.jp");
	assert_null(sender_freemail(l, "x@notyahoo.co.jp"));
	assert_null(sender_freemail(l, "x@example.com"));
	lists_unref(l);
}

static void test_parse_mailbox(void **state)
{
	static const struct {
		const char *in, *name, *addr;
		int rc;
	} cases[] = {
	    {"\"Kanri\" <Kanri@Yahoo.co.jp>", "Kanri", "kanri@yahoo.co.jp", 0},
	    {"日本年金機構 <a@gmail.com>", "日本年金機構", "a@gmail.com", 0},
	    {"a@b.example (Alice)", "Alice", "a@b.example", 0},
	    {"bare@x.example", "", "bare@x.example", 0},
	    {"\"boss@example.com\" <x@gmail.com>", "boss@example.com", "x@gmail.com", 0},
	    {"no address here", "", "no address here", -1},
	};
	char name[200], addr[200];
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		int rc = sender_parse_mailbox(cases[i].in, name, sizeof(name), addr, sizeof(addr));
		if (rc != cases[i].rc || (rc == 0 && (strcmp(name, cases[i].name) || strcmp(addr, cases[i].addr))))
			fail_msg("%s: got rc=%d name=\"%s\" addr=\"%s\", want %d \"%s\" \"%s\"", cases[i].in, rc, name,
			         addr, cases[i].rc, cases[i].name, cases[i].addr);
	}
}

static void test_skeleton(void **state)
{
	static const struct {
		const char *a, *b;
		int same;
	} cases[] = {
	    {"山田 太郎 様\nご確認ください。", "佐藤花子様\nご確認ください。", 1},
	    {"資料番号：１０２３\n受付日：2015年5月8日", "資料番号：2044\n受付日：2015年5月18日", 1},
	    {"Dear Mr. Tanaka,\nplease see the file", "Dear Ms. Sato,\nplease see the file", 1},
	    {"連絡先 a.b@yahoo.co.jp まで", "連絡先 zz@gmail.com まで", 1},
	    {"詳細は https://x.example/a?b=1 を参照", "詳細は http://y.example/q を参照", 1},
	    {"ＡＢＣ　ｄｅｆ", "abc def", 1},
	    {"会議の議事録を送ります", "請求書を送付いたします", 0},
	    {"山田様、会議は中止です", "山田様、会議は延期です", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		mw_buf x, y;
		buf_init(&x, 0);
		buf_init(&y, 0);
		sender_skeleton(cases[i].a, strlen(cases[i].a), &x);
		sender_skeleton(cases[i].b, strlen(cases[i].b), &y);
		if ((strcmp(x.p, y.p) == 0) != cases[i].same)
			fail_msg("case %zu: skeletons \"%s\" and \"%s\", want %s", i, x.p, y.p,
			         cases[i].same ? "equal" : "different");
		buf_free(&x);
		buf_free(&y);
	}
}

/* to_jis - UTF-8 to ISO-2022-JP with iconv */
static char *to_jis(const char *utf8)
{
	iconv_t cd = iconv_open("ISO-2022-JP", "UTF-8");
	size_t inl = strlen(utf8), outl = inl * 4 + 16;
	char *out = x_calloc(1, outl), *in = (char *)utf8, *o = out;

	assert_true(cd != (iconv_t)-1);
	assert_true(iconv(cd, &in, &inl, &o, &outl) != (size_t)-1);
	iconv(cd, NULL, NULL, &o, &outl);
	iconv_close(cd);
	return out;
}

static const char campaign_body[] = "%s 様\n\nいつもお世話になっております。\n"
                                    "「制度の見直しについて（試案）」の資料をお送りします。\n"
                                    "資料番号：%d\n受付日：2015年5月%d日\nご確認ください。\n";

/* fp_of - fingerprint of one message built from parts */
static void fp_of(const char *charset, const char *name, int num, const char *subject, char out[65])
{
	const char *ov[] = {"domains.protected=example.com"};
	mw_config *c = cfg_with(ov, 1);
	char body[2048], raw[4096];
	mime_limits lim;
	mime_parser *p;
	mw_result res;
	mw_env env;
	mw_scan s;
	char *enc;

	snprintf(body, sizeof(body), campaign_body, name, num, num % 28 + 1);
	enc = strcmp(charset, "iso-2022-jp") == 0 ? to_jis(body) : x_strdup(body);
	snprintf(raw, sizeof(raw),
	         "From: a@yahoo.co.jp\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
	         "Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n%s",
	         subject, charset, strcmp(charset, "iso-2022-jp") == 0 ? "7bit" : "8bit", enc);
	mime_limits_default(&lim);
	p = mime_parser_new(&lim, NULL);
	assert_int_equal(mime_parser_feed(p, raw, strlen(raw)), 0);
	assert_int_equal(mime_parser_finish(p), 0);
	memset(&s, 0, sizeof(s));
	memset(&env, 0, sizeof(env));
	memset(&res, 0, sizeof(res));
	env.cfg = c;
	s.env = &env;
	s.mime = p;
	s.res = &res;
	sender_fingerprint(&s, out);
	mime_parser_free(p);
	x_free(enc);
	config_unref(c);
}

static void test_fingerprint_stability(void **state)
{
	/* "=?ISO-2022-JP?B?...?=" and UTF-8 Q subjects with the same text */
	/* 資料ご確認, in ISO-2022-JP and in UTF-8 */
	const char *subj_jis = "=?ISO-2022-JP?B?GyRCO3FOQSQ0M05HJxsoQg==?=";
	const char *subj_utf = "=?UTF-8?B?6LOH5paZ44GU56K66KqN?=";
	char a[65], b[65], c2[65], d[65], e[65], f[65];

	(void)state;
	fp_of("iso-2022-jp", "山田 太郎", 1023, subj_jis, a);
	fp_of("utf-8", "佐藤花子", 2044, subj_jis, b);
	fp_of("iso-2022-jp", "鈴木", 77, subj_jis, c2);
	assert_true(strlen(a) == 64);
	assert_string_equal(a, b);
	assert_string_equal(a, c2);
	fp_of("utf-8", "伊藤 美咲", 31, subj_utf, d);
	assert_string_equal(a, d); /* same text, other encoding of the subject too */
	fp_of("utf-8", "田中", 5, "Quarterly minutes", e);
	assert_string_not_equal(a, e); /* another subject: another campaign */
	fp_of("utf-8", "田中", 5, "=?UTF-8?B?6KuL5rGC5pu4?=", f);
	assert_string_not_equal(a, f);
	assert_string_not_equal(e, f);
}

/* The RCPT path with a real store: the 6th distinct recipient is refused
 * and the sender blocked; the allow list bypasses free-mail and fan-out. */
static void test_rcpt_fanout_and_blocks(void **state)
{
	const char *ov[] = {"domains.protected=example.com", "domains.public=info@example.com",
	                    "actions.sender.freemail=tag", "sender.fanout_threshold=5"};
	char dir[] = "/tmp/mw_sender_test.XXXXXX", err[512], rcpt[64], cmd[600];
	mw_config *c = cfg_with(ov, 4);
	mw_lists *l = lists_std();
	store_limits lim = {100000, 2000};
	mw_store *st;
	mw_env env;
	mw_verdict v;
	store_block b;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	if (store_open(dir, &lim, &st, err, sizeof(err)) < 0)
		fail_msg("store: %s", err);
	memset(&env, 0, sizeof(env));
	env.cfg = c;
	env.lists = l;
	env.store = st;
	env.store_required = 1;
	env.now = 1000000;
	for (i = 1; i <= 5; i++) {
		snprintf(rcpt, sizeof(rcpt), "staff%d@example.com", i);
		engine_rcpt(&env, "kanri@yahoo.co.jp", rcpt, "Q1", &v);
		if (v.action != MW_TAG || !verdict_has(&v, "sender.freemail"))
			fail_msg("rcpt %d: got %s, want tag with sender.freemail", i, action_name(v.action));
	}
	/* the same recipient again does not count twice */
	engine_rcpt(&env, "kanri@yahoo.co.jp", "staff5@example.com", "Q1", &v);
	assert_int_equal(v.action, MW_TAG);
	engine_rcpt(&env, "kanri@yahoo.co.jp", "staff6@example.com", "Q2", &v);
	assert_int_equal(v.action, MW_REJECT);
	assert_true(verdict_has(&v, "sender.fanout"));
	assert_int_equal(store_block_find(st, "sender", "kanri@yahoo.co.jp", env.now, &b), 1);
	assert_string_equal(b.code, "sender.fanout");
	assert_string_equal(b.source, "Q2");
	/* from now on even a known recipient is refused: blocked */
	engine_rcpt(&env, "kanri@yahoo.co.jp", "staff1@example.com", NULL, &v);
	assert_int_equal(v.action, MW_REJECT);
	assert_true(verdict_has(&v, "sender.blocked"));
	/* ...until the block expires (24 h default) */
	env.now += 25 * 3600;
	engine_rcpt(&env, "kanri@yahoo.co.jp", "staff1@example.com", NULL, &v);
	assert_int_equal(v.action, MW_TAG);
	/* a public address is not refused for free-mail */
	engine_rcpt(&env, "other@gmail.com", "info@example.com", NULL, &v);
	assert_int_equal(v.action, MW_ACCEPT);
	/* the allow list lets a correspondent through */
	engine_rcpt(&env, "friend@gmail.com", "staff1@example.com", NULL, &v);
	assert_int_equal(v.action, MW_ACCEPT);
	/* a manual domain block catches sub-domains' senders via the registrable domain */
	memset(&b, 0, sizeof(b));
	strcpy(b.kind, "domain");
	strcpy(b.value, "bad.example");
	strcpy(b.code, "manual");
	b.created = env.now;
	assert_int_equal(store_block_add(st, &b), 0);
	engine_rcpt(&env, "x@mx1.bad.example", "staff1@example.com", NULL, &v);
	assert_int_equal(v.action, MW_REJECT);
	assert_true(verdict_has(&v, "sender.blocked"));
	/* internal senders are not counted or refused */
	engine_rcpt(&env, "boss@example.com", "staff9@example.com", NULL, &v);
	assert_int_equal(v.action, MW_ACCEPT);
	store_close(st);
	/* a required store that is missing means tempfail */
	env.store = NULL;
	engine_rcpt(&env, "x@gmail.com", "staff1@example.com", NULL, &v);
	assert_int_equal(v.action, MW_TEMPFAIL);
	assert_true(verdict_has(&v, "store.unavailable"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	lists_unref(l);
	config_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rcpt_class),
	    cmocka_unit_test(test_freemail_match),
	    cmocka_unit_test(test_parse_mailbox),
	    cmocka_unit_test(test_skeleton),
	    cmocka_unit_test(test_fingerprint_stability),
	    cmocka_unit_test(test_rcpt_fanout_and_blocks),
	};
	return cmocka_run_group_tests_name("sender", tests, NULL, NULL);
}
