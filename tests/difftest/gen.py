"""gen.py - the differential test generator: recipes -> test messages.

A *recipe* is a small string that says how one test message is made, read
left to right (innermost first), tokens separated by " / ":

    marker+pre=zero512 / gz / tar.gnu / zip.store+eocd0 / mime.b64

  payload   eicar | marker | exe (a harmless PE stub holding the marker)
            +pre=P  bytes before the payload (zero512, zero4k, junk, text)
            +name=N the member's file name
  layer     a compression or archive format, FORMAT[.VARIANT], with
            +MANGLE[=ARG] changes applied to its output (broken or
            inconsistent headers, truncation, prefixes, concatenation)
  mime      the last token: how the result rides in the message
            (base64 with junk, quoted-printable, uuencode in the body,
            nested message/rfc822, wrong declared type, no boundary, ...)

random_recipe(rng) draws one; build(recipe, workdir) returns the decoded
attachment ("the part") and the raw message.  The same recipe always
builds the same message (tool-made layers get fixed file times and
SOURCE_DATE_EPOCH); a case number and a seed give the same recipe
(difftest.py --seed S --case I).

EICAR and the marker are assembled here at run time: no file of the
repository holds them.  The "exe" payload is a 200-byte MZ/PE header
stub with no code: it cannot run, it only looks like a Windows program.

Formats built by tools we did not write (7z, lzip, zstd, lz4, lzop,
compress, cpio, gcab, arj, jlha, xorriso, bsdtar) or by Python's
standard library (gzip, bz2, lzma, zipfile, tarfile).  Debian main has no
RAR writer: rar4 "store" archives and LZH lh0 (stored) archives are
assembled here from their published header layouts; LZH with lh5/lh6/lh7
compression comes from jlha (Java: slow, so it is drawn rarely).
"""

import base64
import binascii
import bz2
import gzip
import io
import lzma
import os
import quopri
import random
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zipfile
import zlib

FIXED_TIME = 1704067200  # 2024-01-01T00:00:00Z: every file time in every archive
FIXED_DT = (2024, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------- payloads

def eicar():
    """The EICAR test string, assembled so no file in the repo holds it."""
    return ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode("ascii")


def marker():
    """The harmless string of sigs/mailwarden-test.ndb (Mailwarden.Test.Marker)."""
    return ("MAILWARDEN-TEST-" + "MARKER-7f3a9c1e").encode("ascii")


def pe_stub(with_marker=True):
    """An MZ header pointing at a PE header for i386, no sections, no code;
    the marker (if asked for) sits in the DOS stub area."""
    b = bytearray(256)
    b[0:2] = b"MZ"
    struct.pack_into("<I", b, 0x3C, 0x80)
    m = marker() if with_marker else b"This program cannot be run at all."
    b[0x40:0x40 + len(m)] = m
    b[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<HHIIIHH", b, 0x84, 0x14C, 0, FIXED_TIME, 0, 0, 0xE0, 0x0102)
    return bytes(b)


PAYLOADS = {
    "eicar": (lambda: eicar() + b"\r\n", "readme.txt"),
    "marker": (lambda: b"Quarterly figures, draft.\n" + marker() + b"\nEnd.\n", "notes.txt"),
    "exe": (pe_stub, "setup.exe"),
    "pe": (lambda: pe_stub(False), "setup.exe"),  # no signature matches: only names and types can tell
}

PRE = {
    "none": b"",
    "zero512": b"\0" * 512,  # issue 14 item 1: reads as an empty tar
    "zero1k": b"\0" * 1024,
    "zero4k": b"\0" * 4096,
    "junk": bytes((i * 73 + 41) & 0xFF for i in range(300)),
    "text": b"Dear customer,\n" * 40,
    "tarhdr": b"ustar\0" + b"\0" * 506,
}

NAMES = ["notes.txt", "readme.txt", "eicar.com", "report.pdf", "setup.exe", "data.bin", "invoice.doc",
         "\u8acb\u6c42\u66f8.txt"]  # 請求書.txt


# ---------------------------------------------------------------- recipes

class Token:
    """One recipe token: kind, variant, mods [(key, value or None)]."""

    def __init__(self, kind, variant=None, mods=()):
        self.kind, self.variant, self.mods = kind, variant, list(mods)

    def mod(self, key, default=None):
        for k, v in self.mods:
            if k == key:
                return v if v is not None else True
        return default

    def __str__(self):
        s = self.kind + ("." + self.variant if self.variant else "")
        for k, v in self.mods:
            s += "+" + k + ("=" + v if v is not None else "")
        return s

    @staticmethod
    def parse(text):
        parts = text.strip().split("+")
        head = parts[0]
        kind, _, variant = head.partition(".")
        mods = []
        for p in parts[1:]:
            k, eq, v = p.partition("=")
            mods.append((k, v if eq else None))
        return Token(kind, variant or None, mods)


def parse(recipe):
    """A recipe string -> [Token]: payload, layers..., mime."""
    toks = [Token.parse(t) for t in recipe.split(" / ") if t.strip()]
    if len(toks) < 2 or toks[0].kind not in PAYLOADS or toks[-1].kind != "mime":
        raise ValueError("recipe needs PAYLOAD / [LAYER /]... mime.X: %r" % recipe)
    return toks


def unparse(toks):
    return " / ".join(str(t) for t in toks)


# ---------------------------------------------------------------- helpers

def run_tool(argv, cwd, stdin=None):
    env = dict(os.environ, TZ="UTC", SOURCE_DATE_EPOCH=str(FIXED_TIME), LC_ALL="C.UTF-8")
    p = subprocess.run(argv, cwd=cwd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=60)
    if p.returncode != 0:
        raise GenError("%s failed (%d): %s" % (argv[0], p.returncode, p.stderr.decode(errors="replace")[-300:]))
    return p.stdout


class GenError(Exception):
    """A layer could not be built (missing tool, tool refused)."""


def stage_files(workdir, files):
    """Write files [(name, data)] into a fresh directory with fixed times."""
    d = tempfile.mkdtemp(prefix="in-", dir=workdir)
    for name, data in files:
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (FIXED_TIME, FIXED_TIME))
    return d


def tool_archive(workdir, files, argv_fn, outname):
    """Run an archiver over staged files; argv_fn(out, names) -> argv."""
    d = stage_files(workdir, files)
    out = os.path.join(d, "..", os.path.basename(d) + "." + outname)
    try:
        run_tool(argv_fn(os.path.abspath(out), [n for n, _ in files]), d)
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)
        if os.path.exists(out):
            os.unlink(out)


