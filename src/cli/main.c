/*
 * NAME
 *	main.c - the `mailwarden` command: scan, reasons, config
 * SYNOPSIS
 *	mailwarden scan [options] FILE|-
 *	mailwarden links [--json] [-f ADDR] [-c F] [-o k=v]... FILE|-
 *	mailwarden reasons [--json]
 *	mailwarden config [--sample | --check | --show] [--config F] [-o k=v]...
 * DESCRIPTION
 *	A thin adapter: commands are a table; `scan` builds a message, calls
 *	engine_scan() and prints the JSON verdict, exactly what mailwardend
 *	would decide for the same bytes and envelope.
 * DIAGNOSTICS
 *	Exit status of scan: 0 accept or tag, 1 hold or quarantine, 2 reject,
 *	3 tempfail, 4 could not run (usage, configuration, unreadable file).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"
#include "engine/engine.h"
#include "links/links.h"
#include "policy/policy.h"
#include "store/store.h"
#include "util/log.h"
#include "util/util.h"
#include "cli/cli.h"
#include "console/console.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#ifndef MW_VERSION
#define MW_VERSION "dev"
#endif
#ifndef MW_SYSCONFDIR
#define MW_SYSCONFDIR "/etc/mailwarden"
#endif

static const char usage_text[] = "Usage: mailwarden COMMAND [OPTIONS]\n"
                                 "\n"
                                 "Mailwarden is an inline mail-gateway filter.  This command gives the\n"
                                 "administrator and the tests the same verdict engine the milter uses.\n"
                                 "\n"
                                 "Commands:\n"
                                 "  scan [OPTIONS] FILE|-   print the verdict for one message as JSON\n"
                                 "  links [OPTIONS] FILE|-  every link of a message (or an HTML file): URL,\n"
                                 "                          registrable domain, classes, redirector targets\n"
                                 "                          (via=...); --json for one object;\n"
                                 "                          -f ADDR in a protected domain: sender is not external\n"
                                 "  reasons [--json]        list every reason code, its default action and meaning\n"
                                 "  config --sample         print a commented configuration with all defaults\n"
                                 "  config --check          check the configuration file (exit status 0 if good)\n"
                                 "  config --show           print the effective configuration\n"
                                 "  quarantine list [--state-of STATE] [--limit N] [--json]\n"
                                 "                          STATE: held, quarantined, released or kept\n"
                                 "  quarantine show ID [--body]   metadata, reasons; --body decrypts the message\n"
                                 "  quarantine release ID     deliver once through [quarantine] release_command\n"
                                 "  quarantine delete ID      remove the encrypted file\n"
                                 "  track [--sender A] [--domain D] [--to R] [--subject S] [--hash H] [--name N]\n"
                                 "        [--link D] [--action A] [--claimed D] [--auth R] [--since T]\n"
                                 "        [--until T] [--limit N] [--json]\n"
                                 "                          who got what: T is an age (30m, 24h, 7d) or a\n"
                                 "                          date (2026-11-22 or 2026-11-22T10:00); --claimed:\n"
                                 "                          envelope or From domain D (or below); --auth: pass,\n"
                                 "                          fail, temperror, permerror or none\n"
                                 "  sigs status|verify [DIR]|rollback   signature sets: live, previous,\n"
                                 "                          last good; verify checks .cvd/.cld signatures and\n"
                                 "                          loads the set; rollback restores the previous set\n"
                                 "  sigs import [--allow-unsigned] [--replace] PATH...|--paste NAME\n"
                                 "                          new signature files (USB stick, or pasted):\n"
                                 "                          verified, swapped in, the daemon reloaded;\n"
                                 "                          unsigned .ndb/.hdb... only with --allow-unsigned\n"
                                 "                          (recorded in the audit trail)\n"
                                 "  sigs update             freshclam into a staging copy, verified, swapped in\n"
                                 "  ctl [--socket PATH] COMMAND [ARG]...   one command to mailwardend's control\n"
                                 "                          socket (mailwarden ctl help lists them); exit 0 OK,\n"
                                 "                          1 ERR, 4 cannot connect\n"
                                 "  console [--tty DEVICE] [--baud N]   the serial console: login, then commands\n"
                                 "                          (docs/console.md)\n"
                                 "  appliance env|render    the settings mailwardend runs with (file and rules),\n"
                                 "                          for the appliance's apply command (docs/appliance.md)\n"
                                 "  tls show|selfsigned|csr|install [--dir DIR]   the SMTP server certificate\n"
                                 "  help                    this text;  --version  the version\n"
                                 "\n"
                                 "Options (scan and config):\n"
                                 "  -c, --config FILE   configuration file (default\n"
                                 "                      " MW_SYSCONFDIR "/mailwarden.conf when it exists,\n"
                                 "                      else the embedded defaults)\n"
                                 "  -o, --set KEY=VALUE override one key, e.g. -o limits.max_mime_depth=20\n"
                                 "                      or -o actions.mime.malformed=quarantine (repeatable)\n"
                                 "\n"
                                 "Options (scan):\n"
                                 "  -s, --sigs DIR      ClamAV signature directory (like clamscan -d),\n"
                                 "                      overrides paths.signatures\n"
                                 "      --state DIR     state directory shared with the daemon (paths.state)\n"
                                 "  -f, --from ADDR     envelope sender\n"
                                 "  -r, --rcpt ADDR     envelope recipient (repeatable)\n"
                                 "      --client IP     SMTP client address (SPF; with [auth] enable)\n"
                                 "      --helo NAME     HELO/EHLO name the client gave\n"
                                 "  -q, --quiet         print nothing; only the exit status\n"
                                 "\n"
                                 "scan output: one JSON object on one line:\n"
                                 "  {\"action\": \"accept|tag|hold|quarantine|reject|tempfail\",\n"
                                 "   \"reasons\": [{\"code\", \"detail\", \"part\", \"action\"}...], \"subject\",\n"
                                 "   \"from\", \"parts\": [...], \"signatures\", \"elapsed_ms\", ...}\n"
                                 "\n"
                                 "Exit status of scan: 0 accept or tag, 1 hold or quarantine, 2 reject,\n"
                                 "3 tempfail (e.g. no signature database), 4 could not run.\n"
                                 "\n"
                                 "Examples:\n"
                                 "  mailwarden scan --sigs /var/lib/clamav message.eml\n"
                                 "  mailwarden scan -f a@example.net -r staff@example.com - < message.eml\n"
                                 "  mailwarden config --check -c /etc/mailwarden/mailwarden.conf\n"
                                 "\n"
                                 "See also: mailwardend --help, README.md (reason codes, configuration).\n";

static void add_str(const char ***v, size_t *n, const char *s)
{
	*v = x_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* load_config - file (explicit or default if present) plus overrides (--sigs and --state among them) */
