/*
 * NAME
 *	sender.h - sender policy: free-mail, blocks, fan-out, campaigns
 * SYNOPSIS
 *	#include "sender/sender.h"
 *
 *	sender_rcpt(env, sender, rcpt, qid, &verdict);	(RCPT time)
 *	sender_stage(scan);				(end of message, a stage)
 *	sender_record(scan);				(after the policy)
 * DESCRIPTION
 *	Recipient classes: a recipient listed in [domains] public is public;
 *	one in a protected domain is staff; with no protected domain
 *	configured every recipient is staff.  Other recipients are not ours
 *	and are not counted.  A sender is external when its domain is not
 *	protected.
 *
 *	At RCPT time every attempt from an external sender to an internal
 *	recipient is recorded first (refused ones too), then the sender is
 *	checked against blocks (address, domain, registrable domain), the
 *	fan-out window and, for staff recipients, the free-mail list unless
 *	the allow list names the sender.
 *
 *	At end of message the header From, Reply-To and Sender are checked
 *	against the free-mail list, display names against the organisation's
 *	names and domains (spoofs), and the campaign fingerprint against the
 *	flagged ones.  After the policy, a message whose reasons include one
 *	of [sender] autoblock_codes blocks its sender and flags its
 *	fingerprint, and every fingerprint seen from that sender.
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_SENDER_H
#define MW_SENDER_H

#include <stddef.h>

#include "scan/scan.h"

typedef enum rcpt_class { RCPT_OTHER = 0, RCPT_STAFF, RCPT_PUBLIC } rcpt_class;

rcpt_class sender_rcpt_class(const mw_config *cfg, const char *rcpt);
int sender_is_external(const mw_config *cfg, const char *sender);
/* sender_freemail - the free-mail list entry matching addr, or NULL */
const char *sender_freemail(const mw_lists *lists, const char *addr);

void sender_rcpt(const mw_env *env, const char *sender, const char *rcpt, const char *queue_id, mw_verdict *v);
void sender_stage(mw_scan *s);
void sender_record(mw_scan *s);

/*
 * sender_parse_mailbox - split a decoded header value "Name <a@b>" (or
 * "a@b (Name)", or a bare address) into display name and lower-case
 * address.  Returns 0 when an address was found.
 */
int sender_parse_mailbox(const char *value, char *name, size_t namelen, char *addr, size_t addrlen);

/*
 * sender_skeleton - what stays the same across a campaign: the text with
 * names before Japanese honorifics (様, さん, 殿, ...) and after "Dear",
 * e-mail addresses, URLs, digits, white space and punctuation taken out,
 * full-width ASCII folded, ASCII lower-cased.  Appends to out (bounded by
 * its cap).  rcpt_locals: recipient local parts to remove, may be NULL.
 */
void sender_skeleton(const char *utf8, size_t len, mw_buf *out);

/* sender_fingerprint - SHA-256 hex of the message skeleton; "" when too little is left */
void sender_fingerprint(const mw_scan *s, char out[65]);

#endif
