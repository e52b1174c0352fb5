/*
 * NAME
 *	ctl.h - the control protocol: parser, command table, server, client,
 *	verdict counters
 * SYNOPSIS
 *	#include "ctl/ctl.h"
 *
 *	Daemon:	ctl_server_open(cfg, err, len);		(as root, before the drop)
 *		ctl_server_start(&hooks);		(once the store is open)
 *		ctl_stats_verdict("eom", qid, from, rcpt, n, &verdict);
 *		ctl_server_stop();
 *	Client:	ctl_client *c = ctl_connect(path, "alice", err, len);
 *		ctl_call(c, argc, argv, NULL, line_fn, arg, &resp);
 *		ctl_close(c);
 *	Pure:	ctl_parse_request(line, len, &req, err, len);
 *		ctl_quote(word, &buf); ctl_parse_greeting(line, &version);
 * DESCRIPTION
 *	A versioned, line-based protocol on a UNIX socket (see
 *	docs/control-protocol.md).  The server greets with
 *	"MAILWARDEN-CTL 1 ..."; a request is one line of words, a word with
 *	spaces is double-quoted ("\"" and "\\" are its only escapes); the
 *	answer is data lines, each starting with one space, then one line
 *	"OK [text]" or "ERR CODE text".  A data line can therefore never be
 *	taken for the end of the answer.  Requests that carry data (import)
 *	send it the same way: space-prefixed lines, then a line ".".
 *
 *	The command table (ctl_commands()) is shared by the server (which
 *	runs the entries), `mailwarden ctl` and the console (help text,
 *	completion).  Every entry: name, sub-command, argument count, flags,
 *	usage, one-line help, longer help, check and run functions.
 * LIMITS
 *	CTL_MAX_LINE bytes per request line, LF included; CTL_MAX_ARGS words;
 *	CTL_MAX_DATA_LINES / CTL_MAX_DATA_BYTES of request data; a response
 *	is cut after CTL_MAX_OUT bytes; data lines longer than CTL_MAX_LINE
 *	are cut.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_CTL_H
#define MW_CTL_H

#include <stddef.h>
#include <time.h>

#include "av/av.h"
#include "scan/scan.h"
#include "policy/policy.h"
#include "store/quarantine.h"
#include "store/store.h"
#include "util/util.h"

#define CTL_VERSION        1
#define CTL_MAGIC          "MAILWARDEN-CTL"
#define CTL_MAX_LINE       1024 /* request or data line, LF included */
#define CTL_MAX_ARGS       24   /* words per request */
#define CTL_MAX_DATA_LINES 5000 /* request data (import) */
#define CTL_MAX_DATA_BYTES (512 * 1024)
#define CTL_MAX_OUT        (2 * 1024 * 1024) /* one response */
#define CTL_WHO_MAX        64

/* ---- the protocol (ctl_proto.c): pure functions ---- */

typedef struct ctl_req {
	size_t argc;
	char *argv[CTL_MAX_ARGS + 1]; /* into buf; argv[argc] is NULL */
	char buf[CTL_MAX_LINE + 1];
} ctl_req;

/*
 * ctl_parse_request - split one request line (len bytes, without its LF)
 * into words.  Strict: valid UTF-8, no control characters, quotes only
 * around whole words, only \" and \\ escapes.  0, or -1 with why in err.
 */
int ctl_parse_request(const char *line, size_t len, ctl_req *req, char *err, size_t errlen);

/* ctl_quote - append word to b, quoted when it needs it (the inverse of the parser) */
void ctl_quote(mw_buf *b, const char *word);

/* ctl_join - quote and join words into one request line (no LF); -1 if too long */
int ctl_join(mw_buf *b, size_t argc, char *const *argv);

/* ctl_parse_greeting - "MAILWARDEN-CTL N[ text]": 0 with *version, -1 when malformed */
int ctl_parse_greeting(const char *line, int *version);

typedef enum ctl_line_kind { CTL_LINE_DATA, CTL_LINE_OK, CTL_LINE_ERR, CTL_LINE_BAD } ctl_line_kind;

