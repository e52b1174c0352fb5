/*
 * NAME
 *	ex_rtf.c - RTF: embedded OLE objects, remote templates, fields
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_rtf(rtf, len, &lim, &out);
 * DESCRIPTION
 *	A bounded RTF tokenizer (groups, control words with their numeric
 *	parameter and delimiter, control symbols, \'hh, \binN) that follows
 *	the destinations that matter, as Word reads them, not as a strict
 *	parser would: a control word ends at any non-letter (a line break
 *	after \objdata is no obstacle), nested groups without a destination
 *	of their own continue their parent's, and \* groups of unknown
 *	destinations are skipped.
 *
 *	\objdata	hex digits (anything else skipped) and \bin data of an
 *			\object: the OLE1 object (version, format, class
 *			name, topic and item names, native data).  A Package
 *			object's native data is the dropped file, emitted with
 *			its name (ex_ole_package); native data that is a
 *			compound file is read by ex_ole_run (Equation Editor,
 *			OLE2Link monikers, nested packages); other native data
 *			is emitted unnamed.  Every object gives doc.ole_object
 *			with its class (\objclass or the OLE1 class name); a
 *			linked object (\objautlink, format 1) its source as a
 *			link and doc.remote_content.
 *	\*\template	a template loaded when the document opens: link and
 *			doc.remote_content (RTF template injection).
 *	\fldinst	HYPERLINK gives a link; INCLUDEPICTURE, INCLUDETEXT,
 *			IMPORT and LINK with a URL or UNC path a link and
 *			doc.remote_content; DDE and DDEAUTO content.auto_action.
 *
 *	libclamav 1.4 extracts \objdata only when the control word is
 *	followed by a space (src/extract/README.md), and loses the names.
 * LIMITS
 *	Group nesting is followed to EX_RTF_DEPTH levels (deeper groups are
 *	matched but not interpreted, with content.limits); object data to
 *	ex_budget() bytes; class names to 64 bytes, field instructions and
 *	templates to EX_URL_MAX.  Linear in the input.
 * DIAGNOSTICS
 *	Findings: doc.ole_object, doc.remote_content, content.auto_action,
 *	content.damaged, content.limits.
 * SEE ALSO
 *	Rich Text Format (RTF) Specification 1.9.1, [MS-OLEDS] 2.2 (OLE1),
 *	ex_ole.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"
#include "extract/ex_ole.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EX_RTF_DEPTH 512

enum dest { D_NONE, D_SKIP, D_OBJDATA, D_OBJCLASS, D_FLDINST, D_TEMPLATE };

typedef struct group {
	unsigned char dest;
	unsigned char star;     /* \* seen at the start of this group */
	unsigned char object;   /* this group opened an \object */
	unsigned char first_cw; /* no control word seen yet in this group */
} group;

typedef struct robj {
	int active;
	int linked;
	int update;
	mw_buf data; /* decoded \objdata bytes */
	int nibble;  /* pending high nibble, -1 none */
	char cls[65];
	size_t clslen;
} robj;

typedef struct rtf {
	ex_out *o;
	group *g;
	size_t depth, deep;
	robj obj;
	mw_buf text; /* \fldinst or \template text */
	size_t nobj;
} rtf;

/* obj_start - a new \object (or stray \objdata) */
static void obj_start(rtf *r)
{
	if (r->obj.active)
		return;
	memset(&r->obj, 0, sizeof(r->obj));
	r->obj.active = 1;
	r->obj.nibble = -1;
	buf_init(&r->obj.data, ex_budget(r->o) ? ex_budget(r->o) : 1);
}

/* lp_string - a 4-byte length-prefixed ANSI string at *off */
static int lp_string(const unsigned char *p, size_t n, size_t *off, const char **s, size_t *sl)
{
	uint32_t l;

	if (*off + 4 > n)
		return 0;
	l = ex_le32(p + *off);
	*off += 4;
	if (l > n - *off)
		return 0;
	*s = (const char *)p + *off;
	*sl = strnlen(*s, l);
	*off += l;
	return 1;
}

