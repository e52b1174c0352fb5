/*
 * NAME
 *	quarantine.c - AES-256-GCM quarantine files and their SQLite index
 * SYNOPSIS
 *	See quarantine.h.
 * DESCRIPTION
 *	Encryption (AES-256-GCM, OpenSSL's EVP) streams in QCHUNK pieces,
 *	so a 50 MB message costs QCHUNK bytes of buffer.
 *
 *	A retro-scan copy ("kept") whose file, its attachments stored apart
 *	as blobs, is at most QROW_MAX bytes is held in its index row (column
 *	body, the same bytes a file would hold) instead of a file of its
 *	own: one row, committed with its blob references, instead of a file
 *	created, written and renamed per delivered message.  Held and
 *	quarantined mail stays in fsync'ed files.  The header is plain
 *	"key=value" lines (values cannot hold line ends), parsed strictly on
 *	recovery.
 * LIMITS
 *	Header at most QHDR_MAX bytes; QUAR_MAX_RCPTS recipients.
 * DIAGNOSTICS
 *	Every failure path removes the partial file and returns -1 with the
 *	reason; a file whose tag does not verify is reported, never returned.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/quarantine.h"
#include "store/store_int.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/md.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define QMAGIC      "MWQ1"
#define QHDR_MAX    (512 * 1024) /* QUAR_MAX_RCPTS recipients of up to 320 bytes fit */
#define QCHUNK      (64 * 1024)
#define QNONCE      12
#define QTAG        16
#define QROW_MAX    (64 * 1024)       /* a kept copy's file up to this size goes in its row */
#define QRECENT     4                 /* runs whose names are remembered with their bytes */
#define QRECENT_MAX (2 * 1024 * 1024) /* the longest run remembered */
#define BMAGIC      "MWB1"
#define BNAME       64 /* hex HMAC-SHA256 */

struct mw_quar {
	mw_store *store;
	char dir[4096];
	char bdir[4200]; /* dir/blobs: shared pieces of kept copies */
	unsigned char key[32];
	unsigned char name_key[32]; /* HMAC key for blob names, derived from key */
	pthread_mutex_t bmu;        /* blob reuse against blob expiry */
	/* the last runs named (their bytes and name): the same attachment to
	 * many recipients is recognised by comparing bytes, not hashed again */
	pthread_mutex_t rmu;
	struct recent_run {
		unsigned char *bytes; /* NULL: empty */
		size_t len;
		char name[BNAME + 1];
		unsigned long used;
	} recent[QRECENT];
	unsigned long tick;
};

/* a piece of a kept copy stored once in dir/blobs (quarantine.h) */
typedef struct quar_ref {
	off_t off;
	size_t len;
	char name[BNAME + 1];
} quar_ref;

