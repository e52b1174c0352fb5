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

#include "scan/scan.h"
#include "links/link_int.h" /* link_scheme_sorted */
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
    /* what a click does: shares, local files, handlers */
    {"UNC path", "\\\\evil.example\\share\\x.lnk", 0, NULL, 0, "evil.example", "evil.example",
     "file://evil.example/share/x.lnk", LINK_F_SHARE},
    {"UNC WebDAV", "\\\\evil.example@SSL@443\\DavWWWRoot\\x", 0, NULL, 0, "evil.example", NULL,
     "file://evil.example/DavWWWRoot/x", LINK_F_SHARE | LINK_F_WEBDAV},
    {"UNC long form", "\\\\?\\UNC\\evil.example\\s\\x", 0, NULL, 0, "evil.example", NULL, NULL, LINK_F_SHARE},
    {"UNC IP", "\\\\203.0.113.5\\s", 0, NULL, 0, "203.0.113.5", NULL, NULL, LINK_F_SHARE | LINK_F_IP},
    {"device path is local", "\\\\?\\C:\\Windows\\x.exe", 0, NULL, 0, "", NULL, NULL, LINK_F_LOCAL | LINK_F_NOHOST},
    {"file with host", "file://evil.example/s/x", 0, NULL, 0, "evil.example", NULL, "file://evil.example/s/x",
     LINK_F_SHARE},
    {"file four slashes", "file:////evil.example/s/x", 0, NULL, 0, "evil.example", NULL, NULL, LINK_F_SHARE},
    {"file moniker", "file:///\\\\evil.example\\s\\t.rtf!x", 0, NULL, 0, "evil.example", NULL, NULL, LINK_F_SHARE},
    {"file local", "file:///C:/Windows/calc.exe", 0, NULL, 0, "", NULL, "file:///C:/Windows/calc.exe",
     LINK_F_LOCAL | LINK_F_NOHOST},
    {"file localhost", "file://localhost/c:/x", 0, NULL, 0, "", NULL, NULL, LINK_F_LOCAL},
    {"file drive only", "file:C:\\x.bat", 0, NULL, 0, "", NULL, NULL, LINK_F_LOCAL},
    {"smb", "smb://evil.example/share", 0, NULL, 0, "evil.example", NULL, NULL, LINK_F_SHARE},
    {"search-ms", "search-ms:query=a&crumb=location:\\\\h.example\\s", 0, NULL, 0, "", NULL, NULL,
     LINK_F_LAUNCH | LINK_F_NOHOST},
    {"ms-msdt", "MS-MSDT:/id PCWDiagnostic", 0, NULL, 0, "", NULL, NULL, LINK_F_LAUNCH},
    {"future ms- handler", "ms-newthing:x", 0, NULL, 0, "", NULL, NULL, LINK_F_LAUNCH},
    {"Office scheme", "ms-excel:ofv|u|https://x.example/b.xlsx", 0, NULL, 0, "", NULL, NULL, LINK_F_OFFICE},
    {"Office app by name", "ms-visio:ofe|u|https://x.example/a.vsdx", 0, NULL, 0, "", NULL, NULL, LINK_F_OFFICE},
    {"unknown app", "x-custom:run", 0, NULL, 0, "", NULL, NULL, LINK_F_APP | LINK_F_NOHOST},
    {"app with host", "zoommtg://zoom.example/join", 0, NULL, 0, "zoom.example", NULL, NULL, LINK_F_APP},
    {"ldap host judged", "ldap://evil.example/o=x", 0, NULL, 0, "evil.example", NULL, NULL, LINK_F_LAUNCH},
    {"webcal browses", "webcal://cal.example/a.ics", 0, NULL, 0, "cal.example", NULL, "webcal://cal.example/a.ics", 0},
    {"sip is no link", "sip:alice@example.com", 0, NULL, -1, NULL, NULL, NULL, 0},
    {"about:blank is no link", "about:blank", 0, NULL, -1, NULL, NULL, NULL, 0},
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
    {"text: UNC path",
     0,
     "資料は \\\\fs.evil.example\\pub\\報告.lnk をご覧ください",
     {"file://fs.evil.example/pub/報告.lnk"},
     {NULL}},
    {"text: UNC in Japanese without space", 0, "共有：\\\\10.1.2.3\\share", {"file://10.1.2.3/share"}, {NULL}},
    {"text: search-ms without slashes",
     0,
     "open search-ms:query=invoice&crumb=location:\\\\h.example\\s now",
     {"search-ms:query=invoice&crumb=location:\\\\h.example\\s", "file://h.example/s"},
     {NULL}},
    {"text: ms-msdt without slashes", 0, "(ms-msdt:/id PCWDiagnostic)", {"ms-msdt:/id"}, {NULL}},
    {"text: English words are no schemes",
     0,
     "Note:this Re:Subject file: report.pdf Search:everything its: fine",
     {NULL},
     {"file:///report.pdf", "search:everything", "note:this"}},
    {"text: Windows path is no UNC", 0, "saved in C:\\Users\\taro\\x.xlsx", {NULL}, {"file://users/taro/x.xlsx"}},
    {"html: UNC href and img",
     1,
     "<a href=\"\\\\h1.example\\s\\a.lnk\">x</a><img src=\"\\\\h2.example\\i.png\">",
     {"file://h1.example/s/a.lnk|x", "file://h2.example/i.png"},
     {NULL}},
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
    {"dashed in front (the domain spelt out)", "login-example-com.evil.example", "example.com", 1},
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
    /* what the scheme does, from outside (1) and inside (0) */
    {"share from outside", "<a href=\"\\\\fs.partner-co.example\\s\">x</a>", 1, LINK_C_UNC},
    {"our file server from inside", "<a href=\"\\\\fileserver\\s\\a.xlsx\">x</a>", 0, 0},
    {"our domain's server from inside", "<a href=\"file://fs.example.com/s/a.xlsx\">x</a>", 0, 0},
    {"private address from inside", "<a href=\"\\\\10.0.0.5\\s\">x</a>", 0, 0},
    {"outside server from inside", "<a href=\"\\\\evil.example\\s\">x</a>", 0, LINK_C_UNC},
    {"share to a public IP", "<a href=\"\\\\203.0.113.9\\s\">x</a>", 1, LINK_C_UNC},
    {"share loaded as an image", "<img src=\"\\\\evil.example\\i.png\">", 1, LINK_C_UNC},
    {"share on a blocked domain", "<a href=\"\\\\x.blocked.example\\s\">x</a>", 1, LINK_C_UNC | LINK_C_BLOCKED},
    {"search-ms from inside too", "<a href=\"search-ms:query=a\">x</a>", 0, LINK_C_SCHEME},
    {"ms-msdt", "<a href=\"ms-msdt:/id PCWDiagnostic\">x</a>", 1, LINK_C_SCHEME},
    {"Office link from outside", "<a href=\"ms-word:ofe|u|https://www.example.com/a.docx\">x</a>", 1, LINK_C_SCHEME},
    {"Office link from inside", "<a href=\"ms-word:ofe|u|https://www.example.com/a.docx\">x</a>", 0, 0},
    {"local file from outside", "<a href=\"file:///C:/Windows/System32/calc.exe\">x</a>", 1, LINK_C_SCHEME},
    {"local file from inside", "<a href=\"file:///S:/shared/a.xlsx\">x</a>", 0, 0},
    {"unknown application", "<a href=\"zoommtg://zoom.example/join\">x</a>", 1, LINK_C_APP},
    {"x- handler", "<a href=\"x-app:run\">x</a>", 0, LINK_C_APP},
    {"webcal is browsing", "<a href=\"webcal://cal.sender.example/a.ics\">x</a>", 1, 0},
    {"ldap host judged", "<a href=\"ldap://203.0.113.7/o=x\">x</a>", 1, LINK_C_SCHEME | LINK_C_IP},
    /* redirector targets */
    {"text matches the unwrapped target",
     "<a href=\"https://click.esp.example/?u=https%3A%2F%2Fwww.bank.example%2F\">www.bank.example</a>", 1, 0},
    {"text matches neither",
     "<a href=\"https://click.esp.example/?u=https%3A%2F%2Fevil.example%2F\">www.bank.example</a>", 1, LINK_C_MISMATCH},
    {"proxy of our own domain", "<a href=\"https://www-example-com.translate.goog/\">x</a>", 1, 0},
    {"tenant named like us", "<a href=\"https://example.cybozu.com/o/\">x</a>", 1, 0},
};

