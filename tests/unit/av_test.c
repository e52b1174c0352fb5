/*
 * av_test.c - the in-process ClamAV engine with the project's own
 * signature files: detection from memory and from a descriptor, reload
 * beside a running engine, failed reload keeps the old engine, no
 * database means no engine; reloads in place; the last good copy (links,
 * copies, a manifest that notices a file rewritten in place); staging,
 * install and roll back of signature sets; the memory probes; the scan
 * cache replays what libclamav reported inside clean content, keeps no
 * match, and is per name and per engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "av/av.h"
#include "av/av_cache.h"
#include "policy/policy.h"
#include "util/spool.h"
#include "util/util.h"

#ifndef SIGS_DIR
#define SIGS_DIR "sigs"
#endif

/* EICAR, assembled at run time. */
static void eicar(char *out, size_t len)
{
	snprintf(out, len, "X5O!P%%@AP[4\\PZX54(P^)7CC)7}$%s-%s-%s-%s!$H+H*", "EICAR", "STANDARD-ANTIVIRUS", "TEST",
	         "FILE");
}

static const char marker[] = "MAILWARDEN-TEST-MARKER-7f3a9c1e";

static mw_config *cfg_for(const char *dir)
{
	char ov[600], err[512];
	const char *ovs[2] = {ov, "antivirus.last_good=none"}; /* never the system's state directory */
	mw_config *c = NULL;

	snprintf(ov, sizeof(ov), "paths.signatures=%s", dir);
	assert_int_equal(config_load(NULL, ovs, 2, &c, err, sizeof(err)), 0);
	return c;
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	return av_global_init(err, sizeof(err));
}

typedef struct scan_case {
	const char *name;
	const char *data;
	av_status want;
	const char *want_sig;
} scan_case;

static void test_scan_memory(void **state)
{
	char ev[128], err[512], clean[] = "Dear colleague, the minutes are attached.";
	mw_config *c = cfg_for(SIGS_DIR);
	av_engine *e = av_engine_load(SIGS_DIR, c, err, sizeof(err));
	scan_case cases[] = {
	    {"eicar", ev, AV_FOUND, "Mailwarden.Test.EICAR"},
	    {"marker",
	     "prefix "
	     "MAILWARDEN-TEST-MARKER-7f3a9c1e"
	     " suffix",
	     AV_FOUND, "Mailwarden.Test.Marker"},
	    {"clean", clean, AV_CLEAN, ""},
	};
	size_t i;

	(void)state;
	eicar(ev, sizeof(ev));
	if (e == NULL)
		fail_msg("load %s: %s", SIGS_DIR, err);
	assert_true(av_engine_sigs(e) >= 2);
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		av_result r;
		av_scan_mem(e, cases[i].data, strlen(cases[i].data), cases[i].name, &r);
		if (r.status != cases[i].want || strncmp(r.name, cases[i].want_sig, strlen(cases[i].want_sig)) != 0)
			fail_msg("%s: got status %d \"%s\", want %d \"%s\"", cases[i].name, r.status, r.name,
			         cases[i].want, cases[i].want_sig);
	}
	av_engine_release(e);
	config_unref(c);
}

