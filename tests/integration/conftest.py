"""conftest.py - the end-to-end harness: a private lab (Postfix on loopback,
mailwardend, smtp-sink) started once per session by scripts/lab.sh in a
temporary RUN_DIR on free ports, so it runs beside `make run`, and stopped
by PID at the end whatever happened.

Helpers the tests share: building messages (EICAR and the marker built at
run time, plain or zipped), sending with smtplib and keeping the first
non-2xx reply, waiting for the Postfix queue to drain, reading the sink.

Environment: BUILD_DIR (default build), MW_IT_KEEP=1 keeps the RUN_DIR
(logs) after the session, MW_IT_LAB_PORT / MW_IT_SINK_PORT force ports.

The MTA matrix: the `lab` fixture is parametrized over MW_IT_MTA (comma
separated, default "postfix,sendmail"), so every test that uses the lab
runs through a private Postfix and through a private Sendmail (lab.sh
MTA=sendmail, docs/sendmail.md), with ids like test_x[postfix].  Tests
that cannot apply to one MTA are skipped with the reason (MTA_SKIP), never
passed silently.  MW_IT_LAB_ONLY=1 deselects the tests that use no lab
(scan CLI, docs): tests/run.sh runs those in the Postfix pass only.
"""

import io
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import uuid
import zipfile
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("BUILD_DIR", "build")
if not os.path.isabs(BUILD_DIR):
    BUILD_DIR = os.path.join(REPO, BUILD_DIR)
MAILWARDEND = os.path.join(BUILD_DIR, "mailwardend")
MAILWARDEN = os.path.join(BUILD_DIR, "mailwarden")
SAMPLES = os.path.join(REPO, "tests", "samples")
LAB_SH = os.path.join(REPO, "scripts", "lab.sh")

SMTP_TIMEOUT = 120  # seconds; a 50 MB scan stays well below

MTAS = [m.strip() for m in os.environ.get("MW_IT_MTA", "postfix,sendmail").split(",") if m.strip()]
for _m in MTAS:
    if _m not in ("postfix", "sendmail"):
        raise SystemExit("MW_IT_MTA: unknown MTA %r (postfix, sendmail)" % _m)

# Tests that cannot apply to one MTA: {mta: {test function name, or full
# test name with its parameters, as in test_x[sendmail-case]: why}}.
# They are reported as skipped with the reason.
MTA_SKIP = {
    "postfix": {},
    "sendmail": {},
}


def pytest_collection_modifyitems(config, items):
    lab_only = os.environ.get("MW_IT_LAB_ONLY") == "1"
    keep, drop = [], []
    for item in items:
        if lab_only and "lab" not in getattr(item, "fixturenames", ()):
            drop.append(item)
            continue
        keep.append(item)
        cs = getattr(item, "callspec", None)
        mta = cs.params.get("lab") if cs else None
        table = MTA_SKIP.get(mta, {})
        why = table.get(item.name) or table.get(getattr(item, "originalname", item.name))
        if why:
            item.add_marker(pytest.mark.skip(reason="not applicable to %s: %s" % (mta, why)))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ---------------------------------------------------------------- payloads

def eicar():
    """The EICAR test string, assembled here so no file in the repo holds it."""
    head = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$"
    tail = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    return (head + tail).encode("ascii")


def marker():
    """The harmless string that sigs/mailwarden-test.ndb calls Mailwarden.Test.Marker."""
    return ("MAILWARDEN-TEST-" + "MARKER-7f3a9c1e").encode("ascii")


def zipped(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def new_token():
    return uuid.uuid4().hex[:16]


def make_message(token, subject="test", body="Hello from the integration tests.\n",
                 attachments=(), sender="alice@sender.example",
                 rcpt="bob@example.com"):
    """An EmailMessage with a unique X-Test-Id; attachments: (name, bytes, mime type)."""
    m = EmailMessage()
    m["From"] = sender
    m["To"] = rcpt
    m["Subject"] = subject
    m["Message-ID"] = "<%s@test.example>" % token
    m["X-Test-Id"] = token
    m.set_content(body)
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes(policy=policy.SMTP)


def tag_raw(raw, token):
    """Prepend an X-Test-Id header to a raw message (a sample file)."""
    nl = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    return b"X-Test-Id: " + token.encode() + nl + raw


def japanese_message(token):
    """A clean ISO-2022-JP mail with an encoded-word subject (inline fallback)."""
    subject = Header("打ち合わせのご連絡", "iso-2022-jp").encode()
    sender = Header("山田 太郎", "iso-2022-jp").encode()
    body = "お世話になっております。\n来週の打ち合わせの件でご連絡いたします。\nよろしくお願いいたします。\n"
    raw = (
        "From: %s <yamada@sender.example>\r\n"
        "To: bob@example.com\r\n"
        "Subject: %s\r\n"
        "Message-ID: <%s@test.example>\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0900\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n" % (sender, subject, token)
    ).encode("ascii")
    raw += body.encode("iso2022_jp").replace(b"\n", b"\r\n")
    return tag_raw(raw, token)


def samples(prefix):
    if not os.path.isdir(SAMPLES):
        return []
    return sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES)
                  if f.startswith(prefix) and f.endswith(".eml"))