/* obj_end - the \object is complete: decode its OLE1 form */
static void obj_end(rtf *r)
{
	ex_out *o = r->o;
	robj *ob = &r->obj;
	const unsigned char *p = (const unsigned char *)ob->data.p;
	size_t n = ob->data.len, off = 8;
	const char *cls = NULL, *topic = NULL, *item = NULL;
	size_t cl = 0, tl = 0, il = 0;
	char where[96], shown[80];
	uint32_t fmt, nsize;

	if (!ob->active)
		return;
	ob->active = 0;
	r->nobj++;
	if (n == 0) {
		buf_free(&ob->data);
		return;
	}
	if (ob->data.truncated)
		ex_limit(o, EX_LIM_DECODED, "RTF object data larger than %zu bytes", ob->data.max);
	if (n >= 8 && memcmp(p, "\xd0\xcf\x11\xe0", 4) == 0) {
		snprintf(where, sizeof(where), "RTF object %zu", r->nobj);
		ex_finding(o, "doc.ole_object", "%s: compound file without OLE1 header%s%s", where,
		           ob->clslen ? ", class " : "", ob->cls);
		ex_ole_run(o, p, n, where);
		goto out;
	}
	fmt = n >= 8 ? ex_le32(p + 4) : 0;
	if (n < 8 || !lp_string(p, n, &off, &cls, &cl)) {
		ex_finding(o, "content.damaged", "RTF object %zu: data is not an OLE1 object", r->nobj);
		ex_finding(o, "doc.ole_object", "RTF object %zu%s%s (unreadable)", r->nobj,
		           ob->clslen ? " of class " : "", ob->cls);
		ex_object(o, NULL, 0, NULL, p, n);
		goto out;
	}
	snprintf(shown, sizeof(shown), "%.*s", (int)(cl ? (cl < 60 ? cl : 60) : (ob->clslen < 60 ? ob->clslen : 60)),
	         cl ? cls : ob->cls);
	snprintf(where, sizeof(where), "RTF object %zu (%s)", r->nobj, shown);
	if (!lp_string(p, n, &off, &topic, &tl) || !lp_string(p, n, &off, &item, &il)) {
		ex_finding(o, "content.damaged", "%s: OLE1 header cut short", where);
		goto out;
	}
	if (fmt == 1 || ob->linked) {
		char src[EX_URL_MAX + 1];
		snprintf(src, sizeof(src), "%.*s", (int)tl, topic ? topic : "");
		ex_finding(o, "doc.remote_content", "%s: linked object%s loads %.120s", where,
		           ob->update ? " updated on open" : "", src);
		if (tl)
			ex_link(o, topic, tl, "RTF linked object");
		goto out;
	}
	if (off + 4 > n) {
		ex_finding(o, "content.damaged", "%s: no native data", where);
		goto out;
	}
	nsize = ex_le32(p + off);
	off += 4;
	if (nsize > n - off) {
		ex_finding(o, "content.damaged", "%s: native data cut short (%zu of %u bytes)", where, n - off,
		           (unsigned)nsize);
		nsize = (uint32_t)(n - off);
	}
	if (strcasecmp(shown, "Package") == 0) {
		ex_ole_package(o, p + off, nsize, where);
	} else {
		int eq = ex_memcasemem(shown, strlen(shown), "Equation", 8) != NULL;
		ex_finding(o, "doc.ole_object", "%s: embedded OLE object%s", where,
		           eq ? " of the Equation Editor (the class of CVE-2017-11882)" : "");
		if (nsize >= 8 && memcmp(p + off, "\xd0\xcf\x11\xe0", 4) == 0)
			ex_ole_run(o, p + off, nsize, where);
		else
			ex_object(o, NULL, 0, NULL, p + off, nsize);
	}
out:
	buf_free(&ob->data);
}

