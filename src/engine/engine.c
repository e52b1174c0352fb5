/*
 * NAME
 *	engine.c - the verdict engine: stage table, scan, JSON result
 * SYNOPSIS
 *	See engine.h.
 * DESCRIPTION
 *	engine_scan() runs the stages of stage_table[] in order over one
 *	mw_scan.  A stage may stop the pipeline (the message is too big
 *	to parse, or a temporary failure makes further work pointless); the
 *	policy stage always runs last.
 *
 *	The av stage scans every decoded leaf part from memory (or from its
 *	spill file).  When the MIME parser reported a problem (broken
 *	structure, a limit crossed) and no part matched, it also scans the
 *	raw message as a second opinion with libclamav's own mail parser, so
 *	what our parser could not take apart is still scanned; and also when
 *	phishing databases are loaded, because ClamAV runs its phishing
 *	checks on links inside its mail parser.
 * LIMITS
 *	Parsing is bounded by [limits] (see mime.h, policy.h); at most
 *	MW_RESULT_PARTS parts are listed in the result (all are scanned).
 *	limits.scan_time bounds the time of one scan: it is checked before
 *	every stage and before every part given to ClamAV; past it the scan
 *	stops with engine.timeout (tempfail by default), so the MTA gets an
 *	answer before its milter timeouts and the sender retries.  One
 *	ClamAV call is bounded by limits.av_max_scantime.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "engine/engine.h"
#include "av/av.h"
#include "attach/attach.h"
#include "auth/auth.h"
#include "content/content.h"
#include "links/links.h"
#include "mime/mime.h"
#include "sender/sender.h"

#include <stdio.h>
#include <string.h>

#define READ_CHUNK (64 * 1024)

typedef enum { STAGE_NEXT, STAGE_STOP } stage_rc;

typedef struct stage {
	const char *name;
	stage_rc (*run)(mw_scan *st);
} stage;

/* stage_size - refuse to parse what is over the size limit */
static stage_rc stage_size(mw_scan *st)
{
	if (msg_too_big(st->msg)) {
		verdict_add(st->verdict, "msg.too_big", "", "message of %zu bytes exceeds %zu", msg_size(st->msg),
		            st->env->cfg->lim.max_message_size);
		return STAGE_STOP;
	}
	return STAGE_NEXT;
}

/* stage_mime - feed the raw message to the bounded MIME parser */
static stage_rc stage_mime(mw_scan *st)
{
	const mw_spool *raw = msg_raw(st->msg);
	const void *mem = spool_mem(raw);
	size_t i, n, size = spool_size(raw);
	int rc = 0;

	st->mime = mime_parser_new(&st->env->cfg->lim.mime, st->env->cfg->tmp);
	if (mem) {
		rc = mime_parser_feed(st->mime, mem, size);
	} else {
		char *chunk = x_malloc(READ_CHUNK);
		off_t off = 0;
		while ((size_t)off < size && rc == 0) {
			ssize_t got = spool_pread(raw, chunk, READ_CHUNK, off);
			if (got <= 0) {
				rc = -1;
				break;
			}
			rc = mime_parser_feed(st->mime, chunk, (size_t)got);
			off += got;
		}
		x_free(chunk);
	}
	if (rc == 0)
		rc = mime_parser_finish(st->mime);
	if (rc < 0) {
		verdict_add(st->verdict, "engine.error", "", "MIME parse: cannot write temporary data: %m");
		return STAGE_STOP;
	}
	n = mime_problem_count(st->mime);
	for (i = 0; i < n; i++) {
		const mime_problem *p = mime_problem_get(st->mime, i);
		verdict_add(st->verdict,
		            p->kind == MIME_PROB_LIMITS   ? "mime.limits"
		            : p->kind == MIME_PROB_HIDDEN ? "mime.hidden_data"
		                                          : "mime.malformed",
		            p->part, "%s", p->detail);
	}
	return STAGE_NEXT;
}

/* stage_content - objects our own parsers extract (src/content) */
static stage_rc stage_content(mw_scan *st)
{
	content_stage(st);
	return STAGE_NEXT;
}

/* stage_av - ClamAV over every decoded part (src/av/av_stage.c); what it visits feeds the content tree */
static stage_rc stage_av(mw_scan *st)
{
	av_stage(st);
	return STAGE_NEXT;
}

/* stage_attach - true types, names, archives (members go to ClamAV), macros; then
 * the content tree again: what libclamav opened inside members (an ARJ's files) */
static stage_rc stage_attach(mw_scan *st)
{
	attach_stage(st);
	content_stage(st);
	return STAGE_NEXT;
}

