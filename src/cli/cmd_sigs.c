/*
 * NAME
 *	cmd_sigs.c - `mailwarden sigs`: the signature pipeline on the appliance
 * SYNOPSIS
 *	mailwarden sigs status [-c FILE] [-o K=V]...
 *	mailwarden sigs verify [DIR]
 *	mailwarden sigs import [--allow-unsigned] [--replace] [--no-reload] [--who NAME] PATH...
 *	mailwarden sigs import --paste NAME.ndb [--allow-unsigned] ...   (text on stdin, ends with ".")
 *	mailwarden sigs update [--freshclam-config FILE] [--no-reload]
 *	mailwarden sigs rollback [--no-reload]
 * DESCRIPTION
 *	The live set is paths.signatures (LIVE).  Every change builds a new
 *	set in LIVE.staging, verifies it and installs it in one exchange
 *	(av_sigset.c); the set it replaced is kept as LIVE.prev, and
 *	`rollback` exchanges the two again.  After a change the daemon is
 *	asked to reload over the control socket ("sigs reload"); without a
 *	daemon it finds the new set within daemon.reload_interval.
 *
 *	import: PATH is a file or a directory (a USB stick: every database
 *	file in it).  With --paste NAME the file is read from standard input
 *	(pasted over the serial console) up to a line with a single ".".
 *
 *	The rule for unsigned files.  A .cvd/.cld/.cud file is accepted only
 *	when libclamav verifies ClamAV's digital signature (cl_cvdverify).
 *	Every other database file (.ndb .hdb .hsb .ldb ...) carries no
 *	signature: it is refused unless --allow-unsigned is given, and each
 *	one accepted is recorded in the audit trail (who, file, size,
 *	SHA-256) and logged.  Either way the whole new set must load with the
 *	daemon's options before it is installed.
 *
 *	update: freshclam (online) into its own directory LIVE.freshclam
 *	(its incremental updates need the previous files), then that
 *	directory's signed files are imported as above.
 * DIAGNOSTICS
 *	Exit 0 on success; 1 when verification, import or rollback failed
 *	(the live set is unchanged); 4 on usage errors.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "av/av.h"
#include "cli/cli.h"
#include "ctl/ctl.h"
#include "store/store.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 256
#define PASTE_MAX (16 * 1024 * 1024) /* bytes accepted from a paste */

typedef struct sigs_opts {
	int allow_unsigned, replace, no_reload;
	const char *paste, *who, *fc_config;
	const char *paths[MAX_FILES];
	int npaths;
} sigs_opts;

static const char sigs_usage[] = "Usage: mailwarden sigs status | verify [DIR] | rollback | update | import PATH...\n"
                                 "  status                  the live, previous and last good signature sets\n"
                                 "  verify [DIR]            check signatures of .cvd/.cld files and load the set\n"
                                 "                          (default: paths.signatures)\n"
                                 "  import PATH...          files or directories (a USB stick) into a new set,\n"
                                 "                          verified, then swapped in; the old set is kept\n"
                                 "    --allow-unsigned      also accept unsigned .ndb/.hdb/.hsb/.ldb... files\n"
                                 "                          (recorded in the audit trail)\n"
                                 "    --replace             the new set is only the imported files\n"
                                 "    --paste NAME          read one file from standard input, ended by a \".\" line\n"
                                 "  update                  freshclam into LIVE.freshclam, then import its files\n"
                                 "    --freshclam-config F  (default /etc/clamav/freshclam.conf)\n"
                                 "  rollback                go back to the previous set\n"
                                 "Common: --no-reload (do not ask the daemon to reload), --who NAME (audit),\n"
                                 "        -c FILE, -o KEY=VALUE as for the other commands.\n";

/* who_am_i - the name recorded in the audit trail */
static const char *who_am_i(const sigs_opts *s)
{
	struct passwd *pw;
	const char *u;

	if (s->who)
		return s->who;
	if ((u = getenv("SUDO_USER")) != NULL && *u)
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "root";
}

