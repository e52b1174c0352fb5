/*
 * appliance_test.c - settings that leave Mailwarden: the value checks, where
 * a key applies, main.cf rendering, the shell variables, the configuration
 * text, the SMTP certificate (mbedTLS) and the privileged helper's
 * refusals.  Table-driven; each case says what it got and what it wanted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "appliance/appliance.h"
#include "ctl/ctl.h"
#include "policy/policy.h"
#include "util/util.h"

typedef struct check_case {
	int (*fn)(const char *, char *, size_t);
	const char *value;
	int ok;
} check_case;

static const check_case checks[] = {
    {cfgcheck_domain, "nenkin.example", 1},
    {cfgcheck_domain, "xn--eckwd4c7c.example", 1},
    {cfgcheck_domain, "a-b.c-d.example", 1},
    {cfgcheck_domain, "-bad.example", 0},
    {cfgcheck_domain, "bad-.example", 0},
    {cfgcheck_domain, "two..dots", 0},
    {cfgcheck_domain, "10.0.0.1", 0},
    {cfgcheck_domain, "a b.example", 0},
    {cfgcheck_domain, "x.example;reload", 0},
    {cfgcheck_domain, "", 0},
    {cfgcheck_relay_host, "", 1},
    {cfgcheck_relay_host, "[192.0.2.25]:25", 1},
    {cfgcheck_relay_host, "[mail.example]", 1},
    {cfgcheck_relay_host, "mail.example:2525", 1},
    {cfgcheck_relay_host, "192.0.2.25", 1},
    {cfgcheck_relay_host, "[ipv6:2001:db8::1]:25", 1},
    {cfgcheck_relay_host, "[192.0.2.25]:99999", 0},
    {cfgcheck_relay_host, "[192.0.2.25]:port", 0},
    {cfgcheck_relay_host, "[192.0.2.25", 0},
    {cfgcheck_relay_host, "host\nsmtpd_milters=", 0},
    {cfgcheck_relay_host, "[x.example]junk", 0},
    {cfgcheck_cidr4, "192.0.2.10/24", 1},
    {cfgcheck_cidr4, "", 1},
    {cfgcheck_cidr4, "192.0.2.10", 0},
    {cfgcheck_cidr4, "192.0.2.10/33", 0},
    {cfgcheck_cidr4, "300.0.2.10/24", 0},
    {cfgcheck_ipv4, "10.0.2.2", 1},
    {cfgcheck_ipv4, "10.0.2", 0},
    {cfgcheck_ip, "2001:db8::53", 1},
    {cfgcheck_ip, "ns.example", 0},
    {cfgcheck_host, "ntp.nict.jp", 1},
    {cfgcheck_host, "192.0.2.123", 1},
    {cfgcheck_host, "$(reboot)", 0},
    {cfgcheck_address, "security@nenkin.example", 1},
    {cfgcheck_address, "a.b+c=d@x.example", 1},
    {cfgcheck_address, "-f@x.example", 0},
    {cfgcheck_address, "a'b@x.example", 0},
    {cfgcheck_address, "nobody", 0},
    {cfgcheck_address, "a@b@c.example", 0},
    {cfgcheck_sender, "mailwarden", 1},
    {cfgcheck_sender, "mailwarden@gw.example", 1},
    {cfgcheck_sender, "-oQ/tmp", 0},
    {cfgcheck_tls, "may", 1},
    {cfgcheck_tls, "encrypt", 0},
    {cfgcheck_relay_tls, "encrypt", 1},
    {cfgcheck_network, "static", 1},
    {cfgcheck_network, "ppp", 0},
};

static void test_value_checks(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(checks); i++) {
		char why[200] = "";
		int ok = checks[i].fn(checks[i].value, why, sizeof(why)) == 0;
		if (ok != checks[i].ok) {
			printf("case %zu \"%s\": got %s, want %s (%s)\n", i, checks[i].value,
			       ok ? "accepted" : "refused", checks[i].ok ? "accepted" : "refused", why);
			bad++;
		}
		if (!ok)
			assert_true(why[0] != 0);
	}
	assert_int_equal(bad, 0);
}

static void test_config_keys_checked(void **state)
{
	static const struct {
		const char *ov, *err;
	} cases[] = {
	    {"domains.protected=example.com, bad domain!", "[domains] protected"},
	    {"mta.relay_host=[192.0.2.25]:25 -o x", "[mta] relay_host"},
	    {"system.dns=10.0.2.3, ns.example", "[system] dns"},
	    {"alert.address=security@example.com, -f@x.example", "[alert] address"},
	    {"mta.tls=always", "[mta] tls"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		const char *ov[] = {cases[i].ov};
		mw_config *c = NULL;
		char err[400] = "";
		assert_int_equal(config_load(NULL, ov, 1, &c, err, sizeof(err)), -1);
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("%s: got \"%s\", want it to name %s", cases[i].ov, err, cases[i].err);
	}
}

static void test_applies(void **state)
{
	(void)state;
	assert_int_equal(appl_key_applies("domains.protected"), APPLY_POSTFIX);
	assert_int_equal(appl_key_applies("mta.relay_host"), APPLY_POSTFIX);
	assert_int_equal(appl_key_applies("limits.max_message_size"), APPLY_POSTFIX);
	assert_int_equal(appl_key_applies("system.hostname"), APPLY_SYSTEM);
	assert_int_equal(appl_key_applies("system.ntp"), APPLY_SYSTEM);
	assert_int_equal(appl_key_applies("system.configured"), APPLY_LIVE);
	assert_int_equal(appl_key_applies("sender.fanout_threshold"), APPLY_LIVE);
	assert_int_equal(appl_key_applies("limits.max_mime_depth"), APPLY_LIVE);
}

static void test_render_and_env(void **state)
{
	const char *ov[] = {"domains.protected=example.com, nenkin.example", "mta.relay_host=[192.0.2.25]:25",
	                    "limits.max_message_size=20M", "mta.relay_tls=encrypt", "system.dns=10.0.2.3 10.0.2.4"};
	const char tmpl[] = "relay_domains = @RELAY_DOMAINS@\nrelay_transport = @RELAY_TRANSPORT@\n"
	                    "message_size_limit = @MESSAGE_SIZE@\nmyhostname = @HOSTNAME@\n"
	                    "smtpd_tls_security_level = @TLS@\nsmtp_tls_security_level = @RELAY_TLS@\n";
	mw_config *c = NULL, *none = NULL;
	char err[300];
	mw_buf out;

	(void)state;
	assert_int_equal(config_load(NULL, ov, MW_ARRAY_LEN(ov), &c, err, sizeof(err)), 0);
	buf_init(&out, 0);
	assert_int_equal(appl_render(c, "gw.example", tmpl, strlen(tmpl), &out, err, sizeof(err)), 0);
	assert_string_equal(out.p, "relay_domains = example.com, nenkin.example\n"
	                           "relay_transport = smtp:[192.0.2.25]:25\n"
	                           "message_size_limit = 20971520\nmyhostname = gw.example\n"
	                           "smtpd_tls_security_level = may\nsmtp_tls_security_level = encrypt\n");
	buf_reset(&out);
	assert_int_equal(appl_render(c, "gw.example", "x = @NOSUCH@\n", 13, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown @NOSUCH@"));
	buf_reset(&out);
	{
		/* comments and other @ are copied; the line of an unknown name is given */
		const char t2[] = "# @NAME@ here\npostmaster = a@b.example @ x\ny = @RELAY_HOST\nz = @NOPE_@\n";
		assert_int_equal(appl_render(c, "gw.example", t2, strlen(t2), &out, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "line 4: unknown @NOPE_@"));
		assert_non_null(strstr(out.p, "# @NAME@ here\npostmaster = a@b.example @ x\ny = @RELAY_HOST\n"));
	}
	/* no relay host: mail waits in the queue */
	assert_int_equal(config_load(NULL, NULL, 0, &none, err, sizeof(err)), 0);
	buf_reset(&out);
	assert_int_equal(appl_render(none, "bad host!", "@RELAY_TRANSPORT@ @HOSTNAME@", 28, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.p, "retry:"));
	assert_non_null(strstr(out.p, " localhost"));
	buf_reset(&out);
	appl_env(c, &out);
	assert_non_null(strstr(out.p, "MW_RELAY_DOMAINS='example.com nenkin.example'\n"));
	assert_non_null(strstr(out.p, "MW_DNS='10.0.2.3 10.0.2.4'\n"));
	assert_non_null(strstr(out.p, "MW_NETWORK='dhcp'\n"));
	buf_free(&out);
	config_unref(c);
	config_unref(none);
}