/* a fact of any link in the set (targets included) */
typedef struct any_case {
	const char *name;
	const char *html;
	int external;
	unsigned want; /* these classes on some link */
} any_case;

static const any_case any_cases[] = {
    {"storage behind safe links",
     "<a href=\"https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fgigafile.nu%2Fx&data=1\">x</a>", 1,
     LINK_C_STORAGE},
    {"blocked behind google and bing",
     "<a "
     "href=\"https://www.google.com/"
     "url?q=https%3A%2F%2Fwww.bing.com%2Fck%2Fa%3Fu%3Da1aHR0cHM6Ly9jMi5ibG9ja2VkLmV4YW1wbGUv%26ntb%3D1&sa=D\">x</a>",
     1, LINK_C_BLOCKED},
    {"lookalike behind a tracker", "<a href=\"https://t.esp.example/r/https://examp1e.com/login\">x</a>", 1,
     LINK_C_LOOKALIKE},
    {"share behind search-ms", "<a href=\"search-ms:crumb=location:\\\\evil.example@SSL\\DavWWWRoot\">x</a>", 0,
     LINK_C_SCHEME | LINK_C_UNC},
    {"ip behind a redirect", "<a href=\"https://r.example/?dest=http://198.51.100.4/x\">x</a>", 1, LINK_C_IP},
    {"launcher behind a redirect", "<a href=\"https://r.example/?url=ms-msdt%3A%2Fid%20x\">x</a>", 1, LINK_C_SCHEME},
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
	for (i = 0; i < MW_ARRAY_LEN(any_cases); i++) {
		const any_case *c = &any_cases[i];
		link_set *ls = links_new(0, 0);
		link_judge j = {cfg, l, c->external};
		unsigned got = 0;
		size_t k;
		char all[4096];

		links_scan_html(ls, "1", c->html, strlen(c->html));
		links_classify(ls, &j);
		for (k = 0; k < links_count(ls); k++)
			got |= links_get(ls, k)->classes;
		dump(ls, all, sizeof(all));
		CHECK((got & c->want) == c->want, "%s: got classes %#x over [%s], want %#x\n", c->name, got, all,
		      c->want);
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

/* ---- what a click does: the scheme model ---- */

static void test_scheme_model(void **state)
{
	static const struct {
		const char *scheme;
		link_does does;
	} cases[] = {
	    {"http", LINK_DOES_BROWSE},
	    {"webcal", LINK_DOES_BROWSE},
	    {"mailto", LINK_DOES_CONTACT},
	    {"tel", LINK_DOES_CONTACT},
	    {"cid", LINK_DOES_INTERNAL},
	    {"javascript", LINK_DOES_SCRIPT},
	    {"data", LINK_DOES_SCRIPT},
	    {"file", LINK_DOES_FILE},
	    {"smb", LINK_DOES_SHARE},
	    {"ms-msdt", LINK_DOES_LAUNCH},
	    {"search-ms", LINK_DOES_LAUNCH},
	    {"search", LINK_DOES_LAUNCH},
	    {"ms-officecmd", LINK_DOES_LAUNCH},
	    {"ms-appinstaller", LINK_DOES_LAUNCH},
	    {"its", LINK_DOES_LAUNCH},
	    {"ms-its", LINK_DOES_LAUNCH},
	    {"mk", LINK_DOES_LAUNCH},
	    {"hcp", LINK_DOES_LAUNCH},
	    {"mhtml", LINK_DOES_LAUNCH},
	    {"jar", LINK_DOES_LAUNCH},
	    {"res", LINK_DOES_LAUNCH},
	    {"ms-settings", LINK_DOES_LAUNCH},
	    {"ms-cxh-full", LINK_DOES_LAUNCH},
	    {"ms-somethingnew", LINK_DOES_LAUNCH},
	    {"vnd.ms-excel", LINK_DOES_LAUNCH},
	    {"microsoft-edge", LINK_DOES_LAUNCH},
	    {"ms-word", LINK_DOES_OFFICE},
	    {"ms-visio", LINK_DOES_OFFICE},
	    {"onenote", LINK_DOES_OFFICE},
	    {"x-anything", LINK_DOES_APP},
	    {"zoommtg", LINK_DOES_APP},
	    {"steam", LINK_DOES_APP},
	    {"itms-services", LINK_DOES_LAUNCH},
	};
	size_t i;

	(void)state;
	failures = 0;
	CHECK(link_scheme_sorted(), "scheme table: not sorted, binary search would miss entries\n");
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		const link_scheme_info *si = link_scheme(cases[i].scheme);
		CHECK(si->does == cases[i].does, "%s: got %s, want %s\n", cases[i].scheme, link_does_name(si->does),
		      link_does_name(cases[i].does));
	}
	assert_int_equal(failures, 0);
}

/* ---- redirectors and trackers ---- */

typedef struct wrap_case {
	const char *name;
	const char *href;
	const char *target; /* a link with LINK_F_TARGET and this URL; NULL: no target at all */
	const char *via;    /* substring of its via, or NULL */
} wrap_case;

static const wrap_case wrap_cases[] = {
    {"safe links url=", "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example%2Fa&data=05",
     "https://evil.example/a", "safelinks.protection.outlook.com (parameter)"},
    {"google q=", "https://www.google.com/url?q=https://evil.example/&sa=D&usg=AOv", "https://evil.example/",
     "www.google.com"},
    {"twice encoded", "https://r.example/?u=https%253A%252F%252Fevil.example%252Fx", "https://evil.example/x", NULL},
    {"facebook", "https://l.facebook.com/l.php?u=https%3A%2F%2Fevil.example%2F&h=AT0", "https://evil.example/",
     "l.facebook.com"},
    {"linkedin", "https://www.linkedin.com/redir/redirect?url=https%3A%2F%2Fevil.example%2Fp&urlhash=x",
     "https://evil.example/p", NULL},
    {"target= dest= continue=", "https://sso.example/login?continue=https://evil.example/c", "https://evil.example/c",
     NULL},
    {"whole query", "https://href.example/?https://evil.example/q", "https://evil.example/q", NULL},
    {"path embedded", "https://t.example/r/https://evil.example/p?x=1", "https://evil.example/p?x=1", "(path)"},
    {"path embedded, encoded", "https://t.example/c/https%3A%2F%2Fevil.example%2Fp", "https://evil.example/p", NULL},
    {"yahoo star-dash", "https://rd.example/R/*-https://evil.example/y", "https://evil.example/y", NULL},
    {"base64 parameter", "https://esp.example/c?x=1&l=aHR0cHM6Ly9ldmlsLmV4YW1wbGUvYjY0", "https://evil.example/b64",
     "(base64)"},
    {"base64url path", "https://trk.example/c/aHR0cHM6Ly9ldmlsLmV4YW1wbGUvP2E9MQ", "https://evil.example/?a=1", NULL},
    {"bing a1", "https://www.bing.com/ck/a?!&&p=abc&u=a1aHR0cHM6Ly9ldmlsLmV4YW1wbGUvYmluZw&ntb=1",
     "https://evil.example/bing", "www.bing.com"},
    {"proofpoint v2", "https://urldefense.proofpoint.com/v2/url?u=https-3A__evil.example_p-3Fa-3D1&d=Dw",
     "https://evil.example/p?a=1", "Proofpoint"},
    {"proofpoint v3", "https://urldefense.com/v3/__https://evil.example/v3__;!!abc$", "https://evil.example/v3", NULL},
    {"mimecast", "https://protect-eu.mimecast.com/s/AbCd?domain=evil.example", "https://evil.example/", "Mimecast"},
    {"google amp", "https://www.google.co.jp/amp/s/evil.example/a", "https://evil.example/a", "AMP"},
    {"amp cache", "https://evil-example.cdn.ampproject.org/c/s/evil.example/c", "https://evil.example/c", NULL},
    {"translate proxy", "https://evil--site-example.translate.goog/t?_x_tr_sl=auto", "https://evil-site.example/t",
     "Translate"},
    {"Office handler", "ms-word:ofe|u|https://evil.example/d.docx", "https://evil.example/d.docx", "ms-word"},
    {"search-ms location", "search-ms:query=a&crumb=location:%5C%5Cevil.example%40SSL%5Cs", "file://evil.example/s",
     NULL},
    {"app installer", "ms-appinstaller:?source=https://evil.example/a.appinstaller",
     "https://evil.example/a.appinstaller", NULL},
    {"redirect to a launcher", "https://r.example/?url=ms-msdt%3A%2Fid%20PCWDiagnostic", "ms-msdt:/id", NULL},
    {"redirect to a share", "https://r.example/go?to=%5C%5Cevil.example%5Cs", "file://evil.example/s", NULL},
    {"chain of two",
     "https://nam.safelinks.protection.outlook.com/"
     "?url=https%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttps%253A%252F%252Fevil.example%252Fz",
     "https://evil.example/z", "safelinks.protection.outlook.com (parameter) > www.google.com (parameter)"},
    /* not targets */
    {"tracking parameters", "https://shop.example/sale?utm_source=news&utm_campaign=spring-2026&id=1234567890", NULL,
     NULL},
    {"relative parameter", "https://shop.example/login?next=/account/orders", NULL, NULL},
    {"host without scheme", "https://r.example/?url=evil.example/x", NULL, NULL},
    {"opaque token", "https://click.esp.example/ls/click?upn=u001.QmFzZTY0IHRva2VuIG5vdCBhIFVSTA-3D-3D", NULL, NULL},
    {"word after colon", "https://shop.example/search?q=color:red&sort=price", NULL, NULL},
};

static void test_unwrap(void **state)
{
	size_t i, k;
	char got[4096], html[2048];

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(wrap_cases); i++) {
		const wrap_case *c = &wrap_cases[i];
		link_set *ls = links_new(0, 0);
		const link_url *hit = NULL;
		size_t ntargets = 0;

		snprintf(html, sizeof(html), "<a href=\"%s\">x</a>", c->href);
		links_scan_html(ls, "1", html, strlen(html));
		dump(ls, got, sizeof(got));
		for (k = 0; k < links_count(ls); k++) {
			const link_url *u = links_get(ls, k);
			if (!(u->flags & LINK_F_TARGET))
				continue;
			ntargets++;
			if (c->target && strncmp(u->url, c->target, strlen(c->target)) == 0)
				hit = u;
		}
		if (c->target == NULL) {
			CHECK(ntargets == 0, "%s: got targets [%s], want none\n", c->name, got);
		} else {
			CHECK(hit != NULL, "%s: got [%s], want target %s\n", c->name, got, c->target);
			if (hit && c->via)
				CHECK(strstr(hit->via, c->via) != NULL, "%s: via got \"%s\", want \"%s\" in it\n",
				      c->name, hit->via, c->via);
			if (hit)
				CHECK(hit->parent >= 0 && hit->depth >= 1, "%s: parent %ld depth %d\n", c->name,
				      hit->parent, hit->depth);
		}
		links_free(ls);
	}
	assert_int_equal(failures, 0);
}

