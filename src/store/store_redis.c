/*
 * NAME
 *	store_redis.c - the shared backend: sender state of several gateways
 *	in one Redis
 * SYNOPSIS
 *	store_open_shared(statedir, &lim, &cfg, &store, err, len);
 *	(then every store_* call of store.h; see store_backend.c)
 * DESCRIPTION
 *	One command connection per store, serialised by a mutex, with a
 *	connect and a per-command time budget (hiredis socket timeouts).  Any
 *	failure (time budget, connection lost, an error reply) marks the
 *	backend down (rd_down): the call and every later one are answered
 *	from the local SQLite copy until store_sync.c reconnects.
 *
 *	Keys (P is [store] prefix; every key and the channel start with it):
 *	  P r:SENDERKEY      zset recipient -> last attempt (fan-out window);
 *	                     the add, the trim to the window and the count
 *	                     are one Lua script, so two gateways counting the
 *	                     same sender see one exact sequence of counts
 *	  P s:ADDR           hash first, last, msgs (sender history)
 *	  P b:KIND:VALUE     hash code, detail, source, created, expires
 *	  P blocks           zset "KIND<US>VALUE" -> created (the block list)
 *	  P f:FP             hash first, last, flagged, fs, fc, fsrc, ft
 *	  P fs:SENDER        set of the fingerprints seen from SENDER
 *	  P fflag            zset flagged fingerprint -> flag time
 *	  P lists            hash "LIST<US>ENTRY" -> "op<US>expires<US>who<US>t"
 *	  P rules, P rulet   hash key -> value, key -> time of the last change
 *	  P audit, audit:seq zset of "id<US>time<US>who<US>key<US>old<US>new"
 *	                     scored by id; the newest AUDIT_KEEP are kept
 *	  P t:seq, P t:ID    tracking rows (hash), P t (zset id -> time) and
 *	                     the indexes P t:s:SENDER, t:r:RCPT, t:d:DOMAIN
 *	                     (every parent too), t:l:LINKDOMAIN, t:h:SHA256
 *	  P q:ID, P q        quarantine index of every gateway (hash, zset)
 *	  P relq:GW          release requests for gateway GW (list)
 *	  P changes          pub/sub channel: "rules", "lists", "blocks", "fps"
 *	(<US> is the byte 0x1f.)  History keys expire after
 *	sender.history_ttl; a block key some time after the block itself.
 *	Expiry is always decided on the stored times, as in SQLite, never on
 *	the key's TTL alone.
 * LIMITS
 *	A track query reads at most TRACK_SCAN rows of its index; the audit
 *	trail keeps AUDIT_KEEP entries.  Values are C strings (no NUL).
 * SEE ALSO
 *	store_sync.c (fallback, outbox, reconciliation, pub/sub), README
 *	"Two gateways".
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "store/store_rd.h"
#include "util/log.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRACK_SCAN  50000
#define TRACK_PAGE  200
#define AUDIT_KEEP  100000 /* repeated in LUA_AUDIT_FN */
#define BLOCK_GRACE 86400  /* a block key outlives its expiry this long */
#define US          "\x1f"

/* ---- connection ---- */

void rd_key(const store_redis *rd, char *out, size_t len, const char *fmt, ...)
{
	size_t n = mw_strlcpy(out, rd->prefix, len);
	va_list ap;

	if (n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, len - n, fmt, ap);
	va_end(ap);
}

static struct timeval ms_tv(unsigned ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (long)(ms % 1000) * 1000;
	return tv;
}

redisContext *rd_new_conn(store_redis *rd, unsigned read_ms, char *err, size_t errlen)
{
	redisContext *c;
	redisReply *r;

	c = rd->unix_sock ? redisConnectUnixWithTimeout(rd->host, ms_tv(rd->connect_ms))
	                  : redisConnectWithTimeout(rd->host, rd->port, ms_tv(rd->connect_ms));
	if (c == NULL || c->err) {
		snprintf(err, errlen, "connect %s: %s", rd->address, c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	if (read_ms)
		redisSetTimeout(c, ms_tv(read_ms));
	if (rd->has_pass) {
		const char *argv[3] = {"AUTH", rd->user, rd->pass};
		int argc = rd->user[0] ? 3 : 2;
		if (argc == 2)
			argv[1] = rd->pass;
		r = redisCommandArgv(c, argc, argv, NULL);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			/* the reply names no secret ("WRONGPASS invalid username-password pair") */
			snprintf(err, errlen, "authentication as %s at %s: %.120s", rd->user[0] ? rd->user : "default",
			         rd->address, r ? r->str : c->errstr);
			if (r)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	r = redisCommand(c, "PING");
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "%s: PING: %.120s", rd->address, r ? r->str : c->errstr);
		if (r)
			freeReplyObject(r);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(r);
	return c;
}

int rd_connect(mw_store *s)
{
	store_redis *rd = s->rd;
	char err[300];
	redisContext *c = rd_new_conn(rd, rd->command_ms, err, sizeof(err));

	if (c == NULL) {
		pthread_mutex_lock(&rd->st_mu);
		mw_strlcpy(rd->last_error, err, sizeof(rd->last_error));
		pthread_mutex_unlock(&rd->st_mu);
		return -1;
	}
	pthread_mutex_lock(&rd->mu);
	if (rd->c)
		redisFree(rd->c);
	rd->c = c;
	pthread_mutex_unlock(&rd->mu);
	return 0;
}

int rd_up(mw_store *s)
{
	return s->rd && __atomic_load_n(&s->rd->up, __ATOMIC_ACQUIRE);
}

void rd_down(mw_store *s, const char *why)
{
	store_redis *rd = s->rd;
	int was = __atomic_exchange_n(&rd->up, 0, __ATOMIC_ACQ_REL);
	char text[400];

	pthread_mutex_lock(&rd->st_mu);
	mw_strlcpy(rd->last_error, why, sizeof(rd->last_error));
	if (was) {
		rd->down_since = time(NULL);
		rd->failures++;
	}
	pthread_mutex_unlock(&rd->st_mu);
	if (!was)
		return;
	snprintf(text, sizeof(text),
	         "shared store %.100s unreachable (%.150s): filtering on the local copy, changes are kept for "
	         "reconciliation",
	         rd->address, why);
	log_err("%s", text);
	store_alert(s, time(NULL), "store.shared_down", text);
}

void rd_fallback(mw_store *s)
{
	pthread_mutex_lock(&s->rd->st_mu);
	s->rd->fallbacks++;
	pthread_mutex_unlock(&s->rd->st_mu);
}

/* fail - drop the connection after an error (caller holds rd->mu); why for rd_down */
static void fail_locked(store_redis *rd, const redisReply *r, char *why, size_t len)
{
	if (r && r->type == REDIS_REPLY_ERROR)
		snprintf(why, len, "%.150s", r->str);
	else
		snprintf(why, len, "%.150s", rd->c && rd->c->errstr[0] ? rd->c->errstr : "no reply");
	if (rd->c)
		redisFree(rd->c);
	rd->c = NULL;
}

/*
 * lost_locked - the connection was closed by the peer (a Redis restart, an
 * idle timeout): reconnect at once (caller holds rd->mu).  1 with a new
 * connection, 0 otherwise.  A time budget running out is not retried: the
 * command may still run, and the caller answers from SQLite.  A command
 * whose connection broke after it was sent may run twice: every write is
 * idempotent or guarded by its time, except counters (a sender's message
 * count, a tracking row), which may count once more.
 */
static int lost_locked(store_redis *rd)
{
	char err[300];
	redisContext *c;

	if (rd->c == NULL || !(rd->c->err == REDIS_ERR_EOF || (rd->c->err == REDIS_ERR_IO && errno != EAGAIN &&
	                                                       errno != EWOULDBLOCK && errno != EINPROGRESS)))
		return 0;
	if ((c = rd_new_conn(rd, rd->command_ms, err, sizeof(err))) == NULL)
		return 0;
	redisFree(rd->c);
	rd->c = c;
	return 1;
}

/* sync_mode - this thread reconciles: it may use the connection while the store is down */
static __thread int sync_mode;

void rd_sync_mode(int on)
{
	sync_mode = on;
}

/* usable - the request path uses Redis only while up; the sync thread also while coming back */
static int usable(mw_store *s)
{
	return rd_up(s) || sync_mode;
}

/* rcmd - one command; the reply (caller frees) or NULL after rd_down */
static redisReply *rcmd(mw_store *s, int argc, const char **argv)
{
	store_redis *rd = s->rd;
	redisReply *r = NULL;
	char why[200] = "";

	if (!usable(s))
		return NULL;
	pthread_mutex_lock(&rd->mu);
	if (rd->c == NULL) {
		pthread_mutex_unlock(&rd->mu);
		return NULL;
	}
	r = redisCommandArgv(rd->c, argc, argv, NULL);
	if (r == NULL && lost_locked(rd)) /* Redis restarted: one new connection, one retry */
		r = redisCommandArgv(rd->c, argc, argv, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		fail_locked(rd, r, why, sizeof(why));
		if (r)
			freeReplyObject(r);
		r = NULL;
	}
	pthread_mutex_unlock(&rd->mu);
	if (r == NULL)
		rd_down(s, why);
	return r;
}

/* rcmdv - rcmd with the words as NULL-terminated arguments */
static redisReply *rcmdv(mw_store *s, ...)
{
	const char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, s);
	while (argc < 32 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	return rcmd(s, argc, argv);
}

/* rpipe - the same command on n keys, pipelined; out[i] (caller frees); 0 or -1 after rd_down */
static int rpipe(mw_store *s, const char *cmd, size_t n, char *const *keys, redisReply **out)
{
	store_redis *rd = s->rd;
	char why[200] = "";
	size_t i, got = 0;
	int rc = 0;

	memset(out, 0, n * sizeof(*out));
	if (!usable(s))
		return -1;
	pthread_mutex_lock(&rd->mu);
	if (rd->c == NULL) {
		pthread_mutex_unlock(&rd->mu);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *argv[2] = {cmd, keys[i]};
		redisAppendCommandArgv(rd->c, 2, argv, NULL);
	}
	for (got = 0; got < n; got++) {
		void *r = NULL;
		if (redisGetReply(rd->c, &r) != REDIS_OK || r == NULL || ((redisReply *)r)->type == REDIS_REPLY_ERROR) {
			fail_locked(rd, r, why, sizeof(why));
			if (r)
				freeReplyObject(r);
			rc = -1;
			break;
		}
		out[got] = r;
	}
	pthread_mutex_unlock(&rd->mu);
	if (rc < 0) {
		for (i = 0; i < got; i++)
			freeReplyObject(out[i]);
		memset(out, 0, n * sizeof(*out));
		rd_down(s, why);
	}
	return rc;
}

/* hget - field of an HGETALL reply, or NULL */
static const char *hget(const redisReply *r, const char *field)
{
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, field) == 0)
			return r->element[i + 1]->type == REDIS_REPLY_STRING ? r->element[i + 1]->str : NULL;
	return NULL;
}