/* ctl_classify - what a response line is; *text points at the payload (data, OK text, ERR code) */
ctl_line_kind ctl_classify(const char *line, const char **text);

/* ctl_utf8_valid - 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates) */
int ctl_utf8_valid(const unsigned char *s, size_t len);

/* ctl_sanitize - copy text for a data line: control characters become '?', cut at max bytes */
void ctl_sanitize(mw_buf *out, const char *s, size_t max);

/* ---- configuration text (ctl_cfgtext.c) ---- */

/*
 * The configuration export format (`config export`): an optional
 * "mailwarden-config 1" line, then `rules set KEY VALUE`, `rules unset
 * KEY`, `list add NAME ENTRY [DAYS]` and `list remove NAME ENTRY` lines,
 * quoted as control-protocol requests; blank lines and # comments.
 */

#define CFGTEXT_MAX_OPS 5000

typedef enum cfg_op_kind { CFG_RULE_SET, CFG_RULE_UNSET, CFG_LIST_ADD, CFG_LIST_REMOVE } cfg_op_kind;

typedef struct cfg_op {
	cfg_op_kind kind;
	size_t line;
	char *key;   /* rule key, or list name */
	char *value; /* rule value, or list entry; NULL for CFG_RULE_UNSET */
	unsigned long days;
} cfg_op;

typedef struct cfgtext {
	cfg_op *ops;
	size_t n;
	int version; /* 0: no version line */
} cfgtext;

/*
 * cfgtext_parse - parse configuration text (len bytes, need not end in
 * NUL).  Every line is checked for form (not for values: the daemon
 * checks those).  0 with *out filled (free with cfgtext_free), or -1
 * with "line N: what" in err.
 */
int cfgtext_parse(const char *text, size_t len, cfgtext *out, char *err, size_t errlen);
void cfgtext_free(cfgtext *t);
/* cfgtext_write_op - one op as a line (no newline), quoted like the control protocol */
void cfgtext_write_op(mw_buf *b, const cfg_op *op);

/* ---- the command table (ctl_table.c) ---- */

struct ctl_conn;
typedef int (*ctl_run_fn)(struct ctl_conn *c, size_t argc, char **argv);
typedef int (*ctl_check_fn)(size_t argc, char **argv, char *err, size_t errlen);

#define CTL_F_CHANGE  1 /* changes state: serialised, audited */
#define CTL_F_DATA    2 /* reads data lines after the request */
#define CTL_F_DEFAULT 4 /* the sub-command used when none is given */
#define CTL_F_RAW     8 /* the console prints the answer unfolded (text to copy: export, csr) */

typedef struct ctl_cmd {
	const char *name;  /* "rules" */
	const char *sub;   /* "set", or NULL */
	unsigned min, max; /* words after name [sub] */
	unsigned flags;
	const char *args;   /* "KEY VALUE..." */
	const char *help;   /* one line, fits 80 columns with name and args */
	const char *more;   /* longer help, lines of at most 76 columns; may be NULL */
	ctl_check_fn check; /* pure argument check, may be NULL */
	ctl_run_fn run;     /* server side */
} ctl_cmd;

/* ctl_commands - the table and its length */
const ctl_cmd *ctl_commands(size_t *n);

/*
 * ctl_lookup - the entry for a request: name, then sub-command (or the
 * default entry); *skip gets the number of words consumed.  NULL with
 * err "unknown command" or "usage: ..." when nothing fits.
 */
const ctl_cmd *ctl_lookup(size_t argc, char *const *argv, size_t *skip, char *err, size_t errlen);

/* ctl_usage - "name [sub] args" into out */
void ctl_usage(const ctl_cmd *e, char *out, size_t len);

/* ctl_help - the help text: all commands (topic NULL) or one command, lines of <= 79 columns */
void ctl_help(mw_buf *out, const char *topic);

/* ---- verdict counters and recent verdicts (ctl_stats.c) ---- */

#define CTL_TAIL_MAX  500 /* verdict lines kept for `tail` */
#define CTL_TAIL_LINE 200

/*
 * ctl_stats_verdict - count one verdict (stage "rcpt" for a refused
 * recipient, "eom" for a message) in per-minute and per-hour buckets and
 * remember a line for `tail`.  Thread-safe; constant time; no I/O.
 */
