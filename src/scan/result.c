/*
 * NAME
 *	result.c - what a scan learnt: attachments, link domains, the JSON
 *	result, the scan clock and time budget
 * SYNOPSIS
 *	See scan.h.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "scan/scan.h"
#include "util/hash.h"

#include <string.h>
#include <unistd.h>

void scan_cover_add_hash(mw_scan *st, uint64_t hash, size_t len)
{
	if (st->cover == NULL)
		st->cover = x_calloc(MW_COVER_MAX, sizeof(*st->cover));
	if (st->ncover >= MW_COVER_MAX)
		return;
	st->cover[st->ncover].hash = hash;
	st->cover[st->ncover].len = len;
	st->ncover++;
}

void scan_cover_add(mw_scan *st, const void *data, size_t len)
{
	scan_cover_add_hash(st, mw_siphash64(mw_hash_key(), data, len), len);
}

int scan_covered(const mw_scan *st, const void *mem, int fd, size_t len)
{
	size_t i;
	uint64_t h;
	int same_len = 0;

	for (i = 0; i < st->ncover && !same_len; i++)
		same_len = st->cover[i].len == len;
	if (!same_len)
		return 0; /* no hashing when no visited object has this size */
	if (mem) {
		h = mw_siphash64(mw_hash_key(), mem, len);
	} else {
		unsigned char *buf = x_malloc(65536);
		mw_siphash sh;
		off_t off = 0;

		mw_siphash_init(&sh, mw_hash_key());
		while ((size_t)off < len) {
			ssize_t got =
			    pread(fd, buf, (size_t)(len - (size_t)off) < 65536 ? len - (size_t)off : 65536, off);
			if (got <= 0) {
				x_free(buf);
				return 0; /* cannot read it back: not covered, so it gets scanned */
			}
			mw_siphash_update(&sh, buf, (size_t)got);
			off += got;
		}
		x_free(buf);
		h = mw_siphash_final(&sh);
	}
	for (i = 0; i < st->ncover; i++)
		if (st->cover[i].len == len && st->cover[i].hash == h)
			return 1;
	return 0;
}

int scan_covered_hash(const mw_scan *st, uint64_t hash, size_t len)
{
	size_t i;

	for (i = 0; i < st->ncover; i++)
		if (st->cover[i].len == len && st->cover[i].hash == hash)
			return 1;
	return 0;
}

char *scan_sha256_slot(mw_scan *st, const void *p, size_t len)
{
	size_t i;

	for (i = 0; i < st->nsha; i++)
		if (st->sha[i].p == p && st->sha[i].len == len)
			return st->sha[i].hex;
	if (st->nsha == MW_SHA_MEMO)
		return NULL;
	st->sha[st->nsha].p = p;
	st->sha[st->nsha].len = len;
	st->sha[st->nsha].hex[0] = 0;
	return st->sha[st->nsha++].hex;
}

const char *scan_sha256_known(const mw_scan *st, const void *p, size_t len)
{
	size_t i;

	for (i = 0; i < st->nsha; i++)
		if (st->sha[i].p == p && st->sha[i].len == len)
			return st->sha[i].hex[0] ? st->sha[i].hex : NULL;
	return NULL;
}

void scan_sha256(mw_scan *st, const void *p, size_t len, char out[65])
{
	char *slot = scan_sha256_slot(st, p, len);

	if (slot && slot[0]) {
		memcpy(out, slot, 65);
		return;
	}
	mw_sha256_buf(p, len, out);
	if (slot)
		memcpy(slot, out, 65);
}

void scan_free(mw_scan *st)
{
	x_free(st->cover);
	st->cover = NULL;
	st->ncover = 0;
}

/* scan_over_budget - see scan.h */
int scan_over_budget(mw_scan *st, const char *where)
{
	if (st->timed_out)
		return 1;
	if (st->deadline_ms <= 0 || mw_now_ms() <= st->deadline_ms)
		return 0;
	st->timed_out = 1;
	verdict_add(st->verdict, "engine.timeout", "", "scan exceeded limits.scan_time (%zu ms) before %s",
	            st->env->cfg->lim.scan_time, where);
	return 1;
}