/* field - a \fldinst instruction: KEYWORD "argument" switches */
static void field(rtf *r, const char *s, size_t n)
{
	static const char *const remote[] = {"INCLUDEPICTURE", "INCLUDETEXT", "IMPORT", "LINK"};
	size_t i = 0, k, kwl, al;
	const char *kw, *arg, *q;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	kw = s + i;
	while (i < n && !isspace((unsigned char)s[i]) && s[i] != '"')
		i++;
	kwl = (size_t)(s + i - kw);
	if (kwl == 0)
		return;
	if ((kwl == 3 && strncasecmp(kw, "DDE", 3) == 0) || (kwl == 7 && strncasecmp(kw, "DDEAUTO", 7) == 0)) {
		ex_finding(r->o, "content.auto_action", "RTF %.*s field runs %.*s", (int)kwl, kw,
		           (int)(n - i < 120 ? n - i : 120), s + i);
		return;
	}
	/* the argument: the first quoted string, or the next word */
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	if (i < n && s[i] == '"' && (q = memchr(s + i + 1, '"', n - i - 1)) != NULL) {
		arg = s + i + 1;
		al = (size_t)(q - arg);
	} else {
		arg = s + i;
		while (i < n && !isspace((unsigned char)s[i]))
			i++;
		al = (size_t)(s + i - arg);
	}
	if (al == 0)
		return;
	if (kwl == 9 && strncasecmp(kw, "HYPERLINK", 9) == 0) {
		ex_link(r->o, arg, al, "RTF hyperlink");
		return;
	}
	for (k = 0; k < MW_ARRAY_LEN(remote); k++)
		if (kwl == strlen(remote[k]) && strncasecmp(kw, remote[k], kwl) == 0 && ex_is_url(arg, al)) {
			ex_finding(r->o, "doc.remote_content", "RTF %s field loads %.*s when the document opens",
			           remote[k], (int)(al < 120 ? al : 120), arg);
			ex_link(r->o, arg, al, "RTF field");
			return;
		}
}

/* group_end - a destination group closes */
static void group_end(rtf *r, const group *g)
{
	if (g->dest == D_FLDINST && r->text.len)
		field(r, r->text.p, r->text.len);
	else if (g->dest == D_TEMPLATE && r->text.len) {
		size_t i = 0;
		while (i < r->text.len && isspace((unsigned char)r->text.p[i]))
			i++;
		ex_finding(r->o, "doc.remote_content", "RTF template %.*s is loaded when the document opens",
		           (int)(r->text.len - i < 120 ? r->text.len - i : 120), r->text.p + i);
		ex_link(r->o, r->text.p + i, r->text.len - i, "RTF template");
	}
	if (g->dest == D_FLDINST || g->dest == D_TEMPLATE)
		buf_reset(&r->text);
	if (g->object) {
		obj_end(r);
	} else if (g->dest == D_OBJDATA) {
		/* \objdata outside any \object group: the object ends with it */
		size_t k;
		for (k = 0; k + 1 < r->depth && k < EX_RTF_DEPTH; k++)
			if (r->g[k].object)
				return;
		obj_end(r);
	}
}

/* text_char - one character of text in the current destination */
static void text_char(rtf *r, unsigned char c)
{
	group *g = r->depth && r->depth <= EX_RTF_DEPTH ? &r->g[r->depth - 1] : NULL;
	int v;

	if (g == NULL)
		return;
	switch (g->dest) {
	case D_OBJDATA:
		if (!r->obj.active)
			return; /* the object already ended (an \object group closed inside its data) */
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return;
		if (r->obj.nibble < 0) {
			r->obj.nibble = v;
		} else {
			buf_putc(&r->obj.data, r->obj.nibble << 4 | v);
			r->obj.nibble = -1;
		}
		break;
	case D_OBJCLASS:
		if (r->obj.clslen < sizeof(r->obj.cls) - 1 && c >= 0x20) {
			r->obj.cls[r->obj.clslen++] = (char)c;
			r->obj.cls[r->obj.clslen] = 0;
		}
		break;
	case D_FLDINST:
	case D_TEMPLATE:
		if (c != '\r' && c != '\n')
			buf_putc(&r->text, c);
		break;
	default: break;
	}
}

/* control - one control word */
static void control(rtf *r, const char *w, size_t wl)
{
	group *g = r->depth && r->depth <= EX_RTF_DEPTH ? &r->g[r->depth - 1] : NULL;
	int first;

	if (g == NULL)
		return;
	first = g->first_cw;
	g->first_cw = 0;
#define IS(s) (wl == sizeof(s) - 1 && memcmp(w, s, wl) == 0)
	if (IS("object")) {
		obj_start(r);
		g->object = 1;
	} else if (IS("objdata")) {
		obj_start(r);
		g->dest = D_OBJDATA;
	} else if (IS("objclass")) {
		obj_start(r);
		g->dest = D_OBJCLASS;
	} else if (IS("objautlink") || IS("objlink")) {
		obj_start(r);
		r->obj.linked = 1;
	} else if (IS("objupdate")) {
		r->obj.update = 1;
	} else if (IS("fldinst")) {
		g->dest = D_FLDINST;
		buf_reset(&r->text);
	} else if (IS("template")) {
		g->dest = D_TEMPLATE;
		buf_reset(&r->text);
	} else if (first && g->star) {
		g->dest = D_SKIP; /* an ignorable destination we do not know */
	}
#undef IS
}

