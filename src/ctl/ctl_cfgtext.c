/*
 * NAME
 *	ctl_cfgtext.c - the configuration text of `config export` and
 *	`config import`
 * SYNOPSIS
 *	cfgtext t;
 *	if (cfgtext_parse(text, len, &t, err, sizeof(err)) == 0) { ... t.ops[i] ...; cfgtext_free(&t); }
 *	cfgtext_write_op(&buf, &op);
 * DESCRIPTION
 *	The text an administrator pastes into a ticket or into a second
 *	appliance: one command per line, quoted exactly like a control
 *	protocol request (ctl_parse_request), so a value with spaces or
 *	non-ASCII text survives a round trip:
 *
 *	    # comment
 *	    mailwarden-config 1
 *	    rules set domains.protected "nenkin.example, example.com"
 *	    rules unset sender.fanout_threshold
 *	    list add partner partner.example [DAYS]
 *	    list remove freemail example.net
 *
 *	The version line is optional (exports before it parse the same) and
 *	must come before any command; a version other than 1 is refused.
 *	Only the form of each line is checked here; the values are checked
 *	by the daemon, all of them before any is applied.
 * LIMITS
 *	CFGTEXT_MAX_OPS commands; CTL_MAX_LINE - 1 bytes per line; values of
 *	CFGTEXT_MAX_VALUE bytes; keys of 100 bytes.
 * DIAGNOSTICS
 *	"line N: what is wrong", for the first wrong line.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFGTEXT_MAX_VALUE 400

static int add_op(cfgtext *t, cfg_op_kind kind, size_t line, const char *key, const char *value, unsigned long days)
{
	cfg_op *op;

	if (t->n >= CFGTEXT_MAX_OPS)
		return -1;
	if (t->n % 64 == 0)
		t->ops = x_realloc(t->ops, (t->n + 64) * sizeof(*t->ops));
	op = &t->ops[t->n++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->line = line;
	op->key = x_strdup(key);
	op->value = value ? x_strdup(value) : NULL;
	op->days = days;
	return 0;
}

void cfgtext_free(cfgtext *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		x_free(t->ops[i].key);
		x_free(t->ops[i].value);
	}
	x_free(t->ops);
	memset(t, 0, sizeof(*t));
}

/* key_form - section.key: lower-case letters, digits, '_', '.', '-'; one dot at least; 3..100 bytes */
static int key_form(const char *k)
{
	size_t i, n = strlen(k);

	if (n < 3 || n > 100 || strchr(k, '.') == NULL || k[0] == '.' || k[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || strchr("._-", k[i])))
			return 0;
	return 1;
}

/* list_form - a list name: lower-case letters, digits and '_', 1..40 bytes */
static int list_form(const char *k)
{
	size_t i, n = strlen(k);

	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	return n > 0 && n <= 40;
}

/* days - decimal 0..3650 */
static int days(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (*s == 0 || strlen(s) > 4)
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 3650)
		return -1;
	*out = v;
	return 0;
}

