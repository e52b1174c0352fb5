/*
 * NAME
 *	appl_settings.c - where each setting applies; the effective
 *	configuration for the root side; main.cf from its template
 * SYNOPSIS
 *	appl_key_applies("domains.protected")		-> APPLY_POSTFIX
 *	appl_effective(path, ov, n, &cfg, &nrules, err, len);
 *	appl_render(cfg, fallback_host, tmpl, len, &out, err, len);
 *	appl_env(cfg, &out);
 * DESCRIPTION
 *	One table says where a rule key takes effect; the console and `config
 *	show` read it, the control server acts on it after a change.
 *
 *	appl_effective() is what `mailwarden appliance` (run as root by the
 *	apply command) uses: the configuration file and overrides, then every
 *	rule of the state database in the file's paths.state, loaded through
 *	config_load() and so through every value check.  The database is
 *	opened only when it exists (a first boot must not create it as
 *	root).
 *
 *	appl_render() fills Postfix's main.cf template: @RELAY_DOMAINS@ (the
 *	protected domains: Postfix relays mail for exactly these),
 *	@RELAY_TRANSPORT@ (smtp:RELAY_HOST, or, with no relay host, the
 *	`retry` transport, so mail for our domains is kept in the queue with
 *	a 4xx until a relay host is set), @MESSAGE_SIZE@
 *	(limits.max_message_size), @MYNETWORKS@, @TLS@, @RELAY_TLS@,
 *	@HOSTNAME@.  A placeholder is @ + capitals and '_' + @ outside
 *	comment lines (lines starting with #); an unknown one is an error, so
 *	a template and this code cannot drift apart silently.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "appliance/appliance.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *key; /* exact key, or prefix ending in '.' */
	appl_applies where;
} applies[] = {
    {"system.configured", APPLY_LIVE},
    {"system.", APPLY_SYSTEM},
    {"mta.", APPLY_POSTFIX},
    {"domains.protected", APPLY_POSTFIX},
    {"limits.max_message_size", APPLY_POSTFIX},
};

appl_applies appl_key_applies(const char *key)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(applies); i++) {
		size_t n = strlen(applies[i].key);
		if (applies[i].key[n - 1] == '.' ? strncmp(key, applies[i].key, n) == 0
		                                 : strcmp(key, applies[i].key) == 0)
			return applies[i].where;
	}
	return APPLY_LIVE;
}

const char *appl_applies_name(appl_applies a)
{
	switch (a) {
	case APPLY_POSTFIX: return "Postfix reload";
	case APPLY_SYSTEM: return "apply";
	default: return "at once";
	}
}

typedef struct rule_list {
	char **v;
	size_t n;
} rule_list;

static void add_rule(const char *key, const char *value, void *arg)
{
	rule_list *r = arg;
	char *s = x_malloc(strlen(key) + strlen(value) + 2);

	sprintf(s, "%s=%s", key, value);
	r->v = x_realloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n++] = s;
}

int appl_effective(const char *path, const char *const *ov, size_t nov, mw_config **out, size_t *nrules, char *err,
                   size_t errlen)
{
	mw_config *file = NULL;
	rule_list r = {NULL, 0};
	char db[4200];
	size_t i;
	int rc = -1;

	if (nrules)
		*nrules = 0;
	if (config_load(path, ov, nov, &file, err, errlen) < 0)
		return -1;
	snprintf(db, sizeof(db), "%s/mailwarden.db", file->state);
	if (access(db, F_OK) == 0) {
		store_limits lim = {file->store_max_rows, 5000};
		mw_store *st;
		if (store_open(file->state, &lim, &st, err, errlen) < 0)
			goto out;
		for (i = 0; i < nov; i++) {
			r.v = x_realloc(r.v, (r.n + 1) * sizeof(*r.v));
			r.v[r.n++] = x_strdup(ov[i]);
		}
		if (store_rules(st, add_rule, &r) < 0) {
			snprintf(err, errlen, "reading rules: %s", store_error(st));
			store_close(st);
			goto out;
		}
		store_close(st);
		if (nrules)
			*nrules = r.n - nov;
		if (r.n > nov) {
			mw_config *c;
			if (config_load(path, (const char *const *)r.v, r.n, &c, err, errlen) < 0)
				goto out;
			config_unref(file);
			file = c;
		}
	}
	*out = file;
	file = NULL;
	rc = 0;
out:
	for (i = 0; i < r.n; i++)
		x_free(r.v[i]);
	x_free(r.v);
	config_unref(file);
	return rc;
}

static void join(mw_buf *b, const mw_strlist *l, const char *sep)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		buf_printf(b, "%s%s", i ? sep : "", l->v[i]);
}

