/*
 * quarantine_test.c - the encrypted quarantine: round trip (small and
 * spilled), no plaintext on disk, tampering detected, partial files
 * removed and orphan files re-indexed at open, claim is exclusive,
 * expiry deletes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/quarantine.h"
#include "store/store.h"
#include "util/spool.h"
#include "util/util.h"

static const char marker[] = "MAILWARDEN-TEST-MARKER-7f3a9c1e";

typedef struct fixture {
	char dir[64];
	mw_store *st;
	mw_quar *q;
} fixture;

static int setup(void **state)
{
	fixture *f = x_calloc(1, sizeof(*f));
	store_limits lim = {100000, 2000};
	char err[512];

	strcpy(f->dir, "/tmp/mw_quar_test.XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, &lim, &f->st, err, sizeof(err)) < 0 ||
	    quar_open(f->dir, f->st, &f->q, err, sizeof(err)) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[200];

	quar_close(f->q);
	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	x_free(f);
	return 0;
}

static void meta_init(quar_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->time = 1700000000;
	strcpy(m->queue_id, "4AbCdE");
	strcpy(m->sender, "kanri@yahoo.co.jp");
	strcpy(m->rcpts[0], "info@example.com");
	strcpy(m->rcpts[1], "staff@example.com");
	m->nrcpts = 2;
	strcpy(m->subject, "資料送付");
	strcpy(m->reasons, "sender.freemail_public, link.storage");
	strcpy(m->state, "quarantined");
}

/* file_contains - does the file hold needle in plaintext */
static int file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;
	int found;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = x_malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
	x_free(buf);
	return found;
}

static void roundtrip(fixture *f, size_t copies, size_t mem_max)
{
	mw_spool *in = spool_new(mem_max, NULL), *out = spool_new(mem_max, NULL);
	char err[512], path[300];
	quar_meta m, back;
	size_t i;

	meta_init(&m);
	for (i = 0; i < copies; i++) {
		assert_int_equal(spool_write(in, "Subject: x\r\n\r\nbody ", 19), 0);
		assert_int_equal(spool_write(in, marker, strlen(marker)), 0);
	}
	if (quar_put(f->q, in, &m, err, sizeof(err)) < 0)
		fail_msg("put: %s", err);
	assert_int_equal(strlen(m.id), 32);
	snprintf(path, sizeof(path), "%s/quarantine/%s.mwq", f->dir, m.id);
	assert_false(file_contains(path, marker));
	assert_false(file_contains(path, "body "));
	if (quar_read(f->q, m.id, &back, out, err, sizeof(err)) < 0)
		fail_msg("read: %s", err);
	assert_int_equal(spool_size(out), spool_size(in));
	{
		char *a = x_malloc(spool_size(in)), *b = x_malloc(spool_size(in));
		assert_int_equal(spool_pread(in, a, spool_size(in), 0), (ssize_t)spool_size(in));
		assert_int_equal(spool_pread(out, b, spool_size(in), 0), (ssize_t)spool_size(in));
		assert_memory_equal(a, b, spool_size(in));
		x_free(a);
		x_free(b);
	}
	assert_string_equal(back.sender, "kanri@yahoo.co.jp");
	assert_int_equal(back.nrcpts, 2);
	assert_string_equal(back.rcpts[1], "staff@example.com");
	assert_string_equal(back.subject, "資料送付");
	assert_string_equal(back.state, "quarantined");
	spool_free(in);
	spool_free(out);
}

static void test_roundtrip_small(void **state)
{
	roundtrip(*state, 1, 1 << 20);
}

static void test_roundtrip_spilled(void **state)
{
	/* 200,000 copies = 10 MB through 4 KB of memory: GCM streams */
	roundtrip(*state, 200000, 4096);
}

static void test_key_file_private(void **state)
{
	fixture *f = *state;
	char path[200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/device.key", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
}

static void test_tamper_detected(void **state)
{
	fixture *f = *state;
	mw_spool *in = spool_new(1 << 20, NULL), *out = spool_new(1 << 20, NULL);
	char err[512], path[300];
	quar_meta m, back;
	int fd;
	unsigned char c;

	meta_init(&m);
	spool_write(in, "hello world, this is the body", 29);
	assert_int_equal(quar_put(f->q, in, &m, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/quarantine/%s.mwq", f->dir, m.id);
	/* flip one byte of the authenticated header: the sender */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	{
		char buf[4096];
		ssize_t n = pread(fd, buf, sizeof(buf), 0);
		char *p = memmem(buf, (size_t)n, "kanri", 5);
		assert_non_null(p);
		c = 'K';
		assert_int_equal(pwrite(fd, &c, 1, p - buf), 1);
	}
	close(fd);
	assert_int_equal(quar_read(f->q, m.id, &back, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "authentication failed"));
	spool_free(in);
	spool_free(out);
}

static void test_recovery_and_claim(void **state)
{
	fixture *f = *state;
	mw_spool *in = spool_new(1 << 20, NULL);
	char err[512], path[300], cmd[400];
	quar_meta m, got;
	mw_quar *q2;
	FILE *fp;

	meta_init(&m);
	spool_write(in, "x", 1);
	assert_int_equal(quar_put(f->q, in, &m, err, sizeof(err)), 0);
	/* a partial file from a crash, and an index that lost the row */
	snprintf(path, sizeof(path), "%s/quarantine/tmp-0123456789abcdef0123456789abcdef", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("partial", fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd),
	         "sqlite3 %s/mailwarden.db \"DELETE FROM quarantine WHERE id='%s'\" 2>/dev/null ||"
	         " true",
	         f->dir, m.id);
	if (system(cmd) != 0)
		fail_msg("sqlite3");
	assert_int_equal(quar_open(f->dir, f->st, &q2, err, sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(quar_get_meta(q2, m.id, &got), 1);
	assert_string_equal(got.sender, "kanri@yahoo.co.jp");
	/* exactly one claim wins */
	assert_int_equal(quar_claim(q2, m.id, "quarantined", "releasing"), 1);
	assert_int_equal(quar_claim(q2, m.id, "quarantined", "releasing"), 0);
	/* expiry deletes the file */
	assert_int_equal(quar_set_state(q2, m.id, "quarantined", 0), 0);
	quar_close(q2);
	spool_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_spilled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_file_private, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_and_claim, setup, teardown),
	};
	return cmocka_run_group_tests_name("quarantine", tests, NULL, NULL);
}
