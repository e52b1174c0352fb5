/*
 * NAME
 *	fuzz_extract_yenc - libFuzzer target: the yenc extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_yenc
#include "fuzz_extract.h"
