"""test_faults.py - fault injection end to end (issue 9): whatever breaks,
nothing accepted is lost, nothing is passed unscanned, and service comes
back when the fault clears.

  - kill -9 of mailwardend under a mixed load (clean, infected,
    quarantine-bound): the client retries 4xx as a sending server does;
    at the end sent = delivered + refused + quarantined, no duplicates at
    the sink
  - a corrupted, then a half-written signature database at reload: the
    old engine keeps serving (the marker is still refused), the failure
    is logged; a good database afterwards loads
  - the SQLite store held locked by another process: 4xx, nothing
    delivered or lost; the retries go through once the lock is released
  - the quarantine directory unwritable: 4xx for quarantine-bound mail
    only (clean mail still flows); accepted into the quarantine once
    writable again
  - a scan over its time budget (limits.scan_time): 451 with
    engine.timeout, quickly; accepted again with the normal budget
  - a hung daemon (SIGSTOP) mid-message: Postfix answers 4xx after its
    milter timeouts, the connection is not held; the message is not
    delivered, the next one is

The daemon-side faults do not depend on the MTA and run once, through
Postfix; kill -9 runs through every MTA of the lab matrix.
"""

import os
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from conftest import MAILWARDEN, SMTP_TIMEOUT, eicar, make_message, marker, new_token, send, zipped

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def mta(lab):
    return getattr(lab, "mta", "postfix")


def postfix_only(lab, why="daemon-side fault, independent of the MTA: run once, through Postfix"):
    if mta(lab) != "postfix":
        pytest.skip(why)


def log_text(lab):
    with open(os.path.join(lab.run_dir, "log", "mailwardend.log"), errors="replace") as f:
        return f.read()


def log_since(lab, offset):
    with open(os.path.join(lab.run_dir, "log", "mailwardend.log"), "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def log_size(lab):
    return os.path.getsize(os.path.join(lab.run_dir, "log", "mailwardend.log"))


def wait_until(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))


def until_final(lab, raw, sender, rcpts=("bob@example.com",), timeout=60):
    """Send, retrying 4xx as a sending server would, until a final answer."""
    deadline = time.time() + timeout
    while True:
        r = send(lab.port, raw, sender=sender, rcpts=rcpts)
        if not r.temp or time.time() > deadline:
            return r
        time.sleep(0.5)


def freemail_public(token, subject):
    """Quarantine-bound: free-mail sender to a public address, with an attachment."""
    sender = "f-%s@gmail.com" % token
    raw = make_message(token, subject=subject, sender=sender, rcpt="info@example.com",
                       attachments=[("document.pdf", PDF, "application/pdf")])
    return raw, sender, ("info@example.com",)


def quarantined_subjects(lab, prefix):
    return [e["subject"] for e in lab.quarantine() if e.get("subject", "").startswith(prefix)]


def restart(lab, *args):
    lab.lab("restart-milter", MW_ARGS=" ".join(args))


# ---------------------------------------------------------------- kill -9

def test_kill9_under_mixed_load_loses_nothing(milter):
    lab = milter
    run = "k" + new_token()[:10]
    n = 120
    kinds = {}
    msgs = []
    for i in range(n):
        token = "%s-%03d" % (run, i)
        k = ("clean", "infected", "quarantine")[i % 3] if i % 6 else "clean"
        kinds[i] = k
        if k == "quarantine":
            raw, sender, rcpts = freemail_public(token, "%s %03d" % (run, i))
        else:
            body = "load %d\n" % i
            att = [("invoice.zip", zipped("invoice.txt", eicar() if i % 2 else marker()),
                    "application/zip")] if k == "infected" else []
            sender = "k9-%s-%d@sender.example" % (run, i)
            raw = make_message(token, subject="%s %03d" % (run, i), body=body, attachments=att,
                               sender=sender)
            rcpts = ("bob@example.com",)
        msgs.append((raw, sender, rcpts))
    results = [None] * n
    deadline = time.time() + 240

    def worker(k):
        for i in range(k, n, 4):
            raw, sender, rcpts = msgs[i]
            while True:
                r = send(lab.port, raw, sender=sender, rcpts=rcpts)
                if not r.temp or time.time() > deadline:
                    break
                time.sleep(0.3)
            results[i] = r

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: sum(1 for r in results if r is not None) >= 30, 120, "30 answers")
    pid = lab.milter_pid()
    assert pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(1.0)
    lab.lab("start-milter")
    for t in threads:
        t.join(max(1, deadline - time.time() + 30))
    assert not any(t.is_alive() for t in threads), "senders still running"
    assert all(r is not None for r in results)
    temp = [(i, r) for i, r in enumerate(results) if r.temp]
    assert not temp, "no final answer within the deadline: %s" % temp[:5]
    refused = [i for i, r in enumerate(results) if r.perm]
    assert sorted(refused) == [i for i in range(n) if kinds[i] == "infected"], \
        "refused set differs from the infected set: %s" % [(i, results[i]) for i in refused][:5]
    lab.wait_drained(timeout=120)
    delivered = {}
    for i in range(n):
        c = lab.count_delivered("%s-%03d" % (run, i))
        if c:
            delivered[i] = c
    dups = {i: c for i, c in delivered.items() if c > 1}
    assert not dups, "duplicates at the sink: %s" % dups
    quarantined = set(quarantined_subjects(lab, run + " "))
    n_q = len(quarantined)
    assert n == len(delivered) + len(refused) + n_q, \
        "sent %d != delivered %d + refused %d + quarantined %d" % (n, len(delivered), len(refused), n_q)
    assert set(delivered) == {i for i in range(n) if kinds[i] == "clean"}
    assert quarantined == {"%s %03d" % (run, i) for i in range(n) if kinds[i] == "quarantine"}


