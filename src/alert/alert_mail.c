/*
 * NAME
 *	alert_mail.c - the alert mail: compose from tracking, aggregate,
 *	rate-limit, send through the privileged helper
 * SYNOPSIS
 *	alert_worker_start(snap_cfg, &g_daemon.store);	(mailwardend)
 *	alert_section(store, &row, &text);		(console: alerts show)
 * DESCRIPTION
 *	One thread.  It wakes when an alert is raised and every
 *	TICK_MS.  When the oldest waiting alert is alert.delay old, every
 *	waiting alert (at most ALERT_MAIL_MAX) is composed: the summary that
 *	was logged, then what tracking knows about the sender (or domain) and
 *	the message: the messages from it in the last ALERT_DAYS days with
 *	their subjects, attachments (name, type, SHA-256) and recipients;
 *	every recipient who got mail from it (delivered: accept or tag);
 *	what was refused or held; and the console commands that act on it.
 *	One mail goes to alert.address from alert.from through the
 *	privileged helper ("mail": [quarantine] release_command, so the mail
 *	does not pass the milter), the alerts are marked mailed with the text
 *	that was sent (the console's `alerts show`).  A failed send is
 *	retried after RETRY_S; beyond alert.max_per_hour mails in the last
 *	hour the alerts wait.  With no alert.address the alerts are composed
 *	and marked "not mailed" (-1): console and syslog only.
 * LIMITS
 *	ALERT_MAIL_MAX alerts per mail, ALERT_MSGS messages per alert, the
 *	mail cut at PRIV_MAX_INPUT - 1 KiB; alerts are kept ALERT_KEEP_DAYS.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "alert/alert.h"
#include "appliance/appliance.h"
#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS         2000
#define RETRY_S         60
#define ALERT_DAYS      7
#define ALERT_KEEP_DAYS 90
#define RATE_SLOTS      1000

static pthread_t worker;
static int running;
static volatile int stopping;
static mw_config *(*get_cfg)(void);
static mw_store **store_ref;
static time_t sent_at[RATE_SLOTS]; /* ring of mail times */
static size_t sent_next;

void alert_host(const mw_config *cfg, char *out, size_t len)
{
	char why[200];

	if (cfg && cfg->hostname && cfg->hostname[0]) {
		mw_strlcpy(out, cfg->hostname, len);
		return;
	}
	if (gethostname(out, len) < 0 || cfgcheck_domain(out, why, sizeof(why)) < 0)
		mw_strlcpy(out, "mailwarden", len);
}

static void fmt_time(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* wrap - items joined by ", " in lines of about 72 columns, each indented */
static void wrap(mw_buf *b, const char *indent, char items[][321], size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		size_t w = strlen(items[i]) + 2;
		if (col == 0) {
			buf_puts(b, indent);
			col = strlen(indent);
		} else if (col + w > 74) {
			buf_printf(b, ",\n%s", indent);
			col = strlen(indent);
		} else {
			buf_puts(b, ", ");
		}
		buf_puts(b, items[i]);
		col += w;
	}
	if (n)
		buf_putc(b, '\n');
}

/* add_unique - add s to the set (bounded by max); 1 when added */
static int add_unique(char (*set)[321], size_t *n, size_t max, const char *s)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(set[i], s) == 0)
			return 0;
	if (*n >= max)
		return 0;
	mw_strlcpy(set[(*n)++], s, 321);
	return 1;
}

static int delivered(const store_msg *m)
{
	return strcmp(m->action, "accept") == 0 || strcmp(m->action, "tag") == 0;
}

/* related_sender - for a campaign: the address after "from " in the summary (who flagged it) */
static void related_sender(const char *text, const char *self, char *out, size_t len)
{
	const char *p = text;

	out[0] = 0;
	while ((p = strstr(p, " from ")) != NULL) {
		size_t n;
		p += 6;
		n = strcspn(p, " ,;()\"");
		if (n > 0 && n < len && memchr(p, '@', n) && strncmp(p, self, n) != 0) {
			memcpy(out, p, n);
			out[n] = 0;
		}
	}
}

