/*
 * NAME
 *	ex_yenc.c - yEnc-encoded files anywhere in a text body
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_yenc(text, len, &lim, &out);
 * DESCRIPTION
 *	Finds every "=ybegin ... name=NAME" line and decodes the lines after
 *	it up to "=yend" (yEnc 1.3: each byte is written as byte + 42, the
 *	critical ones escaped as '=' and byte + 42 + 64; a doubled leading
 *	dot is NNTP's).  Multi-part files ("=ybegin part=K" and "=ypart
 *	begin= end=") give one object per part found.  The decoded size and
 *	CRC-32 are checked against the "=yend" line (size=, crc32= for a
 *	whole file, pcrc32= for a part).  Each file is emitted with its name,
 *	plus content.encoded; a mismatch or a missing "=yend" is
 *	content.damaged, and what decoded is still emitted.
 * LIMITS
 *	A file decodes to at most ex_budget() bytes; the rest gives
 *	content.limits.  Linear in the input.
 * DIAGNOSTICS
 *	Findings: content.encoded, content.damaged, content.limits.
 * SEE ALSO
 *	http://www.yenc.org/yenc-draft.1.3.txt, ex_uu.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* key - the value of " key=" in a keyword line; the name= value runs to the end of the line */
static int key(const char *s, size_t n, const char *k, const char **v, size_t *vlen)
{
	size_t kl = strlen(k), i;

	for (i = 0; i + kl < n; i++) {
		if ((i == 0 || s[i - 1] == ' ') && memcmp(s + i, k, kl) == 0 && s[i + kl] == '=') {
			size_t st = i + kl + 1, e = st;
			if (strcmp(k, "name") == 0) {
				e = n;
				while (e > st && (s[e - 1] == ' ' || s[e - 1] == '\t'))
					e--;
			} else {
				while (e < n && s[e] != ' ')
					e++;
			}
			*v = s + st;
			*vlen = e - st;
			return 1;
		}
	}
	return 0;
}

/* num - a decimal or hex (base) key value; -1 when absent or bad */
static long long num(const char *s, size_t n, const char *k, int base)
{
	const char *v;
	size_t vl;
	char tmp[24];
	char *end;
	long long r;

	if (!key(s, n, k, &v, &vl) || vl == 0 || vl >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, vl);
	tmp[vl] = 0;
	r = strtoll(tmp, &end, base);
	return *end == 0 && r >= 0 ? r : -1;
}

/* ex_yenc - see the file header */
int ex_yenc(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	const char *text = in, *line;
	size_t pos = 0, n;
	ex_out o;

	ex_out_init(&o, emit, lim, "yEnc");
	if (memmem(text, len, "=ybegin", 7) == NULL)
		return 0;
	while (!o.stop && ex_line(text, len, &pos, &line, &n)) {
		const char *name = NULL, *endl = NULL;
		size_t nlen = 0, endn = 0, i, save;
		long long part, size, want, crc;
		uint32_t got = 0;
		char shown[64], what[96];
		mw_buf b;

		if (n < 8 || memcmp(line, "=ybegin ", 8) != 0 || !key(line, n, "name", &name, &nlen) || nlen == 0)
			continue;
		part = num(line, n, "part", 10);
		size = num(line, n, "size", 10);
		snprintf(shown, sizeof(shown), "%.*s", (int)(nlen < 60 ? nlen : 60), name);
		if (part > 0)
			snprintf(what, sizeof(what), "part %lld of yEnc file %s", part, shown);
		else
			snprintf(what, sizeof(what), "yEnc file %s", shown);
		buf_init(&b, ex_budget(&o) ? ex_budget(&o) : 1);
		for (;;) {
			save = pos;
			if (!ex_line(text, len, &pos, &line, &n))
				break;
			if (n >= 6 && memcmp(line, "=ypart", 6) == 0 && b.len == 0)
				continue;
			if (n >= 5 && memcmp(line, "=yend", 5) == 0) {
				endl = line;
				endn = n;
				break;
			}
			if (n >= 7 && memcmp(line, "=ybegin", 7) == 0) {
				pos = save; /* the next file starts: this one has no end */
				break;
			}
			i = n >= 2 && line[0] == '.' && line[1] == '.' ? 1 : 0;
			for (; i < n && !b.truncated; i++) {
				unsigned char c = (unsigned char)line[i];
				if (c == '=') {
					if (++i >= n)
						break;
					c = (unsigned char)(line[i] - 64);
				}
				buf_putc(&b, (unsigned char)(c - 42));
			}
			if (b.truncated) {
				/* skip to the end line without decoding */
				while (ex_line(text, len, &pos, &line, &n))
					if (n >= 5 && memcmp(line, "=yend", 5) == 0) {
						endl = line;
						endn = n;
						break;
					}
				break;
			}
		}
		if (ex_finding(&o, "content.encoded", "%s (%zu bytes) in the text", what, b.len))
			goto next;
		if (b.truncated) {
			ex_limit(&o, EX_LIM_DECODED, "%s larger than %zu bytes: the rest was not decoded", what, b.max);
		} else if (endl == NULL) {
			ex_finding(&o, "content.damaged", "%s ends without =yend", what);
		} else {
			got = ex_crc32(0, b.p ? b.p : "", b.len);
			want = num(endl, endn, "size", 10);
			crc = num(endl, endn, part > 0 ? "pcrc32" : "crc32", 16);
			if (want >= 0 && (unsigned long long)want != b.len)
				ex_finding(&o, "content.damaged", "%s: %zu bytes decoded, =yend says %lld", what, b.len,
				           want);
			else if (crc >= 0 && (uint32_t)crc != got)
				ex_finding(&o, "content.damaged", "%s: CRC-32 %08x, =yend says %08llx", what,
				           (unsigned)got, crc);
			else if (part <= 0 && size >= 0 && (unsigned long long)size != b.len)
				ex_finding(&o, "content.damaged", "%s: %zu bytes decoded, =ybegin says %lld", what,
				           b.len, size);
		}
		ex_object(&o, name, nlen, NULL, b.p ? b.p : "", b.len);
	next:
		buf_free(&b);
	}
	return ex_out_rc(&o);
}
