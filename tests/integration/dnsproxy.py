#!/usr/bin/env python3
"""dnsproxy.py - a small UDP DNS forwarder for the tests and the benchmark:
every question is passed to an upstream server (the test nsd) after a
fixed delay, or never answered when its name ends with one of the
--drop suffixes (a server that does not answer, for temperror).

    python3 dnsproxy.py --listen 127.0.0.1:22554 --upstream 127.0.0.1:22553 \
        [--delay-ms 50] [--drop noanswer.example]... [--pidfile F]

It only reads the question name (labels after the 12-byte header) and
relays the upstream answer unchanged.  It listens on loopback only and
runs until SIGTERM.  Answers larger than a UDP datagram are not its
business: the test zones keep answers small.
"""

import argparse
import os
import signal
import socket
import sys
import threading
import time

MAX_INFLIGHT = 256


def qname(pkt):
    """The question name of a DNS packet, lower case, or '' if unreadable."""
    i, labels = 12, []
    while i < len(pkt) and len(labels) < 128:
        n = pkt[i]
        if n == 0:
            break
        if n & 0xC0:
            return ""
        labels.append(pkt[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels).lower()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--drop", action="append", default=[])
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    lhost, lport = a.listen.rsplit(":", 1)
    uhost, uport = a.upstream.rsplit(":", 1)
    if not lhost.startswith("127.") or not uhost.startswith("127."):
        sys.exit("dnsproxy: loopback addresses only")
    upstream = (uhost, int(uport))
    drops = [d.lower().strip(".") for d in a.drop]
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind((lhost, int(lport)))
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    sem = threading.BoundedSemaphore(MAX_INFLIGHT)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def relay(pkt, peer):
        try:
            name = qname(pkt)
            if any(name == d or name.endswith("." + d) for d in drops):
                return
            if a.delay_ms > 0:
                time.sleep(a.delay_ms / 1000.0)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(5)
            try:
                u.sendto(pkt, upstream)
                ans, _ = u.recvfrom(65535)
                srv.sendto(ans, peer)
            except OSError:
                pass
            finally:
                u.close()
        finally:
            sem.release()

    while True:
        pkt, peer = srv.recvfrom(65535)
        if len(pkt) < 12:
            continue
        if not sem.acquire(blocking=False):
            continue  # overloaded: dropped, as a real server would
        threading.Thread(target=relay, args=(pkt, peer), daemon=True).start()


if __name__ == "__main__":
    main()
