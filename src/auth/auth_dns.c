/*
 * NAME
 *	auth_dns.c - the bounded, cached resolver behind SPF, DKIM and DMARC
 * SYNOPSIS
 *	#include "auth/auth_int.h"
 *
 *	auth_session s;
 *	auth_session_init(&s, resolver);
 *	auth_dns_query(&s, "_dmarc.example.com", ns_t_txt, &answer);
 * DESCRIPTION
 *	libunbound does the DNS work: it forwards every question to the
 *	servers of [auth] resolver ("IP[@port]", any port, so tests can run
 *	an authoritative server on 127.0.0.1:22553), or to the name servers
 *	of /etc/resolv.conf when that is empty, over UDP with TCP on
 *	truncation, checking ids, ports and question echo.  It does not
 *	validate DNSSEC (no trust anchor): results are not marked secure.
 *
 *	Questions are asked asynchronously (ub_resolve_async) so each one
 *	can be given up after auth.lookup_timeout: one dispatcher thread per
 *	resolver waits on libunbound's descriptor and runs its callbacks,
 *	which hand each answer to the thread waiting for it.  A thread that
 *	gives up marks its query abandoned and cancels it; whichever of the
 *	two (callback, canceller) comes last frees it.
 *
 *	In front of libunbound sits our cache, shared by every thread
 *	(one mutex): the answer packet of each (name, type), kept for the
 *	answer's TTL (for NXDOMAIN and NODATA the negative TTL of the SOA),
 *	at most auth.cache_max_ttl, evicted least-recently-used beyond
 *	auth.cache_entries.  Failures (SERVFAIL, timeouts) are not cached.
 *	A hit costs no budget.
 *
 *	The message budget: at most auth.max_lookups questions reach the
 *	network, and their waiting time together stays within
 *	auth.message_budget (the last one's timeout is cut to what is left).
 *	Past it, questions are not asked and get DNS_BUDGET.
 * LIMITS
 *	Cached packets of at most CACHE_PKT_MAX bytes; the cache holds at
 *	most auth.cache_entries packets and CACHE_BYTES_PER_ENTRY times as
 *	many bytes.  Names of at most 253 bytes.
 * DIAGNOSTICS
 *	A resolver that cannot be set up (bad [auth] resolver value) is
 *	reported by auth_resolver_new(); a dispatcher thread that cannot
 *	start leaves every question failing (DNS_SERVFAIL).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth_int.h"
#include "util/log.h"
#include "util/util.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unbound.h>
#include <unistd.h>

#define CACHE_PKT_MAX         4096
#define CACHE_BYTES_PER_ENTRY 1024
#define SERVERS_MAX           8

typedef struct cache_entry {
	struct cache_entry *hnext;         /* hash chain */
	struct cache_entry *lprev, *lnext; /* LRU list, most recent first */
	unsigned hash;
	char *key; /* "TYPE/name" */
	dns_status status;
	unsigned char *pkt;
	size_t len;
	double expires; /* monotonic seconds */
	unsigned ttl;
} cache_entry;

struct auth_resolver;
typedef struct pending {
	struct auth_resolver *r;
	int done, abandoned, err, async_id;
	struct ub_result *res;
} pending;

struct auth_resolver {
	int refs;
	char *key; /* the settings it was made for (shared registry) */
	auth_dns_conf conf;
	char *servers;
	struct ub_ctx *ub;
	pthread_t thread;
	int thread_ok;
	int wake[2]; /* stop the dispatcher */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* cache */
	pthread_mutex_t cmu;
	cache_entry **buckets;
	size_t nbuckets, nentries, bytes;
	cache_entry *lru_head, *lru_tail;
	unsigned long hits, misses;
};

static __thread auth_session *current_session;

auth_session *auth_session_current(void)
{
	return current_session;
}

void auth_session_set_current(auth_session *s)
{
	current_session = s;
}

/* mono_s - monotonic clock in seconds */
static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the cache ---- */

