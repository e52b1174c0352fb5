/*
 * policy_test.c - configuration loading, validation and code->action policy.
 * Table-driven: each case names a config text and the expected result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "verdict/verdict.h"
#include "policy/policy.h"
#include "util/util.h"

static char *write_tmp(const char *text)
{
	char *path = x_strdup("/tmp/mw_policy_test.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

typedef struct bad_case {
	const char *name;
	const char *text;
	const char *want_err; /* substring of the error */
} bad_case;

static const bad_case bad_cases[] = {
    {"unknown key", "[limits]\nmax_mime_dept = 3\n", ":2: [limits] max_mime_dept: unknown key"},
    {"unknown section", "[limitz]\nx = 1\n", ":2: [limitz]: unknown section"},
    {"not a number", "[limits]\nmax_mime_parts = lots\n",
     ":2: [limits] max_mime_parts: \"lots\" is not a valid number"},
    {"out of range", "[limits]\nmax_mime_depth = 0\n", "out of range 1..1000"},
    {"bad size suffix", "[limits]\nmax_message_size = 10Q\n", "is not a valid size"},
    {"unknown code", "[actions]\nav.nonsense = reject\n", "unknown reason code"},
    {"unknown action", "[actions]\nav.infected = explode\n", "is not an action"},
    {"syntax", "[daemon]\nthis line has no equals\n", ":2: syntax error"},
    {"error on later line", "# comment\n\n[paths]\nstate = /x\n[limits]\nmax_headers = -1\n", ":6:"},
};

static void test_bad_configs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(bad_cases); i++) {
		char err[512] = "";
		char *path = write_tmp(bad_cases[i].text);
		mw_config *c = NULL;
		int rc = config_load(path, NULL, 0, &c, err, sizeof(err));

		if (rc != -1 || strstr(err, bad_cases[i].want_err) == NULL || strstr(err, path) == NULL)
			fail_msg("case \"%s\": got rc=%d err=\"%s\", want -1 and \"%s\" with the file name",
			         bad_cases[i].name, rc, err, bad_cases[i].want_err);
		unlink(path);
		x_free(path);
	}
}

static void test_good_config_and_overrides(void **state)
{
	const char *text = "[daemon]\nsocket = inet:9999@127.0.0.1\n"
	                   "[domains]\nprotected = Example.COM, example.jp\npublic = info@example.com\n"
	                   "[limits]\nmax_message_size = 10M\nmax_mime_depth = 12\n"
	                   "[actions]\nmime.malformed = quarantine\n";
	const char *ov[] = {"limits.max_mime_parts=77", "actions.av.infected = quarantine"};
	char *path = write_tmp(text);
	char err[512] = "";
	mw_config *c = NULL;

	(void)state;
	assert_int_equal(config_load(path, ov, 2, &c, err, sizeof(err)), 0);
	assert_string_equal(c->socket, "inet:9999@127.0.0.1");
	assert_int_equal(c->lim.max_message_size, 10 * 1024 * 1024);
	assert_int_equal(c->lim.mime.max_depth, 12);
	assert_int_equal(c->lim.mime.max_parts, 77);
	assert_int_equal(c->protected_domains.n, 2);
	assert_string_equal(c->protected_domains.v[0], "example.com");
	assert_true(config_is_protected(c, "mail.example.com"));
	assert_true(config_is_protected(c, "example.jp"));
	assert_false(config_is_protected(c, "badexample.com"));
	assert_int_equal(config_action(c, "mime.malformed"), MW_QUARANTINE);
	assert_int_equal(config_action(c, "av.infected"), MW_QUARANTINE);
	assert_int_equal(config_action(c, "av.unavailable"), MW_TEMPFAIL);
	config_unref(c);
	unlink(path);
	x_free(path);
}

