/*
 * NAME
 *	mime_charset.c - conversion of declared charsets to UTF-8
 * SYNOPSIS
 *	#include "mime/mime_decode.h"
 *
 *	s = mime_charset_to_utf8("iso-2022-jp", in, len, max, &n, &nbad);
 * DESCRIPTION
 *	Names are looked up in a table of aliases that maps each declared
 *	charset to a list of candidate converters, tried in order.  The first
 *	candidate that converts the input without error wins; otherwise the
 *	candidate with the fewest replaced sequences is used.  This is how
 *	real-world Japanese mail converts:
 *
 *	ISO-2022-JP	iconv ISO-2022-JP, then ISO-2022-JP-2, ISO-2022-JP-3,
 *			then our own JIS to CP932 transcoder (Windows mailers
 *			put the NEC and IBM extensions, e.g. circled digits,
 *			in JIS; glibc rejects them).
 *	Shift_JIS	CP932 (the Windows superset everybody sends), SHIFT_JIS.
 *	EUC-JP		EUC-JP, then EUC-JP-MS.
 *	UTF-8		validated; invalid sequences become U+FFFD.
 *	us-ascii, NULL	best effort: valid UTF-8 passes, ISO-2022-JP escapes
 *	and unknown	are recognised, else CP932 and EUC-JP are tried
 *			strictly, else UTF-8 with U+FFFD.
 *	anything else	whatever iconv knows by that name.
 *
 *	A byte that cannot be converted becomes U+FFFD and conversion goes
 *	on with the next byte.
 *
 *	iconv descriptors are pooled process-wide (at most CD_POOL_MAX, reset
 *	to the initial state before reuse): iconv_open() loads glibc's gconv
 *	modules (ISO-2022-JP-3.so, libJISX0213.so, CP932.so: dlopen and
 *	relocation) and iconv_close() unloads them again, which cost more
 *	than converting a whole Japanese message.
 * LIMITS
 *	Output is at most max bytes, cut at a character boundary.  Charset
 *	names longer than 40 bytes are treated as unknown.  At most
 *	CD_POOL_MAX idle iconv descriptors are kept.
 * DIAGNOSTICS
 *	*nbad counts replaced sequences.
 * SEE ALSO
 *	iconv(3), RFC 1468 (ISO-2022-JP), mime_rfc2047.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_decode.h"
#include "mime/mime_int.h"
#include "util/util.h"

#include <assert.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#define CS_NAME_MAX 40
#define CS_CAND_MAX 4
#define CD_POOL_MAX 64

/* Pseudo converters handled here, not by iconv. */
#define CV_UTF8      "=utf8"
#define CV_JIS_CP932 "=jis-cp932"
#define CV_GUESS     "=guess"

typedef struct cs_alias {
	const char *name;
	const char *cand[CS_CAND_MAX];
} cs_alias;

/* Declared names (lower case) to converter lists. */
static const cs_alias cs_aliases[] = {
    {"utf-8", {CV_UTF8}},
    {"utf8", {CV_UTF8}},
    {"unicode-1-1-utf-8", {CV_UTF8}},
    {"us-ascii", {CV_GUESS}},
    {"ascii", {CV_GUESS}},
    {"iso-2022-jp", {"ISO-2022-JP", "ISO-2022-JP-2", "ISO-2022-JP-3", CV_JIS_CP932}},
    {"csiso2022jp", {"ISO-2022-JP", "ISO-2022-JP-2", "ISO-2022-JP-3", CV_JIS_CP932}},
    {"iso-2022-jp-2", {"ISO-2022-JP-2", "ISO-2022-JP-3", CV_JIS_CP932}},
    {"iso-2022-jp-3", {"ISO-2022-JP-3", CV_JIS_CP932}},
    {"shift_jis", {"CP932", "SHIFT_JIS"}},
    {"shift-jis", {"CP932", "SHIFT_JIS"}},
    {"sjis", {"CP932", "SHIFT_JIS"}},
    {"x-sjis", {"CP932", "SHIFT_JIS"}},
    {"ms_kanji", {"CP932", "SHIFT_JIS"}},
    {"csshiftjis", {"CP932", "SHIFT_JIS"}},
    {"cp932", {"CP932"}},
    {"ms932", {"CP932"}},
    {"windows-31j", {"CP932"}},
    {"euc-jp", {"EUC-JP", "EUC-JP-MS"}},
    {"x-euc-jp", {"EUC-JP", "EUC-JP-MS"}},
    {"eucjp", {"EUC-JP", "EUC-JP-MS"}},
    {"cseucpkdfmtjapanese", {"EUC-JP", "EUC-JP-MS"}},
    {"gb2312", {"GB18030"}},
    {"gbk", {"GB18030"}},
    {"ks_c_5601-1987", {"CP949"}},
    {"euc-kr", {"CP949"}},
    {"iso-8859-1", {"WINDOWS-1252", "ISO-8859-1"}},
    {"latin1", {"WINDOWS-1252", "ISO-8859-1"}},
};

