"""test_quarantine.py - the encrypted quarantine, holds, retro-scans,
lockdown and tracking, end to end through Postfix.

Quarantined and held mail is written durably to mailwardend's own
quarantine before the 250 (the MTA discards its copy); releases go back
through the lab Postfix's sendmail (pickup, no milter)."""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import MAILWARDEN, new_token, send


def conf(lab):
    return os.path.join(lab.run_dir, "mailwarden.conf")


def cli(lab, *args, check=True):
    p = subprocess.run([MAILWARDEN, *args, "-c", conf(lab)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("mailwarden %s: exit %d\n%s%s" % (
            " ".join(args), p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace")))
    return p.returncode, p.stdout.decode(errors="replace")


def qlist(lab, state=None):
    args = ["quarantine", "list", "--json", "--limit", "100000"]
    if state:
        args += ["--state-of", state]
    _, out = cli(lab, *args)
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def by_subject(entries, subject):
    return [e for e in entries if e["subject"] == subject]


def mail(token, sender, rcpt, subject, body="Please see the attached file.\r\n",
         attachment=None, att_name="document.pdf", att_type="application/pdf"):
    """A message with an optional base64 attachment (bytes)."""
    head = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@test.example>\r\n"
            "X-Test-Id: %s\r\nMIME-Version: 1.0\r\n" % (sender, rcpt, subject, token, token))
    if attachment is None:
        return (head + "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + body).encode()
    b64 = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
    return (head + "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
            "--BB\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body +
            "--BB\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; "
            "filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--BB--\r\n"
            % (att_type, att_name, att_name, b64)).encode()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def restart_milter(lab, *args):
    lab.lab("restart-milter", MW_ARGS=" ".join(args))


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.5)
    raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))


def mw_log(lab):
    with open(os.path.join(lab.run_dir, "log", "mailwardend.log"), errors="replace") as f:
        return f.read()


def test_quarantine_release_exactly_once(milter):
    token = new_token()
    sender = "q-%s@gmail.com" % token
    subject = "quarantine-%s" % token
    r = milter.send(mail(token, sender, "info@example.com", subject, attachment=PDF),
                    sender=sender, rcpts=("info@example.com",))
    assert r.ok, r
    milter.wait_drained()
    assert milter.count_delivered(token) == 0
    q = by_subject(qlist(milter), subject)
    assert len(q) == 1 and q[0]["state"] == "quarantined", q
    assert "sender.freemail_public" in q[0]["reasons"], q[0]
    qid = q[0]["id"]
    rc, out = cli(milter, "quarantine", "show", qid)
    assert sender in out and "info@example.com" in out and subject in out
    rc, out = cli(milter, "quarantine", "release", qid)
    assert "released" in out
    wait_for(lambda: milter.count_delivered(token) == 1, 60, "the released message at the sink")
    got = milter.delivered(token)
    assert got[0]["X-Mailwarden-Released"] is not None
    # a second release does nothing
    rc, out = cli(milter, "quarantine", "release", qid, check=False)
    assert rc != 0
    time.sleep(2)
    milter.wait_drained()
    assert milter.count_delivered(token) == 1
    assert by_subject(qlist(milter, "released"), subject)


def test_no_quarantined_body_in_plaintext_on_disk(milter):
    token = new_token()
    canary = "PLAINTEXT-CANARY-%s" % token
    sender = "canary-%s@gmail.com" % token
    r = milter.send(mail(token, sender, "info@example.com", "canary " + token,
                         body="secret payroll data %s\r\n" % canary, attachment=PDF),
                    sender=sender, rcpts=("info@example.com",))
    assert r.ok, r
    milter.wait_drained()
    assert by_subject(qlist(milter), "canary " + token)
    needle = canary.encode()
    for root, dirs, files in os.walk(milter.run_dir):
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                assert needle not in f.read(), "plaintext quarantined body in %s" % path


def test_first_contact_held_then_released(milter):
    restart_milter(milter, "-o", "hold.hold_time=3s")
    try:
        token = new_token()
        sender = "newpartner-%s@client.example" % token
        subject = "first contact %s" % token
        r = milter.send(mail(token, sender, "tanaka@example.com", subject, attachment=PDF),
                        sender=sender, rcpts=("tanaka@example.com",))
        assert r.ok, r
        milter.wait_drained()
        assert milter.count_delivered(token) == 0, "held mail delivered at once"
        q = by_subject(qlist(milter), subject)
        assert q and q[0]["state"] == "held" and "hold.first_contact" in q[0]["reasons"], q
        wait_for(lambda: milter.count_delivered(token) == 1, 60, "the held mail's release")
        time.sleep(6)  # a second pass of the hold timer must not deliver it again
        milter.wait_drained()
        assert milter.count_delivered(token) == 1
        assert by_subject(qlist(milter, "released"), subject)
        # the sender is now known: its next mail with an attachment goes through
        token2 = new_token()
        r = milter.send(mail(token2, sender, "tanaka@example.com", "second " + token2, attachment=PDF),
                        sender=sender, rcpts=("tanaka@example.com",))
        assert r.ok, r
        milter.wait_drained()
        assert milter.count_delivered(token2) == 1
    finally:
        restart_milter(milter)


def test_zero_day_retro_scan(milter):
    """A payload no signature knows is delivered to staff (from a known
    sender) and held for a first-contact sender; when the signature
    arrives, the delivered copy raises an alert naming its recipients and
    blocks its sender, and the held copy stays quarantined."""
    token = new_token()
    zero_day = "MAILWARDEN-ZERO-DAY-%s" % token
    known = "vendor-%s@client.example" % token
    newbie = "other-%s@elsewhere.example" % token
    r = milter.send(mail(token + "-intro", known, "sato@example.com", "hello " + token),
                    sender=known, rcpts=("sato@example.com",))
    assert r.ok, r
    payload = b"harmless test file " + zero_day.encode() + b"\n"
    r = milter.send(mail(token + "-a", known, "sato@example.com", "invoice " + token,
                         attachment=payload, att_name="invoice.dat",
                         att_type="application/octet-stream"),
                    sender=known, rcpts=("sato@example.com",))
    assert r.ok, r
    r = milter.send(mail(token + "-b", newbie, "kato@example.com", "invoice2 " + token,
                         attachment=payload, att_name="invoice.dat",
                         att_type="application/octet-stream"),
                    sender=newbie, rcpts=("kato@example.com",))
    assert r.ok, r
    milter.wait_drained()
    assert milter.count_delivered(token + "-a") == 1
    assert milter.count_delivered(token + "-b") == 0
    held = by_subject(qlist(milter), "invoice2 " + token)
    assert held and held[0]["state"] == "held", held
    sig = os.path.join(milter.sigs_dir, "zeroday-%s.ndb" % token)
    with open(sig, "w") as f:
        f.write("Mailwarden.Test.ZeroDay%s:0:*:%s\n" % (token, zero_day.encode().hex()))
    try:
        milter.hup()
        log = wait_for(lambda: (lambda l: l if "ALERT retro.av" in l and known in l else None)(
            mw_log(milter)), 60, "the retro-scan alert")
        alert = [l for l in log.splitlines() if "ALERT retro.av" in l and known in l][-1]
        assert "sato@example.com" in alert and "ZeroDay" in alert, alert
        wait_for(lambda: by_subject(qlist(milter, "quarantined"), "invoice2 " + token), 60,
                 "the held copy moved to quarantined")
        # the sender of the delivered copy is now blocked
        r = milter.send(mail(token + "-c", known, "sato@example.com", "again " + token),
                        sender=known, rcpts=("sato@example.com",))
        assert r.perm and "sender.blocked" in r.text, r
    finally:
        os.unlink(sig)
        milter.hup()
    milter.wait_drained()
    assert milter.count_delivered(token + "-b") == 0



def test_zero_day_shared_attachment(milter):
    """Two delivered messages carry the same 40 KB attachment (the same
    base64 text, as one client sends it): their retro-scan copies store it
    once (one blob under quarantine/blobs), and when the signature arrives
    both messages are named, each with its own recipients."""
    token = new_token()
    zero_day = "MAILWARDEN-ZERO-DAY-%s" % token
    senders = ["vendor-%s@client.example" % token, "partner-%s@other.example" % token]
    rcpts = ["sato@example.com", "kato@example.com"]
    payload = b"".join(b"line %05d of the shared report\n" % i for i in range(1300)) + zero_day.encode() + b"\n"
    blobs = os.path.join(milter.run_dir, "mailwarden", "state", "quarantine", "blobs")
    before = set(os.listdir(blobs)) if os.path.isdir(blobs) else set()
    for i, (s, r) in enumerate(zip(senders, rcpts)):
        res = milter.send(mail("%s-intro%d" % (token, i), s, r, "hello %d %s" % (i, token)), sender=s, rcpts=(r,))
        assert res.ok, res
        res = milter.send(mail("%s-%d" % (token, i), s, r, "report %d %s" % (i, token), attachment=payload,
                               att_name="report.dat", att_type="application/octet-stream"),
                          sender=s, rcpts=(r,))
        assert res.ok, res
    milter.wait_drained()
    for i in range(2):
        assert milter.count_delivered("%s-%d" % (token, i)) == 1
    new = [n for n in set(os.listdir(blobs)) - before if n.endswith(".mwb")]
    assert len(new) == 1, new  # one stored attachment for the two copies
    sig = os.path.join(milter.sigs_dir, "zeroday-%s.ndb" % token)
    with open(sig, "w") as f:
        f.write("Mailwarden.Test.ZeroDay%s:0:*:%s\n" % (token, zero_day.encode().hex()))
    try:
        milter.hup()

        def alerts():
            lines = [l for l in mw_log(milter).splitlines() if "ALERT retro.av" in l and token in l]
            return lines if len(lines) >= 2 else None
        lines = wait_for(alerts, 60, "two retro-scan alerts")
        for s, r in zip(senders, rcpts):
            mine = [l for l in lines if s in l]
            assert len(mine) == 1 and r in mine[0] and "ZeroDay" in mine[0], lines
    finally:
        os.unlink(sig)
        milter.hup()

def test_lockdown_levels(milter):
    token = new_token()
    sender = "regular-%s@client.example" % token
    # known sender first (no first-contact hold in the way)
    assert milter.send(mail(token + "-0", sender, "abe@example.com", "hi"),
                       sender=sender, rcpts=("abe@example.com",)).ok
    restart_milter(milter, "-o", "hold.lockdown=1")
    try:
        assert milter.send(mail(token + "-1", sender, "abe@example.com", "plain " + token),
                           sender=sender, rcpts=("abe@example.com",)).ok
        assert milter.send(mail(token + "-2", sender, "abe@example.com", "attach " + token,
                                attachment=PDF), sender=sender, rcpts=("abe@example.com",)).ok
        milter.wait_drained()
        assert milter.count_delivered(token + "-1") == 1
        assert milter.count_delivered(token + "-2") == 0
        q = by_subject(qlist(milter), "attach " + token)
        assert q and q[0]["state"] == "held" and "policy.lockdown" in q[0]["reasons"], q
        restart_milter(milter, "-o", "hold.lockdown=2")
        assert milter.send(mail(token + "-3", sender, "abe@example.com", "plain2 " + token),
                           sender=sender, rcpts=("abe@example.com",)).ok
        milter.wait_drained()
        assert milter.count_delivered(token + "-3") == 0
        assert by_subject(qlist(milter), "plain2 " + token)
        # internal mail is never locked down
        assert milter.send(mail(token + "-4", "boss@example.com", "abe@example.com", "internal"),
                           sender="boss@example.com", rcpts=("abe@example.com",)).ok
        milter.wait_drained()
        assert milter.count_delivered(token + "-4") == 1
    finally:
        restart_milter(milter)


def test_tracking_queries(milter):
    token = new_token()
    sender = "track-%s@client.example" % token
    payload = b"tracked attachment " + token.encode()
    for i, rcpt in enumerate(("ito@example.com", "mori@example.com")):
        r = milter.send(mail("%s-%d" % (token, i), sender, rcpt, "report %s" % token,
                             attachment=payload if i else None, att_name="報告書.txt",
                             att_type="text/plain"), sender=sender, rcpts=(rcpt,))
        assert r.ok, r
    milter.wait_drained()
    _, out = cli(milter, "track", "--sender", sender, "--json")
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    assert len(rows) == 2 and {r["rcpts"] for r in rows} == {"ito@example.com", "mori@example.com"}
    import hashlib
    h = hashlib.sha256(payload).hexdigest()
    _, out = cli(milter, "track", "--hash", h[:16], "--json")
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    assert [r["rcpts"] for r in rows] == ["mori@example.com"], rows
    _, out = cli(milter, "track", "--subject", "report %s" % token, "--since", "1h", "--json")
    assert len([l for l in out.splitlines() if l.startswith("{")]) == 2
    _, out = cli(milter, "track", "--name", "報告書", "--domain", "client.example", "--json")
    assert any(json.loads(l)["sender"] == sender for l in out.splitlines() if l.startswith("{"))
    # refused recipients are tracked too
    fm = "fm-%s@yahoo.co.jp" % token
    r = milter.send(mail(token + "-x", fm, "ito@example.com", "x"), sender=fm, rcpts=("ito@example.com",))
    assert r.perm
    _, out = cli(milter, "track", "--sender", fm, "--action", "reject", "--json")
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    assert rows and rows[0]["stage"] == "rcpt" and "sender.freemail" in rows[0]["reasons"]


def _send_until_final(port, raw, sender, rcpts, deadline):
    """Send, retrying 4xx answers (the sending server's job) until a final one."""
    while True:
        r = send(port, raw, sender=sender, rcpts=rcpts)
        if not r.temp or time.time() > deadline:
            return r
        time.sleep(0.5)


def test_kill9_while_quarantining_loses_nothing(milter):
    """200 quarantine-bound messages on 4 connections; mailwardend is killed
    with SIGKILL part-way and restarted.  Every message answered 250 is in
    the quarantine exactly once; none is lost or delivered."""
    run = new_token()
    n = 200
    results = [None] * n
    deadline = time.time() + 240

    def worker(k):
        for i in range(k, n, 4):
            sender = "k9-%s-%d@gmail.com" % (run, i)
            raw = mail("%s-%03d" % (run, i), sender, "info@example.com", "k9 %s %03d" % (run, i),
                       attachment=PDF)
            results[i] = _send_until_final(milter.port, raw, sender, ("info@example.com",), deadline)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    # kill part-way through
    wait_for(lambda: sum(1 for r in results if r is not None) >= 40, 120, "40 answers")
    pid = milter.milter_pid()
    assert pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(1.0)
    milter.lab("start-milter")
    for t in threads:
        t.join(300)
    assert all(r is not None for r in results)
    ok = [i for i, r in enumerate(results) if r.ok]
    assert len(ok) == n, "not every message got a final 250: %s" % [
        (i, r) for i, r in enumerate(results) if not r.ok][:5]
    milter.wait_drained()
    entries = [e for e in qlist(milter) if e["subject"].startswith("k9 %s " % run)]
    subjects = [e["subject"] for e in entries]
    assert len(set(subjects)) == n, "lost: %d of %d quarantined" % (len(set(subjects)), n)
    # A copy written durably just before the kill, whose 250 never reached
    # Postfix, is sent again by the client: at most one per connection.
    assert len(subjects) - len(set(subjects)) <= 4, "duplicates: %d" % (len(subjects) - n)
    assert milter.count_delivered(run + "-") == 0
    # no partial file left
    qdir = os.path.join(milter.run_dir, "mailwarden", "state", "quarantine")
    assert not [f for f in os.listdir(qdir) if f.startswith("tmp-")]


def test_full_disk_gives_4xx_and_recovers(milter):
    """The state directory on a tiny tmpfs: when it is full, quarantine-bound
    mail gets 4xx (nothing accepted that could not be kept); when space
    returns, the retry is accepted."""
    mnt = tempfile.mkdtemp(prefix="mw-full-", dir="/tmp")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0750", "tmpfs", mnt],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        os.rmdir(mnt)
        pytest.skip("cannot mount a tmpfs here (%s): the full-disk case needs one"
                    % p.stdout.decode(errors="replace").strip())
    try:
        shutil.chown(mnt, "mailwarden", "mailwarden")
        restart_milter(milter, "-o", "paths.state=" + mnt)
        filler = os.path.join(mnt, "filler")
        # unbuffered: a buffered file would raise ENOSPC again at close,
        # flushing what the failed write left in its buffer
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        token = new_token()
        sender = "full-%s@gmail.com" % token
        raw = mail(token, sender, "info@example.com", "full " + token, attachment=PDF * 200)
        r = milter.send(raw, sender=sender, rcpts=("info@example.com",))
        assert r.temp, "want 4xx on a full disk, got %r" % (r,)
        os.unlink(filler)
        r = _send_until_final(milter.port, raw, sender, ("info@example.com",), time.time() + 60)
        assert r.ok, r
        milter.wait_drained()
        assert milter.count_delivered(token) == 0
    finally:
        restart_milter(milter)
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)
