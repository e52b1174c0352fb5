/*
 * NAME
 *	appl_priv.c - the privileged helper: applies settings, reboots,
 *	manages the TLS key, injects alert mail
 * SYNOPSIS
 *	priv_start(cfg);	(mailwardend, as root, before dropping privileges)
 *	st = priv_run("postfix", 0, NULL, NULL, 0, &out, err, sizeof(err));
 * DESCRIPTION
 *	Like the release helper (src/milter/relhelper.c), and OpenSMTPD's
 *	privilege separation, the daemon forks this helper while it is still
 *	root; the helper keeps root and nothing else of the daemon (every
 *	other descriptor is closed) and serves requests on a SOCK_SEQPACKET
 *	socketpair, one at a time.  It runs exactly two commands, both read
 *	from the configuration file at start and never from run-time rules:
 *
 *	  "mail" SENDER RCPT...	[quarantine] release_command -f SENDER -- RCPT...
 *	  VERB [NAME...]	[daemon] apply_command VERB [NAME...]
 *
 *	where VERB is one of the apply verbs below (anything else is
 *	refused), SENDER passes cfgcheck_sender(), every RCPT
 *	cfgcheck_address() and every NAME cfgcheck_domain(): no argument can
 *	start with '-' or carry white space or shell syntax.  The command is
 *	run without a shell, with a fixed environment (PATH, LC_ALL=C), its
 *	own process group, the request's input on standard input, and its
 *	standard output and error collected (bounded) for the answer.  A
 *	command still running after its verb's time limit is killed with its
 *	process group.
 *
 *	The apply command re-reads what it applies itself (the configuration
 *	file and the rules of the state database, through the same checks:
 *	`mailwarden appliance`), so the daemon never hands it a value.
 *
 *	Request: u32 input length, then verb and arguments NUL-terminated
 *	back to back, then the input, in one packet.  Answer: i32 status
 *	(exit status; -1 failed or killed; -2 timed out; -3 refused: the
 *	output is the reason and nothing ran), then the output.
 *	The helper exits when the daemon goes away (PR_SET_PDEATHSIG, or end
 *	of file on the socket).
 *
 *	Without root (tests, `mailwarden` run by hand) priv_run() checks the
 *	request the same way and runs the command in this process.
 * LIMITS
 *	PRIV_MAX_INPUT bytes of input, PRIV_MAX_OUTPUT bytes of output (more
 *	is read and dropped), PRIV_MAX_ARGS arguments of PRIV_ARG_MAX bytes;
 *	time limits per verb in verbs[].
 * DIAGNOSTICS
 *	priv_run() returns -1 with the reason in err; the helper logs every
 *	command it runs and its exit status.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "appliance/appliance.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PRIV_MAX_ARGS 60
#define PRIV_ARG_MAX  400
#define PRIV_PACKET   (4 + PRIV_MAX_ARGS * (PRIV_ARG_MAX + 1) + 64 + PRIV_MAX_INPUT)
#define CMD_WORDS     32

typedef enum { ARGS_NONE, ARGS_NAMES, ARGS_MAIL } arg_kind;

static const struct {
	const char *verb;
	arg_kind args;
	int timeout; /* seconds */
	int input;   /* takes standard input */
} verbs[] = {
    {"mail", ARGS_MAIL, 120, 1},           {"postfix", ARGS_NONE, 120, 0}, {"system", ARGS_NONE, 180, 0},
    {"reboot", ARGS_NONE, 30, 0},          {"poweroff", ARGS_NONE, 30, 0}, {"tls-show", ARGS_NONE, 60, 0},
    {"tls-selfsigned", ARGS_NONE, 120, 0}, {"tls-csr", ARGS_NAMES, 60, 0}, {"tls-install", ARGS_NONE, 120, 1},
};

static char *release_cmd, *apply_cmd;
static int helper_fd = -1;
static pid_t helper_pid = -1;
static pthread_mutex_t priv_mu = PTHREAD_MUTEX_INITIALIZER;

/* verb_index - the table entry of verb, or -1 */
static int verb_index(const char *verb)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(verbs); i++)
		if (strcmp(verbs[i].verb, verb) == 0)
			return (int)i;
	return -1;
}

/* split - command words of cmd (a copy in buf) into argv; count, or -1 when not an absolute path */
static int split(const char *cmd, char *buf, size_t buflen, char **argv, size_t max)
{
	char *save = NULL, *tok;
	size_t n = 0;

	if (cmd == NULL || mw_strlcpy(buf, cmd, buflen) >= buflen)
		return -1;
	for (tok = strtok_r(buf, " \t", &save); tok && n < max; tok = strtok_r(NULL, " \t", &save))
		argv[n++] = tok;
	return n > 0 && argv[0][0] == '/' ? (int)n : -1;
}

