/*
 * NAME
 *	fuzz_charset - libFuzzer target: charset conversion to UTF-8
 * DESCRIPTION
 *	The first byte picks a charset from a list (the Japanese ones, UTF-8,
 *	a single-byte one, an unknown one, none); the result must be within
 *	max and valid UTF-8.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "mime/mime_decode.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *cs[] = {"iso-2022-jp",  "shift_jis", "euc-jp", "utf-8",         "us-ascii", "windows-1252",
	                           "x-unknown-cs", NULL,        "utf-16", "iso-2022-jp-3", "gb2312",   "cp932"};
	size_t max, n;
	char *s;

	if (size < 2)
		return 0;
	max = (size_t)data[1] * 3;
	s = mime_charset_to_utf8(cs[data[0] % 12], data + 2, size - 2, max, &n, NULL);
	if (n > max || !mime_utf8_valid(s, n))
		__builtin_trap();
	x_free(s);
	return 0;
}
