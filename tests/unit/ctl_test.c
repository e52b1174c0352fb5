/*
 * ctl_test.c - the control protocol parser, command lookup, verdict
 * counters, the console's key decoder and line editor, console passwords.
 * Table-driven cases report "got X, want Y".
 *
 * The console files are not in libmw.a (the console is part of the
 * mailwarden command), so their pure parts are compiled in here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl/ctl.h"
#include "ctl/ctl_int.h"
#include "util/util.h"

#include "console/console_edit.c"
#include "console/console_keys.c"
#include "console/console_passwd.c"

/* ---- protocol: request lines ---- */

typedef struct req_case {
	const char *name;
	const char *line;
	int ok;
	const char *want[6]; /* words, NULL-terminated; or the error substring in want[0] */
} req_case;

static const req_case req_cases[] = {
    {"one word", "status", 1, {"status"}},
    {"spaces", "  rules   set  sender.fanout_threshold  3 ", 1, {"rules", "set", "sender.fanout_threshold", "3"}},
    {"quoted", "track subject \"two words\"", 1, {"track", "subject", "two words"}},
    {"escapes", "x \"a\\\"b\\\\c\"", 1, {"x", "a\"b\\c"}},
    {"empty quoted", "x \"\" y", 1, {"x", "", "y"}},
    {"utf-8",
     "track subject \"\xe5\xb9\xb4\xe9\x87\x91 \xe6\xa9\x9f\xe6\xa7\x8b\"",
     1,
     {"track", "subject", "\xe5\xb9\xb4\xe9\x87\x91 \xe6\xa9\x9f\xe6\xa7\x8b"}},
    {"unterminated", "x \"abc", 0, {"unterminated quote"}},
    {"quote inside word", "x ab\"c", 0, {"inside a word"}},
    {"backslash inside word", "x a\\b", 0, {"inside a word"}},
    {"bad escape", "x \"a\\n\"", 0, {"bad escape"}},
    {"text after quote", "x \"a\"b", 0, {"after closing quote"}},
    {"tab", "x\ty", 0, {"control character"}},
    {"cr", "x\ry", 0, {"control character"}},
    {"del", "x\x7f", 0, {"control character"}},
    {"empty", "", 0, {"empty request"}},
    {"blank", "    ", 0, {"empty request"}},
    {"bad utf-8", "x \xff", 0, {"UTF-8"}},
    {"overlong utf-8", "x \xc0\xaf", 0, {"UTF-8"}},
    {"surrogate", "x \xed\xa0\x80", 0, {"UTF-8"}},
    {"truncated utf-8", "x \xe6\xa9", 0, {"UTF-8"}},
};

static void test_parse_requests(void **state)
{
	size_t i, k;
	ctl_req req;
	char err[200];

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(req_cases); i++) {
		const req_case *c = &req_cases[i];
		int rc;
		err[0] = 0;
		rc = ctl_parse_request(c->line, strlen(c->line), &req, err, sizeof(err));
		if ((rc == 0) != c->ok) {
			print_error("%s: got rc %d (%s), want %s\n", c->name, rc, err, c->ok ? "ok" : "error");
			fail();
		}
		if (!c->ok) {
			if (strstr(err, c->want[0]) == NULL) {
				print_error("%s: got error \"%s\", want \"%s\"\n", c->name, err, c->want[0]);
				fail();
			}
			continue;
		}
		for (k = 0; c->want[k]; k++)
			if (k >= req.argc || strcmp(req.argv[k], c->want[k]) != 0) {
				print_error("%s: word %zu: got \"%s\", want \"%s\"\n", c->name, k,
				            k < req.argc ? req.argv[k] : "(none)", c->want[k]);
				fail();
			}
		assert_int_equal(req.argc, k);
		assert_null(req.argv[req.argc]);
	}
}

