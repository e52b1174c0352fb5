/*
 * NAME
 *	attach_stage.c - the attach engine stage: rules per attachment and
 *	per archive member, ClamAV for members, PPAP note
 * SYNOPSIS
 *	#include "attach/attach.h"
 *
 *	attach_stage(scan);		(from engine.c's stage table, after mime)
 *	attach_scan_buffer(&lim, av, tmpdir, name, type, data, len, &verdict);
 * DESCRIPTION
 *	Every MIME leaf with a file name, or with a type other than text,
 *	is judged by at_judge():
 *	  attach.rtlo		bidi/invisible code point in the name
 *	  attach.executable	dangerous extension, or active content (PE,
 *				ELF, Mach-O, script, LNK, HTA, disk image)
 *				under a name that does not say document
 *	  attach.double_ext	decoy extension or padding before it
 *	  attach.type_mismatch	name or declared type says document or
 *				picture; content is executable, script or LNK
 *	  attach.macro		macro-enabled extension (even when the file
 *				is damaged), or VBA / XLM found in OOXML or
 *				OLE2 content
 *	  attach.encrypted	encrypted Office package (OLE2
 *				EncryptedPackage), encrypted archive or member
 *	Archives (ATF_ARCHIVE) are walked (attach_archive.c); inside them
 *	active content or a dangerous name gives attach.archive_exec, and a
 *	member libclamav did not already see in the whole-part scan (the
 *	coverage set of the av stage, which runs first) goes to ClamAV
 *	(av.infected etc., with the member's part id).  An archive that
 *	cannot be read completely gives attach.incomplete; one whose own
 *	structures disagree gives attach.inconsistent.
 *
 *	PPAP: when something is encrypted, the text parts of the message are
 *	searched once for words that announce a password (password, PW:,
 *	パスワード, ...), and the attach.encrypted detail says so.
 * LIMITS
 *	See attach_archive.c; at most PPAP_TEXT_MAX bytes of each text part
 *	and PPAP_PARTS text parts are searched; MW_AV_DONE_MAX leaves are
 *	remembered as covered (further ones are scanned twice, not missed).
 * DIAGNOSTICS
 *	A spill file that cannot be written gives engine.error (tempfail).
 * SEE ALSO
 *	attach.h, engine.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PPAP_TEXT_MAX (64 * 1024)
#define PPAP_PARTS    20

/* Words that announce a password in the message text (ASCII ones matched case-insensitively). */
static const char *const ppap_words[] = {
    "password",
    "passwd",
    "pass:",
    "pw:",
    "pw :",
    "pw\xef\xbc\x9a",
    "\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89",                         /* パスワード */
    "\xef\xbe\x8a\xef\xbe\x9f\xef\xbd\xbd\xef\xbe\x9c\xef\xbd\xb0\xef\xbe\x84\xef\xbe\x9e", /* ﾊﾟｽﾜｰﾄﾞ */
    "\xe6\x9a\x97\xe8\xa8\xbc",                                                             /* 暗証 */
    "\xe8\xa7\xa3\xe5\x87\x8d",                                                             /* 解凍 */
};

/* member_scan - what at_av_scan's ClamAV call visits */
typedef struct member_scan {
	mw_scan *st;
	const char *part, *name;
} member_scan;

/* member_visit - the objects libclamav opens inside a member (an ARJ's
 * files, a stream it decompresses) go to the content tree like those of
 * the whole-part scan: names judged, archives walked by us in their turn.
 * The member itself was judged by the walk: it is passed without its
 * data, which the tree takes as "not an object to judge". */
static void member_visit(void *arg, const av_object *o)
{
	member_scan *ms = arg;
	av_object top;

	if (o->depth == 0) {
		top = *o;
		top.data = NULL;
		ms->st->on_object(ms->st, ms->part, ms->name, &top);
		return;
	}
	ms->st->on_object(ms->st, ms->part, ms->name, o);
	if (!o->made && o->data)
		scan_cover_add_hash(ms->st, o->hash, o->len);
}

