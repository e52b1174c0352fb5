"""test_extract.py - the extractors of src/extract over whole messages,
through build/tools/extract_dump -m (the MIME parser, then each leaf's
extractor, then each child object's, as the content tree will run them):

  - the benign set (tests/benign/gen_benign.py) gives no finding at all:
    ordinary invitations, newsletters, PDFs, Office files and pictures are
    read, their links listed, and nothing is reported about them;
  - files hidden in text bodies (uuencode, yEnc, BinHex) come out with
    their names; an HTML attachment that builds a file comes out with the
    file; a calendar invitation carrying a file gives it.

These tests check what the extractors give the content tree; the same
constructs through the engine (`mailwarden scan`, reason codes and part
paths) are in test_threats.py.  Needs no lab.
"""

import base64
import binascii
import os
import subprocess
import sys
import zlib

import pytest

from conftest import BUILD_DIR, REPO, make_message, new_token

sys.path.insert(0, os.path.join(REPO, "tests", "benign"))
import gen_benign  # noqa: E402

DUMP = os.path.join(BUILD_DIR, "tools", "extract_dump")


def dump(path):
    if not os.access(DUMP, os.X_OK):
        pytest.fail("%s is not built (make unit)" % DUMP)
    p = subprocess.run([DUMP, "-m", "-r", "3", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout.decode("utf-8", errors="replace")


def lines(out, kind):
    return [l.strip() for l in out.splitlines() if l.strip().startswith(kind + " ")]


def test_benign_set_has_no_findings(tmp_path):
    entries = gen_benign.build(str(tmp_path))
    assert len(entries) >= 20, entries
    seen_links = 0
    for e in entries:
        out = dump(os.path.join(str(tmp_path), e["name"] + ".eml"))
        assert "part " in out, (e["name"], out)
        assert lines(out, "finding") == [], "%s: %s" % (e["name"], out)
        seen_links += len(lines(out, "link"))
    assert seen_links > 0  # the extractors did read the documents and calendars


PE = b"MZ" + bytes(58) + (64).to_bytes(4, "little") + b"PE\0\0" + bytes(64)


def uuencode(name, data):
    out = "begin 644 %s\n" % name
    for i in range(0, len(data), 45):
        out += binascii.b2a_uu(data[i:i + 45], backtick=True).decode()
    return out + "`\nend\n"


def yenc(name, data):
    enc = bytearray()
    for b in data:
        c = (b + 42) & 0xff
        enc += b"=" + bytes([(c + 64) & 0xff]) if c in (0, 10, 13, 61) else bytes([c])
    return ("=ybegin line=128 size=%d name=%s\n" % (len(data), name)).encode() + bytes(enc) + \
        ("\n=yend size=%d crc32=%08x\n" % (len(data), zlib.crc32(data))).encode()


def binhex(name, data):
    n = name.encode()
    hdr = bytes([len(n)]) + n + b"\0APPL????\0\0" + len(data).to_bytes(4, "big") + bytes(4)
    raw = hdr + binascii.crc_hqx(hdr, 0).to_bytes(2, "big") + data + binascii.crc_hqx(data, 0).to_bytes(2, "big")
    raw += bytes(2)
    rle = raw.replace(b"\x90", b"\x90\x00")
    al = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
    bits, nb, out = 0, 0, ""
    for b in rle:
        bits, nb = (bits << 8) | b, nb + 8
        while nb >= 6:
            nb -= 6
            out += al[(bits >> nb) & 63]
    if nb:
        out += al[(bits << (6 - nb)) & 63]
    return "(This file must be converted with BinHex 4.0)\n:" + out + ":\n"


def write(tmp_path, raw):
    path = os.path.join(str(tmp_path), "m-%s.eml" % new_token())
    with open(path, "wb") as f:
        f.write(raw)
    return path


@pytest.mark.parametrize("how", ["uuencode", "yenc", "binhex"])
def test_file_in_text_body(tmp_path, how):
    body = {"uuencode": lambda: uuencode("請求書.exe", PE).encode("utf-8"),
            "yenc": lambda: yenc("invoice.exe", PE),  # 8-bit: the part must be 8bit, not re-encoded
            "binhex": lambda: binhex("invoice.exe", PE).encode()}[how]()
    raw = (b"From: a@sender.example\r\nTo: bob@example.com\r\nSubject: the file\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           b"Please run the attached file.\r\n\r\n" + body + b"\r\nRegards\r\n")
    out = dump(write(tmp_path, raw))
    objs = lines(out, "object")
    assert any(o.split()[1] in ("請求書.exe", "invoice.exe") and o.split()[3] == str(len(PE)) for o in objs), out
    assert any(f.startswith("finding content.encoded") for f in lines(out, "finding")), out
    assert not any(f.startswith("finding content.damaged") for f in lines(out, "finding")), out


def test_html_attachment_smuggling(tmp_path):
    blob = base64.b64encode(PE * 4).decode()
    html = ("<html><body><script>var b = new Blob([Uint8Array.from(atob('%s'), c => c.charCodeAt(0))]);"
            "var a = document.createElement('a'); a.href = URL.createObjectURL(b); a.download = 'scan.exe';"
            "a.click();</script></body></html>" % blob).encode()
    raw = make_message(new_token(), attachments=[("statement.html", html, "text/html")])
    out = dump(write(tmp_path, raw))
    assert any(f.startswith("finding html.smuggling") for f in lines(out, "finding")), out
    assert any(o.split()[1] == "scan.exe" and o.split()[3] == str(len(PE) * 4) for o in lines(out, "object")), out


def test_calendar_carries_a_file(tmp_path):
    att = base64.b64encode(PE).decode()
    ics = ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Review\r\n"
           "DESCRIPTION:Join at https://meet.example/j/1\r\n"
           "ATTACH;ENCODING=BASE64;VALUE=BINARY;X-FILENAME=agenda.exe:%s\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n" % att).encode()
    raw = make_message(new_token(), attachments=[("invite.ics", ics, "text/calendar")])
    out = dump(write(tmp_path, raw))
    assert "link https://meet.example/j/1 (calendar DESCRIPTION)" in out, out
    assert any(o.split()[1] == "agenda.exe" for o in lines(out, "object")), out
    assert any(f.startswith("finding doc.embedded_file") for f in lines(out, "finding")), out
