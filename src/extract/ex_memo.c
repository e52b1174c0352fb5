/*
 * NAME
 *	ex_memo.c - extractors' findings kept per content (see ex_memo.h)
 * DESCRIPTION
 *	A recording is the list of emitter calls one run made, with copies
 *	of their strings and object bytes.  Entries sit in a hash table (by
 *	the content's keyed hash) and on a list, most recently used first.
 *	A replay holds a reference instead of the lock, so a slow consumer
 *	(an object copied to a spool) never blocks other threads; an entry
 *	evicted meanwhile is freed by its last reader.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_memo.h"
#include "util/util.h"

#include <pthread.h>
#include <string.h>

#define MEMO_BUCKETS 1024
#define ITEM_COST    64  /* what an item costs beyond its bytes (struct, allocator) */
#define ENTRY_COST   256 /* what an entry costs beyond its items */

enum { I_OBJECT, I_LINK, I_FINDING };

typedef struct item {
	int kind;
	char *a, *b;         /* object: name, type hint; link: URL, context; finding: code, detail (each may be NULL) */
	unsigned char *data; /* an object's bytes */
	size_t len;
} item;

typedef struct entry {
	struct entry *prev, *next; /* the use list */
	struct entry *hnext;       /* the bucket */
	uint64_t hash;
	size_t len;
	const ex_format *f;
	ex_limits lim;
	item *items;
	size_t n, cap, bytes;
	int refs, dead;
} entry;

struct ex_memo {
	pthread_mutex_t mu;
	entry *buckets[MEMO_BUCKETS];
	entry *head, *tail;
	size_t bytes, max, n;
	unsigned long hits, misses, kept;
};

ex_memo *ex_memo_new(size_t max_bytes)
{
	ex_memo *m;

	if (max_bytes == 0)
		return NULL;
	m = x_calloc(1, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	m->max = max_bytes;
	return m;
}

static void entry_free(entry *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		x_free(e->items[i].a);
		x_free(e->items[i].b);
		x_free(e->items[i].data);
	}
	x_free(e->items);
	x_free(e);
}

void ex_memo_free(ex_memo *m)
{
	entry *e, *next;

	if (m == NULL)
		return;
	for (e = m->head; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	pthread_mutex_destroy(&m->mu);
	x_free(m);
}

static entry **bucket(ex_memo *m, uint64_t hash)
{
	return &m->buckets[(hash ^ hash >> 32) % MEMO_BUCKETS];
}

static int same_key(const entry *e, const ex_format *f, uint64_t hash, size_t len, const ex_limits *lim)
{
	return e->hash == hash && e->len == len && e->f == f && memcmp(&e->lim, lim, sizeof(*lim)) == 0;
}

/* find - the live entry for the key, or NULL (caller holds mu) */
static entry *find(ex_memo *m, const ex_format *f, uint64_t hash, size_t len, const ex_limits *lim)
{
	entry *e;

	for (e = *bucket(m, hash); e; e = e->hnext)
		if (same_key(e, f, hash, len, lim))
			return e;
	return NULL;
}

static void use_unlink(ex_memo *m, entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		m->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		m->tail = e->prev;
	e->prev = e->next = NULL;
}

static void use_front(ex_memo *m, entry *e)
{
	e->prev = NULL;
	e->next = m->head;
	if (m->head)
		m->head->prev = e;
	m->head = e;
	if (m->tail == NULL)
		m->tail = e;
}

/* evict - take e out of the memo; freed now or by its last reader (caller holds mu) */
static void evict(ex_memo *m, entry *e)
{
	entry **pp = bucket(m, e->hash);

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	use_unlink(m, e);
	m->bytes -= e->bytes;
	m->n--;
	e->dead = 1;
	if (e->refs == 0)
		entry_free(e);
}

/* replay - e's calls to out, in order; 1 when a callback asked to stop */
static int replay(const entry *e, const mw_emit *out)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < e->n && rc == 0; i++) {
		const item *it = &e->items[i];
		if (it->kind == I_OBJECT && out->object)
			rc = out->object(out->ctx, it->a, it->b, it->data, it->len);
		else if (it->kind == I_LINK && out->link)
			rc = out->link(out->ctx, it->a, it->b);
		else if (it->kind == I_FINDING && out->finding)
			rc = out->finding(out->ctx, it->a, it->b);
	}
	return rc != 0;
}

