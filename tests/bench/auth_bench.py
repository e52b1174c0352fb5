#!/usr/bin/python3
"""auth_bench.py - what sender authentication costs and what it saves
(`make bench`, after bench.sh).  Everything against a real nsd on
loopback (tests/integration/dnslab.py), with dnsproxy.py in front adding
50 ms to every answer where said.  Three measures, one run:

1. Added latency per message (tests/bench/auth_bench.c, auth_check() as
   the auth stage runs it): N messages from N different domains (SPF,
   DKIM, DMARC each), first with nothing cached (cold), then again with
   every answer cached (warm); DNS answering at once and in 50 ms.
2. RCPT and end-of-message reply times through the lab Postfix and
   mailwardend with DNS answering in 50 ms: sender authentication off,
   on with a cold cache, on with a warm one.
3. Benign mail delayed by hold.first_contact, before (auth off: history
   of the envelope address) and after (auth on: partners and
   authenticated known correspondents skip it): a deterministic corpus
   of ordinary business mail through `mailwarden scan --state`.

Prints the results and appends them to tests/bench/last-results.md
(writes tests/bench/auth-results.md as well).  Ports from
BENCH_AUTH_PORT (22560: lab, sink; the DNS lab picks its own pair from
22553).  Bounded: N (BENCH_AUTH_N, 100) messages per measure.
"""

import json
import os
import random
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from dnslab import DnsLab, message, with_attachment  # noqa: E402

