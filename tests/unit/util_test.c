/*
 * util_test.c - spool (memory then disk), bounded buffers, JSON strings,
 * printable copies of untrusted text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/spool.h"
#include "util/hash.h"
#include "util/util.h"

static void test_spool_stays_in_memory(void **state)
{
	mw_spool *s = spool_new(100, NULL);
	char out[16];

	(void)state;
	assert_int_equal(spool_write(s, "hello ", 6), 0);
	assert_int_equal(spool_write(s, "world", 5), 0);
	assert_non_null(spool_mem(s));
	assert_int_equal(spool_fd(s), -1);
	assert_int_equal(spool_size(s), 11);
	assert_int_equal(spool_pread(s, out, 5, 6), 5);
	assert_memory_equal(out, "world", 5);
	spool_free(s);
}

static void test_spool_spills(void **state)
{
	mw_spool *s = spool_new(1000, NULL);
	char chunk[300], out[300];
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		assert_int_equal(spool_write(s, chunk, sizeof(chunk)), 0);
	}
	assert_null(spool_mem(s));
	assert_true(spool_fd(s) >= 0);
	assert_int_equal(spool_size(s), 3000);
	/* data written before the spill is preserved */
	assert_int_equal(spool_pread(s, out, 300, 0), 300);
	assert_int_equal(out[0], 'a');
	assert_int_equal(out[299], 'a');
	assert_int_equal(spool_pread(s, out, 300, 2700), 300);
	assert_int_equal(out[0], 'j');
	assert_int_equal(spool_pread(s, out, 300, 2900), 100);
	spool_free(s);
}

static void test_spool_bad_dir(void **state)
{
	mw_spool *s = spool_new(4, "/nonexistent/dir");

	(void)state;
	assert_int_equal(spool_write(s, "abc", 3), 0);
	assert_int_equal(spool_write(s, "defgh", 5), -1);
	spool_free(s);
}

static void test_buf_cap(void **state)
{
	mw_buf b;

	(void)state;
	buf_init(&b, 8);
	buf_puts(&b, "12345");
	buf_puts(&b, "67890");
	assert_int_equal(b.len, 8);
	assert_string_equal(b.p, "12345678");
	assert_true(b.truncated);
	buf_free(&b);
}

typedef struct json_case {
	const char *in;
	size_t len;
	const char *want;
} json_case;

/* test_json_str - escapes, UTF-8 kept, anything else U+FFFD (0xf5..0xff never start a sequence) */
static void test_json_str(void **state)
{
	static const json_case cases[] = {
	    {"plain", 5, "\"plain\""},
	    {"q\"b\\", 4, "\"q\\\"b\\\\\""},
	    {"a\nb\x01", 4, "\"a\\nb\\u0001\""},
	    {"\xe6\x97\xa5\xe6\x9c\xac", 6, "\"\xe6\x97\xa5\xe6\x9c\xac\""},
	    {"bad\xff", 4, "\"bad\\ufffd\""},
	    {"cut\xe6\x97", 5, "\"cut\\ufffd\\ufffd\""},
	    {"nul\0x", 5, "\"nul\\u0000x\""},
	    {"\xff\x80\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""},
	    {"\xf8\x88\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		mw_buf b;
		buf_init(&b, 0);
		buf_json_str(&b, cases[i].in, cases[i].len);
		if (strcmp(b.p, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, b.p, cases[i].want);
		buf_free(&b);
	}
}

static void test_printable(void **state)
{
	char out[16];

	(void)state;
	mw_printable(out, sizeof(out), "ab\r\ncd", 100, 0);
	assert_string_equal(out, "ab??cd");
	mw_printable(out, sizeof(out), "0123456789abcdefghij", 100, 0);
	assert_string_equal(out, "0123456789ab...");
	mw_printable(out, sizeof(out), "\xe6\x97\xa5", 100, 0);
	assert_string_equal(out, "???");
	mw_printable(out, sizeof(out), "\xe6\x97\xa5", 100, 1);
	assert_string_equal(out, "\xe6\x97\xa5");
}

/* SipHash-2-4 against the specification's test vectors (key 00..0f,
 * messages 00..len-1), one-shot and fed in uneven pieces */
static void test_siphash_vectors(void **state)
{
	unsigned char key[16], msg[64];
	mw_siphash h;
	size_t i;

	for (i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	assert_true(mw_siphash64(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(mw_siphash64(key, msg, 1) == 0x74f839c593dc67fdULL);
	assert_true(mw_siphash64(key, msg, 8) == 0x93f5f5799a932462ULL);
	assert_true(mw_siphash64(key, msg, 15) == 0xa129ca6149be45e5ULL);
	assert_true(mw_siphash64(key, msg, 63) == 0x958a324ceb064572ULL);
	mw_siphash_init(&h, key);
	for (i = 0; i < 63; i += 5)
		mw_siphash_update(&h, msg + i, i + 5 <= 63 ? 5 : 63 - i);
	assert_true(mw_siphash_final(&h) == 0x958a324ceb064572ULL);
	key[0] ^= 1; /* another key, another value */
	assert_true(mw_siphash64(key, msg, 15) != 0xa129ca6149be45e5ULL);
}

static void test_parse_when(void **state)
{
	time_t t, now = time(NULL);

	(void)state;
	assert_int_equal(mw_parse_when(NULL, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(mw_parse_when("30m", &t), 0);
	assert_true(t <= now - 1800 && t >= now - 1810);
	assert_int_equal(mw_parse_when("7d", &t), 0);
	assert_true(t <= now - 7 * 86400 && t >= now - 7 * 86400 - 10);
	assert_int_equal(mw_parse_when("2026-11-22", &t), 0);
	assert_int_equal(mw_parse_when("2026-11-22T10:30", &t), 0);
	assert_int_equal(mw_parse_when("yesterday", &t), -1);
	assert_int_equal(mw_parse_when("30x", &t), -1);
	assert_int_equal(mw_parse_when("m", &t), -1);
	assert_int_equal(mw_parse_when("2026-13-45", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spool_stays_in_memory),
	    cmocka_unit_test(test_spool_spills),
	    cmocka_unit_test(test_spool_bad_dir),
	    cmocka_unit_test(test_buf_cap),
	    cmocka_unit_test(test_json_str),
	    cmocka_unit_test(test_printable),
	    cmocka_unit_test(test_parse_when),
	    cmocka_unit_test(test_siphash_vectors),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
