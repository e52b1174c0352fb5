"""test_scan_cli.py - `mailwarden scan` prints one JSON verdict and exits
0 accept/tag, 1 quarantine/hold, 2 reject, 3 tempfail/error: a clean mail,
an EICAR attachment and the marker inside a zip; hostile MIME (issue 16):
base64-encoded multiparts and forwards, a multipart without boundary,
UTF-16 text under another charset, NUL bytes in names and text, a damaged
LZH member.  Needs no lab."""

import os
import struct

import pytest

from conftest import (SAMPLES, eicar, japanese_message, make_message, marker, new_token,
                      run_scan, zipped)

EXIT = {"accept": 0, "tag": 0, "hold": 1, "quarantine": 1, "reject": 2, "tempfail": 3}


def scan(tmp_path, raw):
    rc, v, out, err = run_scan(raw, tmp_path)
    if v is None:
        pytest.fail("not one JSON object on stdout (exit %d): %r\nstderr: %s" %
                    (rc, out[:500], err[-500:]))
    assert isinstance(v, dict) and "action" in v and "reasons" in v, v
    assert EXIT[v["action"]] == rc, "action %s but exit %d" % (v["action"], rc)
    for r in v["reasons"]:
        assert {"code", "detail", "part"} <= set(r), r
    return v, [r["code"] for r in v["reasons"]]


def test_scan_clean(tmp_path):
    v, codes = scan(tmp_path, japanese_message(new_token()))
    assert v["action"] == "accept", v
    assert codes == [], codes


def test_scan_eicar(tmp_path):
    raw = make_message(new_token(), attachments=[("eicar.com", eicar(), "application/octet-stream")])
    v, codes = scan(tmp_path, raw)
    assert v["action"] == "reject", v
    assert "av.infected" in codes, codes


def test_scan_marker_in_zip(tmp_path):
    z = zipped("notes.txt", b"hello " + marker() + b"\n")
    raw = make_message(new_token(), attachments=[("notes.zip", z, "application/zip")])
    v, codes = scan(tmp_path, raw)
    assert v["action"] == "reject", v
    assert "av.infected" in codes, codes
    assert any("Marker" in r["detail"] for r in v["reasons"] if r["code"] == "av.infected"), v


# ------------------------------------------------ hostile MIME (issue 16)

def sample(name):
    with open(os.path.join(SAMPLES, name), "rb") as f:
        return f.read()


def reasons(v, code):
    return [r for r in v["reasons"] if r["code"] == code]


def test_scan_base64_multipart(tmp_path):
    """A multipart whose body is base64: decoded and parsed, the .exe inside is judged."""
    v, codes = scan(tmp_path, sample("mal-base64-multipart.eml"))
    assert v["action"] == "reject", v
    assert any(r["part"] == "2" and "invoice.exe" in r["detail"] for r in reasons(v, "attach.executable")), v
    assert any(r["detail"] == "encoded multipart" for r in reasons(v, "mime.malformed")), v
    assert [p["part"] for p in v["parts"]] == ["1", "2"], v["parts"]


def test_scan_base64_rfc822(tmp_path):
    """A forwarded message/rfc822 sent base64 encoded: the enclosed message is parsed too."""
    v, codes = scan(tmp_path, sample("mal-base64-rfc822.eml"))
    assert v["action"] == "reject", v
    assert any(r["part"] == "2.1.2" for r in reasons(v, "attach.executable")), v
    assert any(r["detail"] == "encoded message/rfc822" for r in reasons(v, "mime.malformed")), v


def test_scan_multipart_without_boundary(tmp_path):
    """No boundary= parameter: the boundary is taken from the body; no part is lost."""
    raw = (b"From: a@sender.example\r\nTo: bob@example.com\r\nSubject: no boundary\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
           b"--x\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
           b"--x\r\nContent-Type: application/octet-stream; name=\"setup.exe\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAA=\r\n--x--\r\n")
    v, codes = scan(tmp_path, raw)
    assert v["action"] == "reject", v
    assert any(r["part"] == "2" and "setup.exe" in r["detail"] for r in reasons(v, "attach.executable")), v
    details = [r["detail"] for r in reasons(v, "mime.malformed")]
    assert "multipart without boundary" in details and "boundary taken from the body" in details, v


def test_scan_utf16_text_link(tmp_path):
    """Text declared iso-8859-1 that is UTF-16: its storage link is found, the disguise reported."""
    v, codes = scan(tmp_path, sample("mal-utf16-text.eml"))
    assert any("firestorage.jp" in r["detail"] for r in reasons(v, "link.storage")), v
    assert any("UTF-16LE" in r["detail"] for r in reasons(v, "mime.malformed")), v
    assert v["action"] == "quarantine", v


def test_scan_nul_bytes_hide_nothing(tmp_path):
    """NUL bytes in a file name and in text: reported, and neither the .exe nor the link is hidden."""
    v, codes = scan(tmp_path, sample("mal-nul-filename.eml"))
    assert v["action"] == "reject", v
    assert {r["part"] for r in reasons(v, "attach.executable")} == {"1", "2"}, v
    assert any(r["detail"] == "NUL byte in header" for r in reasons(v, "mime.malformed")), v
    raw = (b"From: a@sender.example\r\nTo: bob@example.com\r\nSubject: nul\r\n"
           b"Content-Type: text/plain\r\n\r\nthe file:\x00 https://firestorage.jp/download/x1\r\n")
    second = tmp_path / "second"  # a fresh state: the first scan blocked the sender
    second.mkdir()
    v, codes = scan(second, raw)
    assert any(r["detail"] == "NUL byte in body" for r in reasons(v, "mime.malformed")), v
    assert "link.storage" in codes, v


def lzh_level0(name, data, claimed=None):
    """One stored (-lh0-) member with a level-0 header; claimed > len(data) makes it truncated."""
    n = name.encode()
    size = len(data) if claimed is None else claimed
    body = (b"-lh0-" + struct.pack("<IIi", size, size, 0x5a210000) + bytes([0x20, 0, len(n)]) + n +
            struct.pack("<H", 0))
    return bytes([len(body), sum(body) & 0xff]) + body + data + b"\0"


def test_scan_damaged_lzh_member(tmp_path):
    """An .exe in an LZH whose data breaks off was only held: its name is judged now."""
    pe = b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + bytes(200)
    raw = make_message(new_token(), attachments=[
        ("資料.lzh", lzh_level0("setup.exe", pe[:100], claimed=len(pe)), "application/x-lzh-compressed")])
    v, codes = scan(tmp_path, raw)
    assert v["action"] == "reject", v
    assert any("setup.exe" in r["detail"] for r in reasons(v, "attach.archive_exec")), v