typedef struct text_case {
	const char *name, *text;
	int ok;
	size_t nops;
	const char *err; /* substring when refused */
} text_case;

static const text_case texts[] = {
    {"empty", "", 1, 0, NULL},
    {"comments", "# a\n\n   # b\n", 1, 0, NULL},
    {"version and rules", "mailwarden-config 1\nrules set sender.fanout_threshold 3\nrules unset hold.lockdown\n", 1, 2,
     NULL},
    {"quoted value", "rules set domains.protected \"a.example, b.example\"\r\n", 1, 1, NULL},
    {"words joined", "rules set domains.public info@a.example, x@b.example\n", 1, 1, NULL},
    {"lists", "list add partner p.example 30\nlist remove freemail f.example\n", 1, 2, NULL},
    {"bad version", "mailwarden-config 2\n", 0, 0, "version 2"},
    {"late version", "rules set a.b 1\nmailwarden-config 1\n", 0, 0, "line 2: the version line"},
    {"other command", "block sender x@y.example\n", 0, 0, "line 1: only"},
    {"bad key", "rules set NoDot 1\n", 0, 0, "not a rule key"},
    {"days on remove", "list remove allow a.example 3\n", 0, 0, "DAYS"},
    {"bad quote", "rules set a.b \"x\n", 0, 0, "line 1:"},
    {"control char", "rules set a.b x\x01y\n", 0, 0, "line 1:"},
};

