/*
 * links_test.c - link extraction, normalisation and classification.
 * Table-driven: every case has a name and reports "got X, want Y".
 * Organisations are example.com and *.example; the provider domains
 * in the list cases are the shipped list entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "links/links.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "util/util.h"

static int failures;

#define CHECK(cond, ...)                                                                                               \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			print_error(__VA_ARGS__);                                                                      \
			failures++;                                                                                    \
		}                                                                                                      \
	} while (0)

/* ---- normalisation ---- */

typedef struct parse_case {
	const char *name;
	const char *raw;
	int bare;
	const char *base;
	int rc;
	const char *host; /* NULL: not checked */
	const char *domain;
	const char *url;
	unsigned flags; /* these must be set */
} parse_case;

static const parse_case parse_cases[] = {
    {"scheme and host case", "HTTPS://WWW.Example.COM/Path", 0, NULL, 0, "www.example.com", "example.com",
     "https://www.example.com/Path", 0},
    {"no path gets a slash", "http://example.com", 0, NULL, 0, "example.com", "example.com", "http://example.com/", 0},
    {"default port dropped", "http://example.com:80/a", 0, NULL, 0, "example.com", NULL, "http://example.com/a", 0},
    {"other port kept", "https://example.com:8443/a", 0, NULL, 0, "example.com", NULL, "https://example.com:8443/a", 0},
    {"user:pass@ removed", "http://user:pass@host.example/x", 0, NULL, 0, "host.example", "host.example",
     "http://host.example/x", LINK_F_USERINFO},
    {"last @ wins", "http://www.example.com@evil.example/", 0, NULL, 0, "evil.example", "evil.example", NULL,
     LINK_F_USERINFO},
    {"tab and newline inside", "ht\ttp://ev\nil.exa\rmple/", 0, NULL, 0, "evil.example", NULL, NULL, 0},
    {"spaces around", "  http://a.example/  ", 0, NULL, 0, "a.example", NULL, "http://a.example/", 0},
    {"backslashes", "https:\\\\evil.example\\path\\x?q=\\", 0, NULL, 0, "evil.example", NULL,
     "https://evil.example/path/x?q=\\", 0},
    {"no slashes", "http:evil.example/x", 0, NULL, 0, "evil.example", NULL, NULL, 0},
    {"percent-encoded host", "http://%65vil%2Eexample/", 0, NULL, 0, "evil.example", "evil.example", NULL, 0},
    {"IPv4 hex short", "http://0x7f.1/", 0, NULL, 0, "127.0.0.1", "127.0.0.1", NULL, LINK_F_IP | LINK_F_IPODD},
    {"IPv4 octal dotless", "http://017700000001/", 0, NULL, 0, "127.0.0.1", NULL, NULL, LINK_F_IP | LINK_F_IPODD},
    {"IPv4 decimal dotless", "http://2130706433/", 0, NULL, 0, "127.0.0.1", NULL, NULL, LINK_F_IP},
    {"IPv4 octal parts", "http://0300.0250.01.01/", 0, NULL, 0, "192.168.1.1", NULL, NULL, LINK_F_IP},
    {"IPv4 three parts", "http://10.1.258/", 0, NULL, 0, "10.1.1.2", NULL, NULL, LINK_F_IP},
    {"IPv4 dotted", "http://192.0.2.7:8080/", 0, NULL, 0, "192.0.2.7", "192.0.2.7", "http://192.0.2.7:8080/",
     LINK_F_IP},
    {"IPv4 overflow is bad", "http://256.1.1.1/", 0, NULL, 0, NULL, NULL, NULL, LINK_F_IP | LINK_F_BADHOST},
    {"IPv6 literal", "http://[2001:DB8::0:1]/x", 0, NULL, 0, "[2001:db8::1]", "[2001:db8::1]", NULL,
     LINK_F_IP | LINK_F_IPV6},
    {"IPv6 with port", "http://[::1]:81/", 0, NULL, 0, "[::1]", NULL, "http://[::1]:81/", LINK_F_IPV6},
    {"IDN to A-label", "http://éxample.com/", 0, NULL, 0, "xn--xample-9ua.com", "xn--xample-9ua.com", NULL, LINK_F_IDN},
    {"A-label kept, U-label known", "http://xn--xample-9ua.com/", 0, NULL, 0, "xn--xample-9ua.com", NULL, NULL,
     LINK_F_IDN},
    {"fullwidth host mapped", "http://ｅｘａｍｐｌｅ．com/", 0, NULL, 0, "example.com", NULL, NULL, LINK_F_IDN},
    {"Japanese IDN", "https://例え.jp/", 0, NULL, 0, "xn--r8jz45g.jp", "xn--r8jz45g.jp", NULL, LINK_F_IDN},
    {"bad punycode", "http://xn--zzzz.example/", 0, NULL, 0, "xn--zzzz.example", NULL, NULL, LINK_F_BADHOST},
    {"registrable co.jp", "https://a.b.example.co.jp/", 0, NULL, 0, NULL, "example.co.jp", NULL, 0},
    {"registrable lg.jp", "https://www.city.example.lg.jp/", 0, NULL, 0, NULL, "example.lg.jp", NULL, 0},
    {"registrable private suffix", "https://foo.blogspot.com/", 0, NULL, 0, NULL, "foo.blogspot.com", NULL, 0},
    {"trailing dot", "http://www.example.com./", 0, NULL, 0, "www.example.com", "example.com", NULL, 0},
    {"bare host", "www.example.com/path", 1, NULL, 0, "www.example.com", NULL, "http://www.example.com/path",
     LINK_F_BARE},
    {"javascript", "JavaScript:alert(1)", 0, NULL, 0, "", NULL, NULL, LINK_F_SCRIPT | LINK_F_NOHOST},
    {"data", "data:text/html;base64,AAAA", 0, NULL, 0, "", NULL, NULL, LINK_F_SCRIPT},
    {"unknown scheme kept", "ms-msdt:/id PCWDiagnostic", 0, NULL, 0, "", NULL, NULL, LINK_F_NOHOST},
    {"mailto is no link", "mailto:a@example.com", 0, NULL, -1, NULL, NULL, NULL, 0},
    {"cid is no link", "cid:part1@example", 0, NULL, -1, NULL, NULL, NULL, 0},
    {"fragment is no link", "#top", 0, NULL, -1, NULL, NULL, NULL, 0},
    {"relative without base", "page.html", 0, NULL, -1, NULL, NULL, NULL, 0},
    {"relative with base", "page.html", 0, "https://base.example/dir/x.html", 0, "base.example", NULL,
     "https://base.example/dir/page.html", 0},
    {"absolute path with base", "/p", 0, "https://base.example/dir/x.html", 0, "base.example", NULL,
     "https://base.example/p", 0},
    {"scheme-relative", "//cdn.example/x", 0, NULL, 0, "cdn.example", NULL, "https://cdn.example/x", 0},
};

