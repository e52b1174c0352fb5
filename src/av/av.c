/*
 * NAME
 *	av.c - libclamav engine manager: load, reference counting, hot reload
 * SYNOPSIS
 *	See av.h.
 * DESCRIPTION
 *	One compiled cl_engine serves every connection.  The manager keeps a
 *	pointer to the current av_engine under a mutex held only to copy the
 *	pointer and take a reference; loading and compiling happen outside
 *	the lock, serialised by a second mutex so two reloads never race.
 * LIMITS
 *	From [limits] av_max_*: scan size, file size, recursion, files, time.
 * DIAGNOSTICS
 *	Load failures are returned as text; libclamav's own warnings and
 *	errors are logged through the message callback.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/util.h"

#include <clamav.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

struct av_engine {
	struct cl_engine *cl;
	int refs;
	unsigned int sigs;
	size_t max_filesize;
	size_t max_scansize;
	int phishing; /* the directory holds phishing databases (.pdb, .wdb, .gdb) */
};

/* has_phishing_dbs - ClamAV's phishing checks need .pdb/.wdb/.gdb files */
static int has_phishing_dbs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		const char *dot = strrchr(de->d_name, '.');
		if (dot && (strcmp(dot, ".pdb") == 0 || strcmp(dot, ".wdb") == 0 || strcmp(dot, ".gdb") == 0 ||
		            strcmp(dot, ".cvd") == 0 || strcmp(dot, ".cld") == 0))
			found = 1; /* the official daily/main databases carry them too */
	}
	closedir(d);
	return found;
}

struct av_mgr {
	pthread_mutex_t lock; /* protects cur */
	pthread_mutex_t reload_lock;
	av_engine *cur;
	mw_config *cfg;
	struct cl_stat dbstat;
	int have_stat;
	av_info info;
};

/*
 * The scan in progress on this thread.  libclamav reports many failures
 * only through its message callback (a temporary directory it cannot
 * create, a file it cannot write) and then answers "clean"; some come
 * before it has set up the context it would pass back.  So the scan
 * functions below point this thread-local at their own record, and
 * clamav_msg() notes the first error of the scan there.
 */
#define SEEN_SLOTS 4096 /* objects remembered per scan (a power of two) */

typedef struct scan_rec {
	char err[160]; /* first error libclamav reported during the scan, "" if none */
	const av_hooks *hooks;
	uint64_t *seen; /* open addressing: hash ^ size of every object visited; 0 empty */
	size_t nseen;
} scan_rec;

/* seen_before - 1 if the same bytes were visited before in this scan; else remember them */
static int seen_before(scan_rec *r, uint64_t hash, size_t len)
{
	uint64_t key = (hash ^ ((uint64_t)len * 0x9e3779b97f4a7c15ULL)) | 1;
	size_t i = (size_t)key & (SEEN_SLOTS - 1), n;

	if (r->seen == NULL)
		r->seen = x_calloc(SEEN_SLOTS, sizeof(*r->seen));
	for (n = 0; n < SEEN_SLOTS; n++, i = (i + 1) & (SEEN_SLOTS - 1)) {
		if (r->seen[i] == key)
			return 1;
		if (r->seen[i] == 0) {
			if (r->nseen < SEEN_SLOTS / 2) { /* keep probes short; past that, scan repeats */
				r->seen[i] = key;
				r->nseen++;
			}
			return 0;
		}
	}
	return 0;
}

static __thread scan_rec *tl_scan;

/* clamav_msg - route libclamav's messages into our log; note errors of the current scan */
static void clamav_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
	char line[300];
	size_t n;

	(void)fullmsg;
	(void)ctx;
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	{
		char *copy = x_strndup(msg, n);
		mw_printable(line, sizeof(line), copy, 250, 1);
		x_free(copy);
	}
	if (severity == CL_MSG_ERROR && tl_scan && tl_scan->err[0] == 0)
		mw_strlcpy(tl_scan->err, line, sizeof(tl_scan->err));
	if (severity == CL_MSG_ERROR)
		log_err("clamav: %s", line);
	else if (severity == CL_MSG_WARN)
		log_warn("clamav: %s", line);
}

int av_global_init(char *err, size_t errlen)
{
	static int done;
	cl_error_t rc;

	if (done)
		return 0;
	cl_set_clcb_msg(clamav_msg);
	rc = cl_init(CL_INIT_DEFAULT);
	if (rc != CL_SUCCESS) {
		snprintf(err, errlen, "cl_init: %s", cl_strerror(rc));
		return -1;
	}
	done = 1;
	return 0;
}

