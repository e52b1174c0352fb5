/*
 * NAME
 *	engine.h - the message model and the one verdict entry point
 * SYNOPSIS
 *	#include "engine/engine.h"
 *
 *	mw_msg *m = msg_new(cfg);
 *	msg_set_sender(m, "a@example.com"); msg_add_rcpt(m, ...);
 *	msg_write(m, bytes, len);		(raw message, any number of times)
 *	mw_env env = {cfg, lists, av};
 *	engine_scan(m, &env, &res);		(one call, one verdict)
 *	engine_result_json(&res, &buf);
 *	msg_free(m);
 * DESCRIPTION
 *	Every adapter (milter, `mailwarden scan`, console `test`, fuzzers)
 *	fills an mw_msg and calls engine_scan().  Stages run in the fixed
 *	order of the stage table in engine.c: size, mime, links, attach,
 *	av, auth, sender, then policy (and sender_record after it).
 *	Stages add facts (reasons); the policy stage maps codes to actions.
 *	The only network I/O is the auth stage's DNS (src/auth: bounded per
 *	lookup and per message, cached).
 *
 *	The raw message is held in a spool: memory up to
 *	limits.spool_memory, an unlinked file above.  Bytes beyond
 *	limits.max_message_size are counted but not stored; such a message
 *	gets msg.too_big and is not parsed.
 * DIAGNOSTICS
 *	msg_write() returns -1 when the spill file cannot be written (disk
 *	full): the adapter answers tempfail.  engine_scan() never fails: an
 *	environment failure becomes engine.error / av.error / av.unavailable,
 *	whose default action is tempfail.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_ENGINE_H
#define MW_ENGINE_H

#include <stddef.h>
#include <time.h>

#include "auth/auth.h"
#include "av/av.h"
#include "engine/verdict.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "mime/mime.h"
#include "util/spool.h"
#include "util/util.h"

#define MW_RCPT_MAX 1000 /* recipients kept per message (SMTP allows 100 minimum) */

typedef struct mw_msg mw_msg;

mw_msg *msg_new(const mw_config *cfg);
void msg_free(mw_msg *m);
void msg_set_queue_id(mw_msg *m, const char *id);
void msg_set_client(mw_msg *m, const char *addr, const char *name, const char *helo);
void msg_set_sender(mw_msg *m, const char *addr);
void msg_add_rcpt(mw_msg *m, const char *addr);
int msg_write(mw_msg *m, const void *buf, size_t len);
size_t msg_size(const mw_msg *m); /* bytes received, stored or not */
int msg_too_big(const mw_msg *m); /* more than limits.max_message_size received */
const char *msg_queue_id(const mw_msg *m);
const char *msg_sender(const mw_msg *m);
size_t msg_rcpt_count(const mw_msg *m);
const char *msg_rcpt(const mw_msg *m, size_t i);
const char *msg_client_addr(const mw_msg *m);
const char *msg_helo(const mw_msg *m); /* "" unknown */
const mw_spool *msg_raw(const mw_msg *m);

/* What a scan found besides the verdict: for JSON, logs and headers. */
#define MW_RESULT_PARTS 64
typedef struct mw_part_info {
	char id[MW_PART_MAX];
	char type[80];
	char filename[160];
	size_t size;
} mw_part_info;

typedef struct mw_att {
	char name[160];  /* UTF-8; members of archives as "outer.zip/inner.exe" */
	char type[64];   /* true type when known, else declared */
	char sha256[65]; /* hex, "" when not computed */
} mw_att;

typedef struct mw_result {
	mw_verdict verdict;
	char subject[300]; /* decoded, UTF-8, cut */
	char from[300];    /* header From, decoded */
	char message_id[200];
	size_t size;
	size_t nparts;        /* parts in the message */
	size_t nparts_listed; /* entries in parts[] */
	mw_part_info parts[MW_RESULT_PARTS];
	unsigned long av_sigs; /* signatures in the engine used, 0 if none */
	size_t nlinks;         /* URLs found by the links stage */
	size_t nattachments;   /* leaf parts that are attachments (named or not text) */
	size_t nactive;        /* attachments that are neither text nor images */
	char fingerprint[65];  /* campaign fingerprint of subject+body skeleton, or "" */
#define MW_RESULT_ATTS 32
	size_t natts; /* attachments listed (archive members included, by the attach stage) */
	mw_att atts[MW_RESULT_ATTS];
#define MW_RESULT_DOMAINS 32
	size_t ndomains; /* distinct registrable domains of links */
	char domains[MW_RESULT_DOMAINS][80];
	mw_auth_info auth; /* SPF, DKIM, DMARC, Authentication-Results (src/auth); auth.ran 0: not checked */
} mw_result;

/* engine_add_att - list an attachment in the result (ignored beyond MW_RESULT_ATTS) */
mw_att *engine_add_att(mw_result *res, const char *name, const char *type);
/* engine_add_domain - list a link domain once (ignored beyond MW_RESULT_DOMAINS) */
void engine_add_domain(mw_result *res, const char *domain);

/* What a scan runs against: all three are read-only snapshots held by the caller. */
struct mw_store;
struct mw_quar;
typedef struct mw_env {
	const mw_config *cfg;
	const mw_lists *lists;  /* may be NULL: every list empty */
	const av_engine *av;    /* may be NULL: no database, av.unavailable */
	struct mw_store *store; /* may be NULL: no sender history (stateless scan) */
	int store_required;     /* 1: a NULL store means store.unavailable (the daemon) */
	struct mw_quar *quar;   /* may be NULL: quarantine actions tempfail */
	int rescan;             /* 1: a rescan of held/quarantined/kept mail: no history, no holds */
	time_t now;             /* 0: the real clock */
} mw_env;

/* engine_now - env->now or the clock */
time_t engine_now(const mw_env *env);

/*
 * engine_rcpt - the RCPT-time decision for one recipient: blocked senders,
 * free-mail to staff, fan-out (every attempt is counted, refused ones
 * too).  Fills v with reasons and the action (policy applied).
 */
void engine_rcpt(const mw_env *env, const char *sender, const char *rcpt, const char *queue_id, mw_verdict *v);

/*
 * The state every stage sees.  Stage modules (src/links, src/attach,
 * src/sender) export one function taking it; engine.c lists them in its
 * stage table.  A stage adds reasons to verdict; it never decides the
 * action.
 */
#define MW_AV_DONE_MAX 64
typedef struct mw_scan {
	mw_msg *msg;
	const mw_env *env;
	mime_parser *mime; /* NULL until the mime stage ran */
	mw_result *res;
	mw_verdict *verdict;
	/* leaves the attach stage gave to ClamAV member by member: the av stage skips them */
	const mime_part *av_done[MW_AV_DONE_MAX];
	size_t nav_done;
	double deadline_ms; /* mw_now_ms() past which the scan stops: limits.scan_time */
	int timed_out;      /* engine.timeout recorded */
} mw_scan;

/* engine_over_budget - 1 (and engine.timeout recorded once) when the scan
 * has used limits.scan_time; stages check it between pieces of work */
int engine_over_budget(mw_scan *st, const char *where);

/* engine_scan - run every stage */
void engine_scan(mw_msg *m, const mw_env *env, mw_result *res);

/* engine_result_json - the verdict as one JSON object (no newline) */
void engine_result_json(const mw_msg *m, const mw_result *res, mw_buf *out);

/* engine_reasons_line - "code1, code2" or "none", for headers and logs */
void engine_reasons_line(const mw_verdict *v, mw_buf *out);

#endif
