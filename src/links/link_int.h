/*
 * NAME
 *	link_int.h - private interfaces of the links module
 * DESCRIPTION
 *	The extractors (link_extract.c) know nothing about normalisation or
 *	lists: they hand each candidate to a sink, which the link set
 *	(links.c) implements.  link_url.c normalises, link_judge.c
 *	classifies.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_LINK_INT_H
#define MW_LINK_INT_H

#include "links/links.h"

#include <libpsl.h>
#include <stddef.h>

/* Where extracted candidates go. */
typedef struct link_sink {
	/*
	 * url: n bytes as found (entities decoded); text: visible anchor
	 * text (tn bytes, may be NULL); base: <base href> seen so far or
	 * NULL.  flags: LINK_F_BARE, LINK_F_LOADED.
	 */
	void (*emit)(void *arg, link_src src, unsigned flags, const char *url, size_t n, const char *text, size_t tn,
	             const char *base);
	/* limit: a bound inside the extractor was reached (what: short text) */
	void (*limit)(void *arg, const char *what);
	void *arg;
} link_sink;

void link_extract_text(const link_sink *k, const char *s, size_t n);
void link_extract_html(const link_sink *k, const char *s, size_t n);

/*
 * link_text_first - the first URL candidate in text (anchor text): its
 * offset and length in *off, *len, and whether it had no scheme.
 * Returns 0 if found, -1 if none.
 */
int link_text_first(const char *s, size_t n, size_t *off, size_t *len, int *bare);

/* link_entity_decode - decode HTML character references; out needs n bytes (never grows) */
size_t link_entity_decode(const char *s, size_t n, char *out);

/* link_psl - the shared public suffix context (loaded once; never NULL) */
const psl_ctx_t *link_psl(void);

/* link_is_tld - 1 if the n-byte ASCII label is a top-level public suffix (ICANN) */
int link_is_tld(const char *label, size_t n);

/* link_text_scheme - a scheme written in text without "//" (search-ms:..., ms-msdt:...) that is a link */
int link_text_scheme(const char *scheme, const char *rest, size_t n);
/* link_scheme_sorted - 1 if the scheme table is sorted (unit test) */
int link_scheme_sorted(void);

/*
 * link_unwrap - the targets a redirector or tracker carries in url (a
 * normalised URL; host its host or "" for schemes without one): found()
 * gets each target as written (n bytes, not NUL-terminated, valid during
 * the call) and how it was found ("parameter", "path", "base64",
 * "Proofpoint u=", ...).  Returns the number of targets.
 */
typedef void (*link_found_fn)(void *arg, const char *target, size_t n, const char *how);
size_t link_unwrap(const char *url, const char *host, link_found_fn found, void *arg);

/*
 * The lookalike model (link_look.c): the domains that must not be
 * imitated, built once per classification.  link_look returns 0 (no),
 * 1 (imitates a protected domain) or 2 (a partner), with how in why;
 * host_u may be NULL.  link_targets_named - the target a string (a
 * user name before '@') shows, or NULL.
 */
typedef struct link_targets link_targets;
link_targets *link_targets_new(const mw_config *cfg, const mw_lists *lists);
void link_targets_free(link_targets *ts);
int link_look(const link_targets *ts, const char *host, const char *host_u, const char *dom, char *why, size_t len);
const char *link_targets_named(const link_targets *ts, const char *s);

/* link_judge_all - classify n links; set_note(arg, link, note) stores each note */
void link_judge_all(const link_judge *j, link_url *v, size_t n, void (*set_note)(void *, link_url *, const char *),
                    void *arg);

#endif
