/*
 * NAME
 *	scan.h - the scan contract: the message, what a scan runs against,
 *	the state stages share, and the result
 * SYNOPSIS
 *	#include "scan/scan.h"
 *
 *	mw_msg *m = msg_new(cfg);
 *	msg_set_sender(m, "a@example.com"); msg_add_rcpt(m, ...);
 *	msg_write(m, bytes, len);		(raw message, any number of times)
 *	mw_env env = {cfg, lists, av, store};	(see env.c for building them)
 *	... engine_scan(m, &env, &res) (src/engine) ...
 *	result_json(m, &res, &buf);
 *	msg_free(m);
 * DESCRIPTION
 *	This is the layer every stage (src/mime glue, src/links, src/attach,
 *	src/av, src/sender) and the pipeline above them agree on.  It holds no
 *	policy and calls no stage: stages include it, never the engine.
 *
 *	The raw message is held in a spool: memory up to
 *	limits.spool_memory, an unlinked file above.  Bytes beyond
 *	limits.max_message_size are counted but not stored; such a message
 *	gets msg.too_big and is not parsed.
 *
 *	The environment of a scan (mw_env) is built the same way by every
 *	door — the daemon, `mailwarden scan`, the console's test — in env.c:
 *	configuration file, then -o overrides, then the run-time rules in the
 *	state database; shipped lists, then the run-time list edits.
 * DIAGNOSTICS
 *	msg_write() returns -1 when the spill file cannot be written (disk
 *	full): the adapter answers tempfail.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_SCAN_H
#define MW_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "verdict/verdict.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "util/spool.h"
#include "util/util.h"

/* Services a scan uses, owned by their modules (av/, store/, mime/). */
typedef struct av_engine av_engine;
struct mw_store;
struct mw_quar;
typedef struct mime_parser mime_parser;
typedef struct mime_part mime_part;
struct av_object;

#define MW_RCPT_MAX 1000 /* recipients a message may have: the top of limits.max_recipients */

typedef struct mw_msg mw_msg;

mw_msg *msg_new(const mw_config *cfg);
void msg_free(mw_msg *m);
void msg_set_queue_id(mw_msg *m, const char *id);
void msg_set_client(mw_msg *m, const char *addr, const char *name, const char *helo);
void msg_set_sender(mw_msg *m, const char *addr);
/* msg_add_rcpt - 0, or -1 when the message has MW_RCPT_MAX recipients (nothing is dropped silently) */
int msg_add_rcpt(mw_msg *m, const char *addr);
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

/* Sender authentication (the auth stage, src/auth): what it found. */
#define AUTH_MAX_SIGS     8
#define AUTH_DOMAIN_MAX   256
#define AUTH_HEADER_MAX   2000
#define AUTH_MAX_FROM     4 /* header From addresses examined */
#define AUTH_SELECTOR_MAX 64

/* RFC 8601 result words. */
typedef enum auth_res {
	AUTH_NONE = 0,
	AUTH_PASS,
	AUTH_FAIL,
	AUTH_SOFTFAIL,
	AUTH_NEUTRAL,
	AUTH_TEMPERROR,
	AUTH_PERMERROR,
	AUTH_POLICY,
} auth_res;

/* One DKIM signature. */
typedef struct auth_sig {
	char domain[AUTH_DOMAIN_MAX]; /* d=, lower case */
	char selector[AUTH_SELECTOR_MAX];
	char b[12]; /* first 8 characters of b= (RFC 6008 header.b) */
	auth_res result;
	char why[80]; /* libopendkim's reason when not pass */
	int aligned;  /* d= has the header From's organisational domain */
} auth_sig;

