#!/usr/bin/env python3
"""gen.py - a ClamAV signature database of realistic size that matches nothing real.

Usage: tests/sigdb/gen.py [--scale S] [--seed N] [--marker NAME=TEXT]... OUTDIR

Writes into OUTDIR (created; files replaced atomically):
  mwgen.hdb   MD5 file hashes          2,000,000 x scale   MD5:size:Name
  mwgen.hsb   SHA-256 file hashes      3,000,000 x scale   SHA256:size:Name[:73]
  mwgen.ndb   body signatures            135,000 x scale   Name:Target:Offset:Hex[:MinFL]
  mwgen.ldb   logical body signatures     15,000 x scale   Name;Engine,Target;Expr;Sub0;Sub1...
  mwgen.hdu, .hsu, .ndu, .ldu   5 % of each of those counts, named PUA.*:
              potentially unwanted applications, loaded only with CL_DB_PUA
              (the official set also keeps them apart)
  mwgen.about  what was generated (counts, seed, scale, bytes), one key=value a line

At scale 1.0 that is the size the issue measured against the official
database: 2 M MD5 + 3 M SHA-256 file hashes and 150,000 body signatures.

The shapes follow the official databases, because they decide how much
memory libclamav's matchers take:
  - hash signatures carry a file size (per-size hash tables) spread
    log-uniformly over 200 B .. 20 MB; 5 % of the SHA-256 ones have a
    wildcard size ('*', engine level 73), as in daily.hsb;
  - names look like the official ones (Platform.Category.Family-NNNNNNN-0),
    about 26 characters, since every signature keeps its name in memory;
  - body signatures have target types in the official proportions (PE,
    any, HTML, mail, text, PDF, ELF, OLE2/office, graphics, Mach-O), PE
    entry-point and end-of-file offsets, static signatures (40 %, which
    libclamav puts in its Boyer-Moore matcher) and signatures with
    wildcards (??, nibble a?/?a, {n}, {n-m}, {-n}, *, alternatives
    (aa|bb)), which go to the Aho-Corasick trie; lengths 12..120 bytes;
  - text-type signatures (HTML, mail, text) are printable pseudo-words,
    binary ones random bytes with x86-looking opcodes in front.

Matching nothing real: the bytes come from a seeded PRNG; every body
signature has at least one static run of 8 or more bytes and 16 or more
static bytes in all, so the chance that any given file matches is
negligible, and tests/sigdb/check.sh proves on the project's samples,
EICAR and the marker that the verdicts do not change.  Hashes are random
256/128-bit values.

--marker NAME=TEXT adds one body signature NAME for the ASCII TEXT (to
prove after a reload that the new set is active).

Deterministic: the same scale and seed give byte-identical files.  Fast:
about 10 s at scale 1.0 on one core (random blocks, hex in bulk).
"""

import argparse
import os
import random
import sys
import time

N_MD5 = 2_000_000
N_SHA = 3_000_000
N_NDB = 135_000
N_LDB = 15_000
PUA_SHARE = 0.05

PLATFORMS = [  # (prefix, weight, target type of body signatures, text?)
    ("Win", 46, 1, False),
    ("Win", 8, 0, False),
    ("Html", 9, 3, True),
    ("Email", 4, 4, True),
    ("Txt", 3, 7, True),
    ("Js", 5, 7, True),
    ("Pdf", 5, 10, False),
    ("Unix", 6, 6, False),
    ("Doc", 5, 2, False),
    ("Xls", 3, 2, False),
    ("Img", 2, 5, False),
    ("Osx", 2, 9, False),
    ("Andr", 2, 0, False),
]
CATEGORIES = ["Trojan", "Malware", "Downloader", "Dropper", "Exploit", "Phishing", "Worm", "Adware",
              "Virus", "Packed", "Ransomware", "Coinminer", "Backdoor", "Keylogger"]
PUA_CATS = ["Tool", "Adware", "Packed", "Spyware", "Downloader", "Casino", "Joke"]
SYLL = ["ka", "zo", "ri", "mu", "tel", "vor", "an", "qui", "bex", "dra", "lo", "sen", "pha", "gri", "nu",
        "tor", "wex", "ly", "cro", "mi", "zan", "el", "pod", "ur", "fi", "gon", "sta", "xe"]
OPCODES = ["558bec", "e8", "ff15", "6a00", "8b4508", "50", "53", "56", "57", "c3", "33c0", "85c0", "7405",
           "0f84", "8d45", "ff75", "83c404", "89e5", "4883ec28", "488b05"]
