/*
 * NAME
 *	fuzz_cfgtext - libFuzzer target: the configuration text of `config
 *	import`
 * DESCRIPTION
 *	The input is parsed as configuration text.  Text that parses must
 *	survive a round trip: every operation written back with
 *	cfgtext_write_op() and parsed again gives the same operations.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl.h"
#include "util/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cfgtext t, u;
	char err[300];
	mw_buf b;
	size_t i;

	if (cfgtext_parse((const char *)data, size, &t, err, sizeof(err)) < 0)
		return 0;
	if (t.n > CFGTEXT_MAX_OPS || (t.version != 0 && t.version != 1))
		__builtin_trap();
	buf_init(&b, 0);
	for (i = 0; i < t.n; i++) {
		cfgtext_write_op(&b, &t.ops[i]);
		buf_putc(&b, '\n');
	}
	if (cfgtext_parse(b.p ? b.p : "", b.len, &u, err, sizeof(err)) < 0 || u.n != t.n)
		__builtin_trap();
	for (i = 0; i < t.n; i++) {
		if (u.ops[i].kind != t.ops[i].kind || strcmp(u.ops[i].key, t.ops[i].key) != 0 ||
		    (t.ops[i].value && strcmp(u.ops[i].value, t.ops[i].value) != 0) || u.ops[i].days != t.ops[i].days)
			__builtin_trap();
	}
	cfgtext_free(&u);
	cfgtext_free(&t);
	buf_free(&b);
	return 0;
}