/* What the authentication of one message found (part of mw_result). */
typedef struct mw_auth_info {
	int ran; /* the checks ran (auth.enable and not a rescan) */
	/* SPF */
	auth_res spf;                     /* MAIL FROM identity (the HELO one when the sender is null) */
	auth_res spf_helo;                /* HELO identity */
	char spf_domain[AUTH_DOMAIN_MAX]; /* the MAIL FROM domain checked ("" null sender) */
	char helo[AUTH_DOMAIN_MAX];
	char client[64];
	int spf_aligned; /* SPF pass for a domain with the header From's organisational domain */
	/* DKIM */
	size_t nsigs;      /* signatures listed in sigs[] */
	size_t sigs_total; /* DKIM-Signature fields in the message */
	auth_sig sigs[AUTH_MAX_SIGS];
	/* DMARC */
	auth_res dmarc;                     /* pass, fail, none, temperror, permerror */
	char from_domain[AUTH_DOMAIN_MAX];  /* first header From domain ("" none) */
	char dmarc_domain[AUTH_DOMAIN_MAX]; /* where the record was found (From or organisational domain) */
	char dmarc_p, dmarc_sp;             /* 'n', 'q', 'r' or 0 */
	char dmarc_applied;                 /* the policy that applies to this message: 'n', 'q', 'r' or 0 */
	int dmarc_pct;
	char forwarder[AUTH_DOMAIN_MAX]; /* auth.trusted_forwarders domain whose valid signature vouched */
	/* the identity the message authenticated as: the header From domain
	 * when DMARC passed or (no record) an aligned SPF or DKIM pass */
	char authenticated[AUTH_DOMAIN_MAX];
	/* DNS */
	unsigned dns_lookups;  /* answered by the network */
	unsigned dns_cached;   /* answered from the cache */
	unsigned dns_failures; /* timeouts, SERVFAIL, budget spent */
	int budget_spent;      /* auth.message_budget or max_lookups ran out */
	int resolver_down;     /* no lookup of this message got an answer, some failed */
	double dns_ms;         /* time waited for DNS answers */
	/* Authentication-Results value (without the field name), folded with "\n\t" */
	char header[AUTH_HEADER_MAX];
} mw_auth_info;

/* auth_res_name - "pass", "fail", ... (result.c) */
const char *auth_res_name(auth_res r);

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
	/* the content tree: every object of the message (MIME part, archive
	 * member, what libclamav or our extractors took out of a document),
	 * by its path; the first MW_RESULT_NODES are listed */
#define MW_RESULT_NODES 256
	size_t nnodes, nodes_total;
	struct mw_node {
		char path[MW_PART_MAX]; /* "2:invoice.zip:doc.docx:word/embeddings/oleObject1.bin" */
		char type[48];          /* true type, or libclamav's type name */
		size_t size;
		char from[12]; /* who found it: mime, clamav, archive, extract */
	} nodes[MW_RESULT_NODES];
	mw_auth_info auth; /* SPF, DKIM, DMARC, Authentication-Results (src/auth); auth.ran 0: not checked */
} mw_result;

/* result_add_att - list an attachment in the result (ignored beyond MW_RESULT_ATTS) */
mw_att *result_add_att(mw_result *res, const char *name, const char *type);
/* result_add_node - list a content-tree node (counted beyond MW_RESULT_NODES, not listed) */
void result_add_node(mw_result *res, const char *path, const char *type, size_t size, const char *from);
/* result_add_domain - list a link domain once (ignored beyond MW_RESULT_DOMAINS) */
void result_add_domain(mw_result *res, const char *domain);

/* What a scan runs against: cfg, lists and av are read-only snapshots held by the caller. */
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

/* scan_now - env->now or the clock */
time_t scan_now(const mw_env *env);

/*
 * The state every stage sees.  Stage modules (src/links, src/attach,
 * src/sender) export one function taking it; engine.c lists them in its
 * stage table.  A stage adds reasons to verdict; it never decides the
 * action.
 */
/*
 * The coverage set: every object libclamav visited inside the parts it
 * scanned (archive and compressed members, embedded files), as a keyed
 * hash (SipHash-2-4, a secret random key per process) and a size.  Our
 * own walkers (attach/) ask it whether ClamAV already saw an object they
 * unpacked; one it did not see (a format ClamAV does not open, a member
 * it missed) is given to ClamAV as well.  Without the key nobody can make
 * a member look covered.  Beyond MW_COVER_MAX entries nothing more is
 * recorded, so later objects count as not covered (scanned again, never
 * skipped).
 */
