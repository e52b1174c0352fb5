/*
 * NAME
 *	mime_parse.c - bounded, streaming MIME parser: lines, boundaries, parts
 * SYNOPSIS
 *	#include "mime/mime.h"
 *
 *	p = mime_parser_new(&lim, tmpdir);
 *	mime_parser_feed(p, buf, len); ...
 *	mime_parser_finish(p);
 *	walk mime_root(p); read mime_problem_get(p, i);
 *	mime_parser_free(p);
 * DESCRIPTION
 *	Input arrives in pieces of any size and is cut into lines (LF or
 *	CRLF).  A line longer than the piece size (8 KB, or twice
 *	max_boundary) is handled as several pieces; only complete lines can
 *	be boundaries.  Feeding byte by byte gives the same tree, content
 *	and problems as one big feed, because pieces are cut at the same
 *	offsets either way.
 *
 *	Each part goes through HEADERS (fields collected, unfolded, cut at
 *	max_header_line) and then, at the empty line, becomes one of:
 *	a multipart container (its boundary is pushed on a stack; preamble
 *	and epilogue are ignored), a message/rfc822 container (one child,
 *	the enclosed message, starts in HEADERS at once), or a leaf whose
 *	body is transfer decoded into a per-part mw_spool.  A line
 *	"--boundary" or "--boundary--" (trailing white space allowed) that
 *	matches any open boundary, innermost first, ends everything nested
 *	below it; multiparts closed that way are reported.  The line end
 *	before a boundary belongs to the boundary (RFC 2046 5.1.1), so each
 *	body line's line end is held back until the next line is known.
 *
 *	Hostile structures mail readers repair are repaired the same way,
 *	never skipped, and always reported:
 *	- a multipart (or message/rfc822) whose body is base64 or
 *	  quoted-printable encoded is decoded, and the decoded bytes are
 *	  parsed by a sub-stream (start_sub) as the part's body; boundaries
 *	  inside the encoding match only the sub-stream's own multiparts;
 *	- a multipart without a boundary parameter keeps its body as content
 *	  until a line "--X" shows the boundary (sniff_boundary); from there
 *	  it is an ordinary multipart, and without such a line its content
 *	  stays a leaf that is scanned whole;
 *	- a text leaf that declares another charset but holds UTF-16 (byte
 *	  order mark, or a NUL every other byte) is converted from UTF-16 by
 *	  mime_part_text(), so link and text checks read what a reader shows.
 *
 *	The first header line of a part without a colon starts the body
 *	(parts with no header section); a later one is reported and skipped
 *	so that it cannot end the header section early and hide a
 *	Content-Type from us.  A first line "From " of the message (mbox) is
 *	skipped.
 *
 *	Part ids: root "", its children "1", "2", ..., their children
 *	"1.1", ...; the enclosed message of message/rfc822 part "2" is "2.1".
 * LIMITS
 *	max_header_line	bytes of one unfolded field; the rest is dropped.
 *	max_headers	fields stored per part (see mime_header.c).
 *	max_depth	a multipart or message/rfc822 part at this depth is an
 *			opaque leaf: its body (transfer decoded) is its content.
 *			Encoded layers count as ordinary nesting, so sub-streams
 *			are at most max_depth deep.
 *	max_parts	parts in the tree, root included; content of parts
 *			beyond it is skipped (not scanned) until the next
 *			boundary; the problem tells policy so.
 *	max_boundary	longer boundaries make the multipart a leaf.
 *	max_decoded	decoded bytes of all parts; content beyond is dropped.
 *	mem_part_max	decoded bytes per part in memory, the rest spills to
 *			an unlinked file; in-memory content of all parts is
 *			further held to MIME_MEM_TOTAL_PARTS x mem_part_max.
 *	Limits are clamped to sane minima (max_header_line >= 256, others
 *	>= 1, max_boundary <= 4096).  At most MIME_PROB_MAX problems are
 *	kept, identical ones once; further ones are counted.
 * DIAGNOSTICS
 *	Problems (with mime_header.c's): "boundary never closed", "boundary
 *	not found" (a multipart whose boundary never appears: all its
 *	content was preamble), "empty multipart", "encoded multipart",
 *	"encoded message/rfc822", "boundary taken from the body", "text
 *	declared CHARSET is UTF-16LE" (or BE), "NUL byte in body",
 *	"invalid base64", "invalid quoted-printable", "header line too
 *	long", "header without colon", "continuation without header",
 *	"nesting too deep", "too many parts", "decoded size limit".
 *	feed/finish return -1 with errno set only when a spill file cannot
 *	be written; the parser is then unusable.
 * SEE ALSO
 *	RFC 2045, RFC 2046, Postfix global/mime_state.c, mime_header.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { ST_HEADERS, ST_BODY, ST_IGNORE };

#define MIME_IGNORED_MAX 256 /* non-blank bytes outside every part before it is a problem */
#define MIME_IGNORED_BIN 8   /* binary bytes there before it is hidden data */

