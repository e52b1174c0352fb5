/*
 * NAME
 *	attach.h - attachment inspection: true type, deceptive names,
 *	archives (libarchive), encryption, macros, bombs
 * SYNOPSIS
 *	#include "attach/attach.h"
 *
 *	attach_stage(scan);			(engine stage, after mime)
 *	attach_scan_buffer(&lim, av, tmp, "a.zip", "application/zip",
 *			   data, len, &verdict);	(one attachment)
 *	t = attach_type_detect(head, hlen, tail, tlen, size);
 *	f = attach_name_check("報告書.doc.exe", &info);
 * DESCRIPTION
 *	The attach stage looks at every MIME leaf that has a file name or a
 *	non-text type.  It finds the true type from content (a compact
 *	table of magic numbers, attach_type.c), judges the decoded UTF-8
 *	file name (attach_name.c), looks for macros in Office files
 *	(attach_office.c) and walks archives with libarchive
 *	(attach_archive.c), handing every member it unpacks to the
 *	in-process ClamAV engine (what ClamAV opens inside a member goes to
 *	the content tree through the scan's on_object hook).  Containers
 *	hidden behind other content are carved (attach_carve.c); ARJ, which
 *	only libclamav unpacks, has its header chain checked
 *	(attach_arj.c).  Facts become reasons; policy decides.
 *
 *	Reason codes: attach.executable, attach.double_ext, attach.rtlo,
 *	attach.type_mismatch, attach.macro, attach.archive_exec,
 *	attach.encrypted, attach.bomb, and av.* for members.
 *
 *	Part ids of archive members: the MIME part id, then one
 *	":member/path" per archive level, e.g. "2:inner.lzh:payload.txt".
 *	Ids longer than MW_PART_MAX - 1 bytes keep the MIME part id and the
 *	innermost end ("2:...long/name.exe"); the detail holds more.
 * LIMITS
 *	[limits] archive_max_depth, archive_max_members,
 *	archive_max_expanded, archive_max_ratio, archive_ratio_floor and
 *	archive_member_memory (policy.c has defaults and ranges).  Members,
 *	expanded bytes and depth count for the whole message.  Crossing one
 *	gives attach.bomb and stops all archive reading for the message at
 *	once; a bombed leaf is not handed to ClamAV either (it would unpack
 *	it for seconds): attach.bomb already says it was not inspected.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_ATTACH_H
#define MW_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "av/av.h"
#include "scan/scan.h"
#include "verdict/verdict.h"
#include "policy/policy.h"

/* True types: what the content is, whatever its name says. */
typedef enum attach_type {
	AT_UNKNOWN = 0,
	AT_TEXT,
	AT_PE,
	AT_ELF,
	AT_MACHO,
	AT_JAVA_CLASS,
	AT_OLE2,
	AT_OOXML,
	AT_ODF,
	AT_JAR,
	AT_ZIP,
	AT_PDF,
	AT_RTF,
	AT_RAR,
	AT_7Z,
	AT_LZH,
	AT_CAB,
	AT_GZIP,
	AT_BZIP2,
	AT_XZ,
	AT_ZSTD,
	AT_TAR,
	AT_ISO9660,
	AT_UDF,
	AT_VHD,
	AT_VHDX,
	AT_DMG,
	AT_LNK,
	AT_CHM,
	AT_HTA,
	AT_JS,
	AT_VBS,
	AT_PS1,
	AT_BATCH,
	AT_SHELL,
	AT_HTML,
	AT_JPEG,
	AT_PNG,
	AT_GIF,
	AT_BMP,
	AT_TIFF,
	AT_CONTAINER, /* another archive or compressed stream libarchive reads (lzip, compress, lz4, cpio ...) */
	AT_COUNT
} attach_type;

/* Classes of a true type (bit flags). */
#define ATF_EXEC     0x01 /* native or bytecode executable: PE, ELF, Mach-O, class */
#define ATF_SCRIPT   0x02 /* script text or HTA */
#define ATF_SHORTCUT 0x04 /* LNK */
#define ATF_DISK     0x08 /* ISO, UDF, VHD(X), DMG: mounted with one click */
#define ATF_ARCHIVE  0x10 /* walked with libarchive */
#define ATF_DOC      0x20 /* document */
#define ATF_IMAGE    0x40 /* picture */
#define ATF_ACTIVE   (ATF_EXEC | ATF_SCRIPT | ATF_SHORTCUT | ATF_DISK)