/*
 * audit - one audit row in the state database, written as the owner of
 * the state directory (a child process that drops to that user), so no
 * root-owned database file is left for the daemon.
 */
static void audit(const mw_config *cfg, const char *who, const char *key, const char *old, const char *new_)
{
	struct stat st;
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		store_limits lim = {cfg->store_max_rows, 5000};
		char err[512];
		mw_store *s;
		if (geteuid() == 0 && stat(cfg->state, &st) == 0 && st.st_uid != 0)
			if (setgid(st.st_gid) < 0 || setuid(st.st_uid) < 0)
				_exit(1);
		if (store_open(cfg->state, &lim, &s, err, sizeof(err)) < 0) {
			fprintf(stderr, "mailwarden: audit not recorded: %s\n", err);
			_exit(1);
		}
		if (store_audit_add(s, time(NULL), who, key, old, new_) < 0)
			fprintf(stderr, "mailwarden: audit not recorded\n");
		store_close(s);
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

/* reload_daemon - "sigs reload" over the control socket; prints what happened */
static int reload_daemon(const mw_config *cfg, const char *who)
{
	char *argv[2] = {(char *)"sigs", (char *)"reload"}, err[256];
	ctl_resp resp;
	ctl_client *c;

	if (cfg->control_socket == NULL || *cfg->control_socket == 0 ||
	    (c = ctl_connect(cfg->control_socket, who, 600, err, sizeof(err))) == NULL) {
		printf("daemon not reachable over the control socket: it loads the new set within "
		       "daemon.reload_interval (%zu s), or send it SIGHUP\n",
		       cfg->reload_interval);
		return 0;
	}
	if (ctl_call(c, 2, argv, NULL, NULL, NULL, &resp) < 0 || !resp.ok) {
		printf("daemon reload: %s\n", resp.text);
		ctl_close(c);
		return -1;
	}
	if (strncmp(resp.text, "still loading", 13) == 0)
		printf("daemon reloading: %s\n", resp.text);
	else
		printf("daemon reloaded: %s\n", resp.text);
	ctl_close(c);
	return 0;
}

static void print_set(const char *title, const char *dir)
{
	av_sigfile *v = x_calloc(MAX_FILES, sizeof(*v));
	char err[256];
	int n = av_sigset_list(dir, v, MAX_FILES, err, sizeof(err)), i;
	size_t total = 0;

	printf("%s: %s\n", title, dir);
	if (n < 0) {
		printf("  (none: %s)\n", err);
		x_free(v);
		return;
	}
	for (i = 0; i < n; i++) {
		total += v[i].size;
		if (v[i].is_cvd)
			printf("  %-24s %10zu  %s v%u, %u sigs, %s\n", v[i].name, v[i].size,
			       v[i].verified ? "signed, verified," : "BAD SIGNATURE", v[i].version, v[i].sigs,
			       v[i].built);
		else
			printf("  %-24s %10zu  unsigned (local)\n", v[i].name, v[i].size);
	}
	printf("  %d file(s), %zu bytes\n", n, total);
	x_free(v);
}

static void daemon_line(const char *line, void *arg)
{
	(void)arg;
	printf("  %s\n", line);
}

static int sigs_status(const mw_config *cfg, const sigs_opts *s)
{
	char p[PATH_MAX], err[256];
	char *argv[1] = {(char *)"sigs"};
	ctl_client *c;
	ctl_resp resp;

	print_set("live", cfg->signatures);
	snprintf(p, sizeof(p), "%s.prev", cfg->signatures);
	print_set("previous (sigs rollback)", p);
	if (strcmp(cfg->av_last_good, "none") != 0) {
		if (*cfg->av_last_good)
			mw_strlcpy(p, cfg->av_last_good, sizeof(p));
		else
			snprintf(p, sizeof(p), "%s/sigs.last-good", cfg->state);
		print_set("last good (daemon's fallback)", p);
	}
	if (cfg->control_socket && *cfg->control_socket &&
	    (c = ctl_connect(cfg->control_socket, who_am_i(s), 30, err, sizeof(err))) != NULL) {
		printf("daemon:\n");
		ctl_call(c, 1, argv, NULL, daemon_line, NULL, &resp);
		ctl_close(c);
	} else {
		printf("daemon: not reachable over the control socket\n");
	}
	return 0;
}

static int sigs_verify(const mw_config *cfg, const char *dir)
{
	unsigned long sigs;
	double secs;
	size_t bytes;
	char err[512];

	print_set("set", dir);
	if (av_sigset_verify(dir, cfg, 1, &sigs, &secs, &bytes, err, sizeof(err)) < 0) {
		printf("FAILED: %s\n", err);
		return 1;
	}
	printf("verified: %lu signatures load in %.1f s, engine ~%zu MB\n", sigs, secs, bytes >> 20);
	return 0;
}

/* read_paste - stdin up to a line ".", into a temporary file; its path, or NULL */
static char *read_paste(char *err, size_t errlen)
{
	char tmpl[] = "/tmp/mw-sigs-paste.XXXXXX", line[8192];
	size_t total = 0;
	int fd = mkstemp(tmpl), done = 0;

	if (fd < 0) {
		snprintf(err, errlen, "temporary file: %s", strerror(errno));
		return NULL;
	}
	while (fgets(line, sizeof(line), stdin)) {
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (strcmp(line, ".") == 0) {
			done = 1;
			break;
		}
		total += n + 1;
		line[n++] = '\n';
		if (total > PASTE_MAX || mw_write_all(fd, line, n) < 0) {
			snprintf(err, errlen, "paste larger than %d bytes or not writable", PASTE_MAX);
			close(fd);
			unlink(tmpl);
			return NULL;
		}
	}
	close(fd);
	if (!done || total == 0) {
		snprintf(err, errlen, "paste ended without a line \".\" (or was empty): nothing imported");
		unlink(tmpl);
		return NULL;
	}
	return x_strdup(tmpl);
}

/* add_path - a file, or every database file of a directory; count added or -1 */
static int add_path(const char *staging, const char *path, const char *as, mw_buf *added, char *err, size_t errlen)
{
	struct stat st;
	int n = 0;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%.200s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		if (d == NULL) {
			snprintf(err, errlen, "%.200s: %s", path, strerror(errno));
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX];
			if (!av_sigset_is_db(de->d_name))
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
			if (av_sigset_add(staging, p, NULL, err, errlen) < 0) {
				closedir(d);
				return -1;
			}
			buf_printf(added, "%s%s", added->len ? " " : "", de->d_name);
			n++;
		}
		closedir(d);
		return n;
	}
	if (av_sigset_add(staging, path, as, err, errlen) < 0)
		return -1;
	{
		const char *b = as ? as : strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		buf_printf(added, "%s%s", added->len ? " " : "", b);
	}
	return 1;
}