struct mime_parser {
	/*
	 * The parser that owns the tree, the problems and the per-message
	 * counters: itself for the parser made by mime_parser_new(), the
	 * outermost one for a sub-stream (see start_sub()).
	 */
	mime_parser *top;
	mime_limits lim;
	char *tmpdir;
	mime_part *root;
	mime_part **parts;
	size_t nparts, aparts;
	mime_problem prob[MIME_PROB_MAX];
	size_t nprob, prob_dropped;
	size_t hdr_bytes;
	size_t ignored;     /* bytes other than white space outside every part (preambles, epilogues) */
	size_t ignored_bin; /* of those, binary: NUL and C0 controls no text uses */
	int ignored_part;   /* a Content- header line there: a part written where none belongs */
	size_t decoded, mem_used;
	int decoded_full;
	int err;

	/* Line assembly. */
	char *lb;
	size_t lblen, piece;
	int in_cont;  /* the current line had earlier pieces */
	int at_start; /* no line seen yet (mbox "From ") */

	int state;
	mime_part *cur;
	mw_buf hdr; /* the field being collected */
	int hdr_active, hdr_skip;

	mime_part **stack; /* open multiparts, outermost first */
	size_t nstack;

	/* The open leaf. */
	int leaf;
	mime_cte cte; /* its transfer encoding as this stream decodes it */
	mime_b64 b64;
	mime_qp qp;
	char eol[2];
	size_t neol;
	unsigned char *obuf;
	size_t olen, osize;

	/*
	 * A sub-stream: the open leaf is a transfer-encoded multipart or
	 * message (base), and its decoded bytes are parsed by sub instead
	 * of being stored.  In a sub-stream, base is the part whose decoded
	 * body it reads.
	 */
	mime_parser *sub;
	mime_part *base;

	int finished;
};

/* mime_limits_default - fill in the MIME_DEF_ values */
void mime_limits_default(mime_limits *lim)
{
	lim->max_header_line = MIME_DEF_MAX_HEADER_LINE;
	lim->max_headers = MIME_DEF_MAX_HEADERS;
	lim->max_depth = MIME_DEF_MAX_DEPTH;
	lim->max_parts = MIME_DEF_MAX_PARTS;
	lim->max_boundary = MIME_DEF_MAX_BOUNDARY;
	lim->max_decoded = MIME_DEF_MAX_DECODED;
	lim->mem_part_max = MIME_DEF_MEM_PART_MAX;
}

/* mime_parser_limits - for mime_header.c */
const mime_limits *mime_parser_limits(const mime_parser *p)
{
	return &p->lim;
}

/* mime_parser_hdr_bytes - the stored-header byte counter, for mime_header.c */
size_t *mime_parser_hdr_bytes(mime_parser *p)
{
	return &p->top->hdr_bytes;
}

/* mime_problem_add - record a problem once; part may be NULL (top level) */
void mime_problem_add(mime_parser *p, mime_prob_kind kind, const mime_part *part, const char *detail)
{
	const char *id = part ? part->id : "";
	size_t i;

	p = p->top;
	for (i = 0; i < p->nprob; i++)
		if (p->prob[i].kind == kind && strcmp(p->prob[i].part, id) == 0 &&
		    strcmp(p->prob[i].detail, detail) == 0)
			return;
	if (p->nprob == MIME_PROB_MAX) {
		p->prob_dropped++;
		return;
	}
	p->prob[p->nprob].kind = kind;
	p->prob[p->nprob].part = x_strdup(id);
	p->prob[p->nprob].detail = x_strdup(detail);
	p->nprob++;
}

/* new_part - a part below parent (NULL: the root); the caller checks max_parts */
static mime_part *new_part(mime_parser *p, mime_part *parent)
{
	mime_part *part = x_calloc(1, sizeof(*part));
	char id[32];

	p = p->top;
	part->parent = parent;
	if (parent == NULL) {
		part->id = x_strdup("");
	} else {
		size_t plen = strlen(parent->id);

		part->depth = parent->depth + 1;
		snprintf(id, sizeof(id), "%zu", parent->nchild + 1);
		part->id = x_malloc(plen + strlen(id) + 2);
		if (plen)
			sprintf(part->id, "%s.%s", parent->id, id);
		else
			strcpy(part->id, id);
		if (parent->nchild == parent->achild) {
			parent->achild = parent->achild ? parent->achild * 2 : 4;
			parent->child = x_realloc(parent->child, parent->achild * sizeof(*parent->child));
		}
		parent->child[parent->nchild++] = part;
	}
	if (p->nparts == p->aparts) {
		p->aparts = p->aparts ? p->aparts * 2 : 16;
		p->parts = x_realloc(p->parts, p->aparts * sizeof(*p->parts));
	}
	p->parts[p->nparts++] = part;
	return part;
}

