/*
 * NAME
 *	mime_test - the streaming MIME parser: structure, limits, problems
 * SYNOPSIS
 *	build/tests/mime_test
 * DESCRIPTION
 *	A table of named messages, each with the expected part tree summary
 *	and problem list; failures print "case: got X, want Y".  Every table
 *	case is parsed whole, byte by byte and in 7-byte pieces with every
 *	part spilled to disk, and all must agree.  Further tests: limits,
 *	problem cap, spill to disk, memory bound for a 50 MB attachment.
 *
 *	Summary format: parts separated by ' ', each "id|type|content" for
 *	leaves (id "-" for the root, content with \n shown as '~' and cut at
 *	40 bytes) and "id|type|*N" for containers with N children; problems
 *	"M|id|detail" or "L|id|detail" separated by ';'.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mime/mime.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* content - the first max bytes of a part's decoded content */
static void content(mw_buf *b, const mime_part *part, size_t max)
{
	const void *data;
	char tmp[64];
	int fd;
	size_t len, i, n;

	mime_part_body(part, &data, &fd, &len);
	n = len < max ? len : max;
	if (data == NULL) {
		ssize_t r = pread(fd, tmp, n < sizeof(tmp) ? n : sizeof(tmp), 0);
		n = r > 0 ? (size_t)r : 0;
		data = tmp;
	}
	for (i = 0; i < n; i++) {
		char c = ((const char *)data)[i];
		buf_putc(b, c == '\n' ? '~' : c == '\r' ? '^' : c == 0 ? '0' : c);
	}
	if (len > max)
		buf_printf(b, "...(%zu)", len);
}

/* summarize - the part tree */
static void summarize(mw_buf *b, const mime_part *part)
{
	size_t i;

	if (b->len)
		buf_putc(b, ' ');
	buf_printf(b, "%s|%s|", *mime_part_id(part) ? mime_part_id(part) : "-", mime_part_type(part));
	if (mime_part_is_leaf(part)) {
		content(b, part, 40);
	} else {
		buf_printf(b, "*%zu", mime_part_nchildren(part));
	}
	for (i = 0; i < mime_part_nchildren(part); i++)
		summarize(b, mime_part_child(part, i));
}

/* problems - the problem list */
static void problems(mw_buf *b, const mime_parser *p)
{
	size_t i;

	for (i = 0; i < mime_problem_count(p); i++) {
		const mime_problem *pr = mime_problem_get(p, i);
		buf_printf(b, "%s%c|%s|%s", i ? ";" : "",
		           pr->kind == MIME_PROB_LIMITS   ? 'L'
		           : pr->kind == MIME_PROB_HIDDEN ? 'H'
		                                          : 'M',
		           *pr->part ? pr->part : "-", pr->detail);
	}
}

/* parse - feed msg in pieces of chunk bytes (0: whole) */
static mime_parser *parse(const char *msg, size_t len, size_t chunk, const mime_limits *lim)
{
	mime_parser *p = mime_parser_new(lim, NULL);
	size_t i;

	if (chunk == 0)
		chunk = len ? len : 1;
	for (i = 0; i < len; i += chunk)
		assert_int_equal(mime_parser_feed(p, msg + i, len - i < chunk ? len - i : chunk), 0);
	assert_int_equal(mime_parser_finish(p), 0);
	return p;
}

