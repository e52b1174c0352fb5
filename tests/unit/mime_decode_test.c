/*
 * NAME
 *	mime_decode_test - base64, quoted-printable, RFC 2047, RFC 2231, charsets
 * SYNOPSIS
 *	build/tests/mime_decode_test
 * DESCRIPTION
 *	Tables of named cases; each failure prints "case: got X, want Y".
 *	Streaming decoders are also checked at every split point.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mime/mime_decode.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

static int failures;

/* check_eq - compare bytes, report "got X, want Y" */
static void check_eq(const char *name, const char *got, size_t glen, const char *want, size_t wlen)
{
	if (glen != wlen || memcmp(got, want, glen) != 0) {
		print_error("%s: got \"%.*s\" (%zu), want \"%.*s\" (%zu)\n", name, (int)glen, got, glen, (int)wlen,
		            want, wlen);
		failures++;
	}
}

/* ---- base64 ---- */

static const struct {
	const char *name, *in, *want;
	size_t wlen;
	int bad;
} b64_cases[] = {
    {"b64 plain", "SGVsbG8gd29ybGQ=", "Hello world", 11, 0},
    {"b64 no padding", "SGVsbG8gd29ybGQ", "Hello world", 11, 0},
    {"b64 line breaks", "SGVs\r\nbG8g\nd29y bGQ=\r\n", "Hello world", 11, 0},
    {"b64 garbage skipped", "SGVs!!bG8g*d29y~bGQ=", "Hello world", 11, 1},
    {"b64 nul byte", "QU\0JD", "ABC", 3, 1},
    {"b64 concatenated blocks", "QQ==QkM=", "ABC", 3, 0},
    {"b64 binary", "AAEC/w==", "\x00\x01\x02\xff", 4, 0},
    {"b64 lone sextet", "QUJDR", "ABC", 3, 1},
    {"b64 empty", "", "", 0, 0},
    {"b64 url-safe chars are garbage", "-_-_", "", 0, 1},
};

/* b64_all - decode in two pieces split at cut */
static size_t b64_split(const char *in, size_t len, size_t cut, unsigned char *out, size_t *bad)
{
	mime_b64 st;
	size_t n;

	mime_b64_init(&st);
	n = mime_b64_decode(&st, in, cut, out);
	n += mime_b64_decode(&st, in + cut, len - cut, out + n);
	n += mime_b64_finish(&st, out + n);
	*bad = st.bad;
	return n;
}

static void test_b64(void **state)
{
	size_t i, cut;

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(b64_cases); i++) {
		size_t len = strcmp(b64_cases[i].name, "b64 nul byte") == 0 ? 6 : strlen(b64_cases[i].in);
		unsigned char out[128];
		char name[96];

		for (cut = 0; cut <= len; cut++) {
			size_t bad, n = b64_split(b64_cases[i].in, len, cut, out, &bad);

			snprintf(name, sizeof(name), "%s (split at %zu)", b64_cases[i].name, cut);
			check_eq(name, (char *)out, n, b64_cases[i].want, b64_cases[i].wlen);
			if ((bad > 0) != b64_cases[i].bad) {
				print_error("%s: got bad=%zu, want %s\n", name, bad, b64_cases[i].bad ? ">0" : "0");
				failures++;
			}
		}
	}
	assert_int_equal(failures, 0);
}

/* ---- quoted-printable ---- */