/* part_free - one part's own memory (not its children) */
static void part_free(mime_part *part)
{
	size_t i;

	for (i = 0; i < part->nhdr; i++) {
		x_free(part->hdr[i].name);
		x_free(part->hdr[i].value);
	}
	x_free(part->hdr);
	x_free(part->child);
	x_free(part->id);
	x_free(part->ct_raw);
	x_free(part->cte_raw);
	x_free(part->cd_raw);
	x_free(part->type);
	x_free(part->charset);
	x_free(part->encoding);
	x_free(part->disposition);
	x_free(part->filename);
	x_free(part->boundary);
	spool_free(part->spool);
	x_free(part);
}

/* clamp - keep a limit within [lo, hi] */
static size_t clamp(size_t v, size_t lo, size_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* stream_init - the line and leaf state of a (sub-)stream; limits already set */
static void stream_init(mime_parser *p, mime_parser *top)
{
	p->top = top;
	p->piece = 2 * p->lim.max_boundary + 16;
	if (p->piece < MIME_PIECE_MIN)
		p->piece = MIME_PIECE_MIN;
	p->lb = x_malloc(p->piece);
	p->osize = MIME_OBUF_SIZE;
	if (p->osize < p->piece + 2 * MIME_QP_SLACK)
		p->osize = p->piece + 2 * MIME_QP_SLACK;
	p->obuf = x_malloc(p->osize);
	buf_init(&p->hdr, p->lim.max_header_line);
	p->stack = x_malloc((p->lim.max_depth + 2) * sizeof(*p->stack));
}

/* stream_free - a stream's own buffers and its open sub-streams (not the tree) */
static void stream_free(mime_parser *p)
{
	if (p->sub) {
		stream_free(p->sub);
		x_free(p->sub);
		p->sub = NULL;
	}
	x_free(p->stack);
	x_free(p->lb);
	x_free(p->obuf);
	buf_free(&p->hdr);
}

/* mime_parser_new - create a parser; limits are copied */
mime_parser *mime_parser_new(const mime_limits *lim, const char *tmpdir)
{
	mime_parser *p = x_calloc(1, sizeof(*p));

	if (lim)
		p->lim = *lim;
	else
		mime_limits_default(&p->lim);
	p->lim.max_header_line = clamp(p->lim.max_header_line, 256, (size_t)-1 / 4);
	p->lim.max_headers = clamp(p->lim.max_headers, 1, (size_t)-1);
	p->lim.max_depth = clamp(p->lim.max_depth, 1, 10000);
	p->lim.max_parts = clamp(p->lim.max_parts, 1, (size_t)-1 / 2);
	p->lim.max_boundary = clamp(p->lim.max_boundary, 1, 4096);
	p->tmpdir = tmpdir ? x_strdup(tmpdir) : NULL;
	stream_init(p, p);
	p->root = new_part(p, NULL);
	p->cur = p->root;
	p->state = ST_HEADERS;
	p->at_start = 1;
	return p;
}

/* mime_parser_free - everything, spill files included; NULL is safe */
void mime_parser_free(mime_parser *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nparts; i++)
		part_free(p->parts[i]);
	for (i = 0; i < p->nprob; i++) {
		x_free((char *)p->prob[i].part);
		x_free((char *)p->prob[i].detail);
	}
	x_free(p->parts);
	stream_free(p);
	x_free(p->tmpdir);
	x_free(p);
}

static int stream_feed(mime_parser *p, const void *buf, size_t len);
static void stream_finish(mime_parser *p);

/* flush_obuf - decoded bytes to the open leaf's spool (within max_decoded), or to the sub-stream */
static void flush_obuf(mime_parser *p)
{
	mime_parser *t = p->top;
	size_t n = p->olen;

	p->olen = 0;
	if (n == 0 || t->err)
		return;
	if (p->sub) {
		/* the sub-stream's leaves count against max_decoded themselves */
		stream_feed(p->sub, p->obuf, n);
		return;
	}
	if (t->decoded_full)
		return;
	if (n > t->lim.max_decoded - t->decoded) {
		n = t->lim.max_decoded - t->decoded;
		t->decoded_full = 1;
		mime_problem_add(p, MIME_PROB_LIMITS, p->cur, "decoded size limit");
	}
	t->decoded += n;
	if (spool_write(p->cur->spool, p->obuf, n) < 0)
		t->err = errno ? errno : EIO;
}

/* emit - transfer decode a piece of the open leaf's body */
static void emit(mime_parser *p, const char *s, size_t n)
{
	size_t need;

	if (n == 0)
		return;
	switch (p->cte) {
	case CTE_B64: need = MIME_B64_OUT_MAX(n); break;
	case CTE_QP: need = n + MIME_QP_SLACK; break;
	default: need = n; break;
	}
	if (p->osize - p->olen < need)
		flush_obuf(p);
	switch (p->cte) {
	case CTE_B64: p->olen += mime_b64_decode(&p->b64, s, n, p->obuf + p->olen); break;
	case CTE_QP: p->olen += mime_qp_decode(&p->qp, s, n, p->obuf + p->olen); break;
	default:
		memcpy(p->obuf + p->olen, s, n);
		p->olen += n;
		break;
	}
}

