"""test_parity.py - one verdict whatever the door: after each kind of
run-time change made through the control socket (`mailwarden ctl
--socket ...`: lockdown 1 and 2, a block of a sender and of a domain, an
allow-list entry, a fan-out threshold, a code -> action override, list
edits of the storage and free-mail lists), the same message is sent
through the lab MTA to mailwardend and given to `mailwarden scan --state`
with the lab's configuration, and both must give the same action and the
same reason codes where both report them (issue 15: both doors build
their configuration in src/scan/env.c).

How each door's verdict is read:
  - the MTA: 550 -> reject, 4xx -> tempfail (the reply names the
    strongest reason code); 250 -> held or quarantined when
    `mailwarden quarantine list --json` has the message (its reasons),
    else accept or tag from the X-Mailwarden-Verdict and
    X-Mailwarden-Reasons headers of the copy at the sink;
  - `scan`: a refused recipient (rcpt_refused, in order: the MTA client
    stops at the first one) or the JSON action and reasons.

`scan --state` records history as the daemon does (senders seen, fan-out
windows, auto-blocks), so the order of the two doors could change a
verdict.  Each probe therefore has a sender and words of its own, and
`scan` runs first on a copy of the daemon's database taken just before
the message is sent (SQLite's backup API: the rules, list edits, blocks
and history the daemon is about to use).  Probes whose verdict cannot
depend on the order (no first contact, no auto-block) are also scanned
afterwards on the daemon's own state directory, as the daemon's user.

Every probe also checks the verdict the change is meant to give, so two
doors that both ignored a change would still fail.  Changes are undone
in `finally` blocks."""

import json
import os
import random
import re
import sqlite3
import string
import subprocess
import time

import pytest

from conftest import MAILWARDEN, make_message, new_token

DAEMON_USER = "mailwarden"  # scripts/lab.sh LAB_USER
EXIT = {"accept": 0, "tag": 0, "hold": 1, "quarantine": 1, "reject": 2, "tempfail": 3}
RANK = ["accept", "tag", "hold", "quarantine", "reject", "tempfail"]
STAFF = "bob@example.com"
STAFF2 = "carol@example.com"


def conf(lab):
    return os.path.join(lab.run_dir, "mailwarden.conf")


def state_dir(lab):
    return os.path.join(lab.run_dir, "mailwarden", "state")


def control_socket(lab):
    return os.path.join(lab.run_dir, "mailwarden", "control.sock")