COMMON = bytes.fromhex("00000000ffff8b8b89e8e84883c7010f0f4c8d50515356575d5e5fc3c9eb74750440")
WORDCH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.=();<>/\" "


class Gen:
    """Gen - one seeded stream of names, hashes and patterns"""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.families = ["".join(self.r.choice(SYLL) for _ in range(self.r.randint(2, 3))).capitalize()
                         for _ in range(4000)]
        self.weights = [p[1] for p in PLATFORMS]
        self.serial = 1000000
        self.pua = False

    def platform(self):
        return self.r.choices(PLATFORMS, self.weights)[0]

    def name(self, plat=None):
        p = plat or self.platform()
        self.serial += self.r.randint(1, 7)
        if self.pua:
            return "PUA.%s.%s.%s-%d-0" % (p[0], self.r.choice(PUA_CATS), self.r.choice(self.families), self.serial)
        return "%s.%s.%s-%d-0" % (p[0], self.r.choice(CATEGORIES), self.r.choice(self.families), self.serial)

    def size(self):
        # log-uniform 200 B .. 20 MB, as file sizes of samples are
        return int(200 * (100000 ** self.r.random()))

    # -- body patterns

    def static_run(self, n, text):
        """static_run - n bytes as hex: printable pseudo-words or binary"""
        if text:
            return "".join(self.r.choice(WORDCH) for _ in range(n)).encode().hex()
        if n >= 8 and self.r.random() < 0.5:
            # machine code is not uniform: half the runs use the frequent
            # bytes of x86 code, which also keeps the number of distinct
            # trie prefixes near what the official database has
            h = bytes(self.r.choice(COMMON) for _ in range(n)).hex()
            if len(set(h[i:i + 2] for i in range(0, len(h), 2))) < 4:
                h = self.r.randbytes(n).hex()
        else:
            h = self.r.randbytes(n).hex()
        if self.r.random() < 0.3:  # opcode-looking start
            op = self.r.choice(OPCODES)
            h = (op + h)[: 2 * n]
        return h

    def pattern(self, text, static_only):
        """pattern - a ClamAV hex signature; at least one run >= 8 bytes, >= 16 static bytes"""
        r = self.r
        if static_only:
            return self.static_run(r.randint(16, 64), text)
        parts = []
        static = 0
        longest = 0
        nseg = r.randint(2, 6)
        for i in range(nseg):
            n = r.randint(4, 24)
            if i == 0 or (i == nseg - 1 and longest < 8):
                n = max(n, 8)
            parts.append(self.static_run(n, text))
            static += n
            longest = max(longest, n)
            if i == nseg - 1:
                break
            w = r.random()
            if w < 0.30:
                parts.append("??" * r.randint(1, 4))
            elif w < 0.45:
                parts.append("{%d}" % r.randint(1, 32))
            elif w < 0.62:
                lo = r.randint(0, 16)
                parts.append("{%d-%d}" % (lo, lo + r.randint(1, 64)))
            elif w < 0.70:
                parts.append("{-%d}" % r.randint(2, 40))
            elif w < 0.82:
                parts.append("*")
            elif w < 0.92:
                alts = [self.static_run(r.randint(1, 3), text) for _ in range(r.randint(2, 4))]
                ln = len(alts[0])
                alts = [a[:ln].ljust(ln, "0") for a in alts]  # (aa|bb): same length
                alts = sorted(set(alts))
                if len(alts) == 1:
                    alts.append(("%02x" % ((int(alts[0][:2], 16) + 1) & 0xFF)) + alts[0][2:])
                parts.append("(" + "|".join(alts) + ")")
            else:
                # nibble wildcards inside the next run: a? or ?a
                b = "%02x" % r.randrange(256)
                parts.append(b[0] + "?" if r.random() < 0.5 else "?" + b[1])
        while static < 16:
            parts.append(self.static_run(8, text))
            static += 8
        return "".join(parts)

    def offset(self, target):
        r = self.r.random()
        if target == 1 and r < 0.35:
            return "EP+%d" % self.r.randint(0, 512)
        if target in (1, 6, 9) and r < 0.45:
            return "EOF-%d" % self.r.randint(64, 4096)
        if r < 0.55 and target in (0, 1, 2):
            return "%d" % self.r.randint(0, 2048)
        return "*"


def write_atomic(path, gen_lines):
    """write_atomic - write lines to path via path.tmp + rename; returns bytes"""
    tmp = path + ".tmp"
    n = 0
    with open(tmp, "w", buffering=1 << 20) as f:
        for chunk in gen_lines:
            f.write(chunk)
            n += len(chunk)
    os.rename(tmp, path)
    return n


