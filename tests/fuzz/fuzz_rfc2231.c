/*
 * NAME
 *	fuzz_rfc2231 - libFuzzer target: Content-* parameter decoding
 * DESCRIPTION
 *	Looks up "filename", "name" and "boundary"; decoded values must be
 *	within max and valid UTF-8.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_decode.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = {"filename", "name"};
	size_t i;
	char *s;

	for (i = 0; i < 2; i++) {
		s = mime_param_get((const char *)data, size, names[i], 300, NULL);
		if (s != NULL) {
			if (strlen(s) > 300 || !mime_utf8_valid(s, strlen(s)))
				__builtin_trap();
			x_free(s);
		}
	}
	s = mime_param_raw((const char *)data, size, "boundary", 70);
	if (s != NULL && strlen(s) > 70)
		__builtin_trap();
	x_free(s);
	return 0;
}
