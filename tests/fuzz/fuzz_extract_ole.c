/*
 * NAME
 *	fuzz_extract_ole - libFuzzer target: the ole extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_ole
#include "fuzz_extract.h"
