/*
 * NAME
 *	ex_office.c - OOXML and ODF packages: what a document loads from
 *	elsewhere, runs by itself, or carries
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_office(zip, len, &lim, &out);
 * DESCRIPTION
 *	The package is read with libarchive's zip reader from memory, and a
 *	few members are looked at with a bounded XML attribute scan (no DOM):
 *
 *	*.rels		relationships.  An external target (TargetMode
 *			"External") is a link; one loaded when the document
 *			opens (attachedTemplate, oleObject, frame, subDocument,
 *			aFChunk, or any mhtml: / "!x-usc:" target, or
 *			an image from a UNC or file: path that leaks the user's
 *			credentials) is doc.remote_content (remote template
 *			injection, CVE-2017-0199, CVE-2022-30190).
 *	embeddings/	OLE objects (oleObject*.bin and other compound files)
 *			are read with ex_ole: Package objects give their files
 *			with their names, Equation Editor objects and links
 *			are findings.
 *	activeX/	ActiveX controls: content.active, with the class id.
 *	word/document.xml  DDE and DDEAUTO fields: content.auto_action.
 *	xl/externalLinks/  DDE links (<ddeLink ddeService=...>):
 *			content.auto_action.
 *	ODF content.xml, styles.xml  xlink:href links; objects, sections,
 *			DDE sources and table sources taken from elsewhere are
 *			doc.remote_content; <script:event-listener> binds a
 *			macro to an event: content.auto_action.
 *	ODF Basic/, Scripts/  macro modules: attach.macro.
 *
 *	Members themselves (document.xml, media, embeddings as files) are
 *	not emitted: libclamav walks every member of the package and reports
 *	it through its file-inspection callback (src/extract/README.md).
 *	VBA projects and Excel 4.0 macro sheets are the attach stage's
 *	(attach_office.c).
 * LIMITS
 *	At most max_objects members are listed (content.limits beyond); a
 *	member is read to at most ex_budget() bytes, and every byte read
 *	counts against max_decoded, so a zip bomb ends the read with
 *	content.limits.  XML scans are linear in the member.
 * DIAGNOSTICS
 *	Findings: doc.remote_content, doc.ole_object, content.active,
 *	content.auto_action, attach.macro, content.damaged (not a zip, a member
 *	that cannot be read), content.limits.
 * SEE ALSO
 *	ECMA-376 Part 2 (Open Packaging Conventions), OASIS ODF 1.2, ex_ole.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"
#include "extract/ex_ole.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct span {
	const char *p;
	size_t n;
} span;

/* ends_with - s ends with suffix, case-insensitively */
static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* xml_attr - the value of attribute name in the element [e, end) (a prefix:name matches name) */
static int xml_attr(const char *e, size_t n, const char *name, span *v)
{
	size_t nl = strlen(name), i;

	for (i = 1; i + nl + 1 < n; i++) {
		char q;
		const char *end;
		if (e[i - 1] != ' ' && e[i - 1] != '\t' && e[i - 1] != '\n' && e[i - 1] != '\r' && e[i - 1] != ':')
			continue;
		if (strncasecmp(e + i, name, nl) != 0)
			continue;
		size_t j = i + nl;
		while (j < n && isspace((unsigned char)e[j]))
			j++;
		if (j >= n || e[j] != '=')
			continue;
		j++;
		while (j < n && isspace((unsigned char)e[j]))
			j++;
		if (j >= n || (e[j] != '"' && e[j] != '\''))
			continue;
		q = e[j];
		if ((end = memchr(e + j + 1, q, n - j - 1)) == NULL)
			return 0;
		v->p = e + j + 1;
		v->n = (size_t)(end - v->p);
		return 1;
	}
	return 0;
}

