/*
 * NAME
 *	mwfault - LD_PRELOAD shim that makes chosen file-system calls fail
 * SYNOPSIS
 *	MWFAULT_CALLS=mkdir,create,write MWFAULT_PATH=/var/tmp/mw \
 *	MWFAULT_ERRNO=ENOSPC LD_PRELOAD=build/tools/libmwfault.so \
 *	    build/mailwarden scan --sigs sigs msg.eml
 * DESCRIPTION
 *	Interposes the C library's file-system entry points and makes the
 *	calls that match fail with a chosen errno, on a schedule, so the
 *	tests can show that a scanner or store that cannot work answers
 *	tempfail (or a durable quarantine) and never accepts mail unexamined.
 *
 *	Call classes (MWFAULT_CALLS, comma separated; default none):
 *	  mkdir		mkdir, mkdirat
 *	  mktemp	mkdtemp, mkstemp, mkstemps, mkostemp, mkostemps
 *	  create	open/openat/creat (and their 64 and _2 forms) with
 *			O_CREAT or O_TMPFILE; fopen for writing
 *	  open		every open/openat/fopen, reading too
 *	  write		write, pwrite, pwrite64, writev
 *	  fsync		fsync, fdatasync
 *	  rename	rename, renameat, renameat2
 *	  all		every class above
 *	A call matches when its class is listed and its path (for write and
 *	fsync: the path of the descriptor, from /proc/self/fd) starts with
 *	MWFAULT_PATH (default: every path).  Relative paths are made
 *	absolute with the working directory.
 *
 *	Schedule, counted over the matching calls of one process:
 *	  MWFAULT_NTH=N		fail only the Nth one (1-based)
 *	  MWFAULT_AFTER=N	let the first N through, fail the rest
 *	  MWFAULT_TIMES=K	fail at most K calls in all
 *	  (none of them)	fail every matching call
 *	MWFAULT_ERRNO: ENOSPC (default), EROFS, EACCES, EIO, EDQUOT, EPERM,
 *	ENOENT, EMFILE, ENOMEM, or a number.
 *	MWFAULT_ENABLE_FILE=PATH: inject only while PATH exists, so a test
 *	can start a daemon healthy, break its disk, then mend it.
 *	MWFAULT_LOG=PATH: one line per injected failure, "pid call errno
 *	path", appended (so a test can check that its fault really fired).
 * LIMITS
 *	Paths longer than PATH_MAX are compared as far as they go.  Calls
 *	the C library makes internally (through its own aliases) are not
 *	seen; the entry points above are the ones libclamav, SQLite and our
 *	own code call.  The counters are per process (a forked child starts
 *	from the parent's count).
 * DIAGNOSTICS
 *	An unknown MWFAULT_ERRNO or class name is reported once on stderr
 *	and ignored.
 * SEE ALSO
 *	tests/faults/README.md, tests/integration/test_fault_inject.py
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
	C_MKDIR = 1 << 0,
	C_MKTEMP = 1 << 1,
	C_CREATE = 1 << 2,
	C_OPEN = 1 << 3,
	C_WRITE = 1 << 4,
	C_FSYNC = 1 << 5,
	C_RENAME = 1 << 6,
};

static const struct {
	const char *name;
	unsigned bits;
} class_names[] = {
    {"mkdir", C_MKDIR}, {"mktemp", C_MKTEMP}, {"create", C_CREATE}, {"open", C_OPEN},
    {"write", C_WRITE}, {"fsync", C_FSYNC},   {"rename", C_RENAME}, {"all", 0x7f},
};

static const struct {
	const char *name;
	int value;
} errno_names[] = {
    {"ENOSPC", ENOSPC}, {"EROFS", EROFS},   {"EACCES", EACCES}, {"EIO", EIO},       {"EDQUOT", EDQUOT},
    {"EPERM", EPERM},   {"ENOENT", ENOENT}, {"EMFILE", EMFILE}, {"ENOMEM", ENOMEM},
};

struct conf {
	unsigned classes;
	char prefix[PATH_MAX];
	size_t prefix_len;
	int err;
	long nth, after, times;
	char enable_file[PATH_MAX];
	char log[PATH_MAX];
	long seen, failed;
};

static struct conf env_conf, off_conf;
static struct conf *cur;       /* what the wrappers use; swapped whole, old ones kept */
static int env_done;           /* env_conf is read */
static const char *control;    /* MWFAULT_CONTROL */
static struct stat control_st; /* the control file as last read */
static pthread_mutex_t control_lock = PTHREAD_MUTEX_INITIALIZER;

