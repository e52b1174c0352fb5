/*
 * NAME
 *	hash.c - SHA-256; registrable domain over libpsl
 * DESCRIPTION
 *	SHA-256 goes through libclamav's hash API (cl_hash_data and
 *	cl_hash_init: OpenSSL's EVP underneath, which uses the CPU's SHA
 *	instructions or NEON; about ten times faster than mbedTLS's C code,
 *	which took 45 % of the instructions of a scan of mail with a 100 KB
 *	attachment), falling back to mbedTLS if libclamav cannot hash.
 *	mbedTLS 2.28 (Debian 12) names the functions *_ret; 3.x drops the
 *	suffix.  The context lives in an opaque byte array in mw_sha256 so
 *	callers need no mbedTLS or libclamav headers; a static assertion
 *	checks the size.  Every mw_sha256_init must be ended by
 *	mw_sha256_hex (which frees the libclamav context).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "util/hash.h"
#include "util/util.h"

#include <clamav.h>
#include <libpsl.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

typedef struct sha_ctx {
	void *cl; /* libclamav hash context, or NULL: mbedTLS */
	mbedtls_sha256_context mb;
} sha_ctx;

_Static_assert(sizeof(sha_ctx) <= sizeof(((mw_sha256 *)0)->opaque), "mw_sha256 too small");

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA_START  mbedtls_sha256_starts
#define SHA_UPDATE mbedtls_sha256_update
#define SHA_FINISH mbedtls_sha256_finish
#else
#define SHA_START  mbedtls_sha256_starts_ret
#define SHA_UPDATE mbedtls_sha256_update_ret
#define SHA_FINISH mbedtls_sha256_finish_ret
#endif

static void to_hex(const unsigned char d[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = 0;
}

void mw_sha256_init(mw_sha256 *h)
{
	sha_ctx *c = (sha_ctx *)(void *)h->opaque;

	c->cl = cl_hash_init("sha256");
	if (c->cl == NULL) {
		mbedtls_sha256_init(&c->mb);
		SHA_START(&c->mb, 0);
	}
}

void mw_sha256_update(mw_sha256 *h, const void *data, size_t len)
{
	sha_ctx *c = (sha_ctx *)(void *)h->opaque;

	if (c->cl)
		cl_update_hash(c->cl, data, len);
	else
		SHA_UPDATE(&c->mb, data, len);
}

void mw_sha256_hex(mw_sha256 *h, char out[65])
{
	sha_ctx *c = (sha_ctx *)(void *)h->opaque;
	unsigned char d[32];

	if (c->cl) {
		cl_finish_hash(c->cl, d); /* frees the context */
		c->cl = NULL;
	} else {
		SHA_FINISH(&c->mb, d);
		mbedtls_sha256_free(&c->mb);
	}
	to_hex(d, out);
}

void mw_sha256_buf(const void *data, size_t len, char out[65])
{
	unsigned char d[32];
	unsigned int dlen = sizeof(d);
	mw_sha256 h;

	if (cl_hash_data("sha256", data, len, d, &dlen) != NULL && dlen == 32) {
		to_hex(d, out);
		return;
	}
	mw_sha256_init(&h);
	mw_sha256_update(&h, data, len);
	mw_sha256_hex(&h, out);
}

static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

static void psl_load(void)
{
	psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
}

const char *mw_regdomain(const char *host, char *out, size_t len)
{
	const char *r;

	pthread_once(&psl_once, psl_load);
	r = psl ? psl_registrable_domain(psl, host) : NULL;
	mw_strlcpy(out, r ? r : host, len);
	return out;
}

/* ---- SipHash-2-4 (Aumasson and Bernstein, 2012), from the specification ---- */

static uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* sip_round - one SipRound over the four state words */
static void sip_round(mw_siphash *h)
{
	h->v0 += h->v1;
	h->v1 = rotl64(h->v1, 13) ^ h->v0;
	h->v0 = rotl64(h->v0, 32);
	h->v2 += h->v3;
	h->v3 = rotl64(h->v3, 16) ^ h->v2;
	h->v0 += h->v3;
	h->v3 = rotl64(h->v3, 21) ^ h->v0;
	h->v2 += h->v1;
	h->v1 = rotl64(h->v1, 17) ^ h->v2;
	h->v2 = rotl64(h->v2, 32);
}

/* sip_word - absorb one 64-bit message word (two compression rounds) */
static void sip_word(mw_siphash *h, uint64_t m)
{
	h->v3 ^= m;
	sip_round(h);
	sip_round(h);
	h->v0 ^= m;
}

void mw_siphash_init(mw_siphash *h, const unsigned char key[16])
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);

	memset(h, 0, sizeof(*h));
	h->v0 = k0 ^ 0x736f6d6570736575ULL; /* "somepseudorandomlygeneratedbytes" */
	h->v1 = k1 ^ 0x646f72616e646f6dULL;
	h->v2 = k0 ^ 0x6c7967656e657261ULL;
	h->v3 = k1 ^ 0x7465646279746573ULL;
}

void mw_siphash_update(mw_siphash *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	h->len += len;
	if (h->nbuf) {
		while (len > 0 && h->nbuf < 8) {
			h->buf[h->nbuf++] = *p++;
			len--;
		}
		if (h->nbuf < 8)
			return;
		sip_word(h, le64(h->buf));
		h->nbuf = 0;
	}
	for (; len >= 8; p += 8, len -= 8)
		sip_word(h, le64(p));
	memcpy(h->buf, p, len);
	h->nbuf = len;
}

uint64_t mw_siphash_final(mw_siphash *h)
{
	uint64_t last = (h->len & 0xff) << 56;
	size_t i;

	for (i = 0; i < h->nbuf; i++)
		last |= (uint64_t)h->buf[i] << (8 * i);
	sip_word(h, last);
	h->v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		sip_round(h);
	return h->v0 ^ h->v1 ^ h->v2 ^ h->v3;
}

uint64_t mw_siphash64(const unsigned char key[16], const void *data, size_t len)
{
	mw_siphash h;

	mw_siphash_init(&h, key);
	mw_siphash_update(&h, data, len);
	return mw_siphash_final(&h);
}

static unsigned char hash_key[16];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

/* hash_key_init - a secret key per process; without getrandom(), one from the clock and addresses */
static void hash_key_init(void)
{
	if (getrandom(hash_key, sizeof(hash_key), 0) != (ssize_t)sizeof(hash_key)) {
		uint64_t a = (uint64_t)(mw_now_ms() * 1000.0) ^ (uint64_t)(uintptr_t)&hash_key;
		uint64_t b = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)&a;
		memcpy(hash_key, &a, 8);
		memcpy(hash_key + 8, &b, 8);
	}
}

const unsigned char *mw_hash_key(void)
{
	pthread_once(&hash_key_once, hash_key_init);
	return hash_key;
}