/*
 * build_argv - check a request and build the argv to run (pointing into
 * cmdbuf and args); the entry index, or -1 with err
 */
static int build_argv(const char *verb, size_t nargs, char *const *args, char **argv, size_t max, char *cmdbuf,
                      size_t buflen, char *err, size_t errlen)
{
	int v = verb_index(verb), n;
	size_t i, k;
	char why[200];

	if (v < 0) {
		snprintf(err, errlen, "unknown action \"%.30s\"", verb);
		return -1;
	}
	for (i = 0; i < nargs; i++)
		if (strlen(args[i]) > PRIV_ARG_MAX || args[i][0] == '-' || args[i][0] == 0) {
			snprintf(err, errlen, "%s: refusing argument %zu", verb, i + 1);
			return -1;
		}
	switch (verbs[v].args) {
	case ARGS_NONE:
		if (nargs) {
			snprintf(err, errlen, "%s takes no arguments", verb);
			return -1;
		}
		break;
	case ARGS_NAMES:
		if (nargs > TLS_MAX_NAMES) {
			snprintf(err, errlen, "%s: at most %d names", verb, TLS_MAX_NAMES);
			return -1;
		}
		for (i = 0; i < nargs; i++)
			if (cfgcheck_domain(args[i], why, sizeof(why)) < 0) {
				snprintf(err, errlen, "%s: %s", verb, why);
				return -1;
			}
		break;
	case ARGS_MAIL:
		if (nargs < 2 || nargs > 51) {
			snprintf(err, errlen, "mail: a sender and 1..50 recipients");
			return -1;
		}
		if (cfgcheck_sender(args[0], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "mail: sender %s", why);
			return -1;
		}
		for (i = 1; i < nargs; i++)
			if (cfgcheck_address(args[i], why, sizeof(why)) < 0) {
				snprintf(err, errlen, "mail: recipient %s", why);
				return -1;
			}
		break;
	}
	if (verbs[v].args == ARGS_MAIL) {
		if ((n = split(release_cmd, cmdbuf, buflen, argv, CMD_WORDS)) < 0) {
			snprintf(err, errlen, "[quarantine] release_command is not an absolute path");
			return -1;
		}
		k = (size_t)n;
		argv[k++] = "-f";
		argv[k++] = args[0];
		argv[k++] = "--";
		for (i = 1; i < nargs && k + 1 < max; i++)
			argv[k++] = args[i];
	} else {
		if (apply_cmd == NULL || apply_cmd[0] == 0) {
			snprintf(err, errlen,
			         "not managed on this host: [daemon] apply_command is empty (settings are saved; "
			         "apply them yourself)");
			return -1;
		}
		if ((n = split(apply_cmd, cmdbuf, buflen, argv, CMD_WORDS)) < 0) {
			snprintf(err, errlen, "[daemon] apply_command is not an absolute path");
			return -1;
		}
		k = (size_t)n;
		argv[k++] = (char *)verbs[v].verb;
		for (i = 0; i < nargs && k + 1 < max; i++)
			argv[k++] = args[i];
	}
	argv[k] = NULL;
	return v;
}

/* set_nonblock - O_NONBLOCK on fd */
static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* drain - read what is available from fd into out (bounded); 0 at end of file or error */
static int drain(int fd, mw_buf *out, size_t *kept)
{
	char chunk[4096];
	ssize_t r = read(fd, chunk, sizeof(chunk));

	if (r > 0) {
		size_t take = *kept + (size_t)r > PRIV_MAX_OUTPUT ? PRIV_MAX_OUTPUT - *kept : (size_t)r;
		buf_append(out, chunk, take);
		*kept += take;
		return 1;
	}
	return r < 0 && (errno == EAGAIN || errno == EINTR) ? 1 : 0;
}

/*
 * exec_bounded - run argv without a shell: input on its standard input,
 * standard output and error into out (at most PRIV_MAX_OUTPUT bytes kept),
 * killed with its process group after timeout seconds.  Reading stops
 * when the command exits (a daemon it started may keep the pipe open).
 * Exit status, -1 when it could not run or died from a signal, -2 after
 * the timeout.
 */