mw_config *load_config(cli_opts *o)
{
	return config_open("mailwarden", o->config, o->overrides, o->noverrides);
}

/* path_override - "key=value" for --sigs/--state, added to the overrides; the caller frees it */
static char *path_override(cli_opts *o, const char *key, const char *value)
{
	char *s;

	if (value == NULL)
		return NULL;
	s = x_malloc(strlen(key) + strlen(value) + 2);
	sprintf(s, "%s=%s", key, value);
	add_str(&o->overrides, &o->noverrides, s);
	return s;
}

/* cmd_console, cmd_ctl - the serial console and the control client (src/console) */
static int cmd_console(cli_opts *o)
{
	return console_main(o->argc, o->argv);
}

static int cmd_ctl(cli_opts *o)
{
	return console_ctl_main(o->argc, o->argv);
}

static int exit_for(mw_action a)
{
	switch (a) {
	case MW_ACCEPT:
	case MW_TAG: return 0;
	case MW_HOLD:
	case MW_QUARANTINE: return 1;
	case MW_REJECT: return 2;
	default: return 3;
	}
}

/* cmd_scan - verdict for one file or stdin */
static int cmd_scan(cli_opts *o)
{
	mw_config *cfg = NULL;
	av_engine *av = NULL;
	mw_msg *m = NULL;
	mw_result *res = NULL;
	mw_lists *lists = NULL;
	mw_store *store = NULL;
	mw_verdict *rv = NULL;
	size_t naccepted = 0;
	mw_env env;
	mw_buf out;
	char err[512], buf[65536];
	const char *file;
	int fd = -1, rc = EXIT_CANNOT;
	size_t i;
	ssize_t n;

	buf_init(&out, 0);
	if (o->argc != 1) {
		fprintf(stderr, "mailwarden scan: expected exactly one FILE or -\n");
		goto out;
	}
	file = o->argv[0];
	if ((cfg = load_config(o)) == NULL)
		goto out;
	memset(&env, 0, sizeof(env));
	if (o->state) {
		/* The daemon's state: its run-time rules and list edits apply
		 * here as there (src/scan/env.c), and history is updated. */
		store_limits lim = {cfg->store_max_rows, 5000};
		env.store_required = 1;
		if (store_open(cfg->state, &lim, &store, err, sizeof(err)) < 0) {
			fprintf(stderr, "mailwarden scan: state: %s (verdict: tempfail)\n", err);
		} else {
			mw_config *eff = env_config(config_file_path(o->config), o->overrides, o->noverrides, store,
			                            NULL, err, sizeof(err));
			if (eff == NULL) {
				fprintf(stderr, "mailwarden scan: state: %s\n", err);
				goto out;
			}
			config_unref(cfg);
			cfg = eff;
		}
		env.store = store;
	}
	fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "mailwarden scan: %s: %s\n", file, strerror(errno));
		goto out;
	}
	m = msg_new(cfg);
	if (o->from)
		msg_set_sender(m, o->from);
	msg_set_client(m, o->client ? o->client : "", "", o->helo ? o->helo : "");
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mailwarden scan: reading %s: %s\n", file, strerror(errno));
			goto out;
		}
		if (msg_write(m, buf, (size_t)n) < 0) {
			fprintf(stderr, "mailwarden scan: spooling: %s\n", strerror(errno));
			goto out;
		}
	}
	if (av_global_init(err, sizeof(err)) < 0 ||
	    (av = av_engine_load(cfg->signatures, cfg, err, sizeof(err))) == NULL)
		fprintf(stderr, "mailwarden scan: antivirus: %s (verdict: tempfail)\n", err);
	if ((lists = env_lists(cfg, store, time(NULL), err, sizeof(err))) == NULL) {
		fprintf(stderr, "mailwarden scan: lists: %s\n", err);
		goto out;
	}
	env.cfg = cfg;
	env.lists = lists;
	env.av = av;
	/* RCPT time, as the milter does it: refused recipients never reach DATA. */
	rv = x_calloc(o->nrcpts ? o->nrcpts : 1, sizeof(*rv));
	for (i = 0; i < o->nrcpts; i++) {
		engine_rcpt(&env, o->from ? o->from : "", o->rcpts[i], NULL, &rv[i]);
		if (rv[i].action < MW_REJECT) {
			if (naccepted >= cfg->lim.max_recipients || msg_add_rcpt(m, o->rcpts[i]) < 0) {
				fprintf(stderr, "mailwarden scan: more than limits.max_recipients (%zu) recipients\n",
				        cfg->lim.max_recipients);
				goto out;
			}
			naccepted++;
		}
	}
	res = x_calloc(1, sizeof(*res));
	if (o->nrcpts > 0 && naccepted == 0) {
		/* Every recipient refused: the verdict is the strongest RCPT verdict. */
		verdict_init(&res->verdict);
		for (i = 0; i < o->nrcpts; i++) {
			size_t k;
			for (k = 0; k < rv[i].nreasons; k++)
				verdict_add(&res->verdict, rv[i].reasons[k].code, rv[i].reasons[k].part, "%s",
				            rv[i].reasons[k].detail);
		}
		config_apply_verdict(cfg, &res->verdict);
		res->size = msg_size(m);
	} else {
		engine_scan(m, &env, res);
	}
	result_json(m, res, &out);
	/* Add the RCPT-time refusals before the closing brace. */
	out.p[--out.len] = 0;
	buf_puts(&out, ", \"rcpt_refused\": [");
	for (i = 0, n = 0; i < o->nrcpts; i++) {
		size_t k;
		if (rv[i].action < MW_REJECT)
			continue;
		buf_puts(&out, n++ ? ", {\"rcpt\": " : "{\"rcpt\": ");
		buf_json_str(&out, o->rcpts[i], strlen(o->rcpts[i]));
		buf_printf(&out, ", \"action\": \"%s\", \"codes\": [", action_name(rv[i].action));
		for (k = 0; k < rv[i].nreasons; k++) {
			if (k)
				buf_puts(&out, ", ");
			buf_json_str(&out, rv[i].reasons[k].code, strlen(rv[i].reasons[k].code));
		}
		buf_puts(&out, "]}");
	}
	buf_puts(&out, "]}");
	if (!o->quiet)
		printf("%s\n", out.p);
	rc = exit_for(res->verdict.action);
