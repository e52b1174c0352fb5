/*
 * NAME
 *	console_keys.c - decode terminal input bytes into keys
 * SYNOPSIS
 *	keys_init(&d);
 *	for each byte b read: if (keys_feed(&d, b, &ev)) handle(ev);
 *	after a pause with keys_pending(&d): keys_flush(&d);
 * DESCRIPTION
 *	A state machine fed one byte at a time, so an escape sequence split
 *	across reads (a serial line delivers bytes when it likes) decodes the
 *	same as one read.  It knows the VT100/ANSI cursor keys in both modes
 *	(ESC [ A and ESC O A), Home/End/Delete in their common forms, the
 *	control keys of a line editor (^H and DEL both erase, ^U, ^W, ^C,
 *	^D, ^L, ^A, ^E, ^P, ^N, ^B, ^F, TAB), and CR, LF or CR LF as one
 *	Enter.  Unknown sequences are swallowed whole; other control bytes
 *	are ignored.  A byte that cannot continue a sequence ends it and is
 *	decoded afresh, so a stray ESC never eats a line.
 *
 *	Pure: no I/O, no allocation, no globals.  tests/fuzz/fuzz_keys.c
 *	feeds it arbitrary bytes.
 * LIMITS
 *	Sequences longer than KEY_SEQ_MAX bytes are abandoned.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "console/console.h"

#include <string.h>

enum { S_NORMAL, S_ESC, S_CSI, S_SS3 };

void keys_init(key_dec *d)
{
	memset(d, 0, sizeof(*d));
}

int keys_pending(const key_dec *d)
{
	return d->state != S_NORMAL;
}

void keys_flush(key_dec *d)
{
	d->state = S_NORMAL;
	d->nseq = 0;
	d->param[0] = 0;
}

/* control key table: byte -> key */
static const struct {
	unsigned char byte;
	key_kind kind;
} controls[] = {
    {0x01, KEY_HOME},  {0x02, KEY_LEFT}, {0x03, KEY_INTR},   {0x04, KEY_EOF},    {0x05, KEY_END},
    {0x06, KEY_RIGHT}, {0x08, KEY_BS},   {0x09, KEY_TAB},    {0x0c, KEY_REDRAW}, {0x0e, KEY_DOWN},
    {0x10, KEY_UP},    {0x15, KEY_KILL}, {0x17, KEY_WERASE}, {0x7f, KEY_DEL},
};

/* final byte of ESC [ ... or ESC O ... -> key */
static const struct {
	char final;
	const char *param; /* NULL: any (no '~') */
	key_kind kind;
} finals[] = {
    {'A', NULL, KEY_UP},   {'B', NULL, KEY_DOWN}, {'C', NULL, KEY_RIGHT}, {'D', NULL, KEY_LEFT},
    {'H', NULL, KEY_HOME}, {'F', NULL, KEY_END},  {'~', "1", KEY_HOME},   {'~', "7", KEY_HOME},
    {'~', "4", KEY_END},   {'~', "8", KEY_END},   {'~', "3", KEY_DELETE},
};

/* final - the key for a complete sequence; 0 if none */
static int final(key_dec *d, unsigned char b, key_ev *ev)
{
	size_t i;

	for (i = 0; i < sizeof(finals) / sizeof(finals[0]); i++) {
		if (finals[i].final != (char)b)
			continue;
		/* "1;5A" (modifiers) still counts as the arrow: compare up to ';' */
		if (finals[i].param && strncmp(d->param, finals[i].param, strcspn(d->param, ";")) != 0)
			continue;
		if (finals[i].param && strcspn(d->param, ";") != strlen(finals[i].param))
			continue;
		keys_flush(d);
		ev->kind = finals[i].kind;
		ev->ch = 0;
		return 1;
	}
	keys_flush(d);
	return 0;
}

/* normal - a byte outside any sequence */
static int normal(key_dec *d, unsigned char b, key_ev *ev)
{
	size_t i;
	int was_cr = d->last_cr;

	d->last_cr = 0;
	ev->ch = 0;
	if (b == 0x1b) {
		d->state = S_ESC;
		return 0;
	}
	if (b == '\r') {
		d->last_cr = 1;
		ev->kind = KEY_ENTER;
		return 1;
	}
	if (b == '\n') {
		if (was_cr)
			return 0; /* CR LF is one Enter */
		ev->kind = KEY_ENTER;
		return 1;
	}
	for (i = 0; i < sizeof(controls) / sizeof(controls[0]); i++)
		if (controls[i].byte == b) {
			ev->kind = controls[i].kind;
			return 1;
		}
	if (b < 0x20)
		return 0;
	ev->kind = KEY_CHAR;
	ev->ch = b;
	return 1;
}

int keys_feed(key_dec *d, unsigned char b, key_ev *ev)
{
	switch (d->state) {
	case S_ESC:
		if (b == '[') {
			d->state = S_CSI;
			return 0;
		}
		if (b == 'O') {
			d->state = S_SS3;
			return 0;
		}
		if (b == 0x1b)
			return 0; /* ESC ESC: still one escape */
		keys_flush(d);
		return normal(d, b, ev);
	case S_CSI:
		if (++d->nseq > KEY_SEQ_MAX) {
			keys_flush(d);
			return normal(d, b, ev);
		}
		if (b >= 0x30 && b <= 0x3f) {
			size_t n = strlen(d->param);
			if (n + 1 < sizeof(d->param)) {
				d->param[n] = (char)b;
				d->param[n + 1] = 0;
			}
			return 0;
		}
		if (b >= 0x20 && b <= 0x2f)
			return 0; /* intermediate bytes */
		if (b >= 0x40 && b <= 0x7e)
			return final(d, b, ev);
		keys_flush(d); /* not part of a sequence: decode it afresh */
		return normal(d, b, ev);
	case S_SS3:
		if (b >= 0x40 && b <= 0x7e)
			return final(d, b, ev);
		keys_flush(d);
		return normal(d, b, ev);
	default: return normal(d, b, ev);
	}
}

const char *keys_name(key_kind k)
{
	static const char *const names[] = {"char", "enter",  "bs", "del",  "delete", "kill", "werase", "intr", "eof",
	                                    "tab",  "redraw", "up", "down", "right",  "left", "home",   "end"};

	return (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