static const struct {
	const char *name, *in, *want;
	int bad;
} qp_cases[] = {
    {"qp plain", "abc", "abc", 0},
    {"qp hex", "caf=C3=A9", "caf\xc3\xa9", 0},
    {"qp lower hex", "=e3=81=82", "\xe3\x81\x82", 0},
    {"qp soft break LF", "long=\nline", "longline", 0},
    {"qp soft break CRLF", "long=\r\nline", "longline", 0},
    {"qp soft break with trailing ws", "long= \t\r\nline", "longline", 0},
    {"qp hard break kept", "a\r\nb\nc", "a\r\nb\nc", 0},
    {"qp trailing ws dropped", "a  \r\nb\t\n", "a\r\nb\n", 0},
    {"qp inner ws kept", "a  b", "a  b", 0},
    {"qp invalid =ZZ", "x=ZZy", "x=ZZy", 1},
    {"qp invalid =A", "x=Ag", "x=Ag", 1},
    {"qp = space text", "a= b", "a= b", 1},
    {"qp final =", "abc=", "abc", 0},
    {"qp final =A", "abc=A", "abc=A", 1},
    {"qp equals sign", "1+1=3D2", "1+1=2", 0},
    {"qp CR CR LF is one line end", "a\r\r\nb", "a\r\nb", 0},
    {"qp = CR CR LF is a soft break", "long=\r\r\nline", "longline", 0},
    {"qp lone CR kept", "a\rb\r", "a\rb\r", 0},
    {"qp three CRs before LF: only a doubled CR is folded", "a\r\r\r\nb", "a\r\r\r\nb", 0},
    {"qp CR then space kept", "a\r b", "a\r b", 0},
};

static void test_qp(void **state)
{
	size_t i, cut;

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(qp_cases); i++) {
		const char *in = qp_cases[i].in;
		size_t len = strlen(in);

		for (cut = 0; cut <= len; cut++) {
			unsigned char out[256];
			char name[96];
			mime_qp st;
			size_t n;

			mime_qp_init(&st);
			n = mime_qp_decode(&st, in, cut, out);
			n += mime_qp_decode(&st, in + cut, len - cut, out + n);
			n += mime_qp_finish(&st, out + n);
			snprintf(name, sizeof(name), "%s (split at %zu)", qp_cases[i].name, cut);
			check_eq(name, (char *)out, n, qp_cases[i].want, strlen(qp_cases[i].want));
			if ((st.bad > 0) != qp_cases[i].bad) {
				print_error("%s: got bad=%zu\n", name, st.bad);
				failures++;
			}
		}
	}
	assert_int_equal(failures, 0);
}

/* ---- charsets ---- */

static const struct {
	const char *name, *cs, *in, *want;
	int bad;
} cs_cases[] = {
    {"utf-8 valid", "utf-8", "\xe6\x97\xa5\xe6\x9c\xac", "日本", 0},
    {"utf-8 invalid byte", "UTF-8", "a\xffz", "a\xef\xbf\xbdz", 1},
    {"utf-8 overlong", "utf-8", "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", 1},
    {"iso-2022-jp", "ISO-2022-JP", "\x1b$BF|K\\\x1b(B", "日本", 0},
    {"iso-2022-jp NEC circled digit", "iso-2022-jp", "\x1b$B-!\x1b(B1", "①1", 0},
    {"iso-2022-jp half-width kana", "iso-2022-jp", "\x1b(I1\x1b(B", "ｱ", 0},
    {"shift_jis as cp932", "Shift_JIS", "\x93\xfa\x96\x7b\x87\x40", "日本①", 0},
    {"sjis wave dash", "shift_jis", "\x81\x60", "～", 0},
    {"euc-jp", "EUC-JP", "\xc6\xfc\xcb\xdc", "日本", 0},
    {"euc-jp-ms fallback", "euc-jp", "\xad\xa1", "①", 0},
    {"iso-8859-1", "iso-8859-1", "caf\xe9", "café", 0},
    {"windows-1252 euro", "windows-1252", "\x80", "€", 0},
    {"us-ascii", "us-ascii", "plain", "plain", 0},
    {"us-ascii lying utf-8", "us-ascii", "caf\xc3\xa9", "café", 0},
    {"unknown charset utf-8", "x-no-such-charset", "\xe6\x97\xa5", "日", 0},
    {"unknown charset garbage", "x-no-such-charset", "a\xff", "a\xef\xbf\xbd", 1},
    {"no charset sjis guess", NULL, "\x93\xfa\x96\x7b", "日本", 0},
    {"no charset jis guess", NULL, "\x1b$BF|\x1b(B", "日", 0},
    {"charset name injection", "utf-8//TRANSLIT", "\xe6\x97\xa5", "日", 0},
};