def hash_lines(g, count, hexlen, wild_frac, minfl):
    """hash_lines - blocks of 'hash:size:name' lines, hashes from one random block"""
    block = 50000
    done = 0
    while done < count:
        k = min(block, count - done)
        raw = g.r.randbytes(k * hexlen // 2).hex()
        out = []
        for i in range(k):
            h = raw[i * hexlen:(i + 1) * hexlen]
            if wild_frac and g.r.random() < wild_frac:
                out.append("%s:*:%s:%d\n" % (h, g.name(), minfl))
            else:
                out.append("%s:%d:%s\n" % (h, g.size(), g.name()))
        done += k
        yield "".join(out)


def ndb_lines(g, count):
    out = []
    for i in range(count):
        plat = g.platform()
        target = plat[2]
        pat = g.pattern(plat[3], g.r.random() < 0.40)
        line = "%s:%d:%s:%s" % (g.name(plat), target, g.offset(target), pat)
        if g.r.random() < 0.3:
            line += ":%d" % g.r.choice((51, 60, 70, 81, 90))
        out.append(line + "\n")
        if len(out) == 5000:
            yield "".join(out)
            out = []
    yield "".join(out)


def ldb_lines(g, count):
    out = []
    for i in range(count):
        plat = g.platform()
        target = plat[2]
        nsub = g.r.randint(2, 4)
        subs = [g.pattern(plat[3], g.r.random() < 0.5) for _ in range(nsub)]
        if g.r.random() < 0.5:
            expr = "&".join(str(k) for k in range(nsub))
        else:
            expr = "(%s)&%d" % ("|".join(str(k) for k in range(nsub - 1)), nsub - 1)
        out.append("%s;Engine:51-255,Target:%d;%s;%s\n" % (g.name(plat), target, expr, ";".join(subs)))
        if len(out) == 5000:
            yield "".join(out)
            out = []
    yield "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 2 M MD5, 3 M SHA-256, 150,000 body signatures")
    ap.add_argument("--seed", type=int, default=2015)
    ap.add_argument("--marker", action="append", default=[], metavar="NAME=TEXT",
                    help="add a body signature NAME for the ASCII TEXT (mwgen-marker.ndb)")
    ap.add_argument("outdir")
    a = ap.parse_args()
    if not 0 < a.scale <= 4:
        ap.error("--scale must be in (0, 4]")
    os.makedirs(a.outdir, exist_ok=True)
    t0 = time.monotonic()
    g = Gen(a.seed)
    n = {
        "md5": max(1, round(N_MD5 * a.scale)),
        "sha256": max(1, round(N_SHA * a.scale)),
        "ndb": max(1, round(N_NDB * a.scale)),
        "ldb": max(1, round(N_LDB * a.scale)),
    }
    total = 0
    # PUA_SHARE of each kind goes to the PUA files (.hdu .hsu .ndu .ldu),
    # which libclamav loads only with CL_DB_PUA, as in the official set
    pua = {k: round(v * PUA_SHARE) for k, v in n.items()}
    for ext, kind, mk in (("hdb", "md5", lambda c: hash_lines(g, c, 32, 0, 0)),
                          ("hsb", "sha256", lambda c: hash_lines(g, c, 64, 0.05, 73)),
                          ("ndb", "ndb", lambda c: ndb_lines(g, c)),
                          ("ldb", "ldb", lambda c: ldb_lines(g, c))):
        total += write_atomic(os.path.join(a.outdir, "mwgen." + ext), mk(n[kind] - pua[kind]))
        g.pua = True
        total += write_atomic(os.path.join(a.outdir, "mwgen." + ext[:2] + "u"), mk(pua[kind]))
        g.pua = False
    marker_path = os.path.join(a.outdir, "mwgen-marker.ndb")
    if a.marker:
        lines = []
        for m in a.marker:
            name, sep, text = m.partition("=")
            if not sep or not name or len(text) < 8:
                ap.error("--marker wants NAME=TEXT with at least 8 characters of text")
            lines.append("%s:0:*:%s\n" % (name, text.encode().hex()))
        total += write_atomic(marker_path, lines)
    elif os.path.exists(marker_path):
        os.unlink(marker_path)
    secs = time.monotonic() - t0
    info = ["scale=%g" % a.scale, "seed=%d" % a.seed] + ["%s=%d" % kv for kv in n.items()] + \
        ["signatures=%d" % (sum(n.values()) + len(a.marker)), "bytes=%d" % total, "seconds=%.1f" % secs]
    write_atomic(os.path.join(a.outdir, "mwgen.about"), ["\n".join(info) + "\n"])
    print("gen.py: %s: %s" % (a.outdir, " ".join(info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
