/*
 * store_bench.c - the state database under load, measured in one run:
 *
 *   store_bench DIR [SENDERS] [SOAK] [TRACK_ROWS] [QUAR]
 *
 *   1. RCPT-time decisions (engine_rcpt: record the attempt, count the
 *      fan-out window, look up blocks, free-mail) with SENDERS (100,000)
 *      senders already in the store: p50/p95/p99 per decision;
 *   2. a soak of SOAK (100,000) messages from distinct senders through
 *      the RCPT path and the history recorder with store_max_rows = 20,000
 *      and hourly pruning simulated every 10,000 messages: rows stay
 *      within the cap;
 *   3. quarantine writes (encrypt, fsync, rename, fsync dir, index) of a
 *      20 KB message: writes per second over QUAR (500) writes;
 *   4. tracking queries on TRACK_ROWS (1,000,000) logged messages: by
 *      sender, recipient, attachment hash, subject text, domain + time.
 * Prints a table; DIR is emptied first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sqlite3.h>

#include "engine/engine.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "sender/sender.h"
#include "store/quarantine.h"
#include "store/store.h"
#include "util/spool.h"
#include "util/util.h"

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	return v[(size_t)((double)(n - 1) * p)];
}

static mw_config *cfg_for(const char *dir, const char *rows)
{
	char ov_state[600], ov_rows[100], err[512];
	const char *ov[] = {ov_state, "domains.protected=example.com", "domains.public=info@example.com", ov_rows,
	                    "sender.fanout_threshold=5"};
	mw_config *c;

	snprintf(ov_state, sizeof(ov_state), "paths.state=%s", dir);
	snprintf(ov_rows, sizeof(ov_rows), "sender.store_max_rows=%s", rows);
	if (config_load(NULL, ov, MW_ARRAY_LEN(ov), &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		exit(1);
	}
	return c;
}

static mw_store *open_store(const char *dir, size_t rows)
{
	store_limits lim = {rows, 5000};
	char err[512];
	mw_store *s;

	if (store_open(dir, &lim, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "store: %s\n", err);
		exit(1);
	}
	return s;
}

/* populate - n senders with history, 3 recipients each, via SQL in one transaction */
static void populate(const char *dir, long n, time_t now)
{
	char path[600], sql[1200];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/mailwarden.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	snprintf(sql, sizeof(sql),
	         "BEGIN;"
	         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
	         " INSERT OR IGNORE INTO senders SELECT 'sender' || i || '@bulk' || (i %% 997) || '.example', %lld, "
	         "%lld, 1 FROM n;"
	         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
	         " INSERT OR IGNORE INTO rcpts SELECT 'sender' || (i / 3) || '@bulk' || ((i / 3) %% 997) || '.example',"
	         " 'staff' || (i %% 3) || '@example.com', %lld FROM n;"
	         "COMMIT;",
	         n, (long long)now - 100, (long long)now - 100, n * 3, (long long)now - 100);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "populate: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_close(db);
}

/* populate_track - n tracked messages (1 recipient, 1 attachment, 1 link each) */
static void populate_track(const char *dir, long n, time_t now)
{
	char path[600], sql[3000];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/mailwarden.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	snprintf(sql, sizeof(sql),
	         "BEGIN;"
	         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)"
	         " INSERT INTO messages(id, time, queue_id, client, sender, sender_domain, hdr_from, subject, rcpts,"
	         " size, action, reasons, stage, quarantine_id) SELECT i, %lld - (i %% 2592000), 'Q' || i, '192.0.2.1',"
	         " 'user' || (i %% 50000) || '@d' || (i %% 5000) || '.example', 'd' || (i %% 5000) || '.example', '',"
	         " '月次報告 第' || i || '号 ' || (i %% 1000), 'staff' || (i %% 2000) || '@example.com', 2048,"
	         " CASE WHEN i %% 10 = 0 THEN 'reject' ELSE 'accept' END, 'none', 'eom', '' FROM n;"
	         "INSERT INTO msg_rcpts SELECT id, rcpts FROM messages;"
	         "INSERT INTO msg_attachments SELECT id, 'report' || (id %% 100) || '.pdf', 'pdf',"
	         " printf('%%08x%%056x', (id * 2654435761) %% 4294967291, id) FROM messages;"
	         "INSERT INTO msg_links SELECT id, 'link' || (id %% 3000) || '.example' FROM messages;"
	         "COMMIT;",
	         n, (long long)now);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "populate_track: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_close(db);
}

static void count_row(const store_track_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
}

