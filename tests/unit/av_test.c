/*
 * av_test.c - the in-process ClamAV engine with the project's own
 * signature files: detection from memory and from a descriptor, reload
 * beside a running engine, failed reload keeps the old engine, no
 * database means no engine.
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

#include "av/av.h"
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
	const char *ovs[1] = {ov};
	mw_config *c = NULL;

	snprintf(ov, sizeof(ov), "paths.signatures=%s", dir);
	assert_int_equal(config_load(NULL, ovs, 1, &c, err, sizeof(err)), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scan_memory),
	    cmocka_unit_test(test_scan_fd),
	    cmocka_unit_test(test_reload_swap),
	};
	return cmocka_run_group_tests_name("av", tests, setup, NULL);
}
