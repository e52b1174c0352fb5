/*
 * NAME
 *	content.h - the content tree: judge every object in a message,
 *	however it is packed
 * SYNOPSIS
 *	#include "content/content.h"
 *
 *	content_begin(scan);	(before the av stage: its scans feed the tree)
 *	... av stage ...
 *	content_stage(scan);	(after it: objects extracted by our parsers;
 *				 again after the attach stage, for what
 *				 libclamav opened inside archive members)
 *	content_end(scan);
 * DESCRIPTION
 *	A message is a tree of objects: MIME parts, and under each part the
 *	objects inside it, recursively.  libclamav already opens most
 *	containers while it scans a part (archives, OLE2, OOXML, PDF, RTF,
 *	TNEF, mail, HTML ...) and its file-inspection callback reports every
 *	object it visits; content_begin() makes the av stage hand each one
 *	here, and each is judged with our rules, wherever it sits:
 *
 *	  content.embedded_exec	an executable, shortcut or disk image (by
 *				content), or a file named to run (by name:
 *				.exe, .js, .lnk ...), inside a document or
 *				another object that is not a plain archive
 *	  attach.rtlo, attach.double_ext
 *				the same name rules as attachments
 *	  links			every text, HTML or XML object goes through
 *				the link rules (links_node_text) with its
 *				path as the part: a document's relationships,
 *				a PDF's scripts, an HTML file in an archive
 *
 *	libclamav's metadata of each part (its --gen-json properties) adds
 *	what documents do when opened: content.auto_action (a PDF that runs
 *	JavaScript on opening, or has a Launch action), content.active (a
 *	PDF carrying JavaScript, Flash, ActiveX, RichMedia or XFA), and
 *	attach.macro for macros libclamav finds in documents our own check
 *	does not reach (a document inside a PDF or an RTF).
 *
 *	Objects inside plain archives (zip, rar, 7z, tar, gzip ...) are
 *	judged by the attach stage's walker, which also reads the formats
 *	libclamav does not; they are listed in the tree, not judged twice.
 *	A node's path is the MIME part id, then one ":name" per level (a
 *	"[TYPE]" when libclamav knows no name), e.g.
 *	"2:invoice.pdf:[MSEXE]" or "2:report.docx:oleObject1.bin".
 * LIMITS
 *	Objects deeper than CONTENT_DEPTH levels are listed but not named
 *	past that depth; text objects larger than CONTENT_TEXT_MAX bytes are
 *	not searched for links (libclamav still scans them); the metadata
 *	JSON is walked to CONTENT_JSON_DEPTH levels.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_CONTENT_H
#define MW_CONTENT_H

#include "extract/ex_memo.h"
#include "scan/scan.h"

/* content_begin - route what the av stage's scans visit into the content tree of st */
void content_begin(mw_scan *st);

/* content_stage - the engine stage after av: objects our own parsers extract; run again after the attach
 * stage, it goes on from the last object handled */
void content_stage(mw_scan *st);

/* content_end - free what content_begin set up */
void content_end(mw_scan *st);

/* content_memo_stats - of the extractors' memo (all zero before its first use, or when off) */
void content_memo_stats(ex_memo_stat *out);

#endif
