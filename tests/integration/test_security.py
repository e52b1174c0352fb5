"""test_security.py - hostile input and privilege, end to end (issue 9).

  - mailwardend runs as the unprivileged daemon user after binding: every
    uid and gid of the process, no effective capabilities
  - reply text and headers cannot be injected: signature names with
    control characters, quotes and '%' (a test .ndb added at run time),
    subjects and attachment file names carrying encoded CR/LF (RFC 2047
    and RFC 2231) give one-line 550 replies and delivered mail without
    extra header fields; the daemon's log gets no forged lines
  - no shell in re-injection: quarantined mail from and to addresses full
    of shell syntax is released; nothing is executed and the addresses
    arrive intact
  - no quarantined content in plaintext on disk, also for a message large
    enough to be spilled to temporary files while scanned

The checks are about the daemon, not the MTA: they run once, through
Postfix.
"""

import base64
import glob
import os
import pwd
import re
import subprocess
import time
import urllib.parse

import pytest

from conftest import MAILWARDEN, new_token

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def postfix_only(lab):
    if getattr(lab, "mta", "postfix") != "postfix":
        pytest.skip("daemon-side check, independent of the MTA: run once, through Postfix")


def log_size(lab):
    return os.path.getsize(os.path.join(lab.run_dir, "log", "mailwardend.log"))


def log_since(lab, offset):
    with open(os.path.join(lab.run_dir, "log", "mailwardend.log"), "rb") as f:
        f.seek(offset)
        return f.read()


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.3)
    raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))


