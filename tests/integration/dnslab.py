"""dnslab.py - a real authoritative DNS server on loopback for the sender
authentication tests (test_auth.py) and the benchmark (tests/bench):
Debian's nsd serving test zones with SPF, DKIM keys and DMARC records,
with its own configuration, zone files and keys in a temporary
directory, started and stopped by PID.  In front of it, dnsproxy.py (a
UDP forwarder) can delay every answer or never answer some names.

The keys are made by the test run: RSA with opendkim-genkey
(opendkim-tools), Ed25519 with python3-nacl; mail is signed with
python3-dkim (dkimpy).

Ports: MW_AUTH_DNS_PORT (default 22553) for nsd and the next one for the
proxy; when taken, the next free pair up to 22599 is used.

The zones (client addresses are loopback addresses the tests connect
from, 127.0.0.0/8 is all loopback on Linux):

  sender.example     SPF ip4:127.0.0.2 -all, HELO mail.sender.example,
                     DKIM sel1 (RSA) and ed1 (Ed25519), DMARC p=reject
  softfail.example   SPF ~all, no DMARC
  none.example       nothing but an address
  permerror.example  SPF with an unknown mechanism
  macro.example      SPF with a macro term longer than Mailwarden accepts
  example.com        the lab's protected domain: SPF ip4:127.0.0.5,
                     DKIM sel1, DMARC p=reject
  partner.example    SPF ip4:127.0.0.3, DKIM sel1, DMARC p=quarantine
  list.example       a mailing list: SPF ip4:127.0.0.4, DKIM sel1, p=none
  org.example        DMARC p=none sp=reject (sub.org.example: no record)
  examp1e.com        an attacker's lookalike with a valid SPF (127.0.0.9)
  partnerdown.example  not served: nsd refuses, the resolver says SERVFAIL
  noanswer.example   dropped by the proxy: no answer at all
"""

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time

import dkim  # python3-dkim (Debian)

NSD = "/usr/sbin/nsd"
GENKEY = "/usr/sbin/opendkim-genkey"
HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "dnsproxy.py")

ZONES = {
    "sender.example": [
        '@ TXT "v=spf1 ip4:127.0.0.2 -all"',
        "mail A 127.0.0.2",
        'mail TXT "v=spf1 a -all"',
        '_dmarc TXT "v=DMARC1; p=reject"',
        ("dkim", "sel1", "rsa"),
        ("dkim", "ed1", "ed25519"),
    ],
    "softfail.example": ['@ TXT "v=spf1 ip4:127.0.0.2 ~all"'],
    "none.example": ["@ A 127.0.0.2"],
    "permerror.example": ['@ TXT "v=spf1 ip4:127.0.0.2 bogus:mechanism -all"'],
    "macro.example": ['@ TXT "v=spf1 exists:%{i}.%{l}.%{o}.%{d}.%{h}.' + "x" * 120 + '.macro.example -all"'],
    "example.com": [
        '@ TXT "v=spf1 ip4:127.0.0.5 -all"',
        '_dmarc TXT "v=DMARC1; p=reject"',
        ("dkim", "sel1", "rsa"),
    ],
    "partner.example": [
        '@ TXT "v=spf1 ip4:127.0.0.3 -all"',
        "mail A 127.0.0.3",
        '_dmarc TXT "v=DMARC1; p=quarantine"',
        ("dkim", "sel1", "rsa"),
    ],
    "list.example": [
        '@ TXT "v=spf1 ip4:127.0.0.4 -all"',
        '_dmarc TXT "v=DMARC1; p=none"',
        ("dkim", "sel1", "rsa"),
    ],
    "org.example": [
        '@ TXT "v=spf1 ip4:127.0.0.6 -all"',
        '_dmarc TXT "v=DMARC1; p=none; sp=reject"',
        'sub TXT "v=spf1 ip4:127.0.0.6 -all"',
    ],
    "examp1e.com": ['@ TXT "v=spf1 ip4:127.0.0.9 -all"'],
}


