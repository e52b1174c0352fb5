/*
 * NAME
 *	sender.c - sender policy at RCPT time, at end of message, and after
 * SYNOPSIS
 *	See sender.h.
 * DESCRIPTION
 *	The RCPT-time path does at most four indexed SQLite statements:
 *	record the attempt and count the window, look up blocks for the
 *	address and its domains.  Store failures become store.unavailable
 *	(tempfail): the sender retries, nothing is decided on missing state.
 *
 *	Blocks record why (reason code and detail) and which message caused
 *	them (queue id), so the console and the log can show it.
 * LIMITS
 *	Addresses longer than 320 bytes are cut before lookups.  At most
 *	MW_RESULT_ATTS attachments hashed and listed per message.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "sender/sender.h"
#include "alert/alert.h"
#include "store/store.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define ADDR_MAX 320

/* addr_domain - the domain part of a lower-case address ("" if none) */
static const char *addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

static void lower_copy(char *dst, size_t len, const char *src)
{
	mw_strlcpy(dst, src ? src : "", len);
	mw_lower(dst);
}

rcpt_class sender_rcpt_class(const mw_config *cfg, const char *rcpt)
{
	char a[ADDR_MAX + 1];

	if (config_is_public(cfg, rcpt))
		return RCPT_PUBLIC;
	if (cfg->protected_domains.n == 0)
		return RCPT_STAFF;
	lower_copy(a, sizeof(a), rcpt);
	return config_is_protected(cfg, addr_domain(a)) ? RCPT_STAFF : RCPT_OTHER;
}

int sender_is_external(const mw_config *cfg, const char *sender)
{
	char a[ADDR_MAX + 1];

	if (sender == NULL || *sender == 0)
		return 0; /* the null sender: bounces are not senders to count */
	lower_copy(a, sizeof(a), sender);
	return !config_is_protected(cfg, addr_domain(a));
}

const char *sender_freemail(const mw_lists *lists, const char *addr)
{
	char a[ADDR_MAX + 1];

	if (addr == NULL || *addr == 0)
		return NULL;
	lower_copy(a, sizeof(a), addr);
	return lists_match_domain(lists, "freemail", addr_domain(a));
}

static int allowed(const mw_lists *lists, const char *addr)
{
	return lists_match_addr(lists, "allow", addr) != NULL;
}

/* find_block - an active block on the address, its domain or registrable domain */
static int find_block(mw_store *st, const char *addr, time_t now, store_block *b)
{
	const char *dom = addr_domain(addr);
	char reg[256];
	int rc;

	if ((rc = store_block_find(st, "sender", addr, now, b)) != 0)
		return rc;
	if (*dom == 0)
		return 0;
	if ((rc = store_block_find(st, "domain", dom, now, b)) != 0)
		return rc;
	mw_regdomain(dom, reg, sizeof(reg));
	if (strcmp(reg, dom) != 0)
		return store_block_find(st, "domain", reg, now, b);
	return 0;
}

static void describe_block(const store_block *b, char *out, size_t len)
{
	snprintf(out, len, "%s %.120s blocked for %s%s%.60s%s%s%.80s", b->kind, b->value,
	         b->code[0] ? b->code : "manual", b->source[0] ? " (message " : "", b->source, b->source[0] ? ")" : "",
	         b->detail[0] ? ": " : "", b->detail);
}