/* list_messages - the messages and their facts; adds delivered recipients to got */
static void list_messages(mw_buf *b, const store_msg *msgs, size_t n, char (*got)[321], size_t *ngot, size_t *refused,
                          size_t *held)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		const store_msg *m = &msgs[i];
		char t[40], subj[200];
		fmt_time(m->time, t, sizeof(t));
		buf_printf(b, "  %.16s  %-10s %-14s \"%s\"\n", t, m->action, m->queue_id[0] ? m->queue_id : "-",
		           mw_text(subj, sizeof(subj), m->subject, 160));
		if (m->reasons[0] && strcmp(m->reasons, "none") != 0)
			buf_printf(b, "      reasons: %s\n", m->reasons);
		for (k = 0; k < m->natts; k++)
			buf_printf(b, "      attachment: %s (%s)\n        sha256 %s\n",
			           m->atts[k].name[0] ? m->atts[k].name : "-",
			           m->atts[k].type[0] ? m->atts[k].type : "?",
			           m->atts[k].sha256[0] ? m->atts[k].sha256 : "-");
		if (m->natts_total > m->natts)
			buf_printf(b, "      ... and %zu more attachment(s): track hash / quarantine show\n",
			           m->natts_total - m->natts);
		if (m->nrcpts) {
			buf_printf(b, "      %s:\n", delivered(m) ? "delivered to" : "addressed to");
			wrap(b, "        ", (char(*)[321])m->rcpts, m->nrcpts);
		}
		if (m->nrcpts_total > m->nrcpts)
			buf_printf(b, "        ... and %zu more\n", m->nrcpts_total - m->nrcpts);
		if (delivered(m))
			for (k = 0; k < m->nrcpts; k++)
				add_unique(got, ngot, 500, m->rcpts[k]);
		else if (strcmp(m->action, "hold") == 0 || strcmp(m->action, "quarantine") == 0)
			(*held)++;
		else
			(*refused)++;
	}
}

void alert_section(mw_store *st, const store_alert_row *row, mw_buf *out)
{
	store_msg *msgs = x_calloc(ALERT_MSGS, sizeof(*msgs));
	char(*got)[321] = x_calloc(500, 321);
	char t[40], other[321], dom[300];
	size_t ngot = 0, refused = 0, held = 0, i;
	time_t since = row->time - (time_t)ALERT_DAYS * 86400;
	const char *sender = row->sender;
	int n = 0, is_domain = sender[0] == '@';

	fmt_time(row->time, t, sizeof(t));
	buf_printf(out, "[#%lld] %s  %s\n", row->id, t, row->kind);
	buf_printf(out, "What happened: %s\n", row->text);
	if (sender[0])
		buf_printf(out, "%s %s\n", is_domain ? "Sender domain:" : "Sender:", is_domain ? sender + 1 : sender);
	if (row->queue_id[0])
		buf_printf(out, "Queue id: %s\n", row->queue_id);
	if (st && sender[0]) {
		n = store_track_messages(st, sender, NULL, NULL, since, msgs, ALERT_MSGS);
		if (n < 0) {
			buf_printf(out, "(tracking unavailable: %s)\n", store_error(st));
			n = 0;
		}
		buf_printf(out, "Messages from %s, last %d days (tracking, newest first, %d shown):\n",
		           is_domain ? "this domain" : "this sender", ALERT_DAYS, n);
		if (n == 0)
			buf_puts(out, "  none tracked\n");
		list_messages(out, msgs, (size_t)n, got, &ngot, &refused, &held);
	} else if (st && row->queue_id[0]) {
		n = store_track_messages(st, NULL, row->queue_id, NULL, since, msgs, ALERT_MSGS);
		if (n > 0) {
			buf_puts(out, "The message (tracking):\n");
			list_messages(out, msgs, (size_t)n, got, &ngot, &refused, &held);
		}
	}
	related_sender(row->text, sender, other, sizeof(other));
	if (st && other[0] && strcmp(row->kind, ALERT_LOCKDOWN) != 0) {
		int m = store_track_messages(st, other, NULL, NULL, since, msgs, ALERT_MSGS);
		if (m > 0) {
			buf_printf(out, "Earlier mail of this campaign from %s (%d shown):\n", other, m);
			list_messages(out, msgs, (size_t)m, got, &ngot, &refused, &held);
		}
	}
	if (sender[0] || row->queue_id[0]) {
		buf_printf(out, "Every recipient who got this mail (delivered, %zu%s):\n", ngot,
		           ngot >= 500 ? " or more" : "");
		if (ngot)
			wrap(out, "  ", got, ngot);
		else
			buf_puts(out, "  nobody: none of it was delivered\n");
		if (refused || held)
			buf_printf(out, "Not delivered: %zu refused, %zu held or quarantined\n", refused, held);
	}
	buf_puts(out, "On the console:\n");
	if (strcmp(row->kind, ALERT_LOCKDOWN) == 0) {
		buf_puts(out, "  quarantine list held         what lockdown is holding\n"
		              "  quarantine release ID        deliver one held message\n"
		              "  lockdown 0                   end the lockdown\n");
	} else if (sender[0]) {
		const char *at = strrchr(sender, '@');
		mw_strlcpy(dom, at ? at + 1 : sender, sizeof(dom));
		if (is_domain)
			buf_printf(out, "  track domain %s since 7d\n", sender + 1);
		else
			buf_printf(out, "  track sender %s since 7d\n", sender);
		buf_puts(out, "  quarantine list              held and quarantined mail\n");
		if (!is_domain)
			buf_printf(out, "  block domain %s   the whole domain (not for free-mail)\n", dom);
		buf_printf(out, "  blocks %s\n", is_domain ? sender + 1 : sender);
		if (strcmp(row->kind, ALERT_RETRO) == 0)
			for (i = 0; i < (size_t)n && i < 3; i++)
				if (msgs[i].natts)
					buf_printf(out, "  track hash %.16s\n", msgs[i].atts[0].sha256);
	} else {
		buf_puts(out, "  quarantine list\n");
	}
	x_free(got);
	x_free(msgs);
}

