#!/usr/bin/env python3
"""walframes.py - SQLite commits and pages mailwardend writes per plain message.

Starts a private lab (scripts/lab.sh, as sdwrites.py does), makes a known
sender, then traces mailwardend's pwrite64 calls with strace while COUNT
plain 2 KB messages pass one after the other.  Every WAL frame header
(24 bytes) names the page it carries and, for the last frame of a
transaction, the database size: so the trace gives commits, frames and
pages per message, and how many pages would be written if the commits of
one message, or of all COUNT messages, were one transaction (a page
written twice in one transaction is one frame).  Needs strace and root
(or ptrace rights).  Environment: BUILD_DIR, WALF_COUNT (20),
WALF_PORT_BASE (2581).
"""
import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from conftest import Lab, make_message, new_token, transact  # noqa: E402

COUNT = int(os.environ.get("WALF_COUNT", "20"))
BASE = int(os.environ.get("WALF_PORT_BASE", "2581"))
HEX = re.compile(r"\\x([0-9a-f]{2})")


def unhex(s):
    return bytes(int(x, 16) for x in HEX.findall(s))


def trace(out):
    run_dir = tempfile.mkdtemp(prefix="mw-sigdb-wal.", dir="/var/tmp")
    os.chmod(run_dir, 0o755)
    sigs = os.path.join(run_dir, "sigs")
    shutil.copytree(os.path.join(REPO, "sigs"), sigs)
    lab = Lab(run_dir, BASE, BASE + 1, sigs, "postfix")
    st = None
    try:
        lab.lab("start", LAB_PORT=str(BASE), SINK_PORT=str(BASE + 1), MILTER="unix", SIGS_DIR=sigs, MTA="postfix")
        known = "known-%s@sender.example" % new_token()[:8]
        s = smtplib.SMTP("127.0.0.1", BASE, timeout=120)
        s.ehlo("sd.test.example")
        transact(s, make_message(new_token(), body="hello\n"), sender=known)
        lab.wait_drained()
        time.sleep(1)
        body = ("Dear colleague, the minutes of the meeting follow. " * 40)[:2000] + "\n"
        st = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=pwrite64", "-s", "8", "-xx", "-y", "-o", out,
                               "-p", str(lab.milter_pid())])
        time.sleep(1)
        for i in range(COUNT):
            transact(s, make_message(new_token(), subject="plain %d" % i, body=body), sender=known)
        lab.wait_drained()
        time.sleep(2)
        s.quit()
    finally:
        if st:
            st.terminate()
            st.wait()
        lab.lab("stop", check=False)
        shutil.rmtree(run_dir, ignore_errors=True)


def main():
    out = tempfile.mktemp(prefix="mw-walframes.", suffix=".strace")
    trace(out)
    commits, cur, wal = [], set(), 0
    with open(out) as f:
        for line in f:
            m = re.search(r'pwrite64\(\d+<([^>]*)>, "([^"]*)"\.*, (\d+), \d+\)', line)
            if not m or not unhex(m.group(1)).decode(errors="replace").endswith("-wal"):
                continue
            n = int(m.group(3))
            wal += n
            if n == 24:
                hdr = unhex(m.group(2))
                cur.add(int.from_bytes(hdr[0:4], "big"))
                if int.from_bytes(hdr[4:8], "big"):
                    commits.append(frozenset(cur))
                    cur = set()
    os.unlink(out)
    if not commits:
        print("walframes: no WAL frames traced", file=sys.stderr)
        return 1
    per = max(1, round(len(commits) / COUNT))
    sep = sum(len(c) for c in commits)
    joined = sum(len(frozenset().union(*commits[i:i + per])) for i in range(0, len(commits), per))
    print("| messages | commits per message | pages per message | WAL KB per message |"
          " pages if one transaction per message | pages if one transaction for all |")
    print("|---|---|---|---|---|---|")
    print("| %d | %.1f | %.1f | %.1f | %.1f | %.1f |" % (COUNT, len(commits) / COUNT, sep / COUNT, wal / 1024 / COUNT,
                                                    joined / COUNT, len(frozenset().union(*commits)) / COUNT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
