/*
 * NAME
 *	av_sigset.c - signature sets on disk: sizes, the last good copy
 * SYNOPSIS
 *	See av.h (av_sigset_*).
 * DESCRIPTION
 *	A signature set is the ClamAV database files of one directory.
 *
 *	The last good copy (av_sigset_copy) mirrors the set the daemon last
 *	loaded, so a reload in place whose new files fail to load can go
 *	back to it.  Files of 1 MiB and more are hard links when the file
 *	system allows (the official .cvd/.cld files are replaced by rename,
 *	never rewritten, so a link costs no SD-card writes and keeps the old
 *	contents when the live file is replaced); smaller files (local
 *	.ndb/.hdb that an editor may rewrite in place) are copied and
 *	fsync'ed.  Only what changed since the last copy is written.  A
 *	manifest (.manifest: name, size, the source's and the copy's
 *	modification times in ns) is removed before and written after the
 *	copy, and av_sigset_check_copy() refuses a copy whose files no longer
 *	match it (a linked file rewritten in place changes its mtime).
 *
 *	The pipeline (mailwarden sigs, src/cli/cmd_sigs.c): a new set is
 *	built in LIVE.staging (links to the files that stay, copies of the
 *	imported ones), verified (every .cvd/.cld by its signature,
 *	cl_cvdverify; unsigned files only when the caller allows them; then
 *	a full test load with the daemon's options), and installed with one
 *	renameat2(RENAME_EXCHANGE): the daemon never sees half a set.  The
 *	set it replaced becomes LIVE.prev, and a roll back is the same
 *	exchange the other way.
 * LIMITS
 *	File names up to 255 bytes; at most 4096 files in a set.
 * DIAGNOSTICS
 *	Errors are returned as text ("NAME: what failed").
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"
#include "util/util.h"

#include <clamav.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define SET_MAX    4096
#define LINK_FLOOR (1024 * 1024) /* files at least this big are hard-linked */

/* the extensions libclamav's cl_load() reads (readdb.c CLI_DBEXT) */
static const char *const db_ext[] = {
    ".db",  ".hdb", ".hdu",  ".hsb",  ".hsu", ".mdb", ".mdu", ".msb", ".msu", ".ndb",  ".ndu",  ".ldb", ".ldu",
    ".sdb", ".zmd", ".rmd",  ".idb",  ".fp",  ".sfp", ".pdb", ".wdb", ".gdb", ".cdb",  ".cbc",  ".cat", ".crb",
    ".ftm", ".ign", ".ign2", ".info", ".cfg", ".cvd", ".cld", ".cud", ".yar", ".yara", ".pwdb", ".imp",
};

int av_sigset_is_db(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot == NULL || name[0] == '.')
		return 0;
	for (i = 0; i < MW_ARRAY_LEN(db_ext); i++)
		if (strcasecmp(dot, db_ext[i]) == 0)
			return 1;
	return 0;
}

size_t av_sigset_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t total = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;
		if (!av_sigset_is_db(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (size_t)st.st_size;
	}
	closedir(d);
	return total;
}

typedef struct man_ent {
	char name[256];
	long long size, src_mtime, dst_mtime;
} man_ent;

static long long mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* man_read - the manifest of dir; count or -1 when there is none */
static int man_read(const char *dir, man_ent *v, int max)
{
	char path[PATH_MAX], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/.manifest", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (n < max && fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %lld %lld %lld", v[n].name, &v[n].size, &v[n].src_mtime, &v[n].dst_mtime) == 4)
			n++;
	fclose(f);
	return n;
}

/* copy_file - src to dst (created, fsync'ed); 0 or -1 with errno */
static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out, rc = -1, e = 0;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		e = errno;
		close(in);
		errno = e;
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (mw_write_all(out, buf, (size_t)n) < 0)
			break;
	if (n == 0 && fsync(out) == 0)
		rc = 0;
	e = errno;
	close(out);
	close(in);
	errno = e;
	return rc;
}

/* fsync_dir - make renames in dir durable */
static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/*
 * owner_of_parent, give - the copy belongs to whoever owns the directory
 * it is in (the daemon user owns the state directory): the first copy is
 * made by root at start-up, the next ones by the daemon after it dropped
 * root.  Only root changes owners; links keep the live file's owner.
 */
static void owner_of_parent(const char *path, uid_t *uid, gid_t *gid)
{
	char parent[PATH_MAX];
	struct stat st;
	char *slash;

	mw_strlcpy(parent, path, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash == NULL)
		mw_strlcpy(parent, ".", sizeof(parent));
	else if (slash == parent)
		slash[1] = 0;
	else
		*slash = 0;
	if (geteuid() == 0 && stat(parent, &st) == 0) {
		*uid = st.st_uid;
		*gid = st.st_gid;
	}
}

