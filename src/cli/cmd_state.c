/*
 * NAME
 *	cmd_state.c - `mailwarden quarantine` and `mailwarden track`
 * SYNOPSIS
 *	mailwarden quarantine list|show ID [--body]|release ID|delete ID
 *	mailwarden track [criteria] [--json]
 * DESCRIPTION
 *	Both open the state directory (paths.state, or --state DIR) the
 *	daemon uses: SQLite in WAL mode serves both at once.  Tables fit 80
 *	columns; --json prints one JSON object per line.
 * DIAGNOSTICS
 *	Exit 0 on success, 1 when nothing matched (show, release, delete of
 *	an unknown id), 4 when the state cannot be opened.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "cli/cli.h"
#include "ctl/ctl.h"
#include "engine/engine.h"
#include "outcome/outcome.h"
#include "store/quarantine.h"
#include "store/store.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct state_ctx {
	mw_config *cfg;
	mw_store *store;
	mw_quar *quar;
	mw_env env;
} state_ctx;

static int open_state(cli_opts *o, state_ctx *c)
{
	store_limits lim;
	char err[512];

	memset(c, 0, sizeof(*c));
	if (o->state) {
		char *ov = x_malloc(strlen(o->state) + 16);
		sprintf(ov, "paths.state=%s", o->state);
		o->overrides = x_realloc(o->overrides, (o->noverrides + 1) * sizeof(*o->overrides));
		o->overrides[o->noverrides++] = ov;
	}
	if ((c->cfg = load_config(o)) == NULL)
		return -1;
	lim.max_rows = c->cfg->store_max_rows;
	lim.busy_ms = 5000;
	if (store_open(c->cfg->state, &lim, &c->store, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailwarden: state: %s\n", err);
		return -1;
	}
	if (quar_open(c->cfg->state, c->store, &c->quar, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailwarden: quarantine: %s\n", err);
		return -1;
	}
	c->env.cfg = c->cfg;
	c->env.store = c->store;
	c->env.quar = c->quar;
	return 0;
}

static void close_state(state_ctx *c)
{
	quar_close(c->quar);
	store_close(c->store);
	config_unref(c->cfg);
}

/* put_line - one finished row line to stdout (ctl_row_* callbacks) */
static void put_line(void *arg, const char *text)
{
	(void)arg;
	puts(text);
}

static void q_row(const quar_meta *m, void *arg)
{
	cli_opts *o = arg;

	if (o->json) {
		mw_buf j;
		size_t i;
		buf_init(&j, 0);
		buf_puts(&j, "{\"id\": ");
		buf_json_str(&j, m->id, strlen(m->id));
		buf_printf(&j, ", \"time\": %lld, \"state\": ", (long long)m->time);
		buf_json_str(&j, m->state, strlen(m->state));
		buf_puts(&j, ", \"queue_id\": ");
		buf_json_str(&j, m->queue_id, strlen(m->queue_id));
		buf_puts(&j, ", \"sender\": ");
		buf_json_str(&j, m->sender, strlen(m->sender));
		buf_puts(&j, ", \"rcpts\": [");
		for (i = 0; i < m->nrcpts; i++) {
			if (i)
				buf_puts(&j, ", ");
			buf_json_str(&j, m->rcpts[i], strlen(m->rcpts[i]));
		}
		buf_puts(&j, "], \"subject\": ");
		buf_json_str(&j, m->subject, strlen(m->subject));
		buf_printf(&j, ", \"size\": %zu, \"reasons\": ", m->size);
		buf_json_str(&j, m->reasons, strlen(m->reasons));
		buf_printf(&j, ", \"release_at\": %lld, \"note\": ", (long long)m->release_at);
		buf_json_str(&j, m->note, strlen(m->note));
		buf_putc(&j, '}');
		puts(j.p);
		buf_free(&j);
		return;
	}
	ctl_row_quar(m, put_line, NULL);
}

static int quar_show(state_ctx *c, cli_opts *o, const char *id)
{
	quar_meta *m = x_malloc(sizeof(*m));
	mw_spool *raw = NULL;
	char err[300], t[32];
	size_t i;
	int rc = 1;

	if (quar_get_meta(c->quar, id, m) != 1) {
		fprintf(stderr, "mailwarden: no quarantined message %s\n", id);
		goto out;
	}
	if (o->json) {
		q_row(m, o);
	} else {
		mw_fmt_time(m->time, t, sizeof(t));
		printf("id:         %s\nstate:      %s\nreceived:   %s\nqueue id:   %s\nsender:     %s\n", m->id,
		       m->state, t, m->queue_id, m->sender);
		for (i = 0; i < m->nrcpts; i++)
			printf("%s%s\n", i ? "            " : "recipients: ", m->rcpts[i]);
		printf("subject:    %s\nsize:       %zu\nreasons:    %s\n", m->subject, m->size, m->reasons);
		if (m->release_at) {
			mw_fmt_time(m->release_at, t, sizeof(t));
			printf("release at: %s\n", t);
		}
		if (m->note[0])
			printf("note:       %s\n", m->note);
	}
	if (o->body) {
		char chunk[65536];
		off_t off = 0;
		ssize_t got;
		raw = spool_new(c->cfg->lim.spool_memory, c->cfg->tmp);
		if (quar_read(c->quar, id, m, raw, err, sizeof(err)) < 0) {
			fprintf(stderr, "mailwarden: %s\n", err);
			goto out;
		}
		puts("");
		while ((got = spool_pread(raw, chunk, sizeof(chunk), off)) > 0) {
			fwrite(chunk, 1, (size_t)got, stdout);
			off += got;
		}
	}
	rc = 0;
out:
	spool_free(raw);
	x_free(m);
	return rc;
}

