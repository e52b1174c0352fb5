/*
 * NAME
 *	console_main.c - `mailwarden console`: the serial console
 * SYNOPSIS
 *	mailwarden console [--tty DEVICE] [--baud N] [-c FILE] [-o KEY=VALUE]...
 *			   [--socket PATH] [--passwd FILE] [--idle SECONDS]
 * DESCRIPTION
 *	With --tty the device is opened and set up with termios: the given
 *	speed (default 115200), 8 data bits, no parity, one stop bit, no
 *	flow control, raw input and no output processing; the console
 *	echoes itself and ends lines with CR LF.  Without --tty it runs on
 *	standard input and output (started by getty, or in a pty), which
 *	are put in the same raw mode when they are a terminal and restored
 *	at exit.
 *
 *	Login: a user name and a password checked against the PBKDF2
 *	records of console.passwd (console_passwd.c) in paths.state.  With
 *	no password file the first-boot procedure asks for a password for
 *	the user "admin", twice.  After a failed login the console waits 1
 *	s, then 2, 4, ... up to console.max_delay, discards what was typed
 *	meanwhile and logs the failure; an unknown user costs the same time
 *	as a wrong password.  The count is kept per user name in the state
 *	database (store_login.c), so hanging up and reconnecting, or a new
 *	console process, serves what is left of the wait before the next
 *	password is even checked.  No input for console.idle_timeout logs out.
 *
 *	After login every command line is split into words as the control
 *	protocol does it (so quoting is the same) and sent over the control
 *	socket as the logged-in user (`user NAME`: the audit trail records
 *	NAME(peer)); `passwd`, `setup` (console_setup.c), `logout`, `exit`
 *	and the local part of `help` are handled here.  A command that takes
 *	data (import, config import, tls install) reads pasted lines up to a
 *	line "."; reboot and poweroff ask first; after a change that waits
 *	for `apply` the console offers to run it.  Answers are folded at 79
 *	columns.
 *
 *	At login the console shows the user's unread alerts, and starts the
 *	guided set-up while [system] configured is no.
 * DIAGNOSTICS
 *	Exit status 0 after `exit` or a hang-up, 4 when the terminal cannot
 *	be set up.  Logins, failures and password changes go to syslog.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "console/console_int.h"
#include "store/store.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef MW_VERSION
#define MW_VERSION "dev"
#endif

#define COLS         79
#define ESC_WAIT_MS  100
#define MIN_PASSWORD 8
#define IMPORT_LINES 2000

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static const struct {
	unsigned long baud;
	speed_t speed;
} speeds[] = {
    {1200, B1200},   {2400, B2400},     {4800, B4800},     {9600, B9600},     {19200, B19200},   {38400, B38400},
    {57600, B57600}, {115200, B115200}, {230400, B230400}, {460800, B460800}, {921600, B921600},
};

/* con_write - all of it (a serial line may take a while) */
void con_write(term *t, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(t->out, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = {t->out, POLLOUT, 0};
				poll(&pfd, 1, 1000);
				continue;
			}
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

void con_puts(term *t, const char *s)
{
	con_write(t, s, strlen(s));
}

/* con_line - one line of output folded at COLS columns, CR LF after each piece */
void con_line(term *t, const char *s)
{
	size_t len = strlen(s), start = 0, i = 0, w = 0;

	while (i < len) {
		size_t n = (unsigned char)s[i] >= 0xf0   ? 4
		           : (unsigned char)s[i] >= 0xe0 ? 3
		           : (unsigned char)s[i] >= 0xc0 ? 2
		                                         : 1;
		size_t cw;
		if (i + n > len)
			n = len - i;
		cw = ed_width(s + i, n);
		if (w + cw > COLS) {
			con_write(t, s + start, i - start);
			con_puts(t, "\r\n  ");
			start = i;
			w = 2;
		}
		w += cw;
		i += n;
	}
	con_write(t, s + start, len - start);
	con_puts(t, "\r\n");
}

static int term_open(term *t, const char *dev, unsigned long baud)
{
	struct termios raw;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->in = 0;
	t->out = 1;
	t->own_fd = -1;
	if (dev) {
		if ((t->own_fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "mailwarden console: %s: %s\n", dev, strerror(errno));
			return -1;
		}
		t->in = t->out = t->own_fd;
	}
	if (!isatty(t->in)) {
		if (dev) {
			fprintf(stderr, "mailwarden console: %s is not a terminal\n", dev);
			return -1;
		}
		return 0; /* a pipe: no line discipline to set */
	}
	if (tcgetattr(t->in, &t->saved) < 0)
		return -1;
	raw = t->saved;
	cfmakeraw(&raw);
	raw.c_cflag |= CLOCAL | CREAD;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (dev) {
		raw.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
		raw.c_cflag |= CS8;
		raw.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
		for (i = 0; i < MW_ARRAY_LEN(speeds); i++)
			if (speeds[i].baud == baud)
				break;
		if (i == MW_ARRAY_LEN(speeds)) {
			fprintf(stderr, "mailwarden console: unsupported speed %lu\n", baud);
			return -1;
		}
		cfsetispeed(&raw, speeds[i].speed);
		cfsetospeed(&raw, speeds[i].speed);
	}
	if (tcsetattr(t->in, TCSAFLUSH, &raw) < 0)
		return -1;
	t->raw = 1;
	return 0;
}

static void term_close(term *t)
{
	if (t->raw)
		tcsetattr(t->in, TCSAFLUSH, &t->saved);
	t->raw = 0;
	if (t->own_fd >= 0)
		close(t->own_fd);
	t->own_fd = -1;
}

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* con_read_line - edit one line; the text is in t->ed.buf on RL_DONE */
rl_status con_read_line(term *t, const char *prompt, int echo)
{
	long long last = now_ms();
	mw_buf out;
	rl_status rs = RL_HANGUP;

	buf_init(&out, 0);
	ed_start(&t->ed, prompt, echo, &out);
	con_write(t, out.p, out.len);
	buf_reset(&out);
	for (;;) {
		if (got_signal)
			break;
		if (t->inpos == t->inlen) {
			struct pollfd pfd = {t->in, POLLIN, 0};
			int r = poll(&pfd, 1, keys_pending(&t->dec) ? ESC_WAIT_MS : 1000);
			ssize_t n;

			if (r < 0 && errno != EINTR)
				break;
			if (r <= 0) {
				if (keys_pending(&t->dec))
					keys_flush(&t->dec); /* a lone ESC */
				if (t->idle && now_ms() - last >= (long long)t->idle * 1000) {
					rs = RL_TIMEOUT;
					break;
				}
				continue;
			}
			n = read(t->in, t->inbuf, sizeof(t->inbuf));
			if (n <= 0) {
				if (n < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				break; /* hang-up */
			}
			t->inlen = (size_t)n;
			t->inpos = 0;
			last = now_ms();
		}
		while (t->inpos < t->inlen) {
			key_ev ev;
			ed_status st;

			if (!keys_feed(&t->dec, t->inbuf[t->inpos++], &ev))
				continue;
			st = ed_key(&t->ed, &ev, &out);
			if (out.len) {
				con_write(t, out.p, out.len);
				buf_reset(&out);
			}
			if (st != ED_MORE) {
				buf_free(&out);
				return st == ED_DONE ? RL_DONE : st == ED_INTR ? RL_INTR : RL_EOF;
			}
		}
	}
	buf_free(&out);
	return rs;
}

/* discard_input - what was typed during a login delay */
static void discard_input(term *t)
{
	t->inlen = t->inpos = 0;
	keys_init(&t->dec);
	if (t->raw)
		tcflush(t->in, TCIFLUSH);
}

/* ---- passwords ---- */

/* new_password - ask twice; 0 with the password in out, -1 abandoned */
static int new_password(console *c, char *out, size_t len)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		rl_status rs = con_read_line(&c->t, "New password: ", 0);
		if (rs != RL_DONE)
			return -1;
		mw_strlcpy(out, c->t.ed.buf, len);
		if (strlen(out) < MIN_PASSWORD) {
			con_puts(&c->t, "Too short: at least 8 characters.\r\n");
			continue;
		}
		if (con_read_line(&c->t, "Again: ", 0) != RL_DONE)
			return -1;
		if (strcmp(out, c->t.ed.buf) == 0) {
			memset(c->t.ed.buf, 0, sizeof(c->t.ed.buf));
			return 0;
		}
		con_puts(&c->t, "The two passwords differ; try again.\r\n");
	}
	memset(out, 0, len);
	return -1;
}

