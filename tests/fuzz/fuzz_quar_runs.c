/*
 * NAME
 *	fuzz_quar_runs - libFuzzer target: the base64 runs kept copies store apart
 * DESCRIPTION
 *	quar_find_runs() over the input with a minimum taken from the data:
 *	at most max runs, in order, apart, each at least min bytes, starting
 *	at a line start and ending with its LF, holding only whole lines of
 *	at least 40 base64 characters (a CR only before the LF).  The same
 *	input fed as a prefix finds no run that ends past the prefix.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/quarantine.h"

#include <stdint.h>
#include <string.h>

static int b64(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
	       c == '=';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	quar_run r[8], p[8];
	size_t min = size ? (size_t)data[0] * 4 : 1, n, np, i, k, cut = size / 2;

	n = quar_find_runs(data, size, min, r, 8);
	if (n > 8)
		__builtin_trap();
	for (i = 0; i < n; i++) {
		size_t line = 0;
		if (r[i].len < min || r[i].len == 0 || r[i].off + r[i].len > size)
			__builtin_trap();
		if (i > 0 && r[i].off <= r[i - 1].off + r[i - 1].len)
			__builtin_trap();
		if (r[i].off > 0 && data[r[i].off - 1] != '\n')
			__builtin_trap();
		if (data[r[i].off + r[i].len - 1] != '\n')
			__builtin_trap();
		for (k = r[i].off; k < r[i].off + r[i].len; k++) {
			uint8_t c = data[k];
			if (c == '\n') {
				if (line < 40)
					__builtin_trap();
				line = 0;
			} else if (c == '\r') {
				if (data[k + 1] != '\n')
					__builtin_trap();
			} else if (b64(c)) {
				line++;
			} else {
				__builtin_trap();
			}
		}
	}
	np = quar_find_runs(data, cut, min, p, 8);
	for (i = 0; i < np; i++)
		if (p[i].off + p[i].len > cut)
			__builtin_trap();
	return 0;
}
