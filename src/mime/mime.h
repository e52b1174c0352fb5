/*
 * NAME
 *	mime.h - bounded, streaming MIME parser: the message part tree
 * SYNOPSIS
 *	#include "mime/mime.h"
 *
 *	mime_parser *p = mime_parser_new(&limits, tmpdir);
 *	mime_parser_feed(p, buf, len);		(any number of times)
 *	mime_parser_finish(p);
 *	root = mime_root(p);			(walk the tree)
 *	mime_parser_free(p);
 * DESCRIPTION
 *	The parser receives the raw message (headers and body, CRLF or LF
 *	line ends) in pieces of any size and builds a tree of parts.  All
 *	members are private; use the accessors.
 *
 *	Every leaf part carries its content after transfer decoding
 *	(base64, quoted-printable, 7bit/8bit/binary pass through).  Content
 *	is kept in memory up to limits.mem_part_max bytes and spilled to an
 *	unlinked temporary file in tmpdir above that, so memory per message
 *	is bounded whatever the message size.
 *
 *	Header values returned by the accessors are unfolded, RFC 2047
 *	decoded and converted to UTF-8.  File names are taken from the
 *	RFC 2231 parameters (continuations, charsets) or RFC 2047 words of
 *	Content-Disposition "filename" or Content-Type "name", also UTF-8.
 *
 *	Hostile or broken input never stops the parse: it is recorded as a
 *	problem (MIME_PROB_MALFORMED or MIME_PROB_LIMITS) with the part id
 *	and a short printable detail, and parsing carries on as far as it
 *	safely can.
 * LIMITS
 *	See struct mime_limits below; every limit has a MIME_DEF_ default.
 * DIAGNOSTICS
 *	mime_parser_feed() and mime_parser_finish() return -1 only when the
 *	environment fails (temporary file cannot be written); errno is set.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_MIME_H
#define MW_MIME_H

#include <stddef.h>

/* Limit defaults (names as in the configuration file, section [limits]). */
#define MIME_DEF_MAX_HEADER_LINE (64 * 1024)         /* bytes of one logical (unfolded) header */
#define MIME_DEF_MAX_HEADERS     1000                /* header fields per part */
#define MIME_DEF_MAX_DEPTH       30                  /* multipart / message nesting */
#define MIME_DEF_MAX_PARTS       300                 /* parts in the whole message */
#define MIME_DEF_MAX_BOUNDARY    200                 /* bytes of a boundary string */
#define MIME_DEF_MAX_DECODED     (200 * 1024 * 1024) /* decoded bytes, whole message */
#define MIME_DEF_MEM_PART_MAX    (1024 * 1024)       /* decoded bytes per part kept in memory */

typedef struct mime_limits {
	size_t max_header_line;
	size_t max_headers;
	size_t max_depth;
	size_t max_parts;
	size_t max_boundary;
	size_t max_decoded;
	size_t mem_part_max;
} mime_limits;

/* mime_limits_default - fill in the MIME_DEF_ values */
void mime_limits_default(mime_limits *lim);

typedef enum mime_prob_kind {
	MIME_PROB_MALFORMED, /* reason code mime.malformed */
	MIME_PROB_LIMITS,    /* reason code mime.limits */
	MIME_PROB_HIDDEN,    /* reason code mime.hidden_data */
} mime_prob_kind;

typedef struct mime_problem {
	mime_prob_kind kind;
	const char *part;   /* part id, e.g. "1.2"; "" for the top level */
	const char *detail; /* short, printable ASCII, e.g. "boundary never closed" */
} mime_problem;

typedef struct mime_parser mime_parser;
typedef struct mime_part mime_part;

/* mime_parser_new - create a parser; limits are copied; tmpdir may be NULL (uses $TMPDIR or /tmp) */
mime_parser *mime_parser_new(const mime_limits *lim, const char *tmpdir);

/* mime_parser_feed - feed the next piece of the raw message */
int mime_parser_feed(mime_parser *p, const void *buf, size_t len);

/* mime_parser_finish - end of input: close open parts, record unterminated structure */
int mime_parser_finish(mime_parser *p);

/* mime_parser_free - free the parser, the tree and all spilled files; NULL is safe */
void mime_parser_free(mime_parser *p);

/* mime_root - the top-level part (the message itself); valid after finish */
const mime_part *mime_root(const mime_parser *p);

/* mime_problem_count, mime_problem_get - problems in the order found (at most 64 kept; more are counted) */
size_t mime_problem_count(const mime_parser *p);
const mime_problem *mime_problem_get(const mime_parser *p, size_t i);

/* mime_part_count - number of parts created (root included) */
size_t mime_part_count(const mime_parser *p);

/* mime_problem_dropped - problems found but not kept (beyond 64 distinct) */
size_t mime_problem_dropped(const mime_parser *p);

/* mime_decoded_total - decoded content bytes stored, all parts (<= max_decoded) */
size_t mime_decoded_total(const mime_parser *p);

/* Part accessors.  Strings are owned by the parser, NUL-terminated, UTF-8. */
const char *mime_part_id(const mime_part *part);          /* "" root, "1", "1.2", ... */
const char *mime_part_type(const mime_part *part);        /* lower case "text/plain"; default per RFC 2045 */
const char *mime_part_charset(const mime_part *part);     /* lower case, or NULL */
const char *mime_part_encoding(const mime_part *part);    /* lower case CTE, "7bit" when absent */
const char *mime_part_disposition(const mime_part *part); /* "inline", "attachment" or NULL */
const char *mime_part_filename(const mime_part *part);    /* decoded file name or NULL */
size_t mime_part_depth(const mime_part *part);            /* 0 for the root */

/* mime_part_header - idx'th occurrence of header NAME (case-insensitive), decoded; NULL if absent */
const char *mime_part_header(const mime_part *part, const char *name, size_t idx);

/* mime_part_header_count, mime_part_header_at - all stored fields in order: name, *value decoded */
size_t mime_part_header_count(const mime_part *part);
const char *mime_part_header_at(const mime_part *part, size_t i, const char **value);

/* Tree: multipart parts have children; a message/rfc822 part has one child, the enclosed message. */
size_t mime_part_nchildren(const mime_part *part);
const mime_part *mime_part_child(const mime_part *part, size_t i);
int mime_part_is_leaf(const mime_part *part);
const mime_part *mime_part_parent(const mime_part *part); /* NULL for the root */

/*
 * mime_part_body - decoded content of a leaf part.  Exactly one of *data
 * (content in memory) and *fd (spilled file, read it with pread from
 * offset 0; do not close it) is set, the other is NULL / -1.  *len is the
 * decoded size.  Non-leaf parts report len 0 and data "" (not NULL).
 */
void mime_part_body(const mime_part *part, const void **data, int *fd, size_t *len);

/*
 * mime_part_text - the content of a text part converted to UTF-8 from its
 * declared charset (ISO-2022-JP, Shift_JIS/CP932, EUC-JP, UTF-8, ...),
 * at most max bytes.  Returns a malloc'd NUL-terminated string the caller
 * frees, with *len set; NULL when the part is not a leaf.  Unconvertible
 * bytes are replaced by U+FFFD.
 */
char *mime_part_text(const mime_part *part, size_t max, size_t *len);

/*
 * mime_part_utf16 - "UTF-16LE" or "UTF-16BE" when a text leaf declares
 * another charset (or none) but its content is UTF-16 (a byte order
 * mark, or ASCII with a NUL every other byte); mime_part_text() then
 * converts from UTF-16.  NULL otherwise.
 */
const char *mime_part_utf16(const mime_part *part);

#endif
