/*
 * NAME
 *	store_rules.c - tunable rules and the audit trail
 * SYNOPSIS
 *	See store.h: store_rule_set(), store_rules(), store_audit*().
 * DESCRIPTION
 *	A rule is a configuration override "section.key" = value kept in the
 *	state database, so a change made on the console survives a reboot
 *	and outranks the configuration file.  Every change (rules, list
 *	edits, blocks, releases) appends who, when, the key, the old and the
 *	new value to audit; a rule change and its audit row commit together,
 *	so the trail cannot miss a change.  "" in old or new means "not set".
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/store.h"
#include "store/store_int.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

static int audit_insert(mw_store *s, time_t now, const char *who, const char *key, const char *old, const char *new_)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO audit(time, who, key, old, new) VALUES(?1, ?2, ?3, ?4, ?5)", -1, &st,
	                       NULL) != SQLITE_OK)
		return store_fail(s, "audit");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, who ? who : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, old ? old : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, new_ ? new_ : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_fail(s, "audit");
	sqlite3_finalize(st);
	return rc;
}

int sq_audit_add(mw_store *s, time_t now, const char *who, const char *key, const char *old, const char *new_)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = audit_insert(s, now, who, key, old, new_);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int sq_rule_set(mw_store *s, const char *key, const char *value, const char *who, time_t now, char *old, size_t oldlen)
{
	sqlite3_stmt *st = NULL;
	char prev[512] = "";
	int rc = -1, step;

	pthread_mutex_lock(&s->mu);
	if (store_begin(s) < 0)
		goto out;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM rules WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_text(st, 0))
		mw_strlcpy(prev, (const char *)sqlite3_column_text(st, 0), sizeof(prev));
	else if (step != SQLITE_DONE && step != SQLITE_ROW)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (value) {
		if (sqlite3_prepare_v2(s->db,
		                       "INSERT OR REPLACE INTO rules(key, value, who, time) VALUES(?1, ?2, ?3, ?4)", -1,
		                       &st, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, who ? who : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now);
	} else if (sqlite3_prepare_v2(s->db, "DELETE FROM rules WHERE key = ?1", -1, &st, NULL) != SQLITE_OK) {
		goto fail;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (audit_insert(s, now, who, key, prev, value ? value : "") < 0) {
		store_rollback(s);
		goto out;
	}
	if (store_commit(s) < 0)
		goto out;
	if (old)
		mw_strlcpy(old, prev, oldlen);
	rc = 0;
	goto out;
fail:
	store_fail(s, "rule");
	sqlite3_finalize(st);
	store_rollback(s);
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int sq_rules(mw_store *s, void (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	int n = 0, step;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM rules ORDER BY key", -1, &st, NULL) != SQLITE_OK) {
		n = store_fail(s, "rules");
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0), *v = (const char *)sqlite3_column_text(st, 1);
		char *kc = x_strdup(k ? k : ""), *vc = x_strdup(v ? v : "");
		fn(kc, vc, arg);
		x_free(kc);
		x_free(vc);
		n++;
	}
	if (step != SQLITE_DONE)
		n = store_fail(s, "rules");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void read_audit(sqlite3_stmt *st, store_audit_row *r)
{
	const unsigned char *t;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->time = (time_t)sqlite3_column_int64(st, 1);
	t = sqlite3_column_text(st, 2);
	mw_strlcpy(r->who, t ? (const char *)t : "", sizeof(r->who));
	t = sqlite3_column_text(st, 3);
	mw_strlcpy(r->key, t ? (const char *)t : "", sizeof(r->key));
	t = sqlite3_column_text(st, 4);
	mw_strlcpy(r->old, t ? (const char *)t : "", sizeof(r->old));
	t = sqlite3_column_text(st, 5);
	mw_strlcpy(r->new_, t ? (const char *)t : "", sizeof(r->new_));
}

int sq_audit(mw_store *s, size_t limit, void (*fn)(const store_audit_row *r, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	store_audit_row r;
	int n = 0, step;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT id, time, who, key, old, new FROM audit ORDER BY id DESC LIMIT ?1", -1,
	                       &st, NULL) != SQLITE_OK) {
		n = store_fail(s, "audit");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(limit ? limit : 20));
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		read_audit(st, &r);
		fn(&r, arg);
		n++;
	}
	if (step != SQLITE_DONE)
		n = store_fail(s, "audit");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return n;
}

int sq_audit_get(mw_store *s, long long id, store_audit_row *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT id, time, who, key, old, new FROM audit WHERE id = ?1", -1, &st, NULL) !=
	    SQLITE_OK) {
		store_fail(s, "audit");
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		read_audit(st, out);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_fail(s, "audit");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