/* start_decoding - the current part's body is decoded from here on */
static void start_decoding(mime_parser *p)
{
	/* A sub-stream reads its base part's body already decoded. */
	p->cte = p->cur == p->base ? CTE_BINARY : p->cur->cte;
	mime_b64_init(&p->b64);
	mime_qp_init(&p->qp);
	p->neol = 0;
	p->olen = 0;
	p->leaf = 1;
	p->state = ST_BODY;
}

/* start_leaf - the current part's body is content */
static void start_leaf(mime_parser *p)
{
	mime_parser *t = p->top;
	size_t max = t->lim.mem_part_max;
	size_t budget = max > (size_t)-1 / MIME_MEM_TOTAL_PARTS ? (size_t)-1 : max * MIME_MEM_TOTAL_PARTS;
	size_t left = budget > t->mem_used ? budget - t->mem_used : 0;
	size_t mem = max < left ? max : left;

	p->cur->spool = spool_new(mem, t->tmpdir);
	start_decoding(p);
}

/* utf16_kind - "UTF-16LE"/"UTF-16BE" when text content is really UTF-16, else NULL */
static const char *utf16_kind(const unsigned char *b, size_t n)
{
	size_t i, pairs, le = 0, be = 0;

	if (n >= 2 && b[0] == 0xff && b[1] == 0xfe)
		return "UTF-16LE";
	if (n >= 2 && b[0] == 0xfe && b[1] == 0xff)
		return "UTF-16BE";
	/* No byte order mark: ASCII code units with a NUL every other byte. */
	pairs = n / 2;
	if (pairs < MIME_UTF16_MIN_PAIRS)
		return NULL;
	for (i = 0; i < pairs; i++) {
		unsigned char a = b[2 * i], c = b[2 * i + 1];
		if (a != 0 && c == 0)
			le++;
		else if (a == 0 && c != 0)
			be++;
	}
	if (le * 10 >= pairs * 7)
		return "UTF-16LE";
	if (be * 10 >= pairs * 7)
		return "UTF-16BE";
	return NULL;
}

/* declared_utf16 - the declared charset already is a 16- or 32-bit Unicode form */
static int declared_utf16(const char *cs)
{
	return cs && (strncmp(cs, "utf-16", 6) == 0 || strncmp(cs, "utf-32", 6) == 0 || strncmp(cs, "ucs-", 4) == 0 ||
	              strcmp(cs, "unicode") == 0 || strcmp(cs, "utf16") == 0 || strcmp(cs, "utf32") == 0);
}

/* check_utf16 - a text leaf that declares one charset but is UTF-16: note it and report */
static void check_utf16(mime_parser *p, mime_part *part)
{
	unsigned char head[MIME_UTF16_SNIFF];
	char detail[128];
	ssize_t n;

	if (part->spool == NULL || strncmp(part->type, "text/", 5) != 0 || declared_utf16(part->charset))
		return;
	n = spool_pread(part->spool, head, sizeof(head), 0);
	if (n <= 0 || (part->utf16 = utf16_kind(head, (size_t)n)) == NULL)
		return;
	snprintf(detail, sizeof(detail), "text declared %.40s is %s", part->charset ? part->charset : "us-ascii",
	         part->utf16);
	mime_problem_add(p, MIME_PROB_MALFORMED, part, detail);
}

/* end_leaf - close the open leaf; at_eof keeps the last line end */
static void end_leaf(mime_parser *p, int at_eof)
{
	mime_part *part = p->cur;

	if (!p->leaf)
		return;
	if (at_eof && p->neol)
		emit(p, p->eol, p->neol);
	p->neol = 0;
	if (p->osize - p->olen < MIME_QP_SLACK)
		flush_obuf(p);
	if (p->cte == CTE_B64) {
		p->olen += mime_b64_finish(&p->b64, p->obuf + p->olen);
		if (p->b64.bad)
			mime_problem_add(p, MIME_PROB_MALFORMED, part, "invalid base64");
	} else if (p->cte == CTE_QP) {
		p->olen += mime_qp_finish(&p->qp, p->obuf + p->olen);
		if (p->qp.bad)
			mime_problem_add(p, MIME_PROB_MALFORMED, part, "invalid quoted-printable");
	}
	flush_obuf(p);
	p->leaf = 0;
	if (p->sub) {
		stream_finish(p->sub);
		stream_free(p->sub);
		x_free(p->sub);
		p->sub = NULL;
		return;
	}
	if (part->spool == NULL)
		return;
	if (spool_mem(part->spool) != NULL)
		p->top->mem_used += spool_size(part->spool);
	check_utf16(p, part);
}

/* hdr_flush - hand the collected field to mime_header.c */
static void hdr_flush(mime_parser *p)
{
	if (p->hdr_active) {
		mime_hdr_add(p, p->cur, p->hdr.p, p->hdr.len);
		buf_reset(&p->hdr);
		p->hdr_active = 0;
	}
}

