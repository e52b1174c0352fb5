/*
 * NAME
 *	console_setup.c - the guided set-up on the serial console
 * SYNOPSIS
 *	console_setup(c, first);	(at the first login, or `setup`)
 * DESCRIPTION
 *	A few questions, one setting each, in the order a new operator thinks
 *	of them: the protected domains, the public addresses, partner
 *	domains, the internal mail server, the network (DHCP or static
 *	address and gateway), DNS resolvers, time servers, the alert
 *	address.  Each question shows the value in effect; Enter keeps it, a
 *	single "-" clears it.  Every answer is checked by the daemon at once
 *	(`config check`, the same checks as the configuration file), and
 *	asked again when wrong.  ^C leaves the set-up without changing
 *	anything.
 *
 *	At the end the changes are listed and, when confirmed, sent as one
 *	`setup apply` batch (with [system] configured = yes): one change in
 *	`history`, revertible as a whole.  Postfix's settings (domains, mail
 *	server) apply at once; the network, resolver, time servers and host
 *	name wait for `apply`, which is offered (and proposed as the default
 *	at first boot).
 * LIMITS
 *	Answers up to the line editor's ED_MAX bytes.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "console/console_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct step {
	const char *key;   /* rule key, or list.NAME */
	const char *title; /* the question */
	const char *help;  /* what it is, with an example */
	int is_static;     /* asked only for a static network */
} step;

static const step steps[] = {
    {"domains.protected", "Protected domains",
     "Mail for these domains is accepted and relayed to your mail server;\n"
     "their recipients are staff.  Comma separated, e.g. nenkin.example",
     0},
    {"domains.public", "Public addresses",
     "Addresses that take mail from anyone, free-mail included (an\n"
     "enquiry desk), e.g. info@nenkin.example.  Comma separated.",
     0},
    {"list.partner", "Partner domains",
     "Organisations you work with: links and senders imitating their\n"
     "domains are flagged.  Comma separated.",
     0},
    {"mta.relay_host", "Internal mail server", "Where accepted mail is delivered: [address]:port, e.g. [192.0.2.25]:25",
     0},
    {"system.network", "Network", "dhcp, or static (then an address and a gateway)", 0},
    {"system.address", "Address", "This appliance's address and prefix length, e.g. 192.0.2.10/24", 1},
    {"system.gateway", "Gateway", "The default gateway, e.g. 192.0.2.1", 1},
    {"system.dns", "DNS resolvers", "IP addresses, comma separated (with dhcp, empty: the ones DHCP gives)", 0},
    {"system.ntp", "Time servers",
     "NTP servers, comma separated, e.g. ntp.nict.jp (empty: none; the\n"
     "clock matters for certificates, holds and logs)",
     0},
    {"alert.address", "Alert address",
     "Who gets alert mail: fan-out, campaigns, auto-blocks, infected mail\n"
     "found after delivery, lockdown; e.g. security@nenkin.example",
     0},
};

#define NSTEPS MW_ARRAY_LEN(steps)

/* get - the value in effect (config get KEY); -1 when the daemon is not there */
static int get(console *c, const char *key, char *out, size_t len)
{
	const char *argv[] = {"config", "get", key};
	mw_buf b;
	ctl_resp r;
	int rc;

	buf_init(&b, 4096);
	rc = con_call(c, 3, argv, NULL, &b, 0, &r);
	out[0] = 0;
	if (rc == 0 && b.p) {
		b.p[strcspn(b.p, "\n")] = 0;
		mw_strlcpy(out, b.p, len);
	}
	buf_free(&b);
	return rc == 0 ? 0 : -1;
}

/* check - the daemon's verdict on key = value; 0 valid, 1 not (printed), -1 no daemon */
static int check(console *c, const char *key, const char *value)
{
	const char *argv[] = {"config", "check", key, value};
	ctl_resp r;
	int rc = con_call(c, 4, argv, NULL, NULL, 0, &r);

	if (rc == 1) {
		char msg[CTL_MAX_LINE + 20];
		snprintf(msg, sizeof(msg), "  Not accepted: %s", r.text);
		con_line(&c->t, msg);
	}
	return rc;
}

/* same_list - "a, b" and "a,b" are the same answer */
static int same(const char *a, const char *b)
{
	while (*a || *b) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (*a != *b)
			return 0;
		if (*a) {
			a++;
			b++;
		}
	}
	return 1;
}

/* items - split a list answer into trimmed items (in place) */
static size_t items(char *v, char **out, size_t max)
{
	char *save = NULL, *tok;
	size_t n = 0;

	for (tok = strtok_r(v, strchr(v, ',') ? "," : " ", &save); tok && n < max;
	     tok = strtok_r(NULL, strchr(v, ',') ? "," : " ", &save)) {
		tok = mw_trim(tok);
		if (*tok)
			out[n++] = tok;
	}
	return n;
}

/* in_list - item among list's items */
static int in_list(char **list, size_t n, const char *item)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(list[i], item) == 0)
			return 1;
	return 0;
}

