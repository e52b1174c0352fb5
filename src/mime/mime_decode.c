/*
 * NAME
 *	mime_decode.c - streaming base64 and quoted-printable decoders
 * SYNOPSIS
 *	#include "mime/mime_decode.h"
 *
 *	mime_b64_init(&st); n = mime_b64_decode(&st, in, len, out); ...
 *	n += mime_b64_finish(&st, out + n);
 * DESCRIPTION
 *	Both decoders keep their state in a small caller-owned struct, so
 *	input may be split at any byte and the result is the same as for one
 *	call.  There is no allocation.
 *
 *	Base64 is table driven: a 256-entry table maps each byte to its
 *	sextet, to "skip" (white space) or to "invalid".  Invalid bytes are
 *	skipped and counted in st->bad; '=' ends a quantum (the partial
 *	quantum is flushed), so concatenated base64 blocks decode as in most
 *	mail readers.
 *
 *	Quoted-printable follows RFC 2045 6.7 with the usual tolerance:
 *	"=XX" (either case) is a byte, "=" followed by optional white space
 *	and a line end is a soft break, white space before a hard line end
 *	is dropped, anything else after "=" is kept literally and counted.
 * LIMITS
 *	Base64 output <= MIME_B64_OUT_MAX(len) per call; quoted-printable
 *	output <= len + MIME_QP_SLACK per call.  At most MIME_QP_WS_MAX bytes
 *	of white space are held back waiting for the line end.
 * DIAGNOSTICS
 *	None; the bad counters tell the caller about garbage.
 * SEE ALSO
 *	RFC 2045 section 6, mime_parse.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_decode.h"

#include <string.h>

#define B64_SKIP 64
#define B64_PAD  65
#define B64_BAD  66

/* b64_table - byte to sextet, built at compile time */
static const unsigned char b64_table[256] = {
#define X B64_BAD
    X,  X,  X,  X,  X,  X,  X,  X,  X,  B64_SKIP, B64_SKIP, X,  X,  B64_SKIP, X,  X,  X,  X,       X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,        B64_SKIP, X,  X,  X,        X,  X,  X,  X,       X,  X,  X,  62,
    X,  X,  X,  63, 52, 53, 54, 55, 56, 57,       58,       59, 60, 61,       X,  X,  X,  B64_PAD, X,  X,  X,  0,
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10,       11,       12, 13, 14,       15, 16, 17, 18,      19, 20, 21, 22,
    23, 24, 25, X,  X,  X,  X,  X,  X,  26,       27,       28, 29, 30,       31, 32, 33, 34,      35, 36, 37, 38,
    39, 40, 41, 42, 43, 44, 45, 46, 47, 48,       49,       50, 51, X,        X,  X,  X,  X,       X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,        X,        X,  X,  X,        X,  X,  X,  X,       X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,        X,        X,  X,  X,        X,  X,  X,  X,       X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,        X,        X,  X,  X,        X,  X,  X,  X,       X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,        X,        X,  X,  X,        X,  X,  X,  X,       X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,        X,        X,  X,  X,        X,  X,  X,  X,       X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,        X,        X,  X,  X,
#undef X
};

/* mime_b64_init - empty state */
void mime_b64_init(mime_b64 *st)
{
	memset(st, 0, sizeof(*st));
}

/* b64_flush - emit the bytes of a partial quantum, reset it */
static size_t b64_flush(mime_b64 *st, unsigned char *out)
{
	size_t n = 0;

	if (st->nacc == 2) {
		out[n++] = (unsigned char)(st->acc >> 4);
	} else if (st->nacc == 3) {
		out[n++] = (unsigned char)(st->acc >> 10);
		out[n++] = (unsigned char)(st->acc >> 2);
	} else if (st->nacc == 1) {
		st->bad++; /* 6 bits cannot make a byte */
	}
	st->acc = 0;
	st->nacc = 0;
	return n;
}

/* mime_b64_decode - decode a piece; see mime_decode.h */
size_t mime_b64_decode(mime_b64 *st, const void *in, size_t len, unsigned char *out)
{
	const unsigned char *p = in, *end = p + len;
	unsigned char *o = out;
	unsigned acc = st->acc;
	int nacc = st->nacc;

	while (p < end) {
		/* Fast path: whole quanta of valid characters. */
		if (nacc == 0 && !st->pad) {
			while (end - p >= 4) {
				unsigned a = b64_table[p[0]], b = b64_table[p[1]];
				unsigned c = b64_table[p[2]], d = b64_table[p[3]];

				if ((a | b | c | d) & 0xc0)
					break;
				acc = a << 18 | b << 12 | c << 6 | d;
				o[0] = (unsigned char)(acc >> 16);
				o[1] = (unsigned char)(acc >> 8);
				o[2] = (unsigned char)acc;
				o += 3;
				p += 4;
			}
			acc = 0;
			if (p >= end)
				break;
		}
		unsigned v = b64_table[*p++];

		if (v < 64) {
			if (st->pad) {
				/* Data after padding: a new block starts. */
				st->pad = 0;
			}
			acc = acc << 6 | v;
			if (++nacc == 4) {
				o[0] = (unsigned char)(acc >> 16);
				o[1] = (unsigned char)(acc >> 8);
				o[2] = (unsigned char)acc;
				o += 3;
				acc = 0;
				nacc = 0;
			}
		} else if (v == B64_PAD) {
			if (nacc > 0) {
				st->acc = acc;
				st->nacc = nacc;
				o += b64_flush(st, o);
				acc = 0;
				nacc = 0;
			}
			st->pad = 1;
		} else if (v == B64_BAD) {
			st->bad++;
		}
	}
	st->acc = acc;
	st->nacc = nacc;
	return (size_t)(o - out);
}