def raw_mail(token, sender, rcpt, subject_hdr, parts=None, body="hello\r\n"):
    """A message with a raw (already encoded) Subject header and optional
    raw MIME parts: (headers text, body text)."""
    head = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@test.example>\r\n"
            "X-Test-Id: %s\r\nMIME-Version: 1.0\r\n" % (sender, rcpt, subject_hdr, token, token))
    if not parts:
        return (head + "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + body).encode()
    out = head + 'Content-Type: multipart/mixed; boundary="SB"\r\n\r\n--SB\r\n' \
        "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + body
    for h, b in parts:
        out += "--SB\r\n" + h + "\r\n" + b
    return (out + "--SB--\r\n").encode()


def b64w(text):
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


def single_clean_line(text):
    return "\n" not in text and "\r" not in text and not re.search(r"[\x00-\x1f\x7f]", text)


def cli(lab, *args):
    conf = os.path.join(lab.run_dir, "mailwarden.conf")
    p = subprocess.run([MAILWARDEN, *args, "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


# ---------------------------------------------------------------- privilege

def test_runs_unprivileged_after_binding(milter):
    lab = milter
    postfix_only(lab)
    pid = lab.milter_pid()
    assert pid
    st = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            st[k] = v.split()
    pw = pwd.getpwnam("mailwarden")
    assert st["Uid"] == [str(pw.pw_uid)] * 4, "Uid line %s, want all %d" % (st["Uid"], pw.pw_uid)
    assert st["Gid"] == [str(pw.pw_gid)] * 4, "Gid line %s" % st["Gid"]
    assert int(st["CapEff"][0], 16) == 0 and int(st["CapPrm"][0], 16) == 0, (st["CapEff"], st["CapPrm"])
    groups = set(st.get("Groups", []))
    assert "0" not in groups, "root group kept: %s" % groups
    # the socket it bound as root is still there, and is not world-writable
    sock = os.path.join(lab.run_dir, "mailwarden", "mailwardend.sock")
    assert os.path.exists(sock)
    assert not os.stat(sock).st_mode & 0o002
    # and it works: a message goes through
    token = new_token()
    r = lab.send(raw_mail(token, "u-%s@sender.example" % token, "bob@example.com", "priv"))
    assert r.ok, r


# ---------------------------------------------------------------- injection

def test_signature_name_cannot_inject(milter):
    lab = milter
    postfix_only(lab)
    needle = ("MW-ODD-NAME-" + new_token()).encode()
    # CR, VT, FF, ESC, quotes, '%', shell and bidi characters: ClamAV takes
    # anything up to ':' and the end of the line as a name
    name = ('Mailwarden.Test.Odd\rX-Injected yes\x0b%n%s"\'<>;|$(id)`{}\\\t\x1b[31m\u202etxt.exe'
            ).encode("utf-8")
    path = os.path.join(lab.sigs_dir, "odd-%s.ndb" % new_token()[:6])
    with open(path, "wb") as f:
        f.write(name + b":0:*:" + needle.hex().encode() + b"\n")
    os.chmod(path, 0o644)
    off = log_size(lab)
    lab.hup()
    try:
        wait_for(lambda: b"signatures reloaded" in log_since(lab, off), 30, "the reload")
        token = new_token()
        r = lab.send(raw_mail(token, "sig-%s@sender.example" % token, "bob@example.com", "odd sig",
                              body="x %s y\r\n" % needle.decode()))
        assert r.perm, r
        assert "Mailwarden.Test.Odd" in r.text and "av.infected" in r.text, r.text
        assert single_clean_line(r.text), "reply text not one clean line: %r" % r.text
        assert "%" not in r.text and '"' not in r.text and "\\" not in r.text, r.text
        # the log line stays one line, printable
        logged = log_since(lab, off)
        assert not re.search(rb"^X-Injected", logged, re.M), logged[-500:]
        for line in logged.splitlines():
            if b"Mailwarden.Test.Odd" in line:
                assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", line), line
        # the same hit as a tag: delivered with single-line verdict headers
        restart = lab.lab
        restart("restart-milter", MW_ARGS="-o actions.av.infected=tag")
        try:
            t2 = new_token()
            r = lab.send(raw_mail(t2, "sig2-%s@sender.example" % t2, "bob@example.com", "odd sig tag",
                                  body="x %s y\r\n" % needle.decode()))
            assert r.ok, r
            lab.wait_drained()
            got = lab.delivered(t2)
            assert len(got) == 1
            msg = got[0]
            assert msg["X-Mailwarden-Verdict"] == "tag"
            assert "av.infected" in msg["X-Mailwarden-Reasons"]
            assert msg["X-Injected"] is None
            for k, v in msg.items():
                if k.lower().startswith("x-mailwarden"):
                    assert single_clean_line(str(v)), (k, v)
        finally:
            restart("restart-milter", MW_ARGS="")
    finally:
        os.unlink(path)
        lab.hup()


def test_encoded_crlf_in_subject_and_file_names(milter):
    lab = milter
    postfix_only(lab)
    evil = "hello\r\nX-Injected: subject\r\nBcc: victim@example.net"
    token = new_token()
    sender = "crlf-%s@sender.example" % token
    # (1) a clean message whose Subject and attachment names decode to CR/LF:
    #     delivered, and no header field appears that the sender did not send
    fn2047 = b64w("report\r\nX-Injected: filename\r\n.pdf")
    fn2231 = urllib.parse.quote("notes\r\nX-Injected: rfc2231\r\n.pdf")
    parts = [('Content-Type: application/pdf; name="%s"\r\nContent-Disposition: attachment; '
              'filename="%s"\r\nContent-Transfer-Encoding: base64\r\n' % (fn2047, fn2047),
              base64.encodebytes(PDF).decode().replace("\n", "\r\n")),
             ("Content-Type: application/pdf\r\nContent-Disposition: attachment; "
              "filename*=UTF-8''%s\r\nContent-Transfer-Encoding: base64\r\n" % fn2231,
              base64.encodebytes(PDF).decode().replace("\n", "\r\n"))]
    raw = raw_mail(token, sender, "bob@example.com", b64w(evil), parts)
    off = log_size(lab)
    r = lab.send(raw, sender=sender)
    assert r.ok or r.perm, r
    if r.ok:
        lab.wait_drained()
        got = lab.delivered(token)
        entries = [e for e in lab.quarantine() if token in e.get("subject", "") or e.get("sender") == sender]
        assert len(got) + len(entries) == 1, (got, entries)
        for msg in got:
            assert msg["X-Injected"] is None and msg["Bcc"] is None, msg.items()
            names = [k.lower() for k in msg.keys()]
            assert "x-injected" not in names
            for k, v in msg.items():
                if k.lower().startswith("x-mailwarden"):
                    assert single_clean_line(str(v)), (k, v)
        for e in entries:
            for k in ("subject", "sender", "reasons"):
                assert single_clean_line(str(e.get(k, ""))), (k, e.get(k))
    else:
        assert single_clean_line(r.text), r.text
    # (2) a refused one whose 550 quotes the hostile file name
    t2 = new_token()
    s2 = "crlf2-%s@sender.example" % t2
    exe = b64w("invoice\r\nX-Injected: reply\r\n.exe")
    parts = [('Content-Type: application/octet-stream\r\nContent-Disposition: attachment; '
              'filename="%s"\r\nContent-Transfer-Encoding: base64\r\n' % exe,
              base64.encodebytes(b"MZ" + b"\0" * 200).decode().replace("\n", "\r\n"))]
    r = lab.send(raw_mail(t2, s2, "bob@example.com", b64w("請求書\r\nX-Injected: x"), parts), sender=s2)
    assert r.perm, r
    assert "attach." in r.text, r.text
    assert single_clean_line(r.text), "reply text not one clean line: %r" % r.text
    logged = log_since(lab, off)
    assert not re.search(rb"^(X-Injected|Bcc):", logged, re.M), "forged log line"
    for line in logged.splitlines():
        assert b"\r" not in line


# ---------------------------------------------------------------- re-injection

def test_release_runs_no_shell(milter):
    lab = milter
    postfix_only(lab)
    token = new_token()
    canaries = ["/tmp/mw-pwned-%s-%d" % (token, i) for i in range(4)]
    # an unknown outside sender with an attachment: held (first contact)
    sender = '"x;touch %s"@sender.example' % canaries[0]
    rcpts = ('"y$(touch %s)"@example.com' % canaries[1], '"z`touch %s`|w"@example.com' % canaries[2],
             "info@example.com")
    subject = "noshell " + token
    raw = ("From: a@sender.example\r\nTo: info@example.com\r\nSubject: %s\r\nMessage-ID: <%s@test.example>\r\n"
           "X-Test-Id: %s\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="NB"\r\n\r\n--NB\r\n'
           "Content-Type: text/plain\r\n\r\n$(touch %s)\r\n--NB\r\n"
           'Content-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; '
           'filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--NB--\r\n' % (
               subject, token, token, canaries[3],
               base64.encodebytes(PDF).decode().replace("\n", "\r\n"))).encode()
    try:
        r = lab.send(raw, sender=sender, rcpts=rcpts)
        if r.perm and r.stage in ("MAIL", "RCPT"):
            pytest.skip("the MTA refuses these addresses: %r" % (r,))
        assert r.ok, r
        lab.wait_drained()
        entries = [e for e in lab.quarantine() if e.get("subject") == subject]
        assert len(entries) == 1, entries
        qid = entries[0]["id"]
        rc, out = cli(lab, "quarantine", "release", qid)
        assert rc == 0 and "released" in out, out
        wait_for(lambda: len(lab.delivered(token)) >= 1, 60, "the released message at the sink")
        time.sleep(1)
        for c in canaries:
            assert not os.path.exists(c), "a shell ran: %s exists" % c
        # the addresses arrived intact (smtp-sink records the envelope)
        seen = b""
        for path in lab.sink_files():
            with open(path, "rb") as f:
                data = f.read()
            if token.encode() in data:
                seen += b"\n".join(l for l in data.splitlines()[:20]
                                   if l.startswith((b"X-Mail-Args", b"X-Rcpt-Args")))
        assert b"<%s>" % sender.encode() in seen, seen
        for rc in rcpts[:2]:
            assert b"<%s>" % rc.encode() in seen, (rc, seen)
        assert not glob.glob("/tmp/mw-pwned-%s-*" % token)
    finally:
        for c in canaries:
            if os.path.exists(c):
                os.unlink(c)


# ---------------------------------------------------------------- plaintext

def test_no_plaintext_of_large_quarantined_message(milter):
    """Extends test_quarantine's canary check to a message above
    limits.spool_memory (spilled to temporary files while scanned)."""
    lab = milter
    postfix_only(lab)
    token = new_token()
    canary = ("LARGE-PLAINTEXT-CANARY-" + token).encode()
    sender = "big-%s@gmail.com" % token
    body = ("payroll %s\r\n" % canary.decode()) * 40000  # about 2 MB of text
    raw = ("From: %s\r\nTo: info@example.com\r\nSubject: bigcanary %s\r\nMessage-ID: <%s@test.example>\r\n"
           "X-Test-Id: %s\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="CB"\r\n\r\n--CB\r\n'
           "Content-Type: text/plain\r\n\r\n%s--CB\r\n"
           'Content-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; '
           'filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--CB--\r\n' % (
               sender, token, token, token, body,
               base64.encodebytes(PDF).decode().replace("\n", "\r\n"))).encode()
    r = lab.send(raw, sender=sender, rcpts=("info@example.com",))
    assert r.ok, r
    lab.wait_drained()
    assert [e for e in lab.quarantine() if e.get("subject") == "bigcanary " + token]
    for root, dirs, files in os.walk(lab.run_dir):
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                assert canary not in f.read(), "plaintext quarantined body in %s" % path
    # the temporary spill files are gone (unlinked at creation or after)
    tmp = os.path.join(lab.run_dir, "mailwarden", "tmp")
    assert not [f for f in os.listdir(tmp) if os.path.getsize(os.path.join(tmp, f)) > 100000], os.listdir(tmp)