static void test_parse(void **state)
{
	link_parts p;
	size_t i;

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(parse_cases); i++) {
		const parse_case *c = &parse_cases[i];
		int rc = link_parse(c->raw, strlen(c->raw), c->base, c->bare, &p);

		CHECK(rc == c->rc, "%s: rc got %d, want %d\n", c->name, rc, c->rc);
		if (rc != 0)
			continue;
		CHECK(!c->host || strcmp(p.host, c->host) == 0, "%s: host got \"%s\", want \"%s\"\n", c->name, p.host,
		      c->host);
		CHECK(!c->domain || strcmp(p.domain, c->domain) == 0, "%s: domain got \"%s\", want \"%s\"\n", c->name,
		      p.domain, c->domain);
		CHECK(!c->url || strcmp(p.url, c->url) == 0, "%s: url got \"%s\", want \"%s\"\n", c->name, p.url,
		      c->url);
		CHECK((p.flags & c->flags) == c->flags, "%s: flags got %#x, want %#x set\n", c->name, p.flags,
		      c->flags);
	}
	assert_int_equal(failures, 0);
}

static void test_idn_back(void **state)
{
	link_parts p;

	(void)state;
	assert_int_equal(link_parse("http://xn--xample-9ua.com/", 26, NULL, 0, &p), 0);
	if (strcmp(p.host_u, "éxample.com") != 0)
		fail_msg("A-label to U-label: got \"%s\", want \"éxample.com\"", p.host_u);
	assert_int_equal(link_parse("http://例え.jp/", strlen("http://例え.jp/"), NULL, 0, &p), 0);
	if (strcmp(p.host_u, "例え.jp") != 0)
		fail_msg("U-label round trip: got \"%s\", want \"例え.jp\"", p.host_u);
}

