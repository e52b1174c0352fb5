/*
 * NAME
 *	attach_int.h - private to src/attach: content sources, the per-message
 *	walk context, helpers shared by the attach_*.c files
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_ATTACH_INT_H
#define MW_ATTACH_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "attach/attach.h"

/* Content to judge: bytes in memory, or a descriptor read with pread from 0 (never closed here). */
typedef struct at_src {
	const unsigned char *mem;
	int fd;
	size_t len;
} at_src;

/* at_src_read - up to n bytes at off; returns bytes read (0 at end), -1 on I/O error */
ssize_t at_src_read(const at_src *s, void *buf, size_t n, size_t off);

/*
 * at_src_find - which of needles[] (at most 32) occur in the content,
 * as a bit mask.  Reads in chunks with overlap; stops early when all found.
 */
unsigned at_src_find(const at_src *s, const char *const *needles, size_t n);

/* Per-message walk state: limits, counters, what ClamAV and the verdict need. */
typedef struct at_ctx {
	const mw_limits *lim;
	const av_engine *av;
	const char *tmpdir;
	mw_verdict *v;
	size_t members;               /* archive members seen, whole message */
	unsigned long long expanded;  /* bytes unpacked, all levels, whole message */
	int stopped;                  /* a bomb limit was crossed: read no more archives */
	int ppap;                     /* -1 not yet looked, 0 no, 1 the text seems to carry a password */
	const mime_parser *ppap_mime; /* message to look in, or NULL */
	mw_scan *scan;                /* the message's scan (coverage set, content tree), or NULL: every member goes
	                                 to ClamAV, what it opens inside is not judged */
} at_ctx;

/* Result of walking one archive. */
typedef enum at_walk_rc {
	AW_COMPLETE, /* every member read and scanned */
	AW_PARTIAL,  /* damaged, unsupported or encrypted parts left unread */
	AW_STOPPED,  /* a bomb limit stopped it */
	AW_ERROR,    /* the environment failed (temp file) */
} at_walk_rc;

/*
 * at_archive_walk - walk archive content src found at part id `part`
 * (display path `path` for details), depth 1 for an attachment.  Members
 * get name and type rules, nested archives are walked, leaves go to
 * ClamAV.  t is the true type of src (gz/bz2/xz/zstd may hold a single
 * compressed file, named after path without its last extension).
 */
at_walk_rc at_archive_walk(at_ctx *c, const at_src *src, attach_type t, const char *part, const char *path, int depth);

/*
 * at_judge - the rules for one piece of content (attachment or member):
 * name, true type, macros; returns the true type.  member: 0 for a MIME
 * attachment, 1 for an archive member (active content gives
 * attach.archive_exec).  declared may be NULL.
 */
attach_type at_judge(at_ctx *c, const at_src *src, const char *name, const char *declared, const char *part,
                     int member);

/* at_av_scan - hand content ClamAV has not seen yet (coverage set) to ClamAV and record av.* reasons under part */
void at_av_scan(at_ctx *c, const at_src *src, const char *part, const char *path);

/* at_part_id - build "base:member" into out (MW_PART_MAX), keeping the base and the innermost end */
void at_part_id(char *out, size_t outlen, const char *base, const char *member);

/* at_office_macros - 1 and a short what in *what if OLE2 / OOXML content has macros */
int at_office_macros(const at_src *src, attach_type t, const char **what);

/* at_ole2_dir_flags - OLE_ bits from the directory entries of OLE2 content; *what names the first macro entry */
#define OLE_MACROS    0x01
#define OLE_ENCRYPTED 0x02
unsigned at_ole2_dir_flags(const at_src *src, const char **what);

/*
 * at_archive_open - a libarchive reader over src with the formats and
 * filters we accept; mode AO_ARCHIVES (archive formats), AO_OR_RAW (also a
 * single compressed file), AO_RAW_ONLY (the data after the filters as
 * one file).  NULL if it cannot be opened, with libarchive's reason in
 * err (may be NULL).  *consumed (may be NULL) points at the count of
 * source bytes handed to libarchive so far.  Free with at_archive_close.
 */
#define AO_ARCHIVES 0
#define AO_OR_RAW   1
#define AO_RAW_ONLY 2
struct archive;
struct archive *at_archive_open(const at_src *src, int mode, const size_t **consumed, char *err, size_t errlen);

/*
 * at_container_probe - 1 if content of no known type is something
 * libarchive reads: data behind a compression filter, or an archive format
 * (lzip, compress, lz4, cpio, old tar ...).  What the object is comes from
 * libarchive's own recognisers, not from a list of ours.
 */
int at_container_probe(const at_src *src);

/*
 * at_carve - look for an archive or compressed stream hidden in src from
 * byte `from` on (past the start of a picture, text or unknown data; past
 * the end of a zip): one that libarchive opens is attach.inconsistent and
 * is walked as path@OFFSET.  t is src's own true type.  Returns 1 when one
 * was found.
 */
int at_carve(at_ctx *c, const at_src *src, attach_type t, size_t from, const char *part, const char *path, int depth);

/*
 * at_carve_part - at_carve over a whole MIME part whose SHA-256 (hex) is
 * sha, or NULL/"" when unknown.  Content in which carving found no
 * candidate at all (nothing that even looks like a container's header: a
 * function of its bytes alone) is remembered by hash and length, and the
 * same content again is not searched byte by byte a second time.
 */
int at_carve_part(at_ctx *c, const at_src *src, attach_type t, const char *part, const char *path, const char *sha);
/* at_carve_memo_hits - parts the carving memo answered (for tests and figures) */
unsigned long at_carve_memo_hits(void);

/*
 * at_arj_check - is src an ARJ archive, and is it whole?  ARJ_NOT when
 * it does not start with a valid ARJ main header; ARJ_BROKEN (a short
 * reason in why) when its header chain, a member's data or a stored
 * member's CRC-32 is cut or damaged; ARJ_WHOLE otherwise.  Reads headers
 * only (and stored data), bounded (attach_arj.c).
 */
#define ARJ_NOT    0
#define ARJ_WHOLE  1
#define ARJ_BROKEN 2
int at_arj_check(const at_src *src, char *why, size_t wl);

/* at_carves - true types whose content is searched for hidden containers */
int at_carves(attach_type t);

/*
 * at_zip_end - the offset just past the end of the zip that starts at the
 * first local header (its end of central directory record and comment),
 * or 0 when it cannot be told.  Data past it is not part of that archive.
 */
size_t at_zip_end(const at_src *src);

/*
 * at_zip_local_count - walk the chain of zip local file headers from the
 * first one; *n gets the number of entries found.  Returns 1 when the
 * chain could be followed to its end (the central directory, or the end
 * of the data), 0 when it cannot be followed (an entry whose size is only
 * in a data descriptor) or there are more than max entries.  Bounded:
 * reads headers only, at most max of them.
 */
int at_zip_local_count(const at_src *src, size_t max, size_t *n);
void at_archive_close(struct archive *a);

/* at_zip_kind - AT_OOXML, AT_ODF, AT_JAR or AT_ZIP from the names in a zip */
attach_type at_zip_kind(const at_src *src);

/* at_utf8_name - a printable UTF-8 member name from raw bytes (UTF-8, else CP932, else escaped) */
void at_utf8_name(char *out, size_t outlen, const char *raw);

/* at_safe_name - a name fit for details and ids: invisible code points as <U+XXXX>, controls as '?' */
void at_safe_name(char *out, size_t outlen, const char *name);

/* at_ppap_note - " (the message text seems to carry a password: PPAP)" or "" */
const char *at_ppap_note(at_ctx *c);

#endif
