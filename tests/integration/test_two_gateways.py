"""test_two_gateways.py - two gateways, one memory: two labs side by side
on loopback (two MTAs, two mailwardend) sharing one redis-server that this
module starts with its own config, port, ACL user and password file, and
stops by PID.

Gateway A is always a Postfix lab; gateway B runs through the MTA of the
current pass (Postfix in the postfix pass, Sendmail in the sendmail pass),
so the sendmail pass checks a mixed Postfix + Sendmail pair.  The session
lab of conftest is requested only so this module runs in both passes.

What a user sees is checked: SMTP codes at RCPT and DATA, mail in the
sinks, `mailwarden ctl` output (status, track, quarantine) of either
gateway.  The outage test stops Redis mid-run and starts it again (with its
append-only file, as a production Redis keeps its data)."""

import os
import random
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import (MAILWARDEN, REPO, Lab, make_message, new_token)

STAFF = ["staff%02d@example.com" % i for i in range(1, 31)]
PASSWORD = "it-" + new_token() + new_token()
REDIS_SERVER = "/usr/bin/redis-server"


def campaign_mail(token, sender, rcpt, surname, n):
    """The same template with the recipient's name and a number that change."""
    body = ("%s 様\r\n\r\nいつもお世話になっております。\r\n"
            "制度見直しに関する意見募集の資料をお送りいたします。\r\n資料番号：%d\r\n"
            "ご確認のほど、よろしくお願いいたします。\r\n" % (surname, 1000 + n))
    head = ("From: %s\r\nTo: %s\r\nSubject: =?UTF-8?B?5oSP6KaL5Yuf6ZuG?=\r\nX-Test-Id: %s\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" % (sender, rcpt, token))
    return head.encode("ascii") + body.encode("utf-8")