static void test_charset(void **state)
{
	size_t i;

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(cs_cases); i++) {
		size_t n, bad;
		char *s = mime_charset_to_utf8(cs_cases[i].cs, cs_cases[i].in, strlen(cs_cases[i].in), 1000, &n, &bad);

		check_eq(cs_cases[i].name, s, n, cs_cases[i].want, strlen(cs_cases[i].want));
		if ((bad > 0) != cs_cases[i].bad) {
			print_error("%s: got bad=%zu\n", cs_cases[i].name, bad);
			failures++;
		}
		x_free(s);
	}
	assert_int_equal(failures, 0);
}

static void test_charset_bound(void **state)
{
	size_t n;
	char *s;

	(void)state;
	/* 3-byte characters, max 7: two characters, never half of one. */
	s = mime_charset_to_utf8("utf-8", "日本語", 9, 7, &n, NULL);
	assert_int_equal(n, 6);
	assert_string_equal(s, "日本");
	x_free(s);
	s = mime_charset_to_utf8("iso-2022-jp", "\x1b$BF|K\\8l\x1b(B", 11, 4, &n, NULL);
	assert_int_equal(n, 3);
	x_free(s);
	s = mime_charset_to_utf8("shift_jis", "\x93\xfa\x96\x7b", 4, 0, &n, NULL);
	assert_int_equal(n, 0);
	assert_string_equal(s, "");
	x_free(s);
	assert_true(mime_charset_known("EUC-JP"));
	assert_false(mime_charset_known("x-nonsense"));
}

/* ---- RFC 2047 ---- */

static const struct {
	const char *name, *in, *want;
} ew_cases[] = {
    {"2047 plain", "Hello world", "Hello world"},
    {"2047 B utf-8", "=?UTF-8?B?5pel5pys?=", "日本"},
    {"2047 Q utf-8", "=?utf-8?q?caf=C3=A9_ok?=", "café ok"},
    {"2047 iso-2022-jp", "=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=", "日本"},
    {"2047 shift_jis", "=?Shift_JIS?B?k/qWew==?=", "日本"},
    {"2047 euc-jp", "=?EUC-JP?B?xvzL3A==?=", "日本"},
    {"2047 adjacent words ws dropped", "=?UTF-8?Q?a?= \t =?UTF-8?Q?b?=", "ab"},
    {"2047 text between kept", "=?UTF-8?Q?a?= x =?UTF-8?Q?b?=", "a x b"},
    {"2047 split utf-8 char joined", "=?UTF-8?B?5pe=?= =?UTF-8?B?pQ==?=", "日"},
    {"2047 folded words", "=?ISO-2022-JP?B?GyRCRnwbKEI=?=\r\n =?ISO-2022-JP?B?GyRCS1wbKEI=?=", "日本"},
    {"2047 malformed left literal", "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
    {"2047 unterminated", "=?UTF-8?B?5pel", "=?UTF-8?B?5pel"},
    {"2047 language suffix", "=?UTF-8*ja?B?5pel?=", "日"},
    {"2047 inside word", "Re:=?UTF-8?B?5pel?=!", "Re:日!"},
    {"2047 nul becomes fffd", "=?UTF-8?Q?a=00b?=",
     "a\xef\xbf\xbd"
     "b"},
    {"2047 raw jis in header", "\x1b$BF|K\\\x1b(B test", "日本 test"},
    {"2047 raw utf-8", "caf\xc3\xa9", "café"},
    {"2047 unknown charset", "=?x-unknown?Q?abc?=", "abc"},
    {"2047 empty charset", "=??Q?abc?=", "=??Q?abc?="},
};

static void test_rfc2047(void **state)
{
	size_t i;

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(ew_cases); i++) {
		size_t n;
		char *s = mime_rfc2047_decode(ew_cases[i].in, strlen(ew_cases[i].in), 1000, &n, NULL);

		check_eq(ew_cases[i].name, s, n, ew_cases[i].want, strlen(ew_cases[i].want));
		x_free(s);
	}
	assert_int_equal(failures, 0);
}

/* ---- RFC 2231 parameters ---- */

