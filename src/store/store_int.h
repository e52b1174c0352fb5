/*
 * NAME
 *	store_int.h - private to src/store: the connection and helpers
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_STORE_INT_H
#define MW_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

struct mw_store {
	/* the mutex serialises every use of db and of the cached statements */
	sqlite3 *db;
	pthread_mutex_t mu;
	sqlite3_stmt *st[32];
	int depth; /* lock nesting (store.c lock/unlock) */
	store_limits lim;
	char path[4096];
	char err[600];
};

/* store_fail - record sqlite's message with what; returns -1 (caller holds mu) */
int store_fail(mw_store *s, const char *what);
/* store_exec - run SQL without results (caller holds mu) */
int store_exec(mw_store *s, const char *sql);

#endif
