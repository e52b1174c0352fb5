/*
 * NAME
 *	av.h - in-process ClamAV: one shared engine, hot reload, buffer scans
 * SYNOPSIS
 *	#include "av/av.h"
 *
 *	av_global_init(err, len);			(once per process)
 *	av_mgr *m = av_mgr_new(cfg);
 *	av_mgr_reload(m, 1, err, len);			(initial load)
 *	av_engine *e = av_mgr_acquire(m);		(NULL: no usable database)
 *	av_scan_mem(e, data, len, "part 1.2", &res);
 *	av_engine_release(e);
 * DESCRIPTION
 *	The manager owns the current compiled engine.  Scans take a
 *	reference, so a reload compiles the new database beside the old
 *	engine, swaps the pointer, and the old engine is freed when the last
 *	scan in flight releases it: nothing is dropped.  A database that
 *	fails to load (or holds no signatures) leaves the old engine serving
 *	and the error is returned for logging.
 *
 *	av_mgr_reload(m, 0, ...) reloads only when the directory changed
 *	(cl_statchkdir); force=1 always reloads (SIGHUP, first load).
 *
 *	Reloads fit the machine: [antivirus] reload_mode auto swaps when two
 *	engines fit in the memory the process may still use, else reloads in
 *	place (mail gets 451 meanwhile; a failed load falls back to the last
 *	good copy).  See av.c.
 *
 *	ClamAV limits (MaxScanSize, MaxFileSize, MaxRecursion, MaxFiles,
 *	MaxScanTime) come from the configuration; heuristics for encrypted
 *	archives and documents, macros, broken executables and exceeded
 *	limits are on, so nothing is skipped silently.
 * DIAGNOSTICS
 *	Scans return AV_ERROR with a message when libclamav fails; the engine
 *	turns that into av.error (tempfail).
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_AV_H
#define MW_AV_H

#include <stddef.h>
#include <time.h>

#include "policy/policy.h"
#include "scan/scan.h"
#include "verdict/verdict.h"

typedef struct av_engine av_engine;
typedef struct av_mgr av_mgr;

typedef enum av_status { AV_CLEAN = 0, AV_FOUND, AV_ERROR } av_status;

typedef struct av_result {
	av_status status;
	char name[128]; /* signature name, or error text */
} av_result;

enum { AV_RELOAD_SWAP = 1, AV_RELOAD_INPLACE = 2 };

typedef struct av_info {
	int loaded;
	unsigned long sigs;
	time_t loaded_at;
	unsigned long reloads;
	unsigned long failed_reloads;
	char version[32]; /* libclamav version */
	char last_error[256];
	char dir[512];
	/* the last reload (reload_mode, av.c) */
	int last_mode;       /* AV_RELOAD_SWAP or AV_RELOAD_INPLACE; 0 before the first load */
	double deferred_s;   /* in place: seconds no engine was serving (mail got 451) */
	double load_s;       /* seconds to load and compile the current engine */
	size_t engine_bytes; /* resident memory the current engine added when loaded */
	size_t need_bytes;   /* estimate for the next engine plus reserve, at the decision */
	size_t avail_bytes;  /* memory the process could still use, at the decision */
	int fallback;        /* the current engine is the last good copy, not paths.signatures */
	int reloading;       /* a load is running now: its mode is last_mode */
	time_t reload_start; /* when it started */
	/* the current engine's scan cache (av_cache.c) */
	unsigned long cache_hits, cache_misses;
	size_t cache_entries, cache_bytes;
} av_info;

int av_global_init(char *err, size_t errlen);
/* av_version - libclamav version string */
const char *av_version(void);

/* av_mgr_new - manager for cfg->signatures; keeps its own config reference for limits */
av_mgr *av_mgr_new(mw_config *cfg);
void av_mgr_free(av_mgr *m);

/* av_mgr_reload - 1 reloaded, 0 unchanged, -1 failed (old engine kept, err set) */
int av_mgr_reload(av_mgr *m, int force, char *err, size_t errlen);

av_engine *av_mgr_acquire(av_mgr *m);
void av_engine_release(av_engine *e);
/* av_engine_phishing - 1 when phishing databases were loaded (ClamAV checks links in its mail parser) */
int av_engine_phishing(const av_engine *e);
/* av_engine_sigs - number of signatures loaded */
unsigned long av_engine_sigs(const av_engine *e);
/* av_engine_bytes, av_engine_load_s - resident memory the engine added, seconds it took to load */
size_t av_engine_bytes(const av_engine *e);
double av_engine_load_s(const av_engine *e);
void av_mgr_info(av_mgr *m, av_info *out);

/* av_engine_load - compile a standalone engine (for the CLI); NULL with err on failure */
av_engine *av_engine_load(const char *dir, const mw_config *cfg, char *err, size_t errlen);

/*
 * What libclamav visits during one scan: the content itself (depth 0) and
 * every object it unpacks, decodes or extracts inside it (archive and
 * compressed members, parts of mail, embedded files of documents ...),
 * reported through its file-inspection callback before each is scanned.
 * data/len are valid during the call only.
 */
typedef struct av_object {
	const char *type;             /* libclamav's type name: "CL_TYPE_ZIP", "CL_TYPE_MSEXE", ... */
	const char *name;             /* the name ClamAV knows it by, or NULL */
	const char *const *ancestors; /* names of the enclosing objects, outermost first (depth entries, may be NULL) */
	unsigned depth;               /* 0: the scanned content itself */
	const unsigned char *data;
	size_t len;
	int made;      /* a layer ClamAV made itself (normalised text, decrypted data), not an object of the message */
	uint64_t hash; /* mw_siphash64(mw_hash_key(), data, len) */
} av_object;