/* mime_b64_finish - flush what is left at the end of the data */
size_t mime_b64_finish(mime_b64 *st, unsigned char *out)
{
	size_t n = b64_flush(st, out);

	st->pad = 0;
	return n;
}

enum { QP_TEXT, QP_EQ, QP_HEX1, QP_EQ_WS, QP_EQ_CR };

/* hexval - value of a hex digit or -1 */
static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* mime_qp_init - empty state */
void mime_qp_init(mime_qp *st)
{
	memset(st, 0, sizeof(*st));
}

/* qp_flush_ws - emit held-back white space and CR */
static unsigned char *qp_flush_ws(mime_qp *st, unsigned char *o)
{
	if (st->nws) {
		memcpy(o, st->ws, st->nws);
		o += st->nws;
		st->nws = 0;
	}
	for (; st->cr > 0; st->cr--)
		*o++ = '\r';
	return o;
}

/* mime_qp_decode - decode a piece; see mime_decode.h */
size_t mime_qp_decode(mime_qp *st, const void *in, size_t len, unsigned char *out)
{
	const unsigned char *p = in, *end = p + len;
	unsigned char *o = out;

	while (p < end) {
		unsigned char c = *p;

		switch (st->state) {
		case QP_TEXT:
			if (c == ' ' || c == '\t') {
				if (st->cr)
					o = qp_flush_ws(st, o);
				if (st->nws == MIME_QP_WS_MAX)
					o = qp_flush_ws(st, o);
				st->ws[st->nws++] = c;
			} else if (c == '\n') {
				st->nws = 0; /* trailing white space is dropped */
				if (st->cr)  /* CR LF, or CR CR LF: one line end */
					*o++ = '\r';
				st->cr = 0;
				*o++ = '\n';
			} else if (c == '\r') {
				/* CRs are held: the ones right before LF end the line (see below) */
				if (st->cr >= MIME_QP_CR_MAX)
					o = qp_flush_ws(st, o);
				st->cr++;
			} else if (c == '=') {
				o = qp_flush_ws(st, o);
				st->state = QP_EQ;
			} else {
				o = qp_flush_ws(st, o);
				/* Copy a run of plain characters at once. */
				const unsigned char *q = p;
				while (q < end && *q != '=' && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
					q++;
				memcpy(o, p, (size_t)(q - p));
				o += q - p;
				p = q;
				continue;
			}
			p++;
			break;
		case QP_EQ:
			if (hexval(c) >= 0) {
				st->hex1 = c;
				st->state = QP_HEX1;
			} else if (c == ' ' || c == '\t') {
				st->nws = 1;
				st->ws[0] = c;
				st->state = QP_EQ_WS;
			} else if (c == '\r') {
				st->state = QP_EQ_CR;
			} else if (c == '\n') {
				st->state = QP_TEXT; /* soft line break */
			} else {
				*o++ = '=';
				st->bad++;
				st->state = QP_TEXT;
				continue; /* reprocess c as text */
			}
			p++;
			break;
		case QP_HEX1:
			if (hexval(c) >= 0) {
				*o++ = (unsigned char)((unsigned)hexval(st->hex1) << 4 | (unsigned)hexval(c));
				p++;
			} else {
				*o++ = '=';
				*o++ = st->hex1;
				st->bad++;
			}
			st->state = QP_TEXT;
			break;
		case QP_EQ_WS:
			if (c == ' ' || c == '\t') {
				if (st->nws < MIME_QP_WS_MAX)
					st->ws[st->nws++] = c;
				p++;
			} else if (c == '\r') {
				st->nws = 0;
				st->state = QP_EQ_CR;
				p++;
			} else if (c == '\n') {
				st->nws = 0;
				st->state = QP_TEXT;
				p++;
			} else {
				/* "= x": not a soft break; keep it as it was. */
				*o++ = '=';
				st->bad++;
				memcpy(o, st->ws, st->nws);
				o += st->nws;
				st->nws = 0;
				st->state = QP_TEXT;
			}
			break;
		case QP_EQ_CR:
			/* "=" CR LF, "=" CR CR LF (a CR doubled on the way), or a
			 * lone "=" CR: a soft break every time. */
			if (c == '\r') {
				p++;
				break;
			}
			st->state = QP_TEXT;
			if (c == '\n')
				p++;
			break;
		}
	}
	return (size_t)(o - out);
}

/* mime_qp_finish - end of data: flush what is held back */
size_t mime_qp_finish(mime_qp *st, unsigned char *out)
{
	unsigned char *o = out;

	switch (st->state) {
	case QP_TEXT:
		/* White space at the very end is trailing white space: drop it. */
		st->nws = 0;
		for (; st->cr > 0; st->cr--)
			*o++ = '\r';
		break;
	case QP_HEX1:
		*o++ = '=';
		*o++ = st->hex1;
		st->bad++;
		break;
	default:
		/* A final "=" is a soft break before the end. */
		st->nws = 0;
		break;
	}
	st->state = QP_TEXT;
	return (size_t)(o - out);
}