/* sha256_file - hex digest of a file; 0 or -1 */
static int sha256_file(const char *path, char hex[65])
{
	char buf[65536];
	mw_sha256 h;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	mw_sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		mw_sha256_update(&h, buf, (size_t)n);
	close(fd);
	mw_sha256_hex(&h, hex);
	return n < 0 ? -1 : 0;
}

/* describe_unsigned - "name size sha256" of every unsigned file named in `added` */
static void describe_unsigned(const char *staging, const char *added, mw_buf *out)
{
	char *copy = x_strdup(added), *save = NULL, *tok;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char p[PATH_MAX], hex[65];
		av_sigfile f;
		snprintf(p, sizeof(p), "%s/%s", staging, tok);
		av_sigfile_describe(p, &f);
		if (f.is_cvd)
			continue;
		if (sha256_file(p, hex) < 0)
			mw_strlcpy(hex, "?", sizeof(hex));
		buf_printf(out, "%s%s %zu sha256:%s", out->len ? ", " : "", tok, f.size, hex);
	}
	x_free(copy);
}

static int sigs_import(const mw_config *cfg, const sigs_opts *s, const char *key)
{
	char staging[PATH_MAX] = "", err[512], *paste = NULL;
	mw_buf added, uns, newv;
	unsigned long sigs;
	double secs;
	size_t bytes;
	int i, rc = 1, n = 0;

	buf_init(&added, 0);
	buf_init(&uns, 0);
	buf_init(&newv, 0);

	if (s->npaths == 0 && s->paste == NULL) {
		fputs(sigs_usage, stderr);
		return EXIT_CANNOT;
	}
	if (av_sigset_stage(cfg->signatures, s->replace, staging, sizeof(staging), err, sizeof(err)) < 0)
		goto fail;
	if (s->paste) {
		if ((paste = read_paste(err, sizeof(err))) == NULL)
			goto fail;
		if (add_path(staging, paste, s->paste, &added, err, sizeof(err)) < 0)
			goto fail;
		n++;
	}
	for (i = 0; i < s->npaths; i++) {
		int k = add_path(staging, s->paths[i], NULL, &added, err, sizeof(err));
		if (k < 0)
			goto fail;
		n += k;
	}
	if (n == 0) {
		snprintf(err, sizeof(err), "no database files found in what was given");
		goto fail;
	}
	describe_unsigned(staging, added.p, &uns);
	if (uns.len && !s->allow_unsigned) {
		snprintf(err, sizeof(err),
		         "unsigned file(s) %.300s: only .cvd/.cld files carry ClamAV's signature; "
		         "accept local unsigned databases explicitly with --allow-unsigned",
		         uns.p);
		goto fail;
	}
	printf("verifying %s ...\n", staging);
	if (av_sigset_verify(staging, cfg, 1, &sigs, &secs, &bytes, err, sizeof(err)) < 0)
		goto fail;
	printf("verified: %lu signatures load in %.1f s, engine ~%zu MB\n", sigs, secs, bytes >> 20);
	if (av_sigset_install(staging, cfg->signatures, err, sizeof(err)) < 0)
		goto fail;
	buf_printf(&newv, "%s: %s; %lu signatures%s%s", key, added.p, sigs, uns.len ? "; UNSIGNED accepted: " : "",
	           uns.len ? uns.p : "");
	audit(cfg, who_am_i(s), "sigs.import", "", newv.p);
	log_info("sigs import by %s: %s", who_am_i(s), newv.p);
	printf("installed in %s (previous set kept for `mailwarden sigs rollback`)\n", cfg->signatures);
	if (uns.len)
		printf("unsigned files accepted and recorded in the audit trail: %s\n", uns.p);
	rc = 0;
	if (!s->no_reload && reload_daemon(cfg, who_am_i(s)) < 0)
		rc = 1;
	goto out;
fail:
	if (*staging)
		av_sigset_unstage(staging);
	printf("import FAILED, the live set is unchanged: %s\n", err);
	rc = 1;
out:
	if (paste) {
		unlink(paste);
		x_free(paste);
	}
	buf_free(&added);
	buf_free(&uns);
	buf_free(&newv);
	return rc;
}

