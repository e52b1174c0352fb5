/*
 * NAME
 *	mime_rfc2047.c - RFC 2047 encoded-words in header values, to UTF-8
 * SYNOPSIS
 *	#include "mime/mime_decode.h"
 *
 *	s = mime_rfc2047_decode(value, len, max, &n, &nbad);
 * DESCRIPTION
 *	An encoded-word is "=?charset[*lang]?B|Q?text?=".  Words are found
 *	anywhere in the value, not only between white space, because mail
 *	readers decode them so and attackers rely on what readers show.
 *	White space between two adjacent encoded-words is dropped.  The
 *	decoded bytes of adjacent words in the same charset are joined before
 *	conversion, so a multi-byte character split across two words (common
 *	with UTF-8 and Shift_JIS encoders) comes out whole.
 *
 *	Anything that is not a well-formed word stays literal.  Literal text
 *	with 8-bit bytes or ISO-2022-JP escapes (Japanese mailers send raw
 *	JIS in headers) is converted by the best-effort rules of
 *	mime_charset.c.
 *
 *	Control characters other than TAB in the result (from =00, =0D or
 *	base64) become U+FFFD, so a NUL cannot hide the end of a name.
 * LIMITS
 *	Output at most max bytes, cut at a character boundary; charset names
 *	of at most 64 bytes.
 * DIAGNOSTICS
 *	*nbad counts malformed words, invalid base64, replaced bytes.
 * SEE ALSO
 *	RFC 2047, RFC 2231 section 5 (language), mime_charset.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_decode.h"
#include "util/util.h"

#include <string.h>
#include <strings.h>

#define EW_CHARSET_MAX 64

typedef struct ew_state {
	mw_buf out;                  /* UTF-8 result so far */
	mw_buf enc;                  /* decoded bytes of adjacent words */
	char cs[EW_CHARSET_MAX + 1]; /* their charset */
	size_t nbad;
} ew_state;

/* out_text - append converted text, replacing control characters */
static void out_text(ew_state *st, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 && c != '\t') {
			buf_append(&st->out, s + start, i - start);
			buf_append(&st->out, "\xef\xbf\xbd", 3);
			st->nbad++;
			start = i + 1;
		}
	}
	buf_append(&st->out, s + start, n - start);
}

/* convert_out - convert bytes in cs (NULL: best effort) and append */
static void convert_out(ew_state *st, const char *cs, const char *s, size_t n)
{
	size_t i, olen, bad = 0;
	char *u;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == 0x1b)
			break;
	if (i == n && (cs == NULL || strncasecmp(cs, "utf-16", 6) != 0)) {
		out_text(st, s, n); /* plain ASCII: no conversion needed */
		return;
	}
	u = mime_charset_to_utf8(cs, s, n, 4 * n + 16, &olen, &bad);
	st->nbad += bad;
	out_text(st, u, olen);
	x_free(u);
}

/* flush_enc - convert the pending encoded-word bytes */
static void flush_enc(ew_state *st)
{
	if (st->cs[0] == 0)
		return;
	convert_out(st, st->cs, st->enc.p, st->enc.len);
	buf_reset(&st->enc);
	st->cs[0] = 0;
}

/* hexv - value of a hex digit or -1 */
static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* decode_q - the Q encoding: '_' is space, =XX a byte */
static void decode_q(ew_state *st, const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i] == '_') {
			buf_putc(&st->enc, ' ');
		} else if (t[i] == '=') {
			int h1 = i + 1 < n ? hexv(t[i + 1]) : -1;
			int h2 = i + 2 < n ? hexv(t[i + 2]) : -1;

			if (h1 >= 0 && h2 >= 0) {
				buf_putc(&st->enc, h1 << 4 | h2);
				i += 2;
			} else {
				buf_putc(&st->enc, '=');
				st->nbad++;
			}
		} else {
			buf_putc(&st->enc, t[i]);
		}
	}
}