/* hdr_append - a piece of the current field */
static void hdr_append(mime_parser *p, const char *s, size_t n)
{
	buf_append(&p->hdr, s, n);
	if (p->hdr.truncated)
		mime_problem_add(p, MIME_PROB_LIMITS, p->cur, "header line too long");
}

/* is_type - part type is "prefix..." */
static int is_type(const mime_part *part, const char *prefix)
{
	return strncmp(part->type, prefix, strlen(prefix)) == 0;
}

/* is_message - a type whose body is one enclosed message */
static int is_message(const mime_part *part)
{
	return strcmp(part->type, "message/rfc822") == 0 || strcmp(part->type, "message/global") == 0;
}

static void body_start(mime_parser *p, mime_part *part, mime_cte cte);

/*
 * start_sub - a multipart or message whose body is base64 or
 * quoted-printable encoded (RFC 2045 6.4 forbids it; mail readers decode
 * it anyway): the body is decoded as a leaf would be, and the decoded
 * bytes go to a sub-stream that parses them as the part's body.  The
 * sub-stream matches only its own boundaries, so nothing inside the
 * encoding can close a part outside it.
 */
static void start_sub(mime_parser *p, mime_part *part)
{
	mime_parser *s = x_calloc(1, sizeof(*s));

	mime_problem_add(p, MIME_PROB_MALFORMED, part,
	                 is_message(part) ? "encoded message/rfc822" : "encoded multipart");
	s->lim = p->lim;
	stream_init(s, p->top);
	s->base = part;
	s->cur = part;
	body_start(s, part, CTE_BINARY);
	p->sub = s;
	start_decoding(p);
}

/* body_start - after the headers of part (p->cur): container, sub-stream or leaf */
static void body_start(mime_parser *p, mime_part *part, mime_cte cte)
{
	int multi = is_type(part, "multipart/"), msg = is_message(part);
	int encoded = cte == CTE_B64 || cte == CTE_QP;

	if ((multi || msg) && part->depth >= p->lim.max_depth) {
		mime_problem_add(p, MIME_PROB_LIMITS, part, "nesting too deep");
	} else if ((multi || msg) && encoded) {
		start_sub(p, part);
		return;
	} else if (multi && part->boundary != NULL) {
		part->is_container = 1;
		p->stack[p->nstack++] = part;
		p->state = ST_IGNORE; /* preamble */
		return;
	} else if (multi && !part->boundary_bad) {
		/* No boundary parameter: content until a line shows one (see sniff_boundary). */
		part->sniff = 1;
	} else if (msg && cte != CTE_OTHER) {
		if (p->top->nparts >= p->lim.max_parts) {
			mime_problem_add(p, MIME_PROB_LIMITS, part, "too many parts");
		} else {
			part->is_container = 1;
			p->cur = new_part(p, part);
			p->state = ST_HEADERS;
			return;
		}
	}
	start_leaf(p);
}

/* end_headers - the empty line: decide what the part is */
static void end_headers(mime_parser *p, int have_body)
{
	mime_part *part = p->cur;

	hdr_flush(p);
	p->hdr_skip = 0;
	mime_hdr_interpret(p, part);
	if (!have_body) {
		/* Boundary or end of input inside the headers: an empty leaf. */
		start_leaf(p);
		return;
	}
	body_start(p, part, part->cte);
}

/* body_line - a line (or piece) of a leaf body */
static void body_line(mime_parser *p, const char *s, size_t n, int first, const char *eol, size_t neol)
{
	mime_part *part = p->cur;

	if (p->cte != CTE_B64 && p->cte != CTE_BINARY && memchr(s, 0, n) != NULL)
		mime_problem_add(p, MIME_PROB_MALFORMED, part, "NUL byte in body");
	if (first && p->neol)
		emit(p, p->eol, p->neol);
	emit(p, s, n);
	if (p->cte != CTE_B64) {
		memcpy(p->eol, eol, neol);
		p->neol = neol;
	}
}

/* header_line - a line (or piece) in the header section */
static void header_line(mime_parser *p, const char *s, size_t n, int first, int piece, const char *eol, size_t neol)
{
	int at_start = p->at_start;

	p->at_start = 0;
	if (!first) {
		if (p->hdr_active && !p->hdr_skip)
			hdr_append(p, s, n);
		return;
	}
	if (at_start && n >= 5 && memcmp(s, "From ", 5) == 0) {
		p->hdr_skip = 1; /* mbox separator */
		return;
	}
	if (n == 0 && !piece) {
		end_headers(p, 1);
		return;
	}
	if (s[0] == ' ' || s[0] == '\t') {
		if (p->hdr_active) {
			p->hdr_skip = 0;
			hdr_append(p, s, n);
		} else {
			mime_problem_add(p, MIME_PROB_MALFORMED, p->cur, "continuation without header");
			p->hdr_skip = 1;
		}
		return;
	}
	hdr_flush(p);
	if (memchr(s, ':', n) == NULL) {
		mime_problem_add(p, MIME_PROB_MALFORMED, p->cur, "header without colon");
		if (p->cur->nhdr_seen == 0) {
			/* No header section: this line is the body. */
			end_headers(p, 1);
			if (p->state == ST_BODY)
				body_line(p, s, n, 1, eol, neol);
			return;
		}
		p->hdr_skip = 1;
		return;
	}
	p->hdr_skip = 0;
	p->hdr_active = 1;
	hdr_append(p, s, n);
}

