/*
 * auth_test.c - the parts of sender authentication that need no DNS:
 * the authserv-id of received Authentication-Results (forgery
 * detection), our own A-R value (fields, quoting of what senders wrote,
 * cutting at whole results), address lists, the SPF record screen in
 * front of libspf2, client networks, TXT records out of answer packets,
 * names we ask about, the tracking summary and the [auth] keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "policy/policy.h"
#include "util/util.h"

static void test_authserv_id(void **state)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: none */
	} cases[] = {
	    {"mx.example.com; spf=pass smtp.mailfrom=a.example", "mx.example.com"},
	    {"  mx.example.com 1; none", "mx.example.com"},
	    {"(comment) mx.example.com; dkim=pass", "mx.example.com"},
	    {"(nested (comment) \\) here) mx.example.com;", "mx.example.com"},
	    {"\r\n\tmx.example.com;", "mx.example.com"},
	    {"\"mx.example.com\"; none", "mx.example.com"},
	    {"\"mx\\\"x\"; none", "mx\"x"},
	    {"mx.example.com", "mx.example.com"},
	    {"", NULL},
	    {"   ", NULL},
	    {"(unterminated comment mx.example.com;", NULL},
	    {"\"unterminated; none", NULL},
	    {"; spf=pass", NULL},
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = auth_ar_authserv_id(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		if (cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("case %zu \"%s\": got \"%s\", want none", i, cases[i].in, out);
		} else if (rc != 0 || strcmp(out, cases[i].want) != 0) {
			fail_msg("case %zu \"%s\": got %d \"%s\", want \"%s\"", i, cases[i].in, rc, out, cases[i].want);
		}
	}
	/* too long for the buffer: no id (never a prefix match) */
	assert_int_equal(auth_ar_authserv_id("mx.example.com;", 15, out, 5), -1);
	/* a NUL ends the value (fuzz_auth seed regress-nul-in-authserv-id) */
	assert_int_equal(auth_ar_authserv_id("\"\0abc\"; none", 12, out, sizeof(out)), -1);
	assert_int_equal(auth_ar_authserv_id("mx\0evil; none", 14, out, sizeof(out)), 0);
	assert_string_equal(out, "mx");
	/* bounded by len, not only by the NUL */
	assert_int_equal(auth_ar_authserv_id("mx.example.com;", 2, out, sizeof(out)), 0);
	assert_string_equal(out, "mx");
}

static void test_ar_is_ours(void **state)
{
	const char *v1 = "MX.Example.COM; dmarc=pass";
	const char *v2 = "mx.example.com.; dmarc=pass";
	const char *v3 = "mx.example.com.evil.test; dmarc=pass";
	const char *v4 = "(mx.example.com) other.example; dmarc=pass";

	assert_true(auth_ar_is_ours(v1, strlen(v1), "mx.example.com"));
	assert_true(auth_ar_is_ours(v2, strlen(v2), "mx.example.com"));
	assert_false(auth_ar_is_ours(v3, strlen(v3), "mx.example.com"));
	assert_false(auth_ar_is_ours(v4, strlen(v4), "mx.example.com"));
	assert_false(auth_ar_is_ours(v1, strlen(v1), ""));
}

