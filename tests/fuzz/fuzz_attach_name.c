/*
 * NAME
 *	fuzz_attach_name - libFuzzer target: file name rules and the true-type table
 * DESCRIPTION
 *	The input is a file name (NUL-terminated copy) for
 *	attach_name_check(), at_utf8_name(), at_safe_name() and
 *	at_part_id(), and content for attach_type_detect().  Checks: the
 *	extension is lower-case ASCII and NUL-terminated, part ids stay
 *	below MW_PART_MAX - 3 bytes, safe names hold no control bytes.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "attach/attach_int.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = x_strndup((const char *)data, size);
	char out[MW_DETAIL_MAX], part[MW_PART_MAX], utf[300];
	attach_name_info ni;
	size_t i;

	attach_name_check(name, &ni);
	for (i = 0; ni.ext[i]; i++)
		if (!((ni.ext[i] >= 'a' && ni.ext[i] <= 'z') || (ni.ext[i] >= '0' && ni.ext[i] <= '9') ||
		      ni.ext[i] == '-' || ni.ext[i] == '_'))
			__builtin_trap();
	at_utf8_name(utf, sizeof(utf), name);
	if (strlen(utf) >= sizeof(utf))
		__builtin_trap();
	attach_name_check(utf, NULL);
	at_safe_name(out, sizeof(out), utf);
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			__builtin_trap();
	at_part_id(part, sizeof(part), size > 2 && data[0] == '1' ? "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17" : "2",
	           utf);
	if (strlen(part) > MW_PART_MAX - 4)
		__builtin_trap();
	attach_type_declared_doc(name);
	(void)attach_type_name(
	    attach_type_detect(data, size, size >= 512 ? data + size - 512 : NULL, size >= 512 ? 512 : 0, size));
	x_free(name);
	return 0;
}