/* stage_links - every link, by registrable domain */
static stage_rc stage_links(mw_scan *st)
{
	links_stage(st);
	return STAGE_NEXT;
}

/* stage_auth - SPF, DKIM, DMARC (DNS, bounded) and the identities claimed */
static stage_rc stage_auth(mw_scan *st)
{
	auth_stage(st);
	return STAGE_NEXT;
}

/* stage_sender - header senders, spoofs, campaign fingerprints */
static stage_rc stage_sender(mw_scan *st)
{
	sender_stage(st);
	return STAGE_NEXT;
}

/* stage_policy - map codes to configured actions; strongest wins */
static stage_rc stage_policy(mw_scan *st)
{
	config_apply_verdict(st->env->cfg, st->verdict);
	return STAGE_NEXT;
}

/* av runs before attach: the attach stage asks the coverage set what ClamAV saw */
static const stage stage_table[] = {
    {"size", stage_size},   {"mime", stage_mime},     {"av", stage_av},     {"content", stage_content},
    {"links", stage_links}, {"attach", stage_attach}, {"auth", stage_auth}, {"sender", stage_sender},
};

static const stage policy_stage = {"policy", stage_policy};

/* summarise - subject, From, part list for the result */
static void summarise(mw_scan *st)
{
	mw_result *res = st->res;
	const mime_part *root;
	const char *s;

	if (st->mime == NULL || (root = mime_root(st->mime)) == NULL)
		return;
	if ((s = mime_part_header(root, "subject", 0)) != NULL)
		mw_text(res->subject, sizeof(res->subject), s, sizeof(res->subject) - 4);
	if ((s = mime_part_header(root, "from", 0)) != NULL)
		mw_text(res->from, sizeof(res->from), s, sizeof(res->from) - 4);
	if ((s = mime_part_header(root, "message-id", 0)) != NULL)
		mw_text(res->message_id, sizeof(res->message_id), s, sizeof(res->message_id) - 4);
	res->nparts = mime_part_count(st->mime);
}

static void list_parts(mw_result *res, const mime_part *p, int depth)
{
	size_t i, n;

	if (depth > 1000)
		return;
	if (mime_part_is_leaf(p) && res->nparts_listed < MW_RESULT_PARTS) {
		mw_part_info *pi = &res->parts[res->nparts_listed++];
		const void *data;
		int fd;
		const char *fn = mime_part_filename(p);

		mw_strlcpy(pi->id, mime_part_id(p), sizeof(pi->id));
		mw_printable(pi->type, sizeof(pi->type), mime_part_type(p), sizeof(pi->type) - 4, 0);
		if (fn)
			mw_printable(pi->filename, sizeof(pi->filename), fn, sizeof(pi->filename) - 4, 1);
		mime_part_body(p, &data, &fd, &pi->size);
	}
	n = mime_part_nchildren(p);
	for (i = 0; i < n; i++)
		list_parts(res, mime_part_child(p, i), depth + 1);
}

/* engine_scan - the one entry point */
void engine_scan(mw_msg *m, const mw_env *env, mw_result *res)
{
	mw_scan st;
	double t0 = mw_now_ms();
	size_t i;

	memset(res, 0, sizeof(*res));
	memset(&st, 0, sizeof(st));
	st.msg = m;
	st.env = env;
	st.res = res;
	st.verdict = &res->verdict;
	verdict_init(st.verdict);
	res->size = msg_size(m);
	if (env->cfg->lim.scan_time > 0)
		st.deadline_ms = t0 + (double)env->cfg->lim.scan_time;
	content_begin(&st);
	for (i = 0; i < MW_ARRAY_LEN(stage_table); i++)
		if (scan_over_budget(&st, stage_table[i].name) || stage_table[i].run(&st) == STAGE_STOP)
			break;
	content_end(&st);
	policy_stage.run(&st);
	sender_record(&st); /* after the policy: auto-block, fingerprints, history */
	summarise(&st);
	if (st.mime && mime_root(st.mime))
		list_parts(res, mime_root(st.mime), 0);
	mime_parser_free(st.mime);
	scan_free(&st);
	links_free(st.links);
	res->verdict.elapsed_ms = mw_now_ms() - t0;
}

/* engine_rcpt - RCPT-time verdict for one recipient */
void engine_rcpt(const mw_env *env, const char *sender, const char *rcpt, const char *queue_id, mw_verdict *v)
{
	verdict_init(v);
	sender_rcpt(env, sender, rcpt, queue_id, v);
	config_apply_verdict(env->cfg, v);
}
