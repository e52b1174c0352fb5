/*
 * NAME
 *	appl_tls.c - the appliance's SMTP server certificate (mbedTLS)
 * SYNOPSIS
 *	tls_selfsigned(dir, names, n, err, len);	(first boot)
 *	tls_csr(dir, names, n, &pem, err, len);		(for a CA)
 *	tls_install(dir, pem, len, &summary, err, len);	(the CA's answer)
 *	tls_show(dir, &summary, err, len);
 * DESCRIPTION
 *	DIR holds key.pem (the private key, mode 0600) and chain.pem (the
 *	server certificate first, then its intermediates, mode 0644): the two
 *	files of Postfix's smtpd_tls_chain_files.  Keys are ECDSA P-256 (every
 *	current MTA negotiates ECDHE-ECDSA), made from getrandom(2).  A
 *	self-signed certificate names the host in its CN and subjectAltName
 *	and is valid for ten years (sending MTAs do not verify certificates of
 *	an MX unless DANE or MTA-STS says so; a CA's certificate is for those).
 *
 *	A pasted chain is parsed with mbedTLS's X.509 parser (PEM only) and
 *	accepted only when the first certificate's public key is the key's,
 *	each certificate's issuer is the next one's subject and its signature
 *	verifies with the next one's key, and none has expired; then
 *	chain.pem is replaced (temporary file, fsync, rename), so Postfix
 *	never reads half a chain.  Files are written by root (the helper, via
 *	the apply command); the key never leaves the appliance.
 * LIMITS
 *	TLS_MAX_PEM bytes of PEM, TLS_MAX_CHAIN certificates, TLS_MAX_NAMES
 *	names of at most 253 bytes.
 * DIAGNOSTICS
 *	-1 with a reason in err: unreadable files, a chain that does not
 *	parse, does not match the key, is out of order or expired.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "appliance/appliance.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define F(x) MBEDTLS_PRIVATE(x)
#else
#define F(x) x
#endif

#define TLS_MAX_CHAIN 10
#define TLS_DAYS      3650
#define PEM_BUF       8192

/* rng - mbedTLS's random callback: the kernel's generator */
static int rng(void *ctx, unsigned char *out, size_t len)
{
	size_t got = 0;

	(void)ctx;
	while (got < len) {
		ssize_t r = getrandom(out + got, len - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static void mbed_err(char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "%s (mbedTLS error -0x%04x)", what, (unsigned)-rc);
}

/* read_file - a whole small file, NUL-terminated; NULL with err */
static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");
	char *p;
	size_t n;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	p = x_malloc(max + 1);
	n = fread(p, 1, max + 1, fp);
	fclose(fp);
	if (n > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		x_free(p);
		return NULL;
	}
	p[n] = 0;
	*len = n;
	return p;
}

/* write_file - dir/name replaced atomically with data, mode; 0 or -1 with err */
static int write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode, char *err,
                      size_t errlen)
{
	char path[4200], tmp[4300];
	int fd, dfd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) < 0 || mw_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* check_names - 1..TLS_MAX_NAMES host names */
