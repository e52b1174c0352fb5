"""test_fault_inject.py - fault injection with the LD_PRELOAD shim
(tests/faults/mwfault.c, built as build/tools/libmwfault.so; issue 14).

The promise under test: whatever call fails, every message ends in a 4xx
(tempfail) or a durable quarantine - never a 250 / accept for mail that
was not examined, and never a 250 for mail that was then lost.

  scan CLI (`mailwarden scan`, no lab):
    paths.tmp missing, read-only (EROFS), refused (EACCES), full
    (ENOSPC), or failing writes (EIO) - with a small EICAR message, EICAR
    in a zip, the marker in the text and a clean message with a PDF;
    the signature file unreadable; with --state: the state directory
    read-only, the database's writes failing (disk full)
  daemon (mailwardend of a private lab under the shim, through Postfix;
  daemon-side faults do not depend on the MTA):
    paths.tmp full or read-only (issue 14 item 2: a small EICAR message
    must not reach the sink), quarantine file create/write/fsync/rename
    failing, the state database's writes failing, a signature file
    unreadable at reload and at start

Every shim test also checks that its fault really fired (the shim's log),
so a change of code path cannot turn it into a test that cannot fail.
The paths.tmp ones reproduced issue 14 item 2 before the engine fix
(tests/faults/README.md).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import (BUILD_DIR, LAB_SH, MAILWARDEN, MAILWARDEND, REPO, Lab, eicar, free_port, make_message,
                      marker, new_token, send, zipped)

SHIM = os.path.join(BUILD_DIR, "tools", "libmwfault.so")
STRONG = ("quarantine", "reject", "tempfail")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def asan_options():
    """The sanitizer build (make test-asan) refuses a preloaded library
    ahead of its runtime unless told this is on purpose."""
    cur = os.environ.get("ASAN_OPTIONS", "")
    return (cur + ":" if cur else "") + "verify_asan_link_order=0"


def need_shim():
    if not os.access(SHIM, os.R_OK):
        pytest.fail("%s is not built (make unit)" % SHIM)


# ---------------------------------------------------------------- messages

def msg_small_eicar(token):
    """EICAR under a harmless name, so only the antivirus can catch it."""
    return make_message(token, subject="small eicar",
                        attachments=[("notes.txt", eicar() + b"\r\n", "text/plain")]), True


def msg_zip_eicar(token):
    return make_message(token, subject="zip eicar",
                        attachments=[("notes.zip", zipped("notes.txt", eicar()), "application/zip")]), True


def msg_marker_text(token):
    return make_message(token, subject="marker in text", body="Figures follow.\n%s\n" % marker().decode()), True


def msg_clean_pdf(token):
    return make_message(token, subject="clean pdf", attachments=[("report.pdf", PDF, "application/pdf")]), False


MESSAGES = {"small_eicar": msg_small_eicar, "zip_eicar": msg_zip_eicar, "marker_text": msg_marker_text,
            "clean_pdf": msg_clean_pdf}


# ---------------------------------------------------------------- the CLI

class CliRun:
    def __init__(self, verdict, rc, stderr, fired):
        self.verdict, self.rc, self.stderr, self.fired = verdict, rc, stderr, fired

    @property
    def action(self):
        return self.verdict.get("action") if self.verdict else None

    @property
    def codes(self):
        return [r["code"] for r in self.verdict.get("reasons", [])] if self.verdict else []


def cli_scan(workdir, raw, fault=None, tmp=None, state=None, extra=(), sigs=None):
    """mailwarden scan under the shim; fault: {CALLS, PATH, ERRNO, ...}."""
    need_shim()
    workdir = str(workdir)
    tmp = tmp or os.path.join(workdir, "tmp")
    os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
    conf = os.path.join(workdir, "mailwarden.conf")
    with open(conf, "w") as f:
        f.write("[paths]\nlists = %s\ntmp = %s\n" % (os.path.join(REPO, "data", "lists"), tmp))
    path = os.path.join(workdir, "m-%s.eml" % new_token())
    with open(path, "wb") as f:
        f.write(raw)
    log = os.path.join(workdir, "fault-%s.log" % new_token())
    env = dict(os.environ)
    if fault:
        env["LD_PRELOAD"] = SHIM
        env["ASAN_OPTIONS"] = asan_options()
        env["MWFAULT_LOG"] = log
        for k, v in fault.items():
            env["MWFAULT_" + k] = str(v)
    argv = [MAILWARDEN, "scan", "--config", conf, "--sigs", sigs or os.path.join(REPO, "sigs")]
    if state:
        argv += ["--state", state, "--from", "alice@sender.example", "--rcpt", "bob@example.com"]
    p = subprocess.run(argv + list(extra) + [path], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    try:
        v = json.loads(p.stdout.decode(errors="replace"))
    except ValueError:
        v = None
    fired = []
    if os.path.exists(log):
        with open(log) as f:
            fired = f.read().splitlines()
    return CliRun(v, p.returncode, p.stderr.decode(errors="replace"), fired)


def assert_safe(run, infected, what):
    """The promise for one scan: tempfail, or (for infected mail) a strong
    verdict with a reason; a clean message the scanner could not examine
    is deferred, never accepted."""
    assert run.verdict is not None, "%s: no verdict (exit %d): %s" % (what, run.rc, run.stderr[-400:])
    if infected:
        assert run.action in STRONG, "%s: infected mail got %s %s\nstderr: %s" % (
            what, run.action, run.codes, run.stderr[-600:])
    else:
        assert run.action == "tempfail", "%s: mail the scanner could not examine got %s %s\nstderr: %s" % (
            what, run.action, run.codes, run.stderr[-600:])


# paths.tmp faults for the CLI: (id, shim settings or None, extra options)
SPILL = ("-o", "limits.part_memory=1024")  # decoded parts past 1 KB go to paths.tmp
TMP_FAULTS = {
    "missing": None,
    "readonly": {"CALLS": "mkdir,mktemp,create", "ERRNO": "EROFS"},
    "eacces": {"CALLS": "mkdir,mktemp,create", "ERRNO": "EACCES"},
    "full": {"CALLS": "mkdir,mktemp,create,write", "ERRNO": "ENOSPC"},
}


@pytest.mark.parametrize("msg", sorted(MESSAGES))
@pytest.mark.parametrize("fault", sorted(TMP_FAULTS))
def test_scan_tmp_fault(tmp_path, fault, msg):
    """paths.tmp unusable: libclamav cannot make its scan directory
    (issue 14 item 2: today it logs and answers clean)."""
    raw, infected = MESSAGES[msg](new_token())
    tmp = os.path.join(str(tmp_path), "tmp")
    spec = TMP_FAULTS[fault]
    if spec is None:
        run = cli_scan(tmp_path, raw, tmp=os.path.join(str(tmp_path), "no-such-dir"))
    else:
        run = cli_scan(tmp_path, raw, fault=dict(spec, PATH=tmp), tmp=tmp)
        assert run.fired, "the %s fault never fired: nothing under %s was touched" % (fault, tmp)
    assert_safe(run, infected, "paths.tmp %s, %s" % (fault, msg))


def test_scan_tmp_write_eio_spilled(tmp_path):
    """Writes to spill files fail (EIO) for a decoded part bigger than
    limits.part_memory: the part cannot be held, so it is not examined."""
    token = new_token()
    raw = make_message(token, subject="big pdf",
                       attachments=[("report.pdf", PDF + b"%" + b"x" * 8000 + b"\n", "application/pdf")])
    tmp = os.path.join(str(tmp_path), "tmp")
    run = cli_scan(tmp_path, raw, fault={"CALLS": "write,create,mktemp", "ERRNO": "EIO", "PATH": tmp},
                   tmp=tmp, extra=SPILL)
    assert run.fired, "no write under %s failed" % tmp
    assert_safe(run, False, "spill writes failing")


def test_scan_signature_file_unreadable(tmp_path):
    """The only signature file cannot be opened (EACCES even for root):
    no engine, so tempfail, for clean and infected mail alike."""
    ndb = os.path.join(REPO, "sigs", "mailwarden-test.ndb")
    for make in (msg_clean_pdf, msg_small_eicar):
        raw, _ = make(new_token())
        run = cli_scan(tmp_path, raw, fault={"CALLS": "open", "PATH": ndb, "ERRNO": "EACCES"})
        assert run.fired, "the signature file was never opened"
        assert run.action == "tempfail", (run.action, run.codes, run.stderr[-400:])
        assert "av.unavailable" in run.codes, run.codes


def test_scan_one_of_two_signature_files_unreadable(tmp_path):
    """A second database file that cannot be read: the engine must not
    load half a database silently (tempfail), and EICAR is still not
    accepted."""
    sigs = os.path.join(str(tmp_path), "sigs")
    shutil.copytree(os.path.join(REPO, "sigs"), sigs)
    extra = os.path.join(sigs, "extra.ndb")
    with open(extra, "w") as f:
        f.write("Mailwarden.Test.Extra:0:*:%s\n" % b"difftest-extra-signature".hex())
    raw, _ = msg_clean_pdf(new_token())
    run = cli_scan(tmp_path, raw, fault={"CALLS": "open", "PATH": extra, "ERRNO": "EACCES"},
                   sigs=sigs)
    assert run.fired, "extra.ndb was never opened"
    assert run.action == "tempfail", (run.action, run.codes, run.stderr[-400:])


def prime_state(tmp_path):
    """A state directory the store has created once (healthy)."""
    state = os.path.join(str(tmp_path), "state")
    os.makedirs(state)
    raw, _ = msg_clean_pdf(new_token())
    run = cli_scan(tmp_path, raw, state=state)
    assert run.verdict is not None and os.path.exists(os.path.join(state, "mailwarden.db")), run.stderr
    return state


@pytest.mark.parametrize("fault", ["readonly", "full", "eio"])
def test_scan_state_fault(tmp_path, fault):
    """`mailwarden scan --state DIR` with the state database unusable:
    store.unavailable, tempfail (the store decides blocks, fan-out and
    campaigns; without it the verdict is incomplete)."""
    state = prime_state(tmp_path)
    spec = {"readonly": {"CALLS": "create,write,mkdir,rename", "ERRNO": "EROFS"},
            "full": {"CALLS": "write", "ERRNO": "ENOSPC"},
            "eio": {"CALLS": "write,fsync", "ERRNO": "EIO"}}[fault]
    raw, _ = msg_clean_pdf(new_token())
    run = cli_scan(tmp_path, raw, state=state, fault=dict(spec, PATH=state))
    assert run.fired, "nothing under %s was written" % state
    assert run.action == "tempfail", (run.action, run.codes, run.stderr[-400:])


def test_scan_state_dir_missing_parent(tmp_path):
    """The state directory cannot even be created: tempfail."""
    raw, _ = msg_clean_pdf(new_token())
    state = os.path.join(str(tmp_path), "ro")
    run = cli_scan(tmp_path, raw, state=os.path.join(state, "state"),
                   fault={"CALLS": "mkdir,create", "PATH": state, "ERRNO": "EROFS"})
    assert run.action == "tempfail", (run.action, run.codes, run.stderr[-400:])


# ---------------------------------------------------------------- the daemon

class FaultLab(Lab):
    """The lab with mailwardend under the shim, steered by a control file
    the shim re-reads whenever it changes (absent: no fault)."""

    def __init__(self, *a, **kw):
        Lab.__init__(self, *a, **kw)
        self.control = os.path.join(self.run_dir, "fault.ctl")
        self.fault_log = os.path.join(self.run_dir, "fault.log")
        self.mw_dir = os.path.join(self.run_dir, "mailwarden")
        self.tmp = os.path.join(self.mw_dir, "tmp")
        self.state = os.path.join(self.mw_dir, "state")

    def set_fault(self, **settings):
        open(self.fault_log, "w").close()
        os.chmod(self.fault_log, 0o666)
        settings.setdefault("LOG", self.fault_log)
        tmp = self.control + ".new"
        with open(tmp, "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in settings.items()))
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.control)

    def clear_fault(self):
        if os.path.exists(self.control):
            os.unlink(self.control)

    def fired(self):
        try:
            with open(self.fault_log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def log_text(self):
        with open(os.path.join(self.run_dir, "log", "mailwardend.log"), errors="replace") as f:
            return f.read()


@pytest.fixture(scope="module")
def fault_lab(request):
    """A private Postfix lab whose mailwardend runs under the shim.  The
    faults are daemon-side, so one MTA (Postfix) is enough."""
    need_shim()
    if os.geteuid() != 0:
        pytest.fail("the daemon fault tests need root (private Postfix master)")
    if not os.access(MAILWARDEND, os.X_OK):
        pytest.fail("%s is not built" % MAILWARDEND)
    run_dir = tempfile.mkdtemp(prefix="mw-it-fault-", dir="/tmp")
    os.chmod(run_dir, 0o755)
    sigs = os.path.join(run_dir, "sigs")
    shutil.copytree(os.path.join(REPO, "sigs"), sigs)
    os.chmod(sigs, 0o755)
    # a wrapper named mailwardend (lab.sh checks the process name) that
    # preloads the shim; its directory also offers the CLI lab.sh names
    wrapdir = os.path.join(run_dir, "bin")
    os.makedirs(wrapdir)
    wrapper = os.path.join(wrapdir, "mailwardend")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nLD_PRELOAD=%s MWFAULT_CONTROL=%s ASAN_OPTIONS='%s' exec %s \"$@\"\n" % (
            SHIM, os.path.join(run_dir, "fault.ctl"), asan_options(), MAILWARDEND))
    os.chmod(wrapper, 0o755)
    os.symlink(MAILWARDEN, os.path.join(wrapdir, "mailwarden"))
    lab_port, sink_port = free_port(), free_port()
    while sink_port == lab_port:
        sink_port = free_port()
    lb = FaultLab(run_dir, lab_port, sink_port, sigs, "postfix")
    ok = False
    try:
        lb.lab("start", LAB_PORT=str(lab_port), SINK_PORT=str(sink_port), MILTER="unix", SIGS_DIR=sigs,
               MTA="postfix", MAILWARDEND=wrapper)
        yield lb
        ok = request.session.testsfailed == 0
    finally:
        try:
            lb.clear_fault()
            lb.lab("stop", check=False)
        finally:
            if os.environ.get("MW_IT_KEEP") or not ok:
                print("\nfault lab RUN_DIR kept: %s" % run_dir)
            else:
                shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def flab(fault_lab):
    """The fault lab with no fault set and mailwardend running."""
    fault_lab.clear_fault()
    if fault_lab.milter_pid() is None:
        fault_lab.lab("start-milter")
    yield fault_lab
    fault_lab.clear_fault()


def sender_for(token):
    return "fi-%s@sender.example" % token


def retry_until_final(lab, raw, sender, rcpts=("bob@example.com",), timeout=60):
    """Retry 4xx as a sending server would, until a final answer."""
    deadline = time.time() + timeout
    while True:
        r = send(lab.port, raw, sender=sender, rcpts=rcpts)
        if not r.temp or time.time() > deadline:
            return r
        time.sleep(0.5)


def assert_not_passed(lab, r, token, what):
    """Never a 250 for mail that was not examined: 4xx, or a refusal."""
    assert not r.ok, "%s: answered %r (250 for mail the scanner could not examine)" % (what, r)
    lab.wait_drained()
    assert lab.count_delivered(token) == 0, "%s: the message reached the sink" % what


@pytest.mark.parametrize("fault", ["full", "readonly"])
def test_daemon_tmp_fault_small_eicar_not_delivered(flab, fault):
    """Issue 14 item 2 through Postfix: paths.tmp full (ENOSPC) or
    read-only (EROFS) and a small EICAR message: 4xx or 5xx, never 250;
    the same message is refused once the disk is mended."""
    lab = flab
    errno = {"full": "ENOSPC", "readonly": "EROFS"}[fault]
    token = "ft" + new_token()[:10]
    raw, _ = msg_small_eicar(token)
    lab.set_fault(CALLS="mkdir,mktemp,create,write", PATH=lab.tmp, ERRNO=errno)
    try:
        r = lab.send(raw, sender=sender_for(token))
        assert lab.fired(), "the fault never fired: mailwardend made nothing under %s" % lab.tmp
    finally:
        lab.clear_fault()
    assert_not_passed(lab, r, token, "paths.tmp %s, small EICAR" % fault)
    r2 = retry_until_final(lab, raw, sender_for(token))
    assert r2.perm, "EICAR after the fault cleared: %r" % (r2,)


def test_daemon_tmp_readonly_clean_mail_deferred(flab):
    """A clean message that could not be scanned is deferred (4xx), and
    delivered once the disk is mended: examined, and not lost."""
    lab = flab
    token = "fc" + new_token()[:10]
    raw, _ = msg_clean_pdf(token)
    lab.set_fault(CALLS="mkdir,mktemp,create", PATH=lab.tmp, ERRNO="EROFS")
    try:
        r = lab.send(raw, sender=sender_for(token))
        assert lab.fired(), "the fault never fired"
    finally:
        lab.clear_fault()
    assert r.temp, "clean mail scanned without a temporary directory: %r (want 4xx)" % (r,)
    r2 = retry_until_final(lab, raw, sender_for(token))
    assert r2.ok, r2
    lab.wait_drained()
    held = lab.held_from(sender_for(token))
    assert lab.count_delivered(token) + len(held) == 1, "delivered %d, held %d" % (
        lab.count_delivered(token), len(held))


def quarantine_bound(token):
    """Free-mail sender to a public address, with an attachment: quarantine."""
    sender = "f-%s@gmail.com" % token
    raw = make_message(token, subject="fq " + token, sender=sender, rcpt="info@example.com",
                       attachments=[("document.pdf", PDF, "application/pdf")])
    return raw, sender, ("info@example.com",)


QUARANTINE_FAULTS = {
    "create_eacces": {"CALLS": "create", "ERRNO": "EACCES"},
    "write_enospc": {"CALLS": "write", "ERRNO": "ENOSPC"},
    "fsync_eio": {"CALLS": "fsync", "ERRNO": "EIO"},
    "rename_eio": {"CALLS": "rename", "ERRNO": "EIO"},
}


@pytest.mark.parametrize("fault", sorted(QUARANTINE_FAULTS))
def test_daemon_quarantine_write_fault(flab, fault):
    """The quarantine file cannot be created, written, synced or renamed:
    4xx (quarantine.unavailable), nothing delivered, no half file; after
    the fault the retry lands in the quarantine exactly once."""
    lab = flab
    qdir = os.path.join(lab.state, "quarantine")
    token = "fq" + new_token()[:10]
    raw, sender, rcpts = quarantine_bound(token)
    if not os.path.isdir(qdir):
        prime, ps, pr = quarantine_bound("fq0" + new_token()[:8])
        assert retry_until_final(lab, prime, ps, pr).ok
    lab.set_fault(PATH=qdir, **QUARANTINE_FAULTS[fault])
    try:
        r = lab.send(raw, sender=sender, rcpts=rcpts)
        assert lab.fired(), "the %s fault never fired under %s" % (fault, qdir)
    finally:
        lab.clear_fault()
    assert r.temp, "quarantine-bound mail answered %r while the quarantine failed (%s)" % (r, fault)
    assert not [n for n in os.listdir(qdir) if n.startswith("tmp-")], "a partial quarantine file was left"
    r2 = retry_until_final(lab, raw, sender, rcpts)
    assert r2.ok, r2
    lab.wait_drained()
    subjects = [e["subject"] for e in lab.quarantine() if e.get("subject") == "fq " + token]
    assert subjects == ["fq " + token], "in quarantine %d times" % len(subjects)
    assert lab.count_delivered(token) == 0


@pytest.mark.parametrize("fault", ["full", "eio"])
def test_daemon_state_db_write_fault(flab, fault):
    """The state database's writes fail (disk full, I/O error): 4xx
    (store.unavailable), and the daemon recovers once the disk is back."""
    lab = flab
    token = "fs" + new_token()[:10]
    raw, _ = msg_clean_pdf(token)
    errno = {"full": "ENOSPC", "eio": "EIO"}[fault]
    lab.set_fault(CALLS="write,fsync", PATH=os.path.join(lab.state, "mailwarden.db"), ERRNO=errno)
    try:
        r = lab.send(raw, sender=sender_for(token))
        assert lab.fired(), "nothing was written to the state database"
    finally:
        lab.clear_fault()
    assert r.temp, "mail answered %r while the state database could not be written" % (r,)
    r2 = retry_until_final(lab, raw, sender_for(token))
    assert r2.ok, "not accepted after the disk came back: %r" % (r2,)
    lab.wait_drained()
    assert lab.count_delivered(token) + len(lab.held_from(sender_for(token))) == 1


def test_daemon_signature_file_unreadable_at_reload(flab):
    """A reload that cannot read the signature file keeps the old engine:
    the marker is still refused, clean mail still flows."""
    lab = flab
    ndb = os.path.join(lab.sigs_dir, "mailwarden-test.ndb")
    lab.set_fault(CALLS="open", PATH=ndb, ERRNO="EACCES")
    try:
        os.utime(ndb)  # a changed database, so the reload really loads
        lab.hup()
        deadline = time.time() + 20
        while not lab.fired() and time.time() < deadline:
            time.sleep(0.2)
        assert lab.fired(), "the reload never opened %s" % ndb
        time.sleep(0.5)
        token = "fr" + new_token()[:10]
        r = lab.send(make_message(token, subject="marker after failed reload",
                                  body="x %s y\n" % marker().decode()), sender=sender_for(token))
        assert not r.ok, "the marker passed after a failed reload: %r" % (r,)
    finally:
        lab.clear_fault()


def test_daemon_signature_file_unreadable_at_start(flab):
    """The daemon starts while its only signature file cannot be read and
    no last good copy exists: no mail is passed unscanned (4xx), and mail
    flows once it can.  (With a last good copy the daemon serves that:
    test_sigdb_reload.py.)"""
    lab = flab
    ndb = os.path.join(lab.sigs_dir, "mailwarden-test.ndb")
    lab.lab("stop-milter")
    shutil.rmtree(os.path.join(lab.run_dir, "mailwarden", "sigs.last-good"), ignore_errors=True)
    lab.set_fault(CALLS="open", PATH=ndb, ERRNO="EACCES")
    token = "fa" + new_token()[:10]
    raw = make_message(token, subject="clean while no signatures")
    try:
        lab.lab("start-milter", check=False)
        r = lab.send(raw, sender=sender_for(token))
        assert lab.fired(), "the daemon never opened %s" % ndb
        assert r.temp, "mail answered %r with no signature database" % (r,)
    finally:
        lab.clear_fault()
        lab.lab("stop-milter", check=False)
        lab.lab("start-milter")
    r2 = retry_until_final(lab, raw, sender_for(token))
    assert r2.ok, r2
    lab.wait_drained()
    assert lab.count_delivered(token) == 1