/* random_bytes - from the kernel; -1 on failure */
static int random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* load_key - read the device key, creating it (0600) on first use */
static int load_key(const char *statedir, unsigned char key[32], char *err, size_t errlen)
{
	char path[4200], tmp[4300];
	int fd;

	snprintf(path, sizeof(path), "%s/device.key", statedir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;
		int rc = fstat(fd, &st) == 0 && st.st_size == 32 ? read_all(fd, key, 32) : -1;
		close(fd);
		if (rc < 0) {
			snprintf(err, errlen, "%s: not a 32-byte key", path);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (random_bytes(key, 32) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || mw_write_all(fd, key, 32) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	/* link() fails if another process created the key meanwhile: use theirs */
	if (link(tmp, path) < 0) {
		unlink(tmp);
		if (errno == EEXIST)
			return load_key(statedir, key, err, errlen);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	unlink(tmp);
	fsync_dir(statedir);
	store_own_like_dir(statedir, path);
	log_info("created device key %s", path);
	return 0;
}

/* ---- header ---- */

/* hdr_put - one key=value line; control characters (the line structure)
 * are replaced, but quotes and backslashes are kept: envelope addresses
 * such as "a b"@example.com must come back unchanged for the release */
static void hdr_put(mw_buf *b, const char *key, const char *val)
{
	char clean[700];

	mw_text(clean, sizeof(clean), val, sizeof(clean) - 4);
	buf_printf(b, "%s=%s\n", key, clean);
}

static void make_header(const quar_meta *m, const quar_ref *refs, size_t nrefs, mw_buf *b)
{
	char num[64], part[160];
	size_t i;

	hdr_put(b, "id", m->id);
	snprintf(num, sizeof(num), "%lld", (long long)m->time);
	hdr_put(b, "time", num);
	hdr_put(b, "queue_id", m->queue_id);
	hdr_put(b, "sender", m->sender);
	for (i = 0; i < m->nrcpts; i++)
		hdr_put(b, "rcpt", m->rcpts[i]);
	snprintf(num, sizeof(num), "%zu", m->size);
	hdr_put(b, "size", num);
	hdr_put(b, "reasons", m->reasons);
	hdr_put(b, "state", m->state);
	snprintf(num, sizeof(num), "%lld", (long long)m->release_at);
	hdr_put(b, "release_at", num);
	snprintf(num, sizeof(num), "%lld", (long long)m->expires);
	hdr_put(b, "expires", num);
	for (i = 0; i < nrefs; i++) {
		snprintf(part, sizeof(part), "%lld %zu %s", (long long)refs[i].off, refs[i].len, refs[i].name);
		hdr_put(b, "part", part);
	}
}

/* parse_ref - "OFFSET LENGTH NAME" of a part line, after the previous part, inside size; 0 or -1 */
static int parse_ref(const char *v, const quar_ref *prev, quar_ref *r)
{
	char *end;
	long long off = strtoll(v, &end, 10);
	unsigned long long len;
	size_t i;

	if (end == v || *end != ' ' || off < 0)
		return -1;
	v = end + 1;
	len = strtoull(v, &end, 10);
	if (end == v || *end != ' ' || len == 0 || len > (unsigned long long)1 << 40)
		return -1;
	v = end + 1;
	if (strlen(v) != BNAME)
		return -1;
	for (i = 0; i < BNAME; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return -1;
	if (prev && off < prev->off + (long long)prev->len)
		return -1; /* in order, never overlapping */
	r->off = (off_t)off;
	r->len = (size_t)len;
	memcpy(r->name, v, BNAME + 1);
	return 0;
}

/* parse_header - strict: known keys only, every line key=value; part lines go to refs (NULL: checked only) */
static int parse_header(char *h, quar_meta *m, quar_ref *refs, size_t *nrefs)
{
	char *save = NULL, *line;
	quar_ref scratch[2];
	size_t n = 0;

	memset(m, 0, sizeof(*m));
	for (line = strtok_r(h, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (eq == NULL)
			return -1;
		*eq++ = 0;
		if (strcmp(line, "id") == 0)
			mw_strlcpy(m->id, eq, sizeof(m->id));
		else if (strcmp(line, "time") == 0)
			m->time = (time_t)strtoll(eq, NULL, 10);
		else if (strcmp(line, "queue_id") == 0)
			mw_strlcpy(m->queue_id, eq, sizeof(m->queue_id));
		else if (strcmp(line, "sender") == 0)
			mw_strlcpy(m->sender, eq, sizeof(m->sender));
		else if (strcmp(line, "rcpt") == 0) {
			if (m->nrcpts >= QUAR_MAX_RCPTS)
				return -1; /* never written so: refuse, do not drop recipients */
			mw_strlcpy(m->rcpts[m->nrcpts++], eq, sizeof(m->rcpts[0]));
		} else if (strcmp(line, "size") == 0)
			m->size = (size_t)strtoull(eq, NULL, 10);
		else if (strcmp(line, "reasons") == 0)
			mw_strlcpy(m->reasons, eq, sizeof(m->reasons));
		else if (strcmp(line, "state") == 0)
			mw_strlcpy(m->state, eq, sizeof(m->state));
		else if (strcmp(line, "release_at") == 0)
			m->release_at = (time_t)strtoll(eq, NULL, 10);
		else if (strcmp(line, "expires") == 0)
			m->expires = (time_t)strtoll(eq, NULL, 10);
		else if (strcmp(line, "part") == 0) {
			quar_ref *r = refs ? &refs[n] : &scratch[n & 1];
			const quar_ref *prev = n == 0 ? NULL : refs ? &refs[n - 1] : &scratch[(n - 1) & 1];
			if (n >= QUAR_MAX_REFS || parse_ref(eq, prev, r) < 0)
				return -1;
			n++;
		} else
			return -1;
	}
	if (n > 0) {
		const quar_ref *last = refs ? &refs[n - 1] : &scratch[(n - 1) & 1];
		if ((size_t)last->off + last->len > m->size)
			return -1; /* every part inside the message */
	}
	if (nrefs)
		*nrefs = n;
	return m->id[0] ? 0 : -1;
}

/* ---- AES-256-GCM over OpenSSL's EVP ----
 * The bulk cipher is libcrypto's (already in the process: libclamav links
 * it), not mbedTLS's: measured on the CI machine, mbedTLS 2.28's GCM runs
 * at 229 MB/s and OpenSSL's at 3.66 GB/s (AES-NI and carry-less multiply;
 * NEON or the ARMv8 crypto extensions on arm64).  The file format is the
 * standard GCM construction, so files written before the change read back.
 */

typedef struct qgcm {
	EVP_CIPHER_CTX *c;
} qgcm;

static int gcm_begin(qgcm *g, const unsigned char key[32], int encrypt, const unsigned char *nonce,
                     const unsigned char *aad, size_t aadlen)
{
	int outl;

	g->c = EVP_CIPHER_CTX_new();
	if (g->c == NULL || EVP_CipherInit_ex(g->c, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) != 1 ||
	    EVP_CIPHER_CTX_ctrl(g->c, EVP_CTRL_GCM_SET_IVLEN, QNONCE, NULL) != 1 ||
	    EVP_CipherInit_ex(g->c, NULL, NULL, key, nonce, encrypt) != 1)
		return -1;
	if (aadlen > INT_MAX || (aadlen > 0 && EVP_CipherUpdate(g->c, NULL, &outl, aad, (int)aadlen) != 1))
		return -1;
	return 0;
}

/* gcm_step - len bytes (at most QCHUNK) through the cipher: GCM is a stream */
static int gcm_step(qgcm *g, const unsigned char *in, size_t len, unsigned char *out)
{
	int outl = 0;

	if (len > QCHUNK || EVP_CipherUpdate(g->c, out, &outl, in, (int)len) != 1)
		return -1;
	return (size_t)outl == len ? 0 : -1;
}

/* gcm_end - finish an encryption: its tag */
static int gcm_end(qgcm *g, unsigned char tag[QTAG])
{
	unsigned char rest[16];
	int outl = 0;

	if (EVP_CipherFinal_ex(g->c, rest, &outl) != 1 || outl != 0)
		return -1;
	return EVP_CIPHER_CTX_ctrl(g->c, EVP_CTRL_GCM_GET_TAG, QTAG, tag) == 1 ? 0 : -1;
}

/* gcm_check - finish a decryption: 1 when the stored tag verifies (compared
 * in constant time by libcrypto), 0 when it does not */
static int gcm_check(qgcm *g, const unsigned char tag[QTAG])
{
	unsigned char rest[16], want[QTAG];
	int outl = 0;

	memcpy(want, tag, QTAG);
	if (EVP_CIPHER_CTX_ctrl(g->c, EVP_CTRL_GCM_SET_TAG, QTAG, want) != 1)
		return 0;
	return EVP_CipherFinal_ex(g->c, rest, &outl) == 1 && outl == 0;
}

static void gcm_free(qgcm *g)
{
	EVP_CIPHER_CTX_free(g->c);
	g->c = NULL;
}

/* ---- index ---- */

/*
 * share - copy the index row of id to the shared store, if any: every
 * gateway lists it (quar_list_all); kept for reconciliation while Redis is
 * down.  The file itself never leaves this gateway.
 */
static void share(mw_quar *q, const char *id)
{
	mw_store *s = q->store;
	const char *f[1] = {id};

	if (s->rd == NULL)
		return;
	if (rd_up(s) && rd_quar_push_local(s, id) == 0)
		return;
	outbox_add(s, time(NULL), "quar", f, 1);
}

/*
 * blob_refs - every blob of a kept copy lives at least as long as the copy
 * (expires: the latest of the copies using it, 0 never); caller holds mu
 */
static int blob_refs(mw_store *s, const quar_meta *m, const quar_ref *refs, size_t nrefs)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db,
	                       "INSERT INTO quarantine_blobs(name, size, expires) VALUES(?1, ?2, ?3)"
	                       " ON CONFLICT(name) DO UPDATE SET expires = CASE WHEN expires = 0 OR"
	                       " excluded.expires = 0 THEN 0 ELSE max(expires, excluded.expires) END",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "quarantine blobs");
	for (i = 0; i < nrefs && rc == 0; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, refs[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)refs[i].len);
		sqlite3_bind_int64(st, 3, m->expires);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = store_fail(s, "quarantine blobs");
	}
	sqlite3_finalize(st);
	return rc;
}

/* index_insert - the index row of m and, in the same transaction, its blobs */
static int index_insert(mw_quar *q, const quar_meta *m, const quar_ref *refs, size_t nrefs, const void *body,
                        size_t blen)
{
	mw_store *s = q->store;
	mw_buf rcpts;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = -1, txn = 0;

	buf_init(&rcpts, 0);
	for (i = 0; i < m->nrcpts; i++)
		buf_printf(&rcpts, "%s%s", i ? "\n" : "", m->rcpts[i]);
	pthread_mutex_lock(&s->mu);
	if (nrefs > 0) {
		if (store_begin(s) < 0)
			goto out;
		txn = 1;
	}
	if (sqlite3_prepare_v2(
	        s->db,
	        "INSERT OR REPLACE INTO quarantine(id, time, queue_id, sender, rcpts, subject, size, reasons,"
	        " state, release_at, expires, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	        -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "quarantine index");
		goto out;
	}
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, m->time);
	sqlite3_bind_text(st, 3, m->queue_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rcpts.p, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)m->size);
	sqlite3_bind_text(st, 8, m->reasons, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, m->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, m->release_at);
	sqlite3_bind_int64(st, 11, m->expires);
	if (body)
		sqlite3_bind_blob(st, 12, body, (int)blen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 12);
	if (sqlite3_step(st) != SQLITE_DONE)
		store_fail(s, "quarantine index insert");
	else if (blob_refs(s, m, refs, nrefs) == 0)
		rc = 0;
out:
	sqlite3_finalize(st);
	if (txn && (rc < 0 || store_commit(s) < 0)) {
		store_rollback(s);
		rc = -1;
	}
	pthread_mutex_unlock(&s->mu);
	buf_free(&rcpts);
	return rc;
}

static void row_to_meta(sqlite3_stmt *st, quar_meta *m)
{
	const char *r;
	char *copy, *save = NULL, *tok;

	memset(m, 0, sizeof(*m));
	mw_strlcpy(m->id, (const char *)sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "",
	           sizeof(m->id));
	m->time = (time_t)sqlite3_column_int64(st, 1);
#define COPY(field, col)                                                                                               \
	mw_strlcpy(m->field, sqlite3_column_text(st, col) ? (const char *)sqlite3_column_text(st, col) : "",           \
	           sizeof(m->field))
	COPY(queue_id, 2);
	COPY(sender, 3);
	COPY(subject, 5);
	COPY(reasons, 7);
	COPY(state, 8);
#undef COPY
	r = (const char *)sqlite3_column_text(st, 4);
	copy = x_strdup(r ? r : "");
	for (tok = strtok_r(copy, "\n", &save); tok && m->nrcpts < QUAR_MAX_RCPTS; tok = strtok_r(NULL, "\n", &save))
		mw_strlcpy(m->rcpts[m->nrcpts++], tok, sizeof(m->rcpts[0]));
	x_free(copy);
	m->size = (size_t)sqlite3_column_int64(st, 6);
	m->release_at = (time_t)sqlite3_column_int64(st, 9);
	m->expires = (time_t)sqlite3_column_int64(st, 10);
	mw_strlcpy(m->release_from, sqlite3_column_text(st, 11) ? (const char *)sqlite3_column_text(st, 11) : "",
	           sizeof(m->release_from));
	m->release_started = (time_t)sqlite3_column_int64(st, 12);
	mw_strlcpy(m->note, sqlite3_column_text(st, 13) ? (const char *)sqlite3_column_text(st, 13) : "",
	           sizeof(m->note));
}

#define QCOLS                                                                                                          \
	"id, time, queue_id, sender, rcpts, subject, size, reasons, state, release_at, expires, release_from,"         \
	" release_started, note"

int quar_get_meta(mw_quar *q, const char *id, quar_meta *meta)
{
	mw_store *s = q->store;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT " QCOLS " FROM quarantine WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "quarantine lookup");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		row_to_meta(st, meta);
		rc = 1;
	} else if (step == SQLITE_DONE) {
		rc = 0;
	} else {
		store_fail(s, "quarantine lookup");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int list_query(mw_quar *q, const char *sql, const char *arg, long long num, size_t limit,
                      void (*fn)(const quar_meta *m, void *arg), void *farg)
{
	mw_store *s = q->store;
	sqlite3_stmt *st = NULL;
	quar_meta *m = x_malloc(sizeof(*m));
	int n = 0, step;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		n = store_fail(s, "quarantine list");
		goto out;
	}
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, num);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_meta(st, m);
		/* fn runs under the (recursive) lock: it may use the store */
		fn(m, farg);
		n++;
	}
	if (step != SQLITE_DONE)
		n = store_fail(s, "quarantine list");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	x_free(m);
	return n;
}