/* fanout_block - block key after it crossed the threshold, flag its fingerprints */
static void fanout_block(const mw_env *env, const char *kind, const char *key, unsigned n, const char *qid, time_t now)
{
	store_block b;

	memset(&b, 0, sizeof(b));
	mw_strlcpy(b.kind, kind, sizeof(b.kind));
	mw_strlcpy(b.value, key, sizeof(b.value));
	mw_strlcpy(b.code, "sender.fanout", sizeof(b.code));
	snprintf(b.detail, sizeof(b.detail), "%u distinct recipients within %zus", n, env->cfg->fanout_window);
	mw_strlcpy(b.source, qid ? qid : "", sizeof(b.source));
	b.created = now;
	b.expires = now + (time_t)env->cfg->fanout_block;
	if (store_block_add(env->store, &b) == 0) {
		int flagged = store_fp_flag_sender(env->store, key, "sender.fanout", b.source, now);
		log_warn("%s: blocked %s %s: sender.fanout, %u distinct recipients in %zus; %d fingerprint(s) flagged",
		         qid ? qid : "NOQUEUE", kind, key, n, env->cfg->fanout_window, flagged < 0 ? 0 : flagged);
		alert_fanout(env->store, kind, key, qid, n, env->cfg->fanout_window, env->cfg->fanout_block);
	}
}

void sender_rcpt(const mw_env *env, const char *sender, const char *rcpt, const char *qid, mw_verdict *v)
{
	const mw_config *cfg = env->cfg;
	time_t now = scan_now(env);
	char s[ADDR_MAX + 1], r[ADDR_MAX + 1], key[ADDR_MAX + 2], what[300];
	rcpt_class rc = sender_rcpt_class(cfg, rcpt);
	store_block b;
	unsigned n = 0;
	int found, fanned = 0;

	if (!sender_is_external(cfg, sender) || rc == RCPT_OTHER)
		return;
	lower_copy(s, sizeof(s), sender);
	lower_copy(r, sizeof(r), rcpt);
	if (env->store == NULL) {
		if (env->store_required)
			verdict_add(v, "store.unavailable", "", "state database not open");
	} else {
		/* Count first: refused attempts count too. */
		if (store_rcpt_seen(env->store, s, r, now, (time_t)cfg->fanout_window, &n) < 0) {
			verdict_add(v, "store.unavailable", "", "%s", store_error(env->store));
			return;
		}
		if (n > cfg->fanout_threshold && !allowed(env->lists, s)) {
			verdict_add(v, "sender.fanout", "envelope", "%s reached %u distinct recipients within %zus", s,
			            n, cfg->fanout_window);
			if (store_block_find(env->store, "sender", s, now, NULL) == 0) {
				fanout_block(env, "sender", s, n, qid, now);
				fanned = 1;
			}
		}
		if (cfg->fanout_by_domain && sender_freemail(env->lists, s) == NULL && *addr_domain(s)) {
			char reg[256];
			mw_regdomain(addr_domain(s), reg, sizeof(reg));
			snprintf(key, sizeof(key), "@%s", reg);
			if (store_rcpt_seen(env->store, key, r, now, (time_t)cfg->fanout_window, &n) < 0) {
				verdict_add(v, "store.unavailable", "", "%s", store_error(env->store));
				return;
			}
			if (n > cfg->fanout_threshold && !allowed(env->lists, s)) {
				verdict_add(v, "sender.fanout", "envelope", "domain %s reached %u distinct recipients",
				            reg, n);
				if (store_block_find(env->store, "domain", reg, now, NULL) == 0)
					fanout_block(env, "domain", reg, n, qid, now);
			}
		}
		found = find_block(env->store, s, now, &b);
		if (found < 0) {
			verdict_add(v, "store.unavailable", "", "%s", store_error(env->store));
			return;
		}
		if (found > 0 && !fanned) {
			describe_block(&b, what, sizeof(what));
			verdict_add(v, "sender.blocked", "envelope", "%s", what);
		}
	}
	if (rc == RCPT_STAFF && !allowed(env->lists, s) && sender_freemail(env->lists, s))
		verdict_add(v, "sender.freemail", "envelope", "free-mail sender %s (%s) to staff address %s", s,
		            sender_freemail(env->lists, s), r);
}

/* ---- end of message ---- */

