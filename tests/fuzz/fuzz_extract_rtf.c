/*
 * NAME
 *	fuzz_extract_rtf - libFuzzer target: the rtf extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_rtf
#include "fuzz_extract.h"
