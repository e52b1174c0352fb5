/*
 * NAME
 *	util.c - allocation, strings, growable buffers, JSON string output
 * DESCRIPTION
 *	See util.h.  Allocation failure aborts (bounded use, see util.h).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((noreturn)) static void oom(size_t n)
{
	fprintf(stderr, "mailwarden: out of memory allocating %zu bytes\n", n);
	abort();
}

/* x_malloc - malloc or abort */
void *x_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

/* x_calloc - zeroed allocation or abort */
void *x_calloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);

	if (p == NULL)
		oom(nmemb * n);
	return p;
}

/* x_realloc - realloc or abort; returns the (possibly moved) block */
void *x_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

/* x_strdup - strdup or abort */
char *x_strdup(const char *s)
{
	return x_strndup(s, strlen(s));
}

/* x_strndup - copy at most n bytes, NUL-terminated */
char *x_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = x_malloc(len + 1);

	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

/* x_free - free; NULL is safe */
void x_free(void *p)
{
	free(p);
}

/* mw_strlcpy - bounded copy */
size_t mw_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

static char *printable(char *dst, size_t dstlen, const char *src, size_t max, int keep_utf8, int keep_quotes);

/* mw_printable - sanitised copy of untrusted text */
char *mw_printable(char *dst, size_t dstlen, const char *src, size_t max, int keep_utf8)
{
	return printable(dst, dstlen, src, max, keep_utf8, 0);
}

/* mw_text - sanitised copy keeping UTF-8, quotes and backslashes */
char *mw_text(char *dst, size_t dstlen, const char *src, size_t max)
{
	return printable(dst, dstlen, src, max, 1, 1);
}

static char *printable(char *dst, size_t dstlen, const char *src, size_t max, int keep_utf8, int keep_quotes)
{
	size_t i, o = 0;

	if (dstlen == 0)
		return dst;
	if (src == NULL)
		src = "";
	for (i = 0; src[i] && i < max && o + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c < 0x20 || c == 0x7f || (!keep_quotes && (c == '"' || c == '\\')) || (c >= 0x80 && !keep_utf8))
			c = '?';
		dst[o++] = (char)c;
	}
	/* Do not end inside a UTF-8 sequence. */
	if (keep_utf8) {
		size_t k = o;
		while (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && (unsigned char)dst[k - 1] >= 0xc0) {
			unsigned char lead = (unsigned char)dst[k - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
			if (o - (k - 1) < need)
				o = k - 1;
		}
	}
	dst[o] = 0;
	if (src[i] && (i >= max || o + 1 >= dstlen) && dstlen > 4) {
		if (o > dstlen - 4)
			o = dstlen - 4;
		memcpy(dst + o, "...", 4);
	}
	return dst;
}