/* a redirector inside a redirector inside ... deeper than LINK_MAX_WRAP */
static void test_unwrap_depth(void **state)
{
	char url[4096], enc[4096], d[300];
	link_set *ls = links_new(0, 0);
	size_t i, k, o;
	int level, deepest = 0;

	(void)state;
	snprintf(url, sizeof(url), "https://evil.example/end");
	for (level = 0; level < LINK_MAX_WRAP + 2; level++) {
		for (i = 0, o = 0; url[i] && o + 4 < sizeof(enc); i++) {
			if (strchr(":/?=&%", url[i])) {
				snprintf(enc + o, 4, "%%%02X", (unsigned char)url[i]);
				o += 3;
			} else {
				enc[o++] = url[i];
			}
		}
		enc[o] = 0;
		snprintf(url, sizeof(url), "https://r%d.example/?url=%s", level, enc);
	}
	links_add_url(ls, "1", url, strlen(url), NULL, 0);
	for (k = 0; k < links_count(ls); k++)
		if (links_get(ls, k)->depth > deepest)
			deepest = links_get(ls, k)->depth;
	if (deepest != LINK_MAX_WRAP)
		fail_msg("chain of %d redirectors: deepest target %d, want %d", LINK_MAX_WRAP + 2, deepest,
		         LINK_MAX_WRAP);
	if (!links_limited(ls, d, sizeof(d)) || strstr(d, "redirector") == NULL)
		fail_msg("chain deeper than the limit: links_limited got \"%s\", want a redirector note", d);
	links_free(ls);
}

