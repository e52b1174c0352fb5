/*
 * NAME
 *	main.c - mailwardend: the Mailwarden milter daemon
 * SYNOPSIS
 *	mailwardend [-f] [-d] [-c FILE] [-o KEY=VALUE]... [-p SOCKET] [-u USER] [-P PIDFILE]
 * DESCRIPTION
 *	Start-up order: configuration, antivirus engine (loaded as root so
 *	the database may be root-owned), libmilter registration, socket
 *	(opened here, then given socket_mode and socket_group), detach,
 *	pid file, privilege drop, reload thread, smfi_main().
 *
 *	Signals.  libmilter's own signal thread treats SIGHUP like SIGTERM
 *	(it stops the milter).  An administrator expects SIGHUP to reload,
 *	so this file provides sigwait(): libmilter's signal thread calls it,
 *	and it hands SIGHUP to the reload thread instead of returning it.
 *	SIGTERM and SIGINT still stop libmilter as before.  SIGUSR1 also
 *	requests a reload.
 *
 *	The reload thread checks the signature directory every
 *	daemon.reload_interval seconds (cl_statchkdir) and at once on
 *	SIGHUP/SIGUSR1; a new engine is compiled beside the old one and
 *	swapped (see av.c), a failed load keeps the old engine.
 * DIAGNOSTICS
 *	Exit status 0 after SIGTERM, 1 on a start-up failure, 2 for usage and
 *	configuration errors.  With no usable signature database the daemon
 *	still starts and answers every message 451 4.7.1 (av.unavailable)
 *	until a database appears.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "milter/milter.h"
#include "store/store.h"
#include "store/quarantine.h"
#include "outcome/outcome.h"
#include "ctl/ctl.h"
#include "util/log.h"
#include "util/util.h"

#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MW_VERSION
#define MW_VERSION "dev"
#endif
#ifndef MW_SYSCONFDIR
#define MW_SYSCONFDIR "/etc/mailwarden"
#endif

mw_daemon g_daemon;

#define HOUSEKEEPING_TICK 5 /* seconds: due holds are released within this */

static pthread_mutex_t reload_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reload_cv = PTHREAD_COND_INITIALIZER;
static int reload_requested;
static atomic_int stopping; /* read by every thread, set by the signal thread */

static const char usage_text[] = "Usage: mailwardend [OPTIONS]\n"
                                 "\n"
                                 "The Mailwarden milter daemon.  Postfix or Sendmail hands it every inbound\n"
                                 "message; it scans MIME parts with libclamav in process and answers\n"
                                 "accept (adding X-Mailwarden-Verdict and X-Mailwarden-Reasons headers),\n"
                                 "reject (550 5.7.1), quarantine or tempfail (451 4.7.1).\n"
                                 "\n"
                                 "Options:\n"
                                 "  -c, --config FILE    configuration file; default\n"
                                 "                       " MW_SYSCONFDIR "/mailwarden.conf when it exists,\n"
                                 "                       else the embedded defaults\n"
                                 "  -o, --set KEY=VALUE  override a key, e.g. -o paths.signatures=/var/lib/clamav\n"
                                 "                       (repeatable; see `mailwarden config --sample`)\n"
                                 "  -p, --socket SPEC    milter socket, overrides daemon.socket:\n"
                                 "                       unix:/path (or local:/path) or inet:PORT@127.0.0.1\n"
                                 "  -u, --user USER      user to run as after binding when started as root\n"
                                 "                       (daemon.user; `mailwarden`, else `nobody`)\n"
                                 "  -P, --pidfile FILE   write the process id here (daemon.pidfile)\n"
                                 "  -f, --foreground     do not detach; log to stderr instead of syslog (mail)\n"
                                 "  -d, --debug          log debugging detail\n"
                                 "  -t, --check-config   check the configuration; errors show file:line\n"
                                 "  -h, --help           this text\n"
                                 "  -V, --version        print the version and the libclamav version\n"
                                 "\n"
                                 "Signals: SIGHUP or SIGUSR1 reload the signature database (compiled beside\n"
                                 "the running engine and swapped; a database that fails to load leaves the\n"
                                 "old one serving).  SIGTERM stops after the messages in progress.\n"
                                 "\n"
                                 "Postfix (main.cf):\n"
                                 "  smtpd_milters = unix:/run/mailwarden/milter.sock\n"
                                 "  milter_default_action = tempfail\n"
                                 "\n"
                                 "Fail closed: without a usable signature database, or when a message\n"
                                 "cannot be stored, the answer is 451 4.7.1 so the sender retries.\n"
                                 "\n"
                                 "See also: mailwarden --help, README.md.\n";

