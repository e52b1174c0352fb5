/*
 * NAME
 *	ex_pdf.c - PDF: links, actions, embedded files and their names,
 *	pictures for QR codes
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_pdf(pdf, len, &lim, &out);
 * DESCRIPTION
 *	A bounded PDF lexer (names with #XX escapes decoded, literal and hex
 *	strings, dictionaries, arrays, numbers, references "N G R", objects
 *	"N G obj", streams) with just enough structure to know which key a
 *	value belongs to and which dictionary is an action.  It reads the
 *	file front to back, without the cross-reference table, so damaged
 *	and incremental files read the same; FlateDecode object streams
 *	(/Type /ObjStm) are inflated and read the same way, and so is a
 *	decoded stream or object that libclamav hands out.
 *
 *	links		/URI strings (link annotations, URI actions), /F of
 *			SubmitForm, GoToR, GoToE, ImportData and Launch
 *			actions when it is a URL or UNC path, and URLs written
 *			in /JS JavaScript strings.
 *	content.auto_action	an action that runs when the document opens
 *			(/OpenAction, /AA, document-level /Names /JavaScript):
 *			JavaScript, Launch, SubmitForm, ImportData, GoToR,
 *			GoToE or URI; and every /Launch action (it starts a
 *			program, opened or clicked).
 *	doc.embedded_file  an embedded file (/Type /EmbeddedFile stream):
 *			inflated, emitted as a child object named by the /UF or
 *			/F of the file specification that points to it.
 *	pictures	the first EX_PDF_IMAGES DCTDecode images are emitted
 *			as image/jpeg child objects, so QR codes in them are
 *			read (ex_qr); later pictures are not (a scanned
 *			contract has hundreds; a QR phishing page has one).
 *	content.damaged	an encrypted PDF: its strings are ciphertext, so its
 *			links are not reported (libclamav decrypts and scans
 *			PDFs with an empty user password).
 *
 *	libclamav counts these actions in its scan metadata and extracts
 *	JavaScript and embedded files, but reports neither links nor file
 *	names (src/extract/README.md).
 * LIMITS
 *	Container nesting EX_PDF_NEST, strings decoded to EX_PDF_STR bytes,
 *	object streams nested max_depth deep; every inflated stream counts
 *	against max_decoded and is cut at ex_budget() (content.limits);
 *	embedded files are kept until the end of the file (to be named)
 *	within that same budget; EX_PDF_MAP actions and file specifications
 *	are remembered.  Linear in the input plus what is inflated.
 * DIAGNOSTICS
 *	Findings: content.auto_action, doc.embedded_file, content.damaged,
 *	content.limits.
 * SEE ALSO
 *	ISO 32000-1 (7.3 objects, 7.5.7 object streams, 12.6 actions, 7.11
 *	file specifications), zlib
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EX_PDF_NEST   64
#define EX_PDF_STR    (64 * 1024)
#define EX_PDF_MAP    4096
#define EX_PDF_IMAGES 8
#define PDF_NAME      32

enum { T_EOF, T_NAME, T_STR, T_NUM, T_KW, T_DICT, T_ENDDICT, T_ARR, T_ENDARR };

typedef struct tok {
	int t;
	char name[PDF_NAME]; /* T_NAME, T_KW */
	long num;
	int is_int;
	mw_buf *str; /* T_STR: decoded into the lexer's buffer */
} tok;

typedef struct ctr {
	int is_dict;
	int key_next;
	char key[PDF_NAME];  /* the key whose value is being read */
	char vkey[PDF_NAME]; /* the key of the last number value (for N G R) */
	int pending;         /* 1: a number value read, 2: and a generation */
	long num1;
	long last_int;       /* arrays: the last integer */
	int autox;           /* an action that runs when the document opens */
	char s[PDF_NAME];    /* /S */
	char type[PDF_NAME]; /* /Type */
	char subtype[PDF_NAME];
	int flate, dct, other_filter;
	long length, n, first;
	long ef_ref; /* /EF << /F N 0 R >> */
	char f[512]; /* /F or /UF string */
	char uf[512];
	int has_ef;
	char win_f[512]; /* /Win << /F >> */
	int names_js;    /* a /JavaScript key in a /Names dictionary */
} ctr;