/* ---- extraction ---- */

typedef struct extract_case {
	const char *name;
	int html;
	const char *input;
	const char *want[6];   /* "url" or "url|text": each must be found */
	const char *absent[3]; /* urls that must not be found */
} extract_case;

static const extract_case extract_cases[] = {
    {"text: scheme URL", 0, "see https://a.example/x.", {"https://a.example/x"}, {NULL}},
    {"text: uppercase scheme", 0, "HTTP://UP.EXAMPLE/Q", {"http://up.example/Q"}, {NULL}},
    {"text: bare www host", 0, "go to www.example.com/path, now", {"http://www.example.com/path"}, {NULL}},
    {"text: bare host with TLD", 0, "log in at examp1e.com today", {"http://examp1e.com/"}, {NULL}},
    {"text: file name is no host", 0, "open report.pdf and file.html", {NULL}, {"http://report.pdf/"}},
    {"text: address is no host", 0, "mail bob@example.com", {NULL}, {"http://example.com/"}},
    {"text: parentheses", 0, "(see https://a.example/w_(x))", {"https://a.example/w_(x)"}, {NULL}},
    {"text: Japanese around", 0, "詳細はhttps://jp.example/a です", {"https://jp.example/a"}, {NULL}},
    {"text: Japanese right after host", 0, "こちらhttps://jp2.exampleまで", {"https://jp2.example/"}, {NULL}},
    {"text: angle brackets", 0, "<https://angle.example/a>", {"https://angle.example/a"}, {NULL}},
    {"text: bare IPv4 with path",
     0,
     "http-less 192.0.2.1/x and version 1.2.3.4",
     {"http://192.0.2.1/x"},
     {"http://1.2.3.4/"}},
    {"html: href with text", 1, "<a href=\"https://a.example/\">Click</a>", {"https://a.example/|Click"}, {NULL}},
    {"html: tag split across lines",
     1,
     "<a\r\nHREF\r\n=\r\n\"https://split.example/\"\r\n>x</a>",
     {"https://split.example/|x"},
     {NULL}},
    {"html: whitespace inside value", 1, "<a href=\" https://ws.example/ \">x</a>", {"https://ws.example/"}, {NULL}},
    {"html: unquoted", 1, "<a href=https://uq.example/a?b=1>x</a>", {"https://uq.example/a?b=1"}, {NULL}},
    {"html: entities",
     1,
     "<a href=\"h&#x74;tp&#58;&sol;&sol;ent.example/?a=1&amp;b=2\">e</a>",
     {"http://ent.example/?a=1&b=2"},
     {NULL}},
    {"html: entity-hidden javascript",
     1,
     "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
     {"javascript:alert(1)"},
     {NULL}},
    {"html: src action formaction",
     1,
     "<img SRC='https://img.example/i.png'><form action=https://f.example/p><button "
     "formaction=\"https://fa.example/\">",
     {"https://img.example/i.png", "https://f.example/p", "https://fa.example/"},
     {NULL}},
    {"html: meta refresh",
     1,
     "<meta http-equiv=\"refresh\" content=\"0;URL='https://r.example/x'\">",
     {"https://r.example/x"},
     {NULL}},
    {"html: css url and import",
     1,
     "<style>@import \"https://imp.example/a.css\"; p{background:URL( https://bg.example/b.png )}</style>"
     "<p style=\"background:url(&quot;https://st.example/s.png&quot;)\">",
     {"https://imp.example/a.css", "https://bg.example/b.png", "https://st.example/s.png"},
     {NULL}},
    {"html: base href",
     1,
     "<base href=\"https://base.example/d/\"><a href=\"p.html\">x</a>",
     {"https://base.example/d/", "https://base.example/d/p.html|x"},
     {NULL}},
    {"html: comment skipped",
     1,
     "<!-- <a href=\"https://hidden.example/\">x</a> --><a href=https://v.example/>v</a>",
     {"https://v.example/"},
     {"https://hidden.example/"}},
    {"html: conditional comment read",
     1,
     "<!--[if mso]><v:roundrect href=\"https://mso.example/\"></v:roundrect><![endif]-->",
     {"https://mso.example/"},
     {NULL}},
    {"html: script skipped", 1, "<script>x='https://js.example/'</script>ok", {NULL}, {"https://js.example/"}},
    {"html: text nodes read",
     1,
     "<p>visit https://t.example/a &amp; www.t2.example</p>",
     {"https://t.example/a", "http://www.t2.example/"},
     {NULL}},
    {"html: anchor text collapsed",
     1,
     "<a href=\"https://a.example/\">\n  Your\n <b>bank</b>  </a>",
     {"https://a.example/|Your bank"},
     {NULL}},
    {"html: srcset",
     1,
     "<img srcset=\"https://s1.example/a.png 1x, https://s2.example/b.png 2x\">",
     {"https://s1.example/a.png", "https://s2.example/b.png"},
     {NULL}},
    {"html: unterminated quote", 1, "<a href=\"https://open.example/", {"https://open.example/"}, {NULL}},
};

