/*
 * NAME
 *	ex_ics.c - iCalendar objects (text/calendar, .ics): links and
 *	inline attachments
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_ics(text, len, &lim, &out);
 * DESCRIPTION
 *	Content lines are unfolded (RFC 5545 3.1: a line break followed by
 *	one space or tab continues the line) and split into name,
 *	parameters (quoted values may hold ';' and ':') and value.
 *
 *	URI-valued properties (URL, ATTACH, CONFERENCE, SOURCE, TZURL, IMAGE)
 *	give their value as a link.  ATTACH or IMAGE with ENCODING=BASE64 is
 *	decoded and emitted as a child object, named by its X-FILENAME (or
 *	FILENAME, X-APPLE-FILENAME, X-ORACLE-FILENAME) parameter and typed by
 *	FMTTYPE, with the finding doc.embedded_file.  Every other value is
 *	unescaped (\n, \, \; \\) and searched for written URLs (ex_scan_urls):
 *	DESCRIPTION, LOCATION, X-ALT-DESC (HTML), meeting-URL X- properties,
 *	and so on.  ORGANIZER and ATTENDEE (mailto:) are not links.
 *
 *	Calendar invitations are ordinary business mail: nothing here is a
 *	finding by itself except a file carried inside the invitation.
 * LIMITS
 *	An unfolded line is kept up to max_object * 4 / 3 + 64 KB bytes (an
 *	inline base64 attachment must fit); a longer line gives
 *	content.limits and is skipped.  Decoded attachments follow
 *	ex_budget().  Linear in the input.
 * DIAGNOSTICS
 *	Findings: doc.embedded_file, content.limits.
 * SEE ALSO
 *	RFC 5545, RFC 7986, ex_html.c
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ICS_SLACK   (64 * 1024)
#define ICS_NAME    64 /* property and parameter names kept */
#define ICS_PARAMS  32 /* parameters looked at per property */
#define ICS_CONTEXT 80

typedef struct ics_param {
	char name[ICS_NAME];
	const char *v;
	size_t vlen;
} ics_param;

static const char *const uri_props[] = {"URL", "ATTACH", "CONFERENCE", "SOURCE", "TZURL", "IMAGE"};
static const char *const no_link_props[] = {"ORGANIZER", "ATTENDEE", "UID",     "PRODID", "VERSION",
                                            "DTSTART",   "DTEND",    "DTSTAMP", "RRULE",  "EXDATE"};
static const char *const name_params[] = {"X-FILENAME", "FILENAME", "X-APPLE-FILENAME", "X-ORACLE-FILENAME",
                                          "X-EVOLUTION-CALDAV-ATTACHMENT-NAME"};

static int in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(s, list[i]) == 0)
			return 1;
	return 0;
}

/* param - value of parameter name, or NULL */
static const ics_param *param(const ics_param *pv, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(pv[i].name, name) == 0)
			return &pv[i];
	return NULL;
}

/* unquote - a parameter value without its double quotes */
static void unquote(const char **v, size_t *n)
{
	if (*n >= 2 && (*v)[0] == '"' && (*v)[*n - 1] == '"') {
		(*v)++;
		*n -= 2;
	}
}

/* unescape - TEXT value escapes into b */
static void unescape(mw_buf *b, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n) {
			char c = v[++i];
			buf_putc(b, c == 'n' || c == 'N' ? '\n' : c);
		} else {
			buf_putc(b, v[i]);
		}
	}
}

