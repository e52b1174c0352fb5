/*
 * NAME
 *	attach_archive.c - walk archives with libarchive, bounded, and hand
 *	every member to the rules and to ClamAV
 * SYNOPSIS
 *	#include "attach/attach_int.h"
 *
 *	rc = at_archive_walk(&ctx, &src, AT_ZIP, "2", "files.zip", 1);
 * DESCRIPTION
 *	Formats: zip, 7z, rar (v4 and v5), LZH/LHA, cab, tar, cpio, ISO
 *	9660, ar and WARC, through the compression filters gzip, bzip2, xz/lzma, lzip,
 *	zstd and compress; a lone compressed file (report.exe.gz) is read
 *	with libarchive's raw format and named after the archive.  Only
 *	formats and filters built into libarchive are enabled: a filter that
 *	would run an external program never is.
 *
 *	The archive is read through our own callbacks over memory or a
 *	descriptor (pread, so a caller's file offset is never moved), with
 *	seeking so that zip and 7z use their central directories.  Each
 *	member is unpacked into a spool (memory up to
 *	limits.archive_member_memory, an unlinked file in paths.tmp above),
 *	judged by at_judge() (names, true type, macros), given to ClamAV
 *	whole unless libclamav already saw it (the coverage set), and walked
 *	one level deeper when it is itself an archive: what ClamAV opens in
 *	it (an ARJ's files) goes to the content tree, what our walk opens
 *	that ClamAV did not (LZH, zstd, a tar after a zip) to ClamAV.
 *
 *	A compressed stream (gz, bz2, xz, zstd, lz4, lzip, Z, lzma) is one
 *	file, as 7-Zip and bsdcat see it: decompressed whole with the raw
 *	format, then judged and walked as what it is, so what follows an
 *	archive inside it and formats libarchive does not read are not lost.
 *
 *	Encrypted members (or an archive whose headers are encrypted) give
 *	attach.encrypted; their names are still judged.
 * LIMITS
 *	Checked on every block read, so work stops as soon as a limit is
 *	crossed: archive_max_members and archive_max_expanded for the whole
 *	message, archive_max_ratio (bytes unpacked from one archive over the
 *	bytes of it read so far, once archive_ratio_floor bytes are
 *	unpacked), archive_max_depth.  A 1 GB zip of zeros (1 MB) stops
 *	after about archive_ratio_floor bytes.  Memory: one READ_CHUNK
 *	buffer and one member spool per level, plus libarchive's own state.
 * DIAGNOSTICS
 *	AW_ERROR when a spill file cannot be written (engine.error upstream).
 * SEE ALSO
 *	libarchive(3), attach_stage.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/spool.h"

#define READ_CHUNK  (64 * 1024)
#define MAX_RETRIES 16

/* Reader state for libarchive callbacks. */
typedef struct rd {
	at_src src;
	size_t pos;
	size_t consumed;
	unsigned char *buf; /* READ_CHUNK, for descriptors */
} rd;

/* rd_read - hand libarchive the next piece: a slice of memory or a pread */
static la_ssize_t rd_read(struct archive *a, void *cd, const void **out)
{
	rd *r = cd;
	size_t n = r->src.len - r->pos;
	ssize_t got;

	(void)a;
	if (n > READ_CHUNK)
		n = READ_CHUNK;
	if (n == 0) {
		*out = NULL;
		return 0;
	}
	if (r->src.mem) {
		*out = r->src.mem + r->pos;
		got = (ssize_t)n;
	} else {
		got = pread(r->src.fd, r->buf, n, (off_t)r->pos);
		if (got < 0) {
			archive_set_error(a, errno, "read failed");
			return -1;
		}
		*out = r->buf;
	}
	r->pos += (size_t)got;
	r->consumed += (size_t)got;
	return got;
}

static la_int64_t rd_skip(struct archive *a, void *cd, la_int64_t req)
{
	rd *r = cd;
	size_t n = r->src.len - r->pos;

	(void)a;
	if (req <= 0)
		return 0;
	if ((unsigned long long)req < n)
		n = (size_t)req;
	r->pos += n;
	return (la_int64_t)n;
}