int quar_list(mw_quar *q, const char *state, size_t limit, void (*fn)(const quar_meta *m, void *arg), void *arg)
{
	if (state)
		return list_query(q,
		                  "SELECT " QCOLS " FROM quarantine WHERE state = ?1 AND ?2 = ?2 ORDER BY time DESC"
		                  " LIMIT ?3",
		                  state, 0, limit, fn, arg);
	return list_query(q,
	                  "SELECT " QCOLS " FROM quarantine WHERE state IN ('held', 'quarantined') AND ?2 = ?2"
	                  " ORDER BY time DESC LIMIT ?3",
	                  NULL, 0, limit, fn, arg);
}

int quar_due(mw_quar *q, time_t now, size_t limit, void (*fn)(const quar_meta *m, void *arg), void *arg)
{
	return list_query(q,
	                  "SELECT " QCOLS " FROM quarantine WHERE state = 'held' AND release_at <= ?2"
	                  " ORDER BY release_at LIMIT ?3",
	                  NULL, now, limit, fn, arg);
}

int quar_set_note(mw_quar *q, const char *id, const char *note)
{
	mw_store *s = q->store;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "UPDATE quarantine SET note = ?2 WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "quarantine note");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, note, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		store_fail(s, "quarantine note");
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	if (rc == 0)
		share(q, id);
	return rc;
}

int quar_stale_releases(mw_quar *q, time_t before, size_t limit, void (*fn)(const quar_meta *m, void *arg), void *arg)
{
	return list_query(q,
	                  "SELECT " QCOLS " FROM quarantine WHERE state = 'releasing' AND release_started < ?2"
	                  " AND ?1 IS NULL ORDER BY release_started LIMIT ?3",
	                  NULL, before, limit, fn, arg);
}

int quar_set_state(mw_quar *q, const char *id, const char *state, time_t release_at)
{
	mw_store *s = q->store;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db,
	                       "UPDATE quarantine SET state = ?2, release_at = ?3,"
	                       " body = CASE WHEN ?2 = 'deleted' THEN NULL ELSE body END WHERE id = ?1",
	                       -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "quarantine state");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, release_at);
	if (sqlite3_step(st) != SQLITE_DONE)
		store_fail(s, "quarantine state");
	else
		rc = sqlite3_changes(s->db) > 0 ? 0 : -1;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	if (rc == 0)
		share(q, id);
	return rc;
}

int quar_claim(mw_quar *q, const char *id, const char *from, const char *to)
{
	mw_store *s = q->store;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db,
	                       "UPDATE quarantine SET state = ?3,"
	                       " release_from = CASE WHEN ?3 = 'releasing' THEN ?2 ELSE '' END,"
	                       " release_started = CASE WHEN ?3 = 'releasing' THEN ?4 ELSE 0 END"
	                       " WHERE id = ?1 AND state = ?2",
	                       -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "quarantine claim");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		store_fail(s, "quarantine claim");
	else
		rc = sqlite3_changes(s->db) > 0 ? 1 : 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	if (rc == 1)
		share(q, id);
	return rc;
}

/* ---- files ---- */