/* set_password - store a new record for user; 0 or -1 (reported) */
static int set_password(console *c, const char *user, const char *password)
{
	char rec[PW_LINE];
	long long t0 = now_ms();

	if (pw_make(user, password, (unsigned)c->cfg->console_iterations, rec, sizeof(rec)) < 0 ||
	    pw_store(c->passwd, user, rec) < 0) {
		char msg[300];
		snprintf(msg, sizeof(msg), "Cannot save the password in %s: %s\r\n", c->passwd, strerror(errno));
		con_puts(&c->t, msg);
		return -1;
	}
	log_info("console: password of %s set (%zu PBKDF2 iterations, %lld ms)", user, c->cfg->console_iterations,
	         now_ms() - t0);
	return 0;
}

/* first_boot - no password file: set the admin password */
static int first_boot(console *c)
{
	char pw[300];

	con_puts(&c->t, "\r\nMailwarden console: no console password is set yet (first boot).\r\n"
	                "Choose the password of the console user \"admin\" (at least 8 characters).\r\n");
	if (new_password(c, pw, sizeof(pw)) < 0)
		return -1;
	if (set_password(c, "admin", pw) < 0) {
		memset(pw, 0, sizeof(pw));
		return -1;
	}
	memset(pw, 0, sizeof(pw));
	con_puts(&c->t, "Password set.  Log in as admin.\r\n\r\n");
	return 0;
}