static void *real(const char *name);

/* num - a non-negative number, or -1 */
static long num(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= 0 ? v : -1;
}

/* conf_set - one setting, KEY as in MWFAULT_KEY */
static void conf_set(struct conf *c, const char *key, const char *val)
{
	size_t i;

	if (strcmp(key, "CALLS") == 0) {
		char buf[256], *tok, *save = NULL;
		snprintf(buf, sizeof(buf), "%s", val);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
				if (strcmp(tok, class_names[i].name) == 0)
					break;
			if (i < sizeof(class_names) / sizeof(class_names[0]))
				c->classes |= class_names[i].bits;
			else
				fprintf(stderr, "mwfault: unknown call class %s\n", tok);
		}
	} else if (strcmp(key, "PATH") == 0) {
		snprintf(c->prefix, sizeof(c->prefix), "%s", val);
		c->prefix_len = strlen(c->prefix);
	} else if (strcmp(key, "ERRNO") == 0) {
		for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
			if (strcmp(val, errno_names[i].name) == 0)
				break;
		if (i < sizeof(errno_names) / sizeof(errno_names[0]))
			c->err = errno_names[i].value;
		else if (atoi(val) > 0)
			c->err = atoi(val);
		else
			fprintf(stderr, "mwfault: unknown errno %s, using ENOSPC\n", val);
	} else if (strcmp(key, "NTH") == 0) {
		c->nth = num(val);
	} else if (strcmp(key, "AFTER") == 0) {
		c->after = num(val);
	} else if (strcmp(key, "TIMES") == 0) {
		c->times = num(val);
	} else if (strcmp(key, "ENABLE_FILE") == 0) {
		snprintf(c->enable_file, sizeof(c->enable_file), "%s", val);
	} else if (strcmp(key, "LOG") == 0) {
		snprintf(c->log, sizeof(c->log), "%s", val);
	}
}

/* conf_init - no fault, every schedule off */
static void conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->err = ENOSPC;
	c->nth = c->after = c->times = -1;
}

/* read_control - a new conf from the control file's KEY=VALUE lines */
static struct conf *read_control(void)
{
	int (*r_open)(const char *, int, ...) = (int (*)(const char *, int, ...))real("open");
	struct conf *c = calloc(1, sizeof(*c));
	char buf[8192], *line, *save = NULL;
	ssize_t n = 0, got;
	int fd;

