/*
 * NAME
 *	console_edit.c - a line editor for dumb serial terminals
 * SYNOPSIS
 *	ed_init(&ed, console_complete);
 *	ed_start(&ed, "mailwarden> ", 1, &out);
 *	while ((st = ed_key(&ed, &ev, &out)) == ED_MORE) ...;
 * DESCRIPTION
 *	Keys (console_keys.c) in, terminal bytes out.  The only output is
 *	text, backspace (move left one column), space and CR LF: no cursor
 *	addressing, no clear-to-end-of-line, no assumption about the width
 *	of the terminal.  Editing in the middle of a line reprints the rest
 *	of the line and backs up over it.  Columns are counted per
 *	character; East Asian wide characters count two (a Japanese subject
 *	typed into `track subject ...` edits correctly).
 *
 *	Keys: Backspace/DEL and ^H erase left, Delete erases under the
 *	cursor, ^U erases the line, ^W the word before the cursor, ^C
 *	abandons the line, ^D on an empty line is end of input, arrows and
 *	^P/^N/^B/^F move and browse history, ^A/^E/Home/End, ^L reprints,
 *	TAB completes through the caller's function (one candidate: it is
 *	inserted; several: their common prefix, or the list is printed).
 *
 *	With echo off (passwords) nothing but the final CR LF is written and
 *	nothing is remembered.
 * LIMITS
 *	ED_MAX bytes per line (further input is refused with BEL), ED_HIST
 *	lines of history, ED_CANDS completion candidates.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "console/console.h"

#include <string.h>

/* cp_len - bytes of the UTF-8 sequence starting with b (1 for anything invalid) */
static size_t cp_len(unsigned char b)
{
	return b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
}

/* cp_width - columns of the code point at s (len bytes) */
static size_t cp_width(const unsigned char *s, size_t len)
{
	unsigned long cp;

	if (len == 1)
		return s[0] < 0x20 || s[0] == 0x7f ? 0 : 1;
	cp = len == 2   ? ((s[0] & 0x1fUL) << 6) | (s[1] & 0x3f)
	     : len == 3 ? ((s[0] & 0x0fUL) << 12) | ((s[1] & 0x3fUL) << 6) | (s[2] & 0x3f)
	                : ((s[0] & 0x07UL) << 18) | ((s[1] & 0x3fUL) << 12) | ((s[2] & 0x3fUL) << 6) | (s[3] & 0x3f);
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
	    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	if (cp >= 0x300 && cp <= 0x36f)
		return 0; /* combining marks */
	return 1;
}

size_t ed_width(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, w = 0;

	while (i < len) {
		size_t n = cp_len(p[i]);
		if (i + n > len)
			n = len - i;
		w += cp_width(p + i, n);
		i += n;
	}
	return w;
}