/* value - the text of one template name into b; -1 when unknown */
static int value(const mw_config *cfg, const char *host, const char *name, size_t n, mw_buf *b)
{
#define IS(s) (n == sizeof(s) - 1 && strncmp(name, s, n) == 0)
	if (IS("RELAY_DOMAINS"))
		join(b, &cfg->protected_domains, ", ");
	else if (IS("RELAY_HOST"))
		buf_puts(b, cfg->relay_host);
	else if (IS("RELAY_TRANSPORT")) {
		if (cfg->relay_host[0])
			buf_printf(b, "smtp:%s", cfg->relay_host);
		else
			buf_puts(b, "retry:no internal mail server is set yet (console: setup)");
	} else if (IS("MYNETWORKS"))
		join(b, &cfg->mynetworks, ", ");
	else if (IS("MESSAGE_SIZE"))
		buf_printf(b, "%zu", cfg->lim.max_message_size);
	else if (IS("TLS"))
		buf_puts(b, cfg->tls);
	else if (IS("RELAY_TLS"))
		buf_puts(b, cfg->relay_tls);
	else if (IS("HOSTNAME"))
		buf_puts(b, cfg->hostname[0] ? cfg->hostname : host);
	else
		return -1;
	return 0;
#undef IS
}

/* placeholder - length of NAME when p starts "@NAME@" (NAME: A-Z and _), else 0 */
static size_t placeholder(const char *p, const char *end)
{
	const char *q = p + 1;

	while (q < end && ((*q >= 'A' && *q <= 'Z') || *q == '_'))
		q++;
	return q < end && *q == '@' && q > p + 1 ? (size_t)(q - p - 1) : 0;
}

int appl_render(const mw_config *cfg, const char *hostname, const char *tmpl, size_t len, mw_buf *out, char *err,
                size_t errlen)
{
	char why[200];
	const char *host = hostname && cfgcheck_domain(hostname, why, sizeof(why)) == 0 ? hostname : "localhost";
	const char *p = tmpl, *end = tmpl + len;
	size_t line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl + 1 : end;
		line++;
		if (*p == '#') { /* comments are copied as they are */
			buf_append(out, p, (size_t)(eol - p));
			p = eol;
			continue;
		}
		while (p < eol) {
			size_t n;
			if (*p != '@' || (n = placeholder(p, eol)) == 0) {
				buf_putc(out, *p++);
				continue;
			}
			if (value(cfg, host, p + 1, n, out) < 0) {
				snprintf(err, errlen, "template line %zu: unknown @%.*s@", line, (int)(n > 40 ? 40 : n),
				         p + 1);
				return -1;
			}
			p += n + 2;
		}
	}
	return 0;
}

/* sh_quote - 'value' with ' written as '\'' (the checks already keep quotes out) */
static void sh_quote(mw_buf *b, const char *name, const char *v)
{
	buf_printf(b, "MW_%s='", name);
	for (; *v; v++) {
		if (*v == '\'')
			buf_puts(b, "'\\''");
		else if (*v != '\n' && *v != '\r')
			buf_putc(b, *v);
	}
	buf_puts(b, "'\n");
}

void appl_env(const mw_config *cfg, mw_buf *out)
{
	mw_buf v;
	char n[32];

	buf_init(&v, 0);
#define LIST(name, l)                                                                                                  \
	do {                                                                                                           \
		buf_reset(&v);                                                                                         \
		join(&v, l, " ");                                                                                      \
		sh_quote(out, name, v.p ? v.p : "");                                                                   \
	} while (0)
	sh_quote(out, "HOSTNAME", cfg->hostname);
	sh_quote(out, "NETWORK", cfg->network);
	sh_quote(out, "ADDRESS", cfg->address);
	sh_quote(out, "GATEWAY", cfg->gateway);
	LIST("DNS", &cfg->dns);
	LIST("NTP", &cfg->ntp);
	sh_quote(out, "RELAY_HOST", cfg->relay_host);
	LIST("RELAY_DOMAINS", &cfg->protected_domains);
	LIST("MYNETWORKS", &cfg->mynetworks);
	sh_quote(out, "TLS", cfg->tls);
	sh_quote(out, "RELAY_TLS", cfg->relay_tls);
	snprintf(n, sizeof(n), "%zu", cfg->lim.max_message_size);
	sh_quote(out, "MESSAGE_SIZE", n);
	sh_quote(out, "CONFIGURED", cfg->configured ? "yes" : "no");
	sh_quote(out, "STATE", cfg->state);
#undef LIST
	buf_free(&v);
}