static void hcopy(char *dst, size_t len, const redisReply *r, const char *field)
{
	const char *v = hget(r, field);

	mw_strlcpy(dst, v ? v : "", len);
}

static long long hnum(const redisReply *r, const char *field)
{
	const char *v = hget(r, field);

	return v ? strtoll(v, NULL, 10) : 0;
}

static void num(char *out, long long v)
{
	snprintf(out, 24, "%lld", v);
}

/* clean - a copy of s with the separator byte replaced (so a field cannot split a record) */
static void clean(char *dst, size_t len, const char *src)
{
	size_t i;

	mw_strlcpy(dst, src ? src : "", len);
	for (i = 0; dst[i]; i++)
		if (dst[i] == '\x1f')
			dst[i] = '?';
}

/* ---- open / close ---- */

/* read_password - "[USER] PASSWORD" from a file readable by its owner only */
static int read_password(store_redis *rd, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char line[700], *p, *sp;
	int fd;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "store.password_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "store.password_file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
		         "store.password_file %s is readable or writable by group or others (mode %04o): "
		         "chmod 600 it, owned by the daemon's user",
		         path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "store.password_file %s: empty or unreadable", path);
		return -1;
	}
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	p = mw_trim(line);
	if (*p == 0) {
		snprintf(err, errlen, "store.password_file %s: empty first line", path);
		return -1;
	}
	if ((sp = strpbrk(p, " \t")) != NULL) {
		*sp = 0;
		mw_strlcpy(rd->user, p, sizeof(rd->user));
		p = mw_trim(sp + 1);
	}
	mw_strlcpy(rd->pass, p, sizeof(rd->pass));
	rd->has_pass = 1;
	memset(line, 0, sizeof(line));
	return 0;
}

static int parse_address(store_redis *rd, const char *a, char *err, size_t errlen)
{
	const char *colon;

	mw_strlcpy(rd->address, a, sizeof(rd->address));
	if (a[0] == '/') {
		rd->unix_sock = 1;
		mw_strlcpy(rd->host, a, sizeof(rd->host));
		return 0;
	}
	colon = strrchr(a, ':');
	if (colon == NULL) {
		mw_strlcpy(rd->host, a, sizeof(rd->host));
		rd->port = 6379;
	} else {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (*end || p <= 0 || p > 65535 || (size_t)(colon - a) >= sizeof(rd->host)) {
			snprintf(err, errlen, "store.address %.100s: want host:port or /path/to/socket", a);
			return -1;
		}
		snprintf(rd->host, sizeof(rd->host), "%.*s", (int)(colon - a), a);
		rd->port = (int)p;
	}
	if (rd->host[0] == '[') { /* [::1]:6379 */
		size_t l = strlen(rd->host);
		if (l > 2 && rd->host[l - 1] == ']') {
			memmove(rd->host, rd->host + 1, l - 2);
			rd->host[l - 2] = 0;
		}
	}
	return 0;
}

int rd_open(mw_store *s, const store_shared_cfg *cfg, char *err, size_t errlen)
{
	store_redis *rd = x_calloc(1, sizeof(*rd));

	pthread_mutex_init(&rd->mu, NULL);
	pthread_mutex_init(&rd->st_mu, NULL);
	pthread_mutex_init(&rd->rel_mu, NULL);
	pthread_rwlock_init(&rd->wt, NULL);
	s->rd = rd;
	if (parse_address(rd, cfg->address && *cfg->address ? cfg->address : "127.0.0.1:6379", err, errlen) < 0)
		return -1;
	if (cfg->password_file && *cfg->password_file && read_password(rd, cfg->password_file, err, errlen) < 0)
		return -1;
	mw_strlcpy(rd->prefix, cfg->prefix ? cfg->prefix : "mw:", sizeof(rd->prefix));
	mw_strlcpy(rd->gw, cfg->gateway && *cfg->gateway ? cfg->gateway : "gw", sizeof(rd->gw));
	rd->connect_ms = cfg->connect_ms ? cfg->connect_ms : 200;
	rd->command_ms = cfg->command_ms ? cfg->command_ms : 200;
	rd->retry_ms = cfg->retry_ms ? cfg->retry_ms : 1000;
	rd->pull_s = cfg->pull_s ? cfg->pull_s : 60;
	rd->ttl = cfg->history_ttl > 0 ? cfg->history_ttl : 30 * 86400;
	rd->down_since = time(NULL);
	return 0;
}

void rd_close(mw_store *s)
{
	store_redis *rd = s->rd;

	if (rd == NULL)
		return;
	rd_stop_thread(s);
	if (rd->c)
		redisFree(rd->c);
	if (rd->rel)
		redisFree(rd->rel);
	memset(rd->pass, 0, sizeof(rd->pass));
	pthread_mutex_destroy(&rd->mu);
	pthread_mutex_destroy(&rd->st_mu);
	pthread_mutex_destroy(&rd->rel_mu);
	pthread_rwlock_destroy(&rd->wt);
	x_free(rd);
	s->rd = NULL;
}

void rd_publish(mw_store *s, const char *kind)
{
	char ch[128];
	redisReply *r;

	rd_key(s->rd, ch, sizeof(ch), "changes");
	if ((r = rcmdv(s, "PUBLISH", ch, kind, NULL)) != NULL)
		freeReplyObject(r);
}

/* ---- fan-out, sender history ---- */

static const char lua_rcpt[] = "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])\n"
                               "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (ARGV[1] - ARGV[2]))\n"
                               "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
                               "return redis.call('ZCARD', KEYS[1])\n";

static int rd_rcpt_seen(mw_store *s, const char *sender_key, const char *rcpt, time_t now, time_t window,
                        unsigned *distinct)
{
	char k[400], n1[24], n2[24], n3[24];
	redisReply *r;

	rd_key(s->rd, k, sizeof(k), "r:%s", sender_key);
	num(n1, now);
	num(n2, window);
	num(n3, window + 3600);
	if ((r = rcmdv(s, "EVAL", lua_rcpt, "1", k, n1, n2, rcpt, n3, NULL)) == NULL)
		return -1;
	*distinct = r->type == REDIS_REPLY_INTEGER ? (unsigned)r->integer : 0;
	freeReplyObject(r);
	return 0;
}

