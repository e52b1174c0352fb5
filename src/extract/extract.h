/*
 * NAME
 *	extract.h - extractors for the content tree: what is inside an object
 *	that libclamav does not hand us usefully
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	ex_limits lim;
 *	config_extract_limits(cfg, &lim);	(policy/policy.h: the [limits] values)
 *	mw_emit out = {my_object, my_link, my_finding, ctx};
 *	rc = ex_uuencode(text, len, &lim, &out);
 *
 *	const ex_format *f = ex_format_find("pdf");
 *	rc = f->run(data, len, &lim, &out);
 * DESCRIPTION
 *	Each extractor reads one object held in memory and reports, through
 *	the caller's emitter, what it finds inside: child objects (a decoded
 *	file with its name and, when known, a MIME type), links (URLs as
 *	written, with a few words of context) and findings (a reason code of
 *	src/engine/reasons.c and a printable detail).  Extractors never
 *	judge: the caller runs every child object through the same rules as
 *	any other node (true type, name, ClamAV, and the extractors again),
 *	every link through the link rules, and maps findings to actions
 *	through the policy.
 *
 *	Which formats are here and which come from libclamav, and why, is in
 *	src/extract/README.md.
 *
 *	Strings passed to the emitter are NUL-terminated and valid only
 *	during the call; names are UTF-8 (legacy names are converted as
 *	mime_charset_to_utf8() guesses), details are printable.  Object data
 *	is valid only during the call.
 * LIMITS
 *	Every extractor is bounded by ex_limits (see below): it never reads
 *	outside [in, in + len), never holds more than max_object bytes of one
 *	decoded object plus a small constant per nesting level, stops
 *	emitting objects after max_objects and max_decoded bytes and links
 *	after max_links.  A crossed limit emits the finding content.limits
 *	(once per kind), and the part that was decoded is still emitted:
 *	never a silent cut.
 * DIAGNOSTICS
 *	Each ex_*() returns 0 when it read its input to the end (broken input
 *	is a finding, not an error), 1 when a callback returned non-zero
 *	(the caller asked to stop), -1 when the environment failed (a
 *	library could not allocate); errno is not meaningful.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_EXTRACT_H
#define MW_EXTRACT_H

#include <stddef.h>

typedef struct mw_emit {
	/* a child object found inside the input: name may be NULL; type_hint a MIME type or NULL */
	int (*object)(void *ctx, const char *name, const char *type_hint, const void *data, size_t len);
	/* a link found inside the input (URL as written), with a few words of context */
	int (*link)(void *ctx, const char *url, const char *context);
	/* a fact: a reason code from src/engine/reasons.c and a printable detail */
	int (*finding)(void *ctx, const char *code, const char *detail);
	void *ctx;
} mw_emit; /* callbacks return non-zero to stop; a NULL callback drops what it would get */

/* Defaults when no configuration is at hand (the [limits] defaults of policy.c). */
#define EX_DEF_MAX_OBJECTS 2000                 /* limits.archive_max_members */
#define EX_DEF_MAX_OBJECT  (20u * 1024 * 1024)  /* limits.extract_max_object */
#define EX_DEF_MAX_DECODED (100u * 1024 * 1024) /* limits.archive_max_expanded */
#define EX_DEF_MAX_LINKS   500                  /* limits.max_urls */
#define EX_DEF_MAX_DEPTH   5                    /* limits.archive_max_depth */
#define EX_DEF_MAX_PIXELS  (8u * 1024 * 1024)   /* limits.image_max_pixels */

typedef struct ex_limits {
	size_t max_objects; /* child objects emitted per input */
	size_t max_object;  /* decoded bytes of one child object (the rest is cut, with content.limits) */
	size_t max_decoded; /* decoded bytes of all child objects and inflated streams of one input */
	size_t max_links;   /* links emitted per input */
	size_t max_depth;   /* nesting inside one input: PDF object streams, OLE storages, RTF groups / 64 */
	size_t max_pixels;  /* pixels of one image decoded to look for QR codes */
} ex_limits;

/* ex_limits_default - the EX_DEF_ values */
void ex_limits_default(ex_limits *lim);

/*
 * The values of the [limits] section (each field's key is in the
 * comments of EX_DEF_ above) are mapped by config_extract_limits() in
 * policy/policy.h: this module sits below the configuration (layer 1).
 */

/* The extractors; each also in ex_formats[].  See the .c file of each for what it finds. */
int ex_uuencode(const void *in, size_t len, const ex_limits *lim, const mw_emit *out); /* ex_uu.c */
int ex_yenc(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);     /* ex_yenc.c */
int ex_binhex(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);   /* ex_binhex.c */
int ex_ics(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);      /* ex_ics.c */
int ex_html(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);     /* ex_html.c, HTML and SVG */
int ex_qr(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);       /* ex_qr.c, PNG/JPEG/GIF */
int ex_pdf(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);      /* ex_pdf.c */
int ex_office(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);   /* ex_office.c, OOXML/ODF */
int ex_rtf(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);      /* ex_rtf.c */
int ex_ole(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);      /* ex_ole.c, OLE2 objects */

/*
 * ex_legacy_text - uuencode, yEnc and BinHex over one text body (plain
 * or HTML): each runs only when its start marker is in the text, so this
 * is cheap for ordinary text.
 */
int ex_legacy_text(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);

typedef int (*ex_fn)(const void *in, size_t len, const ex_limits *lim, const mw_emit *out);

typedef struct ex_format {
	const char *name; /* "uuencode", "pdf", ... */
	ex_fn run;
	const char *input; /* what to give it, for --help texts */
} ex_format;

/* ex_formats - the table of extractors, in a stable order */
const ex_format *ex_formats(size_t *n);

/* ex_format_find - the extractor called name, or NULL */
const ex_format *ex_format_find(const char *name);

/*
 * ex_sniff - the extractor for content that looks like one of the
 * formats (magic bytes, or markers near the start for text formats), or
 * NULL.  For the dump tool and for callers without a better type.
 */
const ex_format *ex_sniff(const void *in, size_t len);

#endif