void ctl_stats_verdict(const char *stage, const char *qid, const char *sender, const char *rcpt, size_t nrcpt,
                       const mw_verdict *v);
/* ctl_stats_verdict_at - the same at a given time (tests) */
void ctl_stats_verdict_at(time_t now, const char *stage, const char *qid, const char *sender, const char *rcpt,
                          size_t nrcpt, const mw_verdict *v);

typedef struct ctl_counts {
	unsigned long action[MW_ACTION_COUNT];
	unsigned long code[MW_CODES_MAX]; /* per reason_table() index */
	unsigned long total;
} ctl_counts;

/* ctl_stats_window - sums over the last `minutes` (<= 60: minute buckets; more: hour buckets, <= 24 h) */
void ctl_stats_window(time_t now, unsigned minutes, ctl_counts *out);
/* ctl_stats_tail - the newest n lines, oldest first, one per line into out */
void ctl_stats_tail(size_t n, mw_buf *out);
/* ctl_stats_reset - forget everything (tests) */
void ctl_stats_reset(void);

/* ---- the server (ctl_server.c) ---- */

struct mw_store;
struct mw_quar;

/* What the daemon lends the server: its snapshot functions and state. */
typedef struct ctl_hooks {
	mw_config *(*cfg)(void);  /* a reference to the current configuration */
	mw_lists *(*lists)(void); /* a reference to the current lists */
	/* a trial configuration: current rules plus extra "section.key=value" */
	mw_config *(*trial)(struct mw_store *st, const char *extra, char *err, size_t errlen);
	int (*rebuild)(struct mw_store *st, char *err, size_t errlen); /* apply rules and list edits */
	void (*env)(mw_env *env, const mw_config *cfg, const mw_lists *lists, av_engine *av);
	struct mw_store **store; /* may hold NULL until the database opens */
	struct mw_quar **quar;
	av_mgr *av;
} ctl_hooks;

/*
 * ctl_server_open - fork the privileged helper (src/appliance: applies
 * settings, mails alerts), then create the socket daemon.control_socket
 * (empty: no control socket) with mode 0660 and group
 * daemon.control_group; call as root before dropping privileges and
 * before starting threads.  0, or -1 with err (the daemon goes on
 * without a control socket).
 */
int ctl_server_open(const mw_config *cfg, char *err, size_t errlen);
/* ctl_server_start - start the alert mail thread, serve with these hooks (copied) in a thread; 0 or -1 */
int ctl_server_start(const ctl_hooks *h);
/* ctl_server_stop - stop accepting, wait (bounded) for connections, remove the socket */
void ctl_server_stop(void);

/* ---- the client (ctl_client.c) ---- */

typedef struct ctl_client ctl_client;

typedef struct ctl_resp {
	int ok;                  /* 1: OK, 0: ERR */
	char code[32];           /* ERR code */
	char text[CTL_MAX_LINE]; /* OK or ERR text */
} ctl_resp;

/* ctl_connect - connect, check the greeting's version, send "user NAME" if who; NULL with err */
ctl_client *ctl_connect(const char *path, const char *who, int timeout_s, char *err, size_t errlen);
/*
 * ctl_call - send one request (words, quoted here), data lines if data
 * is not NULL ("\n"-separated text), and read the answer: fn per data
 * line, *resp for the last line.  0 when an answer was read (OK or ERR),
 * -1 with resp->text on a connection or protocol failure.
 */
int ctl_call(ctl_client *c, size_t argc, char *const *argv, const char *data, void (*fn)(const char *line, void *arg),
             void *arg, ctl_resp *resp);
void ctl_close(ctl_client *c);

/*
 * ctl_row_quar, ctl_row_track - the one text layout of a quarantine or
 * tracking row, shared by the control commands and the mailwarden
 * command (ctl_rows.c): finished lines go to line(arg, text); a NULL row
 * gives the column header.
 */
void ctl_row_quar(const quar_meta *m, void (*line)(void *arg, const char *text), void *arg);
void ctl_row_track(const store_track_row *r, void (*line)(void *arg, const char *text), void *arg);

#endif
