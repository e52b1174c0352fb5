#!/usr/bin/env python3
"""gen_benign.py - the benign mail set: ordinary business mail that must pass.

NAME
    gen_benign.py - write the benign messages and their manifest
SYNOPSIS
    python3 tests/benign/gen_benign.py OUTDIR
    (or: import gen_benign; gen_benign.build(outdir) -> list of entries)
DESCRIPTION
    Every message is built here from nothing, deterministically: fixed
    dates, Message-IDs, MIME boundaries and pseudo-random bytes (seeded),
    so two runs write the same bytes.  The one exception is the S/MIME
    signature: openssl makes a fresh test key and self-signed certificate
    for vendor.example in OUTDIR at each run (no key is committed), and
    signs with -noattr so nothing else in the message varies.

    The organisation is example.com (protected), its public address
    info@example.com, its staff tanaka@example.com and sato@example.com.
    Correspondents are *.example organisations; URLs are on example
    domains, click trackers included (the shapes real mailing services
    use: a redirect that carries its target, an opaque one on the
    sender's own tracking host).

    manifest.json lists, per message: name, what it is, envelope sender,
    recipients, the action it must get ("accept", or "tag" only where
    the manifest says why) and the reason codes allowed with it.

    Left out on purpose, because the policy refuses them by design, not
    by mistake (README "Sender policy", "Attachments"): free-mail senders
    writing to staff (sender.freemail), password-protected archives (PPAP,
    attach.encrypted), macro documents (attach.macro).  Also left out:
    a newsletter whose anchor text shows the sender's site while the link
    goes through a third party's opaque click tracker: link.text_mismatch
    cannot tell it from phishing without an authenticated sender (a
    follow-up for sender authentication, issue 19).
LICENSE
    GPL-2.0-or-later
"""

import base64
import json
import os
import random
import struct
import subprocess
import sys
import zipfile
import zlib
from email.header import Header

ORG = "example.com"
STAFF = "tanaka@example.com"
STAFF2 = "sato@example.com"
PUBLIC = "info@example.com"
DATE = "Tue, 14 Apr 2026 10:%02d:00 +0900"


# ---------------------------------------------------------------- MIME, by hand

def crlf(s):
    """Text with CRLF line ends."""
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def b64(data):
    s = base64.b64encode(data).decode("ascii")
    return "\r\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\r\n"


def qp_utf8(text):
    """Quoted-printable of UTF-8 text, soft line breaks at 76."""
    import quopri
    return quopri.encodestring(crlf(text).encode("utf-8")).decode("ascii").replace("\n", "\r\n").replace(
        "\r\r\n", "\r\n")


def head(fields):
    return "".join("%s: %s\r\n" % (k, v) for k, v in fields)


def part(ctype, body, cte="7bit", extra=()):
    """One MIME entity as bytes: headers and an already encoded body."""
    h = [("Content-Type", ctype)]
    if cte:
        h.append(("Content-Transfer-Encoding", cte))
    h.extend(extra)
    if isinstance(body, str):
        body = body.encode("ascii")
    return head(h).encode("ascii") + b"\r\n" + body


def multipart(subtype, boundary, parts, params="", preamble=""):
    out = ("Content-Type: multipart/%s; boundary=\"%s\"%s\r\n\r\n" % (subtype, boundary, params)).encode("ascii")
    if preamble:
        out += crlf(preamble).encode("ascii")
    for p in parts:
        out += b"--" + boundary.encode() + b"\r\n" + p + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n"


def message(fields, entity):
    """A whole message: top headers plus an entity (whose first lines are its own headers)."""
    return head(fields).encode("utf-8") + b"MIME-Version: 1.0\r\n" + entity


def subj(text, charset="utf-8"):
    return Header(text, charset).encode()


def addr(name, address, charset="utf-8"):
    return "%s <%s>" % (Header(name, charset).encode(), address)


def std(n, frm, to, subject, msgid, extra=()):
    f = [("From", frm), ("To", to), ("Subject", subject), ("Date", DATE % n), ("Message-ID", "<%s>" % msgid)]
    return f + list(extra)


def text_part(text, charset="utf-8"):
    if charset == "utf-8":
        return part("text/plain; charset=UTF-8", qp_utf8(text), "quoted-printable")
    if charset == "iso-2022-jp":
        return part("text/plain; charset=ISO-2022-JP", crlf(text).encode("iso2022_jp"), "7bit")
    if charset == "shift_jis":
        return part("text/plain; charset=Shift_JIS", b64(crlf(text).encode("cp932")), "base64")
    raise ValueError(charset)


def html_part(html):
    return part("text/html; charset=UTF-8", qp_utf8(html), "quoted-printable")


def attachment(ctype, name, data, inline=False, cid=None):
    """An attachment; a non-ASCII name goes in RFC 2231 (filename*) and RFC 2047 (name)."""
    try:
        name.encode("ascii")
        disp = '%s; filename="%s"' % ("inline" if inline else "attachment", name)
        ct = '%s; name="%s"' % (ctype, name)
    except UnicodeEncodeError:
        from urllib.parse import quote
        disp = "%s; filename*=UTF-8''%s" % ("inline" if inline else "attachment", quote(name))
        ct = '%s; name="%s"' % (ctype, Header(name, "utf-8").encode())
    extra = [("Content-Disposition", disp)]
    if cid:
        extra.append(("Content-ID", "<%s>" % cid))
    return part(ct, b64(data), "base64", extra)


