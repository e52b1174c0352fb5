/*
 * NAME
 *	reasons.c - the reason code table, actions, verdict building
 * DESCRIPTION
 *	reason_codes[] is the single list of reason codes.  Each entry has
 *	the default action and a one-line description; the configuration
 *	section [actions] may override the action per code.  Codes are the
 *	vocabulary of logs, headers, the console and the tests: add, never
 *	rename.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "verdict/verdict.h"
#include "util/util.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const action_names[MW_ACTION_COUNT] = {
    "accept", "tag", "hold", "quarantine", "reject", "tempfail",
};

static const mw_code_info reason_codes[] = {
    {"av.infected", MW_REJECT, "antivirus signature matched (ClamAV, in process)"},
    {"av.heuristic", MW_QUARANTINE, "ClamAV heuristic alert: encrypted archive or document, macros, broken executable"},
    {"av.limits", MW_QUARANTINE, "content exceeded ClamAV scan limits, so it could not be scanned completely"},
    {"av.unavailable", MW_TEMPFAIL, "no usable signature database is loaded: mail is deferred, never passed unscanned"},
    {"av.error", MW_TEMPFAIL, "the antivirus engine failed on this message"},
    {"mime.malformed", MW_TAG, "broken MIME structure or encoding (boundary, base64, NUL bytes, headers)"},
    {"mime.limits", MW_QUARANTINE, "a MIME parser limit was crossed (header length, depth, parts, size)"},
    {"mime.hidden_data", MW_QUARANTINE, "binary data outside every part (preamble or epilogue): no reader shows it"},
    {"sender.blocked", MW_REJECT, "the sender address or its domain is blocked (by hand, auto-block or fan-out)"},
    {"sender.freemail", MW_REJECT, "free-mail sender (envelope, From, Reply-To or Sender) to a staff address"},
    {"sender.freemail_public", MW_QUARANTINE, "free-mail sender to a public address, with links or attachments"},
    {"sender.freemail_spoof", MW_REJECT, "free-mail address whose display name claims our organisation or a partner"},
    {"sender.display_spoof", MW_QUARANTINE, "display name shows an e-mail address other than the real sender"},
    {"sender.fanout", MW_REJECT, "one external sender reached too many distinct internal recipients too fast"},
    {"sender.campaign", MW_REJECT, "same campaign fingerprint as mail from a blocked or fanned-out sender"},
    {"auth.dmarc_reject", MW_REJECT, "DMARC fails and the From domain's policy is reject"},
    {"auth.dmarc_quarantine", MW_QUARANTINE, "DMARC fails and the From domain's policy is quarantine"},
    {"auth.protected_spoof", MW_REJECT,
     "mail from outside claims one of our protected domains (envelope, From or Sender) without passing "
     "authentication"},
    {"auth.partner_spoof", MW_QUARANTINE,
     "claims a partner domain (envelope, From or Sender) and fails authentication"},
    {"auth.lookalike_sender", MW_QUARANTINE,
     "a sender domain (From, Reply-To, envelope or HELO) imitates a protected or partner domain"},
    {"auth.display_name_claim", MW_QUARANTINE,
     "display name claims our organisation or a partner on an address that is not theirs"},
    {"auth.temperror", MW_TEMPFAIL,
     "a DNS failure left a protected or partner identity unchecked, or no DNS server answered: mail is deferred"},
    {"hold.first_contact", MW_HOLD,
     "first mail from an unknown external sender with attachments or links: held, rescanned, released"},
    {"policy.lockdown", MW_HOLD, "lockdown is on: external mail (level 1: with attachments or links) is held"},
    {"quarantine.unavailable", MW_TEMPFAIL,
     "the quarantine cannot be written (full or unwritable disk): mail is deferred"},
    {"store.unavailable", MW_TEMPFAIL, "the state database cannot be used (locked, full disk): mail is deferred"},
    {"link.blocked_domain", MW_REJECT, "a link's registrable domain (or a parent) is on the block list"},
    {"link.storage", MW_QUARANTINE, "link to an online-storage or file-sharing service in mail from outside"},
    {"link.shortener", MW_TAG, "link through a URL shortener (the destination is hidden)"},
    {"link.ip_literal", MW_QUARANTINE, "link to a bare IP address (decimal, octal, hex or IPv6 forms included)"},
    {"link.lookalike", MW_QUARANTINE,
     "link host imitates a protected or partner domain (confusables, punycode, one edit, hyphen/suffix/word order)"},
    {"link.text_mismatch", MW_QUARANTINE, "the visible link text names one domain and the link goes to another"},
    {"link.script", MW_QUARANTINE, "javascript: or data: URL"},
    {"link.dangerous_scheme", MW_QUARANTINE,
     "link starts a local handler or opens a local file instead of a web page (ms-msdt:, search-ms:, file:///C:)"},
    {"link.unc", MW_QUARANTINE,
     "link to a network file share (\\\\host\\share, file://host/, smb:, WebDAV): remote file, NTLM hash sent"},
    {"link.app_handler", MW_TAG, "link starts an application through a scheme Mailwarden does not know"},
    {"link.phishing", MW_QUARANTINE, "ClamAV phishing signature or heuristic matched a link"},
    {"link.limits", MW_TAG, "more links or HTML than the limits allow; the rest was not examined"},
    {"attach.executable", MW_REJECT, "attachment with a dangerous extension (exe, scr, js, vbs, lnk, iso, ...)"},
    {"attach.double_ext", MW_REJECT, "file name hides its real extension (report.doc.exe, padding spaces or dots)"},
    {"attach.rtlo", MW_REJECT, "file name contains bidi override or invisible characters (U+202E, ...)"},
    {"attach.type_mismatch", MW_REJECT, "name or declared type says document but the content is executable or script"},
    {"attach.macro", MW_QUARANTINE, "Office document with macros (vbaProject.bin, OLE2 macros, .docm/.xlsm/.pptm)"},
    {"attach.archive_exec", MW_REJECT, "archive contains active content (executable, script, shortcut, disk image)"},
    {"attach.encrypted", MW_QUARANTINE, "encrypted archive or member: nothing inside can be inspected"},
    {"attach.bomb", MW_QUARANTINE, "archive exceeds expansion ratio, size, member count or depth limits"},
    {"content.embedded_exec", MW_REJECT,
     "executable, shortcut or disk image (or a file named to run) inside a document or other object"},
    {"content.auto_action", MW_QUARANTINE,
     "document that acts when opened: a PDF running JavaScript on open, a Launch action, DDE fields, macro events"},
    {"content.active", MW_TAG,
     "document carrying active content (PDF JavaScript, Flash, ActiveX, RichMedia, XFA; Office ActiveX controls)"},
    {"attach.incomplete", MW_QUARANTINE,
     "archive or compressed stream that cannot be read completely (truncated, corrupt, unknown method, no members)"},
    {"attach.inconsistent", MW_QUARANTINE,
     "archive whose own structures disagree (zip local headers hold entries its central directory hides)"},
    {"content.encoded", MW_TAG,
     "a file is carried inside a text body as uuencode, yEnc or BinHex (it is decoded and judged)"},
    {"content.damaged", MW_TAG,
     "an object inside the message is damaged, truncated or encrypted (CRC mismatch, no end line, unreadable "
     "structure): what could be read was judged"},
    {"content.limits", MW_QUARANTINE,
     "an object inside the message exceeds an extraction limit (objects, decoded size, nesting, image pixels)"},
    {"doc.embedded_file", MW_TAG, "a document or calendar carries a file (PDF embedded file, ...): it is judged too"},
    {"doc.ole_object", MW_QUARANTINE,
     "an embedded OLE object that drops or runs code: Package (a file), Equation Editor, RTF objects"},
    {"doc.remote_content", MW_QUARANTINE,
     "a document loads content from elsewhere when opened: remote template, linked OLE object, MHTML, UNC path"},
    {"html.smuggling", MW_QUARANTINE,
     "HTML or SVG builds a file in the browser (Blob, createObjectURL, msSaveOrOpenBlob, data: download)"},
    {"html.credential_form", MW_QUARANTINE,
     "HTML asks for a password and posts it to a web address (form action or script)"},
    {"html.redirect", MW_TAG, "HTML sends the browser elsewhere by itself (meta refresh, script navigation)"},
    {"svg.script", MW_QUARANTINE, "an SVG image carries script, event handlers or embedded HTML (foreignObject)"},
    {"image.qr_link", MW_TAG, "an image holds a QR code with a link (the link is judged as any other)"},
    {"msg.too_big", MW_REJECT, "the message is larger than limits.max_message_size"},
    {"engine.error", MW_TEMPFAIL, "internal failure (temporary file, memory bound, disk): mail is deferred"},
    {"engine.timeout", MW_TEMPFAIL, "the scan used up limits.scan_time: mail is deferred, not passed half-scanned"},
};

/* action_name - printable action */
const char *action_name(mw_action a)
{
	if ((int)a < 0 || a >= MW_ACTION_COUNT)
		return "tempfail";
	return action_names[a];
}

