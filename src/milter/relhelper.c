/*
 * NAME
 *	relhelper.c - a root helper that runs only the release command
 * SYNOPSIS
 *	relhelper_start(release_command);	(as root, before dropping privileges)
 *	outcome_release() then runs releases through it.
 * DESCRIPTION
 *	mailwardend drops root after binding, but Postfix's sendmail refuses
 *	a private configuration directory (sendmail -C DIR, as the lab and a
 *	multi-instance appliance use) for callers other than root.  So,
 *	like OpenSMTPD's privilege separation, the daemon forks this helper
 *	while still root; it keeps root and does one thing: run the release
 *	command it was given at start, with arguments
 *	  release_command... -f SENDER -- RCPT...
 *	where no SENDER or RCPT may start with '-', or the release probe
 *	([quarantine] release_probe) with one quarantine id, PROBE ID, which
 *	asks the MTA's queue whether a cut-off release reached it; with the
 *	message (or /dev/null) on a
 *	pipe passed over a SOCK_SEQPACKET socketpair (SCM_RIGHTS).  Anything
 *	else is refused.  It answers with the command's wait status and exits
 *	when the daemon goes away (PR_SET_PDEATHSIG, or end of file).  A
 *	command still running after RELEASE_TIMEOUT seconds is killed.
 *
 *	Request: argv strings, NUL-terminated, back to back, in one packet,
 *	with the pipe's read end as ancillary data.  Reply: the int status,
 *	or -1 when refused.  One request at a time (a mutex in the daemon).
 * LIMITS
 *	RH_MAX packet bytes; the release times out after the daemon's timeout.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "outcome/outcome.h"
#include "milter/milter.h"
#include "util/log.h"
#include "store/quarantine.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RH_MAX  (1024 * 1024)         /* QUAR_MAX_RCPTS addresses of up to 320 bytes fit */
#define RH_ARGV (QUAR_MAX_RCPTS + 40) /* the command's own words, -f SENDER --, every recipient */

static int rh_fd = -1;
static pthread_mutex_t rh_mu = PTHREAD_MUTEX_INITIALIZER;

/* rh_check - argv must be the configured command, then -f SENDER -- RCPT... */
static int rh_check(char **argv, int argc, char **cmd, int ncmd)
{
	int i;

	if (ncmd == 0 || argc < ncmd + 4)
		return -1;
	for (i = 0; i < ncmd; i++)
		if (strcmp(argv[i], cmd[i]) != 0)
			return -1;
	if (strcmp(argv[ncmd], "-f") != 0 || strcmp(argv[ncmd + 2], "--") != 0 || argv[ncmd + 1][0] == '-')
		return -1;
	for (i = ncmd + 3; i < argc; i++)
		if (argv[i][0] == '-' || argv[i][0] == 0)
			return -1;
	return 0;
}

/* rh_probe_check - argv must be the configured probe command, then one quarantine id */
static int rh_probe_check(char **argv, int argc, char **probe, int nprobe)
{
	const char *p;
	int i;

	if (nprobe == 0 || argc != nprobe + 1)
		return -1;
	for (i = 0; i < nprobe; i++)
		if (strcmp(argv[i], probe[i]) != 0)
			return -1;
	for (p = argv[nprobe]; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z')))
			return -1;
	return argv[nprobe][0] ? 0 : -1;
}

/* split_words - command words into w (at most 32); returns how many */
static int split_words(char *copy, char **w)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(copy, " \t", &save); tok && n < 32; tok = strtok_r(NULL, " \t", &save))
		w[n++] = tok;
	return n;
}