static void test_cfgtext(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(texts); i++) {
		cfgtext t;
		char err[300] = "";
		int rc = cfgtext_parse(texts[i].text, strlen(texts[i].text), &t, err, sizeof(err));
		if ((rc == 0) != texts[i].ok)
			fail_msg("%s: got %s (%s), want %s", texts[i].name, rc == 0 ? "parsed" : "refused", err,
			         texts[i].ok ? "parsed" : "refused");
		if (rc < 0) {
			if (strstr(err, texts[i].err) == NULL)
				fail_msg("%s: got \"%s\", want \"%s\"", texts[i].name, err, texts[i].err);
			continue;
		}
		assert_int_equal(t.n, texts[i].nops);
		/* a round trip gives the same operations */
		{
			mw_buf b;
			cfgtext u;
			buf_init(&b, 0);
			for (k = 0; k < t.n; k++) {
				cfgtext_write_op(&b, &t.ops[k]);
				buf_putc(&b, '\n');
			}
			assert_int_equal(cfgtext_parse(b.p ? b.p : "", b.len, &u, err, sizeof(err)), 0);
			assert_int_equal(u.n, t.n);
			for (k = 0; k < t.n; k++) {
				assert_int_equal(u.ops[k].kind, t.ops[k].kind);
				assert_string_equal(u.ops[k].key, t.ops[k].key);
				if (t.ops[k].value)
					assert_string_equal(u.ops[k].value, t.ops[k].value);
			}
			cfgtext_free(&u);
			buf_free(&b);
		}
		cfgtext_free(&t);
	}
	{
		cfgtext t;
		char err[200];
		const char txt[] = "rules set domains.public info@a.example, x@b.example\n";
		assert_int_equal(cfgtext_parse(txt, strlen(txt), &t, err, sizeof(err)), 0);
		assert_string_equal(t.ops[0].value, "info@a.example, x@b.example");
		cfgtext_free(&t);
	}
}

