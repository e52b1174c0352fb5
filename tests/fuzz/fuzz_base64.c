/*
 * NAME
 *	fuzz_base64 - libFuzzer target: streaming base64 decoder
 * DESCRIPTION
 *	Decodes the input whole and split at a point taken from the data;
 *	both results must be equal and within the documented output bound.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_decode.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *a = x_malloc(MIME_B64_OUT_MAX(size) + 8);
	unsigned char *b = x_malloc(MIME_B64_OUT_MAX(size) + 16);
	size_t cut = size ? data[0] % (size + 1) : 0, na, nb;
	mime_b64 s1, s2;

	mime_b64_init(&s1);
	na = mime_b64_decode(&s1, data, size, a);
	na += mime_b64_finish(&s1, a + na);
	mime_b64_init(&s2);
	nb = mime_b64_decode(&s2, data, cut, b);
	nb += mime_b64_decode(&s2, data + cut, size - cut, b + nb);
	nb += mime_b64_finish(&s2, b + nb);
	if (na != nb || memcmp(a, b, na) != 0 || s1.bad != s2.bad || na > MIME_B64_OUT_MAX(size) + 2)
		__builtin_trap();
	x_free(a);
	x_free(b);
	return 0;
}
