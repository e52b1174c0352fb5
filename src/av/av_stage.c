/*
 * NAME
 *	av_stage.c - the antivirus stage: libclamav over every decoded part
 * SYNOPSIS
 *	av_stage(scan);		(from the engine's stage table)
 * DESCRIPTION
 *	Every decoded MIME leaf is scanned as a whole, from memory (or from
 *	its spill file), whatever our own walkers later find in it: they add
 *	findings, they never decide that ClamAV need not look.  Every object
 *	libclamav unpacks inside a part is recorded in the coverage set
 *	(scan.h), so the attach stage gives ClamAV only the members it did
 *	not see.  When the MIME parser reported a problem (broken structure, a
 *	limit crossed) and no part matched, the raw message is scanned too,
 *	as a second opinion with libclamav's own mail parser, so what our
 *	parser could not take apart is still scanned; and also when phishing
 *	databases are loaded, because ClamAV runs its phishing checks on
 *	links inside its mail parser.
 * LIMITS
 *	limits.scan_time is checked before every part given to ClamAV.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"
#include "mime/mime.h"

#include <string.h>

typedef struct part_scan {
	mw_scan *st;
	const char *part, *name; /* the part id, its file name (or NULL) */
} part_scan;

/* visit - every object libclamav visits goes to the content tree (on_object), then those
 * it unpacked inside the part into the coverage set */
static void visit(void *arg, const av_object *o)
{
	part_scan *ps = arg;

	if (ps->st->on_object)
		ps->st->on_object(ps->st, ps->part, ps->name, o);
	if (o->depth >= 1 && !o->made && o->data)
		scan_cover_add_hash(ps->st, o->hash, o->len);
}

/* props - libclamav's metadata of the part, for the content tree */
static void props(void *arg, const char *json)
{
	part_scan *ps = arg;

	if (ps->st->on_props)
		ps->st->on_props(ps->st, ps->part, json);
}

/* scan_leaves - depth-first scan of every decoded leaf; returns matches found */
static int scan_leaves(mw_scan *st, const mime_part *p, int depth)
{
	size_t i, n;
	int found = 0;

	if (depth > 1000)
		return 0; /* the parser bounds depth; this guards the recursion itself */
	if (mime_part_is_leaf(p)) {
		const void *data;
		size_t len;
		int fd;
		av_result r;
		part_scan ps = {st, mime_part_id(p), mime_part_filename(p)};
		av_hooks hooks = {visit, st->on_props ? props : NULL, &ps, NULL};

		mime_part_body(p, &data, &fd, &len);
		if (len == 0)
			return 0;
		if (scan_over_budget(st, "antivirus"))
			return 0;
		if (data)
			hooks.sha256 = scan_sha256_slot(st, data, len); /* shared with the later stages */
		if (data)
			av_scan_mem_hooks(st->env->av, data, len, mime_part_id(p), &hooks, &r);
		else
			av_scan_fd_hooks(st->env->av, fd, mime_part_id(p), &hooks, &r);
		return av_record(st->verdict, &r, mime_part_id(p), NULL);
	}
	n = mime_part_nchildren(p);
	for (i = 0; i < n && !st->timed_out; i++)
		found += scan_leaves(st, mime_part_child(p, i), depth + 1);
	return found;
}

/* stage_av - libclamav over every part, then over the raw message */
void av_stage(mw_scan *st)
{
	const mw_spool *raw = msg_raw(st->msg);
	av_result r;
	int found = 0;

	if (st->env->av == NULL) {
		verdict_add(st->verdict, "av.unavailable", "", "no signature database loaded");
		return;
	}
	st->res->av_sigs = av_engine_sigs(st->env->av);
	if (st->mime && mime_root(st->mime))
		found = scan_leaves(st, mime_root(st->mime), 0);
	/* The raw message is a second opinion with libclamav's own MIME
	 * parser: needed only when ours found the structure broken or hit
	 * a limit (then our part list may not cover every byte).  What its
	 * parser takes out (a part hidden in a preamble) goes to the content
	 * tree like anything else, under "raw". */
	if (found == 0 && !scan_over_budget(st, "antivirus") &&
	    (st->mime == NULL || mime_problem_count(st->mime) > 0 || av_engine_phishing(st->env->av))) {
		part_scan ps = {st, "raw", NULL};
		av_hooks hooks = {visit, st->on_props ? props : NULL, &ps, NULL};
		if (spool_mem(raw))
			av_scan_mem_hooks(st->env->av, spool_mem(raw), spool_size(raw), "message", &hooks, &r);
		else
			av_scan_fd_hooks(st->env->av, spool_fd(raw), "message", &hooks, &r);
		av_record(st->verdict, &r, "", NULL);
	}
}
