/*
 * NAME
 *	ctl_stats.c - verdict counters per action and reason code, recent
 *	verdict lines
 * SYNOPSIS
 *	ctl_stats_verdict("eom", qid, sender, rcpt, nrcpt, &verdict);
 *	ctl_stats_window(time(NULL), 5, &counts);	(last 5 minutes)
 *	ctl_stats_tail(20, &buf);
 * DESCRIPTION
 *	In memory only (a restart starts from zero; the tracking tables in
 *	the store keep the durable record).  Two rings of buckets: 60 buckets
 *	of one minute and 24 of one hour.  A bucket remembers which minute
 *	(hour) it holds, so a stale bucket is zeroed when reused and skipped
 *	when summed: no timer is needed.  Windows up to 60 minutes are summed
 *	from minute buckets; longer ones (up to 24 hours) from hour buckets,
 *	the current hour included.  Each message counts once per action and
 *	once per reason code it carries.
 *
 *	The tail ring keeps the newest CTL_TAIL_MAX lines of at most
 *	CTL_TAIL_LINE bytes: time, stage, action, sender, first recipient,
 *	codes.  Sender and recipient are untrusted: made printable here.
 * LIMITS
 *	About 25 KB of counters and 100 KB of tail lines.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "ctl/ctl.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NCODES MW_CODES_MAX

typedef struct bucket {
	long long slot; /* minute or hour number since the epoch; -1: empty */
	uint32_t action[MW_ACTION_COUNT];
	uint32_t code[NCODES];
} bucket;

static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static bucket minutes[60];
static bucket hours[24];
static int ready;
static char tail[CTL_TAIL_MAX][CTL_TAIL_LINE];
static size_t tail_next, tail_count;

/* init_locked - mark every bucket empty (first use) */
static void init_locked(void)
{
	size_t i;

	if (ready)
		return;
	memset(minutes, 0, sizeof(minutes));
	memset(hours, 0, sizeof(hours));
	for (i = 0; i < MW_ARRAY_LEN(minutes); i++)
		minutes[i].slot = -1;
	for (i = 0; i < MW_ARRAY_LEN(hours); i++)
		hours[i].slot = -1;
	ready = 1;
}

/* bucket_for - the bucket of slot in ring (n buckets), zeroed if it held an older slot */
static bucket *bucket_for(bucket *ring, size_t n, long long slot)
{
	bucket *b = &ring[(size_t)(slot % (long long)n)];

	if (b->slot != slot) {
		memset(b, 0, sizeof(*b));
		b->slot = slot;
	}
	return b;
}

/* add - count v in b: once per action, once per distinct code */
static void add(bucket *b, const mw_verdict *v, const unsigned char *seen)
{
	size_t i;

	if (v->action < MW_ACTION_COUNT)
		b->action[v->action]++;
	for (i = 0; i < NCODES; i++)
		if (seen[i])
			b->code[i]++;
}

void ctl_stats_verdict_at(time_t now, const char *stage, const char *qid, const char *sender, const char *rcpt,
                          size_t nrcpt, const mw_verdict *v)
{
	unsigned char seen[NCODES];
	char line[CTL_TAIL_LINE], from[100], to[100], codes[120];
	size_t i, cl = 0;
	struct tm tm;

	memset(seen, 0, sizeof(seen));
	codes[0] = 0;
	for (i = 0; i < v->nreasons; i++) {
		int idx = reason_index(v->reasons[i].code);
		if (idx < 0 || idx >= NCODES || seen[idx])
			continue;
		seen[idx] = 1;
		if (cl + strlen(v->reasons[i].code) + 2 < sizeof(codes))
			cl +=
			    (size_t)snprintf(codes + cl, sizeof(codes) - cl, "%s%s", cl ? "," : "", v->reasons[i].code);
	}
	for (i = 0; i < NCODES; i++)
		if (verdict_dropped_code(v, i))
			seen[i] = 1;
	mw_printable(from, sizeof(from), sender && *sender ? sender : "<>", 40, 1);
	mw_printable(to, sizeof(to), rcpt ? rcpt : "", 30, 1);
	localtime_r(&now, &tm);
	snprintf(line, sizeof(line), "%02d:%02d:%02d %-4s %-10s %s -> %s%s %s%s%.20s", tm.tm_hour, tm.tm_min, tm.tm_sec,
	         stage, action_name(v->action), from, to, nrcpt > 1 ? ",..." : "", codes[0] ? codes : "-",
	         qid && *qid ? " " : "", qid ? qid : "");

	pthread_mutex_lock(&stats_mu);
	init_locked();
	add(bucket_for(minutes, MW_ARRAY_LEN(minutes), (long long)now / 60), v, seen);
	add(bucket_for(hours, MW_ARRAY_LEN(hours), (long long)now / 3600), v, seen);
	mw_strlcpy(tail[tail_next], line, CTL_TAIL_LINE);
	tail_next = (tail_next + 1) % CTL_TAIL_MAX;
	if (tail_count < CTL_TAIL_MAX)
		tail_count++;
	pthread_mutex_unlock(&stats_mu);
}

void ctl_stats_verdict(const char *stage, const char *qid, const char *sender, const char *rcpt, size_t nrcpt,
                       const mw_verdict *v)
{
	ctl_stats_verdict_at(time(NULL), stage, qid, sender, rcpt, nrcpt, v);
}

/* sum - add the buckets of ring whose slot lies in (last - n, last] */
static void sum(const bucket *ring, size_t size, long long last, long long n, ctl_counts *out)
{
	size_t i, k;

	for (i = 0; i < size; i++) {
		const bucket *b = &ring[i];
		if (b->slot < 0 || b->slot > last || b->slot <= last - n)
			continue;
		for (k = 0; k < MW_ACTION_COUNT; k++) {
			out->action[k] += b->action[k];
			out->total += b->action[k];
		}
		for (k = 0; k < NCODES; k++)
			out->code[k] += b->code[k];
	}
}

void ctl_stats_window(time_t now, unsigned minutes_back, ctl_counts *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&stats_mu);
	init_locked();
	if (minutes_back <= 60)
		sum(minutes, MW_ARRAY_LEN(minutes), (long long)now / 60, minutes_back, out);
	else
		sum(hours, MW_ARRAY_LEN(hours), (long long)now / 3600,
		    minutes_back >= 24 * 60 ? 24 : (minutes_back + 59) / 60, out);
	pthread_mutex_unlock(&stats_mu);
}

void ctl_stats_tail(size_t n, mw_buf *out)
{
	size_t i, start;

	pthread_mutex_lock(&stats_mu);
	if (n > tail_count)
		n = tail_count;
	start = (tail_next + CTL_TAIL_MAX - n) % CTL_TAIL_MAX;
	for (i = 0; i < n; i++) {
		buf_puts(out, tail[(start + i) % CTL_TAIL_MAX]);
		buf_putc(out, '\n');
	}
	pthread_mutex_unlock(&stats_mu);
}

void ctl_stats_reset(void)
{
	pthread_mutex_lock(&stats_mu);
	ready = 0;
	init_locked();
	tail_next = tail_count = 0;
	pthread_mutex_unlock(&stats_mu);
}
