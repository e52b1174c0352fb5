"""memcg.py - a memory cgroup of our own for tests and benchmarks.

MemCgroup.create(tag) makes a new child of this process's own memory
cgroup (cgroup v1 "memory" controller, or cgroup v2 when the memory
controller can be enabled for children there, else a new cgroup directly
under the v2 root); never writes to any other cgroup.  set_limit(bytes)
is memory.limit_in_bytes (v1) or memory.max (v2); usage(), peak(),
oom_kills() read the counters; remove() rmdirs it once its processes
are gone.  A process joins by writing its PID to cgroup.procs (lab.sh
MW_CGROUP does that for mailwardend before exec, so the whole engine is
charged there).

Standard library only.
"""
import os
import time


def _read(path):
    with open(path) as f:
        return f.read()


def _mounts():
    """(v2 mount, v1 memory mount) from /proc/self/mountinfo"""
    v2 = v1 = None
    for line in _read("/proc/self/mountinfo").splitlines():
        pre, _, post = line.partition(" - ")
        f = pre.split()
        p = post.split()
        if len(f) < 5 or len(p) < 3:
            continue
        if p[0] == "cgroup2" and v2 is None:
            v2 = (f[4], f[3])
        elif p[0] == "cgroup" and "memory" in p[2].split(",") and v1 is None:
            v1 = (f[4], f[3])
    return v2, v1


def _own(v2):
    for line in _read("/proc/self/cgroup").splitlines():
        hid, ctrl, path = line.split(":", 2)
        if v2 and hid == "0" and ctrl == "":
            return path
        if not v2 and "memory" in ctrl.split(","):
            return path
    return None


def _join(mnt, root, path):
    if root != "/" and path.startswith(root):
        path = path[len(root):]
    return mnt + path


class MemCgroup:
    def __init__(self, path, v2):
        self.path = path
        self.v2 = v2

    @classmethod
    def create(cls, tag):
        """create - a new memory cgroup; raises OSError with the reason when none can be made"""
        v2m, v1m = _mounts()
        name = "mw-%s-%d" % (tag, os.getpid())
        if v1m and _own(False) is not None:
            base = _join(v1m[0], v1m[1], _own(False))
            path = os.path.join(base, name)
            os.mkdir(path)
            return cls(path, False)
        if v2m and _own(True) is not None:
            base = _join(v2m[0], v2m[1], _own(True))
            # a child may have a memory limit only if its parent delegates it
            for parent in (base, v2m[0]):
                try:
                    ctl = _read(os.path.join(parent, "cgroup.subtree_control")).split()
                    if "memory" not in ctl:
                        with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                            f.write("+memory")
                    path = os.path.join(parent, name)
                    os.mkdir(path)
                    if os.path.exists(os.path.join(path, "memory.max")):
                        return cls(path, True)
                    os.rmdir(path)
                except OSError:
                    continue
        raise OSError("no memory cgroup controller usable here (v1 memory or v2 with memory delegated)")

    def _f(self, name):
        return os.path.join(self.path, name)

    def set_limit(self, nbytes):
        with open(self._f("memory.max" if self.v2 else "memory.limit_in_bytes"), "w") as f:
            f.write(str(int(nbytes)))

    def lower_limit(self, nbytes, margin=8 << 20):
        """lower_limit - set a limit below the current usage: the kernel
        reclaims first, and cgroup v1 answers EBUSY when it could not reclaim
        enough (dirty or busy pages of the moment).  Retries after a sync;
        then takes the usage it reached plus margin, still too small for a
        second engine.  Returns the limit set."""
        import errno
        for _ in range(6):
            try:
                self.set_limit(nbytes)
                return int(nbytes)
            except OSError as e:
                if e.errno != errno.EBUSY:
                    raise
            os.sync()
            time.sleep(0.5)
        limit = max(int(nbytes), self.usage() + margin)
        self.set_limit(limit)
        return limit

    def usage(self):
        return int(_read(self._f("memory.current" if self.v2 else "memory.usage_in_bytes")))

    def peak(self):
        """peak - the high-water mark (v2 memory.peak needs Linux 5.19; None without it)"""
        try:
            return int(_read(self._f("memory.peak" if self.v2 else "memory.max_usage_in_bytes")))
        except (OSError, ValueError):
            return None

    def reset_peak(self):
        try:
            with open(self._f("memory.peak" if self.v2 else "memory.max_usage_in_bytes"), "w") as f:
                f.write("0")
        except OSError:
            pass

    def oom_kills(self):
        name = "memory.events" if self.v2 else "memory.oom_control"
        for line in _read(self._f(name)).splitlines():
            k, _, v = line.partition(" ")
            if k == "oom_kill":
                return int(v)
        return 0

    def procs(self):
        return [int(x) for x in _read(self._f("cgroup.procs")).split()]

    def remove(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                time.sleep(0.2)
        return False