/* unescape - XML character references of an attribute value into out (at most EX_URL_MAX) */
static size_t unescape(span v, char *out)
{
	static const struct {
		const char *e;
		char c;
	} ents[] = {{"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&lt;", '<'}, {"&gt;", '>'}};
	size_t i = 0, k = 0, j;

	while (i < v.n && k < EX_URL_MAX) {
		if (v.p[i] == '&') {
			if (i + 2 < v.n && v.p[i + 1] == '#') {
				unsigned long c = 0;
				int hex = v.p[i + 2] == 'x';
				size_t d = i + 2 + hex;
				while (d < v.n && d - i < 12 && isxdigit((unsigned char)v.p[d]) &&
				       (hex || isdigit((unsigned char)v.p[d])))
					c = c * (hex ? 16 : 10) +
					    (unsigned long)(isdigit((unsigned char)v.p[d])
					                        ? v.p[d] - '0'
					                        : tolower((unsigned char)v.p[d]) - 'a' + 10),
					d++;
				if (d < v.n && v.p[d] == ';') {
					out[k++] = c > 0 && c < 0x80 ? (char)c : '?';
					i = d + 1;
					continue;
				}
			}
			for (j = 0; j < MW_ARRAY_LEN(ents); j++) {
				size_t el = strlen(ents[j].e);
				if (v.n - i >= el && memcmp(v.p + i, ents[j].e, el) == 0)
					break;
			}
			if (j < MW_ARRAY_LEN(ents)) {
				out[k++] = ents[j].c;
				i += strlen(ents[j].e);
				continue;
			}
		}
		out[k++] = v.p[i++];
	}
	out[k] = 0;
	return k;
}

/* elements - call fn for each element <tag ...> in the text */
static void elements(ex_out *o, const char *s, size_t n, const char *tag, const char *member,
                     void (*fn)(ex_out *, const char *, size_t, const char *))
{
	size_t tl = strlen(tag);
	const char *p = s, *e;

	while (!o->stop && (p = memchr(p, '<', n - (size_t)(p - s))) != NULL) {
		size_t left = n - (size_t)(p - s);
		if (left > tl + 1 && strncasecmp(p + 1, tag, tl) == 0 &&
		    (isspace((unsigned char)p[1 + tl]) || p[1 + tl] == '>' || p[1 + tl] == '/')) {
			if ((e = memchr(p, '>', left)) == NULL)
				e = s + n;
			fn(o, p, (size_t)(e - p), member);
			p = e;
			continue;
		}
		p++;
	}
}

/* Relationship types whose external target is loaded when the document opens. */
static const char *const loads_on_open[] = {"attachedTemplate", "oleObject", "frame", "subDocument", "aFChunk"};

/* relationship - one <Relationship .../> */
static void relationship(ex_out *o, const char *e, size_t n, const char *member)
{
	span type, target, mode;
	char url[EX_URL_MAX + 1], ctx[96];
	const char *tail;
	size_t ul, i;
	int remote = 0, unc;

	if (!xml_attr(e, n, "Target", &target) || !xml_attr(e, n, "TargetMode", &mode) || mode.n != 8 ||
	    strncasecmp(mode.p, "External", 8) != 0)
		return;
	if (!xml_attr(e, n, "Type", &type))
		type.p = "", type.n = 0;
	tail = type.p + type.n;
	while (tail > type.p && tail[-1] != '/')
		tail--;
	ul = unescape(target, url);
	snprintf(ctx, sizeof(ctx), "OOXML %.*s relationship",
	         (int)(type.p + type.n - tail < 40 ? type.p + type.n - tail : 40), tail);
	unc = (ul > 2 && url[0] == '\\' && url[1] == '\\') || (ul > 5 && strncasecmp(url, "file:", 5) == 0);
	for (i = 0; i < MW_ARRAY_LEN(loads_on_open); i++)
		if ((size_t)(type.p + type.n - tail) == strlen(loads_on_open[i]) &&
		    strncasecmp(tail, loads_on_open[i], strlen(loads_on_open[i])) == 0)
			remote = 1;
	if (ex_memcasemem(url, ul, "mhtml:", 6) || ex_memcasemem(url, ul, "!x-usc:", 7))
		remote = 2;
	if (unc && (size_t)(type.p + type.n - tail) == 5 && strncasecmp(tail, "image", 5) == 0)
		remote = 3;
	if (remote)
		ex_finding(o, "doc.remote_content", "%s: %.*s %s %.150s when the document opens", member,
		           (int)(type.p + type.n - tail < 40 ? type.p + type.n - tail : 40), tail,
		           remote == 3   ? "(credentials sent to a UNC path) from"
		           : remote == 2 ? "(an MHTML handler) from"
		                         : "loaded from",
		           url);
	ex_link(o, url, ul, ctx);
}

/* activex - one ActiveX control part */
static void activex(ex_out *o, const char *e, size_t n, const char *member)
{
	span id;

	if (xml_attr(e, n, "classid", &id))
		ex_finding(o, "content.active", "%s: ActiveX control %.*s", member, (int)(id.n < 60 ? id.n : 60), id.p);
	else
		ex_finding(o, "content.active", "%s: ActiveX control", member);
}