/* Output sink: a bounded buffer never cut inside a character. */
typedef struct sink {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
	int full;
	size_t nbad;
} sink;

/* sink_put - append complete characters; sets full when max is reached */
static void sink_put(sink *s, const char *data, size_t n)
{
	if (s->full)
		return;
	if (n > s->max - s->len) {
		n = s->max - s->len;
		/* Back up to the start of a character. */
		while (n > 0 && ((unsigned char)data[n] & 0xc0) == 0x80)
			n--;
		s->full = 1;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		while (cap < s->len + n + 1)
			cap *= 2;
		s->p = x_realloc(s->p, cap);
		s->cap = cap;
	}
	assert(s->p != NULL); /* cap > 0 only once p was allocated */
	memcpy(s->p + s->len, data, n);
	s->len += n;
}

/* sink_bad - one replacement character */
static void sink_bad(sink *s)
{
	s->nbad++;
	sink_put(s, "\xef\xbf\xbd", 3);
}

/* utf8_seq - length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t need, k;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	for (k = 1; k < need; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	if (need == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
		return 0;
	if (need == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
		return 0;
	return need;
}

/* mime_utf8_valid - whole buffer is valid UTF-8 */
int mime_utf8_valid(const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0;

	while (i < len) {
		size_t k;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, len - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* conv_utf8 - copy valid UTF-8, replace invalid bytes */
static void conv_utf8(sink *s, const unsigned char *p, size_t len)
{
	size_t i = 0, start = 0;

	while (i < len && !s->full) {
		size_t k;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, len - i)) != 0) {
			i += k;
			continue;
		}
		sink_put(s, (const char *)p + start, i - start);
		sink_bad(s);
		start = ++i;
	}
	if (!s->full)
		sink_put(s, (const char *)p + start, i - start);
}

/* Idle iconv descriptors to UTF-8, by source name (see DESCRIPTION). */
typedef struct cd_slot {
	char name[CS_NAME_MAX + 1];
	iconv_t cd;
} cd_slot;

static cd_slot cd_pool[CD_POOL_MAX];
static size_t cd_npool, cd_evict;
static pthread_mutex_t cd_lock = PTHREAD_MUTEX_INITIALIZER;

/* cd_get - an iconv descriptor from -> UTF-8 in its initial state; (iconv_t)-1 if unknown */
static iconv_t cd_get(const char *from)
{
	iconv_t cd = (iconv_t)-1;
	size_t i;

	pthread_mutex_lock(&cd_lock);
	for (i = 0; i < cd_npool; i++)
		if (strcmp(cd_pool[i].name, from) == 0) {
			cd = cd_pool[i].cd;
			cd_pool[i] = cd_pool[--cd_npool];
			break;
		}
	pthread_mutex_unlock(&cd_lock);
	if (cd == (iconv_t)-1)
		cd = iconv_open("UTF-8", from);
	return cd;
}

/* cd_put - give back a descriptor from cd_get (kept idle, or closed) */
static void cd_put(const char *from, iconv_t cd)
{
	iconv_t old = (iconv_t)-1;

	if (strlen(from) > CS_NAME_MAX) {
		iconv_close(cd);
		return;
	}
	iconv(cd, NULL, NULL, NULL, NULL); /* back to the initial shift state */
	pthread_mutex_lock(&cd_lock);
	if (cd_npool == CD_POOL_MAX) {
		/* full: replace slots in turn, so odd names cannot pin the pool */
		cd_evict = (cd_evict + 1) % CD_POOL_MAX;
		old = cd_pool[cd_evict].cd;
		cd_pool[cd_evict] = cd_pool[--cd_npool];
	}
	mw_strlcpy(cd_pool[cd_npool].name, from, sizeof(cd_pool[cd_npool].name));
	cd_pool[cd_npool++].cd = cd;
	pthread_mutex_unlock(&cd_lock);
	if (old != (iconv_t)-1)
		iconv_close(old);
}

