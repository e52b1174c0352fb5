/*
 * NAME
 *	store_rd.h - private to src/store: the Redis connection state shared
 *	by store_redis.c (commands) and store_sync.c (thread, outbox)
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_STORE_RD_H
#define MW_STORE_RD_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <time.h>

#include "store/store_int.h"

typedef struct store_redis {
	pthread_mutex_t mu; /* the command connection c: one command (or pipeline) at a time */
	redisContext *c;
	char host[256]; /* host name or address, or the unix socket path when unix_sock */
	int port, unix_sock;
	char user[128], pass[512]; /* from the password file; never logged */
	int has_pass;
	char prefix[64], gw[64], address[160];
	unsigned connect_ms, command_ms, retry_ms, pull_s;
	time_t ttl;

	int up; /* atomic: 1 while Redis is used for every call */
	pthread_mutex_t st_mu;
	time_t down_since;
	unsigned long failures, reconciles, fallbacks;
	char last_error[200];

	pthread_t thr; /* store_sync.c: subscriber, reconnection, pulls */
	int thr_started;
	int stop; /* atomic */
	void (*on_change)(void *arg);
	void *on_change_arg;
	/* a write-through (Redis, then SQLite) holds it shared, a pull (read
	 * Redis, replace the SQLite copy) exclusively: a pull never copies a
	 * value a concurrent write is about to change over that write */
	pthread_rwlock_t wt;
	pthread_mutex_t rel_mu;
	redisContext *rel; /* the release consumer's own (blocking) connection */
} store_redis;

/* rd_new_conn - a new authenticated connection with the command time budget (NULL, why in err) */
redisContext *rd_new_conn(store_redis *rd, unsigned read_ms, char *err, size_t errlen);
/* rd_key - prefix + formatted suffix into out */
void rd_key(const store_redis *rd, char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* rd_sync_mode - let this thread use the connection while the store is marked down */
void rd_sync_mode(int on);
/* rd_start_thread / rd_stop_thread - store_sync.c */
int rd_start_thread(mw_store *s);
void rd_stop_thread(mw_store *s);

#endif
