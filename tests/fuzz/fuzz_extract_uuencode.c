/*
 * NAME
 *	fuzz_extract_uuencode - libFuzzer target: the uuencode extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_uuencode
#include "fuzz_extract.h"
