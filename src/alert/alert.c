/*
 * NAME
 *	alert.c - raise an alert: a log line and a row waiting for its mail
 * SYNOPSIS
 *	alert_raise(store, ALERT_AUTOBLOCK, sender, qid, "sender %s auto-blocked for %s", ...);
 * DESCRIPTION
 *	Called where Mailwarden acts (sender.c, outcome.c, the control
 *	server), on the message's path, so it does the least: format the
 *	summary, log it, insert one row, wake the mail thread.  A failure to
 *	record is logged, never passed up: an alert must not change a
 *	verdict.  See alert.h.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "alert/alert.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv = PTHREAD_COND_INITIALIZER;
static int woken;

void alert_raise(mw_store *st, const char *kind, const char *sender, const char *queue_id, const char *fmt, ...)
{
	char text[1200], shown[1300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_warn("ALERT %s: %s", kind, mw_text(shown, sizeof(shown), text, sizeof(text)));
	if (st == NULL)
		return;
	if (store_alert_add(st, time(NULL), kind, sender ? sender : "", queue_id ? queue_id : "", text) < 0) {
		log_err("alert %s not recorded: %s", kind, store_error(st));
		return;
	}
	pthread_mutex_lock(&wake_mu);
	woken = 1;
	pthread_cond_signal(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
}

void alert_fanout(mw_store *st, const char *kind, const char *key, const char *queue_id, unsigned n, size_t window,
                  size_t block)
{
	char who[330];

	snprintf(who, sizeof(who), "%s%s", strcmp(kind, "domain") == 0 ? "@" : "", key);
	alert_raise(st, ALERT_FANOUT, who, queue_id,
	            "%s %s reached %u distinct internal recipients within %zus: refused and blocked for %zus", kind,
	            key, n, window, block);
}

void alert_campaign(mw_store *st, const mw_verdict *v, const char *sender, const char *queue_id)
{
	size_t i;

	for (i = 0; i < v->nreasons; i++)
		if (strcmp(v->reasons[i].code, "sender.campaign") == 0) {
			alert_raise(st, ALERT_CAMPAIGN, sender, queue_id, "message %s from %s matches a campaign: %s",
			            queue_id && *queue_id ? queue_id : "(no queue id)", sender, v->reasons[i].detail);
			return;
		}
}

int alert_wait(int timeout_ms)
{
	struct timespec ts;
	int got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&wake_mu);
	while (!woken)
		if (pthread_cond_timedwait(&wake_cv, &wake_mu, &ts) == ETIMEDOUT)
			break;
	got = woken;
	woken = 0;
	pthread_mutex_unlock(&wake_mu);
	return got;
}
