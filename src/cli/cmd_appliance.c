/*
 * NAME
 *	cmd_appliance.c - `mailwarden appliance` and `mailwarden tls`: the
 *	root side of applying settings
 * SYNOPSIS
 *	mailwarden appliance env [-c FILE] [-o KEY=VALUE]...
 *	mailwarden appliance render [-c FILE] [-o KEY=VALUE]... [--hostname NAME] TEMPLATE
 *	mailwarden tls show|selfsigned|csr|install [--dir DIR] [NAME...]
 * DESCRIPTION
 *	The appliance's apply command (firmware/overlay/usr/lib/mailwarden/
 *	appliance/apply), run as root by mailwardend's privileged helper or
 *	by rc.boot, calls these; so can an administrator on a maintenance
 *	shell.
 *
 *	appliance env prints the effective settings (the configuration file,
 *	-o overrides and the rules of the state database: what mailwardend
 *	runs with) as shell assignments MW_NAME='value' for `eval`; every
 *	value has passed the configuration's checks (host names, addresses,
 *	CIDR), so none carries shell syntax.
 *
 *	appliance render writes TEMPLATE (Postfix's main.cf.in) to standard
 *	output with @NAME@ filled (appl_render); --hostname is the host name
 *	used when [system] hostname is empty.
 *
 *	tls works on DIR (default SYSCONFDIR/tls; the appliance: /data/etc/tls):
 *	show summarises the chain and key; selfsigned makes a new P-256 key
 *	and a self-signed certificate for NAME... (default: the host name);
 *	csr prints a certificate request for NAME... signed by the key;
 *	install reads a PEM chain on standard input, checks it against the
 *	key and installs it.
 * DIAGNOSTICS
 *	Exit status 0 on success, 1 when refused (a bad chain, a bad name),
 *	4 on usage or configuration errors.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "appliance/appliance.h"
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MW_SYSCONFDIR
#define MW_SYSCONFDIR "/etc/mailwarden"
#endif

static const char appliance_usage[] =
    "Usage: mailwarden appliance env [-c FILE] [-o KEY=VALUE]...\n"
    "       mailwarden appliance render [-c FILE] [-o KEY=VALUE]... [--hostname NAME] TEMPLATE\n"
    "The settings mailwardend runs with (file, -o, rules of the state database),\n"
    "checked, as MW_NAME='value' lines, or filled into a template's @NAME@.\n";

static const char tls_usage[] = "Usage: mailwarden tls show|selfsigned|csr|install [--dir DIR] [NAME...]\n"
                                "  show        the certificate chain and key in DIR\n"
                                "  selfsigned  a new P-256 key and self-signed certificate for NAME...\n"
                                "  csr         a certificate request for NAME... (PEM on standard output)\n"
                                "  install     a PEM chain from standard input, checked against the key\n"
                                "DIR defaults to " MW_SYSCONFDIR "/tls; NAME to the host name.\n";

int cmd_appliance(cli_opts *o)
{
	const char **ov = NULL, *config = NULL, *tmpl = NULL, *host = NULL, *sub;
	size_t nov = 0, len = 0;
	mw_config *cfg = NULL;
	char err[600], kernel[256];
	mw_buf out;
	int a, rc = EXIT_CANNOT;

	buf_init(&out, 0);
	if (o->argc < 1 || strcmp(o->argv[0], "-h") == 0 || strcmp(o->argv[0], "--help") == 0) {
		fputs(appliance_usage, o->argc < 1 ? stderr : stdout);
		return o->argc < 1 ? EXIT_CANNOT : 0;
	}
	sub = o->argv[0];
	for (a = 1; a < o->argc; a++) {
		const char *opt = o->argv[a], *val = a + 1 < o->argc ? o->argv[a + 1] : NULL;
		if (opt[0] != '-') {
			if (tmpl) {
				fprintf(stderr, "mailwarden appliance: one template only\n");
				goto out;
			}
			tmpl = opt;
			continue;
		}
		if (val == NULL) {
			fprintf(stderr, "mailwarden appliance: %s needs a value\n", opt);
			goto out;
		}
		if (strcmp(opt, "-c") == 0 || strcmp(opt, "--config") == 0)
			config = val;
		else if (strcmp(opt, "-o") == 0 || strcmp(opt, "--set") == 0) {
			ov = x_realloc(ov, (nov + 1) * sizeof(*ov));
			ov[nov++] = val;
		} else if (strcmp(opt, "--hostname") == 0)
			host = val;
		else {
			fprintf(stderr, "mailwarden appliance: unknown option %.40s\n", opt);
			goto out;
		}
		a++;
	}
	if (config == NULL && access(MW_SYSCONFDIR "/mailwarden.conf", R_OK) == 0)
		config = MW_SYSCONFDIR "/mailwarden.conf";
	if (appl_effective(config, ov, nov, &cfg, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailwarden appliance: %s\n", err);
		goto out;
	}
	if (strcmp(sub, "env") == 0 && tmpl == NULL) {
		appl_env(cfg, &out);
	} else if (strcmp(sub, "render") == 0 && tmpl) {
		FILE *fp = fopen(tmpl, "re");
		char *text;
		if (fp == NULL) {
			fprintf(stderr, "mailwarden appliance: %s: %m\n", tmpl);
			goto out;
		}
		text = x_malloc(1024 * 1024);
		len = fread(text, 1, 1024 * 1024, fp);
		fclose(fp);
		if (host == NULL && gethostname(kernel, sizeof(kernel)) == 0)
			host = kernel;
		if (appl_render(cfg, host, text, len, &out, err, sizeof(err)) < 0) {
			fprintf(stderr, "mailwarden appliance: %s: %s\n", tmpl, err);
			x_free(text);
			rc = 1;
			goto out;
		}
		x_free(text);
	} else {
		fputs(appliance_usage, stderr);
		goto out;
	}
	fwrite(out.p ? out.p : "", 1, out.len, stdout);
	rc = 0;
out:
	buf_free(&out);
	config_unref(cfg);
	x_free(ov);
	return rc;
}

int cmd_tls(cli_opts *o)
{
	const char *dir = MW_SYSCONFDIR "/tls", *names[TLS_MAX_NAMES], *sub;
	char err[600], host[256];
	size_t n = 0, len;
	mw_buf out;
	int a, rc = EXIT_CANNOT;

	if (o->argc < 1 || strcmp(o->argv[0], "-h") == 0 || strcmp(o->argv[0], "--help") == 0) {
		fputs(tls_usage, o->argc < 1 ? stderr : stdout);
		return o->argc < 1 ? EXIT_CANNOT : 0;
	}
	sub = o->argv[0];
	for (a = 1; a < o->argc; a++) {
		if (strcmp(o->argv[a], "--dir") == 0 && a + 1 < o->argc) {
			dir = o->argv[++a];
		} else if (o->argv[a][0] == '-') {
			fprintf(stderr, "mailwarden tls: unknown option %.40s\n%s", o->argv[a], tls_usage);
			return EXIT_CANNOT;
		} else if (n < TLS_MAX_NAMES) {
			names[n++] = o->argv[a];
		}
	}
	if (n == 0 && gethostname(host, sizeof(host)) == 0)
		names[n++] = host;
	buf_init(&out, 0);
	if (strcmp(sub, "show") == 0) {
		rc = tls_show(dir, &out, err, sizeof(err)) == 0 ? 0 : 1;
	} else if (strcmp(sub, "selfsigned") == 0) {
		rc = tls_selfsigned(dir, names, n, err, sizeof(err)) == 0 && tls_show(dir, &out, err, sizeof(err)) == 0
		         ? 0
		         : 1;
	} else if (strcmp(sub, "csr") == 0) {
		rc = tls_csr(dir, names, n, &out, err, sizeof(err)) == 0 ? 0 : 1;
	} else if (strcmp(sub, "install") == 0) {
		char *pem = mw_read_all(stdin, TLS_MAX_PEM, &len);
		if (pem == NULL) {
			snprintf(err, sizeof(err), "more than %d bytes on standard input", TLS_MAX_PEM);
			rc = 1;
		} else {
			rc = tls_install(dir, pem, len, &out, err, sizeof(err)) == 0 ? 0 : 1;
			x_free(pem);
		}
		if (rc == 0)
			buf_puts(&out, "installed\n");
	} else {
		fputs(tls_usage, stderr);
		buf_free(&out);
		return EXIT_CANNOT;
	}
	if (rc != 0)
		fprintf(stderr, "mailwarden tls %s: %s\n", sub, err);
	fwrite(out.p ? out.p : "", 1, out.len, stdout);
	buf_free(&out);
	return rc;
}
