/*
 * NAME
 *	fuzz_extract_ics - libFuzzer target: the ics extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_ics
#include "fuzz_extract.h"
