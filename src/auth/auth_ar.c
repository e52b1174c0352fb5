/*
 * NAME
 *	auth_ar.c - Authentication-Results (RFC 8601): ours, and spotting
 *	received ones that carry our authserv-id
 * SYNOPSIS
 *	#include "auth/auth.h"
 *
 *	auth_ar_format(&info, "mx.example.com", out, sizeof(out));
 *	if (auth_ar_is_ours(value, len, "mx.example.com")) ... remove it
 * DESCRIPTION
 *	Our value: the authserv-id, then one resinfo per line ("\n\t"
 *	between them, as libmilter folds added fields):
 *
 *	    mx.example.com;
 *		spf=pass smtp.mailfrom=a@sender.example;
 *		spf=none smtp.helo=client.sender.example;
 *		dkim=pass header.d=sender.example header.s=sel header.b=Ab12Cd34;
 *		dmarc=pass (p=reject sp=reject) header.from=sender.example
 *
 *	Property values are written as they are when they are plain domain
 *	or address characters, else as a quoted-string with every byte that
 *	is not printable ASCII replaced: what a sender wrote cannot break
 *	out of the value.  With no check run the value is "ID; none".
 *
 *	RFC 8601 section 5: a received field with our authserv-id is a
 *	forgery (only we may use it) and must go.  auth_ar_authserv_id()
 *	reads the first value of a field after comments and white space: a
 *	token, or a quoted-string (quoted-pairs unescaped).
 * LIMITS
 *	Comment nesting is followed to COMMENT_DEPTH_MAX levels (deeper
 *	parentheses still count, so a comment always ends where RFC 5322
 *	says).  An authserv-id longer than the caller's buffer is no match.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COMMENT_DEPTH_MAX 64

/* skip_cfws - past white space (folding included) and comments from i */
static size_t skip_cfws(const char *v, size_t len, size_t i)
{
	while (i < len) {
		char c = v[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
		} else if (c == '(') {
			size_t depth = 0;
			do {
				if (v[i] == '\\' && i + 1 < len) {
					i += 2;
					continue;
				}
				if (v[i] == '(')
					depth++;
				else if (v[i] == ')')
					depth--;
				i++;
			} while (i < len && depth > 0);
		} else {
			break;
		}
	}
	return i;
}

int auth_ar_authserv_id(const char *v, size_t len, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (v == NULL || out == NULL || outlen == 0)
		return -1;
	len = strnlen(v, len); /* a NUL ends the value too */
	out[0] = 0;
	i = skip_cfws(v, len, 0);
	if (i >= len)
		return -1;
	if (v[i] == '"') {
		for (i++; i < len && v[i] != '"'; i++) {
			if (v[i] == '\\' && i + 1 < len)
				i++;
			if (n + 1 >= outlen)
				return -1;
			out[n++] = v[i];
		}
		if (i >= len)
			return -1; /* unterminated */
	} else {
		for (; i < len; i++) {
			unsigned char c = (unsigned char)v[i];
			if (c <= ' ' || c == ';' || c == '(' || c == '"' || c == 0x7f)
				break;
			if (n + 1 >= outlen)
				return -1;
			out[n++] = (char)c;
		}
	}
	out[n] = 0;
	return n > 0 ? 0 : -1;
}

/* same_id - equal, any case, a trailing dot on either side ignored */
static int same_id(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la > 0 && la == lb && strncasecmp(a, b, la) == 0;
}

int auth_ar_is_ours(const char *value, size_t len, const char *id)
{
	char got[300];

	if (id == NULL || *id == 0 || auth_ar_authserv_id(value, len, got, sizeof(got)) < 0)
		return 0;
	return same_id(got, id);
}

