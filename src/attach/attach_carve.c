/*
 * NAME
 *	attach_carve.c - archives and compressed streams hidden after or
 *	inside content of another type
 * SYNOPSIS
 *	#include "attach/attach_int.h"
 *
 *	at_carve(&ctx, &src, t, "2", "photo.gif", 1);
 * DESCRIPTION
 *	A file can be two things at once: a GIF whose bytes go on into a
 *	bzip2 stream, a zip followed by a second zip.  A viewer shows the
 *	picture; 7-Zip, asked to open the file, looks for archive signatures
 *	past its start and unpacks what it finds there.  So content that is
 *	not itself opened as an archive (a picture, a PDF, text, data of no
 *	known type), and the bytes after the end of a zip, are searched for
 *	the signatures of every container libarchive reads that has one
 *	(tar's "ustar" and LZH's method sit inside the header: the container
 *	starts before them); where libarchive opens one, that is attach.inconsistent (the
 *	file is not what it seems) and the hidden archive is walked like any
 *	other, its members judged and scanned.
 *
 *	A signature that does not open is ignored: the bytes "BZh" or
 *	"PK\3\4" can occur by chance, what matters is what a tool can unpack.
 * LIMITS
 *	The first CARVE_WINDOW bytes are searched; at most CARVE_TRIES
 *	candidate offsets are tried per object.  A hidden archive held in a
 *	file is copied to a spool (memory up to
 *	limits.archive_member_memory) before it is walked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/spool.h"

#define CARVE_WINDOW (4 * 1024 * 1024)
#define CARVE_TRIES  8

typedef struct carve_sig {
	const char *magic;
	size_t len;
	attach_type type;
	const char *name;
	size_t at; /* where the magic sits in the header: the container starts that far before it */
} carve_sig;

#define S(m, t, n)                                                                                                     \
	{                                                                                                              \
		m, sizeof(m) - 1, t, n, 0                                                                              \
	}
#define SA(m, t, n, at)                                                                                                \
	{                                                                                                              \
		m, sizeof(m) - 1, t, n, at                                                                             \
	}
/* the containers 7-Zip finds past the start of a file, as far as libarchive reads them */
static const carve_sig sigs[] = {
    S("PK\x03\x04", AT_ZIP, "zip"),
    S("\x1f\x8b\x08", AT_GZIP, "gzip"),
    S("BZh", AT_BZIP2, "bzip2"), /* then a block size digit and the block magic, checked below */
    S("\xfd"
      "7zXZ",
      AT_XZ, "xz"),
    S("7z\xbc\xaf\x27\x1c", AT_7Z, "7z"),
    S("Rar!\x1a\x07", AT_RAR, "RAR"),
    S("\x28\xb5\x2f\xfd", AT_ZSTD, "zstd"),
    S("MSCF\0\0\0\0", AT_CAB, "cabinet"),
    S("\x04\x22\x4d\x18", AT_CONTAINER, "lz4"),
    S("LZIP", AT_CONTAINER, "lzip"),
    S("xar!", AT_CONTAINER, "xar"),
    S("070701", AT_CONTAINER, "cpio"),   /* newc */
    S("070702", AT_CONTAINER, "cpio"),   /* newc with checksums */
    S("070707", AT_CONTAINER, "cpio"),   /* odc */
    S("\xc7\x71", AT_CONTAINER, "cpio"), /* old binary, little-endian: header checked below */
    S("\x71\xc7", AT_CONTAINER, "cpio"), /* old binary, big-endian */
    SA("ustar", AT_TAR, "tar", 257),
    SA("-lh", AT_LZH, "LZH", 2), /* then a method digit and '-', checked below */
    SA("-lz", AT_LZH, "LZH", 2),
    S("WARC/1.", AT_CONTAINER, "WARC"),
    S("!<arch>\n", AT_CONTAINER, "ar"),
    S("\x89LZO\0\r\n\x1a\n", AT_CONTAINER, "lzop"),
    S("\x1f\x9d", AT_CONTAINER, "compress"), /* then a sane flags byte, checked below */
};

/* z_ok - compress's flags byte: 9 to 16 bits, the two reserved bits clear */
static int z_ok(const unsigned char *p, size_t left)
{
	return left >= 4 && (p[2] & 0x60) == 0 && (p[2] & 0x1f) >= 9 && (p[2] & 0x1f) <= 16;
}

