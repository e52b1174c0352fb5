/*
 * NAME
 *	ex_int.h - private helpers shared by the extractors
 * DESCRIPTION
 *	ex_out wraps the caller's mw_emit with the per-input limits and
 *	counters: every extractor emits through it, so limits are applied
 *	and reported the same way everywhere.  Not for use outside
 *	src/extract.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_EX_INT_H
#define MW_EX_INT_H

#include "extract/extract.h"
#include "util/util.h"

#include <stdint.h>

#define EX_DETAIL_MAX 240  /* bytes of a finding detail */
#define EX_NAME_MAX   255  /* bytes of an object name (before UTF-8 conversion) */
#define EX_URL_MAX    4096 /* bytes of a link */

typedef struct ex_out {
	const mw_emit *e;
	ex_limits lim;
	const char *fmt; /* "uuencode", for details */
	size_t nobj, nlinks, decoded;
	int stop;      /* a callback returned non-zero */
	unsigned told; /* content.limits kinds already reported (EX_LIM_*) */
} ex_out;

enum { EX_LIM_OBJECTS = 1, EX_LIM_DECODED = 2, EX_LIM_LINKS = 4, EX_LIM_DEPTH = 8, EX_LIM_OTHER = 16 };

/* ex_out_init - wrap out for one input of format fmt; lim NULL: defaults */
void ex_out_init(ex_out *o, const mw_emit *out, const ex_limits *lim, const char *fmt);

/* ex_out_rc - the extractor's return value: 1 when stopped, else 0 */
int ex_out_rc(const ex_out *o);

/*
 * ex_object - emit a child object.  The name is converted to UTF-8 (a
 * legacy charset is guessed) and made safe (no control characters).
 * Counts against max_objects and max_decoded: past them the object is
 * not emitted and content.limits is reported once.  Returns non-zero
 * when the extractor must stop (a callback asked to, or max_objects).
 */
int ex_object(ex_out *o, const char *name, size_t namelen, const char *type, const void *data, size_t len);

/* ex_link - emit a link (at most EX_URL_MAX bytes; control characters end it); max_links applies */
int ex_link(ex_out *o, const char *url, size_t len, const char *context);

/* ex_finding - emit a finding with a printf detail (made printable, cut at EX_DETAIL_MAX) */
int ex_finding(ex_out *o, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ex_limit - content.limits once per kind (EX_LIM_*) with a printf detail */
int ex_limit(ex_out *o, unsigned kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ex_budget - bytes an object may still decode: min(max_object, max_decoded - decoded) */
size_t ex_budget(const ex_out *o);

/* ex_charge - count n decoded bytes that are not emitted as objects (inflated streams) */
void ex_charge(ex_out *o, size_t n);

/*
 * ex_scan_urls - emit every URL written in text[0..len): scheme:// (http,
 * https, ftp, file), www. and \\host\share (UNC) forms, up to white
 * space, quotes or angle brackets.  Returns non-zero to stop.
 */
int ex_scan_urls(ex_out *o, const char *text, size_t len, const char *context);

/* ex_is_url - text starts with a URL form ex_scan_urls() knows */
int ex_is_url(const char *s, size_t n);

/* ex_memcasemem - case-insensitive (ASCII) search; NULL when absent */
const char *ex_memcasemem(const char *h, size_t hl, const char *needle, size_t nl);

/* ex_b64_decode - decode base64 text (white space and junk skipped) into a buffer of at most max bytes */
size_t ex_b64_decode(const char *in, size_t len, mw_buf *out);

/* ex_line - the next line of text at *pos (CR LF or LF cut off); 0 at the end */
int ex_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n);

/* ex_crc32 - CRC-32 (zlib) */
uint32_t ex_crc32(uint32_t crc, const void *p, size_t n);

/* Little-endian readers over a bounded buffer: 0 when out of range. */
static inline uint32_t ex_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t ex_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

#endif