out:
	if (fd > 0)
		close(fd);
	x_free(res);
	x_free(rv);
	msg_free(m);
	store_close(store);
	lists_unref(lists);
	av_engine_release(av);
	config_unref(cfg);
	buf_free(&out);
	return rc;
}

/* cmd_links - every link of one message (or HTML file) with its domain and classes */
static int cmd_links(cli_opts *o)
{
	mw_config *cfg = NULL;
	mw_lists *lists = NULL;
	mime_parser *mp = NULL;
	link_set *ls = NULL;
	link_judge j;
	mw_buf in, out;
	char err[512], chunk[65536];
	const char *at;
	FILE *fp = NULL;
	size_t n, i;
	int rc = EXIT_CANNOT;

	buf_init(&in, 0);
	buf_init(&out, 0);
	if (o->argc != 1) {
		fprintf(stderr, "mailwarden links: expected exactly one FILE or -\n");
		goto out;
	}
	if ((cfg = load_config(o)) == NULL)
		goto out;
	in.max = cfg->lim.max_message_size;
	fp = strcmp(o->argv[0], "-") == 0 ? stdin : fopen(o->argv[0], "rb");
	if (fp == NULL) {
		fprintf(stderr, "mailwarden links: %s: %s\n", o->argv[0], strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&in, chunk, n);
	lists = lists_new();
	if (lists_load_dir(lists, cfg->lists, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailwarden links: lists: %s\n", err);
		goto out;
	}
	ls = links_new(cfg->lim.max_urls, cfg->lim.max_html_bytes);
	for (i = 0; i < in.len && (in.p[i] == ' ' || in.p[i] == '\t' || in.p[i] == '\r' || in.p[i] == '\n'); i++)
		;
	if (i < in.len && in.p[i] == '<') {
		links_scan_html(ls, "", in.p, in.len); /* an HTML file, not a message */
	} else {
		mp = mime_parser_new(&cfg->lim.mime, cfg->tmp);
		if (mime_parser_feed(mp, in.p ? in.p : "", in.len) < 0 || mime_parser_finish(mp) < 0) {
			fprintf(stderr, "mailwarden links: cannot write temporary data: %s\n", strerror(errno));
			goto out;
		}
		links_scan_mime(ls, mime_root(mp));
	}
	at = o->from ? strrchr(o->from, '@') : NULL;
	mw_strlcpy(err, at ? at + 1 : "", sizeof(err));
	j.cfg = cfg;
	j.lists = lists;
	j.external = !(at && config_is_protected(cfg, mw_lower(err)));
	links_classify(ls, &j);
	links_format(ls, o->json, &out);
	fputs(out.p ? out.p : "", stdout);
	if (o->json)
		putchar('\n');
	rc = 0;
out:
	if (fp && fp != stdin)
		fclose(fp);
	links_free(ls);
	mime_parser_free(mp);
	lists_unref(lists);
	config_unref(cfg);
	buf_free(&in);
	buf_free(&out);
	return rc;
}

/* cmd_reasons - the reason code table */
static int cmd_reasons(cli_opts *o)
{
	const mw_code_info *t;
	size_t i, n;
	mw_buf b;

	t = reason_table(&n);
	buf_init(&b, 0);
	if (o->json) {
		buf_putc(&b, '[');
		for (i = 0; i < n; i++) {
			buf_puts(&b, i ? ", {\"code\": " : "{\"code\": ");
			buf_json_str(&b, t[i].code, strlen(t[i].code));
			buf_printf(&b, ", \"action\": \"%s\", \"description\": ", action_name(t[i].def_action));
			buf_json_str(&b, t[i].description, strlen(t[i].description));
			buf_putc(&b, '}');
		}
		buf_puts(&b, "]\n");
	} else {
		buf_printf(&b, "%-20s %-10s %s\n", "CODE", "DEFAULT", "MEANING");
		for (i = 0; i < n; i++)
			buf_printf(&b, "%-20s %-10s %s\n", t[i].code, action_name(t[i].def_action), t[i].description);
	}
	fputs(b.p, stdout);
	buf_free(&b);
	return 0;
}

/* cmd_config - sample, check or show */
static int cmd_config(cli_opts *o)
{
	mw_config *cfg;
	mw_buf b;

	buf_init(&b, 0);
	if (o->sample) {
		config_write_sample(&b);
		fputs(b.p, stdout);
		buf_free(&b);
		return 0;
	}
	if ((cfg = load_config(o)) == NULL) {
		buf_free(&b);
		return EXIT_CANNOT;
	}
	if (o->show) {
		config_write_effective(cfg, &b);
		fputs(b.p, stdout);
	} else {
		printf("%s: configuration is valid\n", cfg->source);
	}
	config_unref(cfg);
	buf_free(&b);
	return 0;
}

static int cmd_help(cli_opts *o)
{
	(void)o;
	fputs(usage_text, stdout);
	return 0;
}

typedef struct command {
	const char *name;
	int (*run)(cli_opts *o);
	const char *summary;
} command;

static const command commands[] = {
    {"scan", cmd_scan, "print the verdict for one message as JSON"},
    {"links", cmd_links, "every link of a message with domain and classes"},
    {"reasons", cmd_reasons, "list reason codes"},
    {"config", cmd_config, "sample, check or show the configuration"},
    {"quarantine", cmd_quarantine, "list, show, release or delete quarantined mail"},
    {"track", cmd_track, "find messages by sender, recipient, subject, attachment, link, time"},
    {"sigs", cmd_sigs, "signature sets: status, verify, import, update, rollback"},
    {"ctl", cmd_ctl, "one command to the daemon's control socket"},
    {"console", cmd_console, "the serial console"},
    {"appliance", cmd_appliance, "effective settings for the appliance's apply command"},
    {"tls", cmd_tls, "the SMTP server certificate: show, selfsigned, csr, install"},
    {"help", cmd_help, "usage"},
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"set", required_argument, NULL, 'o'},
	    {"sigs", required_argument, NULL, 's'},
	    {"state", required_argument, NULL, 'S'},
	    {"from", required_argument, NULL, 'f'},
	    {"rcpt", required_argument, NULL, 'r'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"sample", no_argument, NULL, 'A'},
	    {"check", no_argument, NULL, 'K'},
	    {"show", no_argument, NULL, 'W'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"body", no_argument, NULL, 'B'},
	    {"limit", required_argument, NULL, 'L'},
	    {"sender", required_argument, NULL, 1001},
	    {"domain", required_argument, NULL, 1002},
	    {"subject", required_argument, NULL, 1003},
	    {"hash", required_argument, NULL, 1004},
	    {"name", required_argument, NULL, 1005},
	    {"link", required_argument, NULL, 1006},
	    {"action", required_argument, NULL, 1007},
	    {"since", required_argument, NULL, 1008},
	    {"until", required_argument, NULL, 1009},
	    {"to", required_argument, NULL, 1010},
	    {"state-of", required_argument, NULL, 1011},
	    {"client", required_argument, NULL, 1012},
	    {"helo", required_argument, NULL, 1013},
	    {"claimed", required_argument, NULL, 1014},
	    {"auth", required_argument, NULL, 1015},
	    {NULL, 0, NULL, 0},
	};
	cli_opts o;
	char *ov_sigs, *ov_state;
	const command *cmd = NULL;
	size_t i;
	int c, rc;

	memset(&o, 0, sizeof(o));
	log_init("mailwarden", 1, 0);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_CANNOT;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(&o);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("mailwarden %s\n", MW_VERSION);
		return 0;
	}
	for (i = 0; i < MW_ARRAY_LEN(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "mailwarden: unknown command \"%.40s\"; try mailwarden --help\n", argv[1]);
		return EXIT_CANNOT;
	}
	argv++;
	argc--;
	if (cmd->run == cmd_ctl || cmd->run == cmd_console || cmd->run == cmd_sigs || cmd->run == cmd_appliance ||
	    cmd->run == cmd_tls) {
		/* they parse their own options: their words may look like options */
		o.argc = argc - 1;
		o.argv = argv + 1;
		return cmd->run(&o);
	}
	while ((c = getopt_long(argc, argv, "c:o:s:f:r:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'o': add_str(&o.overrides, &o.noverrides, optarg); break;
		case 's': o.sigs = optarg; break;
		case 'S': o.state = optarg; break;
		case 'f': o.from = optarg; break;
		case 'r': add_str(&o.rcpts, &o.nrcpts, optarg); break;
		case 'q': o.quiet = 1; break;
		case 'j': o.json = 1; break;
		case 'A': o.sample = 1; break;
		case 'K': o.check = 1; break;
		case 'W': o.show = 1; break;
		case 'B': o.body = 1; break;
		case 'L': o.limit = (size_t)strtoul(optarg, NULL, 10); break;
		case 1001: o.t_sender = optarg; break;
		case 1002: o.t_domain = optarg; break;
		case 1003: o.t_subject = optarg; break;
		case 1004: o.t_hash = optarg; break;
		case 1005: o.t_name = optarg; break;
		case 1006: o.t_link = optarg; break;
		case 1007: o.t_action = optarg; break;
		case 1008: o.t_since = optarg; break;
		case 1009: o.t_until = optarg; break;
		case 1010: o.t_rcpt = optarg; break;
		case 1012: o.client = optarg; break;
		case 1013: o.helo = optarg; break;
		case 1014: o.t_claimed = optarg; break;
		case 1015: o.t_auth = optarg; break;
		case 1011: o.t_qstate = optarg; break;
		case 'h': return cmd_help(&o);
		case 'V': printf("mailwarden %s\n", MW_VERSION); return 0;
		default: fprintf(stderr, "try mailwarden --help\n"); return EXIT_CANNOT;
		}
	}
	o.argc = argc - optind;
	o.argv = argv + optind;
	ov_sigs = path_override(&o, "paths.signatures", o.sigs);
	ov_state = path_override(&o, "paths.state", o.state);
	rc = cmd->run(&o);
	x_free(ov_sigs);
	x_free(ov_state);
	x_free(o.overrides);
	x_free(o.rcpts);
	return rc;
}