static void test_ar_format(void **state)
{
	mw_auth_info a;
	char out[AUTH_HEADER_MAX], small[120];

	memset(&a, 0, sizeof(a));
	auth_ar_format(&a, "mx.test", out, sizeof(out));
	assert_string_equal(out, "mx.test; none");

	a.ran = 1;
	a.spf = AUTH_PASS;
	a.spf_helo = AUTH_NONE;
	strcpy(a.spf_domain, "sender.example");
	strcpy(a.helo, "mail.sender.example");
	strcpy(a.client, "192.0.2.1");
	a.nsigs = 2;
	strcpy(a.sigs[0].domain, "sender.example");
	strcpy(a.sigs[0].selector, "s1");
	strcpy(a.sigs[0].b, "AbCdEfGh");
	a.sigs[0].result = AUTH_PASS;
	strcpy(a.sigs[1].domain, "evil\"; dmarc=pass");
	strcpy(a.sigs[1].selector, "s2");
	a.sigs[1].result = AUTH_FAIL;
	strcpy(a.sigs[1].why, "body hash (mismatch)");
	a.dmarc = AUTH_PASS;
	a.dmarc_p = 'r';
	strcpy(a.from_domain, "sender.example");
	auth_ar_format(&a, "mx.test", out, sizeof(out));
	assert_string_equal(out, "mx.test;\n\tspf=pass smtp.mailfrom=sender.example;\n\t"
	                         "spf=none smtp.helo=mail.sender.example;\n\t"
	                         "dkim=pass header.d=sender.example header.s=s1 header.b=AbCdEfGh;\n\t"
	                         "dkim=fail (body hash ?mismatch?) header.d=\"evil\\\"; dmarc=pass\" header.s=s2;\n\t"
	                         "dmarc=pass (p=reject sp=reject) header.from=sender.example");

	/* a short buffer keeps whole results only */
	auth_ar_format(&a, "mx.test", small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_non_null(strstr(small, "smtp.helo=mail.sender.example"));
	assert_null(strstr(small, "dkim="));
}

static void test_mailboxes(void **state)
{
	auth_mailbox m[4];
	size_t n;

	n = auth_mailboxes("Tanaka Taro <Tanaka@Example.COM>", m, 4);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].addr, "tanaka@example.com");
	assert_string_equal(m[0].name, "Tanaka Taro");

	n = auth_mailboxes("\"Doe, John\" <j@a.example>, b@b.example (Bee), <c@c.example>", m, 4);
	assert_int_equal(n, 3);
	assert_string_equal(m[0].name, "Doe, John");
	assert_string_equal(m[0].addr, "j@a.example");
	assert_string_equal(m[1].addr, "b@b.example");
	assert_string_equal(m[1].name, "Bee");
	assert_string_equal(m[2].addr, "c@c.example");

	n = auth_mailboxes("Team: x@x.example, y@y.example;", m, 4);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].addr, "x@x.example");

	n = auth_mailboxes("undisclosed-recipients:;", m, 4);
	assert_int_equal(n, 0);
	n = auth_mailboxes("", m, 4);
	assert_int_equal(n, 0);
	n = auth_mailboxes("a@1.example, a@2.example, a@3.example, a@4.example, a@5.example", m, 4);
	assert_int_equal(n, 4);
	/* an address shown in the display name is not the address */
	n = auth_mailboxes("\"boss@example.com\" <x@evil.example>", m, 4);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].addr, "x@evil.example");
}

static void test_spf_record_safe(void **state)
{
	char longterm[300], many[600];
	size_t i;

	assert_true(auth_spf_record_safe("v=spf1 ip4:192.0.2.0/24 -all", 28));
	assert_true(auth_spf_record_safe("v=spf1 exists:%{i}._spf.%{d} -all", 33));
	memcpy(longterm, "v=spf1 exists:", 14);
	for (i = 14; i < 14 + 200; i++)
		longterm[i] = i % 10 == 0 ? '.' : 'x';
	memcpy(longterm + 214, "%{d} -all", 10);
	assert_false(auth_spf_record_safe(longterm, strlen(longterm)));
	/* long terms without macros are libspf2's business (no macro compiler) */
	memcpy(longterm + 214, "xxxx -all", 10);
	assert_true(auth_spf_record_safe(longterm, strlen(longterm)));
	strcpy(many, "v=spf1");
	for (i = 0; i < 20; i++)
		strcat(many, " exists:%{i}.a.example");
	assert_false(auth_spf_record_safe(many, strlen(many)));
	/* explanations (other TXT strings): macros only in short text */
	assert_true(auth_spf_record_safe("%{i} is not allowed to send for %{d}", 36));
	memset(many, 'a', 300);
	memcpy(many, "%{i}", 4);
	assert_false(auth_spf_record_safe(many, 300));
}