def stem(name):
    return name.rsplit(".", 1)[0] if "." in name else name


def decoy():
    return ("notice-0.txt", b"Nothing to see here.\n" * 3)


# ---------------------------------------------------------------- compressors

def c_gz(data, name, tok):
    v = tok.variant or "std"
    if v == "multi":  # two members: part of the data, then the rest
        cut = len(data) // 2
        return gzip.compress(data[:cut], mtime=0) + gzip.compress(data[cut:], mtime=0)
    if v == "empty1":  # an empty member first
        return gzip.compress(b"", mtime=0) + gzip.compress(data, mtime=0)
    if v == "name":  # FNAME and FCOMMENT set
        raw = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = raw.compress(data) + raw.flush()
        hdr = b"\x1f\x8b\x08\x18" + struct.pack("<I", FIXED_TIME) + b"\x00\x03"
        hdr += name.encode("utf-8", "replace") + b"\0" + b"archived by difftest\0"
        return hdr + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    if v == "store":  # deflate level 0
        return gzip.compress(data, compresslevel=0, mtime=0)
    return gzip.compress(data, mtime=0)


def c_bz2(data, name, tok):
    if tok.variant == "multi":
        cut = len(data) // 2
        return bz2.compress(data[:cut]) + bz2.compress(data[cut:])
    return bz2.compress(data)


def c_xz(data, name, tok):
    if tok.variant == "multi":
        cut = len(data) // 2
        return lzma.compress(data[:cut]) + lzma.compress(data[cut:])
    if tok.variant == "nocheck":
        return lzma.compress(data, check=lzma.CHECK_NONE)
    return lzma.compress(data)


def c_lzma(data, name, tok):
    return lzma.compress(data, format=lzma.FORMAT_ALONE)


def c_stream_tool(argv):
    def f(data, name, tok):
        return run_tool(argv, cwd="/", stdin=data)
    return f


def c_zstd(data, name, tok):
    if tok.variant == "multi":
        cut = len(data) // 2
        return (run_tool(["zstd", "-q", "-c"], "/", data[:cut]) + run_tool(["zstd", "-q", "-c"], "/", data[cut:]))
    return run_tool(["zstd", "-q", "-c", "--no-check" if tok.variant == "nocheck" else "--check"], "/", data)


COMPRESSORS = {
    "gz": (c_gz, ".gz", ["std", "multi", "empty1", "name", "store"]),
    "bz2": (c_bz2, ".bz2", ["std", "multi"]),
    "xz": (c_xz, ".xz", ["std", "multi", "nocheck"]),
    "lzma": (c_lzma, ".lzma", [None]),
    "lzip": (c_stream_tool(["lzip", "-c"]), ".lz", [None]),
    "zstd": (c_zstd, ".zst", ["std", "multi", "nocheck"]),
    "Z": (c_stream_tool(["compress", "-c", "-f"]), ".Z", [None]),
    "lz4": (c_stream_tool(["lz4", "-q", "-c"]), ".lz4", [None]),
    "lzop": (c_stream_tool(["lzop", "-c"]), ".lzo", [None]),
}


# ---------------------------------------------------------------- archivers