/* mw_lower - ASCII lower case in place */
char *mw_lower(char *s)
{
	char *p;

	for (p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* mw_trim - strip white space in place */
char *mw_trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int mw_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mw_parse_when(const char *s, time_t *out)
{
	struct tm tm;
	size_t len;
	char *end;

	if (s == NULL) { /* not given: no bound */
		*out = 0;
		return 0;
	}
	len = strlen(s);
	if (len >= 2 && len < 16 && strchr("smhd", s[len - 1]) && isdigit((unsigned char)s[0])) {
		unsigned long n;
		errno = 0;
		n = strtoul(s, &end, 10);
		if (errno == 0 && end == s + len - 1 && n <= 100000000UL) {
			unsigned long mult = s[len - 1] == 's'   ? 1
			                     : s[len - 1] == 'm' ? 60
			                     : s[len - 1] == 'h' ? 3600
			                                         : 86400;
			*out = time(NULL) - (time_t)(n * mult);
			return 0;
		}
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M", &tm);
	if (end == NULL || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (end == NULL || *end)
		return -1;
	tm.tm_isdst = -1;
	*out = mktime(&tm);
	return 0;
}

/* mw_now_ms - monotonic clock in milliseconds */
double mw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* buf_init - empty buffer with hard cap max (0 = none) */
void buf_init(mw_buf *b, size_t max)
{
	b->cap = 64;
	b->p = x_malloc(b->cap);
	b->p[0] = 0;
	b->len = 0;
	b->max = max;
	b->truncated = 0;
}

static void buf_grow(mw_buf *b, size_t want)
{
	size_t cap = b->cap;

	while (cap < want + 1)
		cap = cap < 4096 ? cap * 2 : cap + cap / 2;
	if (cap != b->cap) {
		b->p = x_realloc(b->p, cap);
		b->cap = cap;
	}
}

/* buf_append - append bytes, cut at the cap */
void buf_append(mw_buf *b, const void *data, size_t len)
{
	if (b->max && b->len + len > b->max) {
		len = b->max > b->len ? b->max - b->len : 0;
		b->truncated = 1;
	}
	if (len == 0)
		return;
	buf_grow(b, b->len + len);
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = 0;
}

void buf_puts(mw_buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(mw_buf *b, int c)
{
	char ch = (char)c;

	/* the common case, room for the byte and its NUL, without a call: lexers
	 * put every byte of a string through here */
	if (b->len + 2 <= b->cap && (!b->max || b->len < b->max)) {
		b->p[b->len++] = ch;
		b->p[b->len] = 0;
		return;
	}
	buf_append(b, &ch, 1);
}

void buf_vprintf(mw_buf *b, const char *fmt, va_list ap)
{
	char tmp[512];
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		buf_append(b, tmp, (size_t)n);
	} else {
		char *big = x_malloc((size_t)n + 1);
		vsnprintf(big, (size_t)n + 1, fmt, ap2);
		buf_append(b, big, (size_t)n);
		x_free(big);
	}
	va_end(ap2);
}

void buf_printf(mw_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(mw_buf *b)
{
	b->len = 0;
	b->truncated = 0;
	if (b->p)
		b->p[0] = 0;
}

/* buf_free - release; the buffer may be initialised again */
void buf_free(mw_buf *b)
{
	x_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* mw_read_all - see util.h */
char *mw_read_all(FILE *f, size_t max, size_t *len)
{
	mw_buf b;
	char chunk[8192];
	size_t n;

	buf_init(&b, max + 1);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	if (b.truncated) {
		buf_free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	if (b.p == NULL)
		buf_puts(&b, "");
	return b.p;
}

/* buf_json_str - JSON string literal; invalid UTF-8 bytes become U+FFFD */
void buf_json_str(mw_buf *b, const char *s, size_t len)
{
	size_t i = 0;

	buf_putc(b, '"');
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': buf_puts(b, "\\n"); break;
			case '\r': buf_puts(b, "\\r"); break;
			case '\t': buf_puts(b, "\\t"); break;
			default: buf_printf(b, "\\u%04x", c); break;
			}
			i++;
		} else if (c < 0x80) {
			buf_putc(b, c);
			i++;
		} else {
			/* Validate one UTF-8 sequence. */
			size_t need = c >= 0xf5 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
			size_t k;
			int ok = need != 0 && i + need <= len;

			for (k = 1; ok && k < need; k++)
				if (((unsigned char)s[i + k] & 0xc0) != 0x80)
					ok = 0;
			if (ok && need == 3) {
				unsigned char c1 = (unsigned char)s[i + 1];
				if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0))
					ok = 0;
			}
			if (ok && need == 4) {
				unsigned char c1 = (unsigned char)s[i + 1];
				if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))
					ok = 0;
			}
			if (ok) {
				buf_append(b, s + i, need);
				i += need;
			} else {
				buf_puts(b, "\\ufffd");
				i++;
			}
		}
	}
	buf_putc(b, '"');
}

void mw_fmt_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	if (t == 0) {
		mw_strlcpy(out, "-", len);
		return;
	}
	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

const char *mw_cut(const char *s, size_t w, char *buf, size_t len)
{
	mw_printable(buf, len < w + 4 ? len : w + 4, s, w, 1);
	return buf;
}