/* at_av_scan - ClamAV over one piece of content; record what it found */
void at_av_scan(at_ctx *c, const at_src *src, const char *part, const char *path)
{
	av_result r;
	const char *base;

	if (c->av == NULL || src->len == 0)
		return;
	if (c->scan && scan_covered(c->scan, src->mem, src->fd, src->len))
		return; /* libclamav unpacked and scanned this very object in the whole-part scan */
	if (c->scan && c->scan->on_object) {
		member_scan ms = {c->scan, part, NULL};
		av_hooks h = {member_visit, NULL, &ms, NULL};
		/* the member's own name: the end of its display path */
		base = path ? strrchr(path, ':') : NULL;
		ms.name = base ? base + 1 : path;
		if (src->mem)
			av_scan_mem_hooks(c->av, src->mem, src->len, part, &h, &r);
		else
			av_scan_fd_hooks(c->av, src->fd, part, &h, &r);
	} else if (src->mem) {
		av_scan_mem(c->av, src->mem, src->len, part, &r);
	} else {
		av_scan_fd(c->av, src->fd, part, &r);
	}
	av_record(c->v, &r, part, path);
}

/* lower_ascii - lower-case ASCII letters of s in place */
static void lower_ascii(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] += 32;
}

/* ppap_in - 1 if a text part under p announces a password; *budget bounds the parts read */
static int ppap_in(const mime_part *p, int depth, int *budget)
{
	size_t i, n, len;
	const char *type;
	char *text;
	int hit = 0;

	if (depth > 100 || *budget <= 0)
		return 0;
	if (!mime_part_is_leaf(p)) {
		n = mime_part_nchildren(p);
		for (i = 0; i < n && !hit; i++)
			hit = ppap_in(mime_part_child(p, i), depth + 1, budget);
		return hit;
	}
	type = mime_part_type(p);
	if (strncmp(type, "text/plain", 10) != 0 && strncmp(type, "text/html", 9) != 0)
		return 0;
	(*budget)--;
	text = mime_part_text(p, PPAP_TEXT_MAX, &len);
	if (text == NULL)
		return 0;
	lower_ascii(text, len);
	for (i = 0; i < MW_ARRAY_LEN(ppap_words) && !hit; i++)
		hit = memmem(text, len, ppap_words[i], strlen(ppap_words[i])) != NULL;
	x_free(text);
	return hit;
}

/* at_ppap_note - the PPAP remark for attach.encrypted details */
const char *at_ppap_note(at_ctx *c)
{
	if (c->ppap < 0) {
		int budget = PPAP_PARTS;
		const mime_part *root = c->ppap_mime ? mime_root(c->ppap_mime) : NULL;
		c->ppap = root ? ppap_in(root, 0, &budget) : 0;
	}
	return c->ppap ? "; the message text seems to carry the password (PPAP)" : "";
}

/* true_type - the type from head and tail; zips told apart over the whole content */
static attach_type true_type(const at_src *src)
{
	unsigned char *head, tail[ATTACH_TAIL];
	ssize_t hl, tl = 0;
	attach_type t;

	if (src->len == 0)
		return AT_UNKNOWN;
	head = x_malloc(ATTACH_HEAD);
	hl = at_src_read(src, head, ATTACH_HEAD, 0);
	if (src->len >= ATTACH_TAIL)
		tl = at_src_read(src, tail, ATTACH_TAIL, src->len - ATTACH_TAIL);
	t = attach_type_detect(head, hl > 0 ? (size_t)hl : 0, tl == ATTACH_TAIL ? tail : NULL,
	                       tl == ATTACH_TAIL ? ATTACH_TAIL : 0, src->len);
	x_free(head);
	if (t == AT_ZIP)
		t = at_zip_kind(src);
	else if (t == AT_UNKNOWN && at_container_probe(src))
		t = AT_CONTAINER;
	return t;
}