static const struct {
	const char *name;
	const char *msg;
	const char *tree;
	const char *probs;
	size_t len; /* 0: strlen(msg) */
} cases[] = {
    {"plain text", "Subject: hi\n\nhello\nworld\n", "-|text/plain|hello~world~", "", 0},
    {"crlf text", "Subject: hi\r\n\r\nhello\r\n", "-|text/plain|hello^~", "", 0},
    {"no headers at all", "just a line\n", "-|text/plain|just a line~", "M|-|header without colon", 0},
    {"empty message", "", "-|text/plain|", "", 0},
    {"headers only", "Subject: x\n", "-|text/plain|", "", 0},
    {"multipart basic",
     "Content-Type: multipart/mixed; boundary=b\n\npre\n--b\n\none\n--b\nContent-Type: text/html\n\n<p>\n--b--\nepi\n",
     "-|multipart/mixed|*2 1|text/plain|one 2|text/html|<p>", "", 0},
    {"boundary trailing whitespace", "Content-Type: multipart/mixed; boundary=b\n\n--b \t\n\none\n--b--  \n",
     "-|multipart/mixed|*1 1|text/plain|one", "", 0},
    {"boundary crlf", "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\r\none\r\n--b--\r\n",
     "-|multipart/mixed|*1 1|text/plain|one", "", 0},
    {"boundary prefix not a boundary", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--bx\n--b-\n--b--\n",
     "-|multipart/mixed|*1 1|text/plain|--bx~--b-", "", 0},
    {"nested multipart",
     "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; boundary=i\n\n"
     "--i\n\nplain\n--i\nContent-Type: text/html\n\nhtml\n--i--\n--o\nContent-Type: application/pdf\n"
     "Content-Transfer-Encoding: base64\n\nJVBERg==\n--o--\n",
     "-|multipart/mixed|*2 1|multipart/alternative|*2 1.1|text/plain|plain 1.2|text/html|html "
     "2|application/pdf|%PDF",
     "", 0},
    {"inner boundary closed by outer",
     "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n"
     "--i\n\nx\n--o\n\ny\n--o--\n",
     "-|multipart/mixed|*2 1|multipart/mixed|*1 1.1|text/plain|x 2|text/plain|y", "M|1|boundary never closed", 0},
    {"message/rfc822",
     "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\n\n"
     "Subject: inner\nContent-Type: text/plain\n\ninner body\n--o--\n",
     "-|multipart/mixed|*1 1|message/rfc822|*1 1.1|text/plain|inner body", "", 0},
    {"rfc822 top level", "Content-Type: message/rfc822\n\nSubject: in\n\nbody\n",
     "-|message/rfc822|*1 1|text/plain|body~", "", 0},
    {"digest default type", "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: a\n\nA\n--d--\n",
     "-|multipart/digest|*1 1|message/rfc822|*1 1.1|text/plain|A", "", 0},
    {"qp part", "Content-Type: text/plain\nContent-Transfer-Encoding: Quoted-Printable\n\nsoft=\nbreak=3D  \nnext\n",
     "-|text/plain|softbreak=~next~", "", 0},
    {"folded header with params", "Content-Type: multipart/mixed;\n\tboundary=\n  \"fold\"\n\n--fold\n\nx\n--fold--\n",
     "-|multipart/mixed|*1 1|text/plain|x", "", 0},
    {"unclosed boundary", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond\n",
     "-|multipart/mixed|*2 1|text/plain|first 2|text/plain|second~", "M|-|boundary never closed", 0},
    {"missing boundary parameter", "Content-Type: multipart/mixed\n\n--b\n\nx\n--b--\n",
     "-|multipart/mixed|*1 1|text/plain|x", "M|-|multipart without boundary;M|-|boundary taken from the body", 0},
    {"missing boundary, preamble first",
     "Content-Type: multipart/mixed\n\nThis is MIME.\n-- \n--b\nContent-Type: text/html\n\n<p>\n--b\n\ny\n--b--\n",
     "-|multipart/mixed|*2 1|text/html|<p> 2|text/plain|y",
     "M|-|multipart without boundary;M|-|boundary taken from the body", 0},
    {"missing boundary, none in the body", "Content-Type: multipart/mixed\n\nno delimiter here\n-- \n",
     "-|multipart/mixed|no delimiter here~-- ~", "M|-|multipart without boundary", 0},
    {"missing boundary inside a multipart",
     "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative\n\n"
     "--i\n\nin\n--i--\n--o\nContent-Type: multipart/mixed; boundary=\"\"\n\njust text\n--o--\n",
     "-|multipart/mixed|*2 1|multipart/alternative|*1 1.1|text/plain|in 2|multipart/mixed|just text",
     "M|1|multipart without boundary;M|1|boundary taken from the body;M|2|multipart without boundary", 0},
    {"base64 multipart",
     "Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: base64\n\n"
     "LS1iCkNvbnRlbnQtVHlwZTogdGV4dC9wbGFpbgoKaGlkZGVuCi0tYgpDb250ZW50LVR5cGU6IGFwcGxp\n"
     "Y2F0aW9uL29jdGV0LXN0cmVhbTsgbmFtZT1hLmV4ZQoKTVoKLS1iLS0K\n",
     "-|multipart/mixed|*2 1|text/plain|hidden 2|application/octet-stream|MZ", "M|-|encoded multipart", 0},
    {"quoted-printable multipart",
     "Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: quoted-printable\n\n"
     "--b\n\nq=3Dp=\n!\n--b--\n",
     "-|multipart/mixed|*1 1|text/plain|q=p!", "M|-|encoded multipart", 0},
    {"encoded multipart cannot close the outer one",
     "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n"
     "Content-Transfer-Encoding: base64\n\nLS1pCgp4Ci0tby0tCnkK\n--o\n\nafter\n--o--\n",
     "-|multipart/mixed|*2 1|multipart/mixed|*1 1.1|text/plain|x~--o--~y~ 2|text/plain|after",
     "M|1|encoded multipart;M|1|boundary never closed", 0},
    {"encoded multipart without boundary: only the decoded lines show it (fuzz regression)",
     "Content-Type: multipart/mixed\nContent-Transfer-Encoding: base64\n\nLS16egoKaW4KLS16ei0tCg==\n--x\n",
     "-|multipart/mixed|*1 1|text/plain|in",
     "M|-|multipart without boundary;M|-|encoded multipart;M|-|invalid base64;M|-|boundary taken from the body", 0},
    {"base64 multipart without boundary",
     "Content-Type: multipart/mixed\nContent-Transfer-Encoding: base64\n\nLS16egoKaW4KLS16ei0tCg==\n",
     "-|multipart/mixed|*1 1|text/plain|in",
     "M|-|multipart without boundary;M|-|encoded multipart;M|-|boundary taken from the body", 0},
    {"binary bytes in the preamble",
     "Content-Type: multipart/mixed; boundary=b\n\nThis is MIME.\n\x1f\x9d\x90\x01\x02\x03\x04\x05\x06\x07\x08\n"
     "--b\n\nx\n--b--\n",
     "-|multipart/mixed|*1 1|text/plain|x", "H|-|9 binary bytes outside any part (preamble or epilogue)", 0},
    {"a text preamble and epilogue are no problem",
     "Content-Type: multipart/mixed; boundary=b\n\nThis is a multi-part message in MIME format.\n--b\n\nx\n--b--\n"
     "Sent from the office.\n",
     "-|multipart/mixed|*1 1|text/plain|x", "", 0},
    {"boundary never appears", "Content-Type: multipart/mixed; boundary=b\n\n--c\n\nx\n", "-|multipart/mixed|*0",
     "M|-|boundary not found", 0},
    {"empty multipart", "Content-Type: multipart/mixed; boundary=b\n\n--b--\n", "-|multipart/mixed|*0",
     "M|-|empty multipart", 0},
    {"nul in body and header", "Subject: a\0b\n\nx\0y\n", "-|text/plain|x0y~",
     "M|-|NUL byte in header;M|-|NUL byte in body", 18},
    {"invalid base64", "Content-Transfer-Encoding: base64\n\nQU*JD\n", "-|text/plain|ABC", "M|-|invalid base64", 0},
    {"invalid qp", "Content-Transfer-Encoding: quoted-printable\n\na=ZZ\n", "-|text/plain|a=ZZ~",
     "M|-|invalid quoted-printable", 0},
    {"header without colon later", "Subject: a\nthis is junk\nContent-Type: text/html\n\n<b>\n", "-|text/html|<b>~",
     "M|-|header without colon", 0},
    {"continuation without header", " leading space\nSubject: a\n\nx\n", "-|text/plain|x~",
     "M|-|continuation without header", 0},
    {"duplicate content-type", "Content-Type: text/html\nContent-Type: application/x-msdownload\n\nx\n",
     "-|text/html|x~", "M|-|duplicate content-type", 0},
    {"invalid content-type", "Content-Type: garbage\n\nx\n", "-|text/plain|x~", "M|-|invalid content-type", 0},
    {"unknown cte", "Content-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n", "-|text/plain|begin 644 a~",
     "M|-|unknown content-transfer-encoding", 0},
    {"mbox from line", "From someone@example.com Mon Jan  1 00:00:00 2024\nSubject: a\n\nx\n", "-|text/plain|x~", "",
     0},
    {"part without headers", "Content-Type: multipart/mixed; boundary=b\n\n--b\nno header here\n--b--\n",
     "-|multipart/mixed|*1 1|text/plain|no header here", "M|1|header without colon", 0},
    {"part headers cut by boundary",
     "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n--b--\n",
     "-|multipart/mixed|*1 1|text/html|", "", 0},
    {"base64 rfc822 is parsed",
     "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeAoKeQo=\n",
     "-|message/rfc822|*1 1|text/plain|y~", "M|-|encoded message/rfc822", 0},
    {"x-uuencode rfc822 stays a leaf", "Content-Type: message/rfc822\nContent-Transfer-Encoding: x-uuencode\n\nab\n",
     "-|message/rfc822|ab~", "M|-|unknown content-transfer-encoding", 0},
    {"nul in a header name and parameters",
     "Content-Type\0: text/plain; name=\"a.pdf\0.exe\"\nSubject: =?utf-8?B?YQBi?=\n\nx\n", "-|text/plain|x~",
     "M|-|NUL byte in header", 74},
};

