#!/usr/bin/python3
"""latency.py - per-message latency probe for the bench: sends COUNT
messages of SIZE body bytes over ONE SMTP session with smtplib and times
each DATA -> final 250 (the part where Postfix waits for the milter's
end-of-message verdict).  Prints one JSON object:
  {"count", "ok", "errors", "p50_ms", "p95_ms", "max_ms", "msgs_per_s"}

With --big MB it instead sends one message of about MB megabytes (a base64
attachment of incompressible bytes) and prints {"code", "seconds", "bytes"};
with --pid it also samples that process's /proc status every 10 ms while the
message is sent and scanned, and adds the baseline and peak of VmRSS,
RssAnon (heap: what the message costs) and RssFile (mapped files, e.g. the
spill file libclamav maps: page cache, reclaimable), in kB.
Only 127.0.0.1.
"""

import argparse
import base64
import json
import os
import smtplib
import sys
import threading
import time


def proc_mem(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


class Sampler(threading.Thread):
    """Peak of each memory field of one process, sampled every 10 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop, self.peak = pid, threading.Event(), {}
        self.base = proc_mem(pid)

    def run(self):
        while not self.stop.is_set():
            for k, v in proc_mem(self.pid).items():
                self.peak[k] = max(self.peak.get(k, 0), v)
            time.sleep(0.01)


def body_text(size, n):
    line = ("latency probe message %d " % n).ljust(75, "x") + "\r\n"
    reps = max(1, size // len(line))
    return line * reps


def message(n, size):
    return ("From: bench@sender.example\r\nTo: rcpt@example.com\r\n"
            "Subject: latency probe %d\r\nMessage-ID: <probe-%d-%d@bench.example>\r\n"
            "\r\n" % (n, os.getpid(), n) + body_text(size, n)).encode()


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def probe(port, count, size):
    lat, errors = [], 0
    s = smtplib.SMTP("127.0.0.1", port, timeout=120)
    s.ehlo("probe.bench.example")
    t_start = time.monotonic()
    for n in range(count):
        s.mail("bench@sender.example")
        s.rcpt("rcpt@example.com")  # one: many distinct ones trip sender.fanout
        msg = message(n, size)
        t0 = time.monotonic()
        code, _ = s.data(msg)
        dt = time.monotonic() - t0
        if code == 250:
            lat.append(dt * 1000.0)
        else:
            errors += 1
            s.rset()
    total = time.monotonic() - t_start
    s.quit()
    lat.sort()
    return {"count": count, "ok": len(lat), "errors": errors,
            "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95),
            "max_ms": lat[-1] if lat else None,
            "msgs_per_s": count / total if total > 0 else None}


def big(port, mb, pid=0):
    raw_len = mb * 1024 * 1024 * 3 // 4  # base64 grows by 4/3
    chunk = os.urandom(1 << 20)
    payload = (chunk * (raw_len // len(chunk) + 1))[:raw_len]
    b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    msg = (b"From: bench@sender.example\r\nTo: rcpt@example.com\r\n"
           b"Subject: big message probe\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"bigprobe\"\r\n\r\n"
           b"--bigprobe\r\nContent-Type: text/plain\r\n\r\nbig attachment follows\r\n"
           b"--bigprobe\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: base64\r\n"
           b"Content-Disposition: attachment; filename=\"big.bin\"\r\n\r\n"
           + b64 + b"--bigprobe--\r\n")
    sampler = Sampler(pid) if pid else None
    if sampler:
        sampler.start()
    s = smtplib.SMTP("127.0.0.1", port, timeout=600)
    s.ehlo("probe.bench.example")
    s.mail("bench@sender.example")
    s.rcpt("big@example.com")
    t0 = time.monotonic()
    code, text = s.data(msg)
    dt = time.monotonic() - t0
    s.quit()
    r = {"code": code, "reply": text.decode(errors="replace")[:120],
         "seconds": dt, "bytes": len(msg)}
    if sampler:
        time.sleep(0.05)
        sampler.stop.set()
        sampler.join()
        r["base_kb"] = sampler.base
        r["peak_kb"] = sampler.peak
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--big", type=int, default=0, help="send one message of BIG MB")
    ap.add_argument("--pid", type=int, default=0, help="sample this process's memory (--big)")
    a = ap.parse_args()
    if a.big:
        r = big(a.port, a.big, a.pid)
    else:
        r = probe(a.port, a.count, a.size)
    json.dump(r, sys.stdout)
    print()


if __name__ == "__main__":
    main()
