/*
 * NAME
 *	reply.c - verdict to milter reply, in one place
 * DESCRIPTION
 *	accept and tag: the message goes on with X-Mailwarden-Verdict and
 *	X-Mailwarden-Reasons headers (any such headers the sender forged are
 *	deleted first), and with our Authentication-Results on top when
 *	sender authentication ran (received ones with our authserv-id are
 *	deleted: RFC 8601 section 5).  hold and quarantine: the caller has written the
 *	message durably to Mailwarden's encrypted quarantine; the MTA is told
 *	to discard its copy (250 to the client).  Without a quarantine copy
 *	the answer is tempfail.  reject: 550 5.7.1 with the reason codes and the first
 *	detail, made printable.  tempfail: 451 4.7.1.
 *
 *	Reply text is untrusted (a signature name, a detail quoting a file
 *	name): it is cut short, and control characters, quotes, backslashes
 *	and '%' are replaced, so nothing can be injected into the SMTP reply.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "milter/milter.h"
#include "util/log.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>

/* reply_text - printable, percent-free text for smfi_setreply */
static void reply_text(char *dst, size_t len, const char *src)
{
	char *p;

	mw_printable(dst, len, src, len - 4, 0);
	for (p = dst; *p; p++)
		if (*p == '%')
			*p = '?';
}

static void verdict_headers(SMFICTX *ctx, const mw_result *res, const mw_hdrinfo *h)
{
	const char *sp = h->leadspc ? " " : "";
	mw_buf v;
	size_t k;
	int i;

	/* Remove forged copies, last first so indexes stay valid (the same
	 * order OpenDKIM had to adopt for CVE-2022-48521). */
	for (i = h->forged_v; i >= 1; i--)
		smfi_chgheader(ctx, "X-Mailwarden-Verdict", i, NULL);
	for (i = h->forged_r; i >= 1; i--)
		smfi_chgheader(ctx, "X-Mailwarden-Reasons", i, NULL);
	for (k = h->nar_ours; k > 0; k--)
		smfi_chgheader(ctx, "Authentication-Results", (int)h->ar_ours[k - 1], NULL);
	buf_init(&v, 2100);
	if (res->auth.ran && res->auth.header[0]) {
		/* RFC 8601: on top, above the fields it vouches for */
		buf_printf(&v, "%s%s", sp, res->auth.header);
		smfi_insheader(ctx, 0, "Authentication-Results", v.p);
		buf_reset(&v);
	}
	buf_puts(&v, sp);
	buf_puts(&v, action_name(res->verdict.action));
	smfi_addheader(ctx, "X-Mailwarden-Verdict", v.p);
	buf_reset(&v);
	buf_puts(&v, sp);
	verdict_reasons_line(&res->verdict, &v);
	smfi_addheader(ctx, "X-Mailwarden-Reasons", v.p);
	buf_free(&v);
}

sfsistat milter_tempfail(SMFICTX *ctx, const char *why)
{
	char text[200];

	reply_text(text, sizeof(text), why);
	smfi_setreply(ctx, "451", "4.7.1", text);
	return SMFIS_TEMPFAIL;
}

/* first_detail - code (detail) of the strongest reason, for reply text */
static const mw_reason *strongest(const mw_verdict *v)
{
	const mw_reason *best = NULL;
	size_t i;

	for (i = 0; i < v->nreasons; i++)
		if (best == NULL || v->reasons[i].action > best->action)
			best = &v->reasons[i];
	return best;
}

sfsistat milter_rcpt_reply(SMFICTX *ctx, const mw_verdict *v)
{
	const mw_reason *r = strongest(v);
	char text[300], raw[400];

	if (v->action == MW_TEMPFAIL) {
		snprintf(raw, sizeof(raw), "Temporary failure in Mailwarden: %s, please try again later",
		         r ? r->code : "internal error");
		return milter_tempfail(ctx, raw);
	}
	if (v->action >= MW_REJECT) {
		snprintf(raw, sizeof(raw), "Recipient refused by Mailwarden: %s (%s)", r ? r->code : "policy",
		         r ? r->detail : "");
		reply_text(text, sizeof(text), raw);
		smfi_setreply(ctx, "550", "5.7.1", text);
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

sfsistat milter_reply(SMFICTX *ctx, const mw_msg *m, const mw_result *res, const mw_hdrinfo *h, const char *quar_id)
{
	const mw_reason *r = strongest(&res->verdict);
	char text[300], raw[400];

	switch (res->verdict.action) {
	case MW_ACCEPT:
	case MW_TAG: verdict_headers(ctx, res, h); return SMFIS_CONTINUE;
	case MW_HOLD:
	case MW_QUARANTINE:
		/* Already written durably to Mailwarden's quarantine by the
		 * caller: the MTA answers 250 and drops its copy. */
		if (quar_id == NULL || *quar_id == 0) {
			log_err("%s: no quarantine copy; deferring", msg_queue_id(m));
			return milter_tempfail(ctx, "Temporary failure: quarantine unavailable, try again later");
		}
		(void)text;
		return SMFIS_DISCARD;
	case MW_REJECT:
		snprintf(raw, sizeof(raw), "Message refused by Mailwarden: %s (%s)", r ? r->code : "policy",
		         r ? r->detail : "");
		reply_text(text, sizeof(text), raw);
		smfi_setreply(ctx, "550", "5.7.1", text);
		return SMFIS_REJECT;
	case MW_TEMPFAIL:
	default:
		snprintf(raw, sizeof(raw), "Temporary failure in Mailwarden: %s, please try again later",
		         r ? r->code : "internal error");
		return milter_tempfail(ctx, raw);
	}
}
