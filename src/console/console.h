/*
 * NAME
 *	console.h - the serial console: key decoder, line editor, console
 *	passwords, terminal, and the `console` and `ctl` commands
 * SYNOPSIS
 *	#include "console/console.h"
 *
 *	key_dec d; key_ev ev;
 *	keys_init(&d);
 *	if (keys_feed(&d, byte, &ev)) ed_key(&ed, &ev, &out);
 * DESCRIPTION
 *	The key decoder (console_keys.c) and the line editor
 *	(console_edit.c) are pure: bytes in, events out; events in, bytes
 *	for the terminal out.  They are tested and fuzzed on their own.
 *	The editor writes only printable text, backspace, space and CR LF,
 *	so it works on a dumb serial terminal of any width.
 *
 *	console_passwd.c keeps STATEDIR/console.passwd: one line per user,
 *	NAME:pbkdf2-sha256:ITERATIONS:SALT:HASH (hex), mode 0600.
 *
 *	The console talks to mailwardend only through the control socket
 *	(src/ctl); `passwd`, `logout` and `exit` are local.
 * LIMITS
 *	ED_MAX bytes per line, ED_HIST lines of history, KEY_SEQ_MAX bytes
 *	per escape sequence.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_CONSOLE_H
#define MW_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "ctl/ctl.h"
#include "util/util.h"

/* ---- key decoder (console_keys.c) ---- */

typedef enum key_kind {
	KEY_CHAR,   /* a byte of text (UTF-8 sequences arrive byte by byte) */
	KEY_ENTER,  /* CR, LF or CR LF */
	KEY_BS,     /* ^H */
	KEY_DEL,    /* DEL (0x7f), what most terminals send for Backspace */
	KEY_DELETE, /* ESC [ 3 ~: delete under the cursor */
	KEY_KILL,   /* ^U */
	KEY_WERASE, /* ^W */
	KEY_INTR,   /* ^C */
	KEY_EOF,    /* ^D */
	KEY_TAB,
	KEY_REDRAW, /* ^L */
	KEY_UP,     /* ESC [ A, ESC O A, ^P */
	KEY_DOWN,   /* ESC [ B, ESC O B, ^N */
	KEY_RIGHT,  /* ESC [ C, ESC O C, ^F */
	KEY_LEFT,   /* ESC [ D, ESC O D, ^B */
	KEY_HOME,   /* ESC [ H, ESC O H, ESC [ 1 ~, ESC [ 7 ~, ^A */
	KEY_END     /* ESC [ F, ESC O F, ESC [ 4 ~, ESC [ 8 ~, ^E */
} key_kind;

typedef struct key_ev {
	key_kind kind;
	unsigned char ch; /* KEY_CHAR */
} key_ev;

#define KEY_SEQ_MAX 32

typedef struct key_dec {
	int state;
	int last_cr;
	size_t nseq;
	char param[16];
} key_dec;

void keys_init(key_dec *d);
/* keys_feed - one input byte; 1 with *ev when a key is complete, 0 otherwise */
int keys_feed(key_dec *d, unsigned char b, key_ev *ev);
/* keys_pending - 1 while an escape sequence is incomplete (the caller may time it out) */
int keys_pending(const key_dec *d);
/* keys_flush - forget an incomplete sequence (a lone ESC after a pause) */
void keys_flush(key_dec *d);
/* keys_name - a short name for an event (tests, fuzzing) */
const char *keys_name(key_kind k);

/* ---- line editor (console_edit.c) ---- */

#define ED_MAX   1000 /* bytes per line: below CTL_MAX_LINE */
#define ED_HIST  50
#define ED_CANDS 64

typedef size_t (*ed_complete_fn)(const char *line, size_t len, const char **cands, size_t max);

typedef struct line_ed {
	char buf[ED_MAX + 1];
	size_t len, cur;
	char pend[4]; /* an incomplete UTF-8 sequence */
	size_t npend;
	char prompt[64];
	int echo; /* 0: password entry, nothing is shown */
	char hist[ED_HIST][ED_MAX + 1];
	size_t nhist, hpos;     /* hpos == nhist: editing the new line */
	char saved[ED_MAX + 1]; /* the new line while browsing history */
	ed_complete_fn complete;
} line_ed;

typedef enum ed_status { ED_MORE, ED_DONE, ED_INTR, ED_EOF } ed_status;

/* ed_init - empty editor with no history */
void ed_init(line_ed *e, ed_complete_fn complete);
/* ed_start - a new line: writes the prompt */
void ed_start(line_ed *e, const char *prompt, int echo, mw_buf *out);
/* ed_key - apply one key; terminal output is appended to out; ED_DONE: the line is in e->buf */
ed_status ed_key(line_ed *e, const key_ev *ev, mw_buf *out);
/* ed_width - display columns of UTF-8 text (East Asian wide characters count 2) */
size_t ed_width(const char *s, size_t len);

/* ---- passwords (console_passwd.c) ---- */

#define PW_SALT 16
#define PW_HASH 32
#define PW_LINE 256

/* pw_hash - PBKDF2-HMAC-SHA256; 0 or -1 */
int pw_hash(const char *password, unsigned iterations, const unsigned char *salt, size_t saltlen,
            unsigned char out[PW_HASH]);
/* pw_make - a record line (no newline) for name with a random salt; 0 or -1 */
int pw_make(const char *name, const char *password, unsigned iterations, char *line, size_t len);
/* pw_verify - 1 when password matches the record of name, 0 when not, -1 for a malformed record */
int pw_verify(const char *record, const char *name, const char *password);
/* pw_find - the record of name in file: 1 found, 0 no such user, -1 no file (errno) or unreadable */
int pw_find(const char *path, const char *name, char *record, size_t len);
/* pw_store - replace or add name's record in file (new file 0600, written then renamed); 0 or -1 */
int pw_store(const char *path, const char *name, const char *record);

/* ---- the commands (console_main.c, console_ctl.c) ---- */

/* console_complete - candidates for the word being typed (command table + local commands) */
size_t console_complete(const char *line, size_t len, const char **cands, size_t max);

/*
 * console_main, console_ctl_main - `mailwarden console` and `mailwarden
 * ctl`; argc/argv are the words after the command name.  Exit status 0
 * OK, 1 refused, CONSOLE_EXIT_CANNOT (4) cannot run or connect.
 */
#define CONSOLE_EXIT_CANNOT 4
int console_main(int argc, char **argv);
int console_ctl_main(int argc, char **argv);

#endif
