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

struct mw_store;

#include "av/av.h"
#include "engine/engine.h"
#include "policy/policy.h"

/* The daemon's shared state: read-mostly, set up before smfi_main. */
typedef struct mw_daemon {
	mw_config *cfg;  /* current configuration: read it through snap_cfg() */
	mw_lists *lists; /* current lists: read them through snap_lists() */
	av_mgr *av;
	struct mw_store *store; /* NULL while the state database cannot be opened */
	struct mw_quar *quar;   /* NULL while the quarantine cannot be opened */
} mw_daemon;

extern mw_daemon g_daemon;
extern struct smfiDesc mw_filter;

/* What the header callbacks saw that the reply must act on. */
typedef struct mw_hdrinfo {
	int forged_v, forged_r; /* X-Mailwarden-Verdict / -Reasons fields from outside */
	unsigned *ar_ours;      /* 1-based indexes among Authentication-Results fields that carry our
	                         * authserv-id (forged: only we may use it), ascending */
	size_t nar_ours;
	int leadspc; /* SMFIP_HDR_LEADSPC: field values keep their leading space, ours need one */
} mw_hdrinfo;

/* milter_reply - the one place mapping a verdict to the MTA reply */
sfsistat milter_reply(SMFICTX *ctx, const mw_msg *m, const mw_result *res, const mw_hdrinfo *h,
                      const char *quarantine_id);

/* milter_rcpt_reply - RCPT-time verdict to reply (reject or tempfail this recipient, else continue) */
sfsistat milter_rcpt_reply(SMFICTX *ctx, const mw_verdict *v);

/* daemon_env - fill env from snapshots the caller holds (cfg, lists, av) and the daemon's store */
void daemon_env(mw_env *env, const mw_config *cfg, const mw_lists *lists, av_engine *av);

/* relhelper_start - fork the root release helper (no-op unless root); it runs only these two commands */
int relhelper_start(const char *release_command, const char *release_probe);
/* relhelper_main - main() of the exec'd helper (argv: --release-helper FD COMMAND PROBE) */
int relhelper_main(int argc, char **argv);

/* snapshot.c: the current configuration and lists (see there) */
void snap_init(const char *path, const char *const *ov, size_t n, mw_config *cfg, mw_lists *lists);
mw_config *snap_cfg(void);
mw_lists *snap_lists(void);
mw_config *snap_build_config(struct mw_store *st, const char *extra, char *err, size_t errlen);
int snap_rebuild(struct mw_store *st, char *err, size_t errlen);
void snap_free(void);

/* milter_tempfail - 451 4.7.1 with a short text, for environment failures outside a verdict */
sfsistat milter_tempfail(SMFICTX *ctx, const char *why);

#endif
