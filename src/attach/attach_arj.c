/*
 * NAME
 *	attach_arj.c - is an ARJ archive whole?  Its header chain, checked
 * SYNOPSIS
 *	#include "attach/attach_int.h"
 *
 *	if (at_arj_check(&src, why, sizeof(why)) == ARJ_BROKEN) ...
 * DESCRIPTION
 *	libarchive has no ARJ reader.  libclamav unpacks ARJ, but an archive
 *	cut short or damaged is no finding to it: it scans what it could
 *	read and the rest passes, while 7-Zip still unpacks the members
 *	before the damage.  So ARJ content is checked here, without
 *	unpacking: the main header (its CRC-32 must match and it must say
 *	"main header"; when it does not, the data is ARJ only if a file
 *	header with a matching CRC-32 follows, as 7-Zip finds one, and then
 *	damaged), then every file header (id, size, CRC-32), its extended
 *	headers, its packed data (it must lie within the content), a stored
 *	member's data against its CRC-32, up to the end-of-archive header.
 *	Anything else is ARJ_BROKEN with a short reason.
 * LIMITS
 *	Basic headers of at most ARJ_HDR_MAX bytes (the format's own bound),
 *	ARJ_EXT_MAX extended headers per header, ARJ_MAX_ENTRIES file
 *	headers (more is ARJ_BROKEN: not read to the end), stored data
 *	checked in 64 KB pieces.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"

#include <stdio.h>
#include <zlib.h>

#define ARJ_HDR_MAX     2600
#define ARJ_EXT_MAX     16
#define ARJ_MAX_ENTRIES 10000
#define ARJ_MAIN_TYPE   2 /* file type byte of the main header */

static unsigned long le32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24;
}

/*
 * read_hdr - the header at *pos: 1 and its basic header in h (*hlen bytes),
 * 0 at the end-of-archive header, -1 (why filled) when it is not there whole
 */
static int read_hdr(const at_src *s, size_t *pos, unsigned char *h, size_t *hlen, char *why, size_t wl)
{
	unsigned char b[4];
	size_t size, ext, n;

	if (at_src_read(s, b, 4, *pos) != 4) {
		snprintf(why, wl, "cut before the header at offset %zu", *pos);
		return -1;
	}
	if (b[0] != 0x60 || b[1] != 0xea) {
		snprintf(why, wl, "no header where one belongs (offset %zu)", *pos);
		return -1;
	}
	size = (size_t)b[2] | (size_t)b[3] << 8;
	if (size == 0) {
		*pos += 4;
		return 0;
	}
	if (size > ARJ_HDR_MAX) {
		snprintf(why, wl, "header of %zu bytes at offset %zu", size, *pos);
		return -1;
	}
	if (at_src_read(s, h, size + 4, *pos + 4) != (ssize_t)(size + 4)) {
		snprintf(why, wl, "cut in the header at offset %zu", *pos);
		return -1;
	}
	if (crc32(0L, h, (uInt)size) != le32(h + size)) {
		snprintf(why, wl, "header CRC mismatch at offset %zu", *pos);
		return -1;
	}
	*hlen = size;
	*pos += 4 + size + 4;
	for (n = 0;; n++) { /* extended headers: a size, its bytes and a CRC; size 0 ends them */
		if (n > ARJ_EXT_MAX || at_src_read(s, b, 2, *pos) != 2) {
			snprintf(why, wl, "extended headers cut or too many at offset %zu", *pos);
			return -1;
		}
		ext = (size_t)b[0] | (size_t)b[1] << 8;
		*pos += 2;
		if (ext == 0)
			return 1;
		if (*pos + ext + 4 > s->len) {
			snprintf(why, wl, "extended header cut at offset %zu", *pos);
			return -1;
		}
		*pos += ext + 4;
	}
}

/* stored_crc_ok - the CRC-32 of len stored bytes at off */
static int stored_crc_ok(const at_src *s, size_t off, size_t len, unsigned long want)
{
	unsigned char buf[65536];
	unsigned long crc = crc32(0L, Z_NULL, 0);

	while (len > 0) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		if (at_src_read(s, buf, n, off) != (ssize_t)n)
			return 0;
		crc = crc32(crc, buf, (uInt)n);
		off += n;
		len -= n;
	}
	return crc == want;
}

/*
 * damaged_main - no valid main header at the start: still an ARJ to 7-Zip
 * (it looks for the signature further on) when a file header with a
 * matching CRC-32 follows within ARJ_SEARCH bytes.  ARJ_BROKEN then,
 * else ARJ_NOT.  At most ARJ_SEARCH_TRIES candidates are tried.
 */
#define ARJ_SEARCH       65536
#define ARJ_SEARCH_TRIES 64
static int damaged_main(const at_src *s, char *why, size_t wl)
{
	unsigned char *buf, h[ARJ_HDR_MAX + 4];
	size_t win = s->len < ARJ_SEARCH ? s->len : ARJ_SEARCH, i, pos, hlen = 0;
	ssize_t got;
	int tries = 0, found = 0;
	char ignored[120];

	if (win < 4)
		return ARJ_NOT;
	buf = x_malloc(win);
	got = at_src_read(s, buf, win, 0);
	for (i = 1; got > 0 && i + 4 <= (size_t)got && tries < ARJ_SEARCH_TRIES && !found; i++) {
		if (buf[i] != 0x60 || buf[i + 1] != 0xea)
			continue;
		tries++;
		pos = i;
		found = read_hdr(s, &pos, h, &hlen, ignored, sizeof(ignored)) == 1 && hlen >= 24 && h[0] <= hlen &&
		        h[6] != ARJ_MAIN_TYPE;
		if (found)
			snprintf(why, wl, "main header damaged, a member header at offset %zu", i);
	}
	x_free(buf);
	return found ? ARJ_BROKEN : ARJ_NOT;
}

/* at_arj_check - see attach_int.h */
int at_arj_check(const at_src *s, char *why, size_t wl)
{
	unsigned char h[ARJ_HDR_MAX + 4];
	size_t pos = 0, hlen = 0, n;
	int r;

	why[0] = '\0';
	if (s->len < 8)
		return ARJ_NOT;
	if (read_hdr(s, &pos, h, &hlen, why, wl) != 1 || hlen < 30 || h[0] > hlen || h[6] != ARJ_MAIN_TYPE) {
		why[0] = '\0';
		return damaged_main(s, why, wl); /* not ARJ, or one whose main header is damaged */
	}
	for (n = 0; n < ARJ_MAX_ENTRIES; n++) {
		unsigned long packed, size, crc;
		r = read_hdr(s, &pos, h, &hlen, why, wl);
		if (r < 0)
			return ARJ_BROKEN;
		if (r == 0)
			return ARJ_WHOLE;
		if (hlen < 24 || h[0] > hlen) {
			snprintf(why, wl, "file header too short (%zu bytes)", hlen);
			return ARJ_BROKEN;
		}
		packed = le32(h + 12);
		size = le32(h + 16);
		crc = le32(h + 20);
		if (packed > s->len || pos + packed > s->len) {
			snprintf(why, wl, "member data cut (%lu bytes at offset %zu, %zu there)", packed, pos,
			         s->len - pos);
			return ARJ_BROKEN;
		}
		if (h[5] == 0 && packed == size && !stored_crc_ok(s, pos, packed, crc)) {
			snprintf(why, wl, "stored member's CRC mismatch at offset %zu", pos);
			return ARJ_BROKEN;
		}
		pos += packed;
	}
	snprintf(why, wl, "more than %d members", ARJ_MAX_ENTRIES);
	return ARJ_BROKEN;
}
