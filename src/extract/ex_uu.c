/*
 * NAME
 *	ex_uu.c - uuencoded files anywhere in a text body
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_uuencode(text, len, &lim, &out);
 * DESCRIPTION
 *	Finds every "begin MODE NAME" line (MODE three or four octal digits)
 *	and decodes the lines after it up to "end", as uudecode and the mail
 *	readers that still show uuencoded text as an attachment do; also the
 *	"begin-base64 MODE NAME" ... "====" form of GNU sharutils.  Each file
 *	is emitted as a child object with its name (converted to UTF-8: old
 *	Japanese mailers wrote Shift_JIS names), plus the finding
 *	content.encoded.
 *
 *	Data lines are checked: the length character must fit the line
 *	(trailing blanks removed by mailers are taken as zero bits), and
 *	every character must be in the uuencode alphabet.  The first line
 *	that is not a data line ends the file: without an "end" line the
 *	file is emitted as far as it decoded, with content.damaged.  A
 *	"begin" line followed by no data line is ordinary text.
 * LIMITS
 *	A file decodes to at most ex_budget() bytes (limits.extract_max_object
 *	and what is left of max_decoded); the rest gives content.limits and
 *	the decoded part is emitted.  Work is linear in the input.
 * DIAGNOSTICS
 *	Findings: content.encoded, content.damaged, content.limits.
 * SEE ALSO
 *	uuencode(5), ex_yenc.c, ex_binhex.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"

#include <stdio.h>
#include <string.h>

/* parse_begin - "begin MODE NAME" or "begin-base64 MODE NAME": name span; 0 if not one */
static int parse_begin(const char *s, size_t n, int *b64, const char **name, size_t *nlen)
{
	size_t i, digits = 0;

	if (n > 13 && memcmp(s, "begin-base64 ", 13) == 0) {
		*b64 = 1;
		i = 13;
	} else if (n > 6 && memcmp(s, "begin ", 6) == 0) {
		*b64 = 0;
		i = 6;
	} else {
		return 0;
	}
	while (i < n && s[i] >= '0' && s[i] <= '7' && digits < 5)
		i++, digits++;
	if (digits < 3 || digits > 4 || i >= n || s[i] != ' ')
		return 0;
	while (i < n && s[i] == ' ')
		i++;
	while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (i >= n)
		return 0;
	*name = s + i;
	*nlen = n - i;
	return 1;
}

/* is_end - an "end" line (trailing blanks allowed) */
static int is_word(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);

	while (n > wl && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == wl && memcmp(s, w, wl) == 0;
}

/* uu_val - value of one uuencode character, -1 outside the alphabet (space and backquote are 0) */
static int uu_val(unsigned char c)
{
	return c >= 32 && c <= 96 ? (c - 32) & 63 : -1;
}

/* data_line - decode one line into out; 1 when it is a data line, 0 when not */
static int data_line(const char *s, size_t n, mw_buf *out)
{
	int count, v[4];
	size_t want, i, j, k;

	if (n == 0)
		return 1; /* a zero-length line whose blank a mailer removed */
	if ((count = uu_val((unsigned char)s[0])) < 0)
		return 0;
	want = 1 + ((size_t)count + 2) / 3 * 4;
	if (n > want + 2) /* a check character or two are tolerated, more is text */
		return 0;
	for (i = 1; i < n && i < want; i++)
		if (uu_val((unsigned char)s[i]) < 0)
			return 0;
	for (i = 1, k = 0; k < (size_t)count; i += 4) {
		unsigned char b[3];
		for (j = 0; j < 4; j++)
			v[j] = i + j < n ? uu_val((unsigned char)s[i + j]) : 0;
		b[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		b[1] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		b[2] = (unsigned char)(v[2] << 6 | v[3]);
		for (j = 0; j < 3 && k < (size_t)count; j++, k++)
			buf_putc(out, b[j]);
	}
	return 1;
}

/* emit_file - the decoded file and its findings */
static void emit_file(ex_out *o, const char *name, size_t nlen, mw_buf *b, int ended, const char *how)
{
	char shown[64];

	snprintf(shown, sizeof(shown), "%.*s", (int)(nlen < 60 ? nlen : 60), name);
	if (ex_finding(o, "content.encoded", "%s file %s (%zu bytes) in the text", how, shown, b->len))
		return;
	if (b->truncated)
		ex_limit(o, EX_LIM_DECODED, "%s file %s larger than %zu bytes: the rest was not decoded", how, shown,
		         b->max);
	if (!ended)
		ex_finding(o, "content.damaged", "%s file %s ends without its end line", how, shown);
	ex_object(o, name, nlen, NULL, b->p ? b->p : "", b->len);
}

/* ex_uuencode - see the file header */
int ex_uuencode(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	const char *text = in, *line, *name;
	size_t pos = 0, n, nlen;
	ex_out o;
	int b64;

	ex_out_init(&o, emit, lim, "uuencode");
	if (memmem(text, len, "begin", 5) == NULL)
		return 0;
	while (!o.stop && ex_line(text, len, &pos, &line, &n)) {
		size_t save, lines = 0, span_start = pos, span_end = pos;
		int ended = 0;
		mw_buf b;

		if (!parse_begin(line, n, &b64, &name, &nlen))
			continue;
		buf_init(&b, ex_budget(&o) ? ex_budget(&o) : 1);
		for (;;) {
			save = pos;
			if (!ex_line(text, len, &pos, &line, &n))
				break;
			if (b64 ? is_word(line, n, "====") : is_word(line, n, "end")) {
				ended = 1;
				break;
			}
			if (b64) {
				span_end = pos;
				lines++;
				continue;
			}
			if (!data_line(line, n, &b)) {
				pos = save; /* the line belongs to the text again */
				break;
			}
			if (n > 0)
				lines++;
		}
		if (b64 && lines > 0)
			ex_b64_decode(text + span_start, span_end - span_start, &b);
		if (lines > 0 && (b.len > 0 || ended))
			emit_file(&o, name, nlen, &b, ended, b64 ? "base64 (begin-base64)" : "uuencoded");
		buf_free(&b);
	}
	return ex_out_rc(&o);
}