/* check_login - 1 when user/password match; an unknown user costs the same time */
static int check_login(console *c, const char *user, const char *password)
{
	static const char dummy[] = "nobody:pbkdf2-sha256:200000:00000000000000000000000000000000:"
	                            "0000000000000000000000000000000000000000000000000000000000000000";
	char rec[PW_LINE];

	if (pw_find(c->passwd, user, rec, sizeof(rec)) == 1)
		return pw_verify(rec, user, password) == 1;
	pw_verify(dummy, "nobody", password);
	return 0;
}

static void cmd_passwd(console *c)
{
	char pw[300];

	if (con_read_line(&c->t, "Current password: ", 0) != RL_DONE)
		return;
	if (!check_login(c, c->user, c->t.ed.buf)) {
		memset(c->t.ed.buf, 0, sizeof(c->t.ed.buf));
		log_warn("console: passwd by %s: wrong current password", c->user);
		con_puts(&c->t, "Wrong password.\r\n");
		return;
	}
	memset(c->t.ed.buf, 0, sizeof(c->t.ed.buf));
	if (new_password(c, pw, sizeof(pw)) == 0 && set_password(c, c->user, pw) == 0)
		con_puts(&c->t, "Password changed.\r\n");
	memset(pw, 0, sizeof(pw));
}

/* ---- commands ---- */

void con_lines(term *t, const char *text)
{
	const char *p = text;

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		char *line = x_strndup(p, n);
		con_line(t, line);
		x_free(line);
		p += n;
		if (*p)
			p++;
	}
}

int con_yes(console *c, const char *question, int def)
{
	for (;;) {
		const char *a;
		if (con_read_line(&c->t, question, 1) != RL_DONE)
			return 0;
		a = c->t.ed.buf;
		if (*a == 0)
			return def;
		if (strcasecmp(a, "y") == 0 || strcasecmp(a, "yes") == 0)
			return 1;
		if (strcasecmp(a, "n") == 0 || strcasecmp(a, "no") == 0)
			return 0;
		con_puts(&c->t, "Answer yes or no.\r\n");
	}
}

typedef struct call_out {
	console *c;
	mw_buf *out;
	int print; /* 1 folded at 79 columns, 2 as they are */
} call_out;

