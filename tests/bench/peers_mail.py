#!/usr/bin/python3
"""peers_mail.py - the workloads of `make bench-peers` and the SMTP load
client that sends them (imported by peers.py; no third-party modules).

Workloads (every message gets its own envelope sender and Message-ID, so
the daemons' sender memory sees new senders, as a gateway does):
  plain     2 KB of plain text
  attach    a 200 KB clean PDF-like attachment (base64)
  infected  a zip holding the EICAR test string, or the project's harmless
            marker (every second one): every filter must refuse it
  mixed     a Japanese stream: tests/samples/*.eml, a generated HTML
            newsletter with many links, ISO-2022-JP business mail with a
            PDF and an xlsx-like zip, a clean zip archive of documents,
            and a 2015-style campaign (rotating free-mail senders, health
            insurance lure, zipped fake document; some carry the marker)

Each message is a Msg: sender, recipient, wire bytes (CRLF, dot-stuffed,
ending in CRLF.CRLF), and `av` (True when it holds EICAR or the marker, so
an antivirus filter must refuse it).

The load client speaks SMTP over raw sockets with PIPELINING (MAIL, RCPT,
DATA in one write), SESSIONS sessions in parallel threads, each sending
its share of the messages over one connection (reconnecting after a 421
or a drop).  Latency of a message: MAIL sent -> final reply read.
Only 127.0.0.1.
"""

import base64
import io
import os
import random
import socket
import threading
import time
import zipfile
from email.header import Header

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SAMPLES = os.path.join(REPO, "tests", "samples")