static unsigned fnv1a(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void lru_unlink(auth_resolver *r, cache_entry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		r->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		r->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_push(auth_resolver *r, cache_entry *e)
{
	e->lprev = NULL;
	e->lnext = r->lru_head;
	if (r->lru_head)
		r->lru_head->lprev = e;
	r->lru_head = e;
	if (r->lru_tail == NULL)
		r->lru_tail = e;
}

/* cache_drop - unlink e from its chain and the LRU list, free it */
static void cache_drop(auth_resolver *r, cache_entry *e)
{
	cache_entry **pp = &r->buckets[e->hash % r->nbuckets];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(r, e);
	r->nentries--;
	r->bytes -= e->len;
	x_free(e->key);
	x_free(e->pkt);
	x_free(e);
}

/* cache_get - a live copy of key's answer into out; 1 hit, 0 miss */
static int cache_get(auth_resolver *r, const char *key, dns_answer *out)
{
	unsigned h = fnv1a(key);
	cache_entry *e;
	double now = mono_s();
	int hit = 0;

	if (r->nbuckets == 0)
		return 0;
	pthread_mutex_lock(&r->cmu);
	for (e = r->buckets[h % r->nbuckets]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			break;
	if (e && e->expires <= now) {
		cache_drop(r, e);
		e = NULL;
	}
	if (e) {
		lru_unlink(r, e);
		lru_push(r, e);
		out->status = e->status;
		out->len = e->len;
		out->pkt = e->len ? x_malloc(e->len) : NULL;
		if (e->len)
			memcpy(out->pkt, e->pkt, e->len);
		out->ttl = (unsigned)(e->expires - now);
		r->hits++;
		hit = 1;
	} else {
		r->misses++;
	}
	pthread_mutex_unlock(&r->cmu);
	return hit;
}

/* cache_put - remember an answer for ttl seconds (capped), evicting the oldest */
static void cache_put(auth_resolver *r, const char *key, const dns_answer *a)
{
	unsigned h = fnv1a(key), ttl = a->ttl;
	cache_entry *e, **pp;
	size_t max_bytes = r->conf.cache_entries * CACHE_BYTES_PER_ENTRY;

	if (r->nbuckets == 0 || ttl == 0 || a->len > CACHE_PKT_MAX)
		return;
	if (ttl > r->conf.cache_max_ttl)
		ttl = (unsigned)r->conf.cache_max_ttl;
	if (ttl == 0)
		return;
	pthread_mutex_lock(&r->cmu);
	for (pp = &r->buckets[h % r->nbuckets]; *pp; pp = &(*pp)->hnext)
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0) {
			cache_drop(r, *pp);
			break;
		}
	while (r->lru_tail && (r->nentries >= r->conf.cache_entries || r->bytes + a->len > max_bytes))
		cache_drop(r, r->lru_tail);
	e = x_calloc(1, sizeof(*e));
	e->hash = h;
	e->key = x_strdup(key);
	e->status = a->status;
	e->len = a->len;
	if (a->len) {
		e->pkt = x_malloc(a->len);
		memcpy(e->pkt, a->pkt, a->len);
	}
	e->ttl = ttl;
	e->expires = mono_s() + ttl;
	e->hnext = r->buckets[h % r->nbuckets];
	r->buckets[h % r->nbuckets] = e;
	lru_push(r, e);
	r->nentries++;
	r->bytes += e->len;
	pthread_mutex_unlock(&r->cmu);
}

/* cache_peek - 1 if key has a live entry (no copy, no statistics) */
static int cache_peek(auth_resolver *r, const char *key)
{
	unsigned h = fnv1a(key);
	cache_entry *e;
	int live = 0;

	if (r->nbuckets == 0)
		return 0;
	pthread_mutex_lock(&r->cmu);
	for (e = r->buckets[h % r->nbuckets]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0) {
			live = e->expires > mono_s();
			break;
		}
	pthread_mutex_unlock(&r->cmu);
	return live;
}

void auth_resolver_stats(auth_resolver *r, size_t *entries, unsigned long *hits, unsigned long *misses)
{
	pthread_mutex_lock(&r->cmu);
	*entries = r->nentries;
	*hits = r->hits;
	*misses = r->misses;
	pthread_mutex_unlock(&r->cmu);
}

/* ---- libunbound and its dispatcher ---- */

/* on_answer - libunbound callback (dispatcher thread): hand over, or free an abandoned query */
static void on_answer(void *arg, int err, struct ub_result *res)
{
	pending *p = arg;
	auth_resolver *r = p->r;

	pthread_mutex_lock(&r->mu);
	if (p->abandoned) {
		pthread_mutex_unlock(&r->mu);
		if (res)
			ub_resolve_free(res);
		x_free(p);
		return;
	}
	p->done = 1;
	p->err = err;
	p->res = res;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* dispatcher - run libunbound's callbacks as answers arrive, until told to stop */
static void *dispatcher(void *arg)
{
	auth_resolver *r = arg;
	struct pollfd fds[2];
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	fds[0].fd = ub_fd(r->ub);
	fds[0].events = POLLIN;
	fds[1].fd = r->wake[0];
	fds[1].events = POLLIN;
	for (;;) {
		int n = poll(fds, 2, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("auth: resolver dispatcher: poll: %m");
			break;
		}
		if (fds[1].revents)
			break;
		if (fds[0].revents & (POLLIN | POLLERR | POLLHUP))
			ub_process(r->ub);
	}
	return NULL;
}

/* to_answer - a libunbound result as our answer (copies the packet) */
static void to_answer(int err, struct ub_result *res, dns_answer *out)
{
	if (err != 0 || res == NULL) {
		out->status = err == UB_SYNTAX ? DNS_BADNAME : DNS_SERVFAIL;
		return;
	}
	switch (res->rcode) {
	case 0: out->status = res->havedata ? DNS_OK : DNS_NODATA; break;
	case 3: out->status = DNS_NXDOMAIN; break;
	default: out->status = DNS_SERVFAIL; return;
	}
	out->ttl = res->ttl > 0 ? (unsigned)res->ttl : 0;
	if (res->answer_packet && res->answer_len > 0) {
		out->len = (size_t)res->answer_len;
		out->pkt = x_malloc(out->len);
		memcpy(out->pkt, res->answer_packet, out->len);
	}
}

/* ub_ask - one question, waiting at most timeout_ms */
static void ub_ask(auth_resolver *r, const char *name, int type, double timeout_ms, dns_answer *out)
{
	pending *p = x_calloc(1, sizeof(*p));
	struct timespec dl;
	int rc;

	p->r = r;
	rc = ub_resolve_async(r->ub, (char *)name, type, ns_c_in, p, on_answer, &p->async_id);
	if (rc != 0) {
		x_free(p);
		out->status = rc == UB_SYNTAX ? DNS_BADNAME : DNS_SERVFAIL;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)(timeout_ms / 1000);
	dl.tv_nsec += (long)((timeout_ms - (double)(long)(timeout_ms / 1000) * 1000) * 1e6);
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->mu);
	while (!p->done)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT)
			break;
	if (!p->done) {
		/* Give up: the callback frees p if it still comes. */
		p->abandoned = 1;
		pthread_mutex_unlock(&r->mu);
		if (ub_cancel(r->ub, p->async_id) == UB_NOERROR)
			x_free(p);
		out->status = DNS_TIMEOUT;
		return;
	}
	pthread_mutex_unlock(&r->mu);
	to_answer(p->err, p->res, out);
	if (p->res)
		ub_resolve_free(p->res);
	x_free(p);
}

/* ---- the resolver ---- */

auth_resolver *auth_resolver_new(const auth_dns_conf *c, char *err, size_t errlen)
{
	auth_resolver *r = x_calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	char *copy = NULL, *tok, *save = NULL;
	int rc, nserv = 0;

	r->refs = 1;
	r->conf = *c;
	r->servers = x_strdup(c->servers ? c->servers : "");
	r->conf.servers = r->servers;
	r->wake[0] = r->wake[1] = -1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->cmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (c->cache_entries > 0) {
		r->nbuckets = 64;
		while (r->nbuckets < c->cache_entries && r->nbuckets < (1u << 20))
			r->nbuckets <<= 1;
		r->buckets = x_calloc(r->nbuckets, sizeof(*r->buckets));
	}
	if ((r->ub = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "auth: cannot create a libunbound context");
		goto fail;
	}
	/* A forwarding stub with a small cache of its own (ours is in front);
	 * no DNSSEC validator without a trust anchor; keep probing a server
	 * that timed out instead of failing every question for 15 minutes. */
	ub_ctx_set_option(r->ub, "module-config:", "iterator");
	ub_ctx_set_option(r->ub, "msg-cache-size:", "256k");
	ub_ctx_set_option(r->ub, "rrset-cache-size:", "256k");
	ub_ctx_set_option(r->ub, "infra-keep-probing:", "yes");
	ub_ctx_set_option(r->ub, "infra-host-ttl:", "60");
	if (c->tcp)
		ub_ctx_set_option(r->ub, "tcp-upstream:", "yes");
	ub_ctx_debugout(r->ub, NULL);
	copy = x_strdup(r->servers);
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (++nserv > SERVERS_MAX) {
			snprintf(err, errlen, "auth.resolver: more than %d servers", SERVERS_MAX);
			goto fail;
		}
		if ((rc = ub_ctx_set_fwd(r->ub, tok)) != 0) {
			snprintf(err, errlen, "auth.resolver: %.80s: %s", tok, ub_strerror(rc));
			goto fail;
		}
	}
	if (nserv == 0 && (rc = ub_ctx_resolvconf(r->ub, NULL)) != 0) {
		snprintf(err, errlen, "auth.resolver is empty and /etc/resolv.conf is unusable: %s", ub_strerror(rc));
		goto fail;
	}
	if ((rc = ub_ctx_async(r->ub, 1)) != 0) {
		snprintf(err, errlen, "auth: libunbound threads: %s", ub_strerror(rc));
		goto fail;
	}
	if (pipe2(r->wake, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "auth: pipe: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&r->thread, NULL, dispatcher, r) != 0) {
		snprintf(err, errlen, "auth: cannot start the resolver thread");
		goto fail;
	}
	r->thread_ok = 1;
	x_free(copy);
	return r;
fail:
	x_free(copy);
	r->refs = 1;
	auth_resolver_unref(r);
	return NULL;
}

static void resolver_free(auth_resolver *r)
{
	size_t i;

	if (r->thread_ok) {
		char b = 1;
		(void)!write(r->wake[1], &b, 1);
		pthread_join(r->thread, NULL);
	}
	if (r->wake[0] >= 0)
		close(r->wake[0]);
	if (r->wake[1] >= 0)
		close(r->wake[1]);
	if (r->ub)
		ub_ctx_delete(r->ub);
	for (i = 0; i < r->nbuckets; i++)
		while (r->buckets[i])
			cache_drop(r, r->buckets[i]);
	x_free(r->buckets);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->cmu);
	x_free(r->servers);
	x_free(r->key);
	x_free(r);
}

