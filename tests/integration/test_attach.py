"""test_attach.py - attachment inspection end to end through Postfix.

The archives come from tests/samples/attach-fixtures.py (generated at run
time from harmless payloads).  The daemon runs with hold.first_contact=no
(restarted for this module and restored after), so what is judged here is
the attachment alone, not the unknown sender.  Cases:
  - the ClamAV test marker in an LZH inside a zip is refused with 550;
  - 報告書.doc.exe (RFC 2231 encoded name) is refused with 550;
  - an encrypted zip is quarantined: 250, kept in the daemon's quarantine
    (or Postfix's hold queue), not at the sink;
  - a clean PDF-ish attachment is delivered.
"""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, make_message, new_token

FIXTURES = os.path.join(REPO, "tests", "samples", "attach-fixtures.py")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PE = b"MZ" + b"\0" * 58 + b"\x40\0\0\0" + b"PE\0\0" + b"\0" * 60


@pytest.fixture(scope="module")
def attlab(lab):
    lab.lab("restart-milter", MW_ARGS="-o hold.first_contact=no")
    try:
        yield lab
    finally:
        lab.lab("restart-milter", MW_ARGS="", check=False)


def quarantined(lab, sender):
    """In the Postfix hold queue, or in mailwardend's own quarantine (logged
    as action=quarantine with a quarantine id)."""
    if lab.held_from(sender):
        return True
    path = os.path.join(lab.run_dir, "log", "mailwardend.log")
    with open(path, errors="replace") as f:
        return any("from=<%s>" % sender in l and " action=quarantine " in l and "quarantine=" in l
                   for l in f)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("attach-fixtures"))
    subprocess.run([sys.executable, FIXTURES, d], check=True)
    return d


def fixture_bytes(d, name):
    path = os.path.join(d, name)
    if not os.path.exists(path):
        pytest.skip("%s not made (jlha or 7z missing)" % name)
    with open(path, "rb") as f:
        return f.read()


def send_one(lab, attachments, body="資料を送ります。\n"):
    token = new_token()
    sender = "att-%s@sender.example" % token
    raw = make_message(token, subject="資料", body=body, attachments=attachments, sender=sender)
    r = lab.send(raw, sender=sender)
    lab.wait_drained()
    return r, lab.delivered(token), quarantined(lab, sender)


def test_marker_in_lzh_in_zip_refused(attlab, fixtures):
    if shutil.which("jlha") is None:
        pytest.skip("jlha (jlha-utils) not installed")
    data = fixture_bytes(fixtures, "lzh-in-zip.zip")
    r, got, _ = send_one(attlab, [("資料.zip", data, "application/zip")])
    assert r.code == 550, "want 550 for the marker in LZH in zip, got %r" % (r,)
    assert got == []


def test_double_extension_refused(attlab):
    r, got, _ = send_one(attlab, [("報告書.doc.exe", PE, "application/octet-stream")])
    assert r.code == 550, "want 550 for 報告書.doc.exe, got %r" % (r,)
    assert got == []


def test_encrypted_zip_quarantined(attlab, fixtures):
    data = fixture_bytes(fixtures, "enc.zip")
    r, got, held = send_one(attlab, [("secret.zip", data, "application/zip")],
                            body="パスワードは別のメールでお送りします。\n")
    assert r.ok, "want 250 (quarantine), got %r" % (r,)
    assert got == [], "the encrypted zip reached the sink"
    assert held, "the encrypted zip is not quarantined:\n%s" % attlab.log_tail()


def test_clean_pdf_delivered(attlab):
    r, got, held = send_one(attlab, [("議事録.pdf", PDF, "application/pdf")],
                            body="議事録を添付します。\n")
    assert r.ok and len(got) == 1, "clean PDF: SMTP %r, delivered %d, quarantined %s\n%s" % (
        r, len(got), held, attlab.log_tail())
