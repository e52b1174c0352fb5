/*
 * redis_bench.c - RCPT-time decisions on the shared store (Redis) against
 * the SQLite store, measured in one run (called by tests/bench/redis_bench.sh):
 *
 *   redis_bench DIR sqlite COUNT THREADS SECONDS
 *   redis_bench DIR redis  COUNT THREADS SECONDS ADDRESS PREFIX [DELAY_US]
 *
 * Prints one line "p50_us p99_us decisions_per_s" for:
 *   - COUNT decisions one after the other (engine_rcpt: record the attempt,
 *     count the fan-out window, three block lookups), each timed: p50/p99;
 *   - then THREADS threads deciding for SECONDS seconds on the same store
 *     (one gateway: one store, one Redis connection): decisions per second.
 * With DELAY_US the store talks to Redis through a proxy in this process
 * that holds every chunk DELAY_US microseconds in each direction (a round
 * trip of 2 x DELAY_US more), as a Redis on another host would cost: the
 * kernel here has no netem.  Senders and recipients are unique per
 * process, so no decision is a refusal that skips work.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "store/store.h"
#include "util/util.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ---- the delaying proxy ---- */

static long delay_us;
static int upstream_port;

typedef struct pipe_arg {
	int from, to;
} pipe_arg;

static void *pump(void *arg)
{
	pipe_arg *p = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(p->from, buf, sizeof(buf))) > 0) {
		double due = now_us() + (double)delay_us;
		struct timespec ts;
		double left;
		while ((left = due - now_us()) > 0) {
			ts.tv_sec = (time_t)(left / 1e6);
			ts.tv_nsec = (long)((left - (double)ts.tv_sec * 1e6) * 1e3);
			nanosleep(&ts, NULL);
		}
		if (write(p->to, buf, (size_t)n) != n)
			break;
	}
	shutdown(p->to, SHUT_WR);
	free(p);
	return NULL;
}

static void *proxy(void *arg)
{
	int ls = *(int *)arg;

	for (;;) {
		int c = accept(ls, NULL, NULL), u, one = 1;
		struct sockaddr_in a;
		pthread_t t;
		pipe_arg *p1, *p2;
		if (c < 0)
			continue;
		u = socket(AF_INET, SOCK_STREAM, 0);
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)upstream_port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(u, (struct sockaddr *)&a, sizeof(a)) < 0) {
			close(c);
			close(u);
			continue;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		p1 = malloc(sizeof(*p1));
		p2 = malloc(sizeof(*p2));
		p1->from = c;
		p1->to = u;
		p2->from = u;
		p2->to = c;
		pthread_create(&t, NULL, pump, p1);
		pthread_detach(t);
		pthread_create(&t, NULL, pump, p2);
		pthread_detach(t);
	}
	return NULL;
}

/* start_proxy - listen on a free loopback port; returns it */
static int start_proxy(void)
{
	static int ls;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	pthread_t t;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 64) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &len) < 0) {
		perror("proxy");
		exit(1);
	}
	pthread_create(&t, NULL, proxy, &ls);
	pthread_detach(t);
	return ntohs(a.sin_port);
}

/* ---- the decisions ---- */

typedef struct run {
	mw_env env;
	double until;
	long done;
	int id;
} run;

static void *worker(void *arg)
{
	run *r = arg;
	char sender[128], rcpt[64];
	mw_verdict v;
	long i = 0;

	while (now_us() < r->until) {
		snprintf(sender, sizeof(sender), "t%d-%ld-%d@bench-sender.example", r->id, i, getpid());
		snprintf(rcpt, sizeof(rcpt), "staff%ld@example.com", i % 50);
		engine_rcpt(&r->env, sender, rcpt, NULL, &v);
		i++;
	}
	r->done = i;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *ov[] = {"domains.protected=example.com", "sender.fanout_threshold=5"};
	char err[512], addr[80], sender[128], rcpt[64];
	store_limits lim = {1000000, 5000};
	mw_config *cfg;
	mw_lists *lists = lists_new();
	mw_store *st;
	mw_env env;
	mw_verdict v;
	long count, i, total = 0;
	int threads, seconds, k;
	double *lat, t0;
	pthread_t *tid;
	run *runs;

	if (argc < 6 || (strcmp(argv[2], "redis") == 0 && argc < 8)) {
		fprintf(stderr,
		        "usage: redis_bench DIR sqlite|redis COUNT THREADS SECONDS [ADDRESS PREFIX [DELAY_US]]\n");
		return 2;
	}
	count = atol(argv[3]);
	threads = atoi(argv[4]);
	seconds = atoi(argv[5]);
	if (config_load(NULL, ov, 2, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		return 1;
	}
	if (strcmp(argv[2], "redis") == 0) {
		store_shared_cfg sc = {argv[6], "", argv[7], "bench", 500, 2000, 200, 60, 86400};
		mw_strlcpy(addr, argv[6], sizeof(addr));
		if (argc > 8 && (delay_us = atol(argv[8])) > 0) {
			upstream_port = atoi(strrchr(argv[6], ':') + 1);
			snprintf(addr, sizeof(addr), "127.0.0.1:%d", start_proxy());
			sc.address = addr;
		}
		if (store_open_shared(argv[1], &lim, &sc, &st, err, sizeof(err)) < 0) {
			fprintf(stderr, "store: %s\n", err);
			return 1;
		}
		{
			store_shared_status ss;
			store_shared_get_status(st, &ss);
			if (!ss.up) {
				fprintf(stderr, "redis not reachable: %s\n", ss.last_error);
				return 1;
			}
		}
	} else if (store_open(argv[1], &lim, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "store: %s\n", err);
		return 1;
	}
	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.lists = lists;
	env.store = st;
	env.store_required = 1;
	lat = x_calloc((size_t)count, sizeof(*lat));
	for (i = 0; i < count; i++) {
		snprintf(sender, sizeof(sender), "s%ld-%d@bench-sender.example", i, getpid());
		snprintf(rcpt, sizeof(rcpt), "staff%ld@example.com", i % 50);
		t0 = now_us();
		engine_rcpt(&env, sender, rcpt, NULL, &v);
		lat[i] = now_us() - t0;
		if (v.action == MW_TEMPFAIL) {
			fprintf(stderr, "decision %ld: tempfail (store failed)\n", i);
			return 1;
		}
	}
	qsort(lat, (size_t)count, sizeof(*lat), cmp_d);
	tid = x_calloc((size_t)threads, sizeof(*tid));
	runs = x_calloc((size_t)threads, sizeof(*runs));
	t0 = now_us();
	for (k = 0; k < threads; k++) {
		runs[k].env = env;
		runs[k].until = t0 + seconds * 1e6;
		runs[k].id = k;
		pthread_create(&tid[k], NULL, worker, &runs[k]);
	}
	for (k = 0; k < threads; k++) {
		pthread_join(tid[k], NULL);
		total += runs[k].done;
	}
	printf("%.0f %.0f %.0f\n", lat[(size_t)((double)(count - 1) * 0.50)], lat[(size_t)((double)(count - 1) * 0.99)],
	       (double)total / ((now_us() - t0) / 1e6));
	store_close(st);
	lists_unref(lists);
	config_unref(cfg);
	x_free(lat);
	x_free(tid);
	x_free(runs);
	return 0;
}