/* rh_serve - the helper's loop (never returns) */
static void rh_serve(int sock, const char *command, const char *probe_command)
{
	char *copy = x_strdup(command), *pcopy = x_strdup(probe_command ? probe_command : ""), *cmd[32], *probe[32];
	char *buf = x_malloc(RH_MAX + 1);
	int ncmd = split_words(copy, cmd), nprobe = split_words(pcopy, probe);
	for (;;) {
		char ctl[CMSG_SPACE(sizeof(int))];
		struct iovec iov = {buf, RH_MAX};
		struct msghdr mh;
		struct cmsghdr *cm;
		char *argv[RH_ARGV + 1];
		int argc = 0, in = -1, status = -1;
		ssize_t n;
		size_t off = 0;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				memcpy(&in, CMSG_DATA(cm), sizeof(int));
		buf[n] = 0;
		while (off < (size_t)n && argc < RH_ARGV) {
			argv[argc++] = buf + off;
			off += strlen(buf + off) + 1;
		}
		argv[argc] = NULL;
		/* more words than fit: refused, never run for fewer recipients */
		if (in >= 0 && off >= (size_t)n &&
		    (rh_check(argv, argc, cmd, ncmd) == 0 || rh_probe_check(argv, argc, probe, nprobe) == 0)) {
			char err[200];
			pid_t pid = outcome_spawn(argv, in);
			close(in);
			in = -1;
			/* bounded like a local release: a hung command is killed, so
			 * the daemon never reads a stale answer to its next request */
			if (pid < 0 || outcome_reap(pid, RELEASE_TIMEOUT, &status, err, sizeof(err)) < 0)
				status = -1;
		}
		if (in >= 0)
			close(in);
		while (send(sock, &status, sizeof(status), 0) < 0 && errno == EINTR)
			;
	}
}

/* rh_start - send one request; the reply is read by rh_wait (mutex held between) */
static long rh_start(void *ctx, char *const argv[], int stdin_fd, char *err, size_t errlen)
{
	char ctl[CMSG_SPACE(sizeof(int))], *buf = x_malloc(RH_MAX);
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;
	size_t len = 0, i;
	ssize_t n;

	(void)ctx;
	for (i = 0; argv[i]; i++) {
		size_t l = strlen(argv[i]) + 1;
		if (len + l > RH_MAX) {
			snprintf(err, errlen, "release arguments too long");
			x_free(buf);
			return -1;
		}
		memcpy(buf + len, argv[i], l);
		len += l;
	}
	memset(&mh, 0, sizeof(mh));
	memset(ctl, 0, sizeof(ctl));
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl;
	mh.msg_controllen = sizeof(ctl);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &stdin_fd, sizeof(int));
	pthread_mutex_lock(&rh_mu);
	do
		n = sendmsg(rh_fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	x_free(buf);
	if (n < 0) {
		snprintf(err, errlen, "release helper: %s", strerror(errno));
		pthread_mutex_unlock(&rh_mu);
		return -1;
	}
	return 0;
}

static int rh_wait(void *ctx, long handle, int timeout_s, int *status, char *err, size_t errlen)
{
	struct timeval tv = {timeout_s + 10, 0}; /* the helper kills the command at timeout_s */
	ssize_t n;

	(void)ctx;
	(void)handle;
	setsockopt(rh_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do
		n = recv(rh_fd, status, sizeof(*status), 0);
	while (n < 0 && errno == EINTR);
	pthread_mutex_unlock(&rh_mu);
	if (n != sizeof(*status)) {
		snprintf(err, errlen, "release helper: %s", n < 0 ? strerror(errno) : "no answer");
		return -1;
	}
	if (*status == -1) {
		snprintf(err, errlen,
		         "release helper: command refused (only the configured release_command runs) or killed after "
		         "its timeout");
		return -1;
	}
	return 0;
}

static const outcome_runner helper_runner = {rh_start, rh_wait, NULL};

int relhelper_start(const char *release_command, const char *release_probe)
{
	int sv[2];
	pid_t pid;

	if (geteuid() != 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("release helper: socketpair: %m");
		return -1;
	}
	{
		/* one request is one packet: room for RH_MAX bytes (above
		 * net.core.wmem_max, which root may exceed) */
		int sz = 2 * RH_MAX, i;
		for (i = 0; i < 2; i++)
			if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0 ||
			    setsockopt(sv[i], SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
				log_warn("release helper: socket buffers: %m (releases to many recipients may fail)");
	}
	pid = fork();
	if (pid < 0) {
		log_err("release helper: fork: %m");
		return -1;
	}
	if (pid == 0) {
		int fd;
		/* keep nothing of the daemon's: not its listening socket, not the database */
		for (fd = 3; fd < 1024; fd++)
			if (fd != sv[1])
				close(fd);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		prctl(PR_SET_NAME, "mw-release", 0, 0, 0);
		signal(SIGHUP, SIG_IGN);
		rh_serve(sv[1], release_command, release_probe);
	}
	close(sv[1]);
	rh_fd = sv[0];
	outcome_set_runner(&helper_runner);
	log_info("release helper (pid %ld) runs: %s", (long)pid, release_command);
	return 0;
}
