/*
 * NAME
 *	ex_ole.c - OLE2 compound files: embedded packages with their names,
 *	Equation Editor objects, links to remote content
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_ole(cfb, len, &lim, &out);
 * DESCRIPTION
 *	A bounded reader of the compound file format ([MS-CFB]): header,
 *	FAT (with the DIFAT chain), directory, mini stream and mini FAT.
 *	Every directory entry is looked at in turn (not only those the
 *	red-black tree reaches, which a damaged or crafted file may hide):
 *
 *	"\001Ole10Native"  the native data of a Package object: a file
 *			dropped into a document, with a display label, its
 *			source path and the temporary path it is written to
 *			when opened.  The file is emitted as a child object
 *			named after that temporary path (what really runs),
 *			with doc.ole_object telling label and name.
 *	"\001Ole"	the object's link moniker: a linked object loads its
 *			source when the document opens (CVE-2017-0199); URLs and
 *			UNC paths in it are emitted as links, with
 *			doc.remote_content.
 *	"\001CompObj", CLSIDs  the Equation Editor class (CVE-2017-11882,
 *			CVE-2018-0802) gives doc.ole_object.
 *	"Package", "CONTENTS"  an embedded OOXML package or PDF (the stream
 *			is the file): emitted as a child object.
 *
 *	libclamav walks OLE2 files itself and scans every stream, and
 *	extracts Ole10Native data too, but without its name and without
 *	saying what kind of object it was (src/extract/README.md).
 * LIMITS
 *	Sector chains are followed at most once per sector of the file (a
 *	loop ends there); the directory at most len / 128 entries; a stream
 *	is read to at most ex_budget() bytes.  Memory: the FAT and mini FAT
 *	(4 bytes per sector of the file), the directory, the mini stream and
 *	one stream at a time.  Embedded compound files inside RTF are read
 *	through ex_ole_run() with the caller's depth.
 * DIAGNOSTICS
 *	Findings: doc.ole_object, doc.remote_content, content.damaged (not a
 *	compound file, broken FAT), content.limits.
 * SEE ALSO
 *	[MS-CFB], [MS-OLEDS] 2.3.6 (Ole10Native), ex_rtf.c, ex_office.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"
#include "extract/ex_ole.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FREESECT   0xFFFFFFFFu
#define ENDOFCHAIN 0xFFFFFFFEu
#define DIR_ENTRY  128

typedef struct cfb {
	const unsigned char *p;
	size_t len;
	size_t ssz;  /* sector size */
	size_t nsec; /* sectors in the file after the header */
	uint32_t *fat;
	size_t nfat;
	uint32_t *mfat;
	size_t nmfat;
	mw_buf dir;
	mw_buf ministream;
	size_t cutoff;
} cfb;

/* sector - the bytes of sector s, or NULL when outside the file */
static const unsigned char *sector(const cfb *c, uint32_t s)
{
	size_t off;

	if ((size_t)s >= c->nsec)
		return NULL;
	off = c->ssz + (size_t)s * c->ssz;
	return off + c->ssz <= c->len ? c->p + off : NULL;
}

/* chain - append the sectors of a FAT chain from start to out (out's cap bounds it) */
static int chain(const cfb *c, uint32_t start, mw_buf *out)
{
	size_t steps = 0;
	uint32_t s = start;

	while (s != ENDOFCHAIN && !out->truncated) {
		const unsigned char *d = sector(c, s);
		if (d == NULL || (size_t)s >= c->nfat || ++steps > c->nsec)
			return s == ENDOFCHAIN ? 0 : -1;
		buf_append(out, d, c->ssz);
		s = c->fat[s];
	}
	return 0;
}

/* mini_chain - a stream below the cutoff, from the mini stream */
static int mini_chain(const cfb *c, uint32_t start, size_t size, mw_buf *out)
{
	size_t steps = 0, msz = 64;
	uint32_t s = start;

	while (s != ENDOFCHAIN && out->len < size && !out->truncated) {
		size_t off = (size_t)s * msz;
		if ((size_t)s >= c->nmfat || off + msz > c->ministream.len || ++steps > c->nmfat)
			return -1;
		buf_append(out, c->ministream.p + off, msz);
		s = c->mfat[s];
	}
	return 0;
}