/* property - one unfolded content line */
static void property(ex_out *o, const char *s, size_t n)
{
	ics_param pv[ICS_PARAMS];
	size_t np = 0, i = 0, k;
	char name[ICS_NAME], context[ICS_CONTEXT];
	const char *v;
	size_t vlen;
	const ics_param *enc, *p;

	while (i < n && s[i] != ';' && s[i] != ':')
		i++;
	if (i == 0 || i >= n)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(i < ICS_NAME - 1 ? i : ICS_NAME - 1), s);
	/* parameters */
	while (i < n && s[i] == ';') {
		size_t ns = ++i, vs;
		int q = 0;
		while (i < n && s[i] != '=' && s[i] != ':' && s[i] != ';')
			i++;
		if (i >= n || s[i] != '=')
			continue;
		vs = ++i;
		while (i < n && (q || (s[i] != ';' && s[i] != ':'))) {
			if (s[i] == '"')
				q = !q;
			i++;
		}
		if (np < ICS_PARAMS) {
			snprintf(pv[np].name, ICS_NAME, "%.*s",
			         (int)(vs - 1 - ns < ICS_NAME - 1 ? vs - 1 - ns : ICS_NAME - 1), s + ns);
			pv[np].v = s + vs;
			pv[np].vlen = i - vs;
			unquote(&pv[np].v, &pv[np].vlen);
			np++;
		}
	}
	if (i >= n || s[i] != ':')
		return;
	v = s + i + 1;
	vlen = n - i - 1;
	snprintf(context, sizeof(context), "calendar %s", name);
	enc = param(pv, np, "ENCODING");
	if ((strcasecmp(name, "ATTACH") == 0 || strcasecmp(name, "IMAGE") == 0) && enc && enc->vlen == 6 &&
	    strncasecmp(enc->v, "BASE64", 6) == 0) {
		const ics_param *fmt = param(pv, np, "FMTTYPE");
		char type[ICS_NAME];
		const char *fn = NULL;
		size_t fnlen = 0;
		mw_buf b;

		for (k = 0; k < MW_ARRAY_LEN(name_params) && fn == NULL; k++)
			if ((p = param(pv, np, name_params[k])) != NULL && p->vlen > 0) {
				fn = p->v;
				fnlen = p->vlen;
			}
		if (fmt)
			snprintf(type, sizeof(type), "%.*s", (int)(fmt->vlen < ICS_NAME - 1 ? fmt->vlen : ICS_NAME - 1),
			         fmt->v);
		buf_init(&b, ex_budget(o) ? ex_budget(o) : 1);
		ex_b64_decode(v, vlen, &b);
		if (!ex_finding(o, "doc.embedded_file", "calendar %s carries %.*s (%zu bytes)", name,
		                (int)(fnlen < 80 ? fnlen : 80), fn ? fn : "a file", b.len)) {
			if (b.truncated)
				ex_limit(o, EX_LIM_DECODED, "calendar attachment larger than %zu bytes", b.max);
			ex_object(o, fn, fnlen, fmt ? type : NULL, b.p ? b.p : "", b.len);
		}
		buf_free(&b);
		return;
	}
	if (in_list(name, uri_props, MW_ARRAY_LEN(uri_props))) {
		const ics_param *val = param(pv, np, "VALUE");
		if (val == NULL || (val->vlen == 3 && strncasecmp(val->v, "URI", 3) == 0)) {
			ex_link(o, v, vlen, context);
			return;
		}
	}
	if (in_list(name, no_link_props, MW_ARRAY_LEN(no_link_props)) || vlen == 0)
		return;
	{
		mw_buf t;
		buf_init(&t, 0);
		unescape(&t, v, vlen);
		ex_scan_urls(o, t.p ? t.p : "", t.len, context);
		buf_free(&t);
	}
}

/* ex_ics - see the file header */
int ex_ics(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	const char *text = in, *line;
	size_t pos = 0, n, cap;
	ex_out o;
	mw_buf cur;
	int have = 0;

	ex_out_init(&o, emit, lim, "calendar");
	cap = o.lim.max_object > ((size_t)-1 - ICS_SLACK) / 2 ? (size_t)-1 / 2 : o.lim.max_object / 3 * 4 + ICS_SLACK;
	buf_init(&cur, cap);
	while (!o.stop && ex_line(text, len, &pos, &line, &n)) {
		if (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
			if (have)
				buf_append(&cur, line + 1, n - 1);
			continue;
		}
		if (have) {
			if (cur.truncated)
				ex_limit(&o, EX_LIM_OTHER, "a content line longer than %zu bytes was skipped", cap);
			else
				property(&o, cur.p, cur.len);
		}
		buf_reset(&cur);
		buf_append(&cur, line, n);
		have = 1;
	}
	if (have && !o.stop) {
		if (cur.truncated)
			ex_limit(&o, EX_LIM_OTHER, "a content line longer than %zu bytes was skipped", cap);
		else
			property(&o, cur.p, cur.len);
	}
	buf_free(&cur);
	return ex_out_rc(&o);
}
