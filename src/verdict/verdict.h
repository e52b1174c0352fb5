/*
 * NAME
 *	verdict.h - actions, reason codes and the verdict of one message
 * SYNOPSIS
 *	#include "verdict/verdict.h"
 * DESCRIPTION
 *	A verdict is an action plus a list of reasons.  A reason is a
 *	stable dotted code, a short human detail and the part it came from.
 *	Engine stages only add facts (verdict_add); the policy maps each code
 *	to an action and the strongest action wins (verdict_finish).
 *
 *	All reason codes live in one table (reasons.c): code, default
 *	action, one-line description.  --help, the README, `mailwarden
 *	reasons` and the tests read that table.  Never rename a code.
 * LIMITS
 *	At most MW_MAX_REASONS reasons are kept per verdict; further ones are
 *	counted in `dropped`; their codes are remembered so their action
 *	still counts.  The reason table has at most MW_CODES_MAX entries.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_VERDICT_H
#define MW_VERDICT_H

#include <stddef.h>

#include "util/util.h"

/* Actions, weakest to strongest. */
typedef enum mw_action {
	MW_ACCEPT = 0,
	MW_TAG,
	MW_HOLD,
	MW_QUARANTINE,
	MW_REJECT,
	MW_TEMPFAIL,
	MW_ACTION_COUNT
} mw_action;

#define MW_MAX_REASONS 32
#define MW_CODE_MAX    40
#define MW_DETAIL_MAX  200
#define MW_PART_MAX    128 /* a content-tree path: "2:invoice.zip:doc.docx:word/embeddings/oleObject1.bin" */
#define MW_CODES_MAX   128 /* entries the reason table may have */

typedef struct mw_reason {
	char code[MW_CODE_MAX];
	char detail[MW_DETAIL_MAX];
	char part[MW_PART_MAX];
	mw_action action; /* filled in by verdict_finish() */
} mw_reason;

typedef struct mw_verdict {
	mw_action action;
	size_t nreasons;
	size_t dropped;
	unsigned long long dropped_codes[MW_CODES_MAX / 64]; /* bit i: reason_table()[i] was among the dropped */
	mw_reason reasons[MW_MAX_REASONS];
	double elapsed_ms;
} mw_verdict;

/* Reason code table entry. */
typedef struct mw_code_info {
	const char *code;
	mw_action def_action;
	const char *description;
} mw_code_info;

/* action_name, action_parse - "accept", "tag", ... ; parse returns -1 if unknown */
const char *action_name(mw_action a);
int action_parse(const char *s, mw_action *out);

/* reason_table - the table and its length */
const mw_code_info *reason_table(size_t *n);
/* reason_lookup - entry for code, or NULL */
const mw_code_info *reason_lookup(const char *code);
/* reason_index - index of code in the table, or -1 */
int reason_index(const char *code);

void verdict_init(mw_verdict *v);
/*
 * verdict_add - record a fact.  code must be in the reason table (an
 * unknown code is a bug: assert).  detail is untrusted text and is made
 * printable here.  Identical code+detail+part entries are kept once.
 */
void verdict_add(mw_verdict *v, const char *code, const char *part, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* verdict_dropped_code - 1 if a reason with code number i was dropped (over MW_MAX_REASONS) */
int verdict_dropped_code(const mw_verdict *v, size_t i);

/* verdict_has - 1 if a reason with this code (or prefix ending in '.') is present */
int verdict_has(const mw_verdict *v, const char *code);

/* verdict_reasons_line - "code1, code2" (each code once) or "none", for headers and logs */
void verdict_reasons_line(const mw_verdict *v, mw_buf *out);

#endif