static void test_table(void **state)
{
	mime_limits lim;
	size_t i;
	int fail = 0;

	(void)state;
	mime_limits_default(&lim);
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		static const size_t chunks[] = {0, 1, 7, 3};
		mw_buf first;
		size_t k;

		buf_init(&first, 0);
		for (k = 0; k < MW_ARRAY_LEN(chunks); k++) {
			mime_limits l = lim;
			mw_buf tree, probs, all;
			mime_parser *p;

			if (k == 2)
				l.mem_part_max = 0; /* everything spilled */
			p = parse(cases[i].msg, cases[i].len ? cases[i].len : strlen(cases[i].msg), chunks[k], &l);
			buf_init(&tree, 0);
			buf_init(&probs, 0);
			buf_init(&all, 0);
			summarize(&tree, mime_root(p));
			problems(&probs, p);
			if (k == 0) {
				if (strcmp(tree.p, cases[i].tree) != 0) {
					print_error("%s: got tree \"%s\", want \"%s\"\n", cases[i].name, tree.p,
					            cases[i].tree);
					fail++;
				}
				if (strcmp(probs.p, cases[i].probs) != 0) {
					print_error("%s: got problems \"%s\", want \"%s\"\n", cases[i].name, probs.p,
					            cases[i].probs);
					fail++;
				}
			}
			buf_printf(&all, "%s / %s", tree.p, probs.p);
			if (k == 0) {
				buf_puts(&first, all.p);
			} else if (strcmp(all.p, first.p) != 0) {
				print_error("%s: fed in %zu-byte pieces got \"%s\", want \"%s\"\n", cases[i].name,
				            chunks[k], all.p, first.p);
				fail++;
			}
			buf_free(&tree);
			buf_free(&probs);
			buf_free(&all);
			mime_parser_free(p);
		}
		buf_free(&first);
	}
	assert_int_equal(fail, 0);
}