static void give(const char *path, uid_t uid, gid_t gid)
{
	if (uid != (uid_t)-1 && chown(path, uid, gid) < 0) {
		/* the copy stays root's: the daemon logs when it cannot update it */
	}
}

int av_sigset_copy(const char *src, const char *dst, char *err, size_t errlen)
{
	man_ent *old = x_calloc(SET_MAX, sizeof(*old)), *now = x_calloc(SET_MAX, sizeof(*now));
	char sp[PATH_MAX], dp[PATH_MAX], tp[PATH_MAX];
	int nold, nnow = 0, i, rc = -1;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct dirent *de;
	DIR *d = NULL;
	FILE *f;

	if (mkdir(dst, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%.200s: %s", dst, strerror(errno));
		goto out;
	}
	owner_of_parent(dst, &uid, &gid);
	give(dst, uid, gid);
	nold = man_read(dst, old, SET_MAX);
	snprintf(dp, sizeof(dp), "%s/.manifest", dst);
	if (unlink(dp) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%.200s: %s", dp, strerror(errno));
		goto out;
	}
	if ((d = opendir(src)) == NULL) {
		snprintf(err, errlen, "%.200s: %s", src, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat ss, ds;
		man_ent *e;
		int same = 0;
		if (!av_sigset_is_db(de->d_name) || strlen(de->d_name) > 255)
			continue;
		snprintf(sp, sizeof(sp), "%s/%s", src, de->d_name);
		if (stat(sp, &ss) < 0 || !S_ISREG(ss.st_mode))
			continue;
		if (nnow == SET_MAX) {
			snprintf(err, errlen, "%.200s: more than %d database files", src, SET_MAX);
			goto out;
		}
		snprintf(dp, sizeof(dp), "%s/%s", dst, de->d_name);
		for (i = 0; i < nold; i++)
			if (strcmp(old[i].name, de->d_name) == 0 && old[i].size == (long long)ss.st_size &&
			    old[i].src_mtime == mtime_ns(&ss) && stat(dp, &ds) == 0 && ds.st_size == ss.st_size &&
			    mtime_ns(&ds) == old[i].dst_mtime)
				same = 1;
		if (!same) {
			snprintf(tp, sizeof(tp), "%s/.%s.tmp", dst, de->d_name);
			unlink(tp);
			if (ss.st_size < LINK_FLOOR || link(sp, tp) < 0) {
				if (copy_file(sp, tp) < 0) {
					snprintf(err, errlen, "copying %.200s: %s", sp, strerror(errno));
					unlink(tp);
					goto out;
				}
				give(tp, uid, gid); /* a copy, not the live file's inode */
			}
			if (rename(tp, dp) < 0) {
				snprintf(err, errlen, "%.200s: %s", dp, strerror(errno));
				unlink(tp);
				goto out;
			}
		}
		if (stat(dp, &ds) < 0) {
			snprintf(err, errlen, "%.200s: %s", dp, strerror(errno));
			goto out;
		}
		e = &now[nnow++];
		mw_strlcpy(e->name, de->d_name, sizeof(e->name));
		e->size = (long long)ss.st_size;
		e->src_mtime = mtime_ns(&ss);
		e->dst_mtime = mtime_ns(&ds);
	}
	closedir(d);
	/* files the source no longer has */
	if ((d = opendir(dst)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			int keep = 0;
			if (!av_sigset_is_db(de->d_name))
				continue;
			for (i = 0; i < nnow && !keep; i++)
				keep = strcmp(now[i].name, de->d_name) == 0;
			if (!keep) {
				snprintf(dp, sizeof(dp), "%s/%s", dst, de->d_name);
				unlink(dp);
			}
		}
		closedir(d);
		d = NULL;
	}
	fsync_dir(dst);
	snprintf(tp, sizeof(tp), "%s/.manifest.tmp", dst);
	if ((f = fopen(tp, "w")) == NULL) {
		snprintf(err, errlen, "%.200s: %s", tp, strerror(errno));
		goto out;
	}
	for (i = 0; i < nnow; i++)
		fprintf(f, "%s %lld %lld %lld\n", now[i].name, now[i].size, now[i].src_mtime, now[i].dst_mtime);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		snprintf(err, errlen, "%.200s: %s", tp, strerror(errno));
		fclose(f);
		goto out;
	}
	fclose(f);
	give(tp, uid, gid);
	snprintf(dp, sizeof(dp), "%s/.manifest", dst);
	if (rename(tp, dp) < 0) {
		snprintf(err, errlen, "%.200s: %s", dp, strerror(errno));
		goto out;
	}
	fsync_dir(dst);
	rc = 0;
out:
	if (d)
		closedir(d);
	x_free(old);
	x_free(now);
	return rc;
}

int av_sigset_check_copy(const char *dst, char *err, size_t errlen)
{
	man_ent *v = x_calloc(SET_MAX, sizeof(*v));
	int n = man_read(dst, v, SET_MAX), i, rc = -1;
	char p[PATH_MAX];

	if (n <= 0) {
		snprintf(err, errlen, "%.200s: no last good copy (no manifest)", dst);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", dst, v[i].name);
		if (stat(p, &st) < 0) {
			snprintf(err, errlen, "%.200s: %s", p, strerror(errno));
			goto out;
		}
		if ((long long)st.st_size != v[i].size || mtime_ns(&st) != v[i].dst_mtime) {
			snprintf(err, errlen, "%.200s changed since it was kept (rewritten in place?)", p);
			goto out;
		}
	}
	rc = 0;
out:
	x_free(v);
	return rc;
}

/* ---- the signature pipeline: describe, verify, install, roll back ---- */

/* is_cvd - .cvd, .cld or .cud: a signed container libclamav verifies */
static int is_cvd(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (strcasecmp(dot, ".cvd") == 0 || strcasecmp(dot, ".cld") == 0 || strcasecmp(dot, ".cud") == 0);
}

/* av_sigfile_describe - one file: size, signed or not, the header of a signed one, verified */
int av_sigfile_describe(const char *path, av_sigfile *f)
{
	const char *base = strrchr(path, '/');
	struct stat st;

	memset(f, 0, sizeof(*f));
	mw_strlcpy(f->name, base ? base + 1 : path, sizeof(f->name));
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(f->error, sizeof(f->error), "%s", stat(path, &st) < 0 ? strerror(errno) : "not a file");
		return -1;
	}
	f->size = (size_t)st.st_size;
	f->is_cvd = is_cvd(f->name);
	if (!f->is_cvd)
		return 0;
	{
		struct cl_cvd *h = cl_cvdhead(path);
		cl_error_t rc;
		if (h) {
			f->version = h->version;
			f->sigs = h->sigs;
			f->flevel = h->fl;
			mw_printable(f->built, sizeof(f->built), h->time ? h->time : "", 40, 0);
			cl_cvdfree(h);
		}
		rc = cl_cvdverify(path);
		if (rc == CL_SUCCESS)
			f->verified = 1;
		else
			snprintf(f->error, sizeof(f->error), "signature check failed: %s", cl_strerror(rc));
	}
	return f->verified ? 0 : -1;
}