static void file_path(const mw_quar *q, const char *id, const char *prefix, const char *suffix, char *out, size_t len)
{
	snprintf(out, len, "%s/%s%s%s", q->dir, prefix, id, suffix);
}

static int valid_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > QUAR_ID_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

/* ---- kept copies: base64 runs stored once (quar_find_runs, quarantine.h) ---- */

#define RUN_LINE_MIN 40 /* shorter lines (a last base64 line, text) stay in the message file */

typedef struct run_finder {
	size_t pos;        /* bytes seen */
	size_t line_start; /* offset of the current line */
	size_t line_len;   /* characters of it so far, line end excluded */
	int line_ok;       /* only base64 characters so far */
	int cr;            /* the last byte was a CR */
	int in_run;
	size_t run_start, run_end;
	size_t min, max, n;
	quar_run *runs;
} run_finder;

/* the base64 alphabet and '=' */
static const unsigned char b64_tab[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static void run_close(run_finder *f)
{
	if (f->in_run && f->run_end - f->run_start >= f->min && f->n < f->max) {
		f->runs[f->n].off = f->run_start;
		f->runs[f->n].len = f->run_end - f->run_start;
		f->n++;
	}
	f->in_run = 0;
}

/* run_line - the line ending with the LF at f->pos is complete */
static void run_line(run_finder *f)
{
	if (f->line_ok && f->line_len >= RUN_LINE_MIN) {
		if (!f->in_run) {
			f->in_run = 1;
			f->run_start = f->line_start;
		}
		f->run_end = f->pos + 1;
	} else {
		run_close(f);
	}
	f->line_start = f->pos + 1;
	f->line_len = 0;
	f->line_ok = 1;
	f->cr = 0;
}

/* b64_span - how many bytes from p[0] on (at most n) are base64 characters: eight at a time while it can */
static size_t b64_span(const unsigned char *p, size_t n)
{
	size_t k = 0;

	while (k + 8 <= n && (b64_tab[p[k]] & b64_tab[p[k + 1]] & b64_tab[p[k + 2]] & b64_tab[p[k + 3]] &
	                      b64_tab[p[k + 4]] & b64_tab[p[k + 5]] & b64_tab[p[k + 6]] & b64_tab[p[k + 7]]))
		k += 8;
	while (k < n && b64_tab[p[k]])
		k++;
	return k;
}

/*
 * run_feed - the next bytes, in one pass: base64 characters of a line
 * still valid are skipped by table (b64_span), a line already invalid up
 * to its LF (memchr); a CR counts only right before the LF, which may be
 * in the next piece.  (Two passes per line before, memchr then the
 * table: 6 % of the daemon's CPU on mail with a 200 KB attachment.)
 */
static void run_feed(run_finder *f, const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c;
		if (f->line_ok && !f->cr) {
			size_t k = b64_span(p + i, len - i);
			f->line_len += k;
			f->pos += k;
			i += k;
		} else if (!f->line_ok) {
			const unsigned char *nl = memchr(p + i, '\n', len - i);
			size_t k = nl ? (size_t)(nl - (p + i)) : len - i;
			f->pos += k;
			i += k;
		}
		if (i == len)
			break;
		c = p[i];
		if (c == '\n')
			run_line(f);
		else if (f->line_ok && !f->cr && c == '\r')
			f->cr = 1; /* may still be followed by the LF, here or in the next piece */
		else
			f->line_ok = 0;
		f->pos++;
		i++;
	}
}

static void run_init(run_finder *f, size_t min, quar_run *runs, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->line_ok = 1;
	f->min = min ? min : 1;
	f->runs = runs;
	f->max = max;
}

size_t quar_find_runs(const void *buf, size_t len, size_t min, quar_run *runs, size_t max)
{
	run_finder f;

	run_init(&f, min, runs, max);
	run_feed(&f, buf, len);
	run_close(&f); /* a last line without LF never joins a run */
	return f.n;
}

