/*
 * NAME
 *	quarantine.h - encrypted quarantine: durable, authenticated, indexed
 * SYNOPSIS
 *	#include "store/quarantine.h"
 *
 *	mw_quar *q;
 *	quar_open(statedir, store, &q, err, len);	(device key, recovery)
 *	quar_put(q, raw_spool, &meta, id);		(durable before 250)
 *	quar_read(q, id, &meta, out_spool);		(decrypt, verify)
 *	quar_set_state(q, id, "released");
 * DESCRIPTION
 *	Each message is one file STATEDIR/quarantine/ID.mwq:
 *	  "MWQ1", header length (4 bytes, big endian), header (JSON:
 *	  id, time, queue id, sender, recipients, size, reason codes, state,
 *	  release time), 12-byte nonce, AES-256-GCM ciphertext of the raw
 *	  message, 16-byte tag.
 *	The magic, length and header are the GCM additional data: the
 *	metadata is readable without the key (for recovery) but cannot be
 *	altered.  A fresh random nonce per message (getrandom).  The 32-byte
 *	device key is STATEDIR/device.key, created 0600 at first open.
 *
 *	Durability: the file is written as tmp-ID, fsync'ed, renamed to
 *	ID.mwq, and the directory fsync'ed, then the index row is inserted.
 *	quar_put() returns 0 only after all of that, so the milter may answer
 *	250.  At open, tmp-* files (a crash mid-write) are removed and .mwq
 *	files without an index row are indexed from their headers.
 *	Retro-scan copies of delivered mail (state "kept") skip both fsyncs:
 *	the MTA delivers its own copy, so a power cut can only cost a rescan.
 *	They also store every base64 run of QUAR_SPLIT_MIN bytes or more
 *	(quar_find_runs: an encoded attachment) once per distinct content:
 *	ID.mwq holds the message without them and one header line per run,
 *	"part=OFFSET LENGTH NAME" (authenticated with the rest of the
 *	header); the run is STATEDIR/quarantine/blobs/NAME.mwb: "MWB1",
 *	12-byte nonce, AES-256-GCM ciphertext (additional data: magic and
 *	NAME), 16-byte tag.  NAME is the hex HMAC-SHA256 of the run under a
 *	key derived from the device key, so the same attachment sent again
 *	is not written again, and the names tell nobody without the key
 *	which file passed.  quar_read() puts the runs back: the bytes are
 *	the original.  The table quarantine_blobs holds each blob's expiry,
 *	the latest of the copies using it (written in the same transaction
 *	as their index rows); quar_expire() removes blobs past it.
 *
 *	The index (SQLite table quarantine) holds id, time, queue id, sender,
 *	recipients, decoded subject, size, reasons, state (held,
 *	quarantined, released, deleted), release time and expiry.  The
 *	subject lives only in the index, never in the file header.
 *
 *	With a shared store (Redis) every index change is copied there too
 *	(the file stays here): any gateway lists every gateway's quarantine
 *	with quar_list_all(); a release of another gateway's message is a
 *	request to that gateway (store_release_ask, store.h).
 * DIAGNOSTICS
 *	-1 with the text in err (or store_error) on any failure: the caller
 *	answers tempfail.  quar_read() fails when the tag does not verify.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_QUARANTINE_H
#define MW_QUARANTINE_H

#include <stddef.h>
#include <time.h>

#include "store/store.h"
#include "util/spool.h"

typedef struct mw_quar mw_quar;

#define QUAR_ID_LEN    32
#define QUAR_MAX_RCPTS 1000 /* every recipient a message may have (MW_RCPT_MAX, limits.max_recipients) */
#define QUAR_MAX_REFS  64   /* pieces of one kept copy stored apart (more stay in the file) */
#define QUAR_SPLIT_MIN 8192 /* bytes a base64 run needs to be stored apart */