static const struct {
	const char *name, *value, *param, *want;
} param_cases[] = {
    {"param token", "attachment; filename=a.pdf", "filename", "a.pdf"},
    {"param quoted", "attachment; filename=\"my file.pdf\"", "filename", "my file.pdf"},
    {"param quoted escape", "attachment; filename=\"a\\\"b.txt\"", "filename", "a\"b.txt"},
    {"param unquoted with space", "attachment; filename=my file.pdf ; size=3", "filename", "my file.pdf"},
    {"param case-insensitive", "attachment; FileName=A.PDF", "filename", "A.PDF"},
    {"param absent", "attachment", "filename", NULL},
    {"2231 ext utf-8", "attachment; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt", "filename", "日本.txt"},
    {"2231 ext sjis lang", "attachment; filename*=shift_jis'ja'%8C%A9%90%CF.xls", "filename", "見積.xls"},
    {"2231 continuations", "attachment; filename*0=\"abc\"; filename*1=\"def.txt\"", "filename", "abcdef.txt"},
    {"2231 continuations ext", "attachment; filename*0*=UTF-8''%E6%97; filename*1*=%A5.txt", "filename", "日.txt"},
    {"2231 mixed sections", "a; filename*1=\"-2.txt\"; filename*0*=UTF-8''%E6%97%A5", "filename", "日-2.txt"},
    {"2231 gap stops", "a; filename*0=\"a\"; filename*2=\"c\"", "filename", "a"},
    {"2231 ext preferred", "a; filename=\"plain.txt\"; filename*=UTF-8''ext.txt", "filename", "ext.txt"},
    {"2231 iso-2022-jp", "a; filename*=iso-2022-jp''%1B%24BF%7CK%5C%1B%28B.doc", "filename", "日本.doc"},
    {"2231 percent nul", "a; filename*=UTF-8''evil.exe%00.txt", "filename", "evil.exe\xef\xbf\xbd.txt"},
    {"2231 no quotes in ext", "a; filename*=abc.txt", "filename", "abc.txt"},
    {"2047 in quoted filename", "attachment; filename=\"=?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=.pdf\"", "filename",
     "日本.pdf"},
    {"2047 in name split", "application/octet-stream; name=\"=?UTF-8?B?5pel?= =?UTF-8?B?5pys?=\"", "name", "日本"},
    {"raw sjis filename", "a; filename=\"\x93\xfa\x96\x7b.txt\"", "filename", "日本.txt"},
    {"full-width space kept", "a; filename*=UTF-8''report%E3%80%80%E3%80%80.exe", "filename",
     "report\xe3\x80\x80\xe3\x80\x80.exe"},
};

static void test_rfc2231(void **state)
{
	size_t i;

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(param_cases); i++) {
		const char *v = param_cases[i].value;
		char *s = mime_param_get(v, strlen(v), param_cases[i].param, 1000, NULL);

		if (param_cases[i].want == NULL || s == NULL) {
			if (s != NULL || param_cases[i].want != NULL) {
				print_error("%s: got %s, want %s\n", param_cases[i].name, s ? s : "NULL",
				            param_cases[i].want ? param_cases[i].want : "NULL");
				failures++;
			}
		} else {
			check_eq(param_cases[i].name, s, strlen(s), param_cases[i].want, strlen(param_cases[i].want));
		}
		x_free(s);
	}
	assert_int_equal(failures, 0);
}

static void test_param_raw(void **state)
{
	const char *v = "multipart/mixed; charset=x; boundary=\"----=_Part_1\"; x=\"y;z\"";
	char *s;

	(void)state;
	s = mime_param_raw(v, strlen(v), "boundary", 100);
	assert_string_equal(s, "----=_Part_1");
	x_free(s);
	s = mime_param_raw(v, strlen(v), "x", 100);
	assert_string_equal(s, "y;z");
	x_free(s);
	s = mime_param_raw(v, strlen(v), "boundary", 4);
	assert_string_equal(s, "----");
	x_free(s);
	assert_null(mime_param_raw(v, strlen(v), "nope", 100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64),           cmocka_unit_test(test_qp),      cmocka_unit_test(test_charset),
	    cmocka_unit_test(test_charset_bound), cmocka_unit_test(test_rfc2047), cmocka_unit_test(test_rfc2231),
	    cmocka_unit_test(test_param_raw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
