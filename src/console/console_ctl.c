/*
 * NAME
 *	console_ctl.c - `mailwarden ctl`: one control command from a script
 * SYNOPSIS
 *	mailwarden ctl [--socket PATH] [-c FILE] [-o KEY=VALUE]... [--user NAME]
 *		       [--timeout S] COMMAND [ARG]...
 * DESCRIPTION
 *	Each argument is one word of the request (quoted for the wire here,
 *	so "block sender a@b.example 0 phishing wave" needs no shell
 *	quoting beyond the shell's own).  Data lines of the answer go to
 *	standard output as they are; the final "OK ..." or "ERR code ..."
 *	line goes to standard error.  A command that takes data (import,
 *	config import, setup apply, tls install) sends standard input.  The socket is --socket, else
 *daemon.control_socket of the configuration (-c, or the default file).
 *
 *	Also here: console_complete(), the completion the console's editor
 *	uses, from the same command table.
 * DIAGNOSTICS
 *	Exit status 0 for OK, 1 for ERR, 4 when the daemon cannot be reached
 *	or the command line is wrong.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "console/console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char ctl_usage_text[] = "Usage: mailwarden ctl [--socket PATH] [-c FILE] [-o KEY=VALUE]... [--user NAME]\n"
                                     "                      [--timeout S] COMMAND [ARG]...\n"
                                     "Sends one command to mailwardend's control socket (daemon.control_socket).\n"
                                     "Data goes to stdout, the final OK/ERR line to stderr; commands that take\n"
                                     "data (import, config import, tls install) read stdin.\n"
                                     "Exit status: 0 OK, 1 ERR, 4 cannot connect or bad usage.\n"
                                     "Commands (mailwarden ctl help COMMAND for details):\n";

static const char *const local_words[] = {"setup", "passwd", "logout", "exit"};

size_t console_complete(const char *line, size_t len, const char **cands, size_t max)
{
	const ctl_cmd *tab;
	size_t n, i, k, nc = 0, word = len, nwords = 0, p = 0;
	char first[40] = "";

	tab = ctl_commands(&n);
	while (word > 0 && line[word - 1] != ' ')
		word--;
	/* which word is being typed, and the first word */
	while (p < word) {
		size_t s;
		while (p < word && line[p] == ' ')
			p++;
		s = p;
		while (p < word && line[p] != ' ')
			p++;
		if (p > s) {
			if (nwords == 0)
				snprintf(first, sizeof(first), "%.*s", (int)(p - s), line + s);
			nwords++;
		}
	}
	for (i = 0; i < n && nc < max; i++) {
		const char *cand = NULL;
		if (nwords == 0 || (nwords == 1 && strcmp(first, "help") == 0))
			cand = tab[i].name;
		else if (nwords == 1 && tab[i].sub && strcmp(first, tab[i].name) == 0)
			cand = tab[i].sub;
		if (cand == NULL || strncmp(cand, line + word, len - word) != 0)
			continue;
		for (k = 0; k < nc; k++)
			if (strcmp(cands[k], cand) == 0)
				break;
		if (k == nc)
			cands[nc++] = cand;
	}
	for (i = 0; nwords == 0 && i < MW_ARRAY_LEN(local_words) && nc < max; i++)
		if (strncmp(local_words[i], line + word, len - word) == 0)
			cands[nc++] = local_words[i];
	return nc;
}

static void print_line(const char *line, void *arg)
{
	(void)arg;
	puts(line);
}

int console_ctl_main(int argc, char **argv)
{
	const char *sock = NULL, *user = NULL, *timeout = "60";
	const char **ov = NULL;
	size_t nov = 0, n;
	int a = 0, rc = CONSOLE_EXIT_CANNOT;
	const char *conf = NULL;
	mw_config *cfg = NULL;
	ctl_client *c = NULL;
	char err[512], *data = NULL;
	ctl_resp r;
	mw_buf help;

	for (a = 0; a < argc && argv[a][0] == '-'; a++) {
		const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
		if (strcmp(opt, "--") == 0) {
			a++;
			break;
		}
		if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			a = argc;
			break;
		}
		if (val == NULL) {
			fprintf(stderr, "mailwarden ctl: %s needs a value\n", opt);
			goto out;
		}
		if (strcmp(opt, "--socket") == 0 || strcmp(opt, "-S") == 0)
			sock = val;
		else if (strcmp(opt, "-c") == 0 || strcmp(opt, "--config") == 0)
			conf = val;
		else if (strcmp(opt, "-o") == 0 || strcmp(opt, "--set") == 0) {
			ov = x_realloc(ov, (nov + 1) * sizeof(*ov));
			ov[nov++] = val;
		} else if (strcmp(opt, "--user") == 0)
			user = val;
		else if (strcmp(opt, "--timeout") == 0)
			timeout = val;
		else {
			fprintf(stderr, "mailwarden ctl: unknown option %.40s (try mailwarden ctl --help)\n", opt);
			goto out;
		}
		a++;
	}
	if (a >= argc) {
		buf_init(&help, 0);
		ctl_help(&help, NULL);
		fputs(ctl_usage_text, stderr);
		fputs(help.p, stderr);
		buf_free(&help);
		goto out;
	}
	if (sock == NULL) {
		if ((cfg = config_open("mailwarden ctl", conf, ov, nov)) == NULL)
			goto out;
		sock = cfg->control_socket;
		if (*sock == 0) {
			fprintf(stderr, "mailwarden ctl: daemon.control_socket is empty in %s\n", cfg->source);
			goto out;
		}
	}
	{
		size_t skip;
		const ctl_cmd *e = ctl_lookup((size_t)(argc - a), argv + a, &skip, err, sizeof(err));
		if (e && (e->flags & CTL_F_DATA) && (data = mw_read_all(stdin, CTL_MAX_DATA_BYTES, NULL)) == NULL) {
			fprintf(stderr, "mailwarden ctl: %s: more than %d bytes on stdin\n", argv[a],
			        CTL_MAX_DATA_BYTES);
			goto out;
		}
	}
	if ((c = ctl_connect(sock, user, atoi(timeout), err, sizeof(err))) == NULL) {
		fprintf(stderr, "mailwarden ctl: %s\n", err);
		goto out;
	}
	n = (size_t)(argc - a);
	if (ctl_call(c, n, argv + a, data, print_line, NULL, &r) < 0) {
		fprintf(stderr, "mailwarden ctl: %s\n", r.text);
		goto out;
	}
	fflush(stdout);
	if (r.ok) {
		if (r.text[0])
			fprintf(stderr, "OK %s\n", r.text);
		rc = 0;
	} else {
		fprintf(stderr, "ERR %s %s\n", r.code, r.text);
		rc = 1;
	}
out:
	ctl_close(c);
	config_unref(cfg);
	x_free(ov);
	x_free(data);
	return rc;
}
