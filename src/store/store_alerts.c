/*
 * NAME
 *	store_alerts.c - alerts, their mail and read marks; the messages an
 *	alert names
 * SYNOPSIS
 *	See store.h: store_alert_add(), store_alerts_waiting(),
 *	store_alert_mailed(), store_alerts_list(), store_alert_get(),
 *	store_alert_seen(), store_alert_set_seen(), store_track_messages().
 * DESCRIPTION
 *	An alert is a row of the alerts table: time, kind (a reason-like
 *	code: sender.fanout, sender.campaign, sender.autoblock, retro.av,
 *	policy.lockdown), the sender and queue id it concerns, a one-line
 *	summary, and once its mail went out the full text that was mailed.
 *	mailed is 0 while the alert waits for the alert mail (src/alert),
 *	the time of the mail once sent, -1 when no alert address is set.
 *	So an alert raised while the mail cannot go out (rate limit, MTA
 *	down) is never lost: it stays waiting and goes out with the next.
 *
 *	Read marks are per console user (alert_seen: who, newest id read):
 *	the console shows the alerts after that id at login.
 *
 *	store_track_messages() reads tracking rows (store_track.c's tables)
 *	with their recipients and attachments, for the alert text: who got
 *	mail from this sender, which attachment, which hash.
 * LIMITS
 *	STORE_MSG_RCPTS recipients and STORE_MSG_ATTS attachments kept per
 *	message (the totals are counted); 1000 rows per query.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/store.h"
#include "store/store_int.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

static void col(char *dst, size_t len, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	mw_strlcpy(dst, t ? (const char *)t : "", len);
}

long long store_alert_add(mw_store *s, time_t now, const char *kind, const char *sender, const char *queue_id,
                          const char *text)
{
	sqlite3_stmt *st = NULL;
	long long id = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(
	        s->db, "INSERT INTO alerts(time, kind, text, sender, queue_id, mailed) VALUES(?1, ?2, ?3, ?4, ?5, 0)",
	        -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "alert");
		goto out;
	}
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text ? text : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sender ? sender : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, queue_id ? queue_id : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(s->db);
	else
		store_fail(s, "alert");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return id;
}

static void alert_row(sqlite3_stmt *st, store_alert_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->time = (time_t)sqlite3_column_int64(st, 1);
	col(r->kind, sizeof(r->kind), st, 2);
	col(r->text, sizeof(r->text), st, 3);
	col(r->sender, sizeof(r->sender), st, 4);
	col(r->queue_id, sizeof(r->queue_id), st, 5);
	r->mailed = (time_t)sqlite3_column_int64(st, 6);
}

#define ALERT_COLS "id, time, kind, text, sender, queue_id, mailed"

/* query - run sql (one int64 bound as ?1, limit as ?2), fn per row; count or -1 */
static int query(mw_store *s, const char *sql, long long a, size_t limit,
                 void (*fn)(const store_alert_row *r, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	store_alert_row r;
	int n = 0, step;

	if (limit == 0 || limit > 1000)
		limit = 1000;
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		n = store_fail(s, "alerts");
		goto out;
	}
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		alert_row(st, &r);
		fn(&r, arg);
		n++;
	}
	if (step != SQLITE_DONE)
		n = store_fail(s, "alerts");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return n;
}

int store_alerts_waiting(mw_store *s, size_t limit, void (*fn)(const store_alert_row *r, void *arg), void *arg)
{
	return query(s, "SELECT " ALERT_COLS " FROM alerts WHERE mailed = 0 AND id > ?1 ORDER BY id LIMIT ?2", 0, limit,
	             fn, arg);
}

int store_alerts_list(mw_store *s, long long after, size_t limit, void (*fn)(const store_alert_row *r, void *arg),
                      void *arg)
{
	return query(s, "SELECT " ALERT_COLS " FROM alerts WHERE id > ?1 ORDER BY id DESC LIMIT ?2", after, limit, fn,
	             arg);
}

int store_alert_mailed(mw_store *s, long long id, time_t mailed, const char *detail)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db,
	                       detail ? "UPDATE alerts SET mailed = ?2, detail = ?3 WHERE id = ?1"
	                              : "UPDATE alerts SET mailed = ?2 WHERE id = ?1",
	                       -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "alert update");
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, mailed);
	if (detail)
		sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "alert update");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int store_alert_get(mw_store *s, long long id, store_alert_row *out, mw_buf *detail)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT " ALERT_COLS ", detail FROM alerts WHERE id = ?1", -1, &st, NULL) !=
	    SQLITE_OK) {
		store_fail(s, "alert");
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		alert_row(st, out);
		if (detail && sqlite3_column_text(st, 7))
			buf_puts(detail, (const char *)sqlite3_column_text(st, 7));
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_fail(s, "alert");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

long long store_alert_seen(mw_store *s, const char *who)
{
	sqlite3_stmt *st = NULL;
	long long id = -1;
	int step;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT last_id FROM alert_seen WHERE who = ?1", -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "alert_seen");
		goto out;
	}
	sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (step == SQLITE_DONE)
		id = 0;
	else
		store_fail(s, "alert_seen");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return id;
}

