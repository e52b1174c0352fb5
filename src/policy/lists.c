/*
 * NAME
 *	lists.c - named lists as sorted arrays with binary search
 * DESCRIPTION
 *	Each list is a sorted, de-duplicated array of strings.  A domain
 *	lookup tries the domain and then each parent ("a.b.example.com",
 *	"b.example.com", "example.com", "com"), so a lookup costs one binary
 *	search per label: cheap enough for RCPT time and per URL.
 *	Lists are small (thousands of entries), built once per change.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "policy/lists.h"
#include "util/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct one_list {
	char name[LISTS_MAX_NAME + 1];
	char **v;
	size_t n, cap;
} one_list;

struct mw_lists {
	int refs;
	one_list *lists;
	size_t n;
};

mw_lists *lists_new(void)
{
	mw_lists *l = x_calloc(1, sizeof(*l));

	l->refs = 1;
	return l;
}

mw_lists *lists_ref(mw_lists *l)
{
	__atomic_add_fetch(&l->refs, 1, __ATOMIC_SEQ_CST);
	return l;
}

void lists_unref(mw_lists *l)
{
	size_t i, j;

	if (l == NULL || __atomic_sub_fetch(&l->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	for (i = 0; i < l->n; i++) {
		for (j = 0; j < l->lists[i].n; j++)
			x_free(l->lists[i].v[j]);
		x_free(l->lists[i].v);
	}
	x_free(l->lists);
	x_free(l);
}

mw_lists *lists_clone(const mw_lists *src)
{
	mw_lists *l = lists_new();
	size_t i, j;

	l->lists = x_calloc(src->n ? src->n : 1, sizeof(*l->lists));
	l->n = src->n;
	for (i = 0; i < src->n; i++) {
		one_list *d = &l->lists[i];
		const one_list *s = &src->lists[i];
		memcpy(d->name, s->name, sizeof(d->name));
		d->n = d->cap = s->n;
		d->v = x_calloc(s->n ? s->n : 1, sizeof(*d->v));
		for (j = 0; j < s->n; j++)
			d->v[j] = x_strdup(s->v[j]);
	}
	return l;
}

static one_list *find_list(const mw_lists *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->lists[i].name, name) == 0)
			return &l->lists[i];
	return NULL;
}

static int valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > LISTS_MAX_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '_'))
			return 0;
	return 1;
}

/* normalise - lower case, strip a leading '.', validate characters */
static int normalise(const char *entry, char *out)
{
	size_t i, n;

	while (*entry == ' ' || *entry == '\t')
		entry++;
	if (*entry == '.')
		entry++;
	n = strlen(entry);
	while (n > 0 && (entry[n - 1] == ' ' || entry[n - 1] == '\t' || entry[n - 1] == '.'))
		n--;
	if (n == 0 || n > LISTS_MAX_ENTRY)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)entry[i];
		if (c <= ' ' || c == 0x7f || c == ',' || c == ';' || c == '"' || c == '\\')
			return -1;
		out[i] = (char)tolower(c);
	}
	out[n] = 0;
	return 0;
}

/* bsearch_pos - index of key or where it would go; *found set */
static size_t bsearch_pos(const one_list *ol, const char *key, int *found)
{
	size_t lo = 0, hi = ol->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ol->v[mid], key);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int lists_add(mw_lists *l, const char *list, const char *entry)
{
	char norm[LISTS_MAX_ENTRY + 1];
	one_list *ol;
	size_t pos;
	int found;

	if (!valid_name(list) || normalise(entry, norm) < 0)
		return -1;
	ol = find_list(l, list);
	if (ol == NULL) {
		l->lists = x_realloc(l->lists, (l->n + 1) * sizeof(*l->lists));
		ol = &l->lists[l->n++];
		memset(ol, 0, sizeof(*ol));
		mw_strlcpy(ol->name, list, sizeof(ol->name));
	}
	pos = bsearch_pos(ol, norm, &found);
	if (found)
		return 0;
	if (ol->n == ol->cap) {
		ol->cap = ol->cap ? ol->cap * 2 : 16;
		ol->v = x_realloc(ol->v, ol->cap * sizeof(*ol->v));
	}
	memmove(ol->v + pos + 1, ol->v + pos, (ol->n - pos) * sizeof(*ol->v));
	ol->v[pos] = x_strdup(norm);
	ol->n++;
	return 0;
}

