/*
 * NAME
 *	console_passwd.c - console passwords: PBKDF2-SHA256 records in a file
 * SYNOPSIS
 *	pw_make("admin", "secret", 200000, line, sizeof(line));
 *	pw_store(path, "admin", line);
 *	if (pw_find(path, "admin", rec, sizeof(rec)) == 1 && pw_verify(rec, "admin", typed) == 1) ...
 * DESCRIPTION
 *	One line per user: NAME:pbkdf2-sha256:ITERATIONS:SALT:HASH, salt
 *	(16 random bytes, getrandom) and hash (32 bytes) in lower-case hex.
 *	The iteration count is kept per record, so raising
 *	console.pbkdf2_iterations applies at the next `passwd` while old
 *	records still verify.  Verification compares in constant time.
 *
 *	The file (STATEDIR/console.passwd) is written whole: a temporary
 *	file 0600 in the same directory, fsync, rename, so a power cut
 *	leaves the old or the new file, never half of one.
 *
 *	mbedTLS 2.28 (mbedtls_pkcs5_pbkdf2_hmac with an md context) and 3.x
 *	(mbedtls_pkcs5_pbkdf2_hmac_ext) are both supported.
 * LIMITS
 *	PW_LINE bytes per record, 1000 records, iterations 1..100000000,
 *	passwords up to 256 bytes.
 * DIAGNOSTICS
 *	-1 with errno on I/O failures; pw_verify() returns -1 for a record
 *	it cannot parse (never "match").
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "console/console.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define PW_MAX_RECORDS 1000
#define PW_SCHEME      "pbkdf2-sha256"

int pw_hash(const char *password, unsigned iterations, const unsigned char *salt, size_t saltlen,
            unsigned char out[PW_HASH])
{
	size_t plen = strlen(password);
	int rc;

	if (iterations == 0 || plen > 256)
		return -1;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	rc = mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, (const unsigned char *)password, plen, salt, saltlen,
	                                   iterations, PW_HASH, out);
#else
	{
		mbedtls_md_context_t md;
		mbedtls_md_init(&md);
		rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
		if (rc == 0)
			rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, plen, salt, saltlen,
			                               iterations, PW_HASH, out);
		mbedtls_md_free(&md);
	}
#endif
	return rc == 0 ? 0 : -1;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* unhex - exactly n bytes of lower-case hex from s (2n digits, then ':' or end); -1 otherwise */
static int unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;

	for (i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return s[2 * n] == 0 || s[2 * n] == ':' ? 0 : -1;
}

/* valid_name - letters, digits, . _ -; 1..32 */
static int valid_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("._-", s[i])))
			return 0;
	return i > 0 && i <= 32;
}

int pw_make(const char *name, const char *password, unsigned iterations, char *line, size_t len)
{
	unsigned char salt[PW_SALT], h[PW_HASH];
	char hs[2 * PW_SALT + 1], hh[2 * PW_HASH + 1];
	size_t got = 0;

	if (!valid_name(name))
		return -1;
	while (got < sizeof(salt)) {
		ssize_t r = getrandom(salt + got, sizeof(salt) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	if (pw_hash(password, iterations, salt, sizeof(salt), h) < 0)
		return -1;
	hex(salt, sizeof(salt), hs);
	hex(h, sizeof(h), hh);
	if ((size_t)snprintf(line, len, "%s:%s:%u:%s:%s", name, PW_SCHEME, iterations, hs, hh) >= len)
		return -1;
	return 0;
}

int pw_verify(const char *record, const char *name, const char *password)
{
	unsigned char salt[PW_SALT], want[PW_HASH], got[PW_HASH], diff = 0;
	size_t nl = strlen(name), i;
	const char *p;
	unsigned long iter = 0;

	if (strncmp(record, name, nl) != 0 || record[nl] != ':')
		return -1;
	p = record + nl + 1;
	if (strncmp(p, PW_SCHEME ":", sizeof(PW_SCHEME)) != 0)
		return -1;
	p += sizeof(PW_SCHEME);
	for (i = 0; p[i] >= '0' && p[i] <= '9' && i < 9; i++)
		iter = iter * 10 + (unsigned long)(p[i] - '0');
	if (i == 0 || p[i] != ':' || iter == 0 || iter > 100000000UL)
		return -1;
	p += i + 1;
	if (unhex(p, salt, sizeof(salt)) < 0 || p[2 * PW_SALT] != ':')
		return -1;
	p += 2 * PW_SALT + 1;
	if (unhex(p, want, sizeof(want)) < 0 || p[2 * PW_HASH] != 0)
		return -1;
	if (pw_hash(password, (unsigned)iter, salt, sizeof(salt), got) < 0)
		return -1;
	for (i = 0; i < PW_HASH; i++)
		diff |= (unsigned char)(got[i] ^ want[i]);
	return diff == 0;
}

int pw_find(const char *path, const char *name, char *record, size_t len)
{
	char line[PW_LINE + 2];
	size_t nl = strlen(name), n = 0;
	FILE *fp = fopen(path, "re");
	int found = 0;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) && n++ < PW_MAX_RECORDS) {
		line[strcspn(line, "\r\n")] = 0;
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			mw_strlcpy(record, line, len);
			found = 1;
			break;
		}
	}
	fclose(fp);
	return found;
}

int pw_store(const char *path, const char *name, const char *record)
{
	char line[PW_LINE + 2], *tmp;
	size_t nl = strlen(name), n = 0;
	FILE *in = fopen(path, "re"), *out;
	int fd, rc = -1, saved;

	tmp = x_malloc(strlen(path) + 16);
	sprintf(tmp, "%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while (in && fgets(line, sizeof(line), in) && n++ < PW_MAX_RECORDS) {
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] && !(strncmp(line, name, nl) == 0 && line[nl] == ':'))
			fprintf(out, "%s\n", line);
	}
	fprintf(out, "%s\n", record);
	if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
		fclose(out);
		unlink(tmp);
		goto out;
	}
	if (fclose(out) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	if (in)
		fclose(in);
	x_free(tmp);
	errno = saved;
	return rc;
}