mw_att *result_add_att(mw_result *res, const char *name, const char *type)
{
	mw_att *a;

	if (res->natts >= MW_RESULT_ATTS)
		return NULL;
	a = &res->atts[res->natts++];
	memset(a, 0, sizeof(*a));
	mw_printable(a->name, sizeof(a->name), name ? name : "", sizeof(a->name) - 4, 1);
	mw_printable(a->type, sizeof(a->type), type ? type : "", sizeof(a->type) - 4, 0);
	return a;
}

void result_add_node(mw_result *res, const char *path, const char *type, size_t size, const char *from)
{
	struct mw_node *n;

	res->nodes_total++;
	if (res->nnodes >= MW_RESULT_NODES)
		return;
	n = &res->nodes[res->nnodes++];
	mw_printable(n->path, sizeof(n->path), path, sizeof(n->path) - 4, 1);
	mw_printable(n->type, sizeof(n->type), type, sizeof(n->type) - 4, 0);
	n->size = size;
	mw_strlcpy(n->from, from, sizeof(n->from));
}

void result_add_domain(mw_result *res, const char *domain)
{
	size_t i;

	for (i = 0; i < res->ndomains; i++)
		if (strcmp(res->domains[i], domain) == 0)
			return;
	if (res->ndomains < MW_RESULT_DOMAINS)
		mw_printable(res->domains[res->ndomains++], sizeof(res->domains[0]), domain,
		             sizeof(res->domains[0]) - 4, 1);
}

time_t scan_now(const mw_env *env)
{
	return env->now ? env->now : time(NULL);
}

static void json_kv(mw_buf *out, const char *key, const char *val, int comma)
{
	if (comma)
		buf_puts(out, ", ");
	buf_json_str(out, key, strlen(key));
	buf_puts(out, ": ");
	buf_json_str(out, val, strlen(val));
}

static const char *const auth_res_names[] = {"none",    "pass",      "fail",      "softfail",
                                             "neutral", "temperror", "permerror", "policy"};

/* auth_res_name - the RFC 8601 word of a result */
const char *auth_res_name(auth_res r)
{
	if ((int)r < 0 || (size_t)r >= MW_ARRAY_LEN(auth_res_names))
		return "permerror";
	return auth_res_names[r];
}

static const char *policy_name(char p)
{
	return p == 'r' ? "reject" : p == 'q' ? "quarantine" : p == 'n' ? "none" : "";
}

/* auth_json - ', "auth": {...}': sender authentication, when it ran */
static void auth_json(const mw_auth_info *a, mw_buf *out)
{
	size_t i;

	if (!a->ran)
		return;
	buf_puts(out, ", \"auth\": {");
	json_kv(out, "spf", auth_res_name(a->spf), 0);
	json_kv(out, "spf_domain", a->spf_domain, 1);
	json_kv(out, "spf_helo", auth_res_name(a->spf_helo), 1);
	json_kv(out, "helo", a->helo, 1);
	json_kv(out, "client", a->client, 1);
	buf_puts(out, ", \"dkim\": [");
	for (i = 0; i < a->nsigs; i++) {
		buf_puts(out, i ? ", {" : "{");
		json_kv(out, "domain", a->sigs[i].domain, 0);
		json_kv(out, "selector", a->sigs[i].selector, 1);
		json_kv(out, "result", auth_res_name(a->sigs[i].result), 1);
		json_kv(out, "why", a->sigs[i].why, 1);
		buf_printf(out, ", \"aligned\": %s}", a->sigs[i].aligned ? "true" : "false");
	}
	buf_printf(out, "], \"dkim_signatures\": %zu", a->sigs_total);
	json_kv(out, "dmarc", auth_res_name(a->dmarc), 1);
	json_kv(out, "from_domain", a->from_domain, 1);
	json_kv(out, "dmarc_domain", a->dmarc_domain, 1);
	json_kv(out, "dmarc_p", policy_name(a->dmarc_p), 1);
	json_kv(out, "dmarc_sp", policy_name(a->dmarc_sp), 1);
	json_kv(out, "dmarc_policy", policy_name(a->dmarc_applied), 1);
	buf_printf(out, ", \"dmarc_pct\": %d, \"spf_aligned\": %s", a->dmarc_pct, a->spf_aligned ? "true" : "false");
	json_kv(out, "forwarder", a->forwarder, 1);
	json_kv(out, "authenticated", a->authenticated, 1);
	buf_printf(out,
	           ", \"dns\": {\"lookups\": %u, \"cached\": %u, \"failures\": %u, \"budget_spent\": %s, "
	           "\"resolver_down\": %s, \"ms\": %.3f}",
	           a->dns_lookups, a->dns_cached, a->dns_failures, a->budget_spent ? "true" : "false",
	           a->resolver_down ? "true" : "false", a->dns_ms);
	json_kv(out, "header", a->header, 1);
	buf_putc(out, '}');
}

