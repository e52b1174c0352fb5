/*
 * NAME
 *	attach_type.c - true type of content from a compact magic-number table
 * SYNOPSIS
 *	#include "attach/attach.h"
 *
 *	attach_type t = attach_type_detect(head, hlen, tail, tlen, size);
 * DESCRIPTION
 *	A table of (offset, bytes) signatures for the types that matter at a
 *	mail gateway: executables (PE, ELF, Mach-O, Java class), Office and
 *	other documents (OLE2, OOXML/ODF/JAR told apart inside zip, PDF,
 *	RTF), archives (ZIP, RAR, 7z, LZH, CAB, gzip, bzip2, xz, zstd, tar),
 *	disk images (ISO 9660, UDF, VHD, VHDX, DMG), shortcuts (LNK), CHM,
 *	pictures; then a text heuristic for HTA and script text (JS, VBS,
 *	PowerShell, batch, shell) on the first ATTACH_TEXT_SCAN bytes.  A web
 *	page is HTML unless it carries what only an HTML application uses
 *	(hta_markers[]); other text is a script when text_markers[] match.
 *
 *	Why a table and not libmagic: the table answers in well under a
 *	microsecond with no database to load (libmagic loads a 7 MB compiled
 *	database, ~40 ms per handle, and magic_buffer costs tens of
 *	microseconds per call on top and needs one handle per thread, see
 *	tests/bench/attach_bench.c), it is deterministic across libmagic
 *	versions, easy to fuzz, and it knows the mail-specific cases
 *	libmagic does not name (OOXML with macros, HTA, WSH scripts).
 * LIMITS
 *	Looks at most at ATTACH_HEAD bytes of head and ATTACH_TAIL of tail;
 *	script heuristics at most ATTACH_TEXT_SCAN bytes.
 * DIAGNOSTICS
 *	None: unknown content is AT_UNKNOWN.
 * SEE ALSO
 *	attach.h, attach_name.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"

#include <string.h>

#define ATTACH_TEXT_SCAN 16384

typedef struct type_info {
	const char *name;
	unsigned flags;
} type_info;

/* Indexed by attach_type. */
static const type_info type_infos[AT_COUNT] = {
    [AT_UNKNOWN] = {"unknown", 0},
    [AT_TEXT] = {"text", 0},
    [AT_PE] = {"PE executable", ATF_EXEC},
    [AT_ELF] = {"ELF executable", ATF_EXEC},
    [AT_MACHO] = {"Mach-O executable", ATF_EXEC},
    [AT_JAVA_CLASS] = {"Java class", ATF_EXEC},
    [AT_OLE2] = {"OLE2 compound document", ATF_DOC},
    [AT_OOXML] = {"OOXML document", ATF_DOC},
    [AT_ODF] = {"OpenDocument", ATF_DOC},
    [AT_JAR] = {"Java archive", ATF_EXEC},
    [AT_ZIP] = {"zip archive", ATF_ARCHIVE},
    [AT_PDF] = {"PDF", ATF_DOC},
    [AT_RTF] = {"RTF", ATF_DOC},
    [AT_RAR] = {"RAR archive", ATF_ARCHIVE},
    [AT_7Z] = {"7z archive", ATF_ARCHIVE},
    [AT_LZH] = {"LZH archive", ATF_ARCHIVE},
    [AT_CAB] = {"cabinet archive", ATF_ARCHIVE},
    [AT_GZIP] = {"gzip", ATF_ARCHIVE},
    [AT_BZIP2] = {"bzip2", ATF_ARCHIVE},
    [AT_XZ] = {"xz", ATF_ARCHIVE},
    [AT_ZSTD] = {"zstd", ATF_ARCHIVE},
    [AT_TAR] = {"tar archive", ATF_ARCHIVE},
    [AT_ISO9660] = {"ISO 9660 disk image", ATF_DISK | ATF_ARCHIVE},
    [AT_UDF] = {"UDF disk image", ATF_DISK},
    [AT_VHD] = {"VHD disk image", ATF_DISK},
    [AT_VHDX] = {"VHDX disk image", ATF_DISK},
    [AT_DMG] = {"DMG disk image", ATF_DISK},
    [AT_LNK] = {"Windows shortcut (LNK)", ATF_SHORTCUT},
    [AT_CHM] = {"compiled HTML help (CHM)", ATF_SCRIPT},
    [AT_HTA] = {"HTML application (HTA)", ATF_SCRIPT},
    [AT_JS] = {"JScript", ATF_SCRIPT},
    [AT_VBS] = {"VBScript", ATF_SCRIPT},
    [AT_PS1] = {"PowerShell script", ATF_SCRIPT},
    [AT_BATCH] = {"batch script", ATF_SCRIPT},
    [AT_SHELL] = {"shell script", 0}, /* not run by a click on the desktops we guard */
    [AT_HTML] = {"HTML", ATF_DOC},
    [AT_JPEG] = {"JPEG image", ATF_IMAGE},
    [AT_PNG] = {"PNG image", ATF_IMAGE},
    [AT_GIF] = {"GIF image", ATF_IMAGE},
    [AT_BMP] = {"BMP image", ATF_IMAGE},
    [AT_TIFF] = {"TIFF image", ATF_IMAGE},
    [AT_CONTAINER] = {"archive or compressed data", ATF_ARCHIVE},
};

