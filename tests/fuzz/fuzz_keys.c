/*
 * NAME
 *	fuzz_keys - libFuzzer target: the console's key decoder and line editor
 * DESCRIPTION
 *	Bytes go through keys_feed() into ed_key() as on the serial line.
 *	The editor must keep its invariants whatever arrives: length within
 *	ED_MAX, cursor within the line, the line NUL-terminated and valid
 *	UTF-8, history entries bounded; output only text, BS, BEL, CR, LF.
 *	The first byte chooses echo on or off.  console_keys.c and
 *	console_edit.c are compiled in here (the console is not in libmw).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "console/console_edit.c"
#include "console/console_keys.c"

#include <stdint.h>
#include <stdlib.h>

static size_t fuzz_complete(const char *line, size_t len, const char **cands, size_t max)
{
	static const char *const names[] = {"status", "sigs", "block", "blocks", "quarantine"};
	size_t i, n = 0, w = len;

	while (w > 0 && line[w - 1] != ' ')
		w--;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && n < max; i++)
		if (strncmp(names[i], line + w, len - w) == 0)
			cands[n++] = names[i];
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	line_ed *e = x_malloc(sizeof(*e));
	key_dec d;
	key_ev ev;
	mw_buf out;
	size_t i, k;
	int echo = size > 0 ? data[0] & 1 : 1;

	ed_init(e, fuzz_complete);
	keys_init(&d);
	buf_init(&out, 0);
	ed_start(e, "> ", echo, &out);
	buf_reset(&out);
	for (i = 1; i < size; i++) {
		ed_status st;
		if (!keys_feed(&d, data[i], &ev))
			continue;
		st = ed_key(e, &ev, &out);
		if (e->len > ED_MAX || e->cur > e->len || e->buf[e->len] != 0 || strlen(e->buf) != e->len ||
		    !ctl_utf8_valid((const unsigned char *)e->buf, e->len) || e->nhist > ED_HIST || e->hpos > e->nhist)
			__builtin_trap();
		for (k = 0; k < out.len; k++) {
			unsigned char c = (unsigned char)out.p[k];
			if (c < 0x20 && c != '\b' && c != '\a' && c != '\r' && c != '\n')
				__builtin_trap();
		}
		if (!echo && st == ED_MORE && out.len)
			__builtin_trap(); /* a password shows nothing */
		if (st != ED_MORE)
			ed_start(e, "> ", echo, &out);
		buf_reset(&out);
	}
	buf_free(&out);
	x_free(e);
	return 0;
}
