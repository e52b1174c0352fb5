/*
 * NAME
 *	cli.h - the mailwarden command's shared options and helpers
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_CLI_H
#define MW_CLI_H

#include <stddef.h>

#include "policy/policy.h"

typedef struct cli_opts {
	const char *config;
	const char **overrides;
	size_t noverrides;
	const char *sigs;
	const char *state;
	const char *from;
	const char *client, *helo; /* scan: SMTP client address and HELO name (sender authentication) */
	const char **rcpts;
	size_t nrcpts;
	int quiet;
	int json;
	int sample, check, show;
	int body;
	size_t limit;
	/* track criteria */
	const char *t_sender, *t_domain, *t_rcpt, *t_subject, *t_hash, *t_name, *t_link, *t_action;
	const char *t_since, *t_until, *t_qstate;
	const char *t_claimed, *t_auth;
	int argc;
	char **argv;
} cli_opts;

#define EXIT_CANNOT 4

/* load_config - the configuration file (explicit, or the default if present) plus -o overrides */
mw_config *load_config(cli_opts *o);

int cmd_quarantine(cli_opts *o);
int cmd_track(cli_opts *o);
int cmd_sigs(cli_opts *o);
/* cmd_appliance.c: the root side of applying settings */
int cmd_appliance(cli_opts *o);
int cmd_tls(cli_opts *o);

#endif
