/*
 * NAME
 *	ctl_client.c - the client side of the control protocol
 * SYNOPSIS
 *	ctl_client *c = ctl_connect("/run/mailwarden/control.sock", "admin", 30, err, len);
 *	ctl_call(c, argc, argv, NULL, print_line, NULL, &resp);
 *	ctl_close(c);
 * DESCRIPTION
 *	Used by `mailwarden ctl` and the console.  ctl_connect() checks the
 *	greeting ("MAILWARDEN-CTL 1 ..."): another major version is refused
 *	rather than guessed at.  ctl_call() quotes the words, sends data
 *	lines for commands that take them (each prefixed with a space, then
 *	"."), and reads data lines until the "OK"/"ERR" line; a line that
 *	is neither is a protocol error.
 * LIMITS
 *	Every read and write waits at most the timeout given to
 *	ctl_connect(); answers are read line by line (CTL_MAX_LINE + slack
 *	per line), never whole.
 * DIAGNOSTICS
 *	"cannot connect to PATH: ..." (the daemon is not running, or the
 *	socket is not accessible), "protocol version N, expected 1",
 *	"connection closed".
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_IN (CTL_MAX_LINE + 64)

struct ctl_client {
	int fd;
	int timeout_ms;
	char buf[4096];
	size_t have, off;
};

/* get_line - next line without LF into out; 0, or -1 on EOF, timeout or an overlong line */
static int get_line(ctl_client *c, char *out, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (c->off < c->have) {
			char ch = c->buf[c->off++];
			if (ch == '\n') {
				out[n] = 0;
				return 0;
			}
			if (n + 1 >= max)
				return -1;
			out[n++] = ch;
		}
		{
			struct pollfd pfd = {c->fd, POLLIN, 0};
			ssize_t got;
			int r = poll(&pfd, 1, c->timeout_ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			got = recv(c->fd, c->buf, sizeof(c->buf), 0);
			if (got <= 0)
				return -1;
			c->have = (size_t)got;
			c->off = 0;
		}
	}
}

static int put_all(ctl_client *c, const char *p, size_t n)
{
	while (n > 0) {
		struct pollfd pfd = {c->fd, POLLOUT, 0};
		ssize_t w;

		if (poll(&pfd, 1, c->timeout_ms) <= 0)
			return -1;
		w = send(c->fd, p, n, MSG_NOSIGNAL);
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

ctl_client *ctl_connect(const char *path, const char *who, int timeout_s, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	ctl_client *c;
	char line[LINE_MAX_IN];
	int version;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %.60s...", path);
		return NULL;
	}
	c = x_calloc(1, sizeof(*c));
	c->timeout_ms = (timeout_s > 0 ? timeout_s : 30) * 1000;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	mw_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s (is mailwardend running?)", path, strerror(errno));
		goto fail;
	}
	if (get_line(c, line, sizeof(line)) < 0) {
		snprintf(err, errlen, "%s: no greeting from the daemon", path);
		goto fail;
	}
	if (strncmp(line, "ERR ", 4) == 0) {
		snprintf(err, errlen, "%s: %.200s", path, line + 4);
		goto fail;
	}
	if (ctl_parse_greeting(line, &version) < 0) {
		snprintf(err, errlen, "%s: not a Mailwarden control socket (greeting \"%.40s\")", path, line);
		goto fail;
	}
	if (version != CTL_VERSION) {
		snprintf(err, errlen, "%s: control protocol version %d, this client speaks %d", path, version,
		         CTL_VERSION);
		goto fail;
	}
	if (who && *who) {
		char *argv[2] = {"user", (char *)who};
		ctl_resp r;
		if (ctl_call(c, 2, argv, NULL, NULL, NULL, &r) < 0 || !r.ok) {
			snprintf(err, errlen, "%s: user %s refused: %.100s", path, who, r.text);
			goto fail;
		}
	}
	return c;
fail:
	ctl_close(c);
	return NULL;
}

int ctl_call(ctl_client *c, size_t argc, char *const *argv, const char *data, void (*fn)(const char *line, void *arg),
             void *arg, ctl_resp *resp)
{
	char line[LINE_MAX_IN];
	const char *text;
	mw_buf req;
	int rc = -1;

	memset(resp, 0, sizeof(*resp));
	buf_init(&req, 0);
	if (ctl_join(&req, argc, argv) < 0) {
		snprintf(resp->text, sizeof(resp->text), "request longer than %d bytes", CTL_MAX_LINE - 1);
		goto out;
	}
	buf_putc(&req, '\n');
	if (data) {
		const char *p = data;
		while (*p) {
			size_t n = strcspn(p, "\n");
			buf_putc(&req, ' ');
			buf_append(&req, p, n);
			buf_putc(&req, '\n');
			p += n + (p[n] == '\n');
		}
		buf_puts(&req, ".\n");
	}
	if (put_all(c, req.p, req.len) < 0) {
		snprintf(resp->text, sizeof(resp->text), "connection closed while sending");
		goto out;
	}
	for (;;) {
		if (get_line(c, line, sizeof(line)) < 0) {
			snprintf(resp->text, sizeof(resp->text),
			         "connection closed or timed out before the answer ended");
			goto out;
		}
		switch (ctl_classify(line, &text)) {
		case CTL_LINE_DATA:
			if (fn)
				fn(text, arg);
			continue;
		case CTL_LINE_OK:
			resp->ok = 1;
			mw_strlcpy(resp->text, text, sizeof(resp->text));
			rc = 0;
			goto out;
		case CTL_LINE_ERR: {
			size_t n = strcspn(text, " ");
			snprintf(resp->code, sizeof(resp->code), "%.*s", (int)(n < 31 ? n : 31), text);
			mw_strlcpy(resp->text, text[n] ? text + n + 1 : "", sizeof(resp->text));
			rc = 0;
			goto out;
		}
		default:
			snprintf(resp->text, sizeof(resp->text), "protocol error: unexpected line \"%.60s\"", line);
			goto out;
		}
	}
out:
	buf_free(&req);
	return rc;
}

void ctl_close(ctl_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	x_free(c);
}
