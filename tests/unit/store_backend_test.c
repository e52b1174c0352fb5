/*
 * store_backend_test.c - the store's backend interface against both
 * backends: the same table of cases on a SQLite store and on a Redis
 * store (a real redis-server started here with its own config, ACL user
 * and port, stopped by PID); then what only the shared backend does: two
 * stores counting one fan-out window, a block and a rule seen by the
 * other store, the change notification, the password file check, the
 * fallback to SQLite when Redis stops answering and the reconciliation
 * when it answers again, last writer wins, a SQLite gateway joining.
 *
 * redis-server is a test dependency (scripts/deps.sh test): without it
 * the Redis cases fail with that message, they are never skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/quarantine.h"
#include "store/store.h"
#include "util/util.h"

#define REDIS_SERVER "/usr/bin/redis-server"
#define PASSWORD     "s3cret-pw-for-tests"

static char top[64];      /* the test's directory */
static int redis_port;    /* redis-server's port */
static pid_t redis_pid;   /* started here, stopped by PID */
static char pwfile[200];  /* the ACL user's password file */
static int store_counter; /* one state directory per store */

/* ---- redis-server ---- */

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		fail_msg("free port: %s", strerror(errno));
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int port_answers(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* redis_start - redis-server with an append-only file, so a restart keeps the shared state */
static void redis_start(void)
{
	char conf[200], data[200];
	FILE *f;
	int i;

	if (access(REDIS_SERVER, X_OK) != 0)
		fail_msg("%s is not installed: sh scripts/deps.sh test (redis-server)", REDIS_SERVER);
	snprintf(conf, sizeof(conf), "%s/redis.conf", top);
	snprintf(data, sizeof(data), "%s/redis-data", top);
	mkdir(data, 0700);
	if ((f = fopen(conf, "w")) == NULL)
		fail_msg("%s: %s", conf, strerror(errno));
	fprintf(f,
	        "bind 127.0.0.1\nport %d\ndir %s\nappendonly yes\nappendfsync always\nsave \"\"\n"
	        /* the default user keeps a password of its own rather than "off": Redis
	         * 7.0 loads an append-only file as the default user, and with it off
	         * every MULTI/EXEC in the file fails (NOPERM) and the data is lost */
	        "logfile %s/redis.log\nuser default on >admin-only-%d ~* &* +@all\n"
	        "user gw on >%s ~mwtest:* &mwtest:* +@all\n",
	        redis_port, data, top, redis_port, PASSWORD);
	fclose(f);
	redis_pid = fork();
	if (redis_pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		execl(REDIS_SERVER, REDIS_SERVER, conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && !port_answers(redis_port); i++)
		usleep(50000);
	if (!port_answers(redis_port))
		fail_msg("redis-server did not answer on 127.0.0.1:%d (see %s/redis.log)", redis_port, top);
}

static void redis_stop(void)
{
	int st;

	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, &st, 0);
		redis_pid = 0;
	}
}

static int group_setup(void **state)
{
	int fd;

	(void)state;
	strcpy(top, "/tmp/mw_store_backend_test.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(pwfile, sizeof(pwfile), "%s/redis.pw", top);
	fd = open(pwfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "gw " PASSWORD "\n", strlen("gw " PASSWORD "\n")) < 0)
		return -1;
	close(fd);
	redis_port = free_port();
	redis_start();
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[200];

	(void)state;
	redis_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return getenv("MW_KEEP") ? 0 : (system(cmd) == 0 ? 0 : -1);
}

/* ---- stores ---- */

typedef struct fixture {
	int redis;
	mw_store *st;
	char prefix[40];
} fixture;

