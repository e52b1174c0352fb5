/*
 * NAME
 *	ctl_table.c - the control commands: one table for the server, the
 *	console and `mailwarden ctl`
 * SYNOPSIS
 *	e = ctl_lookup(argc, argv, &skip, err, len);
 *	if (e->check == NULL || e->check(argc - skip, argv + skip, err, len) == 0) e->run(...);
 *	ctl_help(&buf, NULL);	ctl_help(&buf, "block");
 * DESCRIPTION
 *	Each entry names a command and optional sub-command, the number of
 *	arguments it takes, whether it changes state (serialised and
 *	audited) or reads data lines, its usage, a one-line help and longer
 *	help, a pure argument check and the server function.  `help` and
 *	the console's completion read this table and nothing else, so every
 *	command is in `help`.
 * LIMITS
 *	Help lines fit 79 columns.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (s == NULL || *s == 0 || strlen(s) > 9)
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* check_n - optional first argument is a count 1..100000 */
static int check_n(size_t argc, char **argv, char *err, size_t errlen)
{
	unsigned long n;

	if (argc >= 1 && ctl_parse_uint(argv[0], 1, 100000, &n) < 0) {
		snprintf(err, errlen, "\"%.20s\" is not a count (1..100000)", argv[0]);
		return -1;
	}
	return 0;
}

static int check_id(size_t argc, char **argv, char *err, size_t errlen)
{
	unsigned long n;

	if (argc < 1 || ctl_parse_uint(argv[0], 1, 999999999, &n) < 0) {
		snprintf(err, errlen, "expected a history number (see `history`)");
		return -1;
	}
	return 0;
}

static int check_lockdown(size_t argc, char **argv, char *err, size_t errlen)
{
	if (argc == 1 && strcmp(argv[0], "0") != 0 && strcmp(argv[0], "1") != 0 && strcmp(argv[0], "2") != 0) {
		snprintf(err, errlen,
		         "lockdown level is 0 (off), 1 (hold mail with attachments or links) "
		         "or 2 (hold all external mail)");
		return -1;
	}
	return 0;
}

/* check_kind - sender|domain VALUE [DAYS ...] */
static int check_kind(size_t argc, char **argv, char *err, size_t errlen)
{
	unsigned long d;

	if (strcmp(argv[0], "sender") != 0 && strcmp(argv[0], "domain") != 0) {
		snprintf(err, errlen, "first word is sender or domain, not \"%.20s\"", argv[0]);
		return -1;
	}
	if (strlen(argv[1]) > 255 || argv[1][0] == 0) {
		snprintf(err, errlen, "value must be 1..255 bytes");
		return -1;
	}
	if (argc >= 3 && argv[2][0] >= '0' && argv[2][0] <= '9' && ctl_parse_uint(argv[2], 0, 3650, &d) < 0) {
		snprintf(err, errlen, "days must be 0 (forever) .. 3650");
		return -1;
	}
	return 0;
}

/* check_list_add - NAME ENTRY [DAYS] */
static int check_list_add(size_t argc, char **argv, char *err, size_t errlen)
{
	unsigned long d;

	if (argc == 3 && ctl_parse_uint(argv[2], 0, 3650, &d) < 0) {
		snprintf(err, errlen, "days must be 0 (forever) .. 3650");
		return -1;
	}
	return 0;
}

static const char *const track_words[] = {"sender", "domain", "to",    "subject", "hash",    "name", "link",
                                          "action", "since",  "until", "limit",   "claimed", "auth"};

int ctl_check_track(size_t argc, char **argv, char *err, size_t errlen)
{
	size_t i, k;

	if (argc % 2) {
		snprintf(err, errlen, "criteria come in pairs: WORD VALUE (e.g. sender a@b.example since 24h)");
		return -1;
	}
	for (i = 0; i < argc; i += 2) {
		for (k = 0; k < MW_ARRAY_LEN(track_words); k++)
			if (strcmp(argv[i], track_words[k]) == 0)
				break;
		if (k == MW_ARRAY_LEN(track_words)) {
			snprintf(err, errlen,
			         "unknown criterion \"%.20s\" (sender domain to subject hash name link "
			         "action since until limit claimed auth)",
			         argv[i]);
			return -1;
		}
	}
	return 0;
}