# ---------------------------------------------------------------- documents

def pdf(lines, uri=None):
    """A small valid PDF: one page of text, optionally one link annotation."""
    text = "BT /F1 12 Tf 72 760 Td 14 TL " + " ".join(
        "(%s) Tj T*" % l.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for l in lines) + " ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R%s >>" % (" /Annots [6 0 R]" if uri else ""),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    if uri:
        objs.append("<< /Type /Annot /Subtype /Link /Rect [72 700 300 720] /Border [0 0 0] "
                    "/A << /S /URI /URI (%s) >> >>" % uri)
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += ("%d 0 obj\n%s\nendobj\n" % (i, o)).encode("latin-1")
    xref = len(out)
    out += ("xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)).encode()
    for o in offs:
        out += ("%010d 00000 n \n" % o).encode()
    out += ("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)).encode()
    return out


def png(w, h, rnd):
    """A valid PNG of w x h RGB noise from rnd (incompressible, like a photo)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\x00" + rnd.randbytes(w * 3) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


FIXED_ZIP_TIME = (2026, 4, 14, 10, 0, 0)


def zwrite(z, name, data, stored=False):
    zi = zipfile.ZipInfo(name, FIXED_ZIP_TIME)
    zi.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    z.writestr(zi, data)


def zipped(members):
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            zwrite(z, name, data)
    return buf.getvalue()


CT_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def docx(paragraphs, link=None):
    """A minimal Word document (no macros), optionally with one external hyperlink."""
    import io
    rels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>')
    drels = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">%s'
             '</Relationships>' % (
                 '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                 'relationships/hyperlink" Target="%s" TargetMode="External"/>' % link if link else ""))
    body = "".join('<w:p><w:r><w:t>%s</w:t></w:r></w:p>' % p for p in paragraphs)
    if link:
        body += ('<w:p><w:hyperlink r:id="rId9"><w:r><w:t>%s</w:t></w:r></w:hyperlink></w:p>' % link)
    doc = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>%s'
           '</w:body></w:document>' % body)
    types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'wordprocessingml.document.main+xml"/></Types>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        zwrite(z, "[Content_Types].xml", CT_XML + types)
        zwrite(z, "_rels/.rels", CT_XML + rels)
        zwrite(z, "word/document.xml", CT_XML + doc)
        zwrite(z, "word/_rels/document.xml.rels", CT_XML + drels)
    return buf.getvalue()


def pptx(slides, images, rnd):
    """A presentation of several MB: slide XML, and stored PNG media (photos do not compress)."""
    import io
    P = "http://schemas.openxmlformats.org/presentationml/2006/main"
    R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = ['<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">',
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>',
             '<Default Extension="xml" ContentType="application/xml"/>',
             '<Default Extension="png" ContentType="image/png"/>',
             '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'presentationml.presentation.main+xml"/>']
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        sldids, prels = [], []
        for i, text in enumerate(slides, 1):
            types.append('<Override PartName="/ppt/slides/slide%d.xml" ContentType="application/vnd.'
                         'openxmlformats-officedocument.presentationml.slide+xml"/>' % i)
            sldids.append('<p:sldId id="%d" r:id="rId%d"/>' % (255 + i, i))
            prels.append('<Relationship Id="rId%d" Type="%s/slide" Target="slides/slide%d.xml"/>' % (i, RT, i))
            img = (i - 1) % len(images) + 1 if images else 0
            srels = ['<Relationship Id="rId1" Type="%s/hyperlink" Target="https://www.example.com/ir/2026" '
                     'TargetMode="External"/>' % RT]
            if img:
                srels.append('<Relationship Id="rId2" Type="%s/image" Target="../media/image%d.png"/>' % (RT, img))
            zwrite(z, "ppt/slides/slide%d.xml" % i, CT_XML + (
                '<p:sld xmlns:p="%s" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
                'xmlns:r="%s"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>%s</a:t></a:r></a:p>'
                '</p:txBody></p:sp></p:spTree></p:cSld></p:sld>' % (P, R, text)))
            zwrite(z, "ppt/slides/_rels/slide%d.xml.rels" % i, CT_XML + (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">%s'
                '</Relationships>' % "".join(srels)))
        for k, (w, h) in enumerate(images, 1):
            zwrite(z, "ppt/media/image%d.png" % k, png(w, h, rnd), stored=True)
        zwrite(z, "ppt/presentation.xml", CT_XML + (
            '<p:presentation xmlns:p="%s" xmlns:r="%s"><p:sldIdLst>%s</p:sldIdLst>'
            '<p:sldSz cx="12192000" cy="6858000"/></p:presentation>' % (P, R, "".join(sldids))))
        zwrite(z, "ppt/_rels/presentation.xml.rels", CT_XML + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">%s'
            '</Relationships>' % "".join(prels)))
        zwrite(z, "_rels/.rels", CT_XML + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="%s/officeDocument" Target="ppt/presentation.xml"/>'
            '</Relationships>' % RT))
        zwrite(z, "[Content_Types].xml", CT_XML + "".join(types) + "</Types>")
    return buf.getvalue()


def xlsx(rows):
    import io
    cells = "".join('<row r="%d">%s</row>' % (i, "".join(
        '<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (chr(65 + j), i, v) for j, v in enumerate(r)))
        for i, r in enumerate(rows, 1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        zwrite(z, "[Content_Types].xml", CT_XML + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'))
        zwrite(z, "_rels/.rels", CT_XML + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        zwrite(z, "xl/workbook.xml", CT_XML + (
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        zwrite(z, "xl/_rels/workbook.xml.rels", CT_XML + (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'))
        zwrite(z, "xl/worksheets/sheet1.xml", CT_XML + (
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>%s'
            '</sheetData></worksheet>' % cells))
    return buf.getvalue()


def ics(method, uid, summary, organizer, attendees, location, description, url=None, seq=0):
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Partner Example//Calendar 2.1//EN", "VERSION:2.0",
             "METHOD:%s" % method, "BEGIN:VEVENT", "UID:%s" % uid, "SEQUENCE:%d" % seq,
             "DTSTAMP:20260414T010000Z", "DTSTART;TZID=Asia/Tokyo:20260421T140000",
             "DTEND;TZID=Asia/Tokyo:20260421T150000", "SUMMARY:%s" % summary,
             "ORGANIZER;CN=Organizer:mailto:%s" % organizer]
    lines += ["ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:%s" % a for a in attendees]
    lines += ["LOCATION:%s" % location, "DESCRIPTION:%s" % description]
    if url:
        lines.append("URL:%s" % url)
    lines += ["BEGIN:VALARM", "TRIGGER:-PT15M", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "END:VALARM",
              "END:VEVENT", "END:VCALENDAR"]
    # RFC 5545 folding at 75 octets
    out = []
    for l in lines:
        b = l.encode("utf-8")
        while len(b) > 75:
            cut = 75
            while cut > 0 and (b[cut] & 0xc0) == 0x80:
                cut -= 1
            out.append(b[:cut])
            b = b" " + b[cut:]
        out.append(b)
    return b"\r\n".join(out) + b"\r\n"


# ---------------------------------------------------------------- S/MIME

def smime_sign(entity, workdir):
    """A detached CMS signature (DER) of entity made with a fresh self-signed test certificate."""
    key = os.path.join(workdir, "vendor-test.key")
    crt = os.path.join(workdir, "vendor-test.crt")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                        "-subj", "/O=Vendor Example/CN=billing@vendor.example",
                        "-addext", "subjectAltName=email:billing@vendor.example",
                        "-addext", "extendedKeyUsage=emailProtection",
                        "-keyout", key, "-out", crt], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    src = os.path.join(workdir, "to-sign.bin")
    with open(src, "wb") as f:
        f.write(entity)
    p = subprocess.run(["openssl", "cms", "-sign", "-binary", "-noattr", "-in", src, "-signer", crt,
                        "-inkey", key, "-outform", "DER"], check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    os.unlink(src)
    return p.stdout


# ---------------------------------------------------------------- the messages

def m_invitation(n, w):
    """A meeting invitation: text, HTML and text/calendar alternatives, plus the .ics attached."""
    meet = "https://meet.partner.example/l/meetup-join/19%3ameeting_Zm9vYmFy%40thread.v2/0?context=%7b%22Tid%22%3a%2212ab%22%7d"
    cal = ics("REQUEST", "040000008200E00074C5B7101A82E008@partner.example", "Quarterly review / 四半期レビュー",
              "suzuki@partner.example", [STAFF, STAFF2], "Online meeting",
              "Join the meeting: %s\\nDial-in: +81-3-0000-0000\\nMeeting ID: 123 456 789" % meet)
    text = ("Quarterly review\n\nJoin the meeting: %s\nDial-in: +81-3-0000-0000 (Meeting ID 123 456 789)\n\n"
            "Accept or decline: https://calendar.partner.example/respond?eid=ZXZlbnQxMjM&tok=a1b2c3\n" % meet)
    html = ('<html><body><p>Quarterly review</p><p><a href="%s">Join the meeting</a></p>'
            '<p><a href="https://calendar.partner.example/respond?eid=ZXZlbnQxMjM&amp;tok=a1b2c3&amp;rst=1">Yes</a> '
            '<a href="https://calendar.partner.example/respond?eid=ZXZlbnQxMjM&amp;tok=a1b2c3&amp;rst=2">No</a> '
            '<a href="tel:+81300000000">+81-3-0000-0000</a></p></body></html>' % meet)
    alt = multipart("alternative", "alt-%d" % n, [
        text_part(text), html_part(html),
        part("text/calendar; charset=UTF-8; method=REQUEST", b64(cal), "base64")])
    body = multipart("mixed", "mix-%d" % n, [alt, attachment("application/ics", "invite.ics", cal)])
    return dict(frm="suzuki@partner.example", rcpts=[STAFF, STAFF2],
                raw=message(std(n, addr("鈴木 一郎", "suzuki@partner.example"), "%s, %s" % (STAFF, STAFF2),
                                subj("招待: Quarterly review / 四半期レビュー"), "inv-%d@partner.example" % n), body),
                what="meeting invitation: text/HTML/text/calendar alternatives and an .ics attachment")


def m_calendar_cancel(n, w):
    """A cancellation: METHOD:CANCEL only, as calendars send it."""
    cal = ics("CANCEL", "040000008200E00074C5B7101A82E008@partner.example", "Quarterly review", "suzuki@partner.example",
              [STAFF], "Online meeting", "This meeting was cancelled.", seq=1)
    body = multipart("alternative", "alt-%d" % n, [
        text_part("The meeting 'Quarterly review' on 21 April was cancelled.\n"),
        part("text/calendar; charset=UTF-8; method=CANCEL", b64(cal), "base64")])
    return dict(frm="suzuki@partner.example", rcpts=[STAFF],
                raw=message(std(n, "suzuki@partner.example", STAFF, "Canceled: Quarterly review",
                                "cxl-%d@partner.example" % n), body),
                what="calendar cancellation (text/calendar METHOD:CANCEL)")


def m_newsletter(n, w):
    """A retailer's HTML newsletter with the click tracking mailing services add."""
    rnd = random.Random(n)
    token = base64.urlsafe_b64encode(json.dumps({"c": 7731, "m": rnd.randrange(10 ** 8)}).encode()).decode()
    links = [
        # a tracker that carries its target (unwrapped: www.shop.example)
        ("https://t.news.shop.example/r/?id=h%x,%x&p1=https%%3A%%2F%%2Fwww.shop.example%%2Fsale%%2Fspring%%3Futm_source"
         "%%3Dnewsletter%%26utm_medium%%3Demail%%26utm_campaign%%3Dspring2026" % (rnd.randrange(16 ** 6),
                                                                                  rnd.randrange(16 ** 6)),
         "www.shop.example/sale/spring"),
        # an opaque tracker on the sender's own tracking host, token in base64 that is no URL
        ("https://click.news.shop.example/ls/click?upn=%s&e=%x" % (token, rnd.randrange(16 ** 8)), "Shop now"),
        ("https://click.news.shop.example/ls/click?upn=%s2&e=%x" % (token, rnd.randrange(16 ** 8)),
         "https://www.shop.example/new-arrivals"),
        ("https://www.shop.example/stores?utm_source=newsletter&amp;utm_campaign=spring2026", "Find a store"),
        ("webcal://www.shop.example/events/spring-sale.ics", "Add the sale to your calendar"),
        ("https://news.shop.example/view/2026-04/%x" % rnd.randrange(16 ** 8), "View in your browser"),
        ("https://news.shop.example/unsubscribe?list=7&amp;u=%x" % rnd.randrange(16 ** 8), "Unsubscribe"),
        ("https://social.example/shopexample", "Follow us"),
    ]
    items = "".join('<tr><td><a href="%s" style="color:#06c">%s</a></td></tr>\n' % l for l in links)
    html = ('<!DOCTYPE html><html><head><meta charset="utf-8"><style>td{font-family:sans-serif}'
            '.hero{background:url(https://img.news.shop.example/2026/hero.jpg)}</style></head><body>'
            '<table width="600"><tr><td class="hero"><img src="https://img.news.shop.example/2026/logo.png" '
            'alt="Shop"></td></tr>\n%s<tr><td><img src="https://click.news.shop.example/o/%x.gif" width="1" '
            'height="1" alt=""></td></tr></table></body></html>' % (items, rnd.randrange(16 ** 10)))
    text = "Spring sale!\n\n" + "\n".join("%s: %s" % (t, u.replace("&amp;", "&")) for u, t in links)
    body = multipart("alternative", "nl-%d" % n, [text_part(text), html_part(html)])
    extra = [("List-Unsubscribe", "<https://news.shop.example/unsubscribe?list=7>, <mailto:unsub-7@news.shop.example>"),
             ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"), ("Precedence", "bulk")]
    return dict(frm="bounce-7731-%d@news.shop.example" % n, rcpts=[STAFF],
                raw=message(std(n, addr("Shop Example", "news@news.shop.example"), STAFF, "Spring sale: up to 30% off",
                                "nl-%d@news.shop.example" % n, extra), body),
                what="HTML newsletter: redirect and opaque click trackers, open pixel, webcal, unsubscribe")


def m_newsletter_ja(n, w):
    """A Japanese newsletter, HTML in UTF-8, Japanese anchor text and a tracker."""
    html = ('<html><body><p>いつもご利用ありがとうございます。</p>'
            '<p>春の新商品のご案内です。<a href="https://mail.tsuhan.example/c/?u=https%3A%2F%2Fwww.tsuhan.example'
            '%2Fitems%2F2026spring%3Fref%3Dmail&amp;k=9f8e7d">詳しくはこちら</a></p>'
            '<p><a href="https://www.tsuhan.example/mypage/">マイページ</a>｜'
            '<a href="https://www.tsuhan.example/mail/stop?k=9f8e7d">配信停止</a></p>'
            '<p>株式会社通販エグザンプル　〒100-0001 東京都千代田区1-1　TEL 03-0000-0000</p></body></html>')
    body = multipart("alternative", "ja-%d" % n, [
        text_part("春の新商品のご案内です。\n詳しくはこちら https://www.tsuhan.example/items/2026spring\n"),
        html_part(html)])
    return dict(frm="info@mail.tsuhan.example", rcpts=[STAFF],
                raw=message(std(n, addr("通販エグザンプル", "info@mail.tsuhan.example"), STAFF,
                                subj("【通販エグザンプル】春の新商品のご案内"), "ja-%d@mail.tsuhan.example" % n), body),
                what="Japanese HTML newsletter (UTF-8) with a tracker carrying its target")


def m_signed_invoice(n, w):
    """An invoice signed with S/MIME (multipart/signed, detached signature) carrying a PDF."""
    inner = multipart("mixed", "inv-in-%d" % n, [
        text_part("Dear customer,\n\nplease find attached invoice INV-2026-0412 for March.\n"
                  "Payment due: 30 April 2026.\n\nBilling department, Vendor Example\nhttps://www.vendor.example/billing\n"),
        attachment("application/pdf", "INV-2026-0412.pdf",
                   pdf(["Vendor Example Co., Ltd.", "Invoice INV-2026-0412", "Total: JPY 1,234,567",
                        "Pay to: Bank Example, account 1234567"], uri="https://www.vendor.example/billing"))])
    sig = smime_sign(inner, w)
    signed = multipart("signed", "sig-%d" % n, [
        inner, part('application/pkcs7-signature; name="smime.p7s"', b64(sig), "base64",
                    [("Content-Disposition", 'attachment; filename="smime.p7s"')])],
        params='; protocol="application/pkcs7-signature"; micalg=sha-256',
        preamble="This is an S/MIME signed message\n\n")
    return dict(frm="billing@vendor.example", rcpts=[STAFF],
                raw=message(std(n, addr("Vendor Example Billing", "billing@vendor.example"), STAFF,
                                "Invoice INV-2026-0412", "sig-%d@vendor.example" % n), signed),
                what="S/MIME signed invoice (multipart/signed, detached PKCS#7) with a PDF")


def m_zipped_pdfs(n, w):
    members = [("見積書_2026-04.pdf".encode("utf-8").decode("utf-8"), pdf(["Quotation Q-2026-031", "Total JPY 480,000"])),
               ("仕様書_v2.pdf", pdf(["Specification v2", "See https://www.vendor.example/spec/v2"],
                                    uri="https://www.vendor.example/spec/v2"))]
    z = zipped(members)
    body = multipart("mixed", "zip-%d" % n, [
        text_part("田中様\n\nいつもお世話になっております。\nお見積書と仕様書をお送りします。ご確認のほどよろしくお願いいたします。\n\n"
                  "株式会社ベンダーエグザンプル　営業部　山本\n", "iso-2022-jp"),
        attachment("application/zip", "見積書一式.zip", z)])
    return dict(frm="yamamoto@vendor.example", rcpts=[STAFF],
                raw=message(std(n, addr("山本 花子", "yamamoto@vendor.example", "iso-2022-jp"), STAFF,
                                subj("お見積書の送付", "iso-2022-jp"), "zip-%d@vendor.example" % n), body),
                what="zip with two PDFs (Japanese member names), ISO-2022-JP body")


def m_forward(n, w):
    """A colleague forwards a vendor mail as an attachment (message/rfc822)."""
    orig = message(std(n, "yamamoto@vendor.example", STAFF, "Delivery schedule", "orig-%d@vendor.example" % n),
                   multipart("mixed", "orig-%d" % n, [
                       html_part('<p>The delivery schedule is on <a href="https://portal.vendor.example/orders/'
                                 '8812">our portal</a>.</p>'),
                       attachment("application/pdf", "schedule.pdf", pdf(["Delivery schedule", "Week 17: 40 units"]))]))
    body = multipart("mixed", "fwd-%d" % n, [
        text_part("FYI, see the vendor's mail below.\n\n-- \nSato, Purchasing\n"),
        part("message/rfc822", orig, "", [("Content-Disposition", 'attachment; filename="Delivery schedule.eml"')])])
    return dict(frm="kimura@partner.example", rcpts=[STAFF],
                raw=message(std(n, "kimura@partner.example", STAFF, "Fwd: Delivery schedule",
                                "fwd-%d@partner.example" % n), body),
                what="forwarded mail as message/rfc822 attachment with a PDF inside")


def m_inline_forward(n, w):
    """An inline forward of a mail whose links Outlook Safe Links had rewritten."""
    safe = ("https://apc01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fportal.partner.example%2Fnotice%2F2026"
            "&data=05%7C02%7Ckimura%40partner.example%7C8d1e%7C0%7C0%7C638799&sdata=abc%3D&reserved=0")
    html = ('<div><p>Forwarding the notice.</p><hr><p><b>From:</b> notice@partner.example<br><b>Subject:</b> '
            'Maintenance</p><p>Details: <a href="%s">portal.partner.example/notice/2026</a></p></div>' % safe)
    body = multipart("alternative", "if-%d" % n, [text_part("Forwarding the notice.\n%s\n" % safe), html_part(html)])
    return dict(frm="kimura@partner.example", rcpts=[STAFF],
                raw=message(std(n, "kimura@partner.example", STAFF, "FW: Maintenance", "ifwd-%d@partner.example" % n),
                            body),
                what="inline forward with Outlook Safe Links (target unwrapped, text matches it)")


def m_digest(n, w):
    """A mailing-list digest: multipart/digest of three messages."""
    msgs = []
    for i, (who, s, t) in enumerate([("ito@univ.example", "Re: meeting notes", "Notes are at https://wiki.univ.example/notes/12"),
                                     ("kato@lab.example", "Seminar on 2026-05-10", "Registration: https://lab.example/seminar"),
                                     ("mori@univ.example", "Re: Seminar", "Thanks, registered.")]):
        msgs.append(b"Content-Type: message/rfc822\r\n\r\n" + message(
            std(i, who, "users-jp@lists.univ.example", s, "d%d-%d@univ.example" % (i, n)), text_part(t + "\n")))
    body = multipart("mixed", "dg-%d" % n, [
        text_part("users-jp Digest, Vol 88, Issue 3\n\nToday's Topics:\n  1. Re: meeting notes\n  2. Seminar\n  3. Re: Seminar\n"),
        multipart("digest", "dgi-%d" % n, msgs)])
    extra = [("List-Id", "users-jp <users-jp.lists.univ.example>"), ("Precedence", "list"),
             ("List-Unsubscribe", "<https://lists.univ.example/mailman/options/users-jp>")]
    return dict(frm="users-jp-bounces@lists.univ.example", rcpts=[STAFF],
                raw=message(std(n, "users-jp-request@lists.univ.example", STAFF, "users-jp Digest, Vol 88, Issue 3",
                                "digest-%d@lists.univ.example" % n, extra), body),
                what="mailing-list digest (multipart/digest of message/rfc822)")


def m_bounce(n, w):
    """A delivery status notification for a mail a staff member sent (null envelope sender)."""
    orig = message(std(n, STAFF, "nobody@partner.example", "Meeting materials", "sent-%d@example.com" % n),
                   multipart("mixed", "bo-%d" % n, [text_part("Please find the materials attached.\n"),
                                                     attachment("application/pdf", "materials.pdf", pdf(["Materials"]))]))
    dsn = crlf("Reporting-MTA: dns; mx.partner.example\nArrival-Date: %s\n\nFinal-Recipient: rfc822; nobody@partner.example\n"
               "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <nobody@partner.example>: user unknown\n"
               % (DATE % n))
    body = multipart("report", "dsn-%d" % n, [
        text_part("This is the mail system at host mx.partner.example.\n\nI'm sorry to have to inform you that your "
                  "message could not be delivered to one or more recipients.\n\n<nobody@partner.example>: user unknown\n"),
        part("message/delivery-status", dsn, "7bit"),
        part("message/rfc822", orig, "7bit")], params="; report-type=delivery-status")
    return dict(frm="", rcpts=[STAFF],
                raw=message(std(n, "Mail Delivery System <MAILER-DAEMON@mx.partner.example>", STAFF,
                                "Undelivered Mail Returned to Sender", "dsn-%d@mx.partner.example" % n,
                                [("Auto-Submitted", "auto-replied")]), body),
                what="bounce: multipart/report DSN with the returned message and its PDF")


def m_presentation(n, w):
    rnd = random.Random(4242)
    data = pptx(["会社説明会 2026", "Results", "Outlook", "Q&amp;A"], [(1100, 900), (900, 700)], rnd)
    body = multipart("mixed", "ppt-%d" % n, [
        text_part("Hello Tanaka-san,\n\nattached are the slides for tomorrow (about %d MB).\n\nBest regards,\nKimura\n"
                  % (len(data) // 1000000)),
        attachment("application/vnd.openxmlformats-officedocument.presentationml.presentation",
                   "company-presentation-2026.pptx", data)])
    return dict(frm="kimura@partner.example", rcpts=[STAFF],
                raw=message(std(n, "kimura@partner.example", STAFF, "Slides for tomorrow", "ppt-%d@partner.example" % n),
                            body),
                what="large presentation: a %.1f MB .pptx (OOXML, stored photos, an external hyperlink)"
                     % (len(data) / 1e6))


def m_iso2022jp(n, w):
    text = ("株式会社エグザンプル\n総務部　田中様\n\nいつもお世話になっております。\n来週の打ち合わせは4月21日（火）14時からでお願いいたします。\n"
            "会場の地図：https://www.torihiki.example/access/\n\n取引先エグザンプル　佐々木\nTEL: 03-1234-5678\n")
    body = text_part(text, "iso-2022-jp")
    return dict(frm="sasaki@torihiki.example", rcpts=[STAFF],
                raw=message(std(n, addr("佐々木 次郎", "sasaki@torihiki.example", "iso-2022-jp"), STAFF,
                                subj("打ち合わせ日程のご連絡", "iso-2022-jp"), "jis-%d@torihiki.example" % n), body),
                what="Japanese plain text in ISO-2022-JP with an RFC 2047 subject and a link")


def m_shiftjis(n, w):
    csv = "品番,品名,数量\r\nA-001,ボルト,100\r\nA-002,ナット,200\r\n".encode("cp932")
    body = multipart("mixed", "sj-%d" % n, [
        text_part("発注データを添付いたします。\nご確認ください。\n", "shift_jis"),
        attachment("text/csv; charset=Shift_JIS", "発注データ.csv", csv),
        attachment("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "発注書.xlsx",
                   xlsx([["品番", "品名", "数量"], ["A-001", "ボルト", "100"]]))])
    return dict(frm="order@seizou.example", rcpts=[STAFF],
                raw=message(std(n, addr("製造エグザンプル", "order@seizou.example", "shift_jis"), STAFF,
                                subj("発注データ送付", "shift_jis"), "sj-%d@seizou.example" % n), body),
                what="Shift_JIS mail with a CSV and an .xlsx (RFC 2231 Japanese file names)")


def m_mailing_list(n, w):
    text = ("Hello all,\n\nthe slides of the last meeting are at https://wiki.lists.univ.example/2026/04/slides\n"
            "and the recording at https://video.univ.example/watch?v=abc123\n\nIto\n\n"
            "_______________________________________________\nusers-jp mailing list\nusers-jp@lists.univ.example\n"
            "https://lists.univ.example/mailman/listinfo/users-jp\n")
    extra = [("Sender", "users-jp <users-jp-bounces@lists.univ.example>"),
             ("Reply-To", "users-jp@lists.univ.example"), ("List-Id", "users-jp <users-jp.lists.univ.example>"),
             ("List-Post", "<mailto:users-jp@lists.univ.example>"), ("Precedence", "list"),
             ("List-Unsubscribe", "<https://lists.univ.example/mailman/options/users-jp>, "
                                  "<mailto:users-jp-request@lists.univ.example?subject=unsubscribe>")]
    return dict(frm="users-jp-bounces+tanaka=example.com@lists.univ.example", rcpts=[STAFF],
                raw=message(std(n, "Ito Ken via users-jp <users-jp@lists.univ.example>", "users-jp@lists.univ.example",
                                "[users-jp] slides of the April meeting", "ml-%d@univ.example" % n, extra),
                            text_part(text)),
                what="mailing-list post (Sender, List-Id, VERP envelope, From rewritten 'via')")


def m_docx(n, w):
    body = multipart("mixed", "dx-%d" % n, [
        text_part("Please review the attached contract draft.\n"),
        attachment("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "契約書案_v3.docx",
                   docx(["業務委託契約書（案）", "第1条 目的"], link="https://www.legal.example/templates/2026"))])
    return dict(frm="office@legal.example", rcpts=[STAFF],
                raw=message(std(n, "office@legal.example", STAFF, "Contract draft v3", "dx-%d@legal.example" % n), body),
                what="Word document (no macros) with an external hyperlink")


def m_images(n, w):
    rnd = random.Random(77)
    logo = png(120, 40, rnd)
    photo = png(400, 300, rnd)
    html = ('<html><body><p>Photos from the site visit.</p><img src="cid:logo@x" alt="logo">'
            '<p>-- <br>Field team, <a href="https://www.partner.example/">Partner Example</a> '
            '<a href="mailto:field@partner.example">field@partner.example</a></p></body></html>')
    rel = multipart("related", "rel-%d" % n, [html_part(html), attachment("image/png", "logo.png", logo, True, "logo@x")],
                    params='; type="text/html"')
    body = multipart("mixed", "img-%d" % n, [rel, attachment("image/png", "site-visit.png", photo)])
    return dict(frm="field@partner.example", rcpts=[STAFF],
                raw=message(std(n, "field@partner.example", STAFF, "Site visit photos", "img-%d@partner.example" % n),
                            body),
                what="HTML with an inline cid: logo and a photo attachment")


def m_reply_signature(n, w):
    text = ("Tanaka-san,\n\nthank you, Thursday works for us.\n\n> On Tue, 14 Apr 2026 you wrote:\n> Could we meet on Thursday?\n\n"
            "--\nTakahashi Yuki | Sales | Partner Example Co., Ltd.\nTel +81-3-0000-1111 | www.partner.example\n"
            "Map: https://maps.partner.example/?q=Chiyoda+1-1\n")
    return dict(frm="takahashi@partner.example", rcpts=[STAFF],
                raw=message(std(n, "takahashi@partner.example", STAFF, "Re: meeting on Thursday", "re-%d@partner.example" % n,
                                [("In-Reply-To", "<q-%d@example.com>" % n), ("References", "<q-%d@example.com>" % n)]),
                            text_part(text)),
                what="plain reply with quoted text and a signature with bare host names")


def m_out_of_office(n, w):
    return dict(frm="kobayashi@partner.example", rcpts=[STAFF],
                raw=message(std(n, "kobayashi@partner.example", STAFF, "自動応答: 打ち合わせの件",
                                "ooo-%d@partner.example" % n, [("Auto-Submitted", "auto-replied")]),
                            text_part("4月20日まで不在にしております。お急ぎの方は代表 https://www.partner.example/contact まで。\n")),
                what="out-of-office auto-reply")


def list_entry(name):
    """The first plain domain of a shipped list (provider names stay data, not code)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "lists",
                           name + ".txt"), encoding="utf-8") as f:
        for line in f:
            e = line.split("#", 1)[0].strip()
            if e and "/" not in e and "." in e:
                return e
    raise SystemExit("data/lists/%s.txt has no entry" % name)


def m_citizen_inquiry(n, w):
    """Free-mail to the public address, plain text: accepted by the policy (README "Sender policy")."""
    frm = "yamada.taro.%d@%s" % (n, list_entry("freemail"))
    return dict(frm=frm, rcpts=[PUBLIC],
                raw=message(std(n, frm, PUBLIC, subj("年金の手続きについて"), "q-%d@%s" % (n, frm.split("@")[1])),
                            text_part("お世話になります。住所変更の手続きについて教えてください。\n山田太郎\n")),
                what="a citizen's plain-text question to the public address")


def m_internal(n, w):
    """Staff to staff: a file-server path, a SharePoint tenant link and an Office 'open in app' link."""
    text = ("Sato-san,\n\nthe minutes are on the file server: \\\\fileserver\\soumu\\2026\\議事録_0414.docx\n"
            "and in SharePoint: https://example.sharepoint.com/sites/soumu/Shared%20Documents/minutes.docx\n"
            "Open in Word: ms-word:ofe|u|https://example.sharepoint.com/sites/soumu/Shared%20Documents/minutes.docx\n\n"
            "Tanaka\n")
    return dict(frm=STAFF, rcpts=[STAFF2],
                raw=message(std(n, STAFF, STAFF2, "議事録", "int-%d@example.com" % n), text_part(text)),
                what="internal mail: UNC path to our file server, our SharePoint tenant, an Office link")


def m_sharepoint_notice(n, w):
    """A partner shares a document from its own SharePoint-like tenant."""
    html = ('<p>Kimura shared a file with you.</p><p><a href="https://partner.sharepoint.example/:w:/s/sales/EaBcD'
            'eFgHiJ?e=4Xyz">Proposal.docx</a></p><p><a href="https://partner.sharepoint.example/_layouts/15/'
            'ManageNotifications.aspx">Manage notifications</a></p>')
    return dict(frm="no-reply@sharepoint.example", rcpts=[STAFF],
                raw=message(std(n, "Kimura via SharePoint <no-reply@sharepoint.example>", STAFF,
                                "Kimura shared 'Proposal' with you", "sp-%d@sharepoint.example" % n), html_part(html)),
                what="file-sharing notification from a partner's document tenant")


def m_shortener(n, w):
    """An event announcement with one shortened link: tagged (the destination is hidden)."""
    short = list_entry("shortener")
    return dict(frm="events@assoc.example", rcpts=[STAFF],
                raw=message(std(n, "events@assoc.example", STAFF, "Seminar on 12 May",
                                "ev-%d@assoc.example" % n),
                            text_part("Seminar on 12 May, registration: https://%s/3xAmPl3\n" % short)),
                what="announcement with a URL-shortener link",
                action="tag", allowed=["link.shortener"],
                why="a shortener hides where the link goes: delivered with the warning header")


BUILDERS = [m_invitation, m_calendar_cancel, m_newsletter, m_newsletter_ja, m_signed_invoice, m_zipped_pdfs,
            m_forward, m_inline_forward, m_digest, m_bounce, m_presentation, m_iso2022jp, m_shiftjis,
            m_mailing_list, m_docx, m_images, m_reply_signature, m_out_of_office, m_citizen_inquiry, m_internal,
            m_sharepoint_notice, m_shortener]


def names():
    """The messages' names, in order, without building them."""
    return ["%02d-%s" % (n, b.__name__[2:].replace("_", "-")) for n, b in enumerate(BUILDERS, 1)]


def build(outdir):
    """Write every message and manifest.json into outdir; return the manifest entries."""
    os.makedirs(outdir, exist_ok=True)
    entries = []
    for n, b in enumerate(BUILDERS, 1):
        m = b(n, outdir)
        name = names()[n - 1]
        path = os.path.join(outdir, name + ".eml")
        with open(path, "wb") as f:
            f.write(m["raw"])
        entries.append(dict(name=name, file=path, what=m["what"], sender=m["frm"], rcpts=m["rcpts"],
                            size=len(m["raw"]), action=m.get("action", "accept"), allowed=m.get("allowed", []),
                            why=m.get("why", "")))
    with open(os.path.join(outdir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(entries, f, ensure_ascii=False, indent=1)
    return entries


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0)
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: gen_benign.py OUTDIR")
    for e in build(sys.argv[1]):
        print("%-28s %9d  %s" % (e["name"], e["size"], e["what"]))
