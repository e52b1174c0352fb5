/*
 * NAME
 *	tcp.c - no delayed-ACK stalls on an inet: milter socket
 * SYNOPSIS
 *	linked into mailwardend with -Wl,--wrap=read,--wrap=accept and the
 *	static libmilter.a, so only libmilter's (and this binary's own)
 *	calls to read() and accept() come here; libclamav and SQLite are
 *	shared libraries and keep the plain ones.
 * DESCRIPTION
 *	The milter protocol sends small packets that are not all answered:
 *	the MTA writes a macro packet and then the command, and the milter
 *	writes several modification packets and then its reply.  Over TCP,
 *	Nagle's algorithm holds the second small write until the first is
 *	acknowledged, and the peer delays that ACK by up to 40 ms: measured
 *	here, 9 messages/s over inet: against 119 over a unix socket.
 *	Two settings remove it on our side:
 *	  - TCP_NODELAY on every accepted connection: our writes leave at
 *	    once;
 *	  - TCP_QUICKACK after every read (Linux clears it again by itself):
 *	    the MTA's next write is acknowledged at once, so its Nagle does
 *	    not wait on us.
 *	The listening socket is one or the other for the daemon's lifetime:
 *	the first accepted connection tells whether it is TCP, and on a unix
 *	socket no setsockopt() is made at all (it failed, but it was a system
 *	call per read: about 50 per message).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static atomic_int on_tcp; /* the milter socket is inet: (set at accept) */

ssize_t __real_read(int fd, void *buf, size_t len);
ssize_t __wrap_read(int fd, void *buf, size_t len);
int __real_accept(int fd, struct sockaddr *addr, socklen_t *alen);
int __wrap_accept(int fd, struct sockaddr *addr, socklen_t *alen);

/* __wrap_read - read, then re-arm quick ACKs on a TCP socket */
ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	static const int one = 1;
	ssize_t n = __real_read(fd, buf, len);

	if (n > 0 && on_tcp)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	return n;
}

/* __wrap_accept - accept, then turn Nagle off on a TCP connection */
int __wrap_accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	static const int one = 1;
	int c = __real_accept(fd, addr, alen);

	if (c >= 0) {
		struct sockaddr_storage ss = {0};
		socklen_t sl = sizeof(ss);

		if (getsockname(c, (struct sockaddr *)&ss, &sl) < 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			return c;
		on_tcp = 1;
		(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		(void)setsockopt(c, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
	return c;
}