static void on_data(const char *line, void *arg)
{
	call_out *o = arg;

	if (o->print == 2) {
		con_puts(&o->c->t, line);
		con_puts(&o->c->t, "\r\n");
	} else if (o->print) {
		con_line(&o->c->t, line);
	}
	if (o->out) {
		buf_puts(o->out, line);
		buf_putc(o->out, '\n');
	}
}

int con_call(console *c, size_t argc, const char *const *argv, const char *data, mw_buf *out, int print, ctl_resp *resp)
{
	char err[600];
	ctl_client *cl;
	call_out o = {c, out, print};
	int rc;

	if ((cl = ctl_connect(c->sock, c->user, 150, err, sizeof(err))) == NULL) {
		snprintf(resp->text, sizeof(resp->text), "%s", err);
		resp->ok = 0;
		mw_strlcpy(resp->code, "unavailable", sizeof(resp->code));
		con_puts(&c->t, "error: ");
		con_line(&c->t, err);
		return -1;
	}
	if (ctl_call(cl, argc, (char *const *)argv, data, on_data, &o, resp) < 0) {
		con_puts(&c->t, "error: ");
		con_line(&c->t, resp->text);
		rc = -1;
	} else if (!resp->ok) {
		if (print) {
			snprintf(err, sizeof(err), "error: %s (%s)", resp->text, resp->code);
			con_line(&c->t, err);
		}
		rc = 1;
	} else {
		if (print && resp->text[0])
			con_line(&c->t, resp->text);
		rc = 0;
	}
	ctl_close(cl);
	return rc;
}

/* read_paste - pasted lines up to "." into data; -1 abandoned */
static int read_paste(console *c, const char *what, mw_buf *data)
{
	size_t n = 0;
	char intro[200];

	snprintf(intro, sizeof(intro), "Paste %s, then a line with only \".\" (^C cancels).\r\n", what);
	con_puts(&c->t, intro);
	while (n++ < IMPORT_LINES) {
		if (con_read_line(&c->t, "> ", 1) != RL_DONE) {
			con_puts(&c->t, "Cancelled: nothing was sent.\r\n");
			return -1;
		}
		if (strcmp(c->t.ed.buf, ".") == 0)
			return 0;
		buf_puts(data, c->t.ed.buf);
		buf_putc(data, '\n');
	}
	con_puts(&c->t, "Too many lines.\r\n");
	return -1;
}

/* offer_apply - after a change that waits for `apply` */
static void offer_apply(console *c)
{
	static const char *const apply[] = {"apply"};
	ctl_resp r;

	if (con_yes(c, "These settings take effect at `apply`.  Apply now? [y/N] ", 0))
		con_call(c, 1, apply, NULL, NULL, 1, &r);
	else
		con_puts(&c->t, "Not applied yet: `apply` when you are ready (`config show` lists what waits).\r\n");
}

static void remote(console *c, ctl_req *req)
{
	const ctl_cmd *e;
	char err[300];
	size_t skip;
	mw_buf data, out;
	ctl_resp r;
	int rc;

	buf_init(&data, CTL_MAX_DATA_BYTES);
	buf_init(&out, CTL_MAX_OUT);
	e = ctl_lookup(req->argc, req->argv, &skip, err, sizeof(err));
	if (e && (e->flags & CTL_F_DATA) &&
	    read_paste(c,
	               strcmp(e->name, "tls") == 0 ? "the certificate chain (PEM: the server certificate first)"
	                                           : "the exported lines",
	               &data) < 0)
		goto out;
	if (e && (strcmp(e->name, "reboot") == 0 || strcmp(e->name, "poweroff") == 0)) {
		char q[100];
		snprintf(q, sizeof(q), "Really %s the appliance now? [y/N] ", e->name);
		if (!con_yes(c, q, 0)) {
			con_puts(&c->t, "Not done.\r\n");
			goto out;
		}
	}
	/* an export is printed unfolded: its lines must paste back as they are */
	rc = con_call(c, req->argc, (const char *const *)req->argv,
	              e && (e->flags & CTL_F_DATA) ? (data.p ? data.p : "") : NULL, &out,
	              e && (e->flags & CTL_F_RAW) ? 2 : 1, &r);
	if (rc == 0 && out.p && strstr(out.p, "(needs apply:"))
		offer_apply(c);
out:
	buf_free(&data);
	buf_free(&out);
}