static void test_bad_override(void **state)
{
	const char *ov[] = {"limits.max_mime_depth"};
	char err[512] = "";
	mw_config *c = NULL;

	(void)state;
	assert_int_equal(config_load(NULL, ov, 1, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected section.key=value"));
}

static void test_defaults_match_tables(void **state)
{
	char err[512];
	mw_config *c = NULL;
	const mw_code_info *t;
	size_t i, n;

	(void)state;
	assert_int_equal(config_load(NULL, NULL, 0, &c, err, sizeof(err)), 0);
	assert_int_equal(c->lim.mime.max_depth, MIME_DEF_MAX_DEPTH);
	assert_int_equal(c->lim.mime.max_parts, MIME_DEF_MAX_PARTS);
	assert_int_equal(c->lim.mime.mem_part_max, MIME_DEF_MEM_PART_MAX);
	assert_int_equal(c->lim.mime.max_header_line, MIME_DEF_MAX_HEADER_LINE);
	assert_int_equal(c->lim.mime.max_headers, MIME_DEF_MAX_HEADERS);
	assert_int_equal(c->lim.mime.max_boundary, MIME_DEF_MAX_BOUNDARY);
	assert_int_equal(c->lim.mime.max_decoded, MIME_DEF_MAX_DECODED);
	t = reason_table(&n);
	for (i = 0; i < n; i++)
		assert_int_equal(config_action(c, t[i].code), t[i].def_action);
	config_unref(c);
}

/* The strongest action wins, after the configured mapping. */
static void test_strongest_action_wins(void **state)
{
	char err[512];
	mw_config *c = NULL;
	mw_verdict v;
	const char *ov[] = {"actions.mime.malformed=reject"};

	(void)state;
	assert_int_equal(config_load(NULL, NULL, 0, &c, err, sizeof(err)), 0);
	verdict_init(&v);
	verdict_add(&v, "mime.malformed", "1", "bad base64");
	config_apply_verdict(c, &v);
	assert_int_equal(v.action, MW_TAG);
	verdict_add(&v, "av.infected", "2", "Test.Sig");
	config_apply_verdict(c, &v);
	assert_int_equal(v.action, MW_REJECT);
	verdict_add(&v, "av.error", "", "boom");
	config_apply_verdict(c, &v);
	assert_int_equal(v.action, MW_TEMPFAIL);
	config_unref(c);

	assert_int_equal(config_load(NULL, ov, 1, &c, err, sizeof(err)), 0);
	verdict_init(&v);
	verdict_add(&v, "mime.malformed", "1", "bad base64");
	config_apply_verdict(c, &v);
	assert_int_equal(v.action, MW_REJECT);
	config_unref(c);
}

/* Reasons beyond the cap still count for the action. */
static void test_dropped_reasons_count(void **state)
{
	char err[512];
	mw_config *c = NULL;
	mw_verdict v;
	int i;

	(void)state;
	assert_int_equal(config_load(NULL, NULL, 0, &c, err, sizeof(err)), 0);
	verdict_init(&v);
	for (i = 0; i < MW_MAX_REASONS + 5; i++)
		verdict_add(&v, "mime.malformed", "1", "problem %d", i);
	verdict_add(&v, "av.infected", "9", "late");
	assert_int_equal(v.nreasons, MW_MAX_REASONS);
	assert_int_equal(v.dropped, 6);
	config_apply_verdict(c, &v);
	assert_int_equal(v.action, MW_REJECT);
	config_unref(c);
}

static void test_detail_is_sanitised(void **state)
{
	mw_verdict v;

	(void)state;
	verdict_init(&v);
	verdict_add(&v, "av.infected", "1\r\n", "Evil\r\nX-Injected: yes\"%s\"", "x");
	assert_null(strchr(v.reasons[0].detail, '\r'));
	assert_null(strchr(v.reasons[0].detail, '\n'));
	assert_null(strchr(v.reasons[0].detail, '"'));
	assert_null(strchr(v.reasons[0].part, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_configs),           cmocka_unit_test(test_good_config_and_overrides),
	    cmocka_unit_test(test_bad_override),          cmocka_unit_test(test_defaults_match_tables),
	    cmocka_unit_test(test_strongest_action_wins), cmocka_unit_test(test_dropped_reasons_count),
	    cmocka_unit_test(test_detail_is_sanitised),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
