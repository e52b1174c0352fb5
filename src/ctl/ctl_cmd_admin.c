/*
 * NAME
 *	ctl_cmd_admin.c - control commands that act on the appliance:
 *	apply, reboot, poweroff, the TLS certificate; alerts
 * SYNOPSIS
 *	apply | reboot | poweroff
 *	tls show | tls csr [NAME...] | tls install (data: PEM) | tls selfsigned
 *	alerts [unread|all] [N] | alerts show ID | alerts read [ID|all]
 * DESCRIPTION
 *	Everything here that needs root goes through the privileged helper
 *	(appl_priv.c), which runs [daemon] apply_command with a fixed verb;
 *	without one (a host whose MTA and network Mailwarden does not manage)
 *	these commands answer "unavailable".  apply, reboot, poweroff and the
 *	certificate changes are audited as "action.*" rows (history shows
 *	them; revert refuses them: they are not settings).
 *
 *	apply puts the settings that wait for it (host name, network,
 *	resolver, time servers) into effect and rewrites Postfix's
 *	configuration; reboot and poweroff hand over to init (busybox), whose
 *	shutdown script stops Postfix and unmounts /data.
 *
 *	Alerts are read per console user: `alerts` lists those the user has
 *	not read (the console shows them at login), `alerts read` marks them
 *	read.  `alerts show ID` prints the text that was mailed, or composes
 *	it now when none was mailed yet.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "alert/alert.h"
#include "appliance/appliance.h"
#include "ctl/ctl_int.h"

#include <stdio.h>
#include <string.h>

/* run_priv - one helper verb; output as data lines; the exit status, or -1 after ERR */
static int run_priv(ctl_conn *c, const char *verb, size_t nargs, const char *const *args, const char *input,
                    size_t inlen)
{
	mw_buf out;
	char err[400];
	int st;
	const char *p, *e;

	if (!priv_configured())
		return ctl_err(c, "unavailable",
		               "not managed on this host: [daemon] apply_command is empty (the appliance sets it)");
	buf_init(&out, PRIV_MAX_OUTPUT);
	st = priv_run(verb, nargs, args, input, inlen, &out, err, sizeof(err));
	for (p = out.p; p && *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		ctl_out(c, "%.*s", (int)(e - p), p);
	}
	buf_free(&out);
	if (st < 0)
		return ctl_err(c, "failed", "%s: %s", verb, err);
	return st;
}

/* audit_action - an action.* row (not revertible) */
static void audit_action(ctl_conn *c, const char *what, const char *detail)
{
	mw_store *st = c->h->store ? __atomic_load_n(c->h->store, __ATOMIC_ACQUIRE) : NULL;
	char key[64];

	snprintf(key, sizeof(key), "action.%s", what);
	if (st)
		store_audit_add(st, time(NULL), c->who, key, "", detail);
}

int ctl_run_apply(ctl_conn *c, size_t argc, char **argv)
{
	char p[600];
	int st;

	(void)argc;
	(void)argv;
	ctl_pending(p, sizeof(p));
	if (!priv_configured())
		return ctl_err(c, "unavailable", "not managed on this host: [daemon] apply_command is empty");
	audit_action(c, "apply", p[0] ? p : "(nothing waiting: applied again)");
	if ((st = run_priv(c, "system", 0, NULL, NULL, 0)) < 0)
		return -1;
	if (st != 0)
		return ctl_err(c, "failed", "the apply command failed (exit status %d): see the lines above", st);
	ctl_pending_clear();
	return ctl_ok(c, "applied%s%s", p[0] ? ": " : " (nothing was waiting)", p);
}

static int going_down(ctl_conn *c, const char *verb)
{
	int st;

	if (!priv_configured())
		return ctl_err(c, "unavailable", "not managed on this host: [daemon] apply_command is empty");
	audit_action(c, verb, "requested");
	if ((st = run_priv(c, verb, 0, NULL, NULL, 0)) < 0)
		return -1;
	if (st != 0)
		return ctl_err(c, "failed", "%s failed (exit status %d)", verb, st);
	return ctl_ok(c, "%s: the appliance is going down now", verb);
}

int ctl_run_reboot(ctl_conn *c, size_t argc, char **argv)
{
	(void)argc;
	(void)argv;
	return going_down(c, "reboot");
}

int ctl_run_poweroff(ctl_conn *c, size_t argc, char **argv)
{
	(void)argc;
	(void)argv;
	return going_down(c, "poweroff");
}

int ctl_run_tls_show(ctl_conn *c, size_t argc, char **argv)
{
	int st;

	(void)argc;
	(void)argv;
	if ((st = run_priv(c, "tls-show", 0, NULL, NULL, 0)) < 0)
		return -1;
	if (st != 0)
		return ctl_err(c, "failed", "no usable certificate (exit status %d): `tls selfsigned` makes one", st);
	return ctl_ok(c, "`tls csr` makes a certificate request, `tls install` installs the CA's answer");
}

int ctl_run_tls_csr(ctl_conn *c, size_t argc, char **argv)
{
	const char *names[TLS_MAX_NAMES];
	char host[256];
	mw_config *cfg = NULL;
	size_t i, n = 0;
	int st;

	for (i = 0; i < argc && n < TLS_MAX_NAMES; i++)
		names[n++] = argv[i];
	if (n == 0) {
		cfg = c->h->cfg();
		alert_host(cfg, host, sizeof(host));
		names[n++] = host;
	}
	st = run_priv(c, "tls-csr", n, names, NULL, 0);
	config_unref(cfg);
	if (st < 0)
		return -1;
	if (st != 0)
		return ctl_err(c, "failed", "no request made (exit status %d)", st);
	return ctl_ok(c, "certificate request for %s: give it to your CA, then `tls install` its answer", names[0]);
}