/* name_rules - reasons from the name alone */
static void name_rules(at_ctx *c, unsigned nf, const attach_name_info *ni, const char *safe, const char *part,
                       int member)
{
	if (nf & ANF_BIDI)
		verdict_add(c->v, "attach.rtlo", part, "U+%04lX in name %.150s", (unsigned long)ni->bad_cp, safe);
	if (nf & ANF_DOUBLE_EXT) {
		if (ni->decoy[0])
			verdict_add(c->v, "attach.double_ext", part, ".%s hidden behind .%s%s%s: %.120s", ni->ext,
			            ni->decoy, ni->padding ? " and " : "", ni->padding ? ni->padding : "", safe);
		else
			verdict_add(c->v, "attach.double_ext", part, ".%s pushed out of sight by %s: %.120s", ni->ext,
			            ni->padding, safe);
	}
	if ((nf & ANF_EXECUTABLE) && member)
		verdict_add(c->v, "attach.archive_exec", part, "member with extension .%s: %.120s", ni->ext, safe);
	else if (nf & ANF_EXECUTABLE)
		verdict_add(c->v, "attach.executable", part, "extension .%s: %.150s", ni->ext, safe);
}

/* at_judge - see attach_int.h */
attach_type at_judge(at_ctx *c, const at_src *src, const char *name, const char *declared, const char *part, int member)
{
	attach_name_info ni;
	char safe[MW_DETAIL_MAX];
	unsigned nf = 0, fl;
	const char *what;
	attach_type t = true_type(src);

	safe[0] = '\0';
	if (name) {
		nf = attach_name_check(name, &ni);
		at_safe_name(safe, sizeof(safe), name);
		name_rules(c, nf, &ni, safe, part, member);
	}
	fl = attach_type_flags(t);
	if (name == NULL && (t == AT_HTA || t == AT_JS || t == AT_VBS || t == AT_PS1 || t == AT_BATCH))
		fl &= ~ATF_SCRIPT; /* script words in nameless text are not enough */
	if (member && (fl & ATF_ACTIVE) && !(nf & ANF_EXECUTABLE))
		verdict_add(c->v, "attach.archive_exec", part, "member is %s: %.120s", attach_type_name(t), safe);
	else if (!member && (fl & (ATF_EXEC | ATF_SCRIPT | ATF_SHORTCUT)) &&
	         ((nf & ANF_DOC_EXT) || attach_type_declared_doc(declared)))
		verdict_add(c->v, "attach.type_mismatch", part, "%s says document, content is %s: %.100s",
		            (nf & ANF_DOC_EXT) ? "name" : "declared type", attach_type_name(t), safe);
	else if (!member && (fl & ATF_ACTIVE) && !(nf & ANF_EXECUTABLE))
		verdict_add(c->v, "attach.executable", part, "content is %s: %.120s", attach_type_name(t), safe);
	if (at_office_macros(src, t, &what))
		verdict_add(c->v, "attach.macro", part, "%s: %.120s", what, safe);
	else if (nf & ANF_MACRO_EXT)
		verdict_add(c->v, "attach.macro", part, "macro-enabled extension .%s: %.120s", ni.ext, safe);
	if (t == AT_OLE2 && (at_ole2_dir_flags(src, NULL) & OLE_ENCRYPTED))
		verdict_add(c->v, "attach.encrypted", part, "encrypted Office document %.100s%s", safe,
		            at_ppap_note(c));
	if (t == AT_UNKNOWN) {
		/* ARJ: only libclamav opens it, and it says nothing of a cut or damaged one */
		char why[120];
		if (at_arj_check(src, why, sizeof(why)) == ARJ_BROKEN)
			verdict_add(c->v, "attach.incomplete", part, "ARJ archive %.100s: %s", safe[0] ? safe : part,
			            why);
	}
	return t;
}

