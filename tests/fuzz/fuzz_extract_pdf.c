/*
 * NAME
 *	fuzz_extract_pdf - libFuzzer target: the pdf extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_pdf
#include "fuzz_extract.h"
