/*
 * NAME
 *	content.c - the content tree: what libclamav visits, judged
 * SYNOPSIS
 *	See content.h.
 * DESCRIPTION
 *	libclamav calls the inspection callback depth first, once per
 *	object, before scanning it: the object at depth d is inside the last
 *	one reported at depth d - 1.  A stack of the types and names seen at
 *	each depth gives every object its path and its container's type.
 *	The same bytes reported twice (libclamav re-types some containers,
 *	an OOXML as a zip) are judged once: an object already in the
 *	coverage set is a repeat.
 *
 *	Metadata: libclamav's JSON (one document per scanned part, the
 *	contained objects nested in "ContainedObjects") is read with json-c,
 *	the library libclamav itself writes it with.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "content/content.h"
#include "attach/attach.h"
#include "av/av.h"
#include "links/links.h"
#include "util/log.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define CONTENT_DEPTH      24
#define CONTENT_TEXT_MAX   (4 * 1024 * 1024)
#define CONTENT_JSON_DEPTH 32

typedef struct cstate {
	char part[MW_PART_MAX]; /* the part the stack belongs to */
	char types[CONTENT_DEPTH][40];
	char names[CONTENT_DEPTH][96];
} cstate;

/* short_type - "CL_TYPE_MSEXE" -> "MSEXE" */
static const char *short_type(const char *t)
{
	return strncmp(t, "CL_TYPE_", 8) == 0 ? t + 8 : t;
}

/*
 * plain_archive - containers whose members the attach stage's walker
 * (libarchive) reads and judges itself.  Documents, mail, PDF, HTML,
 * installers and disk images are not in this list: what libclamav finds
 * in them is judged here.
 */
static int plain_archive(const char *t)
{
	static const char *const types[] = {
	    "CL_TYPE_ZIP",       "CL_TYPE_RAR",       "CL_TYPE_7Z",      "CL_TYPE_GZ",       "CL_TYPE_BZ",
	    "CL_TYPE_XZ",        "CL_TYPE_POSIX_TAR", "CL_TYPE_OLD_TAR", "CL_TYPE_CPIO_OLD", "CL_TYPE_CPIO_ODC",
	    "CL_TYPE_CPIO_NEWC", "CL_TYPE_CPIO_CRC",  "CL_TYPE_MSCAB",   "CL_TYPE_ARJ",      "CL_TYPE_LHA_LZH",
	    "CL_TYPE_ISO9660",   "CL_TYPE_ZSTD",
	};
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(types); i++)
		if (strcmp(t, types[i]) == 0)
			return 1;
	return 0;
}

/* text_type - objects whose text is searched for links: 0 no, 1 text or XML, 2 HTML */
static int text_type(const char *t)
{
	if (strncmp(t, "CL_TYPE_HTML", 12) == 0)
		return 2;
	if (strncmp(t, "CL_TYPE_TEXT_", 13) == 0 || strncmp(t, "CL_TYPE_XML", 11) == 0 || strcmp(t, "CL_TYPE_RTF") == 0)
		return 1;
	return 0;
}

/* node_path - part, then one ":name" (or ":[TYPE]") per level down to d */
static void node_path(const cstate *c, unsigned d, char *out, size_t len)
{
	char full[1024];
	size_t n = (size_t)snprintf(full, sizeof(full), "%s%s%s", c->part, c->names[0][0] ? ":" : "", c->names[0]);
	unsigned i;

	for (i = 1; i <= d && i < CONTENT_DEPTH && n < sizeof(full); i++) {
		if (c->names[i][0])
			n += (size_t)snprintf(full + n, sizeof(full) - n, ":%s", c->names[i]);
		else
			n += (size_t)snprintf(full + n, sizeof(full) - n, ":[%s]", short_type(c->types[i]));
	}
	if (strlen(full) < len) {
		mw_strlcpy(out, full, len);
	} else {
		/* keep the part id and the innermost end */
		size_t keep = len - strlen(c->part) - 5;
		snprintf(out, len, "%s:...%s", c->part, full + strlen(full) - keep);
	}
}

/* judge - the rules for one object libclamav found inside a part */
static void judge(mw_scan *st, const cstate *c, const av_object *o, const char *path)
{
	size_t hl = o->len < ATTACH_HEAD ? o->len : ATTACH_HEAD;
	const unsigned char *tail = o->len >= ATTACH_TAIL ? o->data + o->len - ATTACH_TAIL : NULL;
	attach_type t = attach_type_detect(o->data, hl, tail, tail ? ATTACH_TAIL : 0, o->len);
	unsigned fl = attach_type_flags(t);
	const char *in = short_type(c->types[o->depth - 1]);
	int named_exec = 0, tt;

	if (o->name && *o->name) {
		attach_name_info ni;
		char safe[MW_DETAIL_MAX];
		unsigned nf = attach_name_check(o->name, &ni);

		mw_printable(safe, sizeof(safe), o->name, 120, 1);
		if (nf & ANF_BIDI)
			verdict_add(st->verdict, "attach.rtlo", path, "U+%04lX in the name of an object inside %s: %s",
			            (unsigned long)ni.bad_cp, in, safe);
		if (nf & ANF_DOUBLE_EXT)
			verdict_add(st->verdict, "attach.double_ext", path, "object inside %s hides .%s: %s", in,
			            ni.ext, safe);
		if (nf & ANF_EXECUTABLE) {
			named_exec = 1;
			verdict_add(st->verdict, "content.embedded_exec", path, "file named .%s inside %s: %s", ni.ext,
			            in, safe);
		}
	}
	/* Scripts count by name only here: a PDF's JavaScript or a
	 * document's macro source is not something Windows runs on a click
	 * (content.auto_action and attach.macro judge those). */
	if (!named_exec && (fl & (ATF_EXEC | ATF_SHORTCUT | ATF_DISK)))
		verdict_add(st->verdict, "content.embedded_exec", path, "%s inside %s", attach_type_name(t), in);
	if ((tt = text_type(o->type)) != 0 && o->len <= CONTENT_TEXT_MAX)
		links_node_text(st, path, (const char *)o->data, o->len, tt == 2);
}