typedef struct av_hooks {
	void (*visit)(void *arg, const av_object *o);
	/* props (may be NULL): libclamav's description of what it scanned, as JSON (its --gen-json
	 * metadata: file types, PDFStats, macros ...), once at the end of the scan; valid during the call */
	void (*props)(void *arg, const char *json);
	void *arg;
	/* sha256 (may be NULL): the content's SHA-256 in hex when the caller knows it (the scan cache's
	 * key is not computed again); "" to have it written there when the scan computes it */
	char *sha256;
} av_hooks;

/*
 * av_scan_mem, av_scan_fd - scan bytes in memory (no temp file) or a file
 * descriptor.  AV_ERROR when libclamav fails, including failures it only
 * logs (it cannot create its temporary directory, write a file ...): a
 * scan that could not run is never "clean".  The _hooks variants report
 * every object libclamav visits to h->visit (h may be NULL).
 */
void av_scan_mem_hooks(const av_engine *e, const void *data, size_t len, const char *name, const av_hooks *h,
                       av_result *res);
void av_scan_fd_hooks(const av_engine *e, int fd, const char *name, const av_hooks *h, av_result *res);

/* av_db_options - CL_DB_* load flags from [antivirus] pua, bytecode, phishing */
unsigned int av_db_options(const mw_config *cfg);

/* av_mem_rss - this process's resident set, bytes (0: unknown) */
size_t av_mem_rss(void);
/* av_mem_available - min(MemAvailable, room in every memory cgroup above us); (size_t)-1: unknown */
size_t av_mem_available(void);

/* ---- signature sets on disk (av_sigset.c) ---- */

/* av_sigset_is_db - 1 when a file name has a ClamAV database extension */
int av_sigset_is_db(const char *name);
/* av_sigset_bytes - total size of the database files in dir */
size_t av_sigset_bytes(const char *dir);
/* av_sigset_copy - make dst mirror the databases of src (hard links for big files, copies for
 * small ones, only what changed) and record a manifest; 0 or -1 with err */
int av_sigset_copy(const char *src, const char *dst, char *err, size_t errlen);
/* av_sigset_check_copy - 0 when dst still matches its manifest, else -1 with err */
int av_sigset_check_copy(const char *dst, char *err, size_t errlen);

typedef struct av_sigfile {
	char name[256];
	size_t size;
	int is_cvd;           /* .cvd, .cld or .cud: signed by ClamAV */
	int verified;         /* cl_cvdverify() accepted it */
	unsigned int version; /* from the header of a signed file */
	unsigned int sigs, flevel;
	char built[48];
	char error[160];
} av_sigfile;

/* av_sigfile_describe - size, kind, header and signature check of one file; -1 for a bad signed file */
int av_sigfile_describe(const char *path, av_sigfile *f);
/* av_sigset_list - every database file of dir described; count or -1 with err */
int av_sigset_list(const char *dir, av_sigfile *v, int max, char *err, size_t errlen);
/* av_sigset_verify - every signed file verifies, unsigned ones only if allowed, and the set
 * loads with cfg's options: 0 (sigs, load seconds, engine bytes set) or -1 with err */
int av_sigset_verify(const char *dir, const mw_config *cfg, int allow_unsigned, unsigned long *sigs, double *secs,
                     size_t *bytes, char *err, size_t errlen);
/* av_sigset_stage - an empty LIVE.staging (path in staging), holding links to LIVE's files unless replace */
int av_sigset_stage(const char *live, int replace, char *staging, size_t slen, char *err, size_t errlen);
/* av_sigset_unstage - remove a staging directory after a failure */
void av_sigset_unstage(const char *staging);
/* av_sigset_add - copy src into staging (as name `as` when not NULL); X.cvd drops X.cld and back */
int av_sigset_add(const char *staging, const char *src, const char *as, char *err, size_t errlen);
/* av_sigset_install - staging becomes LIVE in one exchange; the old set becomes LIVE.prev */
int av_sigset_install(const char *staging, const char *live, char *err, size_t errlen);
/* av_sigset_rollback - LIVE and LIVE.prev change places */
int av_sigset_rollback(const char *live, char *err, size_t errlen);

void av_scan_mem(const av_engine *e, const void *data, size_t len, const char *name, av_result *res);
void av_scan_fd(const av_engine *e, int fd, const char *name, av_result *res);

/*
 * av_reason_code - the one mapping from a libclamav result name to a
 * reason code: Heuristics.Limits.Exceeded.MaxScanTime -> av.error (out of
 * time: tempfail), other Heuristics.Limits.Exceeded.* -> av.limits,
 * Heuristics.Phishing.* -> link.phishing, other Heuristics.* ->
 * av.heuristic, any other name -> av.infected.
 */
const char *av_reason_code(const char *virname);

/*
 * av_record - one libclamav result as a reason in v (av.error for
 * AV_ERROR); path, when not NULL, names the object inside the part in
 * the detail.  Returns 1 if a signature or heuristic matched.
 */
int av_record(mw_verdict *v, const av_result *r, const char *part, const char *path);

/* av_stage - the engine stage: every decoded part through ClamAV (av_stage.c) */
void av_stage(mw_scan *st);

#endif
