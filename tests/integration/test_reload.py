"""test_reload.py - signature reload (SIGHUP) while mail flows: 200 messages
over 4 parallel SMTP sessions with two reloads in the middle lose none
(delivered at the sink + rejected == sent, no 4xx), and a signature file
added at runtime is detected after SIGHUP, which proves the swap."""

import os
import smtplib
import threading
import time

from conftest import SMTP_TIMEOUT, make_message, marker, new_token, transact

TOTAL = 200
SESSIONS = 4


def write_sig(lab, name, signame, needle):
    path = os.path.join(lab.sigs_dir, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%s:0:*:%s\n" % (signame, needle.hex()))
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)  # the daemon never sees half a file
    return path


def test_reload_under_load_loses_nothing(milter):
    lab = milter
    pid = lab.milter_pid()
    batch = "rl" + new_token()[:8] + "-"
    replies = [None] * TOTAL
    errors = []
    sent = [0]
    lock = threading.Lock()

    def worker(k):
        idx = list(range(k, TOTAL, SESSIONS))
        try:
            s = smtplib.SMTP("127.0.0.1", lab.port, timeout=SMTP_TIMEOUT)
            s.ehlo("load.test.example")
            for n, i in enumerate(idx):
                if n and n % 25 == 0:  # a few fresh sessions as well
                    s.quit()
                    s = smtplib.SMTP("127.0.0.1", lab.port, timeout=SMTP_TIMEOUT)
                    s.ehlo("load.test.example")
                token = "%s%03d" % (batch, i)
                body = "message %d\n" % i
                if i % 10 == 5:
                    body += "payload %s\n" % marker().decode()
                replies[i] = transact(s, make_message(token, subject="load %d" % i, body=body))
                with lock:
                    sent[0] += 1
            s.quit()
        except Exception as e:  # reported below, never silently lost
            errors.append("session %d: %r" % (k, e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(SESSIONS)]
    for t in threads:
        t.start()
    hups = []
    deadline = time.time() + 240
    for at, action in ((50, "add"), (120, "touch")):
        while sent[0] < at and time.time() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        if action == "add":
            write_sig(lab, "reload-extra.ndb", "Mailwarden.Test.ReloadExtra",
                      b"MAILWARDEN-RELOAD-EXTRA-" + new_token().encode())
        else:
            os.utime(os.path.join(lab.sigs_dir, "mailwarden-test.ndb"))
        lab.hup()
        hups.append(sent[0])
    for t in threads:
        t.join(timeout=max(1, deadline - time.time()))
    assert not any(t.is_alive() for t in threads), "senders still running after 240 s"
    assert not errors, "SMTP sessions failed: %s" % errors
    assert None not in replies

    temp = [(i, r) for i, r in enumerate(replies) if r.temp]
    accepted = [i for i, r in enumerate(replies) if r.ok]
    rejected = [i for i, r in enumerate(replies) if r.perm]
    assert not temp, "4xx during reload (HUP after %s sent): %s" % (hups, temp[:5])
    assert len(accepted) + len(rejected) == TOTAL
    assert sorted(rejected) == [i for i in range(TOTAL) if i % 10 == 5], \
        "rejected set differs from the marker set: %s" % rejected[:20]
    lab.wait_drained(timeout=90)
    delivered = lab.count_delivered(batch)
    assert delivered == len(accepted), \
        "sent %d, accepted %d, delivered %d, rejected %d" % (
            TOTAL, len(accepted), delivered, len(rejected))
    assert delivered + len(rejected) == TOTAL
    assert lab.milter_pid() == pid, "mailwardend restarted or died\n" + lab.log_tail()


def test_runtime_signature_detected_after_hup(milter):
    lab = milter
    needle = ("MAILWARDEN-RUNTIME-MARKER-" + new_token()).encode()
    att = ("data.txt", b"prefix " + needle + b" suffix\n", "application/octet-stream")

    token = new_token()
    r = lab.send(make_message(token, subject="before reload", attachments=[att]))
    assert r.ok, "new marker refused before its signature exists: %r" % (r,)

    write_sig(lab, "runtime-%s.ndb" % new_token()[:8], "Mailwarden.Test.Runtime", needle)
    lab.hup()
    deadline = time.time() + 30
    last = None
    while time.time() < deadline:
        t = new_token()
        last = lab.send(make_message(t, subject="after reload", attachments=[att]))
        if last.perm:
            break
        assert last.ok, "4xx while reloading: %r" % (last,)
        time.sleep(1)
    assert last is not None and last.perm, \
        "signature added at runtime not detected 30 s after SIGHUP: %r\n%s" % (last, lab.log_tail())
    lab.wait_drained()
    # and the old database is still in force after the swap
    t = new_token()
    r = lab.send(make_message(t, body="old %s\n" % marker().decode()))
    assert r.perm, "original marker no longer detected after reload: %r" % (r,)
