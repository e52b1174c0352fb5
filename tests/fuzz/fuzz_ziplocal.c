/*
 * NAME
 *	fuzz_ziplocal - libFuzzer target: the zip local-header chain walker
 * DESCRIPTION
 *	at_zip_local_count() follows local file headers through hostile
 *	sizes (ZIP64 extra fields, sizes past the end, data descriptors).
 *	It must never read outside the input (ASan), must stop within its
 *	max, and must give the same count whether the content is in memory
 *	or in a file.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	at_src mem = {data, -1, size}, file;
	size_t n = 0, n2 = 0;
	int ok, ok2;

	ok = at_zip_local_count(&mem, 50, &n);
	if (n > 51)
		__builtin_trap(); /* counted past its max */
	if (fd < 0) {
		char path[] = "/tmp/fuzz_ziplocal.XXXXXX";
		if ((fd = mkstemp(path)) < 0)
			return 0;
		unlink(path);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	file.mem = NULL;
	file.fd = fd;
	file.len = size;
	ok2 = at_zip_local_count(&file, 50, &n2);
	if (ok != ok2 || n != n2)
		__builtin_trap(); /* memory and file disagree */
	return 0;
}
