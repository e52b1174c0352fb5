/*
 * NAME
 *	fuzz_rfc2047 - libFuzzer target: RFC 2047 header decoding
 * DESCRIPTION
 *	The result must be NUL-terminated, within max and valid UTF-8.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_decode.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = size ? data[0] * 4 : 0, n;
	char *s = mime_rfc2047_decode((const char *)data, size, max, &n, NULL);

	if (n > max || strlen(s) != n || !mime_utf8_valid(s, n))
		__builtin_trap();
	x_free(s);
	return 0;
}
