/*
 * NAME
 *	attach_office.c - macros and encryption in Office files; zip kinds
 * SYNOPSIS
 *	#include "attach/attach_int.h"
 *
 *	if (at_office_macros(&src, AT_OLE2, &what)) ...
 *	flags = at_ole2_dir_flags(&src);
 *	kind = at_zip_kind(&src);
 * DESCRIPTION
 *	OOXML (docx/xlsm/...): a zip; macros live in a part named
 *	vbaProject.bin (Word, Excel, PowerPoint) or in xl/macrosheets/
 *	(Excel 4.0 macros).  Zip stores member names uncompressed in every
 *	local header and in the central directory, so a byte search for the
 *	names finds them even in a damaged or truncated zip.  A renamed VBA
 *	part still needs its content type, declared in [Content_Types].xml
 *	(compressed): that member is read (at most CT_MAX bytes) and searched
 *	for the macro content types.
 *
 *	OLE2 (doc/xls/ppt/msi): a structure-checked byte scan rather than a
 *	full FAT walk.  Directory sectors hold 128-byte entries and every
 *	sector starts at a multiple of 512 bytes, so each 128-byte slot after
 *	the header is tested as a directory entry: a UTF-16LE name whose
 *	length field matches, object type storage or stream.  Entry names
 *	_VBA_PROJECT_CUR, _VBA_PROJECT, VBA (storage) and Macros (storage)
 *	mean macros (Excel, Word, PowerPoint add-ins); EncryptedPackage
 *	means an encrypted OOXML package in an OLE2 wrapper.  This survives
 *	broken FAT chains (which a FAT walker must give up on) at the cost of
 *	also seeing entries of OLE2 documents embedded uncompressed in the
 *	file, which are macros in the document all the same.  PowerPoint 97
 *	keeps VBA compressed inside its document stream: not seen here
 *	(ClamAV's OLE2 parser covers it).
 * LIMITS
 *	Linear in the file size; reads in SCAN_CHUNK pieces; at most CT_MAX
 *	bytes of [Content_Types].xml.
 * DIAGNOSTICS
 *	Unreadable content simply has no macros.
 * SEE ALSO
 *	attach_type.c, attach_archive.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

#define SCAN_CHUNK (64 * 1024)
#define CT_MAX     (256 * 1024)

typedef struct ole_name {
	const char *name;
	int type; /* 1 storage, 2 stream, 0 either */
	unsigned flag;
	const char *what;
} ole_name;

static const ole_name ole_names[] = {
    {"_VBA_PROJECT_CUR", 1, OLE_MACROS, "OLE2 _VBA_PROJECT_CUR storage"},
    {"_VBA_PROJECT", 2, OLE_MACROS, "OLE2 _VBA_PROJECT stream"},
    {"VBA", 1, OLE_MACROS, "OLE2 VBA storage"},
    {"Macros", 1, OLE_MACROS, "OLE2 Macros storage"},
    {"EncryptedPackage", 2, OLE_ENCRYPTED, "OLE2 EncryptedPackage"},
};

static const char *const ooxml_names[] = {"vbaProject.bin", "xl/macrosheets/", "[Content_Types].xml"};
static const char *const ooxml_what[] = {"vbaProject.bin", "Excel 4.0 macro sheet"};
static const char *const ct_macro[] = {"ms-office.vbaProject", "macroEnabled", "ms-excel.macrosheet"};

/* at_src_read - up to n bytes at off from memory or the descriptor */
ssize_t at_src_read(const at_src *s, void *buf, size_t n, size_t off)
{
	if (off >= s->len)
		return 0;
	if (n > s->len - off)
		n = s->len - off;
	if (s->mem) {
		memcpy(buf, s->mem + off, n);
		return (ssize_t)n;
	}
	return pread(s->fd, buf, n, (off_t)off);
}

/* at_src_find - bit i set if needles[i] occurs; chunked with overlap for descriptors */
unsigned at_src_find(const at_src *s, const char *const *needles, size_t n)
{
	unsigned found = 0, all = n >= 32 ? 0xffffffffu : (1u << n) - 1;
	size_t i, maxl = 1, off = 0;
	unsigned char *buf;

	if (n > 32)
		n = 32;
	for (i = 0; i < n; i++)
		if (strlen(needles[i]) > maxl)
			maxl = strlen(needles[i]);
	if (s->mem) {
		for (i = 0; i < n; i++)
			if (memmem(s->mem, s->len, needles[i], strlen(needles[i])))
				found |= 1u << i;
		return found;
	}
	buf = x_malloc(SCAN_CHUNK + maxl);
	while (off < s->len && found != all) {
		ssize_t got = at_src_read(s, buf, SCAN_CHUNK + maxl - 1, off);
		if (got <= 0)
			break;
		for (i = 0; i < n; i++)
			if (memmem(buf, (size_t)got, needles[i], strlen(needles[i])))
				found |= 1u << i;
		off += SCAN_CHUNK;
	}
	x_free(buf);
	return found;
}

