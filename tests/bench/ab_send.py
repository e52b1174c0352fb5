#!/usr/bin/python3
"""ab_send.py - the mail of tests/bench/ab.sh when AB_MAIL is not "plain".

Usage: ab_send.py PORT KIND COUNT SESSIONS [--warm]

KIND "attach": COUNT messages, each with its own 200 KB PDF-like
attachment (distinct random bytes per message, so neither libclamav's
nor the retro-scan copy's content reuse helps), from the known
correspondents of peers_mail.py.  KIND "attach-same": the same 200 KB
attachment in every message, as in make bench-peers (the case the scan
cache and the retro copies' content reuse are for).  --warm first sends one plain message
from every known correspondent (a first contact would be held, not
scanned the same way).  Sends over SESSIONS parallel SMTP sessions
(peers_mail.load) and exits 1 unless every message got 250.
"""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers_mail as pm  # noqa: E402


def main():
    if len(sys.argv) < 5 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 2)
    port, kind, count, sessions = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if kind not in ("attach", "attach-same"):
        sys.exit("ab_send: unknown KIND %r" % kind)
    gen = pm.Gen(seed=int.from_bytes(os.urandom(4), "big"))
    if "--warm" in sys.argv[5:]:
        warm = []
        for snd in pm.KNOWN:
            m = gen.plain()
            warm.append(pm.Msg(snd, m.rcpt, m.wire[:-3], False, "warm"))
        pm.load(port, warm, sessions)
    rnd = random.Random(os.urandom(8))
    msgs = []
    for _ in range(count):
        if kind == "attach":
            gen.pdf200 = pm.pdfish(rnd, 200 * 1024)
        msgs.append(gen.attach())
    res, _ = pm.load(port, msgs, sessions, deadline=None)
    bad = [r for r in res if r is None or r.code != 250]
    if bad:
        sys.exit("ab_send: %d of %d messages not answered 250" % (len(bad), count))


if __name__ == "__main__":
    main()
