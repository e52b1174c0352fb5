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
 *
 *	Reloads that fit the machine.  Each load measures the engine it
 *	built (resident set before and after: libclamav has no public memory
 *	statistics).  Before a reload the next engine is estimated from the
 *	last one, scaled by the size of the database files, and compared
 *	with what the process may still use (av_mem.c: MemAvailable and
 *	every cgroup limit above it).  [antivirus] reload_mode:
 *	  swap     the new engine is built beside the old one, then swapped:
 *	           no mail waits, but for a while two engines are resident;
 *	  inplace  the current engine is taken away first (acquire returns
 *	           NULL, so mail is answered 451 through av.unavailable, never
 *	           accepted unscanned), the scans in flight finish, it is
 *	           freed, then the new database is loaded; if that fails the
 *	           last good copy (av_sigset.c) is loaded instead;
 *	  auto     swap when the estimate plus reload_reserve fits, else in
 *	           place (the default).
 *	The mode, the estimate and the time mail was deferred are logged and
 *	kept in av_info.
 * LIMITS
 *	From [limits] av_max_*: scan size, file size, recursion, files, time.
 *	An in-place reload waits for the scans in flight at most
 *	limits.scan_time + 5 s before it frees the old engine.
 * DIAGNOSTICS
 *	Load failures are returned as text; libclamav's own warnings and
 *	errors are logged through the message callback.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"
#include "av/av_cache.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/util.h"

#include <clamav.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

struct av_engine {
	struct cl_engine *cl;
	int refs;
	unsigned int sigs;
	size_t max_filesize;
	size_t max_scansize;
	int phishing;    /* the directory holds phishing databases (.pdb, .wdb, .gdb) */
	size_t bytes;    /* resident memory it added when loaded (0: not measured) */
	size_t db_bytes; /* size of the database files it was loaded from */
	double load_s;   /* seconds to load and compile */
	av_cache *cache; /* clean answers with what was inside (av_cache.c), or NULL */
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
	av_cache_rec *crec; /* what this scan reports, for the cache (NULL: not kept) */
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

/*
 * malloc_tune - keep the memory libclamav takes and frees for every scan.
 * With a full-size database each scan (and each object scanned inside
 * it) allocates several MB of matcher state (cli_ac_initdata: arrays per
 * logical signature).  glibc serves blocks that big with a fresh mmap
 * and gives them back at free: about 1,000 page faults per scan of a
 * message with a 200 KB attachment, a third of its CPU time.  Blocks up
 * to 32 MB (glibc's largest threshold) now come from the heap and stay
 * there (trim at 64 MB free); the arenas that hold them are limited to
 * the number of CPUs, so what is kept is bounded by arenas x the largest
 * scan's working set, not by the number of connections.
 */
static void malloc_tune(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD) && defined(M_ARENA_MAX)
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	mallopt(M_ARENA_MAX, cpus > 1 ? (int)cpus : 2);
#endif
}

int av_global_init(char *err, size_t errlen)
{
	static int done;
	cl_error_t rc;

	if (done)
		return 0;
	malloc_tune();
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
	if (cfg->av_ac_maxdepth == 2) { /* 3 is libclamav's own default: left alone */
		cl_engine_set_num(cl, CL_ENGINE_AC_MINDEPTH, 2);
		cl_engine_set_num(cl, CL_ENGINE_AC_MAXDEPTH, 2);
	}
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
	av_cache_rec_object(r->crec, &o);
	r->hooks->visit(r->hooks->arg, &o);
	return CL_CLEAN;
}

/* props - libclamav's file-properties callback: the scan's metadata JSON */
static int props(const char *json, int rc, void *context)
{
	scan_rec *r = context;

	(void)rc;
	if (r && r->hooks && r->hooks->props && json) {
		av_cache_rec_props(r->crec, json);
		r->hooks->props(r->hooks->arg, json);
	}
	return CL_CLEAN;
}