/* conv_iconv - convert with iconv; errors become U+FFFD; -1 if iconv lacks the name */
static int conv_iconv(sink *s, const char *from, const unsigned char *p, size_t len)
{
	iconv_t cd = cd_get(from);
	char obuf[1024];

	if (cd == (iconv_t)-1)
		return -1;
	char *ip = (char *)p;
	size_t ileft = len;

	while (!s->full) {
		char *op = obuf;
		size_t oleft = sizeof(obuf);
		size_t r = iconv(cd, ileft ? &ip : NULL, ileft ? &ileft : NULL, &op, &oleft);
		int e = errno;

		sink_put(s, obuf, sizeof(obuf) - oleft);
		if (r != (size_t)-1) {
			if (ileft == 0) {
				/* Flush the shift state too. */
				op = obuf;
				oleft = sizeof(obuf);
				iconv(cd, NULL, NULL, &op, &oleft);
				sink_put(s, obuf, sizeof(obuf) - oleft);
				break;
			}
			continue;
		}
		if (e == E2BIG)
			continue;
		/* EILSEQ, or EINVAL (truncated sequence at the end): replace one byte. */
		if (ileft == 0)
			break;
		sink_bad(s);
		ip++;
		ileft--;
	}
	cd_put(from, cd);
	return 0;
}

/* jis_to_cp932 - ISO-2022-JP (with Windows extensions) to CP932 bytes in out (>= len) */
static size_t jis_to_cp932(const unsigned char *p, size_t len, unsigned char *out, size_t *nbad)
{
	enum { ASCII, KANJI, KANA } mode = ASCII;
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char c = p[i];

		if (c == 0x1b && i + 2 < len) {
			if (p[i + 1] == '$' && (p[i + 2] == 'B' || p[i + 2] == '@')) {
				mode = KANJI;
				i += 3;
				continue;
			}
			if (p[i + 1] == '(' && (p[i + 2] == 'B' || p[i + 2] == 'J')) {
				mode = ASCII;
				i += 3;
				continue;
			}
			if (p[i + 1] == '(' && p[i + 2] == 'I') {
				mode = KANA;
				i += 3;
				continue;
			}
		}
		if (c == 0x0e || c == 0x0f) { /* SO / SI */
			mode = c == 0x0e ? KANA : ASCII;
			i++;
			continue;
		}
		if (c <= 0x20) {
			/* Line ends, tabs and spaces pass in any mode. */
			out[o++] = c;
			i++;
			continue;
		}
		if (mode == KANJI && c >= 0x21 && c <= 0x7e && i + 1 < len && p[i + 1] >= 0x21 && p[i + 1] <= 0x7e) {
			unsigned j1 = c, j2 = p[i + 1];
			unsigned s1 = (j1 + 1) / 2 + (j1 <= 0x5e ? 0x70 : 0xb0);
			unsigned s2 = (j1 & 1) ? j2 + (j2 >= 0x60 ? 0x20 : 0x1f) : j2 + 0x7e;

			out[o++] = (unsigned char)s1;
			out[o++] = (unsigned char)s2;
			i += 2;
		} else if (mode == KANA && c >= 0x21 && c <= 0x5f) {
			out[o++] = (unsigned char)(c + 0x80);
			i++;
		} else if (c < 0x80 && mode == ASCII) {
			out[o++] = c;
			i++;
		} else {
			/* 8-bit byte or odd byte in a 2-byte mode: CP932 will reject '?'-free garbage. */
			(*nbad)++;
			out[o++] = 0x7f; /* placeholder, replaced below */
			i++;
		}
	}
	return o;
}

/* conv_jis_cp932 - ISO-2022-JP through CP932 */
static void conv_jis_cp932(sink *s, const unsigned char *p, size_t len)
{
	unsigned char *tmp = x_malloc(len + 1);
	size_t nbad = 0;
	size_t n = jis_to_cp932(p, len, tmp, &nbad);
	size_t i, start = 0;

	/* Convert runs between placeholders so each bad byte is one U+FFFD. */
	for (i = 0; i <= n; i++) {
		if (i == n || tmp[i] == 0x7f) {
			if (i > start && conv_iconv(s, "CP932", tmp + start, i - start) < 0)
				conv_utf8(s, tmp + start, i - start);
			if (i < n)
				sink_bad(s);
			start = i + 1;
		}
	}
	x_free(tmp);
}