static la_int64_t rd_seek(struct archive *a, void *cd, la_int64_t off, int whence)
{
	rd *r = cd;
	long long base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (long long)r->pos : (long long)r->src.len;

	(void)a;
	if (off > (la_int64_t)r->src.len || off < -(la_int64_t)r->src.len || base + off < 0 ||
	    base + off > (long long)r->src.len)
		return ARCHIVE_FATAL;
	r->pos = (size_t)(base + off);
	return (la_int64_t)r->pos;
}

static int rd_close(struct archive *a, void *cd)
{
	rd *r = cd;

	(void)a;
	if (r) {
		x_free(r->buf);
		x_free(r);
	}
	return ARCHIVE_OK;
}

/* Formats we walk; filters only when built in (no external programs). */
static int (*const formats[])(struct archive *) = {
    archive_read_support_format_zip,  archive_read_support_format_7zip, archive_read_support_format_rar,
    archive_read_support_format_rar5, archive_read_support_format_lha,  archive_read_support_format_cab,
    archive_read_support_format_tar,  archive_read_support_format_cpio, archive_read_support_format_iso9660,
    archive_read_support_format_ar,   archive_read_support_format_warc, archive_read_support_format_xar,
};

typedef struct filter {
	int (*enable)(struct archive *);
	const char *(*built_in)(void); /* NULL: always built in */
} filter;

static const filter filters[] = {
    {archive_read_support_filter_lz4, archive_liblz4_version},
    {archive_read_support_filter_gzip, archive_zlib_version},
    {archive_read_support_filter_bzip2, archive_bzlib_version},
    {archive_read_support_filter_xz, archive_liblzma_version},
    {archive_read_support_filter_lzma, archive_liblzma_version},
    {archive_read_support_filter_lzip, archive_liblzma_version},
    {archive_read_support_filter_zstd, archive_libzstd_version},
    {archive_read_support_filter_compress, NULL},
};

/* head_format - the one libarchive format of an archive type known by its head (RAR, 7z, cab, LZH, ISO,
 * ustar; NULL: ask them all) */
static int (*head_format(attach_type t))(struct archive *)
{
	switch (t) {
	case AT_RAR: return archive_read_support_format_rar;
	case AT_7Z: return archive_read_support_format_7zip;
	case AT_CAB: return archive_read_support_format_cab;
	case AT_LZH: return archive_read_support_format_lha;
	case AT_ISO9660: return archive_read_support_format_iso9660;
	case AT_TAR: return archive_read_support_format_tar;
	default: return NULL;
	}
}