static void test_parse_limits(void **state)
{
	char line[CTL_MAX_LINE + 10], err[200];
	ctl_req req;
	size_t i;

	(void)state;
	memset(line, 'a', sizeof(line));
	/* CTL_MAX_LINE - 1 bytes of text is the longest line (its LF makes CTL_MAX_LINE) */
	assert_int_equal(ctl_parse_request(line, CTL_MAX_LINE - 1, &req, err, sizeof(err)), 0);
	assert_int_equal(ctl_parse_request(line, CTL_MAX_LINE, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	for (i = 0; i < 2 * (CTL_MAX_ARGS + 1); i += 2) {
		line[i] = 'w';
		line[i + 1] = ' ';
	}
	assert_int_equal(ctl_parse_request(line, 2 * CTL_MAX_ARGS - 1, &req, err, sizeof(err)), 0);
	assert_int_equal(req.argc, CTL_MAX_ARGS);
	assert_int_equal(ctl_parse_request(line, 2 * CTL_MAX_ARGS + 1, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many words"));
}

static void test_quote_roundtrip(void **state)
{
	char *words[] = {"block",   "sender",      "a@b.example", "",   "two words",
	                 "q\"uote", "back\\slash", "\"",          "\\", "\xe6\x97\xa5\xe6\x9c\xac"};
	size_t n = MW_ARRAY_LEN(words), i;
	char err[200];
	ctl_req req;
	mw_buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(ctl_join(&b, n, words), 0);
	assert_int_equal(ctl_parse_request(b.p, b.len, &req, err, sizeof(err)), 0);
	assert_int_equal(req.argc, n);
	for (i = 0; i < n; i++)
		assert_string_equal(req.argv[i], words[i]);
	buf_free(&b);
}

typedef struct greet_case {
	const char *line;
	int rc, version;
} greet_case;

static const greet_case greet_cases[] = {
    {"MAILWARDEN-CTL 1", 0, 1},
    {"MAILWARDEN-CTL 1 mailwardend 0.1.0", 0, 1},
    {"MAILWARDEN-CTL 2", 0, 2},
    {"MAILWARDEN-CTL 01", -1, 0},
    {"MAILWARDEN-CTL", -1, 0},
    {"MAILWARDEN-CTL ", -1, 0},
    {"MAILWARDEN-CTL 1x", -1, 0},
    {"MAILWARDEN-CTL 1000", -1, 0},
    {"SMTP 1", -1, 0},
    {"mailwarden-ctl 1", -1, 0},
    {"MAILWARDEN-CTL 0", -1, 0},
};

static void test_greeting(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(greet_cases); i++) {
		int v = 0, rc = ctl_parse_greeting(greet_cases[i].line, &v);
		if (rc != greet_cases[i].rc || (rc == 0 && v != greet_cases[i].version)) {
			print_error("greeting \"%s\": got rc %d version %d, want rc %d version %d\n",
			            greet_cases[i].line, rc, v, greet_cases[i].rc, greet_cases[i].version);
			fail();
		}
	}
}

static void test_classify(void **state)
{
	static const struct {
		const char *line;
		ctl_line_kind kind;
		const char *text;
	} cases[] = {
	    {" data", CTL_LINE_DATA, "data"},
	    {" OK forged", CTL_LINE_DATA, "OK forged"},
	    {"OK", CTL_LINE_OK, ""},
	    {"OK 3 rules", CTL_LINE_OK, "3 rules"},
	    {"ERR usage x", CTL_LINE_ERR, "usage x"},
	    {"ERR not-found", CTL_LINE_ERR, "not-found"},
	    {"ERR", CTL_LINE_BAD, ""},
	    {"ERR Usage x", CTL_LINE_BAD, ""},
	    {"OKAY", CTL_LINE_BAD, ""},
	    {"", CTL_LINE_BAD, ""},
	    {"data without space", CTL_LINE_BAD, ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		const char *t;
		ctl_line_kind k = ctl_classify(cases[i].line, &t);
		if (k != cases[i].kind || strcmp(t, cases[i].text) != 0) {
			print_error("\"%s\": got kind %d \"%s\", want %d \"%s\"\n", cases[i].line, k, t, cases[i].kind,
			            cases[i].text);
			fail();
		}
	}
}

/* ---- the command table ---- */

static void test_lookup(void **state)
{
	static const struct {
		const char *line;
		const char *name, *sub; /* NULL name: error */
		size_t skip;
		const char *err;
	} cases[] = {
	    {"status", "status", NULL, 1, NULL},
	    {"rules", "rules", "show", 1, NULL},
	    {"rules set a.b 1", "rules", "set", 2, NULL},
	    {"rules sender", "rules", "show", 1, NULL},
	    {"quarantine held", "quarantine", "list", 1, NULL},
	    {"quarantine release abc", "quarantine", "release", 2, NULL},
	    {"sigs reload", "sigs", "reload", 2, NULL},
	    {"list add allow x.example", "list", "add", 2, NULL},
	    {"frobnicate", NULL, NULL, 0, "unknown command"},
	    {"Status", NULL, NULL, 0, "unknown command"},
	};
	size_t i, skip;
	char err[200];
	ctl_req req;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		const ctl_cmd *e;
		assert_int_equal(ctl_parse_request(cases[i].line, strlen(cases[i].line), &req, err, sizeof(err)), 0);
		e = ctl_lookup(req.argc, req.argv, &skip, err, sizeof(err));
		if (cases[i].name == NULL) {
			assert_null(e);
			assert_non_null(strstr(err, cases[i].err));
			continue;
		}
		if (e == NULL || strcmp(e->name, cases[i].name) != 0 ||
		    (cases[i].sub ? e->sub == NULL || strcmp(e->sub, cases[i].sub) != 0 : e->sub != NULL) ||
		    skip != cases[i].skip) {
			print_error("\"%s\": got %s %s skip %zu, want %s %s skip %zu\n", cases[i].line,
			            e ? e->name : "NULL", e && e->sub ? e->sub : "-", skip, cases[i].name,
			            cases[i].sub ? cases[i].sub : "-", cases[i].skip);
			fail();
		}
	}
}

static void test_help_fits_80_columns(void **state)
{
	size_t n, i;
	const ctl_cmd *t = ctl_commands(&n);
	mw_buf b;
	char *line, *save = NULL;

	(void)state;
	buf_init(&b, 0);
	ctl_help(&b, NULL);
	for (i = 0; i < n; i++)
		ctl_help(&b, t[i].name);
	for (line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strlen(line) > 79) {
			print_error("help line of %zu columns: %s\n", strlen(line), line);
			fail();
		}
	buf_free(&b);
	for (i = 0; i < n; i++) {
		assert_non_null(t[i].run);
		assert_non_null(t[i].help);
		assert_true(t[i].min <= t[i].max);
	}
}

static void test_check_track(void **state)
{
	char *ok[] = {"sender", "a@b", "since", "24h"}, *odd[] = {"sender"}, *bad[] = {"colour", "red"};
	char err[200];

	(void)state;
	assert_int_equal(ctl_check_track(4, ok, err, sizeof(err)), 0);
	assert_int_equal(ctl_check_track(1, odd, err, sizeof(err)), -1);
	assert_int_equal(ctl_check_track(2, bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown criterion"));
}

/* ---- verdict counters ---- */

static void verdict_of(mw_verdict *v, mw_action a, const char *code1, const char *code2)
{
	verdict_init(v);
	if (code1)
		verdict_add(v, code1, "", "x");
	if (code2)
		verdict_add(v, code2, "p", "y");
	v->action = a;
}

static void test_stats_buckets(void **state)
{
	time_t t0 = 1800000000 - 1800000000 % 3600 + 600; /* 10 minutes into an hour */
	int blocked = reason_index("sender.blocked"), fanout = reason_index("sender.fanout");
	mw_verdict v;
	ctl_counts c;
	mw_buf b;

	(void)state;
	ctl_stats_reset();
	verdict_of(&v, MW_REJECT, "sender.blocked", "sender.blocked"); /* one code, counted once */
	ctl_stats_verdict_at(t0 - 26 * 3600, "rcpt", "Q0", "old@x.example", "r@example.com", 1, &v); /* too old */
	ctl_stats_verdict_at(t0 - 2 * 3600, "rcpt", "Q1", "a@x.example", "r@example.com", 1, &v);
	ctl_stats_verdict_at(t0 - 61 * 60, "rcpt", "Q2", "b@x.example", "r@example.com", 1, &v);
	ctl_stats_verdict_at(t0 - 10 * 60, "rcpt", "Q3", "c@x.example", "r@example.com", 1, &v);
	verdict_of(&v, MW_ACCEPT, NULL, NULL);
	ctl_stats_verdict_at(t0 - 4 * 60, "eom", "Q4", "d@x.example", "r@example.com", 2, &v);
	verdict_of(&v, MW_REJECT, "sender.fanout", "sender.blocked");
	ctl_stats_verdict_at(t0, "rcpt", "Q5", "e@x.example", "r@example.com", 1, &v);

	ctl_stats_window(t0, 5, &c);
	assert_int_equal(c.total, 2);
	assert_int_equal(c.action[MW_ACCEPT], 1);
	assert_int_equal(c.action[MW_REJECT], 1);
	assert_int_equal(c.code[fanout], 1);
	assert_int_equal(c.code[blocked], 1);

	ctl_stats_window(t0, 60, &c);
	assert_int_equal(c.total, 3);
	assert_int_equal(c.code[blocked], 2);

	ctl_stats_window(t0, 24 * 60, &c);
	assert_int_equal(c.total, 5); /* hour buckets: not the one of 26 h ago */
	assert_int_equal(c.code[blocked], 4);
	assert_int_equal(c.action[MW_REJECT], 4);

	/* an hour later the minute ring has wrapped: stale buckets count nothing */
	ctl_stats_window(t0 + 3600, 60, &c);
	assert_int_equal(c.total, 0);
	verdict_of(&v, MW_TEMPFAIL, NULL, NULL);
	ctl_stats_verdict_at(t0 + 3600, "eom", "Q6", "f@x.example", "r@example.com", 1, &v);
	ctl_stats_window(t0 + 3600, 5, &c);
	assert_int_equal(c.total, 1);
	assert_int_equal(c.action[MW_TEMPFAIL], 1);

	buf_init(&b, 0);
	ctl_stats_tail(2, &b);
	assert_non_null(strstr(b.p, "e@x.example -> r@example.com sender.fanout,sender.blocked Q5\n"));
	assert_non_null(strstr(b.p, "tempfail"));
	assert_null(strstr(b.p, "d@x.example"));
	buf_free(&b);
}

/* ---- key decoder ---- */

/* decode - the names of the keys in s, fed in pieces of `piece` bytes, space separated */
static void decode(const char *s, size_t len, size_t piece, char *out, size_t outlen)
{
	key_dec d;
	key_ev ev;
	size_t i, n = 0;

	keys_init(&d);
	out[0] = 0;
	for (i = 0; i < len; i += piece) {
		size_t k;
		for (k = i; k < i + piece && k < len; k++) {
			if (!keys_feed(&d, (unsigned char)s[k], &ev))
				continue;
			if (ev.kind == KEY_CHAR)
				n += (size_t)snprintf(out + n, outlen - n, "%s%c", n ? " " : "", ev.ch);
			else
				n += (size_t)snprintf(out + n, outlen - n, "%s%s", n ? " " : "", keys_name(ev.kind));
		}
	}
}

static void test_keys(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"ab\r", "a b enter"},
	    {"a\r\nb", "a enter b"},
	    {"\n\n", "enter enter"},
	    {"\r\r", "enter enter"},
	    {"\x1b[A\x1bOB\x1b[C\x1b[D", "up down right left"},
	    {"\x1bOA\x1bOC\x1bOD", "up right left"},
	    {"\x08\x7f", "bs del"},
	    {"\x15\x17\x03\x04\t\x0c", "kill werase intr eof tab redraw"},
	    {"\x01\x05\x10\x0e\x02\x06", "home end up down left right"},
	    {"\x1b[3~\x1b[1~\x1b[4~\x1b[7~\x1b[8~\x1b[H\x1b[F", "delete home end home end home end"},
	    {"\x1b[1;5A\x1b[5C", "up right"},
	    {"\x1bx", "x"},
	    {"\x1b\x1b[A", "up"},
	    {"\x1b[\r", "enter"},
	    {"\x1b[99Z\x1b[2~q", "q"},
	    {"\x00\x07\x1f", ""},
	    {"\xe6\x97\xa5", "\xe6 \x97 \xa5"},
	};
	char got[300], got1[300];
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		size_t len = strlen(cases[i].in) + (cases[i].in[0] == 0 ? 3 : 0);
		decode(cases[i].in, len, 1000, got, sizeof(got));
		decode(cases[i].in, len, 1, got1, sizeof(got1)); /* split across reads */
		if (strcmp(got, cases[i].want) != 0 || strcmp(got1, got) != 0) {
			print_error("case %zu: got \"%s\" (byte by byte \"%s\"), want \"%s\"\n", i, got, got1,
			            cases[i].want);
			fail();
		}
	}
}

static void test_keys_long_sequence(void **state)
{
	char in[200], got[600];
	key_dec d;

	(void)state;
	snprintf(in, sizeof(in), "\x1b[%s", "1111111111111111111111111111111111111111111111111A");
	decode(in, strlen(in), 1, got, sizeof(got));
	keys_init(&d);
	/* abandoned after KEY_SEQ_MAX bytes; the decoder is back to normal text */
	assert_non_null(strstr(got, "A"));
	assert_null(strstr(got, "up"));
}

/* ---- line editor ---- */

typedef struct ed_run {
	line_ed e;
	mw_buf out;
	ed_status last;
} ed_run;

static void feed(ed_run *r, const char *s)
{
	key_dec d;
	key_ev ev;

	keys_init(&d);
	for (; *s; s++)
		if (keys_feed(&d, (unsigned char)*s, &ev))
			r->last = ed_key(&r->e, &ev, &r->out);
}

static size_t fake_complete(const char *line, size_t len, const char **cands, size_t max)
{
	static const char *const names[] = {"status", "sigs", "block", "blocks"};
	size_t i, n = 0, w = len;

	while (w > 0 && line[w - 1] != ' ')
		w--;
	for (i = 0; i < MW_ARRAY_LEN(names) && n < max; i++)
		if (strncmp(names[i], line + w, len - w) == 0)
			cands[n++] = names[i];
	return n;
}

static void test_editor(void **state)
{
	ed_run *r = calloc(1, sizeof(*r));

	(void)state;
	ed_init(&r->e, fake_complete);
	buf_init(&r->out, 0);
	ed_start(&r->e, "> ", 1, &r->out);
	feed(r, "hello\x7f");
	assert_string_equal(r->e.buf, "hell");
	assert_non_null(strstr(r->out.p, "hello\b \b"));
	feed(r, "\x1b[D\x1b[DX");
	assert_string_equal(r->e.buf, "heXll");
	assert_int_equal(r->e.cur, 3);
	feed(r, "\x15");
	assert_string_equal(r->e.buf, "");
	feed(r, "rules set foo\x17");
	assert_string_equal(r->e.buf, "rules set ");
	feed(r, "\x15one\r");
	assert_int_equal(r->last, ED_DONE);
	assert_string_equal(r->e.buf, "one");
	ed_start(&r->e, "> ", 1, &r->out);
	feed(r, "two\r");
	ed_start(&r->e, "> ", 1, &r->out);
	feed(r, "thr");
	feed(r, "\x1b[A");
	assert_string_equal(r->e.buf, "two");
	feed(r, "\x1bOA");
	assert_string_equal(r->e.buf, "one");
	feed(r, "\x1b[B\x1b[B");
	assert_string_equal(r->e.buf, "thr"); /* the line being typed comes back */
	feed(r, "\x01X\x05Y\x1b[3~");
	assert_string_equal(r->e.buf, "XthrY");
	feed(r, "\x03");
	assert_int_equal(r->last, ED_INTR);
	/* completion: unique, common prefix */
	ed_start(&r->e, "> ", 1, &r->out);
	feed(r, "sta\t");
	assert_string_equal(r->e.buf, "status ");
	feed(r, "\x15"
	        "bl\t");
	assert_string_equal(r->e.buf, "block");
	buf_reset(&r->out);
	feed(r, "\t");
	assert_non_null(strstr(r->out.p, "block  blocks"));
	/* ^D: end of input only on an empty line */
	feed(r, "\x15\x04");
	assert_int_equal(r->last, ED_EOF);
	buf_free(&r->out);
	free(r);
}

static void test_editor_utf8_and_password(void **state)
{
	ed_run *r = calloc(1, sizeof(*r));
	char big[ED_MAX + 20];

	(void)state;
	ed_init(&r->e, NULL);
	buf_init(&r->out, 0);
	ed_start(&r->e, "", 1, &r->out);
	feed(r, "\xe6\x97\xa5\xe6\x9c\xac");
	assert_string_equal(r->e.buf, "\xe6\x97\xa5\xe6\x9c\xac");
	assert_int_equal(ed_width(r->e.buf, r->e.len), 4);
	buf_reset(&r->out);
	feed(r, "\x08");
	assert_string_equal(r->e.buf, "\xe6\x97\xa5"); /* the whole character */
	assert_string_equal(r->out.p, "\b\b  \b\b");
	feed(r, "\xe6\x97"); /* incomplete, then a new character: dropped */
	feed(r, "a");
	assert_string_equal(r->e.buf, "\xe6\x97\xa5"
	                              "a");
	/* no echo: nothing of the password is written, nothing is remembered */
	ed_start(&r->e, "Password: ", 0, &r->out);
	buf_reset(&r->out);
	feed(r, "s3cret\x7f\x15pw\r");
	assert_string_equal(r->out.p, "\r\n");
	assert_string_equal(r->e.buf, "pw");
	assert_int_equal(r->e.nhist, 0);
	/* a full line refuses more (BEL) */
	ed_start(&r->e, "", 1, &r->out);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	buf_reset(&r->out);
	feed(r, big);
	assert_int_equal(r->e.len, ED_MAX);
	assert_non_null(strchr(r->out.p, '\a'));
	buf_free(&r->out);
	free(r);
}

/* ---- passwords ---- */

static void test_pbkdf2_vectors(void **state)
{
	/* RFC 7914 section 11 / the PBKDF2-HMAC-SHA256 test vectors */
	static const struct {
		unsigned iter;
		const char *hex;
	} v[] = {
	    {1, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"},
	    {2, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"},
	    {4096, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"},
	};
	unsigned char out[PW_HASH];
	char h[2 * PW_HASH + 1];
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(v); i++) {
		assert_int_equal(pw_hash("password", v[i].iter, (const unsigned char *)"salt", 4, out), 0);
		hex(out, sizeof(out), h);
		if (strcmp(h, v[i].hex) != 0) {
			print_error("%u iterations: got %s, want %s\n", v[i].iter, h, v[i].hex);
			fail();
		}
	}
}

static void test_password_records(void **state)
{
	char rec[PW_LINE], rec2[PW_LINE], found[PW_LINE], dir[] = "/tmp/mw_ctl_test.XXXXXX", path[300];
	struct timespec a, b;
	struct stat st;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(pw_make("admin", "Correct-Horse-42", 200000, rec, sizeof(rec)), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("PBKDF2-SHA256, 200000 iterations: %.0f ms\n",
	              (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
	assert_int_equal(strncmp(rec, "admin:pbkdf2-sha256:200000:", 27), 0);
	assert_int_equal(pw_verify(rec, "admin", "Correct-Horse-42"), 1);
	assert_int_equal(pw_verify(rec, "admin", "correct-horse-42"), 0);
	assert_int_equal(pw_verify(rec, "admin", ""), 0);
	assert_int_equal(pw_verify(rec, "root", "Correct-Horse-42"), -1);
	assert_int_equal(pw_verify("admin:pbkdf2-sha256:0:00:00", "admin", "x"), -1);
	assert_int_equal(pw_verify("admin:md5:1000:00000000000000000000000000000000:00", "admin", "x"), -1);
	memcpy(rec2, rec, sizeof(rec));
	rec2[strlen(rec2) - 1] = rec2[strlen(rec2) - 1] == '0' ? '1' : '0'; /* tampered hash */
	assert_int_equal(pw_verify(rec2, "admin", "Correct-Horse-42"), 0);
	assert_int_equal(pw_make("bad:name", "x", 1000, rec2, sizeof(rec2)), -1);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/console.passwd", dir);
	assert_int_equal(pw_find(path, "admin", found, sizeof(found)), -1);
	assert_int_equal(pw_store(path, "admin", rec), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(pw_make("ops", "Another-Pass-9", 100000, rec2, sizeof(rec2)), 0);
	assert_int_equal(pw_store(path, "ops", rec2), 0);
	assert_int_equal(pw_find(path, "admin", found, sizeof(found)), 1);
	assert_string_equal(found, rec);
	assert_int_equal(pw_find(path, "adm", found, sizeof(found)), 0);
	/* replacing a record keeps the others */
	assert_int_equal(pw_make("admin", "New-Password-1", 100000, rec, sizeof(rec)), 0);
	assert_int_equal(pw_store(path, "admin", rec), 0);
	assert_int_equal(pw_find(path, "admin", found, sizeof(found)), 1);
	assert_int_equal(pw_verify(found, "admin", "New-Password-1"), 1);
	assert_int_equal(pw_find(path, "ops", found, sizeof(found)), 1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_requests),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_quote_roundtrip),
	    cmocka_unit_test(test_greeting),
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_help_fits_80_columns),
	    cmocka_unit_test(test_check_track),
	    cmocka_unit_test(test_stats_buckets),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_keys_long_sequence),
	    cmocka_unit_test(test_editor),
	    cmocka_unit_test(test_editor_utf8_and_password),
	    cmocka_unit_test(test_pbkdf2_vectors),
	    cmocka_unit_test(test_password_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