int ctl_run_tls_install(ctl_conn *c, size_t argc, char **argv)
{
	const char *pem = c->data ? c->data : "";
	int st;

	(void)argc;
	(void)argv;
	if (strlen(pem) > TLS_MAX_PEM)
		return ctl_err(c, "too-long", "more than %d bytes of PEM", TLS_MAX_PEM);
	if ((st = run_priv(c, "tls-install", 0, NULL, pem, strlen(pem))) < 0)
		return -1;
	if (st != 0)
		return ctl_err(c, "invalid", "certificate chain refused (see above); the installed one stays");
	audit_action(c, "tls-install", "certificate chain installed");
	return ctl_ok(c, "installed; Postfix offers it from now on");
}

int ctl_run_tls_selfsigned(ctl_conn *c, size_t argc, char **argv)
{
	int st;

	(void)argc;
	(void)argv;
	if ((st = run_priv(c, "tls-selfsigned", 0, NULL, NULL, 0)) < 0)
		return -1;
	if (st != 0)
		return ctl_err(c, "failed", "no certificate made (exit status %d)", st);
	audit_action(c, "tls-selfsigned", "new key and self-signed certificate");
	return ctl_ok(c, "new key and self-signed certificate in use");
}

/* ---- alerts ---- */

typedef struct alist {
	ctl_conn *c;
	size_t n;
	long long newest;
} alist;

static void alert_line(const store_alert_row *r, void *arg)
{
	alist *a = arg;
	char t[32], text[120];

	mw_fmt_time(r->time, t, sizeof(t));
	ctl_out(a->c, "#%-5lld %s %-17s %s", r->id, t, r->kind,
	        r->mailed > 0   ? "mailed"
	        : r->mailed < 0 ? "not mailed"
	                        : "mail waiting");
	ctl_out(a->c, "       %s", mw_cut(r->text, 68, text, sizeof(text)));
	if (r->id > a->newest)
		a->newest = r->id;
	a->n++;
}

int ctl_run_alerts(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	unsigned long n = 20;
	long long seen;
	alist a = {c, 0, 0};
	int all = 0;

	if (st == NULL)
		return -1;
	if (argc >= 1 && strcmp(argv[0], "all") == 0)
		all = 1;
	else if (argc >= 1 && strcmp(argv[0], "unread") != 0)
		return ctl_err(c, "usage", "usage: alerts [unread|all] [N]");
	if (argc == 2 && ctl_parse_uint(argv[1], 1, 1000, &n) < 0)
		return ctl_err(c, "invalid", "N is 1..1000");
	if ((seen = store_alert_seen(st, c->who)) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	if (store_alerts_list(st, all ? 0 : seen, n, alert_line, &a) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	if (all)
		return ctl_ok(c, "%zu alert(s), newest first; `alerts show ID` for one", a.n);
	return ctl_ok(c, "%zu unread alert(s)%s", a.n,
	              a.n ? ", newest first; `alerts show ID` for one, `alerts read` marks them read" : "");
}

int ctl_run_alerts_show(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	store_alert_row r;
	unsigned long id;
	mw_buf text;
	int found;

	(void)argc;
	if (st == NULL)
		return -1;
	if (ctl_parse_uint(argv[0][0] == '#' ? argv[0] + 1 : argv[0], 1, 999999999, &id) < 0)
		return ctl_err(c, "invalid", "expected an alert number (see `alerts`)");
	buf_init(&text, CTL_MAX_OUT / 2);
	if ((found = store_alert_get(st, (long long)id, &r, &text)) < 0) {
		buf_free(&text);
		return ctl_err(c, "failed", "%s", store_error(st));
	}
	if (found == 0) {
		buf_free(&text);
		return ctl_err(c, "not-found", "no alert #%lu", id);
	}
	if (text.len == 0)
		alert_section(st, &r, &text);
	ctl_out(c, "%s", text.p ? text.p : "");
	buf_free(&text);
	return ctl_ok(c, "alert #%lu: %s", id,
	              r.mailed > 0   ? "this text was mailed"
	              : r.mailed < 0 ? "not mailed (no alert.address)"
	                             : "its mail is waiting (alert.delay)");
}

static void newest(const store_alert_row *r, void *arg)
{
	long long *n = arg;

	if (r->id > *n)
		*n = r->id;
}

int ctl_run_alerts_read(ctl_conn *c, size_t argc, char **argv)
{
	mw_store *st = ctl_store(c);
	unsigned long id = 0;
	long long upto = 0;

	if (st == NULL)
		return -1;
	if (argc == 1 && strcmp(argv[0], "all") != 0) {
		if (ctl_parse_uint(argv[0][0] == '#' ? argv[0] + 1 : argv[0], 1, 999999999, &id) < 0)
			return ctl_err(c, "invalid", "expected an alert number or all");
		upto = (long long)id;
	} else if (store_alerts_list(st, 0, 1, newest, &upto) < 0) {
		return ctl_err(c, "failed", "%s", store_error(st));
	}
	if (store_alert_set_seen(st, c->who, upto) < 0)
		return ctl_err(c, "failed", "%s", store_error(st));
	return ctl_ok(c, "alerts up to #%lld marked read for %s", upto, c->who);
}
