/*
 * NAME
 *	fuzz_extract_html - libFuzzer target: the html extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_html
#include "fuzz_extract.h"