/* av_db_options - the CL_DB_* flags of [antivirus] pua, bytecode, phishing */
unsigned int av_db_options(const mw_config *cfg)
{
	unsigned int o = 0;

	if (cfg->av_phishing)
		o |= CL_DB_PHISHING | CL_DB_PHISHING_URLS;
	if (cfg->av_bytecode)
		o |= CL_DB_BYTECODE;
	if (cfg->av_pua)
		o |= CL_DB_PUA;
	return o;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* av_engine_load - load and compile every database in dir */
av_engine *av_engine_load(const char *dir, const mw_config *cfg, char *err, size_t errlen)
{
	struct cl_engine *cl = cl_engine_new();
	unsigned int sigs = 0;
	struct stat st;
	cl_error_t rc;
	av_engine *e;
	size_t rss0 = av_mem_rss(), rss1;
	double t0 = mono_now();

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
	rc = cl_load(dir, cl, &sigs, av_db_options(cfg));
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
	e->load_s = mono_now() - t0;
	rss1 = av_mem_rss();
	e->bytes = rss1 > rss0 ? rss1 - rss0 : 0;
	e->db_bytes = av_sigset_bytes(dir);
	e->cache = av_cache_new(cfg->av_scan_cache);
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
		av_cache_free(e->cache);
		x_free(e);
		malloc_trim(0); /* give the engine's pages back, so the next reload's estimate holds */
	}
}

int av_engine_phishing(const av_engine *e)
{
	return e ? e->phishing : 0;
}

void av_engine_cache_stats(const av_engine *e, av_cache_stat *out)
{
	av_cache_stats(e ? e->cache : NULL, out);
}

unsigned long av_engine_sigs(const av_engine *e)
{
	return e ? e->sigs : 0;
}

size_t av_engine_bytes(const av_engine *e)
{
	return e ? e->bytes : 0;
}

