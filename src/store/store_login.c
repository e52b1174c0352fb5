/*
 * NAME
 *	store_login.c - failed console logins per user, kept across sessions
 * SYNOPSIS
 *	#include "store/store.h"
 *
 *	store_login_state(s, "admin", &failures, &last);
 *	store_login_failed(s, "admin", now, &failures);
 *	store_login_ok(s, "admin");
 * DESCRIPTION
 *	The serial console doubles its delay after each failed login.  Kept
 *	in the console process, that back-off started again at 1 s whenever
 *	someone hung up and reconnected; kept here, per user name typed, it
 *	survives reconnects and console restarts.  Local to this appliance
 *	(SQLite, whatever [store] backend shares the sender state).
 * LIMITS
 *	Rows older than a day are deleted on every failure, and at most
 *	LOGIN_ROWS remain (the oldest go first), so typing many user names
 *	cannot grow the table.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/store_int.h"
#include "util/util.h"

#include <string.h>

#define LOGIN_ROWS 1000

static int step_simple(mw_store *s, const char *sql, const char *user, long long a, long long b)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "login failures");
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
	else
		store_fail(s, "login failures");
	sqlite3_finalize(st);
	return rc;
}

int store_login_state(mw_store *s, const char *user, unsigned *failures, time_t *last)
{
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	*failures = 0;
	*last = 0;
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT failures, last FROM login_failures WHERE user = ?1", -1, &st, NULL) !=
	    SQLITE_OK) {
		store_fail(s, "login failures");
		goto out;
	}
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*failures = (unsigned)sqlite3_column_int64(st, 0);
		*last = (time_t)sqlite3_column_int64(st, 1);
		rc = 0;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_fail(s, "login failures");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int store_login_failed(mw_store *s, const char *user, time_t now, unsigned *failures)
{
	time_t last;
	int rc;

	if (store_login_state(s, user, failures, &last) < 0)
		return -1;
	(*failures)++;
	pthread_mutex_lock(&s->mu);
	rc = step_simple(s, "DELETE FROM login_failures WHERE last < ?2 AND ?3 = ?3 AND ?1 = ?1", user, now - 86400, 0);
	if (rc == 0)
		rc = step_simple(s, "INSERT OR REPLACE INTO login_failures(user, failures, last) VALUES(?1, ?2, ?3)",
		                 user, *failures, now);
	if (rc == 0)
		rc = step_simple(s,
		                 "DELETE FROM login_failures WHERE user IN (SELECT user FROM login_failures"
		                 " ORDER BY last DESC LIMIT -1 OFFSET ?2) AND ?3 = ?3 AND ?1 = ?1",
		                 user, LOGIN_ROWS, 0);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int store_login_ok(mw_store *s, const char *user)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = step_simple(s, "DELETE FROM login_failures WHERE user = ?1 AND ?2 = ?2 AND ?3 = ?3", user, 0, 0);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
