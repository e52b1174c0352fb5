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
#include "extract/ex_memo.h"
#include "extract/extract.h"
#include "links/links.h"
#include "mime/mime.h"
#include "util/log.h"
#include "util/spool.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CONTENT_DEPTH      24
#define CONTENT_TEXT_MAX   (4 * 1024 * 1024)
#define CONTENT_JSON_DEPTH 32

/*
 * An object to handle after libclamav's scan of a part returns (never
 * from inside its callback): an archive libclamav found in a container we
 * do not read (Q_WALK: our walker opens it too), or a file one of our
 * extractors took out of an object (Q_OBJECT: judged like an attachment,
 * scanned, and extracted from in its turn).
 */
enum { Q_WALK, Q_OBJECT };

typedef struct queued {
	int kind;
	unsigned depth; /* extraction levels above it */
	char path[MW_PART_MAX];
	char name[96];
	char hint[64]; /* a MIME type the extractor gave, or "" */
	mw_spool *data;
	struct queued *next;
} queued;

/* the stack of the part libclamav is scanning */
typedef struct cstack {
	char part[MW_PART_MAX];
	char types[CONTENT_DEPTH][40];
	char names[CONTENT_DEPTH][96];
} cstack;

typedef struct cstate {
	cstack s;
	unsigned depth;  /* extraction depth of the object being scanned (0: a MIME part) */
	int queued_scan; /* the object being scanned came from the queue, not from the MIME tree */
	queued *queue, **tail;
	queued *handled; /* the last one handled: content_stage runs again after the attach stage */
	int views_done;  /* qp_views ran */
	size_t nqueued, queued_bytes;
	int limit_told;
	ex_limits lim;
} cstate;

#define CONTENT_QUEUE_MAX 512 /* objects queued per message */

/* enqueue - copy an object for the work after the scan (see queued) */
static void enqueue(mw_scan *st, cstate *c, int kind, unsigned depth, const char *path, const char *name,
                    const char *hint, const void *data, size_t len)
{
	const mw_limits *lim = &st->env->cfg->lim;
	queued *q;

	if (c->queued_bytes + len > lim->archive_max_expanded || c->nqueued >= CONTENT_QUEUE_MAX ||
	    depth > lim->archive_max_depth) {
		if (!c->limit_told++)
			verdict_add(st->verdict, "content.limits", path,
			            "objects inside the message not all opened: more than %d, %zu bytes "
			            "(limits.archive_max_expanded) or %zu levels (limits.archive_max_depth)",
			            CONTENT_QUEUE_MAX, lim->archive_max_expanded, lim->archive_max_depth);
		return;
	}
	q = x_calloc(1, sizeof(*q));
	q->kind = kind;
	q->depth = depth;
	mw_strlcpy(q->path, path, sizeof(q->path));
	mw_printable(q->name, sizeof(q->name), name ? name : "", 80, 1);
	mw_printable(q->hint, sizeof(q->hint), hint ? hint : "", 60, 0);
	q->data = spool_new(lim->archive_member_memory, st->env->cfg->tmp);
	if (spool_write(q->data, data, len) < 0) {
		verdict_add(st->verdict, "engine.error", path, "content tree: cannot write temporary data");
		spool_free(q->data);
		x_free(q);
		return;
	}
	c->queued_bytes += len;
	c->nqueued++;
	if (c->tail == NULL)
		c->tail = &c->queue;
	*c->tail = q;
	c->tail = &q->next;
}

/* short_type - "CL_TYPE_MSEXE" -> "MSEXE" */
static const char *short_type(const char *t)
{
	return strncmp(t, "CL_TYPE_", 8) == 0 ? t + 8 : t;
}

/*
 * plain_archive - containers whose members the attach stage's walker
 * (libarchive) reads and judges itself.  Documents, mail, PDF, HTML,
 * installers and disk images are not in this list: what libclamav finds
 * in them is judged here.  Nor is ARJ: libarchive has no ARJ reader, so
 * only libclamav opens it and its members are judged here.
 */
