"""test_sigs_cli.py - `mailwarden sigs`: the signature pipeline against the lab.

An offline import as from a USB stick: an unsigned .ndb is refused
without --allow-unsigned, a .cvd whose digital signature does not verify
is refused whatever the flags, and in both cases the live set and the
daemon are untouched.  With --allow-unsigned the new file is verified
(loaded), swapped in, the daemon reloads over the control socket, the new
signature detects mail, and the audit trail names the file and its
SHA-256.  `sigs rollback` restores the previous set in one command: the
new signature is gone again.  A pasted file (--paste, ended by ".") goes
the same way.
"""

import os
import re
import subprocess

from conftest import MAILWARDEN, make_message, marker, new_token


def conf(lab):
    return os.path.join(lab.run_dir, "mailwarden.conf")


def sigs(lab, *args, data=None):
    p = subprocess.run([MAILWARDEN, "sigs", *args, "-c", conf(lab), "--who", "it-admin"], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    return p.returncode, p.stdout.decode(errors="replace")


def ctl(lab, *args):
    p = subprocess.run([MAILWARDEN, "ctl", "-c", conf(lab), *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace")


def live_files(lab):
    return sorted(os.listdir(lab.sigs_dir))


def fake_cvd(path):
    """fake_cvd - a file shaped like a .cvd (512-byte header, then data) whose
    MD5 and digital signature are made up: libclamav must refuse it."""
    head = b"ClamAV-VDB:05 Dec 2026 00-00 +0000:99999:3:90:" + b"0" * 32 + b":" + b"A" * 86 + b":it:1796400000"
    with open(path, "wb") as f:
        f.write(head.ljust(512, b" ") + b"\x1f\x8b" + b"\0" * 200)


def test_import_verify_rollback(milter, tmp_path):
    lab = milter
    usb = tmp_path / "usb"
    usb.mkdir()
    needle = ("MAILWARDEN-USB-IMPORT-" + new_token()).encode()
    with open(usb / "local-usb.ndb", "w") as f:
        f.write("Mailwarden.Test.UsbImport:0:*:%s\n" % needle.hex())
    before = live_files(lab)
    pid = lab.milter_pid()

    rc, out = sigs(lab, "import", str(usb / "local-usb.ndb"))
    assert rc == 1 and "--allow-unsigned" in out and "unchanged" in out, out
    assert live_files(lab) == before

    bad = tmp_path / "cvd"
    bad.mkdir()
    fake_cvd(str(bad / "daily.cvd"))
    rc, out = sigs(lab, "import", "--allow-unsigned", str(bad))
    assert rc == 1 and "daily.cvd" in out and "signature" in out.lower(), out
    assert live_files(lab) == before
    rc, out = sigs(lab, "verify", str(bad))
    assert rc == 1, out

    r = lab.send(make_message(new_token(), body="x %s y\n" % needle.decode()))
    assert r.ok, "needle refused before its signature was imported: %r" % (r,)

    rc, out = sigs(lab, "import", "--allow-unsigned", str(usb))
    assert rc == 0, out
    assert "daemon reloaded" in out, out
    assert "local-usb.ndb" in live_files(lab)
    assert lab.milter_pid() == pid
    r = lab.send(make_message(new_token(), body="x %s y\n" % needle.decode()))
    assert r.perm and "Mailwarden.Test.UsbImport" in r.text, "imported signature not active: %r" % (r,)
    r = lab.send(make_message(new_token(), body="old %s\n" % marker().decode()))
    assert r.perm, "the set that stayed lost the marker: %r" % (r,)

    rc, hist = ctl(lab, "history")
    assert rc == 0 and "sigs.import" in hist and "local-usb.ndb" in hist, hist
    rc, out = sigs(lab, "status")
    assert rc == 0 and "local-usb.ndb" in out and "unsigned" in out and "previous" in out, out

    rc, out = sigs(lab, "rollback")
    assert rc == 0 and "daemon reloaded" in out, out
    assert live_files(lab) == before
    # other prose: the campaign fingerprint of the refused mail is flagged now
    r = lab.send(make_message(new_token(), subject="rolled back",
                              body="Quite another letter after the rollback.\n%s\n" % needle.decode()))
    assert r.ok, "signature still active after rollback: %r" % (r,)
    r = lab.send(make_message(new_token(), body="marker again %s\n" % marker().decode()))
    assert r.perm, "marker lost by the rollback: %r" % (r,)

    # pasted over the console: ends with a "." line
    needle2 = ("MAILWARDEN-PASTED-" + new_token()).encode()
    text = "Mailwarden.Test.Pasted:0:*:%s\n.\n" % needle2.hex()
    rc, out = sigs(lab, "import", "--allow-unsigned", "--paste", "pasted-it.ndb", data=text.encode())
    assert rc == 0, out
    r = lab.send(make_message(new_token(), body="x %s y\n" % needle2.decode()))
    assert r.perm and "Mailwarden.Test.Pasted" in r.text, r
    rc, out = sigs(lab, "rollback")
    assert rc == 0, out
    assert live_files(lab) == before
    lab.wait_drained()


def test_ctl_reload_in_place_is_reported(milter):
    """`sigs reload` over the control socket waits for the reload and says
    so in place too (the old engine is gone before the new one loads: that
    reload once went uncounted and the command said 'no reload within
    120 s' although the daemon had reloaded)"""
    lab = milter
    lab.lab("restart-milter", MW_ARGS="-o antivirus.reload_mode=inplace")
    try:
        rc, out = ctl(lab, "sigs", "reload")
        assert rc == 0, out
        assert "reload in place" in lab.log_tail() or "in-place reload" in lab.log_tail(), lab.log_tail()
    finally:
        lab.lab("restart-milter", MW_ARGS="", check=False)


def caches(lab):
    """(scan cache hits, extractor replays) from `sigs` over the control socket"""
    rc, out = ctl(lab, "sigs")
    assert rc == 0, out
    hits = re.search(r"scan cache\s+(\d+) hits", out)
    replays = re.search(r"extractors\s+(\d+) replayed, (\d+) run", out)
    assert hits and replays, out
    return int(hits.group(1)), int(replays.group(1))


def launch_pdf(token):
    """a PDF that starts a program when opened (content.auto_action), different bytes per token"""
    objs = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            b"<< /S /Launch /Win << /F (cmd.exe) /P (/c %s) >> >>" % token.encode()]
    out = b"%PDF-1.4\n"
    for i, o in enumerate(objs, 1):
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    return out + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def test_repeated_document_is_replayed_and_judged_alike(milter):
    """The same document in two messages: the second is answered by the
    scan cache and the extractors' memo (`sigs` counts both), and judged as
    the first: both quarantined for the PDF's launch action."""
    lab = milter
    token = new_token()
    doc = launch_pdf(token)
    hits0, replays0 = caches(lab)
    subjects = []
    for n in range(2):
        subject = "replay-%s-%d" % (token, n)
        subjects.append(subject)
        raw = make_message(new_token(), subject=subject, attachments=[("notice.pdf", doc, "application/pdf")])
        r = lab.send(raw)
        assert r.ok, r
    lab.wait_drained()
    hits1, replays1 = caches(lab)
    assert hits1 > hits0, (hits0, hits1)
    assert replays1 > replays0, (replays0, replays1)
    q = {e["subject"]: e for e in lab.quarantine() if e.get("subject") in subjects}
    assert set(q) == set(subjects), q
    for e in q.values():
        assert e["state"] == "quarantined" and "content.auto_action" in e["reasons"], e