void auth_resolver_unref(auth_resolver *r)
{
	if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_SEQ_CST) == 0)
		resolver_free(r);
}

static auth_resolver *g_shared;
static pthread_mutex_t g_shared_mu = PTHREAD_MUTEX_INITIALIZER;

/* auth_resolver_shared - one resolver per process for the current [auth] resolver keys */
auth_resolver *auth_resolver_shared(const mw_config *cfg, char *err, size_t errlen)
{
	char key[600];
	auth_dns_conf c;
	auth_resolver *r, *old = NULL;

	struct stat rs;

	/* With no servers of its own the resolver reads /etc/resolv.conf when
	 * it is made: a new file (the appliance's `apply`, DHCP) makes a new one. */
	memset(&rs, 0, sizeof(rs));
	if (cfg->auth_resolver[0] == '\0')
		(void)stat("/etc/resolv.conf", &rs);
	snprintf(key, sizeof(key), "%s|%zu|%zu|%zu|%lu.%ld.%ld", cfg->auth_resolver, cfg->auth_resolver_tcp,
	         cfg->auth_cache_entries, cfg->auth_cache_max_ttl, (unsigned long)rs.st_ino, (long)rs.st_mtim.tv_sec,
	         (long)rs.st_mtim.tv_nsec);
	pthread_mutex_lock(&g_shared_mu);
	if (g_shared && strcmp(g_shared->key, key) == 0) {
		r = g_shared;
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&g_shared_mu);
		return r;
	}
	memset(&c, 0, sizeof(c));
	c.servers = cfg->auth_resolver;
	c.tcp = cfg->auth_resolver_tcp != 0;
	c.timeout_ms = cfg->auth_timeout;
	c.budget_ms = cfg->auth_budget;
	c.max_lookups = cfg->auth_max_lookups;
	c.cache_entries = cfg->auth_cache_entries;
	c.cache_max_ttl = cfg->auth_cache_max_ttl;
	r = auth_resolver_new(&c, err, errlen);
	if (r) {
		r->key = x_strdup(key);
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_SEQ_CST); /* the registry's */
		old = g_shared;
		g_shared = r;
	}
	pthread_mutex_unlock(&g_shared_mu);
	auth_resolver_unref(old);
	return r;
}