static int plain_archive(const char *t)
{
	static const char *const types[] = {
	    "CL_TYPE_ZIP",      "CL_TYPE_RAR",      "CL_TYPE_7Z",        "CL_TYPE_GZ",
	    "CL_TYPE_BZ",       "CL_TYPE_XZ",       "CL_TYPE_POSIX_TAR", "CL_TYPE_OLD_TAR",
	    "CL_TYPE_CPIO_OLD", "CL_TYPE_CPIO_ODC", "CL_TYPE_CPIO_NEWC", "CL_TYPE_CPIO_CRC",
	    "CL_TYPE_MSCAB",    "CL_TYPE_LHA_LZH",  "CL_TYPE_ISO9660",   "CL_TYPE_ZSTD",
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
static void node_path(const cstack *c, unsigned d, char *out, size_t len)
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
static void judge(mw_scan *st, const cstack *c, const av_object *o, const char *path)
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
	/* an archive inside something we do not walk: libclamav opened it
	 * (or not), our walker opens it too, and gets what it missed; so
	 * also data of no known type that libarchive reads (an lzma or
	 * compress stream in an ARJ: libclamav does not decompress those) */
	if (((fl & ATF_ARCHIVE) && !(fl & ATF_DISK)) || (t == AT_UNKNOWN && attach_is_container(o->data, o->len)))
		enqueue(st, st->content, Q_WALK, 0, path, o->name, NULL, o->data, o->len);
}

/* the emitter's context: what our extractors find in one object */
typedef struct emit_ctx {
	mw_scan *st;
	const char *path; /* the object's path: its findings' part, its children's prefix */
	unsigned depth;   /* extraction depth of the object */
	unsigned nobj;
} emit_ctx;

static int em_object(void *ctx, const char *name, const char *type_hint, const void *data, size_t len)
{
	emit_ctx *e = ctx;
	char path[MW_PART_MAX], label[100];

	e->nobj++;
	if (name && *name)
		mw_printable(label, sizeof(label), name, 80, 1);
	else
		snprintf(label, sizeof(label), "[%u]", e->nobj);
	if (strlen(e->path) + strlen(label) + 2 <= sizeof(path))
		snprintf(path, sizeof(path), "%s:%s", e->path, label);
	else
		snprintf(path, sizeof(path), "%.40s:...:%.80s", e->path, label);
	enqueue(e->st, e->st->content, Q_OBJECT, e->depth + 1, path, name, type_hint, data, len);
	return 0;
}

static int em_link(void *ctx, const char *url, const char *context)
{
	emit_ctx *e = ctx;

	(void)context;
	links_node_url(e->st, e->path, url, strlen(url), NULL, 0);
	return 0;
}

static int em_finding(void *ctx, const char *code, const char *detail)
{
	emit_ctx *e = ctx;

	if (reason_lookup(code) == NULL) {
		log_warn("content: extractor reported an unknown code %.40s", code);
		return 0;
	}
	verdict_add(e->st->verdict, code, e->path, "%s", detail);
	return 0;
}

/*
 * The extractors' memo (ex_memo.c): the same bytes again (a replayed
 * scan, the same attachment to many recipients) are not parsed again.
 * One per process, a quarter of antivirus.scan_cache, made at the first
 * use (its size is the setting then); scan_cache = 0 turns it off.
 */
static ex_memo *memo;
static pthread_mutex_t memo_mu = PTHREAD_MUTEX_INITIALIZER;

static ex_memo *memo_get(const mw_config *cfg)
{
	ex_memo *m;

	if (cfg->av_scan_cache == 0)
		return NULL;
	pthread_mutex_lock(&memo_mu);
	if (memo == NULL)
		memo = ex_memo_new(cfg->av_scan_cache / 4);
	m = memo;
	pthread_mutex_unlock(&memo_mu);
	return m;
}

void content_memo_stats(ex_memo_stat *out)
{
	pthread_mutex_lock(&memo_mu);
	ex_memo_stats(memo, out);
	pthread_mutex_unlock(&memo_mu);
}

/* extract - our extractors over one object (see src/extract/README.md for which format goes where) */
static void extract(mw_scan *st, cstate *c, const av_object *o, const char *path)
{
	const ex_format *f = NULL;
	emit_ctx ec = {st, path, c->depth, 0};
	mw_emit out = {em_object, em_link, em_finding, &ec};
	unsigned d = o->depth;

	if (d >= 1 && d < CONTENT_DEPTH && strcmp(c->s.types[d - 1], "CL_TYPE_PDF") == 0 &&
	    strncmp(o->type, "CL_TYPE_TEXT", 12) == 0)
		f = ex_format_find("pdf"); /* a decoded PDF object stream: actions, links, files */
	else if (strncmp(o->type, "CL_TYPE_HTML", 12) == 0)
		f = ex_format_find("html");
	else
		f = ex_sniff(o->data, o->len);
	if (f && ex_memo_run(memo_get(st->env->cfg), f, o->hash, o->data, o->len, &c->lim, &out) < 0)
		verdict_add(st->verdict, "engine.error", path, "content tree: the %s extractor failed", f->name);
}

/* on_object - one object libclamav is about to scan inside part */
static void on_object(mw_scan *st, const char *part, const char *part_name, const av_object *o)
{
	cstate *c = st->content;
	cstack *k;
	char path[MW_PART_MAX], base[MW_PART_MAX];
	unsigned d = o->depth, i;
	int tt;

	if (c == NULL)
		return;
	k = &c->s;
	if (strcmp(k->part, part) != 0) {
		memset(k, 0, sizeof(*k));
		mw_strlcpy(k->part, part, sizeof(k->part));
	}
	if (d < CONTENT_DEPTH) {
		mw_strlcpy(k->types[d], o->type, sizeof(k->types[d]));
		mw_printable(k->names[d], sizeof(k->names[d]), o->name ? o->name : "", 80, 1);
	}
	if (d == 0) /* the part's file name, not the id libclamav was given */
		mw_printable(k->names[0], sizeof(k->names[0]), part_name ? part_name : "", 80, 1);
	if (o->made || o->data == NULL)
		return; /* libclamav's own normalised or decrypted view, not an object of the message */
	if (d == 0) {
		result_add_node(st->res, part, short_type(o->type), o->len, c->queued_scan ? "extract" : "mime");
		/* a part's own findings carry its id; its children are named under its file name */
		node_path(k, 0, base, sizeof(base));
		if (c->queued_scan && (tt = text_type(o->type)) != 0 && o->len <= CONTENT_TEXT_MAX)
			links_node_text(st, part, (const char *)o->data, o->len, tt == 2);
		extract(st, c, o, c->queued_scan ? part : base);
		return;
	}
	if (scan_covered_hash(st, o->hash, o->len))
		return; /* the same bytes again (a container libclamav re-typed) */
	node_path(k, d < CONTENT_DEPTH ? d : CONTENT_DEPTH - 1, path, sizeof(path));
	result_add_node(st->res, path, short_type(o->type), o->len, "clamav");
	extract(st, c, o, path);
	for (i = 0; i < d && i < CONTENT_DEPTH; i++)
		if (!plain_archive(k->types[i]))
			break;
	if (i == d || d >= CONTENT_DEPTH)
		return; /* a member of plain archives only: the attach stage's walker judges it */
	judge(st, k, o, path);
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
	cstate *c = x_calloc(1, sizeof(cstate));

	config_extract_limits(st->env->cfg, &c->lim);
	st->content = c;
	st->on_object = on_object;
	st->on_props = on_props;
}

/* scan_visit - what libclamav visits in a queued object: coverage, then the tree */
typedef struct qscan {
	mw_scan *st;
	const queued *q;
} qscan;

static void qscan_visit(void *arg, const av_object *o)
{
	qscan *x = arg;

	on_object(x->st, x->q->path, x->q->name[0] ? x->q->name : NULL, o);
	if (o->depth >= 1 && !o->made && o->data)
		scan_cover_add_hash(x->st, o->hash, o->len);
}

static void qscan_props(void *arg, const char *json)
{
	qscan *x = arg;

	on_props(x->st, x->q->path, json);
}

/* handle - one queued object */
static void handle(mw_scan *st, cstate *c, const queued *q)
{
	const void *mem = spool_mem(q->data);
	int fd = spool_fd(q->data);
	size_t len = spool_size(q->data);
	qscan x = {st, q};
	av_hooks h = {qscan_visit, qscan_props, &x, NULL};
	av_result r;

	if (q->kind == Q_WALK) {
		attach_walk(st, q->path, q->name[0] ? q->name : NULL, mem, fd, len);
		return;
	}
	/* a file one of our extractors took out: the attachment rules, ClamAV, and our extractors again */
	attach_object(st, q->path, q->name[0] ? q->name : NULL, q->hint[0] ? q->hint : NULL, mem, fd, len);
	if (st->env->av == NULL || len == 0 || scan_covered(st, mem, fd, len))
		return;
	c->depth = q->depth;
	c->queued_scan = 1;
	if (mem)
		av_scan_mem_hooks(st->env->av, mem, len, q->path, &h, &r);
	else
		av_scan_fd_hooks(st->env->av, fd, q->path, &h, &r);
	c->queued_scan = 0;
	c->depth = 0;
	av_record(st->verdict, &r, q->path, NULL);
}

/*
 * qp_views - binary content sent quoted-printable with hard line breaks:
 * RFC 2045 makes each break CRLF, but readers that write the platform's
 * newline give the file with LF.  The other view goes into the tree too.
 */
static void qp_views(mw_scan *st, cstate *c, const mime_part *p, int depth)
{
	size_t i, n, len, j, k;
	const void *data;
	int fd;

	if (depth > 1000)
		return;
	if (!mime_part_is_leaf(p)) {
		n = mime_part_nchildren(p);
		for (i = 0; i < n; i++)
			qp_views(st, c, mime_part_child(p, i), depth + 1);
		return;
	}
	if (strcmp(mime_part_encoding(p), "quoted-printable") != 0 || strncmp(mime_part_type(p), "text/", 5) == 0 ||
	    strncmp(mime_part_type(p), "message/", 8) == 0)
		return;
	mime_part_body(p, &data, &fd, &len);
	if (data == NULL || len < 2 || memmem(data, len, "\r\n", 2) == NULL)
		return; /* spilled parts (over limits.part_memory) keep the one view */
	{
		const unsigned char *s = data;
		unsigned char *lf = x_malloc(len);
		char path[MW_PART_MAX];
		for (j = 0, k = 0; j < len; j++)
			if (!(s[j] == '\r' && j + 1 < len && s[j + 1] == '\n'))
				lf[k++] = s[j];
		snprintf(path, sizeof(path), "%s:[LF line breaks]", mime_part_id(p));
		enqueue(st, c, Q_OBJECT, 1, path, mime_part_filename(p), mime_part_type(p), lf, k);
		x_free(lf);
	}
}

void content_stage(mw_scan *st)
{
	cstate *c = st->content;
	queued *q;

	if (c == NULL)
		return;
	if (st->mime && mime_root(st->mime) && !c->views_done++)
		qp_views(st, c, mime_root(st->mime), 0);
	/* the queue grows while it is handled (objects inside objects): bounded by enqueue();
	 * a later run (after the attach stage) goes on from the last one handled */
	for (q = c->handled ? c->handled->next : c->queue; q && !scan_over_budget(st, "content"); q = q->next) {
		handle(st, c, q);
		c->handled = q;
	}
}

void content_end(mw_scan *st)
{
	cstate *c = st->content;

	if (c) {
		queued *q = c->queue, *n;
		for (; q; q = n) {
			n = q->next;
			spool_free(q->data);
			x_free(q);
		}
	}
	x_free(st->content);
	st->content = NULL;
	st->on_object = NULL;
	st->on_props = NULL;
}
