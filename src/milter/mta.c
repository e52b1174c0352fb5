/*
 * NAME
 *	mta.c - the queue id, as Postfix and Sendmail pass it
 * DESCRIPTION
 *	Both MTAs assign the queue id when MAIL FROM is accepted and pass it
 *	as the macro named "i" where their macro lists say so:
 *
 *	  Postfix   milter_mail_macros, milter_rcpt_macros and
 *		    milter_end_of_data_macros all list "i" by default (and in
 *		    the lab); ids are 10-12 hex digits (or the long form).
 *	  Sendmail  confMILTER_MACROS_ENVFROM lists "i" by default;
 *		    ENVRCPT and EOM do not (docs/sendmail.md adds it);
 *		    ids are 14 characters (e.g. 6AMK61l1014785).
 *
 *	libmilter keeps the macros of the earlier stages of a transaction,
 *	so an "i" sent with MAIL is still found at RCPT and end of message.
 *	A macro list may spell it "{i}" (Sendmail passes names as written):
 *	both spellings are tried.  The id is only used for logs, tracking
 *	and the quarantine index; NULL means the MTA was told not to send it
 *	(the log then says NOQUEUE).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "milter/mta.h"

#include <stddef.h>

const char *mta_queue_id(SMFICTX *ctx)
{
	const char *qid;

	if ((qid = smfi_getsymval(ctx, "i")) != NULL && *qid)
		return qid;
	if ((qid = smfi_getsymval(ctx, "{i}")) != NULL && *qid)
		return qid;
	return NULL;
}