# ---------------------------------------------------------------- signatures

def _marker_refused(lab):
    t = new_token()
    return lab.send(make_message(t, body="x %s\n" % marker().decode()))


def test_corrupt_signature_db_keeps_old_engine(milter):
    lab = milter
    postfix_only(lab)
    pid = lab.milter_pid()
    bad = os.path.join(lab.sigs_dir, "broken-%s.ndb" % new_token()[:6])
    half = os.path.join(lab.sigs_dir, "half-%s.ndb" % new_token()[:6])
    good = os.path.join(lab.sigs_dir, "after-%s.ndb" % new_token()[:6])
    needle = ("MAILWARDEN-AFTER-FIX-" + new_token()).encode()
    try:
        for path, text in (
                (bad, "Mailwarden.Test.Broken:0:*:this-is-not-hex\n"),
                # half of a valid line, as a copy cut short by a full disk
                (half, "Mailwarden.Test.Half:0:*:%s" % (b"MAILWARDEN-HALF-WRITTEN".hex()[:17]))):
            off = log_size(lab)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
            lab.hup()
            wait_until(lambda: "signature reload failed" in log_since(lab, off), 30,
                       "the failed reload in the log")
            assert "old engine kept" in log_since(lab, off)
            r = _marker_refused(lab)
            assert r.perm and "av.infected" in r.text, "old engine not serving: %r" % (r,)
            os.unlink(path)
        assert lab.milter_pid() == pid, "mailwardend died on a bad database\n" + lab.log_tail()
        # and a good database loads again afterwards
        with open(good, "w") as f:
            f.write("Mailwarden.Test.AfterFix:0:*:%s\n" % needle.hex())
        os.chmod(good, 0o644)
        off = log_size(lab)
        lab.hup()
        wait_until(lambda: "signatures reloaded" in log_since(lab, off), 30, "a good reload")
        r = lab.send(make_message(new_token(), body="y %s\n" % needle.decode()))
        assert r.perm and "AfterFix" in r.text, r
        assert _marker_refused(lab).perm
    finally:
        for p in (bad, half, good):
            if os.path.exists(p):
                os.unlink(p)
        lab.hup()


# ---------------------------------------------------------------- the store

