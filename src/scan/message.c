/*
 * NAME
 *	message.c - the message model: envelope and raw bytes
 * DESCRIPTION
 *	The adapter owns the message and frees it once.  Strings are copies.
 *	See engine.h for the size bound.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "scan/scan.h"

#include <string.h>

struct mw_msg {
	char *queue_id;
	char *client_addr;
	char *client_name;
	char *helo;
	char *sender;
	char **rcpts;
	size_t nrcpts;
	mw_spool *raw;
	size_t max_size;
	size_t received;
};

mw_msg *msg_new(const mw_config *cfg)
{
	mw_msg *m = x_calloc(1, sizeof(*m));

	m->raw = spool_new(cfg->lim.spool_memory, cfg->tmp);
	m->max_size = cfg->lim.max_message_size;
	return m;
}

void msg_free(mw_msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	x_free(m->queue_id);
	x_free(m->client_addr);
	x_free(m->client_name);
	x_free(m->helo);
	x_free(m->sender);
	for (i = 0; i < m->nrcpts; i++)
		x_free(m->rcpts[i]);
	x_free(m->rcpts);
	spool_free(m->raw);
	x_free(m);
}

static void set_str(char **dst, const char *s)
{
	x_free(*dst);
	*dst = s ? x_strndup(s, 1024) : NULL;
}

void msg_set_queue_id(mw_msg *m, const char *id)
{
	set_str(&m->queue_id, id);
}

void msg_set_client(mw_msg *m, const char *addr, const char *name, const char *helo)
{
	set_str(&m->client_addr, addr);
	set_str(&m->client_name, name);
	set_str(&m->helo, helo);
}

void msg_set_sender(mw_msg *m, const char *addr)
{
	set_str(&m->sender, addr);
}

int msg_add_rcpt(mw_msg *m, const char *addr)
{
	if (m->nrcpts >= MW_RCPT_MAX)
		return -1;
	m->rcpts = x_realloc(m->rcpts, (m->nrcpts + 1) * sizeof(*m->rcpts));
	m->rcpts[m->nrcpts++] = x_strndup(addr, 1024);
	return 0;
}

/* msg_write - store raw bytes up to max_message_size; count the rest */
int msg_write(mw_msg *m, const void *buf, size_t len)
{
	size_t room = m->received < m->max_size ? m->max_size - m->received : 0;
	size_t n = len < room ? len : room;

	m->received += len;
	if (n == 0)
		return 0;
	return spool_write(m->raw, buf, n);
}

size_t msg_size(const mw_msg *m)
{
	return m->received;
}

int msg_too_big(const mw_msg *m)
{
	return m->received > m->max_size;
}

const char *msg_queue_id(const mw_msg *m)
{
	return m->queue_id ? m->queue_id : "NOQUEUE";
}

const char *msg_sender(const mw_msg *m)
{
	return m->sender ? m->sender : "";
}

size_t msg_rcpt_count(const mw_msg *m)
{
	return m->nrcpts;
}

const char *msg_rcpt(const mw_msg *m, size_t i)
{
	return i < m->nrcpts ? m->rcpts[i] : NULL;
}

const char *msg_client_addr(const mw_msg *m)
{
	return m->client_addr ? m->client_addr : "";
}

const char *msg_helo(const mw_msg *m)
{
	return m->helo ? m->helo : "";
}

const mw_spool *msg_raw(const mw_msg *m)
{
	return m->raw;
}