BUILD = os.environ.get("BUILD_DIR", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(REPO, BUILD)
MAILWARDEN = os.path.join(BUILD, "mailwarden")
TOOL = os.path.join(BUILD, "bench", "auth_bench")
N = int(os.environ.get("BENCH_AUTH_N", "100"))
PORT = int(os.environ.get("BENCH_AUTH_PORT", "22560"))
LAB_SH = os.path.join(REPO, "scripts", "lab.sh")

PARTNERS = ["partnera.example", "partnerb.example"]
CORRS = ["corr%d.example" % i for i in range(1, 7)]
NEWS = ["newco%d.example" % i for i in range(1, 61)]
PLAINS = ["plain%d.example" % i for i in range(1, 6)]


def auth_zone(dom, key_txt):
    return ['@ TXT "v=spf1 ip4:127.0.0.2 -all"', "mail A 127.0.0.2", 'mail TXT "v=spf1 a -all"',
            '_dmarc TXT "v=DMARC1; p=reject"',
            "sel1._domainkey TXT " + " ".join('"%s"' % key_txt[i:i + 255] for i in range(0, len(key_txt), 255))]


def start_dns():
    dns = DnsLab()
    priv, key_txt = dns._rsa_key("bench.example", "sel1")
    extra = {}
    bench = []
    for i in range(N):
        sub = "m%d" % i
        bench += ['%s TXT "v=spf1 ip4:127.0.0.2 -all"' % sub, "mail.%s A 127.0.0.2" % sub,
                  '_dmarc.%s TXT "v=DMARC1; p=reject"' % sub,
                  "sel1._domainkey.%s TXT %s" % (sub, " ".join('"%s"' % key_txt[k:k + 255]
                                                               for k in range(0, len(key_txt), 255)))]
        dns.keys[("%s.bench.example" % sub, "sel1")] = ("rsa", priv)
    extra["bench.example"] = bench
    for d in PARTNERS + CORRS + NEWS:
        extra[d] = auth_zone(d, key_txt)
        dns.keys[(d, "sel1")] = ("rsa", priv)
    for d in PLAINS:
        extra[d] = ["@ A 127.0.0.2"]
    dns.start(extra)
    fast = dns.start_proxy(delay_ms=0, drop=(), port=dns.proxy_port)
    slow = dns.start_proxy(delay_ms=50, drop=(), port=free_port_near(dns.proxy_port + 1))
    return dns, fast, slow


def free_port_near(p):
    import socket
    for port in range(p, 22599):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def write_bench_messages(dns, d):
    for i in range(N):
        dom = "m%d.bench.example" % i
        frm = "s%d@%s" % (i, dom)
        raw = dns.sign(message("Sender <%s>" % frm, token="b%d" % i), dom)
        with open(os.path.join(d, "m%d.eml" % i), "wb") as f:
            f.write(raw)
        with open(os.path.join(d, "m%d.env" % i), "w") as f:
            f.write("127.0.0.2 mail.%s %s %s\n" % (dom, frm, frm))


def measure_stage(dns, fast, slow, d):
    out = {}
    for name, port in (("dns_0ms", fast), ("dns_50ms", slow)):
        p = subprocess.run([TOOL, "127.0.0.1@%d" % port, d, str(N), "2"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("auth_bench: %s" % p.stderr.decode())
        out[name] = json.loads(p.stdout)
    return out


# ---------------------------------------------------------------- the lab

def lab(cmd, run_dir, **env):
    e = dict(os.environ, RUN_DIR=run_dir, BUILD_DIR=BUILD, LAB_PORT=str(PORT), SINK_PORT=str(PORT + 1),
             SIGS_DIR=os.path.join(REPO, "sigs"), MTA="postfix")
    e.update(env)
    p = subprocess.run(["sh", LAB_SH, cmd], env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    if p.returncode != 0:
        raise RuntimeError("lab.sh %s: %s" % (cmd, p.stdout.decode(errors="replace")[-2000:]))


def timed_send(raw, sender, helo="mail.example"):
    with smtplib.SMTP("127.0.0.1", PORT, timeout=120, source_address=("127.0.0.2", 0)) as s:
        s.ehlo(helo)
        s.mail(sender)
        t0 = time.perf_counter()
        code, _ = s.rcpt("bob@example.com")
        t1 = time.perf_counter()
        code2, _ = s.data(raw)
        t2 = time.perf_counter()
    return code, code2, (t1 - t0) * 1000, (t2 - t1) * 1000


def measure_lab(dns, slow, msgs):
    run_dir = tempfile.mkdtemp(prefix="auth-bench-lab-", dir="/tmp")
    os.chmod(run_dir, 0o755)
    res = {}
    try:
        lab("start", run_dir, MILTER="unix")
        auth = ("-o auth.enable=yes -o auth.resolver=127.0.0.1@%d -o auth.authserv_id=bench.test "
                "-o hold.first_contact=no" % slow)
        for mode, args in (("auth off", "-o hold.first_contact=no"), ("auth on, cold cache", auth),
                           ("auth on, warm cache", None)):
            if args is not None:
                lab("restart-milter", run_dir, MILTER="unix", MW_ARGS=args)
                time.sleep(1)
            rcpt, eom, bad = [], [], 0
            for raw, sender, helo in msgs:
                c1, c2, r, e = timed_send(raw, sender, helo)
                bad += c1 != 250 or c2 != 250
                rcpt.append(r)
                eom.append(e)
            res[mode] = {"rcpt_p50": statistics.median(rcpt), "rcpt_p95": sorted(rcpt)[int(len(rcpt) * .95) - 1],
                         "eom_p50": statistics.median(eom), "eom_p95": sorted(eom)[int(len(eom) * .95) - 1],
                         "not_250": bad}
    finally:
        lab("stop", run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
    return res


# ---------------------------------------------------------------- first contact

def corpus(dns, d):
    """Ordinary business mail, deterministic: partners' staff (many write
    for the first time), known correspondents, new correspondents, and
    senders whose domains publish no authentication."""
    rnd = random.Random(19)
    partner_staff = ["staff%d@%s" % (i, PARTNERS[i % 2]) for i in range(40)]
    corr_staff = ["contact%d@%s" % (i, CORRS[i % len(CORRS)]) for i in range(12)]
    plain_staff = ["office%d@%s" % (i, PLAINS[i % len(PLAINS)]) for i in range(8)]
    news = list(NEWS)
    out = []
    for i in range(2 * N):
        r = rnd.random()
        if r < 0.35:
            kind, addr = "partner", rnd.choice(partner_staff)
        elif r < 0.70:
            kind, addr = "correspondent", rnd.choice(corr_staff)
        elif r < 0.85 and news:
            kind, addr = "new", "sales@" + news.pop(0)
        else:
            kind, addr = "unauthenticated", rnd.choice(plain_staff)
        dom = addr.split("@")[1]
        tok = "c%d" % i
        raw = with_attachment("Sender <%s>" % addr, tok) if rnd.random() < 0.6 else \
            message("Sender <%s>" % addr, token=tok)
        if kind != "unauthenticated":
            raw = dns.sign(raw, dom)
        path = os.path.join(d, "%s.eml" % tok)
        with open(path, "wb") as f:
            f.write(raw)
        out.append((kind, addr, path))
    return out


def measure_first_contact(dns, fast, items):
    lists = tempfile.mkdtemp(prefix="auth-bench-lists-", dir="/tmp")
    for f in os.listdir(os.path.join(REPO, "data", "lists")):
        shutil.copy(os.path.join(REPO, "data", "lists", f), lists)
    with open(os.path.join(lists, "partner.txt"), "w") as f:
        f.write("\n".join(PARTNERS) + "\n")
    res = {}
    try:
        for mode, extra in (("before (auth off)", []),
                            ("after (auth on)", ["-o", "auth.enable=yes", "-o",
                                                 "auth.resolver=127.0.0.1@%d" % fast,
                                                 "-o", "auth.authserv_id=bench.test"])):
            state = tempfile.mkdtemp(prefix="auth-bench-state-", dir="/tmp")
            held, by_kind, other = 0, {}, 0
            try:
                for kind, addr, path in items:
                    p = subprocess.run([MAILWARDEN, "scan", "--sigs", os.path.join(REPO, "sigs"), "--state", state,
                                        "-o", "paths.lists=" + lists, "-o", "domains.protected=example.com",
                                        *extra, "--client", "127.0.0.2", "--helo", "mail." + addr.split("@")[1],
                                        "-f", addr, "-r", "bob@example.com", path],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                    v = json.loads(p.stdout)
                    codes = {r["code"] for r in v["reasons"]}
                    h = "hold.first_contact" in codes
                    held += h
                    other += bool(codes - {"hold.first_contact"})
                    k = by_kind.setdefault(kind, [0, 0])
                    k[0] += h
                    k[1] += 1
            finally:
                shutil.rmtree(state, ignore_errors=True)
            res[mode] = {"held": held, "total": len(items), "other_reasons": other, "by_kind": by_kind}
    finally:
        shutil.rmtree(lists, ignore_errors=True)
    return res


def main():
    if os.geteuid() != 0:
        sys.exit("auth_bench: needs root (private Postfix)")
    t0 = time.time()
    dns, fast, slow = start_dns()
    work = tempfile.mkdtemp(prefix="auth-bench-", dir="/tmp")
    try:
        write_bench_messages(dns, work)
        stage = measure_stage(dns, fast, slow, work)
        msgs = []
        for i in range(N):
            with open(os.path.join(work, "m%d.eml" % i), "rb") as f:
                raw = f.read()
            dom = "m%d.bench.example" % i
            msgs.append((raw, "s%d@%s" % (i, dom), "mail." + dom))
        labres = measure_lab(dns, slow, msgs)
        fc = measure_first_contact(dns, fast, corpus(dns, work))
    finally:
        dns.stop()
        shutil.rmtree(work, ignore_errors=True)
    lines = ["", "## Sender authentication (tests/bench/auth_bench.py, %s, %d s)" %
             (time.strftime("%Y-%m-%d %H:%M:%S %Z"), time.time() - t0), ""]
    lines.append("Added latency per message: auth_check() (SPF of MAIL FROM and HELO, one DKIM signature, "
                 "DMARC) over %d messages from %d different domains, nsd on loopback; cold = first pass, "
                 "warm = the same messages again (answers cached)." % (N, N))
    lines.append("")
    lines.append("| DNS | cache | median ms | p95 ms | lookups/msg | cached/msg | SPF/DKIM/DMARC pass |")
    lines.append("|---|---|---|---|---|---|---|")
    for name in ("dns_0ms", "dns_50ms"):
        for c in ("cold", "warm"):
            p = stage[name][c]
            lines.append("| %s | %s | %.2f | %.2f | %.1f | %.1f | %d/%d/%d of %d |" % (
                name.replace("dns_", "answers in "), c, p["median_ms"], p["p95_ms"], p["lookups"], p["cached"],
                p["spf_pass"], p["dkim_pass"], p["dmarc_pass"], N))
    for name in ("dns_0ms", "dns_50ms"):
        c, w = stage[name]["cold"]["median_ms"], stage[name]["warm"]["median_ms"]
        lines.append("")
        lines.append("%s: warm/cold median = %.3f." % (name.replace("dns_", "DNS answering in "), w / c if c else 0))
    lines.append("")
    lines.append("Through the lab (Postfix, mailwardend, unix socket), DNS answering in 50 ms, %d messages "
                 "per mode from 127.0.0.2 (hold.first_contact off so every message is delivered):" % N)
    lines.append("")
    lines.append("| mode | RCPT p50 ms | RCPT p95 ms | DATA->250 p50 ms | DATA->250 p95 ms | not 250 |")
    lines.append("|---|---|---|---|---|---|")
    for mode, r in labres.items():
        lines.append("| %s | %.2f | %.2f | %.1f | %.1f | %d |" % (mode, r["rcpt_p50"], r["rcpt_p95"], r["eom_p50"],
                                                               r["eom_p95"], r["not_250"]))
    off = labres["auth off"]["eom_p50"]
    lines.append("")
    lines.append("End of message vs auth off (medians): cold %.2f, warm %.2f; RCPT is not delayed (the "
                 "checks run at end of message)." % (labres["auth on, cold cache"]["eom_p50"] / off,
                                                     labres["auth on, warm cache"]["eom_p50"] / off))
    lines.append("")
    lines.append("Benign mail held by hold.first_contact (a corpus of %d ordinary messages, 60%% with a PDF "
                 "attachment: partners' staff, known correspondents, new correspondents, senders whose domains "
                 "publish no authentication), through `mailwarden scan --state` in order:" % (2 * N))
    lines.append("")
    lines.append("| | held | share | partners | known correspondents | new correspondents | unauthenticated | other reasons |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for mode, r in fc.items():
        bk = r["by_kind"]

        def cell(k):
            h, t = bk.get(k, [0, 0])
            return "%d/%d" % (h, t)
        lines.append("| %s | %d/%d | %.1f%% | %s | %s | %s | %s | %d |" % (
            mode, r["held"], r["total"], 100.0 * r["held"] / r["total"], cell("partner"), cell("correspondent"),
            cell("new"), cell("unauthenticated"), r["other_reasons"]))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    for path, mode in ((os.path.join(REPO, "tests", "bench", "auth-results.md"), "w"),
                       (os.path.join(REPO, "tests", "bench", "last-results.md"), "a")):
        with open(path, mode) as f:
            f.write(text)


if __name__ == "__main__":
    main()
