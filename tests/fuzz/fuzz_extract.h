/*
 * NAME
 *	fuzz_extract.h - the libFuzzer harness shared by the
 *	fuzz_extract_<fmt> targets
 * SYNOPSIS
 *	#define EX_FUZZ_FN ex_pdf
 *	#include "fuzz_extract.h"
 * DESCRIPTION
 *	Runs one extractor over the input with small limits and checks what
 *	it emits: objects within max_object and max_objects, links within
 *	max_links and free of control characters, names free of control
 *	characters, every finding code in the reason table with a printable
 *	detail; the same input twice gives the same output; an emitter that
 *	stops at its first call gets rc 1.  Any violation traps.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_FUZZ_EXTRACT_H
#define MW_FUZZ_EXTRACT_H

#include "verdict/verdict.h"
#include "extract/extract.h"

#include <stdint.h>
#include <string.h>

typedef struct fz {
	const ex_limits *lim;
	size_t nobj, nlinks, calls;
	uint32_t h;
	int stop_first;
} fz;

static void fz_mix(fz *f, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		f->h = (f->h ^ s[i]) * 16777619u;
}

static void fz_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			__builtin_trap();
}

static int fz_object(void *ctx, const char *name, const char *type, const void *data, size_t len)
{
	fz *f = ctx;

	if (len > f->lim->max_object || ++f->nobj > f->lim->max_objects || data == NULL)
		__builtin_trap();
	if (name)
		fz_clean(name);
	if (type)
		fz_clean(type);
	fz_mix(f, data, len); /* reads every byte: ASan sees an object that is not really there */
	fz_mix(f, name ? name : "-", strlen(name ? name : "-"));
	f->calls++;
	return f->stop_first;
}

static int fz_link(void *ctx, const char *url, const char *context)
{
	fz *f = ctx;

	if (++f->nlinks > f->lim->max_links || *url == 0)
		__builtin_trap();
	fz_clean(url);
	fz_clean(context);
	fz_mix(f, url, strlen(url));
	f->calls++;
	return f->stop_first;
}

static int fz_finding(void *ctx, const char *code, const char *detail)
{
	fz *f = ctx;

	if (reason_lookup(code) == NULL)
		__builtin_trap();
	fz_clean(detail);
	fz_mix(f, code, strlen(code));
	fz_mix(f, detail, strlen(detail));
	f->calls++;
	return f->stop_first;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ex_limits lim;
	fz a, b, c;
	mw_emit ea = {fz_object, fz_link, fz_finding, &a}, eb = {fz_object, fz_link, fz_finding, &b},
	        ec = {fz_object, fz_link, fz_finding, &c};
	int ra, rb, rc;

	ex_limits_default(&lim);
	lim.max_objects = 20;
	lim.max_object = 256 * 1024;
	lim.max_decoded = 1024 * 1024;
	lim.max_links = 50;
	lim.max_depth = 3;
	lim.max_pixels = 1024 * 1024;
	memset(&a, 0, sizeof(a));
	a.lim = &lim;
	a.h = 2166136261u;
	b = a;
	c = a;
	c.stop_first = 1;
	ra = EX_FUZZ_FN(data, size, &lim, &ea);
	rb = EX_FUZZ_FN(data, size, &lim, &eb);
	if (ra != rb || a.h != b.h || a.calls != b.calls || ra == 1)
		__builtin_trap();
	rc = EX_FUZZ_FN(data, size, &lim, &ec);
	if (c.calls > 1 || (c.calls == 1 && rc != 1) || (c.calls == 0 && rc == 1))
		__builtin_trap();
	return 0;
}

#endif