static mw_store *open_one(int redis, const char *prefix, const char *gw, const char *pw)
{
	store_limits lim = {100000, 2000};
	char dir[200], addr[64], err[512];
	mw_store *st = NULL;

	snprintf(dir, sizeof(dir), "%s/state%d", top, ++store_counter);
	if (!redis) {
		if (store_open(dir, &lim, &st, err, sizeof(err)) < 0)
			fail_msg("store_open: %s", err);
		return st;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", redis_port);
	{
		store_shared_cfg c = {addr, pw, prefix, gw, 200, 200, 100, 60, 86400 * 30};
		if (store_open_shared(dir, &lim, &c, &st, err, sizeof(err)) < 0)
			fail_msg("store_open_shared: %s", err);
	}
	return st;
}

static int setup_sqlite(void **state)
{
	fixture *f = x_calloc(1, sizeof(*f));

	f->st = open_one(0, NULL, NULL, NULL);
	*state = f;
	return 0;
}

static int setup_redis(void **state)
{
	fixture *f = x_calloc(1, sizeof(*f));
	store_shared_status ss;

	f->redis = 1;
	snprintf(f->prefix, sizeof(f->prefix), "mwtest:%d:", store_counter + 1);
	f->st = open_one(1, f->prefix, "gw-a", pwfile);
	store_shared_get_status(f->st, &ss);
	if (!ss.up)
		fail_msg("the Redis store is not up: %s", ss.last_error);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	store_close(f->st);
	x_free(f);
	return 0;
}

/* ---- the same cases on both backends ---- */

static void test_fanout_window(void **state)
{
	fixture *f = *state;
	unsigned n = 0;
	char r[64];
	int i;

	for (i = 1; i <= 4; i++) {
		snprintf(r, sizeof(r), "staff%d@example.com", i);
		assert_int_equal(store_rcpt_seen(f->st, "a@free.example", r, 1000 + i, 600, &n), 0);
		if (n != (unsigned)i)
			fail_msg("%s: after %d distinct recipients: got %u, want %d", store_backend(f->st), i, n, i);
	}
	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "staff2@example.com", 1150, 600, &n), 0);
	assert_int_equal(n, 4); /* the same recipient does not count twice */
	/* at 1700 only the recipient seen again at 1150 is still in the window */
	assert_int_equal(store_rcpt_seen(f->st, "a@free.example", "staff9@example.com", 1700, 600, &n), 0);
	assert_int_equal(n, 2);
	/* another sender has its own window */
	assert_int_equal(store_rcpt_seen(f->st, "b@free.example", "staff1@example.com", 1700, 600, &n), 0);
	assert_int_equal(n, 1);
}

static void count_block(const store_block *b, void *arg)
{
	(void)b;
	(*(int *)arg)++;
}

static void test_blocks(void **state)
{
	fixture *f = *state;
	store_block b, got;
	int n = 0;

	memset(&b, 0, sizeof(b));
	strcpy(b.kind, "sender");
	strcpy(b.value, "bad@free.example");
	strcpy(b.code, "sender.fanout");
	strcpy(b.detail, "6 distinct recipients");
	strcpy(b.source, "Q1");
	b.created = 5000;
	b.expires = 5000 + 3600;
	assert_int_equal(store_block_add(f->st, &b), 0);
	strcpy(b.kind, "domain");
	strcpy(b.value, "evil.example");
	b.expires = 0;
	assert_int_equal(store_block_add(f->st, &b), 0);
	assert_int_equal(store_block_find(f->st, "sender", "bad@free.example", 6000, &got), 1);
	assert_string_equal(got.code, "sender.fanout");
	assert_string_equal(got.detail, "6 distinct recipients");
	assert_string_equal(got.source, "Q1");
	assert_int_equal(got.expires, 5000 + 3600);
	/* expired: not found, not listed */
	assert_int_equal(store_block_find(f->st, "sender", "bad@free.example", 5000 + 3601, NULL), 0);
	assert_int_equal(store_block_list(f->st, 6000, count_block, &n), 2);
	n = 0;
	assert_int_equal(store_block_list(f->st, 9000, count_block, &n), 1);
	assert_int_equal(store_block_remove(f->st, "domain", "evil.example"), 0);
	assert_int_equal(store_block_remove(f->st, "domain", "evil.example"), 1);
	assert_int_equal(store_block_find(f->st, "domain", "evil.example", 6000, NULL), 0);
}