int sender_parse_mailbox(const char *value, char *name, size_t namelen, char *addr, size_t addrlen)
{
	const char *lt = strrchr(value, '<'), *gt;
	size_t n;

	name[0] = addr[0] = 0;
	if (lt && (gt = strchr(lt, '>')) != NULL) {
		n = (size_t)(gt - lt - 1);
		if (n >= addrlen)
			n = addrlen - 1;
		memcpy(addr, lt + 1, n);
		addr[n] = 0;
		n = (size_t)(lt - value);
		if (n >= namelen)
			n = namelen - 1;
		memcpy(name, value, n);
		name[n] = 0;
	} else {
		/* "a@b (Name)" or a bare address */
		const char *paren = strchr(value, '(');
		n = paren ? (size_t)(paren - value) : strlen(value);
		if (n >= addrlen)
			n = addrlen - 1;
		memcpy(addr, value, n);
		addr[n] = 0;
		if (paren) {
			const char *close = strchr(paren, ')');
			n = close ? (size_t)(close - paren - 1) : strlen(paren + 1);
			if (n >= namelen)
				n = namelen - 1;
			memcpy(name, paren + 1, n);
			name[n] = 0;
		}
	}
	{
		char *t = mw_trim(addr);
		memmove(addr, t, strlen(t) + 1);
		mw_lower(addr);
		t = mw_trim(name);
		if (*t == '"') {
			size_t len;
			t++;
			len = strlen(t);
			if (len && t[len - 1] == '"')
				t[len - 1] = 0;
		}
		memmove(name, t, strlen(t) + 1);
	}
	return strchr(addr, '@') && strlen(addr) >= 3 ? 0 : -1;
}

/* claims_org - the display name names our organisation, a protected domain or a partner */
static const char *claims_org(const mw_scan *s, const char *name)
{
	const mw_config *cfg = s->env->cfg;
	char low[512];
	size_t i;

	if (*name == 0)
		return NULL;
	lower_copy(low, sizeof(low), name);
	for (i = 0; i < cfg->org_names.n; i++)
		if (strstr(low, cfg->org_names.v[i]))
			return cfg->org_names.v[i];
	for (i = 0; i < cfg->protected_domains.n; i++)
		if (strstr(low, cfg->protected_domains.v[i]))
			return cfg->protected_domains.v[i];
	if (s->env->lists) {
		size_t k, n = lists_count(s->env->lists, "partner");
		for (k = 0; k < n; k++)
			if (strstr(low, lists_entry(s->env->lists, "partner", k)))
				return lists_entry(s->env->lists, "partner", k);
	}
	return NULL;
}

/* shown_address - an address-looking token inside a display name, lower-cased, or "" */
static void shown_address(const char *name, char *out, size_t len)
{
	const char *at = strchr(name, '@'), *b, *e;
	size_t n;

	out[0] = 0;
	if (at == NULL)
		return;
	for (b = at; b > name && !isspace((unsigned char)b[-1]) && b[-1] != '"' && b[-1] != '(' && b[-1] != '<'; b--)
		;
	for (e = at; *e && !isspace((unsigned char)*e) && *e != '"' && *e != ')' && *e != '>'; e++)
		;
	n = (size_t)(e - b);
	if (n >= len)
		n = len - 1;
	memcpy(out, b, n);
	out[n] = 0;
	mw_lower(out);
}

static void hash_attachments(mw_scan *s, const mime_part *p, size_t depth)
{
	size_t i, n;

	if (depth > 64)
		return;
	if (mime_part_is_leaf(p)) {
		const char *fn = mime_part_filename(p), *disp = mime_part_disposition(p);
		const char *type = mime_part_type(p);
		int att = fn != NULL || (disp && strcmp(disp, "attachment") == 0) ||
		          (strncmp(type, "text/", 5) != 0 && strncmp(type, "multipart/", 10) != 0);
		const void *data;
		size_t len;
		int fd;
		mw_att *a;

		if (!att || depth == 0)
			return;
		s->res->nattachments++;
		if (strncmp(type, "text/", 5) != 0 && strncmp(type, "image/", 6) != 0)
			s->res->nactive++;
		a = result_add_att(s->res, fn ? fn : "", type);
		mime_part_body(p, &data, &fd, &len);
		if (a == NULL || len == 0)
			return;
		if (data) {
			scan_sha256(s, data, len, a->sha256); /* the av stage's, when it hashed the part */
		} else {
			char chunk[65536];
			off_t off = 0;
			mw_sha256 h;
			ssize_t got;
			mw_sha256_init(&h);
			while ((got = pread(fd, chunk, sizeof(chunk), off)) > 0) {
				mw_sha256_update(&h, chunk, (size_t)got);
				off += got;
			}
			mw_sha256_hex(&h, a->sha256);
		}
		return;
	}
	n = mime_part_nchildren(p);
	for (i = 0; i < n; i++)
		hash_attachments(s, mime_part_child(p, i), depth + 1);
}