# Holds SQLite's write lock on argv[1] until its stdin closes.
LOCKER = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
c.execute("ROLLBACK")
"""

def test_store_locked_tempfails_then_recovers(milter):
    lab = milter
    postfix_only(lab)
    db = os.path.join(lab.run_dir, "mailwarden", "state", "mailwarden.db")
    assert os.path.exists(db)
    run = "lk" + new_token()[:8]
    # another process holds the write lock (as the daemon's user, so no
    # root-owned -wal/-shm file appears)
    holder = subprocess.Popen(["runuser", "-u", "mailwarden", "--", "/usr/bin/python3", "-c", LOCKER, db],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        line = holder.stdout.readline().strip()
        assert line == b"locked", line
        replies = []
        for i in range(3):
            token = "%s-%d" % (run, i)
            t0 = time.time()
            r = lab.send(make_message(token, subject="locked %d" % i), sender="lk-%s-%d@sender.example" % (run, i))
            replies.append((r, time.time() - t0))
        assert all(r.temp for r, _ in replies), "want 4xx with the store locked: %s" % replies
        assert all(dt < 60 for _, dt in replies), replies
        assert "store.unavailable" in log_text(lab) or any("store" in r.text for r, _ in replies)
    finally:
        try:
            holder.stdin.close()  # the locker rolls back and exits
        except OSError:
            pass
        holder.wait(10)
    for i in range(3):
        token = "%s-%d" % (run, i)
        r = until_final(lab, make_message(token, subject="locked %d" % i), "lk-%s-%d@sender.example" % (run, i))
        assert r.ok, "not accepted after the lock was released: %r" % (r,)
    lab.wait_drained()
    for i in range(3):
        assert lab.count_delivered("%s-%d" % (run, i)) == 1


# ---------------------------------------------------------------- the quarantine

def test_quarantine_dir_unwritable_tempfails_then_recovers(milter):
    lab = milter
    postfix_only(lab)
    qdir = os.path.join(lab.run_dir, "mailwarden", "state", "quarantine")
    token = "qd" + new_token()[:10]
    raw, sender, rcpts = freemail_public(token, "unwritable " + token)
    if not os.path.isdir(qdir):  # first quarantine write creates it
        r = until_final(lab, *freemail_public("qd0" + new_token()[:8], "prime"))
        assert r.ok
    mode = os.stat(qdir).st_mode & 0o7777
    os.chmod(qdir, 0o500)
    try:
        r = lab.send(raw, sender=sender, rcpts=rcpts)
        assert r.temp, "quarantine-bound mail accepted while the quarantine is unwritable: %r" % (r,)
        # only quarantine-bound mail is deferred
        t2 = new_token()
        r2 = lab.send(make_message(t2, subject="clean while unwritable"))
        assert r2.ok, r2
        assert "quarantine" in log_text(lab)
    finally:
        os.chmod(qdir, mode)
    r = until_final(lab, raw, sender, rcpts)
    assert r.ok, r
    lab.wait_drained()
    assert quarantined_subjects(lab, "unwritable " + token) == ["unwritable " + token]
    assert lab.count_delivered(token) == 0
    assert lab.count_delivered(t2) == 1


# ---------------------------------------------------------------- time budget

def _slow_message(token):
    """About 6 MB of base64 attachment: tens of milliseconds to scan, far
    more than a 10 ms budget."""
    data = os.urandom(4 << 20)
    return make_message(token, subject="budget " + token,
                        attachments=[("data.bin", data, "application/octet-stream")])


def test_scan_over_time_budget_tempfails(milter):
    lab = milter
    postfix_only(lab)
    token = new_token()
    raw = _slow_message(token)
    sender = "tb-%s@sender.example" % token
    restart(lab, "-o", "limits.scan_time=10")
    try:
        off = log_size(lab)
        t0 = time.time()
        r = lab.send(raw, sender=sender)
        dt = time.time() - t0
        assert r.temp and "engine.timeout" in r.text, "want 451 engine.timeout, got %r" % (r,)
        assert dt < 30, "answer took %.1f s" % dt
        assert "engine.timeout" in log_since(lab, off)
    finally:
        restart(lab)
    r = until_final(lab, raw, sender)
    assert r.ok, r
    lab.wait_drained()
    # a first contact with an attachment is held: accepted either way, once
    assert lab.count_delivered(token) + len(quarantined_subjects(lab, "budget " + token)) == 1


def test_scan_time_limits_checked(milter):
    """The budget is a checked limit: out of range is refused at start."""
    p = subprocess.run([MAILWARDEN, "config", "--check", "-o", "limits.scan_time=1"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert p.returncode != 0 and b"scan_time" in p.stdout, p.stdout


def test_hung_daemon_does_not_hold_the_connection(milter):
    lab = milter
    postfix_only(lab, "uses Postfix's milter_*_timeout settings")
    etc = lab.pf_etc

    def postconf(*kv):
        subprocess.run(["postconf", "-c", etc, "-e", *kv], check=True, timeout=30)
        subprocess.run(["postfix", "-c", etc, "reload"], check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    old = subprocess.run(["postconf", "-c", etc, "-h", "milter_command_timeout", "milter_content_timeout"],
                         stdout=subprocess.PIPE, check=True, timeout=30).stdout.decode().split()
    postconf("milter_command_timeout=3s", "milter_content_timeout=3s")
    time.sleep(1.5)  # let the reload retire the old smtpd processes
    pid = lab.milter_pid()
    token = new_token()
    stopped = False
    try:
        s = smtplib.SMTP("127.0.0.1", lab.port, timeout=SMTP_TIMEOUT)
        s.ehlo("hang.test.example")
        assert s.mail("hang-%s@sender.example" % token)[0] == 250
        assert s.rcpt("bob@example.com")[0] == 250
        os.kill(pid, signal.SIGSTOP)  # the scan "hangs" from here on
        stopped = True
        t0 = time.time()
        code, text = s.data(make_message(token, subject="hang"))
        dt = time.time() - t0
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
        assert 400 <= code < 500, "want 4xx from Postfix when the milter hangs, got %d %s" % (code, text)
        assert dt < 20, "the connection was held %.1f s (milter timeouts 3 s)" % dt
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        postconf("milter_command_timeout=%s" % old[0], "milter_content_timeout=%s" % old[1])
        time.sleep(1.5)
    assert lab.milter_pid() == pid
    lab.wait_drained()
    assert lab.count_delivered(token) == 0, "a message Postfix tempfailed was delivered"
    t2 = new_token()
    r = until_final(lab, make_message(t2, subject="after hang"), "ah-%s@sender.example" % t2)
    assert r.ok, r
    lab.wait_drained()
    assert lab.count_delivered(t2) == 1