static int exec_bounded(char *const argv[], const char *input, size_t inlen, int timeout, mw_buf *out)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	int in[2] = {-1, -1}, outp[2] = {-1, -1}, status = 0, rc = -1, done = 0;
	size_t written = 0, kept = 0;
	time_t deadline = time(NULL) + timeout;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		buf_printf(out, "pipe: %s\n", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		buf_printf(out, "fork: %s\n", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, envp);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	set_nonblock(in[1]);
	set_nonblock(outp[0]);
	if (inlen == 0) {
		close(in[1]);
		in[1] = -1;
	}
	while (!done) {
		struct pollfd p[2];
		int np = 0;
		pid_t r;

		if (time(NULL) >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			buf_printf(out, "%s: killed after %d s\n", argv[0], timeout);
			rc = -2;
			goto out;
		}
		if (outp[0] >= 0) {
			p[np].fd = outp[0];
			p[np++].events = POLLIN;
		}
		if (in[1] >= 0) {
			p[np].fd = in[1];
			p[np++].events = POLLOUT;
		}
		if (np && poll(p, (nfds_t)np, 200) < 0 && errno != EINTR)
			break;
		if (!np)
			usleep(50000);
		for (int i = 0; i < np; i++) {
			if (p[i].fd == in[1] && (p[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
				ssize_t w = write(in[1], input + written, inlen - written);
				if (w > 0)
					written += (size_t)w;
				if (w < 0 && errno != EAGAIN && errno != EINTR)
					written = inlen; /* the command stopped reading */
				if (written >= inlen) {
					close(in[1]);
					in[1] = -1;
				}
			} else if (p[i].fd == outp[0] && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
				if (!drain(outp[0], out, &kept)) {
					close(outp[0]);
					outp[0] = -1;
				}
			}
		}
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			/* what it wrote before exiting; not what its children write later */
			while (outp[0] >= 0 && drain(outp[0], out, &kept) && kept < PRIV_MAX_OUTPUT) {
				struct pollfd q = {outp[0], POLLIN, 0};
				if (poll(&q, 1, 0) <= 0)
					break;
			}
			done = 1;
		} else if (r < 0 && errno != EINTR) {
			goto out;
		}
	}
	rc = done && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
out:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	return rc;
}

/* run_checked - check and run one request here; status as exec_bounded, -1 with err when refused */
static int run_checked(const char *verb, size_t nargs, char *const *args, const char *input, size_t inlen, mw_buf *out,
                       char *err, size_t errlen)
{
	char *argv[CMD_WORDS + PRIV_MAX_ARGS + 8], cmdbuf[1024];
	int v, st;

	if ((v = build_argv(verb, nargs, args, argv, MW_ARRAY_LEN(argv), cmdbuf, sizeof(cmdbuf), err, errlen)) < 0)
		return -1;
	if (!verbs[v].input)
		inlen = 0;
	st = exec_bounded(argv, input, inlen, verbs[v].timeout, out);
	log_info("privileged helper: %s %s%s: %s %d", argv[0], verb, nargs ? " ..." : "",
	         st == -2 ? "timed out," : "exit status", st);
	if (st == -2)
		snprintf(err, errlen, "%s: no answer within %d s", verb, verbs[v].timeout);
	return st;
}

/* helper_loop - the helper's requests (never returns) */
static void helper_loop(int sock)
{
	char *pkt = x_malloc(PRIV_PACKET + 1);
	mw_buf out;

	buf_init(&out, PRIV_MAX_OUTPUT + 200);
	for (;;) {
		char *args[PRIV_MAX_ARGS + 1], err[300];
		ssize_t n = recv(sock, pkt, PRIV_PACKET, 0);
		uint32_t inlen;
		int32_t status;
		size_t off = 4, nargs = 0;
		const char *verb;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		pkt[n] = 0;
		buf_reset(&out);
		status = -1;
		memcpy(&inlen, pkt, 4);
		if (n < 5 || inlen > PRIV_MAX_INPUT || inlen >= (size_t)n - 4) {
			buf_puts(&out, "malformed request");
			goto answer;
		}
		/* verb and arguments: NUL-terminated strings up to the input */
		verb = pkt + off;
		off += strlen(verb) + 1;
		while (off < (size_t)n - inlen && nargs < PRIV_MAX_ARGS) {
			args[nargs++] = pkt + off;
			off += strlen(pkt + off) + 1;
		}
		args[nargs] = NULL;
		if (off != (size_t)n - inlen) {
			buf_puts(&out, "malformed request");
			goto answer;
		}
		err[0] = 0;
		status = run_checked(verb, nargs, args, pkt + off, inlen, &out, err, sizeof(err));
		if (status == -1 && err[0]) {
			/* refused, nothing ran: the reason is the answer */
			status = -3;
			buf_reset(&out);
			buf_puts(&out, err);
		}
	answer : {
		char *ans = x_malloc(4 + out.len);
		memcpy(ans, &status, 4);
		if (out.len)
			memcpy(ans + 4, out.p, out.len);
		while (send(sock, ans, 4 + out.len, 0) < 0 && errno == EINTR)
			;
		x_free(ans);
	}
	}
}

int priv_start(const mw_config *cfg)
{
	int sv[2], sz = 4 * PRIV_PACKET;
	pid_t pid;

	x_free(release_cmd);
	x_free(apply_cmd);
	release_cmd = x_strdup(cfg->release_command);
	apply_cmd = x_strdup(cfg->apply_command);
	if (geteuid() != 0 || helper_fd >= 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("privileged helper: socketpair: %m");
		return -1;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	pid = fork();
	if (pid < 0) {
		log_err("privileged helper: fork: %m");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		int fd;
		/* keep nothing of the daemon's: no listening socket, no database */
		for (fd = 3; fd < 1024; fd++)
			if (fd != sv[1])
				close(fd);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		prctl(PR_SET_NAME, "mw-priv", 0, 0, 0);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		helper_loop(sv[1]);
	}
	close(sv[1]);
	helper_fd = sv[0];
	helper_pid = pid;
	log_info("privileged helper (pid %ld): release command %s; apply command %s", (long)pid, release_cmd,
	         apply_cmd[0] ? apply_cmd : "(none: settings are saved, not applied)");
	return 0;
}

int priv_configured(void)
{
	return apply_cmd != NULL && apply_cmd[0] != 0;
}

int priv_run(const char *verb, size_t nargs, const char *const *args, const char *input, size_t inlen, mw_buf *out,
             char *err, size_t errlen)
{
	char *pkt, *ans;
	size_t len = 4, i;
	uint32_t il = (uint32_t)inlen;
	int32_t status = -1;
	ssize_t n;
	int v = verb_index(verb);

	err[0] = 0;
	if (v < 0 || nargs > PRIV_MAX_ARGS) {
		snprintf(err, errlen, "unknown action \"%.30s\"", verb);
		return -1;
	}
	if (inlen > PRIV_MAX_INPUT) {
		snprintf(err, errlen, "%s: more than %d bytes of input", verb, PRIV_MAX_INPUT);
		return -1;
	}
	if (helper_fd < 0) {
		char *copy[PRIV_MAX_ARGS + 1];
		for (i = 0; i < nargs; i++)
			copy[i] = (char *)args[i];
		copy[nargs] = NULL;
		if (release_cmd == NULL) {
			snprintf(err, errlen, "the privileged helper was not set up");
			return -1;
		}
		return run_checked(verb, nargs, copy, input, inlen, out, err, errlen);
	}
	pkt = x_malloc(PRIV_PACKET);
	memcpy(pkt, &il, 4);
	for (i = 0; i <= nargs; i++) {
		const char *s = i == 0 ? verb : args[i - 1];
		size_t l = strlen(s) + 1;
		if (l > PRIV_ARG_MAX + 1 || len + l + inlen > PRIV_PACKET) {
			snprintf(err, errlen, "%s: argument too long", verb);
			x_free(pkt);
			return -1;
		}
		memcpy(pkt + len, s, l);
		len += l;
	}
	if (inlen)
		memcpy(pkt + len, input, inlen);
	len += inlen;
	ans = x_malloc(4 + PRIV_MAX_OUTPUT + 400);
	pthread_mutex_lock(&priv_mu);
	do
		n = send(helper_fd, pkt, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(err, errlen, "privileged helper: %s", strerror(errno));
		goto out;
	}
	do
		n = recv(helper_fd, ans, 4 + PRIV_MAX_OUTPUT + 400, 0);
	while (n < 0 && errno == EINTR);
	if (n < 4) {
		snprintf(err, errlen, "privileged helper: %s", n < 0 ? strerror(errno) : "no answer");
		goto out;
	}
	memcpy(&status, ans, 4);
	if (status == -3) { /* refused: the text is the reason, nothing ran */
		char shown[300], *text = x_strndup(ans + 4, (size_t)n - 4);
		snprintf(err, errlen, "%s", mw_printable(shown, sizeof(shown), n > 4 ? text : "refused", 250, 1));
		x_free(text);
		status = -1;
		goto out;
	}
	if (n > 4)
		buf_append(out, ans + 4, (size_t)n - 4);
	if (status == -2)
		snprintf(err, errlen, "%s: timed out", verb);
	else if (status == -1)
		snprintf(err, errlen, "%s: the command failed (killed, or could not run)", verb);
out:
	pthread_mutex_unlock(&priv_mu);
	x_free(pkt);
	x_free(ans);
	return status;
}

void priv_stop(void)
{
	if (helper_fd >= 0) {
		close(helper_fd);
		helper_fd = -1;
	}
	if (helper_pid > 0) {
		int st;
		time_t deadline = time(NULL) + 5;
		while (waitpid(helper_pid, &st, WNOHANG) == 0 && time(NULL) < deadline)
			usleep(20000);
		helper_pid = -1;
	}
}
