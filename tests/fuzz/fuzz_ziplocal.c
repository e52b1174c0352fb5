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
#include "fuzz_src.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_src mem = {data, -1, size}, file;
	size_t n = 0, n2 = 0;
	int ok, ok2;

	ok = at_zip_local_count(&mem, 50, &n);
	if (n > 51)
		__builtin_trap(); /* counted past its max */
	if (fuzz_file_src("fuzz_ziplocal", data, size, &file) < 0)
		return 0;
	ok2 = at_zip_local_count(&file, 50, &n2);
	if (ok != ok2 || n != n2)
		__builtin_trap(); /* memory and file disagree */
	return 0;
}
