/*
 * NAME
 *	outcome.c - tracking, quarantine and hold, release, rescans
 * SYNOPSIS
 *	See outcome.h.
 * DESCRIPTION
 *	The release command is split on white space and run with execv (no
 *	shell, so nothing in a sender address or recipient can be
 *	interpreted); addresses that start with '-' are refused.  Its
 *	standard output and error go to /dev/null; its exit status decides.
 * LIMITS
 *	RELEASE_TIMEOUT seconds per release command; OUTCOME_BATCH messages
 *	per hold or rescan pass.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "outcome/outcome.h"
#include "auth/auth.h"
#include "alert/alert.h"
#include "engine/engine.h"
#include "store/quarantine.h"
#include "store/store.h"
#include "util/log.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTCOME_BATCH 1000
#define ARGV_MAX      32

static void fill_meta(const mw_env *env, const mw_msg *m, const mw_result *res, quar_meta *meta)
{
	mw_buf reasons;
	size_t i;

	memset(meta, 0, sizeof(*meta));
	meta->time = scan_now(env);
	mw_strlcpy(meta->queue_id, msg_queue_id(m), sizeof(meta->queue_id));
	mw_strlcpy(meta->sender, msg_sender(m), sizeof(meta->sender));
	for (i = 0; i < msg_rcpt_count(m) && i < QUAR_MAX_RCPTS; i++)
		mw_strlcpy(meta->rcpts[i], msg_rcpt(m, i), sizeof(meta->rcpts[0]));
	meta->nrcpts = i;
	mw_strlcpy(meta->subject, res->subject, sizeof(meta->subject));
	buf_init(&reasons, sizeof(meta->reasons) - 1);
	verdict_reasons_line(&res->verdict, &reasons);
	mw_strlcpy(meta->reasons, reasons.p, sizeof(meta->reasons));
	buf_free(&reasons);
}

int outcome_store(const mw_env *env, const mw_msg *m, const mw_result *res, int keep, char id[40], char *err,
                  size_t errlen)
{
	quar_meta *meta;
	time_t now = scan_now(env);
	int rc;

	if (env->quar == NULL) {
		snprintf(err, errlen, "quarantine not open");
		return -1;
	}
	meta = x_malloc(sizeof(*meta));
	fill_meta(env, m, res, meta);
	if (keep) {
		mw_strlcpy(meta->state, "kept", sizeof(meta->state));
		meta->expires = now + (time_t)env->cfg->retro_days * 86400;
	} else if (res->verdict.action == MW_HOLD) {
		mw_strlcpy(meta->state, "held", sizeof(meta->state));
		meta->release_at = now + (time_t)env->cfg->hold_time;
		meta->expires = now + (time_t)env->cfg->quar_retention;
	} else {
		mw_strlcpy(meta->state, "quarantined", sizeof(meta->state));
		meta->expires = now + (time_t)env->cfg->quar_retention;
	}
	rc = quar_put(env->quar, msg_raw(m), meta, err, errlen);
	if (rc == 0)
		mw_strlcpy(id, meta->id, 40);
	x_free(meta);
	return rc;
}

void outcome_track(const mw_env *env, const mw_msg *m, const mw_result *res, const char *stage, const char *quar_id)
{
	const char *rcpts[MW_RCPT_MAX];
	const char *doms[MW_RESULT_DOMAINS];
	store_att atts[MW_RESULT_ATTS];
	store_track_rec r;
	mw_buf reasons;
	char dkim[300];
	size_t i;

	if (env->store == NULL || env->rescan)
		return;
	memset(&r, 0, sizeof(r));
	buf_init(&reasons, 590);
	verdict_reasons_line(&res->verdict, &reasons);
	for (i = 0; i < msg_rcpt_count(m) && i < MW_RCPT_MAX; i++)
		rcpts[i] = msg_rcpt(m, i);
	r.nrcpts = i;
	for (i = 0; i < res->natts; i++) {
		atts[i].name = res->atts[i].name;
		atts[i].type = res->atts[i].type;
		atts[i].sha256 = res->atts[i].sha256;
	}
	r.natts = res->natts;
	for (i = 0; i < res->ndomains; i++)
		doms[i] = res->domains[i];
	r.nlinks = res->ndomains;
	r.time = scan_now(env);
	r.queue_id = msg_queue_id(m);
	r.client = msg_client_addr(m);
	r.sender = msg_sender(m);
	r.hdr_from = res->from;
	r.subject = res->subject;
	r.action = action_name(res->verdict.action);
	r.reasons = reasons.p;
	r.stage = stage;
	r.quarantine_id = quar_id ? quar_id : "";
	r.rcpts = rcpts;
	r.size = res->size;
	r.atts = atts;
	r.link_domains = doms;
	if (res->auth.ran) {
		r.from_domain = res->auth.from_domain;
		r.spf = auth_res_name(res->auth.spf);
		r.dkim = auth_dkim_summary(&res->auth, dkim, sizeof(dkim));
		r.dmarc = auth_res_name(res->auth.dmarc);
		r.auth = auth_summary(&res->auth);
	}
	if (store_track_add(env->store, &r) < 0)
		log_err("%s: tracking: %s", msg_queue_id(m), store_error(env->store));
	buf_free(&reasons);
}

void outcome_track_rcpt(const mw_env *env, const char *queue_id, const char *client, const char *sender,
                        const char *rcpt, const mw_verdict *v)
{
	store_track_rec r;
	mw_buf reasons;

	if (env->store == NULL)
		return;
	memset(&r, 0, sizeof(r));
	buf_init(&reasons, 590);
	verdict_reasons_line(v, &reasons);
	r.time = scan_now(env);
	r.queue_id = queue_id ? queue_id : "NOQUEUE";
	r.client = client;
	r.sender = sender;
	r.action = action_name(v->action);
	r.reasons = reasons.p;
	r.stage = "rcpt";
	r.rcpts = &rcpt;
	r.nrcpts = 1;
	if (store_track_add(env->store, &r) < 0)
		log_err("tracking: %s", store_error(env->store));
	buf_free(&reasons);
}

pid_t outcome_spawn(char *const argv[], int stdin_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(stdin_fd, 0);
		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* local_start - fork and exec argv with stdin_fd as standard input */