/* match_boundary - is the line a delimiter of an open multipart?  Sets level and close */
static int match_boundary(mime_parser *p, const char *s, size_t n, size_t *level, int *close)
{
	size_t k = p->nstack;

	while (k-- > 0) {
		const char *b = p->stack[k]->boundary;
		size_t bl = strlen(b), i;
		int c = 0;

		if (n < 2 + bl || memcmp(s + 2, b, bl) != 0)
			continue;
		i = 2 + bl;
		if (n - i >= 2 && s[i] == '-' && s[i + 1] == '-') {
			c = 1;
			i += 2;
		}
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n) {
			*level = k;
			*close = c;
			return 1;
		}
	}
	return 0;
}

/* on_boundary - a delimiter of stack level k: close what is inside, open the next part */
static void on_boundary(mime_parser *p, size_t k, int close)
{
	mime_part *mp = p->stack[k];

	if (p->state == ST_HEADERS) {
		hdr_flush(p);
		end_headers(p, 0);
	}
	end_leaf(p, 0);
	while (p->nstack > k + 1) {
		mime_part *in = p->stack[--p->nstack];
		mime_problem_add(p, MIME_PROB_MALFORMED, in,
		                 in->seen_boundary ? "boundary never closed" : "boundary not found");
	}
	p->hdr_active = 0;
	p->hdr_skip = 0;
	p->cur = mp;
	p->state = ST_IGNORE;
	if (close) {
		if (!mp->seen_boundary)
			mime_problem_add(p, MIME_PROB_MALFORMED, mp, "empty multipart");
		mp->closed = 1;
		p->nstack = k; /* the rest is epilogue */
		return;
	}
	mp->seen_boundary = 1;
	if (p->top->nparts >= p->lim.max_parts) {
		mime_problem_add(p, MIME_PROB_LIMITS, mp, "too many parts");
		return;
	}
	p->cur = new_part(p, mp);
	p->state = ST_HEADERS;
}

/* is_bchar - RFC 2046 boundary character (space allowed, not last) */
static int is_bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       strchr("'()+_,-./:=? ", c) != NULL;
}

/*
 * sniff_boundary - in the body of a multipart without a boundary
 * parameter, the first line "--X" (X one to max_boundary boundary
 * characters, trailing white space ignored) is taken as its first
 * delimiter, as mail readers do: the content before it becomes the
 * preamble, and the part a container.  Returns 1 when the line was used.
 */
static int sniff_boundary(mime_parser *p, const char *s, size_t n)
{
	mime_part *part = p->cur;
	size_t i, bl;
	int close = 0;

	while (n > 2 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n < 3 || s[0] != '-' || s[1] != '-')
		return 0;
	bl = n - 2;
	if (bl > 2 && s[n - 1] == '-' && s[n - 2] == '-') {
		bl -= 2;
		close = 1;
	}
	if (bl > p->lim.max_boundary)
		return 0;
	for (i = 0; i < bl; i++)
		if (!is_bchar((unsigned char)s[2 + i]))
			return 0;
	if (s[2 + bl - 1] == ' ')
		return 0;
	/* The content so far was preamble: drop it, the part becomes a container. */
	p->olen = 0;
	p->neol = 0;
	p->leaf = 0;
	spool_free(part->spool);
	part->spool = NULL;
	part->sniff = 0;
	part->boundary = x_strndup(s + 2, bl);
	part->is_container = 1;
	p->stack[p->nstack++] = part;
	mime_problem_add(p, MIME_PROB_MALFORMED, part, "boundary taken from the body");
	on_boundary(p, p->nstack - 1, close);
	return 1;
}

/* do_line - one line or piece; piece: more of the same line follows */
static void do_line(mime_parser *p, const char *s, size_t n, int piece, int has_nl)
{
	const char *eol = "\n";
	size_t neol = has_nl;
	int first = !p->in_cont;
	size_t level;
	int close;

	if (has_nl && n > 0 && s[n - 1] == '\r') {
		n--;
		eol = "\r\n";
		neol = 2;
	}
	p->in_cont = piece;
	if (first && !piece && p->nstack > 0 && n >= 2 && s[0] == '-' && s[1] == '-' &&
	    match_boundary(p, s, n, &level, &close)) {
		p->at_start = 0;
		on_boundary(p, level, close);
		return;
	}
	/* only the stream that stores the part's content looks for its boundary: a stream
	 * decoding an encoded part into a sub-stream must not (the sub-stream owns the leaf) */
	if (first && !piece && p->state == ST_BODY && p->cur->sniff && p->sub == NULL && sniff_boundary(p, s, n))
		return;
	switch (p->state) {
	case ST_HEADERS: header_line(p, s, n, first, piece, eol, neol); break;
	case ST_BODY: body_line(p, s, n, first, eol, neol); break;
	default: {
		/* a preamble or epilogue: readers ignore it, some do not */
		size_t i;
		for (i = 0; i < n; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
				unsigned char ch = (unsigned char)s[i];
				p->top->ignored++;
				if ((ch < 0x20 && ch != '\f' && ch != 0x1b) || ch == 0x7f)
					p->top->ignored_bin++;
			}
		if (first && n >= 8 && strncasecmp(s, "content-", 8) == 0) {
			p->top->ignored += MIME_IGNORED_MAX + 1; /* a header there: a part written where none belongs */
			p->top->ignored_part = 1;
		}
		break;
	}
	}
}

