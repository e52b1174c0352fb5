/*
 * NAME
 *	av_mem.c - how much memory this process uses and may still use
 * SYNOPSIS
 *	See av.h: av_mem_rss(), av_mem_available().
 * DESCRIPTION
 *	The reload decision (av.c) compares the size of the next engine with
 *	what the process may still allocate: the smaller of the system's
 *	MemAvailable (/proc/meminfo) and, for every memory cgroup above the
 *	process (its own and each ancestor), limit - usage + inactive file
 *	pages (page cache the kernel reclaims before it kills: the signature
 *	files themselves are read through it).
 *
 *	cgroup v2: /proc/self/cgroup "0::PATH", the cgroup2 mount from
 *	/proc/self/mountinfo, memory.max ("max" = none), memory.current,
 *	memory.stat inactive_file.  cgroup v1: the "memory" controller line
 *	and mount, memory.limit_in_bytes (a huge value = none),
 *	memory.usage_in_bytes, memory.stat total_inactive_file.  Both may be
 *	present (hybrid); every limit found applies.
 * LIMITS
 *	Paths and lines are read into fixed buffers of 4 KiB; longer lines
 *	are skipped (the answer is then "no limit known" for that source).
 * DIAGNOSTICS
 *	Nothing is logged here; unknown values are reported as 0 (RSS) or
 *	(size_t)-1 (no limit known).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* av_mem_rss - resident set of this process in bytes (0 if unknown) */
size_t av_mem_rss(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	long page = sysconf(_SC_PAGESIZE);

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (size_t)res * (size_t)(page > 0 ? page : 4096);
}

/* read_u64 - the first number of a file; -1 when missing, "max" or not a number */
static int read_u64(const char *path, unsigned long long *out)
{
	char line[64];
	FILE *f = fopen(path, "r");
	char *end;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) && line[0] >= '0' && line[0] <= '9') {
		*out = strtoull(line, &end, 10);
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* stat_field - "key N" of a memory.stat file; 0 when missing */
static unsigned long long stat_field(const char *path, const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
			v = strtoull(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

/* meminfo_available - MemAvailable in bytes, or (size_t)-1 */
static size_t meminfo_available(void)
{
	char line[256];
	unsigned long long kb;
	size_t v = (size_t)-1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return v;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			v = (size_t)(kb * 1024);
	fclose(f);
	return v;
}

/*
 * mount_of - the mount point of a cgroup hierarchy from /proc/self/mountinfo:
 * fstype "cgroup2", or "cgroup" with the option opt ("memory").  The
 * mount's root (field 4) is subtracted from the process's cgroup path by
 * the caller when it is not "/".
 */
static int mount_of(int v2, char *mnt, size_t mlen, char *root, size_t rlen)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = 0;

	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char r[1024], m[1024], *dash = strstr(line, " - "), fstype[64], opts[1024];
		if (dash == NULL || sscanf(line, "%*s %*s %*s %1023s %1023s", r, m) != 2)
			continue;
		if (sscanf(dash + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (v2 && strcmp(fstype, "cgroup2") == 0)
			found = 1;
		else if (!v2 && strcmp(fstype, "cgroup") == 0) {
			char *tok, *save = NULL;
			for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (strcmp(tok, "memory") == 0)
					found = 1;
		}
		if (found) {
			snprintf(mnt, mlen, "%s", m);
			snprintf(root, rlen, "%s", r);
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* own_path - this process's cgroup path for v2 ("0::") or the v1 memory controller */
static int own_path(int v2, char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int found = 0;

	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		size_t n;
		if (c2 == NULL)
			continue;
		*c1 = *c2 = 0;
		if (v2 && strcmp(line, "0") == 0 && c1[1] == 0)
			found = 1;
		else if (!v2) {
			char *tok, *save = NULL;
			for (tok = strtok_r(c1 + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (strcmp(tok, "memory") == 0)
					found = 1;
		}
		if (found) {
			n = strcspn(c2 + 1, "\n");
			snprintf(out, len, "%.*s", (int)n, c2 + 1);
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* cgroup_room - the least room over the cgroup and its ancestors; (size_t)-1 if none */
static size_t cgroup_room(int v2)
{
	char mnt[1024], root[1024], path[1024], dir[2300], file[2400];
	size_t best = (size_t)-1, rl;
	const char *rel;

	if (own_path(v2, path, sizeof(path)) < 0 || mount_of(v2, mnt, sizeof(mnt), root, sizeof(root)) < 0)
		return best;
	rel = path;
	rl = strlen(root);
	if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0)
		rel = path + rl;
	snprintf(dir, sizeof(dir), "%s%s", mnt, rel);
	for (;;) {
		unsigned long long lim, use;
		snprintf(file, sizeof(file), "%s/%s", dir, v2 ? "memory.max" : "memory.limit_in_bytes");
		if (read_u64(file, &lim) == 0 && lim < (1ULL << 60)) {
			snprintf(file, sizeof(file), "%s/%s", dir, v2 ? "memory.current" : "memory.usage_in_bytes");
			if (read_u64(file, &use) == 0) {
				unsigned long long inact, room;
				snprintf(file, sizeof(file), "%s/memory.stat", dir);
				inact = stat_field(file, v2 ? "inactive_file" : "total_inactive_file");
				use = use > inact ? use - inact : 0;
				room = lim > use ? lim - use : 0;
				if (room < best)
					best = (size_t)room;
			}
		}
		/* up one level, stopping at the mount point */
		if (strlen(dir) <= strlen(mnt))
			break;
		{
			char *slash = strrchr(dir, '/');
			if (slash == NULL || (size_t)(slash - dir) < strlen(mnt))
				break;
			*slash = 0;
		}
	}
	return best;
}

/* av_mem_available - what this process may still allocate, bytes; (size_t)-1 if unknown */
size_t av_mem_available(void)
{
	size_t a = meminfo_available(), b = cgroup_room(1), c = cgroup_room(0);

	if (b < a)
		a = b;
	if (c < a)
		a = c;
	return a;
}
