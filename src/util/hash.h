/*
 * NAME
 *	hash.h - SHA-256 (mbedTLS) and registrable domains (libpsl)
 * DESCRIPTION
 *	mw_sha256_*: streaming SHA-256 over mbedTLS 2.x or 3.x.
 *	mw_siphash_*: SipHash-2-4, a keyed 64-bit hash (a PRF): with a secret
 *	random key, nobody who does not know it can make two contents
 *	collide, so it can tell "this object was already scanned" apart from
 *	"an attacker made it look so" (the coverage set of a scan).
 *	mw_regdomain: the registrable domain (eTLD+1) of a lower-case host
 *	name, from Debian's public suffix list (psl_latest), loaded once.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_HASH_H
#define MW_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_sha256 {
	unsigned char opaque[256]; /* mbedtls_sha256_context, kept opaque */
} mw_sha256;

void mw_sha256_init(mw_sha256 *h);
void mw_sha256_update(mw_sha256 *h, const void *data, size_t len);
/* mw_sha256_hex - finish into 64 hex digits + NUL */
void mw_sha256_hex(mw_sha256 *h, char out[65]);
/* mw_sha256_buf - one-shot hex digest */
void mw_sha256_buf(const void *data, size_t len, char out[65]);

typedef struct mw_siphash {
	uint64_t v0, v1, v2, v3;
	unsigned char buf[8]; /* bytes not yet in a full 8-byte word */
	size_t nbuf;
	uint64_t len; /* bytes hashed so far */
} mw_siphash;

void mw_siphash_init(mw_siphash *h, const unsigned char key[16]);
void mw_siphash_update(mw_siphash *h, const void *data, size_t len);
uint64_t mw_siphash_final(mw_siphash *h);
/* mw_siphash64 - one-shot */
uint64_t mw_siphash64(const unsigned char key[16], const void *data, size_t len);

/*
 * mw_hash_key - the process's secret SipHash key (16 random bytes, from
 * getrandom at first use): one key for every "have we seen these bytes"
 * question in the process, so hashes can be compared across modules.
 */
const unsigned char *mw_hash_key(void);

/* mw_regdomain - eTLD+1 of host into out; returns out, or host itself when it has none */
const char *mw_regdomain(const char *host, char *out, size_t len);

#endif
