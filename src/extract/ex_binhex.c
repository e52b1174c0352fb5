/*
 * NAME
 *	ex_binhex.c - BinHex 4.0 files anywhere in a text body
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_binhex(text, len, &lim, &out);
 * DESCRIPTION
 *	After a line "(This file must be converted with BinHex 4.0)", the
 *	data runs from the next ':' to the closing ':'.  Its characters map
 *	to six bits each (a 64-character alphabet; line breaks and blanks are
 *	skipped), the bytes are run-length decoded (0x90 marks a run: "X 0x90
 *	N" is N times X, "0x90 0x00" a literal 0x90), and the result is a
 *	header (name, type, creator, flags, fork lengths), the data fork and
 *	the resource fork, each followed by its CRC (CRC-16/XMODEM).  The
 *	data fork is emitted with its name, the resource fork, when not
 *	empty, as NAME.rsrc; plus content.encoded.  A CRC mismatch, a
 *	character outside the alphabet or a missing closing ':' is
 *	content.damaged, and what decoded is still emitted.
 * LIMITS
 *	Run-length expansion is bounded as it happens: the output never
 *	grows beyond ex_budget() plus the header and CRCs, so a run bomb
 *	stops there with content.limits.  Linear in the input.
 * DIAGNOSTICS
 *	Findings: content.encoded, content.damaged, content.limits.
 * SEE ALSO
 *	RFC 1741, ex_uu.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"

#include <stdio.h>
#include <string.h>

#define BH_SLACK 128 /* header and CRC bytes beyond the forks */

static const char bh_alphabet[] = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";

/* crc16 - CRC-16/XMODEM (polynomial 0x1021, initial 0) as BinHex computes it */
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

typedef struct rle {
	mw_buf *out;
	int last;   /* last byte written, -1 none */
	int marker; /* 0x90 seen, count byte next */
} rle;

/* rle_put - one decoded byte through the run-length decoder; 0 when the output is full */
static int rle_put(rle *r, unsigned char c)
{
	if (r->marker) {
		r->marker = 0;
		if (c == 0) {
			buf_putc(r->out, 0x90);
			r->last = 0x90;
		} else if (r->last >= 0) {
			int k;
			for (k = 1; k < c && !r->out->truncated; k++)
				buf_putc(r->out, r->last);
		}
		return !r->out->truncated;
	}
	if (c == 0x90) {
		r->marker = 1;
		return 1;
	}
	buf_putc(r->out, c);
	r->last = c;
	return !r->out->truncated;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* fork_out - emit one fork after checking its CRC; off advances past it */
static void fork_out(ex_out *o, const unsigned char *b, size_t have, size_t *off, size_t flen, const char *name,
                     size_t nlen, const char *shown, const char *which, int cut)
{
	size_t avail = have > *off ? have - *off : 0, n = flen < avail ? flen : avail;
	char rname[80];

	if (n > ex_budget(o))
		n = ex_budget(o); /* the buffer's slack is for the header and CRCs, not for the fork */
	if (cut) {
		/* content.limits already said so */
	} else if (n < flen)
		ex_finding(o, "content.damaged", "BinHex file %s: %s fork cut short (%zu of %zu bytes)", shown, which,
		           n, flen);
	else if (avail < flen + 2)
		ex_finding(o, "content.damaged", "BinHex file %s: %s fork CRC missing", shown, which);
	else if (crc16(b + *off, flen) != (uint16_t)(b[*off + flen] << 8 | b[*off + flen + 1]))
		ex_finding(o, "content.damaged", "BinHex file %s: %s fork CRC mismatch", shown, which);
	if (strcmp(which, "data") == 0) {
		ex_object(o, name, nlen, NULL, b + *off, n);
	} else if (n > 0) {
		snprintf(rname, sizeof(rname), "%.*s.rsrc", (int)(nlen < 63 ? nlen : 63), name);
		ex_object(o, rname, strlen(rname), NULL, b + *off, n);
	}
	*off = flen + 2 > avail ? have : *off + flen + 2;
}

/* decode_one - the data after the header line starting at *pos */
static void decode_one(ex_out *o, const char *text, size_t len, size_t *pos)
{
	const char *colon = memchr(text + *pos, ':', len - *pos);
	unsigned char *b;
	size_t i, off, have, nlen;
	unsigned acc = 0;
	int nbits = 0, closed = 0, bad = 0;
	uint32_t dlen, rlen;
	char shown[64];
	mw_buf out;
	rle r = {&out, -1, 0};

	if (colon == NULL)
		return;
	buf_init(&out, ex_budget(o) + BH_SLACK);
	for (i = (size_t)(colon - text) + 1; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		const char *at;

		if (c == ':') {
			closed = 1;
			i++;
			break;
		}
		if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
			continue;
		if (c == 0 || (at = strchr(bh_alphabet, c)) == NULL) {
			bad = 1;
			break;
		}
		acc = (acc << 6 | (unsigned)(at - bh_alphabet)) & 0xffffff;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			if (!rle_put(&r, (unsigned char)(acc >> nbits)))
				break;
		}
	}
	*pos = i;
	b = (unsigned char *)out.p;
	have = out.len;
	if (have < 1 || b[0] == 0 || b[0] > 63 || have < (size_t)b[0] + 22) {
		if (have > 0)
			ex_finding(o, "content.damaged", "BinHex data too short for its header (%zu bytes)", have);
		goto out;
	}
	nlen = b[0];
	snprintf(shown, sizeof(shown), "%.*s", (int)(nlen < 60 ? nlen : 60), (const char *)b + 1);
	off = 1 + nlen + 1 + 4 + 4 + 2;
	dlen = be32(b + off);
	rlen = be32(b + off + 4);
	off += 8;
	if (ex_finding(o, "content.encoded", "BinHex file %s (%u bytes) in the text", shown, (unsigned)dlen))
		goto out;
	if (crc16(b, off) != (uint16_t)(b[off] << 8 | b[off + 1]))
		ex_finding(o, "content.damaged", "BinHex file %s: header CRC mismatch", shown);
	off += 2;
	if (out.truncated)
		ex_limit(o, EX_LIM_DECODED, "BinHex file %s larger than %zu bytes: the rest was not decoded", shown,
		         out.max - BH_SLACK);
	else if (bad)
		ex_finding(o, "content.damaged", "BinHex file %s: a character outside the BinHex alphabet", shown);
	else if (!closed)
		ex_finding(o, "content.damaged", "BinHex file %s ends without its closing ':'", shown);
	fork_out(o, b, have, &off, dlen, (const char *)b + 1, nlen, shown, "data", out.truncated);
	if (rlen > 0 && off < have)
		fork_out(o, b, have, &off, rlen, (const char *)b + 1, nlen, shown, "resource", out.truncated);
out:
	buf_free(&out);
}

/* ex_binhex - see the file header */
int ex_binhex(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	static const char marker[] = "(This file must be converted with BinHex";
	const char *text = in, *at;
	size_t pos = 0;
	ex_out o;

	ex_out_init(&o, emit, lim, "BinHex");
	while (!o.stop && pos < len && (at = memmem(text + pos, len - pos, marker, sizeof(marker) - 1)) != NULL) {
		const char *nl = memchr(at, '\n', len - (size_t)(at - text));

		if (nl == NULL)
			break;
		pos = (size_t)(nl - text) + 1;
		decode_one(&o, text, len, &pos);
	}
	return ex_out_rc(&o);
}
