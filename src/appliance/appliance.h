/*
 * NAME
 *	appliance.h - settings that live outside Mailwarden: where each
 *	applies, the privileged helper that applies them, the configuration
 *	text format, the appliance's TLS certificate
 * SYNOPSIS
 *	#include "appliance/appliance.h"
 *
 *	Daemon:	priv_start(cfg);			(as root, before the drop)
 *		priv_run("postfix", 0, NULL, NULL, 0, &out, err, len);
 *	Any:	appl_key_applies("mta.relay_host");	-> APPLY_POSTFIX
 *	Root:	appl_effective(path, ov, n, &cfg, err, len);	(file + rules)
 *		tls_show(dir, &out, err, len); tls_install(dir, pem, len, ...);
 * DESCRIPTION
 *	appl_settings.c: which configuration keys concern what.  A rule
 *	change applies where the setting lives: engine rules at the next
 *	message (APPLY_LIVE), Postfix's settings ([domains] protected,
 *	[mta], limits.max_message_size) by rewriting main.cf and reloading
 *	Postfix (APPLY_POSTFIX, at once), the appliance's host name, network,
 *	resolver and time source by `apply` (APPLY_SYSTEM: the network may
 *	drop, so the operator chooses the moment).  appl_effective() builds
 *	the configuration the daemon runs with (file, -o, the rules of the
 *	state database) for the root side, which checks every value again.
 *
 *	appl_priv.c: the privileged helper.  mailwardend runs as an
 *	unprivileged user; what needs root (Postfix's configuration and
 *	reload, the network, reboot, the TLS private key, and injecting alert
 *	mail with a private Postfix's sendmail) is done by a helper forked
 *	while the daemon is still root.  It runs only two commands, both
 *	fixed at start from the file configuration ([daemon] apply_command,
 *	[quarantine] release_command, never from run-time rules), with a verb
 *	from a fixed table and arguments it checks itself (host names,
 *	addresses).  Everything it applies it reads back itself from the
 *	configuration and the state database through the same checks, so a
 *	compromised daemon can at most choose values those checks accept.
 *	See docs/appliance.md.
 *
 *	appl_tls.c: the SMTP server certificate with mbedTLS: a P-256 key
 *	and a self-signed certificate at first boot, a certificate request
 *	(CSR) for a CA, the installation of a pasted PEM chain after
 *	checking it (parses, leaf matches our key, each certificate signed
 *	by the next, not expired), and a summary (names, validity, SHA-256
 *	fingerprint).
 * LIMITS
 *	PRIV_MAX_INPUT bytes of input and PRIV_MAX_OUTPUT bytes of output per
 *	helper command; TLS_MAX_PEM bytes of PEM.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_APPLIANCE_H
#define MW_APPLIANCE_H

#include <stddef.h>

#include "policy/policy.h"
#include "util/util.h"

/* ---- where settings apply (appl_settings.c) ---- */

typedef enum appl_applies {
	APPLY_LIVE = 0,    /* the daemon's next message */
	APPLY_POSTFIX = 1, /* main.cf rewritten, Postfix reloaded, at once */
	APPLY_SYSTEM = 2   /* host name, network, resolver, time: at `apply` */
} appl_applies;

/* appl_key_applies - where a rule key ("section.key") takes effect */
appl_applies appl_key_applies(const char *key);
/* appl_applies_name - "at once", "Postfix reload", "apply" */
const char *appl_applies_name(appl_applies a);

/*
 * appl_effective - the configuration mailwardend runs with: path (NULL:
 * defaults) with overrides, then the rules of the state database in its
 * paths.state (when it exists).  0 with *out, or -1 with err.  *nrules
 * (may be NULL) gets the number of rules applied.
 */
int appl_effective(const char *path, const char *const *ov, size_t nov, mw_config **out, size_t *nrules, char *err,
                   size_t errlen);

/*
 * appl_render - copy a template, replacing @NAME@ by the effective value
 * (RELAY_DOMAINS, RELAY_HOST, RELAY_TRANSPORT, MYNETWORKS, MESSAGE_SIZE,
 * TLS, RELAY_TLS, HOSTNAME); an unknown @NAME@ is an error.  0 or -1.
 */
int appl_render(const mw_config *cfg, const char *hostname, const char *tmpl, size_t len, mw_buf *out, char *err,
                size_t errlen);

/* appl_env - the effective settings as shell assignments MW_NAME='value' (for the apply script) */
void appl_env(const mw_config *cfg, mw_buf *out);

/* ---- the privileged helper (appl_priv.c) ---- */

#define PRIV_MAX_INPUT  (96 * 1024)
#define PRIV_MAX_OUTPUT (64 * 1024)

/*
 * priv_start - remember [quarantine] release_command and [daemon]
 * apply_command; when root, fork the helper that runs them (call before
 * dropping privileges and before starting threads).  Without root the
 * commands run in this process.  0 or -1 (logged).
 */
int priv_start(const mw_config *cfg);
/* priv_configured - 1 when [daemon] apply_command was set at start */
int priv_configured(void);
/*
 * priv_run - run one verb: "mail" SENDER RCPT... (the release command,
 * message on standard input), or one of the apply verbs (postfix,
 * system, reboot, poweroff, tls-show, tls-selfsigned, tls-csr NAME...,
 * tls-install with the PEM on standard input).  The command's standard
 * output and error (bounded) are appended to out.  Returns its exit
 * status, or -1 with err when it was refused, could not run or timed out.
 */
int priv_run(const char *verb, size_t nargs, const char *const *args, const char *input, size_t inlen, mw_buf *out,
             char *err, size_t errlen);
/* priv_stop - end the helper (at exit; it also ends when the daemon does) */
void priv_stop(void);

/* ---- the SMTP server certificate (appl_tls.c) ---- */

#define TLS_MAX_PEM   (64 * 1024)
#define TLS_MAX_NAMES 20
#define TLS_KEY_FILE  "key.pem"
#define TLS_CERT_FILE "chain.pem"

/* tls_show - a summary of DIR's certificate chain and key into out; 0 or -1 */
int tls_show(const char *dir, mw_buf *out, char *err, size_t errlen);
/* tls_selfsigned - a new P-256 key and a self-signed certificate for names (10 years); 0 or -1 */
int tls_selfsigned(const char *dir, const char *const *names, size_t n, char *err, size_t errlen);
/* tls_csr - a certificate request for names (the first is the subject CN) signed by DIR's key, PEM into out */
int tls_csr(const char *dir, const char *const *names, size_t n, mw_buf *out, char *err, size_t errlen);
/*
 * tls_check_chain - parse a PEM chain and check it against a key (PEM):
 * leaf first, each certificate issued and signed by the next, the leaf's
 * public key is the key's, none expired.  summary (may be NULL) gets what
 * tls_show prints.  0, or -1 with why in err.
 */
int tls_check_chain(const char *pem, size_t len, const char *key_pem, size_t keylen, mw_buf *summary, char *err,
                    size_t errlen);
/* tls_install - check pem against DIR's key, then replace DIR's chain atomically; 0 or -1 */
int tls_install(const char *dir, const char *pem, size_t len, mw_buf *summary, char *err, size_t errlen);

#endif