static int check_names(const char *const *names, size_t n, char *err, size_t errlen)
{
	char why[200];
	size_t i;

	if (n == 0 || n > TLS_MAX_NAMES) {
		snprintf(err, errlen, "give 1..%d host names", TLS_MAX_NAMES);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (cfgcheck_domain(names[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
	return 0;
}

/* san_der - the subjectAltName extension value (SEQUENCE OF dNSName); its length at buf+size-len, or <0 */
static int san_der(const char *const *names, size_t n, unsigned char *buf, size_t size, unsigned char **start)
{
	unsigned char *p = buf + size;
	size_t len = 0, i;
	int r;

	for (i = n; i-- > 0;) {
		size_t l = strlen(names[i]);
		if ((r = mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)names[i], l)) < 0)
			return r;
		len += (size_t)r;
		if ((r = mbedtls_asn1_write_len(&p, buf, l)) < 0)
			return r;
		len += (size_t)r;
		if ((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) < 0)
			return r;
		len += (size_t)r;
	}
	if ((r = mbedtls_asn1_write_len(&p, buf, len)) < 0)
		return r;
	len += (size_t)r;
	if ((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
		return r;
	len += (size_t)r;
	*start = p;
	return (int)len;
}

/* load_key - DIR's private key into pk; 0 or -1 */
static int load_key(const char *dir, mbedtls_pk_context *pk, char *err, size_t errlen)
{
	char path[4200], *pem;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, TLS_KEY_FILE);
	if ((pem = read_file(path, TLS_MAX_PEM, &len, err, errlen)) == NULL)
		return -1;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	rc = mbedtls_pk_parse_key(pk, (const unsigned char *)pem, len + 1, NULL, 0, rng, NULL);
#else
	rc = mbedtls_pk_parse_key(pk, (const unsigned char *)pem, len + 1, NULL, 0);
#endif
	memset(pem, 0, len);
	x_free(pem);
	if (rc != 0) {
		mbed_err(err, errlen, "the private key does not parse", rc);
		return -1;
	}
	return 0;
}

static void fmt_time(const mbedtls_x509_time *t, char *out, size_t len)
{
	snprintf(out, len, "%04d-%02d-%02d %02d:%02d UTC", t->year, t->mon, t->day, t->hour, t->min);
}

/* days_left - whole days from now to t (negative when past) */
static long days_left(const mbedtls_x509_time *t)
{
	struct tm tm;
	time_t end;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->mon - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	end = timegm(&tm);
	return (long)((end - time(NULL)) / 86400);
}

/* summarize - what tls_show prints about a parsed chain (and a key, may be NULL) */
static void summarize(const mbedtls_x509_crt *chain, const mbedtls_pk_context *key, int key_state, mw_buf *out)
{
	const mbedtls_x509_crt *c;
	const mbedtls_x509_sequence *san;
	unsigned char fp[32];
	char dn[512], t1[40], t2[40];
	size_t n = 0, i;

	for (c = chain; c && c->raw.p; c = c->next)
		n++;
	mbedtls_x509_dn_gets(dn, sizeof(dn), &chain->subject);
	buf_printf(out, "subject      %s\n", dn);
	mbedtls_x509_dn_gets(dn, sizeof(dn), &chain->issuer);
	buf_printf(out, "issuer       %s%s\n", dn,
	           chain->issuer_raw.len == chain->subject_raw.len &&
	                   memcmp(chain->issuer_raw.p, chain->subject_raw.p, chain->subject_raw.len) == 0
	               ? " (self-signed)"
	               : "");
	buf_puts(out, "names       ");
	for (san = &chain->subject_alt_names; san && san->buf.p; san = san->next)
		if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2))
			buf_printf(out, " %.*s", (int)san->buf.len, (const char *)san->buf.p);
	buf_putc(out, '\n');
	fmt_time(&chain->valid_from, t1, sizeof(t1));
	fmt_time(&chain->valid_to, t2, sizeof(t2));
	buf_printf(out, "valid        %s to %s (%ld days left)\n", t1, t2, days_left(&chain->valid_to));
	mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), chain->raw.p, chain->raw.len, fp);
	buf_puts(out, "sha256       ");
	for (i = 0; i < 32; i++)
		buf_printf(out, "%02X%s", fp[i], i == 15 ? "\n             " : i < 31 ? ":" : "\n");
	buf_printf(out, "chain        %zu certificate(s)\n", n);
	if (key)
		buf_printf(out, "key          %s %zu bits, %s\n", mbedtls_pk_get_name(key), mbedtls_pk_get_bitlen(key),
		           key_state ? "matches the certificate" : "DOES NOT match the certificate");
	else
		buf_puts(out, "key          (not readable here)\n");
}

/* parse_chain - PEM text (len bytes) into chain; count, or -1 with err */
static int parse_chain(const char *pem, size_t len, mbedtls_x509_crt *chain, char *err, size_t errlen)
{
	char *copy;
	const mbedtls_x509_crt *c;
	int rc, n = 0;

	if (len == 0 || len > TLS_MAX_PEM) {
		snprintf(err, errlen, "a certificate chain is 1..%d bytes of PEM", TLS_MAX_PEM);
		return -1;
	}
	copy = x_malloc(len + 1);
	memcpy(copy, pem, len);
	copy[len] = 0;
	if (strstr(copy, "-----BEGIN CERTIFICATE-----") == NULL) {
		snprintf(err, errlen, "no \"-----BEGIN CERTIFICATE-----\" block in the text");
		x_free(copy);
		return -1;
	}
	rc = mbedtls_x509_crt_parse(chain, (const unsigned char *)copy, strlen(copy) + 1);
	x_free(copy);
	if (rc < 0) {
		mbed_err(err, errlen, "the certificates do not parse", rc);
		return -1;
	}
	if (rc > 0) {
		snprintf(err, errlen, "%d certificate(s) in the text do not parse", rc);
		return -1;
	}
	for (c = chain; c && c->raw.p; c = c->next)
		n++;
	if (n == 0 || n > TLS_MAX_CHAIN) {
		snprintf(err, errlen, "a chain has 1..%d certificates, this one %d", TLS_MAX_CHAIN, n);
		return -1;
	}
	return n;
}