typedef struct quar_meta {
	char id[QUAR_ID_LEN + 1];
	time_t time;
	char queue_id[64];
	char sender[321];
	size_t nrcpts;
	char rcpts[QUAR_MAX_RCPTS][321];
	char subject[300];
	size_t size;
	char reasons[600];      /* "code1, code2" */
	char state[16];         /* held, quarantined, released, deleted */
	time_t release_at;      /* hold: when to rescan and release; 0 otherwise */
	time_t expires;         /* retention: deleted after this; 0 never */
	char release_from[16];  /* while releasing: the state it came from */
	time_t release_started; /* while releasing: when the release began */
	char note[200];         /* for the operator, e.g. an interrupted release; "" if none */
	char gateway[64];       /* quar_list_all: the gateway holding the file ("" local) */
} quar_meta;

int quar_open(const char *statedir, mw_store *store, mw_quar **out, char *err, size_t errlen);
void quar_close(mw_quar *q);

/* quar_put - encrypt raw into a new durable file and index it; meta->id is filled in */
int quar_put(mw_quar *q, const mw_spool *raw, quar_meta *meta, char *err, size_t errlen);

/* quar_read - decrypt and verify; out receives the original bytes */
int quar_read(mw_quar *q, const char *id, quar_meta *meta, mw_spool *out, char *err, size_t errlen);

/* quar_get_meta - the index row of id (1 found, 0 none, -1 error) */
int quar_get_meta(mw_quar *q, const char *id, quar_meta *meta);

/* quar_set_state - update the state (and, for held, release_at) in the index */
int quar_set_state(mw_quar *q, const char *id, const char *state, time_t release_at);

/*
 * quar_claim - atomically move id from state `from` to `to` (1 done, 0 it
 * was not in `from`, -1 error).  Release uses it so two releases of one
 * message cannot both deliver.  Moving to "releasing" records `from` and
 * the time, so a release cut off by a crash can be resolved
 * (outcome_resolve_releases).
 */
int quar_claim(mw_quar *q, const char *id, const char *from, const char *to);

/* quar_set_note - the operator note of id ("" clears it) */
int quar_set_note(mw_quar *q, const char *id, const char *note);

/* quar_stale_releases - rows still "releasing" whose release began before `before` */
int quar_stale_releases(mw_quar *q, time_t before, size_t limit, void (*fn)(const quar_meta *m, void *arg), void *arg);

/* quar_delete - remove the file and mark the row deleted */
int quar_delete(mw_quar *q, const char *id);

/* quar_list - call fn for rows in state (NULL: held and quarantined), newest first; count or -1 */
int quar_list(mw_quar *q, const char *state, size_t limit, void (*fn)(const quar_meta *m, void *arg), void *arg);

/*
 * quar_list_all - quar_list over every gateway sharing the store (Redis):
 * meta->gateway names the one holding the file.  The local index alone
 * when the store is not shared or Redis is down.
 */
int quar_list_all(mw_quar *q, const char *state, size_t limit, void (*fn)(const quar_meta *m, void *arg), void *arg);

/* quar_due - held messages whose release time has come */
int quar_due(mw_quar *q, time_t now, size_t limit, void (*fn)(const quar_meta *m, void *arg), void *arg);

/* quar_expire - delete files past their expiry; returns the number deleted */
int quar_expire(mw_quar *q, time_t now);

/*
 * quar_find_runs - the base64 runs of a raw message: maximal sequences of
 * whole lines (LF or CRLF) of at least 40 characters of the base64
 * alphabet, at least min bytes long, in order; at most max are stored in
 * runs.  Returns the number stored.  Kept copies store these apart, once
 * per distinct content.
 */
typedef struct quar_run {
	size_t off, len;
} quar_run;
size_t quar_find_runs(const void *buf, size_t len, size_t min, quar_run *runs, size_t max);

/* quar_blob_count - pieces stored once for kept copies (dir/blobs); -1 on error */
long quar_blob_count(mw_quar *q);

/* quar_dir - the quarantine directory */
const char *quar_dir(const mw_quar *q);

#endif
