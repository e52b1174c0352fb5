/*
 * NAME
 *	quarantine.c - AES-256-GCM quarantine files and their SQLite index
 * SYNOPSIS
 *	See quarantine.h.
 * DESCRIPTION
 *	Encryption streams in QCHUNK pieces (a multiple of 16 bytes, as
 *	mbedTLS 2.x GCM requires for every update but the last), so a 50 MB
 *	message costs QCHUNK bytes of buffer.  The header is plain
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
#include "util/log.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/gcm.h>
#include <mbedtls/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define QMAGIC   "MWQ1"
#define QHDR_MAX (512 * 1024) /* QUAR_MAX_RCPTS recipients of up to 320 bytes fit */
#define QCHUNK   (64 * 1024)
#define QNONCE   12
#define QTAG     16

struct mw_quar {
	mw_store *store;
	char dir[4096];
	unsigned char key[32];
};

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

static void make_header(const quar_meta *m, mw_buf *b)
{
	char num[64];
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
}

/* parse_header - strict: known keys only, every line key=value */
static int parse_header(char *h, quar_meta *m)
{
	char *save = NULL, *line;

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
		else
			return -1;
	}
	return m->id[0] ? 0 : -1;
}

/* ---- GCM over mbedTLS 2.x and 3.x ---- */

static int gcm_begin(mbedtls_gcm_context *g, const unsigned char key[32], int mode, const unsigned char *nonce,
                     const unsigned char *aad, size_t aadlen)
{
	mbedtls_gcm_init(g);
	if (mbedtls_gcm_setkey(g, MBEDTLS_CIPHER_ID_AES, key, 256) != 0)
		return -1;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	if (mbedtls_gcm_starts(g, mode, nonce, QNONCE) != 0)
		return -1;
	return mbedtls_gcm_update_ad(g, aad, aadlen) == 0 ? 0 : -1;
#else
	return mbedtls_gcm_starts(g, mode, nonce, QNONCE, aad, aadlen) == 0 ? 0 : -1;
#endif
}

static int gcm_step(mbedtls_gcm_context *g, const unsigned char *in, size_t len, unsigned char *out)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	size_t olen;
	return mbedtls_gcm_update(g, in, len, out, len, &olen) == 0 ? 0 : -1;
#else
	return mbedtls_gcm_update(g, len, in, out) == 0 ? 0 : -1;
#endif
}

static int gcm_end(mbedtls_gcm_context *g, unsigned char tag[QTAG])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	size_t olen;
	return mbedtls_gcm_finish(g, NULL, 0, &olen, tag, QTAG) == 0 ? 0 : -1;
#else
	return mbedtls_gcm_finish(g, tag, QTAG) == 0 ? 0 : -1;
#endif
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

