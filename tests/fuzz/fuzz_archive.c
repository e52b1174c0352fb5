/*
 * NAME
 *	fuzz_archive - libFuzzer target: the archive walker and Office checks
 * DESCRIPTION
 *	The first input byte picks the archive type the walker is told it
 *	has (so every libarchive format and filter is reached whatever the
 *	magic), the rest is the archive.  Then the whole input goes through
 *	attach_scan_buffer() as an attachment (true type, names, macros,
 *	OLE2 directory scan, walk).  No ClamAV engine: members are judged,
 *	not scanned.  Limits are lowered so bombs stay cheap per run; the
 *	walk must stop at them.  The container probe (libarchive's own
 *	recognisers) runs on every input.  Seed with the files of
 *	tests/samples/attach-fixtures.py.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"
#include "policy/policy.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>

static const attach_type kinds[] = {AT_ZIP,   AT_7Z, AT_RAR,  AT_LZH,     AT_CAB,   AT_TAR,  AT_GZIP,
                                    AT_BZIP2, AT_XZ, AT_ZSTD, AT_ISO9660, AT_OOXML, AT_OLE2, AT_CONTAINER};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mw_config *cfg;
	mw_verdict v;
	at_ctx c;
	at_src src;
	const char *what;

	if (cfg == NULL) {
		const char *ov[] = {"limits.archive_max_expanded=4M", "limits.archive_ratio_floor=256K",
		                    "limits.archive_max_members=200", "limits.archive_member_memory=64K"};
		char err[256];
		if (config_load(NULL, ov, 4, &cfg, err, sizeof(err)) < 0)
			__builtin_trap();
	}
	if (size < 1)
		return 0;
	memset(&c, 0, sizeof(c));
	verdict_init(&v);
	c.lim = &cfg->lim;
	c.tmpdir = "/tmp";
	c.v = &v;
	src.mem = data + 1;
	src.fd = -1;
	src.len = size - 1;
	if (kinds[data[0] % MW_ARRAY_LEN(kinds)] == AT_OOXML || kinds[data[0] % MW_ARRAY_LEN(kinds)] == AT_OLE2)
		at_office_macros(&src, kinds[data[0] % MW_ARRAY_LEN(kinds)], &what);
	else
		at_archive_walk(&c, &src, kinds[data[0] % MW_ARRAY_LEN(kinds)], "1", "fuzz", 1);
	if (c.expanded > cfg->lim.archive_max_expanded + 64 * 1024)
		__builtin_trap(); /* read past the limit by more than one block */
	(void)at_container_probe(&src);
	verdict_init(&v);
	attach_scan_buffer(&cfg->lim, NULL, "/tmp", "fuzz.zip", NULL, data, size, &v);
	return 0;
}