static const link_url *find(const link_set *ls, const char *want)
{
	const char *bar = strchr(want, '|');
	size_t i, ul = bar ? (size_t)(bar - want) : strlen(want);

	for (i = 0; i < links_count(ls); i++) {
		const link_url *u = links_get(ls, i);
		if (strlen(u->url) == ul && memcmp(u->url, want, ul) == 0 && (!bar || strcmp(u->text, bar + 1) == 0))
			return u;
	}
	return NULL;
}

static void dump(const link_set *ls, char *out, size_t len)
{
	size_t i, o = 0;

	out[0] = 0;
	for (i = 0; i < links_count(ls) && o + 1 < len; i++) {
		int w =
		    snprintf(out + o, len - o, "%s%s|%s", i ? " " : "", links_get(ls, i)->url, links_get(ls, i)->text);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static void test_extract(void **state)
{
	size_t i, k;
	char got[2048];

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(extract_cases); i++) {
		const extract_case *c = &extract_cases[i];
		link_set *ls = links_new(0, 0);

		if (c->html)
			links_scan_html(ls, "1", c->input, strlen(c->input));
		else
			links_scan_text(ls, "1", c->input, strlen(c->input));
		dump(ls, got, sizeof(got));
		for (k = 0; k < 6 && c->want[k]; k++)
			CHECK(find(ls, c->want[k]), "%s: got [%s], want %s\n", c->name, got, c->want[k]);
		for (k = 0; k < 3 && c->absent[k]; k++)
			CHECK(!find(ls, c->absent[k]), "%s: got [%s], want no %s\n", c->name, got, c->absent[k]);
		links_free(ls);
	}
	assert_int_equal(failures, 0);
}

/* ---- lookalikes ---- */

typedef struct look_case {
	const char *name;
	const char *host;
	const char *target;
	int want;
} look_case;

static const look_case look_cases[] = {
    {"digit one for l", "examp1e.com", "example.com", 1},
    {"rn for m", "exarnple.com", "example.com", 1},
    {"zero for o", "hell0-w0rld.example", "hello-world.example", 1},
    {"punycode accent", "xn--xample-9ua.com", "example.com", 1},
    {"Cyrillic a", "xn--exmple-4nf.com", "example.com", 1},
    {"one substitution", "exbmple.com", "example.com", 1},
    {"one deletion", "exmple.com", "example.com", 1},
    {"one insertion", "examples.com", "example.com", 1},
    {"transposition", "exmaple.com", "example.com", 1},
    {"other suffix", "example.net", "example.com", 1},
    {"in front of another domain", "example.com.evil.example", "example.com", 1},
    {"dashed in front", "login-example-com.evil.example", "example.com", 0},
    {"own sub-domain", "mail.example.com", "example.com", 0},
    {"itself", "example.com", "example.com", 0},
    {"unrelated", "shop.example", "example.com", 0},
    {"two edits", "exanpie.com", "example.com", 0},
    {"short labels need more than one edit", "abd.example", "abc.example", 0},
    {"co.jp target", "examp1e.co.jp", "example.co.jp", 1},
};

static void test_lookalike(void **state)
{
	size_t i;
	char why[200];

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(look_cases); i++) {
		const look_case *c = &look_cases[i];
		int got = link_lookalike(c->host, c->target, why, sizeof(why));
		CHECK(got == c->want, "%s: %s vs %s: got %d (%s), want %d\n", c->name, c->host, c->target, got, why,
		      c->want);
	}
	CHECK(link_mixed_script("exаmple.com") == 1, "mixed script Latin+Cyrillic: got 0, want 1\n");
	CHECK(link_mixed_script("例え.jp") == 0, "Han+Latin in different labels: got 1, want 0\n");
	CHECK(link_mixed_script("пример.example") == 0, "all Cyrillic label: got 1, want 0\n");
	assert_int_equal(failures, 0);
}