int lists_remove(mw_lists *l, const char *list, const char *entry)
{
	char norm[LISTS_MAX_ENTRY + 1];
	one_list *ol;
	size_t pos;
	int found;

	if (!valid_name(list) || normalise(entry, norm) < 0)
		return -1;
	if ((ol = find_list(l, list)) == NULL)
		return 1;
	pos = bsearch_pos(ol, norm, &found);
	if (!found)
		return 1;
	x_free(ol->v[pos]);
	memmove(ol->v + pos, ol->v + pos + 1, (ol->n - pos - 1) * sizeof(*ol->v));
	ol->n--;
	return 0;
}

int lists_load_file(mw_lists *l, const char *list, const char *path, char *err, size_t errlen)
{
	char line[1024];
	FILE *fp = fopen(path, "r");
	int lineno = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!valid_name(list)) {
		snprintf(err, errlen, "%s: list name \"%.40s\" must be a-z, 0-9, _ (at most %d)", path, list,
		         LISTS_MAX_NAME);
		fclose(fp);
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *hash = strchr(line, '#'), *s;
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			fclose(fp);
			return -1;
		}
		if (hash)
			*hash = 0;
		s = mw_trim(line);
		if (*s == 0)
			continue;
		if (lists_add(l, list, s) < 0) {
			snprintf(err, errlen, "%s:%d: \"%.60s\" is not a valid entry", path, lineno, s);
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	/* An empty file still defines the list. */
	if (find_list(l, list) == NULL) {
		l->lists = x_realloc(l->lists, (l->n + 1) * sizeof(*l->lists));
		memset(&l->lists[l->n], 0, sizeof(l->lists[l->n]));
		mw_strlcpy(l->lists[l->n].name, list, sizeof(l->lists[l->n].name));
		l->n++;
	}
	return 0;
}

int lists_load_dir(mw_lists *l, const char *dir, char *err, size_t errlen)
{
	struct dirent **ents = NULL;
	int i, n = scandir(dir, &ents, NULL, alphasort), rc = 0;

	if (n < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		if (rc == 0 && len > 4 && strcmp(name + len - 4, ".txt") == 0 && len - 4 <= LISTS_MAX_NAME) {
			char list[LISTS_MAX_NAME + 1], path[4096];
			memcpy(list, name, len - 4);
			list[len - 4] = 0;
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			if (lists_load_file(l, list, path, err, errlen) < 0)
				rc = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

const char *lists_match_domain(const mw_lists *l, const char *list, const char *domain)
{
	const one_list *ol = l ? find_list(l, list) : NULL;
	const char *d = domain;

	if (ol == NULL || ol->n == 0 || domain == NULL)
		return NULL;
	while (*d == '.')
		d++;
	while (d && *d) {
		int found;
		size_t pos = bsearch_pos(ol, d, &found);
		if (found)
			return ol->v[pos];
		d = strchr(d, '.');
		if (d)
			d++;
	}
	return NULL;
}

const char *lists_match_addr(const mw_lists *l, const char *list, const char *addr)
{
	char norm[LISTS_MAX_ENTRY + 1];
	const one_list *ol = l ? find_list(l, list) : NULL;
	const char *at;
	size_t pos;
	int found;

	if (ol == NULL || addr == NULL || normalise(addr, norm) < 0)
		return NULL;
	pos = bsearch_pos(ol, norm, &found);
	if (found)
		return ol->v[pos];
	at = strrchr(norm, '@');
	return at ? lists_match_domain(l, list, at + 1) : NULL;
}

size_t lists_count(const mw_lists *l, const char *list)
{
	const one_list *ol = find_list(l, list);

	return ol ? ol->n : 0;
}

const char *lists_entry(const mw_lists *l, const char *list, size_t i)
{
	const one_list *ol = find_list(l, list);

	return ol && i < ol->n ? ol->v[i] : NULL;
}

size_t lists_nlists(const mw_lists *l)
{
	return l->n;
}

const char *lists_name(const mw_lists *l, size_t i)
{
	return i < l->n ? l->lists[i].name : NULL;
}