int console_setup(console *c, int first)
{
	char cur[NSTEPS][ED_MAX + 1], ans[NSTEPS][ED_MAX + 1], line[ED_MAX + 200], prompt[160];
	int changed[NSTEPS];
	size_t i, shown = 0, nchanged = 0, total = 0;
	mw_buf lines, out;
	ctl_resp r;
	int rc = 1, is_static = 0;

	memset(changed, 0, sizeof(changed));
	for (i = 0; i < NSTEPS; i++) {
		if (get(c, steps[i].key, cur[i], sizeof(cur[i])) < 0)
			return 1;
		mw_strlcpy(ans[i], cur[i], sizeof(ans[i]));
		total += !steps[i].is_static;
	}
	con_puts(&c->t, "\r\nGuided set-up.  Enter keeps the value in [brackets], a single - clears it,\r\n"
	                "^C leaves without changing anything.\r\n");
	for (i = 0; i < NSTEPS; i++) {
		const step *s = &steps[i];
		if (s->is_static && !is_static)
			continue;
		con_puts(&c->t, "\r\n");
		if (!s->is_static)
			snprintf(line, sizeof(line), "%zu/%zu %s", ++shown, total, s->title);
		else
			snprintf(line, sizeof(line), "    %s", s->title);
		con_line(&c->t, line);
		con_lines(&c->t, s->help);
		for (;;) {
			char shown_cur[80];
			const char *a;
			int v;
			mw_strlcpy(shown_cur, ans[i], sizeof(shown_cur));
			if (strlen(ans[i]) >= sizeof(shown_cur))
				strcpy(shown_cur + sizeof(shown_cur) - 4, "...");
			snprintf(prompt, sizeof(prompt), "[%s] > ", shown_cur);
			if (con_read_line(&c->t, prompt, 1) != RL_DONE) {
				con_puts(&c->t, "\r\nSet-up left: nothing was changed.\r\n");
				return 1;
			}
			a = mw_trim(c->t.ed.buf);
			if (*a == 0)
				a = ans[i];
			else if (strcmp(a, "-") == 0)
				a = "";
			if (s->is_static && *a == 0) {
				con_puts(&c->t, "  A static network needs this.\r\n");
				continue;
			}
			if ((v = check(c, s->key, a)) < 0)
				return 1;
			if (v == 0) {
				mw_strlcpy(ans[i], a, sizeof(ans[i]));
				break;
			}
		}
		if (strcmp(s->key, "system.network") == 0)
			is_static = strcmp(ans[i], "static") == 0;
	}
	/* the summary */
	buf_init(&lines, CTL_MAX_DATA_BYTES);
	buf_init(&out, CTL_MAX_OUT);
	con_puts(&c->t, "\r\n");
	for (i = 0; i < NSTEPS; i++) {
		if ((steps[i].is_static && !is_static) || same(ans[i], cur[i]))
			continue;
		changed[i] = 1;
		nchanged++;
		snprintf(line, sizeof(line), "  %s = %s  (was %s)", steps[i].key, ans[i][0] ? ans[i] : "(empty)",
		         cur[i][0] ? cur[i] : "(empty)");
		con_line(&c->t, line);
	}
	if (nchanged == 0)
		con_puts(&c->t, "No setting changes.\r\n");
	if (!con_yes(c, nchanged ? "Apply these settings? [Y/n] " : "Mark the appliance as set up? [Y/n] ", 1)) {
		con_puts(&c->t, "Nothing was changed; `setup` starts again.\r\n");
		goto out;
	}
	/* one batch: rules set lines, partner list edits, configured = yes */
	for (i = 0; i < NSTEPS; i++) {
		if (!changed[i])
			continue;
		if (strncmp(steps[i].key, "list.", 5) == 0) {
			char a_copy[ED_MAX + 1], c_copy[ED_MAX + 1], *want[200], *have[200];
			size_t nw, nh, k;
			const char *list = steps[i].key + 5;
			mw_strlcpy(a_copy, ans[i], sizeof(a_copy));
			mw_strlcpy(c_copy, cur[i], sizeof(c_copy));
			nw = items(a_copy, want, MW_ARRAY_LEN(want));
			nh = items(c_copy, have, MW_ARRAY_LEN(have));
			for (k = 0; k < nw; k++)
				if (!in_list(have, nh, want[k])) {
					buf_printf(&lines, "list add %s ", list);
					ctl_quote(&lines, want[k]);
					buf_putc(&lines, '\n');
				}
			for (k = 0; k < nh; k++)
				if (!in_list(want, nw, have[k])) {
					buf_printf(&lines, "list remove %s ", list);
					ctl_quote(&lines, have[k]);
					buf_putc(&lines, '\n');
				}
		} else {
			buf_printf(&lines, "rules set %s ", steps[i].key);
			ctl_quote(&lines, ans[i]);
			buf_putc(&lines, '\n');
		}
	}
	buf_puts(&lines, "rules set system.configured yes\n");
	{
		const char *argv[] = {"setup", "apply"};
		if (con_call(c, 2, argv, lines.p, &out, 1, &r) != 0) {
			con_puts(&c->t, "The set-up was not applied; `setup` starts again.\r\n");
			goto out;
		}
	}
	rc = 0;
	if (out.p && strstr(out.p, "(needs apply:")) {
		const char *argv[] = {"apply"};
		if (con_yes(c,
		            first ? "Network, time and host name settings take effect at `apply`.  Apply now? [Y/n] "
		                  : "Network, time and host name settings take effect at `apply`.  Apply now? [y/N] ",
		            first))
			con_call(c, 1, argv, NULL, NULL, 1, &r);
		else
			con_puts(&c->t, "Not applied yet: `apply` when you are ready.\r\n");
	}
	con_puts(&c->t, "Set-up done.  `config show` shows every setting; `setup` changes them again.\r\n");
out:
	buf_free(&lines);
	buf_free(&out);
	return rc;
}