/* stream_feed - cut the input into lines and pieces; see the file header */
static int stream_feed(mime_parser *p, const void *buf, size_t len)
{
	const char *s = buf;
	size_t cap = p->piece;

	while (len > 0 && !p->top->err) {
		if (p->lblen == 0) {
			const char *nl = memchr(s, '\n', len < cap + 1 ? len : cap + 1);
			if (nl != NULL) {
				size_t n = (size_t)(nl - s);
				do_line(p, s, n, 0, 1);
				s += n + 1;
				len -= n + 1;
			} else if (len > cap) {
				/* The byte after cap exists and is not a line end. */
				do_line(p, s, cap, 1, 0);
				s += cap;
				len -= cap;
			} else {
				memcpy(p->lb, s, len);
				p->lblen = len;
				len = 0;
			}
		} else {
			size_t room = cap - p->lblen;
			const char *nl = memchr(s, '\n', len < room + 1 ? len : room + 1);
			if (nl != NULL) {
				size_t n = (size_t)(nl - s);
				memcpy(p->lb + p->lblen, s, n);
				p->lblen = 0;
				do_line(p, p->lb, cap - room + n, 0, 1);
				s += n + 1;
				len -= n + 1;
			} else if (len > room) {
				memcpy(p->lb + p->lblen, s, room);
				p->lblen = 0;
				do_line(p, p->lb, cap, 1, 0);
				s += room;
				len -= room;
			} else {
				memcpy(p->lb + p->lblen, s, len);
				p->lblen += len;
				len = 0;
			}
		}
	}
	return p->top->err ? -1 : 0;
}

/* mime_parser_feed - the next piece of the raw message */
int mime_parser_feed(mime_parser *p, const void *buf, size_t len)
{
	if (p->err) {
		errno = p->err;
		return -1;
	}
	if (p->finished)
		return 0;
	if (stream_feed(p, buf, len) < 0) {
		errno = p->err;
		return -1;
	}
	return 0;
}

/* stream_finish - end of a stream's input: last line, open parts, unclosed multiparts */
static void stream_finish(mime_parser *p)
{
	if (p->finished || p->top->err)
		return;
	p->finished = 1;
	if (p->lblen > 0) {
		size_t n = p->lblen;
		p->lblen = 0;
		do_line(p, p->lb, n, 0, 0);
	}
	if (p->state == ST_HEADERS) {
		hdr_flush(p);
		end_headers(p, 0);
	}
	end_leaf(p, 1);
	while (p->nstack > 0) {
		mime_part *in = p->stack[--p->nstack];
		mime_problem_add(p, MIME_PROB_MALFORMED, in,
		                 in->seen_boundary ? "boundary never closed" : "boundary not found");
	}
	p->state = ST_IGNORE;
}

/* mime_parser_finish - end of input */
/* has_limits_problem - a limit stopped the parse (what follows is not read, nor "hidden") */
static int has_limits_problem(const mime_parser *p)
{
	size_t i;

	for (i = 0; i < p->nprob; i++)
		if (p->prob[i].kind == MIME_PROB_LIMITS)
			return 1;
	return p->prob_dropped > 0;
}

int mime_parser_finish(mime_parser *p)
{
	stream_finish(p);
	/* more than a line of "This is a MIME message": data hidden where
	 * nothing is supposed to be (a part written into the preamble) */
	if (p->ignored > MIME_IGNORED_MAX && p->root && !has_limits_problem(p))
		mime_problem_add(p, MIME_PROB_MALFORMED, p->root, "data outside any part (preamble or epilogue)");
	/* binary there: no mail client shows it, but a tool opening the
	 * message as a file finds what it is (7-Zip unpacks an archive from
	 * it); the parts never carry it, so nothing else judges it */
	if (p->ignored_bin >= MIME_IGNORED_BIN && p->root && !has_limits_problem(p)) {
		char d[96];
		snprintf(d, sizeof(d), "%zu binary bytes outside any part (preamble or epilogue)", p->ignored_bin);
		mime_problem_add(p, MIME_PROB_HIDDEN, p->root, d);
	} else if (p->ignored_part && p->ignored > 2 * MIME_IGNORED_MAX && p->root && !has_limits_problem(p)) {
		/* a whole part (headers and content) where readers skip it: its
		 * content is judged by nobody, so it is not let through */
		mime_problem_add(p, MIME_PROB_HIDDEN, p->root,
		                 "a part written outside any part (preamble or epilogue)");
	}
	if (p->err) {
		errno = p->err;
		return -1;
	}
	return 0;
}