# ---------------------------------------------------------------- SMTP

class Reply:
    """Outcome of one transaction: the first non-2xx reply, or the DATA 250."""

    def __init__(self, code, text, stage):
        self.code, self.text, self.stage = code, text, stage

    @property
    def ok(self):
        return 200 <= self.code < 300

    @property
    def temp(self):
        return 400 <= self.code < 500

    @property
    def perm(self):
        return 500 <= self.code < 600

    def __repr__(self):
        return "<%d at %s: %s>" % (self.code, self.stage, self.text)


def unique_sender():
    """The daemon remembers senders (auto-block after malware, fan-out,
    campaigns), so every test message gets its own unless a test says so."""
    return "s-%s@sender.example" % new_token()


def smtp_lines(raw):
    """raw with every bare LF made CRLF, as an RFC 5321 client sends it
    (sample files have LF endings).  Postfix reads LF and CRLF alike, so
    what its milter sees is unchanged; Debian's Sendmail (CVE-2023-51765
    fix) answers 421 "Bare linefeed (LF) not allowed" to bare LFs."""
    return re.sub(rb"(?<!\r)\n", b"\r\n", raw)


def transact(smtp, raw, sender=None, rcpts=("bob@example.com",)):
    """One MAIL/RCPT/DATA on an open smtplib.SMTP; RSET after a refusal."""
    code, text = smtp.mail(sender or unique_sender())
    if code >= 300:
        smtp.rset()
        return Reply(code, text.decode(errors="replace"), "MAIL")
    for r in rcpts:
        code, text = smtp.rcpt(r)
        if code >= 300:
            smtp.rset()
            return Reply(code, text.decode(errors="replace"), "RCPT")
    code, text = smtp.data(smtp_lines(raw))
    if code >= 300:
        try:
            smtp.rset()
        except smtplib.SMTPException:
            pass
    return Reply(code, text.decode(errors="replace"), "DATA")