def ctl(lab, *args, check=True):
    """One command to the lab daemon's control socket."""
    p = subprocess.run([MAILWARDEN, "ctl", "--socket", control_socket(lab), *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise AssertionError("mailwarden ctl %s: exit %d: %s" % (" ".join(args), p.returncode, out))
    return p.returncode, out


def words(n=8):
    """Letters only (a campaign skeleton drops digits): no two probes share a fingerprint."""
    return " ".join("".join(random.choice(string.ascii_lowercase) for _ in range(7)) for _ in range(n))


class Verdict:
    """One door's answer: action, reason codes, and whether the codes are all of them."""

    def __init__(self, door, action, codes, complete, strongest=None, stage=""):
        self.door, self.action, self.codes = door, action, list(codes)
        self.complete, self.strongest, self.stage = complete, strongest, stage

    def __repr__(self):
        return "<%s: %s %s%s at %s>" % (self.door, self.action, ",".join(self.codes) or "none",
                                        "" if self.complete else " (strongest only)", self.stage)


def strongest(reasons):
    """The code the milter names in its reply: the first reason with the strongest action."""
    best = None
    for r in reasons:
        if best is None or RANK.index(r["action"]) > RANK.index(best["action"]):
            best = r
    return best["code"] if best else None


def scan_door(lab, raw, sender, rcpts, state, as_daemon=False):
    """`mailwarden scan -c <lab conf> --state STATE --from S --rcpt R... -` on raw."""
    cmd = [MAILWARDEN, "scan", "-c", conf(lab), "--state", state, "--from", sender]
    for r in rcpts:
        cmd += ["--rcpt", r]
    cmd.append("-")
    if as_daemon and os.geteuid() == 0:
        cmd = ["runuser", "-u", DAEMON_USER, "--"] + cmd
    p = subprocess.run(cmd, input=raw, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    try:
        v = json.loads(out)
    except ValueError:
        raise AssertionError("scan (exit %d) printed no JSON: %r\n%s" % (p.returncode, out[:300], err[-800:]))
    assert EXIT[v["action"]] == p.returncode, (v["action"], p.returncode, err)
    door = "scan --state %s" % ("(daemon's)" if as_daemon else "(copy)")
    refused = v.get("rcpt_refused") or []
    if refused:
        first = refused[0]
        return Verdict(door, first["action"], first["codes"], False, stage="RCPT " + first["rcpt"])
    return Verdict(door, v["action"], [r["code"] for r in v["reasons"]], True,
                   strongest=strongest(v["reasons"]), stage="DATA")


def snapshot(lab, dest):
    """A consistent copy of the daemon's database in dest (a state directory for scan)."""
    os.makedirs(dest, exist_ok=True)
    src = sqlite3.connect("file:%s?mode=ro" % os.path.join(state_dir(lab), "mailwarden.db"), uri=True,
                          timeout=30)
    dst = sqlite3.connect(os.path.join(dest, "mailwarden.db"))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return dest


def split_codes(line):
    line = (line or "").strip()
    return [] if line in ("", "none") else [c.strip() for c in line.split(",") if c.strip()]


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(0.3)


def mta_door(lab, raw, sender, rcpts, token, subject):
    """Send raw through the lab MTA; read back what mailwardend decided."""
    r = lab.send(raw, sender=sender, rcpts=rcpts)
    if not r.ok:
        action = "reject" if r.perm else "tempfail"
        m = re.search(r"Mailwarden: ([a-z_]+\.[a-z_.]+)", r.text)
        assert m, "a %d reply that names no reason code: %r" % (r.code, r)
        assert (r.code == 550) if r.perm else r.temp, r
        return Verdict("MTA", action, [m.group(1)], False, strongest=m.group(1), stage=r.stage)
    q = [e for e in lab.quarantine() if e.get("subject") == subject]
    if q:
        assert len(q) == 1, q
        action = {"held": "hold", "quarantined": "quarantine"}.get(q[0]["state"], q[0]["state"])
        return Verdict("MTA", action, split_codes(q[0]["reasons"]), True, stage="DATA (quarantine)")
    got = wait_for(lambda: lab.delivered(token), 60, "message %s at the sink" % token)
    assert len(got) == 1, "delivered %d times" % len(got)
    msg = got[0]
    return Verdict("MTA", msg["X-Mailwarden-Verdict"], split_codes(msg["X-Mailwarden-Reasons"]), True,
                   stage="DATA (delivered)")


def same(a, b):
    """Assert two doors agree: action, and the codes as far as both report them."""
    assert a.action == b.action, "%r vs %r" % (a, b)
    if a.complete and b.complete:
        assert sorted(set(a.codes)) == sorted(set(b.codes)), "%r vs %r" % (a, b)
    else:
        named = a if not a.complete else b
        other = b if named is a else a
        code = named.codes[0]
        if other.complete and other.strongest:
            assert code == other.strongest, "%r vs %r" % (a, b)
        else:
            assert code in other.codes, "%r vs %r" % (a, b)


class Probe:
    """One message through both doors.  want: the action the change must
    give; code: a reason code that must be among the reasons; live: also
    scan the daemon's own state afterwards (order cannot matter)."""

    def __init__(self, what, want, code=None, live=True, sender=None, rcpts=(STAFF,),
                 attachments=(), body=""):
        self.what, self.want, self.code, self.live = what, want, code, live
        self.sender = sender or "p-%s@sender.example" % new_token()
        self.rcpts, self.attachments, self.body = tuple(rcpts), tuple(attachments), body

    def run(self, lab, tmp_path):
        token = new_token()
        subject = "parity %s %s" % (token, words(2))
        raw = make_message(token, subject=subject, body="%s\n%s\n" % (words(), self.body),
                           attachments=self.attachments, sender=self.sender, rcpt=self.rcpts[0])
        copy = snapshot(lab, str(tmp_path / ("state-" + token)))
        by_scan = scan_door(lab, raw, self.sender, self.rcpts, copy)
        by_mta = mta_door(lab, raw, self.sender, self.rcpts, token, subject)
        print("%-40s %r\n%-40s %r" % (self.what, by_mta, "", by_scan))
        same(by_mta, by_scan)
        assert by_mta.action == self.want, "%s: want %s, got %r" % (self.what, self.want, by_mta)
        if self.code:
            assert self.code in by_mta.codes and self.code in by_scan.codes, \
                "%s: want %s: %r %r" % (self.what, self.code, by_mta, by_scan)
        if self.live:
            lab.wait_drained()
            by_live = scan_door(lab, raw, self.sender, self.rcpts, state_dir(lab), as_daemon=True)
            print("%-40s %r" % ("", by_live))
            same(by_mta, by_live)


# ---------------------------------------------------------------- the changes
# Each case: (commands that make the change, commands that undo it, probes).
# t is a token of the case, for names no other test uses.

NOTES = ("notes.txt", b"meeting notes, nothing else\n", "text/plain")


def case_no_change(t):
    return [], [], [
        Probe("plain text from outside", "accept"),
        Probe("free-mail to staff", "reject", "sender.freemail", sender="f-%s@gmail.com" % t),
        Probe("the marker in an attachment", "reject", "av.infected", live=False,  # auto-blocks its sender
              attachments=[("data.bin", b"x " + ("MAILWARDEN-TEST-" + "MARKER-7f3a9c1e").encode() + b"\n",
                            "application/octet-stream")]),
    ]


def case_lockdown_1(t):
    return [["lockdown", "1"]], [["rules", "unset", "hold.lockdown"]], [
        Probe("lockdown 1: outside, an attachment", "hold", "policy.lockdown", attachments=[NOTES]),
        Probe("lockdown 1: outside, a link", "hold", "policy.lockdown",
              body="Agenda: https://www.example.com/agenda-%s" % t),
        Probe("lockdown 1: outside, plain text", "accept"),
        Probe("lockdown 1: ours, an attachment", "accept", sender="boss-%s@example.com" % t,
              attachments=[NOTES]),
    ]


def case_lockdown_2(t):
    return [["lockdown", "2"]], [["rules", "unset", "hold.lockdown"]], [
        Probe("lockdown 2: outside, plain text", "hold", "policy.lockdown"),
        Probe("lockdown 2: ours, plain text", "accept", sender="boss-%s@example.com" % t),
    ]


def case_block_sender(t):
    bad = "blocked-%s@sender.example" % t
    return [["block", "sender", bad, "1", "parity", "test"]], [["unblock", "sender", bad]], [
        Probe("blocked sender", "reject", "sender.blocked", sender=bad),
        Probe("another sender of that domain", "accept"),
    ]


def case_block_domain(t):
    dom = "blocked-%s.example" % t
    return [["block", "domain", dom, "1"]], [["unblock", "domain", dom]], [
        Probe("sender in a blocked domain", "reject", "sender.blocked", sender="x@" + dom),
        Probe("sender in a sub-domain of it", "reject", "sender.blocked", sender="y@mx1." + dom),
    ]


def case_allow(t):
    friend = "friend-%s@gmail.com" % t
    return [["list", "add", "allow", friend, "1"]], [["list", "remove", "allow", friend]], [
        Probe("allowed free-mail correspondent to staff", "accept", sender=friend),
        Probe("another free-mail sender to staff", "reject", "sender.freemail",
              sender="other-%s@gmail.com" % t),
    ]


def case_fanout_threshold(t):
    return [["rules", "set", "sender.fanout_threshold", "1"]], [["rules", "unset", "sender.fanout_threshold"]], [
        # the daemon blocks a fanned-out sender: scanned on the copy only
        Probe("two staff recipients over threshold 1", "reject", "sender.fanout", live=False,
              rcpts=(STAFF, STAFF2)),
        Probe("one staff recipient", "accept"),
    ]


def case_action_override(t):
    return [["rules", "set", "actions.sender.freemail", "tag"]], [["rules", "unset", "actions.sender.freemail"]], [
        Probe("free-mail to staff, sender.freemail -> tag", "tag", "sender.freemail",
              sender="f-%s@gmail.com" % t),
    ]


def case_list_storage(t):
    share = "files-%s.example" % t
    return [["list", "add", "storage", share]], [["list", "remove", "storage", share]], [
        # first contact (active content) depends on the sender history: copy only
        Probe("a link to a storage domain added at run time", "quarantine", "link.storage", live=False,
              body="The documents: https://%s/s/%s" % (share, t)),
    ]


def case_list_freemail(t):
    dom = "mail-%s.example" % t
    return [["list", "add", "freemail", dom]], [["list", "remove", "freemail", dom]], [
        Probe("a free-mail domain added at run time, to staff", "reject", "sender.freemail",
              sender="someone@" + dom),
        Probe("the same domain to a public address, plain text", "accept", sender="other@" + dom,
              rcpts=("info@example.com",)),
    ]


CASES = [case_no_change, case_lockdown_1, case_lockdown_2, case_block_sender, case_block_domain, case_allow,
         case_fanout_threshold, case_action_override, case_list_storage, case_list_freemail]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[len("case_"):].replace("_", "-"))
def test_parity(milter, case, tmp_path):
    assert os.path.exists(control_socket(milter)), "no control socket %s" % control_socket(milter)
    change, undo, probes = case(new_token()[:10])
    try:
        for cmd in change:
            ctl(milter, *cmd)
        for p in probes:
            p.run(milter, tmp_path)
    finally:
        for cmd in undo:
            ctl(milter, *cmd, check=False)
