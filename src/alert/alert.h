/*
 * NAME
 *	alert.h - alerts that name names: raised where Mailwarden acts,
 *	mailed (aggregated, rate-limited) to the alert address, shown on the
 *	console
 * SYNOPSIS
 *	#include "alert/alert.h"
 *
 *	Anywhere:	alert_raise(store, ALERT_FANOUT, sender, qid, "%s reached ...", ...);
 *			alert_campaign(store, verdict, sender, qid);
 *	mailwardend:	alert_worker_start(snap_cfg, &store);  ...  alert_worker_stop();
 *	Console:	alert_section(store, cfg, &row, &text);
 * DESCRIPTION
 *	alert.c is the bottom half, callable from the engine's stages: one
 *	syslog line ("ALERT kind: text") and one row in the state database's
 *	alerts table, waiting for its mail.  Nothing else happens on the
 *	message's path: no tracking query, no mail, no lock beyond the
 *	store's.  Without a store (mailwarden scan without --state) only the
 *	log line is written.
 *
 *	alert_mail.c is the top half, a thread of mailwardend: it waits
 *	alert.delay after the oldest waiting alert (so the messages of a
 *	wave are tracked and later alerts join), composes one mail for every
 *	waiting alert (alert_section per alert: what happened, the
 *	sender(s), subjects, attachment names and SHA-256, every recipient
 *	who got mail from the sender, according to tracking, and the console
 *	commands that act on it), and hands it to the privileged helper's
 *	"mail" verb ([quarantine] release_command, which bypasses the
 *	milter).  At most alert.max_per_hour mails an hour: alerts beyond
 *	wait and go out together in the next; nothing is dropped.  With no
 *	alert.address the alerts are composed and kept for the console only.
 *
 *	Kinds: ALERT_FANOUT (a sender or domain blocked for fan-out),
 *	ALERT_CAMPAIGN (mail matching a flagged campaign fingerprint),
 *	ALERT_AUTOBLOCK (a sender blocked after a malicious message),
 *	ALERT_RETRO (a delivered message matches a signature on rescan),
 *	ALERT_LOCKDOWN (lockdown switched on or raised).
 * LIMITS
 *	ALERT_MAIL_MAX alerts per mail; ALERT_MSGS messages and
 *	STORE_MSG_RCPTS recipients listed per message in an alert; the mail
 *	fits PRIV_MAX_INPUT bytes (cut with a note beyond).
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_ALERT_H
#define MW_ALERT_H

#include "verdict/verdict.h"
#include "policy/policy.h"
#include "store/store.h"
#include "util/util.h"

#define ALERT_FANOUT    "sender.fanout"
#define ALERT_CAMPAIGN  "sender.campaign"
#define ALERT_AUTOBLOCK "sender.autoblock"
#define ALERT_RETRO     "retro.av"
#define ALERT_LOCKDOWN  "policy.lockdown"

#define ALERT_MAIL_MAX 50
#define ALERT_MSGS     20

/* ---- raising (alert.c) ---- */

/*
 * alert_raise - log "ALERT kind: text" and record the alert (st may be
 * NULL: the log line only).  sender: the address (or "@domain") it is
 * about, may be ""; queue_id: the message that caused it, may be "".
 */
void alert_raise(mw_store *st, const char *kind, const char *sender, const char *queue_id, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* alert_fanout - raise ALERT_FANOUT for a sender (kind "sender") or a registrable domain (kind "domain") */
void alert_fanout(mw_store *st, const char *kind, const char *key, const char *queue_id, unsigned n, size_t window,
                  size_t block);

/* alert_campaign - raise ALERT_CAMPAIGN when v has a sender.campaign reason */
void alert_campaign(mw_store *st, const mw_verdict *v, const char *sender, const char *queue_id);

/* alert_wait - the worker's sleep: until alert_raise() or timeout_ms; 1 when woken by an alert */
int alert_wait(int timeout_ms);

/* ---- the mail (alert_mail.c) ---- */

/* alert_worker_start - the mail thread of mailwardend; cfg returns a reference, *store may be NULL for a while */
int alert_worker_start(mw_config *(*cfg)(void), mw_store **store);
void alert_worker_stop(void);

/* alert_host - the host name alerts name (system.hostname, else the kernel's) */
void alert_host(const mw_config *cfg, char *out, size_t len);

/*
 * alert_section - the full text of one alert: what happened, senders,
 * subjects, attachments and hashes, who got the mail, the console
 * commands (reads tracking; never fails: missing data is said so).
 */
void alert_section(mw_store *st, const store_alert_row *row, mw_buf *out);

/* alert_message - a whole alert mail for rows[0..n) (headers and body) into out */
void alert_message(mw_store *st, const mw_config *cfg, const store_alert_row *rows, const char *const *texts, size_t n,
                   mw_buf *out);

#endif