static int sigs_update(const mw_config *cfg, sigs_opts *s)
{
	char dir[PATH_MAX], conf[PATH_MAX + 16];
	const char *fc = s->fc_config ? s->fc_config : "/etc/clamav/freshclam.conf";
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s.freshclam", cfg->signatures);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		printf("update FAILED: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(conf, sizeof(conf), "--config-file=%s", fc);
	printf("freshclam into %s ...\n", dir);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char datadir[PATH_MAX + 16];
		snprintf(datadir, sizeof(datadir), "--datadir=%s", dir);
		execlp("freshclam", "freshclam", conf, datadir, "--foreground", (char *)NULL);
		fprintf(stderr, "freshclam: %s\n", strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("update FAILED: freshclam did not succeed (offline? see its log); the live set is "
		       "unchanged\n");
		return 1;
	}
	{
		/* what comes from the mirrors must be signed */
		sigs_opts one = *s;
		one.paths[0] = dir;
		one.npaths = 1;
		one.allow_unsigned = 0;
		return sigs_import(cfg, &one, "freshclam");
	}
}

static int sigs_rollback(const mw_config *cfg, const sigs_opts *s)
{
	char err[512];

	if (av_sigset_rollback(cfg->signatures, err, sizeof(err)) < 0) {
		printf("rollback FAILED: %s\n", err);
		return 1;
	}
	audit(cfg, who_am_i(s), "sigs.rollback", "", "previous signature set restored");
	log_info("sigs rollback by %s", who_am_i(s));
	printf("rolled back: %s holds the previous set again (the one replaced is now %s.prev)\n", cfg->signatures,
	       cfg->signatures);
	if (!s->no_reload && reload_daemon(cfg, who_am_i(s)) < 0)
		return 1;
	return 0;
}

