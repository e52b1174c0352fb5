"""test_content.py - the content tree (issue 16): objects inside documents
are judged wherever they sit, with their path in every reason.

Samples are built here from harmless stand-ins: a PE header stub (the
magic numbers only, no code), a PDF made of a few objects, an RTF whose
OLE1 object is a Package (Ole10Native) holding the stub, an OOXML
document whose relationship points outside.  libclamav opens the
documents; src/content judges what it finds.
"""

import io
import struct
import zipfile

import pytest

from conftest import make_message, new_token, run_scan

PE = b"MZ" + b"\0" * 58 + b"\x40\0\0\0" + b"PE\0\0" + b"\x4c\x01" + b"\0" * 240


def pdf(objects):
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def pdf_with_embedded_exe():
    ef = PE + b"\0" * 64
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(invoice.exe) 4 0 R] >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        b"<< /Type /Filespec /F (invoice.exe) /EF << /F 5 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(ef) + ef + b"\nendstream",
    ])


def pdf_with(action):
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        action,
    ])


def plain_pdf():
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [4 0 R] >>",
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (https://www.example.com/p) >> >>",
    ])


def rtf_with_package():
    """An RTF with an embedded OLE1 'Package' object (Ole10Native) carrying the PE stub as invoice.exe."""
    name, path = b"invoice.exe\0", b"C:\\tmp\\invoice.exe\0"
    payload = PE + b"\0" * 64
    native = (struct.pack("<H", 2) + name + path + struct.pack("<HH", 0, 3) + struct.pack("<I", len(path)) + path
              + struct.pack("<I", len(payload)) + payload)
    cls = b"Package\0"
    ole1 = (struct.pack("<II", 0x501, 2) + struct.pack("<I", len(cls)) + cls + struct.pack("<II", 0, 0)
            + struct.pack("<I", len(native)) + native)
    return (b"{\\rtf1\\ansi Please see the object.{\\object\\objemb{\\*\\objclass Package}{\\*\\objdata "
            + ole1.hex().encode() + b"}}}")


def docx_with_external(target):
    """A minimal .docx whose hyperlink relationship points outside (TargetMode=External)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", "<w:document><w:body><w:p><w:r><w:t>Report</w:t></w:r></w:p>"
                                        "</w:body></w:document>")
        z.writestr("word/_rels/document.xml.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/hyperlink" Target="%s" TargetMode="External"/>'
                   '</Relationships>' % target)
    return buf.getvalue()


def zipped(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def scan(tmp_path, name, data, ctype="application/octet-stream"):
    raw = make_message(new_token(), attachments=[(name, data, ctype)])
    rc, v, out, err = run_scan(raw, tmp_path, extra=("-o", "domains.protected=example.com"))
    assert v is not None, err
    return v


def reasons(v, code):
    return [r for r in v["reasons"] if r["code"] == code]


def test_executable_inside_pdf(tmp_path):
    v = scan(tmp_path, "invoice.pdf", pdf_with_embedded_exe(), "application/pdf")
    r = reasons(v, "content.embedded_exec")
    assert r and v["action"] == "reject", v
    assert r[0]["part"].startswith("2:invoice.pdf:"), r
    assert any(n["from"] == "clamav" and n["path"].startswith("2:invoice.pdf:") for n in v["tree"]), v["tree"]


def test_executable_in_pdf_in_zip_is_named_by_its_path(tmp_path):
    v = scan(tmp_path, "docs.zip", zipped("invoice.pdf", pdf_with_embedded_exe()), "application/zip")
    r = reasons(v, "content.embedded_exec")
    assert r and v["action"] == "reject", v
    assert r[0]["part"].startswith("2:docs.zip:invoice.pdf:"), r


def test_package_object_inside_rtf(tmp_path):
    v = scan(tmp_path, "minutes.rtf", rtf_with_package(), "application/rtf")
    assert reasons(v, "content.embedded_exec") and v["action"] == "reject", v


def test_pdf_that_runs_javascript_when_opened(tmp_path):
    js = pdf_with(b"<< /S /JavaScript /JS (app.alert('x');) >>")
    v = scan(tmp_path, "form.pdf", js, "application/pdf")
    assert reasons(v, "content.auto_action") and v["action"] in ("quarantine", "reject"), v


def test_pdf_launch_action(tmp_path):
    launch = pdf_with(b"<< /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >>")
    v = scan(tmp_path, "notice.pdf", launch, "application/pdf")
    assert any("Launch" in r["detail"] for r in reasons(v, "content.auto_action")), v


def test_link_inside_a_document_is_judged_with_its_path(tmp_path):
    """A .docx relationship to a lookalike of our protected domain (example.com)."""
    v = scan(tmp_path, "report.docx", docx_with_external("https://examp1e.com/login"),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    r = reasons(v, "link.lookalike")
    assert r, v
    assert r[0]["part"].startswith("2:report.docx:"), r


def test_plain_documents_pass(tmp_path):
    for name, data in (("report.pdf", plain_pdf()),
                       ("report.docx", docx_with_external("https://www.example.com/policy"))):
        v = scan(tmp_path, name, data)
        bad = [r for r in v["reasons"] if r["code"].startswith(("content.", "link.", "attach."))]
        assert not bad and v["action"] in ("accept", "tag", "hold"), (name, v)
