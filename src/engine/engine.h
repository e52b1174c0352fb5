/*
 * NAME
 *	engine.h - the one verdict entry point: the stage pipeline
 * SYNOPSIS
 *	#include "engine/engine.h"
 *
 *	engine_scan(m, &env, &res);		(one call, one verdict)
 *	engine_rcpt(&env, sender, rcpt, qid, &v);	(RCPT time)
 * DESCRIPTION
 *	Every adapter (milter, `mailwarden scan`, console `test`, fuzzers)
 *	fills an mw_msg (scan/scan.h) and calls engine_scan().  Stages run in
 *	the fixed order of the stage table in engine.c.  Stages add facts
 *	(reasons); the policy maps codes to actions.  The only network I/O
 *	is the auth stage's DNS (src/auth: bounded per lookup and per
 *	message, cached).  What happens after the verdict (quarantine,
 *	tracking, releases) is src/outcome.
 * DIAGNOSTICS
 *	engine_scan() never fails: an environment failure becomes
 *	engine.error / av.error / av.unavailable, whose default action is
 *	tempfail.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_ENGINE_H
#define MW_ENGINE_H

#include "scan/scan.h"

/*
 * engine_rcpt - the RCPT-time decision for one recipient: blocked senders,
 * free-mail to staff, fan-out (every attempt is counted, refused ones
 * too).  Fills v with reasons and the action (policy applied).
 */
void engine_rcpt(const mw_env *env, const char *sender, const char *rcpt, const char *queue_id, mw_verdict *v);

/* engine_scan - run every stage */
void engine_scan(mw_msg *m, const mw_env *env, mw_result *res);

#endif