const char *av_version(void)
{
	return cl_retver();
}

static void set_limits(struct cl_engine *cl, const mw_config *cfg)
{
	cl_engine_set_num(cl, CL_ENGINE_MAX_SCANSIZE, (long long)cfg->lim.av_max_scansize);
	cl_engine_set_num(cl, CL_ENGINE_MAX_FILESIZE, (long long)cfg->lim.av_max_filesize);
	cl_engine_set_num(cl, CL_ENGINE_MAX_RECURSION, (long long)cfg->lim.av_max_recursion);
	cl_engine_set_num(cl, CL_ENGINE_MAX_FILES, (long long)cfg->lim.av_max_files);
	cl_engine_set_num(cl, CL_ENGINE_MAX_SCANTIME, (long long)cfg->lim.av_max_scantime);
	if (cfg->tmp && *cfg->tmp)
		cl_engine_set_str(cl, CL_ENGINE_TMPDIR, cfg->tmp);
}

/* inspect - libclamav's file-inspection callback: every object it is about to scan */
static cl_error_t inspect(int fd, const char *type, const char **ancestors, size_t parent_size, const char *name,
                          size_t size, const char *buffer, uint32_t level, uint32_t attributes, void *context)
{
	scan_rec *r = context;
	av_object o;

	(void)fd;
	(void)parent_size;
	if (r == NULL || r->hooks == NULL || r->hooks->visit == NULL)
		return CL_CLEAN;
	memset(&o, 0, sizeof(o));
	if (buffer) {
		o.hash = mw_siphash64(mw_hash_key(), buffer, size);
		/* The same bytes twice in one scan are the same object:
		 * libclamav opens an OOXML document once as a document and once
		 * more as a zip, so every member came twice (the images of a
		 * presentation scanned twice).  Its clean cache skipped such
		 * repeats; it is off (see av_engine_load), so a repeat is
		 * skipped here, within the scan, and reported once. */
		if (level > 0 && seen_before(r, o.hash, size))
			return CL_BREAK;
		if (level == 0)
			(void)seen_before(r, o.hash, size);
	}
	o.type = type ? type : "";
	o.name = name;
	o.ancestors = ancestors;
	o.depth = level;
	o.data = (const unsigned char *)buffer;
	o.len = buffer ? size : 0;
	o.made = (attributes & (LAYER_ATTRIBUTES_NORMALIZED | LAYER_ATTRIBUTES_DECRYPTED)) != 0;
	r->hooks->visit(r->hooks->arg, &o);
	return CL_CLEAN;
}

/* props - libclamav's file-properties callback: the scan's metadata JSON */
static int props(const char *json, int rc, void *context)
{
	scan_rec *r = context;

	(void)rc;
	if (r && r->hooks && r->hooks->props && json)
		r->hooks->props(r->hooks->arg, json);
	return CL_CLEAN;
}

/* av_engine_load - load and compile every database in dir */
av_engine *av_engine_load(const char *dir, const mw_config *cfg, char *err, size_t errlen)
{
	struct cl_engine *cl = cl_engine_new();
	unsigned int sigs = 0;
	struct stat st;
	cl_error_t rc;
	av_engine *e;

	if (cl == NULL) {
		snprintf(err, errlen, "cl_engine_new failed");
		return NULL;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "signature directory %.200s: not a readable directory", dir);
		goto fail;
	}
	set_limits(cl, cfg);
	cl_engine_set_clcb_file_inspection(cl, inspect);
	cl_engine_set_clcb_file_props(cl, props);
	/* No clean-file cache: a cached object is not opened again, so what
	 * libclamav visits inside it (the content tree) would depend on
	 * which mail came before.  The same message gets the same findings. */
	cl_engine_set_num(cl, CL_ENGINE_DISABLE_CACHE, 1);
	rc = cl_load(dir, cl, &sigs, CL_DB_STDOPT);
	if (rc != CL_SUCCESS) {
		snprintf(err, errlen, "loading %.200s: %s", dir, cl_strerror(rc));
		goto fail;
	}
	if (sigs == 0) {
		snprintf(err, errlen, "%.200s holds no signatures", dir);
		goto fail;
	}
	rc = cl_engine_compile(cl);
	if (rc != CL_SUCCESS) {
		snprintf(err, errlen, "compiling %.200s: %s", dir, cl_strerror(rc));
		goto fail;
	}
	e = x_calloc(1, sizeof(*e));
	e->cl = cl;
	e->refs = 1;
	e->sigs = sigs;
	e->phishing = has_phishing_dbs(dir);
	e->max_filesize = cfg->lim.av_max_filesize;
	e->max_scansize = cfg->lim.av_max_scansize;
	return e;