static int index_insert(mw_quar *q, const quar_meta *m)
{
	mw_store *s = q->store;
	mw_buf rcpts;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = -1;

	buf_init(&rcpts, 0);
	for (i = 0; i < m->nrcpts; i++)
		buf_printf(&rcpts, "%s%s", i ? "\n" : "", m->rcpts[i]);
	pthread_mutex_lock(&s->mu);
	if (sqlite3_prepare_v2(
	        s->db,
	        "INSERT OR REPLACE INTO quarantine(id, time, queue_id, sender, rcpts, subject, size, reasons,"
	        " state, release_at, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
	if (sqlite3_step(st) != SQLITE_DONE)
		store_fail(s, "quarantine index insert");
	else
		rc = 0;
out:
	sqlite3_finalize(st);
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
	if (sqlite3_prepare_v2(s->db, "UPDATE quarantine SET state = ?2, release_at = ?3 WHERE id = ?1", -1, &st,
	                       NULL) != SQLITE_OK) {
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

int quar_put(mw_quar *q, const mw_spool *raw, quar_meta *meta, char *err, size_t errlen)
{
	unsigned char idb[16], nonce[QNONCE], tag[QTAG], lenb[4];
	unsigned char *in = NULL, *out = NULL;
	char tmp[4200], final[4200];
	mbedtls_gcm_context g;
	mw_buf hdr, aad;
	size_t i, total = spool_size(raw);
	off_t off = 0;
	int fd = -1, rc = -1, gcm_live = 0;
	/* a retro-scan copy of delivered mail ("kept") needs no durability:
	 * the MTA has its own copy, and losing it at a power cut only loses a
	 * later rescan; no fsync for it (measured: 6-7 % of the mixed stream) */
	int durable = strcmp(meta->state, "kept") != 0;

	buf_init(&hdr, QHDR_MAX);
	buf_init(&aad, QHDR_MAX + 8);
	if (random_bytes(idb, sizeof(idb)) < 0 || random_bytes(nonce, sizeof(nonce)) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < sizeof(idb); i++)
		snprintf(meta->id + 2 * i, 3, "%02x", idb[i]);
	meta->size = total;
	make_header(meta, &hdr);
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
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (gcm_begin(&g, q->key, MBEDTLS_GCM_ENCRYPT, nonce, (const unsigned char *)aad.p, aad.len) < 0) {
		snprintf(err, errlen, "AES-GCM setup failed");
		goto out;
	}
	gcm_live = 1;
	if (mw_write_all(fd, aad.p, aad.len) < 0 || mw_write_all(fd, nonce, sizeof(nonce)) < 0)
		goto io_fail;
	in = x_malloc(QCHUNK);
	out = x_malloc(QCHUNK);
	while ((size_t)off < total) {
		ssize_t got = spool_pread(raw, in, QCHUNK, off);
		if (got <= 0)
			goto io_fail;
		if (gcm_step(&g, in, (size_t)got, out) < 0 || mw_write_all(fd, out, (size_t)got) < 0)
			goto io_fail;
		off += got;
	}
	if (gcm_end(&g, tag) < 0 || mw_write_all(fd, tag, sizeof(tag)) < 0)
		goto io_fail;
	if (durable && fsync(fd) < 0)
		goto io_fail;
	if (close(fd) < 0) {
		fd = -1;
		goto io_fail;
	}
	fd = -1;
	if (rename(tmp, final) < 0 || (durable && fsync_dir(q->dir) < 0))
		goto io_fail;
	if (index_insert(q, meta) < 0) {
		snprintf(err, errlen, "quarantine index: %s", store_error(q->store));
		unlink(final);
		fsync_dir(q->dir);
		goto out;
	}
	if (durable)
		share(q, meta->id);
	rc = 0;
	goto out;
io_fail:
	snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno ? errno : EIO));
	unlink(tmp);
out:
	if (gcm_live)
		mbedtls_gcm_free(&g);
	if (fd >= 0) {
		close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	x_free(in);
	x_free(out);
	buf_free(&hdr);
	buf_free(&aad);
	return rc;
}

/* read_header - open id's file and read magic, header; returns fd positioned at the nonce */
static int read_header(const char *path, mw_buf *aad, quar_meta *meta, char *err, size_t errlen)
{
	unsigned char lenb[4];
	char magic[4], *h;
	size_t hlen;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
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
	if (parse_header(h, meta) < 0) {
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
	unsigned char nonce[QNONCE], tag[QTAG], calc[QTAG], *in = NULL, *plain = NULL;
	char path[4200];
	mbedtls_gcm_context g;
	struct stat st;
	mw_buf aad;
	off_t body, left;
	int fd, rc = -1, gcm_live = 0;
	unsigned char diff = 0;
	size_t i;

	if (!valid_id(id)) {
		snprintf(err, errlen, "no such quarantine id");
		return -1;
	}
	buf_init(&aad, QHDR_MAX + 8);
	file_path(q, id, "", ".mwq", path, sizeof(path));
	if ((fd = read_header(path, &aad, meta, err, errlen)) < 0)
		goto out;
	if (fstat(fd, &st) < 0 || read_all(fd, nonce, QNONCE) < 0)
		goto bad;
	body = lseek(fd, 0, SEEK_CUR);
	left = st.st_size - body - QTAG;
	if (left < 0 || pread(fd, tag, QTAG, st.st_size - QTAG) != QTAG)
		goto bad;
	if (gcm_begin(&g, q->key, MBEDTLS_GCM_DECRYPT, nonce, (const unsigned char *)aad.p, aad.len) < 0)
		goto bad;
	gcm_live = 1;
	in = x_malloc(QCHUNK);
	plain = x_malloc(QCHUNK);
	while (left > 0) {
		size_t n = left > QCHUNK ? QCHUNK : (size_t)left;
		if (read_all(fd, in, n) < 0 || gcm_step(&g, in, n, plain) < 0)
			goto bad;
		/* Bytes go out before the tag is checked; on a bad tag the
		 * caller discards out (it never leaves this process). */
		if (spool_write(out, plain, n) < 0) {
			snprintf(err, errlen, "cannot store decrypted message: %s", strerror(errno));
			goto out;
		}
		left -= (off_t)n;
	}
	if (gcm_end(&g, calc) < 0)
		goto bad;
	for (i = 0; i < QTAG; i++)
		diff |= (unsigned char)(calc[i] ^ tag[i]);
	if (diff != 0) {
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
	if (gcm_live)
		mbedtls_gcm_free(&g);
	if (fd >= 0)
		close(fd);
	x_free(in);
	x_free(plain);
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
	return quar_set_state(q, id, "deleted", 0);
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

int quar_expire(mw_quar *q, time_t now)
{
	expire_ctx e = {q, now, 0};

	if (list_query(q,
	               "SELECT " QCOLS " FROM quarantine WHERE state != 'deleted' AND expires != 0 AND"
	               " expires <= ?2 AND ?1 IS NULL LIMIT ?3",
	               NULL, now, 1000, expire_one, &e) < 0)
		return -1;
	return e.n;
}

/* recover - drop partial files, index complete files the index lacks */
static void recover(mw_quar *q)
{
	DIR *d = opendir(q->dir);
	struct dirent *de;
	int removed = 0, indexed = 0;
	quar_meta *m;

	if (d == NULL)
		return;
	m = x_malloc(sizeof(*m));
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
			fd = read_header(path, &aad, m, err, sizeof(err));
			buf_free(&aad);
			if (fd < 0) {
				log_err("quarantine recovery: %s", err);
				continue;
			}
			close(fd);
			if (index_insert(q, m) == 0) {
				share(q, m->id);
				indexed++;
			}
		}
	}
	closedir(d);
	x_free(m);
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
	recover(q);
	*out = q;
	return 0;
}

void quar_close(mw_quar *q)
{
	if (q == NULL)
		return;
	memset(q->key, 0, sizeof(q->key));
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