int av_sigset_list(const char *dir, av_sigfile *v, int max, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL) {
		snprintf(err, errlen, "%.200s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < max) {
		char p[PATH_MAX];
		if (!av_sigset_is_db(de->d_name))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		av_sigfile_describe(p, &v[n++]);
	}
	closedir(d);
	return n;
}

int av_sigset_verify(const char *dir, const mw_config *cfg, int allow_unsigned, unsigned long *sigs, double *secs,
                     size_t *bytes, char *err, size_t errlen)
{
	av_sigfile *v = x_calloc(SET_MAX, sizeof(*v));
	int n = av_sigset_list(dir, v, SET_MAX, err, errlen), i, rc = -1;
	av_engine *e;

	if (n < 0)
		goto out;
	if (n == 0) {
		snprintf(err, errlen, "%.200s: no signature database files", dir);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (v[i].is_cvd && !v[i].verified) {
			snprintf(err, errlen, "%.100s: %.120s", v[i].name, v[i].error);
			goto out;
		}
		if (!v[i].is_cvd && !allow_unsigned) {
			snprintf(err, errlen,
			         "%.100s is not signed (only .cvd/.cld files carry ClamAV's signature); "
			         "accept unsigned local databases explicitly with --allow-unsigned",
			         v[i].name);
			goto out;
		}
	}
	/* the real test: libclamav loads and compiles the set with our options */
	if ((e = av_engine_load(dir, cfg, err, errlen)) == NULL)
		goto out;
	*sigs = av_engine_sigs(e);
	*secs = av_engine_load_s(e);
	*bytes = av_engine_bytes(e);
	av_engine_release(e);
	rc = 0;
out:
	x_free(v);
	return rc;
}

