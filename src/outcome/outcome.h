/*
 * NAME
 *	outcome.h - what happens to a message after its verdict: tracking,
 *	quarantine and hold, release, rescans
 * SYNOPSIS
 *	#include "outcome/outcome.h"
 *
 *	outcome_store(env, msg, res, id);	(hold/quarantine: durable copy)
 *	outcome_track(env, msg, res, "eom", id);
 *	outcome_release(env, id, "console", err, len);
 *	outcome_due_holds(env);			(periodically)
 *	outcome_rescan_all(env);		(after a signature update)
 * DESCRIPTION
 *	Shared by mailwardend and the mailwarden command, so a release from
 *	the console and an automatic hold release take the same path.
 *
 *	Release: the index row is claimed (quarantined or held -> releasing)
 *	so two releases cannot both deliver; the message is decrypted and
 *	verified; [quarantine] release_command is run without a shell with
 *	"-f SENDER -- RCPT..." appended, and the original bytes, preceded by
 *	an X-Mailwarden-Released header, on its standard input; exit status
 *	0 marks the row released, anything else puts it back.
 *
 *	Holds: a due held message is rescanned with the current signatures,
 *	lists and policy (env->rescan = 1: no history is recorded and no new
 *	hold is added); it is released only when the rescan finds nothing
 *	stronger than tag and its sender is not blocked, else it stays
 *	quarantined with the new reasons.
 *
 *	Rescan on signature change: every held and quarantined message and
 *	every kept copy of delivered mail ([quarantine] retro_days) is
 *	rescanned.  A kept copy that now matches a signature raises an alert
 *	naming the message, sender, recipients and signature, and blocks the
 *	sender and flags its campaign.
 * DIAGNOSTICS
 *	Functions return -1 with a reason in err (or the log) on failure;
 *	outcome_store() failing means the adapter answers tempfail.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_OUTCOME_H
#define MW_OUTCOME_H

#include "scan/scan.h"

/*
 * How release commands are run.  The default forks and execs in this
 * process.  mailwardend, started as root, installs a runner that hands
 * the command to a small root helper forked before privileges were
 * dropped (Postfix's sendmail with a private configuration directory, as
 * in the lab, refuses non-root callers).  start() returns a handle for
 * wait(); wait() gives a waitpid()-style status.
 */
typedef struct outcome_runner {
	long (*start)(void *ctx, char *const argv[], int stdin_fd, char *err, size_t errlen); /* -1 on error */
	int (*wait)(void *ctx, long handle, int timeout_s, int *status, char *err, size_t errlen);
	void *ctx;
} outcome_runner;

#include <sys/types.h>

#define RELEASE_TIMEOUT 120 /* seconds a release command may take before it is killed */

/* outcome_spawn - fork and exec argv (no shell) with stdin_fd as standard input, output to /dev/null */
pid_t outcome_spawn(char *const argv[], int stdin_fd);
/* outcome_reap - wait for pid at most timeout_s seconds, then kill it; 0 with *status, or -1 */
int outcome_reap(pid_t pid, int timeout_s, int *status, char *err, size_t errlen);

/* outcome_set_runner - use r for every release in this process (NULL: fork and exec here) */
void outcome_set_runner(const outcome_runner *r);

/* outcome_release_argv - the argv a release runs: release_command tokens, -f SENDER -- RCPTS; -1 if unsafe */
int outcome_release_argv(const char *release_command, const char *sender, char rcpts[][321], size_t nrcpts, char **argv,
                         size_t max, char *buf, size_t buflen, char *err, size_t errlen);

/*
 * outcome_finish - the work after a verdict, the same for every door: a
 * held or quarantined message is written durably to the quarantine (if
 * that fails, quarantine.unavailable is added and the policy applied
 * again: tempfail, so the sender retries and nothing is lost); accepted
 * or tagged mail with active attachments keeps a retro-scan copy
 * ([quarantine] retro_days; best effort, not needed for the 250); the
 * message is logged in the tracking tables.  qid gets the quarantine id,
 * or "".  The adapter then logs and replies.
 */
void outcome_finish(const mw_env *env, mw_msg *m, mw_result *res, char qid[40]);

/* outcome_store - write a held or quarantined message (or a retro copy: keep=1) durably */
int outcome_store(const mw_env *env, const mw_msg *m, const mw_result *res, int keep, char id[40], char *err,
                  size_t errlen);

/* outcome_track - log the message in the tracking tables (errors are logged, not fatal) */
void outcome_track(const mw_env *env, const mw_msg *m, const mw_result *res, const char *stage, const char *quar_id);

/* outcome_track_rcpt - log a recipient refused at RCPT time */
void outcome_track_rcpt(const mw_env *env, const char *queue_id, const char *client, const char *sender,
                        const char *rcpt, const mw_verdict *v);

/* outcome_release - deliver a held or quarantined message once */
int outcome_release(const mw_env *env, const char *id, const char *who, char *err, size_t errlen);

/*
 * outcome_resolve_releases - releases cut off (a crash between claiming a
 * message and recording its release) that began before `before`: each is
 * looked for in the MTA's queue with [quarantine] release_probe.  Found:
 * the MTA has it, the row becomes released.  Not found (or no probe): it
 * may have been delivered already or never queued, so nobody decides
 * blindly: the row goes back to quarantined (a held one too: no
 * automatic second release) with a note and an alert, and `quarantine
 * release ID` sends it again.  Returns rows resolved.
 */
int outcome_resolve_releases(const mw_env *env, time_t before);

/* outcome_due_holds - rescan and release or keep every due held message; returns messages handled */
int outcome_due_holds(const mw_env *env);

/* outcome_rescan_all - rescan held, quarantined and kept mail after a signature change */
int outcome_rescan_all(const mw_env *env);

#endif