def eicar():
    head = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$"
    return (head + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode("ascii")


def marker():
    return ("MAILWARDEN-TEST-" + "MARKER-7f3a9c1e").encode("ascii")


class Msg:
    __slots__ = ("sender", "rcpt", "wire", "av", "kind", "known")

    def __init__(self, sender, rcpt, raw, av=False, kind="", known=None):
        self.sender, self.rcpt, self.av, self.kind = sender, rcpt, av, kind
        self.known = sender in KNOWN if known is None else known
        self.wire = wire(raw)


# Known correspondents: clean mail comes from these (warmed up with one
# plain message each before measuring, as a gateway knows its partners);
# infected mail and the campaign come from fresh addresses.
KNOWN = ["c%d@partner%d.example.co.jp" % (k, k % 10) for k in range(100)]


def wire(raw):
    """CRLF line ends, dot-stuffing, the final CRLF.CRLF."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if raw.startswith(b"."):
        raw = b"." + raw
    raw = raw.replace(b"\r\n.", b"\r\n..")
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    return raw + b".\r\n"


def b64(data):
    return base64.encodebytes(data)


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def ew(text, charset="iso-2022-jp"):
    return Header(text, charset).encode()


def pdfish(rnd, size):
    """A PDF-looking clean document of about size bytes."""
    head = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nstream\n"
    body = rnd.randbytes(max(0, size - len(head) - 20))
    return head + body + b"\nendstream\n%%EOF\n"


def headers(sender, rcpt, subject, mid, extra=""):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@bench.example>\r\n"
            "Date: Mon, 02 Mar 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n%s" %
            (sender, rcpt, subject, mid, extra))


def multipart(hdr, parts, boundary="=_bench_b0"):
    out = [hdr, 'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n' % boundary]
    for ctype, extra, body in parts:
        out.append("--%s\r\nContent-Type: %s\r\n%s\r\n" % (boundary, ctype, extra))
        out.append(body if isinstance(body, str) else body.decode("ascii"))
        out.append("\r\n")
    out.append("--%s--\r\n" % boundary)
    return "".join(out)


def attachment(name, ctype, data):
    return (ctype, "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n" % name, b64(data))


class Gen:
    """Deterministic message factory (seeded); n counts messages made."""

    def __init__(self, seed=9, rcpt="bob@example.com"):
        self.rnd = random.Random(seed)
        self.n = 0
        self.rcpt = rcpt
        self.pdf200 = pdfish(random.Random(200), 200 * 1024)
        self.tag = "%x" % int(time.time())

    def mid(self):
        self.n += 1
        return "b%s-%d" % (self.tag, self.n)

    def sender(self, fresh=False):
        if fresh:
            return "s%d-%s@sender.example" % (self.n, self.tag)
        return KNOWN[self.n % len(KNOWN)]

    def plain(self, size=2048):
        mid = self.mid()
        s = self.sender()
        line = ("plain benchmark message %d " % self.n).ljust(74, "x") + "\r\n"
        body = line * max(1, size // len(line))
        raw = headers(s, self.rcpt, "plain %d" % self.n, mid,
                      "Content-Type: text/plain; charset=us-ascii\r\n") + "\r\n" + body
        return Msg(s, self.rcpt, raw.encode(), False, "plain")

    def attach(self):
        mid = self.mid()
        s = self.sender()
        raw = multipart(headers(s, self.rcpt, "quarterly report %d" % self.n, mid),
                        [("text/plain; charset=us-ascii", "", "Please find the report attached.\r\n"),
                         attachment("report-%d.pdf" % self.n, "application/pdf", self.pdf200)])
        return Msg(s, self.rcpt, raw.encode(), False, "attach")

    def infected(self):
        mid = self.mid()
        s = self.sender()
        s = self.sender(fresh=True)
        payload = eicar() if self.n % 2 else b"invoice\n" + marker() + b"\n"
        z = zipped([("invoice-%d.txt" % self.n, payload)])
        raw = multipart(headers(s, self.rcpt, "invoice %d" % self.n, mid),
                        [("text/plain; charset=us-ascii", "", "Invoice attached.\r\n"),
                         attachment("invoice-%d.zip" % self.n, "application/zip", z)])
        return Msg(s, self.rcpt, raw.encode(), True, "infected-eicar" if self.n % 2 else "infected-marker")

    # ---- the Japanese mixed stream

    def sample(self, path):
        with open(path, "rb") as f:
            raw = f.read()
        mid = self.mid()
        # the samples include mail Mailwarden refuses (blocked link domains,
        # executables): from a known correspondent that would auto-block it
        # and flag every fingerprint it ever sent, so samples come from
        # fresh addresses
        s = self.sender(fresh=True)
        raw = b"X-Bench-Id: " + mid.encode() + b"\r\n" + raw
        return Msg(s, self.rcpt, raw, False, "sample:" + os.path.basename(path))

    def newsletter(self):
        mid = self.mid()
        s = self.sender()
        items = []
        # reserved .example names that do not imitate the protected example.com
        # (news.example.co.jp would: link.lookalike)
        domains = ["www.nikkei-news.example", "news.asahi-shinbun.example", "shop.rakuten-ichiba.example",
                   "www.city-yokohama.example", "event.jcci-seminar.example", "blog.hatena-note.example"]
        for i in range(40):
            d = domains[i % len(domains)]
            items.append('<tr><td><a href="https://%s/article/%d?utm_source=mail&amp;id=%d">'
                         '第%d回 セミナーのご案内・最新情報 %d</a><br>'
                         '<img src="https://%s/img/%d.png" alt="写真" width="120"></td></tr>' %
                         (d, i, self.n, i + 1, i, d, i))
        html = ("<html><head><meta charset=\"utf-8\"><title>メールマガジン</title></head><body>"
                "<h1>株式会社サンプル メールマガジン 第%d号</h1><table>%s</table>"
                "<p>配信停止は<a href=\"https://news.asahi-shinbun.example/unsubscribe?u=%d\">こちら</a></p>"
                "</body></html>" % (self.n, "".join(items), self.n))
        text = "株式会社サンプル メールマガジン\n" + "\n".join(
            "第%d回 セミナーのご案内 https://%s/article/%d" % (i + 1, domains[i % 6], i) for i in range(40))
        hdr = headers("=?UTF-8?B?%s?= <%s>" % (base64.b64encode("サンプル通信".encode()).decode(), s),
                      self.rcpt, ew("【メルマガ】今月のセミナーとイベント情報", "utf-8"), mid)
        raw = (hdr + 'Content-Type: multipart/alternative; boundary="=_alt"\r\n\r\n'
               "--=_alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
               b64(text.encode()).decode() +
               "--=_alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
               b64(html.encode()).decode() + "--=_alt--\r\n")
        return Msg(s, self.rcpt, raw.encode(), False, "newsletter")

    def business(self):
        mid = self.mid()
        s = self.sender()
        body = ("山田様\n\nお世話になっております。株式会社パートナーの佐藤です。\n"
                "先日の打ち合わせ資料と見積書を添付いたします。\nご確認のほどよろしくお願いいたします。\n\n"
                "佐藤 花子\n").encode("iso2022_jp")
        xlsx = zipped([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"),
                       ("xl/worksheets/sheet1.xml", self.rnd.randbytes(20000).hex().encode())])
        raw = multipart(headers("=?ISO-2022-JP?B?%s?= <%s>" % (
            base64.b64encode("佐藤 花子".encode("iso2022_jp")).decode(), s), self.rcpt,
            ew("打ち合わせ資料と見積書の送付"), mid),
            [("text/plain; charset=ISO-2022-JP", "Content-Transfer-Encoding: 7bit\r\n", body.decode("ascii")),
             attachment("=?ISO-2022-JP?B?%s?=" % base64.b64encode("資料.pdf".encode("iso2022_jp")).decode(),
                        "application/pdf", pdfish(self.rnd, 50 * 1024)),
             attachment("mitsumori.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        xlsx)])
        return Msg(s, self.rcpt, raw.encode(), False, "business")

    def archive(self):
        mid = self.mid()
        s = self.sender()
        z = zipped([("議事録.txt", "会議の議事録です。\n".encode("utf-8") * 200),
                    ("資料/図面.pdf", pdfish(self.rnd, 30 * 1024)),
                    ("資料/一覧.csv", ("番号,名前\n" + "".join("%d,項目%d\n" % (i, i) for i in range(500)))
                     .encode("cp932"))])
        raw = multipart(headers(s, self.rcpt, ew("会議資料一式（zip）"), mid),
                        [("text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit\r\n",
                          "資料一式を zip でお送りします。"),
                         attachment("shiryou.zip", "application/zip", z)])
        return Msg(s, self.rcpt, raw.encode("utf-8"), False, "archive")

    def campaign(self):
        """2015-style: rotating free-mail senders, a lure, a zipped 'document'
        that is an executable (harmless stub); every third carries the marker."""
        mid = self.mid()
        frees = ["yahoo.co.jp", "gmail.com", "docomo.ne.jp", "excite.co.jp", "hotmail.co.jp"]
        s = "kenko%d@%s" % (self.n, frees[self.n % len(frees)])
        stub = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + self.rnd.randbytes(2000)
        av = self.n % 3 == 0
        if av:
            stub += marker()
        z = zipped([("医療費通知のお知らせ.exe", stub)])
        body = ("医療費通知のお知らせ\n\n平素より当組合の事業にご理解を賜り、誠にありがとうございます。\n"
                "添付の通知をご確認ください。\n").encode("iso2022_jp")
        raw = multipart(headers(s, self.rcpt, ew("【医療費通知】ご確認ください"), mid),
                        [("text/plain; charset=ISO-2022-JP", "Content-Transfer-Encoding: 7bit\r\n",
                          body.decode("ascii")),
                         attachment("tsuuchi.zip", "application/zip", z)])
        return Msg(s, self.rcpt, raw.encode(), av, "campaign-marker" if av else "campaign")

    def mixed(self, count):
        """A realistic-looking stream, in a fixed shuffled order."""
        samples = sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES) if f.endswith(".eml"))
        makers = ([self.newsletter] * 6 + [self.business] * 5 + [self.archive] * 3 + [self.campaign] * 2 +
                  [lambda: self.plain(1500)] * 4)
        out = []
        i = 0
        while len(out) < count:
            if i % 3 == 0 and samples:
                out.append(self.sample(samples[(i // 3) % len(samples)]))
            else:
                out.append(makers[self.rnd.randrange(len(makers))]())
            i += 1
        return out


# ---------------------------------------------------------------- SMTP client

class Result:
    __slots__ = ("code", "stage", "ms", "text")

    def __init__(self, code, stage, ms, text=""):
        self.code, self.stage, self.ms, self.text = code, stage, ms, text


class Conn:
    def __init__(self, port, timeout):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        code, _ = self.reply()
        if code != 220:
            raise OSError("greeting %d" % code)
        self.s.sendall(b"EHLO load.bench.example\r\n")
        code, _ = self.reply()
        if code != 250:
            raise OSError("EHLO %d" % code)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise OSError("connection closed")
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def reply(self):
        text = []
        while True:
            ln = self.line()
            text.append(ln[4:].decode(errors="replace"))
            if len(ln) < 4 or ln[3:4] != b"-":
                try:
                    return int(ln[:3]), " ".join(text)
                except ValueError:
                    return 0, " ".join(text)

    def send(self, m):
        """One transaction (pipelined MAIL/RCPT/DATA); returns a Result."""
        t0 = time.monotonic()
        self.s.sendall(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (m.sender.encode(), m.rcpt.encode()))
        c1, t1 = self.reply()
        c2, t2 = self.reply()
        c3, t3 = self.reply()
        if c3 != 354:
            if c3 // 100 == 3:  # cannot happen; keep the session sane
                self.s.sendall(b".\r\n")
                self.reply()
            self.s.sendall(b"RSET\r\n")
            self.reply()
            ms = (time.monotonic() - t0) * 1000.0
            if c1 >= 400:
                return Result(c1, "MAIL", ms, t1)
            if c2 >= 400:
                return Result(c2, "RCPT", ms, t2)
            return Result(c3, "DATA", ms, t3)
        self.s.sendall(m.wire)
        c4, t4 = self.reply()
        return Result(c4, "END", (time.monotonic() - t0) * 1000.0, t4)

    def close(self):
        try:
            self.s.sendall(b"QUIT\r\n")
            self.reply()
        except OSError:
            pass
        self.s.close()


def load(port, msgs, sessions=10, timeout=120, deadline=None):
    """Send msgs over `sessions` parallel sessions; returns (results in msgs
    order, wall seconds).  A message not sent (deadline, errors) has None."""
    results = [None] * len(msgs)
    nxt = [0]
    lock = threading.Lock()

    def worker():
        conn = None
        fails = 0
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(msgs) or (deadline and time.monotonic() > deadline):
                break
            while True:
                try:
                    if conn is None:
                        conn = Conn(port, timeout)
                    r = results[i] = conn.send(msgs[i])
                    if r.code == 421:
                        conn.close()
                        conn = None
                    break
                except OSError as e:
                    if conn is not None:
                        conn.s.close()
                    conn = None
                    fails += 1
                    if fails > 20:
                        results[i] = Result(0, "conn", 0.0, str(e))
                        break
                    time.sleep(0.1)
        if conn is not None:
            conn.close()

    t0 = time.monotonic()
    th = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(sessions, len(msgs))))]
    for t in th:
        t.start()
    for t in th:
        t.join()
    return results, time.monotonic() - t0


def pct(vals, p):
    if not vals:
        return float("nan")
    v = sorted(vals)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]