/* signed_by - 0 when child's issuer is parent's subject and parent's key verifies child's signature */
static int signed_by(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent)
{
	unsigned char hash[MBEDTLS_MD_MAX_SIZE];
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(child->F(sig_md));

	if (child->issuer_raw.len != parent->subject_raw.len ||
	    memcmp(child->issuer_raw.p, parent->subject_raw.p, parent->subject_raw.len) != 0 || md == NULL)
		return -1;
	if (mbedtls_md(md, child->tbs.p, child->tbs.len, hash) != 0)
		return -1;
	return mbedtls_pk_verify_ext(child->F(sig_pk), child->F(sig_opts), (mbedtls_pk_context *)&parent->pk,
	                             child->F(sig_md), hash, mbedtls_md_get_size(md), child->F(sig).p,
	                             child->F(sig).len) == 0
	           ? 0
	           : -1;
}

static int pair_ok(const mbedtls_pk_context *pub, const mbedtls_pk_context *prv)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_pk_check_pair(pub, prv, rng, NULL) == 0;
#else
	return mbedtls_pk_check_pair(pub, prv) == 0;
#endif
}

int tls_check_chain(const char *pem, size_t len, const char *key_pem, size_t keylen, mw_buf *summary, char *err,
                    size_t errlen)
{
	mbedtls_x509_crt chain;
	mbedtls_pk_context key;
	const mbedtls_x509_crt *c;
	char *kcopy = NULL;
	int rc = -1, i = 0, r;

	mbedtls_x509_crt_init(&chain);
	mbedtls_pk_init(&key);
	if (parse_chain(pem, len, &chain, err, errlen) < 0)
		goto out;
	if (keylen == 0 || keylen > TLS_MAX_PEM) {
		snprintf(err, errlen, "no private key");
		goto out;
	}
	kcopy = x_malloc(keylen + 1);
	memcpy(kcopy, key_pem, keylen);
	kcopy[keylen] = 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	r = mbedtls_pk_parse_key(&key, (const unsigned char *)kcopy, keylen + 1, NULL, 0, rng, NULL);
#else
	r = mbedtls_pk_parse_key(&key, (const unsigned char *)kcopy, keylen + 1, NULL, 0);
#endif
	if (r != 0) {
		mbed_err(err, errlen, "the private key does not parse", r);
		goto out;
	}
	if (!pair_ok(&chain.pk, &key)) {
		snprintf(err, errlen,
		         "the first certificate is not for this appliance's key (paste the certificate issued for "
		         "the request from `tls csr`, then its intermediates)");
		goto out;
	}
	for (c = &chain; c && c->raw.p; c = c->next, i++) {
		char dn[300];
		if (mbedtls_x509_time_is_past(&c->valid_to)) {
			mbedtls_x509_dn_gets(dn, sizeof(dn), &c->subject);
			snprintf(err, errlen, "certificate %d (%.200s) has expired", i + 1, dn);
			goto out;
		}
		if (c->next && c->next->raw.p && signed_by(c, c->next) < 0) {
			mbedtls_x509_dn_gets(dn, sizeof(dn), &c->subject);
			snprintf(err, errlen,
			         "certificate %d (%.200s) is not issued and signed by the next one: paste the server "
			         "certificate first, then each issuer in order",
			         i + 1, dn);
			goto out;
		}
	}
	if (summary) {
		summarize(&chain, &key, 1, summary);
		if (mbedtls_x509_time_is_future(&chain.valid_from))
			buf_puts(summary, "note         not valid yet: check the appliance's clock (time servers)\n");
	}
	rc = 0;
out:
	if (kcopy) {
		memset(kcopy, 0, keylen);
		x_free(kcopy);
	}
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&chain);
	return rc;
}

int tls_show(const char *dir, mw_buf *out, char *err, size_t errlen)
{
	mbedtls_x509_crt chain;
	mbedtls_pk_context key;
	char path[4200], kerr[300], *pem;
	size_t len;
	int rc = -1, have_key;

	mbedtls_x509_crt_init(&chain);
	mbedtls_pk_init(&key);
	snprintf(path, sizeof(path), "%s/%s", dir, TLS_CERT_FILE);
	if ((pem = read_file(path, TLS_MAX_PEM, &len, err, errlen)) == NULL)
		goto out;
	if (parse_chain(pem, len, &chain, err, errlen) < 0)
		goto out;
	buf_printf(out, "certificate  %s\n", path);
	have_key = load_key(dir, &key, kerr, sizeof(kerr)) == 0;
	summarize(&chain, have_key ? &key : NULL, have_key && pair_ok(&chain.pk, &key), out);
	rc = 0;
out:
	x_free(pem);
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&chain);
	return rc;
}