/* ---- lookalikes, generated ---- */

typedef struct gen {
	char (*v)[256];
	size_t n, cap;
} gen;

static void add(gen *g, const char *fmt, ...)
{
	va_list ap;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		assert_non_null(g->v);
	}
	va_start(ap, fmt);
	vsnprintf(g->v[g->n++], 256, fmt, ap);
	va_end(ap);
}

/* dashed - a copy of s with '.' as '-' */
static const char *dashed(const char *s, char *out)
{
	size_t i;

	for (i = 0; s[i]; i++)
		out[i] = s[i] == '.' ? '-' : s[i];
	out[i] = 0;
	return out;
}

/* joined_sfx - s without dots */
static const char *nodots(const char *s, char *out)
{
	size_t i, o = 0;

	for (i = 0; s[i]; i++)
		if (s[i] != '.')
			out[o++] = s[i];
	out[o] = 0;
	return out;
}

/* variants - what an attacker registers to look like name.sfx */
static void variants(gen *g, const char *name, const char *sfx)
{
	static const char *const words[] = {"login", "secure", "support", "mypage", "info"};
	static const char *const other[] = {"com", "net", "co.jp", "example", "info"};
	/* UTF-8 homoglyphs: Latin letter -> a look-alike */
	static const struct {
		char latin;
		const char *look;
	} glyph[] = {{'a', "а"}, {'e', "е"}, {'o', "о"}, {'o', "0"}, {'i', "1"},  {'l', "1"},
	             {'c', "с"}, {'p', "р"}, {'n', "п"}, {'k', "κ"}, {'m', "rn"}, {'u', "υ"}};
	char d[128], j[128], h[256];
	size_t i, k, nl = strlen(name);

	/* hyphen and word order */
	add(g, "%s-%s.evil.example", name, dashed(sfx, d));
	add(g, "%s-%s.com", name, dashed(sfx, d));
	add(g, "%s-%s.%s", dashed(sfx, d), name, "example");
	add(g, "%s.%s-secure.com", name, sfx);
	add(g, "%s.%s.evil.example", name, sfx);
	add(g, "www.%s.%s.evil.example", name, sfx);
	for (k = 0; k < MW_ARRAY_LEN(words); k++) {
		add(g, "%s-%s.%s", words[k], name, sfx);
		add(g, "%s-%s.%s", name, words[k], sfx);
		add(g, "%s-%s.evil.example", words[k], name);
		add(g, "%s%s.%s", words[k], name, sfx);
		add(g, "%s%s.com", name, words[k]);
	}
	/* concatenation with the suffix */
	add(g, "%s%s.example", name, nodots(sfx, j));
	add(g, "%s%s.com", nodots(sfx, j), name);
	/* the name under other suffixes */
	for (k = 0; k < MW_ARRAY_LEN(other); k++)
		if (strcmp(other[k], sfx) != 0)
			add(g, "%s.%s", name, other[k]);
	/* characters: one homoglyph at each place it fits, alone and with a decoy word */
	for (i = 0; i < nl; i++)
		for (k = 0; k < MW_ARRAY_LEN(glyph); k++)
			if (name[i] == glyph[k].latin) {
				snprintf(h, sizeof(h), "%.*s%s%s", (int)i, name, glyph[k].look, name + i + 1);
				add(g, "%s.%s", h, sfx);
				add(g, "login-%s.%s", h, sfx);
			}
	/* one edit: a letter dropped, two swapped, one doubled */
	for (i = 0; i < nl; i++) {
		add(g, "%.*s%s.%s", (int)i, name, name + i + 1, sfx);
		add(g, "%.*s%c%s.%s", (int)(i + 1), name, name[i], name + i + 1, sfx);
		if (i + 1 < nl && name[i] != name[i + 1])
			add(g, "%.*s%c%c%s.%s", (int)i, name, name[i + 1], name[i], name + i + 2, sfx);
	}
}