static void test_ip_in_list(void **state)
{
	char *nets[] = {"192.0.2.0/24", "10.1.0.0/16", "2001:db8::/32", "203.0.113.7", "198.51.100.0/23"};
	size_t n = sizeof(nets) / sizeof(nets[0]);

	assert_true(auth_ip_in_list("192.0.2.55", nets, n));
	assert_true(auth_ip_in_list("10.1.200.1", nets, n));
	assert_false(auth_ip_in_list("10.2.0.1", nets, n));
	assert_true(auth_ip_in_list("2001:db8:1::5", nets, n));
	assert_false(auth_ip_in_list("2001:db9::5", nets, n));
	assert_true(auth_ip_in_list("203.0.113.7", nets, n));
	assert_false(auth_ip_in_list("203.0.113.8", nets, n));
	assert_true(auth_ip_in_list("198.51.101.9", nets, n));
	assert_false(auth_ip_in_list("198.51.102.9", nets, n));
	assert_false(auth_ip_in_list("not-an-ip", nets, n));
	assert_false(auth_ip_in_list("", nets, n));
	assert_false(auth_ip_in_list("192.0.2.1", nets, 0));
}

/* a DNS answer: header, question, then the given answer records */
static size_t packet(unsigned char *p, const unsigned char *answers, size_t alen, int ancount)
{
	static const unsigned char head[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0};
	static const unsigned char q[] = {1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 16, 0, 1};
	size_t n = 0;

	memcpy(p, head, sizeof(head));
	p[7] = (unsigned char)ancount;
	n = sizeof(head);
	memcpy(p + n, q, sizeof(q));
	n += sizeof(q);
	memcpy(p + n, answers, alen);
	return n + alen;
}

static void test_dns_txt(void **state)
{
	/* name: pointer to the question (0xc00c) */
	static const unsigned char cname[] = {0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'b', 0xc0, 0x0e};
	/* strings "v=x", "y", "abc", "" */
	static const unsigned char txt[] = {0xc0, 0x0c, 0,   16,  0, 1,   0, 0,   0,   60,  0, 11,
	                                    3,    'v',  '=', 'x', 1, 'y', 3, 'a', 'b', 'c', 0};
	unsigned char buf[512], ans[128];
	char **v;
	size_t n, len;

	memcpy(ans, cname, sizeof(cname));
	memcpy(ans + sizeof(cname), txt, sizeof(txt));
	len = packet(buf, ans, sizeof(cname) + sizeof(txt), 2);
	v = auth_dns_txt(buf, len, &n);
	assert_non_null(v);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "v=xyabc"); /* strings joined, the empty one too */
	auth_dns_txt_free(v, n);
	/* a string length past the record: cut at the record */
	memcpy(ans, txt, sizeof(txt));
	ans[12] = 200;
	len = packet(buf, ans, sizeof(txt), 1);
	v = auth_dns_txt(buf, len, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "v=x\001y\003abc");
	auth_dns_txt_free(v, n);
	/* truncated packets and garbage: nothing */
	assert_null(auth_dns_txt(buf, 20, &n));
	assert_int_equal(n, 0);
	assert_null(auth_dns_txt((const unsigned char *)"garbage", 7, &n));
	assert_null(auth_dns_txt(NULL, 0, &n));
}

static void test_valid_name(void **state)
{
	char l64[80], n254[300];

	assert_true(auth_dns_valid_name("example.com"));
	assert_true(auth_dns_valid_name("example.com."));
	assert_true(auth_dns_valid_name("_dmarc.example.com"));
	assert_true(auth_dns_valid_name("xn--bcher-kva.example"));
	assert_false(auth_dns_valid_name(""));
	assert_false(auth_dns_valid_name("."));
	assert_false(auth_dns_valid_name("a..b"));
	assert_false(auth_dns_valid_name(".a"));
	assert_false(auth_dns_valid_name("a b.example"));
	assert_false(auth_dns_valid_name("a\\.b.example"));
	assert_false(auth_dns_valid_name("b\xc3\xbc"
	                                 "cher.example"));
	memset(l64, 'a', 64);
	strcpy(l64 + 64, ".example");
	assert_false(auth_dns_valid_name(l64));
	memset(n254, 'a', 254);
	for (size_t i = 10; i < 254; i += 10)
		n254[i] = '.';
	n254[254] = 0;
	assert_false(auth_dns_valid_name(n254));
	n254[253] = 0;
	assert_true(auth_dns_valid_name(n254));
}