def port_free(port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def txt_chunks(text):
    """A TXT value as quoted strings of at most 255 bytes."""
    return " ".join('"%s"' % text[i:i + 255] for i in range(0, len(text), 255))


class DnsLab:
    """nsd (and optionally the proxy) with the test zones; keys for signing."""

    def __init__(self, base_port=None):
        self.dir = tempfile.mkdtemp(prefix="auth-dns-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.keys = {}  # (domain, selector) -> (kind, private key bytes)
        self.nsd = None
        self.proxies = []
        start = int(base_port or os.environ.get("MW_AUTH_DNS_PORT") or 22553)
        self.port = None
        self.lock = None
        for p in range(start, 22599, 2):
            if self._claim(p):
                self.port = p
                break
        if self.port is None:
            raise RuntimeError("dnslab: no free port pair in %d..22599" % start)
        self.proxy_port = self.port + 1

    def _claim(self, p):
        """_claim - the port pair p, p+1 if free and not being taken by
        another DnsLab: nsd binds UDP with SO_REUSEADDR, so two labs that
        chose the same port at once would both start and share the
        questions.  A lock file per pair, held until stop(), makes the
        choice exclusive."""
        import fcntl
        fd = os.open("/tmp/mw-dnslab-%d.lock" % p, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        if not (port_free(p) and port_free(p + 1)):
            os.close(fd)
            return False
        if self.lock is not None:
            os.close(self.lock)
        self.lock = fd
        return True

    # ---------------------------------------------------------------- keys

    def _rsa_key(self, domain, sel):
        d = os.path.join(self.dir, "keys", domain)
        os.makedirs(d, exist_ok=True)
        subprocess.run([GENKEY, "-b", "1024", "-d", domain, "-s", sel, "-D", d], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with open(os.path.join(d, sel + ".private"), "rb") as f:
            priv = f.read()
        with open(os.path.join(d, sel + ".txt")) as f:
            rec = f.read()
        # the quoted strings of the stub, joined
        parts = [p for i, p in enumerate(rec.split('"')) if i % 2 == 1]
        return priv, "".join(parts)

    def _ed_key(self):
        import nacl.signing  # python3-nacl, a dependency of python3-dkim
        sk = nacl.signing.SigningKey.generate()
        priv = base64.b64encode(bytes(sk))
        pub = base64.b64encode(bytes(sk.verify_key)).decode()
        return priv, "v=DKIM1; k=ed25519; p=" + pub

    # ---------------------------------------------------------------- zones

    def write_zones(self, extra=None):
        zones = dict(ZONES)
        zones.update(extra or {})
        conf = [
            "server:",
            "  ip-address: 127.0.0.1@%d" % self.port,
            '  username: ""',
            '  chroot: ""',
            '  zonesdir: "%s"' % self.dir,
            '  database: ""',
            '  pidfile: "%s/nsd.pid"' % self.dir,
            '  xfrdfile: "%s/xfrd.state"' % self.dir,
            '  zonelistfile: "%s/zone.list"' % self.dir,
            '  logfile: "%s/nsd.log"' % self.dir,
            "  server-count: 1",
            "  verbosity: 1",
            "  hide-version: yes",
            "remote-control:",
            "  control-enable: no",
        ]
        for zone, records in zones.items():
            lines = ["$ORIGIN %s." % zone, "$TTL 300",
                     "@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 60" % (zone, zone),
                     "@ IN NS ns", "ns IN A 127.0.0.1"]
            for r in records:
                if isinstance(r, tuple):
                    _, sel, kind = r
                    priv, txt = self._ed_key() if kind == "ed25519" else self._rsa_key(zone, sel)
                    self.keys[(zone, sel)] = (kind, priv)
                    lines.append("%s._domainkey IN TXT %s" % (sel, txt_chunks(txt)))
                else:
                    name, rest = r.split(" ", 1)
                    lines.append("%s IN %s" % (name, rest))
            with open(os.path.join(self.dir, zone + ".zone"), "w") as f:
                f.write("\n".join(lines) + "\n")
            conf += ["zone:", '  name: "%s"' % zone, '  zonefile: "%s.zone"' % zone]
        with open(os.path.join(self.dir, "nsd.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")

    # ---------------------------------------------------------------- processes

    def start(self, extra=None):
        # Another nsd (a second suite, the QEMU test) may take the port
        # between our check and nsd's bind: then nsd exits at once, and we
        # go on to the next free pair (bounded).
        for attempt in range(4):
            self.write_zones(extra)
            log = open(os.path.join(self.dir, "nsd.out"), "wb")
            self.nsd = subprocess.Popen([NSD, "-d", "-c", os.path.join(self.dir, "nsd.conf")],
                                        stdout=log, stderr=subprocess.STDOUT)
            try:
                self.wait_answering(self.port)
                return self
            except RuntimeError:
                if self.nsd.poll() is None or attempt == 3:
                    raise
                nxt = [p for p in range(self.port + 2, 22599, 2) if self._claim(p)][:1]
                if not nxt:
                    raise
                self.port, self.proxy_port = nxt[0], nxt[0] + 1
        return self

    def start_proxy(self, delay_ms=0.0, drop=("noanswer.example",), port=None):
        """A forwarder in front of nsd; returns its port."""
        port = port or self.proxy_port
        cmd = ["/usr/bin/python3", PROXY, "--listen", "127.0.0.1:%d" % port,
               "--upstream", "127.0.0.1:%d" % self.port, "--delay-ms", str(delay_ms)]
        for d in drop:
            cmd += ["--drop", d]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.proxies.append(p)
        self.wait_answering(port)
        return port

    def stop_proxy(self, port):
        for p in list(self.proxies):
            if ("127.0.0.1:%d" % port) in p.args:
                p.terminate()
                p.wait(timeout=10)
                self.proxies.remove(p)

    def wait_answering(self, port, timeout=10):
        """Until a TXT question for sender.example gets an answer."""
        q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x06sender\x07example\x00\x00\x10\x00\x01")
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.nsd is not None and self.nsd.poll() is not None:
                raise RuntimeError("nsd exited: %s" % self.log())
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.3)
            try:
                s.sendto(q, ("127.0.0.1", port))
                ans, _ = s.recvfrom(4096)
                if ans[:2] == b"\x12\x34":
                    return
            except OSError:
                time.sleep(0.1)
            finally:
                s.close()
        raise RuntimeError("DNS on 127.0.0.1:%d does not answer: %s" % (port, self.log()))

    def log(self):
        try:
            with open(os.path.join(self.dir, "nsd.out"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        for p in self.proxies:
            p.terminate()
        for p in self.proxies:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        self.proxies = []
        if self.nsd is not None:
            self.nsd.terminate()
            try:
                self.nsd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nsd.kill()
                self.nsd.wait()
            self.nsd = None
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---------------------------------------------------------------- signing

    def sign(self, raw, domain, selector="sel1", headers=(b"from", b"to", b"subject", b"date",
                                                          b"message-id"),
             canon=(b"relaxed", b"relaxed")):
        """raw (CRLF lines) with one more DKIM-Signature on top."""
        kind, priv = self.keys[(domain, selector)]
        sig = dkim.sign(raw, selector.encode(), domain.encode(), priv, canonicalize=canon,
                        include_headers=list(headers),
                        signature_algorithm=b"ed25519-sha256" if kind == "ed25519" else b"rsa-sha256")
        return sig + raw


def message(frm, to="bob@example.com", subject="Quarterly report", body="Hello,\r\nplease find the notes.\r\n",
            extra_headers=(), token=None):
    """A plain message with CRLF line ends (what DKIM signs)."""
    h = ["From: %s" % frm, "To: %s" % to, "Subject: %s" % subject,
         "Date: Mon, 02 Mar 2026 10:00:00 +0900",
         "Message-ID: <%s@test.example>" % (token or "auth"), "MIME-Version: 1.0",
         "Content-Type: text/plain; charset=us-ascii"]
    if token:
        h.append("X-Test-Id: %s" % token)
    h += list(extra_headers)
    return ("\r\n".join(h) + "\r\n\r\n" + body).encode()


def with_attachment(frm, token, name="notes.pdf", to="bob@example.com"):
    """A multipart message with a PDF-looking attachment (active content for hold.first_contact)."""
    b = "=_b_%s" % token
    pdf = base64.b64encode(b"%PDF-1.4\n% test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").decode()
    body = ("--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nPlease see the attached notes.\r\n"
            "--%s\r\nContent-Type: application/pdf; name=\"%s\"\r\nContent-Disposition: attachment; "
            "filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--%s--\r\n"
            % (b, b, name, name, pdf, b))
    h = ["From: %s" % frm, "To: %s" % to, "Subject: Notes %s" % token,
         "Date: Mon, 02 Mar 2026 10:00:00 +0900", "Message-ID: <%s@test.example>" % token,
         "X-Test-Id: %s" % token, "MIME-Version: 1.0",
         'Content-Type: multipart/mixed; boundary="%s"' % b]
    return ("\r\n".join(h) + "\r\n\r\n" + body).encode()
