/*
 * NAME
 *	spool.h - byte store held in memory up to a bound, spilled to disk above
 * SYNOPSIS
 *	mw_spool *s = spool_new(mem_max, tmpdir);
 *	spool_write(s, buf, len);
 *	spool_mem(s) or spool_fd(s) + spool_pread(s, ...)
 *	spool_free(s);
 * DESCRIPTION
 *	Bytes are appended.  While the total stays at or below mem_max they
 *	live in one heap buffer; the first write that would cross mem_max
 *	moves everything into an unlinked temporary file in tmpdir (O_TMPFILE,
 *	or mkstemp + unlink), mode 0600, and memory is released.  So memory
 *	per spool is at most mem_max whatever the size written.
 * DIAGNOSTICS
 *	spool_write() returns -1 with errno set when the file cannot be made
 *	or written (disk full): the caller turns that into a tempfail.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_SPOOL_H
#define MW_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

typedef struct mw_spool mw_spool;

mw_spool *spool_new(size_t mem_max, const char *tmpdir);
int spool_write(mw_spool *s, const void *buf, size_t len);
size_t spool_size(const mw_spool *s);
/* spool_mem - the bytes when held in memory, else NULL */
const void *spool_mem(const mw_spool *s);
/* spool_fd - the spill file descriptor, or -1 while in memory; owned by the spool */
int spool_fd(const mw_spool *s);
/* spool_pread - read up to len bytes at off from memory or file; returns bytes read or -1 */
ssize_t spool_pread(const mw_spool *s, void *buf, size_t len, off_t off);
/* spool_free - release memory and file; NULL is safe */
void spool_free(mw_spool *s);

/* mw_tmpfile - an unlinked read/write temp file in dir (NULL: $TMPDIR or /tmp); -1 on error */
int mw_tmpfile(const char *dir);

#endif