static void test_scan_fd(void **state)
{
	char err[512];
	mw_config *c = cfg_for(SIGS_DIR);
	av_engine *e = av_engine_load(SIGS_DIR, c, err, sizeof(err));
	mw_spool *s = spool_new(16, NULL);
	av_result r;
	size_t i;

	(void)state;
	assert_non_null(e);
	for (i = 0; i < 1000; i++)
		assert_int_equal(spool_write(s, "padding padding padding ", 24), 0);
	assert_int_equal(spool_write(s, marker, strlen(marker)), 0);
	assert_true(spool_fd(s) >= 0);
	av_scan_fd(e, spool_fd(s), "spilled", &r);
	assert_int_equal(r.status, AV_FOUND);
	spool_free(s);
	av_engine_release(e);
	config_unref(c);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void copy_sigs(const char *dir)
{
	char path[600], line[4096];
	FILE *in = fopen(SIGS_DIR "/mailwarden-test.ndb", "r"), *out;

	assert_non_null(in);
	snprintf(path, sizeof(path), "%s/mailwarden-test.ndb", dir);
	out = fopen(path, "w");
	assert_non_null(out);
	while (fgets(line, sizeof(line), in))
		fputs(line, out);
	fclose(in);
	fclose(out);
}

/* Reload compiles beside the running engine: an engine taken before the
 * reload keeps working; a broken database keeps the old engine. */
static void test_reload_swap(void **state)
{
	char dir[] = "/tmp/mw_av_test.XXXXXX", path[600], err[512];
	const char *newsig = "MAILWARDEN-ZERO-DAY-ONE";
	mw_config *c;
	av_mgr *m;
	av_engine *before, *after, *kept;
	av_result r;
	char hex[128];
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	c = cfg_for(dir);
	m = av_mgr_new(c);
	/* empty directory: no engine, and the failure is reported */
	assert_int_equal(av_mgr_reload(m, 1, err, sizeof(err)), -1);
	assert_null(av_mgr_acquire(m));
	copy_sigs(dir);
	assert_int_equal(av_mgr_reload(m, 0, err, sizeof(err)), 1);
	before = av_mgr_acquire(m);
	assert_non_null(before);
	av_scan_mem(before, newsig, strlen(newsig), "x", &r);
	assert_int_equal(r.status, AV_CLEAN);

	/* a new signature file appears: the periodic check reloads */
	for (i = 0; newsig[i]; i++)
		sprintf(hex + 2 * i, "%02x", (unsigned char)newsig[i]);
	snprintf(path, sizeof(path), "%s/late.ndb", dir);
	{
		char line[300];
		snprintf(line, sizeof(line), "Mailwarden.Test.ZeroDay:0:*:%s\n", hex);
		write_file(path, line);
	}
	assert_int_equal(av_mgr_reload(m, 0, err, sizeof(err)), 1);
	after = av_mgr_acquire(m);
	assert_ptr_not_equal(before, after);
	av_scan_mem(after, newsig, strlen(newsig), "x", &r);
	assert_int_equal(r.status, AV_FOUND);
	/* the old engine still scans for the scan in flight */
	av_scan_mem(before, marker, strlen(marker), "x", &r);
	assert_int_equal(r.status, AV_FOUND);
	av_engine_release(before);

	/* unchanged directory: nothing to do */
	assert_int_equal(av_mgr_reload(m, 0, err, sizeof(err)), 0);

	/* a corrupt file: reload fails, the old engine keeps serving */
	write_file(path, "this is not a signature\n");
	assert_int_equal(av_mgr_reload(m, 1, err, sizeof(err)), -1);
	assert_true(strlen(err) > 0);
	kept = av_mgr_acquire(m);
	assert_ptr_equal(kept, after);
	av_scan_mem(kept, newsig, strlen(newsig), "x", &r);
	assert_int_equal(r.status, AV_FOUND);
	av_engine_release(kept);
	av_engine_release(after);

	unlink(path);
	snprintf(path, sizeof(path), "%s/mailwarden-test.ndb", dir);
	unlink(path);
	rmdir(dir);
	av_mgr_free(m);
	config_unref(c);
}

static void put_file(const char *path, const char *text, size_t pad)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	while (pad-- > 0) /* comment lines make a big, loadable .ndb-like file */
		fputc(pad % 64 == 0 ? '\n' : '#', f);
	fclose(f);
}

