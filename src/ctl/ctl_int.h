/*
 * NAME
 *	ctl_int.h - control server internals shared by its files
 * DESCRIPTION
 *	A ctl_conn is one client connection: who is speaking (for the audit
 *	trail), the daemon's hooks, the request data (import) and the
 *	response being built.  Command functions (ctl_cmd_*.c) write data
 *	lines with ctl_out() and end with ctl_ok() or ctl_err(); the server
 *	sends the lines, each prefixed with a space, then the final line.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_CTL_INT_H
#define MW_CTL_INT_H

#include "ctl/ctl.h"
#include "store/quarantine.h"
#include "store/store.h"

typedef struct ctl_conn {
	int fd;
	char who[CTL_WHO_MAX]; /* audit name: peer user, or "login(peer)" */
	char peer[32];         /* the peer's user name */
	const ctl_hooks *h;
	mw_buf out;               /* data lines, '\n' separated, bounded by CTL_MAX_OUT */
	char final[CTL_MAX_LINE]; /* "OK ..." or "ERR code ..." */
	const char *data;         /* request data (import), '\n' separated, or NULL */
	int close_after;          /* framing lost (bad data): close after the answer */
} ctl_conn;

/* ctl_started - when the daemon opened its control socket (its start) */
extern time_t ctl_started;

