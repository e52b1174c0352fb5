/*
 * NAME
 *	fuzz_extract_binhex - libFuzzer target: the binhex extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_binhex
#include "fuzz_extract.h"