static void test_headers_decoded(void **state)
{
	const char *msg = "Subject: =?ISO-2022-JP?B?GyRCRnxLXBsoQg==?=\n"
	                  " =?UTF-8?B?6Kqe?=\nX-Dup: 1\nx-dup: 2\n"
	                  "Content-Type: application/octet-stream; name=\"=?Shift_JIS?B?k/qWey5leGU=?=\"\n"
	                  "Content-Disposition: ATTACHMENT\n\nx";
	mime_parser *p = parse(msg, strlen(msg), 0, NULL);
	const mime_part *r = mime_root(p);
	const char *v;

	(void)state;
	assert_string_equal(mime_part_header(r, "subject", 0), "日本語");
	assert_string_equal(mime_part_header(r, "X-DUP", 1), "2");
	assert_null(mime_part_header(r, "x-dup", 2));
	assert_string_equal(mime_part_filename(r), "日本.exe");
	assert_string_equal(mime_part_disposition(r), "attachment");
	assert_string_equal(mime_part_encoding(r), "7bit");
	assert_null(mime_part_charset(r));
	assert_int_equal(mime_part_header_count(r), 5);
	assert_string_equal(mime_part_header_at(r, 1, &v), "X-Dup");
	assert_string_equal(v, "1");
	assert_null(mime_part_parent(r));
	mime_parser_free(p);
}