/* campaign_check - the message's fingerprints against the flagged ones */
static void campaign_check(mw_scan *s)
{
	mw_store *st = s->env->store;
	store_block why;
	char key[80];
	size_t i;
	int rc;

	if (st == NULL)
		return;
	if (s->res->fingerprint[0]) {
		rc = store_fp_flagged(st, s->res->fingerprint, &why);
		if (rc < 0) {
			verdict_add(s->verdict, "store.unavailable", "", "%s", store_error(st));
			return;
		}
		if (rc > 0) {
			verdict_add(s->verdict, "sender.campaign", "",
			            "text fingerprint %.12s flagged by %s from %.60s%s%.40s", s->res->fingerprint,
			            why.code, why.detail, why.source[0] ? ", message " : "", why.source);
			return;
		}
	}
	for (i = 0; i < s->res->natts; i++) {
		if (s->res->atts[i].sha256[0] == 0)
			continue;
		snprintf(key, sizeof(key), "att:%s", s->res->atts[i].sha256);
		rc = store_fp_flagged(st, key, &why);
		if (rc < 0) {
			verdict_add(s->verdict, "store.unavailable", "", "%s", store_error(st));
			return;
		}
		if (rc > 0) {
			verdict_add(s->verdict, "sender.campaign", "",
			            "attachment %.12s flagged by %s from %.60s%s%.40s", s->res->atts[i].sha256,
			            why.code, why.detail, why.source[0] ? ", message " : "", why.source);
			return;
		}
	}
}

static int has_staff(const mw_scan *s)
{
	size_t i;

	for (i = 0; i < msg_rcpt_count(s->msg); i++)
		if (sender_rcpt_class(s->env->cfg, msg_rcpt(s->msg, i)) == RCPT_STAFF)
			return 1;
	return 0;
}

static int has_public(const mw_scan *s)
{
	size_t i;

	for (i = 0; i < msg_rcpt_count(s->msg); i++)
		if (sender_rcpt_class(s->env->cfg, msg_rcpt(s->msg, i)) == RCPT_PUBLIC)
			return 1;
	return 0;
}

/* active_content - attachments other than text and images, or any link.* fact */
static int active_content(const mw_scan *s)
{
	size_t i;

	if (s->res->nactive > 0)
		return 1;
	for (i = 0; i < s->verdict->nreasons; i++)
		if (strncmp(s->verdict->reasons[i].code, "link.", 5) == 0 ||
		    strncmp(s->verdict->reasons[i].code, "attach.", 7) == 0)
			return 1;
	return 0;
}

/*
 * known_correspondent - may this message skip hold.first_contact?  Without
 * sender authentication (auth.enable = no): the envelope sender was seen
 * before.  With it: the message authenticated as its From domain (DMARC
 * pass or an aligned SPF or DKIM pass) and that domain is a partner, or
 * that domain ("@org", recorded by sender_record) or the envelope sender
 * has clean history; unauthenticated mail claiming them is held.
 */