double av_engine_load_s(const av_engine *e)
{
	return e ? e->load_s : 0;
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

/* last_good_dir - where the copy of the last set that loaded lives; NULL: none */
static const char *last_good_dir(const mw_config *cfg, char *buf, size_t len)
{
	if (strcmp(cfg->av_last_good, "none") == 0)
		return NULL;
	if (*cfg->av_last_good)
		return cfg->av_last_good;
	snprintf(buf, len, "%s/sigs.last-good", cfg->state);
	return buf;
}

/*
 * choose_mode - swap or in place for the next load.  The next engine is
 * the current one scaled by the database files; with nothing measured
 * yet (or nothing loaded) a swap costs nothing extra, so it is a swap.
 */
static int choose_mode(av_mgr *m, size_t db_bytes, size_t *need, size_t *avail, char *why, size_t whylen)
{
	const char *mode = m->cfg->av_reload_mode;
	av_engine *cur = m->cur;
	double scale;

	*need = 0;
	*avail = av_mem_available();
	if (cur == NULL) {
		snprintf(why, whylen, "nothing loaded");
		return AV_RELOAD_SWAP;
	}
	scale = cur->db_bytes && db_bytes ? (double)db_bytes / (double)cur->db_bytes : 1.0;
	*need = (size_t)((double)cur->bytes * scale * 1.05) + m->cfg->av_reload_reserve;
	if (strcmp(mode, "swap") == 0) {
		snprintf(why, whylen, "reload_mode swap");
		return AV_RELOAD_SWAP;
	}
	if (strcmp(mode, "inplace") == 0) {
		snprintf(why, whylen, "reload_mode inplace");
		return AV_RELOAD_INPLACE;
	}
	if (cur->bytes == 0 || *avail == (size_t)-1) {
		snprintf(why, whylen, "auto: engine size or free memory unknown");
		return AV_RELOAD_SWAP;
	}
	snprintf(why, whylen, "auto: next engine ~%zu MB + reserve %zu MB %s %zu MB available",
	         (*need - m->cfg->av_reload_reserve) >> 20, m->cfg->av_reload_reserve >> 20,
	         *need <= *avail ? "fits in" : "does not fit in", *avail >> 20);
	return *need <= *avail ? AV_RELOAD_SWAP : AV_RELOAD_INPLACE;
}

/* wait_idle - until only our reference is left on e, at most limit seconds; 1 when idle */
static int wait_idle(av_engine *e, double limit)
{
	double end = mono_now() + limit;

	while (__atomic_load_n(&e->refs, __ATOMIC_ACQUIRE) > 1) {
		if (mono_now() > end)
			return 0;
		usleep(10000);
	}
	return 1;
}

/* publish - make ne current (may be NULL); returns the engine it replaced */
static av_engine *publish(av_mgr *m, av_engine *ne, int fallback)
{
	av_engine *old;

	pthread_mutex_lock(&m->lock);
	old = m->cur;
	m->cur = ne;
	m->info.loaded = ne != NULL;
	m->info.sigs = ne ? ne->sigs : 0;
	if (ne) {
		m->info.loaded_at = time(NULL);
		m->info.engine_bytes = ne->bytes;
		m->info.load_s = ne->load_s;
		m->info.fallback = fallback;
	}
	pthread_mutex_unlock(&m->lock);
	return old;
}

/* load_fallback - the last good copy, when it is intact; err: why the live set failed */
static av_engine *load_fallback(av_mgr *m, const char *err)
{
	char buf[1024], e2[512];
	const char *lg = last_good_dir(m->cfg, buf, sizeof(buf));
	av_engine *ne;

	if (lg == NULL)
		return NULL;
	if (av_sigset_check_copy(lg, e2, sizeof(e2)) < 0) {
		log_err("signatures: no usable last good copy: %s", e2);
		return NULL;
	}
	ne = av_engine_load(lg, m->cfg, e2, sizeof(e2));
	if (ne == NULL) {
		log_err("signatures: the last good copy %s does not load either: %s", lg, e2);
		return NULL;
	}
	log_err("signatures: %s; serving the last good copy %s (%u signatures) until a database loads", err, lg,
	        ne->sigs);
	return ne;
}

/* keep_copy - after a good load: the last good copy mirrors the live directory */
static void keep_copy(av_mgr *m)
{
	char buf[1024], err[512];
	const char *lg = last_good_dir(m->cfg, buf, sizeof(buf));

	if (lg && av_sigset_copy(m->cfg->signatures, lg, err, sizeof(err)) < 0)
		log_warn("signatures: last good copy not updated: %s", err);
}

/*
 * av_mgr_reload - load the signature directory as the next engine: beside
 * the current one (swap) or in its place, as choose_mode() says.
 */
int av_mgr_reload(av_mgr *m, int force, char *err, size_t errlen)
{
	av_engine *ne = NULL, *old;
	struct cl_stat st;
	size_t need, avail, db_bytes;
	char why[200];
	int rc = 0, mode, fallback = 0;
	double t0;

	pthread_mutex_lock(&m->reload_lock);
	if (!force && m->have_stat && cl_statchkdir(&m->dbstat) != 1)
		goto out;
	/* Record the directory state before loading, so a change during the
	 * load is seen by the next check. */
	memset(&st, 0, sizeof(st));
	cl_statinidir(m->cfg->signatures, &st);
	if (m->have_stat)
		cl_statfree(&m->dbstat);
	m->dbstat = st; /* a broken state is not retried every period, only when it changes */
	m->have_stat = 1;
	db_bytes = av_sigset_bytes(m->cfg->signatures);
	mode = choose_mode(m, db_bytes, &need, &avail, why, sizeof(why));
	pthread_mutex_lock(&m->lock);
	m->info.last_mode = mode;
	m->info.avail_bytes = avail;
	m->info.need_bytes = need;
	m->info.reloading = 1;
	m->info.reload_start = time(NULL);
	pthread_mutex_unlock(&m->lock);
	t0 = mono_now();
	if (mode == AV_RELOAD_SWAP) {
		if (m->cur)
			log_info("signatures: reload by swap (%s)", why);
		ne = av_engine_load(m->cfg->signatures, m->cfg, err, errlen);
		if (ne == NULL) {
			m->info.failed_reloads++;
			mw_strlcpy(m->info.last_error, err, sizeof(m->info.last_error));
			rc = -1;
			if (m->cur)
				log_err("signatures: reload failed, old engine kept: %s", err);
			/* nothing serving (start-up): the last good set beats 451 for every message */
			if (m->cur == NULL && (ne = load_fallback(m, err)) != NULL)
				fallback = 1;
			if (ne == NULL)
				goto out;
		}
		m->info.deferred_s = 0;
	} else {
		log_warn("signatures: reload in place (%s): mail is deferred (451) until the new engine is ready", why);
		old = publish(m, NULL, 0);
		if (!wait_idle(old, (double)m->cfg->lim.scan_time / 1000.0 + 5.0))
			log_warn("signatures: scans still hold the old engine; it is freed when they finish");
		av_engine_release(old);
		ne = av_engine_load(m->cfg->signatures, m->cfg, err, errlen);
		if (ne == NULL) {
			m->info.failed_reloads++;
			mw_strlcpy(m->info.last_error, err, sizeof(m->info.last_error));
			rc = -1;
			if ((ne = load_fallback(m, err)) != NULL)
				fallback = 1;
			else
				log_err("signatures: %s; no engine: every message is deferred (451) until a "
				        "database loads",
				        err);
		}
		m->info.deferred_s = mono_now() - t0;
	}
	old = publish(m, ne, fallback);
	/* a reload, by swap or in place (whose old engine was taken away before the load) */
	if (ne && (old || mode == AV_RELOAD_INPLACE))
		m->info.reloads++;
	if (ne && !fallback)
		m->info.last_error[0] = 0;
	av_engine_release(old);
	if (mode == AV_RELOAD_INPLACE)
		log_info("signatures: in-place reload %s in %.1f s; mail was deferred for %.1f s",
		         ne ? (fallback ? "fell back to the last good copy" : "done") : "FAILED", mono_now() - t0,
		         m->info.deferred_s);
	if (ne)
		log_info("signatures: %u signatures, engine ~%zu MB, loaded in %.1f s (%s)", ne->sigs, ne->bytes >> 20,
		         ne->load_s, mode == AV_RELOAD_SWAP ? "swap" : "in place");
	if (ne && !fallback) {
		keep_copy(m);
		if (rc == 0)
			rc = 1;
	}
out:
	pthread_mutex_lock(&m->lock);
	m->info.reloading = 0;
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_unlock(&m->reload_lock);
	return rc;
}

void av_mgr_info(av_mgr *m, av_info *out)
{
	av_cache_stat cs;

	pthread_mutex_lock(&m->lock);
	*out = m->info;
	av_engine_cache_stats(m->cur, &cs);
	pthread_mutex_unlock(&m->lock);
	out->cache_hits = cs.hits;
	out->cache_misses = cs.misses;
	out->cache_entries = cs.entries;
	out->cache_bytes = cs.bytes;
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
	scan_rec rec = {"", h, NULL, 0, NULL};
	/* the cache only where every object is reported (the engine's stages) */
	av_cache *cache = h && h->visit ? e->cache : NULL;
	char key[65] = "";
	int replayed;
	cl_fmap_t *map;
	cl_error_t rc;

	if (len == 0) {
		set_result(e, len, res, CL_CLEAN, NULL, NULL);
		return;
	}
	if (h && h->sha256 && h->sha256[0])
		mw_strlcpy(key, h->sha256, sizeof(key));
	replayed = av_cache_replay(cache, data, len, name, h, key);
	if (h && h->sha256 && !h->sha256[0] && key[0])
		memcpy(h->sha256, key, sizeof(key));
	if (replayed) {
		set_result(e, len, res, CL_CLEAN, NULL, NULL);
		return;
	}
	map = cl_fmap_open_memory(data, len);
	if (map == NULL) {
		set_result(e, len, res, CL_EMEM, NULL, NULL);
		return;
	}
	scan_options(&o, h);
	rec.crec = av_cache_rec_new(cache, data, len, key);
	tl_scan = &rec;
	rc = cl_scanmap_callback(map, name, &virname, &scanned, e->cl, &o, &rec);
	tl_scan = NULL;
	cl_fmap_close(map);
	x_free(rec.seen);
	set_result(e, len, res, rc, virname, &rec);
	av_cache_rec_finish(cache, rec.crec, name, h, res->status == AV_CLEAN);
}

/* av_scan_fd_hooks - scan an open file (spilled content); the caller keeps the descriptor */
void av_scan_fd_hooks(const av_engine *e, int fd, const char *name, const av_hooks *h, av_result *res)
{
	struct cl_scan_options o;
	const char *virname = NULL;
	unsigned long scanned = 0;
	scan_rec rec = {"", h, NULL, 0, NULL};
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