/* local commands: one table for help and dispatch */
static const struct {
	const char *name, *help;
} local_cmds[] = {
    {"setup", "the guided set-up: domains, mail server, network, alerts"},
    {"passwd", "change your console password (the current one first)"},
    {"logout", "end the session (also ^D on an empty line)"},
    {"exit", "end the session and the console (getty starts a new one)"},
};

static void local_help(console *c, const char *topic)
{
	mw_buf b;
	char *line, *rest;
	size_t i, local = 0;

	buf_init(&b, 0);
	for (i = 0; i < MW_ARRAY_LEN(local_cmds); i++)
		if (topic == NULL || strcmp(topic, local_cmds[i].name) == 0) {
			buf_printf(&b, "%-30s %s\n", local_cmds[i].name, local_cmds[i].help);
			local++;
		}
	if (topic == NULL || local == 0)
		ctl_help(&b, topic);
	if (topic == NULL)
		buf_puts(&b, "Keys: Backspace/DEL erase, ^U line, ^W word, ^C cancel, arrows and ^P/^N\n"
		             "history, TAB completes.  Quote words with spaces: \"two words\".\n");
	rest = b.p;
	while (rest && *rest && (line = strsep(&rest, "\n")) != NULL)
		if (*line || rest)
			con_line(&c->t, line);
	buf_free(&b);
}

/* banner - unread alerts, then the set-up when the appliance is not configured */
static void banner(console *c)
{
	static const char *const unread[] = {"alerts", "unread", "10"};
	static const char *const configured[] = {"config", "get", "system.configured"};
	mw_buf out;
	ctl_resp r;
	int rc;

	buf_init(&out, CTL_MAX_OUT);
	if (con_call(c, 3, unread, NULL, &out, 0, &r) == 0 && out.len > 0) {
		char line[200];
		snprintf(line, sizeof(line), "*** %s ***", r.text);
		con_line(&c->t, line);
		con_lines(&c->t, out.p);
	}
	buf_reset(&out);
	rc = con_call(c, 3, configured, NULL, &out, 0, &r);
	if (rc < 0)
		con_puts(&c->t, "(mailwardend is not answering yet: `setup` runs the guided set-up once it does)\r\n");
	if (rc == 0 && out.p && strncmp(out.p, "no", 2) == 0) {
		con_puts(&c->t, "This appliance is not set up yet: the guided set-up follows (^C leaves it;\r\n"
		                "`setup` starts it again).\r\n");
		console_setup(c, 1);
	}
	buf_free(&out);
}

typedef enum { S_LOGOUT, S_EXIT, S_HANGUP } session_end;

static session_end session(console *c)
{
	ctl_req *req = x_malloc(sizeof(*req));
	char err[300], banner_line[200];
	session_end end = S_LOGOUT;

	ed_init(&c->t.ed, console_complete);
	snprintf(banner_line, sizeof(banner_line),
	         "Mailwarden console: %s logged in.  Type help; TAB completes; logout ends.\r\n", c->user);
	con_puts(&c->t, banner_line);
	banner(c);
	for (;;) {
		rl_status rs = con_read_line(&c->t, "mailwarden> ", 1);

		if (rs == RL_TIMEOUT) {
			snprintf(err, sizeof(err), "\r\nNo input for %zu s: logged out.\r\n", c->t.idle);
			con_puts(&c->t, err);
			log_info("console: %s logged out (idle)", c->user);
			break;
		}
		if (rs == RL_HANGUP) {
			end = S_HANGUP;
			break;
		}
		if (rs == RL_EOF)
			break;
		if (rs == RL_INTR || c->t.ed.len == 0)
			continue;
		if (ctl_parse_request(c->t.ed.buf, c->t.ed.len, req, err, sizeof(err)) < 0) {
			if (strstr(err, "empty request"))
				continue;
			con_puts(&c->t, "error: ");
			con_line(&c->t, err);
			continue;
		}
		if (strcmp(req->argv[0], "logout") == 0 || strcmp(req->argv[0], "quit") == 0)
			break;
		if (strcmp(req->argv[0], "exit") == 0) {
			end = S_EXIT;
			break;
		}
		if (strcmp(req->argv[0], "passwd") == 0)
			cmd_passwd(c);
		else if (strcmp(req->argv[0], "setup") == 0 && req->argc == 1)
			console_setup(c, 0);
		else if (strcmp(req->argv[0], "help") == 0)
			local_help(c, req->argc > 1 ? req->argv[1] : NULL);
		else
			remote(c, req);
	}
	if (end != S_HANGUP)
		log_info("console: %s logged out", c->user);
	ed_init(&c->t.ed, NULL); /* no history left for the next user */
	x_free(req);
	return end;
}