/* judge_leaf_in_locale - see judge_leaf */
static void judge_leaf_in_locale(at_ctx *c, const char *part, const char *name, const char *declared, const at_src *src)
{
	char path[MW_DETAIL_MAX];
	attach_type t = at_judge(c, src, name, declared, part, 0);
	at_walk_rc rc;

	if (at_carves(t) && src->len > 0 && !c->stopped) {
		char safe[MW_DETAIL_MAX];
		/* the part's hash when the av stage computed it (its scan cache's key): not computed here */
		const char *sha = c->scan && src->mem ? scan_sha256_known(c->scan, src->mem, src->len) : NULL;
		at_safe_name(safe, sizeof(safe), name ? name : part);
		at_carve_part(c, src, t, part, safe, sha);
	}
	if (!(attach_type_flags(t) & ATF_ARCHIVE) || src->len == 0 || c->stopped)
		return;
	snprintf(path, sizeof(path), "%.40s", part);
	if (name) {
		char safe[MW_DETAIL_MAX];
		at_safe_name(safe, sizeof(safe), name);
		snprintf(path, sizeof(path), "%.150s", safe);
	}
	rc = at_archive_walk(c, src, t, part, path, 1);
	if (rc == AW_ERROR)
		verdict_add(c->v, "engine.error", part, "archive: cannot write temporary data");
}

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/*
 * judge_leaf - one MIME leaf: rules, then the archive walk.  libarchive converts member names to the
 * thread's locale: under "C" non-ASCII names would be lost, so the
 * thread runs in C.UTF-8 meanwhile (uselocale: this thread only).
 */
static void judge_leaf(at_ctx *c, const char *part, const char *name, const char *declared, const at_src *src)
{
	locale_t old = (locale_t)0;

	pthread_once(&utf8_once, utf8_locale_init);
	if (utf8_locale)
		old = uselocale(utf8_locale);
	judge_leaf_in_locale(c, part, name, declared, src);
	if (utf8_locale)
		uselocale(old);
}

/* binary_head - 1 if the first bytes of a leaf's decoded content are not
 * text: a NUL, or C0 controls that no text encoding uses (ISO-2022-JP's ESC,
 * tab, line and form feeds are text).  A "text/plain" part is only a label:
 * a compressed stream or an executable under it is an attachment. */
static int binary_head(const mime_part *p)
{
	unsigned char head[4096];
	const void *data;
	size_t len, n, i, ctl = 0;
	int fd;
	ssize_t r;

	mime_part_body(p, &data, &fd, &len);
	n = len < sizeof(head) ? len : sizeof(head);
	if (data != NULL) {
		memcpy(head, data, n);
	} else if (fd >= 0) {
		r = pread(fd, head, n, 0);
		if (r < 0)
			return 1; /* unreadable: judged, the walker reports it */
		n = (size_t)r;
	} else {
		return 0;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = head[i];
		if (ch == 0)
			return 1;
		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f' && ch != 0x1b) || ch == 0x7f)
			ctl++;
	}
	return ctl > 0 && ctl * 100 >= n; /* at least 1 % controls */
}

/* wants_judging - leaves with a file name, a non-text type, or a text type
 * whose content is not text */
static int wants_judging(const mime_part *p)
{
	const char *type = mime_part_type(p);

	if (mime_part_filename(p) != NULL)
		return 1;
	if (strncmp(type, "multipart/", 10) == 0 || strncmp(type, "message/", 8) == 0)
		return 0;
	return strncmp(type, "text/", 5) != 0 || binary_head(p);
}