static char *tmp_dir(void)
{
	char *d = x_strdup("/tmp/mw_appliance_test.XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[600];
	FILE *fp;
	char *p = x_malloc(70000);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	*len = fread(p, 1, 69999, fp);
	p[*len] = 0;
	fclose(fp);
	return p;
}

static void test_tls(void **state)
{
	const char *names[] = {"mx.nenkin.example", "mail.nenkin.example"};
	const char *bad[] = {"bad name!"};
	char *d1 = tmp_dir(), *d2 = tmp_dir(), err[400], cmd[1300], *chain1, *key1, *key2;
	size_t l1, lk1, lk2;
	struct stat st;
	mw_buf out;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(tls_selfsigned(d1, bad, 1, err, sizeof(err)), -1);
	assert_int_equal(tls_selfsigned(d1, names, 2, err, sizeof(err)), 0);
	assert_int_equal(tls_selfsigned(d2, names, 1, err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "%s/key.pem", d1);
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tls_show(d1, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.p, "(self-signed)"));
	assert_non_null(strstr(out.p, " mx.nenkin.example mail.nenkin.example"));
	assert_non_null(strstr(out.p, "matches the certificate"));
	buf_reset(&out);
	assert_int_equal(tls_csr(d1, names, 1, &out, err, sizeof(err)), 0);
	assert_non_null(strstr(out.p, "-----BEGIN CERTIFICATE REQUEST-----"));
	/* a chain against its own key, and against another's */
	chain1 = slurp(d1, "chain.pem", &l1);
	key1 = slurp(d1, "key.pem", &lk1);
	key2 = slurp(d2, "key.pem", &lk2);
	assert_int_equal(tls_check_chain(chain1, l1, key1, lk1, NULL, err, sizeof(err)), 0);
	assert_int_equal(tls_check_chain(chain1, l1, key2, lk2, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not for this appliance's key"));
	assert_int_equal(tls_check_chain("garbage", 7, key1, lk1, NULL, err, sizeof(err)), -1);
	assert_int_equal(tls_check_chain("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 60, key1,
	                                 lk1, NULL, err, sizeof(err)),
	                 -1);
	/* install refuses another appliance's certificate, keeps the old one */
	assert_int_equal(tls_install(d2, chain1, l1, NULL, err, sizeof(err)), -1);
	assert_int_equal(tls_install(d1, chain1, l1, NULL, err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", d1, d2);
	assert_int_equal(system(cmd), 0);
	x_free(chain1);
	x_free(key1);
	x_free(key2);
	x_free(d1);
	x_free(d2);
	buf_free(&out);
}

/* the helper in this process (not root here, or root: same checks) */
static void test_priv_refusals(void **state)
{
	char *d = tmp_dir(), script[700], release[700], conf[1600], err[400];
	const char *ov[2];
	const char *argsbad[] = {"-rf"};
	const char *names[] = {"mx.example", "bad name"};
	const char *mail_bad[] = {"mailwarden", "-oQ@x.example"};
	const char *mail_ok[] = {"mailwarden", "a@x.example", "b@x.example"};
	mw_config *c = NULL;
	mw_buf out;
	FILE *fp;
	int st;

	(void)state;
	snprintf(script, sizeof(script), "%s/apply", d);
	fp = fopen(script, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\necho \"verb=$1 args=$#\"\nshift\nfor a in \"$@\"; do echo \"arg=$a\"; done\ncat\nexit 3\n",
	      fp);
	fclose(fp);
	chmod(script, 0755);
	snprintf(release, sizeof(release), "%s/rel", d);
	fp = fopen(release, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\necho \"release $*\"\ncat\n", fp);
	fclose(fp);
	chmod(release, 0755);
	snprintf(conf, sizeof(conf), "daemon.apply_command=%s", script);
	ov[0] = conf;
	snprintf(conf + 700, 800, "quarantine.release_command=%s -i", release);
	ov[1] = conf + 700;
	assert_int_equal(config_load(NULL, ov, 2, &c, err, sizeof(err)), 0);
	/* not root in CI containers?  priv_start forks only as root; the checks are the same */
	assert_int_equal(priv_start(c), 0);
	assert_int_equal(priv_configured(), 1);
	buf_init(&out, PRIV_MAX_OUTPUT);
	assert_int_equal(priv_run("rm", 0, NULL, NULL, 0, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown action"));
	assert_int_equal(priv_run("postfix", 1, argsbad, NULL, 0, &out, err, sizeof(err)), -1);
	assert_int_equal(priv_run("tls-csr", 2, names, NULL, 0, &out, err, sizeof(err)), -1);
	assert_int_equal(priv_run("mail", 2, mail_bad, "x", 1, &out, err, sizeof(err)), -1);
	assert_int_equal(out.len, 0); /* nothing ran */
	/* an allowed verb runs the apply command with exactly its verb; input only where the verb takes it */
	st = priv_run("tls-csr", 1, names, "ignored", 7, &out, err, sizeof(err));
	assert_int_equal(st, 3);
	assert_string_equal(out.p, "verb=tls-csr args=2\narg=mx.example\n");
	buf_reset(&out);
	st = priv_run("tls-install", 0, NULL, "PEM TEXT\n", 9, &out, err, sizeof(err));
	assert_int_equal(st, 3);
	assert_string_equal(out.p, "verb=tls-install args=1\nPEM TEXT\n");
	buf_reset(&out);
	st = priv_run("mail", 3, mail_ok, "Subject: x\n\nbody\n", 17, &out, err, sizeof(err));
	assert_int_equal(st, 0);
	assert_string_equal(out.p, "release -i -f mailwarden -- a@x.example b@x.example\nSubject: x\n\nbody\n");
	priv_stop();
	buf_free(&out);
	config_unref(c);
	snprintf(conf, sizeof(conf), "rm -rf '%s'", d);
	assert_int_equal(system(conf), 0);
	x_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_value_checks),  cmocka_unit_test(test_config_keys_checked),
	    cmocka_unit_test(test_applies),       cmocka_unit_test(test_render_and_env),
	    cmocka_unit_test(test_cfgtext),       cmocka_unit_test(test_tls),
	    cmocka_unit_test(test_priv_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