/* ex_rtf - see the file header */
int ex_rtf(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	const unsigned char *s = in;
	size_t i = 0;
	rtf r;
	ex_out o;

	ex_out_init(&o, emit, lim, "RTF");
	memset(&r, 0, sizeof(r));
	r.o = &o;
	r.g = x_calloc(EX_RTF_DEPTH, sizeof(*r.g));
	buf_init(&r.text, EX_URL_MAX);
	while (i < len && !o.stop) {
		unsigned char c = s[i];

		if (c == '{') {
			if (r.depth < EX_RTF_DEPTH) {
				group *ng = &r.g[r.depth];
				/* a group continues its parent's destination */
				ng->dest = r.depth ? r.g[r.depth - 1].dest : D_NONE;
				ng->star = 0;
				ng->object = 0;
				ng->first_cw = 1;
			} else if (!r.deep++) {
				ex_limit(&o, EX_LIM_DEPTH, "groups nested deeper than %d levels were not interpreted",
				         EX_RTF_DEPTH);
			}
			r.depth++;
			i++;
		} else if (c == '}') {
			if (r.depth > 0) {
				if (r.depth <= EX_RTF_DEPTH) {
					group *g = &r.g[r.depth - 1];
					int parent_same = r.depth > 1 && r.g[r.depth - 2].dest == g->dest;
					if (!parent_same || g->object)
						group_end(&r, g);
				}
				r.depth--;
			}
			i++;
		} else if (c == '\\' && i + 1 < len) {
			unsigned char d = s[i + 1];
			if (isalpha(d)) {
				size_t st = i + 1, wl;
				long param = 0;
				int neg = 0, digits = 0;
				i = st;
				while (i < len && isalpha(s[i]) && i - st < 32)
					i++;
				wl = i - st;
				if (i < len && s[i] == '-' && i + 1 < len && isdigit(s[i + 1]))
					neg = 1, i++;
				while (i < len && isdigit(s[i]) && digits < 10)
					param = param * 10 + (s[i++] - '0'), digits++;
				if (i < len && s[i] == ' ')
					i++;
				if (wl == 3 && memcmp(s + st, "bin", 3) == 0 && digits) {
					size_t k, nb = neg ? 0 : (size_t)param;
					if (nb > len - i)
						nb = len - i;
					if (r.obj.active && r.depth && r.depth <= EX_RTF_DEPTH &&
					    r.g[r.depth - 1].dest == D_OBJDATA)
						for (k = 0; k < nb; k++)
							buf_putc(&r.obj.data, s[i + k]);
					i += nb;
					continue;
				}
				control(&r, (const char *)s + st, wl);
			} else if (d == '*') {
				if (r.depth && r.depth <= EX_RTF_DEPTH)
					r.g[r.depth - 1].star = 1;
				i += 2;
			} else if (d == '\'' && i + 3 < len && isxdigit(s[i + 2]) && isxdigit(s[i + 3])) {
				char hx[3] = {(char)s[i + 2], (char)s[i + 3], 0};
				text_char(&r, (unsigned char)strtol(hx, NULL, 16));
				i += 4;
			} else {
				if (d == '\\' || d == '{' || d == '}')
					text_char(&r, d);
				i += 2;
			}
		} else {
			text_char(&r, c);
			i++;
		}
	}
	/* unclosed groups: what is open ends with the input */
	while (r.depth > 0 && !o.stop) {
		if (r.depth <= EX_RTF_DEPTH) {
			group *g = &r.g[r.depth - 1];
			int parent_same = r.depth > 1 && r.g[r.depth - 2].dest == g->dest;
			if (!parent_same || g->object)
				group_end(&r, g);
		}
		r.depth--;
	}
	if (r.obj.active)
		obj_end(&r);
	buf_free(&r.text);
	x_free(r.g);
	return ex_out_rc(&o);
}