/* ctl_out - one or more data lines (printf; '\n' splits lines) */
void ctl_out(ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ctl_ok - the final line "OK text"; returns 0 */
int ctl_ok(ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ctl_err - the final line "ERR code text"; returns -1 */
int ctl_err(ctl_conn *c, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ctl_store - the store or NULL after ERR unavailable */
mw_store *ctl_store(ctl_conn *c);
mw_quar *ctl_quar(ctl_conn *c);
/* ctl_apply - rebuild the snapshot after a change; -1 after ERR failed */
int ctl_apply(ctl_conn *c);
/* ctl_parse_uint - decimal in [min, max]; -1 otherwise */
int ctl_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* the commands: rules (ctl_cmd_rules.c) */
int ctl_run_rules_show(ctl_conn *c, size_t argc, char **argv);
int ctl_run_rules_set(ctl_conn *c, size_t argc, char **argv);
int ctl_run_rules_unset(ctl_conn *c, size_t argc, char **argv);
int ctl_run_lockdown(ctl_conn *c, size_t argc, char **argv);
int ctl_run_history(ctl_conn *c, size_t argc, char **argv);
int ctl_run_revert(ctl_conn *c, size_t argc, char **argv);
/* ctl_rule_change - trial, save, apply one rule (value NULL: remove), then ctl_applied(); -1 after ctl_err */
int ctl_rule_change(ctl_conn *c, const char *key, const char *value, const char *who);
/* ctl_key_allowed - key is a rule key (not [daemon], [paths], [console]); -1 after ERR invalid */
int ctl_key_allowed(ctl_conn *c, const char *key);
/* ctl_trial - the current rules plus key=value load (value NULL: nothing to try); -1 after ERR invalid */
int ctl_trial(ctl_conn *c, mw_store *st, const char *key, const char *value);
/* ctl_each_effective - fn("section.key", value) for every key of cfg, in table order */
void ctl_each_effective(const mw_config *cfg, void (*fn)(const char *key, const char *value, void *arg), void *arg);

/* configuration as a whole (ctl_cmd_config.c) */
int ctl_run_export(ctl_conn *c, size_t argc, char **argv);
int ctl_run_import(ctl_conn *c, size_t argc, char **argv);
int ctl_run_config_show(ctl_conn *c, size_t argc, char **argv);
int ctl_run_config_get(ctl_conn *c, size_t argc, char **argv);
int ctl_run_config_check(ctl_conn *c, size_t argc, char **argv);
int ctl_run_config_import(ctl_conn *c, size_t argc, char **argv);
int ctl_run_setup_apply(ctl_conn *c, size_t argc, char **argv);
/* ctl_lockdown_level - the effective hold.lockdown now */
size_t ctl_lockdown_level(ctl_conn *c);
/*
 * ctl_applied - after keys changed (and the snapshot was rebuilt): Postfix
 * settings are applied now (the privileged helper), system settings are
 * noted as waiting for `apply`, a raised lockdown raises an alert.
 * Reports with data lines; never fails the change itself.
 */
void ctl_applied(ctl_conn *c, const char *const *keys, size_t n, size_t lockdown_before);
/* ctl_batch_revert - revert every change of a batch (audit key batch.*) as one new batch */
int ctl_batch_revert(ctl_conn *c, const store_audit_row *head);
/* ctl_pending - the settings waiting for `apply`, space separated, into out ("" if none) */
void ctl_pending(char *out, size_t len);
/* ctl_pending_clear - after a successful `apply` */
void ctl_pending_clear(void);

/* actions and alerts (ctl_cmd_admin.c) */
int ctl_run_apply(ctl_conn *c, size_t argc, char **argv);
int ctl_run_reboot(ctl_conn *c, size_t argc, char **argv);
int ctl_run_poweroff(ctl_conn *c, size_t argc, char **argv);
int ctl_run_tls_show(ctl_conn *c, size_t argc, char **argv);
int ctl_run_tls_csr(ctl_conn *c, size_t argc, char **argv);
int ctl_run_tls_install(ctl_conn *c, size_t argc, char **argv);
int ctl_run_tls_selfsigned(ctl_conn *c, size_t argc, char **argv);
int ctl_run_alerts(ctl_conn *c, size_t argc, char **argv);
int ctl_run_alerts_show(ctl_conn *c, size_t argc, char **argv);
int ctl_run_alerts_read(ctl_conn *c, size_t argc, char **argv);

/* lists and blocks (ctl_cmd_lists.c) */
int ctl_run_list_show(ctl_conn *c, size_t argc, char **argv);
int ctl_run_list_add(ctl_conn *c, size_t argc, char **argv);
int ctl_run_list_remove(ctl_conn *c, size_t argc, char **argv);
int ctl_run_block(ctl_conn *c, size_t argc, char **argv);
int ctl_run_unblock(ctl_conn *c, size_t argc, char **argv);
int ctl_run_blocks(ctl_conn *c, size_t argc, char **argv);
/* ctl_list_state - entry normalised into norm: 1 listed, 0 not listed, -1 after ERR invalid */
int ctl_list_state(ctl_conn *c, const char *list, const char *entry, char *norm, size_t len);
/* ctl_list_change - validate and record one list edit (audited), no rebuild; -1 after ctl_err */
int ctl_list_change(ctl_conn *c, const char *list, const char *entry, int add, unsigned long days, const char *who);
/* ctl_block_change - block (add) or unblock kind/value, audited; -1 after ctl_err */
int ctl_block_change(ctl_conn *c, const char *kind, const char *value, int add, unsigned long days, const char *reason,
                     const char *who);

/* state: status, quarantine, track, tail, sigs (ctl_cmd_state.c) */
int ctl_run_status(ctl_conn *c, size_t argc, char **argv);
int ctl_run_quar_list(ctl_conn *c, size_t argc, char **argv);
int ctl_run_quar_show(ctl_conn *c, size_t argc, char **argv);
int ctl_run_quar_release(ctl_conn *c, size_t argc, char **argv);
int ctl_run_quar_delete(ctl_conn *c, size_t argc, char **argv);
int ctl_run_track(ctl_conn *c, size_t argc, char **argv);
int ctl_run_tail(ctl_conn *c, size_t argc, char **argv);
int ctl_run_sigs(ctl_conn *c, size_t argc, char **argv);
int ctl_run_sigs_reload(ctl_conn *c, size_t argc, char **argv);
int ctl_run_help(ctl_conn *c, size_t argc, char **argv);

/* checks (ctl_table.c) */
int ctl_check_track(size_t argc, char **argv, char *err, size_t errlen);

#endif