int store_alert_set_seen(mw_store *s, const char *who, long long id)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db,
	                       "INSERT INTO alert_seen(who, last_id) VALUES(?1, ?2)"
	                       " ON CONFLICT(who) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
	                       -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "alert_seen");
		goto out;
	}
	sqlite3_bind_text(st, 1, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "alert_seen");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

long store_alerts_prune(mw_store *s, time_t before)
{
	char sql[120];
	long n = -1;

	snprintf(sql, sizeof(sql), "DELETE FROM alerts WHERE time < %lld AND mailed != 0", (long long)before);
	pthread_mutex_lock(&s->mu);
	if (store_exec(s, sql) == 0)
		n = sqlite3_changes(s->db);
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* msg_children - recipients and attachments of out->id (caller holds the lock) */
static int msg_children(mw_store *s, store_msg *m)
{
	sqlite3_stmt *st = NULL;
	int step;

	if (sqlite3_prepare_v2(s->db, "SELECT rcpt FROM msg_rcpts WHERE msg = ?1 ORDER BY rowid", -1, &st, NULL) !=
	    SQLITE_OK)
		return store_fail(s, "tracking recipients");
	sqlite3_bind_int64(st, 1, m->id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (m->nrcpts < STORE_MSG_RCPTS)
			col(m->rcpts[m->nrcpts++], sizeof(m->rcpts[0]), st, 0);
		m->nrcpts_total++;
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return store_fail(s, "tracking recipients");
	if (sqlite3_prepare_v2(s->db, "SELECT name, type, sha256 FROM msg_attachments WHERE msg = ?1 ORDER BY rowid",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "tracking attachments");
	sqlite3_bind_int64(st, 1, m->id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (m->natts < STORE_MSG_ATTS) {
			store_msg_att *a = &m->atts[m->natts++];
			col(a->name, sizeof(a->name), st, 0);
			col(a->type, sizeof(a->type), st, 1);
			col(a->sha256, sizeof(a->sha256), st, 2);
		}
		m->natts_total++;
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : store_fail(s, "tracking attachments");
}

int store_track_messages(mw_store *s, const char *sender, const char *qid, const char *sha256, time_t since,
                         store_msg *out, size_t max)
{
	sqlite3_stmt *st = NULL;
	mw_buf sql;
	size_t n = 0, i;
	int step, rc = -1;

	if ((sender == NULL || *sender == 0) && (qid == NULL || *qid == 0) && (sha256 == NULL || *sha256 == 0))
		return 0;
	if (max > 1000)
		max = 1000;
	buf_init(&sql, 0);
	buf_puts(&sql, "SELECT id, time, queue_id, sender, subject, action, reasons, stage FROM messages"
	               " WHERE time >= ?4");
	if (sender && *sender == '@')
		buf_puts(&sql, " AND (sender_domain = lower(?1) OR sender_domain LIKE '%.' || lower(?1))");
	else if (sender && *sender)
		buf_puts(&sql, " AND sender = lower(?1)");
	if (qid && *qid)
		buf_puts(&sql, " AND queue_id = ?2");
	if (sha256 && *sha256)
		buf_puts(&sql, " AND id IN (SELECT msg FROM msg_attachments WHERE sha256 = lower(?3))");
	buf_puts(&sql, " ORDER BY time DESC, id DESC LIMIT ?5");
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, sql.p, -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "tracking query");
		goto out;
	}
	if (sender && *sender)
		sqlite3_bind_text(st, 1, *sender == '@' ? sender + 1 : sender, -1, SQLITE_STATIC);
	if (qid && *qid)
		sqlite3_bind_text(st, 2, qid, -1, SQLITE_STATIC);
	if (sha256 && *sha256)
		sqlite3_bind_text(st, 3, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, since);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)max);
	while (n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
		store_msg *m = &out[n++];
		memset(m, 0, sizeof(*m));
		m->id = sqlite3_column_int64(st, 0);
		m->time = (time_t)sqlite3_column_int64(st, 1);
		col(m->queue_id, sizeof(m->queue_id), st, 2);
		col(m->sender, sizeof(m->sender), st, 3);
		col(m->subject, sizeof(m->subject), st, 4);
		col(m->action, sizeof(m->action), st, 5);
		col(m->reasons, sizeof(m->reasons), st, 6);
		col(m->stage, sizeof(m->stage), st, 7);
	}
	if (n < max && step != SQLITE_DONE) {
		store_fail(s, "tracking query");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (i = 0; i < n; i++)
		if (msg_children(s, &out[i]) < 0)
			goto out;
	rc = (int)n;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	buf_free(&sql);
	return rc;
}
