/*
 * NAME
 *	av_cache.h - libclamav's clean answers kept with what it reported
 *	inside the content (av_cache.c)
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_AV_CACHE_H
#define MW_AV_CACHE_H

#include "av/av.h"

#include <stddef.h>

#define AV_CACHE_MAX_DEPTH 64 /* objects deeper than this make an entry not kept */

typedef struct av_cache av_cache;
typedef struct av_cache_rec av_cache_rec;

typedef struct av_cache_stat {
	unsigned long hits, misses, kept;
	size_t entries, bytes;
} av_cache_stat;

/* av_cache_new - a cache of at most max_bytes; NULL (no cache) for 0 */
av_cache *av_cache_new(size_t max_bytes);
void av_cache_free(av_cache *c);

/*
 * av_cache_replay - when these bytes, under this name, were scanned clean
 * before: report the objects libclamav reported then to h, in the same
 * order (h->visit, then h->props), and return 1 (the answer is clean).
 * 0: not known, scan it (c may be NULL).  key: the content's SHA-256
 * (hex) when the caller knows it, or "" to have it computed and written
 * there (for av_cache_rec_new, so a miss does not hash it twice).
 */
int av_cache_replay(av_cache *c, const void *data, size_t len, const char *name, const av_hooks *h, char key[65]);

/* recording one scan: NULL for a NULL cache; every call accepts NULL */
av_cache_rec *av_cache_rec_new(av_cache *c, const void *data, size_t len, const char key[65]);
void av_cache_rec_object(av_cache_rec *r, const av_object *o);
void av_cache_rec_props(av_cache_rec *r, const char *json);
/* av_cache_rec_finish - keep the record when clean (frees r either way) */
void av_cache_rec_finish(av_cache *c, av_cache_rec *r, const char *name, const av_hooks *h, int clean);

void av_cache_stats(av_cache *c, av_cache_stat *out);
/* av_engine_cache_stats - of the engine's own cache (av.c) */
void av_engine_cache_stats(const av_engine *e, av_cache_stat *out);

#endif
