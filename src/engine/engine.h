/*
 * NAME
 *	engine.h - the message model and the one verdict entry point
 * SYNOPSIS
 *	#include "engine/engine.h"
 *
 *	mw_msg *m = msg_new(cfg);
 *	msg_set_sender(m, "a@example.com"); msg_add_rcpt(m, ...);
 *	msg_write(m, bytes, len);		(raw message, any number of times)
 *	engine_scan(m, cfg, av, &res);		(one call, one verdict)
 *	engine_result_json(&res, &buf);
 *	msg_free(m);
 * DESCRIPTION
 *	Every adapter (milter, `mailwarden scan`, console `test`, fuzzers)
 *	fills an mw_msg and calls engine_scan().  Stages run in the fixed
 *	order of the stage table in engine.c: size, mime, av, policy.
 *	Stages add facts (reasons); the policy stage maps codes to actions.
 *	The engine does no network I/O.
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

#include "av/av.h"
#include "engine/verdict.h"
#include "policy/policy.h"
#include "util/spool.h"
#include "util/util.h"

#define MW_RCPT_MAX 1000	/* recipients kept per message (SMTP allows 100 minimum) */

typedef struct mw_msg mw_msg;

mw_msg *msg_new(const mw_config *cfg);
void msg_free(mw_msg *m);
void msg_set_queue_id(mw_msg *m, const char *id);
void msg_set_client(mw_msg *m, const char *addr, const char *name, const char *helo);
void msg_set_sender(mw_msg *m, const char *addr);
void msg_add_rcpt(mw_msg *m, const char *addr);
int msg_write(mw_msg *m, const void *buf, size_t len);
size_t msg_size(const mw_msg *m);	/* bytes received, stored or not */
int msg_too_big(const mw_msg *m);	/* more than limits.max_message_size received */
const char *msg_queue_id(const mw_msg *m);
const char *msg_sender(const mw_msg *m);
size_t msg_rcpt_count(const mw_msg *m);
const char *msg_rcpt(const mw_msg *m, size_t i);
const char *msg_client_addr(const mw_msg *m);
const mw_spool *msg_raw(const mw_msg *m);

/* What a scan found besides the verdict: for JSON, logs and headers. */
#define MW_RESULT_PARTS 64
typedef struct mw_part_info {
	char id[MW_PART_MAX];
	char type[80];
	char filename[160];
	size_t size;
} mw_part_info;

typedef struct mw_result {
	mw_verdict verdict;
	char subject[300];	/* decoded, UTF-8, cut */
	char from[300];		/* header From, decoded */
	char message_id[200];
	size_t size;
	size_t nparts;		/* parts in the message */
	size_t nparts_listed;	/* entries in parts[] */
	mw_part_info parts[MW_RESULT_PARTS];
	unsigned long av_sigs;	/* signatures in the engine used, 0 if none */
} mw_result;

/* engine_scan - run every stage; av may be NULL (no database: av.unavailable) */
void engine_scan(mw_msg *m, const mw_config *cfg, const av_engine *av, mw_result *res);

/* engine_result_json - the verdict as one JSON object (no newline) */
void engine_result_json(const mw_msg *m, const mw_result *res, mw_buf *out);

/* engine_reasons_line - "code1, code2" or "none", for headers and logs */
void engine_reasons_line(const mw_verdict *v, mw_buf *out);

#endif