/* decode_b - the B encoding */
static void decode_b(ew_state *st, const char *t, size_t n)
{
	unsigned char *tmp = x_malloc(MIME_B64_OUT_MAX(n));
	mime_b64 b;
	size_t k;

	mime_b64_init(&b);
	k = mime_b64_decode(&b, t, n, tmp);
	k += mime_b64_finish(&b, tmp + k);
	st->nbad += b.bad;
	buf_append(&st->enc, tmp, k);
	x_free(tmp);
}

/*
 * parse_word - a well-formed encoded-word at s (n bytes left)?  Returns
 * its length and the parts, or 0.
 */
static size_t parse_word(const char *s, size_t n, const char **cs, size_t *cslen, char *enc, const char **text,
                         size_t *textlen)
{
	size_t i = 2, c0, t0;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	c0 = i;
	while (i < n && s[i] != '?') {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '"' || c == ',')
			return 0;
		i++;
	}
	if (i >= n || i == c0 || i - c0 > EW_CHARSET_MAX)
		return 0;
	*cs = s + c0;
	*cslen = i - c0;
	i++;
	if (i + 1 >= n || s[i + 1] != '?')
		return 0;
	*enc = (char)(s[i] | 0x20);
	if (*enc != 'b' && *enc != 'q')
		return 0;
	i += 2;
	t0 = i;
	while (i < n && s[i] != '?') {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c < 0x20 || c >= 0x7f)
			return 0;
		i++;
	}
	if (i + 1 >= n || s[i + 1] != '=')
		return 0;
	*text = s + t0;
	*textlen = i - t0;
	return i + 2;
}

/* all_ws - only spaces, tabs, CR or LF */
static int all_ws(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* mime_rfc2047_decode - see mime_decode.h; the result is malloc'd */
char *mime_rfc2047_decode(const char *in, size_t len, size_t max, size_t *outlen, size_t *nbad)
{
	ew_state st;
	size_t i = 0, lit = 0;
	int last_word = 0;
	char *res;

	memset(&st, 0, sizeof(st));
	buf_init(&st.out, 0);
	buf_init(&st.enc, 0);
	while (i < len) {
		const char *q = memmem(in + i, len - i, "=?", 2);
		const char *cs, *text;
		size_t cslen, textlen, wlen;
		char enc;

		if (q == NULL)
			break;
		i = (size_t)(q - in);
		wlen = parse_word(in + i, len - i, &cs, &cslen, &enc, &text, &textlen);
		if (wlen == 0) {
			/* Not a word: "=?" stays literal. */
			i += 2;
			continue;
		}
		/* Literal text before the word, unless white space between words. */
		if (!(last_word && all_ws(in + lit, i - lit))) {
			flush_enc(&st);
			convert_out(&st, NULL, in + lit, i - lit);
		}
		char csname[EW_CHARSET_MAX + 1];
		memcpy(csname, cs, cslen);
		csname[cslen] = 0;
		char *star = strchr(csname, '*');
		if (star)
			*star = 0; /* RFC 2231 language suffix */
		if (strcasecmp(csname, st.cs) != 0) {
			flush_enc(&st);
			memcpy(st.cs, csname, strlen(csname) + 1);
			if (st.cs[0] == 0)
				memcpy(st.cs, "unknown", 8);
		}
		if (enc == 'b')
			decode_b(&st, text, textlen);
		else
			decode_q(&st, text, textlen);
		i += wlen;
		lit = i;
		last_word = 1;
		if (st.out.len > max)
			break;
	}
	flush_enc(&st);
	if (lit < len && st.out.len <= max)
		convert_out(&st, NULL, in + lit, len - lit);
	buf_free(&st.enc);
	/* Cut at max on a character boundary. */
	if (st.out.len > max) {
		size_t n = max;
		while (n > 0 && ((unsigned char)st.out.p[n] & 0xc0) == 0x80)
			n--;
		st.out.len = n;
		st.out.p[n] = 0;
	}
	res = st.out.p;
	if (outlen)
		*outlen = st.out.len;
	if (nbad)
		*nbad = st.nbad;
	return res;
}