static void test_text_conversion(void **state)
{
	const char *msg = "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	                  "Content-Type: text/plain; charset=ISO-2022-JP\n\n\x1b$BF|K\\\x1b(B\n--b\n"
	                  "Content-Type: text/plain; charset=shift_jis\nContent-Transfer-Encoding: base64\n\n"
	                  "k/qWe4dA\n--b\nContent-Type: text/plain; charset=euc-jp\n"
	                  "Content-Transfer-Encoding: quoted-printable\n\n=C6=FC=CB=DC\n--b--\n";
	mime_limits lim;
	size_t n, k;

	(void)state;
	mime_limits_default(&lim);
	for (k = 0; k < 2; k++) {
		lim.mem_part_max = k ? 0 : 1000;
		mime_parser *p = parse(msg, strlen(msg), 0, &lim);
		const mime_part *r = mime_root(p);
		char *t;

		t = mime_part_text(mime_part_child(r, 0), 100, &n);
		assert_string_equal(t, "日本");
		x_free(t);
		t = mime_part_text(mime_part_child(r, 1), 100, &n);
		assert_string_equal(t, "日本①");
		x_free(t);
		t = mime_part_text(mime_part_child(r, 2), 100, &n);
		assert_string_equal(t, "日本");
		x_free(t);
		t = mime_part_text(mime_part_child(r, 2), 4, &n);
		assert_string_equal(t, "日");
		x_free(t);
		assert_null(mime_part_text(r, 100, &n));
		mime_parser_free(p);
	}
}

/* b64 - base64 of len bytes, lines of 76 */
static void b64(mw_buf *out, const char *in, size_t len)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, col = 0;

	for (i = 0; i < len; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)in[i + 2];
		buf_putc(out, al[v >> 18 & 63]);
		buf_putc(out, al[v >> 12 & 63]);
		buf_putc(out, i + 1 < len ? al[v >> 6 & 63] : '=');
		buf_putc(out, i + 2 < len ? al[v & 63] : '=');
		if ((col += 4) >= 76) {
			buf_putc(out, '\n');
			col = 0;
		}
	}
	buf_putc(out, '\n');
}

/* NUL bytes never cut a header name, a value or a file name short. */
static void test_hostile_nul(void **state)
{
	static const char msg[] = "Content-Type\0: application/octet-stream; name=\"a.pdf\0.exe\"\n"
	                          "Subject: =?utf-8?B?YQBi?= =?utf-16be?B?AGEAAABi?= c\n"
	                          "Content-Disposition: attachment; filename*=utf-8''b.pdf%00.scr\n\nx\0y\n";
	mime_parser *p = parse(msg, sizeof(msg) - 1, 0, NULL);
	const mime_part *r = mime_root(p);
	mw_buf pr;

	(void)state;
	assert_string_equal(mime_part_type(r), "application/octet-stream");
	/* an encoded NUL (UTF-8 or UTF-16) becomes U+FFFD: it cannot end the value */
	assert_string_equal(mime_part_header(r, "subject", 0), "a\xef\xbf\xbd"
	                                                       "ba\xef\xbf\xbd"
	                                                       "b c");
	/* filename (RFC 2231) wins over name; %00 became U+FFFD, the extension stays visible */
	assert_string_equal(mime_part_filename(r), "b.pdf\xef\xbf\xbd.scr");
	buf_init(&pr, 0);
	problems(&pr, p);
	assert_string_equal(pr.p, "M|-|NUL byte in header;M|-|bad file name encoding;M|-|NUL byte in body");
	buf_free(&pr);
	mime_parser_free(p);

	static const char msg2[] = "Content-Type: application/octet-stream; name=\"a.pdf\0.exe\"\n\nx\n";
	p = parse(msg2, sizeof(msg2) - 1, 0, NULL);
	assert_string_equal(mime_part_filename(mime_root(p)), "a.pdf .exe");
	mime_parser_free(p);
}