/* ---- one message's questions ---- */

void auth_session_init(auth_session *s, auth_resolver *r)
{
	memset(s, 0, sizeof(*s));
	s->r = r;
	if (r) {
		s->timeout_ms = r->conf.timeout_ms;
		s->budget_ms = r->conf.budget_ms;
		s->max_lookups = r->conf.max_lookups;
	}
}

int auth_dns_valid_name(const char *name)
{
	size_t n = strlen(name), label = 0, i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		/* printable ASCII without white space, quotes or the escape
		 * character libunbound would interpret */
		if (ch <= ' ' || ch >= 0x7f || ch == '\\' || ch == '"' || ++label > 63)
			return 0;
	}
	return label > 0;
}

/* make_key - "TYPE/name", lower case, no trailing dot */
static void make_key(char *key, size_t len, const char *name, int type)
{
	size_t n = (size_t)snprintf(key, len, "%d/%s", type, name);

	if (n < len && n > 0 && key[n - 1] == '.')
		key[n - 1] = 0;
	mw_lower(key);
}

/* memo_failed - a temporary failure this message already met for key (DNS_OK if none) */
static dns_status memo_failed(const auth_session *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nmemo; i++)
		if (strcmp(s->memo[i].key, key) == 0)
			return s->memo[i].status;
	return DNS_OK;
}