/* prev_cp - start of the code point before position i */
static size_t prev_cp(const char *s, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* next_cp - position after the code point at i */
static size_t next_cp(const char *s, size_t len, size_t i)
{
	size_t n = cp_len((unsigned char)s[i]);

	return i + n > len ? len : i + n;
}

static void back(mw_buf *out, size_t cols)
{
	while (cols--)
		buf_putc(out, '\b');
}

static void spaces(mw_buf *out, size_t cols)
{
	while (cols--)
		buf_putc(out, ' ');
}

void ed_init(line_ed *e, ed_complete_fn complete)
{
	memset(e, 0, sizeof(*e));
	e->complete = complete;
}

void ed_start(line_ed *e, const char *prompt, int echo, mw_buf *out)
{
	e->len = e->cur = e->npend = 0;
	e->buf[0] = 0;
	e->echo = echo;
	e->hpos = e->nhist;
	mw_strlcpy(e->prompt, prompt, sizeof(e->prompt));
	buf_puts(out, e->prompt);
}

/* erase_range - delete bytes [from, to) and fix the screen; the cursor ends at from */
static void erase_range(line_ed *e, size_t from, size_t to, mw_buf *out)
{
	size_t wdel = ed_width(e->buf + from, to - from), wtail;

	if (e->echo) {
		back(out, ed_width(e->buf + from, e->cur - from));
		buf_append(out, e->buf + to, e->len - to);
		spaces(out, wdel);
		wtail = ed_width(e->buf + to, e->len - to);
		back(out, wtail + wdel);
	}
	memmove(e->buf + from, e->buf + to, e->len - to + 1);
	e->len -= to - from;
	e->cur = from;
}

/* insert - bytes at the cursor; -1 (BEL) when the line is full */
static int insert(line_ed *e, const char *s, size_t n, mw_buf *out)
{
	if (e->len + n > ED_MAX) {
		if (e->echo)
			buf_putc(out, '\a');
		return -1;
	}
	memmove(e->buf + e->cur + n, e->buf + e->cur, e->len - e->cur + 1);
	memcpy(e->buf + e->cur, s, n);
	e->len += n;
	e->cur += n;
	if (e->echo) {
		buf_append(out, e->buf + e->cur - n, e->len - (e->cur - n));
		back(out, ed_width(e->buf + e->cur, e->len - e->cur));
	}
	return 0;
}

/* replace - the whole line becomes s (history), cursor at its end */
static void replace(line_ed *e, const char *s, mw_buf *out)
{
	size_t oldw = ed_width(e->buf, e->len), neww;

	back(out, ed_width(e->buf, e->cur));
	mw_strlcpy(e->buf, s, sizeof(e->buf));
	e->len = e->cur = strlen(e->buf);
	buf_append(out, e->buf, e->len);
	neww = ed_width(e->buf, e->len);
	if (oldw > neww) {
		spaces(out, oldw - neww);
		back(out, oldw - neww);
	}
}

/* redraw - the prompt and the line again on a new line */
static void redraw(line_ed *e, mw_buf *out)
{
	buf_puts(out, "\r\n");
	buf_puts(out, e->prompt);
	buf_append(out, e->buf, e->len);
	back(out, ed_width(e->buf + e->cur, e->len - e->cur));
}

/* complete - TAB */
static void complete(line_ed *e, mw_buf *out)
{
	const char *cands[ED_CANDS];
	size_t n, i, word = e->cur, common, typed;

	if (e->complete == NULL || e->cur != e->len)
		return;
	while (word > 0 && e->buf[word - 1] != ' ')
		word--;
	typed = e->cur - word;
	n = e->complete(e->buf, e->cur, cands, ED_CANDS);
	if (n == 0) {
		buf_putc(out, '\a');
		return;
	}
	common = strlen(cands[0]);
	for (i = 1; i < n; i++) {
		size_t k = 0;
		while (k < common && cands[i][k] == cands[0][k])
			k++;
		common = k;
	}
	if (common > typed) {
		insert(e, cands[0] + typed, common - typed, out);
		if (n == 1)
			insert(e, " ", 1, out);
		return;
	}
	if (n == 1) {
		insert(e, " ", 1, out);
		return;
	}
	/* several: list them, at most 78 columns per line */
	{
		size_t col = 0;
		buf_puts(out, "\r\n");
		for (i = 0; i < n; i++) {
			size_t w = strlen(cands[i]) + 2;
			if (col && col + w > 78) {
				buf_puts(out, "\r\n");
				col = 0;
			}
			buf_puts(out, cands[i]);
			buf_puts(out, "  ");
			col += w;
		}
		redraw(e, out);
	}
}

/* history_add - remember a non-empty line unless it repeats the last one */
static void history_add(line_ed *e)
{
	if (e->len == 0 || !e->echo)
		return;
	if (e->nhist && strcmp(e->hist[e->nhist - 1], e->buf) == 0)
		return;
	if (e->nhist == ED_HIST) {
		memmove(e->hist[0], e->hist[1], sizeof(e->hist[0]) * (ED_HIST - 1));
		e->nhist--;
	}
	mw_strlcpy(e->hist[e->nhist++], e->buf, sizeof(e->hist[0]));
}

/* text - a KEY_CHAR byte: collected until a whole UTF-8 character is there */
static void text(line_ed *e, unsigned char b, mw_buf *out)
{
	size_t want;

	if (e->npend == 0) {
		if (b < 0x80) {
			char c = (char)b;
			insert(e, &c, 1, out);
			return;
		}
		if (b < 0xc2 || b > 0xf4)
			return; /* not a valid first byte */
		e->pend[e->npend++] = (char)b;
		return;
	}
	if ((b & 0xc0) != 0x80) {
		e->npend = 0; /* broken sequence: drop it, take this byte afresh */
		text(e, b, out);
		return;
	}
	e->pend[e->npend++] = (char)b;
	want = cp_len((unsigned char)e->pend[0]);
	if (e->npend == want) {
		if (ctl_utf8_valid((const unsigned char *)e->pend, want))
			insert(e, e->pend, want, out);
		e->npend = 0;
	}
}

ed_status ed_key(line_ed *e, const key_ev *ev, mw_buf *out)
{
	mw_buf sink, *o = out;
	size_t p;

	if (!e->echo) {
		/* nothing of a password reaches the terminal */
		buf_init(&sink, 4096);
		o = &sink;
	}
	if (ev->kind != KEY_CHAR)
		e->npend = 0;
	switch (ev->kind) {
	case KEY_CHAR: text(e, ev->ch, o); break;
	case KEY_ENTER:
		buf_puts(out, "\r\n");
		history_add(e);
		if (!e->echo)
			buf_free(&sink);
		return ED_DONE;
	case KEY_BS:
	case KEY_DEL:
		if (e->cur > 0)
			erase_range(e, prev_cp(e->buf, e->cur), e->cur, o);
		break;
	case KEY_DELETE:
		if (e->cur < e->len)
			erase_range(e, e->cur, next_cp(e->buf, e->len, e->cur), o);
		break;
	case KEY_EOF:
		if (e->len == 0) {
			buf_puts(out, "\r\n");
			if (!e->echo)
				buf_free(&sink);
			return ED_EOF;
		}
		if (e->cur < e->len)
			erase_range(e, e->cur, next_cp(e->buf, e->len, e->cur), o);
		break;
	case KEY_KILL: erase_range(e, 0, e->len, o); break;
	case KEY_WERASE:
		p = e->cur;
		while (p > 0 && e->buf[p - 1] == ' ')
			p--;
		while (p > 0 && e->buf[p - 1] != ' ')
			p--;
		erase_range(e, p, e->cur, o);
		break;
	case KEY_INTR:
		buf_puts(out, "^C\r\n");
		e->len = e->cur = 0;
		e->buf[0] = 0;
		if (!e->echo)
			buf_free(&sink);
		return ED_INTR;
	case KEY_TAB:
		if (e->echo)
			complete(e, o);
		break;
	case KEY_REDRAW:
		if (e->echo)
			redraw(e, o);
		break;
	case KEY_LEFT:
		if (e->cur > 0) {
			p = prev_cp(e->buf, e->cur);
			back(o, ed_width(e->buf + p, e->cur - p));
			e->cur = p;
		}
		break;
	case KEY_RIGHT:
		if (e->cur < e->len) {
			p = next_cp(e->buf, e->len, e->cur);
			buf_append(o, e->buf + e->cur, p - e->cur);
			e->cur = p;
		}
		break;
	case KEY_HOME:
		back(o, ed_width(e->buf, e->cur));
		e->cur = 0;
		break;
	case KEY_END:
		buf_append(o, e->buf + e->cur, e->len - e->cur);
		e->cur = e->len;
		break;
	case KEY_UP:
		if (e->echo && e->hpos > 0) {
			if (e->hpos == e->nhist)
				mw_strlcpy(e->saved, e->buf, sizeof(e->saved));
			e->hpos--;
			replace(e, e->hist[e->hpos], o);
		}
		break;
	case KEY_DOWN:
		if (e->echo && e->hpos < e->nhist) {
			e->hpos++;
			replace(e, e->hpos == e->nhist ? e->saved : e->hist[e->hpos], o);
		}
		break;
	}
	if (!e->echo)
		buf_free(&sink);
	return ED_MORE;
}