/* load_fat - the FAT from the header DIFAT and the DIFAT chain */
static int load_fat(cfb *c)
{
	const unsigned char *h = c->p;
	uint32_t nfatsec = ex_le32(h + 0x2c), difat = ex_le32(h + 0x44), ndifat = ex_le32(h + 0x48);
	size_t per = c->ssz / 4, i, have = 0, max = c->nsec + 1, steps = 0;
	uint32_t *secs;

	if (nfatsec > max)
		nfatsec = (uint32_t)max;
	secs = x_malloc((nfatsec ? nfatsec : 1) * sizeof(*secs));
	for (i = 0; i < 109 && have < nfatsec; i++)
		secs[have++] = ex_le32(h + 0x4c + 4 * i);
	while (have < nfatsec && difat != ENDOFCHAIN && difat != FREESECT && steps++ <= ndifat && steps <= max) {
		const unsigned char *d = sector(c, difat);
		if (d == NULL)
			break;
		for (i = 0; i + 1 < per && have < nfatsec; i++)
			secs[have++] = ex_le32(d + 4 * i);
		difat = ex_le32(d + 4 * (per - 1));
	}
	c->nfat = have * per;
	if (c->nfat > c->nsec + per)
		c->nfat = c->nsec + per;
	c->fat = x_malloc((c->nfat ? c->nfat : 1) * sizeof(*c->fat));
	for (i = 0; i < c->nfat; i++) {
		const unsigned char *d = sector(c, secs[i / per]);
		c->fat[i] = d ? ex_le32(d + 4 * (i % per)) : ENDOFCHAIN;
	}
	x_free(secs);
	return have == nfatsec ? 0 : -1;
}

/* entry_name - a directory entry name as ASCII ('?' for control and non-ASCII characters) */
static void entry_name(const unsigned char *e, char *out, size_t outlen)
{
	size_t n = ex_le16(e + 0x40), i, k = 0;

	if (n > 64)
		n = 64;
	for (i = 0; i + 1 < n && k + 1 < outlen; i += 2) {
		unsigned cu = ex_le16(e + i);
		if (cu == 0)
			break;
		out[k++] = cu >= 0x20 && cu < 0x80 ? (char)cu : '?';
	}
	out[k] = 0;
}

/* read_stream - a stream's bytes into out (cap set by the caller) */
static int read_stream(const cfb *c, const unsigned char *e, mw_buf *out)
{
	uint32_t start = ex_le32(e + 0x74);
	size_t size = ex_le32(e + 0x78), r;

	if (size < c->cutoff)
		r = (size_t)mini_chain(c, start, size, out);
	else
		r = (size_t)chain(c, start, out);
	if (out->len > size)
		out->len = size; /* sectors are whole; the stream is not */
	return (int)r;
}

/* basename_of - the last path component */
static const char *basename_of(const char *s, size_t n, size_t *bn)
{
	size_t i = n;

	while (i > 0 && s[i - 1] != '\\' && s[i - 1] != '/' && s[i - 1] != ':')
		i--;
	*bn = n - i;
	return s + i;
}

/* cstr - a NUL-terminated string at p[*off] within n; 0 when none */
static int cstr(const unsigned char *p, size_t n, size_t *off, const char **s, size_t *sl)
{
	const unsigned char *z;

	if (*off >= n || (z = memchr(p + *off, 0, n - *off)) == NULL)
		return 0;
	*s = (const char *)p + *off;
	*sl = (size_t)(z - (p + *off));
	*off += *sl + 1;
	return 1;
}

