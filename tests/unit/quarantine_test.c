/*
 * quarantine_test.c - the encrypted quarantine: round trip (small and
 * spilled), no plaintext on disk, tampering detected, partial files
 * removed and orphan files re-indexed at open, claim is exclusive,
 * expiry deletes; kept copies store their base64 runs once per distinct
 * content (quar_find_runs), read back byte for byte, and a shared blob
 * expires with the last copy that needs it.  The file is standard
 * AES-256-GCM: a second implementation (mbedTLS, which wrote the files
 * before the cipher moved to OpenSSL) decrypts what quar_put wrote, and
 * a file it encrypts reads back through quar_read.
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
#include <mbedtls/gcm.h>
#include <sqlite3.h>

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

/* ---- kept copies: base64 runs stored once ---- */

/* b64_lines - n lines of 76 base64 characters (seeded), each ending in eol */
static void b64_lines(mw_buf *b, size_t n, unsigned seed, const char *eol)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < 76; k++) {
			seed = seed * 1103515245u + 12345u;
			buf_append(b, &al[(seed >> 16) % 64], 1);
		}
		buf_printf(b, "%s", eol);
	}
}

static void test_find_runs(void **state)
{
	mw_buf b;
	quar_run r[4];
	size_t start;

	(void)state;
	buf_init(&b, 0);
	/* text, a run of 10 CRLF lines, a short last line (not part of it), text */
	buf_printf(&b, "Subject: x\r\n\r\nhello\r\n");
	start = b.len;
	b64_lines(&b, 10, 1, "\r\n");
	buf_printf(&b, "QUJD\r\n--BB--\r\n");
	assert_int_equal(quar_find_runs(b.p, b.len, 100, r, 4), 1);
	assert_int_equal(r[0].off, start);
	assert_int_equal(r[0].len, 10 * 78);
	/* too short for min: nothing */
	assert_int_equal(quar_find_runs(b.p, b.len, 10 * 78 + 1, r, 4), 0);
	/* a stray character or a lone CR ends the run; LF lines count too */
	b.len = 0;
	b64_lines(&b, 3, 2, "\n");
	buf_printf(&b, "%s", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-0123\n");
	b64_lines(&b, 4, 3, "\n");
	buf_printf(&b, "%s", "ABCDEFGHIJKLMNOPQRSTUVWXYZ\rabcdefghijklmnopqrstuvwxyz0123\n");
	b64_lines(&b, 2, 4, "\n");
	assert_int_equal(quar_find_runs(b.p, b.len, 1, r, 4), 3);
	assert_int_equal(r[0].off, 0);
	assert_int_equal(r[0].len, 3 * 77);
	assert_int_equal(r[1].len, 4 * 77);
	assert_int_equal(r[2].len, 2 * 77);
	assert_int_equal(r[2].off + r[2].len, b.len);
	/* at most max are stored; a last line without LF never joins */
	assert_int_equal(quar_find_runs(b.p, b.len, 1, r, 2), 2);
	assert_int_equal(quar_find_runs(b.p, b.len - 1, 1, r, 4), 3);
	assert_int_equal(r[2].len, 1 * 77);
	buf_free(&b);
}

/* kept_msg - a message around one base64 attachment (the same run for every seed 7) */
static mw_spool *kept_msg(const char *subject, unsigned seed, size_t mem_max)
{
	mw_spool *s = spool_new(mem_max, NULL);
	mw_buf b;

	buf_init(&b, 0);
	buf_printf(&b,
	           "Subject: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n--BB\r\n"
	           "Content-Type: text/plain\r\n\r\nthe report, %s\r\n--BB\r\nContent-Type: application/pdf\r\n"
	           "Content-Transfer-Encoding: base64\r\n\r\n",
	           subject, subject);
	b64_lines(&b, 400, seed, "\r\n"); /* 31 KB */
	buf_printf(&b, "QUJD\r\n--BB--\r\n");
	assert_int_equal(spool_write(s, b.p, b.len), 0);
	buf_free(&b);
	return s;
}

static size_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

/* same_bytes - out holds exactly what in holds */
static void same_bytes(const mw_spool *in, const mw_spool *out)
{
	char *a = x_malloc(spool_size(in) + 1), *b = x_malloc(spool_size(in) + 1);

	assert_int_equal(spool_size(out), spool_size(in));
	assert_int_equal(spool_pread(in, a, spool_size(in), 0), (ssize_t)spool_size(in));
	assert_int_equal(spool_pread(out, b, spool_size(in), 0), (ssize_t)spool_size(in));
	assert_memory_equal(a, b, spool_size(in));
	x_free(a);
	x_free(b);
}

/* blob_files - .mwb files in quarantine/blobs; the name of the last in name */
static int blob_files(fixture *f, char *name, size_t len)
{
	char cmd[300];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls %s/quarantine/blobs | grep '\\.mwb$'", f->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(name, (int)len, p))
		n++;
	pclose(p);
	name[strcspn(name, "\n")] = 0;
	return n;
}

/* row_body_len - length of id's copy held in its index row (-1: none there), read by a second connection */
static long long row_body_len(fixture *f, const char *id)
{
	char path[400];
	sqlite3 *db;
	sqlite3_stmt *q;
	long long v = -2;

	snprintf(path, sizeof(path), "%s/mailwarden.db", f->dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT coalesce(length(body), -1) FROM quarantine WHERE id = ?1", -1, &q, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static void test_kept_shared(void **state)
{
	fixture *f = *state;
	mw_spool *a = kept_msg("first", 7, 4096), *b = kept_msg("second, longer subject", 7, 1 << 20);
	mw_spool *c = kept_msg("other", 8, 1 << 20), *out;
	char err[512], path[300], blob[300], name[200];
	quar_meta ma, mb, mc, mq, back;
	mw_quar *q2;
	int fd;

	meta_init(&ma);
	strcpy(ma.state, "kept");
	ma.expires = 1700000000 + 7 * 86400;
	mb = ma;
	strcpy(mb.rcpts[0], "boss@example.com");
	mb.expires = 1700000000 + 8 * 86400; /* the blob lives as long as its longest copy */
	mc = ma;
	assert_int_equal(quar_put(f->q, a, &ma, err, sizeof(err)), 0);
	assert_int_equal(quar_put(f->q, b, &mb, err, sizeof(err)), 0);
	/* one blob for the two copies; what is left of each copy is small, and held in its row (no file) */
	assert_int_equal(quar_blob_count(f->q), 1);
	assert_int_equal(blob_files(f, name, sizeof(name)), 1);
	snprintf(path, sizeof(path), "%s/quarantine/%s.mwq", f->dir, ma.id);
	assert_int_equal(access(path, F_OK), -1);
	assert_true(row_body_len(f, ma.id) > 100 && row_body_len(f, ma.id) < 1000);
	snprintf(blob, sizeof(blob), "%s/quarantine/blobs/%s", f->dir, name);
	assert_true(file_size(blob) > 400 * 78);
	assert_false(file_contains(blob, "AAAA")); /* encrypted: no base64 line survives */
	/* both read back byte for byte, from the spilled and the in-memory spool */
	out = spool_new(1 << 20, NULL);
	assert_int_equal(quar_read(f->q, ma.id, &back, out, err, sizeof(err)), 0);
	same_bytes(a, out);
	spool_free(out);
	out = spool_new(4096, NULL);
	assert_int_equal(quar_read(f->q, mb.id, &back, out, err, sizeof(err)), 0);
	same_bytes(b, out);
	assert_string_equal(back.rcpts[0], "boss@example.com");
	spool_free(out);
	/* another attachment: a blob of its own */
	assert_int_equal(quar_put(f->q, c, &mc, err, sizeof(err)), 0);
	assert_int_equal(quar_blob_count(f->q), 2);
	/* a held or quarantined message stays whole (fsync'ed, one file, nothing in its row) */
	meta_init(&mq);
	assert_int_equal(quar_put(f->q, a, &mq, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/quarantine/%s.mwq", f->dir, mq.id);
	assert_true(file_size(path) > 400 * 78);
	assert_int_equal(row_body_len(f, mq.id), -1);
	assert_int_equal(quar_blob_count(f->q), 2);
	/* the index lost the quarantined message's row (a crash between its file and its row): reopening
	 * indexes it again (a kept copy's row holds the copy itself: they commit together) */
	snprintf(path, sizeof(path), "sqlite3 %s/mailwarden.db \"DELETE FROM quarantine WHERE id='%s'\"", f->dir,
	         mq.id);
	if (system(path) != 0)
		fail_msg("sqlite3");
	assert_int_equal(quar_open(f->dir, f->st, &q2, err, sizeof(err)), 0);
	assert_int_equal(quar_get_meta(q2, mq.id, &back), 1);
	assert_int_equal(quar_blob_count(q2), 2);
	quar_close(q2);
	/* expiry: the shared blob goes with the last copy that needs it */
	assert_int_equal(quar_expire(f->q, 1700000000 + 7 * 86400 + 1), 2); /* ma, mc (the quarantined one: never) */
	assert_int_equal(quar_blob_count(f->q), 1);
	out = spool_new(1 << 20, NULL);
	assert_int_equal(quar_read(f->q, mb.id, &back, out, err, sizeof(err)), 0);
	same_bytes(b, out);
	spool_free(out);
	/* a changed blob is refused */
	fd = open(blob, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 100), 1);
	close(fd);
	out = spool_new(1 << 20, NULL);
	assert_int_equal(quar_read(f->q, mb.id, &back, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "authentication failed"));
	spool_free(out);
	assert_int_equal(quar_expire(f->q, 1700000000 + 8 * 86400 + 1), 1);
	assert_int_equal(quar_blob_count(f->q), 0);
	assert_int_equal(access(blob, F_OK), -1);
	spool_free(a);
	spool_free(b);
	spool_free(c);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	p = x_malloc((size_t)n);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

/* the file layout: "MWQ1", header length (4, big-endian), header (all of
 * it the additional data), nonce (12), ciphertext, tag (16) */
static void test_file_is_standard_gcm(void **state)
{
	fixture *f = *state;
	mw_spool *in = spool_new(1 << 20, NULL), *out = spool_new(1 << 20, NULL);
	static const char body[] = "Subject: gcm\r\n\r\nthe same bytes through two implementations\r\n";
	unsigned char *file, *key, plain[sizeof(body)], tag[16];
	char err[512], path[300], kpath[300], back[sizeof(body)];
	size_t flen, klen, hlen, aadlen, clen;
	mbedtls_gcm_context g;
	quar_meta m, meta;
	FILE *w;

	meta_init(&m);
	assert_int_equal(spool_write(in, body, strlen(body)), 0);
	if (quar_put(f->q, in, &m, err, sizeof(err)) < 0)
		fail_msg("put: %s", err);
	snprintf(path, sizeof(path), "%s/quarantine/%s.mwq", f->dir, m.id);
	snprintf(kpath, sizeof(kpath), "%s/device.key", f->dir);
	file = slurp(path, &flen);
	key = slurp(kpath, &klen);
	assert_int_equal(klen, 32);
	assert_memory_equal(file, "MWQ1", 4);
	hlen = (size_t)file[4] << 24 | (size_t)file[5] << 16 | (size_t)file[6] << 8 | file[7];
	aadlen = 8 + hlen;
	assert_true(aadlen + 12 + 16 <= flen);
	clen = flen - aadlen - 12 - 16;
	assert_int_equal(clen, strlen(body));

	/* written by OpenSSL, read by mbedTLS */
	mbedtls_gcm_init(&g);
	assert_int_equal(mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256), 0);
	assert_int_equal(mbedtls_gcm_auth_decrypt(&g, clen, file + aadlen, 12, file, aadlen, file + flen - 16, 16,
	                                          file + aadlen + 12, plain),
	                 0);
	assert_memory_equal(plain, body, clen);

	/* written by mbedTLS (new nonce), read by quar_read */
	file[aadlen] ^= 0x5a;
	assert_int_equal(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, clen, file + aadlen, 12, file, aadlen,
	                                           (const unsigned char *)body, file + aadlen + 12, 16, tag),
	                 0);
	memcpy(file + flen - 16, tag, 16);
	mbedtls_gcm_free(&g);
	assert_non_null(w = fopen(path, "wb"));
	assert_int_equal(fwrite(file, 1, flen, w), flen);
	assert_int_equal(fclose(w), 0);
	if (quar_read(f->q, m.id, &meta, out, err, sizeof(err)) < 0)
		fail_msg("read: %s", err);
	assert_int_equal(spool_size(out), clen);
	assert_int_equal(spool_pread(out, back, clen, 0), (ssize_t)clen);
	assert_memory_equal(back, body, clen);

	/* and a flipped tag bit is refused */
	file[flen - 1] ^= 1;
	assert_non_null(w = fopen(path, "wb"));
	assert_int_equal(fwrite(file, 1, flen, w), flen);
	assert_int_equal(fclose(w), 0);
	spool_free(out);
	out = spool_new(1 << 20, NULL);
	assert_int_equal(quar_read(f->q, m.id, &meta, out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "authentication failed"));
	x_free(file);
	x_free(key);
	spool_free(in);
	spool_free(out);
}

/* test_recent_runs - the same attachment again is named by comparing its
 * bytes with the runs named lately: one blob; a run of the same length
 * that differs in one byte is another blob; both read back whole */
static void test_recent_runs(void **state)
{
	fixture *f = *state;
	mw_spool *x = kept_msg("x", 7, 1 << 20), *y = kept_msg("x", 7, 1 << 20), *out;
	char err[512], *bytes = x_calloc(1, spool_size(y) + 1);
	quar_meta m1, m2, m3, back;
	const char *run;

	meta_init(&m1);
	strcpy(m1.state, "kept");
	m1.expires = 1700000000 + 86400;
	m2 = m1;
	m3 = m1;
	assert_int_equal(quar_put(f->q, x, &m1, err, sizeof(err)), 0);
	assert_int_equal(quar_put(f->q, x, &m2, err, sizeof(err)), 0);
	assert_int_equal(quar_blob_count(f->q), 1);
	/* y: x with one base64 character of its run changed */
	assert_int_equal(spool_pread(y, bytes, spool_size(y), 0), (ssize_t)spool_size(y));
	run = strstr(bytes, "base64\r\n\r\n");
	assert_non_null(run);
	spool_free(y);
	y = spool_new(1 << 20, NULL);
	bytes[run - bytes + 12 + 500] = bytes[run - bytes + 12 + 500] == 'A' ? 'B' : 'A';
	assert_int_equal(spool_write(y, bytes, spool_size(x)), 0);
	assert_int_equal(quar_put(f->q, y, &m3, err, sizeof(err)), 0);
	assert_int_equal(quar_blob_count(f->q), 2);
	out = spool_new(1 << 20, NULL);
	assert_int_equal(quar_read(f->q, m2.id, &back, out, err, sizeof(err)), 0);
	same_bytes(x, out);
	spool_free(out);
	out = spool_new(1 << 20, NULL);
	assert_int_equal(quar_read(f->q, m3.id, &back, out, err, sizeof(err)), 0);
	same_bytes(y, out);
	spool_free(out);
	spool_free(x);
	spool_free(y);
	x_free(bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_spilled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_file_private, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_and_claim, setup, teardown),
	    cmocka_unit_test(test_find_runs),
	    cmocka_unit_test_setup_teardown(test_kept_shared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recent_runs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_is_standard_gcm, setup, teardown),
	};
	return cmocka_run_group_tests_name("quarantine", tests, NULL, NULL);
}