/* Bytes of head attach_type_detect() wants (ISO/UDF descriptors sit at 32-40 KB). */
#define ATTACH_HEAD 40960
#define ATTACH_TAIL 512

/*
 * attach_type_detect - true type of content from its first bytes (head,
 * up to ATTACH_HEAD), its last bytes (tail, up to ATTACH_TAIL; may be
 * NULL) and its size.  Zip containers are told apart (OOXML, ODF, JAR)
 * from names in the head; attach_zip_kind() looks at the whole file.
 */
attach_type attach_type_detect(const void *head, size_t hlen, const void *tail, size_t tlen, size_t size);
const char *attach_type_name(attach_type t);
unsigned attach_type_flags(attach_type t);

/* Name facts (bit flags returned by attach_name_check). */
#define ANF_EXECUTABLE 0x01 /* dangerous extension */
#define ANF_DOUBLE_EXT 0x02 /* decoy extension before a dangerous one, or padding */
#define ANF_BIDI       0x04 /* bidi control or invisible character */
#define ANF_MACRO_EXT  0x08 /* .docm .xlsm .pptm ... */
#define ANF_DOC_EXT    0x10 /* extension says document or picture */
#define ANF_TRAILING   0x20 /* trailing dots or spaces (Windows drops them) */
#define ANF_BAD_UTF8   0x40 /* not valid UTF-8 (judged on the bytes) */

typedef struct attach_name_info {
	char ext[24];        /* effective extension, lower-case ASCII, "" if none */
	char decoy[24];      /* extension before it, when a document one */
	uint32_t bad_cp;     /* first bidi/invisible code point found */
	const char *padding; /* "ASCII spaces", "U+3000 spaces", "dots", ... or NULL */
} attach_name_info;

/* attach_name_check - judge a decoded UTF-8 file name (path allowed: the last component counts) */
unsigned attach_name_check(const char *name, attach_name_info *info);

/* attach_type_declared_doc - 1 if a declared MIME type says document or picture */
int attach_type_declared_doc(const char *mime_type);

/*
 * attach_stage - the engine stage: judge every attachment of s->mime;
 * members libclamav did not see in the whole-part scan (s's coverage
 * set) go to ClamAV too.  Returns 0.
 */
int attach_stage(mw_scan *s);

/*
 * attach_walk - walk an archive or compressed stream found anywhere in
 * the content tree (libclamav found it inside a container we do not read
 * ourselves, a XAR or a PDF) as an attachment's would be: members judged,
 * given to ClamAV when it did not see them, what cannot be read a finding.
 * path names it in reasons; name may be NULL.  The content is in memory
 * (mem), or in the file fd when mem is NULL.
 */
void attach_walk(mw_scan *s, const char *path, const char *name, const void *mem, int fd, size_t len);

/*
 * attach_is_container - 1 if len bytes at mem, of no type the magic table
 * knows, are something libarchive reads: compressed data (lzma alone,
 * compress, lz4, even when cut short) or an archive format without a
 * fixed magic.  For objects found in containers we do not read (an ARJ
 * that libclamav unpacked): such an object is worth a walk.
 */
int attach_is_container(const void *mem, size_t len);

/*
 * attach_object - judge a file found anywhere in the content tree (decoded
 * from a text body, taken out of a document by our extractors) exactly as
 * an attachment: name, true type, macros, archives walked, hidden
 * containers.  path names it in reasons; name and declared may be NULL.
 */
void attach_object(mw_scan *s, const char *path, const char *name, const char *declared, const void *mem, int fd,
                   size_t len);

/*
 * attach_scan_buffer - judge one attachment held in memory as if it were
 * MIME part "1" named name with declared type mime_type (both may be
 * NULL).  av may be NULL (members are not scanned).  For tests, fuzzers,
 * the bench.  Every member goes to ClamAV (there is no coverage set).
 * Returns 0.
 */
int attach_scan_buffer(const mw_limits *lim, const av_engine *av, const char *tmpdir, const char *name,
                       const char *mime_type, const void *data, size_t len, mw_verdict *v);

#endif
