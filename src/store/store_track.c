/*
 * NAME
 *	store_track.c - message tracking: who got what, instantly
 * SYNOPSIS
 *	See store.h: store_track_add(), store_track_find().
 * DESCRIPTION
 *	Every message is one row in messages, its recipients in msg_rcpts,
 *	its attachments (archive members included, with their SHA-256) in
 *	msg_attachments and the registrable domains of its links in
 *	msg_links, all inserted in one transaction.  Queries combine any
 *	criteria with AND; each criterion on a child table is an indexed
 *	sub-select, so "who received mail from X" or "which messages carried
 *	attachment H" read only the matching rows.  The subject is matched
 *	as a substring (instr), which scans the rows left after the other
 *	criteria and the time range.
 * LIMITS
 *	At most 1000 rows per query.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/store.h"
#include "store/store_int.h"
#include "util/log.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

static const char *dom_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : "";
}

/* the id of the last row this thread inserted (the outbox refers to it) */
static __thread long long last_id;

long long sq_track_last_id(mw_store *s)
{
	(void)s;
	return last_id;
}

int sq_track_add(mw_store *s, const store_track_rec *r)
{
	sqlite3_stmt *st = NULL;
	long long id;
	mw_buf rcpts;
	size_t i;
	int rc = -1;
	char dom[256];

	buf_init(&rcpts, 4000);
	for (i = 0; i < r->nrcpts; i++)
		buf_printf(&rcpts, "%s%s", i ? ", " : "", r->rcpts[i]);
	mw_strlcpy(dom, dom_of(r->sender), sizeof(dom));
	mw_lower(dom);
	pthread_mutex_lock(&s->mu);
	if (store_begin(s) < 0)
		goto out;
	if (sqlite3_prepare_v2(
	        s->db,
	        "INSERT INTO messages(time, queue_id, client, sender, sender_domain, hdr_from, subject,"
	        " rcpts, size, action, reasons, stage, quarantine_id, from_domain, spf, dkim, dmarc, auth)"
	        " VALUES(?1, ?2, ?3, lower(?4), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, lower(?14), ?15, ?16,"
	        " ?17, ?18)",
	        -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, r->time);
	sqlite3_bind_text(st, 2, r->queue_id ? r->queue_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->client ? r->client : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->sender ? r->sender : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, dom, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->hdr_from ? r->hdr_from : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->subject ? r->subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, rcpts.p, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)r->size);
	sqlite3_bind_text(st, 10, r->action ? r->action : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, r->reasons ? r->reasons : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, r->stage ? r->stage : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, r->quarantine_id ? r->quarantine_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, r->from_domain ? r->from_domain : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, r->spf ? r->spf : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, r->dkim ? r->dkim : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, r->dmarc ? r->dmarc : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, r->auth ? r->auth : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	id = sqlite3_last_insert_rowid(s->db);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO msg_rcpts(msg, rcpt) VALUES(?1, lower(?2))", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < r->nrcpts; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, r->rcpts[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO msg_attachments(msg, name, type, sha256) VALUES(?1, ?2, ?3, ?4)", -1,
	                       &st, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < r->natts; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, r->atts[i].name ? r->atts[i].name : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->atts[i].type ? r->atts[i].type : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->atts[i].sha256 ? r->atts[i].sha256 : "", -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO msg_links(msg, domain) VALUES(?1, lower(?2))", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	for (i = 0; i < r->nlinks; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, r->link_domains[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (store_commit(s) < 0)
		goto out;
	last_id = id;
	rc = 0;
	goto out;
fail:
	store_fail(s, "tracking insert");
	sqlite3_finalize(st);
	st = NULL;
	store_rollback(s);
out:
	pthread_mutex_unlock(&s->mu);
	buf_free(&rcpts);
	return rc;
}

static void col(char *dst, size_t len, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	mw_strlcpy(dst, t ? (const char *)t : "", len);
}

int sq_track_find(mw_store *s, const store_track_query *q, void (*fn)(const store_track_row *r, void *arg), void *arg)
{
	mw_buf sql;
	sqlite3_stmt *st = NULL;
	store_track_row row;
	size_t limit = q->limit ? q->limit : 100;
	int n = 0, step;

	if (limit > 1000)
		limit = 1000;
	buf_init(&sql, 0);
	buf_puts(&sql, "SELECT id, time, queue_id, client, sender, hdr_from, subject, rcpts, size, action, reasons,"
	               " stage, quarantine_id, from_domain, spf, dkim, dmarc, auth FROM messages m WHERE 1");
	if (q->sender)
		buf_puts(&sql, " AND sender = lower(?1)");
	if (q->domain)
		/* a parent at a label boundary, compared as text: LIKE would take '%' and '_' as wildcards */
		buf_puts(&sql, " AND (sender_domain = lower(?2) OR substr(sender_domain, -length(?2) - 1) = '.' ||"
		               " lower(?2))");
	if (q->rcpt)
		buf_puts(&sql, " AND id IN (SELECT msg FROM msg_rcpts WHERE rcpt = lower(?3))");
	if (q->subject)
		buf_puts(&sql, " AND instr(subject, ?4) > 0");
	if (q->sha256)
		buf_puts(&sql, " AND id IN (SELECT msg FROM msg_attachments WHERE sha256 >= lower(?5) AND sha256 <"
		               " lower(?5) || 'g')");
	if (q->name)
		buf_puts(&sql, " AND id IN (SELECT msg FROM msg_attachments WHERE instr(name, ?6) > 0)");
	if (q->link_domain)
		buf_puts(&sql, " AND id IN (SELECT msg FROM msg_links WHERE domain = lower(?7))");
	if (q->action)
		buf_puts(&sql, " AND action = ?8");
	if (q->claimed)
		buf_puts(&sql, " AND (sender_domain = lower(?12) OR sender_domain LIKE '%.' || lower(?12) OR"
		               " from_domain = lower(?12) OR from_domain LIKE '%.' || lower(?12))");
	if (q->auth)
		buf_puts(&sql, " AND auth = lower(?13)");
	if (q->since)
		buf_puts(&sql, " AND time >= ?9");
	if (q->until)
		buf_puts(&sql, " AND time < ?10");
	buf_puts(&sql, " ORDER BY time DESC, id DESC LIMIT ?11");
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, sql.p, -1, &st, NULL) != SQLITE_OK) {
		n = store_fail(s, "tracking query");
		goto out;
	}
	if (q->sender)
		sqlite3_bind_text(st, 1, q->sender, -1, SQLITE_STATIC);
	if (q->domain)
		sqlite3_bind_text(st, 2, q->domain, -1, SQLITE_STATIC);
	if (q->rcpt)
		sqlite3_bind_text(st, 3, q->rcpt, -1, SQLITE_STATIC);
	if (q->subject)
		sqlite3_bind_text(st, 4, q->subject, -1, SQLITE_STATIC);
	if (q->sha256)
		sqlite3_bind_text(st, 5, q->sha256, -1, SQLITE_STATIC);
	if (q->name)
		sqlite3_bind_text(st, 6, q->name, -1, SQLITE_STATIC);
	if (q->link_domain)
		sqlite3_bind_text(st, 7, q->link_domain, -1, SQLITE_STATIC);
	if (q->action)
		sqlite3_bind_text(st, 8, q->action, -1, SQLITE_STATIC);
	if (q->since)
		sqlite3_bind_int64(st, 9, q->since);
	if (q->until)
		sqlite3_bind_int64(st, 10, q->until);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)limit);
	if (q->claimed)
		sqlite3_bind_text(st, 12, q->claimed, -1, SQLITE_STATIC);
	if (q->auth)
		sqlite3_bind_text(st, 13, q->auth, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.id = sqlite3_column_int64(st, 0);
		row.time = (time_t)sqlite3_column_int64(st, 1);
		col(row.queue_id, sizeof(row.queue_id), st, 2);
		col(row.client, sizeof(row.client), st, 3);
		col(row.sender, sizeof(row.sender), st, 4);
		col(row.hdr_from, sizeof(row.hdr_from), st, 5);
		col(row.subject, sizeof(row.subject), st, 6);
		col(row.rcpts, sizeof(row.rcpts), st, 7);
		row.size = (size_t)sqlite3_column_int64(st, 8);
		col(row.action, sizeof(row.action), st, 9);
		col(row.reasons, sizeof(row.reasons), st, 10);
		col(row.stage, sizeof(row.stage), st, 11);
		col(row.quarantine_id, sizeof(row.quarantine_id), st, 12);
		col(row.from_domain, sizeof(row.from_domain), st, 13);
		col(row.spf, sizeof(row.spf), st, 14);
		col(row.dkim, sizeof(row.dkim), st, 15);
		col(row.dmarc, sizeof(row.dmarc), st, 16);
		col(row.auth, sizeof(row.auth), st, 17);
		fn(&row, arg);
		n++;
	}
	if (step != SQLITE_DONE)
		n = store_fail(s, "tracking query");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	buf_free(&sql);
	return n;
}

