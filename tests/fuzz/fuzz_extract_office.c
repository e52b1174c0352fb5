/*
 * NAME
 *	fuzz_extract_office - libFuzzer target: the office extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_office
#include "fuzz_extract.h"