/* ex_ole_package - see ex_ole.h */
int ex_ole_package(ex_out *o, const unsigned char *p, size_t n, const char *where)
{
	const char *label, *src, *tmp = NULL, *name;
	size_t ll, sl, tl = 0, off = 2, nl;
	uint32_t tlen, dlen;
	char shown_l[64], shown_n[64];

	if (n < 2 || !cstr(p, n, &off, &label, &ll) || !cstr(p, n, &off, &src, &sl) || off + 8 > n)
		goto raw;
	off += 4; /* 0x00030000 */
	tlen = ex_le32(p + off);
	off += 4;
	if (tlen > n - off)
		goto raw;
	tmp = (const char *)p + off;
	tl = strnlen(tmp, tlen);
	off += tlen;
	if (off + 4 > n)
		goto raw;
	dlen = ex_le32(p + off);
	off += 4;
	name = tl ? basename_of(tmp, tl, &nl) : sl ? basename_of(src, sl, &nl) : label;
	if (!tl && !sl)
		nl = ll;
	snprintf(shown_l, sizeof(shown_l), "%.*s", (int)(ll < 60 ? ll : 60), label);
	snprintf(shown_n, sizeof(shown_n), "%.*s", (int)(nl < 60 ? nl : 60), name);
	if (strcmp(shown_l, shown_n) != 0)
		ex_finding(o, "doc.ole_object", "%s: OLE Package object labelled %s carries %s", where, shown_l,
		           shown_n);
	else
		ex_finding(o, "doc.ole_object", "%s: OLE Package object carries %s", where, shown_n);
	if (dlen > n - off) {
		ex_finding(o, "content.damaged", "%s: OLE Package %s cut short (%zu of %u bytes)", where, shown_n,
		           n - off, (unsigned)dlen);
		dlen = (uint32_t)(n - off);
	}
	return ex_object(o, name, nl, NULL, p + off, dlen);
raw:
	ex_finding(o, "doc.ole_object", "%s: OLE Package object (unnamed)", where);
	return ex_object(o, NULL, 0, NULL, p, n);
}

/* scan_moniker - URLs and UNC paths (UTF-16LE or ASCII) in a link moniker stream */
static void scan_moniker(ex_out *o, const unsigned char *p, size_t n, const char *where)
{
	char ascii[EX_URL_MAX + 1];
	size_t i, k = 0, before = o->nlinks;

	/* fold UTF-16LE text to ASCII, keep ASCII as is; other bytes end a string */
	for (i = 0; i < n && !o->stop; i++) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f) {
			if (k < EX_URL_MAX)
				ascii[k++] = (char)c;
			if (i + 1 < n && p[i + 1] == 0)
				i++;
			continue;
		}
		if (k >= 6)
			ex_scan_urls(o, ascii, k, "linked OLE object");
		k = 0;
	}
	if (k >= 6)
		ex_scan_urls(o, ascii, k, "linked OLE object");
	if (o->nlinks > before)
		ex_finding(o, "doc.remote_content", "%s: linked OLE object loads its source from the network", where);
}

/* Equation Editor: CLSID 0002CE02-0000-0000-C000-000000000046 (and the 3.0 class names). */
static const unsigned char clsid_equation[16] = {0x02, 0xce, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};