static double now_ms(void)
{
	return mw_now_ms();
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp/mw-store-bench";
	long senders = argc > 2 ? atol(argv[2]) : 100000, soak = argc > 3 ? atol(argv[3]) : 100000;
	long track_rows = argc > 4 ? atol(argv[4]) : 1000000, nquar = argc > 5 ? atol(argv[5]) : 500;
	char cmd[700], err[512], key[100];
	time_t now = time(NULL);
	mw_config *cfg;
	mw_lists *lists = lists_new();
	mw_store *st;
	mw_env env;
	mw_verdict v;
	double *t;
	long i;
	size_t n = 20000;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd) != 0)
		return 1;
	lists_add(lists, "freemail", "yahoo.co.jp");
	lists_add(lists, "freemail", "gmail.com");

	/* 1. RCPT decisions with `senders` senders in the store */
	cfg = cfg_for(dir, "1000000");
	st = open_store(dir, 1000000);
	populate(dir, senders, now);
	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.lists = lists;
	env.store = st;
	env.store_required = 1;
	t = x_calloc(n, sizeof(*t));
	srand(7);
	for (i = 0; i < (long)n; i++) {
		char sender[100], rcpt[100];
		long k = rand() % senders;
		double t0;
		snprintf(sender, sizeof(sender), "sender%ld@bulk%ld.example", k, k % 997);
		snprintf(rcpt, sizeof(rcpt), "staff%ld@example.com", (long)(rand() % 3));
		t0 = now_ms();
		engine_rcpt(&env, sender, rcpt, NULL, &v);
		t[i] = now_ms() - t0;
	}
	qsort(t, n, sizeof(*t), cmp_d);
	printf("| RCPT decision, %ld senders in the store | p50 %.3f ms | p95 %.3f ms | p99 %.3f ms |\n", senders,
	       pct(t, n, 0.50), pct(t, n, 0.95), pct(t, n, 0.99));
	store_close(st);
	config_unref(cfg);

	/* 2. soak: `soak` messages, cap 20,000 rows, prune every 10,000 */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd) != 0)
		return 1;
	cfg = cfg_for(dir, "20000");
	st = open_store(dir, 20000);
	env.cfg = cfg;
	env.store = st;
	{
		long peak = 0;
		double t0 = now_ms();
		for (i = 0; i < soak; i++) {
			char sender[100];
			int first;
			snprintf(sender, sizeof(sender), "soak%ld@s%ld.example", i, i % 5000);
			env.now = now + i / 50;
			engine_rcpt(&env, sender, "staff1@example.com", NULL, &v);
			store_sender_seen(st, sender, env.now, &first);
			snprintf(key, sizeof(key), "fp%ld", i % 30000);
			store_fp_record(st, key, sender, env.now);
			if (i % 10000 == 9999) {
				long r = store_count(st, "senders") + store_count(st, "rcpts") +
				         store_count(st, "fp_senders");
				if (r > peak)
					peak = r;
				store_prune(st, env.now, 30 * 86400);
			}
		}
		printf("| soak of %ld messages, store_max_rows 20000 | %.0f msg/s | senders %ld, rcpts %ld, fp_senders "
		       "%ld "
		       "after pruning | peak before pruning %ld rows |\n",
		       soak, soak / ((now_ms() - t0) / 1000.0), store_count(st, "senders"), store_count(st, "rcpts"),
		       store_count(st, "fp_senders"), peak);
	}

	/* 3. quarantine writes */
	{
		mw_quar *q;
		mw_spool *sp = spool_new(1 << 20, NULL);
		quar_meta *m = x_calloc(1, sizeof(*m));
		double t0;
		char body[20480];

		memset(body, 'x', sizeof(body));
		spool_write(sp, body, sizeof(body));
		if (quar_open(dir, st, &q, err, sizeof(err)) < 0) {
			fprintf(stderr, "quarantine: %s\n", err);
			return 1;
		}
		t0 = now_ms();
		for (i = 0; i < nquar; i++) {
			memset(m, 0, sizeof(*m));
			strcpy(m->sender, "a@gmail.com");
			strcpy(m->rcpts[0], "info@example.com");
			m->nrcpts = 1;
			strcpy(m->state, "quarantined");
			if (quar_put(q, sp, m, err, sizeof(err)) < 0) {
				fprintf(stderr, "quar_put: %s\n", err);
				return 1;
			}
		}
		printf("| quarantine writes (20 KB, AES-256-GCM, fsync, rename, fsync dir, index) | %.0f writes/s |\n",
		       nquar / ((now_ms() - t0) / 1000.0));
		quar_close(q);
		spool_free(sp);
		x_free(m);
	}
	store_close(st);
	config_unref(cfg);

	/* 4. tracking queries on track_rows messages */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd) != 0)
		return 1;
	st = open_store(dir, 100000000);
	{
		double t0 = now_ms();
		populate_track(dir, track_rows, now);
		printf("| tracking: %ld messages logged (bulk load %.1f s) |\n", track_rows, (now_ms() - t0) / 1000.0);
	}
	{
		char hash42[20];
		snprintf(hash42, sizeof(hash42), "%08llx", (4242ULL * 2654435761ULL) % 4294967291ULL);
		struct {
			const char *name;
			store_track_query q;
		} qs[] = {
		    {"by sender address", {.sender = "user4242@d4242.example"}},
		    {"by sender domain, last 24 h", {.domain = "d77.example", .since = now - 86400}},
		    {"by recipient", {.rcpt = "staff1234@example.com"}},
		    {"by attachment hash prefix", {.sha256 = hash42}},
		    {"by link domain", {.link_domain = "link123.example"}},
		    {"by subject text, last 24 h", {.subject = "第4242号", .since = now - 86400}},
		    {"by subject text, all 30 days", {.subject = "第424242号"}},
		    {"rejects in the last hour", {.action = "reject", .since = now - 3600}},
		};
		size_t k;
		for (k = 0; k < MW_ARRAY_LEN(qs); k++) {
			double best = 1e9;
			int rows = 0, rep;
			for (rep = 0; rep < 3; rep++) {
				double t0 = now_ms();
				rows = 0;
				store_track_find(st, &qs[k].q, count_row, &rows);
				if (now_ms() - t0 < best)
					best = now_ms() - t0;
			}
			printf("| track query %-32s | %8.2f ms | %d rows |\n", qs[k].name, best, rows);
		}
	}
	store_close(st);
	lists_unref(lists);
	x_free(t);
	{
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("| peak RSS of the benchmark process | %ld MB |\n", ru.ru_maxrss / 1024);
	}
	return 0;
}
