/*
 * NAME
 *	ctl_server.c - the control socket inside mailwardend
 * SYNOPSIS
 *	ctl_server_open(cfg, err, len);	(root, before dropping privileges)
 *	ctl_server_start(&hooks);	(after the store is opened)
 *	ctl_server_stop();		(at exit)
 * DESCRIPTION
 *	ctl_server_open() also forks the privileged helper (appl_priv.c)
 *	while the daemon is still root, and ctl_server_start() starts the
 *	alert mail thread (src/alert): the daemon's administrative services
 *	start and stop with the control server.
 *
 *	A UNIX stream socket, daemon.control_socket, mode 0660, owned by
 *	daemon.user, group daemon.control_group when set.  The socket file
 *	is created as root, so a group the daemon user is not in can still
 *	be given it.
 *
 *	Each connection is checked with SO_PEERCRED: root, the daemon's own
 *	user and members of control_group are served; anyone else gets
 *	"ERR denied" and a log line.  The audit name of a connection is the
 *	peer's user name; a client may name the person it speaks for
 *	("user NAME", the console's login name), recorded as NAME(peer).
 *
 *	One accept thread; one detached thread per connection, at most
 *	MAX_CONN at a time.  Commands that change state (CTL_F_CHANGE) run
 *	one at a time (change_mu), so a trial, save and rebuild cannot
 *	interleave with another's; every one is logged with its words.
 * LIMITS
 *	MAX_CONN connections (ROOT_RESERVE more for root: the console),
 *	MAX_REQUESTS per connection, IDLE_S seconds without a request closes a
 *	connection (IDLE_BUSY_S while clients are being turned away, so idle
 *	connections cannot lock the console out), SEND_S seconds to write an
 *	answer; request lines and data as in ctl.h.
 * DIAGNOSTICS
 *	Failures to create the socket are returned; the daemon logs them and
 *	carries on without it (mail keeps flowing).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "alert/alert.h"
#include "appliance/appliance.h"
#include "ctl/ctl_int.h"
#include "util/log.h"

#include <stdatomic.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef MW_VERSION
#define MW_VERSION "dev"
#endif

#define MAX_CONN     8
#define ROOT_RESERVE 2 /* more connections for root (the console) when the rest are taken */
#define MAX_REQUESTS 10000
#define IDLE_S       600
#define IDLE_BUSY_S  10 /* while clients are turned away, idle connections close after this */
#define SEND_S       30
#define MAX_DISCARD  (64 * 1024)

static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static gid_t ctl_gid = (gid_t)-1;
static ctl_hooks hooks;
static pthread_t accept_tid;
static int started;
static atomic_int stopping;      /* read by every thread, set by the signal thread */
static atomic_llong turned_away; /* time a client was last refused for lack of a free connection */
static pthread_mutex_t conn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_cv = PTHREAD_COND_INITIALIZER;
static int nconn;
static pthread_mutex_t change_mu = PTHREAD_MUTEX_INITIALIZER;
time_t ctl_started;

/* ---- helpers for the command files ---- */

void ctl_out(ctl_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (c->out.len == 0 || c->out.p[c->out.len - 1] != '\n')
		buf_putc(&c->out, '\n');
}

int ctl_ok(ctl_conn *c, const char *fmt, ...)
{
	va_list ap;

	memcpy(c->final, "OK ", 3);
	va_start(ap, fmt);
	vsnprintf(c->final + 3, sizeof(c->final) - 3, fmt, ap);
	va_end(ap);
	if (c->final[3] == 0)
		c->final[2] = 0;
	return 0;
}