/* ex_ole_run - see ex_ole.h */
int ex_ole_run(ex_out *o, const void *in, size_t len, const char *where)
{
	cfb c;
	const unsigned char *h = in;
	size_t i, nent;
	int equation_told = 0;

	memset(&c, 0, sizeof(c));
	if (len < 512 || memcmp(h, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) != 0)
		return ex_finding(o, "content.damaged", "%s: not an OLE2 compound file", where);
	c.p = h;
	c.len = len;
	c.ssz = ex_le16(h + 0x1e) == 12 ? 4096 : 512;
	c.nsec = len > c.ssz ? (len - c.ssz) / c.ssz : 0;
	c.cutoff = ex_le32(h + 0x38) ? ex_le32(h + 0x38) : 4096;
	if (load_fat(&c) < 0)
		ex_finding(o, "content.damaged", "%s: OLE2 FAT cut short", where);
	buf_init(&c.dir, len);
	if (chain(&c, ex_le32(h + 0x30), &c.dir) < 0 || c.dir.len < DIR_ENTRY)
		ex_finding(o, "content.damaged", "%s: OLE2 directory chain broken", where);
	nent = c.dir.len / DIR_ENTRY;
	if (nent > 0) {
		const unsigned char *root = (const unsigned char *)c.dir.p;
		mw_buf mf;
		buf_init(&c.ministream, len);
		chain(&c, ex_le32(root + 0x74), &c.ministream);
		buf_init(&mf, len);
		chain(&c, ex_le32(h + 0x3c), &mf);
		c.nmfat = mf.len / 4;
		c.mfat = x_malloc((c.nmfat ? c.nmfat : 1) * sizeof(*c.mfat));
		for (i = 0; i < c.nmfat; i++)
			c.mfat[i] = ex_le32((const unsigned char *)mf.p + 4 * i);
		buf_free(&mf);
	}
	for (i = 0; i < nent && !o->stop; i++) {
		const unsigned char *e = (const unsigned char *)c.dir.p + i * DIR_ENTRY;
		char name[40];
		mw_buf s;

		entry_name(e, name, sizeof(name));
		if ((e[0x42] == 1 || e[0x42] == 5) && memcmp(e + 0x50, clsid_equation, 16) == 0 && !equation_told++)
			ex_finding(o, "doc.ole_object", "%s: Equation Editor object (the class of CVE-2017-11882)",
			           where);
		if (e[0x42] != 2)
			continue;
		if (strcmp(name, "?Ole10Native") != 0 && strcmp(name, "?Ole") != 0 && strcmp(name, "?CompObj") != 0 &&
		    strcasecmp(name, "Package") != 0 && strcasecmp(name, "CONTENTS") != 0 &&
		    strcasecmp(name, "Equation Native") != 0)
			continue;
		buf_init(&s, ex_budget(o) ? ex_budget(o) : 1);
		if (read_stream(&c, e, &s) < 0)
			ex_finding(o, "content.damaged", "%s: OLE2 stream %s cut short", where, name + 1);
		if (s.truncated)
			ex_limit(o, EX_LIM_DECODED, "%s: OLE2 stream larger than %zu bytes", where, s.max);
		if (strcmp(name, "?Ole10Native") == 0 && s.len > 4) {
			size_t n = ex_le32((const unsigned char *)s.p);
			ex_ole_package(o, (const unsigned char *)s.p + 4, n < s.len - 4 ? n : s.len - 4, where);
		} else if (strcmp(name, "?Ole") == 0 && s.len > 20) {
			/* after the 20-byte header: the monikers of a linked object (none when embedded) */
			scan_moniker(o, (const unsigned char *)s.p + 20, s.len - 20, where);
		} else if (strcmp(name, "?CompObj") == 0 || strcasecmp(name, "Equation Native") == 0) {
			if ((strcasecmp(name, "Equation Native") == 0 ||
			     ex_memcasemem(s.p ? s.p : "", s.len, "Equation.3", 10) != NULL ||
			     ex_memcasemem(s.p ? s.p : "", s.len, "Microsoft Equation", 18) != NULL) &&
			    !equation_told++)
				ex_finding(o, "doc.ole_object",
				           "%s: Equation Editor object (the class of CVE-2017-11882)", where);
		} else if (s.len > 4 && (memcmp(s.p, "PK\x03\x04", 4) == 0 || memcmp(s.p, "%PDF", 4) == 0)) {
			ex_finding(o, "doc.embedded_file", "%s: embedded %s document", where,
			           s.p[0] == 'P' ? "OOXML" : "PDF");
			ex_object(o, NULL, 0, s.p[0] == 'P' ? "application/zip" : "application/pdf", s.p, s.len);
		}
		buf_free(&s);
	}
	x_free(c.fat);
	x_free(c.mfat);
	buf_free(&c.dir);
	buf_free(&c.ministream);
	return o->stop;
}

/* ex_ole - see the file header */
int ex_ole(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	ex_out o;

	ex_out_init(&o, emit, lim, "OLE2");
	ex_ole_run(&o, in, len, "OLE2 file");
	return ex_out_rc(&o);
}