static int known_correspondent(mw_scan *s, const char *sender)
{
	const mw_auth_info *a = &s->res->auth;
	char key[AUTH_DOMAIN_MAX + 2], org[AUTH_DOMAIN_MAX];

	if (!a->ran)
		return store_sender_known(s->env->store, sender) != 0;
	if (a->authenticated[0] == 0)
		return 0;
	if (s->env->lists && lists_match_domain(s->env->lists, "partner", a->authenticated))
		return 1;
	key[0] = '@';
	mw_regdomain(a->authenticated, key + 1, sizeof(key) - 1);
	if (store_sender_known(s->env->store, key) > 0)
		return 1;
	/* the envelope sender itself, when it is in the authenticated domain */
	mw_regdomain(addr_domain(sender), org, sizeof(org));
	return strcmp(org, key + 1) == 0 && store_sender_known(s->env->store, sender) > 0;
}

/* hold_checks - lockdown and first contact (not on rescans: those are the release decision) */
static void hold_checks(mw_scan *s, const char *env_from)
{
	const mw_config *cfg = s->env->cfg;
	char sender[ADDR_MAX + 1];

	if (s->env->rescan || !sender_is_external(cfg, env_from))
		return;
	if (cfg->lockdown >= 2)
		verdict_add(s->verdict, "policy.lockdown", "", "lockdown level 2: all external mail is held");
	else if (cfg->lockdown == 1 && (s->res->nattachments > 0 || s->res->nlinks > 0))
		verdict_add(s->verdict, "policy.lockdown", "",
		            "lockdown level 1: external mail with %zu attachment(s), %zu link(s) is held",
		            s->res->nattachments, s->res->nlinks);
	if (cfg->first_contact && s->env->store && active_content(s)) {
		lower_copy(sender, sizeof(sender), env_from);
		if (!known_correspondent(s, sender))
			verdict_add(s->verdict, "hold.first_contact", "", "first mail from %.100s, with active content",
			            sender);
	}
}

void sender_stage(mw_scan *s)
{
	static const char *const hdrs[] = {"from", "reply-to", "sender"};
	const mw_config *cfg = s->env->cfg;
	const mw_lists *lists = s->env->lists;
	const char *env_from = msg_sender(s->msg);
	const mime_part *root;
	int staff = has_staff(s), freemail = 0, ok;
	size_t h;

	if (s->env->store == NULL && s->env->store_required)
		verdict_add(s->verdict, "store.unavailable", "", "state database not open");
	if (s->mime == NULL || (root = mime_root(s->mime)) == NULL)
		return;
	hash_attachments(s, root, 0);
	sender_fingerprint(s, s->res->fingerprint);
	if (!sender_is_external(cfg, env_from) && *env_from)
		return;
	ok = *env_from && allowed(lists, env_from);
	if (*env_from && sender_freemail(lists, env_from)) {
		freemail = 1;
		if (staff && !ok)
			verdict_add(s->verdict, "sender.freemail", "envelope", "free-mail sender %.100s to staff",
			            env_from);
	}
	for (h = 0; h < MW_ARRAY_LEN(hdrs); h++) {
		const char *val = mime_part_header(root, hdrs[h], 0);
		char name[400], addr[ADDR_MAX + 1], shown[ADDR_MAX + 1];
		const char *org, *fm;

		if (val == NULL || sender_parse_mailbox(val, name, sizeof(name), addr, sizeof(addr)) < 0)
			continue;
		fm = allowed(lists, addr) ? NULL : sender_freemail(lists, addr);
		if (fm) {
			freemail = 1;
			if (staff && !ok && strcasecmp(addr, env_from) != 0)
				verdict_add(s->verdict, "sender.freemail", hdrs[h], "free-mail %s %.100s to staff",
				            hdrs[h], addr);
			if ((org = claims_org(s, name)) != NULL)
				verdict_add(s->verdict, "sender.freemail_spoof", hdrs[h],
				            "display name \"%.60s\" claims %.60s but the address is free-mail %.100s",
				            name, org, addr);
		}
		shown_address(name, shown, sizeof(shown));
		if (shown[0] && strcmp(shown, addr) != 0)
			verdict_add(s->verdict, "sender.display_spoof", hdrs[h],
			            "display name shows %.100s, the address is %.100s", shown, addr);
	}
	hold_checks(s, env_from);
	if (freemail && !ok && has_public(s) && (s->res->nattachments > 0 || s->res->nlinks > 0))
		verdict_add(s->verdict, "sender.freemail_public", "",
		            "free-mail sender to a public address with %zu attachment(s) and %zu link(s)",
		            s->res->nattachments, s->res->nlinks);
	campaign_check(s);
}