/* put_value - a property value: plain when safe, else a sanitised quoted-string */
static void put_value(mw_buf *b, const char *s)
{
	const char *p;
	int plain = *s != 0;

	for (p = s; *p && plain; p++) {
		unsigned char c = (unsigned char)*p;
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		        c == '-' || c == '_' || c == '@' || c == '+';
	}
	if (plain && s[0] != '@' && s[0] != '.') {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (p = s; *p && p - s < 256; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			buf_putc(b, '\\');
		buf_putc(b, c >= ' ' && c < 0x7f ? c : '?');
	}
	buf_putc(b, '"');
}

/* put_comment - "(text) " with only safe characters */
static void put_comment(mw_buf *b, const char *s)
{
	const char *p;

	if (s == NULL || *s == 0)
		return;
	buf_putc(b, '(');
	for (p = s; *p && p - s < 120; p++) {
		unsigned char c = (unsigned char)*p;
		buf_putc(b, c >= ' ' && c < 0x7f && c != '(' && c != ')' && c != '\\' ? c : '?');
	}
	buf_puts(b, ") ");
}

static const char *pname(char p)
{
	return p == 'r' ? "reject" : p == 'q' ? "quarantine" : p == 'n' ? "none" : NULL;
}

/* done - keep the resinfo just written if it fit, else cut back to mark; 0 when full */
static int done(mw_buf *b, size_t mark)
{
	if (!b->truncated)
		return 1;
	b->len = mark;
	b->p[mark] = 0;
	return 0;
}

void auth_ar_format(const mw_auth_info *a, const char *id, char *out, size_t outlen)
{
	mw_buf b;
	size_t i, mark;
	int n = 0;

	buf_init(&b, outlen > 1 ? outlen - 1 : 1);
	put_value(&b, id);
	buf_putc(&b, ';');
	if (!a->ran) {
		buf_puts(&b, " none");
		goto out;
	}
	if (a->spf_domain[0]) {
		mark = b.len;
		buf_printf(&b, "%s\n\tspf=%s ", n++ ? ";" : "", auth_res_name(a->spf));
		if (a->client[0] == 0)
			put_comment(&b, "no client address");
		buf_puts(&b, "smtp.mailfrom=");
		put_value(&b, a->spf_domain);
		if (!done(&b, mark))
			goto out;
	}
	if (a->helo[0]) {
		mark = b.len;
		buf_printf(&b, "%s\n\tspf=%s ", n++ ? ";" : "", auth_res_name(a->spf_helo));
		if (a->client[0] == 0 && !a->spf_domain[0])
			put_comment(&b, "no client address");
		buf_puts(&b, "smtp.helo=");
		put_value(&b, a->helo);
		if (!done(&b, mark))
			goto out;
	}
	if (a->nsigs == 0)
		buf_printf(&b, "%s\n\tdkim=none", n++ ? ";" : "");
	for (i = 0; i < a->nsigs; i++) {
		const auth_sig *s = &a->sigs[i];
		mark = b.len;
		buf_printf(&b, "%s\n\tdkim=%s ", n++ ? ";" : "", auth_res_name(s->result));
		if (s->result != AUTH_PASS)
			put_comment(&b, s->why);
		buf_puts(&b, "header.d=");
		put_value(&b, s->domain[0] ? s->domain : "unknown");
		if (s->selector[0]) {
			buf_puts(&b, " header.s=");
			put_value(&b, s->selector);
		}
		if (s->b[0]) {
			buf_puts(&b, " header.b=");
			put_value(&b, s->b);
		}
		if (!done(&b, mark))
			goto out;
	}
	mark = b.len;
	buf_printf(&b, "%s\n\tdmarc=%s", n++ ? ";" : "", auth_res_name(a->dmarc));
	if (pname(a->dmarc_p)) {
		char c[400];
		snprintf(c, sizeof(c), "p=%s sp=%s%s%s", pname(a->dmarc_p),
		         pname(a->dmarc_sp) ? pname(a->dmarc_sp) : pname(a->dmarc_p),
		         a->forwarder[0] ? "; not applied: trusted forwarder " : "", a->forwarder);
		buf_putc(&b, ' ');
		put_comment(&b, c);
	}
	if (a->from_domain[0]) {
		buf_puts(&b, pname(a->dmarc_p) ? "header.from=" : " header.from=");
		put_value(&b, a->from_domain);
	}
	(void)done(&b, mark);
out:
	mw_strlcpy(out, b.p, outlen);
	i = strlen(out);
	while (i && out[i - 1] == ' ')
		out[--i] = 0;
	buf_free(&b);
}
