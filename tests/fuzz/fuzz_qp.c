/*
 * NAME
 *	fuzz_qp - libFuzzer target: streaming quoted-printable decoder
 * DESCRIPTION
 *	Decodes the input whole and byte by byte; both results must be equal
 *	and within the documented output bound.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_decode.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *a = x_malloc(size + 2 * MIME_QP_SLACK);
	unsigned char *b = x_malloc(size + (size + 1) * MIME_QP_SLACK);
	size_t na, nb = 0, i;
	mime_qp s1, s2;

	mime_qp_init(&s1);
	na = mime_qp_decode(&s1, data, size, a);
	if (na > size + MIME_QP_SLACK)
		__builtin_trap();
	na += mime_qp_finish(&s1, a + na);
	mime_qp_init(&s2);
	for (i = 0; i < size; i++)
		nb += mime_qp_decode(&s2, data + i, 1, b + nb);
	nb += mime_qp_finish(&s2, b + nb);
	if (na != nb || memcmp(a, b, na) != 0 || s1.bad != s2.bad)
		__builtin_trap();
	x_free(a);
	x_free(b);
	return 0;
}