static void memo_add(auth_session *s, const char *key, dns_status st)
{
	if (s->nmemo < AUTH_MEMO_MAX) {
		mw_strlcpy(s->memo[s->nmemo].key, key, sizeof(s->memo[0].key));
		s->memo[s->nmemo++].status = st;
	}
}

void auth_dns_query(auth_session *s, const char *name, int type, dns_answer *out)
{
	char key[300];
	double t0, left, wait;
	dns_status failed;

	memset(out, 0, sizeof(*out));
	if (!auth_dns_valid_name(name)) {
		out->status = DNS_BADNAME;
		return;
	}
	make_key(key, sizeof(key), name, type);
	if (s->r && cache_get(s->r, key, out)) {
		s->cached++;
		return;
	}
	if ((failed = memo_failed(s, key)) != DNS_OK) {
		/* asked already in this message (a prefetch, or libspf2 twice): same answer, no second wait */
		out->status = failed;
		return;
	}
	if (s->r == NULL || !s->r->thread_ok) {
		out->status = DNS_SERVFAIL;
		s->failures++;
		s->net_failures++;
		return;
	}
	left = (double)s->budget_ms - s->spent_ms;
	if (s->lookups >= s->max_lookups || left <= 0) {
		out->status = DNS_BUDGET;
		s->budget_spent = 1;
		s->failures++;
		return;
	}
	wait = (double)s->timeout_ms < left ? (double)s->timeout_ms : left;
	t0 = mw_now_ms();
	ub_ask(s->r, key + strcspn(key, "/") + 1, type, wait, out);
	s->spent_ms += mw_now_ms() - t0;
	s->lookups++;
	if (dns_temporary(out->status)) {
		s->failures++;
		s->net_failures++;
		memo_add(s, key, out->status);
		return;
	}
	s->answered++;
	if (out->status != DNS_BADNAME)
		cache_put(s->r, key, out);
}

