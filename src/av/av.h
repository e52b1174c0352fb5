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

typedef struct av_info {
	int loaded;
	unsigned long sigs;
	time_t loaded_at;
	unsigned long reloads;
	unsigned long failed_reloads;
	char version[32]; /* libclamav version */
	char last_error[256];
	char dir[512];
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
