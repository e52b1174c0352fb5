/*
 * NAME
 *	ctl_rows.c - the one text layout of quarantine and tracking rows
 * SYNOPSIS
 *	#include "ctl/ctl.h"
 *
 *	ctl_row_quar(NULL, line, arg);		(the column header)
 *	ctl_row_quar(&meta, line, arg);		(one message: two lines)
 *	ctl_row_track(&row, line, arg);
 * DESCRIPTION
 *	The console (through the control socket) and the mailwarden command
 *	print the same rows the same way: each call hands finished lines to
 *	line(arg, text), so the caller decides where they go (a control
 *	connection, stdout).  Columns fit an 80-column serial terminal.
 *	Untrusted text (senders, subjects) is made printable and cut.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl.h"

#include <stdio.h>

void ctl_row_quar(const quar_meta *m, void (*line)(void *arg, const char *text), void *arg)
{
	char t[32], s[40], r[40], subj[80], gw[24], out[300];

	if (m == NULL) {
		snprintf(out, sizeof(out), "%-12s %-16s %-11s %-20s %s", "ID", "TIME", "STATE", "SENDER", "REASONS");
		line(arg, out);
		return;
	}
	mw_fmt_time(m->time, t, sizeof(t));
	snprintf(out, sizeof(out), "%-12.12s %-16s %-11s %-20s %s", m->id, t, m->state,
	         mw_cut(m->sender, 17, s, sizeof(s)), mw_cut(m->reasons, 12, r, sizeof(r)));
	line(arg, out);
	if (m->gateway[0]) /* a shared store lists every gateway's messages */
		snprintf(out, sizeof(out), "             %s  [gateway %s]", mw_cut(m->subject, 48, subj, sizeof(subj)),
		         mw_cut(m->gateway, 20, gw, sizeof(gw)));
	else
		snprintf(out, sizeof(out), "             %s", mw_cut(m->subject, 64, subj, sizeof(subj)));
	line(arg, out);
	if (m->note[0]) {
		snprintf(out, sizeof(out), "           ! %s", mw_cut(m->note, 66, subj, sizeof(subj)));
		line(arg, out);
	}
}

void ctl_row_track(const store_track_row *r, void (*line)(void *arg, const char *text), void *arg)
{
	char t[32], s[40], to[40], subj[60], rs[40], out[300];

	if (r == NULL) {
		snprintf(out, sizeof(out), "%-16s %-10s %s -> %s", "TIME", "ACTION", "SENDER", "RECIPIENTS");
		line(arg, out);
		snprintf(out, sizeof(out), "    %s | %s", "SUBJECT", "REASONS");
		line(arg, out);
		return;
	}
	mw_fmt_time(r->time, t, sizeof(t));
	snprintf(out, sizeof(out), "%s %-10s %s -> %s", t, r->action, mw_cut(r->sender, 26, s, sizeof(s)),
	         mw_cut(r->rcpts, 24, to, sizeof(to)));
	line(arg, out);
	snprintf(out, sizeof(out), "    %s | %s%s%s", mw_cut(r->subject, 40, subj, sizeof(subj)),
	         mw_cut(r->reasons, 28, rs, sizeof(rs)), r->quarantine_id[0] ? " | q:" : "",
	         r->quarantine_id[0] ? r->quarantine_id : "");
	line(arg, out);
}