static void test_summary(void **state)
{
	mw_auth_info a;

	memset(&a, 0, sizeof(a));
	assert_string_equal(auth_summary(&a), "");
	a.ran = 1;
	assert_string_equal(auth_summary(&a), "none");
	a.spf = AUTH_SOFTFAIL;
	assert_string_equal(auth_summary(&a), "fail");
	a.spf = AUTH_TEMPERROR;
	assert_string_equal(auth_summary(&a), "temperror");
	a.dmarc = AUTH_FAIL;
	assert_string_equal(auth_summary(&a), "fail");
	strcpy(a.authenticated, "sender.example");
	assert_string_equal(auth_summary(&a), "pass");
	memset(&a, 0, sizeof(a));
	a.ran = 1;
	a.spf = AUTH_PERMERROR;
	assert_string_equal(auth_summary(&a), "permerror");
	a.nsigs = 1;
	a.sigs[0].result = AUTH_FAIL;
	assert_string_equal(auth_summary(&a), "fail");
}

static void test_config_keys(void **state)
{
	const char *good[] = {"auth.enable=yes", "auth.resolver=127.0.0.1@22553",
	                      "auth.trusted_clients=10.0.0.0/8, ::1", "auth.trusted_forwarders=lists.example"};
	const char *bad[] = {"auth.trusted_clients=10.0.0.0/33"};
	const char *bad2[] = {"auth.trusted_clients=mail.example.com"};
	const char *bad3[] = {"auth.lookup_timeout=10"};
	const char *bad4[] = {"auth.resolver=dns.example.com"};
	const char *bad5[] = {"auth.resolver=127.0.0.1@99999"};
	const char *good2[] = {"auth.resolver=192.0.2.53, 2001:db8::53@5353"};
	char err[512];
	mw_config *c = NULL;

	assert_int_equal(config_load(NULL, good, 4, &c, err, sizeof(err)), 0);
	assert_int_equal(c->auth_enable, 1);
	assert_int_equal(c->auth_trusted_clients.n, 2);
	assert_true(auth_ip_in_list("::1", c->auth_trusted_clients.v, c->auth_trusted_clients.n));
	config_unref(c);
	assert_int_equal(config_load(NULL, bad, 1, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "trusted_clients"));
	assert_int_equal(config_load(NULL, bad2, 1, &c, err, sizeof(err)), -1);
	assert_int_equal(config_load(NULL, bad3, 1, &c, err, sizeof(err)), -1);
	assert_int_equal(config_load(NULL, bad4, 1, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[auth] resolver"));
	assert_int_equal(config_load(NULL, bad5, 1, &c, err, sizeof(err)), -1);
	assert_int_equal(config_load(NULL, good2, 1, &c, err, sizeof(err)), 0);
	config_unref(c);
	/* off by default: no DNS unless asked for */
	assert_int_equal(config_load(NULL, NULL, 0, &c, err, sizeof(err)), 0);
	assert_int_equal(c->auth_enable, 0);
	config_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_authserv_id),     cmocka_unit_test(test_ar_is_ours),
	    cmocka_unit_test(test_ar_format),       cmocka_unit_test(test_mailboxes),
	    cmocka_unit_test(test_spf_record_safe), cmocka_unit_test(test_ip_in_list),
	    cmocka_unit_test(test_dns_txt),         cmocka_unit_test(test_valid_name),
	    cmocka_unit_test(test_summary),         cmocka_unit_test(test_config_keys),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