/* mime_root - the message itself */
const mime_part *mime_root(const mime_parser *p)
{
	return p->root;
}

/* mime_problem_count - problems kept */
size_t mime_problem_count(const mime_parser *p)
{
	return p->nprob;
}

/* mime_problem_get - the i'th problem or NULL */
const mime_problem *mime_problem_get(const mime_parser *p, size_t i)
{
	return i < p->nprob ? &p->prob[i] : NULL;
}

/* mime_problem_dropped - problems not kept because MIME_PROB_MAX were */
size_t mime_problem_dropped(const mime_parser *p)
{
	return p->prob_dropped;
}

/* mime_part_count - parts created, root included */
size_t mime_part_count(const mime_parser *p)
{
	return p->nparts;
}

/* mime_decoded_total - decoded bytes stored for all parts */
size_t mime_decoded_total(const mime_parser *p)
{
	return p->decoded;
}

const char *mime_part_id(const mime_part *part)
{
	return part->id;
}

const char *mime_part_type(const mime_part *part)
{
	return part->type ? part->type : "text/plain";
}

const char *mime_part_charset(const mime_part *part)
{
	return part->charset;
}

const char *mime_part_encoding(const mime_part *part)
{
	return part->encoding ? part->encoding : "7bit";
}

const char *mime_part_disposition(const mime_part *part)
{
	return part->disposition;
}

const char *mime_part_filename(const mime_part *part)
{
	return part->filename;
}

size_t mime_part_depth(const mime_part *part)
{
	return part->depth;
}

/* mime_part_header - idx'th field called name, decoded */
const char *mime_part_header(const mime_part *part, const char *name, size_t idx)
{
	size_t i;

	for (i = 0; i < part->nhdr; i++)
		if (strcasecmp(part->hdr[i].name, name) == 0 && idx-- == 0)
			return part->hdr[i].value;
	return NULL;
}

/* mime_part_header_count - number of fields stored for the part */
size_t mime_part_header_count(const mime_part *part)
{
	return part->nhdr;
}

/* mime_part_header_at - i'th stored field: name and decoded value */
const char *mime_part_header_at(const mime_part *part, size_t i, const char **value)
{
	if (i >= part->nhdr)
		return NULL;
	if (value)
		*value = part->hdr[i].value;
	return part->hdr[i].name;
}

size_t mime_part_nchildren(const mime_part *part)
{
	return part->nchild;
}

const mime_part *mime_part_child(const mime_part *part, size_t i)
{
	return i < part->nchild ? part->child[i] : NULL;
}

const mime_part *mime_part_parent(const mime_part *part)
{
	return part->parent;
}

int mime_part_is_leaf(const mime_part *part)
{
	return !part->is_container;
}

/* mime_part_body - decoded content: memory or spill file */
void mime_part_body(const mime_part *part, const void **data, int *fd, size_t *len)
{
	*data = NULL;
	*fd = -1;
	*len = 0;
	if (part->is_container || part->spool == NULL) {
		*data = "";
		return;
	}
	*len = spool_size(part->spool);
	if ((*data = spool_mem(part->spool)) == NULL)
		*fd = spool_fd(part->spool);
}

/* mime_part_text - content converted to UTF-8; reads at most 4 * max + 64 input bytes */
char *mime_part_text(const mime_part *part, size_t max, size_t *len)
{
	const char *cs = part->utf16 ? part->utf16 : part->charset;
	const void *data;
	int fd;
	size_t n, want, skip = 0;
	char *res;

	if (part->is_container)
		return NULL;
	mime_part_body(part, &data, &fd, &n);
	want = max > ((size_t)-1 - 64) / 4 ? (size_t)-1 : max * 4 + 64;
	if (n > want)
		n = want;
	char *tmp = NULL;
	if (data == NULL) {
		ssize_t r;
		tmp = x_malloc(n + 1);
		r = spool_pread(part->spool, tmp, n, 0);
		n = r > 0 ? (size_t)r : 0;
		data = tmp;
	}
	/* The byte order mark of text found to be UTF-16 is not text. */
	if (part->utf16 && n >= 2 &&
	    ((((const unsigned char *)data)[0] == 0xff && ((const unsigned char *)data)[1] == 0xfe) ||
	     (((const unsigned char *)data)[0] == 0xfe && ((const unsigned char *)data)[1] == 0xff)))
		skip = 2;
	res = mime_charset_to_utf8(cs, (const char *)data + skip, n - skip, max, len, NULL);
	x_free(tmp);
	return res;
}

/* mime_part_utf16 - "UTF-16LE"/"UTF-16BE" when a text leaf declared another charset but is UTF-16 */
const char *mime_part_utf16(const mime_part *part)
{
	return part->utf16;
}
