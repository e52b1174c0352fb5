/*
 * NAME
 *	hash.c - SHA-256 over mbedTLS; registrable domain over libpsl
 * DESCRIPTION
 *	mbedTLS 2.28 (Debian 12) names the functions *_ret; 3.x drops the
 *	suffix.  The context lives in an opaque byte array in mw_sha256 so
 *	callers need no mbedTLS headers; a static assertion checks the size.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "util/hash.h"
#include "util/util.h"

#include <libpsl.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <pthread.h>
#include <string.h>

_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(((mw_sha256 *)0)->opaque), "mw_sha256 too small");

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA_START mbedtls_sha256_starts
#define SHA_UPDATE mbedtls_sha256_update
#define SHA_FINISH mbedtls_sha256_finish
#else
#define SHA_START mbedtls_sha256_starts_ret
#define SHA_UPDATE mbedtls_sha256_update_ret
#define SHA_FINISH mbedtls_sha256_finish_ret
#endif

void mw_sha256_init(mw_sha256 *h)
{
	mbedtls_sha256_context *c = (mbedtls_sha256_context *)(void *)h->opaque;

	mbedtls_sha256_init(c);
	SHA_START(c, 0);
}

void mw_sha256_update(mw_sha256 *h, const void *data, size_t len)
{
	SHA_UPDATE((mbedtls_sha256_context *)(void *)h->opaque, data, len);
}

void mw_sha256_hex(mw_sha256 *h, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	mbedtls_sha256_context *c = (mbedtls_sha256_context *)(void *)h->opaque;
	unsigned char d[32];
	int i;

	SHA_FINISH(c, d);
	mbedtls_sha256_free(c);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = 0;
}

void mw_sha256_buf(const void *data, size_t len, char out[65])
{
	mw_sha256 h;

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