/* Text that declares one charset but is UTF-16 is read as UTF-16 and reported. */
static void test_utf16(void **state)
{
	static const struct {
		const char *name, *msg, *kind, *text, *probs;
	} c[] = {
	    {"BOM LE",
	     "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n"
	     "//5zAGUAZQAgAGgAdAB0AHAAOgAvAC8AeAAuAGUAeABhAG0AcABsAGUALwAKAA==\n",
	     "UTF-16LE", "see http://x.example/\n", "M|-|text declared iso-8859-1 is UTF-16LE"},
	    {"no BOM LE",
	     "Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n"
	     "cwBlAGUAIABoAHQAdABwADoALwAvAHgALgBlAHgAYQBtAHAAbABlAC8ACgA=\n",
	     "UTF-16LE", "see http://x.example/\n", "M|-|text declared us-ascii is UTF-16LE"},
	    {"no BOM BE",
	     "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	     "AHMAZQBlACAAaAB0AHQAcAA6AC8ALwB4AC4AZQB4AGEAbQBwAGwAZQAvAAo=\n",
	     "UTF-16BE", "see http://x.example/\n", "M|-|text declared utf-8 is UTF-16BE"},
	    {"declared UTF-16",
	     "Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n"
	     "//5zAGUAZQAgAGgAdAB0AHAAOgAvAC8AeAAuAGUAeABhAG0AcABsAGUALwAKAA==\n",
	     NULL, "see http://x.example/\n", ""},
	    {"short", "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nYQBiAA==\n", NULL, NULL, ""},
	    {"attachment not text",
	     "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
	     "//5zAGUAZQAgAGgAdAB0AHAAOgAvAC8AeAAuAGUAeABhAG0AcABsAGUALwAKAA==\n",
	     NULL, NULL, ""},
	};
	size_t i, n;
	int fail = 0;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(c); i++) {
		mime_parser *p = parse(c[i].msg, strlen(c[i].msg), 0, NULL);
		const mime_part *r = mime_root(p);
		const char *kind = mime_part_utf16(r);
		char *t = mime_part_text(r, 1000, &n);
		mw_buf pr;

		buf_init(&pr, 0);
		problems(&pr, p);
		if ((kind == NULL) != (c[i].kind == NULL) || (kind && strcmp(kind, c[i].kind) != 0)) {
			print_error("%s: got kind %s, want %s\n", c[i].name, kind ? kind : "none",
			            c[i].kind ? c[i].kind : "none");
			fail++;
		}
		if (c[i].text && strcmp(t, c[i].text) != 0) {
			print_error("%s: got text \"%s\", want \"%s\"\n", c[i].name, t, c[i].text);
			fail++;
		}
		if (strcmp(pr.p, c[i].probs) != 0) {
			print_error("%s: got problems \"%s\", want \"%s\"\n", c[i].name, pr.p, c[i].probs);
			fail++;
		}
		buf_free(&pr);
		x_free(t);
		mime_parser_free(p);
	}
	assert_int_equal(fail, 0);
}

/* Encoded multiparts inside encoded multiparts: parsed to max_depth, parts counted once for all. */
static void test_encoded_nesting(void **state)
{
	mime_limits lim;
	mw_buf inner, outer;
	size_t i, n = 40;
	mime_parser *p;
	const mime_part *q;
	mw_buf pr;

	(void)state;
	/* level n: a text part; level k: multipart bk whose part is level k+1, base64 encoded */
	buf_init(&inner, 0);
	buf_puts(&inner, "Content-Type: text/plain\n\ndeepest\n");
	for (i = n; i-- > 0;) {
		buf_init(&outer, 0);
		buf_printf(&outer,
		           "Content-Type: multipart/mixed; boundary=b%zu\nContent-Transfer-Encoding: base64\n\n", i);
		mw_buf body;
		buf_init(&body, 0);
		buf_printf(&body, "--b%zu\n", i);
		buf_append(&body, inner.p, inner.len);
		buf_printf(&body, "--b%zu--\n", i);
		b64(&outer, body.p, body.len);
		buf_free(&body);
		buf_free(&inner);
		inner = outer;
	}
	mime_limits_default(&lim);
	lim.max_depth = 10;
	for (i = 0; i < 3; i++) {
		static const size_t chunks[] = {0, 1, 5};
		p = parse(inner.p, inner.len, chunks[i], &lim);
		/* root + 9 nested multiparts (depth 1..9) + the one at depth 10, an opaque leaf */
		assert_int_equal(mime_part_count(p), 11);
		for (q = mime_root(p); !mime_part_is_leaf(q); q = mime_part_child(q, 0))
			;
		assert_int_equal(mime_part_depth(q), 10);
		buf_init(&pr, 0);
		problems(&pr, p);
		assert_non_null(strstr(pr.p, "L|1.1.1.1.1.1.1.1.1.1|nesting too deep"));
		assert_non_null(strstr(pr.p, "M|-|encoded multipart"));
		buf_free(&pr);
		mime_parser_free(p);
	}
	lim.max_depth = 100;
	p = parse(inner.p, inner.len, 0, &lim);
	for (q = mime_root(p); !mime_part_is_leaf(q); q = mime_part_child(q, 0))
		;
	assert_int_equal(mime_part_depth(q), n);
	char *t = mime_part_text(q, 100, &i);
	assert_string_equal(t, "deepest"); /* the line end before a boundary belongs to it */
	x_free(t);
	mime_parser_free(p);
	buf_free(&inner);

	/* max_parts holds across the encoded layer */
	buf_init(&inner, 0);
	buf_init(&outer, 0);
	for (i = 0; i < 10; i++)
		buf_printf(&inner, "--p\n\npart %zu\n", i);
	buf_puts(&inner, "--p--\n");
	buf_puts(&outer, "Content-Type: multipart/mixed; boundary=p\nContent-Transfer-Encoding: base64\n\n");
	b64(&outer, inner.p, inner.len);
	mime_limits_default(&lim);
	lim.max_parts = 4;
	p = parse(outer.p, outer.len, 0, &lim);
	assert_int_equal(mime_part_count(p), 4);
	buf_init(&pr, 0);
	problems(&pr, p);
	assert_string_equal(pr.p, "M|-|encoded multipart;L|-|too many parts");
	buf_free(&pr);
	mime_parser_free(p);
	buf_free(&inner);
	buf_free(&outer);
}

