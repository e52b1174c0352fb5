/*
 * NAME
 *	mime_int.h - private declarations shared by the mime_*.c files
 * DESCRIPTION
 *	Not for use outside src/mime.  The structures here are what the
 *	opaque mime_parser and mime_part of mime.h really are.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_MIME_INT_H
#define MW_MIME_INT_H

#include "mime/mime.h"
#include "mime/mime_decode.h"
#include "util/spool.h"
#include "util/util.h"

#define MIME_PROB_MAX        64          /* problems kept */
#define MIME_HDR_TOTAL_MAX   (8u << 20)  /* stored header bytes per message */
#define MIME_MEM_TOTAL_PARTS 8           /* in-memory content: 8 x mem_part_max per message */
#define MIME_OBUF_SIZE       (64 * 1024) /* decoded bytes batched before spool_write */
#define MIME_PIECE_MIN       8192        /* long lines are handled in pieces of this size */
#define MIME_UTF16_SNIFF     1024        /* bytes of a text leaf looked at for UTF-16 */
#define MIME_UTF16_MIN_PAIRS 8           /* code units needed to call BOM-less text UTF-16 */

typedef struct mime_hdr {
	char *name;  /* as sent, trimmed */
	char *value; /* unfolded, RFC 2047 decoded, UTF-8 */
} mime_hdr;

typedef enum mime_cte { CTE_7BIT, CTE_8BIT, CTE_BINARY, CTE_QP, CTE_B64, CTE_OTHER } mime_cte;

struct mime_part {
	char *id;
	size_t depth;
	struct mime_part *parent;
	struct mime_part **child;
	size_t nchild;
	size_t achild;

	mime_hdr *hdr;
	size_t nhdr;
	size_t ahdr;
	size_t nhdr_seen; /* including those not stored */

	/* Raw values of the Content-* fields (first occurrence). */
	char *ct_raw;
	char *cte_raw;
	char *cd_raw;

	char *type; /* "text/plain" */
	char *charset;
	char *encoding; /* "7bit" */
	char *disposition;
	char *filename;
	mime_cte cte;

	char *boundary;    /* open multipart: the boundary */
	int is_container;  /* multipart or message with children */
	int seen_boundary; /* multipart: a delimiter line was seen */
	int closed;        /* multipart: close delimiter seen */
	int sniff;         /* multipart without boundary parameter: looking for one in the body */
	int boundary_bad;  /* a boundary parameter was there but unusable (too long) */
	const char *utf16; /* text leaf that is really "UTF-16LE" / "UTF-16BE" (static string) */

	mw_spool *spool; /* leaf content */
};

/* Header values (mime_header.c). */
void mime_hdr_add(mime_parser *p, mime_part *part, char *line, size_t len);
void mime_hdr_interpret(mime_parser *p, mime_part *part);

/* Problems (mime_parse.c). */
void mime_problem_add(mime_parser *p, mime_prob_kind kind, const mime_part *part, const char *detail);

/* Access to the parser limits and counters for mime_header.c. */
const mime_limits *mime_parser_limits(const mime_parser *p);
size_t *mime_parser_hdr_bytes(mime_parser *p);

/* Parameter list (mime_rfc2231.c). */
typedef struct mime_param {
	char *name;  /* lower case, without the "*N*" suffix */
	int section; /* -1: no section */
	int ext;     /* trailing '*': charset'lang'%XX encoded */
	char *value; /* unquoted */
	size_t len;
} mime_param;

size_t mime_params_parse(const char *value, size_t len, mime_param **out);
void mime_params_free(mime_param *pv, size_t n);

#endif