/* open_with - at_archive_open, with only the format `only` when it is not NULL */
static struct archive *open_with(const at_src *src, int mode, int (*only)(struct archive *), const size_t **consumed,
                                 char *err, size_t errlen)
{
	struct archive *a = archive_read_new();
	rd *r;
	size_t i;

	if (a == NULL) {
		if (err)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (only != NULL) {
		only(a);
		if (only == archive_read_support_format_rar)
			archive_read_support_format_rar5(a);
	} else if (mode != AO_RAW_ONLY) {
		for (i = 0; i < MW_ARRAY_LEN(formats); i++)
			formats[i](a);
	}
	if (mode != AO_ARCHIVES)
		archive_read_support_format_raw(a);
	for (i = 0; i < MW_ARRAY_LEN(filters); i++)
		if (filters[i].built_in == NULL || filters[i].built_in() != NULL)
			filters[i].enable(a);
	r = x_calloc(1, sizeof(*r));
	r->src = *src;
	if (src->mem == NULL)
		r->buf = x_malloc(READ_CHUNK);
	archive_read_set_read_callback(a, rd_read);
	archive_read_set_skip_callback(a, rd_skip);
	archive_read_set_seek_callback(a, rd_seek);
	archive_read_set_close_callback(a, rd_close);
	archive_read_set_callback_data(a, r);
	if (consumed)
		*consumed = &r->consumed;
	if (archive_read_open1(a) != ARCHIVE_OK) {
		if (err)
			mw_printable(err, errlen, archive_error_string(a) ? archive_error_string(a) : "not readable",
			             120, 0);
		archive_read_free(a); /* calls rd_close */
		return NULL;
	}
	return a;
}

/* at_archive_open - a reader over src; see attach_int.h */
struct archive *at_archive_open(const at_src *src, int mode, const size_t **consumed, char *err, size_t errlen)
{
	return open_with(src, mode, NULL, consumed, err, errlen);
}

void at_archive_close(struct archive *a)
{
	if (a)
		archive_read_free(a);
}

/* at_container_probe - see attach_int.h */
int at_container_probe(const at_src *src)
{
	struct archive *a;
	struct archive_entry *e;
	int container, r;
	char err[160];

	if (src->len == 0)
		return 0;
	if ((a = at_archive_open(src, AO_OR_RAW, NULL, err, sizeof(err))) == NULL) {
		/* with the raw format every input opens, unless a filter
		 * recognised it and then failed: compressed data we cannot read */
		if (strstr(err, "Unrecognized archive format") == NULL)
			return 1;
		/* or the formats' bidders, reading ahead through a filter,
		 * hit the end of a truncated stream: the filter alone still
		 * recognises it (a cut lz4 or xz stream is compressed data) */
		if ((a = at_archive_open(src, AO_RAW_ONLY, NULL, NULL, 0)) == NULL)
			return 0;
		container = archive_filter_count(a) > 1;
		at_archive_close(a);
		return container;
	}
	r = archive_read_next_header(a, &e);
	/* data behind a decompression filter, or an archive format that gave a
	 * member header or said "no more members" (a zip end record at the end
	 * of a binary cpio wins the bidding and lists nothing: the walk then
	 * says what it could not read); not tar's "no more members", which
	 * any data starting with 1 KB of zeros gives */
	container = archive_filter_count(a) > 1 ||
	            ((r == ARCHIVE_OK || r == ARCHIVE_WARN ||
	              (r == ARCHIVE_EOF && (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR)) &&
	             archive_format(a) != ARCHIVE_FORMAT_RAW && archive_format(a) != ARCHIVE_FORMAT_EMPTY);
	at_archive_close(a);
	return container;
}

/* unreadable_head - data whose head names a format libarchive reads only through an external
 * program (never run here): lzop */
static int unreadable_head(const at_src *src)
{
	unsigned char h[9];

	return at_src_read(src, h, sizeof(h), 0) == (ssize_t)sizeof(h) && memcmp(h, "\x89LZO\0\r\n\x1a\n", 9) == 0;
}

/* is_stream - a compression filter type that may hold one lone file */
static int is_stream(attach_type t)
{
	return t == AT_GZIP || t == AT_BZIP2 || t == AT_XZ || t == AT_ZSTD || t == AT_CONTAINER;
}

/* encrypted_error - 1 if libarchive's error says the content is encrypted */
static int encrypted_error(struct archive *a)
{
	const char *e = archive_error_string(a);

	if (archive_read_has_encrypted_entries(a) > 0)
		return 1;
	for (; e && *e; e++)
		if (strncasecmp(e, "encrypt", 7) == 0 || strncasecmp(e, "passphrase", 10) == 0)
			return 1;
	return 0;
}

/* lone_name - name for the single file of report.exe.gz: the last path
 * component minus one extension per compression filter undone
 * (setup.exe.lzma.gz, two filters: setup.exe) */
static void lone_name(char *out, size_t outlen, const char *path, int undone)
{
	const char *b = path, *p;
	size_t len;
	int k;

	for (p = path; *p; p++)
		if (*p == '/' || *p == ':')
			b = p + 1;
	len = strlen(b);
	for (k = 0; k < (undone > 0 ? undone : 1); k++) {
		size_t d = len;
		while (d > 0 && b[d - 1] != '.')
			d--;
		if (d <= 1)
			break; /* no extension left (or a name that is only one) */
		len = d - 1;
	}
	snprintf(out, outlen, "%.*s", (int)len, b);
	if (out[0] == '\0')
		mw_strlcpy(out, "data", outlen);
}

typedef struct level {
	at_ctx *c;
	struct archive *a;
	const size_t *consumed;
	unsigned long long expanded; /* bytes unpacked from this archive */
	int encrypted_told;
	const char *part, *path;
	char broken[160]; /* why reading stopped early, "" if it did not */
	int filtered;     /* a decompression filter was applied */
	int zip;          /* libarchive read it as a zip (maybe found inside other data) */
	attach_type type; /* the true type it was walked as */
} level;

/* bomb - record attach.bomb once and stop all archive reading for the message */
static void bomb(level *l, const char *part, const char *fmt, unsigned long long a, unsigned long long b)
{
	char detail[MW_DETAIL_MAX];

	snprintf(detail, sizeof(detail), fmt, a, b);
	verdict_add(l->c->v, "attach.bomb", part, "%s in %.120s", detail, l->path);
	l->c->stopped = 1;
}

/* over_limits - 1 (and attach.bomb) when the bytes unpacked so far cross a limit */
static int over_limits(level *l, const char *part)
{
	const mw_limits *lim = l->c->lim;
	size_t packed = *l->consumed ? *l->consumed : 1;

	if (l->c->expanded > lim->archive_max_expanded) {
		bomb(l, part, "more than %llu bytes unpacked (limit %llu)", l->c->expanded,
		     (unsigned long long)lim->archive_max_expanded);
		return 1;
	}
	if (l->expanded > lim->archive_ratio_floor && l->expanded / packed > lim->archive_max_ratio) {
		bomb(l, part, "expansion ratio over %llu (limit %llu)", l->expanded / packed,
		     (unsigned long long)lim->archive_max_ratio);
		return 1;
	}
	return 0;
}

/* encrypted - attach.encrypted, once per archive */
static void encrypted(level *l, const char *part, const char *what)
{
	if (l->encrypted_told++)
		return;
	verdict_add(l->c->v, "attach.encrypted", part, "%s in %.100s%s", what, l->path, at_ppap_note(l->c));
}

/* note_broken - remember libarchive's reason for stopping early (first one) */
static void note_broken(level *l, const char *where)
{
	const char *e = archive_error_string(l->a);
	char safe[120];

	if (l->broken[0])
		return;
	mw_printable(safe, sizeof(safe), e ? e : "unreadable", 100, 0);
	snprintf(l->broken, sizeof(l->broken), "%s: %s", where, safe);
}

/*
 * unpack - read the current member into a new spool.  When the data
 * breaks off (damaged or truncated data, a method libarchive lists but
 * does not decode, an encrypted member), *rc is AW_PARTIAL and the spool
 * holds what was read, so the member's name and the start of its content
 * are still judged.  NULL with *rc set when a limit stopped the walk or a
 * spill file failed.
 */
static mw_spool *unpack(level *l, const char *part, at_walk_rc *rc)
{
	mw_spool *sp = spool_new(l->c->lim->archive_member_memory, l->c->tmpdir);
	char *buf = x_malloc(READ_CHUNK);
	la_ssize_t got;

	for (;;) {
		got = archive_read_data(l->a, buf, READ_CHUNK);
		if (got == 0)
			break;
		if (got < 0) {
			if (got == ARCHIVE_WARN || got == ARCHIVE_RETRY)
				continue; /* libarchive returns no data with these; the next call moves on */
			if (encrypted_error(l->a))
				encrypted(l, part, "encrypted member");
			else
				note_broken(l, "member");
			*rc = AW_PARTIAL;
			break;
		}
		l->c->expanded += (size_t)got;
		l->expanded += (size_t)got;
		if (over_limits(l, part)) {
			*rc = AW_STOPPED;
			goto fail;
		}
		if (spool_write(sp, buf, (size_t)got) < 0) {
			*rc = AW_ERROR;
			goto fail;
		}
	}
	x_free(buf);
	return sp;
fail:
	x_free(buf);
	spool_free(sp);
	return NULL;
}

/* member - judge one member that has a header; returns the walk state after it */
static at_walk_rc member(level *l, struct archive_entry *e, int depth)
{
	at_ctx *c = l->c;
	char name[1024], mpart[MW_PART_MAX], mpath[MW_DETAIL_MAX];
	const char *raw = archive_entry_pathname_utf8(e);
	at_walk_rc rc = AW_COMPLETE, sub;
	mw_spool *sp;
	at_src ms;
	attach_type t;

	if (raw == NULL)
		raw = archive_entry_pathname(e);
	if (archive_format(l->a) == ARCHIVE_FORMAT_RAW)
		lone_name(name, sizeof(name), l->path, archive_filter_count(l->a) - 1);
	else
		at_utf8_name(name, sizeof(name), raw ? raw : "");
	{
		char safe[MW_DETAIL_MAX];
		at_safe_name(safe, sizeof(safe), name);
		snprintf(mpath, sizeof(mpath), "%.90s:%.100s", l->path, safe);
	}
	at_part_id(mpart, sizeof(mpart), l->part, name);
	if (archive_entry_filetype(e) == AE_IFDIR)
		return AW_COMPLETE;
	if (archive_entry_is_encrypted(e)) {
		at_src none = {NULL, -1, 0};
		at_judge(c, &none, name, NULL, mpart, 1);
		encrypted(l, mpart, "encrypted member");
		return AW_PARTIAL;
	}
	sp = unpack(l, mpart, &rc);
	if (sp == NULL)
		return rc;
	ms.mem = spool_mem(sp);
	ms.fd = spool_fd(sp);
	ms.len = spool_size(sp);
	t = at_judge(c, &ms, name, NULL, mpart, 1);
	if (at_carves(t))
		at_carve(c, &ms, t, 0, mpart, mpath, depth);
	/* ClamAV gets every member it did not see in the whole-part scan,
	 * archives too and before our walk: libarchive may read an archive
	 * as something else (a zip found inside an ARJ) and call it
	 * complete; what ClamAV opens in it is then covered, not scanned twice */
	at_av_scan(c, &ms, mpart, mpath);
	if (attach_type_flags(t) & ATF_ARCHIVE) {
		if (archive_format(l->a) == ARCHIVE_FORMAT_RAW) {
			/* the whole of a compressed stream is an archive
			 * (notes.tar.gz): walked as the stream itself, its members
			 * named as before, its bytes counted once (as the archive's
			 * members); the same level, unless it is compressed again
			 * (libarchive strips every filter it knows: a level more
			 * keeps a quine bounded) */
			c->expanded -= ms.len < c->expanded ? ms.len : c->expanded;
			sub = at_archive_walk(c, &ms, t, l->part, l->path, is_stream(t) ? depth + 1 : depth);
		} else {
			sub = at_archive_walk(c, &ms, t, mpart, mpath, depth + 1);
		}
		if (sub == AW_STOPPED || sub == AW_ERROR)
			rc = sub;
	}
	spool_free(sp);
	return rc;
}

/* walk_once - read every member of src with the formats of mode; *members gets how many had a header */
static at_walk_rc walk_once(level *l, const at_src *src, int mode, int depth, int *members)
{
	at_ctx *c = l->c;
	struct archive_entry *e;
	at_walk_rc rc = AW_COMPLETE, m;
	int retries = 0;
	char err[160];

	*members = 0;
	/* an archive known by its head is read as that format: with them all,
	 * a zip appended to a RAR wins the bidding (its end record is at the
	 * end) and the RAR goes unread */
	l->a = open_with(src, mode, mode == AO_ARCHIVES ? head_format(l->type) : NULL, &l->consumed, err, sizeof(err));
	if (l->a == NULL) {
		snprintf(l->broken, sizeof(l->broken), "cannot be opened: %s", err);
		return AW_PARTIAL;
	}
	for (;;) {
		int r = archive_read_next_header(l->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_RETRY && ++retries < MAX_RETRIES)
			continue;
		if (r < ARCHIVE_WARN) {
			if (encrypted_error(l->a))
				encrypted(l, l->part, *members ? "encrypted member" : "encrypted archive headers");
			else
				note_broken(l, *members ? "after a member" : "headers");
			rc = AW_PARTIAL;
			break;
		}
		if (archive_format(l->a) == ARCHIVE_FORMAT_RAW && archive_filter_count(l->a) <= 1) {
			/* the raw reader took it whole, with no filter: nothing here reads this format */
			snprintf(l->broken, sizeof(l->broken), "cannot be opened: no reader for this format");
			rc = AW_PARTIAL;
			break;
		}
		(*members)++;
		if (++c->members > c->lim->archive_max_members) {
			bomb(l, l->part, "more than %llu archive members (limit %llu)",
			     (unsigned long long)c->members - 1, (unsigned long long)c->lim->archive_max_members);
			rc = AW_STOPPED;
			break;
		}
		m = member(l, e, depth);
		if (m == AW_STOPPED || m == AW_ERROR) {
			rc = m;
			break;
		}
		if (m == AW_PARTIAL)
			rc = AW_PARTIAL;
	}
	l->filtered = archive_filter_count(l->a) > 1;
	l->zip = (archive_format(l->a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
	at_archive_close(l->a);
	l->a = NULL;
	return rc;
}

/* nonzero_bytes - how many bytes of src are not zero (bounded by max) */
static size_t nonzero_bytes(const at_src *src, size_t max)
{
	unsigned char buf[4096];
	size_t off = 0, n = 0, i;

	while (off < src->len && n < max) {
		ssize_t got = at_src_read(src, buf, sizeof(buf), off);
		if (got <= 0)
			break;
		for (i = 0; i < (size_t)got; i++)
			n += buf[i] != 0;
		off += (size_t)got;
	}
	return n;
}

/* is_zip - zip containers whose local headers can be checked against their central directory */
static int is_zip(attach_type t)
{
	return t == AT_ZIP || t == AT_JAR;
}

/*
 * at_archive_walk - see attach_int.h.  What cannot be read is a finding:
 * an archive that does not open, stops early (truncated, corrupt, an
 * unknown method) or lists no members while holding data gives
 * attach.incomplete; a zip whose local headers hold more entries than its
 * central directory lists gives attach.inconsistent.  Data after a
 * compression filter that reads as an empty archive (a tar end block:
 * 512 zero bytes) is read again as the one file it is (only behind a
 * filter: unfiltered, that file would be the archive itself).
 */
at_walk_rc at_archive_walk(at_ctx *c, const at_src *src, attach_type t, const char *part, const char *path, int depth)
{
	level l;
	at_walk_rc rc;
	int members = 0;

	if (c->stopped)
		return AW_STOPPED;
	memset(&l, 0, sizeof(l));
	l.c = c;
	l.part = part;
	l.path = path;
	l.type = t;
	if ((size_t)depth > c->lim->archive_max_depth) {
		bomb(&l, part, "archives nested deeper than %llu levels (limit %llu)", (unsigned long long)depth - 1,
		     (unsigned long long)c->lim->archive_max_depth);
		return AW_STOPPED;
	}
	if (unreadable_head(src)) {
		/* lzop: what the data is, its head says, and nothing here reads
		 * it; other readers' bids on the rest (a zip appended) must not
		 * make it "complete".  Streams stored in it are still carved. */
		snprintf(l.broken, sizeof(l.broken), "cannot be opened: lzop (no built-in reader)");
		rc = AW_PARTIAL;
		at_carve(c, src, AT_UNKNOWN, 1, part, path, depth);
	} else if (is_stream(t)) {
		/* a compressed stream is one file, as 7-Zip and bsdcat see it:
		 * decompressed whole, then judged, walked as whatever it is
		 * (an archive with its central directory, data behind it, a
		 * format libarchive does not read) and scanned; only data no
		 * filter recognises is read with the archive formats */
		rc = walk_once(&l, src, AO_RAW_ONLY, depth, &members);
		if (members == 0 && !l.filtered && !c->stopped) {
			l.broken[0] = 0;
			rc = walk_once(&l, src, AO_OR_RAW, depth, &members);
		}
	} else {
		rc = walk_once(&l, src, AO_ARCHIVES, depth, &members);
	}
	if (rc == AW_COMPLETE && members == 0 && l.filtered && !c->stopped) {
		l.broken[0] = 0;
		rc = walk_once(&l, src, AO_RAW_ONLY, depth, &members);
	}
	if (rc == AW_PARTIAL && l.broken[0] && !l.encrypted_told)
		verdict_add(c->v, "attach.incomplete", part, "%s %.100s: %s", attach_type_name(t), path, l.broken);
	else if (rc == AW_COMPLETE && members == 0 && nonzero_bytes(src, 65) > 64)
		verdict_add(c->v, "attach.incomplete", part, "%s %.100s lists no members but holds %zu bytes",
		            attach_type_name(t), path, src->len);
	if ((is_zip(t) || (l.zip && !l.filtered)) && rc != AW_STOPPED && rc != AW_ERROR) {
		size_t local = 0, end;
		if (at_zip_local_count(src, c->lim->archive_max_members, &local) && local > (size_t)members)
			verdict_add(c->v, "attach.inconsistent", part,
			            "zip %.100s: local headers hold %zu entries, the central directory lists %d", path,
			            local, members);
		/* bytes after the first zip's end are not part of it: another archive there? */
		if ((end = at_zip_end(src)) > 0 && end + 16 < src->len)
			at_carve(c, src, t, end, part, path, depth);
	}
	return rc;
}