/* login_loop - prompts until exit or hang-up */
/* backoff - seconds to wait after failures failed logins in a row: 1, 2, 4 ... console.max_delay */
static unsigned backoff(const console *c, unsigned failures)
{
	unsigned d = failures == 0 ? 0 : failures > 16 ? 1u << 16 : 1u << (failures - 1);

	return d > c->cfg->console_max_delay ? (unsigned)c->cfg->console_max_delay : d;
}

/*
 * state_open, state_close - the state database for one use.  The console
 * starts at boot beside the daemon; run as root, SQLite would create the
 * database's -wal and -shm files as root and leave the daemon (its own
 * user) a read-only database.  So it is opened only while needed, and as
 * the state directory's owner (effective ids only, given back after).
 */
static void id_enter(console *c)
{
	if (c->as_owner && (setegid((gid_t)c->own_gid) < 0 || seteuid((uid_t)c->own_uid) < 0))
		log_warn("console: cannot take the state directory's owner: %s", strerror(errno));
}

static void id_leave(console *c)
{
	if (c->as_owner && (seteuid(0) < 0 || setegid(0) < 0))
		log_warn("console: cannot give back the owner's ids: %s", strerror(errno));
}

static struct mw_store *state_open(console *c)
{
	store_limits lim = {c->cfg->store_max_rows, 2000};
	char err[512];
	struct mw_store *st = NULL;

	id_enter(c);
	if (store_open(c->cfg->state, &lim, &st, err, sizeof(err)) < 0) {
		log_warn("console: state database: %s (login back-off kept in memory only)", err);
		st = NULL;
	}
	id_leave(c);
	c->st_ok = st != NULL;
	return st;
}

static void state_close(console *c, struct mw_store *st)
{
	id_enter(c);
	store_close(st);
	id_leave(c);
}

/* login_wait - before checking a password for user: what is left of its back-off (reconnecting does not reset it) */
static unsigned login_wait(console *c, const char *user)
{
	unsigned failures = c->failures;
	time_t last = 0, now = time(NULL), until;
	struct mw_store *st = state_open(c);
	int rc = st ? store_login_state(st, user, &failures, &last) : -1;

	state_close(c, st);
	if (rc < 0)
		return 0; /* no database: the in-process back-off already slept */
	until = last + (time_t)backoff(c, failures);
	return until > now ? (unsigned)(until - now) : 0;
}

/* login_failed - count the failure (per user in the state database); returns the back-off */
static unsigned login_failed(console *c, const char *user)
{
	unsigned failures = ++c->failures;
	struct mw_store *st = state_open(c);

	if (st && store_login_failed(st, user, time(NULL), &failures) < 0)
		log_warn("console: recording a failed login: %s", store_error(st));
	state_close(c, st);
	return backoff(c, failures);
}

