/*
 * NAME
 *	ex_ole.h - OLE object helpers shared by ex_ole.c, ex_rtf.c and
 *	ex_office.c (private to src/extract)
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_EX_OLE_H
#define MW_EX_OLE_H

#include "extract/ex_int.h"

/*
 * ex_ole_run - read one compound file held in memory and emit what
 * ex_ole() does, through the caller's ex_out (so limits are shared);
 * where names the object in details.  Returns non-zero to stop.
 */
int ex_ole_run(ex_out *o, const void *in, size_t len, const char *where);

/*
 * ex_ole_package - the native data of an OLE Package object after its
 * 4-byte size (flags, label, source path, temporary path, data): emit
 * the file named after the temporary path, with doc.ole_object.
 * Unparsable data is emitted whole, unnamed.  Returns non-zero to stop.
 */
int ex_ole_package(ex_out *o, const unsigned char *p, size_t n, const char *where);

#endif