int ctl_err(ctl_conn *c, const char *code, const char *fmt, ...)
{
	int n = snprintf(c->final, sizeof(c->final), "ERR %s ", code);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->final + n, sizeof(c->final) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

mw_store *ctl_store(ctl_conn *c)
{
	mw_store *st = c->h->store ? __atomic_load_n(c->h->store, __ATOMIC_ACQUIRE) : NULL;

	if (st == NULL)
		ctl_err(c, "unavailable", "the state database is not open (see the daemon's log)");
	return st;
}

mw_quar *ctl_quar(ctl_conn *c)
{
	mw_quar *q = c->h->quar ? __atomic_load_n(c->h->quar, __ATOMIC_ACQUIRE) : NULL;

	if (q == NULL)
		ctl_err(c, "unavailable", "the quarantine is not open (see the daemon's log)");
	return q;
}

int ctl_apply(ctl_conn *c)
{
	char err[512];
	mw_store *st = ctl_store(c);

	if (st == NULL)
		return -1;
	if (c->h->rebuild(st, err, sizeof(err)) < 0)
		return ctl_err(c, "failed", "saved, but the new rules do not load: %s", err);
	return 0;
}

int ctl_run_help(ctl_conn *c, size_t argc, char **argv)
{
	size_t n, i;
	const ctl_cmd *t = ctl_commands(&n);

	for (i = 0; argc && i < n; i++)
		if (strcmp(t[i].name, argv[0]) == 0)
			break;
	if (argc && i == n)
		return ctl_err(c, "not-found", "no command \"%.30s\"; type help for the list", argv[0]);
	ctl_help(&c->out, argc ? argv[0] : NULL);
	return ctl_ok(c, "%s", "");
}

/* ---- socket set-up ---- */

int ctl_server_open(const mw_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	uid_t owner = (uid_t)-1;
	int fd = -1;
	mode_t old;

	ctl_started = time(NULL);
	/* as root, before the drop: the helper that applies settings and mails alerts */
	if (priv_start(cfg) < 0)
		log_err("privileged helper not started: settings are saved but not applied, alerts are not mailed");
	if (cfg->control_socket == NULL || cfg->control_socket[0] == 0)
		return 0;
	if (strlen(cfg->control_socket) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "daemon.control_socket %.60s...: path too long", cfg->control_socket);
		return -1;
	}
	if (cfg->control_group[0]) {
		struct group *gr = getgrnam(cfg->control_group);
		if (gr == NULL) {
			snprintf(err, errlen, "daemon.control_group %.60s: no such group", cfg->control_group);
			return -1;
		}
		ctl_gid = gr->gr_gid;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	mw_strlcpy(sa.sun_path, cfg->control_socket, sizeof(sa.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", sa.sun_path);
			close(fd);
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			snprintf(err, errlen, "%s: another daemon is listening there", sa.sun_path);
			close(fd);
			return -1;
		}
		close(fd);
		unlink(sa.sun_path); /* stale, from a daemon that died */
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
	}
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (geteuid() == 0) {
		/* owned by the user the daemon becomes, like the milter socket */
		struct passwd *pw = getpwnam(cfg->user);
		if (pw == NULL && strcmp(cfg->user, "mailwarden") == 0)
			pw = getpwnam("nobody");
		if (pw)
			owner = pw->pw_uid;
	}
	if (chmod(sa.sun_path, 0660) < 0 ||
	    ((owner != (uid_t)-1 || ctl_gid != (gid_t)-1) && chown(sa.sun_path, owner, ctl_gid) < 0) ||
	    listen(fd, 16) < 0) {
		unlink(sa.sun_path);
		goto fail;
	}
	listen_fd = fd;
	mw_strlcpy(sock_path, sa.sun_path, sizeof(sock_path));
	return 0;
fail:
	snprintf(err, errlen, "control socket %s: %s", cfg->control_socket, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- one connection ---- */

typedef struct conn_io {
	int fd;
	char buf[4096];
	size_t have, off;
} conn_io;

/* send_all - write everything within SEND_S seconds; -1 on failure */
static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		struct pollfd pfd = {fd, POLLOUT, 0};
		ssize_t w;

		if (poll(&pfd, 1, SEND_S * 1000) <= 0)
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * read_line - the next line without LF (a CR before it removed) into
 * line; its length, -1 on EOF, error, idle timeout or shutdown, -2 when
 * longer than max (the rest up to its LF is discarded).
 */
static ssize_t read_line(conn_io *io, char *line, size_t max)
{
	size_t n = 0, discarded = 0;
	int waited = 0, toolong = 0;

	for (;;) {
		while (io->off < io->have) {
			char ch = io->buf[io->off++];
			if (ch == '\n') {
				if (toolong)
					return -2;
				if (n > 0 && line[n - 1] == '\r')
					n--;
				line[n] = 0;
				return (ssize_t)n;
			}
			if (n + 1 < max) {
				line[n++] = ch;
			} else {
				toolong = 1;
				if (++discarded > MAX_DISCARD)
					return -1;
			}
		}
		io->off = io->have = 0;
		{
			struct pollfd pfd = {io->fd, POLLIN, 0};
			int r = poll(&pfd, 1, 1000);
			ssize_t got;

			if (stopping)
				return -1;
			if (r == 0) {
				/* idle connections cannot lock others out: while someone
				 * is turned away, an idle one is closed much sooner */
				if (++waited >= IDLE_S ||
				    (waited >= IDLE_BUSY_S && time(NULL) - atomic_load(&turned_away) < IDLE_BUSY_S))
					return -1;
				continue;
			}
			if (r < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			got = recv(io->fd, io->buf, sizeof(io->buf), 0);
			if (got <= 0)
				return -1;
			io->have = (size_t)got;
			waited = 0;
		}
	}
}

/* send_answer - data lines (space-prefixed, made printable) then the final line */
static int send_answer(ctl_conn *c)
{
	mw_buf b;
	size_t i = 0;
	int rc;

	buf_init(&b, 0);
	if (c->out.truncated)
		buf_puts(&c->out, "(output cut)\n");
	while (c->out.p && i < c->out.len) {
		char *nl = memchr(c->out.p + i, '\n', c->out.len - i);
		size_t len = nl ? (size_t)(nl - (c->out.p + i)) : c->out.len - i;
		char save = c->out.p[i + len];

		c->out.p[i + len] = 0;
		buf_putc(&b, ' ');
		ctl_sanitize(&b, c->out.p + i, CTL_MAX_LINE - 3);
		buf_putc(&b, '\n');
		c->out.p[i + len] = save;
		i += len + 1;
	}
	if (c->final[0] == 0)
		ctl_err(c, "failed", "no answer (bug)");
	ctl_sanitize(&b, c->final, CTL_MAX_LINE - 2);
	buf_putc(&b, '\n');
	rc = send_all(c->fd, b.p, b.len);
	buf_free(&b);
	buf_reset(&c->out);
	c->final[0] = 0;
	return rc;
}

/* read_data - space-prefixed lines up to "."; the text ('\n' separated) or NULL after ERR */
static char *read_data(conn_io *io, ctl_conn *c)
{
	char line[CTL_MAX_LINE + 1];
	mw_buf d;
	size_t lines = 0;
	ssize_t n;

	buf_init(&d, CTL_MAX_DATA_BYTES);
	for (;;) {
		n = read_line(io, line, sizeof(line));
		if (n == -1) {
			buf_free(&d);
			return NULL;
		}
		if (n == -2 || ++lines > CTL_MAX_DATA_LINES) {
			ctl_err(c, "too-long", "data line longer than %d bytes or more than %d lines", CTL_MAX_LINE,
			        CTL_MAX_DATA_LINES);
			break;
		}
		if (strcmp(line, ".") == 0) {
			if (d.truncated) {
				ctl_err(c, "too-long", "more than %d bytes of data", CTL_MAX_DATA_BYTES);
				break;
			}
			if (d.p == NULL)
				buf_puts(&d, "");
			return d.p;
		}
		if (line[0] != ' ') {
			ctl_err(c, "syntax", "data lines start with a space; end the data with a line \".\"");
			break;
		}
		buf_puts(&d, line + 1);
		buf_putc(&d, '\n');
	}
	buf_free(&d);
	return NULL;
}

/* peer_allowed - root, our own user, or a member of control_group; fills c->peer */
static int peer_allowed(ctl_conn *c, struct ucred *cr)
{
	struct passwd pw, *pp = NULL;
	char pwbuf[2048];
	gid_t groups[64];
	int ng = (int)MW_ARRAY_LEN(groups), i;

	snprintf(c->peer, sizeof(c->peer), "uid%ld", (long)cr->uid);
	if (getpwuid_r(cr->uid, &pw, pwbuf, sizeof(pwbuf), &pp) == 0 && pp)
		mw_strlcpy(c->peer, pp->pw_name, sizeof(c->peer));
	if (cr->uid == 0 || cr->uid == geteuid())
		return 1;
	if (ctl_gid == (gid_t)-1)
		return 0;
	if (cr->gid == ctl_gid)
		return 1;
	if (pp && getgrouplist(pp->pw_name, pp->pw_gid, groups, &ng) >= 0)
		for (i = 0; i < ng; i++)
			if (groups[i] == ctl_gid)
				return 1;
	return 0;
}

/* valid_login - a console login name: [A-Za-z0-9._@-]{1,32} */
static int valid_login(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("._@-", s[i])))
			return 0;
	return i > 0 && i <= 32;
}

/* dispatch - one parsed request; fills c->final */
static void dispatch(conn_io *io, ctl_conn *c, ctl_req *req)
{
	const ctl_cmd *e;
	char err[300], usage[120];
	size_t skip, argc;
	char **argv;
	char *data = NULL;

	if ((e = ctl_lookup(req->argc, req->argv, &skip, err, sizeof(err))) == NULL) {
		ctl_err(c, strncmp(err, "unknown", 7) == 0 ? "unknown" : "usage", "%s", err);
		return;
	}
	argc = req->argc - skip;
	argv = req->argv + skip;
	ctl_usage(e, usage, sizeof(usage));
	if (argc < e->min || argc > e->max) {
		ctl_err(c, "usage", "usage: %s", usage);
		return;
	}
	if (e->check && e->check(argc, argv, err, sizeof(err)) < 0) {
		ctl_err(c, "invalid", "%s (usage: %s)", err, usage);
		return;
	}
	if (e->flags & CTL_F_DATA) {
		if ((data = read_data(io, c)) == NULL) {
			if (c->final[0] == 0)
				ctl_err(c, "syntax", "connection closed during data");
			c->close_after = 1; /* the rest of the data must not be read as requests */
			return;
		}
		c->data = data;
	}
	if (e->flags & CTL_F_CHANGE) {
		mw_buf words;
		buf_init(&words, 400);
		ctl_join(&words, req->argc, req->argv);
		log_info("control: %s: %s", c->who, mw_printable(err, sizeof(err), words.p, 200, 1));
		buf_free(&words);
		pthread_mutex_lock(&change_mu);
		e->run(c, argc, argv);
		pthread_mutex_unlock(&change_mu);
	} else {
		e->run(c, argc, argv);
	}
	c->data = NULL;
	x_free(data);
}

static void *conn_thread(void *arg)
{
	ctl_conn *c = arg;
	conn_io io;
	ctl_req *req = x_malloc(sizeof(*req));
	char line[CTL_MAX_LINE + 1], err[200];
	struct ucred cr = {0, 0, 0};
	socklen_t crlen = sizeof(cr);
	int served = 0;

	memset(&io, 0, sizeof(io));
	io.fd = c->fd;
	buf_init(&c->out, CTL_MAX_OUT);
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 || !peer_allowed(c, &cr)) {
		log_warn("control socket: refused %s (uid %ld, pid %ld): not root, the daemon's user or in "
		         "daemon.control_group",
		         c->peer, (long)cr.uid, (long)cr.pid);
		ctl_err(c, "denied", "not allowed to use the control socket");
		send_answer(c);
		goto out;
	}
	mw_strlcpy(c->who, c->peer, sizeof(c->who));
	snprintf(line, sizeof(line), "%s %d mailwardend %s\n", CTL_MAGIC, CTL_VERSION, MW_VERSION);
	if (send_all(c->fd, line, strlen(line)) < 0)
		goto out;
	while (served++ < MAX_REQUESTS) {
		ssize_t n = read_line(&io, line, sizeof(line));

		if (n == -1)
			break;
		if (n == -2) {
			ctl_err(c, "too-long", "request longer than %d bytes", CTL_MAX_LINE - 1);
		} else if (ctl_parse_request(line, (size_t)n, req, err, sizeof(err)) < 0) {
			ctl_err(c, "syntax", "%s", err);
		} else if (strcmp(req->argv[0], "quit") == 0) {
			ctl_ok(c, "bye");
			send_answer(c);
			break;
		} else if (strcmp(req->argv[0], "user") == 0) {
			if (req->argc != 2 || !valid_login(req->argv[1])) {
				ctl_err(c, "usage", "usage: user NAME (letters, digits, . _ @ -; at most 32)");
			} else {
				if (strcmp(req->argv[1], c->peer) == 0)
					mw_strlcpy(c->who, c->peer, sizeof(c->who));
				else
					snprintf(c->who, sizeof(c->who), "%s(%s)", req->argv[1], c->peer);
				ctl_ok(c, "speaking for %s", c->who);
			}
		} else {
			dispatch(&io, c, req);
		}
		if (send_answer(c) < 0 || c->close_after)
			break;
	}
out:
	close(c->fd);
	buf_free(&c->out);
	x_free(req);
	x_free(c);
	pthread_mutex_lock(&conn_mu);
	nconn--;
	pthread_cond_broadcast(&conn_cv);
	pthread_mutex_unlock(&conn_mu);
	return NULL;
}

static void *accept_thread(void *arg)
{
	(void)arg;
	while (!stopping) {
		struct pollfd pfd = {listen_fd, POLLIN, 0};
		pthread_attr_t attr;
		pthread_t tid;
		ctl_conn *c;
		int fd, busy;

		if (poll(&pfd, 1, 500) <= 0)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		{
			struct ucred cr;
			socklen_t crlen = sizeof(cr);
			int root = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0 && cr.uid == 0;
			pthread_mutex_lock(&conn_mu);
			busy = nconn >= MAX_CONN + (root ? ROOT_RESERVE : 0);
			if (!busy)
				nconn++;
			pthread_mutex_unlock(&conn_mu);
		}
		if (busy) {
			atomic_store(&turned_away, (long long)time(NULL));
			static const char msg[] = "ERR busy too many control connections, try again\n";
			(void)!send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		c = x_calloc(1, sizeof(*c));
		c->fd = fd;
		c->h = &hooks;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&tid, &attr, conn_thread, c) != 0) {
			close(fd);
			x_free(c);
			pthread_mutex_lock(&conn_mu);
			nconn--;
			pthread_mutex_unlock(&conn_mu);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int ctl_server_start(const ctl_hooks *h)
{
	sigset_t all, old;
	int rc;

	/* our threads take no signals: libmilter's signal thread handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	alert_worker_start(h->cfg, h->store); /* alert mail, with or without a control socket */
	if (listen_fd < 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	hooks = *h;
	stopping = 0;
	rc = pthread_create(&accept_tid, NULL, accept_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	started = 1;
	log_info("control socket %s ready", sock_path);
	return 0;
}

void ctl_server_stop(void)
{
	struct timespec ts;

	alert_worker_stop();
	if (listen_fd < 0)
		return;
	stopping = 1;
	if (started)
		pthread_join(accept_tid, NULL);
	close(listen_fd);
	listen_fd = -1;
	/* connections notice within a second (read_line polls in slices) */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&conn_mu);
	while (nconn > 0)
		if (pthread_cond_timedwait(&conn_cv, &conn_mu, &ts) != 0)
			break;
	pthread_mutex_unlock(&conn_mu);
	if (unlink(sock_path) < 0 && errno != ENOENT)
		log_debug("control socket %s not removed: %m", sock_path);
	started = 0;
}
