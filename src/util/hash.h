/*
 * NAME
 *	hash.h - SHA-256 (mbedTLS) and registrable domains (libpsl)
 * DESCRIPTION
 *	mw_sha256_*: streaming SHA-256 over mbedTLS 2.x or 3.x.
 *	mw_regdomain: the registrable domain (eTLD+1) of a lower-case host
 *	name, from Debian's public suffix list (psl_latest), loaded once.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_HASH_H
#define MW_HASH_H

#include <stddef.h>

typedef struct mw_sha256 {
	unsigned char opaque[256]; /* mbedtls_sha256_context, kept opaque */
} mw_sha256;

void mw_sha256_init(mw_sha256 *h);
void mw_sha256_update(mw_sha256 *h, const void *data, size_t len);
/* mw_sha256_hex - finish into 64 hex digits + NUL */
void mw_sha256_hex(mw_sha256 *h, char out[65]);
/* mw_sha256_buf - one-shot hex digest */
void mw_sha256_buf(const void *data, size_t len, char out[65]);

/* mw_regdomain - eTLD+1 of host into out; returns out, or host itself when it has none */
const char *mw_regdomain(const char *host, char *out, size_t len);

#endif
