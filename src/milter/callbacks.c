/*
 * NAME
 *	callbacks.c - libmilter callbacks: collect, then one engine call
 * DESCRIPTION
 *	Per connection: client address, name, HELO.  Per message: an mw_msg
 *	that receives the envelope, the header fields (rebuilt as
 *	"Name: value" CRLF lines; where the MTA offers SMFIP_HDR_LEADSPC the
 *	value keeps its own leading white space, "Name:value", so DKIM
 *	"simple" header canonicalisation sees the bytes that were signed),
 *	the end of headers and the body chunks,
 *	spilled to disk above limits.spool_memory.  At end of message the
 *	engine runs once with a reference to the current antivirus engine
 *	and the current configuration; reply.c answers.
 *
 *	Option negotiation asks the MTA not to wait for replies to connect,
 *	HELO, header, end-of-header and body steps (SMFIP_NR_*), where the
 *	MTA offers that: it then streams them and waits only at MAIL, RCPT
 *	and end of message, which are the replies that decide anything (about
 *	10 request/reply round trips fewer per message).  A failure during a
 *	no-reply step (spool file unwritable, no context) is remembered and
 *	answered with 451 at end of message.  With an MTA that does not offer
 *	the flags every step is answered as before.
 *
 *	What happens after the verdict is outcome_finish() (src/outcome):
 *	held and quarantined mail is written to the encrypted quarantine
 *	before the reply (then the MTA discards its copy), accepted mail with
 *	attachments keeps a copy for retro-scans, every message is tracked.
 *	The callbacks only collect, log and reply.
 *
 *	Authentication-Results fields whose authserv-id is ours are counted
 *	by index as they pass, so the reply can delete them (reply.c).
 *
 *	One log line per message: queue id, client, envelope, action,
 *	reasons, size, milliseconds, quarantine id.
 * DIAGNOSTICS
 *	A spill file that cannot be written (disk full) answers 451 at once.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "milter/milter.h"
#include "milter/mta.h"
#include "auth/auth.h"
#include "outcome/outcome.h"
#include "ctl/ctl.h"
#include "util/log.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

typedef struct conn_ctx {
	char addr[INET6_ADDRSTRLEN + 8];
	char name[256];
	char helo[256];
	mw_msg *msg;
	mw_config *cfg;  /* references for this message: a rule change */
	mw_lists *lists; /* applies from the next message on */
	int spool_failed;
	mw_hdrinfo hdr;        /* forged X-Mailwarden-* and Authentication-Results fields */
	size_t nar, ar_cap;    /* Authentication-Results fields seen; room in hdr.ar_ours */
	unsigned long noreply; /* SMFIP_NR_* steps negotiated with the MTA */
} conn_ctx;

/* the actions we use (also the filter's registered flags), the steps we
 * need not answer, the ones we need not see */
#define MW_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)
#define MW_NOREPLY (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define MW_NOSEND  (SMFIP_NOUNKNOWN | SMFIP_NODATA)
/* header values with their leading space, as signed (DKIM "simple") */
#define MW_LEADSPC SMFIP_HDR_LEADSPC

