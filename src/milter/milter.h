/*
 * NAME
 *	milter.h - mailwardend internals shared by its files
 * DESCRIPTION
 *	main.c sets up the daemon (options, configuration, antivirus,
 *	socket, privileges, reload thread); callbacks.c holds the libmilter
 *	callbacks, kept thin: they collect the envelope and the raw message
 *	into an mw_msg and make one engine_scan() call at end of message;
 *	reply.c is the one place that turns a verdict into an SMFIS_ code.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_MILTER_H
#define MW_MILTER_H

#include <libmilter/mfapi.h>

#include "av/av.h"
#include "engine/engine.h"
#include "policy/policy.h"

/* The daemon's shared state: read-mostly, set up before smfi_main. */
typedef struct mw_daemon {
	mw_config *cfg;		/* current configuration (reference held) */
	mw_lists *lists;	/* shipped lists (reference held) */
	av_mgr *av;
	struct mw_store *store;	/* NULL while the state database cannot be opened */
	struct mw_quar *quar;	/* NULL while the quarantine cannot be opened */
} mw_daemon;

extern mw_daemon g_daemon;
extern struct smfiDesc mw_filter;

/* milter_reply - the one place mapping a verdict to the MTA reply */
sfsistat milter_reply(SMFICTX *ctx, const mw_msg *m, const mw_result *res, int forged_verdict_headers,
		      int forged_reasons_headers, const char *quarantine_id);

/* milter_rcpt_reply - RCPT-time verdict to reply (reject or tempfail this recipient, else continue) */
sfsistat milter_rcpt_reply(SMFICTX *ctx, const mw_verdict *v);

/* daemon_env - fill env with the daemon's current snapshots (av must be released by the caller) */
void daemon_env(mw_env *env, const mw_config *cfg, av_engine *av);

/* milter_tempfail - 451 4.7.1 with a short text, for environment failures outside a verdict */
sfsistat milter_tempfail(SMFICTX *ctx, const char *why);

#endif