long sq_track_prune(mw_store *s, time_t before, size_t max_rows)
{
	char sql[400];
	long n = -1;

	pthread_mutex_lock(&s->mu);
	if (store_begin(s) < 0)
		goto out;
	snprintf(sql, sizeof(sql),
	         "CREATE TEMP TABLE IF NOT EXISTS gone(id INTEGER PRIMARY KEY); DELETE FROM gone;"
	         " INSERT INTO gone SELECT id FROM messages WHERE time < %lld;"
	         " INSERT OR IGNORE INTO gone SELECT id FROM messages ORDER BY id LIMIT"
	         " max((SELECT count(*) FROM messages) - %zu, 0);",
	         (long long)before, max_rows);
	if (store_exec(s, sql) < 0 ||
	    store_exec(s, "DELETE FROM msg_rcpts WHERE msg IN gone; DELETE FROM msg_attachments WHERE msg IN gone;"
	                  " DELETE FROM msg_links WHERE msg IN gone;") < 0 ||
	    store_exec(s, "DELETE FROM messages WHERE id IN gone") < 0) {
		store_rollback(s);
		goto out;
	}
	n = sqlite3_changes(s->db);
	store_exec(s, "DELETE FROM gone");
	if (store_commit(s) < 0)
		n = -1;
out:
	pthread_mutex_unlock(&s->mu);
	return n;
}