/* bz2_ok - "BZh" is followed by a block size digit and the block magic 31 41 59 26 53 59 */
static int bz2_ok(const unsigned char *p, size_t left)
{
	return left >= 10 && p[3] >= '1' && p[3] <= '9' && memcmp(p + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0;
}

/* u16 - a 16-bit field of an old binary cpio header, in the byte order its magic says */
static unsigned u16(const unsigned char *p, size_t off)
{
	return p[0] == 0xc7 ? (unsigned)p[off] | (unsigned)p[off + 1] << 8 : (unsigned)p[off] << 8 | p[off + 1];
}

/* cpio_bin_ok - an old binary cpio header: a file type in the mode, a
 * link count, a name size that fits and a printable name ending in NUL
 * (two magic bytes alone occur in any large binary) */
static int cpio_bin_ok(const unsigned char *p, size_t left)
{
	unsigned mode, type, nlink;
	size_t ns, k;

	if (left < 28)
		return 0;
	mode = u16(p, 6);
	type = mode & 0170000;
	nlink = u16(p, 12);
	ns = u16(p, 20);
	if ((type != 0100000 && type != 0040000 && type != 0120000 && type != 0060000 && type != 0020000 &&
	     type != 0010000 && type != 0140000) ||
	    nlink == 0 || nlink > 1024 || ns < 2 || ns > 1024 || 26 + ns > left || p[26 + ns - 1] != 0)
		return 0;
	for (k = 26; k < 26 + ns - 1; k++)
		if (p[k] < 0x20 || p[k] == 0x7f)
			return 0;
	return 1;
}

/* lzh_ok - a header whose method ("-lh5-", "-lhd-", "-lzs-" ...) sits at byte 2: a method character, then '-' */
static int lzh_ok(const unsigned char *p, size_t left)
{
	return left >= 22 && p[6] == '-' && ((p[5] >= '0' && p[5] <= '7') || p[5] == 'd' || p[5] == 's');
}

/* sig_ok - the checks past the magic, for the short ones that occur by chance */
static int sig_ok(const carve_sig *s, const unsigned char *p, size_t left)
{
	if (s->type == AT_BZIP2)
		return bz2_ok(p, left);
	if (s->magic[0] == '\x1f' && s->magic[1] == '\x9d')
		return z_ok(p, left);
	if (s->len == 2 && (s->magic[0] == '\xc7' || s->magic[0] == '\x71'))
		return cpio_bin_ok(p, left);
	if (s->type == AT_LZH)
		return lzh_ok(p, left);
	return 1;
}

/* opens - does libarchive read src as an archive (or data behind a filter)? */
static int opens(const at_src *src)
{
	struct archive *a = at_archive_open(src, AO_RAW_ONLY, NULL, NULL, 0);
	struct archive_entry *e;
	char one[512];
	int ok = 0, r;

	/* compressed data: a filter takes it and the first bytes decode (the
	 * archive formats' bidders are not asked: 1 KB of zeros inside would
	 * read as an empty tar, and the stream would go unread) */
	if (a != NULL) {
		r = archive_read_next_header(a, &e);
		ok = (r == ARCHIVE_OK || r == ARCHIVE_WARN) && archive_filter_count(a) > 1 &&
		     archive_read_data(a, one, sizeof(one)) > 0;
		at_archive_close(a);
		if (ok)
			return 1;
	}
	if ((a = at_archive_open(src, AO_OR_RAW, NULL, NULL, 0)) == NULL)
		return 0;
	r = archive_read_next_header(a, &e);
	ok = (r == ARCHIVE_OK || r == ARCHIVE_WARN) &&
	     (archive_filter_count(a) > 1 || archive_format(a) != ARCHIVE_FORMAT_RAW);
	at_archive_close(a);
	return ok;
}

/* walk_at - the hidden container at off: a finding, then a walk of it */
static int walk_at(at_ctx *c, const at_src *src, size_t off, const carve_sig *s, attach_type outer, const char *part,
                   const char *path, int depth)
{
	char sub_path[MW_DETAIL_MAX];
	mw_spool *sp = NULL;
	at_src sub;

	if (src->mem) {
		sub.mem = src->mem + off;
		sub.fd = -1;
		sub.len = src->len - off;
	} else {
		unsigned char buf[65536];
		size_t o = off;
		sp = spool_new(c->lim->archive_member_memory, c->tmpdir);
		while (o < src->len) {
			ssize_t got = at_src_read(src, buf, sizeof(buf), o);
			if (got <= 0 || spool_write(sp, buf, (size_t)got) < 0) {
				spool_free(sp);
				return -1;
			}
			o += (size_t)got;
		}
		sub.mem = spool_mem(sp);
		sub.fd = spool_fd(sp);
		sub.len = spool_size(sp);
	}
	if (!opens(&sub)) {
		spool_free(sp);
		return 0;
	}
	verdict_add(c->v, "attach.inconsistent", part, "%s %.100s carries %s data at offset %zu",
	            attach_type_name(outer), path, s->name, off);
	snprintf(sub_path, sizeof(sub_path), "%.120s@%zu", path, off);
	at_av_scan(c, &sub, part, sub_path); /* whole, first: see member() in attach_archive.c */
	at_archive_walk(c, &sub, s->type, part, sub_path, depth + 1);
	spool_free(sp);
	return 1;
}

int at_carves(attach_type t)
{
	/* everything that is not itself opened as an archive: a picture, text,
	 * a document or data of no known type can carry one behind or inside it */
	return !(attach_type_flags(t) & ATF_ARCHIVE) && t != AT_OOXML && t != AT_ODF && t != AT_JAR && t != AT_OLE2;
}

/* pairs[b0 << 8 | b1]: some signature begins with the bytes b0 b1 (every
 * signature has at least two).  The scan skips every other offset with
 * one lookup: on random data about one offset in 3,000 passes, where a
 * one-byte table let one in eleven through.  A byte per pair, not a bit:
 * the loop is the whole cost of carving clean content (64 KB, in cache). */
static unsigned char pairs[65536];
static pthread_once_t pairs_once = PTHREAD_ONCE_INIT;

static void pairs_init(void)
{
	size_t k;

	for (k = 0; k < MW_ARRAY_LEN(sigs); k++)
		pairs[(unsigned)(unsigned char)sigs[k].magic[0] << 8 | (unsigned char)sigs[k].magic[1]] = 1;
}

/* carve - at_carve; *none set when the whole window was searched and no candidate found */
static int carve(at_ctx *c, const at_src *src, attach_type t, size_t from, const char *part, const char *path,
                 int depth, int *none)
{
	unsigned char *copy = NULL;
	const unsigned char *buf = src->mem; /* content in memory is read where it is */
	size_t win = src->len > CARVE_WINDOW ? CARVE_WINDOW : src->len, i, k;
	int tries = 0, found = 0;

	*none = 0;
	if (c->stopped || src->len < 16 || from >= win)
		return 0;
	if (buf == NULL) {
		ssize_t got = at_src_read(src, copy = x_malloc(win), win, 0);
		if (got <= 0) {
			x_free(copy);
			return 0;
		}
		win = (size_t)got;
		buf = copy;
	}
	pthread_once(&pairs_once, pairs_init);
	for (i = from > 0 ? from : 1; i + 4 <= win; i++) {
		if (!pairs[(unsigned)buf[i] << 8 | buf[i + 1]])
			continue;
		if (tries >= CARVE_TRIES || found || c->stopped)
			break;
		for (k = 0; k < MW_ARRAY_LEN(sigs); k++) {
			const carve_sig *s = &sigs[k];
			size_t start;
			if (buf[i] != (unsigned char)s->magic[0] || i + s->len > win ||
			    memcmp(buf + i, s->magic, s->len) != 0)
				continue;
			/* the container starts s->at bytes before its magic, past the object's own start */
			if (i < s->at || (start = i - s->at) < (from > 0 ? from : 1))
				continue;
			if (!sig_ok(s, buf + start, win - start))
				continue;
			tries++;
			if (walk_at(c, src, start, s, t, part, path, depth) > 0)
				found = 1; /* one hidden container per object: its own walk goes deeper */
			break;
		}
	}
	x_free(copy);
	*none = tries == 0 && !c->stopped;
	return found;
}

/* at_carve - see attach_int.h */
int at_carve(at_ctx *c, const at_src *src, attach_type t, size_t from, const char *part, const char *path, int depth)
{
	int none;

	return carve(c, src, t, from, part, path, depth, &none);
}

/* The carving memo: parts in which carving found no candidate, by SHA-256
 * and length.  Direct-mapped (a newer entry takes an older one's slot):
 * bounded, and a forgotten part is only searched again. */
#define CARVE_MEMO 4096

static struct carve_memo {
	unsigned char sha[32];
	size_t len; /* 0: empty */
} carve_memo[CARVE_MEMO];
static pthread_mutex_t carve_memo_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long carve_memo_hits;

unsigned long at_carve_memo_hits(void)
{
	unsigned long n;

	pthread_mutex_lock(&carve_memo_mu);
	n = carve_memo_hits;
	pthread_mutex_unlock(&carve_memo_mu);
	return n;
}

/* memo_key - the binary SHA-256 of hex; 0 when hex is not 64 hex digits */
static int memo_key(const char *hex, unsigned char out[32])
{
	size_t i;

	for (i = 0; i < 64; i++) {
		char ch = hex[i];
		unsigned v = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
		             : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
		                                      : 16;
		if (v == 16)
			return 0;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return hex[64] == 0;
}

int at_carve_part(at_ctx *c, const at_src *src, attach_type t, const char *part, const char *path, const char *sha)
{
	unsigned char key[32];
	struct carve_memo *m;
	int known = 0, found, none;

	if (sha == NULL || !memo_key(sha, key) || src->len == 0)
		return at_carve(c, src, t, 0, part, path, 0);
	m = &carve_memo[(key[0] | (unsigned)key[1] << 8) % CARVE_MEMO];
	pthread_mutex_lock(&carve_memo_mu);
	known = m->len == src->len && memcmp(m->sha, key, sizeof(key)) == 0;
	carve_memo_hits += (unsigned long)known;
	pthread_mutex_unlock(&carve_memo_mu);
	if (known)
		return 0;
	found = carve(c, src, t, 0, part, path, 0, &none);
	if (none) {
		pthread_mutex_lock(&carve_memo_mu);
		memcpy(m->sha, key, sizeof(key));
		m->len = src->len;
		pthread_mutex_unlock(&carve_memo_mu);
	}
	return found;
}