def ctl(lab, *args):
    """`mailwarden ctl` on a gateway's control socket: (exit status, stdout)."""
    p = subprocess.run([MAILWARDEN, "ctl", "-c", os.path.join(lab.run_dir, "mailwarden.conf"), *args],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace")


def rcpt_probe(lab, sender, rcpt):
    """MAIL and RCPT only: the RCPT-time decision as (code, text)."""
    with smtplib.SMTP("127.0.0.1", lab.port, timeout=60) as s:
        s.ehlo("probe.test.example")
        s.mail(sender)
        code, text = s.rcpt(rcpt)
        s.rset()
        return code, text.decode(errors="replace")


def plain(token, sender, rcpt="bob@example.com"):
    return make_message(token, subject="two gateways %s" % token, sender=sender, rcpt=rcpt,
                        body="A plain note from the two-gateway tests.\n")


# Fixed ports of this suite come from its own range, below the ephemeral
# range: a port picked by binding port 0 can be taken again by an outgoing
# connection (the gateways' Redis and SMTP clients) before the lab binds it.
PORT_RANGE = (23100, 23499)
_taken = set()


def free_port():
    start = random.randint(*PORT_RANGE)
    span = PORT_RANGE[1] - PORT_RANGE[0] + 1
    for k in range(span):
        p = PORT_RANGE[0] + (start - PORT_RANGE[0] + k) % span
        if p in _taken:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        _taken.add(p)
        return p
    raise RuntimeError("no free port in %d-%d" % PORT_RANGE)


class Redis:
    """redis-server on a free loopback port with an append-only file."""

    def __init__(self, top):
        self.top = top
        self.port = free_port()
        self.dir = os.path.join(top, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(top, "redis.conf")
        with open(self.conf, "w") as f:
            # The default user keeps a password of its own instead of "off":
            # Redis 7.0 replays its append-only file as the default user.
            f.write("bind 127.0.0.1\nport %d\ndir %s\nappendonly yes\nappendfsync everysec\n"
                    "save \"\"\nlogfile %s/redis.log\n"
                    "user default on >admin-%s ~* &* +@all\n"
                    "user gw on >%s ~mwit:* &mwit:* +@all\n"
                    % (self.port, self.dir, top, new_token(), PASSWORD))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([REDIS_SERVER, self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start on port %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc = None


class Gateways:
    def __init__(self, a, b, redis, prefix):
        self.a, self.b, self.redis, self.prefix = a, b, redis, prefix

    def status_line(self, lab):
        rc, out = ctl(lab, "status")
        assert rc == 0, out
        return [l for l in out.splitlines() if "shared" in l or l.strip().startswith("outages")]

    def wait_shared(self, lab, up=True, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            rc, out = ctl(lab, "status")
            ok = rc == 0 and (" ok, gateway" in out if up else " DOWN since" in out)
            if ok:
                return out
            time.sleep(0.2)
        raise AssertionError("gateway %s: shared store not %s after %ds:\n%s" %
                             (lab.run_dir, "up" if up else "down", timeout, out))


def start_lab(mta, top, name, redis, prefix, pwfile):
    run_dir = tempfile.mkdtemp(prefix="mw-it-2gw-%s-%s-" % (name, mta), dir="/tmp")
    os.chmod(run_dir, 0o755)
    sigs = os.path.join(run_dir, "sigs")
    shutil.copytree(os.path.join(REPO, "sigs"), sigs)
    os.chmod(sigs, 0o755)
    port, sink = free_port(), free_port()
    lab = Lab(run_dir, port, sink, sigs, mta)
    args = ["-o store.backend=redis", "-o store.address=127.0.0.1:%d" % redis.port,
            "-o store.password_file=%s" % pwfile, "-o store.prefix=%s" % prefix,
            "-o store.gateway=%s" % name, "-o store.retry_interval=200",
            "-o store.command_timeout=300"]
    lab.lab("start", LAB_PORT=str(port), SINK_PORT=str(sink), MILTER="unix", SIGS_DIR=sigs, MTA=mta,
            MW_ARGS=" ".join(args))
    return lab


@pytest.fixture(scope="module")
def gateways(lab):
    """Gateway A (Postfix) and B (this pass's MTA) on one Redis."""
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.fail("%s is not installed: sh scripts/deps.sh test" % REDIS_SERVER)
    top = tempfile.mkdtemp(prefix="mw-it-2gw-redis-", dir="/tmp")
    os.chmod(top, 0o755)
    pwfile = os.path.join(top, "redis.pw")
    with open(pwfile, "w") as f:
        f.write("gw %s\n" % PASSWORD)
    os.chmod(pwfile, 0o600)
    shutil.chown(pwfile, "mailwarden", "mailwarden")
    redis = Redis(top)
    redis.start()
    prefix = "mwit:%s:" % new_token()
    labs = []
    ok = False
    try:
        labs.append(start_lab("postfix", top, "gw-a", redis, prefix, pwfile))
        labs.append(start_lab(lab.mta, top, "gw-b", redis, prefix, pwfile))
        g = Gateways(labs[0], labs[1], redis, prefix)
        g.wait_shared(g.a)
        g.wait_shared(g.b)
        yield g
        ok = True
    finally:
        for lb in labs:
            lb.lab("stop", check=False)
        redis.stop()
        keep = os.environ.get("MW_IT_KEEP") or not ok
        for d in [lb.run_dir for lb in labs] + [top]:
            if keep:
                print("\ntwo-gateway dir kept: %s" % d)
            else:
                shutil.rmtree(d, ignore_errors=True)


def test_password_not_in_process_list_or_logs(gateways):
    for lb in (gateways.a, gateways.b):
        pid = lb.milter_pid()
        assert pid
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert PASSWORD.encode() not in f.read()
        with open(os.path.join(lb.run_dir, "log", "mailwardend.log"), errors="replace") as f:
            log = f.read()
        assert PASSWORD not in log
        assert "backend redis, gateway gw-" in log


def test_fanout_split_over_both_trips_at_same_count(gateways):
    """Threshold 5: on one gateway the 6th distinct recipient is refused;
    spread alternately over A and B, also the 6th, and the sender is then
    refused on both."""
    def run(pick):
        sender = "fan-%s@sender.example" % new_token()
        codes = []
        for i in range(9):
            gw = pick(i)
            codes.append(rcpt_probe(gw, sender, STAFF[i]))
        return sender, codes

    _, alone = run(lambda i: gateways.a)
    sender, split = run(lambda i: gateways.a if i % 2 == 0 else gateways.b)
    first_refused = lambda codes: next(i for i, (c, _) in enumerate(codes) if c >= 500)
    assert first_refused(alone) == 5, alone
    assert first_refused(split) == first_refused(alone), split
    assert all(c == 250 for c, _ in split[:5]), split
    assert "sender.fanout" in split[5][1], split[5]
    assert all(c == 550 for c, _ in split[5:]), split
    for gw in (gateways.a, gateways.b):
        code, text = rcpt_probe(gw, sender, STAFF[20])
        assert code == 550 and ("sender.blocked" in text or "sender.fanout" in text), (code, text)


def test_block_and_lockdown_on_a_refuse_at_b_within_one_second(gateways):
    sender = "blk-%s@sender.example" % new_token()
    assert rcpt_probe(gateways.b, sender, STAFF[0])[0] == 250
    rc, out = ctl(gateways.a, "block", "sender", sender, "1", "two-gateway test")
    assert rc == 0, out
    t0 = time.time()
    code, text = rcpt_probe(gateways.b, sender, STAFF[1])
    assert time.time() - t0 < 1.0
    assert code == 550 and "sender.blocked" in text, (code, text)
    # lockdown 2 on A: B holds external mail within one second
    try:
        rc, out = ctl(gateways.a, "lockdown", "2")
        assert rc == 0, out
        t0 = time.time()
        while True:
            rc, out = ctl(gateways.b, "status")
            if "lockdown    2 (ON)" in out:
                break
            assert time.time() - t0 < 1.0, "lockdown not in force on B after 1 s:\n" + out
            time.sleep(0.05)
        token = new_token()
        r = gateways.b.send(plain(token, "ld-%s@sender.example" % new_token()))
        assert r.ok, r
        gateways.b.wait_drained()
        assert gateways.b.count_delivered(token) == 0
        rc, out = ctl(gateways.b, "quarantine", "list", "held")
        assert rc == 0 and "policy.lockd" in out and token in out and "[gateway gw-b]" in out, out
    finally:
        ctl(gateways.a, "lockdown", "0")
        ctl(gateways.a, "unblock", "sender", sender)


def test_campaign_flagged_on_a_recognised_on_b(gateways):
    run = new_token()
    first = "camp-%s@sender.example" % run
    codes = []
    for i in range(6):
        codes.append(gateways.a.send(campaign_mail("%s-a%d" % (run, i), first, STAFF[i], "山田", i),
                                     sender=first, rcpts=(STAFF[i],)))
    assert [r.ok for r in codes] == [True] * 5 + [False], codes
    assert "sender.fanout" in codes[5].text, codes[5]
    second = "camp2-%s@other-sender.example" % run
    r = gateways.b.send(campaign_mail("%s-b" % run, second, STAFF[15], "佐藤", 77), sender=second,
                        rcpts=(STAFF[15],))
    assert r.perm and r.stage == "DATA" and "sender.campaign" in r.text, r
    gateways.b.wait_drained()
    assert gateways.b.count_delivered("%s-b" % run) == 0


def test_track_on_b_lists_messages_received_by_a(gateways):
    token = new_token()
    sender = "trk-%s@sender.example" % token
    r = gateways.a.send(plain(token, sender), sender=sender)
    assert r.ok, r
    rc, out = ctl(gateways.b, "track", "sender", sender)
    assert rc == 0, out
    assert "1 message(s)" in out and sender[:20] in out and "two gateways %s" % token in out, out


def test_quarantine_listed_and_released_from_the_other_gateway(gateways):
    """A message held on A is listed on B and released from B: A's daemon
    re-injects it (the file never leaves A)."""
    token = new_token()
    sender = "rel-%s@sender.example" % token
    try:
        rc, out = ctl(gateways.a, "rules", "set", "actions.sender.display_spoof", "hold")
        assert rc == 0, out
        raw = plain(token, sender).replace(b"From: " + sender.encode(),
                                           b"From: \"boss@example.com\" <" + sender.encode() + b">")
        r = gateways.a.send(raw, sender=sender)
        assert r.ok, r
        gateways.a.wait_drained()
        assert gateways.a.count_delivered(token) == 0
    finally:
        ctl(gateways.a, "rules", "unset", "actions.sender.display_spoof")
    rc, out = ctl(gateways.b, "quarantine", "list", "held")
    assert rc == 0 and "[gateway gw-a]" in out, out
    qid = next(l.split()[0] for l in out.splitlines() if "rel-" + token[:10] in l)
    rc, out = ctl(gateways.b, "quarantine", "release", qid)
    assert rc == 0 and "on gateway gw-a" in out, out
    deadline = time.time() + 30
    while gateways.a.count_delivered(token) == 0 and time.time() < deadline:
        time.sleep(0.2)
    assert gateways.a.count_delivered(token) == 1


def test_redis_stopped_mid_run_then_reconciled(gateways):
    """Redis stops: both gateways keep answering from their local copies
    (250 for clean mail, 550 for a sender blocked before the outage, and a
    block made on B during the outage refuses at B at once), nothing is
    lost and nothing is deferred because of Redis; the status shows the
    outage.  Redis back: the block made on B during the outage refuses at
    A, and A's `track` lists the mail B took during the outage."""
    a, b = gateways.a, gateways.b
    blocked = "pre-%s@sender.example" % new_token()
    rc, out = ctl(a, "block", "sender", blocked, "1", "before the outage")
    assert rc == 0, out
    time.sleep(0.5)  # B copies the shared blocks into its local file (pub/sub)
    run = new_token()
    gateways.redis.stop()
    try:
        sent = []
        for i, gw in enumerate((a, b, a, b)):
            token = "%s-%d" % (run, i)
            sender = "down-%s-%d@sender.example" % (run, i)
            r = gw.send(plain(token, sender), sender=sender)
            assert r.ok, (i, r)
            sent.append((gw, token, sender))
        for gw in (a, b):
            code, text = rcpt_probe(gw, blocked, STAFF[2])
            assert code == 550 and "sender.blocked" in text, (code, text)
        late = "late-%s@sender.example" % new_token()
        rc, out = ctl(b, "block", "sender", late, "1", "during the outage")
        assert rc == 0, out
        code, text = rcpt_probe(b, late, STAFF[3])
        assert code == 550, (code, text)
        for gw in (a, b):
            out = gateways.wait_shared(gw, up=False)
            assert "change(s) pending" in out and "last error" in out, out
        for gw, token, _ in sent:
            gw.wait_drained()
            assert gw.count_delivered(token) == 1, token
        with open(os.path.join(a.run_dir, "log", "mailwardend.log"), errors="replace") as f:
            assert "unreachable" in f.read()
    finally:
        gateways.redis.start()
    for gw in (a, b):
        out = gateways.wait_shared(gw, up=True)
        m = re.search(r"outages (\d+), reconciled (\d+)", out)
        assert m and int(m.group(1)) >= 1 and int(m.group(2)) >= 2, out
    code, text = rcpt_probe(a, late, STAFF[4])
    assert code == 550 and "sender.blocked" in text, (code, text)
    rc, out = ctl(a, "track", "sender", sent[1][2])
    assert rc == 0 and "1 message(s)" in out, out
    ctl(a, "unblock", "sender", blocked)
    ctl(a, "unblock", "sender", late)