static const ctl_cmd commands[] = {
    {"status", NULL, 0, 0, 0, "", "health and verdict counters (5 min, 1 h, 24 h)",
     "Health of the daemon, then how many messages got each action and\n"
     "each reason code over the last 5 minutes, hour and 24 hours.",
     NULL, ctl_run_status},
    {"rules", "show", 0, 1, CTL_F_DEFAULT, "[KEY|SECTION]", "rules set at run time; effective values",
     "Without argument: the rules kept in the state database (they\n"
     "outrank the configuration file).  With a key (sender.fanout_threshold,\n"
     "actions.link.storage) or a section (sender, hold, limits, actions):\n"
     "the effective values.",
     NULL, ctl_run_rules_show},
    {"rules", "set", 2, 20, CTL_F_CHANGE, "KEY VALUE", "set a threshold, limit or code action",
     "Examples: rules set sender.fanout_threshold 3\n"
     "          rules set actions.link.storage reject\n"
     "          rules set limits.max_message_size 20M\n"
     "The value is checked like the configuration file; it applies to the\n"
     "next message and survives a restart.  [daemon] and [paths] keys are\n"
     "deployment settings: change them in mailwarden.conf.",
     NULL, ctl_run_rules_set},
    {"rules", "unset", 1, 1, CTL_F_CHANGE, "KEY", "remove a rule: the file's value applies again", NULL, NULL,
     ctl_run_rules_unset},
    {"lockdown", NULL, 0, 1, CTL_F_CHANGE, "[0|1|2]", "show or set the lockdown level",
     "0 off; 1 hold all external mail with attachments or links (plain\n"
     "text still passes); 2 hold all external mail.  Held mail is in the\n"
     "quarantine: `quarantine list held`, `quarantine release ID`.",
     check_lockdown, ctl_run_lockdown},
    {"list", "show", 0, 2, CTL_F_DEFAULT, "[NAME [FILTER]]", "list names, or the entries of one list",
     "Lists: freemail, allow, storage, shortener, link_block, partner.\n"
     "Entries are domains (covering sub-domains) or addresses.",
     NULL, ctl_run_list_show},
    {"list", "add", 2, 3, CTL_F_CHANGE, "NAME ENTRY [DAYS]", "add an entry (DAYS: it expires)",
     "Example: list add allow partner@example.net 30\n"
     "         list add link_block evil-storage.example",
     check_list_add, ctl_run_list_add},
    {"list", "remove", 2, 2, CTL_F_CHANGE, "NAME ENTRY", "remove an entry (also a shipped one)", NULL, NULL,
     ctl_run_list_remove},
    {"block", NULL, 2, 20, CTL_F_CHANGE, "sender|domain VALUE [DAYS] [REASON]", "refuse mail (550) from it",
     "Example: block sender kanri@free.example 0 phishing wave\n"
     "         block domain evil.example 7\n"
     "A domain is reduced to its registrable domain (eTLD+1), so its\n"
     "sub-domains are blocked too.  DAYS 0 or none: until unblocked.",
     check_kind, ctl_run_block},
    {"unblock", NULL, 2, 2, CTL_F_CHANGE, "sender|domain VALUE", "remove a block", NULL, check_kind, ctl_run_unblock},
    {"blocks", NULL, 0, 1, 0, "[FILTER]", "active blocks: why, source, expiry", NULL, NULL, ctl_run_blocks},
    {"quarantine", "list", 0, 2, CTL_F_DEFAULT, "[held|quarantined|released|all] [N]",
     "quarantined and held mail (every gateway's)", NULL, NULL, ctl_run_quar_list},
    {"quarantine", "show", 1, 1, 0, "ID", "details of one message (ID or a unique prefix)", NULL, NULL,
     ctl_run_quar_show},
    {"quarantine", "release", 1, 1, CTL_F_CHANGE, "ID", "deliver a quarantined message once (any gateway)", NULL, NULL,
     ctl_run_quar_release},
    {"quarantine", "delete", 1, 1, CTL_F_CHANGE, "ID", "delete a quarantined message", NULL, NULL, ctl_run_quar_delete},
    {"track", NULL, 0, 26, 0, "[WORD VALUE]...", "who got what: find messages",
     "Words: sender ADDR, domain D, to RCPT, subject TEXT, hash SHA256,\n"
     "name FILE, link DOMAIN, action A, since T, until T, limit N,\n"
     "claimed D (envelope or From domain), auth pass|fail|temperror|none.\n"
     "T is an age (30m, 24h, 7d) or a date (2026-11-22 or 2026-11-22T10:00).\n"
     "Example: track sender kanri@free.example since 7d",
     ctl_check_track, ctl_run_track},
    {"tail", NULL, 0, 1, 0, "[N]", "the last N verdicts (default 20)", NULL, check_n, ctl_run_tail},
    {"sigs", "status", 0, 0, CTL_F_DEFAULT, "", "signature database status", NULL, NULL, ctl_run_sigs},
    {"sigs", "reload", 0, 0, CTL_F_CHANGE, "", "reload signatures now, then rescan held mail", NULL, NULL,
     ctl_run_sigs_reload},
    {"history", NULL, 0, 1, 0, "[N]", "the last N changes: who, when, old, new", NULL, check_n, ctl_run_history},
    {"revert", NULL, 1, 1, CTL_F_CHANGE, "ID", "put back the old value of change ID",
     "Reverts a rule, a list edit or a block from `history`; the revert\n"
     "is itself recorded.",
     check_id, ctl_run_revert},
    {"export", NULL, 0, 0, CTL_F_RAW, "", "the run-time configuration as text", NULL, NULL, ctl_run_export},
    {"import", NULL, 0, 0, CTL_F_CHANGE | CTL_F_DATA, "", "add the lines of an export (one change)",
     "Accepts the lines `export` writes: rules set/unset, list add/remove\n"
     "and # comments.  Every line is checked before any is applied; the\n"
     "lines are applied as one change (`revert ID` undoes them all).\n"
     "`config import` instead makes the configuration exactly the text's.",
     NULL, ctl_run_import},
    {"config", "show", 0, 1, CTL_F_DEFAULT, "[all|SECTION|KEY]", "file settings and run-time rules side by side",
     "For each key: the value in effect, where it comes from (a rule in the\n"
     "state database wins over the file; the file over the default) and the\n"
     "file's value.  Without argument: the appliance's settings ([domains],\n"
     "[mta], [system], [alert]) and every key a rule or the file changes.\n"
     "With a key: its rule, file and default values, and how a change\n"
     "applies (at once, Postfix reload, or `apply`).",
     NULL, ctl_run_config_show},
    {"config", "get", 1, 1, 0, "KEY", "the value in effect (list.NAME: a list)", NULL, NULL, ctl_run_config_get},
    {"config", "check", 1, 20, 0, "KEY [VALUE...]", "check a value without saving it", NULL, NULL,
     ctl_run_config_check},
    {"config", "export", 0, 0, CTL_F_RAW, "", "the run-time configuration as text", NULL, NULL, ctl_run_export},
    {"config", "import", 0, 0, CTL_F_CHANGE | CTL_F_DATA, "", "make the configuration an export's (one change)",
     "The rules and list edits become exactly those of the text (paste an\n"
     "export, then a line \".\"): rules it does not name are unset.  Every\n"
     "line is checked first; all apply as one change in `history`, and\n"
     "`revert ID` of that entry puts the previous configuration back.",
     NULL, ctl_run_config_import},
    {"setup", "apply", 0, 0, CTL_F_CHANGE | CTL_F_DATA, "", "apply the lines of the guided set-up",
     "The console's `setup` asks its questions, then sends the answers\n"
     "here as `rules set` and `list add/remove` lines: one change.",
     NULL, ctl_run_setup_apply},
    {"apply", NULL, 0, 0, CTL_F_CHANGE, "", "put waiting system settings into effect now",
     "Host name, network, DNS resolvers and time servers wait for this\n"
     "(the network may drop for a moment); Postfix's configuration is\n"
     "written again too.  `config show` lists what is waiting.",
     NULL, ctl_run_apply},
    {"reboot", NULL, 0, 0, CTL_F_CHANGE, "", "restart the appliance (audited)", NULL, NULL, ctl_run_reboot},
    {"poweroff", NULL, 0, 0, CTL_F_CHANGE, "", "switch the appliance off (audited)", NULL, NULL, ctl_run_poweroff},
    {"tls", "show", 0, 0, CTL_F_DEFAULT, "", "the SMTP certificate: names, expiry, fingerprint", NULL, NULL,
     ctl_run_tls_show},
    {"tls", "csr", 0, 20, CTL_F_RAW, "[NAME...]", "a certificate request (PEM) for a CA",
     "The first name (default: the host name) is the subject; every name\n"
     "goes into subjectAltName.  The key stays on the appliance.",
     NULL, ctl_run_tls_csr},
    {"tls", "install", 0, 0, CTL_F_CHANGE | CTL_F_DATA, "", "install a certificate chain pasted as PEM",
     "Paste the server certificate, then its intermediates, then a line\n"
     "\".\".  It is installed only if it is for this appliance's key, each\n"
     "certificate is signed by the next, and none has expired.",
     NULL, ctl_run_tls_install},
    {"tls", "selfsigned", 0, 0, CTL_F_CHANGE, "", "a new key and self-signed certificate", NULL, NULL,
     ctl_run_tls_selfsigned},
    {"alerts", "list", 0, 2, CTL_F_DEFAULT, "[unread|all] [N]", "alerts: fan-out, campaign, auto-block, ...",
     "Unread alerts (the console shows them at login), or all of them.\n"
     "Each names the senders, subjects, attachments and every recipient.",
     NULL, ctl_run_alerts},
    {"alerts", "show", 1, 1, 0, "ID", "the full text of one alert", NULL, NULL, ctl_run_alerts_show},
    {"alerts", "read", 0, 1, 0, "[ID|all]", "mark alerts read (for you)", NULL, NULL, ctl_run_alerts_read},
    {"help", NULL, 0, 2, 0, "[COMMAND]", "this list, or help on one command", NULL, NULL, ctl_run_help},
};