/* action_parse - action from its name */
int action_parse(const char *s, mw_action *out)
{
	size_t i;

	for (i = 0; i < MW_ACTION_COUNT; i++) {
		if (strcmp(s, action_names[i]) == 0) {
			*out = (mw_action)i;
			return 0;
		}
	}
	return -1;
}

/* reason_table - the code table */
const mw_code_info *reason_table(size_t *n)
{
	*n = MW_ARRAY_LEN(reason_codes);
	return reason_codes;
}

/* reason_lookup - table entry for a code */
const mw_code_info *reason_lookup(const char *code)
{
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(reason_codes); i++)
		if (strcmp(reason_codes[i].code, code) == 0)
			return &reason_codes[i];
	return NULL;
}

/* reason_index - table index of a code */
int reason_index(const char *code)
{
	const mw_code_info *c = reason_lookup(code);

	return c ? (int)(c - reason_codes) : -1;
}

/* verdict_init - empty verdict, action accept */
void verdict_init(mw_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = MW_ACCEPT;
}

/* verdict_add - record one reason (detail made printable, duplicates dropped) */
void verdict_add(mw_verdict *v, const char *code, const char *part, const char *fmt, ...)
{
	char raw[1024];
	mw_reason r;
	va_list ap;
	size_t i;

	assert(reason_lookup(code) != NULL);
	_Static_assert(MW_ARRAY_LEN(reason_codes) <= MW_CODES_MAX, "reason table larger than MW_CODES_MAX");
	memset(&r, 0, sizeof(r));
	mw_strlcpy(r.code, code, sizeof(r.code));
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	mw_printable(r.detail, sizeof(r.detail), raw, sizeof(r.detail) - 4, 1);
	mw_printable(r.part, sizeof(r.part), part ? part : "", sizeof(r.part) - 4, 1);
	r.action = reason_lookup(code)->def_action;
	for (i = 0; i < v->nreasons; i++)
		if (strcmp(v->reasons[i].code, r.code) == 0 && strcmp(v->reasons[i].detail, r.detail) == 0 &&
		    strcmp(v->reasons[i].part, r.part) == 0)
			return;
	if (v->nreasons >= MW_MAX_REASONS) {
		v->dropped++;
		int idx = reason_index(code);
		v->dropped_codes[idx / 64] |= 1ULL << (idx % 64);
		return;
	}
	v->reasons[v->nreasons++] = r;
}

/* verdict_has - is a code (or a "prefix.") present */
int verdict_has(const mw_verdict *v, const char *code)
{
	size_t i, n = strlen(code);
	int prefix = n > 0 && code[n - 1] == '.';

	for (i = 0; i < v->nreasons; i++) {
		if (prefix ? strncmp(v->reasons[i].code, code, n) == 0 : strcmp(v->reasons[i].code, code) == 0)
			return 1;
	}
	return 0;
}

/* verdict_reasons_line - see verdict.h */
void verdict_reasons_line(const mw_verdict *v, mw_buf *out)
{
	size_t i, j;

	if (v->nreasons == 0) {
		buf_puts(out, "none");
		return;
	}
	for (i = 0; i < v->nreasons; i++) {
		int dup = 0;
		for (j = 0; j < i; j++)
			if (strcmp(v->reasons[j].code, v->reasons[i].code) == 0)
				dup = 1;
		if (!dup)
			buf_printf(out, "%s%s", i ? ", " : "", v->reasons[i].code);
	}
}

int verdict_dropped_code(const mw_verdict *v, size_t i)
{
	return i < MW_CODES_MAX && ((v->dropped_codes[i / 64] >> (i % 64)) & 1);
}
