#!/usr/bin/env python3
"""attach-fixtures.py - build the archive fixtures of the attach tests into DIR.

Usage: attach-fixtures.py DIR

Everything is generated from harmless payloads: the ClamAV test marker of
sigs/mailwarden-test.ndb (assembled here, never stored whole), PE/LNK
stubs that only carry the magic numbers, a zip "bomb" of zeros built from
one repeated deflate block (1 GiB unpacked from about 1 MiB, made in
milliseconds and never written unpacked).  LZH needs `jlha` (Debian
jlha-utils) and password 7z needs `7z` (p7zip-full); files that cannot be
made are simply missing and the tests that need them skip.

Files made (all in DIR):
  plain.zip        report.pdf (PDF-ish) + readme.txt
  exe.zip          請求書.pdf.exe (PE stub)
  marker.zip       a.txt holding the marker
  inner.lzh        payload.txt: marker inside repetitive text, -lh5- compressed
  lzh-in-zip.zip   docs/inner.lzh (stored, so only an LZH reader finds the marker)
  enc.zip          secret.docx, ZipCrypto with password "pw1234"
  enc.7z / enc-hdr.7z  7z with password (headers encrypted in the second)
  bomb.zip         zeros.bin: 1 GiB of zeros, about 1 MiB packed
  deep.zip         zip in zip ... 8 levels, a.txt at the bottom
  many.zip         3000 tiny members
  macro.docx       OOXML with word/vbaProject.bin (named .docx)
  renamed-vba.docx OOXML whose VBA part is renamed; content type says vbaProject
  clean.docx       OOXML without macros
  broken.docm      not a zip at all
  macro.doc        minimal OLE2 compound file with Macros/VBA storages
  clean.doc        minimal OLE2 compound file without macros
  single.exe.gz    gzip of a PE stub (no tar)
  js.tar.gz        tar.gz holding invoice.js (WSH script text)
  zeros512-marker.gz  gzip of 512 zero bytes then the marker (reads as an empty tar)
  zeros512-marker.xz  the same in xz
  zerobomb.gz      1 GiB of zeros as 1024 gzip members of 1 MiB (about 1 MiB packed)
  eocd0.zip        scan.exe (PE stub) whose end record says 0 entries, directory cut
  truncated.zip    a zip cut in the middle of its member
  garbage.7z       a 7z signature followed by junk
  zip-then-tar.xz  xz of a harmless zip followed by a tar holding the marker
                   (7-Zip finds the tar past the zip's end)
  marker.lzma      the marker in an lzma-alone stream (no magic number)
  zeros-pe.lzma.gz 4 KB of zeros then a PE stub, lzma-alone then gzip
  eocd0-in.cpio    old binary cpio holding eocd0.zip: the zip's end record
                   at its end wins libarchive's bidding (needs `cpio`)
  cut.lz4          lz4 frame of a PE stub, its last byte cut (needs `lz4`)
  whole.arj / cut.arj  an ARJ (-m1) of report.txt and setup.exe, whole and
                   with its last 40 bytes cut; damaged.arj has its main
                   header's id damaged (needs `arj`)
  ppap.eml ...     (none: messages are built by the tests)
"""

import io
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import gzip
import zipfile
import zlib
import lzma

MARKER = ("MAILWARDEN-TEST-" + "MARKER-7f3a9c1e").encode()


def pe_stub():
    """64-byte DOS header pointing at a PE signature; no code."""
    h = bytearray(b"MZ" + b"\0" * 62)
    struct.pack_into("<I", h, 0x3C, 0x40)
    return bytes(h) + b"PE\0\0" + b"\0" * 60


def lnk_stub():
    return b"\x4c\0\0\0\x01\x14\x02\0" + b"\0" * 68


def zbytes(members, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- ZipCrypto (traditional PKWARE encryption), stored members
def _crc_update(crc, b):
    return zlib.crc32(bytes([b]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def zipcrypto(name, data, password):
    k = [0x12345678, 0x23456789, 0x34567890]

    def upd(c):
        k[0] = _crc_update(k[0], c)
        k[1] = (k[1] + (k[0] & 0xFF)) & 0xFFFFFFFF
        k[1] = (k[1] * 134775813 + 1) & 0xFFFFFFFF
        k[2] = _crc_update(k[2], k[1] >> 24)

    def enc(c):
        t = (k[2] | 2) & 0xFFFF
        out = c ^ (((t * (t ^ 1)) >> 8) & 0xFF)
        upd(c)
        return out

    for c in password.encode():
        upd(c)
    crc = zlib.crc32(data)
    header = bytes(range(11)) + bytes([crc >> 24])
    body = bytes(enc(c) for c in header + data)
    n = name.encode()
    flags = 1
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 0, 0, 0, crc, len(body), len(data), len(n), 0) + n
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, 0, 0, 0, crc, len(body), len(data),
                          len(n), 0, 0, 0, 0, 0, 0) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    return local + body + central + end


# ---- 1 GiB of zeros from one repeated deflate block
def zip_bomb(total=1 << 30, chunk=1 << 20):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    z = bytes(chunk)
    block = c.compress(z) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush()
    n = total // chunk
    data = block * n + tail
    crc = crc_zeros(total)
    name = b"zeros.bin"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), total, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), total,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