/* unhex32 - 64 hex digits to 32 bytes */
static void unhex32(const char *hex, unsigned char out[32])
{
	size_t i;

	for (i = 0; i < 32; i++) {
		unsigned v = 0;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

/*
 * blob_name - hex HMAC-SHA256 (name key) of raw[off, off+len), over
 * mw_sha256 (libclamav's, hardware-assisted where the CPU has it: about
 * a fifth of the cost of mbedTLS's HMAC here)
 */
static int blob_name(mw_quar *q, const mw_spool *raw, size_t off, size_t len, char out[BNAME + 1])
{
	unsigned char pad[64], inner[32], *chunk = x_malloc(QCHUNK);
	char hex[65];
	mw_sha256 h;
	size_t i;

	for (i = 0; i < 64; i++)
		pad[i] = (unsigned char)((i < 32 ? q->name_key[i] : 0) ^ 0x36);
	mw_sha256_init(&h);
	mw_sha256_update(&h, pad, sizeof(pad));
	while (len > 0) {
		ssize_t got = spool_pread(raw, chunk, len < QCHUNK ? len : QCHUNK, (off_t)off);
		if (got <= 0) {
			mw_sha256_hex(&h, hex);
			x_free(chunk);
			return -1;
		}
		mw_sha256_update(&h, chunk, (size_t)got);
		off += (size_t)got;
		len -= (size_t)got;
	}
	mw_sha256_hex(&h, hex);
	unhex32(hex, inner);
	for (i = 0; i < 64; i++)
		pad[i] = (unsigned char)((i < 32 ? q->name_key[i] : 0) ^ 0x5c);
	mw_sha256_init(&h);
	mw_sha256_update(&h, pad, sizeof(pad));
	mw_sha256_update(&h, inner, sizeof(inner));
	mw_sha256_hex(&h, out);
	x_free(chunk);
	return 0;
}

/* derive_name_key - the HMAC key naming blobs: HMAC-SHA256(device key, label) */
static int derive_name_key(mw_quar *q)
{
	static const char label[] = "mailwarden quarantine blob names v1";
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	return info && mbedtls_md_hmac(info, q->key, 32, (const unsigned char *)label, sizeof(label) - 1,
	                               q->name_key) == 0
	           ? 0
	           : -1;
}

static void blob_path(const mw_quar *q, const char *name, const char *prefix, char *out, size_t len)
{
	snprintf(out, len, "%s/%s%s.mwb", q->bdir, prefix, name);
}

/*
 * blob_put - dir/blobs/NAME.mwb holding raw[off, off+len): "MWB1", nonce,
 * AES-256-GCM ciphertext (additional data: magic and name, so a file
 * cannot stand in for another), tag.  Reused when a file of the right
 * size is there (caller holds bmu).  No fsync: kept copies only.
 */
static int blob_put(mw_quar *q, const mw_spool *raw, const quar_ref *r, char *err, size_t errlen)
{
	unsigned char nonce[QNONCE], tag[QTAG], aad[4 + BNAME], *in = NULL, *out = NULL;
	char tmp[4400], final[4400];
	qgcm g = {NULL};
	struct stat st;
	size_t left = r->len;
	off_t off = r->off;
	int fd = -1, rc = -1;

	blob_path(q, r->name, "", final, sizeof(final));
	if (stat(final, &st) == 0 && (size_t)st.st_size == 4 + QNONCE + r->len + QTAG)
		return 0;
	blob_path(q, r->name, "tmp-", tmp, sizeof(tmp));
	if (random_bytes(nonce, sizeof(nonce)) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	memcpy(aad, BMAGIC, 4);
	memcpy(aad + 4, r->name, BNAME);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto io_fail;
	if (gcm_begin(&g, q->key, 1, nonce, aad, sizeof(aad)) < 0)
		goto io_fail;
	if (mw_write_all(fd, BMAGIC, 4) < 0 || mw_write_all(fd, nonce, sizeof(nonce)) < 0)
		goto io_fail;
	in = x_malloc(QCHUNK);
	out = x_malloc(QCHUNK);
	while (left > 0) {
		ssize_t got = spool_pread(raw, in, left < QCHUNK ? left : QCHUNK, off);
		if (got <= 0 || gcm_step(&g, in, (size_t)got, out) < 0 || mw_write_all(fd, out, (size_t)got) < 0)
			goto io_fail;
		off += got;
		left -= (size_t)got;
	}
	if (gcm_end(&g, tag) < 0 || mw_write_all(fd, tag, sizeof(tag)) < 0)
		goto io_fail;
	if (close(fd) < 0) {
		fd = -1;
		goto io_fail;
	}
	fd = -1;
	if (rename(tmp, final) < 0)
		goto io_fail;
	rc = 0;
	goto out;
io_fail:
	snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno ? errno : EIO));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	gcm_free(&g);
	x_free(in);
	x_free(out);
	return rc;
}

/* blob_read - decrypt r's blob into out (verified by its tag, and its length) */
static int blob_read(mw_quar *q, const quar_ref *r, mw_spool *out, char *err, size_t errlen)
{
	unsigned char nonce[QNONCE], tag[QTAG], aad[4 + BNAME], *in = NULL, *plain = NULL;
	char path[4400], magic[4];
	qgcm g = {NULL};
	struct stat st;
	size_t left = r->len;
	int fd, rc = -1;

	blob_path(q, r->name, "", path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	memcpy(aad, BMAGIC, 4);
	memcpy(aad + 4, r->name, BNAME);
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != 4 + QNONCE + r->len + QTAG || read_all(fd, magic, 4) < 0 ||
	    memcmp(magic, BMAGIC, 4) != 0 || read_all(fd, nonce, QNONCE) < 0 ||
	    pread(fd, tag, QTAG, st.st_size - QTAG) != QTAG)
		goto bad;
	if (gcm_begin(&g, q->key, 0, nonce, aad, sizeof(aad)) < 0)
		goto bad;
	in = x_malloc(QCHUNK);
	plain = x_malloc(QCHUNK);
	while (left > 0) {
		size_t n = left > QCHUNK ? QCHUNK : left;
		if (read_all(fd, in, n) < 0 || gcm_step(&g, in, n, plain) < 0)
			goto bad;
		if (spool_write(out, plain, n) < 0) {
			snprintf(err, errlen, "cannot store decrypted message: %s", strerror(errno));
			goto out;
		}
		left -= n;
	}
	if (!gcm_check(&g, tag)) {
		snprintf(err, errlen, "%s: authentication failed (tampered or wrong key)", path);
		goto out;
	}
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "%s: damaged blob file", path);
out:
	gcm_free(&g);
	close(fd);
	x_free(in);
	x_free(plain);
	return rc;
}

/* recent_name - 1 with out set when raw[off, off+len) are the bytes of a run named lately (in-memory spools) */
static int recent_name(mw_quar *q, const mw_spool *raw, size_t off, size_t len, char out[BNAME + 1])
{
	const unsigned char *mem = spool_mem(raw);
	size_t i;
	int found = 0;

	if (mem == NULL || len > QRECENT_MAX)
		return 0;
	pthread_mutex_lock(&q->rmu);
	for (i = 0; i < QRECENT && !found; i++) {
		struct recent_run *r = &q->recent[i];
		if (r->bytes && r->len == len && memcmp(r->bytes, mem + off, len) == 0) {
			memcpy(out, r->name, BNAME + 1);
			r->used = ++q->tick;
			found = 1;
		}
	}
	pthread_mutex_unlock(&q->rmu);
	return found;
}

/* recent_keep - remember a run just named, in the place of the least recently used */
static void recent_keep(mw_quar *q, const mw_spool *raw, size_t off, size_t len, const char name[BNAME + 1])
{
	const unsigned char *mem = spool_mem(raw);
	struct recent_run *r;
	size_t i;

	if (mem == NULL || len > QRECENT_MAX)
		return;
	pthread_mutex_lock(&q->rmu);
	r = &q->recent[0];
	for (i = 1; i < QRECENT; i++)
		if (q->recent[i].used < r->used)
			r = &q->recent[i];
	x_free(r->bytes);
	r->bytes = x_malloc(len);
	memcpy(r->bytes, mem + off, len);
	r->len = len;
	memcpy(r->name, name, BNAME + 1);
	r->used = ++q->tick;
	pthread_mutex_unlock(&q->rmu);
}

/* find_refs - the base64 runs of raw worth storing apart, named; count (0: keep it whole) */
static size_t find_refs(mw_quar *q, const mw_spool *raw, quar_ref *refs)
{
	quar_run runs[QUAR_MAX_REFS];
	unsigned char *chunk = x_malloc(QCHUNK);
	size_t i, n, total = spool_size(raw);
	run_finder f;
	off_t off = 0;

	if (total < QUAR_SPLIT_MIN) {
		x_free(chunk);
		return 0; /* no run can be long enough */
	}
	run_init(&f, QUAR_SPLIT_MIN, runs, QUAR_MAX_REFS);
	while ((size_t)off < total) {
		ssize_t got = spool_pread(raw, chunk, QCHUNK, off);
		if (got <= 0) {
			x_free(chunk);
			return 0;
		}
		run_feed(&f, chunk, (size_t)got);
		off += got;
	}
	run_close(&f);
	x_free(chunk);
	n = f.n;
	for (i = 0; i < n; i++) {
		refs[i].off = (off_t)runs[i].off;
		refs[i].len = runs[i].len;
		if (recent_name(q, raw, runs[i].off, runs[i].len, refs[i].name))
			continue;
		if (blob_name(q, raw, runs[i].off, runs[i].len, refs[i].name) < 0)
			return 0;
		recent_keep(q, raw, runs[i].off, runs[i].len, refs[i].name);
	}
	return n;
}