/* the recorder: passes every call on to the caller's emitter and keeps a copy */
typedef struct recorder {
	const mw_emit *out;
	entry *e;
	size_t max;
	int full; /* over the entry bound: not kept */
} recorder;

static char *dup_or_null(const char *s, size_t *bytes)
{
	if (s == NULL)
		return NULL;
	*bytes += strlen(s) + 1;
	return x_strdup(s);
}

static void record(recorder *r, int kind, const char *a, const char *b, const void *data, size_t len)
{
	entry *e = r->e;
	item *it;

	if (r->full)
		return;
	if (e->bytes + ITEM_COST + len + (a ? strlen(a) : 0) + (b ? strlen(b) : 0) > r->max) {
		r->full = 1;
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->items = x_realloc(e->items, e->cap * sizeof(*e->items));
	}
	it = &e->items[e->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	e->bytes += ITEM_COST + len;
	it->a = dup_or_null(a, &e->bytes);
	it->b = dup_or_null(b, &e->bytes);
	if (len > 0) {
		it->data = x_malloc(len);
		memcpy(it->data, data, len);
	}
	it->len = len;
}

static int rec_object(void *ctx, const char *name, const char *hint, const void *data, size_t len)
{
	recorder *r = ctx;

	record(r, I_OBJECT, name, hint, data, len);
	return r->out->object ? r->out->object(r->out->ctx, name, hint, data, len) : 0;
}

static int rec_link(void *ctx, const char *url, const char *context)
{
	recorder *r = ctx;

	record(r, I_LINK, url, context, NULL, 0);
	return r->out->link ? r->out->link(r->out->ctx, url, context) : 0;
}

static int rec_finding(void *ctx, const char *code, const char *detail)
{
	recorder *r = ctx;

	record(r, I_FINDING, code, detail, NULL, 0);
	return r->out->finding ? r->out->finding(r->out->ctx, code, detail) : 0;
}

/* keep - put the new entry e in (caller holds mu); frees it when it is not kept */
static void keep(ex_memo *m, entry *e)
{
	if (find(m, e->f, e->hash, e->len, &e->lim) != NULL) {
		entry_free(e); /* another thread kept the same meanwhile */
		return;
	}
	while ((m->bytes + e->bytes > m->max || m->n >= EX_MEMO_ENTRIES) && m->tail)
		evict(m, m->tail);
	e->hnext = *bucket(m, e->hash);
	*bucket(m, e->hash) = e;
	use_front(m, e);
	m->bytes += e->bytes;
	m->n++;
	m->kept++;
}

int ex_memo_run(ex_memo *m, const ex_format *f, uint64_t hash, const void *data, size_t len, const ex_limits *lim,
                const mw_emit *out)
{
	recorder r;
	mw_emit rec = {rec_object, rec_link, rec_finding, &r};
	entry *e;
	int rc;

	if (m == NULL)
		return f->run(data, len, lim, out);
	pthread_mutex_lock(&m->mu);
	e = find(m, f, hash, len, lim);
	if (e != NULL) {
		e->refs++;
		m->hits++;
		use_unlink(m, e);
		use_front(m, e);
	} else {
		m->misses++;
	}
	pthread_mutex_unlock(&m->mu);
	if (e != NULL) {
		rc = replay(e, out);
		pthread_mutex_lock(&m->mu);
		if (--e->refs == 0 && e->dead)
			entry_free(e);
		pthread_mutex_unlock(&m->mu);
		return rc;
	}
	e = x_calloc(1, sizeof(*e));
	e->hash = hash;
	e->len = len;
	e->f = f;
	e->lim = *lim;
	e->bytes = ENTRY_COST;
	r.out = out;
	r.e = e;
	r.max = m->max / 4 < EX_MEMO_ENTRY_MAX ? m->max / 4 : EX_MEMO_ENTRY_MAX;
	r.full = 0;
	rc = f->run(data, len, lim, &rec);
	if (rc != 0 || r.full) {
		entry_free(e); /* failed, stopped or too big: run again next time */
		return rc;
	}
	pthread_mutex_lock(&m->mu);
	keep(m, e);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

void ex_memo_stats(ex_memo *m, ex_memo_stat *out)
{
	memset(out, 0, sizeof(*out));
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	out->hits = m->hits;
	out->misses = m->misses;
	out->kept = m->kept;
	out->entries = m->n;
	out->bytes = m->bytes;
	pthread_mutex_unlock(&m->mu);
}