def a_zip(files, tok, workdir):
    v = tok.variant or "deflate"
    if v in ("aes", "zipcrypto"):
        if v == "aes":
            return tool_archive(workdir, files, lambda o, n: ["7z", "a", "-tzip", "-bso0", "-bsp0", "-mem=AES256",
                                                              "-pinfected", o] + n, "zip")
        return tool_archive(workdir, files, lambda o, n: ["zip", "-q", "-X", "-P", "infected", o] + n, "zip")
    if v == "7z":  # 7-Zip's own zip writer
        return tool_archive(workdir, files, lambda o, n: ["7z", "a", "-tzip", "-bso0", "-bsp0", o] + n, "zip")
    comp = {"deflate": zipfile.ZIP_DEFLATED, "store": zipfile.ZIP_STORED, "bzip2": zipfile.ZIP_BZIP2,
            "lzma": zipfile.ZIP_LZMA, "zip64": zipfile.ZIP_DEFLATED, "stream": zipfile.ZIP_DEFLATED}[v]
    buf = io.BytesIO()
    if v == "stream":  # data descriptors (sizes after the data), as a pipe writer makes them
        class NoSeek(io.RawIOBase):
            def __init__(self, b):
                self.b = b

            def writable(self):
                return True

            def write(self, s):
                return self.b.write(s)
        target = NoSeek(buf)
    else:
        target = buf
    with zipfile.ZipFile(target, "w", comp) as z:
        for name, data in files:
            zi = zipfile.ZipInfo(name, FIXED_DT)
            zi.compress_type = comp
            with z.open(zi, "w", force_zip64=(v == "zip64")) as f:
                f.write(data)
    return buf.getvalue()


