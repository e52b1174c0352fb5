#!/usr/bin/env python3
"""sdwrites.py - bytes mailwardend writes to storage per message, by workload.

Starts a private lab (scripts/lab.sh: Postfix on loopback -> mailwardend ->
smtp-sink) in a temporary RUN_DIR on a disk-backed directory, then for each
workload sends COUNT messages one after the other, waits until the queue
is empty, forces nothing, and reads write_bytes of /proc/PID/io of
mailwardend (bytes it caused to be sent to the block layer: SQLite pages
and WAL, checkpoints, quarantine and retro-copy files, fsyncs) before and
after.  Workloads:

  plain       2 KB text mail from a known sender (tracking + sender history)
  attach      the same with a 200 KB attachment (adds the retro-scan copy,
              quarantine.retro_days: the attachment's base64 stored once as
              an encrypted blob, the rest of the message in a small file)
  attach-dup  the same attachment again and again (the blob is there: each
              message adds its small file and index row only)
  hold        first contact with an attachment: held (encrypted quarantine)
  quarantine  a link to an IP literal: quarantined
  reject      the test marker: refused (tracking only)

Prints a Markdown table with bytes per message and the projection to
10,000 messages a day.  Environment: BUILD_DIR, SDW_COUNT (100),
SDW_PORT_BASE (2571), SDW_KEEP=1.
"""
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from conftest import Lab, make_message, marker, new_token, transact  # noqa: E402

COUNT = int(os.environ.get("SDW_COUNT", "100"))
BASE = int(os.environ.get("SDW_PORT_BASE", "2571"))


def write_bytes(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def attachment(seed, n=200 * 1024):
    import random
    r = random.Random(seed)
    return bytes(r.randrange(256) for _ in range(n))


def main():
    run_dir = tempfile.mkdtemp(prefix="mw-sigdb-sd.", dir="/var/tmp")
    os.chmod(run_dir, 0o755)
    sigs = os.path.join(run_dir, "sigs")
    shutil.copytree(os.path.join(REPO, "sigs"), sigs)
    lab = Lab(run_dir, BASE, BASE + 1, sigs, "postfix")
    rows = []
    try:
        lab.lab("start", LAB_PORT=str(BASE), SINK_PORT=str(BASE + 1), MILTER="unix", SIGS_DIR=sigs, MTA="postfix")
        pid = lab.milter_pid()
        known = "known-%s@sender.example" % new_token()[:8]
        s = smtplib.SMTP("127.0.0.1", BASE, timeout=120)
        s.ehlo("sd.test.example")
        transact(s, make_message(new_token(), body="hello\n"), sender=known)  # now a known sender
        lab.wait_drained()
        time.sleep(1)
        body = ("Dear colleague, the minutes of the meeting follow. " * 40)[:2000] + "\n"
        fixed = attachment(1)
        workloads = [
            ("plain", lambda i: (make_message(new_token(), subject="plain %d" % i, body=body), known)),
            ("attach", lambda i: (make_message(new_token(), subject="attach %d" % i, body=body, attachments=[
                ("report%d.pdf" % i, b"%PDF-1.4\n" + attachment(100 + i), "application/pdf")]), known)),
            ("attach-dup", lambda i: (make_message(new_token(), subject="dup %d" % i, body=body, attachments=[
                ("report.pdf", b"%PDF-1.4\n" + fixed, "application/pdf")]), known)),
            ("hold", lambda i: (make_message(new_token(), subject="first %d" % i, body=body, attachments=[
                ("first.pdf", b"%PDF-1.4\n" + fixed, "application/pdf")]),
                "new-%d-%s@sender.example" % (i, new_token()[:6]))),
            ("quarantine", lambda i: (make_message(new_token(), subject="ip %d" % i,
                                                   body=body + "see http://192.0.2.%d/x\n" % (i % 250 + 1)), known)),
            ("reject", lambda i: (make_message(new_token(), subject="m %d" % i,
                                               body=body + marker().decode() + "\n"),
                                  "rej-%d-%s@sender.example" % (i, new_token()[:6]))),
        ]
        for name, mk in workloads:
            before = write_bytes(pid)
            codes = {}
            t0 = time.time()
            for i in range(COUNT):
                raw, sender = mk(i)
                r = transact(s, raw, sender=sender)
                codes[r.code] = codes.get(r.code, 0) + 1
            lab.wait_drained(timeout=300)
            time.sleep(2)  # let the last writes reach the block layer accounting
            os.sync()
            after = write_bytes(pid)
            per = (after - before) / COUNT
            rows.append((name, COUNT, codes, per, time.time() - t0))
            print("sdwrites: %s: %d messages %s: %.0f bytes written per message" % (name, COUNT, codes, per),
                  file=sys.stderr)
        s.quit()
    finally:
        lab.lab("stop", check=False)
        if os.environ.get("SDW_KEEP"):
            print("sdwrites: RUN_DIR kept: %s" % run_dir, file=sys.stderr)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    print("| workload | messages | replies | KB written per message | MB/day at 10,000 messages |")
    print("|---|---|---|---|---|")
    for name, n, codes, per, _ in rows:
        print("| %s | %d | %s | %.1f | %.0f |" % (name, n, ", ".join("%d x%d" % kv for kv in sorted(codes.items())),
                                                  per / 1024, per * 10000 / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