long quar_blob_count(mw_quar *q)
{
	mw_store *s = q->store;
	sqlite3_stmt *st = NULL;
	long n = -1;

	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM quarantine_blobs", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* put_bytes - the next bytes of a quarantine file: to fd, or to row when fd < 0 */
static int put_bytes(int fd, mw_buf *row, const void *p, size_t n)
{
	if (fd >= 0)
		return mw_write_all(fd, p, n);
	buf_append(row, p, n);
	return 0;
}

int quar_put(mw_quar *q, const mw_spool *raw, quar_meta *meta, char *err, size_t errlen)
{
	unsigned char idb[16], nonce[QNONCE], tag[QTAG], lenb[4];
	unsigned char *in = NULL, *out = NULL;
	char tmp[4200], final[4200];
	qgcm g = {NULL};
	mw_buf hdr, aad;
	size_t i, fill = 0, nrefs = 0, r = 0, total = spool_size(raw);
	quar_ref *refs = NULL;
	off_t off = 0;
	int fd = -1, rc = -1, in_row = 0;
	mw_buf row; /* the file's bytes, when they go in the index row */
	/* a retro-scan copy of delivered mail ("kept") needs no durability:
	 * the MTA has its own copy, and losing it at a power cut only loses a
	 * later rescan; no fsync for it (measured: 6-7 % of the mixed stream) */
	int durable = strcmp(meta->state, "kept") != 0;

	/* a kept copy stores its large base64 runs (attachments) apart, once
	 * per distinct content: the file holds the rest and names them */
	if (!durable) {
		refs = x_malloc(QUAR_MAX_REFS * sizeof(*refs));
		nrefs = find_refs(q, raw, refs);
	}
	buf_init(&hdr, QHDR_MAX);
	buf_init(&aad, QHDR_MAX + 8);
	buf_init(&row, 0);
	if (!durable) {
		size_t rest = total;
		for (i = 0; i < nrefs; i++)
			rest -= refs[i].len;
		in_row = rest <= QROW_MAX;
	}
	if (random_bytes(idb, sizeof(idb)) < 0 || random_bytes(nonce, sizeof(nonce)) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < sizeof(idb); i++)
		snprintf(meta->id + 2 * i, 3, "%02x", idb[i]);
	meta->size = total;
	make_header(meta, refs, nrefs, &hdr);
	if (hdr.truncated) {
		snprintf(err, errlen, "quarantine header too large");
		goto out;
	}
	lenb[0] = (unsigned char)(hdr.len >> 24);
	lenb[1] = (unsigned char)(hdr.len >> 16);
	lenb[2] = (unsigned char)(hdr.len >> 8);
	lenb[3] = (unsigned char)hdr.len;
	buf_append(&aad, QMAGIC, 4);
	buf_append(&aad, lenb, 4);
	buf_append(&aad, hdr.p, hdr.len);
	file_path(q, meta->id, "tmp-", "", tmp, sizeof(tmp));
	file_path(q, meta->id, "", ".mwq", final, sizeof(final));
	if (!in_row && (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (gcm_begin(&g, q->key, 1, nonce, (const unsigned char *)aad.p, aad.len) < 0) {
		snprintf(err, errlen, "AES-GCM setup failed");
		goto out;
	}
	if (put_bytes(fd, &row, aad.p, aad.len) < 0 || put_bytes(fd, &row, nonce, sizeof(nonce)) < 0)
		goto io_fail;
	in = x_malloc(QCHUNK);
	out = x_malloc(QCHUNK);
	/* the message without its refs, in QCHUNK steps */
	while ((size_t)off < total) {
		size_t want = QCHUNK - fill;
		ssize_t got;
		if (r < nrefs && off == refs[r].off) {
			off += (off_t)refs[r++].len;
			continue;
		}
		if (r < nrefs && (size_t)(refs[r].off - off) < want)
			want = (size_t)(refs[r].off - off);
		got = spool_pread(raw, in + fill, want, off);
		if (got <= 0)
			goto io_fail;
		fill += (size_t)got;
		off += got;
		if (fill == QCHUNK) {
			if (gcm_step(&g, in, fill, out) < 0 || put_bytes(fd, &row, out, fill) < 0)
				goto io_fail;
			fill = 0;
		}
	}
	if (fill > 0 && (gcm_step(&g, in, fill, out) < 0 || put_bytes(fd, &row, out, fill) < 0))
		goto io_fail;
	if (gcm_end(&g, tag) < 0 || put_bytes(fd, &row, tag, sizeof(tag)) < 0)
		goto io_fail;
	if (!in_row) {
		if (durable && fsync(fd) < 0)
			goto io_fail;
		if (close(fd) < 0) {
			fd = -1;
			goto io_fail;
		}
		fd = -1;
		if (rename(tmp, final) < 0 || (durable && fsync_dir(q->dir) < 0))
			goto io_fail;
	}
	/* blobs and the index under bmu: a blob found here cannot expire before the row is in */
	pthread_mutex_lock(&q->bmu);
	for (r = 0; r < nrefs; r++)
		if (blob_put(q, raw, &refs[r], err, errlen) < 0)
			break;
	if (r < nrefs || index_insert(q, meta, refs, nrefs, in_row ? row.p : NULL, row.len) < 0) {
		pthread_mutex_unlock(&q->bmu);
		if (r == nrefs)
			snprintf(err, errlen, "quarantine index: %s", store_error(q->store));
		if (!in_row) {
			unlink(final);
			fsync_dir(q->dir);
		}
		goto out;
	}
	pthread_mutex_unlock(&q->bmu);
	if (durable)
		share(q, meta->id);
	rc = 0;
	goto out;
io_fail:
	snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno ? errno : EIO));
	if (!in_row)
		unlink(tmp);
out:
	gcm_free(&g);
	if (fd >= 0) {
		close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	x_free(in);
	x_free(out);
	x_free(refs);
	buf_free(&hdr);
	buf_free(&aad);
	buf_free(&row);
	return rc;
}

/* read_header - open id's file and read magic, header; returns fd positioned at the nonce */
/*
 * row_body - the file of id held in its index row, as a descriptor
 * (memfd) positioned at 0 for the file reader; -1 with *none = 1 when the
 * row holds none (the file is on disk), -1 with err on failure
 */
static int row_body(mw_quar *q, const char *id, int *none, char *err, size_t errlen)
{
	mw_store *s = q->store;
	sqlite3_stmt *st = NULL;
	int fd = -1;

	*none = 0;
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db, "SELECT body FROM quarantine WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "quarantine index: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) != SQLITE_BLOB) {
		*none = 1;
		goto out;
	}
	fd = memfd_create("mw-quarantine", MFD_CLOEXEC);
	if (fd < 0 || mw_write_all(fd, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "quarantine %s: cannot hold its copy: %s", id, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->mu);
	return fd;
}

/* read_header - open path (or take fd >= 0, the file held in a row) and read the header */
static int read_header(const char *path, int fd, mw_buf *aad, quar_meta *meta, quar_ref *refs, size_t *nrefs, char *err,
                       size_t errlen)
{
	unsigned char lenb[4];
	char magic[4], *h;
	size_t hlen;

	if (fd < 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (read_all(fd, magic, 4) < 0 || memcmp(magic, QMAGIC, 4) != 0 || read_all(fd, lenb, 4) < 0)
		goto bad;
	hlen = ((size_t)lenb[0] << 24) | ((size_t)lenb[1] << 16) | ((size_t)lenb[2] << 8) | lenb[3];
	if (hlen == 0 || hlen > QHDR_MAX)
		goto bad;
	h = x_malloc(hlen + 1);
	if (read_all(fd, h, hlen) < 0) {
		x_free(h);
		goto bad;
	}
	h[hlen] = 0;
	buf_append(aad, QMAGIC, 4);
	buf_append(aad, lenb, 4);
	buf_append(aad, h, hlen);
	if (parse_header(h, meta, refs, nrefs) < 0) {
		x_free(h);
		goto bad;
	}
	x_free(h);
	return fd;
bad:
	snprintf(err, errlen, "%s: not a quarantine file", path);
	close(fd);
	return -1;
}

int quar_read(mw_quar *q, const char *id, quar_meta *meta, mw_spool *out, char *err, size_t errlen)
{
	unsigned char nonce[QNONCE], tag[QTAG], *in = NULL, *plain = NULL;
	char path[4200];
	qgcm g = {NULL};
	struct stat st;
	mw_buf aad;
	off_t body, left, pos = 0;
	int fd, rc = -1;
	size_t i, nrefs = 0, r = 0, stored;
	quar_ref *refs;

	if (!valid_id(id)) {
		snprintf(err, errlen, "no such quarantine id");
		return -1;
	}
	refs = x_malloc(QUAR_MAX_REFS * sizeof(*refs));
	buf_init(&aad, QHDR_MAX + 8);
	file_path(q, id, "", ".mwq", path, sizeof(path));
	{
		int none;
		fd = row_body(q, id, &none, err, errlen);
		if (fd < 0 && !none)
			goto out;
	}
	if ((fd = read_header(path, fd, &aad, meta, refs, &nrefs, err, errlen)) < 0)
		goto out;
	if (fstat(fd, &st) < 0 || read_all(fd, nonce, QNONCE) < 0)
		goto bad;
	body = lseek(fd, 0, SEEK_CUR);
	left = st.st_size - body - QTAG;
	for (i = 0, stored = meta->size; i < nrefs; i++)
		stored -= refs[i].len; /* parse_header: in order, inside size */
	if (left < 0 || (nrefs > 0 && (size_t)left != stored) || pread(fd, tag, QTAG, st.st_size - QTAG) != QTAG)
		goto bad;
	if (gcm_begin(&g, q->key, 0, nonce, (const unsigned char *)aad.p, aad.len) < 0)
		goto bad;
	in = x_malloc(QCHUNK);
	plain = x_malloc(QCHUNK);
	while (left > 0) {
		size_t n = left > QCHUNK ? QCHUNK : (size_t)left;
		if (read_all(fd, in, n) < 0 || gcm_step(&g, in, n, plain) < 0)
			goto bad;
		/* Bytes go out before the tag is checked; on a bad tag the
		 * caller discards out (it never leaves this process).  A kept
		 * copy's blobs go in at their offsets. */
		for (i = 0; i < n;) {
			size_t k = n - i;
			if (r < nrefs && pos == refs[r].off) {
				if (blob_read(q, &refs[r], out, err, errlen) < 0)
					goto out;
				pos += (off_t)refs[r++].len;
				continue;
			}
			if (r < nrefs && (size_t)(refs[r].off - pos) < k)
				k = (size_t)(refs[r].off - pos);
			if (spool_write(out, plain + i, k) < 0) {
				snprintf(err, errlen, "cannot store decrypted message: %s", strerror(errno));
				goto out;
			}
			i += k;
			pos += (off_t)k;
		}
		left -= (off_t)n;
	}
	for (; r < nrefs && pos == refs[r].off; r++) { /* blobs at the very end */
		if (blob_read(q, &refs[r], out, err, errlen) < 0)
			goto out;
		pos += (off_t)refs[r].len;
	}
	if (r < nrefs || (nrefs > 0 && (size_t)pos != meta->size))
		goto bad;
	if (!gcm_check(&g, tag)) {
		snprintf(err, errlen, "%s: authentication failed (tampered or wrong key)", path);
		goto out;
	}
	{
		quar_meta *idx = x_malloc(sizeof(*idx));
		/* The index has the subject and the current state; the file the rest. */
		if (quar_get_meta(q, id, idx) == 1) {
			mw_strlcpy(meta->subject, idx->subject, sizeof(meta->subject));
			mw_strlcpy(meta->state, idx->state, sizeof(meta->state));
			meta->release_at = idx->release_at;
		}
		x_free(idx);
	}
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "%s: damaged quarantine file", path);
out:
	gcm_free(&g);
	if (fd >= 0)
		close(fd);
	x_free(in);
	x_free(plain);
	x_free(refs);
	buf_free(&aad);
	return rc;
}

int quar_delete(mw_quar *q, const char *id)
{
	char path[4200];

	if (!valid_id(id))
		return -1;
	file_path(q, id, "", ".mwq", path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	fsync_dir(q->dir);
	return quar_set_state(q, id, "deleted", 0); /* which drops a copy held in the row */
}

typedef struct expire_ctx {
	mw_quar *q;
	time_t now;
	int n;
} expire_ctx;

static void expire_one(const quar_meta *m, void *arg)
{
	expire_ctx *e = arg;

	if (m->expires != 0 && m->expires <= e->now && quar_delete(e->q, m->id) == 0)
		e->n++;
}

/*
 * expire_blobs - blobs no kept copy needs any more (their expiry is the
 * latest of their copies'), and partial blob files older than an hour.
 * Under bmu: quar_put cannot find a blob here and then lose it.
 */
static int expire_blobs(mw_quar *q, time_t now)
{
	mw_store *s = q->store;
	sqlite3_stmt *st = NULL;
	char(*names)[BNAME + 1] = x_malloc(1000 * sizeof(*names));
	size_t n = 0, i;
	int gone = 0;
	DIR *d;

	pthread_mutex_lock(&q->bmu);
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(s->db,
	                       "SELECT name FROM quarantine_blobs WHERE expires != 0 AND expires <= ?1 LIMIT 1000", -1,
	                       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now);
		while (n < 1000 && sqlite3_step(st) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(st, 0);
			if (v && strlen(v) == BNAME)
				memcpy(names[n++], v, BNAME + 1);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (n > 0 && store_begin(s) == 0) {
		if (sqlite3_prepare_v2(s->db, "DELETE FROM quarantine_blobs WHERE name = ?1", -1, &st, NULL) ==
		    SQLITE_OK)
			for (i = 0; i < n; i++) {
				char path[4400];
				sqlite3_reset(st);
				sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
				blob_path(q, names[i], "", path, sizeof(path));
				if (sqlite3_step(st) == SQLITE_DONE && (unlink(path) == 0 || errno == ENOENT))
					gone++;
			}
		sqlite3_finalize(st);
		if (store_commit(s) < 0)
			store_rollback(s);
	}
	pthread_mutex_unlock(&s->mu);
	if ((d = opendir(q->bdir)) != NULL) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			char path[4400];
			struct stat sb;
			if (strncmp(de->d_name, "tmp-", 4) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", q->bdir, de->d_name);
			if (stat(path, &sb) == 0 && sb.st_mtime < now - 3600)
				unlink(path);
		}
		closedir(d);
	}
	pthread_mutex_unlock(&q->bmu);
	x_free(names);
	if (gone > 0)
		log_info("quarantine: %d retro-scan blob(s) expired", gone);
	return gone;
}

int quar_expire(mw_quar *q, time_t now)
{
	expire_ctx e = {q, now, 0};

	if (list_query(q,
	               "SELECT " QCOLS " FROM quarantine WHERE state != 'deleted' AND expires != 0 AND"
	               " expires <= ?2 AND ?1 IS NULL LIMIT ?3",
	               NULL, now, 1000, expire_one, &e) < 0)
		return -1;
	expire_blobs(q, now);
	return e.n;
}

/* recover - drop partial files, index complete files the index lacks */
static void recover(mw_quar *q)
{
	DIR *d = opendir(q->dir);
	struct dirent *de;
	int removed = 0, indexed = 0;
	quar_meta *m;
	quar_ref *refs;
	size_t nrefs = 0;

	if (d == NULL)
		return;
	m = x_malloc(sizeof(*m));
	refs = x_malloc(QUAR_MAX_REFS * sizeof(*refs));
	while ((de = readdir(d)) != NULL) {
		char path[4400];
		size_t n = strlen(de->d_name);
		snprintf(path, sizeof(path), "%s/%s", q->dir, de->d_name);
		if (strncmp(de->d_name, "tmp-", 4) == 0) {
			if (unlink(path) == 0)
				removed++;
		} else if (n > 4 && strcmp(de->d_name + n - 4, ".mwq") == 0) {
			char id[QUAR_ID_LEN + 1], err[300];
			mw_buf aad;
			int fd;
			if (n - 4 > QUAR_ID_LEN)
				continue;
			memcpy(id, de->d_name, n - 4);
			id[n - 4] = 0;
			if (!valid_id(id) || quar_get_meta(q, id, m) != 0)
				continue;
			buf_init(&aad, QHDR_MAX + 8);
			fd = read_header(path, -1, &aad, m, refs, &nrefs, err, sizeof(err));
			buf_free(&aad);
			if (fd < 0) {
				log_err("quarantine recovery: %s", err);
				continue;
			}
			close(fd);
			if (index_insert(q, m, refs, nrefs, NULL, 0) == 0) {
				share(q, m->id);
				indexed++;
			}
		}
	}
	closedir(d);
	x_free(m);
	x_free(refs);
	fsync_dir(q->dir);
	if (removed || indexed)
		log_warn("quarantine recovery: removed %d partial file(s), indexed %d file(s)", removed, indexed);
}

int quar_open(const char *statedir, mw_store *store, mw_quar **out, char *err, size_t errlen)
{
	mw_quar *q = x_calloc(1, sizeof(*q));

	*out = NULL;
	q->store = store;
	snprintf(q->dir, sizeof(q->dir), "%s/quarantine", statedir);
	if (mkdir(q->dir, 0700) < 0) {
		if (errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", q->dir, strerror(errno));
			x_free(q);
			return -1;
		}
	} else {
		store_own_like_dir(statedir, q->dir);
	}
	if (load_key(statedir, q->key, err, errlen) < 0) {
		x_free(q);
		return -1;
	}
	snprintf(q->bdir, sizeof(q->bdir), "%s/blobs", q->dir);
	if (mkdir(q->bdir, 0700) == 0)
		store_own_like_dir(statedir, q->bdir);
	pthread_mutex_lock(&store->mu);
	if (derive_name_key(q) < 0 ||
	    store_exec(store, "CREATE TABLE IF NOT EXISTS quarantine_blobs(name TEXT PRIMARY KEY,"
	                      " size INTEGER NOT NULL, expires INTEGER NOT NULL)") < 0) {
		snprintf(err, errlen, "quarantine blobs: %s", store_error(store));
		pthread_mutex_unlock(&store->mu);
		memset(q->key, 0, sizeof(q->key));
		x_free(q);
		return -1;
	}
	pthread_mutex_unlock(&store->mu);
	pthread_mutex_init(&q->bmu, NULL);
	pthread_mutex_init(&q->rmu, NULL);
	recover(q);
	*out = q;
	return 0;
}

void quar_close(mw_quar *q)
{
	if (q == NULL)
		return;
	memset(q->key, 0, sizeof(q->key));
	memset(q->name_key, 0, sizeof(q->name_key));
	pthread_mutex_destroy(&q->bmu);
	for (size_t i = 0; i < QRECENT; i++)
		x_free(q->recent[i].bytes);
	pthread_mutex_destroy(&q->rmu);
	x_free(q);
}

typedef struct all_ctx {
	void (*fn)(const quar_meta *m, void *arg);
	void *arg;
	quar_meta *m;
	const char *gw;
} all_ctx;

static void from_shared(const rd_quar_row *r, void *arg)
{
	all_ctx *a = arg;
	quar_meta *m = a->m;
	char *copy, *save = NULL, *tok;

	memset(m, 0, sizeof(*m));
	mw_strlcpy(m->id, r->id, sizeof(m->id));
	mw_strlcpy(m->gateway, r->gateway, sizeof(m->gateway));
	mw_strlcpy(m->queue_id, r->queue_id, sizeof(m->queue_id));
	mw_strlcpy(m->sender, r->sender, sizeof(m->sender));
	mw_strlcpy(m->subject, r->subject, sizeof(m->subject));
	mw_strlcpy(m->reasons, r->reasons, sizeof(m->reasons));
	mw_strlcpy(m->state, r->state, sizeof(m->state));
	copy = x_strdup(r->rcpts);
	for (tok = strtok_r(copy, ",", &save); tok && m->nrcpts < QUAR_MAX_RCPTS; tok = strtok_r(NULL, ",", &save))
		mw_strlcpy(m->rcpts[m->nrcpts++], tok, sizeof(m->rcpts[0]));
	x_free(copy);
	m->time = r->time;
	m->release_at = r->release_at;
	m->expires = r->expires;
	m->size = r->size;
	a->fn(m, a->arg);
}

static void from_local(const quar_meta *m, void *arg)
{
	all_ctx *a = arg;

	*a->m = *m;
	mw_strlcpy(a->m->gateway, a->gw, sizeof(a->m->gateway));
	a->fn(a->m, a->arg);
}

int quar_list_all(mw_quar *q, const char *state, size_t limit, void (*fn)(const quar_meta *m, void *arg), void *arg)
{
	all_ctx a = {fn, arg, x_malloc(sizeof(quar_meta)), store_gateway(q->store)};
	int n = -1;

	if (rd_up(q->store))
		n = rd_quar_list(q->store, state, limit, from_shared, &a);
	if (n < 0)
		n = quar_list(q, state, limit, from_local, &a);
	x_free(a.m);
	return n;
}

const char *quar_dir(const mw_quar *q)
{
	return q->dir;
}