def send(port, raw, sender=None, rcpts=("bob@example.com",)):
    """Send one message in its own session; return a Reply (never raises on codes)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=SMTP_TIMEOUT) as s:
            code, text = s.ehlo("client.test.example")
            if code >= 300:
                return Reply(code, text.decode(errors="replace"), "EHLO")
            return transact(s, raw, sender, rcpts)
    except smtplib.SMTPServerDisconnected as e:
        return Reply(421, "disconnected: %s" % e, "session")
    except smtplib.SMTPResponseException as e:
        return Reply(e.smtp_code, e.smtp_error.decode(errors="replace"), "session")


# ---------------------------------------------------------------- the CLI

def run_scan(raw, workdir, sigs=None, extra=()):
    """`mailwarden scan` on raw bytes; returns (exit status, parsed JSON or
    None, stdout, stderr).  workdir holds the file, a state and a lists dir."""
    if not os.access(MAILWARDEN, os.X_OK):
        pytest.fail("%s is not built" % MAILWARDEN)
    workdir = str(workdir)
    path = os.path.join(workdir, "m-%s.eml" % new_token())
    with open(path, "wb") as f:
        f.write(raw)
    state = os.path.join(workdir, "scan-state")
    os.makedirs(state, exist_ok=True)
    lists = os.path.join(REPO, "data", "lists")
    if not os.path.isdir(lists):
        lists = os.path.join(workdir, "scan-lists")
        os.makedirs(lists, exist_ok=True)
    p = subprocess.run([MAILWARDEN, "scan", "--sigs", sigs or os.path.join(REPO, "sigs"),
                        "--state", state, "-o", "paths.lists=" + lists,
                        "--from", "alice@sender.example", "--rcpt", "bob@example.com",
                        *extra, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    try:
        v = json.loads(out)
    except ValueError:
        v = None
    return p.returncode, v, out, err


# ---------------------------------------------------------------- the lab

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Lab:
    def __init__(self, run_dir, lab_port, sink_port, sigs_dir, mta="postfix"):
        self.run_dir = run_dir
        self.port = lab_port
        self.sink_port = sink_port
        self.sigs_dir = sigs_dir
        self.mta = mta
        self.sink_dir = os.path.join(run_dir, "sink")
        self.pf_etc = os.path.join(run_dir, "postfix", "etc")
        self.sm_queue = os.path.join(run_dir, "sendmail", "queue")

    # lab.sh settings a later command would take from the environment over
    # those this lab was started with (its lab.env): a LAB_PORT exported
    # for `make run` moved the test lab's Sendmail to that port at the
    # first restart-milter that rebuilt its .cf.  Only a test's own
    # arguments (extra) change them.
    LAB_SETTINGS = ("LAB_PORT", "SINK_PORT", "MILTER", "MILTER_INET_PORT", "MW_ARGS",
                    "SIGS_DIR", "LISTS_DIR", "MAILWARDEND", "SM_MILTER_TIMEOUTS")

    def env(self, **extra):
        e = {k: v for k, v in os.environ.items() if k not in self.LAB_SETTINGS}
        e.update(RUN_DIR=self.run_dir, BUILD_DIR=BUILD_DIR, MTA=self.mta)
        e.update(extra)
        return e

    def lab(self, cmd, check=True, **extra):
        p = subprocess.run(["sh", LAB_SH, cmd], env=self.env(**extra),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        out = p.stdout.decode(errors="replace")
        if check and p.returncode != 0:
            raise RuntimeError("lab.sh %s failed (%d):\n%s\n%s" %
                               (cmd, p.returncode, out, self.log_tail()))
        return out

    def log_tail(self, n=40):
        out = []
        for name in ("mailwardend.log", "postfix.log", "sendmail.log"):
            path = os.path.join(self.run_dir, "log", name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out.append("---- %s ----\n%s" % (name, "".join(f.readlines()[-n:])))
        return "\n".join(out)

    def milter_pid(self):
        try:
            with open(os.path.join(self.run_dir, "pid", "mailwardend.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        try:
            with open("/proc/%d/status" % pid) as f:
                st = f.read()
        except OSError:
            return None
        if "\nState:\tZ" in st or not st.startswith("Name:\tmailwardend"):
            return None
        return pid

    def hup(self):
        pid = self.milter_pid()
        assert pid, "mailwardend is not running"
        os.kill(pid, signal.SIGHUP)
        return pid

    def queue(self):
        """MTA queue entries, one dict per message (Postfix: postqueue -j;
        Sendmail: the queue directory, in the same shape)."""
        if self.mta == "sendmail":
            return self._sendmail_queue()
        p = subprocess.run(["postqueue", "-c", self.pf_etc, "-j"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        return [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]

    def _sendmail_queue(self):
        """Sendmail's queue directory read directly (`mailq` would be
        bin/sendmail -bp): qf = queued (queue_name "active"), hf = held
        (quarantined, "hold"), tf/xf without a qf = being written
        ("incoming").  sender from the qf file's S line."""
        try:
            names = os.listdir(self.sm_queue)
        except FileNotFoundError:
            return []
        out, seen = [], set()
        for n in sorted(names):
            kind, qid = n[:2], n[2:]
            if kind not in ("qf", "hf", "tf", "xf") or qid in seen:
                continue
            if kind in ("tf", "xf") and ("qf" + qid in names or "hf" + qid in names):
                continue
            seen.add(qid)
            e = {"queue_id": qid, "queue_name": {"qf": "active", "hf": "hold"}.get(kind, "incoming"),
                 "sender": None}
            if kind in ("qf", "hf"):
                try:
                    with open(os.path.join(self.sm_queue, n), "rb") as f:
                        for line in f:
                            if line.startswith(b"S"):
                                e["sender"] = line[1:].strip().strip(b"<>").decode(errors="replace")
                                break
                except FileNotFoundError:
                    continue  # delivered meanwhile
            out.append(e)
        return out

    def wait_drained(self, timeout=60):
        """Wait until nothing but held mail is queued; return the held entries."""
        deadline = time.time() + timeout
        while True:
            q = self.queue()
            busy = [e for e in q if e.get("queue_name") != "hold"]
            if not busy:
                return [e for e in q if e.get("queue_name") == "hold"]
            if time.time() > deadline:
                raise AssertionError("%s queue not drained after %ds: %s" %
                                     (self.mta, timeout, busy[:5]))
            time.sleep(0.2)

    def quarantine(self):
        """Entries of Mailwarden's own quarantine (hold and quarantine
        actions: written there durably, the MTA's copy discarded), read
        with `mailwarden quarantine list --json` as the daemon's user so no
        root-owned file lands in its state directory."""
        state = os.path.join(self.run_dir, "mailwarden", "state")
        if not os.path.exists(os.path.join(state, "mailwarden.db")):
            return []
        lists = os.path.join(REPO, "data", "lists")
        if not os.path.isdir(lists):
            lists = os.path.join(self.run_dir, "mailwarden", "lists")
        cmd = [MAILWARDEN, "quarantine", "list", "--json", "--limit", "100000",
               "-o", "paths.state=" + state, "-o", "paths.lists=" + lists]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "mailwarden", "--"] + cmd
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0:
            raise AssertionError("mailwarden quarantine list failed (%d): %s" %
                                 (p.returncode, p.stderr.decode(errors="replace")[-500:]))
        out = []
        for line in p.stdout.decode(errors="replace").splitlines():
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def held_from(self, sender):
        """Held mail from sender: the MTA's hold queue or Mailwarden's quarantine."""
        held = [e for e in self.queue()
                if e.get("queue_name") == "hold" and e.get("sender") == sender]
        return held + [e for e in self.quarantine() if e.get("sender") == sender]

    def sink_files(self):
        try:
            names = os.listdir(self.sink_dir)
        except FileNotFoundError:
            return []
        return [os.path.join(self.sink_dir, n) for n in names if n.startswith("msg.")]

    def delivered(self, token):
        """Parsed messages in the sink whose X-Test-Id is token."""
        needle = ("X-Test-Id: " + token).encode()
        found = []
        for path in self.sink_files():
            with open(path, "rb") as f:
                data = f.read()
            if needle in data:
                found.append(BytesParser(policy=policy.default).parsebytes(data))
        return found

    def count_delivered(self, prefix):
        """How many sink files carry an X-Test-Id starting with prefix."""
        needle = ("X-Test-Id: " + prefix).encode()
        n = 0
        for path in self.sink_files():
            with open(path, "rb") as f:
                if needle in f.read():
                    n += 1
        return n

    def send(self, raw, **kw):
        return send(self.port, raw, **kw)