/* on_object - one object libclamav is about to scan inside part */
static void on_object(mw_scan *st, const char *part, const char *part_name, const av_object *o)
{
	cstate *c = st->content;
	char path[MW_PART_MAX];
	unsigned d = o->depth, i;

	if (c == NULL)
		return;
	if (strcmp(c->part, part) != 0) {
		memset(c, 0, sizeof(*c));
		mw_strlcpy(c->part, part, sizeof(c->part));
	}
	if (d < CONTENT_DEPTH) {
		mw_strlcpy(c->types[d], o->type, sizeof(c->types[d]));
		mw_printable(c->names[d], sizeof(c->names[d]), o->name ? o->name : "", 80, 1);
	}
	if (d == 0) /* the part's file name, not the id libclamav was given */
		mw_printable(c->names[0], sizeof(c->names[0]), part_name ? part_name : "", 80, 1);
	if (d == 0) {
		result_add_node(st->res, part, short_type(o->type), o->len, "mime");
		return;
	}
	if (o->made || o->data == NULL)
		return; /* libclamav's own normalised or decrypted view, not an object of the message */
	if (scan_covered_hash(st, o->hash, o->len))
		return; /* the same bytes again (a container libclamav re-typed) */
	node_path(c, d < CONTENT_DEPTH ? d : CONTENT_DEPTH - 1, path, sizeof(path));
	result_add_node(st->res, path, short_type(o->type), o->len, "clamav");
	for (i = 0; i < d && i < CONTENT_DEPTH; i++)
		if (!plain_archive(c->types[i]))
			break;
	if (i == d || d >= CONTENT_DEPTH)
		return; /* a member of plain archives only: the attach stage's walker judges it */
	judge(st, c, o, path);
}

/* jint - an integer member of a JSON object, 0 if absent */
static long long jint(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* props_walk - what libclamav's metadata says one object (and those inside it) do */
static void props_walk(mw_scan *st, const char *part, json_object *o, int depth)
{
	json_object *v, *arr;
	const char *ftype = json_object_object_get_ex(o, "FileType", &v) ? json_object_get_string(v) : "";
	size_t i, n;

	if (depth > CONTENT_JSON_DEPTH || !json_object_is_type(o, json_type_object))
		return;
	if (json_object_object_get_ex(o, "PDFStats", &v) && json_object_is_type(v, json_type_object)) {
		long long js = jint(v, "JavaScriptObjectCount"), oa = jint(v, "OpenActionCount"),
		          launch = jint(v, "LaunchCount"), flash = jint(v, "FlashObjectCount"),
		          ax = jint(v, "ActiveXObjectCount"), rich = jint(v, "RichMediaCount"),
		          xfa = jint(v, "XFACount");
		if (launch > 0)
			verdict_add(st->verdict, "content.auto_action", part,
			            "PDF with %lld Launch action(s): it can start a program", launch);
		if (js > 0 && oa > 0)
			verdict_add(st->verdict, "content.auto_action", part,
			            "PDF runs JavaScript when opened (%lld script object(s), OpenAction)", js);
		else if (js > 0 || flash > 0 || ax > 0 || rich > 0 || xfa > 0)
			verdict_add(
			    st->verdict, "content.active", part,
			    "PDF carries active content: %lld JavaScript, %lld Flash, %lld ActiveX, %lld RichMedia, "
			    "%lld XFA",
			    js, flash, ax, rich, xfa);
	}
	if (depth > 0 && json_object_object_get_ex(o, "HasMacros", &v) && json_object_get_boolean(v))
		verdict_add(st->verdict, "attach.macro", part, "macros in a %s inside the part (libclamav)",
		            short_type(ftype));
	if (json_object_object_get_ex(o, "ContainedObjects", &arr) && json_object_is_type(arr, json_type_array)) {
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++)
			props_walk(st, part, json_object_array_get_idx(arr, i), depth + 1);
	}
}

/* on_props - libclamav's metadata JSON of one scanned part */
static void on_props(mw_scan *st, const char *part, const char *json)
{
	json_tokener *tok = json_tokener_new_ex(CONTENT_JSON_DEPTH + 8);
	json_object *root;

	if (tok == NULL)
		return;
	root = json_tokener_parse_ex(tok, json, (int)strlen(json));
	if (root == NULL)
		log_debug("content: libclamav metadata of %s does not parse: %s", part,
		          json_tokener_error_desc(json_tokener_get_error(tok)));
	else
		props_walk(st, part, root, 0);
	json_object_put(root);
	json_tokener_free(tok);
}

void content_begin(mw_scan *st)
{
	st->content = x_calloc(1, sizeof(cstate));
	st->on_object = on_object;
	st->on_props = on_props;
}

void content_stage(mw_scan *st)
{
	(void)st; /* objects our own parsers extract: see src/extract */
}

void content_end(mw_scan *st)
{
	x_free(st->content);
	st->content = NULL;
	st->on_object = NULL;
	st->on_props = NULL;
}
