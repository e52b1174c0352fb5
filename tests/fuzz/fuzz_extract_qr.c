/*
 * NAME
 *	fuzz_extract_qr - libFuzzer target: the qr extractor (src/extract)
 * DESCRIPTION
 *	See fuzz_extract.h for what is checked.
 * LICENSE
 *	GPL-2.0-or-later
 */
#define EX_FUZZ_FN ex_qr
#include "fuzz_extract.h"