static int login_loop(console *c)
{
	for (;;) {
		char user[40];
		rl_status rs;
		int ok;

		if (got_signal)
			return 0;
		if (access(c->passwd, F_OK) < 0 && errno == ENOENT && first_boot(c) < 0) {
			if (got_signal)
				return 0;
			continue;
		}
		ed_init(&c->t.ed, NULL);
		rs = con_read_line(&c->t, "Mailwarden login: ", 1);
		if (rs == RL_HANGUP)
			return 0;
		if (rs != RL_DONE || c->t.ed.len == 0)
			continue;
		mw_strlcpy(user, c->t.ed.buf, sizeof(user));
		rs = con_read_line(&c->t, "Password: ", 0);
		if (rs == RL_HANGUP)
			return 0;
		if (rs != RL_DONE)
			continue;
		{
			/* a back-off left from before a hang-up is served before the check */
			unsigned wait = login_wait(c, user);
			if (wait > 0)
				sleep(wait);
		}
		ok = check_login(c, user, c->t.ed.buf);
		memset(c->t.ed.buf, 0, sizeof(c->t.ed.buf));
		if (!ok) {
			unsigned delay = login_failed(c, user);
			char u[60];
			log_warn("console: failed login for \"%s\", next try in %u s",
			         mw_printable(u, sizeof(u), user, 32, 0), delay);
			sleep(delay);
			discard_input(&c->t);
			con_puts(&c->t, "Login incorrect.\r\n");
			continue;
		}
		c->failures = 0;
		{
			struct mw_store *st = state_open(c);
			if (st)
				store_login_ok(st, user);
			state_close(c, st);
		}
		mw_strlcpy(c->user, user, sizeof(c->user));
		log_info("console: %s logged in", user);
		if (session(c) != S_LOGOUT)
			return 0;
	}
}

int console_main(int argc, char **argv)
{
	const char *tty = NULL, *sock = NULL, *passwd = NULL;
	unsigned long baud = 115200, idle = (unsigned long)-1;
	const char **ov = NULL;
	size_t nov = 0;
	console *c = x_calloc(1, sizeof(*c));
	const char *conf = NULL;
	struct sigaction sa;
	int a, rc = CONSOLE_EXIT_CANNOT;

	for (a = 0; a < argc; a++) {
		const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
		if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			printf("Usage: mailwarden console [--tty DEVICE] [--baud N] [-c FILE] [-o KEY=VALUE]...\n"
			       "                          [--socket PATH] [--passwd FILE] [--idle SECONDS]\n"
			       "The serial console: login, then the control commands (help lists them).\n");
			rc = 0;
			goto out;
		}
		if (val == NULL) {
			fprintf(stderr, "mailwarden console: %s needs a value (try --help)\n", opt);
			goto out;
		}
		if (strcmp(opt, "--tty") == 0)
			tty = val;
		else if (strcmp(opt, "--baud") == 0)
			baud = strtoul(val, NULL, 10);
		else if (strcmp(opt, "-c") == 0 || strcmp(opt, "--config") == 0)
			conf = val;
		else if (strcmp(opt, "-o") == 0 || strcmp(opt, "--set") == 0) {
			ov = x_realloc(ov, (nov + 1) * sizeof(*ov));
			ov[nov++] = val;
		} else if (strcmp(opt, "--socket") == 0)
			sock = val;
		else if (strcmp(opt, "--passwd") == 0)
			passwd = val;
		else if (strcmp(opt, "--idle") == 0)
			idle = strtoul(val, NULL, 10);
		else {
			fprintf(stderr, "mailwarden console: unknown option %.40s (try --help)\n", opt);
			goto out;
		}
		a++;
	}
	if ((c->cfg = config_open("mailwarden console", conf, ov, nov)) == NULL)
		goto out;
	{
		struct stat sd;
		if (geteuid() == 0 && stat(c->cfg->state, &sd) == 0 && sd.st_uid != 0) {
			c->as_owner = 1;
			c->own_uid = (unsigned)sd.st_uid;
			c->own_gid = (unsigned)sd.st_gid;
		}
	}
	log_init("mailwarden-console", 0, 0);
	c->sock = sock ? sock : c->cfg->control_socket;
	snprintf(c->passwd, sizeof(c->passwd), "%s", passwd ? passwd : "");
	if (passwd == NULL)
		snprintf(c->passwd, sizeof(c->passwd), "%s/console.passwd", c->cfg->state);
	if (term_open(&c->t, tty, baud) < 0)
		goto out;
	c->t.idle = idle != (unsigned long)-1 ? idle : c->cfg->console_idle;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	keys_init(&c->t.dec);
	con_puts(&c->t, "\r\nMailwarden " MW_VERSION " serial console\r\n");
	rc = login_loop(c);
	term_close(&c->t);
out:
	config_unref(c->cfg);
	x_free(ov);
	x_free(c);
	return rc;
}
