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
 *			opaque leaf: its raw body is its content.
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
 *	content was preamble), "empty multipart", "NUL byte in body",
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

struct mime_parser {
	mime_limits lim;
	char *tmpdir;
	mime_part *root;
	mime_part **parts;
	size_t nparts, aparts;
	mime_problem prob[MIME_PROB_MAX];
	size_t nprob, prob_dropped;

	/* Line assembly. */
	char *lb;
	size_t lblen, piece;
	int in_cont;  /* the current line had earlier pieces */
	int at_start; /* no line seen yet (mbox "From ") */

	int state;
	mime_part *cur;
	mw_buf hdr; /* the field being collected */
	int hdr_active, hdr_skip;
	size_t hdr_bytes;

	mime_part **stack; /* open multiparts, outermost first */
	size_t nstack;

	/* The open leaf. */
	int leaf;
	mime_b64 b64;
	mime_qp qp;
	char eol[2];
	size_t neol;
	unsigned char *obuf;
	size_t olen, osize;
	size_t decoded, mem_used;
	int decoded_full;

	int finished;
	int err;
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
	return &p->hdr_bytes;
}

/* mime_problem_add - record a problem once; part may be NULL (top level) */
void mime_problem_add(mime_parser *p, mime_prob_kind kind, const mime_part *part, const char *detail)
{
	const char *id = part ? part->id : "";
	size_t i;

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
	x_free(p->stack);
	x_free(p->lb);
	x_free(p->obuf);
	x_free(p->tmpdir);
	buf_free(&p->hdr);
	x_free(p);
}

/* flush_obuf - decoded bytes to the open leaf's spool, within max_decoded */
static void flush_obuf(mime_parser *p)
{
	size_t n = p->olen;

	p->olen = 0;
	if (n == 0 || p->decoded_full || p->err)
		return;
	if (n > p->lim.max_decoded - p->decoded) {
		n = p->lim.max_decoded - p->decoded;
		p->decoded_full = 1;
		mime_problem_add(p, MIME_PROB_LIMITS, p->cur, "decoded size limit");
	}
	p->decoded += n;
	if (spool_write(p->cur->spool, p->obuf, n) < 0)
		p->err = errno ? errno : EIO;
}

/* emit - transfer decode a piece of the open leaf's body */
static void emit(mime_parser *p, const char *s, size_t n)
{
	size_t need;

	if (n == 0)
		return;
	switch (p->cur->cte) {
	case CTE_B64: need = MIME_B64_OUT_MAX(n); break;
	case CTE_QP: need = n + MIME_QP_SLACK; break;
	default: need = n; break;
	}
	if (p->osize - p->olen < need)
		flush_obuf(p);
	switch (p->cur->cte) {
	case CTE_B64: p->olen += mime_b64_decode(&p->b64, s, n, p->obuf + p->olen); break;
	case CTE_QP: p->olen += mime_qp_decode(&p->qp, s, n, p->obuf + p->olen); break;
	default:
		memcpy(p->obuf + p->olen, s, n);
		p->olen += n;
		break;
	}
}

/* start_leaf - the current part's body is content */
static void start_leaf(mime_parser *p)
{
	size_t max = p->lim.mem_part_max;
	size_t budget = max > (size_t)-1 / MIME_MEM_TOTAL_PARTS ? (size_t)-1 : max * MIME_MEM_TOTAL_PARTS;
	size_t left = budget > p->mem_used ? budget - p->mem_used : 0;
	size_t mem = max < left ? max : left;

	p->cur->spool = spool_new(mem, p->tmpdir);
	mime_b64_init(&p->b64);
	mime_qp_init(&p->qp);
	p->neol = 0;
	p->olen = 0;
	p->leaf = 1;
	p->state = ST_BODY;
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
	if (part->cte == CTE_B64) {
		p->olen += mime_b64_finish(&p->b64, p->obuf + p->olen);
		if (p->b64.bad)
			mime_problem_add(p, MIME_PROB_MALFORMED, part, "invalid base64");
	} else if (part->cte == CTE_QP) {
		p->olen += mime_qp_finish(&p->qp, p->obuf + p->olen);
		if (p->qp.bad)
			mime_problem_add(p, MIME_PROB_MALFORMED, part, "invalid quoted-printable");
	}
	flush_obuf(p);
	if (spool_mem(part->spool) != NULL)
		p->mem_used += spool_size(part->spool);
	p->leaf = 0;
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
	if (is_type(part, "multipart/") && part->boundary != NULL) {
		if (part->depth >= p->lim.max_depth) {
			mime_problem_add(p, MIME_PROB_LIMITS, part, "nesting too deep");
		} else {
			part->is_container = 1;
			p->stack[p->nstack++] = part;
			p->state = ST_IGNORE; /* preamble */
			return;
		}
	} else if ((strcmp(part->type, "message/rfc822") == 0 || strcmp(part->type, "message/global") == 0) &&
	           (part->cte == CTE_7BIT || part->cte == CTE_8BIT || part->cte == CTE_BINARY)) {
		if (part->depth >= p->lim.max_depth) {
			mime_problem_add(p, MIME_PROB_LIMITS, part, "nesting too deep");
		} else if (p->nparts >= p->lim.max_parts) {
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

/* body_line - a line (or piece) of a leaf body */
static void body_line(mime_parser *p, const char *s, size_t n, int first, const char *eol, size_t neol)
{
	mime_part *part = p->cur;

	if (part->cte != CTE_B64 && part->cte != CTE_BINARY && memchr(s, 0, n) != NULL)
		mime_problem_add(p, MIME_PROB_MALFORMED, part, "NUL byte in body");
	if (first && p->neol)
		emit(p, p->eol, p->neol);
	emit(p, s, n);
	if (part->cte != CTE_B64) {
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
	if (p->nparts >= p->lim.max_parts) {
		mime_problem_add(p, MIME_PROB_LIMITS, mp, "too many parts");
		return;
	}
	p->cur = new_part(p, mp);
	p->state = ST_HEADERS;
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
	switch (p->state) {
	case ST_HEADERS: header_line(p, s, n, first, piece, eol, neol); break;
	case ST_BODY: body_line(p, s, n, first, eol, neol); break;
	default: break;
	}
}

/* mime_parser_feed - cut the input into lines and pieces; see the file header */
int mime_parser_feed(mime_parser *p, const void *buf, size_t len)
{
	const char *s = buf;
	size_t cap = p->piece;

	if (p->err) {
		errno = p->err;
		return -1;
	}
	if (p->finished)
		return 0;
	while (len > 0 && !p->err) {
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
	if (p->err) {
		errno = p->err;
		return -1;
	}
	return 0;
}

/* mime_parser_finish - end of input: last line, open parts, unclosed multiparts */
int mime_parser_finish(mime_parser *p)
{
	if (p->finished || p->err)
		goto out;
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
out:
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
	const void *data;
	int fd;
	size_t n, want;
	char *res;

	if (part->is_container)
		return NULL;
	mime_part_body(part, &data, &fd, &n);
	want = max > ((size_t)-1 - 64) / 4 ? (size_t)-1 : max * 4 + 64;
	if (n > want)
		n = want;
	if (data != NULL)
		return mime_charset_to_utf8(part->charset, data, n, max, len, NULL);
	char *tmp = x_malloc(n + 1);
	ssize_t r = spool_pread(part->spool, tmp, n, 0);
	res = mime_charset_to_utf8(part->charset, tmp, r > 0 ? (size_t)r : 0, max, len, NULL);
	x_free(tmp);
	return res;
}
