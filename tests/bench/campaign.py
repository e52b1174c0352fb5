#!/usr/bin/python3
"""campaign.py - the 2015 campaign as a benchmark workload: one free-mail
sender writing to many staff (refused at RCPT once it fans out), then the
same template from rotating new addresses (refused after DATA as a
campaign), mixed with ordinary mail from many other senders.  Measures
the RCPT reply time (the sender-policy decision on the milter's RCPT
path) and counts outcomes.  Prints one JSON object.

usage: campaign.py --port PORT [--senders N] [--staff N]
"""
import argparse
import json
import smtplib
import statistics
import time
import uuid

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--senders", type=int, default=300, help="ordinary senders in the mix")
ap.add_argument("--staff", type=int, default=30)
ap.add_argument("--rotations", type=int, default=10, help="new free-mail addresses replaying the template")
a = ap.parse_args()

run = uuid.uuid4().hex[:10]
TEMPLATE = ("%s 様\r\n\r\nいつもお世話になっております。\r\n"
            "「制度の見直しについて（試案）」の資料をお送りします。\r\n資料番号：%d\r\n")


def message(sender, rcpt, body):
    return ("From: %s\r\nTo: %s\r\nSubject: =?UTF-8?B?5Yi25bqm6KaL55u044GX?=\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" % (sender, rcpt)).encode() + body.encode()


rcpt_ms, outcomes = [], {"accepted": 0, "refused_rcpt": 0, "refused_data": 0, "tempfail": 0}


def send(s, sender, rcpt, body):
    s.mail(sender)
    t0 = time.perf_counter()
    code, _ = s.rcpt(rcpt)
    rcpt_ms.append((time.perf_counter() - t0) * 1000)
    if code >= 500:
        outcomes["refused_rcpt"] += 1
        s.rset()
        return
    if code >= 400:
        outcomes["tempfail"] += 1
        s.rset()
        return
    code, _ = s.data(message(sender, rcpt, body))
    key = "accepted" if code < 300 else "refused_data" if code >= 500 else "tempfail"
    outcomes[key] += 1
    if code >= 300:
        s.rset()


t_start = time.time()
with smtplib.SMTP("127.0.0.1", a.port, timeout=120) as s:
    s.ehlo("bench.example")
    first = "kanri-%s@yahoo.co.jp" % run
    for i in range(a.staff):  # fan-out: refused after the threshold
        send(s, first, "staff%02d-%s@example.com" % (i, run), TEMPLATE % ("山田", 1000 + i))
    for k in range(a.rotations):  # rotation: refused as a campaign
        send(s, "kanri%d-%s@gmail.com" % (k, run), "staff%02d-%s@example.com" % (k, run),
             TEMPLATE % ("佐藤", 2000 + k))
    for i in range(a.senders):  # ordinary mail
        send(s, "partner%d-%s@client.example" % (i, run), "staff%02d-%s@example.com" % (i % a.staff, run),
             "Minutes of meeting %d.\r\n" % i)
elapsed = time.time() - t_start
rcpt_ms.sort()
print(json.dumps({
    "messages": a.staff + a.rotations + a.senders,
    "seconds": round(elapsed, 2),
    "rcpt_p50_ms": round(statistics.median(rcpt_ms), 3),
    "rcpt_p95_ms": round(rcpt_ms[int(0.95 * (len(rcpt_ms) - 1))], 3),
    **outcomes,
}))