/* rm_set - remove a directory of signature files (the files we know, the manifest, then it) */
static int rm_set(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	return rmdir(dir);
}

void av_sigset_unstage(const char *staging)
{
	rm_set(staging);
}

int av_sigset_stage(const char *live, int replace, char *staging, size_t slen, char *err, size_t errlen)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	snprintf(staging, slen, "%s.staging", live);
	if (rm_set(staging) < 0) {
		snprintf(err, errlen, "%.200s: cannot clear: %s", staging, strerror(errno));
		return -1;
	}
	if (mkdir(staging, 0755) < 0) {
		snprintf(err, errlen, "%.200s: %s", staging, strerror(errno));
		return -1;
	}
	if (stat(live, &st) == 0) {
		if (geteuid() == 0 && chown(staging, st.st_uid, st.st_gid) < 0) {
			snprintf(err, errlen, "%.200s: chown: %s", staging, strerror(errno));
			return -1;
		}
		chmod(staging, st.st_mode & 07777);
	}
	if (replace || (d = opendir(live)) == NULL)
		return 0;
	/* the files that stay: links (nothing is ever rewritten in place here) */
	while ((de = readdir(d)) != NULL) {
		char sp[PATH_MAX], dp[PATH_MAX];
		if (!av_sigset_is_db(de->d_name))
			continue;
		snprintf(sp, sizeof(sp), "%s/%s", live, de->d_name);
		snprintf(dp, sizeof(dp), "%s/%s", staging, de->d_name);
		if (link(sp, dp) < 0 && copy_file(sp, dp) < 0) {
			snprintf(err, errlen, "%.200s: %s", sp, strerror(errno));
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int av_sigset_add(const char *staging, const char *src, const char *as, char *err, size_t errlen)
{
	const char *base = as ? as : strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	char dp[PATH_MAX], other[PATH_MAX];
	struct stat st;
	size_t bl = strlen(base);

	if (!av_sigset_is_db(base) || strchr(base, '/') || bl > 200) {
		snprintf(err, errlen, "%.100s: not a ClamAV database file name (.cvd .cld .ndb .hdb .hsb .ldb ...)",
		         base);
		return -1;
	}
	snprintf(dp, sizeof(dp), "%s/%s", staging, base);
	unlink(dp);
	if (copy_file(src, dp) < 0) {
		snprintf(err, errlen, "%.200s: %s", src, strerror(errno));
		return -1;
	}
	chmod(dp, 0644);
	if (stat(staging, &st) == 0 && geteuid() == 0 && chown(dp, st.st_uid, st.st_gid) < 0) {
		snprintf(err, errlen, "%.200s: chown: %s", dp, strerror(errno));
		return -1;
	}
	/* daily.cvd replaces daily.cld and the other way round: the import wins */
	if (is_cvd(base)) {
		mw_strlcpy(other, dp, sizeof(other));
		other[strlen(other) - 2] = base[bl - 2] == 'v' || base[bl - 2] == 'V' ? 'l' : 'v';
		unlink(other);
	}
	return 0;
}

int av_sigset_install(const char *staging, const char *live, char *err, size_t errlen)
{
	char prev[PATH_MAX];

	snprintf(prev, sizeof(prev), "%s.prev", live);
	fsync_dir(staging);
	if (renameat2(AT_FDCWD, staging, AT_FDCWD, live, RENAME_EXCHANGE) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "exchanging %.200s and %.200s: %s", staging, live, strerror(errno));
			return -1;
		}
		if (rename(staging, live) < 0) { /* no live set yet */
			snprintf(err, errlen, "%.200s: %s", live, strerror(errno));
			return -1;
		}
		return 0;
	}
	/* staging now holds the old set: it becomes the one to roll back to */
	rm_set(prev);
	if (rename(staging, prev) < 0) {
		snprintf(err, errlen, "%.200s: %s", prev, strerror(errno));
		return -1;
	}
	return 0;
}

int av_sigset_rollback(const char *live, char *err, size_t errlen)
{
	char prev[PATH_MAX];
	struct stat st;

	snprintf(prev, sizeof(prev), "%s.prev", live);
	if (stat(prev, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%.200s: no previous signature set to roll back to", prev);
		return -1;
	}
	if (renameat2(AT_FDCWD, prev, AT_FDCWD, live, RENAME_EXCHANGE) < 0) {
		snprintf(err, errlen, "exchanging %.200s and %.200s: %s", prev, live, strerror(errno));
		return -1;
	}
	return 0;
}