/* validity - "YYYYMMDDhhmmss" for now + days */
static void validity(long days, char out[16])
{
	time_t t = time(NULL) + days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

int tls_selfsigned(const char *dir, const char *const *names, size_t n, char *err, size_t errlen)
{
	mbedtls_pk_context key;
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;
	unsigned char *pem = x_malloc(PEM_BUF), *kpem = x_malloc(PEM_BUF), san[2048], *sanp, rnd[16];
	char subject[300], from[16], to[16];
	int rc = -1, r, sl;

	mbedtls_pk_init(&key);
	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);
	if (check_names(names, n, err, errlen) < 0 || make_dir(dir, err, errlen) < 0)
		goto out;
	if ((r = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
	    (r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), rng, NULL)) != 0) {
		mbed_err(err, errlen, "making a P-256 key", r);
		goto out;
	}
	if (rng(NULL, rnd, sizeof(rnd)) < 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto out;
	}
	rnd[0] &= 0x7f; /* a positive serial number */
	rnd[0] |= 0x01;
	snprintf(subject, sizeof(subject), "CN=%s", names[0]);
	validity(-1, from);
	validity(TLS_DAYS, to);
	if ((sl = san_der(names, n, san, sizeof(san), &sanp)) < 0) {
		mbed_err(err, errlen, "subjectAltName", sl);
		goto out;
	}
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &key);
	if ((r = mbedtls_mpi_read_binary(&serial, rnd, sizeof(rnd))) != 0 ||
	    (r = mbedtls_x509write_crt_set_serial(&crt, &serial)) != 0 ||
	    (r = mbedtls_x509write_crt_set_subject_name(&crt, subject)) != 0 ||
	    (r = mbedtls_x509write_crt_set_issuer_name(&crt, subject)) != 0 ||
	    (r = mbedtls_x509write_crt_set_validity(&crt, from, to)) != 0 ||
	    (r = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) != 0 ||
	    (r = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0 ||
	    (r = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0 ||
	    (r = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
	                                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, sanp,
	                                             (size_t)sl)) != 0 ||
	    (r = mbedtls_x509write_crt_pem(&crt, pem, PEM_BUF, rng, NULL)) != 0) {
		mbed_err(err, errlen, "writing the certificate", r);
		goto out;
	}
	if ((r = mbedtls_pk_write_key_pem(&key, kpem, PEM_BUF)) != 0) {
		mbed_err(err, errlen, "writing the key", r);
		goto out;
	}
	/* the key first: a chain never points at a key that is not there yet */
	if (write_file(dir, TLS_KEY_FILE, kpem, strlen((char *)kpem), 0600, err, errlen) < 0 ||
	    write_file(dir, TLS_CERT_FILE, pem, strlen((char *)pem), 0644, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	memset(kpem, 0, PEM_BUF);
	x_free(kpem);
	x_free(pem);
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&crt);
	mbedtls_pk_free(&key);
	return rc;
}

int tls_csr(const char *dir, const char *const *names, size_t n, mw_buf *out, char *err, size_t errlen)
{
	mbedtls_pk_context key;
	mbedtls_x509write_csr csr;
	unsigned char *pem = x_malloc(PEM_BUF), san[2048], *sanp;
	char subject[300];
	int rc = -1, r, sl;

	mbedtls_pk_init(&key);
	mbedtls_x509write_csr_init(&csr);
	if (check_names(names, n, err, errlen) < 0 || load_key(dir, &key, err, errlen) < 0)
		goto out;
	snprintf(subject, sizeof(subject), "CN=%s", names[0]);
	if ((sl = san_der(names, n, san, sizeof(san), &sanp)) < 0) {
		mbed_err(err, errlen, "subjectAltName", sl);
		goto out;
	}
	mbedtls_x509write_csr_set_key(&csr, &key);
	mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
	if ((r = mbedtls_x509write_csr_set_subject_name(&csr, subject)) != 0 ||
	    (r = mbedtls_x509write_csr_set_extension(&csr, MBEDTLS_OID_SUBJECT_ALT_NAME,
	                                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), sanp,
	                                             (size_t)sl)) != 0 ||
	    (r = mbedtls_x509write_csr_pem(&csr, pem, PEM_BUF, rng, NULL)) != 0) {
		mbed_err(err, errlen, "writing the request", r);
		goto out;
	}
	buf_puts(out, (const char *)pem);
	rc = 0;
out:
	x_free(pem);
	mbedtls_x509write_csr_free(&csr);
	mbedtls_pk_free(&key);
	return rc;
}

int tls_install(const char *dir, const char *pem, size_t len, mw_buf *summary, char *err, size_t errlen)
{
	char path[4200], *key;
	size_t klen;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, TLS_KEY_FILE);
	if ((key = read_file(path, TLS_MAX_PEM, &klen, err, errlen)) == NULL)
		return -1;
	rc = tls_check_chain(pem, len, key, klen, summary, err, errlen);
	memset(key, 0, klen);
	x_free(key);
	if (rc < 0)
		return -1;
	return write_file(dir, TLS_CERT_FILE, pem, len, 0644, err, errlen);
}