def crc_zeros(n):
    """CRC-32 of n zero bytes by squaring the zero operator (as zlib's crc32_combine)."""
    def gf2_times(mat, vec):
        s = 0
        i = 0
        while vec:
            if vec & 1:
                s ^= mat[i]
            vec >>= 1
            i += 1
        return s

    def gf2_square(mat):
        return [gf2_times(mat, mat[i]) for i in range(32)]

    # operator for one zero bit
    odd = [0xEDB88320] + [1 << i for i in range(31)]
    even = gf2_square(odd)   # 2 bits
    odd = gf2_square(even)   # 4 bits
    crc = 0xFFFFFFFF
    while True:
        even = gf2_square(odd)
        if n & 1:
            crc = gf2_times(even, crc)
        n >>= 1
        if not n:
            break
        odd = gf2_square(even)
        if n & 1:
            crc = gf2_times(odd, crc)
        n >>= 1
        if not n:
            break
    return crc ^ 0xFFFFFFFF


def eocd_zero(z):
    """The zip with its central directory cut off and an end record saying 0 entries."""
    eocd = z.rindex(b"PK\x05\x06")
    cd_off = struct.unpack_from("<I", z, eocd + 16)[0]
    end = bytearray(z[eocd:eocd + 22])
    struct.pack_into("<HHII", end, 8, 0, 0, 0, cd_off)
    return z[:cd_off] + bytes(end)


def ooxml(extra):
    ct = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="xml" ContentType="application/xml"/>%s</Types>')
    members = [("[Content_Types].xml", ct % extra.get("ct", "")), ("word/document.xml", "<w:document/>")]
    members += extra.get("members", [])
    return zbytes(members)


