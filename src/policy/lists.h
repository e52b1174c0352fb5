/*
 * NAME
 *	lists.h - named domain/address lists: free-mail, storage, shortener,
 *	blocked domains, partners, allow
 * SYNOPSIS
 *	#include "policy/lists.h"
 *
 *	mw_lists *l = lists_new();
 *	lists_load_dir(l, "data/lists", err, len);	(one file per list)
 *	lists_add(l, "storage", "gigafile.nu");
 *	if (lists_match_domain(l, "storage", "xx.gigafile.nu")) ...
 *	lists_unref(l);
 * DESCRIPTION
 *	A list is a set of lower-case entries: domains ("example.com",
 *	matching the domain and every sub-domain), or addresses
 *	("user@example.com", matched exactly by lists_match_addr).  A
 *	leading "." is accepted and ignored.  Files hold one entry per line;
 *	'#' starts a comment.  The file name without ".txt" is the list name.
 *
 *	Once built and shared, a lists snapshot is never modified: run-time
 *	edits build a new snapshot (lists_clone + add/remove) and swap it,
 *	like the configuration.
 * LIMITS
 *	LISTS_MAX_ENTRY bytes per entry; longer lines are refused.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_LISTS_H
#define MW_LISTS_H

#include <stddef.h>

#define LISTS_MAX_ENTRY 255
#define LISTS_MAX_NAME  32

typedef struct mw_lists mw_lists;

mw_lists *lists_new(void);
mw_lists *lists_clone(const mw_lists *l);
mw_lists *lists_ref(mw_lists *l);
void lists_unref(mw_lists *l);

/* lists_add, lists_remove - 0 ok (remove: 0 removed, 1 absent), -1 bad entry or name */
int lists_add(mw_lists *l, const char *list, const char *entry);
int lists_remove(mw_lists *l, const char *list, const char *entry);

/* lists_load_file - add every entry of a file to list; -1 with "file:line: what" in err */
int lists_load_file(mw_lists *l, const char *list, const char *path, char *err, size_t errlen);
/* lists_load_dir - every NAME.txt in dir into list NAME */
int lists_load_dir(mw_lists *l, const char *dir, char *err, size_t errlen);

/*
 * lists_match_domain - the entry of list that domain equals or is a
 * sub-domain of (longest match), or NULL.  domain must be lower case
 * (A-labels for IDN).
 */
const char *lists_match_domain(const mw_lists *l, const char *list, const char *domain);
/* lists_match_addr - exact address entry, else the domain rule for its domain part */
const char *lists_match_addr(const mw_lists *l, const char *list, const char *addr);

/* lists_count - entries in list; lists_entry - i'th entry (sorted order) */
size_t lists_count(const mw_lists *l, const char *list);
const char *lists_entry(const mw_lists *l, const char *list, size_t i);

/* lists_names - number of lists and the i'th name */
size_t lists_nlists(const mw_lists *l);
const char *lists_name(const mw_lists *l, size_t i);

#endif