/*
 * sigwait - take SIGHUP away from libmilter's signal thread.
 * libmilter (static or shared) calls sigwait() on {HUP, TERM, INT} and stops
 * on HUP; we wait on the same set, turn HUP into a reload request and go on
 * waiting, so libmilter only ever sees TERM and INT.
 */
int sigwait(const sigset_t *set, int *sig)
{
	sigset_t want = *set;

	if (sigismember(set, SIGHUP))
		sigaddset(&want, SIGUSR1);
	for (;;) {
		siginfo_t info;
		int s = sigwaitinfo(&want, &info);

		if (s < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (s == SIGHUP || s == SIGUSR1) {
			pthread_mutex_lock(&reload_mu);
			reload_requested = 1;
			pthread_cond_signal(&reload_cv);
			pthread_mutex_unlock(&reload_mu);
			continue;
		}
		if (s == SIGTERM || s == SIGINT) {
			log_info("%s received: finishing the messages in progress and stopping",
			         s == SIGTERM ? "SIGTERM" : "SIGINT");
			stopping = 1;
		}
		*sig = s;
		return 0;
	}
}

static void housekeeping(time_t *last_prune);
static void rescan_after_reload(void);

/* reload_thread - periodic and on-demand signature reload, store housekeeping */
static void *reload_thread(void *arg)
{
	mw_config *start_cfg = snap_cfg();
	size_t interval = start_cfg->reload_interval;
	time_t last_prune = 0, last_check = time(NULL);
	char err[512];

	(void)arg;
	config_unref(start_cfg);
	while (!stopping) {
		struct timespec ts;
		int forced;

		/* wake at least every HOUSEKEEPING_TICK seconds for due holds */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += interval && interval < HOUSEKEEPING_TICK ? (time_t)interval : HOUSEKEEPING_TICK;
		pthread_mutex_lock(&reload_mu);
		while (!reload_requested && !stopping)
			if (pthread_cond_timedwait(&reload_cv, &reload_mu, &ts) == ETIMEDOUT)
				break;
		forced = reload_requested;
		reload_requested = 0;
		pthread_mutex_unlock(&reload_mu);
		if (stopping)
			break;
		housekeeping(&last_prune);
		if (!forced && (interval == 0 || time(NULL) - last_check < (time_t)interval))
			continue;
		last_check = time(NULL);
		switch (av_mgr_reload(g_daemon.av, forced, err, sizeof(err))) {
		case 1: {
			av_info info;
			av_mgr_info(g_daemon.av, &info);
			log_info("signatures reloaded%s: %lu signatures from %s", forced ? " (signal)" : " (changed)",
			         info.sigs, info.dir);
			rescan_after_reload();
			break;
		}
		case -1: log_err("signature reload failed, old engine kept: %s", err); break;
		default: break;
		}
	}
	return NULL;
}

void daemon_env(mw_env *env, const mw_config *cfg, const mw_lists *lists, av_engine *av)
{
	memset(env, 0, sizeof(*env));
	env->cfg = cfg;
	env->lists = lists;
	env->av = av;
	env->store = __atomic_load_n(&g_daemon.store, __ATOMIC_ACQUIRE);
	env->quar = __atomic_load_n(&g_daemon.quar, __ATOMIC_ACQUIRE);
	env->store_required = 1;
}

/* shared_changed - another gateway changed rules, lists, blocks or flags: rebuild the snapshot */
static void shared_changed(void *arg)
{
	char err[512];

	if (snap_rebuild(arg, err, sizeof(err)) < 0)
		log_err("rules and list edits from the shared store: %s (the previous ones stay)", err);
}

/* open_store - open the state database (and the shared store); NULL (logged) on failure */
static mw_store *open_store(const mw_config *cfg)
{
	store_limits lim = {cfg->store_max_rows, 2000};
	char err[512], host[64] = "";
	mw_store *st;
	int rc;

	if (strcmp(cfg->store_backend, "redis") == 0) {
		store_shared_cfg sc = {cfg->store_address,
		                       cfg->store_password_file,
		                       cfg->store_prefix,
		                       cfg->store_gateway,
		                       (unsigned)cfg->store_connect_ms,
		                       (unsigned)cfg->store_command_ms,
		                       (unsigned)cfg->store_retry_ms,
		                       (unsigned)cfg->store_pull,
		                       (time_t)cfg->history_ttl};
		if (sc.gateway[0] == 0 && gethostname(host, sizeof(host) - 1) == 0)
			sc.gateway = host;
		rc = store_open_shared(cfg->state, &lim, &sc, &st, err, sizeof(err));
	} else {
		rc = store_open(cfg->state, &lim, &st, err, sizeof(err));
	}
	if (rc < 0) {
		log_err("state database: %s; mail is deferred (451) until it opens", err);
		return NULL;
	}
	store_on_change(st, shared_changed, st);
	log_info("state database %s open (backend %s%s%s)", store_path(st), store_backend(st),
	         st && *store_gateway(st) ? ", gateway " : "", store_gateway(st));
	return st;
}

/*
 * release_thread - with a shared store: release this gateway's quarantined
 * messages on request of another gateway (store_release_ask), exactly as
 * a local `quarantine release`.
 */
static void *release_thread(void *arg)
{
	(void)arg;
	while (!stopping) {
		mw_store *st = __atomic_load_n(&g_daemon.store, __ATOMIC_ACQUIRE);
		store_release_req req;
		char err[512], who[140];
		int rc;

		if (st == NULL || (rc = store_release_next(st, 2, &req)) < 0) {
			sleep(1);
			continue;
		}
		if (rc == 0)
			continue;
		{
			av_engine *av = av_mgr_acquire(g_daemon.av);
			mw_config *cfg = snap_cfg();
			mw_lists *lists = snap_lists();
			mw_env env;
			daemon_env(&env, cfg, lists, av);
			snprintf(who, sizeof(who), "%.60s (from another gateway)", req.who);
			if (env.quar == NULL) {
				store_release_done(st, &req, 0, "the quarantine is not open on that gateway");
			} else if (outcome_release(&env, req.id, who, err, sizeof(err)) < 0) {
				store_release_done(st, &req, 0, err);
			} else {
				store_audit_add(st, time(NULL), who, "quarantine.release", req.id, "released");
				store_release_done(st, &req, 1, "re-injected once by its gateway");
			}
			av_engine_release(av);
			lists_unref(lists);
			config_unref(cfg);
		}
	}
	return NULL;
}

/* open_quar - open the quarantine in the state directory; NULL (logged) on failure */
static mw_quar *open_quar(const mw_config *cfg, mw_store *st)
{
	char err[512];
	mw_quar *q;

	if (st == NULL)
		return NULL;
	if (quar_open(cfg->state, st, &q, err, sizeof(err)) < 0) {
		log_err("quarantine: %s; held and quarantined mail is deferred (451) until it opens", err);
		return NULL;
	}
	return q;
}

/* housekeeping - retry the store, release due holds, prune; called by the reload thread */
static void housekeeping(time_t *last_prune)
{
	time_t now = time(NULL);
	mw_config *cfg = snap_cfg();
	mw_lists *lists = snap_lists();
	av_engine *av;
	mw_env env;

	if (__atomic_load_n(&g_daemon.store, __ATOMIC_ACQUIRE) == NULL) {
		mw_store *st = open_store(cfg);
		if (st) {
			char err[512];
			__atomic_store_n(&g_daemon.store, st, __ATOMIC_RELEASE);
			if (snap_rebuild(st, err, sizeof(err)) < 0)
				log_err("rules and list edits from the state database: %s", err);
		}
	}
	if (__atomic_load_n(&g_daemon.quar, __ATOMIC_ACQUIRE) == NULL && g_daemon.store) {
		mw_quar *q = open_quar(cfg, g_daemon.store);
		if (q)
			__atomic_store_n(&g_daemon.quar, q, __ATOMIC_RELEASE);
	}
	av = av_mgr_acquire(g_daemon.av);
	daemon_env(&env, cfg, lists, av);
	if (av && env.quar)
		outcome_due_holds(&env);
	/* no release runs longer than RELEASE_TIMEOUT: one older is a crash's */
	if (env.quar)
		outcome_resolve_releases(&env, now - (RELEASE_TIMEOUT + 60));
	av_engine_release(av);
	if (g_daemon.store && now - *last_prune >= 3600) {
		long n = store_prune(g_daemon.store, now, (time_t)cfg->history_ttl);
		long t = store_track_prune(g_daemon.store, now - (time_t)cfg->history_ttl, cfg->store_max_rows);
		int q = g_daemon.quar ? quar_expire(g_daemon.quar, now) : 0;
		if (n > 0 || t > 0 || q > 0)
			log_info(
			    "housekeeping: pruned %ld history rows, %ld tracking rows, %d expired quarantine file(s)",
			    n > 0 ? n : 0, t > 0 ? t : 0, q > 0 ? q : 0);
		*last_prune = now;
	}
	lists_unref(lists);
	config_unref(cfg);
}

/* rescan_after_reload - every held, quarantined and kept message against the new signatures */
static void rescan_after_reload(void)
{
	av_engine *av = av_mgr_acquire(g_daemon.av);
	mw_config *cfg = snap_cfg();
	mw_lists *lists = snap_lists();
	mw_env env;

	daemon_env(&env, cfg, lists, av);
	if (av && env.quar)
		outcome_rescan_all(&env);
	av_engine_release(av);
	lists_unref(lists);
	config_unref(cfg);
}

/* socket_path - the file of a unix:/local: socket spec, or NULL */
static const char *socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

static int set_socket_perms(const mw_config *cfg)
{
	const char *path = socket_path(cfg->socket);
	gid_t gid = (gid_t)-1;

	if (path == NULL)
		return 0;
	if (cfg->socket_group[0]) {
		struct group *gr = getgrnam(cfg->socket_group);
		if (gr == NULL) {
			log_err("daemon.socket_group %s: no such group", cfg->socket_group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) {
		log_err("chown %s: %m", path);
		return -1;
	}
	if (chmod(path, (mode_t)cfg->socket_mode) < 0) {
		log_err("chmod %s: %m", path);
		return -1;
	}
	return 0;
}

/* drop_privileges - become daemon.user when root */
static int drop_privileges(const mw_config *cfg, const char *path_socket)
{
	const char *user = cfg->user;
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	pw = getpwnam(user);
	if (pw == NULL && strcmp(user, "mailwarden") == 0) {
		log_warn("user mailwarden does not exist; running as nobody");
		pw = getpwnam("nobody");
	}
	if (pw == NULL) {
		log_err("daemon.user %s: no such user", user);
		return -1;
	}
	if (path_socket && chown(path_socket, pw->pw_uid, (gid_t)-1) < 0)
		log_warn("chown %s: %m", path_socket);
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_err("cannot switch to user %s: %m", pw->pw_name);
		return -1;
	}
	if (setuid(0) == 0) {
		log_err("privileges could not be dropped");
		return -1;
	}
	log_info("running as user %s", pw->pw_name);
	return 0;
}

static int write_pidfile(const char *path)
{
	char buf[32];
	int fd, n;

	if (path == NULL || *path == 0)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("pid file %s: %m", path);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"set", required_argument, NULL, 'o'},
	    {"socket", required_argument, NULL, 'p'},
	    {"user", required_argument, NULL, 'u'},
	    {"pidfile", required_argument, NULL, 'P'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},
	    {"check-config", no_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	static const char def_conf[] = MW_SYSCONFDIR "/mailwarden.conf";
	const char **ov = NULL, *config = NULL;
	char *extra[3] = {NULL, NULL, NULL};
	size_t nov = 0, i;
	int c, foreground = 0, debug = 0, check = 0;
	char err[512];
	pthread_t tid, rel_tid;
	int rel_started = 0;
	sigset_t set;
	mw_config *cfg;

	while ((c = getopt_long(argc, argv, "c:o:p:u:P:fdthV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'o':
			ov = x_realloc(ov, (nov + 1) * sizeof(*ov));
			ov[nov++] = optarg;
			break;
		case 'p':
		case 'u':
		case 'P': {
			const char *key = c == 'p' ? "daemon.socket=" : c == 'u' ? "daemon.user=" : "daemon.pidfile=";
			char *s = x_malloc(strlen(key) + strlen(optarg) + 1);
			int slot = c == 'p' ? 0 : c == 'u' ? 1 : 2;
			strcpy(s, key);
			strcat(s, optarg);
			x_free(extra[slot]);
			extra[slot] = s;
			break;
		}
		case 'f': foreground = 1; break;
		case 'd': debug = 1; break;
		case 't': check = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': {
			char e2[64];
			av_global_init(e2, sizeof(e2));
			printf("mailwardend %s (libclamav %s)\n", MW_VERSION, av_version());
			return 0;
		}
		default: fputs("try mailwardend --help\n", stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailwardend: unexpected argument \"%.60s\"; try --help\n", argv[optind]);
		return 2;
	}
	for (i = 0; i < 3; i++)
		if (extra[i]) {
			ov = x_realloc(ov, (nov + 1) * sizeof(*ov));
			ov[nov++] = extra[i];
		}
	if (config == NULL && access(def_conf, R_OK) == 0)
		config = def_conf;
	log_init("mailwardend", foreground || check, debug);
	if (config_load(config, ov, nov, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailwardend: configuration: %s\n", err);
		if (!foreground && !check)
			log_err("configuration: %s", err);
		return 2;
	}
	if (check) {
		printf("%s: configuration is valid\n", cfg->source);
		config_unref(cfg);
		return 0;
	}
	log_info("mailwardend %s starting: config %s, socket %s, signatures %s", MW_VERSION, cfg->source, cfg->socket,
	         cfg->signatures);

	{
		mw_lists *lists = lists_new();
		if (lists_load_dir(lists, cfg->lists, err, sizeof(err)) < 0) {
			log_err("lists: %s", err);
			return 2;
		}
		snap_init(config, ov, nov, cfg, lists);
		config_ref(cfg); /* main's own reference: a rebuild may replace the snapshot's */
	}
	if (av_global_init(err, sizeof(err)) < 0) {
		log_err("antivirus: %s", err);
		return 1;
	}
	g_daemon.av = av_mgr_new(cfg);
	if (av_mgr_reload(g_daemon.av, 1, err, sizeof(err)) < 0) {
		log_err("no usable signature database: %s; every message is deferred (451) until one loads", err);
	} else {
		av_info info;
		av_mgr_info(g_daemon.av, &info);
		log_info("antivirus ready: libclamav %s, %lu signatures", info.version, info.sigs);
	}

	if (smfi_register(mw_filter) == MI_FAILURE) {
		log_err("smfi_register failed");
		return 1;
	}
	if (smfi_setconn(cfg->socket) == MI_FAILURE || smfi_settimeout((int)cfg->milter_timeout) == MI_FAILURE ||
	    smfi_setbacklog(128) == MI_FAILURE) {
		log_err("bad milter socket %s", cfg->socket);
		return 1;
	}
	umask(0077);
	if (smfi_opensocket(1) == MI_FAILURE) {
		log_err("cannot open milter socket %s (in use, or directory missing?)", cfg->socket);
		return 1;
	}
	if (set_socket_perms(cfg) < 0)
		return 1;
	if (!foreground && daemon(0, 0) < 0) {
		log_err("daemon: %m");
		return 1;
	}
	if (write_pidfile(cfg->pidfile) < 0)
		return 1;
	/* forked before the privilege drop and before any thread: keeps root
	 * only to run [quarantine] release_command (see relhelper.c) */
	if (relhelper_start(cfg->release_command, cfg->release_probe) < 0)
		return 1;
	/* as root: the control socket's group may be one the daemon user is not in */
	if (ctl_server_open(cfg, err, sizeof(err)) < 0)
		log_err("%s; running without a control socket", err);
	if (drop_privileges(cfg, socket_path(cfg->socket)) < 0)
		return 1;
	/* The store is opened as the daemon user, so its files belong to it. */
	g_daemon.store = open_store(cfg);
	/* rules and list edits made at run time outrank the file: rebuild */
	if (g_daemon.store && snap_rebuild(g_daemon.store, err, sizeof(err)) < 0)
		log_err("rules and list edits from the state database: %s (the file's settings apply)", err);
	g_daemon.quar = open_quar(cfg, g_daemon.store);
	{
		ctl_hooks h = {snap_cfg,   snap_lists,      snap_build_config, snap_rebuild,
		               daemon_env, &g_daemon.store, &g_daemon.quar,    g_daemon.av};
		ctl_server_start(&h); /* the console and `mailwarden ctl` */
	}

	/* Signals the reload path handles are blocked here so every thread
	 * inherits the mask; libmilter's signal thread (through sigwait()
	 * above) is the only taker. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&tid, NULL, reload_thread, NULL) != 0) {
		log_err("cannot start reload thread");
		return 1;
	}
	if (strcmp(cfg->store_backend, "redis") == 0 && pthread_create(&rel_tid, NULL, release_thread, NULL) == 0)
		rel_started = 1;
	log_info("ready on %s", cfg->socket);
	c = smfi_main();
	stopping = 1;
	pthread_mutex_lock(&reload_mu);
	pthread_cond_signal(&reload_cv);
	pthread_mutex_unlock(&reload_mu);
	pthread_join(tid, NULL);
	if (rel_started)
		pthread_join(rel_tid, NULL);
	ctl_server_stop();
	log_info("stopped");
	av_mgr_free(g_daemon.av);
	quar_close(g_daemon.quar);
	store_close(g_daemon.store);
	lists_unref(g_daemon.lists);
	config_unref(g_daemon.cfg);
	config_unref(cfg);
	snap_free();
	for (i = 0; i < 3; i++)
		x_free(extra[i]);
	x_free(ov);
	return c == MI_SUCCESS ? 0 : 1;
}
