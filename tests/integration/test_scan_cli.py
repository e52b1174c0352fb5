"""test_scan_cli.py - `mailwarden scan` prints one JSON verdict and exits
0 accept/tag, 1 quarantine/hold, 2 reject, 3 tempfail/error: a clean mail,
an EICAR attachment and the marker inside a zip.  Needs no lab."""

import pytest

from conftest import (eicar, japanese_message, make_message, marker, new_token,
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
