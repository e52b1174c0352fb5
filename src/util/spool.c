/*
 * NAME
 *	spool.c - memory-bounded byte store with spill to an unlinked file
 * DESCRIPTION
 *	See spool.h.  The spill file is created with O_TMPFILE where the file
 *	system supports it, else mkstemp() followed by unlink(), so nothing is
 *	left behind even when the process is killed.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "util/spool.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mw_spool {
	char *mem;
	size_t len;
	size_t cap;
	size_t mem_max;
	int fd;
	char *tmpdir;
};

/* mw_tmpfile - anonymous temporary file */
int mw_tmpfile(const char *dir)
{
	char path[4096];
	int fd;

	if (dir == NULL || *dir == 0)
		dir = getenv("TMPDIR");
	if (dir == NULL || *dir == 0)
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	if ((size_t)snprintf(path, sizeof(path), "%s/mailwarden.XXXXXX", dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -1;
	unlink(path);
	return fd;
}

mw_spool *spool_new(size_t mem_max, const char *tmpdir)
{
	mw_spool *s = x_calloc(1, sizeof(*s));

	s->mem_max = mem_max;
	s->fd = -1;
	s->tmpdir = tmpdir ? x_strdup(tmpdir) : NULL;
	return s;
}

/* spool_write - append; spills to disk when mem_max would be crossed */
int spool_write(mw_spool *s, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (s->fd < 0 && s->len + len > s->mem_max) {
		int fd = mw_tmpfile(s->tmpdir);
		if (fd < 0)
			return -1;
		if (s->len && mw_write_all(fd, s->mem, s->len) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		s->fd = fd;
		x_free(s->mem);
		s->mem = NULL;
		s->cap = 0;
	}
	if (s->fd >= 0) {
		if (mw_write_all(s->fd, buf, len) < 0)
			return -1;
		s->len += len;
		return 0;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + len)
			cap *= 2;
		if (cap > s->mem_max && s->mem_max >= s->len + len)
			cap = s->mem_max;
		s->mem = x_realloc(s->mem, cap);
		s->cap = cap;
	}
	memcpy(s->mem + s->len, buf, len);
	s->len += len;
	return 0;
}

size_t spool_size(const mw_spool *s)
{
	return s->len;
}

const void *spool_mem(const mw_spool *s)
{
	if (s->fd >= 0)
		return NULL;
	return s->mem ? s->mem : "";
}

int spool_fd(const mw_spool *s)
{
	return s->fd;
}

ssize_t spool_pread(const mw_spool *s, void *buf, size_t len, off_t off)
{
	if (off < 0 || (size_t)off >= s->len)
		return 0;
	if (len > s->len - (size_t)off)
		len = s->len - (size_t)off;
	if (s->fd < 0) {
		memcpy(buf, s->mem + off, len);
		return (ssize_t)len;
	}
	for (;;) {
		ssize_t n = pread(s->fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

void spool_free(mw_spool *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	x_free(s->mem);
	x_free(s->tmpdir);
	x_free(s);
}