/* ---- classification ---- */

typedef struct class_case {
	const char *name;
	const char *html;
	int external;
	unsigned want; /* classes of the first link */
} class_case;

static const class_case class_cases[] = {
    {"storage from outside", "<a href=\"https://xx.gigafile.nu/a\">x</a>", 1, LINK_C_STORAGE},
    {"storage from inside", "<a href=\"https://xx.gigafile.nu/a\">x</a>", 0, 0},
    {"storage host entry, sub-domain", "<a href=\"https://a.drive.google.com/x\">x</a>", 1, LINK_C_STORAGE},
    {"storage host entry, not the parent", "<a href=\"https://www.google.com/\">x</a>", 1, 0},
    {"storage path entry", "<a href=\"https://www.icloud.com/iclouddrive/0a\">x</a>", 1, LINK_C_STORAGE},
    {"storage path entry, other path", "<a href=\"https://www.icloud.com/mail\">x</a>", 1, 0},
    {"storage image is not counted", "<img src=\"https://dl.dropboxusercontent.com/i.png\">", 1, 0},
    {"shortener", "<a href=\"https://bit.ly/abc\">x</a>", 0, LINK_C_SHORTENER},
    {"blocked sub-domain", "<a href=\"https://c2.cc.blocked.example/x\">x</a>", 0, LINK_C_BLOCKED},
    {"blocked also when loaded", "<img src=\"http://x.blocked.example/p.gif\">", 0, LINK_C_BLOCKED},
    {"blocked parent only", "<a href=\"https://notblocked.example/\">x</a>", 0, 0},
    {"ip literal", "<a href=\"http://0x7f.1/\">x</a>", 0, LINK_C_IP},
    {"script", "<a href=\"javascript:void(0)\">x</a>", 0, LINK_C_SCRIPT},
    {"data image is fine", "<img src=\"data:image/png;base64,AA\">", 0, 0},
    {"data html is script", "<a href=\"data:text/html,<script>\">x</a>", 0, LINK_C_SCRIPT},
    {"lookalike of protected", "<a href=\"https://examp1e.com/\">x</a>", 0, LINK_C_LOOKALIKE},
    {"lookalike of partner", "<a href=\"https://partner-c0.example/\">x</a>", 0, LINK_C_LOOKALIKE},
    {"partner itself", "<a href=\"https://www.partner-co.example/\">x</a>", 0, 0},
    {"protected itself", "<a href=\"https://www.example.com/\">x</a>", 0, 0},
    {"text mismatch", "<a href=\"https://evil.example/\">https://www.bank.example/login</a>", 0, LINK_C_MISMATCH},
    {"text mismatch bare text", "<a href=\"https://evil.example/\">www.bank.example</a>", 0, LINK_C_MISMATCH},
    {"text matches", "<a href=\"https://login.bank.example/\">www.bank.example</a>", 0, 0},
    {"plain text no mismatch", "<a href=\"https://evil.example/\">Log in now</a>", 0, 0},
    {"mixed script", "<a href=\"https://pаypal.example/\">x</a>", 0, LINK_C_LOOKALIKE},
    {"credentials name protected", "<a href=\"https://example.com@evil.example/\">x</a>", 0, LINK_C_LOOKALIKE},
};