/* malicious_code - the first reason whose code is in autoblock_codes, or NULL */
static const mw_reason *malicious_code(const mw_scan *s)
{
	const mw_config *cfg = s->env->cfg;
	size_t i, k;

	for (i = 0; i < s->verdict->nreasons; i++)
		for (k = 0; k < cfg->autoblock_codes.n; k++)
			if (strcmp(s->verdict->reasons[i].code, cfg->autoblock_codes.v[k]) == 0)
				return &s->verdict->reasons[i];
	return NULL;
}

/* record - sender_record's work, inside its batch */
static void record(mw_scan *s)
{
	mw_store *st = s->env->store;
	const mw_config *cfg = s->env->cfg;
	const char *qid = msg_queue_id(s->msg);
	time_t now = scan_now(s->env);
	char sender[ADDR_MAX + 1], key[80];
	const mw_reason *bad;
	int first;
	size_t i;

	if (st == NULL || s->verdict->action == MW_TEMPFAIL || s->env->rescan)
		return;
	lower_copy(sender, sizeof(sender), msg_sender(s->msg));
	if (!sender_is_external(cfg, sender))
		return;
	if (store_sender_seen(st, sender, now, &first) < 0)
		return;
	/* an authenticated domain with a clean verdict builds history (known_correspondent) */
	if (s->res->auth.authenticated[0] && s->verdict->action <= MW_HOLD) {
		char dkey[AUTH_DOMAIN_MAX + 2];
		int dfirst;
		dkey[0] = '@';
		mw_regdomain(s->res->auth.authenticated, dkey + 1, sizeof(dkey) - 1);
		(void)store_sender_seen(st, dkey, now, &dfirst);
	}
	if (s->res->fingerprint[0])
		store_fp_record(st, s->res->fingerprint, sender, now);
	for (i = 0; i < s->res->natts; i++) {
		if (s->res->atts[i].sha256[0] == 0)
			continue;
		snprintf(key, sizeof(key), "att:%s", s->res->atts[i].sha256);
		store_fp_record(st, key, sender, now);
	}
	alert_campaign(st, s->verdict, sender, qid);
	if (cfg->autoblock_time == 0 || (bad = malicious_code(s)) == NULL)
		return;
	{
		store_block b;
		int flagged;

		memset(&b, 0, sizeof(b));
		mw_strlcpy(b.kind, "sender", sizeof(b.kind));
		mw_strlcpy(b.value, sender, sizeof(b.value));
		mw_strlcpy(b.code, bad->code, sizeof(b.code));
		mw_strlcpy(b.detail, bad->detail, sizeof(b.detail));
		mw_strlcpy(b.source, qid, sizeof(b.source));
		b.created = now;
		b.expires = now + (time_t)cfg->autoblock_time;
		if (store_block_add(st, &b) < 0)
			return;
		flagged = store_fp_flag_sender(st, sender, bad->code, qid, now);
		log_warn("%s: auto-blocked sender %s for %s (%s); %d fingerprint(s) flagged", qid, sender, bad->code,
		         bad->detail, flagged < 0 ? 0 : flagged);
		alert_raise(st, ALERT_AUTOBLOCK, sender, qid, "sender %s auto-blocked for %s: %s", sender, bad->code,
		            bad->detail);
	}
}

/* sender_record - see sender.h; its writes (history, fingerprints, an
 * auto-block) commit as one transaction, not one each */
void sender_record(mw_scan *s)
{
	store_batch_begin(s->env->store);
	record(s);
	if (store_batch_end(s->env->store) < 0)
		log_err("%s: sender history not recorded: %s", msg_queue_id(s->msg), store_error(s->env->store));
}