static void test_fingerprints(void **state)
{
	fixture *f = *state;
	store_block why;

	assert_int_equal(store_fp_record(f->st, "fp1", "x@free.example", 100), 0);
	assert_int_equal(store_fp_record(f->st, "att:aa11", "x@free.example", 100), 0);
	assert_int_equal(store_fp_record(f->st, "fp2", "y@free.example", 100), 0);
	assert_int_equal(store_fp_flagged(f->st, "fp1", NULL), 0);
	assert_int_equal(store_fp_flag_sender(f->st, "x@free.example", "av.infected", "Q7", 200), 2);
	assert_int_equal(store_fp_flag_sender(f->st, "x@free.example", "av.infected", "Q7", 200), 0);
	assert_int_equal(store_fp_flagged(f->st, "fp1", &why), 1);
	assert_string_equal(why.code, "av.infected");
	assert_string_equal(why.detail, "x@free.example");
	assert_string_equal(why.source, "Q7");
	assert_int_equal(store_fp_flagged(f->st, "att:aa11", NULL), 1);
	assert_int_equal(store_fp_flagged(f->st, "fp2", NULL), 0);
	assert_int_equal(store_fp_flag(f->st, "fp3", "z@free.example", "sender.fanout", "Q8", 300), 0);
	assert_int_equal(store_fp_flagged(f->st, "fp3", &why), 1);
	assert_string_equal(why.code, "sender.fanout");
}