static const char lua_sender[] = "local n = redis.call('HINCRBY', KEYS[1], 'msgs', 1)\n"
                                 "if n == 1 then redis.call('HSET', KEYS[1], 'first', ARGV[1]) end\n"
                                 "redis.call('HSET', KEYS[1], 'last', ARGV[1])\n"
                                 "redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
                                 "return n\n";

static int rd_sender_seen(mw_store *s, const char *addr, time_t now, int *first)
{
	char k[400], n1[24], n2[24];
	redisReply *r;

	rd_key(s->rd, k, sizeof(k), "s:%s", addr);
	num(n1, now);
	num(n2, s->rd->ttl);
	if ((r = rcmdv(s, "EVAL", lua_sender, "1", k, n1, n2, NULL)) == NULL)
		return -1;
	*first = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return 0;
}

static int rd_sender_known(mw_store *s, const char *addr)
{
	char k[400];
	redisReply *r;
	int rc;

	rd_key(s->rd, k, sizeof(k), "s:%s", addr);
	if ((r = rcmdv(s, "EXISTS", k, NULL)) == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
	freeReplyObject(r);
	return rc;
}

/* ---- blocks ---- */

static const char lua_block_add[] =
    "if ARGV[8] == '1' then\n"
    "  local c = redis.call('HGET', KEYS[1], 'created')\n"
    "  if c and tonumber(c) > tonumber(ARGV[5]) then return 0 end\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], 'code', ARGV[2], 'detail', ARGV[3], 'source', ARGV[4], 'created', ARGV[5],"
    " 'expires', ARGV[6])\n"
    "if tonumber(ARGV[7]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[7]) end\n"
    "redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])\n"
    "return 1\n";

static int block_add(mw_store *s, const store_block *b, int if_newer)
{
	char k[400], idx[100], member[300], code[64], detail[220], source[80], n1[24], n2[24], n3[24];
	redisReply *r;
	int rc;

	rd_key(s->rd, k, sizeof(k), "b:%s:%s", b->kind, b->value);
	rd_key(s->rd, idx, sizeof(idx), "blocks");
	snprintf(member, sizeof(member), "%s" US "%s", b->kind, b->value);
	clean(code, sizeof(code), b->code);
	clean(detail, sizeof(detail), b->detail);
	clean(source, sizeof(source), b->source);
	num(n1, b->created);
	num(n2, b->expires);
	num(n3, b->expires ? (long long)(b->expires - b->created) + BLOCK_GRACE : 0);
	if (b->expires && b->expires <= b->created)
		num(n3, BLOCK_GRACE);
	if ((r = rcmdv(s, "EVAL", lua_block_add, "2", k, idx, member, code, detail, source, n1, n2, n3,
	               if_newer ? "1" : "0", NULL)) == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
	freeReplyObject(r);
	return rc;
}

/*
 * Blocks, rules and list edits are always written "if newer" (by their
 * time): a command that ran out of its time budget may still run later in
 * Redis, and must not undo a change made after it.
 */
static int rd_block_add(mw_store *s, const store_block *b)
{
	return block_add(s, b, 1) < 0 ? -1 : 0;
}

int rd_block_add_if_newer(mw_store *s, const store_block *b)
{
	return block_add(s, b, 1);
}

static const char lua_block_del[] = "local c = redis.call('HGET', KEYS[1], 'created')\n"
                                    "if not c then redis.call('ZREM', KEYS[2], ARGV[1]) return 0 end\n"
                                    "if tonumber(ARGV[2]) > 0 and tonumber(c) > tonumber(ARGV[2]) then return 2 end\n"
                                    "redis.call('DEL', KEYS[1]) redis.call('ZREM', KEYS[2], ARGV[1]) return 1\n";

static int block_del(mw_store *s, const char *kind, const char *value, time_t t)
{
	char k[400], idx[100], member[300], n1[24];
	redisReply *r;
	int rc;

	rd_key(s->rd, k, sizeof(k), "b:%s:%s", kind, value);
	rd_key(s->rd, idx, sizeof(idx), "blocks");
	snprintf(member, sizeof(member), "%s" US "%s", kind, value);
	num(n1, t);
	if ((r = rcmdv(s, "EVAL", lua_block_del, "2", k, idx, member, n1, NULL)) == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
	freeReplyObject(r);
	return rc;
}

static int rd_block_remove(mw_store *s, const char *kind, const char *value)
{
	int rc = block_del(s, kind, value, time(NULL));

	return rc < 0 ? -1 : rc == 1 ? 0 : 1;
}

int rd_block_remove_if_older(mw_store *s, const char *kind, const char *value, time_t t)
{
	return block_del(s, kind, value, t);
}

static void fill_block(store_block *b, const char *kind, const char *value, const redisReply *h)
{
	memset(b, 0, sizeof(*b));
	mw_strlcpy(b->kind, kind, sizeof(b->kind));
	mw_strlcpy(b->value, value, sizeof(b->value));
	hcopy(b->code, sizeof(b->code), h, "code");
	hcopy(b->detail, sizeof(b->detail), h, "detail");
	hcopy(b->source, sizeof(b->source), h, "source");
	b->created = (time_t)hnum(h, "created");
	b->expires = (time_t)hnum(h, "expires");
}

static int rd_block_find(mw_store *s, const char *kind, const char *value, time_t now, store_block *out)
{
	char k[400];
	redisReply *r;
	store_block b;
	int rc = 0;

	rd_key(s->rd, k, sizeof(k), "b:%s:%s", kind, value);
	if ((r = rcmdv(s, "HGETALL", k, NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
		fill_block(&b, kind, value, r);
		if (b.expires == 0 || b.expires > now) {
			rc = 1;
			if (out)
				*out = b;
		}
	}
	freeReplyObject(r);
	return rc;
}

static int rd_block_list(mw_store *s, time_t now, void (*fn)(const store_block *b, void *arg), void *arg)
{
	char idx[100];
	redisReply *r, **hs = NULL;
	char **keys = NULL;
	size_t i, n;
	int count = 0;

	rd_key(s->rd, idx, sizeof(idx), "blocks");
	if ((r = rcmdv(s, "ZRANGE", idx, "0", "-1", NULL)) == NULL)
		return -1;
	n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
	keys = x_calloc(n ? n : 1, sizeof(*keys));
	hs = x_calloc(n ? n : 1, sizeof(*hs));
	for (i = 0; i < n; i++) {
		const char *m = r->element[i]->str ? r->element[i]->str : "";
		const char *sep = strchr(m, '\x1f');
		keys[i] = x_malloc(400);
		rd_key(s->rd, keys[i], 400, "b:%.*s:%s", sep ? (int)(sep - m) : 0, m, sep ? sep + 1 : m);
	}
	if (n && rpipe(s, "HGETALL", n, keys, hs) < 0) {
		count = -1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *m = r->element[i]->str ? r->element[i]->str : "";
		const char *sep = strchr(m, '\x1f');
		char kind[16];
		store_block b;
		if (sep == NULL || hs[i]->type != REDIS_REPLY_ARRAY || hs[i]->elements == 0)
			continue; /* expired key: its index entry goes at the next prune */
		snprintf(kind, sizeof(kind), "%.*s", (int)(sep - m), m);
		fill_block(&b, kind, sep + 1, hs[i]);
		if (b.expires != 0 && b.expires <= now)
			continue;
		fn(&b, arg);
		count++;
	}
out:
	for (i = 0; i < n; i++) {
		x_free(keys[i]);
		if (hs[i])
			freeReplyObject(hs[i]);
	}
	x_free(keys);
	x_free(hs);
	freeReplyObject(r);
	return count;
}

/* ---- fingerprints ---- */

static const char lua_fp_record[] =
    "redis.call('HSETNX', KEYS[1], 'first', ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'last', ARGV[1])\n"
    "if redis.call('HGET', KEYS[1], 'flagged') ~= '1' then redis.call('EXPIRE', KEYS[1], ARGV[3]) end\n"
    "redis.call('SADD', KEYS[2], ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[3])\n"
    "return 1\n";

static int rd_fp_record(mw_store *s, const char *fp, const char *sender, time_t now)
{
	char k1[200], k2[400], n1[24], n3[24];
	redisReply *r;

	rd_key(s->rd, k1, sizeof(k1), "f:%s", fp);
	rd_key(s->rd, k2, sizeof(k2), "fs:%s", sender);
	num(n1, now);
	num(n3, s->rd->ttl);
	if ((r = rcmdv(s, "EVAL", lua_fp_record, "2", k1, k2, n1, fp, n3, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

static const char lua_fp_flag_sender[] =
    "local n = 0\n"
    "for _, fp in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local k = ARGV[1] .. 'f:' .. fp\n"
    "  if redis.call('EXISTS', k) == 1 and redis.call('HGET', k, 'flagged') ~= '1' then\n"
    "    redis.call('HSET', k, 'flagged', '1', 'fs', ARGV[2], 'fc', ARGV[3], 'fsrc', ARGV[4], 'ft', ARGV[5])\n"
    "    redis.call('PERSIST', k)\n"
    "    redis.call('ZADD', KEYS[2], ARGV[5], fp)\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

static int rd_fp_flag_sender(mw_store *s, const char *sender, const char *code, const char *source, time_t now)
{
	char k1[400], k2[100], n1[24];
	redisReply *r;
	int n;

	rd_key(s->rd, k1, sizeof(k1), "fs:%s", sender);
	rd_key(s->rd, k2, sizeof(k2), "fflag");
	num(n1, now);
	if ((r = rcmdv(s, "EVAL", lua_fp_flag_sender, "2", k1, k2, s->rd->prefix, sender, code, source, n1, NULL)) ==
	    NULL)
		return -1;
	n = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
	freeReplyObject(r);
	return n;
}

static const char lua_fp_flag[] =
    "redis.call('HSETNX', KEYS[1], 'first', ARGV[5])\n"
    "redis.call('HSETNX', KEYS[1], 'last', ARGV[5])\n"
    "redis.call('HSET', KEYS[1], 'flagged', '1', 'fs', ARGV[2], 'fc', ARGV[3], 'fsrc', ARGV[4], 'ft', ARGV[5])\n"
    "redis.call('PERSIST', KEYS[1])\n"
    "redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])\n"
    "return 1\n";

static int rd_fp_flag(mw_store *s, const char *fp, const char *sender, const char *code, const char *source, time_t now)
{
	char k1[200], k2[100], n1[24];
	redisReply *r;

	rd_key(s->rd, k1, sizeof(k1), "f:%s", fp);
	rd_key(s->rd, k2, sizeof(k2), "fflag");
	num(n1, now);
	if ((r = rcmdv(s, "EVAL", lua_fp_flag, "2", k1, k2, fp, sender, code, source, n1, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

static int rd_fp_flagged(mw_store *s, const char *fp, store_block *why)
{
	char k[200];
	redisReply *r;
	int rc = 0;

	rd_key(s->rd, k, sizeof(k), "f:%s", fp);
	if ((r = rcmdv(s, "HGETALL", k, NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && hget(r, "flagged") && strcmp(hget(r, "flagged"), "1") == 0) {
		rc = 1;
		if (why) {
			memset(why, 0, sizeof(*why));
			mw_strlcpy(why->kind, "campaign", sizeof(why->kind));
			mw_strlcpy(why->value, fp, sizeof(why->value));
			hcopy(why->detail, sizeof(why->detail), r, "fs");
			hcopy(why->code, sizeof(why->code), r, "fc");
			hcopy(why->source, sizeof(why->source), r, "fsrc");
			why->created = (time_t)hnum(r, "ft");
		}
	}
	freeReplyObject(r);
	return rc;
}

/* ---- list edits ---- */

static const char lua_list_edit[] = "if ARGV[4] == '1' then\n"
                                    "  local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
                                    "  if cur then\n"
                                    "    local ct = tonumber(string.match(cur, '([^\\31]*)$'))\n"
                                    "    if ct and ct > tonumber(ARGV[3]) then return 0 end\n"
                                    "  end\n"
                                    "end\n"
                                    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
                                    "return 1\n";

static int list_edit(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who,
                     time_t t, int if_newer)
{
	char k[100], field[600], val[300], w[80], n1[24];
	redisReply *r;
	int rc;

	rd_key(s->rd, k, sizeof(k), "lists");
	snprintf(field, sizeof(field), "%s" US "%s", list, entry);
	clean(w, sizeof(w), who);
	snprintf(val, sizeof(val), "%d" US "%lld" US "%s" US "%lld", add ? 1 : 0, (long long)expires, w, (long long)t);
	num(n1, t);
	if ((r = rcmdv(s, "EVAL", lua_list_edit, "1", k, field, val, n1, if_newer ? "1" : "0", NULL)) == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
	freeReplyObject(r);
	return rc;
}

static int rd_list_edit(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who)
{
	return list_edit(s, list, entry, add, expires, who, time(NULL), 1) < 0 ? -1 : 0;
}

int rd_list_edit_if_newer(mw_store *s, const char *list, const char *entry, int add, time_t expires, const char *who,
                          time_t t)
{
	return list_edit(s, list, entry, add, expires, who, t, 1);
}

/* split_us - split s in place at 0x1f into at most n fields; returns the count */
static size_t split_us(char *s, char **f, size_t n)
{
	size_t k = 0;

	while (k < n) {
		f[k++] = s;
		if ((s = strchr(s, '\x1f')) == NULL)
			break;
		*s++ = 0;
	}
	return k;
}

/* rd_lists_each - fn(list, entry, add, expires, who, t) for every shared list edit */
static int lists_each(mw_store *s,
                      void (*fn)(const char *list, const char *entry, int add, time_t expires, const char *who,
                                 time_t t, void *arg),
                      void *arg)
{
	char k[100];
	redisReply *r;
	size_t i;

	rd_key(s->rd, k, sizeof(k), "lists");
	if ((r = rcmdv(s, "HGETALL", k, NULL)) == NULL)
		return -1;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		char *fc = x_strdup(r->element[i]->str ? r->element[i]->str : "");
		char *vc = x_strdup(r->element[i + 1]->str ? r->element[i + 1]->str : "");
		char *ff[2], *vf[4];
		if (split_us(fc, ff, 2) == 2 && split_us(vc, vf, 4) == 4)
			fn(ff[0], ff[1], atoi(vf[0]), (time_t)strtoll(vf[1], NULL, 10), vf[2],
			   (time_t)strtoll(vf[3], NULL, 10), arg);
		x_free(fc);
		x_free(vc);
	}
	freeReplyObject(r);
	return 0;
}

typedef struct apply_ctx {
	mw_lists *l;
	time_t now;
} apply_ctx;

static void apply_one(const char *list, const char *entry, int add, time_t expires, const char *who, time_t t,
                      void *arg)
{
	apply_ctx *a = arg;

	(void)who;
	(void)t;
	if (expires != 0 && expires <= a->now)
		return;
	if (add)
		lists_add(a->l, list, entry);
	else
		lists_remove(a->l, list, entry);
}

static int rd_lists_apply(mw_store *s, mw_lists *l, time_t now)
{
	apply_ctx a = {l, now};

	return lists_each(s, apply_one, &a);
}

/* ---- rules and audit ---- */

/* the audit trail's append, shared by the rule and audit scripts (AUDIT_KEEP entries kept) */
#define LUA_AUDIT_FN                                                                                                   \
	"local function audit(row_tail)\n"                                                                             \
	"  local id = redis.call('INCR', KEYS[4])\n"                                                                   \
	"  redis.call('ZADD', KEYS[3], id, id .. '\\31' .. row_tail)\n"                                                \
	"  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -100001)\n"                                                       \
	"  return id\n"                                                                                                \
	"end\n"

#define LUA_RULE_BODY                                                                                                  \
	"if ARGV[5] == '1' then\n"                                                                                     \
	"  local ct = redis.call('HGET', KEYS[2], ARGV[1])\n"                                                          \
	"  if ct and tonumber(ct) > tonumber(ARGV[4]) then return {0, ''} end\n"                                       \
	"end\n"                                                                                                        \
	"local old = redis.call('HGET', KEYS[1], ARGV[1]) or ''\n"                                                     \
	"if ARGV[6] == '1' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"                                       \
	"else redis.call('HDEL', KEYS[1], ARGV[1]) end\n"                                                              \
	"redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])\n"                                                              \
	"audit(ARGV[4] .. '\\31' .. ARGV[3] .. '\\31' .. ARGV[1] .. '\\31' .. old .. '\\31' .. ARGV[2])\n"             \
	"return {1, old}\n"

static int rule_set(mw_store *s, const char *key, const char *value, const char *who, time_t t, int if_newer, char *old,
                    size_t oldlen)
{
	static const char script[] = LUA_AUDIT_FN LUA_RULE_BODY;
	char k[4][100], kc[200], vc[600], w[80], n1[24];
	redisReply *r;
	int rc = -1;

	rd_key(s->rd, k[0], sizeof(k[0]), "rules");
	rd_key(s->rd, k[1], sizeof(k[1]), "rulet");
	rd_key(s->rd, k[2], sizeof(k[2]), "audit");
	rd_key(s->rd, k[3], sizeof(k[3]), "audit:seq");
	clean(kc, sizeof(kc), key);
	clean(vc, sizeof(vc), value ? value : "");
	clean(w, sizeof(w), who);
	num(n1, t);
	if ((r = rcmdv(s, "EVAL", script, "4", k[0], k[1], k[2], k[3], kc, vc, w, n1, if_newer ? "1" : "0",
	               value ? "1" : "0", NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
		rc = r->element[0]->type == REDIS_REPLY_INTEGER ? (int)r->element[0]->integer : 0;
		if (old && r->element[1]->type == REDIS_REPLY_STRING)
			mw_strlcpy(old, r->element[1]->str, oldlen);
	}
	freeReplyObject(r);
	return rc;
}

static int rd_rule_set(mw_store *s, const char *key, const char *value, const char *who, time_t now, char *old,
                       size_t oldlen)
{
	return rule_set(s, key, value, who, now, 1, old, oldlen) < 0 ? -1 : 0;
}

int rd_rule_set_if_newer(mw_store *s, const char *key, const char *value, const char *who, time_t t)
{
	return rule_set(s, key, value, who, t, 1, NULL, 0);
}

static int cmp_pair(const void *a, const void *b)
{
	const redisReply *const *x = a, *const *y = b;

	return strcmp((*x)->str ? (*x)->str : "", (*y)->str ? (*y)->str : "");
}

static int rd_rules(mw_store *s, void (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	char k[100];
	redisReply *r, **keys;
	size_t i, n;

	rd_key(s->rd, k, sizeof(k), "rules");
	if ((r = rcmdv(s, "HGETALL", k, NULL)) == NULL)
		return -1;
	n = r->type == REDIS_REPLY_ARRAY ? r->elements / 2 : 0;
	/* sorted by key, as SQLite's ORDER BY key: keep pointers to the key elements */
	keys = x_calloc(n ? n : 1, sizeof(*keys));
	for (i = 0; i < n; i++)
		keys[i] = r->element[2 * i];
	qsort(keys, n, sizeof(*keys), cmp_pair);
	for (i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < n; j++)
			if (r->element[2 * j] == keys[i])
				break;
		{
			char *kc = x_strdup(keys[i]->str ? keys[i]->str : "");
			char *vc = x_strdup(r->element[2 * j + 1]->str ? r->element[2 * j + 1]->str : "");
			fn(kc, vc, arg);
			x_free(kc);
			x_free(vc);
		}
	}
	x_free(keys);
	freeReplyObject(r);
	return (int)n;
}

static int parse_audit(const char *m, store_audit_row *row)
{
	char *c = x_strdup(m), *f[6];
	int ok = split_us(c, f, 6) == 6;

	memset(row, 0, sizeof(*row));
	if (ok) {
		row->id = strtoll(f[0], NULL, 10);
		row->time = (time_t)strtoll(f[1], NULL, 10);
		mw_strlcpy(row->who, f[2], sizeof(row->who));
		mw_strlcpy(row->key, f[3], sizeof(row->key));
		mw_strlcpy(row->old, f[4], sizeof(row->old));
		mw_strlcpy(row->new_, f[5], sizeof(row->new_));
	}
	x_free(c);
	return ok ? 0 : -1;
}

static int rd_audit(mw_store *s, size_t limit, void (*fn)(const store_audit_row *r, void *arg), void *arg)
{
	char k[100], stop[24];
	redisReply *r;
	store_audit_row row;
	size_t i;
	int n = 0;

	rd_key(s->rd, k, sizeof(k), "audit");
	num(stop, (long long)(limit ? limit : 20) - 1);
	if ((r = rcmdv(s, "ZREVRANGE", k, "0", stop, NULL)) == NULL)
		return -1;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if (r->element[i]->str && parse_audit(r->element[i]->str, &row) == 0) {
			fn(&row, arg);
			n++;
		}
	freeReplyObject(r);
	return n;
}

static int rd_audit_get(mw_store *s, long long id, store_audit_row *out)
{
	char k[100], n1[24];
	redisReply *r;
	int rc = 0;

	rd_key(s->rd, k, sizeof(k), "audit");
	num(n1, id);
	if ((r = rcmdv(s, "ZRANGEBYSCORE", k, n1, n1, NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 && r->element[0]->str &&
	    parse_audit(r->element[0]->str, out) == 0)
		rc = 1;
	freeReplyObject(r);
	return rc;
}

static int rd_audit_add(mw_store *s, time_t now, const char *who, const char *key, const char *old, const char *new_)
{
	static const char script[] = LUA_AUDIT_FN "return audit(ARGV[1])\n";
	char k[4][100], row[1500], w[80], kc[200], o[600], nv[600];
	redisReply *r;

	rd_key(s->rd, k[0], sizeof(k[0]), "rules");
	rd_key(s->rd, k[1], sizeof(k[1]), "rulet");
	rd_key(s->rd, k[2], sizeof(k[2]), "audit");
	rd_key(s->rd, k[3], sizeof(k[3]), "audit:seq");
	clean(w, sizeof(w), who);
	clean(kc, sizeof(kc), key);
	clean(o, sizeof(o), old);
	clean(nv, sizeof(nv), new_);
	snprintf(row, sizeof(row), "%lld" US "%s" US "%s" US "%s" US "%s", (long long)now, w, kc, o, nv);
	if ((r = rcmdv(s, "EVAL", script, "4", k[0], k[1], k[2], k[3], row, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* ---- tracking ---- */

static const char lua_track[] =
    "local p = ARGV[1]\n"
    "local id = redis.call('INCR', p .. 't:seq')\n"
    "local k = p .. 't:' .. id\n"
    "redis.call('HSET', k, 'time', ARGV[3], 'qid', ARGV[4], 'client', ARGV[5], 'sender', ARGV[6], 'from', ARGV[7],"
    " 'subject', ARGV[8], 'rcpts', ARGV[9], 'size', ARGV[10], 'action', ARGV[11], 'reasons', ARGV[12],"
    " 'stage', ARGV[13], 'qid2', ARGV[14], 'gw', ARGV[15], 'rl', ARGV[16], 'atts', ARGV[17], 'links', ARGV[18])\n"
    "redis.call('EXPIRE', k, ARGV[2])\n"
    "redis.call('ZADD', p .. 't', ARGV[3], id)\n"
    "local n = tonumber(ARGV[19])\n"
    "for i = 1, n do\n"
    "  local ik = p .. 't:' .. ARGV[19 + i]\n"
    "  redis.call('ZADD', ik, ARGV[3], id)\n"
    "  redis.call('ZREMRANGEBYSCORE', ik, '-inf', '(' .. (ARGV[3] - ARGV[2]))\n"
    "  redis.call('EXPIRE', ik, ARGV[2])\n"
    "end\n"
    "return id\n";

#define TRACK_MAX_IDX 64

static void lower_into(char *dst, size_t len, const char *src)
{
	mw_strlcpy(dst, src ? src : "", len);
	mw_lower(dst);
}

static int rd_track_add(mw_store *s, const store_track_rec *r)
{
	const char *argv[20 + TRACK_MAX_IDX + 3];
	char *idx[TRACK_MAX_IDX];
	char ttl[24], t[24], size[24], nidx_s[24], sender[330], dom[256];
	mw_buf rcpts, rl, atts, links;
	size_t i, nidx = 0;
	redisReply *rep;
	int argc = 0;
	const char *d;

	buf_init(&rcpts, 4000);
	buf_init(&rl, 64 * 1024);
	buf_init(&atts, 64 * 1024);
	buf_init(&links, 64 * 1024);
	lower_into(sender, sizeof(sender), r->sender);
	for (i = 0; i < r->nrcpts; i++) {
		char lr[330];
		buf_printf(&rcpts, "%s%s", i ? ", " : "", r->rcpts[i]);
		lower_into(lr, sizeof(lr), r->rcpts[i]);
		buf_printf(&rl, "%s\n", lr);
		if (nidx < TRACK_MAX_IDX) {
			idx[nidx] = x_malloc(340);
			snprintf(idx[nidx++], 340, "r:%s", lr);
		}
	}
	for (i = 0; i < r->natts; i++) {
		char nm[300], ty[100], sh[70];
		clean(nm, sizeof(nm), r->atts[i].name);
		clean(ty, sizeof(ty), r->atts[i].type);
		lower_into(sh, sizeof(sh), r->atts[i].sha256);
		for (d = nm; *d; d++)
			if (*d == '\n')
				nm[d - nm] = ' ';
		buf_printf(&atts, "%s\x1f%s\x1f%s\n", nm, ty, sh);
		if (strlen(sh) == 64 && nidx < TRACK_MAX_IDX) {
			idx[nidx] = x_malloc(80);
			snprintf(idx[nidx++], 80, "h:%s", sh);
		}
	}
	for (i = 0; i < r->nlinks; i++) {
		char ld[256];
		lower_into(ld, sizeof(ld), r->link_domains[i]);
		buf_printf(&links, "%s\n", ld);
		if (nidx < TRACK_MAX_IDX) {
			idx[nidx] = x_malloc(270);
			snprintf(idx[nidx++], 270, "l:%s", ld);
		}
	}
	if (sender[0] && nidx < TRACK_MAX_IDX) {
		idx[nidx] = x_malloc(340);
		snprintf(idx[nidx++], 340, "s:%s", sender);
	}
	d = strrchr(sender, '@');
	mw_strlcpy(dom, d ? d + 1 : "", sizeof(dom));
	for (d = dom; d && *d && nidx < TRACK_MAX_IDX; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL) {
		idx[nidx] = x_malloc(270);
		snprintf(idx[nidx++], 270, "d:%s", d);
	}
	num(ttl, s->rd->ttl);
	num(t, r->time);
	num(size, (long long)r->size);
	num(nidx_s, (long long)nidx);
	argv[argc++] = "EVAL";
	argv[argc++] = lua_track;
	argv[argc++] = "0";
	argv[argc++] = s->rd->prefix;
	argv[argc++] = ttl;
	argv[argc++] = t;
	argv[argc++] = r->queue_id ? r->queue_id : "";
	argv[argc++] = r->client ? r->client : "";
	argv[argc++] = sender;
	argv[argc++] = r->hdr_from ? r->hdr_from : "";
	argv[argc++] = r->subject ? r->subject : "";
	argv[argc++] = rcpts.p ? rcpts.p : "";
	argv[argc++] = size;
	argv[argc++] = r->action ? r->action : "";
	argv[argc++] = r->reasons ? r->reasons : "";
	argv[argc++] = r->stage ? r->stage : "";
	argv[argc++] = r->quarantine_id ? r->quarantine_id : "";
	argv[argc++] = s->rd->gw;
	argv[argc++] = rl.p ? rl.p : "";
	argv[argc++] = atts.p ? atts.p : "";
	argv[argc++] = links.p ? links.p : "";
	argv[argc++] = nidx_s;
	for (i = 0; i < nidx; i++)
		argv[argc++] = idx[i];
	rep = rcmd(s, argc, argv);
	for (i = 0; i < nidx; i++)
		x_free(idx[i]);
	buf_free(&rcpts);
	buf_free(&rl);
	buf_free(&atts);
	buf_free(&links);
	if (rep == NULL)
		return -1;
	freeReplyObject(rep);
	return 0;
}

/* line_has - 1 if one of the '\n'-separated lines of text equals w */
static int line_has(const char *text, const char *w)
{
	size_t n = strlen(w);
	const char *p = text;

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && memcmp(p, w, n) == 0)
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

/* att_match - an attachment line matches sha prefix (lower) and/or name substring */
static int att_match(const char *atts, const char *sha, const char *name)
{
	char *c = x_strdup(atts ? atts : ""), *save = NULL, *line;
	int hit = 0;

	for (line = strtok_r(c, "\n", &save); line && !hit; line = strtok_r(NULL, "\n", &save)) {
		char *f[3];
		if (split_us(line, f, 3) != 3)
			continue;
		if (sha && strncmp(f[2], sha, strlen(sha)) != 0)
			continue;
		if (name && strstr(f[0], name) == NULL)
			continue;
		hit = 1;
	}
	x_free(c);
	return hit;
}

static int track_match(const redisReply *h, const store_track_query *q, const char *lsender, const char *ldom,
                       const char *lrcpt, const char *lsha, const char *llink)
{
	const char *v;
	time_t t = (time_t)hnum(h, "time");

	if (q->since && t < q->since)
		return 0;
	if (q->until && t >= q->until)
		return 0;
	if (lsender && strcmp((v = hget(h, "sender")) ? v : "", lsender) != 0)
		return 0;
	if (ldom) {
		const char *snd = hget(h, "sender"), *at = snd ? strrchr(snd, '@') : NULL;
		const char *sd = at ? at + 1 : "";
		size_t a = strlen(sd), b = strlen(ldom);
		if (!(strcmp(sd, ldom) == 0 || (a > b + 1 && sd[a - b - 1] == '.' && strcmp(sd + a - b, ldom) == 0)))
			return 0;
	}
	if (lrcpt && !line_has((v = hget(h, "rl")) ? v : "", lrcpt))
		return 0;
	if (q->subject && strstr((v = hget(h, "subject")) ? v : "", q->subject) == NULL)
		return 0;
	if ((lsha || q->name) && !att_match(hget(h, "atts"), lsha, q->name))
		return 0;
	if (llink && !line_has((v = hget(h, "links")) ? v : "", llink))
		return 0;
	if (q->action && strcmp((v = hget(h, "action")) ? v : "", q->action) != 0)
		return 0;
	return 1;
}

static int rd_track_find(mw_store *s, const store_track_query *q, void (*fn)(const store_track_row *r, void *arg),
                         void *arg)
{
	char k[400], lsender[330], ldom[256], lrcpt[330], lsha[80], llink[256], maxs[24], mins[24], offs[24], cnts[24];
	size_t limit = q->limit ? q->limit : 100, scanned = 0, off = 0, i;
	int n = 0, done = 0;
	store_track_row *row = x_malloc(sizeof(*row));

	if (limit > 1000)
		limit = 1000;
	lower_into(lsender, sizeof(lsender), q->sender);
	lower_into(ldom, sizeof(ldom), q->domain);
	lower_into(lrcpt, sizeof(lrcpt), q->rcpt);
	lower_into(lsha, sizeof(lsha), q->sha256);
	lower_into(llink, sizeof(llink), q->link_domain);
	if (q->sender)
		rd_key(s->rd, k, sizeof(k), "t:s:%s", lsender);
	else if (q->rcpt)
		rd_key(s->rd, k, sizeof(k), "t:r:%s", lrcpt);
	else if (q->link_domain)
		rd_key(s->rd, k, sizeof(k), "t:l:%s", llink);
	else if (q->sha256 && strlen(lsha) == 64)
		rd_key(s->rd, k, sizeof(k), "t:h:%s", lsha);
	else if (q->domain)
		rd_key(s->rd, k, sizeof(k), "t:d:%s", ldom);
	else
		rd_key(s->rd, k, sizeof(k), "t");
	if (q->until)
		snprintf(maxs, sizeof(maxs), "(%lld", (long long)q->until);
	else
		mw_strlcpy(maxs, "+inf", sizeof(maxs));
	if (q->since)
		num(mins, q->since);
	else
		mw_strlcpy(mins, "-inf", sizeof(mins));
	while (!done && scanned < TRACK_SCAN) {
		redisReply *ids, **hs;
		char **keys;
		size_t m;
		num(offs, (long long)off);
		num(cnts, TRACK_PAGE);
		if ((ids = rcmdv(s, "ZREVRANGEBYSCORE", k, maxs, mins, "LIMIT", offs, cnts, NULL)) == NULL) {
			n = -1;
			break;
		}
		m = ids->type == REDIS_REPLY_ARRAY ? ids->elements : 0;
		if (m == 0) {
			freeReplyObject(ids);
			break;
		}
		keys = x_calloc(m, sizeof(*keys));
		hs = x_calloc(m, sizeof(*hs));
		for (i = 0; i < m; i++) {
			keys[i] = x_malloc(100);
			rd_key(s->rd, keys[i], 100, "t:%s", ids->element[i]->str ? ids->element[i]->str : "0");
		}
		if (rpipe(s, "HGETALL", m, keys, hs) < 0) {
			n = -1;
			done = 1;
		}
		for (i = 0; n >= 0 && i < m && !done; i++) {
			const redisReply *h = hs[i];
			if (h == NULL || h->type != REDIS_REPLY_ARRAY || h->elements == 0)
				continue;
			if (!track_match(h, q, q->sender ? lsender : NULL, q->domain ? ldom : NULL,
			                 q->rcpt ? lrcpt : NULL, q->sha256 ? lsha : NULL,
			                 q->link_domain ? llink : NULL))
				continue;
			memset(row, 0, sizeof(*row));
			row->id = strtoll(ids->element[i]->str ? ids->element[i]->str : "0", NULL, 10);
			row->time = (time_t)hnum(h, "time");
			hcopy(row->queue_id, sizeof(row->queue_id), h, "qid");
			hcopy(row->client, sizeof(row->client), h, "client");
			hcopy(row->sender, sizeof(row->sender), h, "sender");
			hcopy(row->hdr_from, sizeof(row->hdr_from), h, "from");
			hcopy(row->subject, sizeof(row->subject), h, "subject");
			hcopy(row->rcpts, sizeof(row->rcpts), h, "rcpts");
			row->size = (size_t)hnum(h, "size");
			hcopy(row->action, sizeof(row->action), h, "action");
			hcopy(row->reasons, sizeof(row->reasons), h, "reasons");
			hcopy(row->stage, sizeof(row->stage), h, "stage");
			hcopy(row->quarantine_id, sizeof(row->quarantine_id), h, "qid2");
			fn(row, arg);
			if ((size_t)++n >= limit)
				done = 1;
		}
		for (i = 0; i < m; i++) {
			x_free(keys[i]);
			if (hs[i])
				freeReplyObject(hs[i]);
		}
		x_free(keys);
		x_free(hs);
		freeReplyObject(ids);
		scanned += m;
		off += m;
		if (m < TRACK_PAGE)
			break;
	}
	x_free(row);
	return n;
}

long rd_track_trim(mw_store *s, time_t before, size_t max_rows)
{
	char k[100], b[24], stop[24];
	redisReply *r;
	long n = 0;

	rd_key(s->rd, k, sizeof(k), "t");
	snprintf(b, sizeof(b), "(%lld", (long long)before);
	if ((r = rcmdv(s, "ZREMRANGEBYSCORE", k, "-inf", b, NULL)) == NULL)
		return -1;
	n += r->type == REDIS_REPLY_INTEGER ? (long)r->integer : 0;
	freeReplyObject(r);
	num(stop, -(long long)max_rows - 1);
	if ((r = rcmdv(s, "ZREMRANGEBYRANK", k, "0", stop, NULL)) == NULL)
		return -1;
	n += r->type == REDIS_REPLY_INTEGER ? (long)r->integer : 0;
	freeReplyObject(r);
	return n;
}

/* sweep - remove the members of zset idx whose key (prefix + fmt % member) is gone */
static long sweep(mw_store *s, const char *idx_name, int block_members)
{
	char idx[100], **keys;
	redisReply *m, **ex;
	size_t i, n;
	long gone = 0;

	rd_key(s->rd, idx, sizeof(idx), "%s", idx_name);
	if ((m = rcmdv(s, "ZRANGE", idx, "0", "-1", NULL)) == NULL)
		return -1;
	n = m->type == REDIS_REPLY_ARRAY ? m->elements : 0;
	keys = x_calloc(n ? n : 1, sizeof(*keys));
	ex = x_calloc(n ? n : 1, sizeof(*ex));
	for (i = 0; i < n; i++) {
		const char *mem = m->element[i]->str ? m->element[i]->str : "";
		const char *sep = strchr(mem, '\x1f');
		keys[i] = x_malloc(400);
		if (block_members)
			rd_key(s->rd, keys[i], 400, "b:%.*s:%s", sep ? (int)(sep - mem) : 0, mem, sep ? sep + 1 : mem);
		else
			rd_key(s->rd, keys[i], 400, "q:%s", mem);
	}
	if (n && rpipe(s, "EXISTS", n, keys, ex) == 0)
		for (i = 0; i < n; i++)
			if (ex[i]->type == REDIS_REPLY_INTEGER && ex[i]->integer == 0) {
				redisReply *r = rcmdv(s, "ZREM", idx, m->element[i]->str, NULL);
				if (r) {
					gone++;
					freeReplyObject(r);
				}
			}
	for (i = 0; i < n; i++) {
		x_free(keys[i]);
		if (ex[i])
			freeReplyObject(ex[i]);
	}
	x_free(keys);
	x_free(ex);
	freeReplyObject(m);
	return gone;
}

long rd_prune_indexes(mw_store *s)
{
	long a = sweep(s, "blocks", 1), b = sweep(s, "q", 0);

	return (a > 0 ? a : 0) + (b > 0 ? b : 0);
}

/* ---- the quarantine index of every gateway ---- */

int rd_quar_put(mw_store *s, const char *id, time_t t, const char *queue_id, const char *sender, const char *rcpts,
                const char *subject, size_t size, const char *reasons, const char *state, time_t release_at,
                time_t expires)
{
	static const char lua[] =
	    "redis.call('HSET', KEYS[1], 'gw', ARGV[1], 'time', ARGV[2], 'qid', ARGV[3],"
	    " 'sender', ARGV[4], 'rcpts', ARGV[5], 'subject', ARGV[6], 'size', ARGV[7],"
	    " 'reasons', ARGV[8], 'state', ARGV[9], 'release_at', ARGV[10], 'expires', ARGV[11])\n"
	    "if tonumber(ARGV[12]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[12]) end\n"
	    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[13])\n"
	    "return 1\n";
	char k[100], z[100], n1[24], n2[24], n3[24], n4[24], n5[24];
	redisReply *r;

	rd_key(s->rd, k, sizeof(k), "q:%s", id);
	rd_key(s->rd, z, sizeof(z), "q");
	num(n1, t);
	num(n2, (long long)size);
	num(n3, release_at);
	num(n4, expires);
	num(n5, expires > t ? (long long)(expires - t) + BLOCK_GRACE : 0);
	if ((r = rcmdv(s, "EVAL", lua, "2", k, z, s->rd->gw, n1, queue_id, sender, rcpts, subject, n2, reasons, state,
	               n3, n4, n5, id, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int rd_quar_state(mw_store *s, const char *id, const char *state, time_t release_at)
{
	static const char lua[] = "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	                          "redis.call('HSET', KEYS[1], 'state', ARGV[1], 'release_at', ARGV[2])\n"
	                          "return 1\n";
	char k[100], n1[24];
	redisReply *r;

	rd_key(s->rd, k, sizeof(k), "q:%s", id);
	num(n1, release_at);
	if ((r = rcmdv(s, "EVAL", lua, "1", k, state, n1, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int rd_quar_list(mw_store *s, const char *state, size_t limit, void (*fn)(const rd_quar_row *r, void *arg), void *arg)
{
	char z[100], **keys = NULL;
	redisReply *ids, **hs = NULL;
	rd_quar_row *row;
	size_t i, m;
	int n = 0;

	rd_key(s->rd, z, sizeof(z), "q");
	if ((ids = rcmdv(s, "ZREVRANGE", z, "0", "-1", NULL)) == NULL)
		return -1;
	m = ids->type == REDIS_REPLY_ARRAY ? ids->elements : 0;
	keys = x_calloc(m ? m : 1, sizeof(*keys));
	hs = x_calloc(m ? m : 1, sizeof(*hs));
	for (i = 0; i < m; i++) {
		keys[i] = x_malloc(100);
		rd_key(s->rd, keys[i], 100, "q:%s", ids->element[i]->str ? ids->element[i]->str : "");
	}
	row = x_malloc(sizeof(*row));
	if (m && rpipe(s, "HGETALL", m, keys, hs) < 0)
		n = -1;
	for (i = 0; n >= 0 && i < m && (size_t)n < limit; i++) {
		const redisReply *h = hs[i];
		const char *st = hget(h, "state");
		if (h == NULL || h->type != REDIS_REPLY_ARRAY || h->elements == 0 || st == NULL)
			continue;
		if (state ? strcmp(st, state) != 0 : (strcmp(st, "held") != 0 && strcmp(st, "quarantined") != 0))
			continue;
		memset(row, 0, sizeof(*row));
		mw_strlcpy(row->id, ids->element[i]->str, sizeof(row->id));
		hcopy(row->gateway, sizeof(row->gateway), h, "gw");
		hcopy(row->queue_id, sizeof(row->queue_id), h, "qid");
		hcopy(row->sender, sizeof(row->sender), h, "sender");
		hcopy(row->rcpts, sizeof(row->rcpts), h, "rcpts");
		hcopy(row->subject, sizeof(row->subject), h, "subject");
		hcopy(row->reasons, sizeof(row->reasons), h, "reasons");
		hcopy(row->state, sizeof(row->state), h, "state");
		row->time = (time_t)hnum(h, "time");
		row->release_at = (time_t)hnum(h, "release_at");
		row->expires = (time_t)hnum(h, "expires");
		row->size = (size_t)hnum(h, "size");
		fn(row, arg);
		n++;
	}
	for (i = 0; i < m; i++) {
		x_free(keys[i]);
		if (hs[i])
			freeReplyObject(hs[i]);
	}
	x_free(row);
	x_free(keys);
	x_free(hs);
	freeReplyObject(ids);
	return n;
}

/* ---- pull: the shared state into the local SQLite copy ---- */

typedef struct pull_ctx {
	mw_buf sql; /* not used for values: they are bound */
	sqlite3_stmt *st;
	mw_store *s;
	int err;
} pull_ctx;

static void pull_list(const char *list, const char *entry, int add, time_t expires, const char *who, time_t t,
                      void *arg)
{
	pull_ctx *p = arg;

	sqlite3_reset(p->st);
	sqlite3_bind_text(p->st, 1, list, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(p->st, 2, entry, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(p->st, 3, add);
	sqlite3_bind_int64(p->st, 4, expires);
	sqlite3_bind_text(p->st, 5, who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(p->st, 6, t);
	if (sqlite3_step(p->st) != SQLITE_DONE)
		p->err = 1;
}

typedef struct kv {
	char *k, *v;
} kv;

typedef struct kv_list {
	kv *v;
	size_t n;
} kv_list;

static void collect_rule(const char *key, const char *value, void *arg)
{
	kv_list *l = arg;

	l->v = x_realloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n].k = x_strdup(key);
	l->v[l->n++].v = x_strdup(value);
}

typedef struct blk_list {
	store_block *b;
	size_t n;
} blk_list;

static void collect_block(const store_block *b, void *arg)
{
	blk_list *l = arg;

	l->b = x_realloc(l->b, (l->n + 1) * sizeof(*l->b));
	l->b[l->n++] = *b;
}

typedef struct le_row {
	char list[64], entry[300], who[80];
	int add;
	time_t expires, t;
} le_row;

typedef struct le_list {
	le_row *r;
	size_t n;
} le_list;

static void collect_le(const char *list, const char *entry, int add, time_t expires, const char *who, time_t t,
                       void *arg)
{
	le_list *l = arg;
	le_row *r;

	l->r = x_realloc(l->r, (l->n + 1) * sizeof(*l->r));
	r = &l->r[l->n++];
	mw_strlcpy(r->list, list, sizeof(r->list));
	mw_strlcpy(r->entry, entry, sizeof(r->entry));
	mw_strlcpy(r->who, who, sizeof(r->who));
	r->add = add;
	r->expires = expires;
	r->t = t;
}

int rd_pull(mw_store *s)
{
	kv_list rules = {NULL, 0};
	blk_list blocks = {NULL, 0};
	le_list les = {NULL, 0};
	redisReply *fl = NULL, **fh = NULL;
	char z[100], **fkeys = NULL;
	size_t i, nf = 0;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	time_t now = time(NULL);

	/* read everything first, then write SQLite: never both connection locks at once */
	pthread_rwlock_wrlock(&s->rd->wt);
	if (rd_rules(s, collect_rule, &rules) < 0 || rd_block_list(s, 0, collect_block, &blocks) < 0 ||
	    lists_each(s, collect_le, &les) < 0)
		goto out;
	rd_key(s->rd, z, sizeof(z), "fflag");
	if ((fl = rcmdv(s, "ZRANGE", z, "0", "-1", NULL)) == NULL)
		goto out;
	nf = fl->type == REDIS_REPLY_ARRAY ? fl->elements : 0;
	fkeys = x_calloc(nf ? nf : 1, sizeof(*fkeys));
	fh = x_calloc(nf ? nf : 1, sizeof(*fh));
	for (i = 0; i < nf; i++) {
		fkeys[i] = x_malloc(200);
		rd_key(s->rd, fkeys[i], 200, "f:%s", fl->element[i]->str ? fl->element[i]->str : "");
	}
	if (nf && rpipe(s, "HGETALL", nf, fkeys, fh) < 0)
		goto out;

	pthread_mutex_lock(&s->mu);
	if (store_begin(s) < 0)
		goto unlock;
	if (store_exec(s, "DELETE FROM rules; DELETE FROM blocks; DELETE FROM list_edits;") < 0)
		goto rollback;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO rules(key, value, who, time) VALUES(?1, ?2, 'shared', ?3)", -1, &st,
	                       NULL) != SQLITE_OK)
		goto rollback;
	for (i = 0; i < rules.n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, rules.v[i].k, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, rules.v[i].v, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db,
	                       "INSERT OR REPLACE INTO blocks(kind, value, code, detail, source, created, expires)"
	                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                       -1, &st, NULL) != SQLITE_OK)
		goto rollback;
	for (i = 0; i < blocks.n; i++) {
		const store_block *b = &blocks.b[i];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, b->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, b->value, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, b->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, b->detail, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, b->source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, b->created);
		sqlite3_bind_int64(st, 7, b->expires);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	{
		pull_ctx p;
		memset(&p, 0, sizeof(p));
		if (sqlite3_prepare_v2(s->db,
		                       "INSERT OR REPLACE INTO list_edits(list, entry, op, expires, who, t)"
		                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		                       -1, &st, NULL) != SQLITE_OK)
			goto rollback;
		p.st = st;
		for (i = 0; i < les.n; i++)
			pull_list(les.r[i].list, les.r[i].entry, les.r[i].add, les.r[i].expires, les.r[i].who,
			          les.r[i].t, &p);
		if (p.err)
			goto rollback;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (sqlite3_prepare_v2(s->db,
	                       "INSERT INTO fingerprints(fp, first_seen, last_seen, flagged, flag_sender, flag_code,"
	                       " flag_source, flag_time) VALUES(?1, ?5, ?5, 1, ?2, ?3, ?4, ?5)"
	                       " ON CONFLICT(fp) DO UPDATE SET flagged = 1, flag_sender = ?2, flag_code = ?3,"
	                       " flag_source = ?4, flag_time = ?5",
	                       -1, &st, NULL) != SQLITE_OK)
		goto rollback;
	for (i = 0; i < nf; i++) {
		const redisReply *h = fh[i];
		if (h == NULL || h->type != REDIS_REPLY_ARRAY || h->elements == 0)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, fl->element[i]->str ? fl->element[i]->str : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hget(h, "fs") ? hget(h, "fs") : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, hget(h, "fc") ? hget(h, "fc") : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, hget(h, "fsrc") ? hget(h, "fsrc") : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, hnum(h, "ft"));
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (store_commit(s) < 0)
		goto rollback;
	rc = 0;
	goto unlock;
rollback:
	store_fail(s, "copying the shared state");
	sqlite3_finalize(st);
	st = NULL;
	store_rollback(s);
unlock:
	pthread_mutex_unlock(&s->mu);
out:
	for (i = 0; i < rules.n; i++) {
		x_free(rules.v[i].k);
		x_free(rules.v[i].v);
	}
	x_free(rules.v);
	x_free(blocks.b);
	x_free(les.r);
	for (i = 0; i < nf; i++) {
		x_free(fkeys[i]);
		if (fh[i])
			freeReplyObject(fh[i]);
	}
	x_free(fkeys);
	x_free(fh);
	if (fl)
		freeReplyObject(fl);
	pthread_rwlock_unlock(&s->rd->wt);
	return rc;
}

const store_ops store_redis_ops = {
    .name = "redis",
    .rcpt_seen = rd_rcpt_seen,
    .sender_seen = rd_sender_seen,
    .sender_known = rd_sender_known,
    .block_add = rd_block_add,
    .block_remove = rd_block_remove,
    .block_find = rd_block_find,
    .block_list = rd_block_list,
    .fp_record = rd_fp_record,
    .fp_flag_sender = rd_fp_flag_sender,
    .fp_flag = rd_fp_flag,
    .fp_flagged = rd_fp_flagged,
    .list_edit = rd_list_edit,
    .lists_apply = rd_lists_apply,
    .rule_set = rd_rule_set,
    .rules = rd_rules,
    .audit = rd_audit,
    .audit_get = rd_audit_get,
    .audit_add = rd_audit_add,
    .track_add = rd_track_add,
    .track_find = rd_track_find,
};