static int exists(const char *dir, const char *name)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* the last good copy: only changed files rewritten, a rewrite in place noticed */
static void test_last_good_copy(void **state)
{
	char tmpl[] = "/tmp/mw-avtest-lg.XXXXXX", src[600], dst[600], p[700], err[512];
	char *base = mkdtemp(tmpl);
	FILE *f;

	(void)state;
	assert_non_null(base);
	snprintf(src, sizeof(src), "%s/sigs", base);
	snprintf(dst, sizeof(dst), "%s/last-good", base);
	assert_int_equal(mkdir(src, 0755), 0);
	snprintf(p, sizeof(p), "%s/small.ndb", src);
	put_file(p, "T.Small:0:*:4d41494c57415244454e2d534d414c4c\n", 0);
	snprintf(p, sizeof(p), "%s/big.hdb", src);
	put_file(p, "", 2 * 1024 * 1024);
	snprintf(p, sizeof(p), "%s/notes.txt", src);
	put_file(p, "not a database\n", 0);
	assert_int_equal(av_sigset_copy(src, dst, err, sizeof(err)), 0);
	assert_true(exists(dst, "small.ndb") && exists(dst, "big.hdb") && !exists(dst, "notes.txt"));
	assert_int_equal(av_sigset_check_copy(dst, err, sizeof(err)), 0);
	/* the live small file edited: the copy keeps the old contents */
	snprintf(p, sizeof(p), "%s/small.ndb", src);
	put_file(p, "T.Other:0:*:4d41494c57415244454e2d4f54484552\n", 0);
	assert_int_equal(av_sigset_check_copy(dst, err, sizeof(err)), 0);
	/* the live big file rewritten in place: a hard link shares it, the manifest notices */
	snprintf(p, sizeof(p), "%s/big.hdb", src);
	sleep(1);
	f = fopen(p, "r+");
	assert_non_null(f);
	fputs("changed", f);
	fclose(f);
	assert_int_equal(av_sigset_check_copy(dst, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "big.hdb"));
	/* the next copy after a good load repairs it */
	assert_int_equal(av_sigset_copy(src, dst, err, sizeof(err)), 0);
	assert_int_equal(av_sigset_check_copy(dst, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "rm -rf %s", base);
	assert_int_equal(system(p), 0);
}

/* a new set: staged, installed in one exchange, the old one kept and restored */
static void test_stage_install_rollback(void **state)
{
	char tmpl[] = "/tmp/mw-avtest-st.XXXXXX", live[600], staging[700], p[700], prev[700], err[512];
	char *base = mkdtemp(tmpl);
	mw_config *cfg;
	unsigned long sigs = 0;
	double secs;
	size_t bytes;

	(void)state;
	assert_non_null(base);
	snprintf(live, sizeof(live), "%s/sigs", base);
	snprintf(prev, sizeof(prev), "%s.prev", live);
	assert_int_equal(mkdir(live, 0755), 0);
	snprintf(p, sizeof(p), "%s/a.ndb", live);
	put_file(p, "T.A:0:*:4d41494c57415244454e2d412d41414141\n", 0);
	snprintf(p, sizeof(p), "%s/b.ndb", base);
	put_file(p, "T.B:0:*:4d41494c57415244454e2d422d42424242\n", 0);
	cfg = cfg_for(live);
	assert_int_equal(av_sigset_stage(live, 0, staging, sizeof(staging), err, sizeof(err)), 0);
	assert_int_equal(av_sigset_add(staging, p, NULL, err, sizeof(err)), 0);
	assert_true(exists(staging, "a.ndb") && exists(staging, "b.ndb"));
	/* unsigned files are refused unless allowed */
	assert_int_equal(av_sigset_verify(staging, cfg, 0, &sigs, &secs, &bytes, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--allow-unsigned"));
	assert_int_equal(av_sigset_verify(staging, cfg, 1, &sigs, &secs, &bytes, err, sizeof(err)), 0);
	assert_int_equal(sigs, 2);
	assert_int_equal(av_sigset_install(staging, live, err, sizeof(err)), 0);
	assert_true(exists(live, "a.ndb") && exists(live, "b.ndb"));
	assert_true(exists(prev, "a.ndb") && !exists(prev, "b.ndb"));
	assert_int_equal(access(staging, F_OK), -1);
	assert_int_equal(av_sigset_rollback(live, err, sizeof(err)), 0);
	assert_true(exists(live, "a.ndb") && !exists(live, "b.ndb"));
	/* a file that is no database is refused by name */
	snprintf(p, sizeof(p), "%s/readme.txt", base);
	put_file(p, "x\n", 0);
	assert_int_equal(av_sigset_stage(live, 0, staging, sizeof(staging), err, sizeof(err)), 0);
	assert_int_equal(av_sigset_add(staging, p, NULL, err, sizeof(err)), -1);
	av_sigset_unstage(staging);
	config_unref(cfg);
	snprintf(p, sizeof(p), "rm -rf %s", base);
	assert_int_equal(system(p), 0);
}

/* reload_mode inplace: no engine while loading, then the new one; a broken set falls back */
static void test_reload_inplace(void **state)
{
	char tmpl[] = "/tmp/mw-avtest-ip.XXXXXX", dir[600], p[700], err[512], ov[4][700];
	const char *ovs[4] = {ov[0], ov[1], ov[2], ov[3]};
	char *base = mkdtemp(tmpl);
	mw_config *cfg;
	av_mgr *m;
	av_info info;
	av_result r;
	av_engine *e;

	(void)state;
	assert_non_null(base);
	snprintf(dir, sizeof(dir), "%s/sigs", base);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(p, sizeof(p), "cp %s/*.ndb %s/", SIGS_DIR, dir);
	assert_int_equal(system(p), 0);
	snprintf(ov[0], sizeof(ov[0]), "paths.signatures=%s", dir);
	snprintf(ov[1], sizeof(ov[1]), "paths.state=%s", base);
	snprintf(ov[2], sizeof(ov[2]), "antivirus.reload_mode=inplace");
	snprintf(ov[3], sizeof(ov[3]), "paths.tmp=%s", base);
	assert_int_equal(config_load(NULL, ovs, 4, &cfg, err, sizeof(err)), 0);
	m = av_mgr_new(cfg);
	assert_int_equal(av_mgr_reload(m, 1, err, sizeof(err)), 1);
	snprintf(p, sizeof(p), "%s/sigs.last-good", base);
	assert_int_equal(av_sigset_check_copy(p, err, sizeof(err)), 0);
	assert_int_equal(av_mgr_reload(m, 1, err, sizeof(err)), 1);
	av_mgr_info(m, &info);
	assert_int_equal(info.last_mode, AV_RELOAD_INPLACE);
	assert_int_equal(info.fallback, 0);
	/* a broken file: the in-place load fails, the last good copy serves */
	snprintf(p, sizeof(p), "%s/broken.ndb", dir);
	put_file(p, "Broken:0:*:zz\n", 0);
	assert_int_equal(av_mgr_reload(m, 1, err, sizeof(err)), -1);
	av_mgr_info(m, &info);
	assert_int_equal(info.loaded, 1);
	assert_int_equal(info.fallback, 1);
	e = av_mgr_acquire(m);
	assert_non_null(e);
	av_scan_mem(e, marker, strlen(marker), "t", &r);
	assert_int_equal(r.status, AV_FOUND);
	av_engine_release(e);
	av_mgr_free(m);
	config_unref(cfg);
	snprintf(p, sizeof(p), "rm -rf %s", base);
	assert_int_equal(system(p), 0);
}

static void test_memory_probes(void **state)
{
	(void)state;
	assert_true(av_mem_rss() > 1024 * 1024);
	assert_true(av_mem_available() > 1024 * 1024);
}

/* gz - data in a gzip stream (libclamav opens it: one object inside) */
static size_t gz(const char *data, unsigned char *out, size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)data;
	z.avail_in = (unsigned)strlen(data);
	z.next_out = out;
	z.avail_out = (unsigned)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

typedef struct seen_log {
	char text[4096];
	int objects, inner, props;
} seen_log;

static void log_visit(void *arg, const av_object *o)
{
	seen_log *l = arg;
	size_t n = strlen(l->text);
	unsigned long sum = 0;
	size_t i;

	for (i = 0; o->data && i < o->len; i++)
		sum = sum * 31 + o->data[i];
	snprintf(l->text + n, sizeof(l->text) - n, "[%u %s %s %s %zu %lx %d %016llx]", o->depth, o->type,
	         o->name ? o->name : "-", o->depth && o->ancestors && o->ancestors[0] ? o->ancestors[0] : "-", o->len,
	         sum, o->made, (unsigned long long)o->hash);
	l->objects++;
	if (o->depth > 0)
		l->inner++;
}

static void log_props(void *arg, const char *json)
{
	seen_log *l = arg;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "{%zu}", strlen(json));
	l->props++;
}

static void test_scan_cache(void **state)
{
	char err[512], hot[200];
	unsigned char clean_gz[512], hot_gz[512];
	size_t nclean, nhot;
	mw_config *c = cfg_for(SIGS_DIR);
	av_engine *e = av_engine_load(SIGS_DIR, c, err, sizeof(err));
	seen_log a, b, d;
	av_hooks ha = {log_visit, log_props, &a, NULL}, hb = {log_visit, log_props, &b, NULL},
	         hd = {log_visit, log_props, &d, NULL};
	av_cache_stat st;
	av_result r;

	(void)state;
	if (e == NULL)
		fail_msg("load %s: %s", SIGS_DIR, err);
	nclean = gz("Dear colleague, the minutes of Tuesday are attached.\n", clean_gz, sizeof(clean_gz));
	snprintf(hot, sizeof(hot), "minutes\n%s\n", marker);
	nhot = gz(hot, hot_gz, sizeof(hot_gz));

	/* first time scanned, second time replayed: the same objects, in order */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	av_scan_mem_hooks(e, clean_gz, nclean, "2", &ha, &r);
	assert_int_equal(r.status, AV_CLEAN);
	av_scan_mem_hooks(e, clean_gz, nclean, "2", &hb, &r);
	assert_int_equal(r.status, AV_CLEAN);
	assert_true(a.inner >= 1); /* libclamav reported the stream's content */
	assert_string_equal(a.text, b.text);
	assert_int_equal(a.props, b.props);
	av_engine_cache_stats(e, &st);
	assert_int_equal(st.kept, 1);
	assert_int_equal(st.hits, 1);

	/* another name is another key (libclamav reports the name) */
	memset(&d, 0, sizeof(d));
	av_scan_mem_hooks(e, clean_gz, nclean, "3", &hd, &r);
	av_engine_cache_stats(e, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.kept, 2);

	/* a match is never kept: found every time, by a real scan */
	av_scan_mem_hooks(e, hot_gz, nhot, "2", &hb, &r);
	assert_int_equal(r.status, AV_FOUND);
	av_scan_mem_hooks(e, hot_gz, nhot, "2", &hb, &r);
	assert_int_equal(r.status, AV_FOUND);
	av_engine_cache_stats(e, &st);
	assert_int_equal(st.kept, 2);
	assert_int_equal(st.hits, 1);

	/* without hooks no cache is used (nothing could be replayed) */
	av_scan_mem(e, clean_gz, nclean, "2", &r);
	av_engine_cache_stats(e, &st);
	assert_int_equal(st.hits, 1);

	/* a reloaded engine starts with its own, empty cache: a real scan */
	{
		av_engine *e2 = av_engine_load(SIGS_DIR, c, err, sizeof(err));
		assert_non_null(e2);
		memset(&d, 0, sizeof(d));
		av_scan_mem_hooks(e2, clean_gz, nclean, "2", &hd, &r);
		assert_int_equal(r.status, AV_CLEAN);
		assert_string_equal(d.text, a.text);
		av_engine_cache_stats(e2, &st);
		assert_int_equal(st.hits, 0);
		assert_int_equal(st.kept, 1);
		av_engine_release(e2);
	}
	av_engine_release(e);
	config_unref(c);

	/* antivirus.scan_cache = 0: off */
	{
		const char *ovs[3] = {"antivirus.last_good=none", "antivirus.scan_cache=0", NULL};
		char ov[600];
		snprintf(ov, sizeof(ov), "paths.signatures=%s", SIGS_DIR);
		ovs[2] = ov;
		assert_int_equal(config_load(NULL, ovs, 3, &c, err, sizeof(err)), 0);
		e = av_engine_load(SIGS_DIR, c, err, sizeof(err));
		assert_non_null(e);
		av_scan_mem_hooks(e, clean_gz, nclean, "2", &ha, &r);
		av_scan_mem_hooks(e, clean_gz, nclean, "2", &hb, &r);
		av_engine_cache_stats(e, &st);
		assert_int_equal(st.hits + st.kept + st.misses, 0);
		av_engine_release(e);
		config_unref(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scan_memory),
	    cmocka_unit_test(test_scan_fd),
	    cmocka_unit_test(test_reload_swap),
	    cmocka_unit_test(test_last_good_copy),
	    cmocka_unit_test(test_stage_install_rollback),
	    cmocka_unit_test(test_reload_inplace),
	    cmocka_unit_test(test_memory_probes),
	    cmocka_unit_test(test_scan_cache),
	};
	return cmocka_run_group_tests_name("av", tests, setup, NULL);
}