@pytest.fixture(scope="session", params=MTAS)
def lab(request):
    """The lab through one MTA (request.param: postfix or sendmail)."""
    mta = request.param
    if os.geteuid() != 0:
        pytest.fail("the integration tests need root (private Postfix master)")
    if not os.access(MAILWARDEND, os.X_OK):
        pytest.fail("%s is not built (make, or set BUILD_DIR)" % MAILWARDEND)
    if mta == "sendmail":
        root = os.environ.get("SENDMAIL_ROOT", "/var/cache/mailwarden-lab/sendmail")
        if not os.access(os.path.join(root, "usr/libexec/sendmail/sendmail"), os.X_OK):
            pytest.fail("Sendmail is not unpacked in %s: run sh scripts/deps.sh test "
                        "(or MW_IT_MTA=postfix)" % root)
    run_dir = tempfile.mkdtemp(prefix="mw-it-%s-" % mta, dir="/tmp")
    os.chmod(run_dir, 0o755)
    sigs = os.path.join(run_dir, "sigs")
    shutil.copytree(os.path.join(REPO, "sigs"), sigs)
    os.chmod(sigs, 0o755)
    lab_port = int(os.environ.get("MW_IT_LAB_PORT") or free_port())
    sink_port = int(os.environ.get("MW_IT_SINK_PORT") or free_port())
    while sink_port == lab_port:
        sink_port = free_port()
    lb = Lab(run_dir, lab_port, sink_port, sigs, mta)
    ok = False
    try:
        lb.lab("start", LAB_PORT=str(lab_port), SINK_PORT=str(sink_port),
               MILTER="unix", SIGS_DIR=sigs, MTA=mta)
        yield lb
        ok = request.session.testsfailed == 0
    finally:
        try:
            lb.lab("stop", check=False)
        finally:
            if os.environ.get("MW_IT_KEEP") or not ok:
                print("\nlab RUN_DIR kept (%s): %s" % (mta, run_dir))
            else:
                shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def milter(lab):
    """The lab with mailwardend running (restarted if a test stopped it)."""
    if lab.milter_pid() is None:
        lab.lab("start-milter")
    return lab