/* many_parts - a multipart with n text parts */
static char *many_parts(size_t n)
{
	mw_buf b;
	size_t i;

	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=P\n\n");
	for (i = 0; i < n; i++)
		buf_printf(&b, "--P\n\npart %zu\n", i + 1);
	buf_puts(&b, "--P--\n");
	return b.p;
}

static void test_limits(void **state)
{
	mime_limits lim;
	mime_parser *p;
	mw_buf b, pr;
	char *msg;
	size_t i;

	(void)state;
	/* 500 parts: 300 made (root included), one problem, parse completes. */
	mime_limits_default(&lim);
	msg = many_parts(500);
	p = parse(msg, strlen(msg), 0, &lim);
	assert_int_equal(mime_part_count(p), 300);
	buf_init(&pr, 0);
	problems(&pr, p);
	assert_string_equal(pr.p, "L|-|too many parts");
	buf_free(&pr);
	mime_parser_free(p);
	x_free(msg);

	/* 60 levels: the multipart at depth 30 is an opaque leaf. */
	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=L0\n\n");
	for (i = 0; i < 60; i++)
		buf_printf(&b, "--L%zu\nContent-Type: multipart/mixed; boundary=L%zu\n\n", i, i + 1);
	buf_puts(&b, "--L60\n\ndeep\n--L60--\n");
	for (i = 60; i-- > 0;)
		buf_printf(&b, "--L%zu--\n", i);
	p = parse(b.p, b.len, 0, &lim);
	assert_int_equal(mime_part_count(p), 31);
	assert_int_equal(mime_problem_count(p), 1);
	assert_int_equal(mime_problem_get(p, 0)->kind, MIME_PROB_LIMITS);
	assert_string_equal(mime_problem_get(p, 0)->detail, "nesting too deep");
	mime_parser_free(p);
	buf_free(&b);

	/* A 100 KB header line: first max_header_line bytes kept. */
	buf_init(&b, 0);
	buf_puts(&b, "X-Long: ");
	for (i = 0; i < 100 * 1024; i++)
		buf_putc(&b, 'a' + (int)(i % 26));
	buf_puts(&b, "\nSubject: after\n\nbody\n");
	lim.max_header_line = 1000;
	p = parse(b.p, b.len, 0, &lim);
	assert_int_equal(strlen(mime_part_header(mime_root(p), "x-long", 0)), 1000 - 8);
	assert_string_equal(mime_part_header(mime_root(p), "subject", 0), "after");
	assert_string_equal(mime_problem_get(p, 0)->detail, "header line too long");
	assert_int_equal(mime_problem_count(p), 1);
	mime_parser_free(p);
	buf_free(&b);

	/* max_headers: the rest not stored, Content-Type still honoured. */
	mime_limits_default(&lim);
	lim.max_headers = 3;
	buf_init(&b, 0);
	for (i = 0; i < 10; i++)
		buf_printf(&b, "X-H%zu: v\n", i);
	buf_puts(&b, "Content-Type: text/html\n\n<b>\n");
	p = parse(b.p, b.len, 0, &lim);
	assert_int_equal(mime_part_header_count(mime_root(p)), 3);
	assert_string_equal(mime_part_type(mime_root(p)), "text/html");
	assert_string_equal(mime_problem_get(p, 0)->detail, "too many headers");
	mime_parser_free(p);
	buf_free(&b);

	/* max_boundary and max_decoded. */
	mime_limits_default(&lim);
	lim.max_boundary = 5;
	lim.max_decoded = 10;
	msg = "Content-Type: multipart/mixed; boundary=toolongboundary\n\n--toolongboundary\n\n"
	      "0123456789abcdef\n";
	p = parse(msg, strlen(msg), 0, &lim);
	buf_init(&pr, 0);
	problems(&pr, p);
	assert_string_equal(pr.p, "L|-|boundary too long;L|-|decoded size limit");
	assert_int_equal(mime_decoded_total(p), 10);
	buf_free(&pr);
	mime_parser_free(p);
}