static void test_lists_and_senders(void **state)
{
	fixture *f = *state;
	mw_lists *l = lists_new();
	int first = -1;

	assert_int_equal(lists_add(l, "freemail", "free.example"), 0);
	assert_int_equal(store_list_edit(f->st, "allow", "boss@free.example", 1, 0, "alice"), 0);
	assert_int_equal(store_list_edit(f->st, "freemail", "free.example", 0, 0, "alice"), 0);
	assert_int_equal(store_list_edit(f->st, "freemail", "old.example", 1, 10, "alice"), 0); /* expired */
	assert_int_equal(store_lists_apply(f->st, l, 1000), 0);
	assert_non_null(lists_match_addr(l, "allow", "boss@free.example"));
	assert_null(lists_match_domain(l, "freemail", "free.example"));
	assert_null(lists_match_domain(l, "freemail", "old.example"));
	lists_unref(l);
	assert_int_equal(store_sender_known(f->st, "new@sender.example"), 0);
	assert_int_equal(store_sender_seen(f->st, "new@sender.example", 100, &first), 0);
	assert_int_equal(first, 1);
	assert_int_equal(store_sender_seen(f->st, "new@sender.example", 101, &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(store_sender_known(f->st, "new@sender.example"), 1);
}

typedef struct rules_seen {
	char keys[8][64], values[8][64];
	int n;
} rules_seen;

static void rule_cb(const char *k, const char *v, void *arg)
{
	rules_seen *r = arg;

	if (r->n < 8) {
		mw_strlcpy(r->keys[r->n], k, 64);
		mw_strlcpy(r->values[r->n++], v, 64);
	}
}

static void audit_cb(const store_audit_row *r, void *arg)
{
	store_audit_row *rows = arg;
	int i;

	for (i = 0; i < 8 && rows[i].id; i++)
		;
	if (i < 8)
		rows[i] = *r;
}

static void test_rules_and_audit(void **state)
{
	fixture *f = *state;
	rules_seen rs;
	store_audit_row rows[8], one;
	char old[64];

	memset(&rs, 0, sizeof(rs));
	memset(rows, 0, sizeof(rows));
	assert_int_equal(store_rule_set(f->st, "sender.fanout_threshold", "8", "alice", 100, old, sizeof(old)), 0);
	assert_string_equal(old, "");
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", "1", "bob", 101, old, sizeof(old)), 0);
	assert_int_equal(store_rule_set(f->st, "sender.fanout_threshold", "9", "alice", 102, old, sizeof(old)), 0);
	assert_string_equal(old, "8");
	assert_int_equal(store_rules(f->st, rule_cb, &rs), 2);
	/* sorted by key */
	assert_string_equal(rs.keys[0], "hold.lockdown");
	assert_string_equal(rs.keys[1], "sender.fanout_threshold");
	assert_string_equal(rs.values[1], "9");
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", NULL, "bob", 103, old, sizeof(old)), 0);
	assert_string_equal(old, "1");
	assert_int_equal(store_audit_add(f->st, 104, "carol", "block.sender", "", "x@free.example"), 0);
	assert_int_equal(store_audit(f->st, 3, audit_cb, rows), 3);
	/* newest first */
	assert_string_equal(rows[0].key, "block.sender");
	assert_string_equal(rows[0].who, "carol");
	assert_string_equal(rows[1].key, "hold.lockdown");
	assert_string_equal(rows[1].old, "1");
	assert_string_equal(rows[1].new_, "");
	assert_int_equal(store_audit_get(f->st, rows[2].id, &one), 1);
	assert_string_equal(one.old, "8");
	assert_string_equal(one.new_, "9");
	assert_int_equal(store_audit_get(f->st, 999999, &one), 0);
}

static void track_cb(const store_track_row *r, void *arg)
{
	store_track_row *rows = arg;
	int i;

	for (i = 0; i < 8 && rows[i].time; i++)
		;
	if (i < 8)
		rows[i] = *r;
}

static int track_count(mw_store *st, const store_track_query *q, store_track_row *rows)
{
	memset(rows, 0, 8 * sizeof(*rows));
	return store_track_find(st, q, track_cb, rows);
}

static void add_msg(mw_store *st, time_t t, const char *qid, const char *sender, const char *rcpt, const char *subject,
                    const char *action, const char *sha, const char *link)
{
	store_track_rec r;
	store_att a = {"invoice.zip", "application/zip", sha};
	const char *rcpts[1] = {rcpt}, *links[1] = {link};

	memset(&r, 0, sizeof(r));
	r.time = t;
	r.queue_id = qid;
	r.client = "192.0.2.1";
	r.sender = sender;
	r.hdr_from = sender;
	r.subject = subject;
	r.action = action;
	r.reasons = "";
	r.stage = "eom";
	r.rcpts = rcpts;
	r.nrcpts = 1;
	r.size = 1234;
	r.atts = &a;
	r.natts = sha ? 1 : 0;
	r.link_domains = links;
	r.nlinks = link ? 1 : 0;
	assert_int_equal(store_track_add(st, &r), 0);
}

static void test_tracking(void **state)
{
	fixture *f = *state;
	store_track_query q;
	store_track_row rows[8];
	static const char sha[] = "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899";

	add_msg(f->st, 1000, "Q1", "Kanri@Mail.Free.example", "Staff1@example.com", "請求書の送付", "accept", sha,
	        "storage.example");
	add_msg(f->st, 1001, "Q2", "other@sender.example", "staff2@example.com", "hello", "reject", NULL, NULL);
	add_msg(f->st, 1002, "Q3", "kanri@mail.free.example", "staff2@example.com", "second", "quarantine", NULL, NULL);
	memset(&q, 0, sizeof(q));
	q.sender = "KANRI@mail.free.example";
	assert_int_equal(track_count(f->st, &q, rows), 2);
	assert_string_equal(rows[0].queue_id, "Q3"); /* newest first */
	memset(&q, 0, sizeof(q));
	q.domain = "free.example"; /* a parent of the sender's domain */
	assert_int_equal(track_count(f->st, &q, rows), 2);
	memset(&q, 0, sizeof(q));
	q.rcpt = "staff2@example.com";
	assert_int_equal(track_count(f->st, &q, rows), 2);
	q.action = "reject";
	assert_int_equal(track_count(f->st, &q, rows), 1);
	assert_string_equal(rows[0].queue_id, "Q2");
	memset(&q, 0, sizeof(q));
	q.sha256 = "AABBCCDD";
	assert_int_equal(track_count(f->st, &q, rows), 1);
	assert_string_equal(rows[0].subject, "請求書の送付");
	memset(&q, 0, sizeof(q));
	q.subject = "請求書";
	q.link_domain = "storage.example";
	assert_int_equal(track_count(f->st, &q, rows), 1);
	memset(&q, 0, sizeof(q));
	q.name = "invoice";
	assert_int_equal(track_count(f->st, &q, rows), 1);
	memset(&q, 0, sizeof(q));
	q.since = 1001;
	q.until = 1002;
	assert_int_equal(track_count(f->st, &q, rows), 1);
	assert_string_equal(rows[0].queue_id, "Q2");
}

/* ---- only the shared backend ---- */

static void test_two_stores_one_window(void **state)
{
	fixture *f = *state;
	mw_store *b = open_one(1, f->prefix, "gw-b", pwfile);
	char r[64];
	unsigned n = 0;
	store_block blk, got;
	int i;

	/* a fan-out spread alternately over two gateways counts as one */
	for (i = 1; i <= 10; i++) {
		snprintf(r, sizeof(r), "staff%d@example.com", i);
		assert_int_equal(store_rcpt_seen(i % 2 ? f->st : b, "split@free.example", r, 2000 + i, 600, &n), 0);
		if (n != (unsigned)i)
			fail_msg("recipient %d via gateway %s: count %u, want %d", i, i % 2 ? "a" : "b", n, i);
	}
	/* a block made on A is found on B */
	memset(&blk, 0, sizeof(blk));
	strcpy(blk.kind, "sender");
	strcpy(blk.value, "split@free.example");
	strcpy(blk.code, "manual");
	blk.created = 2100;
	assert_int_equal(store_block_add(f->st, &blk), 0);
	assert_int_equal(store_block_find(b, "sender", "split@free.example", 2101, &got), 1);
	assert_string_equal(got.code, "manual");
	store_close(b);
}

static volatile int changed;

static void on_change(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&changed, 1, __ATOMIC_SEQ_CST);
}

static int rule_value(mw_store *st, const char *key, char *out, size_t len)
{
	rules_seen rs;
	int i;

	memset(&rs, 0, sizeof(rs));
	out[0] = 0;
	if (store_rules(st, rule_cb, &rs) < 0)
		return -1;
	for (i = 0; i < rs.n; i++)
		if (strcmp(rs.keys[i], key) == 0)
			mw_strlcpy(out, rs.values[i], len);
	return 0;
}

static void test_change_notification(void **state)
{
	fixture *f = *state;
	mw_store *b = open_one(1, f->prefix, "gw-b", pwfile);
	char v[64];
	int i, before;

	usleep(300000); /* B subscribes */
	before = __atomic_load_n(&changed, __ATOMIC_SEQ_CST);
	store_on_change(b, on_change, NULL);
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", "2", "alice", time(NULL), NULL, 0), 0);
	for (i = 0; i < 100 && __atomic_load_n(&changed, __ATOMIC_SEQ_CST) == before; i++)
		usleep(10000);
	if (__atomic_load_n(&changed, __ATOMIC_SEQ_CST) == before)
		fail_msg("gateway B was not told of the rule change within 1 s");
	assert_int_equal(rule_value(b, "hold.lockdown", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	store_close(b);
}

static void test_password_file_checked(void **state)
{
	char bad[200], dir[200], addr[64], err[512];
	store_limits lim = {1000, 2000};
	mw_store *st = NULL;
	store_shared_status ss;
	int fd;

	(void)state;
	snprintf(bad, sizeof(bad), "%s/readable.pw", top);
	fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_true(write(fd, "gw " PASSWORD "\n", strlen("gw " PASSWORD "\n")) > 0);
	close(fd);
	chmod(bad, 0644);
	snprintf(dir, sizeof(dir), "%s/state-pw", top);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", redis_port);
	{
		store_shared_cfg c = {addr, bad, "mwtest:pw:", "gw-x", 200, 200, 100, 60, 3600};
		assert_int_equal(store_open_shared(dir, &lim, &c, &st, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "readable or writable by group or others"));
		assert_null(strstr(err, PASSWORD));
	}
	/* a wrong password: the store opens, down, and answers from SQLite */
	fd = open(bad, O_WRONLY | O_TRUNC);
	assert_true(write(fd, "gw wrong-password\n", 18) == 18);
	close(fd);
	chmod(bad, 0600);
	{
		store_shared_cfg c = {addr, bad, "mwtest:pw:", "gw-x", 200, 200, 100, 60, 3600};
		unsigned n = 0;
		assert_int_equal(store_open_shared(dir, &lim, &c, &st, err, sizeof(err)), 0);
		store_shared_get_status(st, &ss);
		assert_int_equal(ss.up, 0);
		assert_non_null(strstr(ss.last_error, "WRONGPASS"));
		assert_null(strstr(ss.last_error, "wrong-password"));
		assert_int_equal(store_rcpt_seen(st, "a@free.example", "s@example.com", 10, 600, &n), 0);
		assert_int_equal(n, 1);
		store_close(st);
	}
}

static int wait_up(mw_store *st, int want, int tenths)
{
	store_shared_status ss;
	int i;

	for (i = 0; i < tenths; i++) {
		store_shared_get_status(st, &ss);
		if (ss.up == want)
			return 1;
		usleep(100000);
	}
	return 0;
}

static void test_outage_and_reconcile(void **state)
{
	fixture *f = *state;
	mw_store *b = open_one(1, f->prefix, "gw-b", pwfile);
	store_shared_status ss;
	store_block blk;
	char v[64];
	unsigned n = 0;
	struct timespec t0, t1;
	double ms;

	assert_int_equal(store_rcpt_seen(f->st, "o@free.example", "s1@example.com", 3000, 600, &n), 0);
	assert_int_equal(store_rule_set(b, "sender.fanout_threshold", "7", "bob", 3000, NULL, 0), 0);
	usleep(500000); /* A hears of it and copies it (pub/sub, pull) */

	/* Redis stops answering (frozen: every command runs out of its time budget) */
	kill(redis_pid, SIGSTOP);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_rcpt_seen(f->st, "o@free.example", "s2@example.com", 3001, 600, &n), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_int_equal(n, 2); /* the local copy had the first attempt (write-through) */
	if (ms > 1500)
		fail_msg("the decision took %.0f ms with Redis frozen (time budget 200 ms)", ms);
	store_shared_get_status(f->st, &ss);
	assert_int_equal(ss.up, 0);
	/* the rule set on B before the outage reached A's local copy */
	assert_int_equal(rule_value(f->st, "sender.fanout_threshold", v, sizeof(v)), 0);
	assert_string_equal(v, "7");
	/* while down: a block and a rule on A go to SQLite and the outbox */
	memset(&blk, 0, sizeof(blk));
	strcpy(blk.kind, "domain");
	strcpy(blk.value, "down.example");
	strcpy(blk.code, "manual");
	blk.created = time(NULL);
	assert_int_equal(store_block_add(f->st, &blk), 0);
	assert_int_equal(store_block_find(f->st, "domain", "down.example", blk.created + 1, NULL), 1);
	assert_int_equal(store_rule_set(f->st, "hold.lockdown", "1", "alice", time(NULL), NULL, 0), 0);
	store_shared_get_status(f->st, &ss);
	assert_true(ss.pending >= 3);
	assert_true(ss.failures >= 1);
	/* Redis stops for good and comes back (append-only file) */
	kill(redis_pid, SIGCONT);
	redis_stop();
	redis_start();
	usleep(600000); /* B notices the restart (its subscription ends) */
	if (!wait_up(f->st, 1, 100) || !wait_up(b, 1, 100))
		fail_msg("the stores did not reconnect within 10 s");
	store_shared_get_status(f->st, &ss);
	assert_int_equal(ss.pending, 0);
	assert_true(ss.reconciles >= 1);
	/* reconciled: B sees what A did while Redis was down, and the window has both attempts */
	assert_int_equal(store_block_find(b, "domain", "down.example", blk.created + 1, NULL), 1);
	assert_int_equal(rule_value(b, "hold.lockdown", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	assert_int_equal(store_rcpt_seen(b, "o@free.example", "s3@example.com", 3002, 600, &n), 0);
	store_shared_get_status(b, &ss);
	if (n != 3)
		fail_msg("after reconciliation: %u distinct recipients, want 3 (B up %d, %s)", n, ss.up, ss.last_error);
	store_close(b);
}

static void test_conflict_last_writer_wins(void **state)
{
	fixture *f = *state;
	mw_store *b = open_one(1, f->prefix, "gw-b", pwfile);
	char v[64];
	time_t now = time(NULL);

	kill(redis_pid, SIGSTOP);
	/* A changes the rule while down ... */
	assert_int_equal(store_rule_set(f->st, "sender.fanout_threshold", "11", "alice", now, NULL, 0), 0);
	assert_true(wait_up(f->st, 0, 10));
	kill(redis_pid, SIGCONT);
	/* ... B changes it later, with Redis up (B may need a moment to notice it is back) */
	assert_true(wait_up(b, 1, 100));
	assert_int_equal(store_rule_set(b, "sender.fanout_threshold", "12", "bob", now + 5, NULL, 0), 0);
	assert_true(wait_up(f->st, 1, 100));
	/* the later change wins on both */
	assert_int_equal(rule_value(f->st, "sender.fanout_threshold", v, sizeof(v)), 0);
	assert_string_equal(v, "12");
	assert_int_equal(rule_value(b, "sender.fanout_threshold", v, sizeof(v)), 0);
	assert_string_equal(v, "12");
	store_close(b);
}

/* each case once per backend, named "sqlite: case" and "redis: case" */
static void test_joining_pushes_local_state(void **state)
{
	fixture *f = *state;
	store_limits lim = {100000, 2000};
	char dir[200], addr[64], err[512], v[64];
	store_block blk;
	mw_store *st = NULL, *b;

	/* a gateway that ran alone (SQLite) with a rule and a block ... */
	snprintf(dir, sizeof(dir), "%s/state-join", top);
	assert_int_equal(store_open(dir, &lim, &st, err, sizeof(err)), 0);
	assert_int_equal(store_rule_set(st, "sender.fanout_threshold", "4", "alice", time(NULL) - 60, NULL, 0), 0);
	memset(&blk, 0, sizeof(blk));
	strcpy(blk.kind, "sender");
	strcpy(blk.value, "old@free.example");
	strcpy(blk.code, "manual");
	blk.created = time(NULL) - 60;
	assert_int_equal(store_block_add(st, &blk), 0);
	store_close(st);
	/* ... joins the shared store: the other gateway sees both */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", redis_port);
	{
		store_shared_cfg c = {addr, pwfile, f->prefix, "gw-j", 200, 200, 100, 60, 3600};
		assert_int_equal(store_open_shared(dir, &lim, &c, &st, err, sizeof(err)), 0);
	}
	b = open_one(1, f->prefix, "gw-b", pwfile);
	assert_int_equal(store_block_find(b, "sender", "old@free.example", time(NULL), NULL), 1);
	assert_int_equal(rule_value(b, "sender.fanout_threshold", v, sizeof(v)), 0);
	assert_string_equal(v, "4");
	/* and its own copy kept them (the first pull merged, it did not replace) */
	assert_int_equal(rule_value(st, "sender.fanout_threshold", v, sizeof(v)), 0);
	assert_string_equal(v, "4");
	store_close(b);
	store_close(st);
}

#define BOTH(t)                                                                                                        \
	{"sqlite: " #t, t, setup_sqlite, teardown, NULL},                                                              \
	{                                                                                                              \
		"redis: " #t, t, setup_redis, teardown, NULL                                                           \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_fanout_window),
	    BOTH(test_blocks),
	    BOTH(test_fingerprints),
	    BOTH(test_lists_and_senders),
	    BOTH(test_rules_and_audit),
	    BOTH(test_tracking),
	    cmocka_unit_test_setup_teardown(test_two_stores_one_window, setup_redis, teardown),
	    cmocka_unit_test_setup_teardown(test_change_notification, setup_redis, teardown),
	    cmocka_unit_test(test_password_file_checked),
	    cmocka_unit_test_setup_teardown(test_outage_and_reconcile, setup_redis, teardown),
	    cmocka_unit_test_setup_teardown(test_conflict_last_writer_wins, setup_redis, teardown),
	    cmocka_unit_test_setup_teardown(test_joining_pushes_local_state, setup_redis, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