fail:
	cl_engine_free(cl);
	return NULL;
}

av_mgr *av_mgr_new(mw_config *cfg)
{
	av_mgr *m = x_calloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->reload_lock, NULL);
	m->cfg = config_ref(cfg);
	mw_strlcpy(m->info.version, cl_retver(), sizeof(m->info.version));
	mw_strlcpy(m->info.dir, cfg->signatures, sizeof(m->info.dir));
	return m;
}

void av_engine_release(av_engine *e)
{
	if (e == NULL)
		return;
	if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		cl_engine_free(e->cl);
		x_free(e);
	}
}

int av_engine_phishing(const av_engine *e)
{
	return e ? e->phishing : 0;
}

unsigned long av_engine_sigs(const av_engine *e)
{
	return e ? e->sigs : 0;
}

av_engine *av_mgr_acquire(av_mgr *m)
{
	av_engine *e;

	pthread_mutex_lock(&m->lock);
	e = m->cur;
	if (e)
		__atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&m->lock);
	return e;
}

/* av_mgr_reload - compile beside the old engine and swap */
int av_mgr_reload(av_mgr *m, int force, char *err, size_t errlen)
{
	av_engine *ne, *old;
	struct cl_stat st;
	int rc = 0;

	pthread_mutex_lock(&m->reload_lock);
	if (!force && m->have_stat && cl_statchkdir(&m->dbstat) != 1)
		goto out;
	/* Record the directory state before loading, so a change during the
	 * load is seen by the next check. */
	memset(&st, 0, sizeof(st));
	cl_statinidir(m->cfg->signatures, &st);
	ne = av_engine_load(m->cfg->signatures, m->cfg, err, errlen);
	if (ne == NULL) {
		m->info.failed_reloads++;
		mw_strlcpy(m->info.last_error, err, sizeof(m->info.last_error));
		if (m->have_stat)
			cl_statfree(&m->dbstat);
		m->dbstat = st; /* do not retry the same broken state every period */
		m->have_stat = 1;
		rc = -1;
		goto out;
	}
	if (m->have_stat)
		cl_statfree(&m->dbstat);
	m->dbstat = st;
	m->have_stat = 1;
	pthread_mutex_lock(&m->lock);
	old = m->cur;
	m->cur = ne;
	m->info.loaded = 1;
	m->info.sigs = ne->sigs;
	m->info.loaded_at = time(NULL);
	if (old)
		m->info.reloads++;
	m->info.last_error[0] = 0;
	pthread_mutex_unlock(&m->lock);
	av_engine_release(old);
	rc = 1;
out:
	pthread_mutex_unlock(&m->reload_lock);
	return rc;
}

void av_mgr_info(av_mgr *m, av_info *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->info;
	pthread_mutex_unlock(&m->lock);
}

void av_mgr_free(av_mgr *m)
{
	if (m == NULL)
		return;
	av_engine_release(m->cur);
	if (m->have_stat)
		cl_statfree(&m->dbstat);
	config_unref(m->cfg);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->reload_lock);
	x_free(m);
}

static void scan_options(struct cl_scan_options *o, const av_hooks *h)
{
	memset(o, 0, sizeof(*o));
	o->general = CL_SCAN_GENERAL_HEURISTICS;
	if (h && h->props)
		o->general |= CL_SCAN_GENERAL_COLLECT_METADATA;
	o->parse = ~0U;
	o->heuristic = CL_SCAN_HEURISTIC_BROKEN | CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_MACROS |
	               CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC |
	               CL_SCAN_HEURISTIC_PHISHING_SSL_MISMATCH | CL_SCAN_HEURISTIC_PHISHING_CLOAK;
}

/*
 * set_result - libclamav's answer as an av_result.  libclamav 1.4 reports
 * an object over MaxFileSize/MaxScanSize (with the exceeds-max heuristic
 * on) as CL_VIRUS without a name: name it, so it maps to av.limits and not
 * to av.infected.  An error libclamav only logged (rec->err) makes a
 * "clean" answer an error: a scan that could not run is not clean.
 */
