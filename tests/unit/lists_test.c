/*
 * lists_test.c - named lists: domain and sub-domain matching, addresses,
 * files with comments and errors, clone/remove for run-time edits.
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

#include "policy/lists.h"
#include "util/util.h"

typedef struct match_case {
	const char *list, *query, *want; /* want NULL: no match */
} match_case;

static void test_matching(void **state)
{
	mw_lists *l = lists_new();
	static const match_case cases[] = {
	    {"freemail", "yahoo.co.jp", "yahoo.co.jp"},
	    {"freemail", "mail.yahoo.co.jp", "yahoo.co.jp"},
	    {"freemail", "co.jp", NULL},
	    {"freemail", "notyahoo.co.jp", NULL},
	    {"freemail", "docomo.ne.jp", "docomo.ne.jp"},
	    {"storage", "drive.google.com", "drive.google.com"},
	    {"storage", "x.drive.google.com", "drive.google.com"},
	    {"storage", "google.com", NULL},
	    {"nosuchlist", "yahoo.co.jp", NULL},
	};
	size_t i;

	(void)state;
	assert_int_equal(lists_add(l, "freemail", "Yahoo.CO.JP"), 0);
	assert_int_equal(lists_add(l, "freemail", ".docomo.ne.jp"), 0);
	assert_int_equal(lists_add(l, "storage", "drive.google.com"), 0);
	assert_int_equal(lists_add(l, "freemail", "bad entry"), -1);
	assert_int_equal(lists_add(l, "Bad-Name", "x.example"), -1);
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		const char *got = lists_match_domain(l, cases[i].list, cases[i].query);
		if ((got == NULL) != (cases[i].want == NULL) || (got && strcmp(got, cases[i].want) != 0))
			fail_msg("%s %s: got %s, want %s", cases[i].list, cases[i].query, got ? got : "(none)",
			         cases[i].want ? cases[i].want : "(none)");
	}
	lists_unref(l);
}

static void test_addresses(void **state)
{
	mw_lists *l = lists_new();

	(void)state;
	lists_add(l, "allow", "Partner@Example.NET");
	lists_add(l, "allow", "trusted.example");
	assert_string_equal(lists_match_addr(l, "allow", "partner@example.net"), "partner@example.net");
	assert_null(lists_match_addr(l, "allow", "other@example.net"));
	assert_string_equal(lists_match_addr(l, "allow", "anyone@mx.trusted.example"), "trusted.example");
	lists_unref(l);
}

static void test_clone_and_remove(void **state)
{
	mw_lists *a = lists_new(), *b;

	(void)state;
	lists_add(a, "link_block", "evil.example");
	b = lists_clone(a);
	assert_int_equal(lists_remove(b, "link_block", "evil.example"), 0);
	assert_int_equal(lists_remove(b, "link_block", "evil.example"), 1);
	assert_non_null(lists_match_domain(a, "link_block", "cc.evil.example"));
	assert_null(lists_match_domain(b, "link_block", "cc.evil.example"));
	lists_unref(a);
	lists_unref(b);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/mw_lists_test.XXXXXX", path[600], err[512];
	mw_lists *l = lists_new();
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/freemail.txt", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("# Japanese providers\nyahoo.co.jp   # Yahoo! JAPAN\n\n  gmail.com\n", fp);
	fclose(fp);
	assert_int_equal(lists_load_dir(l, dir, err, sizeof(err)), 0);
	assert_int_equal(lists_count(l, "freemail"), 2);
	assert_string_equal(lists_entry(l, "freemail", 0), "gmail.com");
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("ok.example\nbad entry here\n", fp);
	fclose(fp);
	assert_int_equal(lists_load_file(l, "freemail", path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "freemail.txt:2:"));
	unlink(path);
	rmdir(dir);
	lists_unref(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matching),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_clone_and_remove),
	    cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests_name("lists", tests, NULL, NULL);
}
