/*
 * NAME
 *	ex_memo.h - what an extractor found in some bytes, kept, so the same
 *	bytes again are not parsed again (ex_memo.c)
 * SYNOPSIS
 *	#include "extract/ex_memo.h"
 *
 *	ex_memo *m = ex_memo_new(8 * 1024 * 1024);
 *	rc = ex_memo_run(m, f, hash, data, len, &lim, &out);
 *	ex_memo_free(m);
 * DESCRIPTION
 *	An extractor is a function of its input bytes and its limits: given
 *	the same bytes and limits it emits the same objects, links and
 *	findings in the same order.  ex_memo_run() runs f over data while
 *	recording what it emits; when the same format, limits, length and
 *	keyed hash come again, it replays the recording to out instead of
 *	parsing.  The caller sees the same calls either way.
 *
 *	hash is the caller's SipHash-2-4 of the bytes under the process's
 *	secret key (util/hash.h, mw_hash_key()): the coverage set's hash.
 *	Without the key nobody can make other bytes hash alike, so nobody
 *	can make content take another content's findings.
 * LIMITS
 *	At most max_bytes of recordings (objects' bytes, strings and a fixed
 *	cost per item and entry), least recently used first out; a recording
 *	over a quarter of max_bytes, or over EX_MEMO_ENTRY_MAX, is not kept,
 *	nor one whose run failed or was stopped by a callback.  At most
 *	EX_MEMO_ENTRIES entries.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_EX_MEMO_H
#define MW_EX_MEMO_H

#include "extract/extract.h"

#include <stddef.h>
#include <stdint.h>

#define EX_MEMO_ENTRIES   4096
#define EX_MEMO_ENTRY_MAX (4u * 1024 * 1024)

typedef struct ex_memo ex_memo;

typedef struct ex_memo_stat {
	unsigned long hits, misses, kept;
	size_t entries, bytes;
} ex_memo_stat;

/* ex_memo_new - a memo of at most max_bytes; NULL (none) for 0 */
ex_memo *ex_memo_new(size_t max_bytes);
void ex_memo_free(ex_memo *m);

/* ex_memo_run - f->run(data, len, lim, out), or its recorded calls replayed to out; f->run's answer (m may be NULL) */
int ex_memo_run(ex_memo *m, const ex_format *f, uint64_t hash, const void *data, size_t len, const ex_limits *lim,
                const mw_emit *out);

void ex_memo_stats(ex_memo *m, ex_memo_stat *out);

#endif