/* ole_entry - OLE_ flags of one 128-byte directory slot */
static unsigned ole_entry(const unsigned char *e, const char **what)
{
	char name[33];
	size_t nl = (size_t)e[0x40] | (size_t)e[0x41] << 8, i;
	int type = e[0x42];

	if (nl < 4 || nl > 64 || nl % 2 || (type != 1 && type != 2))
		return 0;
	nl = nl / 2 - 1; /* code units without the terminating NUL */
	if (e[nl * 2] != 0 || e[nl * 2 + 1] != 0)
		return 0;
	for (i = 0; i < nl; i++) {
		if (e[i * 2 + 1] != 0 || e[i * 2] < 0x20 || e[i * 2] > 0x7e)
			return 0;
		name[i] = (char)e[i * 2];
	}
	name[nl] = '\0';
	for (i = 0; i < MW_ARRAY_LEN(ole_names); i++)
		if ((ole_names[i].type == 0 || ole_names[i].type == type) && strcmp(name, ole_names[i].name) == 0) {
			if (what)
				*what = ole_names[i].what;
			return ole_names[i].flag;
		}
	return 0;
}

/* at_ole2_dir_flags - OLE_MACROS / OLE_ENCRYPTED from the directory slots of OLE2 content */
unsigned at_ole2_dir_flags(const at_src *s, const char **what)
{
	unsigned char *buf;
	unsigned flags = 0;
	size_t off = 512;

	if (what)
		*what = NULL;
	buf = x_malloc(SCAN_CHUNK);
	while (off + 128 <= s->len) {
		ssize_t got = at_src_read(s, buf, SCAN_CHUNK, off), i;
		if (got < 128)
			break;
		for (i = 0; i + 128 <= got; i += 128)
			flags |= ole_entry(buf + i, (flags & OLE_MACROS) ? NULL : what);
		off += (size_t)got - (size_t)got % 128;
	}
	x_free(buf);
	return flags;
}

/* content_types_macro - read [Content_Types].xml of a zip and look for macro content types */
static int content_types_macro(const at_src *s)
{
	struct archive *a = at_archive_open(s, AO_ARCHIVES, NULL, NULL, 0);
	struct archive_entry *e;
	int found = 0;

	if (a == NULL)
		return 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		if (p && strcmp(p, "[Content_Types].xml") == 0) {
			char *buf = x_malloc(CT_MAX + 1);
			size_t len = 0, i;
			la_ssize_t got;
			while (len < CT_MAX && (got = archive_read_data(a, buf + len, CT_MAX - len)) > 0)
				len += (size_t)got;
			for (i = 0; i < MW_ARRAY_LEN(ct_macro) && !found; i++)
				found = memmem(buf, len, ct_macro[i], strlen(ct_macro[i])) != NULL;
			x_free(buf);
			break;
		}
	}
	at_archive_close(a);
	return found;
}

/* at_office_macros - 1 if OOXML or OLE2 content holds macros; *what says how it was seen */
int at_office_macros(const at_src *src, attach_type t, const char **what)
{
	unsigned f;

	*what = NULL;
	if (t == AT_OLE2)
		return (at_ole2_dir_flags(src, what) & OLE_MACROS) != 0;
	if (t != AT_OOXML)
		return 0;
	f = at_src_find(src, ooxml_names, MW_ARRAY_LEN(ooxml_names));
	if (f & 1)
		*what = ooxml_what[0];
	else if (f & 2)
		*what = ooxml_what[1];
	else if (content_types_macro(src))
		*what = "macro content type in [Content_Types].xml";
	return *what != NULL;
}

/* at_zip_kind - OOXML, ODF, JAR or plain zip from member names anywhere in the zip */
attach_type at_zip_kind(const at_src *src)
{
	static const char *const names[] = {"[Content_Types].xml", "mimetypeapplication/vnd.oasis.opendocument",
	                                    "META-INF/MANIFEST.MF"};
	unsigned f = at_src_find(src, names, MW_ARRAY_LEN(names));

	if (f & 1)
		return AT_OOXML;
	if (f & 2)
		return AT_ODF;
	if (f & 4)
		return AT_JAR;
	return AT_ZIP;
}
