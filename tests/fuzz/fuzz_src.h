/*
 * NAME
 *	fuzz_src.h - the fuzz input as a file-backed at_src
 * SYNOPSIS
 *	#include "fuzz_src.h"
 *
 *	at_src file;
 *	if (fuzz_file_src("fuzz_arj", data, size, &file) < 0)
 *		return 0;
 * DESCRIPTION
 *	Targets whose code reads either from memory or from a file check that
 *	both give the same answer: fuzz_file_src writes the input to one
 *	unlinked temporary file per process (made at first use, rewritten at
 *	every input) and points *out at it.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_FUZZ_SRC_H
#define MW_FUZZ_SRC_H

#include "attach/attach_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline int fuzz_file_src(const char *name, const uint8_t *data, size_t size, at_src *out)
{
	static int fd = -1;

	if (fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/tmp/%s.XXXXXX", name);
		if ((fd = mkstemp(path)) < 0)
			return -1;
		unlink(path);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return -1;
	out->mem = NULL;
	out->fd = fd;
	out->len = size;
	return 0;
}

#endif