static void set_result(const av_engine *e, size_t len, av_result *res, cl_error_t rc, const char *virname,
                       const scan_rec *rec)
{
	memset(res, 0, sizeof(*res));
	if (rc == CL_CLEAN && rec && rec->err[0]) {
		res->status = AV_ERROR;
		snprintf(res->name, sizeof(res->name), "libclamav: %s", rec->err);
	} else if (rc == CL_CLEAN) {
		res->status = AV_CLEAN;
	} else if (rc == CL_VIRUS) {
		res->status = AV_FOUND;
		if (virname == NULL)
			virname = e && (len > e->max_filesize || len > e->max_scansize)
			              ? "Heuristics.Limits.Exceeded.MaxFileSize"
			              : "Heuristics.Unnamed";
		mw_printable(res->name, sizeof(res->name), virname, 120, 0);
	} else {
		res->status = AV_ERROR;
		snprintf(res->name, sizeof(res->name), "%s", cl_strerror(rc));
	}
}

/* av_scan_mem_hooks - scan a buffer in place through an fmap */
void av_scan_mem_hooks(const av_engine *e, const void *data, size_t len, const char *name, const av_hooks *h,
                       av_result *res)
{
	struct cl_scan_options o;
	const char *virname = NULL;
	unsigned long scanned = 0;
	scan_rec rec = {"", h, NULL, 0};
	cl_fmap_t *map;
	cl_error_t rc;

	if (len == 0) {
		set_result(e, len, res, CL_CLEAN, NULL, NULL);
		return;
	}
	map = cl_fmap_open_memory(data, len);
	if (map == NULL) {
		set_result(e, len, res, CL_EMEM, NULL, NULL);
		return;
	}
	scan_options(&o, h);
	tl_scan = &rec;
	rc = cl_scanmap_callback(map, name, &virname, &scanned, e->cl, &o, &rec);
	tl_scan = NULL;
	cl_fmap_close(map);
	x_free(rec.seen);
	set_result(e, len, res, rc, virname, &rec);
}

/* av_scan_fd_hooks - scan an open file (spilled content); the caller keeps the descriptor */
void av_scan_fd_hooks(const av_engine *e, int fd, const char *name, const av_hooks *h, av_result *res)
{
	struct cl_scan_options o;
	const char *virname = NULL;
	unsigned long scanned = 0;
	scan_rec rec = {"", h, NULL, 0};
	struct stat st;
	cl_error_t rc;

	scan_options(&o, h);
	tl_scan = &rec;
	rc = cl_scandesc_callback(fd, name, &virname, &scanned, e->cl, &o, &rec);
	tl_scan = NULL;
	x_free(rec.seen);
	set_result(e, fstat(fd, &st) == 0 ? (size_t)st.st_size : 0, res, rc, virname, &rec);
}

void av_scan_mem(const av_engine *e, const void *data, size_t len, const char *name, av_result *res)
{
	av_scan_mem_hooks(e, data, len, name, NULL, res);
}

void av_scan_fd(const av_engine *e, int fd, const char *name, av_result *res)
{
	av_scan_fd_hooks(e, fd, name, NULL, res);
}

/* The prefixes of libclamav result names and their codes; first match wins. */
static const struct {
	const char *prefix;
	const char *code;
} av_codes[] = {
    /* out of time is a failure of this attempt, not a fact about the
     * content: tempfail, so the sender retries (a loaded machine) */
    {"Heuristics.Limits.Exceeded.MaxScanTime", "av.error"},
    {"Heuristics.Limits.Exceeded", "av.limits"},
    {"Heuristics.Phishing.", "link.phishing"},
    {"Heuristics.", "av.heuristic"},
    {"", "av.infected"},
};

const char *av_reason_code(const char *virname)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(av_codes); i++)
		if (strncmp(virname, av_codes[i].prefix, strlen(av_codes[i].prefix)) == 0)
			return av_codes[i].code;
	return "av.infected";
}

int av_record(mw_verdict *v, const av_result *r, const char *part, const char *path)
{
	switch (r->status) {
	case AV_CLEAN: return 0;
	case AV_ERROR: verdict_add(v, "av.error", part, "%s", r->name); return 0;
	case AV_FOUND:
		if (path)
			verdict_add(v, av_reason_code(r->name), part, "%s in %.120s", r->name, path);
		else
			verdict_add(v, av_reason_code(r->name), part, "%s", r->name);
		return 1;
	}
	return 0;
}