/* cmd_sigs - parses its own options (paths may look like anything) */
int cmd_sigs(cli_opts *o)
{
	sigs_opts s;
	const char *verb;
	mw_config *cfg;
	int i, rc;

	memset(&s, 0, sizeof(s));
	if (o->argc < 1 || strcmp(o->argv[0], "--help") == 0 || strcmp(o->argv[0], "help") == 0) {
		fputs(sigs_usage, o->argc < 1 ? stderr : stdout);
		return o->argc < 1 ? EXIT_CANNOT : 0;
	}
	verb = o->argv[0];
	for (i = 1; i < o->argc; i++) {
		const char *a = o->argv[i];
		int more = i + 1 < o->argc;
		if (strcmp(a, "--allow-unsigned") == 0)
			s.allow_unsigned = 1;
		else if (strcmp(a, "--replace") == 0)
			s.replace = 1;
		else if (strcmp(a, "--no-reload") == 0)
			s.no_reload = 1;
		else if (strcmp(a, "--paste") == 0 && more)
			s.paste = o->argv[++i];
		else if (strcmp(a, "--who") == 0 && more)
			s.who = o->argv[++i];
		else if (strcmp(a, "--freshclam-config") == 0 && more)
			s.fc_config = o->argv[++i];
		else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && more)
			o->config = o->argv[++i];
		else if ((strcmp(a, "-o") == 0 || strcmp(a, "--set") == 0) && more) {
			o->overrides = x_realloc(o->overrides, (o->noverrides + 1) * sizeof(*o->overrides));
			o->overrides[o->noverrides++] = o->argv[++i];
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "mailwarden sigs: unknown option %.40s\n%s", a, sigs_usage);
			return EXIT_CANNOT;
		} else if (s.npaths < MAX_FILES)
			s.paths[s.npaths++] = a;
	}
	if ((cfg = load_config(o)) == NULL)
		return EXIT_CANNOT;
	{
		char err[128];
		av_global_init(err, sizeof(err));
	}
	if (strcmp(verb, "status") == 0)
		rc = sigs_status(cfg, &s);
	else if (strcmp(verb, "verify") == 0)
		rc = sigs_verify(cfg, s.npaths ? s.paths[0] : cfg->signatures);
	else if (strcmp(verb, "import") == 0)
		rc = sigs_import(cfg, &s, s.paste ? "paste" : "import");
	else if (strcmp(verb, "update") == 0)
		rc = sigs_update(cfg, &s);
	else if (strcmp(verb, "rollback") == 0)
		rc = sigs_rollback(cfg, &s);
	else {
		fprintf(stderr, "mailwarden sigs: unknown verb %.40s\n%s", verb, sigs_usage);
		rc = EXIT_CANNOT;
	}
	config_unref(cfg);
	x_free(o->overrides);
	o->overrides = NULL;
	return rc;
}