def ole2(names):
    """A minimal compound file: header + one directory sector with the given (name, type) entries."""
    hdr = bytearray(512)
    hdr[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHH", hdr, 0x18, 0x3E, 3, 0xFFFE, 9)
    struct.pack_into("<H", hdr, 0x20, 6)
    struct.pack_into("<IIII", hdr, 0x2C, 1, 0, 0, 0x1000)  # FAT sectors, first dir sector 0
    struct.pack_into("<IIII", hdr, 0x3C, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    for i in range(109):
        struct.pack_into("<I", hdr, 0x4C + 4 * i, 0xFFFFFFFF)
    struct.pack_into("<I", hdr, 0x4C, 1)
    dirsec = bytearray(512)
    entries = [("Root Entry", 5)] + names
    for i, (n, t) in enumerate(entries[:4]):
        e = bytearray(128)
        u = n.encode("utf-16-le")
        e[0:len(u)] = u
        struct.pack_into("<HBB", e, 0x40, len(u) + 2, t, 1)
        struct.pack_into("<III", e, 0x44, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        dirsec[i * 128:(i + 1) * 128] = e
    fat = bytearray(b"\xff" * 512)
    struct.pack_into("<II", fat, 0, 0xFFFFFFFE, 0xFFFFFFFD)
    return bytes(hdr + dirsec + fat)


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    write(d, "plain.zip", zbytes([("report.pdf", pdf), ("readme.txt", "Minutes of the meeting.\n")]))
    write(d, "exe.zip", zbytes([("請求書.pdf.exe", pe_stub())]))
    write(d, "marker.zip", zbytes([("a.txt", b"x " + MARKER + b" y\n")]))
    write(d, "enc.zip", zipcrypto("secret.docx", b"not really a docx " * 20, "pw1234"))
    write(d, "bomb.zip", zip_bomb())
    deep = zbytes([("a.txt", "bottom\n")])
    for i in range(8):
        deep = zbytes([("level%d.zip" % i, deep)], zipfile.ZIP_STORED)
    write(d, "deep.zip", deep)
    write(d, "many.zip", zbytes([("f%04d.txt" % i, "x") for i in range(3000)], zipfile.ZIP_STORED))
    write(d, "macro.docx", ooxml({"members": [("word/vbaProject.bin", ole2([("VBA", 1)]))]}))
    write(d, "renamed-vba.docx", ooxml({
        "ct": '<Override PartName="/word/stuff.bin" ContentType="application/vnd.ms-office.vbaProject"/>',
        "members": [("word/stuff.bin", b"\0" * 64)]}))
    write(d, "clean.docx", ooxml({}))
    write(d, "broken.docm", b"this is not a zip file at all\n")
    write(d, "macro.doc", ole2([("Macros", 1), ("VBA", 1), ("_VBA_PROJECT", 2)]))
    write(d, "clean.doc", ole2([("WordDocument", 2), ("SummaryInformation", 2)]))
    write(d, "single.exe.gz", gzip.compress(pe_stub()))
    tb = io.BytesIO()
    with tarfile.open(fileobj=tb, mode="w:gz") as t:
        js = b'var sh = new ActiveXObject("WScript.Shell");\nsh.Run("calc");\n'
        ti = tarfile.TarInfo("invoice.js")
        ti.size = len(js)
        t.addfile(ti, io.BytesIO(js))
    write(d, "js.tar.gz", tb.getvalue())
    # issue 14: containers that cannot be read completely
    write(d, "zeros512-marker.gz", gzip.compress(b"\0" * 512 + b"x " + MARKER + b" y\n"))
    write(d, "zeros512-marker.xz", lzma.compress(b"\0" * 512 + b"x " + MARKER + b" y\n", format=lzma.FORMAT_XZ))
    write(d, "zerobomb.gz", gzip.compress(b"\0" * (1 << 20)) * 1024)
    write(d, "eocd0.zip", eocd_zero(zbytes([("scan.exe", pe_stub() + b"\0" * 4096)])))
    write(d, "truncated.zip", (lambda z: z[: len(z) // 2])(zbytes([("report.txt", os.urandom(4096).hex())])))
    write(d, "garbage.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + os.urandom(600))
    # hunt2: a compressed stream is one file: what follows the archive in it counts
    tb = io.BytesIO()
    with tarfile.open(fileobj=tb, mode="w", format=tarfile.USTAR_FORMAT) as t:
        body = b"x " + MARKER + b" y\n"
        ti = tarfile.TarInfo("notes.txt")
        ti.size = len(body)
        t.addfile(ti, io.BytesIO(body))
    zt = zbytes([("hello.txt", "hello\n")], zipfile.ZIP_STORED) + tb.getvalue()
    write(d, "zip-then-tar.xz", lzma.compress(zt, format=lzma.FORMAT_XZ))
    write(d, "marker.lzma", lzma.compress(b"x " + MARKER + b" y\n", format=lzma.FORMAT_ALONE))
    write(d, "zeros-pe.lzma.gz", gzip.compress(lzma.compress(b"\0" * 4096 + pe_stub(), format=lzma.FORMAT_ALONE)))

    work = os.path.join(d, "work")
    os.makedirs(work, exist_ok=True)
    if shutil.which("jlha"):
        # repetitive text around the marker so -lh5- compresses it out of sight
        text = b"".join(b"line %d of the quarterly report, nothing to see here\n" % (i % 7) for i in range(400))
        with open(os.path.join(work, "payload.txt"), "wb") as f:
            f.write(text + MARKER + b"\n" + text)
        subprocess.run(["jlha", "a", "inner.lzh", "payload.txt"], cwd=work, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lzh = open(os.path.join(work, "inner.lzh"), "rb").read()
        if MARKER in lzh:
            sys.exit("attach-fixtures: jlha stored the marker uncompressed")
        write(d, "inner.lzh", lzh)
        write(d, "lzh-in-zip.zip", zbytes([("docs/inner.lzh", lzh)], zipfile.ZIP_STORED))
    if shutil.which("lz4"):
        stub = pe_stub() + b"\0" * 192
        lz = subprocess.run(["lz4", "-c", "-q"], input=stub, stdout=subprocess.PIPE, check=True).stdout
        write(d, "cut.lz4", lz[:-1])
    if shutil.which("cpio"):
        with open(os.path.join(work, "setup.zip"), "wb") as f:
            f.write(eocd_zero(zbytes([("scan.exe", pe_stub() + b"\0" * 4096)])))
        cp = subprocess.run(["cpio", "-o", "-H", "bin", "--quiet"], input=b"setup.zip\n", cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
        write(d, "eocd0-in.cpio", cp)
    if shutil.which("arj"):
        with open(os.path.join(work, "report.txt"), "wb") as f:
            f.write(b"".join(b"row %d of the report\n" % (i % 11) for i in range(200)))
        with open(os.path.join(work, "setup.exe"), "wb") as f:
            f.write(pe_stub() + b"\0" * 192)
        subprocess.run(["arj", "a", "-y", "-i", "-m1", "whole.arj", "report.txt", "setup.exe"], cwd=work,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        arj = open(os.path.join(work, "whole.arj"), "rb").read()
        write(d, "whole.arj", arj)
        write(d, "cut.arj", arj[:-40])
        write(d, "damaged.arj", arj[:1] + bytes([arj[1] ^ 0x20]) + arj[2:])
    if shutil.which("7z"):
        with open(os.path.join(work, "secret.txt"), "wb") as f:
            f.write(b"confidential\n")
        for name, extra in (("enc.7z", []), ("enc-hdr.7z", ["-mhe=on"])):
            subprocess.run(["7z", "a", "-pPW1234"] + extra + [name, "secret.txt"], cwd=work, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.move(os.path.join(work, name), os.path.join(d, name))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
