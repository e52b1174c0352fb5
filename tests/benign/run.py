#!/usr/bin/env python3
"""run.py - the benign set through `mailwarden scan`: zero false positives.

NAME
    run.py - scan every benign message, count false positives, measure
    how much benign mail hold.first_contact delays
SYNOPSIS
    python3 tests/benign/run.py [--build DIR] [--keep] [--quiet]
DESCRIPTION
    gen_benign.py writes the messages into a fresh directory under /tmp;
    each one is scanned by the real `mailwarden scan` (libclamav with the
    project's signatures, the shipped lists) as the organisation
    example.com (protected) with the public address info@example.com.
    Every scan gets its own fresh state directory, so no message sees
    another's history.

    Three scans per message:
      content  hold.first_contact off: the content and sender verdict.
               It must be the manifest's action (accept, or tag where the
               manifest says why) with no reason code beyond the listed
               ones.  Anything stronger is a false positive.
      new      the daemon's defaults, the sender never seen before: is
               the message held by hold.first_contact?  This is the
               figure to reduce (sender authentication, issue 19).
      known    the same sender scanned a second time (now in the sender
               history): a known correspondent must never be held.

    A message passes when its content verdict is right and it is not held
    from a known correspondent.  The output ends with the false-positive
    count, the first-contact share and "N passed, N failed" (the line
    tests/run.sh counts).
OPTIONS
    --build DIR  where mailwarden is (default $BUILD_DIR or build)
    --keep       keep the generated messages and states (path printed)
    --quiet      only the summary
EXIT STATUS
    0 when every message passed; 1 otherwise; 2 when nothing could run.
LICENSE
    GPL-2.0-or-later
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import gen_benign  # noqa: E402

ORDER = ["accept", "tag", "hold", "quarantine", "reject", "tempfail"]
COMMON = ["-o", "domains.protected=example.com", "-o", "domains.public=info@example.com"]


def scan(mw, entry, state, first_contact):
    cmd = [mw, "scan", "--sigs", os.path.join(REPO, "sigs"), "--state", state,
           "-o", "paths.lists=" + os.path.join(REPO, "data", "lists")] + COMMON
    if not first_contact:
        cmd += ["-o", "hold.first_contact=no"]
    cmd += ["--from", entry["sender"]]
    for r in entry["rcpts"]:
        cmd += ["--rcpt", r]
    cmd.append(entry["file"])
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    try:
        return json.loads(p.stdout.decode())
    except ValueError:
        return {"action": "error", "reasons": [{"code": "scan.failed", "detail": p.stderr.decode()[-300:],
                                                "part": ""}]}


def codes(v):
    return sorted({r["code"] for r in v.get("reasons", [])})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--build", default=os.environ.get("BUILD_DIR", "build"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    build = a.build if os.path.isabs(a.build) else os.path.join(REPO, a.build)
    mw = os.path.join(build, "mailwarden")
    if not os.access(mw, os.X_OK):
        print("benign: %s is not built" % mw)
        print("0 passed, 1 failed")
        return 2
    work = tempfile.mkdtemp(prefix="mw-benign-")
    try:
        entries = gen_benign.build(os.path.join(work, "mail"))
        passed = failed = fps = tagged = accepted = held_new = held_known = 0
        held_names = []
        for e in entries:
            sd = os.path.join(work, "state", e["name"])
            for sub in ("content", "new"):
                os.makedirs(os.path.join(sd, sub))
            v = scan(mw, e, os.path.join(sd, "content"), False)
            extra = [c for c in codes(v) if c not in e["allowed"]]
            ok = v.get("action") == e["action"] and not extra
            fp = v.get("action") in ORDER and ORDER.index(v["action"]) > ORDER.index(e["action"])
            fps += fp
            tagged += v.get("action") == "tag" and ok
            accepted += v.get("action") == "accept"
            new = scan(mw, e, os.path.join(sd, "new"), True)
            is_held = "hold.first_contact" in codes(new)
            held_new += is_held
            if is_held:
                held_names.append(e["name"])
            known = scan(mw, e, os.path.join(sd, "new"), True)  # the sender is in the history now
            known_held = "hold.first_contact" in codes(known)
            held_known += known_held
            good = ok and not known_held
            passed += good
            failed += not good
            if not a.quiet or not good:
                print("%-4s %-24s %-10s %-8s %s%s" % (
                    "ok" if good else "FAIL", e["name"], v.get("action"),
                    "held" if is_held else "-", ",".join(codes(v)) or "-",
                    "" if ok else "   <- want %s%s" % (e["action"], " with only " + ",".join(e["allowed"])
                                                       if e["allowed"] else "")))
                if not ok:
                    for r in v.get("reasons", []):
                        print("       %s part=%s %s" % (r.get("code"), r.get("part"), r.get("detail")))
                if known_held:
                    print("       held again from a known correspondent: %s" % ",".join(codes(known)))
        n = len(entries)
        print()
        print("benign: %d messages: %d accepted, %d tagged (listed and justified), %d false positive(s)"
              % (n, accepted, tagged, fps))
        print("hold.first_contact: %d of %d benign messages (%.0f%%) held from a new correspondent, "
              "%d from a known one" % (held_new, n, 100.0 * held_new / n if n else 0, held_known))
        if held_names and not a.quiet:
            print("  held from a new correspondent: %s" % ", ".join(held_names))
        if a.keep:
            print("kept: %s" % work)
        print("%d passed, %d failed" % (passed, failed))
        return 0 if failed == 0 and passed > 0 else 1
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