/* result_json - {"action": ..., "reasons": [...], ...} */
void result_json(const mw_msg *m, const mw_result *res, mw_buf *out)
{
	const mw_verdict *v = &res->verdict;
	size_t i;

	buf_putc(out, '{');
	json_kv(out, "action", action_name(v->action), 0);
	buf_puts(out, ", \"reasons\": [");
	for (i = 0; i < v->nreasons; i++) {
		buf_puts(out, i ? ", {" : "{");
		json_kv(out, "code", v->reasons[i].code, 0);
		json_kv(out, "detail", v->reasons[i].detail, 1);
		json_kv(out, "part", v->reasons[i].part, 1);
		json_kv(out, "action", action_name(v->reasons[i].action), 1);
		buf_putc(out, '}');
	}
	buf_printf(out, "], \"reasons_dropped\": %zu", v->dropped);
	json_kv(out, "queue_id", msg_queue_id(m), 1);
	json_kv(out, "envelope_from", msg_sender(m), 1);
	buf_puts(out, ", \"envelope_rcpt\": [");
	for (i = 0; i < msg_rcpt_count(m); i++) {
		if (i)
			buf_puts(out, ", ");
		buf_json_str(out, msg_rcpt(m, i), strlen(msg_rcpt(m, i)));
	}
	buf_putc(out, ']');
	json_kv(out, "from", res->from, 1);
	json_kv(out, "subject", res->subject, 1);
	json_kv(out, "message_id", res->message_id, 1);
	buf_printf(out, ", \"size\": %zu, \"parts_total\": %zu, \"parts\": [", res->size, res->nparts);
	for (i = 0; i < res->nparts_listed; i++) {
		const mw_part_info *p = &res->parts[i];
		buf_puts(out, i ? ", {" : "{");
		json_kv(out, "part", p->id, 0);
		json_kv(out, "type", p->type, 1);
		if (p->filename[0])
			json_kv(out, "filename", p->filename, 1);
		buf_printf(out, ", \"size\": %zu}", p->size);
	}
	buf_printf(out, "], \"tree_total\": %zu, \"tree\": [", res->nodes_total);
	for (i = 0; i < res->nnodes; i++) {
		const struct mw_node *n = &res->nodes[i];
		buf_puts(out, i ? ", {" : "{");
		json_kv(out, "path", n->path, 0);
		json_kv(out, "type", n->type, 1);
		buf_printf(out, ", \"size\": %zu", n->size);
		json_kv(out, "from", n->from, 1);
		buf_putc(out, '}');
	}
	buf_printf(out, "], \"signatures\": %lu, \"elapsed_ms\": %.3f", res->av_sigs, v->elapsed_ms);
	auth_json(&res->auth, out);
	buf_putc(out, '}');
}
