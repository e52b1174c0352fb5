/*
 * NAME
 *	av_cache.c - libclamav's answer for content already scanned, with
 *	everything it reported inside
 * SYNOPSIS
 *	#include "av/av_cache.h"
 *
 *	av_cache *c = av_cache_new(max_bytes);
 *	char key[65];
 *	if (av_cache_replay(c, data, len, name, hooks, key)) ... clean, replayed
 *	av_cache_rec *r = av_cache_rec_new(c, data, len, key);	(then, for every object)
 *	av_cache_rec_object(r, &obj); av_cache_rec_props(r, json);
 *	av_cache_rec_finish(c, r, name, hooks, clean);
 *	av_cache_free(c);
 * DESCRIPTION
 *	The same attachment arrives again and again (a campaign to every
 *	member of staff, a newsletter's pictures, a signature logo): with a
 *	full-size database libclamav spends tens of milliseconds on 200 KB,
 *	and clamd's own cache answers such repeats.  libclamav's cache stays
 *	off here (a cached object is not opened again, and the content tree
 *	must see what is inside every part), so this cache keeps, for content
 *	libclamav found clean, every object it reported while scanning it
 *	(type, name, enclosing names, depth, attributes and the bytes of the
 *	objects inside) and its metadata JSON, and replays them to the same
 *	hooks: the later stages judge exactly what they would have judged.
 *
 *	Key: SHA-256 and length of the content, the name it was scanned
 *	under (libclamav reports it as the outermost object's name) and
 *	whether metadata was asked for.  One cache per engine: a reload
 *	starts empty, so a new signature applies to every later message.
 *	Only a clean scan without libclamav errors is kept; a match, an
 *	error or a limit is scanned again every time.
 * LIMITS
 *	At most max_bytes (objects, names, JSON) in all, AV_CACHE_ENTRIES
 *	entries, AV_CACHE_ENTRY_MAX bytes per entry (a bigger one is not
 *	kept); least recently used first out.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av_cache.h"
#include "util/hash.h"
#include "util/util.h"

#include <pthread.h>
#include <string.h>

#define AV_CACHE_ENTRIES   4096
#define AV_CACHE_ENTRY_MAX (4u << 20)

typedef struct cobj {
	char *type, *name; /* name may be NULL */
	char **anc;        /* depth names (each may be NULL), or NULL */
	unsigned depth;
	int made, has_anc;
	int is_content;      /* the object is the scanned content itself: replayed from the caller's */
	unsigned char *data; /* a copy of the object's bytes otherwise */
	size_t len;
	uint64_t hash;
} cobj;

typedef struct centry {
	struct centry *prev, *next;
	char key[65];
	size_t len;
	char *name;
	int props;
	cobj *objs;
	size_t nobj, cap;
	char *json;
	size_t bytes;
	int refs, dead;
} centry;

struct av_cache {
	pthread_mutex_t mu;
	centry *head, *tail; /* most recently used first */
	size_t bytes, max, n;
	unsigned long hits, misses, kept;
};

struct av_cache_rec {
	centry *e;
	int full;                     /* over AV_CACHE_ENTRY_MAX: not kept */
	const unsigned char *content; /* what is being scanned: not copied again */
	size_t content_len;
};

av_cache *av_cache_new(size_t max_bytes)
{
	av_cache *c;

	if (max_bytes == 0)
		return NULL;
	c = x_calloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->max = max_bytes;
	return c;
}

static void entry_free(centry *e)
{
	size_t i, k;

	for (i = 0; i < e->nobj; i++) {
		x_free(e->objs[i].type);
		x_free(e->objs[i].name);
		if (e->objs[i].anc)
			for (k = 0; k < e->objs[i].depth; k++)
				x_free(e->objs[i].anc[k]);
		x_free(e->objs[i].anc);
		x_free(e->objs[i].data);
	}
	x_free(e->objs);
	x_free(e->name);
	x_free(e->json);
	x_free(e);
}

static void unlink_entry(av_cache *c, centry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
	c->bytes -= e->bytes;
	c->n--;
}

static void push_front(av_cache *c, centry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
	c->bytes += e->bytes;
	c->n++;
}

