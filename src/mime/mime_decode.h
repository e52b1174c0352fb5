/*
 * NAME
 *	mime_decode.h - MIME decoders: base64, quoted-printable, RFC 2047,
 *	RFC 2231 parameters, charsets to UTF-8
 * SYNOPSIS
 *	#include "mime/mime_decode.h"
 * DESCRIPTION
 *	The building blocks of the MIME parser, public so that other modules
 *	(links, attach, the console) and the fuzzers can use them alone.
 *
 *	The transfer decoders are streaming: the state carries across calls,
 *	so input may be split anywhere.  They never fail; garbage is skipped
 *	and counted in the state.  Output is bounded by the input size (see
 *	each function) so callers size their buffers up front.
 *
 *	The text functions return malloc'd, NUL-terminated UTF-8 of at most
 *	max bytes (never cut inside a character); the caller frees them with
 *	x_free().  Bytes that cannot be converted become U+FFFD.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_MIME_DECODE_H
#define MW_MIME_DECODE_H

#include <stddef.h>

/* Base64: output is at most len * 3 / 4 + 3 bytes per call. */
typedef struct mime_b64 {
	unsigned acc; /* pending sextets, most significant first */
	int nacc;     /* sextets in acc: 0..3 */
	int pad;      /* '=' seen in this quantum */
	size_t bad;   /* invalid characters skipped */
} mime_b64;

#define MIME_B64_OUT_MAX(len) ((len) / 4 * 3 + 6)

/* mime_b64_init - empty state */
void mime_b64_init(mime_b64 *st);
/* mime_b64_decode - decode len bytes into out; returns bytes written */
size_t mime_b64_decode(mime_b64 *st, const void *in, size_t len, unsigned char *out);
/* mime_b64_finish - flush a partial quantum (1..2 bytes); returns bytes written */
size_t mime_b64_finish(mime_b64 *st, unsigned char *out);

/*
 * Quoted-printable: hard line breaks pass through unchanged (LF or CRLF),
 * "=" line end is a soft break, trailing white space before a line end
 * is removed, invalid "=" sequences are kept literally and counted.  A
 * line end whose CR was doubled on the way (CR CR LF: a CRLF message
 * converted again) is one line end: CRLF, and "=" CR CR LF a soft break.
 * QP carries a data CR only as "=0D", so a bare CR before LF is never
 * content.  Output is at most len + MIME_QP_SLACK bytes per call.
 */
#define MIME_QP_WS_MAX 64
#define MIME_QP_CR_MAX 2
#define MIME_QP_SLACK  (MIME_QP_WS_MAX + MIME_QP_CR_MAX + 2)

typedef struct mime_qp {
	int state;
	int cr;             /* CRs pending in text (at most MIME_QP_CR_MAX) */
	unsigned char hex1; /* first hex digit after '=' */
	size_t nws;         /* pending white space */
	unsigned char ws[MIME_QP_WS_MAX];
	size_t bad; /* invalid '=' sequences */
} mime_qp;

/* mime_qp_init - empty state */
void mime_qp_init(mime_qp *st);
/* mime_qp_decode - decode len bytes into out; returns bytes written */
size_t mime_qp_decode(mime_qp *st, const void *in, size_t len, unsigned char *out);
/* mime_qp_finish - end of data: flush pending bytes; returns bytes written (<= MIME_QP_SLACK) */
size_t mime_qp_finish(mime_qp *st, unsigned char *out);

/*
 * mime_charset_to_utf8 - convert len bytes of charset cs (any case, NULL
 * or unknown: best effort, see mime_charset.c) to UTF-8.  At most max
 * output bytes.  *outlen gets the length, *nbad (may be NULL) the number
 * of replaced sequences.  Returns a malloc'd string.
 */
char *mime_charset_to_utf8(const char *cs, const void *in, size_t len, size_t max, size_t *outlen, size_t *nbad);

/* mime_charset_known - 1 when cs is converted exactly (not best effort) */
int mime_charset_known(const char *cs);

/* mime_utf8_valid - 1 when s[0..len) is valid UTF-8 */
int mime_utf8_valid(const void *s, size_t len);

/*
 * mime_rfc2047_decode - decode the RFC 2047 encoded-words of an unfolded
 * header value and convert everything to UTF-8.  White space between
 * adjacent encoded-words is dropped, malformed words stay literal, raw
 * 8-bit text is converted as by mime_charset_to_utf8(NULL, ...).  *nbad
 * (may be NULL) counts malformed words and replaced bytes.
 */
char *mime_rfc2047_decode(const char *in, size_t len, size_t max, size_t *outlen, size_t *nbad);

/*
 * mime_param_get - the value of parameter name (lower case ASCII) in a
 * Content-Type or Content-Disposition value, after RFC 2231 continuation,
 * charset and %XX decoding, or RFC 2047 decoding of a quoted value, as
 * UTF-8.  NULL when absent.  *nbad (may be NULL) counts irregularities.
 */
char *mime_param_get(const char *value, size_t len, const char *name, size_t max, size_t *nbad);

/*
 * mime_param_raw - the undecoded value of a plain (non-RFC 2231)
 * parameter, quotes and backslash escapes removed, at most max bytes;
 * NULL when absent.  Used for boundary.
 */
char *mime_param_raw(const char *value, size_t len, const char *name, size_t max);

#endif
