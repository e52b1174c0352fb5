/*
 * NAME
 *	fuzz_tls_chain - libFuzzer target: a certificate chain pasted on the
 *	console (`tls install`)
 * DESCRIPTION
 *	The input is handed to tls_check_chain() as PEM text, against a key
 *	made once at start-up (tls_selfsigned into a temporary directory),
 *	and, with a PEM header put in front, as a certificate block.  The
 *	parsing is mbedTLS's X.509 parser; what is ours is the chain walk
 *	(issuer names, signatures, dates, key match) and the summary.  Nothing
 *	may crash; a refusal must say why.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "appliance/appliance.h"
#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *key;
static size_t keylen;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_tls_chain.XXXXXX", path[100], err[300];
	const char *names[] = {"fuzz.example"};
	FILE *fp;

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL || tls_selfsigned(dir, names, 1, err, sizeof(err)) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	fp = fopen(path, "r");
	if (fp == NULL)
		abort();
	key = malloc(TLS_MAX_PEM);
	keylen = fread(key, 1, TLS_MAX_PEM, fp);
	fclose(fp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/chain.pem", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n", tail[] = "\n-----END CERTIFICATE-----\n";
	char err[400];
	mw_buf sum, pem;

	buf_init(&sum, 0);
	err[0] = 0;
	if (tls_check_chain((const char *)data, size, key, keylen, &sum, err, sizeof(err)) < 0 && err[0] == 0)
		__builtin_trap();
	buf_free(&sum);
	buf_init(&pem, TLS_MAX_PEM);
	buf_puts(&pem, head);
	buf_append(&pem, data, size);
	buf_puts(&pem, tail);
	buf_init(&sum, 0);
	err[0] = 0;
	if (tls_check_chain(pem.p, pem.len, key, keylen, &sum, err, sizeof(err)) < 0 && err[0] == 0)
		__builtin_trap();
	buf_free(&sum);
	buf_free(&pem);
	return 0;
}