typedef struct pmap {
	long obj;
	char what[PDF_NAME]; /* action kind or file name */
	char name[256];
} pmap;

typedef struct efile {
	long obj;
	mw_buf data;
} efile;

typedef struct pdf {
	ex_out *o;
	int encrypted, auto_doc_js;
	size_t images;
	/* references that run on open, resolved at the end */
	long autorefs[256];
	size_t nautorefs;
	/* objnum -> action kind; EF target objnum -> file name */
	pmap *actions;
	size_t nactions, aactions;
	pmap *files;
	size_t nfiles, afiles;
	efile *efiles;
	size_t nefiles, aefiles;
	mw_buf links; /* context NUL url NUL ..., emitted at the end unless encrypted */
	mw_buf strbuf;
} pdf;

typedef struct lexer {
	const unsigned char *p;
	size_t n, i;
} lexer;

/* ---- lexer ---- */

static int is_delim(unsigned char c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' ||
	       c == '/' || c == '%';
}

static int is_ws(unsigned char c)
{
	return c == 0 || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* lit_string - ( ... ) with nesting and escapes, from after '(' */
static void lit_string(lexer *lx, mw_buf *b)
{
	size_t depth = 1;

	while (lx->i < lx->n) {
		unsigned char c = lx->p[lx->i++];
		if (c == '\\' && lx->i < lx->n) {
			unsigned char e = lx->p[lx->i++];
			int v, k;
			switch (e) {
			case 'n': buf_putc(b, '\n'); break;
			case 'r': buf_putc(b, '\r'); break;
			case 't': buf_putc(b, '\t'); break;
			case 'b': buf_putc(b, '\b'); break;
			case 'f': buf_putc(b, '\f'); break;
			case '\r':
				if (lx->i < lx->n && lx->p[lx->i] == '\n')
					lx->i++;
				break;
			case '\n': break;
			default:
				if (e >= '0' && e <= '7') {
					v = e - '0';
					for (k = 0;
					     k < 2 && lx->i < lx->n && lx->p[lx->i] >= '0' && lx->p[lx->i] <= '7'; k++)
						v = v * 8 + (lx->p[lx->i++] - '0');
					buf_putc(b, v & 0xff);
				} else {
					buf_putc(b, e);
				}
			}
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return;
		buf_putc(b, c);
	}
}

/* hex_string - < ... > from after '<' */
static void hex_string(lexer *lx, mw_buf *b)
{
	int hi = -1;

	while (lx->i < lx->n) {
		unsigned char c = lx->p[lx->i++];
		int v;
		if (c == '>')
			break;
		if (!isxdigit(c))
			continue;
		v = isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
		if (hi < 0) {
			hi = v;
		} else {
			buf_putc(b, hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		buf_putc(b, hi << 4);
}

/* next - the next token */
static void next(lexer *lx, tok *t, mw_buf *sb)
{
	const unsigned char *p = lx->p;
	size_t k;

	t->t = T_EOF;
	for (;;) {
		while (lx->i < lx->n && is_ws(p[lx->i]))
			lx->i++;
		if (lx->i < lx->n && p[lx->i] == '%') {
			while (lx->i < lx->n && p[lx->i] != '\n' && p[lx->i] != '\r')
				lx->i++;
			continue;
		}
		if (lx->i < lx->n && (p[lx->i] == ')' || p[lx->i] == '{' || p[lx->i] == '}')) {
			lx->i++; /* stray or PostScript-calculator delimiters: skipped here, not by recursion */
			continue;
		}
		break;
	}
	if (lx->i >= lx->n)
		return;
	switch (p[lx->i]) {
	case '/':
		lx->i++;
		for (k = 0; lx->i < lx->n && !is_ws(p[lx->i]) && !is_delim(p[lx->i]);) {
			unsigned char c = p[lx->i++];
			if (c == '#' && lx->i + 1 < lx->n && isxdigit(p[lx->i]) && isxdigit(p[lx->i + 1])) {
				char hx[3] = {(char)p[lx->i], (char)p[lx->i + 1], 0};
				c = (unsigned char)strtol(hx, NULL, 16);
				lx->i += 2;
			}
			if (k < PDF_NAME - 1)
				t->name[k++] = (char)c;
		}
		t->name[k] = 0;
		t->t = T_NAME;
		return;
	case '(':
		lx->i++;
		buf_reset(sb);
		lit_string(lx, sb);
		t->t = T_STR;
		t->str = sb;
		return;
	case '<':
		if (lx->i + 1 < lx->n && p[lx->i + 1] == '<') {
			lx->i += 2;
			t->t = T_DICT;
			return;
		}
		lx->i++;
		buf_reset(sb);
		hex_string(lx, sb);
		t->t = T_STR;
		t->str = sb;
		return;
	case '>':
		lx->i += lx->i + 1 < lx->n && p[lx->i + 1] == '>' ? 2 : 1;
		t->t = T_ENDDICT;
		return;
	case '[':
		lx->i++;
		t->t = T_ARR;
		return;
	case ']':
		lx->i++;
		t->t = T_ENDARR;
		return;
	default: break;
	}
	if (isdigit(p[lx->i]) || p[lx->i] == '-' || p[lx->i] == '+' || p[lx->i] == '.') {
		char num[24];
		for (k = 0; lx->i < lx->n && (isdigit(p[lx->i]) || strchr("+-.", p[lx->i])); lx->i++)
			if (k < sizeof(num) - 1)
				num[k++] = (char)p[lx->i];
		num[k] = 0;
		t->is_int = strchr(num, '.') == NULL;
		t->num = strtol(num, NULL, 10);
		t->t = T_NUM;
		return;
	}
	for (k = 0; lx->i < lx->n && !is_ws(p[lx->i]) && !is_delim(p[lx->i]); lx->i++)
		if (k < PDF_NAME - 1)
			t->name[k++] = (char)p[lx->i];
	t->name[k] = 0;
	if (k == 0)
		lx->i++; /* a stray delimiter byte */
	t->t = T_KW;
}

/* ---- what the structure means ---- */

static int is_auto_kind(const char *s)
{
	static const char *const kinds[] = {"JavaScript", "Launch", "SubmitForm", "ImportData",
	                                    "GoToR",      "GoToE",  "URI"};
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(kinds); i++)
		if (strcmp(s, kinds[i]) == 0)
			return 1;
	return 0;
}

/* add_link - remember a link until the end (dropped if the file turns out encrypted) */
static void add_link(pdf *d, const char *url, size_t n, const char *context)
{
	if (d->links.len > 256 * 1024 || n == 0)
		return;
	buf_puts(&d->links, context);
	buf_putc(&d->links, 0);
	buf_append(&d->links, url, n < EX_URL_MAX ? n : EX_URL_MAX);
	buf_putc(&d->links, 0);
}

/* add_text_links - URLs written in JavaScript */
static void add_text_links(pdf *d, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (ex_is_url(s + i, n - i) &&
		    (s[i] == 'h' || s[i] == 'H' || s[i] == '\\' || s[i] == 'f' || s[i] == 'F')) {
			size_t e = i;
			while (e < n && e - i < EX_URL_MAX && !is_ws((unsigned char)s[e]) && s[e] != '"' &&
			       s[e] != '\'' && s[e] != ')')
				e++;
			add_link(d, s + i, e - i, "PDF JavaScript");
			i = e;
		} else {
			i++;
		}
	}
}

static void set_str(char *dst, size_t dl, const mw_buf *b)
{
	size_t n = b->len < dl - 1 ? b->len : dl - 1;

	memcpy(dst, b->p ? b->p : "", n);
	dst[n] = 0;
}

/* value - one complete key/value pair of a dictionary */
static void value(pdf *d, ctr *c, const tok *t)
{
	const char *k = c->key;

	if (t->t == T_NAME) {
		if (strcmp(k, "S") == 0)
			snprintf(c->s, sizeof(c->s), "%s", t->name);
		else if (strcmp(k, "Type") == 0)
			snprintf(c->type, sizeof(c->type), "%s", t->name);
		else if (strcmp(k, "Subtype") == 0)
			snprintf(c->subtype, sizeof(c->subtype), "%s", t->name);
		else if (strcmp(k, "Filter") == 0) {
			if (strcmp(t->name, "FlateDecode") == 0 || strcmp(t->name, "Fl") == 0)
				c->flate = 1;
			else if (strcmp(t->name, "DCTDecode") == 0 || strcmp(t->name, "DCT") == 0)
				c->dct = 1;
			else
				c->other_filter = 1;
		}
	} else if (t->t == T_STR) {
		const mw_buf *b = t->str;
		if (strcmp(k, "URI") == 0)
			add_link(d, b->p ? b->p : "", b->len, "PDF link");
		else if (strcmp(k, "F") == 0)
			set_str(c->f, sizeof(c->f), b);
		else if (strcmp(k, "UF") == 0)
			set_str(c->uf, sizeof(c->uf), b);
		else if (strcmp(k, "JS") == 0)
			add_text_links(d, b->p ? b->p : "", b->len);
	} else if (t->t == T_NUM && t->is_int) {
		if (strcmp(k, "Length") == 0)
			c->length = t->num;
		else if (strcmp(k, "N") == 0)
			c->n = t->num;
		else if (strcmp(k, "First") == 0)
			c->first = t->num;
	}
}

/* ref - "N G R" as the value of key */
static void ref(pdf *d, ctr *c, const char *key, long obj)
{
	if (strcmp(key, "F") == 0)
		c->ef_ref = obj; /* inside /EF */
	if ((c->autox || strcmp(key, "OpenAction") == 0) && d->nautorefs < MW_ARRAY_LEN(d->autorefs))
		d->autorefs[d->nautorefs++] = obj;
}

/* pmap_room - room for one more entry (the caller keeps n below EX_PDF_MAP) */
static void pmap_room(pmap **v, size_t n, size_t *a)
{
	if (n == *a) {
		*a = *a ? *a * 2 : 16;
		*v = x_realloc(*v, *a * sizeof(**v));
	}
}

/* dict_end - a dictionary closes: is it an action, a file specification? */
static void dict_end(pdf *d, ctr *c, ctr *parent, long objnum, int top)
{
	ex_out *o = d->o;
	const char *target = c->f[0] ? c->f : c->win_f;

	if (parent && strcmp(parent->key, "EF") == 0)
		parent->ef_ref = c->ef_ref;
	if (parent && strcmp(parent->key, "Win") == 0)
		mw_strlcpy(parent->win_f, c->f, sizeof(parent->win_f));
	if (parent && strcmp(parent->key, "F") == 0 && c->f[0])
		mw_strlcpy(parent->f, c->f, sizeof(parent->f)); /* /F << /F (url) /FS /URL >> */
	if (c->s[0]) {
		if (strcmp(c->s, "Launch") == 0)
			ex_finding(o, "content.auto_action", "PDF Launch action%s runs %.150s",
			           c->autox ? " on open" : "", target[0] ? target : "a program");
		else if (c->autox && is_auto_kind(c->s))
			ex_finding(o, "content.auto_action", "PDF runs a %s action when opened%s%.150s", c->s,
			           target[0] ? ": " : "", target);
		if ((strcmp(c->s, "Launch") == 0 || strcmp(c->s, "SubmitForm") == 0 || strcmp(c->s, "GoToR") == 0 ||
		     strcmp(c->s, "GoToE") == 0 || strcmp(c->s, "ImportData") == 0) &&
		    target[0] && ex_is_url(target, strlen(target)))
			add_link(d, target, strlen(target),
			         strcmp(c->s, "SubmitForm") == 0 ? "PDF form submit" : "PDF action");
		if (top && objnum >= 0 && d->nactions < EX_PDF_MAP) {
			pmap_room(&d->actions, d->nactions, &d->aactions);
			d->actions[d->nactions].obj = objnum;
			snprintf(d->actions[d->nactions].what, PDF_NAME, "%s", c->s);
			d->nactions++;
		}
	}
	if (c->names_js)
		d->auto_doc_js = 1;
	if (c->ef_ref >= 0 && (c->uf[0] || c->f[0]) && d->nfiles < EX_PDF_MAP &&
	    (strcmp(c->type, "Filespec") == 0 || strcmp(c->type, "F") == 0 || c->type[0] == 0) && c->has_ef) {
		pmap_room(&d->files, d->nfiles, &d->afiles);
		d->files[d->nfiles].obj = c->ef_ref;
		snprintf(d->files[d->nfiles].name, sizeof(d->files[0].name), "%s", c->uf[0] ? c->uf : c->f);
		d->nfiles++;
	}
}

/* inflate_to - FlateDecode data into b (zlib or raw deflate); 0 on a clean end */
static int inflate_to(const unsigned char *in, size_t n, mw_buf *b)
{
	unsigned char out[16384];
	int attempt, rc = Z_DATA_ERROR;

	for (attempt = 0; attempt < 2; attempt++) {
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (inflateInit2(&z, attempt == 0 ? 15 + 32 : -15) != Z_OK)
			return -1;
		buf_reset(b);
		z.next_in = (Bytef *)in;
		while (n > 0 || rc == Z_OK) {
			uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
			size_t before_in = chunk;
			z.next_in = (Bytef *)in;
			z.avail_in = chunk;
			do {
				z.next_out = out;
				z.avail_out = sizeof(out);
				rc = inflate(&z, Z_NO_FLUSH);
				buf_append(b, out, sizeof(out) - z.avail_out);
			} while (rc == Z_OK && z.avail_out == 0 && !b->truncated);
			in += before_in - z.avail_in;
			n -= before_in - z.avail_in;
			if (rc != Z_OK || b->truncated || z.avail_in == before_in)
				break;
		}
		inflateEnd(&z);
		if (rc == Z_STREAM_END || b->len > 0)
			return rc == Z_STREAM_END ? 0 : 1;
	}
	return 1;
}

static void parse(pdf *d, const unsigned char *p, size_t n, long objnum, int depth);

/* stream - the data after the "stream" keyword of a dictionary */
static void stream(pdf *d, lexer *lx, const ctr *sd, long objnum, int depth)
{
	ex_out *o = d->o;
	size_t start = lx->i, end;
	const unsigned char *es;
	mw_buf b;
	int want;

	if (start < lx->n && lx->p[start] == '\r')
		start++;
	if (start < lx->n && lx->p[start] == '\n')
		start++;
	if (sd->length > 0 && (size_t)sd->length <= lx->n - start &&
	    memmem(lx->p + start + sd->length, lx->n - start - sd->length < 16 ? lx->n - start - sd->length : 16,
	           "endstream", 9) != NULL)
		end = start + (size_t)sd->length;
	else if ((es = memmem(lx->p + start, lx->n - start, "endstream", 9)) != NULL)
		end = (size_t)(es - lx->p);
	else
		end = lx->n;
	lx->i = end;
	want = strcmp(sd->type, "ObjStm") == 0 || strcmp(sd->type, "EmbeddedFile") == 0 ||
	       (strcmp(sd->subtype, "Image") == 0 && sd->dct && !sd->flate && !sd->other_filter);
	if (!want || d->encrypted)
		return;
	if (strcmp(sd->subtype, "Image") == 0) {
		if (d->images++ < EX_PDF_IMAGES)
			ex_object(o, NULL, 0, "image/jpeg", lx->p + start, end - start);
		return;
	}
	buf_init(&b, ex_budget(o) ? ex_budget(o) : 1);
	if (sd->flate) {
		if (inflate_to(lx->p + start, end - start, &b) < 0) {
			buf_free(&b);
			return;
		}
	} else if (!sd->other_filter) {
		buf_append(&b, lx->p + start, end - start);
	} else {
		buf_free(&b);
		return; /* a filter we do not decode: libclamav decodes every filter and scans the result */
	}
	if (b.truncated)
		ex_limit(o, EX_LIM_DECODED, "a PDF stream inflates to more than %zu bytes", b.max);
	if (strcmp(sd->type, "ObjStm") == 0) {
		ex_charge(o, b.len);
		if ((size_t)depth >= o->lim.max_depth) {
			ex_limit(o, EX_LIM_DEPTH, "object streams nested deeper than %zu", o->lim.max_depth);
		} else if (sd->n > 0 && sd->first > 0 && (size_t)sd->first <= b.len) {
			/* header: N pairs "objnum offset", objects from First */
			lexer hl = {(const unsigned char *)b.p, (size_t)sd->first, 0};
			long k, prev_obj = -1, prev_off = -1;
			tok t;
			mw_buf sb;
			buf_init(&sb, 64);
			for (k = 0; k <= sd->n && k <= EX_PDF_MAP; k++) {
				long on = -1, off = -1;
				if (k < sd->n && k < EX_PDF_MAP) {
					next(&hl, &t, &sb);
					on = t.t == T_NUM ? t.num : -1;
					next(&hl, &t, &sb);
					off = t.t == T_NUM ? t.num : -1;
				}
				if (prev_off >= 0 && (size_t)(sd->first + prev_off) <= b.len) {
					size_t s0 = (size_t)(sd->first + prev_off);
					size_t s1 = off > prev_off && (size_t)(sd->first + off) <= b.len
					                ? (size_t)(sd->first + off)
					                : b.len;
					parse(d, (const unsigned char *)b.p + s0, s1 - s0, prev_obj, depth + 1);
				}
				if (on < 0 || off < 0)
					break;
				prev_obj = on;
				prev_off = off;
			}
			buf_free(&sb);
		}
		buf_free(&b);
		return;
	}
	/* an embedded file: kept until the end, when its name is known */
	if (d->nefiles == d->aefiles) {
		d->aefiles = d->aefiles ? d->aefiles * 2 : 4;
		d->efiles = x_realloc(d->efiles, d->aefiles * sizeof(*d->efiles));
	}
	d->efiles[d->nefiles].obj = objnum;
	d->efiles[d->nefiles].data = b;
	d->nefiles++;
	ex_charge(o, b.len);
}

/* parse - the tokens of a file, an object stream's object or a fragment */
static void parse(pdf *d, const unsigned char *p, size_t n, long objnum, int depth)
{
	lexer lx = {p, n, 0};
	ctr *st = x_calloc(EX_PDF_NEST, sizeof(*st));
	size_t sp = 0, deep = 0;
	ctr last;
	long n1 = -1, n2 = -1; /* the last two integers outside containers, for "N G obj" */
	tok t;
	int have_last = 0;

	memset(&last, 0, sizeof(last));
	while (!d->o->stop) {
		ctr *c = sp ? &st[sp - 1] : NULL;

		next(&lx, &t, &d->strbuf);
		if (t.t == T_EOF)
			break;
		if (t.t == T_DICT || t.t == T_ARR) {
			if (sp >= EX_PDF_NEST) {
				deep++;
				continue;
			}
			ctr *nc = &st[sp];
			memset(nc, 0, sizeof(*nc));
			nc->is_dict = t.t == T_DICT;
			nc->key_next = 1;
			nc->ef_ref = -1;
			if (c) {
				/* an action runs on open when it is the value of /OpenAction, or below /AA */
				nc->autox = c->autox || strcmp(c->key, "OpenAction") == 0 || strcmp(c->key, "AA") == 0;
				if (!nc->is_dict)
					snprintf(nc->key, sizeof(nc->key), "%s",
					         c->key); /* array elements keep the key */
				if (strcmp(c->key, "EF") == 0)
					c->has_ef = 1;
			}
			sp++;
			continue;
		}
		if (t.t == T_ENDDICT || t.t == T_ENDARR) {
			if (deep) {
				deep--;
				continue;
			}
			if (sp == 0)
				continue;
			sp--;
			ctr *parent = sp ? &st[sp - 1] : NULL;
			if (st[sp].is_dict) {
				dict_end(d, &st[sp], parent, objnum, sp == 0);
				last = st[sp];
				have_last = 1;
			}
			if (parent && parent->is_dict)
				parent->key_next = 1;
			continue;
		}
		if (c == NULL) {
			/* top level: "N G obj", "stream", "trailer" */
			if (t.t == T_NUM && t.is_int) {
				n1 = n2;
				n2 = t.num;
			} else if (t.t == T_KW && strcmp(t.name, "obj") == 0) {
				objnum = n1;
				have_last = 0;
			} else if (t.t == T_KW && strcmp(t.name, "stream") == 0 && have_last) {
				stream(d, &lx, &last, objnum, depth);
				have_last = 0;
			} else if (t.t == T_KW && strcmp(t.name, "endobj") == 0) {
				have_last = 0;
			}
			continue;
		}
		if (!c->is_dict) {
			/* array elements: names of /Filter arrays, references under actions */
			if (t.t == T_NAME && strcmp(c->key, "Filter") == 0 && sp >= 2)
				value(d, &st[sp - 2], &t);
			/* "N G R": the object number is the second to last integer */
			if (t.t == T_NUM && t.is_int) {
				c->num1 = c->last_int;
				c->last_int = t.num;
				c->pending++;
			} else if (t.t == T_KW && strcmp(t.name, "R") == 0 && c->pending >= 2) {
				if (c->autox && d->nautorefs < MW_ARRAY_LEN(d->autorefs))
					d->autorefs[d->nautorefs++] = c->num1;
				c->pending = 0;
			} else {
				c->pending = 0;
			}
			continue;
		}
		/* dictionaries: key, value, key, value ... */
		if (c->key_next) {
			if (t.t == T_NAME) {
				snprintf(c->key, sizeof(c->key), "%s", t.name);
				c->key_next = 0;
				if (strcmp(t.name, "Encrypt") == 0)
					d->encrypted = 1;
				if (strcmp(t.name, "JavaScript") == 0 && sp >= 2 &&
				    strcmp(st[sp - 2].key, "Names") == 0)
					c->names_js = 1;
				c->pending = 0;
			} else if (t.t == T_NUM && t.is_int && c->pending == 1) {
				c->pending = 2; /* the generation of "N G R" */
			} else if (t.t == T_KW && strcmp(t.name, "R") == 0 && c->pending == 2) {
				ref(d, c, c->vkey, c->num1);
				c->pending = 0;
			}
			continue;
		}
		if (t.t == T_NUM && t.is_int) {
			snprintf(c->vkey, sizeof(c->vkey), "%s", c->key);
			c->num1 = t.num;
			c->pending = 1;
		} else {
			c->pending = 0;
		}
		value(d, c, &t);
		c->key_next = 1;
	}
	/* unclosed containers simply end with the input, as readers do */
	x_free(st);
}

/* ex_pdf - see the file header */
int ex_pdf(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	pdf d;
	ex_out o;
	size_t i, j, off;

	ex_out_init(&o, emit, lim, "PDF");
	memset(&d, 0, sizeof(d));
	d.o = &o;
	buf_init(&d.links, 0);
	buf_init(&d.strbuf, EX_PDF_STR);
	parse(&d, in, len, -1, 0);
	/* actions referenced from /OpenAction and /AA */
	for (i = 0; i < d.nautorefs && !o.stop; i++)
		for (j = 0; j < d.nactions; j++)
			if (d.actions[j].obj == d.autorefs[i] && is_auto_kind(d.actions[j].what) &&
			    strcmp(d.actions[j].what, "Launch") != 0) {
				ex_finding(&o, "content.auto_action", "PDF runs a %s action when opened",
				           d.actions[j].what);
				break;
			}
	if (d.auto_doc_js && !o.stop)
		ex_finding(&o, "content.auto_action", "PDF has document-level JavaScript (runs when opened)");
	if (d.encrypted) {
		ex_finding(&o, "content.damaged", "encrypted PDF: its strings (links, file names) cannot be read");
	} else {
		for (off = 0; off < d.links.len && !o.stop;) {
			const char *ctx = d.links.p + off, *url = ctx + strlen(ctx) + 1;
			ex_link(&o, url, strlen(url), ctx);
			off = (size_t)(url - d.links.p) + strlen(url) + 1;
		}
	}
	for (i = 0; i < d.nefiles; i++) {
		const char *name = NULL;
		efile *e = &d.efiles[i];
		for (j = 0; j < d.nfiles; j++)
			if (d.files[j].obj == e->obj)
				name = d.files[j].name;
		if (!o.stop) {
			ex_finding(&o, "doc.embedded_file", "PDF embeds %.150s (%zu bytes)", name ? name : "a file",
			           e->data.len);
			o.decoded -= e->data.len < o.decoded ? e->data.len : o.decoded; /* charged once already */
			ex_object(&o, name, name ? strlen(name) : 0, NULL, e->data.p ? e->data.p : "", e->data.len);
		}
		buf_free(&e->data);
	}
	x_free(d.efiles);
	x_free(d.actions);
	x_free(d.files);
	buf_free(&d.links);
	buf_free(&d.strbuf);
	return ex_out_rc(&o);
}
