/*
 * NAME
 *	console_int.h - the serial console's internals shared by its files
 * DESCRIPTION
 *	console_main.c owns the terminal, the login and the command loop;
 *	console_setup.c the guided set-up.  Both write through con_line()
 *	(folded at 79 columns, CR LF) and read through con_read_line(), and
 *	talk to the daemon with con_call().
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_CONSOLE_INT_H
#define MW_CONSOLE_INT_H

#include "console/console.h"

#include <termios.h>

typedef enum rl_status { RL_DONE, RL_INTR, RL_EOF, RL_TIMEOUT, RL_HANGUP } rl_status;

typedef struct term {
	int in, out, own_fd;
	int raw;
	struct termios saved;
	key_dec dec;
	line_ed ed;
	unsigned char inbuf[512];
	size_t inlen, inpos;
	size_t idle; /* seconds; 0 never */
} term;

typedef struct console {
	term t;
	mw_config *cfg;
	const char *sock;
	char passwd[1024];
	char user[40];
	unsigned failures; /* without a state database: failures in this process */
	int st_ok;         /* the state database (failed logins per user, kept across reconnects) opened once */
	int as_owner;      /* run as root: open it as the state directory's owner */
	unsigned own_uid, own_gid;
} console;

/* con_write, con_puts - raw output; con_line - one line folded at 79 columns, CR LF after it */
void con_write(term *t, const char *p, size_t n);
void con_puts(term *t, const char *s);
void con_line(term *t, const char *s);
/* con_lines - every line of text (\n separated) through con_line */
void con_lines(term *t, const char *text);
/* con_read_line - edit one line; the text is in t->ed.buf on RL_DONE */
rl_status con_read_line(term *t, const char *prompt, int echo);
/* con_yes - ask a yes/no question; 1 yes, 0 no (or ^C, hang-up); def: the answer to an empty line */
int con_yes(console *c, const char *question, int def);

/*
 * con_call - send one request (words; data: request data or NULL) as the
 * logged-in user.  Data lines go to out (may be NULL) and, if print, to
 * the terminal; resp gets the final line.  0 OK, 1 ERR (printed when
 * print), -1 the daemon could not be reached (printed).
 */
int con_call(console *c, size_t argc, const char *const *argv, const char *data, mw_buf *out, int print,
             ctl_resp *resp);

/* console_setup - the guided set-up (console_setup.c); 0 applied, 1 nothing applied */
int console_setup(console *c, int first);

#endif