void av_cache_free(av_cache *c)
{
	centry *e, *next;

	if (c == NULL)
		return;
	for (e = c->head; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	pthread_mutex_destroy(&c->mu);
	x_free(c);
}

static centry *find(av_cache *c, const char *key, size_t len, const char *name, int props)
{
	centry *e;

	for (e = c->head; e; e = e->next)
		if (e->len == len && e->props == props && strcmp(e->key, key) == 0 && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

int av_cache_replay(av_cache *c, const void *data, size_t len, const char *name, const av_hooks *h, char key[65])
{
	const char *anc[AV_CACHE_MAX_DEPTH];
	centry *e;
	size_t i, k;
	int props = h && h->props;

	if (c == NULL)
		return 0;
	if (key[0] == 0)
		mw_sha256_buf(data, len, key);
	pthread_mutex_lock(&c->mu);
	e = find(c, key, len, name ? name : "", props);
	if (e == NULL) {
		c->misses++;
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	c->hits++;
	e->refs++;
	unlink_entry(c, e); /* most recently used first */
	push_front(c, e);
	pthread_mutex_unlock(&c->mu);
	/* the entry cannot be freed while refs > 0: replay without the lock */
	for (i = 0; h && h->visit && i < e->nobj; i++) {
		const cobj *s = &e->objs[i];
		av_object o;
		memset(&o, 0, sizeof(o));
		o.type = s->type;
		o.name = s->name;
		if (s->has_anc) {
			for (k = 0; k < s->depth && k < AV_CACHE_MAX_DEPTH; k++)
				anc[k] = s->anc[k];
			o.ancestors = anc;
		}
		o.depth = s->depth;
		o.data = s->is_content ? (const unsigned char *)data : s->data;
		o.len = s->len;
		o.made = s->made;
		o.hash = s->hash;
		h->visit(h->arg, &o);
	}
	if (props && e->json)
		h->props(h->arg, e->json);
	pthread_mutex_lock(&c->mu);
	if (--e->refs == 0 && e->dead)
		entry_free(e);
	pthread_mutex_unlock(&c->mu);
	return 1;
}

av_cache_rec *av_cache_rec_new(av_cache *c, const void *data, size_t len, const char key[65])
{
	av_cache_rec *r;

	if (c == NULL)
		return NULL;
	r = x_calloc(1, sizeof(*r));
	r->content = data;
	r->content_len = len;
	r->e = x_calloc(1, sizeof(*r->e));
	r->e->bytes = sizeof(centry);
	mw_strlcpy(r->e->key, key, sizeof(r->e->key)); /* computed once, by av_cache_replay */
	r->e->len = len;
	return r;
}

static char *dup_or_null(const char *s, size_t *bytes)
{
	if (s == NULL)
		return NULL;
	*bytes += strlen(s) + 1;
	return x_strdup(s);
}

void av_cache_rec_object(av_cache_rec *r, const av_object *o)
{
	centry *e;
	cobj *s;
	size_t k;
	int is_content;

	if (r == NULL || r->full)
		return;
	e = r->e;
	/* the content itself (libclamav's outermost object) is not copied:
	 * the same bytes come with every replay (the key is their SHA-256) */
	is_content = o->data == r->content && o->len == r->content_len;
	if (o->depth >= AV_CACHE_MAX_DEPTH || e->bytes + (is_content ? 0 : o->len) + 256 > AV_CACHE_ENTRY_MAX) {
		r->full = 1;
		return;
	}
	if (e->nobj == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->objs = x_realloc(e->objs, e->cap * sizeof(*e->objs));
	}
	s = &e->objs[e->nobj++];
	memset(s, 0, sizeof(*s));
	e->bytes += sizeof(*s);
	s->type = dup_or_null(o->type ? o->type : "", &e->bytes);
	s->name = dup_or_null(o->name, &e->bytes);
	if (o->ancestors) {
		s->has_anc = 1;
		s->anc = x_calloc(o->depth ? o->depth : 1, sizeof(char *));
		for (k = 0; k < o->depth; k++)
			s->anc[k] = dup_or_null(o->ancestors[k], &e->bytes);
	}
	s->depth = o->depth;
	s->made = o->made;
	s->len = o->data ? o->len : 0;
	s->hash = o->hash;
	s->is_content = is_content;
	if (!s->is_content && o->data && o->len) {
		s->data = x_malloc(o->len);
		memcpy(s->data, o->data, o->len);
		e->bytes += o->len;
	}
}

void av_cache_rec_props(av_cache_rec *r, const char *json)
{
	if (r == NULL || r->full || json == NULL)
		return;
	x_free(r->e->json);
	r->e->json = dup_or_null(json, &r->e->bytes);
	if (r->e->bytes > AV_CACHE_ENTRY_MAX)
		r->full = 1;
}

void av_cache_rec_finish(av_cache *c, av_cache_rec *r, const char *name, const av_hooks *h, int clean)
{
	centry *e;

	if (r == NULL)
		return;
	e = r->e;
	x_free(r);
	if (c == NULL || !clean || e->bytes > c->max / 4) {
		entry_free(e);
		return;
	}
	e->name = x_strdup(name ? name : "");
	e->bytes += strlen(e->name) + 1;
	e->props = h && h->props;
	pthread_mutex_lock(&c->mu);
	if (find(c, e->key, e->len, e->name, e->props)) { /* another thread kept it meanwhile */
		pthread_mutex_unlock(&c->mu);
		entry_free(e);
		return;
	}
	while (c->tail && (c->bytes + e->bytes > c->max || c->n >= AV_CACHE_ENTRIES)) {
		centry *old = c->tail;
		unlink_entry(c, old);
		if (old->refs > 0)
			old->dead = 1; /* freed by the last replay using it */
		else
			entry_free(old);
	}
	push_front(c, e);
	c->kept++;
	pthread_mutex_unlock(&c->mu);
}

void av_cache_stats(av_cache *c, av_cache_stat *out)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	out->hits = c->hits;
	out->misses = c->misses;
	out->kept = c->kept;
	out->entries = c->n;
	out->bytes = c->bytes;
	pthread_mutex_unlock(&c->mu);
}