/* what is legitimately theirs or unrelated */
static void legitimate(gen *g, const char *name, const char *sfx)
{
	add(g, "%s.%s", name, sfx);
	add(g, "www.%s.%s", name, sfx);
	add(g, "mail.%s.%s", name, sfx);
	add(g, "a.b.c.%s.%s", name, sfx);
	add(g, "%s.%s.", name, sfx);
	add(g, "%s.cybozu.com", name);     /* a service tenant named after them */
	add(g, "%s.sharepoint.com", name); /* their own tenant */
}

static void test_lookalike_generated(void **state)
{
	static const char *const ov[] = {"domains.protected=nenkin.example, kyoukai.or.jp, hello-world.example, "
	                                 "example.co.jp, mhlw.go.jp"};
	static const char *const unrelated[] = {
	    "shop.example",           "news.sender.example", "tokyo-shop.example", "mail.google.com",
	    "www.city.chiyoda.lg.jp", "sakura.ne.jp",        "kintone.example",    "partner-co.example",
	    "www.partner-co.example", "calendar.google.com"};
	mw_config *cfg = NULL;
	mw_lists *l = lists_new();
	char err[512], why[300], pname[64];
	size_t t, i, flagged = 0, clean = 0;
	gen bad = {NULL, 0, 0}, good = {NULL, 0, 0};

	(void)state;
	failures = 0;
	assert_int_equal(config_load(NULL, ov, 1, &cfg, err, sizeof(err)), 0);
	assert_int_equal(lists_add(l, "partner", "partner-co.example"), 0);
	for (t = 0; t < cfg->protected_domains.n; t++) {
		const char *dom = cfg->protected_domains.v[t], *dot = strchr(dom, '.');
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(dot - dom), dom);
		bad.n = good.n = 0;
		variants(&bad, name, dot + 1);
		legitimate(&good, name, dot + 1);
		for (i = 0; i < bad.n; i++) {
			int r = links_lookalike(cfg, l, bad.v[i], why, sizeof(why));
			CHECK(r == 1, "%s: variant %s: got %d (%s), want 1\n", dom, bad.v[i], r, why);
			CHECK(r != 1 || strncmp(why, dom, strlen(dom)) == 0,
			      "%s: variant %s: why \"%s\" names another\n", dom, bad.v[i], why);
			flagged += r == 1;
		}
		for (i = 0; i < good.n; i++) {
			int r = links_lookalike(cfg, l, good.v[i], why, sizeof(why));
			CHECK(r == 0, "%s: legitimate %s: got %d (%s), want 0\n", dom, good.v[i], r, why);
			clean += r == 0;
		}
	}
	for (i = 0; i < MW_ARRAY_LEN(unrelated); i++) {
		int r = links_lookalike(cfg, l, unrelated[i], why, sizeof(why));
		CHECK(r == 0, "unrelated %s: got %d (%s), want 0\n", unrelated[i], r, why);
		clean += r == 0;
	}
	/* partners: variants of a partner are 2, mixed scripts 3 */
	bad.n = 0;
	variants(&bad, "partner-co", "example");
	for (i = 0; i < bad.n; i++) {
		int r = links_lookalike(cfg, l, bad.v[i], why, sizeof(why));
		CHECK(r == 2 || r == 1, "partner variant %s: got %d (%s), want 2\n", bad.v[i], r, why);
		flagged += r != 0;
	}
	snprintf(pname, sizeof(pname), "partner-co-example.evil.example");
	CHECK(links_lookalike(cfg, l, pname, why, sizeof(why)) == 2, "%s: got %s, want partner\n", pname, why);
	CHECK(links_lookalike(cfg, l, "pаypal.example", why, sizeof(why)) == 3, "mixed script: got %s, want 3\n", why);
	CHECK(links_lookalike(cfg, l, "xn--nenkn-q2e.example", why, sizeof(why)) == 1, "punycode: got %s\n", why);
	CHECK(links_lookalike(cfg, l, "NENKIN-EXAMPLE.Example.", why, sizeof(why)) == 1, "case and dot: got %s\n", why);
	CHECK(links_lookalike(cfg, l, "[192.0.2.1]", why, sizeof(why)) == 0, "address literal: got %s\n", why);
	CHECK(links_lookalike(cfg, NULL, "", why, sizeof(why)) == 0, "empty: got %s\n", why);
	print_message("lookalike: %zu generated variants flagged, %zu legitimate or unrelated domains left alone\n",
	              flagged, clean);
	/* the same model for links: every variant as a link is link.lookalike */
	{
		link_set *ls = links_new(5000, 0);
		link_judge j = {cfg, l, 1};
		mw_buf b;
		bad.n = 0;
		variants(&bad, "nenkin", "example");
		buf_init(&b, 0);
		for (i = 0; i < bad.n; i++)
			buf_printf(&b, "<a href=\"https://%s/\">x</a>", bad.v[i]);
		links_scan_html(ls, "1", b.p, b.len);
		links_classify(ls, &j);
		CHECK(links_count(ls) == bad.n, "variants as links: got %zu links, want %zu\n", links_count(ls), bad.n);
		for (i = 0; i < links_count(ls); i++)
			CHECK(links_get(ls, i)->classes & LINK_C_LOOKALIKE,
			      "link %s: got classes %#x (%s), want lookalike\n", links_get(ls, i)->url,
			      links_get(ls, i)->classes, links_get(ls, i)->note);
		buf_free(&b);
		links_free(ls);
	}
	free(bad.v);
	free(good.v);
	lists_unref(l);
	config_unref(cfg);
	assert_int_equal(failures, 0);
}

