/*
 * NAME
 *	attach_zip.c - follow a zip's chain of local file headers
 * SYNOPSIS
 *	#include "attach/attach_int.h"
 *
 *	if (at_zip_local_count(&src, 2000, &n) && n > members_in_directory)
 *		attach.inconsistent
 * DESCRIPTION
 *	A zip names its members twice: a local header before each member's
 *	data, and the central directory at the end, which is what libarchive
 *	(and most unpackers) read when they can seek.  Tools that read the
 *	local headers in order (7-Zip on a damaged archive, stream readers,
 *	some mail clients) can find members the central directory does not
 *	list: a place to hide a file.  This walks the local headers from the
 *	first one, skipping each member's data by the size its header gives,
 *	and counts them.
 *
 *	Local header (little-endian): signature 50 4b 03 04, version,
 *	flags, method, time, date, crc-32, compressed size, uncompressed
 *	size, name length, extra length (30 bytes), then name, extra field
 *	and data.  Flag bit 3 puts the sizes in a data descriptor after the
 *	data: the chain cannot be followed then.  A size of 0xffffffff is in
 *	the ZIP64 extra field (id 0x0001: uncompressed, then compressed
 *	size, each present only if its header field is 0xffffffff).
 * LIMITS
 *	Reads headers only (30 bytes plus the extra field, at most 64 KB),
 *	at most max of them; the first header is looked for in the first
 *	FIRST_MAX bytes.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"

#include <string.h>

#define FIRST_MAX (1024 * 1024)
#define LOCAL_LEN 30

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long long le32(const unsigned char *p)
{
	return (unsigned long long)p[0] | (unsigned long long)p[1] << 8 | (unsigned long long)p[2] << 16 |
	       (unsigned long long)p[3] << 24;
}

static unsigned long long le64(const unsigned char *p)
{
	return le32(p) | le32(p + 4) << 32;
}

/* first_local - offset of the first local header signature, or -1 */
static long long first_local(const at_src *src)
{
	unsigned char buf[4096 + 3];
	size_t off = 0, i;

	while (off < src->len && off < FIRST_MAX) {
		ssize_t got = at_src_read(src, buf, sizeof(buf), off);
		if (got < 4)
			return -1;
		for (i = 0; i + 4 <= (size_t)got; i++)
			if (buf[i] == 'P' && buf[i + 1] == 'K' && buf[i + 2] == 3 && buf[i + 3] == 4)
				return (long long)(off + i);
		off += (size_t)got - 3; /* a signature may straddle two reads */
	}
	return -1;
}

/* zip64_csize - the compressed size from a ZIP64 extra field; 0 if absent */
static int zip64_csize(const unsigned char *x, size_t xlen, int usize_in_extra, unsigned long long *csize)
{
	size_t i = 0;

	while (i + 4 <= xlen) {
		unsigned id = le16(x + i), n = le16(x + i + 2);
		if (i + 4 + n > xlen)
			return 0;
		if (id == 0x0001) {
			size_t at = i + 4 + (usize_in_extra ? 8 : 0);
			if (at + 8 > i + 4 + n)
				return 0;
			*csize = le64(x + at);
			return 1;
		}
		i += 4 + n;
	}
	return 0;
}

int at_zip_local_count(const at_src *src, size_t max, size_t *n)
{
	unsigned char h[LOCAL_LEN], *extra = NULL;
	long long first = first_local(src);
	unsigned long long off;
	int followed = 1;

	*n = 0;
	if (first < 0)
		return 1; /* no local header at all: nothing to compare */
	off = (unsigned long long)first;
	while (off + LOCAL_LEN <= src->len) {
		unsigned flags, nlen, xlen;
		unsigned long long csize, usize;

		if (at_src_read(src, h, LOCAL_LEN, (size_t)off) != LOCAL_LEN)
			break;
		if (!(h[0] == 'P' && h[1] == 'K' && h[2] == 3 && h[3] == 4))
			break; /* the central directory, or the end of the chain */
		if (++*n > max) {
			followed = 0;
			break;
		}
		flags = le16(h + 6);
		csize = le32(h + 18);
		usize = le32(h + 22);
		nlen = le16(h + 26);
		xlen = le16(h + 28);
		if (flags & 0x08) {
			followed = 0; /* sizes in a data descriptor */
			break;
		}
		if (csize == 0xffffffffULL) {
			if (xlen == 0 || off + LOCAL_LEN + nlen + xlen > src->len) {
				followed = 0;
				break;
			}
			extra = x_realloc(extra, xlen);
			if (at_src_read(src, extra, xlen, (size_t)(off + LOCAL_LEN + nlen)) != (ssize_t)xlen ||
			    !zip64_csize(extra, xlen, usize == 0xffffffffULL, &csize)) {
				followed = 0;
				break;
			}
		}
		if (csize > src->len)
			break; /* truncated: the entry counts, nothing follows */
		off += LOCAL_LEN + nlen + xlen + csize;
	}
	x_free(extra);
	return followed;
}