/* Fixed signatures: bytes at an offset of the head, first match wins. */
typedef struct magic {
	size_t off;
	const char *bytes;
	size_t len;
	attach_type type;
} magic;

#define M(off, s, t)                                                                                                   \
	{                                                                                                              \
		off, s, sizeof(s) - 1, t                                                                               \
	}
static const magic magics[] = {
    M(0,
      "\x7f"
      "ELF",
      AT_ELF),
    M(0, "\xfe\xed\xfa\xce", AT_MACHO),
    M(0, "\xfe\xed\xfa\xcf", AT_MACHO),
    M(0, "\xce\xfa\xed\xfe", AT_MACHO),
    M(0, "\xcf\xfa\xed\xfe", AT_MACHO),
    M(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", AT_OLE2),
    M(0, "PK\x03\x04", AT_ZIP),
    M(0, "PK\x05\x06", AT_ZIP),
    M(0, "PK\x07\x08", AT_ZIP),
    M(0, "{\\rtf", AT_RTF),
    M(0, "Rar!\x1a\x07", AT_RAR),
    M(0, "7z\xbc\xaf\x27\x1c", AT_7Z),
    M(0, "MSCF\0\0\0\0", AT_CAB),
    M(0, "\x1f\x8b\x08", AT_GZIP),
    M(0, "BZh", AT_BZIP2),
    M(0,
      "\xfd"
      "7zXZ\0",
      AT_XZ),
    M(0, "\x28\xb5\x2f\xfd", AT_ZSTD),
    /* compressed data libarchive reads only through an external program
     * (never run here): known, so that it is "cannot open", not "text" */
    M(0, "\x89LZO\0\r\n\x1a\n", AT_CONTAINER),
    /* xar (libarchive reads it with libxml2): walked like the others */
    M(0, "xar!", AT_CONTAINER),
    M(257, "ustar", AT_TAR),
    M(0x8001, "CD001", AT_ISO9660),
    M(0x8801, "CD001", AT_ISO9660),
    M(0x9001, "CD001", AT_ISO9660),
    M(0, "vhdxfile", AT_VHDX),
    M(0, "conectix", AT_VHD),
    M(0, "\x4c\0\0\0\x01\x14\x02\0", AT_LNK),
    M(0, "ITSF\x03\0\0\0", AT_CHM),
    M(0, "\x89PNG\r\n\x1a\n", AT_PNG),
    M(0, "\xff\xd8\xff", AT_JPEG),
    M(0, "GIF87a", AT_GIF),
    M(0, "GIF89a", AT_GIF),
    M(0, "II*\0", AT_TIFF),
    M(0, "MM\0*", AT_TIFF),
};
#undef M

/* UDF volume recognition: BEA01, then NSR02/NSR03 in 2 KB descriptors from 32 KB. */
static const char *const udf_ids[] = {"NSR02", "NSR03"};

/* Script text markers, matched case-insensitively; first match wins. */
typedef struct text_marker {
	const char *needle;
	attach_type type;
	int at_start; /* only at the start of the text (after a BOM and white space) */
} text_marker;

static const text_marker text_markers[] = {
    {"<hta:application", AT_HTA, 0},
    {"#!", AT_SHELL, 1},
    {"@echo off", AT_BATCH, 1},
    {"invoke-expression", AT_PS1, 0},
    {"downloadstring(", AT_PS1, 0},
    {"net.webclient", AT_PS1, 0},
    {"frombase64string(", AT_PS1, 0},
    {"-encodedcommand", AT_PS1, 0},
    {"set-executionpolicy", AT_PS1, 0},
    {"new activexobject", AT_JS, 0},
    {"activexobject(", AT_JS, 0},
    {"on error resume next", AT_VBS, 0},
    {"wscript.shell", AT_VBS, 0},
    {"wscript.createobject", AT_VBS, 0},
    {"scripting.filesystemobject", AT_VBS, 0},
    {"createobject(", AT_VBS, 0},
    {"adodb.stream", AT_VBS, 0},
};

/* JScript syntax that tells a WSH script apart from VBScript. */
static const char *const js_hints[] = {"var ", "function", "};", "new activexobject", "try {", "\");"};

static const char *const html_starts[] = {"<!doctype html", "<html", "<head", "<body", "<script"};

/* In a web page these mean an HTML application (mshta, full system access), not a page:
 * old pages use ActiveXObject("Microsoft.XMLHTTP"), so that alone is not enough. */
static const char *const hta_markers[] = {"<hta:application",           "vbscript",          "wscript.shell",
                                          "scripting.filesystemobject", "shell.application", "adodb.stream"};

/* attach_type_name - human name of a type */
const char *attach_type_name(attach_type t)
{
	return (unsigned)t < AT_COUNT ? type_infos[t].name : "unknown";
}

/* attach_type_flags - ATF_ class bits of a type */
unsigned attach_type_flags(attach_type t)
{
	return (unsigned)t < AT_COUNT ? type_infos[t].flags : 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* ci_find - case-insensitive (ASCII) search of needle in h[0..n); returns offset or -1 */
static long ci_find(const unsigned char *h, size_t n, const char *needle)
{
	size_t nl = strlen(needle), i, j;
	unsigned char first;

	if (nl == 0 || nl > n)
		return -1;
	first = (unsigned char)needle[0];
	for (i = 0; i + nl <= n; i++) {
		unsigned char c = h[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c != first)
			continue;
		for (j = 1; j < nl; j++) {
			unsigned char d = h[i + j];
			if (d >= 'A' && d <= 'Z')
				d += 32;
			if (d != (unsigned char)needle[j])
				break;
		}
		if (j == nl)
			return (long)i;
	}
	return -1;
}

/* detect_pe - "MZ" with a PE header, or a DOS header with binary bytes */
static int detect_pe(const unsigned char *h, size_t n)
{
	uint32_t lfanew;
	size_t i;

	if (n < 64 || h[0] != 'M' || h[1] != 'Z')
		return 0;
	lfanew = le32(h + 0x3c);
	if (lfanew >= 64 && (size_t)lfanew + 4 <= n && memcmp(h + lfanew, "PE\0\0", 4) == 0)
		return 1;
	for (i = 2; i < 64; i++)
		if (h[i] == 0)
			return 1; /* a binary DOS header; text rarely starts "MZ" and holds NULs */
	return 0;
}

/* detect_udf - UDF volume recognition sequence in the head */
static int detect_udf(const unsigned char *h, size_t n)
{
	size_t off, i;
	int bea = 0;

	for (off = 0x8000; off + 6 <= n && off < 0x8000 + 16 * 2048; off += 2048) {
		if (memcmp(h + off + 1, "BEA01", 5) == 0)
			bea = 1;
		for (i = 0; bea && i < MW_ARRAY_LEN(udf_ids); i++)
			if (memcmp(h + off + 1, udf_ids[i], 5) == 0)
				return 1;
	}
	return 0;
}

/*
 * looks_like_text - text in any of the charsets mail carries (ASCII,
 * UTF-8, Shift_JIS, EUC-JP, ISO-2022-JP with its ESC sequences) has almost
 * no C0 control bytes besides tab, CR, LF, FF and ESC; compressed or
 * encrypted data has about one in eight.  More than one in a hundred:
 * binary.
 */
static int looks_like_text(const unsigned char *b, size_t n)
{
	size_t i, ctl = 0;

	for (i = 0; i < n; i++)
		if ((b[i] < 0x20 && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' && b[i] != '\f' && b[i] != 0x1b) ||
		    b[i] == 0x7f)
			ctl++;
	return ctl * 100 <= n;
}

/* detect_text - AT_TEXT, a script type, HTA or HTML for text content; AT_UNKNOWN for binary */
static attach_type detect_text(const unsigned char *h, size_t n)
{
	unsigned char buf[ATTACH_TEXT_SCAN];
	size_t i, len = 0, start = 0;
	attach_type t = AT_TEXT;

	if (n >= 2 && h[0] == 0xff && h[1] == 0xfe) {
		/* UTF-16LE (WSH accepts it): keep the low bytes of ASCII code units */
		for (i = 2; i + 1 < n && len < sizeof(buf); i += 2) {
			if (h[i] == 0 && h[i + 1] == 0)
				return AT_UNKNOWN;
			buf[len++] = h[i + 1] == 0 ? h[i] : '?';
		}
	} else {
		for (i = 0; i < n && len < sizeof(buf); i++) {
			if (h[i] == 0)
				return AT_UNKNOWN;
			buf[len++] = h[i];
		}
	}
	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		start = 3;
	while (start < len && (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\r' || buf[start] == '\n'))
		start++;
	for (i = 0; i < MW_ARRAY_LEN(html_starts); i++)
		if (ci_find(buf + start, len - start > 1024 ? 1024 : len - start, html_starts[i]) >= 0) {
			/* a web page: only what mshta runs with system access makes it an HTA */
			for (i = 0; i < MW_ARRAY_LEN(hta_markers); i++)
				if (ci_find(buf + start, len - start, hta_markers[i]) >= 0)
					return AT_HTA;
			return AT_HTML;
		}
	for (i = 0; i < MW_ARRAY_LEN(text_markers); i++) {
		const text_marker *m = &text_markers[i];
		long at = ci_find(buf + start, len - start, m->needle);
		if (at < 0 || (m->at_start && at != 0))
			continue;
		t = m->type;
		break;
	}
	if (t == AT_VBS)
		for (i = 0; i < MW_ARRAY_LEN(js_hints); i++)
			if (ci_find(buf + start, len - start, js_hints[i]) >= 0 &&
			    ci_find(buf + start, len - start, "on error resume next") < 0) {
				t = AT_JS;
				break;
			}
	if (t == AT_TEXT && !looks_like_text(buf, len))
		t = AT_UNKNOWN; /* no NUL byte, but binary all the same (compressed data ...) */
	return t;
}

/* zip_kind_head - tell OOXML / ODF / JAR from names near the start of a zip */
static attach_type zip_kind_head(const unsigned char *h, size_t n)
{
	if (n > 38 + 35 && memcmp(h + 30, "mimetype", 8) == 0 &&
	    memcmp(h + 38, "application/vnd.oasis.opendocument", 34) == 0)
		return AT_ODF;
	if (memmem(h, n, "[Content_Types].xml", 19))
		return AT_OOXML;
	if (memmem(h, n, "META-INF/MANIFEST.MF", 20))
		return AT_JAR;
	return AT_ZIP;
}

/* attach_type_detect - the true type: fixed magics, then special layouts, then text */
attach_type attach_type_detect(const void *head, size_t hlen, const void *tail, size_t tlen, size_t size)
{
	const unsigned char *h = head, *t = tail;
	size_t i;

	if (hlen > ATTACH_HEAD)
		hlen = ATTACH_HEAD;
	if (hlen == 0)
		return AT_UNKNOWN;
	if (detect_pe(h, hlen))
		return AT_PE;
	if (hlen >= 8 && memcmp(h, "\xca\xfe\xba\xbe", 4) == 0)
		return be32(h + 4) < 45 ? AT_MACHO : AT_JAVA_CLASS; /* fat binary: arch count; class: version */
	for (i = 0; i < MW_ARRAY_LEN(magics); i++) {
		const magic *m = &magics[i];
		if (m->off + m->len <= hlen && memcmp(h + m->off, m->bytes, m->len) == 0)
			return m->type == AT_ZIP ? zip_kind_head(h, hlen) : m->type;
	}
	if (hlen >= 7 && h[2] == '-' && h[3] == 'l' && (h[4] == 'h' || h[4] == 'z') && h[6] == '-')
		return AT_LZH;
	if (detect_udf(h, hlen))
		return AT_UDF;
	if (t && tlen >= 512) {
		const unsigned char *f = t + tlen - 512;
		if (memcmp(f, "conectix", 8) == 0)
			return AT_VHD;
		if (memcmp(f, "koly", 4) == 0)
			return AT_DMG;
	}
	if (memmem(h, hlen < 1024 ? hlen : 1024, "%PDF-", 5))
		return AT_PDF;
	if (hlen >= 14 && h[0] == 'B' && h[1] == 'M' && le32(h + 2) == size)
		return AT_BMP;
	return detect_text(h, hlen);
}