/* ---- links found in any node of the content tree ---- */

static void test_node_api(void **state)
{
	static const char *const ov[] = {"domains.protected=example.com"};
	mw_config *cfg = NULL;
	mw_lists *l = lists_new();
	char err[512];
	mw_result *res = calloc(1, sizeof(*res));
	mw_env env;
	mw_scan sc;
	size_t i;
	int unc = 0, launch = 0, blocked = 0;
	const char *path = "2:invoice.zip:doc.docx:word/_rels/settings.xml.rels";
	const char *ics = "BEGIN:VEVENT\r\nDESCRIPTION:Join at https://c2.blocked.example/meet\r\nEND:VEVENT\r\n";

	(void)state;
	assert_non_null(res);
	assert_int_equal(config_load(NULL, ov, 1, &cfg, err, sizeof(err)), 0);
	assert_int_equal(lists_add(l, "link_block", "blocked.example"), 0);
	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.lists = l;
	memset(&sc, 0, sizeof(sc));
	sc.msg = msg_new(cfg);
	msg_set_sender(sc.msg, "a@sender.example");
	sc.env = &env;
	sc.res = res;
	sc.verdict = &res->verdict;
	verdict_init(sc.verdict);
	/* a remote template on a share, as Word would load it */
	links_node_url(&sc, path, "file://evil.example/t/normal.dotm", 33, NULL, 0);
	/* a PDF action with its label */
	links_node_url(&sc, "3:form.pdf", "ms-msdt:/id PCWDiagnostic", 25, "Open", 4);
	/* a calendar's description, as text */
	links_node_text(&sc, "4:invite.ics", ics, strlen(ics), 0);
	/* the same again adds nothing */
	links_node_text(&sc, "4:invite.ics", ics, strlen(ics), 0);
	for (i = 0; i < sc.verdict->nreasons; i++) {
		const mw_reason *r = &sc.verdict->reasons[i];
		if (strcmp(r->code, "link.unc") == 0 && strncmp(r->part, "2:invoice.zip:doc.docx:", 23) == 0)
			unc++;
		if (strcmp(r->code, "link.dangerous_scheme") == 0 && strcmp(r->part, "3:form.pdf") == 0)
			launch++;
		if (strcmp(r->code, "link.blocked_domain") == 0 && strcmp(r->part, "4:invite.ics") == 0)
			blocked++;
	}
	if (unc != 1 || launch != 1 || blocked != 1) {
		for (i = 0; i < sc.verdict->nreasons; i++)
			print_message("reason %s part=%s %s\n", sc.verdict->reasons[i].code,
			              sc.verdict->reasons[i].part, sc.verdict->reasons[i].detail);
		fail_msg("node links: got unc=%d launch=%d blocked=%d, want 1 each, with the node path as part", unc,
		         launch, blocked);
	}
	if (res->nlinks != 3)
		fail_msg("node links counted: got %zu, want 3", res->nlinks);
	links_free(sc.links);
	msg_free(sc.msg);
	free(res);
	lists_unref(l);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),        cmocka_unit_test(test_idn_back),
	    cmocka_unit_test(test_extract),      cmocka_unit_test(test_lookalike),
	    cmocka_unit_test(test_classify),     cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_scheme_model), cmocka_unit_test(test_unwrap),
	    cmocka_unit_test(test_unwrap_depth), cmocka_unit_test(test_lookalike_generated),
	    cmocka_unit_test(test_node_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
