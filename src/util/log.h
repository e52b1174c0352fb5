/*
 * NAME
 *	log.h - logging to syslog (mail facility) or stderr
 * DESCRIPTION
 *	One call per line.  Untrusted text must go through mw_printable()
 *	first (callers cut it short: Postfix logs %.100s).
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_LOG_H
#define MW_LOG_H

#include <syslog.h>

/* log_init - ident for syslog; to_stderr: log to stderr instead (foreground) */
void log_init(const char *ident, int to_stderr, int debug);
void mw_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   mw_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  mw_log(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  mw_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) mw_log(LOG_DEBUG, __VA_ARGS__)

#endif