void auth_dns_prefetch(auth_session *s, const char *const *names, const int *types, size_t n)
{
	pending **p;
	char(*keys)[300];
	struct timespec dl;
	double t0, left, wait;
	size_t i, asked = 0;
	int all;

	if (s->r == NULL || !s->r->thread_ok || n == 0 || s->r->nbuckets == 0)
		return; /* without a cache the answers would have nowhere to wait */
	p = x_calloc(n, sizeof(*p));
	keys = x_calloc(n, sizeof(*keys));
	t0 = mw_now_ms();
	for (i = 0; i < n; i++) {
		dns_answer a;
		size_t k;
		int dup = 0;

		if (names[i] == NULL || !auth_dns_valid_name(names[i]))
			continue;
		make_key(keys[i], sizeof(keys[i]), names[i], types[i]);
		for (k = 0; k < i; k++)
			dup |= p[k] && strcmp(keys[k], keys[i]) == 0;
		memset(&a, 0, sizeof(a));
		if (dup || memo_failed(s, keys[i]) != DNS_OK || cache_peek(s->r, keys[i]))
			continue;
		if (s->lookups >= s->max_lookups)
			break; /* the questions themselves will meet the budget */
		p[i] = x_calloc(1, sizeof(*p[i]));
		p[i]->r = s->r;
		if (ub_resolve_async(s->r->ub, keys[i] + strcspn(keys[i], "/") + 1, types[i], ns_c_in, p[i], on_answer,
		                     &p[i]->async_id) != 0) {
			x_free(p[i]);
			p[i] = NULL;
			continue;
		}
		s->lookups++;
		asked++;
	}
	left = (double)s->budget_ms - s->spent_ms;
	wait = (double)s->timeout_ms < left ? (double)s->timeout_ms : left;
	if (wait < 0)
		wait = 0;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)(wait / 1000);
	dl.tv_nsec += (long)((wait - (double)(long)(wait / 1000) * 1000) * 1e6);
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->r->mu);
	for (;;) {
		for (all = 1, i = 0; i < n && all; i++)
			all = p[i] == NULL || p[i]->done;
		if (all || pthread_cond_timedwait(&s->r->cv, &s->r->mu, &dl) == ETIMEDOUT)
			break;
	}
	for (i = 0; i < n; i++)
		if (p[i] && !p[i]->done)
			p[i]->abandoned = 1; /* the callback frees it if it still comes */
	pthread_mutex_unlock(&s->r->mu);
	for (i = 0; i < n; i++) {
		dns_answer a;

		if (p[i] == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		if (p[i]->abandoned) {
			if (ub_cancel(s->r->ub, p[i]->async_id) == UB_NOERROR)
				x_free(p[i]);
			a.status = DNS_TIMEOUT;
		} else {
			to_answer(p[i]->err, p[i]->res, &a);
			if (p[i]->res)
				ub_resolve_free(p[i]->res);
			x_free(p[i]);
		}
		if (dns_temporary(a.status)) {
			s->failures++;
			s->net_failures++;
			memo_add(s, keys[i], a.status);
		} else {
			s->answered++;
			if (a.status != DNS_BADNAME)
				cache_put(s->r, keys[i], &a);
		}
		auth_dns_answer_free(&a);
	}
	if (asked)
		s->spent_ms += mw_now_ms() - t0;
	x_free(p);
	x_free(keys);
}

int auth_dns_probe(auth_session *s, const char *name)
{
	dns_answer a;

	memset(&a, 0, sizeof(a));
	if (s->r == NULL || !s->r->thread_ok || !auth_dns_valid_name(name))
		return 0;
	ub_ask(s->r, name, ns_t_soa, (double)s->timeout_ms, &a);
	auth_dns_answer_free(&a);
	return !dns_temporary(a.status);
}

void auth_dns_answer_free(dns_answer *a)
{
	x_free(a->pkt);
	a->pkt = NULL;
	a->len = 0;
}

/* ---- packets ---- */

char **auth_dns_txt(const unsigned char *pkt, size_t len, size_t *n)
{
	ns_msg msg;
	ns_rr rr;
	char **v = NULL;
	size_t cnt, i;

	*n = 0;
	if (pkt == NULL || len == 0 || ns_initparse(pkt, (int)len, &msg) < 0)
		return NULL;
	cnt = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < cnt; i++) {
		const unsigned char *rd;
		size_t rdlen;
		char *s;

		if (ns_parserr(&msg, ns_s_an, (int)i, &rr) < 0)
			break;
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;
		rd = ns_rr_rdata(rr);
		rdlen = ns_rr_rdlen(rr);
		s = auth_txt_join(rd, rdlen);
		v = x_realloc(v, (*n + 2) * sizeof(*v));
		v[(*n)++] = s;
		v[*n] = NULL;
	}
	return v;
}

char *auth_txt_join(const unsigned char *rd, size_t rdlen)
{
	char *s = x_malloc(rdlen + 1);
	size_t off = 0, sl = 0;

	while (off < rdlen) {
		size_t l = rd[off++];
		if (l > rdlen - off)
			l = rdlen - off; /* a string cut by the record's end: what is there */
		memcpy(s + sl, rd + off, l);
		sl += l;
		off += l;
	}
	s[sl] = 0;
	return s;
}

void auth_dns_txt_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		x_free(v[i]);
	x_free(v);
}