/* encode_subject - RFC 2047 B-encoding when s is not ASCII */
static void encode_subject(mw_buf *b, const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	int ascii = 1;

	for (i = 0; i < n; i++)
		if (p[i] >= 0x80 || p[i] < 0x20)
			ascii = 0;
	if (ascii) {
		buf_puts(b, s);
		return;
	}
	i = 0;
	while (i < n) {
		size_t take = n - i > 45 ? 45 : n - i, k;
		while (i + take < n && take > 0 && (p[i + take] & 0xc0) == 0x80)
			take--; /* never split a UTF-8 sequence */
		buf_printf(b, "%s=?UTF-8?B?", i ? "\n " : "");
		for (k = 0; k < take; k += 3) {
			unsigned v = (unsigned)p[i + k] << 16;
			if (k + 1 < take)
				v |= (unsigned)p[i + k + 1] << 8;
			if (k + 2 < take)
				v |= p[i + k + 2];
			buf_putc(b, tab[(v >> 18) & 63]);
			buf_putc(b, tab[(v >> 12) & 63]);
			buf_putc(b, k + 1 < take ? tab[(v >> 6) & 63] : '=');
			buf_putc(b, k + 2 < take ? tab[v & 63] : '=');
		}
		buf_puts(b, "?=");
		i += take;
	}
}

void alert_message(mw_store *st, const mw_config *cfg, const store_alert_row *rows, const char *const *texts, size_t n,
                   mw_buf *out)
{
	char host[256], date[64], subj[400], t1[40], t2[40];
	time_t now = time(NULL);
	struct tm tm;
	size_t i, body_start;

	(void)st;
	alert_host(cfg, host, sizeof(host));
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (n == 1)
		snprintf(subj, sizeof(subj), "[Mailwarden %s] ALERT %s: %.200s", host, rows[0].kind,
		         rows[0].sender[0] ? rows[0].sender : rows[0].text);
	else
		snprintf(subj, sizeof(subj), "[Mailwarden %s] %zu alerts: %s %.120s%s", host, n, rows[0].kind,
		         rows[0].sender[0] ? rows[0].sender : "", n > 1 ? " ..." : "");
	if (strchr(cfg->alert_from, '@'))
		buf_printf(out, "From: Mailwarden on %s <%s>\n", host, cfg->alert_from);
	else
		buf_printf(out, "From: Mailwarden on %s <%s@%s>\n", host, cfg->alert_from, host);
	buf_puts(out, "To: ");
	for (i = 0; i < cfg->alert_address.n; i++)
		buf_printf(out, "%s%s", i ? ", " : "", cfg->alert_address.v[i]);
	buf_puts(out, "\nSubject: ");
	encode_subject(out, subj);
	buf_printf(out, "\nDate: %s\nMessage-ID: <mw-alert-%lld-%lld@%s>\n", date, rows[0].id, (long long)now, host);
	buf_puts(out, "Auto-Submitted: auto-generated\nX-Mailwarden-Alert:");
	for (i = 0; i < n; i++)
		buf_printf(out, " %lld", rows[i].id);
	buf_puts(out, "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
	              "Content-Transfer-Encoding: 8bit\n\n");
	body_start = out->len;
	fmt_time(rows[0].time, t1, sizeof(t1));
	fmt_time(rows[n - 1].time, t2, sizeof(t2));
	buf_printf(out, "Mailwarden on %s raised %zu alert(s) between %s and %s.\n", host, n, t1, t2);
	buf_puts(out, "Log in on the serial console to act: `alerts` lists them, `alerts show ID`\n"
	              "repeats one, the commands below act on it.\n");
	for (i = 0; i < n; i++) {
		buf_puts(out, "\n");
		buf_puts(out, texts[i]);
		if (out->len - body_start > PRIV_MAX_INPUT - 4096) {
			buf_printf(out, "\n... %zu more alert(s) cut here: see `alerts` on the console.\n", n - i - 1);
			break;
		}
	}
	buf_puts(out, "\n-- \nMailwarden alert mail (alert.address; at most alert.max_per_hour an hour)\n");
}

typedef struct waiting {
	store_alert_row rows[ALERT_MAIL_MAX];
	size_t n;
} waiting;