def a_tar(files, tok, workdir):
    v = tok.variant or "ustar"
    if v == "v7":
        return tool_archive(workdir, files, lambda o, n: ["bsdtar", "-c", "--format", "v7", "-f", o] + n, "tar")
    fmt = {"ustar": tarfile.USTAR_FORMAT, "gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT}[v]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), FIXED_TIME, 0o644
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def a_7z(files, tok, workdir):
    v = tok.variant or "lzma2"
    opts = {"lzma2": ["-m0=lzma2"], "copy": ["-m0=copy"], "ppmd": ["-m0=ppmd"], "bzip2": ["-m0=bzip2"],
            "deflate": ["-m0=deflate"], "enc": ["-pinfected"], "hdrenc": ["-pinfected", "-mhe=on"],
            "solid": ["-ms=on"]}[v]
    return tool_archive(workdir, files, lambda o, n: ["7z", "a", "-t7z", "-bso0", "-bsp0"] + opts + [o] + n, "7z")


def a_cpio(files, tok, workdir):
    v = tok.variant or "newc"
    d = stage_files(workdir, files)
    try:
        names = "".join(n + "\n" for n, _ in files).encode()
        return run_tool(["cpio", "-o", "--quiet", "-H", v], d, names)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def a_iso(files, tok, workdir):
    v = tok.variant or "plain"
    opts = {"plain": [], "rr": ["-R"], "joliet": ["-J"], "rrj": ["-R", "-J"]}[v]
    return tool_archive(workdir, files, lambda o, n: ["xorriso", "-as", "mkisofs", "-quiet"] + opts +
                        ["-o", o] + n, "iso")


def a_cab(files, tok, workdir):
    z = ["-z"] if (tok.variant or "mszip") == "mszip" else []
    return tool_archive(workdir, files, lambda o, n: ["gcab", "-c", "-n"] + z + [o] + n, "cab")


def a_arj(files, tok, workdir):
    m = {"store": "-m0", "m1": "-m1", "m4": "-m4"}[tok.variant or "m1"]
    return tool_archive(workdir, files, lambda o, n: ["arj", "a", "-y", "-i", m, o] + n, "arj")


def a_ar(files, tok, workdir):
    return tool_archive(workdir, files, lambda o, n: ["bsdtar", "-c", "--format", "ar", "-f", o] + n, "a")


def a_xar(files, tok, workdir):
    return tool_archive(workdir, files, lambda o, n: ["bsdtar", "-c", "--format", "xar", "-f", o] + n, "xar")


def a_warc(files, tok, workdir):
    return tool_archive(workdir, files, lambda o, n: ["bsdtar", "-c", "--format", "warc", "-f", o] + n, "warc")


def a_lzh(files, tok, workdir):
    v = tok.variant or "lh0"
    if v == "lh0":
        return lzh_stored(files, level=0)
    if v == "lh0l2":
        return lzh_stored(files, level=2)
    o = {"lh5": "o5", "lh6": "o6", "lh7": "o7"}[v]
    return tool_archive(workdir, files, lambda out, n: ["jlha", "a" + "q" + o, out] + n, "lzh")


def a_rar(files, tok, workdir):
    return rar4_stored(files)


ARCHIVERS = {
    "zip": (a_zip, ".zip", ["deflate", "store", "bzip2", "lzma", "zip64", "stream", "7z", "aes", "zipcrypto"]),
    "tar": (a_tar, ".tar", ["ustar", "gnu", "pax", "v7"]),
    "7z": (a_7z, ".7z", ["lzma2", "copy", "ppmd", "bzip2", "deflate", "solid", "enc", "hdrenc"]),
    "cpio": (a_cpio, ".cpio", ["newc", "odc", "bin", "crc"]),
    "iso": (a_iso, ".iso", ["plain", "rr", "joliet", "rrj"]),
    "cab": (a_cab, ".cab", ["mszip", "none"]),
    "arj": (a_arj, ".arj", ["store", "m1", "m4"]),
    "ar": (a_ar, ".a", [None]),
    "xar": (a_xar, ".xar", [None]),
    "warc": (a_warc, ".warc", [None]),
    "lzh": (a_lzh, ".lzh", ["lh0", "lh0l2", "lh5", "lh6", "lh7"]),
    "rar": (a_rar, ".rar", ["store"]),
}


# ---------------------------------------------------------------- hand-made formats

def crc16_arc(data):
    """CRC-16/ARC (poly 0xA001 reflected), as LHA uses."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def dos_time(t=FIXED_DT):
    y, mo, d, h, mi, s = t
    return ((y - 1980) << 25) | (mo << 21) | (d << 16) | (h << 11) | (mi << 5) | (s // 2)


def lzh_stored(files, level):
    """LHA archive with -lh0- (stored) members, header level 0 or 2."""
    out = b""
    for name, data in files:
        nb = name.encode("utf-8", "replace")
        crc = crc16_arc(data)
        if level == 0:
            body = (b"-lh0-" + struct.pack("<IIIBB", len(data), len(data), dos_time(), 0x20, 0) +
                    bytes([len(nb)]) + nb + struct.pack("<H", crc))
            out += bytes([len(body), sum(body) & 0xFF]) + body + data
        else:
            # fixed part (26 bytes, ending with the size of the first
            # extension header), then one extension header: the file name
            # and the header CRC (CRC-16 of the whole header, its own
            # field zero), which libarchive checks
            crc_ext = b"\x00\x00\x00" + struct.pack("<H", 3 + len(nb))
            ext = crc_ext + b"\x01" + nb + struct.pack("<H", 0)
            total = 26 + len(ext)
            hdr = bytearray(struct.pack("<H", total) + b"-lh0-" +
                            struct.pack("<IIIBBHB", len(data), len(data), FIXED_TIME, 0x20, 2, crc, ord("U")) +
                            struct.pack("<H", len(crc_ext)) + ext)
            struct.pack_into("<H", hdr, 27, crc16_arc(bytes(hdr)))
            out += bytes(hdr) + data
    return out + b"\0"


def rar4_stored(files):
    """RAR 4.x archive with stored (method 0x30) members."""
    def block(htype, flags, body, add_size=None):
        size = 7 + len(body)
        head = struct.pack("<BHH", htype, flags, size) + body
        crc = zlib.crc32(head) & 0xFFFF
        return struct.pack("<H", crc) + head

    out = b"Rar!\x1a\x07\x00"
    out += block(0x73, 0x0000, b"\0" * 6)  # main archive header, reserved fields
    for name, data in files:
        nb = name.encode("utf-8", "replace")
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 2, zlib.crc32(data), dos_time(), 20, 0x30,
                           len(nb), 0x20) + nb
        out += block(0x74, 0x8000, body) + data  # 0x8000: LONG_BLOCK (data follows)
    out += block(0x7B, 0x4000, b"")  # end of archive
    return out


# ---------------------------------------------------------------- mangles

def find_all(data, sig):
    i, out = data.find(sig), []
    while i >= 0:
        out.append(i)
        i = data.find(sig, i + 1)
    return out


def m_zip(data, key, arg, rng):
    b = bytearray(data)
    eocds = find_all(data, b"PK\x05\x06")
    if not eocds:
        return data
    e = eocds[-1]
    cd_off = struct.unpack_from("<I", b, e + 16)[0]
    z64 = find_all(data, b"PK\x06\x06")
    if key == "eocd0":  # end record says no entries; local headers still hold the files
        struct.pack_into("<HH", b, e + 8, 0, 0)
        for z in z64:
            struct.pack_into("<QQ", b, z + 24, 0, 0)
    elif key == "emptycd":  # a valid empty archive's end record after the local headers, no directory
        if cd_off < e:
            tail = bytearray(b[e:])
            struct.pack_into("<HHII", tail, 8, 0, 0, 0, cd_off)
            return bytes(b[:cd_off]) + bytes(tail)
    elif key == "nocd":  # local headers only: central directory and end record cut away
        if cd_off != 0xFFFFFFFF and cd_off < len(b):
            return bytes(b[:cd_off])
        cds = find_all(data, b"PK\x01\x02")
        return bytes(b[:cds[0]]) if cds else data
    elif key == "cdoff":
        struct.pack_into("<I", b, e + 16, (cd_off + 7) & 0xFFFFFFFF)
    elif key == "crc":
        for off in find_all(data, b"PK\x03\x04"):
            struct.pack_into("<I", b, off + 14, struct.unpack_from("<I", b, off + 14)[0] ^ 0x5A5A5A5A)
        for off in find_all(data, b"PK\x01\x02"):
            struct.pack_into("<I", b, off + 16, struct.unpack_from("<I", b, off + 16)[0] ^ 0x5A5A5A5A)
    elif key == "lfhname":  # local header names the member .exe, central directory .txt
        for off in find_all(data, b"PK\x03\x04"):
            n = struct.unpack_from("<H", b, off + 26)[0]
            name = bytes(b[off + 30:off + 30 + n])
            if len(name) >= 4 and name[-4:-3] == b".":
                b[off + 30 + n - 3:off + 30 + n] = b"exe"
    elif key == "cdname":  # central directory names the member .txt, local header keeps its own
        for off in find_all(data, b"PK\x01\x02"):
            n = struct.unpack_from("<H", b, off + 28)[0]
            if n >= 4:
                b[off + 46 + n - 3:off + 46 + n] = b"txt"
    elif key == "encflag":  # the encryption flag set on a member that is not encrypted
        for off in find_all(data, b"PK\x03\x04"):
            b[off + 6] |= 1
        for off in find_all(data, b"PK\x01\x02"):
            b[off + 8] |= 1
    elif key == "method99":  # an unknown compression method in the central directory
        for off in find_all(data, b"PK\x01\x02"):
            struct.pack_into("<H", b, off + 10, 99)
    return bytes(b)


def m_gz(data, key, arg, rng):
    b = bytearray(data)
    if key == "crc" and len(b) >= 8:
        struct.pack_into("<I", b, len(b) - 8, struct.unpack_from("<I", b, len(b) - 8)[0] ^ 0xFFFFFFFF)
    elif key == "isize" and len(b) >= 4:
        struct.pack_into("<I", b, len(b) - 4, 7)
    elif key == "flag" and len(b) > 3:
        b[3] |= 0xE0  # reserved flag bits
    return bytes(b)


def m_tar(data, key, arg, rng):
    b = bytearray(data)
    if key == "chksum" and len(b) >= 512:
        b[148:156] = b"0000000\0"
    elif key == "size" and len(b) >= 512:
        b[124:136] = b"00000000001\0"  # header says 1 byte; the data block follows anyway
    return bytes(b)


def m_generic(data, key, arg, rng):
    if key == "trunc":  # keep ARG percent
        keep = max(1, len(data) * int(arg or 90) // 100)
        return data[:keep]
    if key == "cut":  # drop the last ARG bytes
        return data[:max(1, len(data) - int(arg or 1))]
    if key == "prefix":
        return PREFIXES[arg or "junk"]() + data
    if key == "suffix":
        return data + PREFIXES[arg or "junk"]()
    if key == "twice":  # the same stream again after itself
        return data + data
    if key == "flip":  # one byte of the first header changed
        off = int(arg or 4) % max(1, len(data))
        b = bytearray(data)
        b[off] ^= 0x20
        return bytes(b)
    return data


def benign_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("hello.txt", FIXED_DT), b"hello\n")
    return buf.getvalue()


PREFIXES = {
    "junk": lambda: bytes((i * 29 + 7) & 0xFF for i in range(777)),
    "zero512": lambda: b"\0" * 512,
    "gif": lambda: b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00"
                   b"\x00\x02\x02D\x01\x00;",
    "pdf": lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    "mz": lambda: b"MZ" + b"\0" * 510,
    "zip": benign_zip,
    "html": lambda: b"<html><body>Invoice attached</body></html>\n",
}

MANGLES = {
    "zip": (m_zip, ["eocd0", "emptycd", "nocd", "cdoff", "crc", "lfhname", "cdname", "encflag", "method99"]),
    "gz": (m_gz, ["crc", "isize", "flag"]),
    "tar": (m_tar, ["chksum", "size"]),
}
GENERIC_MANGLES = ["trunc=50", "trunc=90", "cut=1", "cut=8", "prefix=junk", "prefix=zero512", "prefix=gif",
                   "prefix=pdf", "prefix=mz", "prefix=zip", "suffix=junk", "suffix=zip", "twice", "flip=1",
                   "flip=3", "flip=9"]


def apply_mods(kind, data, tok, rng):
    for k, v in tok.mods:
        specific = MANGLES.get(kind)
        if specific and k in specific[1]:
            data = specific[0](data, k, v, rng)
        else:
            data = m_generic(data, k, v, rng)
    return data


# ---------------------------------------------------------------- MIME

MIME_KINDS = ["b64", "b64junk", "b64long", "b64nopad", "qp", "qplines", "binary", "uu", "xuu", "rfc822", "rfc822x3",
              "wrongtype", "texttype", "noboundary", "noname", "single", "rfc2231", "dupcte", "preamble",
              "badcte", "lf"]

CTYPES = {".gz": "application/gzip", ".zip": "application/zip", ".7z": "application/x-7z-compressed",
          ".rar": "application/vnd.rar", ".tar": "application/x-tar", ".bz2": "application/x-bzip2",
          ".xz": "application/x-xz", ".lzh": "application/x-lzh-compressed", ".cab": "application/vnd.ms-cab-compressed",
          ".iso": "application/x-iso9660-image", ".exe": "application/x-msdownload",
          ".txt": "text/plain", ".pdf": "application/pdf", ".doc": "application/msword"}


def b64_lines(data, width=76):
    s = base64.b64encode(data).decode("ascii")
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width)) + "\r\n"


def b64_junk(data):
    """Base64 with characters a decoder must skip: '!', '*', spaces, tabs."""
    s = base64.b64encode(data).decode("ascii")
    out, junk = [], "!* \t~"
    for i, ch in enumerate(s):
        out.append(ch)
        if i % 13 == 5:
            out.append(junk[i % len(junk)])
        if i % 60 == 59:
            out.append("\r\n")
    return "".join(out) + "\r\n"


def uu(data, name):
    out = ["begin 644 %s" % name]
    for i in range(0, len(data), 45):
        out.append(binascii.b2a_uu(data[i:i + 45]).decode("ascii").rstrip("\n"))
    out += ["`", "end"]
    return "\r\n".join(out) + "\r\n"


def qp(data):
    """Quoted-printable of binary data: every CR, LF and byte outside
    printable ASCII as =XX (so no line break is ambiguous), soft breaks
    keep lines under 76 characters."""
    out, line = [], ""
    for c in data:
        tok = chr(c) if 33 <= c <= 126 and c != 61 else "=%02X" % c
        if len(line) + len(tok) > 72:
            out.append(line + "=")
            line = ""
        line += tok
    out.append(line)
    return "\r\n".join(out)


def qp_lines(data):
    """Quoted-printable as a text encoder makes it: the data's own LF bytes
    become hard line breaks.  For binary data that is ambiguous (RFC 2045
    makes a hard break CRLF); decoders differ, which is the point."""
    return quopri.encodestring(data).replace(b"\n", b"\r\n").decode("ascii")


def header_name(name):
    try:
        name.encode("ascii")
        return name
    except UnicodeEncodeError:
        from email.header import Header
        return Header(name, "utf-8").encode()


def mime_message(tok, part, name, case_id):
    """The raw message carrying part as an attachment, per the mime token."""
    kind = tok.variant or "b64"
    ext = os.path.splitext(name)[1].lower()
    ctype = CTYPES.get(ext, "application/octet-stream")
    hdr = ("From: Difftest <difftest@sender.example>\r\n"
           "To: bob@example.com\r\n"
           "Subject: difftest %s\r\n"
           "Message-ID: <%s@difftest.example>\r\n"
           "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
           "MIME-Version: 1.0\r\n" % (case_id, case_id))
    text = "Content-Type: text/plain; charset=us-ascii\r\n\r\nPlease find the file attached.\r\n"
    qname = header_name(name)
    disp = 'Content-Disposition: attachment; filename="%s"\r\n' % qname
    binary = False
    if kind == "b64":
        att = 'Content-Type: %s; name="%s"\r\n%sContent-Transfer-Encoding: base64\r\n\r\n%s' % (
            ctype, qname, disp, b64_lines(part))
    elif kind == "b64junk":
        att = 'Content-Type: %s\r\n%sContent-Transfer-Encoding: base64\r\n\r\n%s' % (ctype, disp, b64_junk(part))
    elif kind == "b64long":
        att = 'Content-Type: %s\r\n%sContent-Transfer-Encoding: base64\r\n\r\n%s' % (
            ctype, disp, b64_lines(part, 990))
    elif kind == "b64nopad":
        att = 'Content-Type: %s\r\n%sContent-Transfer-Encoding: base64\r\n\r\n%s' % (
            ctype, disp, b64_lines(part).replace("=", ""))
    elif kind == "qp":
        att = 'Content-Type: %s\r\n%sContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n' % (
            ctype, disp, qp(part))
    elif kind == "qplines":
        att = 'Content-Type: %s\r\n%sContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n' % (
            ctype, disp, qp_lines(part))
    elif kind == "binary":
        binary = True
        att = None
    elif kind == "uu":  # uuencoded inside a plain text body, no attachment part
        body = "Hello,\r\n\r\nthe file follows.\r\n\r\n" + uu(part, name) + "\r\nRegards\r\n"
        return (hdr + "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body).encode("utf-8")
    elif kind == "xuu":
        att = 'Content-Type: %s\r\n%sContent-Transfer-Encoding: x-uuencode\r\n\r\n%s' % (ctype, disp, uu(part, name))
    elif kind == "wrongtype":
        att = 'Content-Type: image/png; name="%s"\r\n%sContent-Transfer-Encoding: base64\r\n\r\n%s' % (
            qname, disp, b64_lines(part))
    elif kind == "texttype":  # declared text/plain, no file name, base64 body
        att = 'Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n%s' % (
            b64_lines(part))
    elif kind == "noname":
        att = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n%s' % (
            b64_lines(part))
    elif kind == "rfc2231":
        enc = "".join("%%%02X" % c for c in name.encode("utf-8"))
        att = ("Content-Type: %s\r\nContent-Disposition: attachment;\r\n filename*0*=utf-8''%s;\r\n filename*1=.x\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n%s" % (ctype, enc, b64_lines(part)))
    elif kind == "dupcte":
        att = ('Content-Type: %s\r\n%sContent-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: base64\r\n\r\n%s'
               % (ctype, disp, b64_lines(part)))
    elif kind == "badcte":
        att = 'Content-Type: %s\r\n%sContent-Transfer-Encoding: base-64\r\n\r\n%s' % (ctype, disp, b64_lines(part))
    elif kind == "single":  # the whole message is the attachment
        return (hdr + 'Content-Type: %s; name="%s"\r\n%sContent-Transfer-Encoding: base64\r\n\r\n%s' % (
            ctype, qname, disp, b64_lines(part))).encode("utf-8")
    elif kind == "noboundary":
        return (hdr + "Content-Type: multipart/mixed\r\n\r\n--b1\r\n" + text + "--b1\r\n" +
                'Content-Type: %s\r\n%sContent-Transfer-Encoding: base64\r\n\r\n%s--b1--\r\n' % (
                    ctype, disp, b64_lines(part))).encode("utf-8")
    elif kind == "preamble":  # the attachment sits in the preamble, before the first boundary
        return (hdr + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n' +
                'Content-Type: %s\r\n%sContent-Transfer-Encoding: base64\r\n\r\n%s' % (ctype, disp, b64_lines(part)) +
                "--b1\r\n" + text + "--b1--\r\n").encode("utf-8")
    elif kind in ("rfc822", "rfc822x3"):
        inner = mime_message(Token("mime", "b64"), part, name, case_id + "-inner")
        for _ in range(3 if kind == "rfc822x3" else 1):
            inner = (hdr.encode() + b'Content-Type: multipart/mixed; boundary="o1"\r\n\r\n--o1\r\n' + text.encode() +
                     b"--o1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"fwd.eml\""
                     b"\r\n\r\n" + inner + b"\r\n--o1--\r\n")
        return inner
    elif kind == "lf":  # bare LF line ends throughout
        m = mime_message(Token("mime", "b64"), part, name, case_id)
        return m.replace(b"\r\n", b"\n")
    else:
        raise ValueError("unknown mime kind %r" % kind)
    out = (hdr + 'Content-Type: multipart/mixed; boundary="=_b1"\r\n\r\nThis is a MIME message.\r\n'
           "--=_b1\r\n" + text + "--=_b1\r\n").encode("utf-8")
    if binary:
        out += ('Content-Type: %s\r\n%sContent-Transfer-Encoding: binary\r\n\r\n' % (ctype, disp)).encode("utf-8")
        out += part + b"\r\n"
    else:
        out += att.encode("utf-8")
    return out + b"--=_b1--\r\n"


# ---------------------------------------------------------------- build

def build(recipe, workdir, case_id="case"):
    """recipe (string) -> (part name, part bytes, raw message)."""
    toks = parse(recipe)
    ptok = toks[0]
    make, default_name = PAYLOADS[ptok.kind]
    data = PRE[ptok.mod("pre", "none")] + make()
    name = ptok.mod("name", default_name)
    rng = random.Random(recipe)
    for tok in toks[1:-1]:
        if tok.kind in COMPRESSORS:
            fn, ext, _ = COMPRESSORS[tok.kind]
            data = fn(data, name, tok)
            name = name + ext
        elif tok.kind in ARCHIVERS:
            fn, ext, _ = ARCHIVERS[tok.kind]
            files = [(name, data)]
            if tok.mod("decoy"):
                files = [decoy(), (name, data)]
            data = fn(files, tok, workdir)
            name = stem(name) + ext
        else:
            raise ValueError("unknown layer %r" % tok.kind)
        data = apply_mods(tok.kind, data, tok, rng)
    return name, data, mime_message(toks[-1], data, name, case_id)


def random_recipe(rng, weights=None):
    """Draw a recipe.  Biased toward what broke before: zero padding under
    a compressor, inconsistent zip records, truncation."""
    w = weights or {}
    payload = rng.choice(["eicar", "marker", "marker", "exe", "pe"])
    ptok = Token(payload)
    r = rng.random()
    if r < w.get("pre", 0.3):
        ptok.mods.append(("pre", rng.choice(["zero512", "zero512", "zero1k", "zero4k", "junk", "text", "tarhdr"])))
    if rng.random() < 0.15:
        ptok.mods.append(("name", rng.choice(NAMES)))
    toks = [ptok]
    depth = rng.choice([1, 1, 1, 2, 2, 2, 3, 4])
    for i in range(depth):
        if rng.random() < 0.45:
            kind = rng.choice(list(COMPRESSORS) + ["gz", "gz", "bz2", "xz"])
            variant = rng.choice(COMPRESSORS[kind][2])
        else:
            kind = rng.choice(list(ARCHIVERS) + ["zip", "zip", "zip", "tar", "7z"])
            variants = ARCHIVERS[kind][2]
            if kind == "lzh" and rng.random() < 0.8:
                variants = ["lh0", "lh0l2"]  # jlha needs a JVM: rarely
            variant = rng.choice(variants)
        tok = Token(kind, variant)
        if kind in ARCHIVERS and rng.random() < 0.2:
            tok.mods.append(("decoy", None))
        if rng.random() < w.get("mangle", 0.3):
            if kind in MANGLES and rng.random() < 0.7:
                tok.mods.append((rng.choice(MANGLES[kind][1]), None))
            else:
                k, _, v = rng.choice(GENERIC_MANGLES).partition("=")
                tok.mods.append((k, v or None))
        toks.append(tok)
    toks.append(Token("mime", rng.choice(MIME_KINDS + ["b64"] * 6)))
    return unparse(toks)


# The reproductions of issue 14 item 1 and its neighbours: always in the slice.
PINNED = [
    "eicar+pre=zero512 / gz / mime.b64",
    "marker+pre=zero512 / gz / mime.b64",
    "marker+pre=zero512 / bz2 / mime.b64",
    "marker+pre=zero512 / xz / mime.b64",
    "marker+pre=zero512 / zstd / mime.b64",
    "marker+pre=zero512 / lzip / mime.b64",
    "marker+pre=zero1k / gz / mime.b64",
    "exe / zip.deflate+eocd0 / mime.b64",
    "pe / zip.deflate+eocd0 / mime.b64",
    "pe+name=report.pdf / zip.deflate+eocd0 / mime.b64",
    "pe / zip.store+nocd / mime.b64",
    "pe / zip.deflate+emptycd / mime.b64",
    "marker / zip.deflate+emptycd / mime.b64",
    "marker / zip.deflate+eocd0 / mime.b64",
    "marker / zip.store+nocd / mime.b64",
    "marker / zip.deflate+crc / mime.b64",
    "exe / zip.deflate+lfhname / mime.b64",
    "marker / gz.multi / mime.b64",
    "marker / gz+trunc=90 / mime.b64",
    "marker / zip.deflate+prefix=gif / mime.b64",
    "marker / zip.deflate+prefix=zip / mime.b64",
    "marker / tar.ustar / gz / mime.b64",
    "marker / 7z.lzma2 / mime.b64",
    "marker / rar.store / mime.b64",
    "marker / lzh.lh0 / mime.b64",
    "marker / cab.mszip / mime.b64",
    "marker / arj.m1 / mime.b64",
    "marker / iso.rr / mime.b64",
    "marker / cpio.newc / xz / mime.b64",
    "marker / zip.deflate / mime.uu",
    "marker / zip.deflate / mime.rfc822x3",
    "marker / zip.deflate / mime.noboundary",
    "eicar / zip.aes / mime.b64",
    # seed 2's long run: a text/plain label on binary content, and
    # containers behind a PDF or other non-archive head
    "marker / Z / mime.texttype",
    "marker / lzma / mime.texttype",
    "pe / rar / mime.texttype",
    "pe / ar / mime.texttype",
    "marker / zstd.multi / mime.texttype",
    "pe / xz+prefix=pdf / mime.b64",
    "marker / bz2+prefix=pdf / mime.b64",
    "pe / cpio+prefix=pdf / mime.b64",
    "marker / gz+prefix=pdf / mime.b64",
    "marker / xar / mime.b64",
    "marker / xar+prefix=gif / mime.b64",
    "marker / lzma / mime.preamble",
    "pe / warc / mime.preamble",
    # hunt2, after seed 2: binary quoted-printable whose CRLF line ends
    # were converted again (CR CR LF): one line end, "=" CR CR LF soft
    "eicar / tar.gnu / mime.qplines",
    "eicar / lz4 / mime.qplines",
    "marker / bz2.std / lzop+flip=3 / mime.qplines",
    # hunt2: containers found past a prefix by every signature libarchive
    # reads (cpio newc-crc and binary, tar's ustar, LZH, WARC)
    "pe / cpio.crc+prefix=pdf / mime.rfc822",
    "pe / cpio.bin+prefix=pdf / mime.binary",
    "pe / tar.pax+prefix=junk / mime.noname",
    "pe / lzh.lh0+prefix=gif / mime.b64",
    "pe / lzh.lh0l2+decoy / warc+prefix=zero512 / mime.b64",
    # hunt2: a compressed stream is one file (decompressed whole, then
    # walked as what it is); a cut stream is compressed data, not text;
    # streams libclamav takes out of an ARJ are walked by us
    "marker / tar.pax+prefix=zip / zstd.std / mime.b64",
    "pe / lz4+cut=1 / mime.b64",
    "pe / lzma / arj.m1 / mime.b64",
    "marker / Z / arj.store+suffix=junk / mime.b64",
    "exe / lzma+trunc=90 / arj.store / mime.wrongtype",
    # hunt2: a hidden stream whose content starts with zeros (an empty tar
    # to the archive bidders) is still a stream
    "exe+pre=zero1k / xz.nocheck+prefix=pdf / mime.rfc822",
    "marker+pre=zero4k / bz2.multi+prefix=gif / mime.b64",
    # hunt2: every member ClamAV did not see goes to it whole, archives
    # too, and what it opens inside (an ARJ's files) to the content tree
    "exe / lz4+prefix=zip / arj.store / Z / mime.b64nopad",
    "pe+pre=zero1k / arj.m1+decoy / zip.lzma / mime.b64",
    # hunt2: an archive known by its head is read as that format (a zip
    # appended to a RAR won libarchive's bidding)
    "pe / rar.store+suffix=zip / mime.b64",
    "marker / 7z.ppmd+suffix=zip / tar.ustar+size / mime.wrongtype",
    # hunt2: a cut or damaged ARJ (libclamav's reader is silent on it)
    "pe / arj.m4+cut=8 / mime.b64",
    "pe / arj.m1+cut=8 / bz2.multi / mime.dupcte",
    "marker / xz.multi+cut=1 / arj.store+flip=1 / mime.wrongtype",
    # hunt2: a stream under two filters is named without both extensions
    "pe+pre=zero4k / lzma / gz.name / mime.binary",
    # hunt2: an archive format that wins the bidding and lists nothing
    # (a zip's end record at the end of a binary cpio) is still a container
    "pe+pre=text / zip.zipcrypto+emptycd / cpio.bin / mime.rfc822",
    # hunt2: lzop (no reader here) stays unreadable whatever else bids on
    # it (a zip appended), and the streams stored in it are carved
    "marker+pre=text / gz.name+prefix=gif / lzop+suffix=zip / mime.b64",
]
