/*
 * NAME
 *	fuzz_arj - libFuzzer target: the ARJ header chain check
 * DESCRIPTION
 *	at_arj_check() follows ARJ headers through hostile sizes, CRCs,
 *	extended headers and packed sizes past the end, and searches for a
 *	file header when the main header is damaged.  It must never read
 *	outside the input (ASan), must give a reason whenever it says
 *	ARJ_BROKEN, and must give the same answer whether the content is in
 *	memory or in a file.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"
#include "fuzz_src.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_src mem = {data, -1, size}, file;
	char why[120], why2[120];
	int r, r2;

	r = at_arj_check(&mem, why, sizeof(why));
	if (r != ARJ_NOT && r != ARJ_WHOLE && r != ARJ_BROKEN)
		__builtin_trap();
	if (r == ARJ_BROKEN && why[0] == '\0')
		__builtin_trap(); /* a finding without a reason */
	if (fuzz_file_src("fuzz_arj", data, size, &file) < 0)
		return 0;
	r2 = at_arj_check(&file, why2, sizeof(why2));
	if (r != r2 || strcmp(why, why2) != 0)
		__builtin_trap(); /* memory and file disagree */
	return 0;
}