const ctl_cmd *ctl_commands(size_t *n)
{
	*n = MW_ARRAY_LEN(commands);
	return commands;
}

const ctl_cmd *ctl_lookup(size_t argc, char *const *argv, size_t *skip, char *err, size_t errlen)
{
	const ctl_cmd *named = NULL, *def = NULL;
	char subs[120] = "";
	size_t i, sl = 0;

	if (argc == 0) {
		snprintf(err, errlen, "empty request");
		return NULL;
	}
	for (i = 0; i < MW_ARRAY_LEN(commands); i++) {
		const ctl_cmd *e = &commands[i];
		if (strcmp(e->name, argv[0]) != 0)
			continue;
		named = e;
		if (e->sub == NULL) {
			*skip = 1;
			return e;
		}
		if (argc > 1 && strcmp(e->sub, argv[1]) == 0) {
			*skip = 2;
			return e;
		}
		if (e->flags & CTL_F_DEFAULT)
			def = e;
		if (sl + strlen(e->sub) + 2 < sizeof(subs))
			sl += (size_t)snprintf(subs + sl, sizeof(subs) - sl, "%s%s", sl ? ", " : "", e->sub);
	}
	if (named == NULL) {
		char w[40];
		snprintf(err, errlen, "unknown command \"%s\" (try help)", mw_printable(w, sizeof(w), argv[0], 30, 1));
		return NULL;
	}
	if (def) {
		/* "quarantine held", "list allow": words for the default sub-command */
		*skip = 1;
		return def;
	}
	snprintf(err, errlen, "%s: expected %s", argv[0], subs);
	return NULL;
}

void ctl_usage(const ctl_cmd *e, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s%s", e->name, e->sub ? " " : "", e->sub ? e->sub : "", *e->args ? " " : "",
	         e->args);
}

void ctl_help(mw_buf *out, const char *topic)
{
	char u[80];
	size_t i, found = 0;

	for (i = 0; i < MW_ARRAY_LEN(commands); i++) {
		const ctl_cmd *e = &commands[i];
		if (topic && strcmp(topic, e->name) != 0)
			continue;
		found++;
		ctl_usage(e, u, sizeof(u));
		if (strlen(u) <= 30)
			buf_printf(out, "%-30s %s\n", u, e->help);
		else
			buf_printf(out, "%s\n%-30s %s\n", u, "", e->help);
		if (topic && e->more)
			buf_printf(out, "%s\n", e->more);
	}
	if (topic && !found)
		buf_printf(out, "no command \"%.30s\"; type help for the list\n", topic);
}