int store_alert(mw_store *s, time_t now, const char *kind, const char *text)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	log_warn("ALERT %s: %s", kind, text);
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO alerts(time, kind, text) VALUES(?1, ?2, ?3)", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "alert");
	} else {
		store_fail(s, "alert");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* load_children - the values of one column of a child table for msg id */
static char **load_children(mw_store *s, const char *sql, long long id, int ncols, size_t *n)
{
	sqlite3_stmt *st = NULL;
	char **v = NULL;
	int c;

	*n = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		v = x_realloc(v, (*n + 1) * (size_t)ncols * sizeof(*v));
		for (c = 0; c < ncols; c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			v[*n * (size_t)ncols + (size_t)c] = x_strdup(t ? (const char *)t : "");
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	return v;
}

int sq_track_load(mw_store *s, long long id, int (*fn)(mw_store *s, const store_track_rec *r))
{
	sqlite3_stmt *st = NULL;
	store_track_rec r;
	char *f[11] = {NULL};
	char **rc_ = NULL, **at = NULL, **ln = NULL;
	const char **rcpts = NULL, **links = NULL;
	store_att *atts = NULL;
	size_t nr = 0, na = 0, nl = 0, i;
	int rc = 0, found = 0;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT time, queue_id, client, sender, hdr_from, subject, action, reasons, stage,"
	                       " quarantine_id, size FROM messages WHERE id = ?1",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			found = 1;
			r.time = (time_t)sqlite3_column_int64(st, 0);
			for (i = 1; i < 10; i++) {
				const unsigned char *t = sqlite3_column_text(st, (int)i);
				f[i] = x_strdup(t ? (const char *)t : "");
			}
			r.size = (size_t)sqlite3_column_int64(st, 10);
		}
	}
	sqlite3_finalize(st);
	if (found) {
		rc_ = load_children(s, "SELECT rcpt FROM msg_rcpts WHERE msg = ?1", id, 1, &nr);
		at = load_children(s, "SELECT name, type, sha256 FROM msg_attachments WHERE msg = ?1", id, 3, &na);
		ln = load_children(s, "SELECT domain FROM msg_links WHERE msg = ?1", id, 1, &nl);
	}
	pthread_mutex_unlock(&s->mu);
	if (!found)
		return 0; /* pruned meanwhile */
	rcpts = x_calloc(nr + 1, sizeof(*rcpts));
	for (i = 0; i < nr; i++)
		rcpts[i] = rc_[i];
	atts = x_calloc(na + 1, sizeof(*atts));
	for (i = 0; i < na; i++) {
		atts[i].name = at[3 * i];
		atts[i].type = at[3 * i + 1];
		atts[i].sha256 = at[3 * i + 2];
	}
	links = x_calloc(nl + 1, sizeof(*links));
	for (i = 0; i < nl; i++)
		links[i] = ln[i];
	r.queue_id = f[1];
	r.client = f[2];
	r.sender = f[3];
	r.hdr_from = f[4];
	r.subject = f[5];
	r.action = f[6];
	r.reasons = f[7];
	r.stage = f[8];
	r.quarantine_id = f[9];
	r.rcpts = rcpts;
	r.nrcpts = nr;
	r.atts = atts;
	r.natts = na;
	r.link_domains = links;
	r.nlinks = nl;
	rc = fn(s, &r);
	for (i = 1; i < 10; i++)
		x_free(f[i]);
	for (i = 0; i < nr; i++)
		x_free(rc_[i]);
	for (i = 0; i < 3 * na; i++)
		x_free(at[i]);
	for (i = 0; i < nl; i++)
		x_free(ln[i]);
	x_free(rc_);
	x_free(at);
	x_free(ln);
	x_free(rcpts);
	x_free(atts);
	x_free(links);
	return rc;
}
