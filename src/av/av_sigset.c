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
 * LIMITS
 *	File names up to 255 bytes; at most 4096 files in a set.
 * DIAGNOSTICS
 *	Errors are returned as text ("NAME: what failed").
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"
#include "util/util.h"

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