/* strict_ok - iconv converts the whole input without error */
static int strict_ok(const char *from, const unsigned char *p, size_t len)
{
	sink s = {0};
	int ok;

	s.max = len * 4 + 16;
	ok = conv_iconv(&s, from, p, len) == 0 && s.nbad == 0;
	x_free(s.p);
	return ok;
}

/* conv_guess - unlabeled or mislabeled bytes: see the file header */
static void conv_guess(sink *s, const unsigned char *p, size_t len)
{
	size_t probe = len < 64 * 1024 ? len : 64 * 1024;

	if (memmem(p, probe, "\x1b$B", 3) || memmem(p, probe, "\x1b$@", 3) || memmem(p, probe, "\x1b(I", 3)) {
		conv_jis_cp932(s, p, len);
	} else if (mime_utf8_valid(p, probe) || probe == 0) {
		conv_utf8(s, p, len);
	} else if (strict_ok("CP932", p, probe)) {
		conv_iconv(s, "CP932", p, len);
	} else if (strict_ok("EUC-JP-MS", p, probe)) {
		conv_iconv(s, "EUC-JP-MS", p, len);
	} else {
		conv_utf8(s, p, len);
	}
}

/* conv_one - run one candidate converter; -1 when unavailable */
static int conv_one(sink *s, const char *cv, const unsigned char *p, size_t len)
{
	if (strcmp(cv, CV_UTF8) == 0)
		conv_utf8(s, p, len);
	else if (strcmp(cv, CV_JIS_CP932) == 0)
		conv_jis_cp932(s, p, len);
	else if (strcmp(cv, CV_GUESS) == 0)
		conv_guess(s, p, len);
	else {
		size_t start = s->len, i;

		if (conv_iconv(s, cv, p, len) < 0)
			return -1;
		/* glibc's ISO-2022-JP passes escapes it does not know through raw. */
		if (strncmp(cv, "ISO-2022", 8) == 0)
			for (i = start; i < s->len; i++)
				if (s->p[i] == 0x1b)
					s->nbad++;
	}
	return 0;
}

/* cs_lookup - the alias entry for a declared name, or NULL */
static const cs_alias *cs_lookup(const char *cs)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(cs_aliases); i++)
		if (strcasecmp(cs, cs_aliases[i].name) == 0)
			return &cs_aliases[i];
	return NULL;
}

/* cs_name_ok - plausible charset name for iconv (no "//" tricks, short) */
static int cs_name_ok(const char *cs)
{
	size_t i, n = strlen(cs);

	if (n == 0 || n > CS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cs[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.' || c == ':'))
			return 0;
	}
	return 1;
}

/* mime_charset_known - exact conversion available */
int mime_charset_known(const char *cs)
{
	const cs_alias *a;
	iconv_t cd;

	if (cs == NULL || !cs_name_ok(cs))
		return 0;
	if ((a = cs_lookup(cs)) != NULL)
		return strcmp(a->cand[0], CV_GUESS) != 0;
	if ((cd = cd_get(cs)) == (iconv_t)-1)
		return 0;
	cd_put(cs, cd);
	return 1;
}

/* mime_charset_to_utf8 - see mime_decode.h; the result is malloc'd */
char *mime_charset_to_utf8(const char *cs, const void *in, size_t len, size_t max, size_t *outlen, size_t *nbad)
{
	const unsigned char *p = in;
	const cs_alias *a = NULL;
	const char *single[2] = {NULL, NULL};
	const char *const *cand;
	sink best = {0};
	int have_best = 0;
	size_t i;

	if (cs != NULL && cs_name_ok(cs) && (a = cs_lookup(cs)) == NULL)
		single[0] = cs;
	cand = a ? a->cand : single;
	if (cand[0] == NULL) {
		single[0] = CV_GUESS;
		cand = single;
	}
	for (i = 0; i < CS_CAND_MAX && cand[i] != NULL; i++) {
		sink s = {0};

		s.max = max;
		if (conv_one(&s, cand[i], p, len) < 0) {
			x_free(s.p);
			continue;
		}
		if (!have_best || s.nbad < best.nbad) {
			x_free(best.p);
			best = s;
			have_best = 1;
		} else {
			x_free(s.p);
		}
		if (best.nbad == 0)
			break;
	}
	if (!have_best) {
		/* iconv does not know the name: best effort. */
		best.max = max;
		conv_guess(&best, p, len);
	}
	if (best.p == NULL)
		best.p = x_malloc(1);
	best.p[best.len] = 0;
	if (outlen)
		*outlen = best.len;
	if (nbad)
		*nbad = best.nbad;
	return best.p;
}