static long local_start(void *ctx, char *const argv[], int stdin_fd, char *err, size_t errlen)
{
	pid_t pid = outcome_spawn(argv, stdin_fd);

	(void)ctx;
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	return pid;
}

int outcome_reap(pid_t pid, int timeout_s, int *status, char *err, size_t errlen)
{
	time_t deadline = time(NULL) + timeout_s;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
		if (time(NULL) > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			snprintf(err, errlen, "release command timed out after %ds", timeout_s);
			return -1;
		}
		usleep(20000);
	}
}

/* local_wait - the child started by local_start */
static int local_wait(void *ctx, long handle, int timeout_s, int *status, char *err, size_t errlen)
{
	(void)ctx;
	return outcome_reap((pid_t)handle, timeout_s, status, err, errlen);
}

static const outcome_runner local_runner = {local_start, local_wait, NULL};
static const outcome_runner *runner = &local_runner;

void outcome_set_runner(const outcome_runner *r)
{
	runner = r ? r : &local_runner;
}

int outcome_release_argv(const char *release_command, const char *sender, char rcpts[][321], size_t nrcpts, char **argv,
                         size_t max, char *buf, size_t buflen, char *err, size_t errlen)
{
	char *save = NULL, *tok;
	size_t argc = 0, i;

	if (mw_strlcpy(buf, release_command, buflen) >= buflen) {
		snprintf(err, errlen, "[quarantine] release_command too long");
		return -1;
	}
	for (tok = strtok_r(buf, " \t", &save); tok && argc < ARGV_MAX; tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	if (argc == 0 || argv[0][0] != '/') {
		snprintf(err, errlen, "[quarantine] release_command must start with an absolute path");
		return -1;
	}
	if (sender[0] == '-' || nrcpts == 0 || argc + nrcpts + 4 > max) {
		snprintf(err, errlen, nrcpts == 0 ? "no recipients" : "unsafe sender or too many recipients");
		return -1;
	}
	argv[argc++] = "-f";
	argv[argc++] = sender[0] ? (char *)sender : "<>";
	argv[argc++] = "--";
	for (i = 0; i < nrcpts; i++) {
		if (rcpts[i][0] == '-' || rcpts[i][0] == 0) {
			snprintf(err, errlen, "refusing recipient \"%.60s\"", rcpts[i]);
			return -1;
		}
		argv[argc++] = rcpts[i];
	}
	argv[argc] = NULL;
	return (int)argc;
}

/* forged_field - a header field no outsider may bring: our verdict headers, Authentication-Results with our id */
static int forged_field(const mw_env *env, const char *line, size_t n)
{
	static const char *const ours[] = {"x-mailwarden-verdict:", "x-mailwarden-reasons:", "x-mailwarden-released:"};
	size_t i;

	for (i = 0; i < MW_ARRAY_LEN(ours); i++)
		if (n >= strlen(ours[i]) && strncasecmp(line, ours[i], strlen(ours[i])) == 0)
			return 1;
	if (n >= 23 && strncasecmp(line, "authentication-results:", 23) == 0)
		return auth_ar_is_ours(line + 23, n - 23, auth_authserv_id(env->cfg));
	return 0;
}

#define RELEASE_HDR_MAX (256 * 1024)

/*
 * send_filtered - the message to fd without forged Mailwarden and
 * Authentication-Results fields (as the milter removes them from mail it
 * passes; a held message still carries them); header sections beyond
 * RELEASE_HDR_MAX pass as they are.  Returns the raw bytes consumed.
 */
static off_t send_filtered(const mw_env *env, const mw_spool *raw, int fd)
{
	size_t total = spool_size(raw), hl = total < RELEASE_HDR_MAX ? total : RELEASE_HDR_MAX, i, start, end = 0;
	char *h = x_malloc(hl ? hl : 1), chunk[65536];
	off_t off;
	int drop = 0;

	if (spool_pread(raw, h, hl, 0) != (ssize_t)hl)
		hl = 0;
	/* the header section ends at the first empty line */
	for (i = 0; i < hl; i++)
		if (h[i] == '\n' &&
		    (i + 1 < hl && (h[i + 1] == '\n' || (h[i + 1] == '\r' && i + 2 < hl && h[i + 2] == '\n')))) {
			end = i + 1;
			break;
		}
	for (start = 0; start < end;) {
		size_t n;
		for (i = start; i < end && h[i] != '\n'; i++)
			;
		n = i < end ? i - start + 1 : end - start;
		if (h[start] != ' ' && h[start] != '\t') /* a new field, not a folded continuation */
			drop = forged_field(env, h + start, n);
		if (!drop && mw_write_all(fd, h + start, n) < 0) {
			x_free(h);
			return -1;
		}
		start += n;
	}
	x_free(h);
	for (off = (off_t)end;;) {
		ssize_t got = spool_pread(raw, chunk, sizeof(chunk), off);
		if (got <= 0)
			break;
		if (mw_write_all(fd, chunk, (size_t)got) < 0)
			break;
		off += got;
	}
	return off;
}

/* run_release - run the release command with the message on its standard input */
static int run_release(const mw_env *env, quar_meta *meta, const mw_spool *raw, char *err, size_t errlen)
{
	char *argv[ARGV_MAX + QUAR_MAX_RCPTS + 4], cmdbuf[1024];
	char hdr[200], date[64];
	int pipefd[2] = {-1, -1}, status = 0, rc = -1;
	off_t off = 0;
	struct tm tm;
	time_t now = time(NULL);
	long h;

	if (outcome_release_argv(env->cfg->release_command, meta->sender, meta->rcpts, meta->nrcpts, argv,
	                         MW_ARRAY_LEN(argv), cmdbuf, sizeof(cmdbuf), err, errlen) < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	h = runner->start(runner->ctx, argv, pipefd[0], err, errlen);
	close(pipefd[0]);
	if (h < 0) {
		close(pipefd[1]);
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(hdr, sizeof(hdr), "X-Mailwarden-Released: %s; %s\r\n", meta->id, date);
	if (mw_write_all(pipefd[1], hdr, strlen(hdr)) == 0)
		off = send_filtered(env, raw, pipefd[1]);
	close(pipefd[1]);
	if (runner->wait(runner->ctx, h, RELEASE_TIMEOUT, &status, err, errlen) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && (size_t)off == spool_size(raw))
		rc = 0;
	else
		snprintf(err, errlen, "%s failed (exit status %d)", argv[0],
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return rc;
}

int outcome_release(const mw_env *env, const char *id, const char *who, char *err, size_t errlen)
{
	quar_meta *meta = x_malloc(sizeof(*meta));
	mw_spool *raw = NULL;
	const char *from = NULL;
	int rc = -1, c;

	if (env->quar == NULL) {
		snprintf(err, errlen, "quarantine not open");
		goto out;
	}
	if (quar_get_meta(env->quar, id, meta) != 1) {
		snprintf(err, errlen, "no quarantined message %.40s", id);
		goto out;
	}
	if (strcmp(meta->state, "quarantined") == 0 || strcmp(meta->state, "held") == 0)
		from = strcmp(meta->state, "held") == 0 ? "held" : "quarantined";
	if (from == NULL) {
		snprintf(err, errlen, "message %.40s is %s, not held or quarantined", id, meta->state);
		goto out;
	}
	if ((c = quar_claim(env->quar, id, from, "releasing")) != 1) {
		snprintf(err, errlen, c == 0 ? "message %.40s is being released already" : "quarantine index error",
		         id);
		goto out;
	}
	raw = spool_new(env->cfg->lim.spool_memory, env->cfg->tmp);
	if (quar_read(env->quar, id, meta, raw, err, errlen) < 0 || run_release(env, meta, raw, err, errlen) < 0) {
		quar_claim(env->quar, id, "releasing", from);
		log_err("release of %s by %s failed: %s", id, who, err);
		goto out;
	}
	quar_claim(env->quar, id, "releasing", "released");
	quar_set_note(env->quar, id, ""); /* an interrupted-release note no longer applies */
	log_info("%s: released quarantined message %s (from=<%.100s>, %zu recipient(s)) by %s", meta->queue_id, id,
	         meta->sender, meta->nrcpts, who);
	rc = 0;
out:
	spool_free(raw);
	x_free(meta);
	return rc;
}

/* rescan - decrypt id and run the engine on it again with its envelope */
static int rescan(const mw_env *env, const char *id, quar_meta *meta, mw_result *res)
{
	mw_env renv = *env;
	mw_spool *raw = spool_new(env->cfg->lim.spool_memory, env->cfg->tmp);
	char err[300];
	mw_msg *m;
	size_t i;
	off_t off = 0;
	char chunk[65536];
	int rc = -1;

	if (quar_read(env->quar, id, meta, raw, err, sizeof(err)) < 0) {
		log_err("rescan %s: %s", id, err);
		goto out;
	}
	m = msg_new(env->cfg);
	msg_set_queue_id(m, meta->queue_id);
	msg_set_sender(m, meta->sender);
	for (i = 0; i < meta->nrcpts; i++)
		msg_add_rcpt(m, meta->rcpts[i]);
	for (;;) {
		ssize_t got = spool_pread(raw, chunk, sizeof(chunk), off);
		if (got <= 0)
			break;
		if (msg_write(m, chunk, (size_t)got) < 0) {
			msg_free(m);
			goto out;
		}
		off += got;
	}
	renv.rescan = 1;
	engine_scan(m, &renv, res);
	msg_free(m);
	rc = 0;
out:
	spool_free(raw);
	return rc;
}

/* sender_blocked - is the sender (or its domain) blocked now */
static int sender_blocked(const mw_env *env, const char *sender)
{
	const char *at = strrchr(sender, '@');
	char low[321];

	if (env->store == NULL || *sender == 0)
		return 0;
	mw_strlcpy(low, sender, sizeof(low));
	mw_lower(low);
	return store_block_find(env->store, "sender", low, scan_now(env), NULL) == 1 ||
	       (at && store_block_find(env->store, "domain", at + 1, scan_now(env), NULL) == 1);
}

typedef struct batch {
	char ids[OUTCOME_BATCH][QUAR_ID_LEN + 1];
	size_t n;
} batch;

static void collect(const quar_meta *m, void *arg)
{
	batch *b = arg;

	if (b->n < OUTCOME_BATCH)
		mw_strlcpy(b->ids[b->n++], m->id, sizeof(b->ids[0]));
}

int outcome_due_holds(const mw_env *env)
{
	batch *b;
	quar_meta *meta;
	mw_result *res;
	size_t i;
	int done = 0;

	if (env->quar == NULL)
		return 0;
	b = x_calloc(1, sizeof(*b));
	meta = x_malloc(sizeof(*meta));
	res = x_malloc(sizeof(*res));
	if (quar_due(env->quar, scan_now(env), OUTCOME_BATCH, collect, b) < 0)
		goto out;
	for (i = 0; i < b->n; i++) {
		char err[300];
		if (quar_claim(env->quar, b->ids[i], "held", "rescanning") != 1)
			continue;
		if (rescan(env, b->ids[i], meta, res) < 0) {
			quar_claim(env->quar, b->ids[i], "rescanning", "held");
			continue;
		}
		if (res->verdict.action <= MW_TAG && !sender_blocked(env, meta->sender)) {
			quar_claim(env->quar, b->ids[i], "rescanning", "held");
			if (outcome_release(env, b->ids[i], "hold timer", err, sizeof(err)) == 0)
				done++;
		} else {
			mw_buf reasons;
			buf_init(&reasons, 500);
			verdict_reasons_line(&res->verdict, &reasons);
			quar_claim(env->quar, b->ids[i], "rescanning", "quarantined");
			log_warn("%s: held message %s kept in quarantine after rescan: %s%s", meta->queue_id, b->ids[i],
			         reasons.p, sender_blocked(env, meta->sender) ? " (sender blocked meanwhile)" : "");
			buf_free(&reasons);
			done++;
		}
	}
out:
	x_free(res);
	x_free(meta);
	x_free(b);
	return done;
}

/* late_detection - a kept copy of delivered mail now matches: alert, block, flag */
static void late_detection(const mw_env *env, const char *id, const quar_meta *meta, const mw_result *res)
{
	const mw_reason *hit = NULL;
	char text[1200], rcpts[600] = "";
	size_t i;
	time_t now = scan_now(env);

	for (i = 0; i < res->verdict.nreasons; i++)
		if (strcmp(res->verdict.reasons[i].code, "av.infected") == 0)
			hit = &res->verdict.reasons[i];
	if (hit == NULL)
		return;
	for (i = 0; i < meta->nrcpts; i++) {
		size_t len = strlen(rcpts);
		snprintf(rcpts + len, sizeof(rcpts) - len, "%s%s", i ? ", " : "", meta->rcpts[i]);
	}
	snprintf(text, sizeof(text),
	         "delivered message %s (queue id %s, subject \"%.80s\") from %s to %s now matches %s (part %s)", id,
	         meta->queue_id, meta->subject, meta->sender, rcpts, hit->detail, hit->part);
	if (env->store) {
		store_block b;
		alert_raise(env->store, ALERT_RETRO, meta->sender, meta->queue_id, "%s", text);
		memset(&b, 0, sizeof(b));
		mw_strlcpy(b.kind, "sender", sizeof(b.kind));
		mw_strlcpy(b.value, meta->sender, sizeof(b.value));
		mw_lower(b.value);
		mw_strlcpy(b.code, "av.infected", sizeof(b.code));
		snprintf(b.detail, sizeof(b.detail), "late detection: %.150s", hit->detail);
		mw_strlcpy(b.source, meta->queue_id, sizeof(b.source));
		b.created = now;
		b.expires = env->cfg->autoblock_time ? now + (time_t)env->cfg->autoblock_time : 0;
		if (*b.value)
			store_block_add(env->store, &b);
		store_fp_flag_sender(env->store, b.value, "av.infected", meta->queue_id, now);
		if (res->fingerprint[0])
			store_fp_flag(env->store, res->fingerprint, b.value, "av.infected", meta->queue_id, now);
		for (i = 0; i < res->natts; i++)
			if (res->atts[i].sha256[0]) {
				char key[80];
				snprintf(key, sizeof(key), "att:%s", res->atts[i].sha256);
				store_fp_flag(env->store, key, b.value, "av.infected", meta->queue_id, now);
			}
	} else {
		log_warn("ALERT retro.av: %s", text);
	}
	quar_set_state(env->quar, id, "quarantined", 0);
}

static int rescan_state(const mw_env *env, const char *state)
{
	batch *b = x_calloc(1, sizeof(*b));
	quar_meta *meta = x_malloc(sizeof(*meta));
	mw_result *res = x_malloc(sizeof(*res));
	size_t i;
	int n = 0;

	if (quar_list(env->quar, state, OUTCOME_BATCH, collect, b) < 0)
		goto out;
	for (i = 0; i < b->n; i++) {
		if (rescan(env, b->ids[i], meta, res) < 0)
			continue;
		n++;
		if (strcmp(state, "kept") == 0) {
			late_detection(env, b->ids[i], meta, res);
		} else if (verdict_has(&res->verdict, "av.")) {
			mw_buf reasons;
			buf_init(&reasons, 500);
			verdict_reasons_line(&res->verdict, &reasons);
			log_warn("%s: %s message %s now matches a signature: %s", meta->queue_id, state, b->ids[i],
			         reasons.p);
			if (strcmp(state, "held") == 0)
				quar_claim(env->quar, b->ids[i], "held", "quarantined");
			buf_free(&reasons);
		}
	}
out:
	x_free(res);
	x_free(meta);
	x_free(b);
	return n;
}

int outcome_rescan_all(const mw_env *env)
{
	int n = 0;

	if (env->quar == NULL)
		return 0;
	n += rescan_state(env, "held");
	n += rescan_state(env, "quarantined");
	n += rescan_state(env, "kept");
	log_info("rescanned %d held, quarantined or kept message(s) after the signature update", n);
	return n;
}

/* outcome_finish - see outcome.h */
void outcome_finish(const mw_env *env, mw_msg *m, mw_result *res, char qid[40])
{
	char err[300];

	qid[0] = 0;
	if (res->verdict.action == MW_HOLD || res->verdict.action == MW_QUARANTINE) {
		if (outcome_store(env, m, res, 0, qid, err, sizeof(err)) < 0) {
			log_err("%s: cannot quarantine: %s", msg_queue_id(m), err);
			verdict_add(&res->verdict, "quarantine.unavailable", "", "%s", err);
			config_apply_verdict(env->cfg, &res->verdict);
		}
	} else if (res->verdict.action <= MW_TAG && env->cfg->retro_days > 0 && res->nactive > 0 && env->quar) {
		/* a copy to rescan when signatures change (not needed for the 250) */
		char kept[40];
		if (outcome_store(env, m, res, 1, kept, err, sizeof(err)) < 0)
			log_warn("%s: no retro-scan copy: %s", msg_queue_id(m), err);
	}
	outcome_track(env, m, res, "eom", qid);
}

typedef struct stale_list {
	char ids[OUTCOME_BATCH][QUAR_ID_LEN + 1];
	char from[OUTCOME_BATCH][16];
	time_t started[OUTCOME_BATCH];
	size_t n;
} stale_list;

static void collect_stale(const quar_meta *m, void *arg)
{
	stale_list *l = arg;

	if (l->n >= OUTCOME_BATCH)
		return;
	mw_strlcpy(l->ids[l->n], m->id, sizeof(l->ids[0]));
	mw_strlcpy(l->from[l->n], m->release_from, sizeof(l->from[0]));
	l->started[l->n] = m->release_started;
	l->n++;
}

/* probe_queue - 1 the MTA's queue holds release id, 0 it does not, -1 cannot tell */
static int probe_queue(const mw_env *env, const char *id, char *err, size_t errlen)
{
	char *argv[40], buf[1024], *save = NULL, *tok;
	size_t argc = 0;
	int devnull, status = 0;
	long h;

	if (env->cfg->release_probe == NULL || env->cfg->release_probe[0] == 0) {
		snprintf(err, errlen, "no [quarantine] release_probe configured");
		return -1;
	}
	mw_strlcpy(buf, env->cfg->release_probe, sizeof(buf));
	for (tok = strtok_r(buf, " \t", &save); tok && argc < 32; tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	if (argc == 0 || argv[0][0] != '/') {
		snprintf(err, errlen, "[quarantine] release_probe must start with an absolute path");
		return -1;
	}
	argv[argc++] = (char *)id;
	argv[argc] = NULL;
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "/dev/null: %s", strerror(errno));
		return -1;
	}
	h = runner->start(runner->ctx, argv, devnull, err, errlen);
	close(devnull);
	if (h < 0 || runner->wait(runner->ctx, h, RELEASE_TIMEOUT, &status, err, errlen) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) <= 1)
		return WEXITSTATUS(status) == 0;
	snprintf(err, errlen, "%s exited %d", argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return -1;
}

int outcome_resolve_releases(const mw_env *env, time_t before)
{
	stale_list *l;
	size_t i;
	int done = 0;

	if (env->quar == NULL)
		return 0;
	l = x_calloc(1, sizeof(*l));
	if (quar_stale_releases(env->quar, before, OUTCOME_BATCH, collect_stale, l) < 0) {
		x_free(l);
		return -1;
	}
	for (i = 0; i < l->n; i++) {
		char err[300], when[32], note[200], text[400];
		const char *id = l->ids[i];
		int found = probe_queue(env, id, err, sizeof(err));

		mw_fmt_time(l->started[i], when, sizeof(when));
		if (found == 1) {
			if (quar_claim(env->quar, id, "releasing", "released") == 1) {
				log_warn(
				    "%s: a release begun %s was cut off; the MTA's queue holds it: marked released", id,
				    when);
				if (env->store)
					store_audit_add(env->store, scan_now(env), "recovery", "quarantine.release", id,
					                "released (found in the MTA queue)");
				done++;
			}
			continue;
		}
		snprintf(
		    note, sizeof(note),
		    "release begun %s was cut off; %s: it may have been delivered already, or never queued: check, "
		    "then release again",
		    when, found == 0 ? "not in the MTA queue" : "the MTA queue could not be asked");
		if (quar_claim(env->quar, id, "releasing", "quarantined") != 1)
			continue;
		quar_set_note(env->quar, id, note);
		log_warn("%s: %s (%s)", id, note, found < 0 ? err : "probe: not queued");
		if (env->store) {
			snprintf(text, sizeof(text), "quarantine %s (was %s): %s", id, l->from[i][0] ? l->from[i] : "?",
			         note);
			store_alert(env->store, scan_now(env), "release", text);
			store_audit_add(env->store, scan_now(env), "recovery", "quarantine.release", id,
			                "interrupted; back to quarantined");
		}
		done++;
	}
	x_free(l);
	return done;
}