static void test_problem_cap(void **state)
{
	mime_limits lim;
	mw_buf b;
	size_t i;

	(void)state;
	mime_limits_default(&lim);
	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=P\n\n");
	for (i = 0; i < 100; i++)
		buf_puts(&b, "--P\nContent-Transfer-Encoding: base64\n\n!!QUJD!!\n*\n");
	buf_puts(&b, "--P--\n");
	mime_parser *p = parse(b.p, b.len, 0, &lim);
	/* One per part (deduplicated within a part), capped at 64. */
	assert_int_equal(mime_problem_count(p), 64);
	assert_int_equal(mime_problem_dropped(p), 36);
	assert_string_equal(mime_problem_get(p, 63)->part, "64");
	mime_parser_free(p);
	buf_free(&b);
}

static void test_spill(void **state)
{
	mime_limits lim;
	mw_buf b;
	size_t i, len;
	const void *data;
	int fd;
	char tail[16];

	(void)state;
	mime_limits_default(&lim);
	lim.mem_part_max = 1000;
	buf_init(&b, 0);
	buf_puts(&b, "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n");
	for (i = 0; i < 1000; i++)
		buf_puts(&b, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n");
	buf_puts(&b, "--b\n\nsmall\n--b--\n");
	mime_parser *p = parse(b.p, b.len, 4096, &lim);
	const mime_part *big = mime_part_child(mime_root(p), 0);
	const mime_part *small = mime_part_child(mime_root(p), 1);

	mime_part_body(big, &data, &fd, &len);
	assert_null(data);
	assert_true(fd >= 0);
	assert_int_equal(len, 57000);
	assert_int_equal(pread(fd, tail, 4, 56996), 4);
	assert_memory_equal(tail, "1234", 4);
	mime_part_body(small, &data, &fd, &len);
	assert_non_null(data);
	assert_int_equal(fd, -1);
	assert_int_equal(len, 5);
	mime_part_body(mime_root(p), &data, &fd, &len);
	assert_string_equal(data, "");
	assert_int_equal(len, 0);
	mime_parser_free(p);
	buf_free(&b);
}

/* rss_kb - current resident set size */
static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_memory_bound(void **state)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	mime_limits lim;
	char chunk[77 * 1024];
	size_t i, total = 0;
	long before, after;
	const char *head = "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	                   "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n";

	(void)state;
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (i % 77 == 76) ? '\n' : alpha[(i * 7 + i / 77) % 64];
	mime_limits_default(&lim);
	lim.mem_part_max = 64 * 1024;
	before = rss_kb();
	mime_parser *p = mime_parser_new(&lim, NULL);
	assert_int_equal(mime_parser_feed(p, head, strlen(head)), 0);
	/* About 68 MB of base64, 50 MB decoded. */
	while (total < 68u * 1024 * 1024) {
		assert_int_equal(mime_parser_feed(p, chunk, sizeof(chunk)), 0);
		total += sizeof(chunk);
	}
	assert_int_equal(mime_parser_feed(p, "--b--\n", 6), 0);
	assert_int_equal(mime_parser_finish(p), 0);
	after = rss_kb();
	const void *data;
	int fd;
	size_t len;
	mime_part_body(mime_part_child(mime_root(p), 0), &data, &fd, &len);
	assert_true(len > 50u * 1024 * 1024);
	assert_true(fd >= 0);
	if (after - before > 8 * 1024) {
		print_error("memory bound: got RSS growth %ld KB, want < 8192 KB\n", after - before);
		fail();
	}
	assert_int_equal(mime_problem_count(p), 0);
	mime_parser_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),           cmocka_unit_test(test_headers_decoded),
	    cmocka_unit_test(test_text_conversion), cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_problem_cap),     cmocka_unit_test(test_spill),
	    cmocka_unit_test(test_memory_bound),    cmocka_unit_test(test_hostile_nul),
	    cmocka_unit_test(test_utf16),           cmocka_unit_test(test_encoded_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