/* one_line - one trimmed, non-empty, non-comment line */
static int one_line(cfgtext *t, const char *line, size_t len, size_t lineno, char *err, size_t errlen)
{
	ctl_req *req = x_malloc(sizeof(*req));
	char perr[200];
	int rc = -1;

	if (ctl_parse_request(line, len, req, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "line %zu: %s", lineno, perr);
		goto out;
	}
	if (req->argc == 2 && strcmp(req->argv[0], "mailwarden-config") == 0) {
		if (t->n > 0 || t->version) {
			snprintf(err, errlen, "line %zu: the version line must come first", lineno);
			goto out;
		}
		if (strcmp(req->argv[1], "1") != 0) {
			snprintf(err, errlen,
			         "line %zu: configuration text version %.10s; this program reads version 1", lineno,
			         req->argv[1]);
			goto out;
		}
		t->version = 1;
		rc = 0;
		goto out;
	}
	if (req->argc >= 4 && strcmp(req->argv[0], "rules") == 0 && strcmp(req->argv[1], "set") == 0) {
		mw_buf v;
		size_t i;
		if (!key_form(req->argv[2])) {
			snprintf(err, errlen, "line %zu: \"%.60s\" is not a rule key (section.key)", lineno,
			         req->argv[2]);
			goto out;
		}
		buf_init(&v, CFGTEXT_MAX_VALUE + 1);
		for (i = 3; i < req->argc; i++)
			buf_printf(&v, "%s%s", i > 3 ? " " : "", req->argv[i]);
		if (v.truncated) {
			snprintf(err, errlen, "line %zu: value longer than %d bytes", lineno, CFGTEXT_MAX_VALUE);
			buf_free(&v);
			goto out;
		}
		rc = add_op(t, CFG_RULE_SET, lineno, req->argv[2], v.p ? v.p : "", 0);
		buf_free(&v);
	} else if (req->argc == 3 && strcmp(req->argv[0], "rules") == 0 && strcmp(req->argv[1], "unset") == 0) {
		if (!key_form(req->argv[2])) {
			snprintf(err, errlen, "line %zu: \"%.60s\" is not a rule key (section.key)", lineno,
			         req->argv[2]);
			goto out;
		}
		rc = add_op(t, CFG_RULE_UNSET, lineno, req->argv[2], NULL, 0);
	} else if ((req->argc == 4 || req->argc == 5) && strcmp(req->argv[0], "list") == 0 &&
	           (strcmp(req->argv[1], "add") == 0 || strcmp(req->argv[1], "remove") == 0)) {
		int add = strcmp(req->argv[1], "add") == 0;
		unsigned long d = 0;
		if (!list_form(req->argv[2])) {
			snprintf(err, errlen, "line %zu: \"%.40s\" is not a list name", lineno, req->argv[2]);
			goto out;
		}
		if (req->argv[3][0] == 0 || strlen(req->argv[3]) > 255) {
			snprintf(err, errlen, "line %zu: a list entry is 1..255 bytes", lineno);
			goto out;
		}
		if (req->argc == 5 && (!add || days(req->argv[4], &d) < 0)) {
			snprintf(err, errlen, "line %zu: DAYS is 0..3650, for list add only", lineno);
			goto out;
		}
		rc = add_op(t, add ? CFG_LIST_ADD : CFG_LIST_REMOVE, lineno, req->argv[2], req->argv[3], d);
	} else {
		snprintf(err, errlen, "line %zu: only rules set/unset and list add/remove lines belong here", lineno);
		goto out;
	}
	if (rc < 0)
		snprintf(err, errlen, "line %zu: more than %d commands", lineno, CFGTEXT_MAX_OPS);
out:
	x_free(req);
	return rc;
}

int cfgtext_parse(const char *text, size_t len, cfgtext *out, char *err, size_t errlen)
{
	size_t i = 0, lineno = 0;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len, s = i, e = end;

		lineno++;
		if (e > s && text[e - 1] == '\r')
			e--;
		while (s < e && (text[s] == ' ' || text[s] == '\t'))
			s++;
		while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t'))
			e--;
		i = end + 1;
		if (e - s >= CTL_MAX_LINE) {
			snprintf(err, errlen, "line %zu: longer than %d bytes", lineno, CTL_MAX_LINE - 1);
			goto fail;
		}
		if (e == s || text[s] == '#')
			continue;
		if (one_line(out, text + s, e - s, lineno, err, errlen) < 0)
			goto fail;
	}
	return 0;
fail:
	cfgtext_free(out);
	return -1;
}

void cfgtext_write_op(mw_buf *b, const cfg_op *op)
{
	switch (op->kind) {
	case CFG_RULE_SET:
		buf_puts(b, "rules set ");
		ctl_quote(b, op->key);
		buf_putc(b, ' ');
		ctl_quote(b, op->value ? op->value : "");
		break;
	case CFG_RULE_UNSET:
		buf_puts(b, "rules unset ");
		ctl_quote(b, op->key);
		break;
	case CFG_LIST_ADD:
	case CFG_LIST_REMOVE:
		buf_printf(b, "list %s ", op->kind == CFG_LIST_ADD ? "add" : "remove");
		ctl_quote(b, op->key);
		buf_putc(b, ' ');
		ctl_quote(b, op->value ? op->value : "");
		if (op->kind == CFG_LIST_ADD && op->days)
			buf_printf(b, " %lu", op->days);
		break;
	}
}
