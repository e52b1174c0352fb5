"""test_sigdb_reload.py - reloads that fit the machine (issue 17).

A private lab (Postfix on loopback, mailwardend, sink) is started with a
generated signature database (tests/sigdb/gen.py, scale MW_SIGDB_SCALE,
default 0.1 = 515,000 signatures; the recorded full-size run uses 1.0)
inside a memory cgroup of its own (tests/sigdb/memcg.py, v1 or v2):

1. with room for two engines (limit 4 x the daemon's steady size) a
   SIGHUP reload is a swap: logged as such, no 4xx while mail flows;
2. the limit is lowered to 1.35 x the steady size, which cannot hold two
   engines; a new signature file is added (a new marker) and the daemon
   reloads: it must choose "in place", stay alive (same PID, no OOM kill
   in the cgroup), answer every message sent meanwhile 250 or 4xx (451,
   never accepted unscanned), lose none of the accepted ones, and detect
   the new marker afterwards (and the old one still);
3. a reload in place whose new files fail to load falls back to the
   last good copy: the daemon keeps scanning (the marker is refused,
   clean mail delivered), and says so.

The lab runs through Postfix only (the MTA matrix is tested elsewhere;
this test is about the daemon's memory): it uses no `lab` fixture, so
tests/run.sh runs it in the Postfix pass.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from conftest import BUILD_DIR, REPO, Lab, free_port, make_message, marker, new_token, transact

sys.path.insert(0, os.path.join(REPO, "tests", "sigdb"))
from memcg import MemCgroup  # noqa: E402

SCALE = float(os.environ.get("MW_SIGDB_SCALE", "0.1"))
GEN = os.path.join(REPO, "tests", "sigdb", "gen.py")
SESSIONS = 3


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def log_text(lab):
    with open(os.path.join(lab.run_dir, "log", "mailwardend.log"), errors="replace") as f:
        return f.read()


def wait_log(lab, needle, after, timeout):
    """wait_log - the log text past offset `after` once it holds needle; None on timeout"""
    deadline = time.time() + timeout
    while time.time() < deadline:
        t = log_text(lab)[after:]
        if needle in t:
            return t
        time.sleep(0.2)
    return None


def write_sig(sigs, name, signame, needle):
    path = os.path.join(sigs, name)
    with open(path + ".tmp", "w") as f:
        f.write("%s:0:*:%s\n" % (signame, needle.hex()))
    os.chmod(path + ".tmp", 0o644)
    os.rename(path + ".tmp", path)


class Flow:
    """Flow - SESSIONS threads sending clean mail until stopped; every reply kept"""

    def __init__(self, lab, batch):
        self.lab, self.batch = lab, batch
        self.replies, self.errors = [], []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.n = 0
        self.threads = [threading.Thread(target=self.run, args=(k,)) for k in range(SESSIONS)]

    def run(self, k):
        """run - one sender.  Postfix closes a session after smtpd_hard_error_limit
        (20) errors with "421 4.7.0 too many errors": a real client retries
        later, so does this one (a new session); that message counts as 4xx."""
        import smtplib

        from conftest import Reply
        s = None
        try:
            while not self.stop.is_set():
                with self.lock:
                    i = self.n
                    self.n += 1
                if i >= 5000:  # bounded whatever happens
                    break
                token = "%s%04d" % (self.batch, i)
                if s is None:
                    s = smtplib.SMTP("127.0.0.1", self.lab.port, timeout=120)
                    s.ehlo("flow.test.example")
                try:
                    r = transact(s, make_message(token, subject="flow %d" % i, body="message %d\n" % i))
                except smtplib.SMTPServerDisconnected as e:
                    r, s = Reply(421, "disconnected: %s" % e, "session"), None
                except smtplib.SMTPResponseException as e:
                    r, s = Reply(e.smtp_code, e.smtp_error.decode(errors="replace"), "session"), None
                with self.lock:
                    self.replies.append((time.time(), token, r))
                if r.temp:
                    time.sleep(0.1)  # as a sending server would, do not spin on 451
                if s is not None and r.code == 421:
                    s.close()
                    s = None
            if s is not None:
                s.quit()
        except Exception as e:  # reported by the test, never lost
            self.errors.append("session %d: %r" % (k, e))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=180)


@pytest.fixture(scope="module")
def biglab(request):
    if os.geteuid() != 0:
        pytest.fail("needs root (private Postfix, cgroups)")
    try:
        cg = MemCgroup.create("sigdb-it")
    except OSError as e:
        pytest.fail("cannot make a memory cgroup: %s" % e)
    run_dir = tempfile.mkdtemp(prefix="mw-it-sigdb-", dir="/tmp")
    os.chmod(run_dir, 0o755)
    sigs = os.path.join(run_dir, "sigs")
    shutil.copytree(os.path.join(REPO, "sigs"), sigs)
    subprocess.run([sys.executable, GEN, "--scale", str(SCALE), sigs], check=True, stdout=subprocess.DEVNULL)
    for n in os.listdir(sigs):
        os.chmod(os.path.join(sigs, n), 0o644)
    os.chmod(sigs, 0o755)
    lab = Lab(run_dir, free_port(), free_port(), sigs, "postfix")
    cg.set_limit(64 << 30)
    ok = False
    try:
        t0 = time.time()
        lab.lab("start", LAB_PORT=str(lab.port), SINK_PORT=str(lab.sink_port), MILTER="unix", SIGS_DIR=sigs,
                MTA="postfix", MW_CGROUP=cg.path, LAB_WAIT_TENTHS=str(int(60 + 600 * SCALE) * 10),
                MW_ARGS="-o antivirus.reload_reserve=16M")
        lab.start_s = time.time() - t0
        lab.cg = cg
        yield lab
        ok = request.session.testsfailed == 0
    finally:
        lab.lab("stop", check=False)
        cg.remove()
        if ok and not os.environ.get("MW_IT_KEEP"):
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            print("\nsigdb lab RUN_DIR kept: %s" % run_dir)


def check_flow(flow, lab):
    assert not flow.errors, "SMTP sessions failed: %s" % flow.errors
    perm = [(tok, r) for _, tok, r in flow.replies if r.perm]
    assert not perm, "5xx for clean mail during the reload: %s" % perm[:5]
    odd = [(tok, r) for _, tok, r in flow.replies if not (r.ok or r.temp)]
    assert not odd, "replies neither 250 nor 4xx: %s" % odd[:5]
    accepted = [tok for _, tok, r in flow.replies if r.ok]
    lab.wait_drained(timeout=120)
    delivered = lab.count_delivered(flow.batch)
    assert delivered == len(accepted), "accepted %d, delivered %d" % (len(accepted), delivered)
    return accepted, [r for _, _, r in flow.replies if r.temp]


def test_reload_fits_the_machine(biglab):
    lab = biglab
    pid = lab.milter_pid()
    assert pid, "mailwardend not running\n" + lab.log_tail()
    steady = rss_kb(pid) * 1024
    assert "antivirus ready" in log_text(lab), lab.log_tail()
    print("\nscale %g: lab start %.1f s, daemon RSS %d MB" % (SCALE, lab.start_s, steady >> 20))

    # 1. room for two engines: a swap, nothing deferred
    lab.cg.set_limit(steady * 4)
    off = len(log_text(lab))
    with Flow(lab, "sw" + new_token()[:6] + "-") as flow:
        time.sleep(1)
        lab.hup()
        t = wait_log(lab, "loaded in", off, 120 + 900 * SCALE)
        time.sleep(1)
    assert t is not None, "no reload within the bound\n" + lab.log_tail()
    assert "reload by swap (auto:" in t and "fits in" in t, t[-2000:]
    accepted, temp = check_flow(flow, lab)
    assert not temp, "4xx during a swap reload: %s" % temp[:5]
    assert accepted, "no mail flowed during the swap"

    # 2. a cgroup that cannot hold two engines, and a new signature
    after = rss_kb(pid) * 1024
    print("after the swap: daemon RSS %d MB, cgroup usage %d MB" % (after >> 20, lab.cg.usage() >> 20))
    limit = lab.cg.lower_limit(int(steady * 1.35))
    print("cgroup limit %d MB (1.35 x steady: %d MB)" % (limit >> 20, int(steady * 1.35) >> 20))
    needle = ("MAILWARDEN-SIGDB-NEW-" + new_token()).encode()
    att = ("data.txt", b"prefix " + needle + b" suffix\n", "application/octet-stream")
    r = lab.send(make_message(new_token(), subject="before", attachments=[att]))
    assert r.ok, "new marker refused before its signature exists: %r" % (r,)
    kills0 = lab.cg.oom_kills()
    off = len(log_text(lab))
    with Flow(lab, "ip" + new_token()[:6] + "-") as flow:
        time.sleep(1)
        write_sig(lab.sigs_dir, "mwgen-new.ndb", "Mailwarden.Test.SigdbNew", needle)
        lab.hup()
        t = wait_log(lab, "in-place reload", off, 120 + 900 * SCALE)
        time.sleep(1)
    assert t is not None, "no in-place reload within the bound\n" + lab.log_tail()
    assert "reload in place (auto:" in t and "does not fit in" in t, t[-2000:]
    assert "in-place reload done" in t, t[-2000:]
    assert "mail was deferred for" in t
    assert lab.milter_pid() == pid, "mailwardend died or restarted\n" + lab.log_tail()
    assert lab.cg.oom_kills() == kills0, "the kernel killed a process in the cgroup"
    accepted, temp = check_flow(flow, lab)
    assert all(r.code in (451, 421) for r in temp), "4xx other than 451 (421: session closed): %s" % temp[:3]
    assert any(r.code == 451 for r in temp), "no 451 while no engine was loaded?"
    print("in place: %d messages answered 250, %d answered 451, %d closed with 421 during the reload" % (
        len(accepted), sum(r.code == 451 for r in temp), sum(r.code == 421 for r in temp)))
    # the new signature is active, the old ones still are
    r = lab.send(make_message(new_token(), subject="after", attachments=[att]))
    assert r.perm and "Mailwarden.Test.SigdbNew" in r.text, "new marker not detected: %r" % (r,)
    r = lab.send(make_message(new_token(), body="old %s\n" % marker().decode()))
    assert r.perm, "original marker no longer detected: %r" % (r,)
    r = lab.send(make_message(new_token(), subject="clean after"))
    assert r.ok, r

    # 3. a broken new file: the in-place load fails, the last good copy serves
    off = len(log_text(lab))
    with open(os.path.join(lab.sigs_dir, "broken.ndb"), "w") as f:
        f.write("Broken.Sig:0:*:zz-not-hex\n")
    os.chmod(os.path.join(lab.sigs_dir, "broken.ndb"), 0o644)
    lab.hup()
    t = wait_log(lab, "in-place reload", off, 120 + 900 * SCALE)
    assert t is not None and "fell back to the last good copy" in t, "log since the change:\n" + (t or "")
    assert lab.milter_pid() == pid
    r = lab.send(make_message(new_token(), attachments=[att]))
    assert r.perm and "Mailwarden.Test.SigdbNew" in r.text, "last good copy lacks the new marker: %r" % (r,)
    r = lab.send(make_message(new_token(), subject="clean on the fallback"))
    assert r.ok, "clean mail on the last good copy: %r" % (r,)
    os.unlink(os.path.join(lab.sigs_dir, "broken.ndb"))
    assert lab.cg.oom_kills() == kills0