/* walk_parts - depth-first over the MIME tree */
static void walk_parts(at_ctx *c, mw_scan *s, const mime_part *p, int depth)
{
	size_t i, n;

	if (depth > 1000)
		return; /* the parser bounds depth; this guards the recursion itself */
	if (mime_part_is_leaf(p)) {
		const void *data;
		int fd;
		at_src src;

		if (!wants_judging(p))
			return;
		mime_part_body(p, &data, &fd, &src.len);
		src.mem = data;
		src.fd = fd;
		judge_leaf(c, mime_part_id(p), mime_part_filename(p), mime_part_type(p), &src);
		return;
	}
	n = mime_part_nchildren(p);
	for (i = 0; i < n; i++)
		walk_parts(c, s, mime_part_child(p, i), depth + 1);
}

/* attach_stage - see attach.h */
int attach_stage(mw_scan *s)
{
	at_ctx c;

	if (s->mime == NULL || mime_root(s->mime) == NULL)
		return 0;
	memset(&c, 0, sizeof(c));
	c.lim = &s->env->cfg->lim;
	c.av = s->env->av;
	c.tmpdir = s->env->cfg->tmp;
	c.v = s->verdict;
	c.ppap = -1;
	c.ppap_mime = s->mime;
	c.scan = s;
	walk_parts(&c, s, mime_root(s->mime), 0);
	return 0;
}

/* walk_in_locale - attach_walk's work, in C.UTF-8 (see judge_leaf) */
static void walk_in_locale(at_ctx *c, const char *path, const char *name, const at_src *src)
{
	attach_type t = true_type(src);
	char safe[MW_DETAIL_MAX];

	at_safe_name(safe, sizeof(safe), name ? name : path);
	if (at_carves(t))
		at_carve(c, src, t, 0, path, safe, 1);
	else if ((attach_type_flags(t) & ATF_ARCHIVE) && at_archive_walk(c, src, t, path, safe, 1) == AW_ERROR)
		verdict_add(c->v, "engine.error", path, "archive: cannot write temporary data");
}

/* tree_ctx - an at_ctx for an object of the content tree of s */
static void tree_ctx(at_ctx *c, mw_scan *s)
{
	memset(c, 0, sizeof(*c));
	c->lim = &s->env->cfg->lim;
	c->av = s->env->av;
	c->tmpdir = s->env->cfg->tmp;
	c->v = s->verdict;
	c->ppap = -1;
	c->ppap_mime = s->mime;
	c->scan = s;
}

/* attach_walk - see attach.h */
void attach_walk(mw_scan *s, const char *path, const char *name, const void *mem, int fd, size_t len)
{
	at_ctx c;
	at_src src = {mem, mem ? -1 : fd, len};
	locale_t old = (locale_t)0;

	tree_ctx(&c, s);
	pthread_once(&utf8_once, utf8_locale_init);
	if (utf8_locale)
		old = uselocale(utf8_locale);
	walk_in_locale(&c, path, name, &src);
	if (utf8_locale)
		uselocale(old);
}

/* attach_is_container - see attach.h */
int attach_is_container(const void *mem, size_t len)
{
	at_src src = {mem, -1, len};

	return mem != NULL && len > 0 && at_container_probe(&src);
}

/* attach_object - see attach.h */
void attach_object(mw_scan *s, const char *path, const char *name, const char *declared, const void *mem, int fd,
                   size_t len)
{
	at_ctx c;
	at_src src = {mem, mem ? -1 : fd, len};

	tree_ctx(&c, s);
	judge_leaf(&c, path, name, declared, &src);
}

/* attach_scan_buffer - see attach.h */
int attach_scan_buffer(const mw_limits *lim, const av_engine *av, const char *tmpdir, const char *name,
                       const char *mime_type, const void *data, size_t len, mw_verdict *v)
{
	at_ctx c;
	at_src src = {data, -1, len};

	memset(&c, 0, sizeof(c));
	c.lim = lim;
	c.av = av;
	c.tmpdir = tmpdir;
	c.v = v;
	c.ppap = 0;
	judge_leaf(&c, "1", name, mime_type, &src);
	return 0;
}
