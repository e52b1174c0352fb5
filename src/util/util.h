/*
 * NAME
 *	util.h - allocation, strings and small helpers shared by all modules
 * DESCRIPTION
 *	x_malloc() and friends abort on exhaustion: running out of memory is
 *	treated like a bug, because every per-message allocation is bounded
 *	by the configured limits.  x_free(NULL) is safe.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_UTIL_H
#define MW_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define MW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *x_malloc(size_t n);
void *x_calloc(size_t nmemb, size_t n);
void *x_realloc(void *p, size_t n);
char *x_strdup(const char *s);
char *x_strndup(const char *s, size_t n);
void x_free(void *p);

/* mw_strlcpy - copy with truncation; returns strlen(src) */
size_t mw_strlcpy(char *dst, const char *src, size_t size);

/*
 * mw_printable - copy at most max bytes of untrusted text into dst (size
 * dstlen), replacing control characters, quotes, backslashes and bytes
 * >= 0x7f with '?' unless keep_utf8, and marking truncation with "...".
 * For log lines and SMTP reply text.  Returns dst.
 */
char *mw_printable(char *dst, size_t dstlen, const char *src, size_t max, int keep_utf8);

/* mw_fmt_time - local time as "2026-11-22 10:04", or "-" for 0 (the one format of every table) */
void mw_fmt_time(time_t t, char *out, size_t len);

/* mw_cut - untrusted text made printable and cut to w bytes (UTF-8 kept), in buf; returns buf */
const char *mw_cut(const char *s, size_t w, char *buf, size_t len);

/* mw_text - like mw_printable with UTF-8 kept, but quotes and backslashes too (for JSON and display) */
char *mw_text(char *dst, size_t dstlen, const char *src, size_t max);

/* mw_lower - lower-case ASCII in place; returns s */
char *mw_lower(char *s);

/* mw_trim - strip ASCII white space both ends in place; returns start */
char *mw_trim(char *s);

/* mw_write_all - write all of buf, retrying short writes and EINTR; 0 or -1 (errno) */
int mw_write_all(int fd, const void *buf, size_t len);

/*
 * mw_parse_when - a time for queries: an age ("30s", "30m", "24h", "7d"
 * ago) or a local date "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM"; NULL gives 0
 * (no bound).  0 or -1.
 */
int mw_parse_when(const char *s, time_t *out);

/* mw_now_ms - monotonic milliseconds */
double mw_now_ms(void);

/*
 * mw_buf - growable byte buffer with a hard cap.  Appends beyond cap are
 * cut and set the truncated flag; the buffer is always NUL-terminated.
 */
typedef struct mw_buf {
	char *p;
	size_t len;
	size_t cap; /* allocated */
	size_t max; /* hard cap; 0 = none */
	int truncated;
} mw_buf;

void buf_init(mw_buf *b, size_t max);
void buf_append(mw_buf *b, const void *data, size_t len);
void buf_puts(mw_buf *b, const char *s);
void buf_putc(mw_buf *b, int c);
void buf_printf(mw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(mw_buf *b, const char *fmt, va_list ap);
void buf_reset(mw_buf *b);
void buf_free(mw_buf *b);
/* mw_read_all - all of f, at most max bytes (NUL-terminated, *len without it; len may be NULL); NULL if more */
char *mw_read_all(FILE *f, size_t max, size_t *len);

/* buf_json_str - append s (len bytes, UTF-8) as a JSON string literal with quotes */
void buf_json_str(mw_buf *b, const char *s, size_t len);

#endif