int cmd_quarantine(cli_opts *o)
{
	const char *verb = o->argc > 0 ? o->argv[0] : "list";
	const char *id = o->argc > 1 ? o->argv[1] : NULL;
	char err[400];
	state_ctx c;
	int rc = 1;

	if (open_state(o, &c) < 0) {
		close_state(&c);
		return EXIT_CANNOT;
	}
	if (strcmp(verb, "list") == 0) {
		if (!o->json)
			ctl_row_quar(NULL, put_line, NULL);
		rc = quar_list(c.quar, o->t_qstate, o->limit ? o->limit : 50, q_row, o) < 0 ? EXIT_CANNOT : 0;
	} else if (id == NULL) {
		fprintf(stderr, "mailwarden quarantine %s: expected an ID (see quarantine list)\n", verb);
		rc = EXIT_CANNOT;
	} else if (strcmp(verb, "show") == 0) {
		rc = quar_show(&c, o, id);
	} else if (strcmp(verb, "release") == 0) {
		const char *who = getenv("SUDO_USER") ? getenv("SUDO_USER") : getenv("USER");
		if (outcome_release(&c.env, id, who ? who : "cli", err, sizeof(err)) < 0) {
			fprintf(stderr, "mailwarden: release %s: %s\n", id, err);
		} else {
			printf("released %s\n", id);
			rc = 0;
		}
	} else if (strcmp(verb, "delete") == 0) {
		quar_meta *m = x_malloc(sizeof(*m));
		if (quar_get_meta(c.quar, id, m) != 1 || quar_delete(c.quar, id) < 0) {
			fprintf(stderr, "mailwarden: no quarantined message %s\n", id);
		} else {
			printf("deleted %s\n", id);
			rc = 0;
		}
		x_free(m);
	} else {
		fprintf(stderr, "mailwarden quarantine: unknown verb \"%.20s\" (list, show, release, delete)\n", verb);
		rc = EXIT_CANNOT;
	}
	close_state(&c);
	return rc;
}

static void t_row(const store_track_row *r, void *arg)
{
	cli_opts *o = arg;

	if (o->json) {
		mw_buf j;
		buf_init(&j, 0);
		buf_printf(&j, "{\"time\": %lld, \"queue_id\": ", (long long)r->time);
		buf_json_str(&j, r->queue_id, strlen(r->queue_id));
		buf_puts(&j, ", \"client\": ");
		buf_json_str(&j, r->client, strlen(r->client));
		buf_puts(&j, ", \"sender\": ");
		buf_json_str(&j, r->sender, strlen(r->sender));
		buf_puts(&j, ", \"from\": ");
		buf_json_str(&j, r->hdr_from, strlen(r->hdr_from));
		buf_puts(&j, ", \"subject\": ");
		buf_json_str(&j, r->subject, strlen(r->subject));
		buf_puts(&j, ", \"rcpts\": ");
		buf_json_str(&j, r->rcpts, strlen(r->rcpts));
		buf_printf(&j, ", \"size\": %zu, \"action\": ", r->size);
		buf_json_str(&j, r->action, strlen(r->action));
		buf_puts(&j, ", \"reasons\": ");
		buf_json_str(&j, r->reasons, strlen(r->reasons));
		buf_puts(&j, ", \"stage\": ");
		buf_json_str(&j, r->stage, strlen(r->stage));
		buf_puts(&j, ", \"quarantine_id\": ");
		buf_json_str(&j, r->quarantine_id, strlen(r->quarantine_id));
		buf_puts(&j, ", \"from_domain\": ");
		buf_json_str(&j, r->from_domain, strlen(r->from_domain));
		buf_puts(&j, ", \"spf\": ");
		buf_json_str(&j, r->spf, strlen(r->spf));
		buf_puts(&j, ", \"dkim\": ");
		buf_json_str(&j, r->dkim, strlen(r->dkim));
		buf_puts(&j, ", \"dmarc\": ");
		buf_json_str(&j, r->dmarc, strlen(r->dmarc));
		buf_puts(&j, ", \"auth\": ");
		buf_json_str(&j, r->auth, strlen(r->auth));
		buf_putc(&j, '}');
		puts(j.p);
		buf_free(&j);
		return;
	}
	ctl_row_track(r, put_line, NULL);
}

int cmd_track(cli_opts *o)
{
	store_track_query q;
	state_ctx c;
	int n;

	memset(&q, 0, sizeof(q));
	q.sender = o->t_sender;
	q.domain = o->t_domain;
	q.rcpt = o->t_rcpt;
	q.subject = o->t_subject;
	q.sha256 = o->t_hash;
	q.name = o->t_name;
	q.link_domain = o->t_link;
	q.action = o->t_action;
	q.claimed = o->t_claimed;
	q.auth = o->t_auth;
	q.limit = o->limit;
	if (mw_parse_when(o->t_since, &q.since) < 0 || mw_parse_when(o->t_until, &q.until) < 0) {
		fprintf(stderr, "mailwarden track: --since/--until take 30m, 24h, 7d or 2026-11-22[T10:00]\n");
		return EXIT_CANNOT;
	}
	if (q.sha256 && strlen(q.sha256) < 8) {
		fprintf(stderr, "mailwarden track: --hash needs at least 8 hex digits\n");
		return EXIT_CANNOT;
	}
	if (open_state(o, &c) < 0) {
		close_state(&c);
		return EXIT_CANNOT;
	}
	if (!o->json)
		ctl_row_track(NULL, put_line, NULL);
	n = store_track_find(c.store, &q, t_row, o);
	close_state(&c);
	if (n < 0)
		return EXIT_CANNOT;
	if (!o->json)
		fprintf(stderr, "%d message(s)\n", n);
	return n > 0 ? 0 : 1;
}