	if (c == NULL)
		return &off_conf;
	conf_init(c);
	fd = r_open ? r_open(control, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return c;
	while (n < (ssize_t)sizeof(buf) - 1 && (got = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += got;
	close(fd);
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (line[0] == '#' || eq == NULL)
			continue;
		*eq = '\0';
		conf_set(c, line, eq + 1);
	}
	return c;
}

/* setup - the configuration in force: the environment, read once, or
 * the control file, read again whenever it changes */
static struct conf *setup(void)
{
	static const char *const keys[] = {"CALLS", "PATH", "ERRNO", "NTH", "AFTER", "TIMES", "ENABLE_FILE", "LOG"};
	struct stat st;
	size_t i;

	if (!__atomic_load_n(&env_done, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&control_lock);
		if (!env_done) {
			conf_init(&env_conf);
			conf_init(&off_conf);
			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				char name[64];
				const char *v;
				snprintf(name, sizeof(name), "MWFAULT_%s", keys[i]);
				if ((v = getenv(name)) != NULL && *v)
					conf_set(&env_conf, keys[i], v);
			}
			control = getenv("MWFAULT_CONTROL");
			if (control && !*control)
				control = NULL;
			cur = control ? &off_conf : &env_conf;
			__atomic_store_n(&env_done, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&control_lock);
	}
	if (control == NULL)
		return cur;
	pthread_mutex_lock(&control_lock);
	if (stat(control, &st) != 0) {
		memset(&control_st, 0, sizeof(control_st));
		cur = &off_conf;
	} else if (st.st_ino != control_st.st_ino || st.st_size != control_st.st_size ||
	           st.st_mtim.tv_sec != control_st.st_mtim.tv_sec || st.st_mtim.tv_nsec != control_st.st_mtim.tv_nsec) {
		control_st = st;
		cur = read_control(); /* the old one is kept: another thread may still read it */
	}
	pthread_mutex_unlock(&control_lock);
	return cur;
}

/* real - the next definition of a symbol (the C library's) */
static void *real(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* fd_path - the path of an open descriptor, or "" */
static void fd_path(int fd, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* abs_path - path made absolute against dirfd (AT_FDCWD: the working directory) */
static void abs_path(int dirfd, const char *path, char *out, size_t len)
{
	char base[PATH_MAX];

	if (path == NULL) {
		out[0] = '\0';
		return;
	}
	if (path[0] == '/') {
		snprintf(out, len, "%s", path);
		return;
	}
	if (dirfd == AT_FDCWD) {
		if (getcwd(base, sizeof(base)) == NULL)
			base[0] = '\0';
	} else {
		fd_path(dirfd, base, sizeof(base));
	}
	snprintf(out, len, "%s/%s", base, path);
}

/* log_fault - one line to the log, through the real open and write */
static void log_fault(const struct conf *c, const char *call, const char *path)
{
	int (*r_open)(const char *, int, ...) = (int (*)(const char *, int, ...))real("open");
	ssize_t (*r_write)(int, const void *, size_t) = (ssize_t(*)(int, const void *, size_t))real("write");
	char line[PATH_MAX + 100];
	int fd, n;

	if (c->log[0] == '\0' || r_open == NULL || r_write == NULL)
		return;
	fd = r_open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%ld %s %d %s\n", (long)getpid(), call, c->err, path);
	if (n > 0)
		(void)!r_write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	close(fd);
}

/* fault - 1 (errno set) when this call must fail; path is absolute */
static int fault(struct conf *c, unsigned cls, const char *call, const char *path)
{
	int saved = errno;
	long n;

	if (!(c->classes & cls))
		return 0;
	if (c->prefix_len && strncmp(path, c->prefix, c->prefix_len) != 0)
		return 0;
	if (c->enable_file[0] && access(c->enable_file, F_OK) != 0) {
		errno = saved;
		return 0;
	}
	n = __atomic_add_fetch(&c->seen, 1, __ATOMIC_ACQ_REL);
	if (c->nth >= 0 && n != c->nth)
		return 0;
	if (c->after >= 0 && n <= c->after)
		return 0;
	if (c->times >= 0 && __atomic_add_fetch(&c->failed, 1, __ATOMIC_ACQ_REL) > c->times)
		return 0;
	log_fault(c, call, path);
	errno = c->err;
	return 1;
}

/* path_fault - fault() for a path argument relative to dirfd */
static int path_fault(unsigned cls, const char *call, int dirfd, const char *path)
{
	struct conf *c = setup();
	char abs[PATH_MAX];

	if (!(c->classes & cls))
		return 0;
	abs_path(dirfd, path, abs, sizeof(abs));
	return fault(c, cls, call, abs);
}

/* fd_fault - fault() for a descriptor */
static int fd_fault(unsigned cls, const char *call, int fd)
{
	struct conf *c = setup();
	char p[PATH_MAX];

	if (!(c->classes & cls))
		return 0;
	fd_path(fd, p, sizeof(p));
	return fault(c, cls, call, p);
}

/* open_class - which classes an open with these flags belongs to */
static unsigned open_class(int flags)
{
	return C_OPEN | ((flags & (O_CREAT | __O_TMPFILE)) ? C_CREATE : 0);
}

#define OPEN_MODE(flags, mode)                                                                                         \
	do {                                                                                                           \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {                                                               \
			va_list ap;                                                                                    \
			va_start(ap, flags);                                                                           \
			mode = (mode_t)va_arg(ap, int);                                                                \
			va_end(ap);                                                                                    \
		}                                                                                                      \
	} while (0)

/* one open-like wrapper per name: NAME(path, flags, ...) */
#define WRAP_OPEN(NAME)                                                                                                \
	int NAME(const char *path, int flags, ...)                                                                     \
	{                                                                                                              \
		static int (*r)(const char *, int, ...);                                                               \
		mode_t mode = 0;                                                                                       \
		OPEN_MODE(flags, mode);                                                                                \
		if (path_fault(open_class(flags), #NAME, AT_FDCWD, path))                                              \
			return -1;                                                                                     \
		if (r == NULL)                                                                                         \
			r = (int (*)(const char *, int, ...))real(#NAME);                                              \
		return r(path, flags, mode);                                                                           \
	}

#define WRAP_OPENAT(NAME)                                                                                              \
	int NAME(int dirfd, const char *path, int flags, ...)                                                          \
	{                                                                                                              \
		static int (*r)(int, const char *, int, ...);                                                          \
		mode_t mode = 0;                                                                                       \
		OPEN_MODE(flags, mode);                                                                                \
		if (path_fault(open_class(flags), #NAME, dirfd, path))                                                 \
			return -1;                                                                                     \
		if (r == NULL)                                                                                         \
			r = (int (*)(int, const char *, int, ...))real(#NAME);                                         \
		return r(dirfd, path, flags, mode);                                                                    \
	}

WRAP_OPEN(open)
WRAP_OPEN(open64)
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)

/* The fortified forms (_FORTIFY_SOURCE) take no mode. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

int __open_2(const char *path, int flags)
{
	static int (*r)(const char *, int);

	if (path_fault(open_class(flags), "__open_2", AT_FDCWD, path))
		return -1;
	if (r == NULL)
		r = (int (*)(const char *, int))real("__open_2");
	return r(path, flags);
}

int __open64_2(const char *path, int flags)
{
	static int (*r)(const char *, int);

	if (path_fault(open_class(flags), "__open64_2", AT_FDCWD, path))
		return -1;
	if (r == NULL)
		r = (int (*)(const char *, int))real("__open64_2");
	return r(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	static int (*r)(int, const char *, int);

	if (path_fault(open_class(flags), "__openat_2", dirfd, path))
		return -1;
	if (r == NULL)
		r = (int (*)(int, const char *, int))real("__openat_2");
	return r(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	static int (*r)(int, const char *, int);

	if (path_fault(open_class(flags), "__openat64_2", dirfd, path))
		return -1;
	if (r == NULL)
		r = (int (*)(int, const char *, int))real("__openat64_2");
	return r(dirfd, path, flags);
}

int creat(const char *path, mode_t mode)
{
	static int (*r)(const char *, mode_t);

	if (path_fault(C_CREATE | C_OPEN, "creat", AT_FDCWD, path))
		return -1;
	if (r == NULL)
		r = (int (*)(const char *, mode_t))real("creat");
	return r(path, mode);
}

/* fopen_class - reading or writing */
static unsigned fopen_class(const char *mode)
{
	return C_OPEN | (mode && (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+')) ? C_CREATE : 0);
}

FILE *fopen(const char *path, const char *mode)
{
	static FILE *(*r)(const char *, const char *);

	if (path_fault(fopen_class(mode), "fopen", AT_FDCWD, path))
		return NULL;
	if (r == NULL)
		r = (FILE * (*)(const char *, const char *)) real("fopen");
	return r(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	static FILE *(*r)(const char *, const char *);

	if (path_fault(fopen_class(mode), "fopen64", AT_FDCWD, path))
		return NULL;
	if (r == NULL)
		r = (FILE * (*)(const char *, const char *)) real("fopen64");
	return r(path, mode);
}

int mkdir(const char *path, mode_t mode)
{
	static int (*r)(const char *, mode_t);

	if (path_fault(C_MKDIR, "mkdir", AT_FDCWD, path))
		return -1;
	if (r == NULL)
		r = (int (*)(const char *, mode_t))real("mkdir");
	return r(path, mode);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	static int (*r)(int, const char *, mode_t);

	if (path_fault(C_MKDIR, "mkdirat", dirfd, path))
		return -1;
	if (r == NULL)
		r = (int (*)(int, const char *, mode_t))real("mkdirat");
	return r(dirfd, path, mode);
}

char *mkdtemp(char *tmpl)
{
	static char *(*r)(char *);

	if (path_fault(C_MKTEMP | C_MKDIR, "mkdtemp", AT_FDCWD, tmpl))
		return NULL;
	if (r == NULL)
		r = (char *(*)(char *))real("mkdtemp");
	return r(tmpl);
}

int mkstemp(char *tmpl)
{
	static int (*r)(char *);

	if (path_fault(C_MKTEMP | C_CREATE, "mkstemp", AT_FDCWD, tmpl))
		return -1;
	if (r == NULL)
		r = (int (*)(char *))real("mkstemp");
	return r(tmpl);
}

int mkstemp64(char *tmpl)
{
	static int (*r)(char *);

	if (path_fault(C_MKTEMP | C_CREATE, "mkstemp64", AT_FDCWD, tmpl))
		return -1;
	if (r == NULL)
		r = (int (*)(char *))real("mkstemp64");
	return r(tmpl);
}

int mkostemp(char *tmpl, int flags)
{
	static int (*r)(char *, int);

	if (path_fault(C_MKTEMP | C_CREATE, "mkostemp", AT_FDCWD, tmpl))
		return -1;
	if (r == NULL)
		r = (int (*)(char *, int))real("mkostemp");
	return r(tmpl, flags);
}

int mkstemps(char *tmpl, int suffixlen)
{
	static int (*r)(char *, int);

	if (path_fault(C_MKTEMP | C_CREATE, "mkstemps", AT_FDCWD, tmpl))
		return -1;
	if (r == NULL)
		r = (int (*)(char *, int))real("mkstemps");
	return r(tmpl, suffixlen);
}

int mkostemps(char *tmpl, int suffixlen, int flags)
{
	static int (*r)(char *, int, int);

	if (path_fault(C_MKTEMP | C_CREATE, "mkostemps", AT_FDCWD, tmpl))
		return -1;
	if (r == NULL)
		r = (int (*)(char *, int, int))real("mkostemps");
	return r(tmpl, suffixlen, flags);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*r)(int, const void *, size_t);

	if (fd > 2 && fd_fault(C_WRITE, "write", fd))
		return -1;
	if (r == NULL)
		r = (ssize_t(*)(int, const void *, size_t))real("write");
	return r(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*r)(int, const void *, size_t, off_t);

	if (fd_fault(C_WRITE, "pwrite", fd))
		return -1;
	if (r == NULL)
		r = (ssize_t(*)(int, const void *, size_t, off_t))real("pwrite");
	return r(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	static ssize_t (*r)(int, const void *, size_t, off64_t);

	if (fd_fault(C_WRITE, "pwrite64", fd))
		return -1;
	if (r == NULL)
		r = (ssize_t(*)(int, const void *, size_t, off64_t))real("pwrite64");
	return r(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	static ssize_t (*r)(int, const struct iovec *, int);

	if (fd > 2 && fd_fault(C_WRITE, "writev", fd))
		return -1;
	if (r == NULL)
		r = (ssize_t(*)(int, const struct iovec *, int))real("writev");
	return r(fd, iov, cnt);
}

int fsync(int fd)
{
	static int (*r)(int);

	if (fd_fault(C_FSYNC, "fsync", fd))
		return -1;
	if (r == NULL)
		r = (int (*)(int))real("fsync");
	return r(fd);
}

int fdatasync(int fd)
{
	static int (*r)(int);

	if (fd_fault(C_FSYNC, "fdatasync", fd))
		return -1;
	if (r == NULL)
		r = (int (*)(int))real("fdatasync");
	return r(fd);
}

int rename(const char *from, const char *to)
{
	static int (*r)(const char *, const char *);

	if (path_fault(C_RENAME, "rename", AT_FDCWD, to))
		return -1;
	if (r == NULL)
		r = (int (*)(const char *, const char *))real("rename");
	return r(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	static int (*r)(int, const char *, int, const char *);

	if (path_fault(C_RENAME, "renameat", tofd, to))
		return -1;
	if (r == NULL)
		r = (int (*)(int, const char *, int, const char *))real("renameat");
	return r(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	static int (*r)(int, const char *, int, const char *, unsigned);

	if (path_fault(C_RENAME, "renameat2", tofd, to))
		return -1;
	if (r == NULL)
		r = (int (*)(int, const char *, int, const char *, unsigned))real("renameat2");
	return r(fromfd, from, tofd, to, flags);
}
