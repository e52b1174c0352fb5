/*
 * NAME
 *	log.c - syslog or stderr logging
 * DESCRIPTION
 *	Foreground daemons and commands log to stderr with a time stamp;
 *	the background daemon logs to syslog, facility mail.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int use_stderr = 1;
static int debug_on;
static const char *log_ident = "mailwarden";

void log_init(const char *ident, int to_stderr, int debug)
{
	log_ident = ident;
	use_stderr = to_stderr;
	debug_on = debug;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void mw_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio == LOG_DEBUG && !debug_on)
		return;
	va_start(ap, fmt);
	if (use_stderr) {
		static const char *names[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
		char line[4096], ts[32];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		localtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%s.%03ld %s: %s: %s\n", ts, now.tv_nsec / 1000000, log_ident, names[prio & 7], line);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}