/* dde_link - Excel <ddeLink ddeService= ddeTopic=> */
static void dde_link(ex_out *o, const char *e, size_t n, const char *member)
{
	span svc = {"", 0}, topic = {"", 0};

	xml_attr(e, n, "ddeService", &svc);
	xml_attr(e, n, "ddeTopic", &topic);
	ex_finding(o, "content.auto_action", "%s: DDE link runs %.*s %.*s", member, (int)(svc.n < 60 ? svc.n : 60),
	           svc.p, (int)(topic.n < 100 ? topic.n : 100), topic.p);
}

/* dde_fields - a field instruction (instrText text or fldSimple instr) that starts with DDE or DDEAUTO */
static void dde_fields(ex_out *o, const char *s, size_t n, const char *member)
{
	const char *p = s;

	while ((p = ex_memcasemem(p, n - (size_t)(p - s), "DDE", 3)) != NULL) {
		size_t left = n - (size_t)(p - s), w = left >= 7 && strncasecmp(p, "DDEAUTO", 7) == 0 ? 7 : 3;
		const char *b = p;
		while (b > s && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > s && (b[-1] == '>' || b[-1] == '"') && (left == w || !isalnum((unsigned char)p[w]))) {
			const char *end = memchr(p, '<', left);
			size_t l = end ? (size_t)(end - p) : left;
			ex_finding(o, "content.auto_action", "%s: DDE field %.*s", member, (int)(l < 150 ? l : 150), p);
			return;
		}
		p += 3;
	}
}

/* odf_href - an element with xlink:href in ODF content */
static void odf_href(ex_out *o, const char *e, size_t n, const char *member)
{
	static const char *const remote_elems[] = {"draw:object",        "draw:object-ole",     "draw:plugin",
	                                           "draw:applet",        "text:section-source", "office:dde-source",
	                                           "table:table-source", "draw:image"};
	span href;
	char url[EX_URL_MAX + 1];
	size_t ul, i, nl = 0;

	if (!xml_attr(e, n, "href", &href))
		return;
	ul = unescape(href, url);
	if (!ex_is_url(url, ul) && !(ul > 5 && strncasecmp(url, "file:", 5) == 0))
		return;
	while (1 + nl < n && !isspace((unsigned char)e[1 + nl]) && e[1 + nl] != '>' && e[1 + nl] != '/')
		nl++;
	for (i = 0; i < MW_ARRAY_LEN(remote_elems); i++)
		if (nl == strlen(remote_elems[i]) && strncasecmp(e + 1, remote_elems[i], nl) == 0) {
			if (strcmp(remote_elems[i], "draw:image") != 0 || url[0] == '\\' ||
			    strncasecmp(url, "file:", 5) == 0)
				ex_finding(o, "doc.remote_content", "%s: <%.*s> loads %.150s when the document opens",
				           member, (int)nl, e + 1, url);
			break;
		}
	ex_link(o, url, ul, "ODF link");
}

/* event_listener - ODF <script:event-listener> */
static void event_listener(ex_out *o, const char *e, size_t n, const char *member)
{
	span ev = {"", 0}, mac = {"", 0};

	xml_attr(e, n, "event-name", &ev);
	if (!xml_attr(e, n, "macro-name", &mac))
		xml_attr(e, n, "href", &mac);
	ex_finding(o, "content.auto_action", "%s: event %.*s runs macro %.*s", member, (int)(ev.n < 40 ? ev.n : 40),
	           ev.p, (int)(mac.n < 100 ? mac.n : 100), mac.p);
}