#define MW_COVER_MAX 4096
typedef struct mw_cover_ent {
	uint64_t hash;
	size_t len;
} mw_cover_ent;

#define MW_SHA_MEMO 8 /* parts per message whose hash is kept (the rest are hashed each time) */

typedef struct mw_scan {
	mw_msg *msg;
	const mw_env *env;
	mime_parser *mime; /* NULL until the mime stage ran */
	mw_result *res;
	mw_verdict *verdict;
	mw_cover_ent *cover; /* the coverage set (NULL until the av stage adds to it) */
	size_t ncover;
	double deadline_ms;     /* mw_now_ms() past which the scan stops: limits.scan_time */
	int timed_out;          /* engine.timeout recorded */
	struct link_set *links; /* the message's links (links_stage, links_node_*); freed by engine_scan */
	/* set by the engine: what libclamav visits inside a part, and its
	 * metadata JSON, go to the content tree (src/content) */
	void (*on_object)(struct mw_scan *st, const char *part, const char *part_name, const struct av_object *o);
	void (*on_props)(struct mw_scan *st, const char *part, const char *json);
	void *content; /* the content stage's state (src/content) */
	/* the SHA-256 of content in memory, computed once per scan (scan_sha256) */
	struct mw_sha_memo {
		const void *p;
		size_t len;
		char hex[65]; /* "" until computed */
	} sha[MW_SHA_MEMO];
	size_t nsha;
} mw_scan;

/*
 * scan_sha256_slot - the memo slot of the content at p (len bytes, in
 * memory and unchanged for the whole scan: a MIME part's body): its
 * SHA-256 in hex, or "" when nobody computed it yet (whoever does writes
 * it there).  NULL when the memo is full.  The av stage's scan cache key,
 * the attachment hashes of the history and the carving memo share it, so
 * a part is hashed once, not three times.
 */
char *scan_sha256_slot(mw_scan *st, const void *p, size_t len);
/* scan_sha256 - the hex SHA-256 of p, from the memo when there */
void scan_sha256(mw_scan *st, const void *p, size_t len, char out[65]);
/* scan_sha256_known - the hex SHA-256 of p when the memo has it, else NULL (nothing added) */
const char *scan_sha256_known(const mw_scan *st, const void *p, size_t len);

/* scan_cover_add - record an object libclamav visited; _hash: its mw_siphash64(mw_hash_key()) is known */
void scan_cover_add(mw_scan *st, const void *data, size_t len);
void scan_cover_add_hash(mw_scan *st, uint64_t hash, size_t len);
/* scan_covered - 1 if content of len bytes (in memory, or in fd when mem is NULL) was visited by libclamav */
int scan_covered(const mw_scan *st, const void *mem, int fd, size_t len);
/* scan_covered_hash - the same, for content whose hash is known */
int scan_covered_hash(const mw_scan *st, uint64_t hash, size_t len);
/* scan_free - what the scan state holds */
void scan_free(mw_scan *st);

/* scan_over_budget - 1 (and engine.timeout recorded once) when the scan
 * has used limits.scan_time; stages check it between pieces of work */
int scan_over_budget(mw_scan *st, const char *where);

/*
 * env_config - the effective configuration: the file at path (NULL: no
 * file, defaults), then the overrides ov ("section.key=value"), then the
 * run-time rules in st (NULL: none), then extra (NULL: none; a trial
 * value).  NULL with err on failure.
 */
mw_config *env_config(const char *path, const char *const *ov, size_t nov, struct mw_store *st, const char *extra,
                      char *err, size_t errlen);

/* env_lists - the effective lists: cfg's list files, then the unexpired run-time edits in st (may be NULL) */
mw_lists *env_lists(const mw_config *cfg, struct mw_store *st, time_t now, char *err, size_t errlen);

/* result_json - the verdict and what the scan learnt as one JSON object (no newline) */
void result_json(const mw_msg *m, const mw_result *res, mw_buf *out);

#endif