static void collect(const store_alert_row *r, void *arg)
{
	waiting *w = arg;

	if (w->n < ALERT_MAIL_MAX)
		w->rows[w->n++] = *r;
}

static size_t sent_last_hour(time_t now)
{
	size_t i, n = 0;

	for (i = 0; i < RATE_SLOTS; i++)
		if (sent_at[i] && now - sent_at[i] < 3600)
			n++;
	return n;
}

/* one_round - compose and (maybe) mail what waits; returns seconds to wait before trying a failed send again */
static int one_round(mw_store *st, mw_config *cfg, time_t *retry_after, int *limit_logged)
{
	waiting *w = x_calloc(1, sizeof(*w));
	char **texts = NULL;
	mw_buf msg;
	time_t now = time(NULL);
	size_t i;

	buf_init(&msg, PRIV_MAX_INPUT - 512);
	if (store_alerts_waiting(st, ALERT_MAIL_MAX, collect, w) <= 0)
		goto out;
	if (now - w->rows[0].time < (time_t)cfg->alert_delay)
		goto out;
	if (cfg->alert_address.n > 0 && now < *retry_after)
		goto out;
	if (cfg->alert_address.n > 0 && sent_last_hour(now) >= cfg->alert_max_per_hour) {
		if (!*limit_logged)
			log_warn("alert mail: %zu mail(s) in the last hour (alert.max_per_hour): %zu alert(s) wait for "
			         "the next",
			         sent_last_hour(now), w->n);
		*limit_logged = 1;
		goto out;
	}
	*limit_logged = 0;
	texts = x_calloc(w->n, sizeof(*texts));
	for (i = 0; i < w->n; i++) {
		mw_buf t;
		buf_init(&t, 32 * 1024);
		alert_section(st, &w->rows[i], &t);
		texts[i] = t.p ? t.p : x_strdup("");
	}
	if (cfg->alert_address.n == 0) {
		for (i = 0; i < w->n; i++)
			store_alert_mailed(st, w->rows[i].id, -1, texts[i]);
		goto out;
	}
	alert_message(st, cfg, w->rows, (const char *const *)texts, w->n, &msg);
	{
		const char *args[1 + 50];
		char err[400];
		mw_buf res;
		size_t na = 0;
		int status;

		args[na++] = cfg->alert_from;
		for (i = 0; i < cfg->alert_address.n && na < MW_ARRAY_LEN(args); i++)
			args[na++] = cfg->alert_address.v[i];
		buf_init(&res, 4096);
		status = priv_run("mail", na, args, msg.p, msg.len, &res, err, sizeof(err));
		if (status != 0) {
			char shown[300];
			log_err("alert mail to %s failed (%s); %zu alert(s) wait, next try in %d s",
			        cfg->alert_address.v[0],
			        status < 0 ? err
			                   : mw_printable(shown, sizeof(shown), res.p ? res.p : "exit status", 200, 1),
			        w->n, RETRY_S);
			*retry_after = now + RETRY_S;
			buf_free(&res);
			goto out;
		}
		buf_free(&res);
	}
	for (i = 0; i < w->n; i++)
		store_alert_mailed(st, w->rows[i].id, now, texts[i]);
	sent_at[sent_next++ % RATE_SLOTS] = now;
	log_info("alert mail to %s: %zu alert(s), #%lld..#%lld", cfg->alert_address.v[0], w->n, w->rows[0].id,
	         w->rows[w->n - 1].id);
out:
	for (i = 0; texts && i < w->n; i++)
		x_free(texts[i]);
	x_free(texts);
	buf_free(&msg);
	x_free(w);
	return 0;
}

static void *worker_main(void *arg)
{
	time_t retry_after = 0, last_prune = 0;
	int limit_logged = 0;

	(void)arg;
	while (!stopping) {
		mw_store *st = __atomic_load_n(store_ref, __ATOMIC_ACQUIRE);
		mw_config *cfg;

		alert_wait(TICK_MS);
		if (stopping)
			break;
		if (st == NULL)
			continue;
		cfg = get_cfg();
		one_round(st, cfg, &retry_after, &limit_logged);
		if (time(NULL) - last_prune > 3600) {
			store_alerts_prune(st, time(NULL) - (time_t)ALERT_KEEP_DAYS * 86400);
			last_prune = time(NULL);
		}
		config_unref(cfg);
	}
	return NULL;
}

int alert_worker_start(mw_config *(*cfg)(void), mw_store **store)
{
	if (running)
		return 0;
	get_cfg = cfg;
	store_ref = store;
	stopping = 0;
	if (pthread_create(&worker, NULL, worker_main, NULL) != 0) {
		log_err("alert mail thread: cannot start");
		return -1;
	}
	running = 1;
	return 0;
}

void alert_worker_stop(void)
{
	if (!running)
		return;
	stopping = 1;
	pthread_join(worker, NULL);
	running = 0;
}
