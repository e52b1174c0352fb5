/*
 * NAME
 *	mta.h - what differs between the MTAs mailwardend serves
 * DESCRIPTION
 *	Postfix and Sendmail speak the same milter protocol; the one thing
 *	the daemon reads from the MTA beyond the protocol's arguments is the
 *	queue id macro, and where it may be found is mapped here (mta.c).
 *	Everything else that differs (fail-closed setting, replies while the
 *	milter is down, re-injection of released mail, header and line
 *	limits) is MTA configuration: docs/sendmail.md.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_MILTER_MTA_H
#define MW_MILTER_MTA_H

#include <libmilter/mfapi.h>

/* mta_queue_id - the MTA's queue id for this transaction, or NULL */
const char *mta_queue_id(SMFICTX *ctx);

#endif