/* read_member - the current member into b (cap ex_budget()), counted against max_decoded */
static int read_member(ex_out *o, struct archive *a, mw_buf *b)
{
	char chunk[16384];
	la_ssize_t got;

	buf_init(b, ex_budget(o) ? ex_budget(o) : 1);
	while ((got = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		buf_append(b, chunk, (size_t)got);
		ex_charge(o, (size_t)got);
		if (b->truncated)
			break;
	}
	if (b->truncated)
		ex_limit(o, EX_LIM_DECODED, "a package member unpacks to more than %zu bytes", b->max);
	return got < 0 ? -1 : 0;
}

/* ex_office - see the file header */
int ex_office(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	struct archive *a;
	struct archive_entry *ent;
	size_t members = 0;
	int activex_told = 0, macro_told = 0, r;
	ex_out o;

	ex_out_init(&o, emit, lim, "package");
	if ((a = archive_read_new()) == NULL)
		return -1;
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, in, len) != ARCHIVE_OK) {
		ex_finding(&o, "content.damaged", "not a readable zip package");
		archive_read_free(a);
		return ex_out_rc(&o);
	}
	while (!o.stop && (r = archive_read_next_header(a, &ent)) != ARCHIVE_EOF) {
		const char *name;
		char member[128];
		enum { M_SKIP, M_RELS, M_EMBED, M_ACTIVEX, M_DOC, M_XLLINK, M_ODF } kind = M_SKIP;
		mw_buf b;

		if (r < ARCHIVE_WARN) {
			ex_finding(&o, "content.damaged", "package: %s",
			           archive_error_string(a) ? archive_error_string(a) : "unreadable");
			break;
		}
		if (++members > o.lim.max_objects) {
			ex_limit(&o, EX_LIM_OBJECTS, "more than %zu package members", o.lim.max_objects);
			break;
		}
		name = archive_entry_pathname(ent);
		if (name == NULL)
			continue;
		mw_printable(member, sizeof(member), name, 100, 1);
		if (ends_with(name, ".rels"))
			kind = M_RELS;
		else if (strstr(name, "/embeddings/") || (strstr(name, "oleObject") && ends_with(name, ".bin")) ||
		         (strncmp(name, "Object ", 7) == 0 && strchr(name, '/') == NULL)) /* ODF: an OLE object */
			kind = M_EMBED;
		else if (strstr(name, "/activeX/"))
			kind = M_ACTIVEX;
		else if (strcmp(name, "word/document.xml") == 0)
			kind = M_DOC;
		else if (strncmp(name, "xl/externalLinks/", 17) == 0 && ends_with(name, ".xml"))
			kind = M_XLLINK;
		else if (strcmp(name, "content.xml") == 0 || strcmp(name, "styles.xml") == 0)
			kind = M_ODF;
		if (!macro_told && (strncmp(name, "Scripts/", 8) == 0 ||
		                    (strncmp(name, "Basic/", 6) == 0 && ends_with(name, ".xml") &&
		                     !ends_with(name, "script-lc.xml") && !ends_with(name, "script-lb.xml") &&
		                     !ends_with(name, "dialog-lc.xml") && !ends_with(name, "dialog-lb.xml")))) {
			macro_told = 1;
			ex_finding(&o, "attach.macro", "OpenDocument macro module %s", member);
		}
		if (kind == M_ACTIVEX && !ends_with(name, ".xml")) {
			if (!activex_told++ && !strstr(name, ".rels"))
				ex_finding(&o, "content.active", "%s: ActiveX control", member);
			continue;
		}
		if (kind == M_SKIP)
			continue;
		if (read_member(&o, a, &b) < 0)
			ex_finding(&o, "content.damaged", "%s cannot be unpacked", member);
		switch (kind) {
		case M_RELS: elements(&o, b.p ? b.p : "", b.len, "Relationship", member, relationship); break;
		case M_EMBED:
			if (b.len >= 8 && memcmp(b.p, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
				ex_ole_run(&o, b.p, b.len, member);
			break;
		case M_ACTIVEX:
			if (!activex_told++)
				elements(&o, b.p ? b.p : "", b.len, "ax:ocx", member, activex);
			break;
		case M_DOC: dde_fields(&o, b.p ? b.p : "", b.len, member); break;
		case M_XLLINK: elements(&o, b.p ? b.p : "", b.len, "ddeLink", member, dde_link); break;
		case M_ODF: {
			const char *s = b.p ? b.p : "", *p = s;
			/* every element with an href: walk the '<' of the member */
			while (!o.stop && (p = memchr(p, '<', b.len - (size_t)(p - s))) != NULL) {
				const char *e = memchr(p, '>', b.len - (size_t)(p - s));
				size_t el = e ? (size_t)(e - p) : b.len - (size_t)(p - s);
				if (ex_memcasemem(p, el, "href", 4))
					odf_href(&o, p, el, member);
				p++;
			}
			elements(&o, s, b.len, "script:event-listener", member, event_listener);
			break;
		}
		default: break;
		}
		buf_free(&b);
	}
	archive_read_free(a);
	return ex_out_rc(&o);
}