static void test_classify(void **state)
{
	static const char *const ov[] = {"domains.protected=example.com"};
	mw_config *cfg = NULL;
	mw_lists *l = lists_new();
	char err[512];
	size_t i;

	(void)state;
	failures = 0;
	assert_int_equal(config_load(NULL, ov, 1, &cfg, err, sizeof(err)), 0);
	assert_int_equal(lists_load_file(l, "storage", "data/lists/storage.txt", err, sizeof(err)), 0);
	assert_int_equal(lists_load_file(l, "shortener", "data/lists/shortener.txt", err, sizeof(err)), 0);
	assert_int_equal(lists_add(l, "link_block", "blocked.example"), 0);
	assert_int_equal(lists_add(l, "partner", "partner-co.example"), 0);
	for (i = 0; i < MW_ARRAY_LEN(class_cases); i++) {
		const class_case *c = &class_cases[i];
		link_set *ls = links_new(0, 0);
		link_judge j = {cfg, l, c->external};
		const link_url *u;

		links_scan_html(ls, "1", c->html, strlen(c->html));
		links_classify(ls, &j);
		u = links_get(ls, 0);
		CHECK(u != NULL, "%s: got no link\n", c->name);
		if (u)
			CHECK(u->classes == c->want, "%s: %s: got classes %#x (%s), want %#x\n", c->name, u->url,
			      u->classes, u->note, c->want);
		links_free(ls);
	}
	lists_unref(l);
	config_unref(cfg);
	assert_int_equal(failures, 0);
}

/* ---- limits and dedupe ---- */

static void test_limits(void **state)
{
	mw_buf b;
	link_set *ls;
	char d[300];
	int i;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < 50; i++)
		buf_printf(&b, "<a href=\"https://h%d.example/\">x</a><a href=\"https://same.example/\">s</a>", i);
	ls = links_new(10, 0);
	links_scan_html(ls, "1", b.p, b.len);
	if (links_count(ls) != 10)
		fail_msg("max_urls=10: got %zu links, want 10", links_count(ls));
	if (!links_limited(ls, d, sizeof(d)) || strstr(d, "max_urls") == NULL)
		fail_msg("max_urls: got limited=%d \"%s\", want max_urls", links_limited(ls, d, sizeof(d)), d);
	links_free(ls);

	ls = links_new(0, 0);
	links_scan_html(ls, "1", b.p, b.len);
	if (links_count(ls) != 51)
		fail_msg("dedupe: got %zu links, want 51", links_count(ls));
	if (links_limited(ls, d, sizeof(d)))
		fail_msg("no limit crossed: got \"%s\"", d);
	links_free(ls);

	ls = links_new(0, 100);
	links_scan_html(ls, "1", b.p, b.len);
	if (!links_limited(ls, d, sizeof(d)) || strstr(d, "max_html_bytes") == NULL)
		fail_msg("max_html_bytes=100: got \"%s\", want max_html_bytes", d);
	links_free(ls);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),     cmocka_unit_test(test_idn_back), cmocka_unit_test(test_extract),
	    cmocka_unit_test(test_lookalike), cmocka_unit_test(test_classify), cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