static conn_ctx *get_ctx(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static void msg_reset(conn_ctx *c)
{
	msg_free(c->msg);
	c->msg = NULL;
	config_unref(c->cfg);
	c->cfg = NULL;
	lists_unref(c->lists);
	c->lists = NULL;
	c->spool_failed = 0;
	c->hdr.forged_v = c->hdr.forged_r = 0;
	c->hdr.nar_ours = 0;
	c->nar = 0;
}

/* step_done - the answer to a step: none when the MTA agreed to that */
static sfsistat step_done(const conn_ctx *c, unsigned long step)
{
	return c && (c->noreply & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* step_failed - a failure in a step: 451 now, or at end of message when
 * the step has no reply (c->spool_failed makes cb_eom answer 451) */
static sfsistat step_failed(SMFICTX *ctx, conn_ctx *c, unsigned long step, const char *why)
{
	if (c == NULL || !(c->noreply & step))
		return milter_tempfail(ctx, why);
	c->spool_failed = 1;
	return SMFIS_NOREPLY;
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
                             unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	conn_ctx *c = get_ctx(ctx);

	(void)f2;
	(void)f3;
	if (c == NULL) {
		c = x_calloc(1, sizeof(*c));
		smfi_setpriv(ctx, c);
	}
	c->noreply = f1 & MW_NOREPLY;
	c->hdr.leadspc = (f1 & MW_LEADSPC) != 0;
	*pf0 = f0 & MW_ACTIONS;
	*pf1 = c->noreply | (f1 & (MW_NOSEND | MW_LEADSPC));
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	conn_ctx *c = get_ctx(ctx);

	if (c == NULL) { /* an MTA without option negotiation */
		c = x_calloc(1, sizeof(*c));
		smfi_setpriv(ctx, c);
	}

	mw_printable(c->name, sizeof(c->name), hostname ? hostname : "unknown", 200, 0);
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, c->addr, sizeof(c->addr));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, c->addr, sizeof(c->addr));
	else
		mw_strlcpy(c->addr, "local", sizeof(c->addr));
	return step_done(c, SMFIP_NR_CONN);
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	conn_ctx *c = get_ctx(ctx);

	if (c)
		mw_printable(c->helo, sizeof(c->helo), helo ? helo : "", 200, 0);
	return step_done(c, SMFIP_NR_HELO);
}

/* strip_angle - "<a@b>" -> "a@b" into dst */
static void strip_angle(char *dst, size_t len, const char *src)
{
	size_t n;

	if (*src == '<')
		src++;
	mw_strlcpy(dst, src, len);
	n = strlen(dst);
	if (n && dst[n - 1] == '>')
		dst[n - 1] = 0;
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	conn_ctx *c = get_ctx(ctx);
	char addr[1024];

	if (c == NULL)
		return milter_tempfail(ctx, "Temporary failure: no connection context");
	msg_reset(c);
	c->cfg = snap_cfg();
	c->lists = snap_lists();
	c->msg = msg_new(c->cfg);
	msg_set_client(c->msg, c->addr, c->name, c->helo);
	strip_angle(addr, sizeof(addr), argv[0] ? argv[0] : "");
	msg_set_sender(c->msg, addr);
	return SMFIS_CONTINUE;
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	conn_ctx *c = get_ctx(ctx);
	const char *qid = mta_queue_id(ctx);
	char addr[1024];
	mw_verdict v;
	mw_env env;
	sfsistat rc;

	if (c == NULL || c->msg == NULL)
		return milter_tempfail(ctx, "Temporary failure: no message context");
	strip_angle(addr, sizeof(addr), argv[0] ? argv[0] : "");
	if (msg_rcpt_count(c->msg) >= c->cfg->lim.max_recipients) {
		/* RFC 5321 4.5.3.1.10: the client sends the rest in another transaction */
		log_info("%s: from=<%.100s> to=<%.100s>: more than limits.max_recipients (%zu): 452 4.5.3",
		         qid ? qid : "NOQUEUE", msg_sender(c->msg), addr, c->cfg->lim.max_recipients);
		smfi_setreply(ctx, "452", "4.5.3", "Too many recipients for one message, send the rest again");
		return SMFIS_TEMPFAIL;
	}
	daemon_env(&env, c->cfg, c->lists, NULL);
	engine_rcpt(&env, msg_sender(c->msg), addr, qid, &v);
	rc = milter_rcpt_reply(ctx, &v);
	if (rc != SMFIS_CONTINUE) {
		outcome_track_rcpt(&env, qid, c->addr, msg_sender(c->msg), addr, &v);
		ctl_stats_verdict("rcpt", qid, msg_sender(c->msg), addr, 1, &v);
		char from[200], to[200];
		mw_buf reasons;
		size_t i;

		buf_init(&reasons, 1200);
		for (i = 0; i < v.nreasons; i++)
			buf_printf(&reasons, "%s%s:%s", i ? "," : "", v.reasons[i].code, v.reasons[i].detail);
		mw_printable(from, sizeof(from), msg_sender(c->msg), 100, 1);
		mw_printable(to, sizeof(to), addr, 100, 1);
		log_info("%s: client=%s[%s] from=<%s> to=<%s> stage=rcpt action=%s reasons=%s", qid ? qid : "NOQUEUE",
		         c->name, c->addr, from, to, action_name(v.action), reasons.p);
		buf_free(&reasons);
		return rc;
	}
	if (msg_add_rcpt(c->msg, addr) < 0)
		return milter_tempfail(ctx, "Temporary failure: too many recipients");
	return SMFIS_CONTINUE;
}

/* spool - append to the message; remembers failure for a tempfail */
static sfsistat spool(SMFICTX *ctx, conn_ctx *c, unsigned long step, const void *buf, size_t len)
{
	if (c->spool_failed)
		return step_done(c, step);
	if (msg_write(c->msg, buf, len) < 0) {
		log_err("%s: cannot spool message data in %s: %m", msg_queue_id(c->msg), c->cfg->tmp);
		c->spool_failed = 1; /* cb_eom answers 451 */
		return step_failed(ctx, c, step, "Temporary failure: cannot store message, try again later");
	}
	return step_done(c, step);
}

/* ar_seen - one more Authentication-Results field; remember it when it has our authserv-id */
static void ar_seen(conn_ctx *c, const char *value)
{
	c->nar++;
	if (!auth_ar_is_ours(value, strlen(value), auth_authserv_id(c->cfg)))
		return;
	if (c->hdr.nar_ours == c->ar_cap) {
		c->ar_cap = c->ar_cap ? 2 * c->ar_cap : 8;
		c->hdr.ar_ours = x_realloc(c->hdr.ar_ours, c->ar_cap * sizeof(*c->hdr.ar_ours));
	}
	c->hdr.ar_ours[c->hdr.nar_ours++] = (unsigned)c->nar;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	conn_ctx *c = get_ctx(ctx);
	const char *p, *nl;
	sfsistat rc;

	if (c == NULL || c->msg == NULL)
		return step_failed(ctx, c, SMFIP_NR_HDR, "Temporary failure: no message context");
	if (strcasecmp(name, "X-Mailwarden-Verdict") == 0)
		c->hdr.forged_v++;
	else if (strcasecmp(name, "X-Mailwarden-Reasons") == 0)
		c->hdr.forged_r++;
	else if (strcasecmp(name, "Authentication-Results") == 0)
		ar_seen(c, value);
	rc = spool(ctx, c, SMFIP_NR_HDR, name, strlen(name));
	/* with SMFIP_HDR_LEADSPC the value brings its own white space */
	if (rc != SMFIS_TEMPFAIL)
		rc = spool(ctx, c, SMFIP_NR_HDR, c->hdr.leadspc ? ":" : ": ", c->hdr.leadspc ? 1 : 2);
	/* folded values come with bare LF line ends: CRLF, as on the wire
	 * (and as a DKIM signer saw them) */
	for (p = value; rc != SMFIS_TEMPFAIL && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		size_t n = (size_t)(nl - p);
		if (n && p[n - 1] == '\r')
			n--;
		rc = spool(ctx, c, SMFIP_NR_HDR, p, n);
		if (rc != SMFIS_TEMPFAIL)
			rc = spool(ctx, c, SMFIP_NR_HDR, "\r\n", 2);
	}
	if (rc != SMFIS_TEMPFAIL)
		rc = spool(ctx, c, SMFIP_NR_HDR, p, strlen(p));
	if (rc != SMFIS_TEMPFAIL)
		rc = spool(ctx, c, SMFIP_NR_HDR, "\r\n", 2);
	return rc;
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	conn_ctx *c = get_ctx(ctx);

	if (c == NULL || c->msg == NULL)
		return step_failed(ctx, c, SMFIP_NR_EOH, "Temporary failure: no message context");
	return spool(ctx, c, SMFIP_NR_EOH, "\r\n", 2);
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	conn_ctx *c = get_ctx(ctx);

	if (c == NULL || c->msg == NULL)
		return step_failed(ctx, c, SMFIP_NR_BODY, "Temporary failure: no message context");
	return spool(ctx, c, SMFIP_NR_BODY, chunk, len);
}

/* log_verdict - the one line per message */
static void log_verdict(const conn_ctx *c, const mw_result *res, const char *quar_id)
{
	char from[200], rcpt[200];
	mw_buf reasons;
	size_t i;

	buf_init(&reasons, 1500);
	for (i = 0; i < res->verdict.nreasons; i++) {
		const mw_reason *r = &res->verdict.reasons[i];
		buf_printf(&reasons, "%s%s%s%s%s%s", i ? "," : "", r->code, r->part[0] ? "@" : "", r->part,
		           r->detail[0] ? ":" : "", r->detail);
	}
	if (res->verdict.nreasons == 0)
		buf_puts(&reasons, "none");
	mw_printable(from, sizeof(from), msg_sender(c->msg), 100, 1);
	mw_printable(rcpt, sizeof(rcpt), msg_rcpt_count(c->msg) ? msg_rcpt(c->msg, 0) : "", 100, 1);
	log_info("%s: client=%s[%s] from=<%s> to=<%s>%s nrcpt=%zu size=%zu action=%s reasons=%s ms=%.1f%s%s",
	         msg_queue_id(c->msg), c->name, c->addr, from, rcpt, msg_rcpt_count(c->msg) > 1 ? ",..." : "",
	         msg_rcpt_count(c->msg), msg_size(c->msg), action_name(res->verdict.action), reasons.p,
	         res->verdict.elapsed_ms, quar_id && *quar_id ? " quarantine=" : "", quar_id ? quar_id : "");
	buf_free(&reasons);
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	conn_ctx *c = get_ctx(ctx);
	const char *qid;
	mw_result *res;
	av_engine *av;
	mw_env env;
	sfsistat rc;
	char qid_store[40];

	if (c == NULL || c->msg == NULL)
		return milter_tempfail(ctx, "Temporary failure: no message context");
	if ((qid = mta_queue_id(ctx)) != NULL)
		msg_set_queue_id(c->msg, qid);
	if (c->spool_failed)
		return milter_tempfail(ctx, "Temporary failure: cannot store message, try again later");
	res = x_malloc(sizeof(*res));
	av = av_mgr_acquire(g_daemon.av);
	daemon_env(&env, c->cfg, c->lists, av);
	engine_scan(c->msg, &env, res);
	outcome_finish(&env, c->msg, res, qid_store);
	av_engine_release(av);
	log_verdict(c, res, qid_store);
	ctl_stats_verdict("eom", msg_queue_id(c->msg), msg_sender(c->msg),
	                  msg_rcpt_count(c->msg) ? msg_rcpt(c->msg, 0) : "", msg_rcpt_count(c->msg), &res->verdict);
	rc = milter_reply(ctx, c->msg, res, &c->hdr, qid_store);
	x_free(res);
	msg_reset(c);
	return rc;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	conn_ctx *c = get_ctx(ctx);

	if (c)
		msg_reset(c);
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	conn_ctx *c = get_ctx(ctx);

	if (c) {
		msg_reset(c);
		x_free(c->hdr.ar_ours);
		x_free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc mw_filter = {
    .xxfi_name = "mailwarden",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = MW_ACTIONS,
    .xxfi_connect = cb_connect,
    .xxfi_helo = cb_helo,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_envrcpt = cb_envrcpt,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_negotiate = cb_negotiate,
};
