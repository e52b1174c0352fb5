#!/usr/bin/python3
"""peers.py - `make bench-peers`: mailwardend against Debian's clamav-milter
+ clamd and Debian's rspamd (proxy worker in milter mode, antivirus module
on the same clamd), on the same Postfix, with the same signatures and the
same mail, interleaved in one run; then mailwardend alone: cost against
message size, attachment count, archive depth and URL count, and RSS over
a bounded soak.  Writes tests/bench/RESULTS.md (and results.json beside it
in the run directory).  Called by tests/bench/peers.sh, which checks root,
packages and the build.

Setup (everything under one RUN_DIR, every process started here is stopped
here by PID; the system's clamav/rspamd services are never used):
  scripts/lab.sh start (MILTER=unix): private Postfix, smtp-sink, mailwardend.
    Port BASE: smtpd with mailwardend (the lab's own service).
  Extra smtpd services appended to the lab's master.cf, same Postfix:
    BASE+2: no milter (the ceiling)   BASE+3: clamav-milter   BASE+4: rspamd
  clamd:          Debian's /etc/clamav/clamd.conf with private socket, pid,
                  log, temp dir; DatabaseDirectory = a copy of sigs/ only.
  clamav-milter:  Debian's clamav-milter.conf with private paths,
                  OnInfected Reject (Debian's default is Quarantine),
                  MaxFileSize 100M.
  rspamd:         Debian's /etc/rspamd with LOCAL_CONFDIR, DBDIR, RUNDIR,
                  LOGDIR private (--var); proxy worker in milter mode with
                  self_scan on a private UNIX socket, count 2 (one per CPU);
                  normal, controller and fuzzy workers off; modules that do
                  DNS or HTTP disabled (see RSPAMD_OFF) and maps pointed at
                  the packaged local files; antivirus module -> the same
                  clamd (scan_mime_parts, scan_text_mime, action reject).

The floor: tests/bench/nullmilter.c, a libmilter filter that receives the
same steps as mailwardend and does nothing (BASE+5).

Environment: BUILD_DIR, PEERS_SIGDB_SCALE (0: only sigs/; e.g. 1.0: the
realistic generated database for mailwardend and clamd), PEERS_PORT_BASE (2560), PEERS_SESSIONS (10),
PEERS_ROUNDS (3), PEERS_PLAIN (1000), PEERS_ATTACH (200), PEERS_INFECTED
(200), PEERS_MIXED (400), PEERS_SOAK (20000), PEERS_SOAK_SECONDS (240),
PEERS_BUDGET (780: later rounds are skipped past it), PEERS_KEEP=1 keeps
the RUN_DIR, PEERS_OUT (tests/bench/RESULTS.md).
"""

import json
import os
import platform
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers_mail as pm  # noqa: E402

REPO = pm.REPO
LAB = ["sh", os.path.join(REPO, "scripts", "lab.sh")]
BUILD_DIR = os.environ.get("BUILD_DIR", "build")
if not os.path.isabs(BUILD_DIR):
    BUILD_DIR = os.path.join(REPO, BUILD_DIR)
ENV = lambda k, d: int(os.environ.get(k, d))  # noqa: E731
BASE = ENV("PEERS_PORT_BASE", 2560)
SESSIONS = ENV("PEERS_SESSIONS", 10)
ROUNDS = ENV("PEERS_ROUNDS", 3)
COUNTS = {"plain": ENV("PEERS_PLAIN", 1000), "attach": ENV("PEERS_ATTACH", 200),
          "infected": ENV("PEERS_INFECTED", 200), "mixed": ENV("PEERS_MIXED", 400)}
SOAK = ENV("PEERS_SOAK", 20000)
SOAK_SECONDS = ENV("PEERS_SOAK_SECONDS", 240)
BUDGET = ENV("PEERS_BUDGET", 780)
OUT = os.environ.get("PEERS_OUT", os.path.join(REPO, "tests", "bench", "RESULTS.md"))

CONFIGS = ["none", "floor", "mailwardend", "clamav", "rspamd"]
LABEL = {"none": "no milter (ceiling)", "floor": "do-nothing libmilter filter (floor)", "mailwardend": "mailwardend",
         "clamav": "clamav-milter + clamd", "rspamd": "rspamd proxy + clamd"}
PORT = {"mailwardend": BASE, "none": BASE + 2, "clamav": BASE + 3, "rspamd": BASE + 4, "floor": BASE + 5}
# PEERS_SIGDB_SCALE > 0: the realistic database (tests/sigdb/gen.py at that
# scale, beside sigs/) for mailwardend and clamd alike
SIGDB_SCALE = float(os.environ.get("PEERS_SIGDB_SCALE", "0"))
WORKLOADS = ["plain", "attach", "infected", "mixed"]

# rspamd modules that do DNS or HTTP (or need Redis, which is not set up)
RSPAMD_OFF = ["rbl", "surbl", "emails", "fuzzy_check", "spf", "dkim", "dmarc", "arc", "asn", "whitelist",
              "phishing", "multimap", "mx_check", "dcc", "greylist", "ratelimit", "replies", "neural",
              "reputation", "url_redirector", "rspamd_update", "history_redis", "dkim_signing", "hfilter",
              "external_services", "spamassassin", "clickhouse", "elastic", "metadata_exporter", "p0f",
              "bimi", "aws_s3", "external_relay", "metric_exporter", "dynamic_conf", "maps_stats",
              "bayes_expiry", "clustering", "fuzzy_collect", "ip_score", "known_senders"]

ANALYSIS = "<!-- analysis: written by hand, kept by peers.py -->"
T_START = time.monotonic()
RUN = None
PROCS = {}  # name -> Popen we started


def say(*a):
    print("peers: [%4.0fs]" % (time.monotonic() - T_START), *a, flush=True)


def elapsed():
    return time.monotonic() - T_START


def sh(cmd, check=True, env=None, timeout=300):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    out = p.stdout.decode(errors="replace")
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s" % (" ".join(cmd), p.returncode, out[-3000:]))
    return out


def lab_env(**kw):
    e = dict(os.environ)
    e.update(RUN_DIR=RUN, BUILD_DIR=BUILD_DIR, LAB_PORT=str(BASE), SINK_PORT=str(BASE + 1),
             SIGS_DIR=os.path.join(RUN, "sigs"), MW_ARGS="-o limits.max_message_size=100M")
    e.update(kw)
    return e


# ---------------------------------------------------------------- probes

def milter_ready(path, timeout=0.5):
    """True when a milter on UNIX socket path answers option negotiation."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        body = b"O" + struct.pack(">III", 6, 0x1FF, 0x1FFFFF)
        s.sendall(struct.pack(">I", len(body)) + body)
        hdr = s.recv(5)
        ok = len(hdr) == 5 and hdr[4:5] == b"O"
        try:
            s.sendall(struct.pack(">I", 1) + b"Q")
        except OSError:
            pass
        s.close()
        return ok
    except OSError:
        return False


def clamd_ready(path):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(0.5)
        s.connect(path)
        s.sendall(b"zPING\0")
        ok = s.recv(16).startswith(b"PONG")
        s.close()
        return ok
    except OSError:
        return False


def wait_for(pred, what, timeout=60, proc=None):
    t0 = time.monotonic()
    while not pred():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited (%s) during start" % (what, proc.returncode))
        if time.monotonic() - t0 > timeout:
            raise RuntimeError("%s not ready after %d s" % (what, timeout))
        time.sleep(0.01)
    return time.monotonic() - t0


# ---------------------------------------------------------------- processes

def status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def kb(pid, field):
    v = status(pid).get(field, "0 kB").split()
    return int(v[0]) if v else 0


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = status(int(d))
            if st.get("PPid") == str(pid):
                out.append(int(d))
    return out


def mw_pid():
    try:
        with open(os.path.join(RUN, "pid", "mailwardend.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def procs_of(cfg):
    """(label, pid) of every process involved in one configuration."""
    out = []
    if cfg == "mailwardend":
        p = mw_pid()
        if p:
            out.append(("mailwardend", p))
    if cfg in ("clamav", "rspamd") and "clamd" in PROCS:
        out.append(("clamd", PROCS["clamd"].pid))
    if cfg == "floor" and "nullmilter" in PROCS:
        out.append(("nullmilter", PROCS["nullmilter"].pid))
    if cfg == "clamav" and "clamav-milter" in PROCS:
        out.append(("clamav-milter", PROCS["clamav-milter"].pid))
    if cfg == "rspamd" and "rspamd" in PROCS:
        m = PROCS["rspamd"].pid
        out.append(("rspamd main", m))
        for c in children(m):
            try:
                with open("/proc/%d/cmdline" % c, "rb") as f:
                    title = f.read().replace(b"\0", b" ").decode(errors="replace").split()
            except OSError:
                title = []
            out.append(("rspamd %s" % (title[1] if len(title) > 1 else "worker"), c))
    return out


HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks(cfg):
    """CPU time (user + system ticks) of the configuration's processes, and
    of the whole machine (/proc/stat: Postfix, the client and the sink too)."""
    own = 0
    for _, pid in procs_of(cfg):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            own += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return own, v[0] + v[1] + v[2] + v[5] + v[6]


class Sampler(threading.Thread):
    """Peak VmRSS per process and of their sum, every 50 ms."""

    def __init__(self, cfg):
        super().__init__(daemon=True)
        self.cfg, self.stop, self.peak, self.peak_sum = cfg, threading.Event(), {}, 0

    def run(self):
        while not self.stop.is_set():
            tot = 0
            for label, pid in procs_of(self.cfg):
                r = kb(pid, "VmRSS")
                key = "%s[%d]" % (label, pid)
                self.peak[key] = max(self.peak.get(key, 0), r)
                tot += r
            self.peak_sum = max(self.peak_sum, tot)
            time.sleep(0.05)

    def done(self):
        self.stop.set()
        self.join()
        return self.peak_sum, self.peak


def start_proc(name, cmd, logname):
    log = open(os.path.join(RUN, "log", logname), "ab")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    PROCS[name] = p
    return p


def stop_proc(name):
    p = PROCS.pop(name, None)
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        say("%s (%d) ignored SIGTERM, SIGKILL" % (name, p.pid))
        p.kill()
        p.wait(5)


# ---------------------------------------------------------------- peers

def strip_keys(text, keys):
    out = []
    for line in text.splitlines():
        k = line.split(None, 1)[0] if line.strip() and not line.startswith("#") else None
        if k not in keys:
            out.append(line)
    return "\n".join(out) + "\n"


def setup_clamav():
    d = os.path.join(RUN, "clamav")
    for sub in ("", "db", "tmp", "mtmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for f in os.listdir(os.path.join(RUN, "sigs")):
        try:  # the generated database is large: links where possible
            os.link(os.path.join(RUN, "sigs", f), os.path.join(d, "db", f))
        except OSError:
            shutil.copy(os.path.join(RUN, "sigs", f), os.path.join(d, "db", f))
    sh(["chown", "-R", "clamav:clamav", d])
    os.chmod(d, 0o755)
    own = {"LocalSocket": os.path.join(d, "clamd.sock"), "LocalSocketMode": "666",
           "LocalSocketGroup": "clamav", "FixStaleSocket": "true", "User": "clamav", "Foreground": "true",
           "PidFile": os.path.join(d, "clamd.pid"), "DatabaseDirectory": os.path.join(d, "db"),
           "TemporaryDirectory": os.path.join(d, "tmp"), "LogFile": os.path.join(RUN, "log", "clamd.log"),
           "LogSyslog": "false", "LogRotate": "false", "StreamMaxLength": "100M", "TCPSocket": None,
           "TCPAddr": None, "SelfCheck": "3600"}
    base = open("/etc/clamav/clamd.conf").read() if os.path.exists("/etc/clamav/clamd.conf") else ""
    conf = strip_keys(base, set(own)) + "".join("%s %s\n" % (k, v) for k, v in own.items() if v is not None)
    with open(os.path.join(d, "clamd.conf"), "w") as f:
        f.write("# private clamd for bench-peers (Debian's clamd.conf, own paths)\n" + conf)
    mown = {"MilterSocket": "unix:" + os.path.join(d, "milter.sock"), "MilterSocketMode": "666",
            "MilterSocketGroup": "clamav", "FixStaleSocket": "true", "User": "clamav", "Foreground": "true",
            "PidFile": os.path.join(d, "clamav-milter.pid"), "ClamdSocket": "unix:" + os.path.join(d, "clamd.sock"),
            "OnInfected": "Reject", "OnFail": "Defer", "MaxFileSize": "100M",
            "TemporaryDirectory": os.path.join(d, "mtmp"), "LogFile": os.path.join(RUN, "log", "clamav-milter.log"),
            "LogSyslog": "false", "LogRotate": "false", "LogInfected": "Basic"}
    base = (open("/etc/clamav/clamav-milter.conf").read()
            if os.path.exists("/etc/clamav/clamav-milter.conf") else "")
    conf = strip_keys(base, set(mown)) + "".join("%s %s\n" % (k, v) for k, v in mown.items())
    with open(os.path.join(d, "clamav-milter.conf"), "w") as f:
        f.write("# private clamav-milter for bench-peers\n" + conf)
    for lf in ("clamd.log", "clamav-milter.log"):
        open(os.path.join(RUN, "log", lf), "a").close()
        sh(["chown", "clamav:clamav", os.path.join(RUN, "log", lf)])
    return d


def start_clamav(d):
    t0 = time.monotonic()
    p = start_proc("clamd", ["clamd", "-c", os.path.join(d, "clamd.conf")], "clamd.out")
    t_clamd = wait_for(lambda: clamd_ready(os.path.join(d, "clamd.sock")), "clamd", 120, p)
    p = start_proc("clamav-milter", ["clamav-milter", "-c", os.path.join(d, "clamav-milter.conf")],
                   "clamav-milter.out")
    t_milter = wait_for(lambda: milter_ready(os.path.join(d, "milter.sock")), "clamav-milter", 60, p)
    return {"clamd": t_clamd, "clamav-milter": t_milter, "total": time.monotonic() - t0}


def setup_rspamd(clamd_sock):
    d = os.path.join(RUN, "rspamd")
    local = os.path.join(d, "local")
    for sub in ("", "db", "run", "local", "local/local.d", "local/override.d"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    sock = os.path.join(d, "milter.sock")
    files = {
        "override.d/worker-proxy.inc":
            'bind_socket = "%s mode=0666 owner=_rspamd";\nmilter = yes;\ntimeout = 120s;\n'
            'upstream "local" {\n  default = yes;\n  self_scan = yes;\n}\ncount = 2;\n'
            'max_retries = 5;\ndiscard_on_reject = false;\nquarantine_on_reject = false;\n'
            'spam_header = "X-Spam";\nreject_message = "Spam message rejected";\n' % sock,
        "override.d/worker-normal.inc": 'bind_socket = "%s/normal.sock";\nenabled = false;\ncount = 0;\n' % d,
        "override.d/worker-controller.inc":
            'bind_socket = "%s/controller.sock";\nenabled = false;\ncount = 0;\n' % d,
        "override.d/worker-fuzzy.inc": 'bind_socket = "%s/fuzzy.sock";\nenabled = false;\ncount = -1;\n' % d,
        "local.d/options.inc":
            'filters = "chartable,regexp";\ndns { timeout = 1s; retransmits = 1; }\n'
            'tempdir = "%s/run";\ncontrol_socket = "%s/run/rspamd.sock mode=0600";\n' % (d, d),
        "local.d/actions.conf": "greylist = null;\n",
        "local.d/antivirus.conf":
            'clamav {\n  type = "clamav";\n  servers = "%s";\n  action = "reject";\n  symbol = "CLAM_VIRUS";\n'
            '  scan_mime_parts = true;\n  scan_text_mime = true;\n  scan_image_mime = false;\n'
            '  max_size = 104857600;\n  timeout = 60.0;\n  retransmits = 1;\n  log_clean = false;\n'
            '  message = "Virus found: ${VIRUS}";\n  patterns {\n    JUST_EICAR = "Test.EICAR";\n  }\n}\n'
            % clamd_sock,
        "override.d/mime_types.conf": 'file = "${CONFDIR}/maps.d/mime_types.inc";\n',
        "override.d/mid.conf": 'source {\n  url = "${CONFDIR}/maps.d/mid.inc";\n}\n',
        "local.d/redis.conf": "",
        "local.d/logging.inc": 'level = "notice";\n',
    }
    for m in RSPAMD_OFF:
        files["override.d/%s.conf" % m] = "enabled = false;\n"
    for name, text in files.items():
        with open(os.path.join(local, name), "w") as f:
            f.write("# bench-peers: private, no network (generated by tests/bench/peers.py)\n" + text)
    sh(["chown", "-R", "_rspamd:_rspamd", d])
    os.chmod(d, 0o755)
    open(os.path.join(RUN, "log", "rspamd.log"), "a").close()
    sh(["chown", "_rspamd:_rspamd", os.path.join(RUN, "log", "rspamd.log")])
    cmd = ["rspamd", "-f", "-u", "_rspamd", "-g", "_rspamd", "-c", "/etc/rspamd/rspamd.conf",
           "-p", os.path.join(d, "run", "rspamd.pid"),
           "--var=LOCAL_CONFDIR=%s" % local, "--var=DBDIR=%s" % os.path.join(d, "db"),
           "--var=RUNDIR=%s" % os.path.join(d, "run"), "--var=LOGDIR=%s" % os.path.join(RUN, "log")]
    return d, sock, cmd


def start_rspamd(sock, cmd):
    t0 = time.monotonic()
    p = start_proc("rspamd", cmd, "rspamd.out")
    wait_for(lambda: milter_ready(sock), "rspamd proxy", 120, p)
    return time.monotonic() - t0


def start_mailwardend():
    sh(LAB + ["stop-milter"], env=lab_env())
    sock = os.path.join(RUN, "mailwarden", "mailwardend.sock")
    t0 = time.monotonic()
    p = subprocess.Popen(LAB + ["start-milter"], env=lab_env(MILTER="unix"), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    t = wait_for(lambda: milter_ready(sock), "mailwardend", 120)
    p.communicate(timeout=60)
    return t


def add_postfix_services(clamav_sock, rspamd_sock):
    etc = os.path.join(RUN, "postfix", "etc")
    lines = ["# bench-peers: one smtpd per configuration, same Postfix, same sink"]
    for cfg, spec in (("none", ""), ("clamav", "unix:" + clamav_sock), ("rspamd", "unix:" + rspamd_sock),
                      ("floor", "unix:" + os.path.join(RUN, "null.sock"))):
        lines.append("127.0.0.1:%d inet n - n - - smtpd -o smtpd_milters=%s -o syslog_name=peers-%s" %
                     (PORT[cfg], spec, cfg))
    with open(os.path.join(etc, "master.cf"), "a") as f:
        f.write("\n".join(lines) + "\n")
    sh(["postfix", "-c", etc, "reload"])
    for cfg in ("none", "clamav", "rspamd", "floor"):
        wait_for(lambda: smtp_up(PORT[cfg]), "smtpd on %d" % PORT[cfg], 30)


def smtp_up(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        ok = s.recv(100).startswith(b"220")
        s.sendall(b"QUIT\r\n")
        s.close()
        return ok
    except OSError:
        return False


# ---------------------------------------------------------------- measuring

def queue_busy():
    p = subprocess.run(["postqueue", "-c", os.path.join(RUN, "postfix", "etc"), "-j"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
    return sum(1 for line in p.stdout.decode().splitlines() if line.strip() and '"hold"' not in line)


def wait_drained(timeout=180):
    t0 = time.monotonic()
    while queue_busy():
        if time.monotonic() - t0 > timeout:
            say("queue not drained after %d s" % timeout)
            return False
        time.sleep(0.2)
    return True


def sink_take():
    """Delivered messages since the last call (files removed after counting);
    returns (count, how many carry X-Mailwarden-Verdict)."""
    d = os.path.join(RUN, "sink")
    n = hdr = 0
    for name in os.listdir(d):
        if not name.startswith("msg."):
            continue
        path = os.path.join(d, name)
        try:
            with open(path, "rb") as f:
                head = f.read(8192)
            os.unlink(path)
        except OSError:
            continue
        n += 1
        if b"X-Mailwarden-Verdict:" in head:
            hdr += 1
    return n, hdr


def run_cell(cfg, wl, msgs, rnd):
    wait_drained()
    sink_take()
    smp = Sampler(cfg)
    off = mw_log_size()
    smp.start()
    cpu0 = cpu_ticks(cfg)
    res, wall = pm.load(PORT[cfg], msgs, SESSIONS, deadline=time.monotonic() + 300)
    wait_drained()
    cpu1 = cpu_ticks(cfg)
    verdicts = mw_log_verdicts(off) if cfg == "mailwardend" else {}
    peak_sum, peak = smp.done()
    delivered, hdr = sink_take()
    sent = [r for r in res if r is not None]
    lat = [r.ms for r in sent if r.code and r.code < 600]
    ok = sum(1 for r in sent if r.code == 250)
    perm = sum(1 for r in sent if 500 <= r.code < 600)
    temp = sum(1 for r in sent if 400 <= r.code < 500)
    errors = sum(1 for r in sent if r.code == 0) + (len(msgs) - len(sent))
    av = sum(1 for m in msgs if m.av)
    cell = {"cfg": cfg, "wl": wl, "round": rnd, "n": len(msgs), "wall": wall, "mps": len(sent) / wall,
            "p50": pm.pct(lat, 50), "p95": pm.pct(lat, 95), "p99": pm.pct(lat, 99),
            "accepted": ok, "refused": perm, "tempfail": temp, "errors": errors, "delivered": delivered,
            "quarantined": ok - delivered, "verdict_hdr": hdr, "av_msgs": av, "verdicts": verdicts,
            "rss_sum_kb": peak_sum, "rss_kb": peak,
            "cpu_ms": (cpu1[0] - cpu0[0]) * 1000.0 / HZ / max(1, len(msgs)),
            "box_cpu_ms": (cpu1[1] - cpu0[1]) * 1000.0 / HZ / max(1, len(msgs)),
            "refused_codes": sorted(set(r.text[:60] for r in sent if 500 <= r.code < 600))[:4],
            "tempfail_text": sorted(set(r.text[:80] for r in sent if 400 <= r.code < 500))[:3]}
    cell["check"] = check_cell(cell, msgs)
    cell["expected"] = EXPECT_MW.get(wl) if cfg == "mailwardend" else None
    say("round %d %-12s %-9s %6.1f msg/s p50 %6.1f p95 %6.1f p99 %6.1f ms  250:%d 5xx:%d 4xx:%d err:%d "
        "delivered:%d rss %.1f MB cpu %.2f ms/msg %s" % (rnd, cfg, wl, cell["mps"], cell["p50"], cell["p95"],
                                                         cell["p99"], ok, perm, temp, errors, delivered,
                                                         peak_sum / 1024.0, cell["cpu_ms"], cell["check"]))
    return cell


EXPECT_MW = {}  # workload -> (refused, quarantined, delivered) predicted by `mailwarden scan`


def check_cell(c, msgs):
    """What each configuration should have done with this workload."""
    n, av = c["n"], c["av_msgs"]
    if c["errors"] or c["tempfail"]:
        return "FAIL: %d tempfail, %d errors" % (c["tempfail"], c["errors"])
    if c["accepted"] + c["refused"] != n:
        return "FAIL: %d answered of %d" % (c["accepted"] + c["refused"], n)
    if c["cfg"] in ("none", "floor"):
        want = (0, 0, n)
    elif c["cfg"] in ("clamav", "rspamd"):
        want = (av, 0, n - av)
    else:
        want = EXPECT_MW.get(c["wl"])
        if want is None:
            return "ok" if c["refused"] >= av else "FAIL: refused %d < %d infected" % (c["refused"], av)
        if c["refused"] < av:
            return "FAIL: refused %d < %d infected" % (c["refused"], av)
    got = (c["refused"], c["quarantined"], c["delivered"])
    if got == tuple(want):
        return "ok"
    tag = "FAIL" if c["cfg"] != "mailwardend" else "differs"
    return "%s: refused/quarantined/delivered %s, expected %s" % (tag, "/".join(map(str, got)),
                                                                   "/".join(map(str, want)))


def predict_mailwardend(wl, msgs):
    """Per-message verdicts of the same engine (`mailwarden scan`, fresh
    state, messages in order): the expected refused/quarantined/delivered."""
    d = tempfile.mkdtemp(prefix="predict-", dir=RUN)
    st = os.path.join(d, "state")
    os.makedirs(st)
    rej = quar = dlv = 0
    uniq = {}
    for m in msgs:
        key = m.kind  # one message per kind stands for all of that kind
        if key not in uniq:
            raw = m.wire[:-3].replace(b"\r\n..", b"\r\n.")
            path = os.path.join(d, "m.eml")
            warm = os.path.join(d, "warm.eml")
            with open(path, "wb") as f:
                f.write(raw)
            with open(warm, "wb") as f:
                f.write(b"From: <%s>\r\nSubject: hello\r\n\r\nhello\r\n" % m.sender.encode())
            for f in ([warm] if m.known else []) + [path]:
                p = subprocess.run([os.path.join(BUILD_DIR, "mailwarden"), "scan", "-c",
                                os.path.join(RUN, "mailwarden.conf"), "--sigs", os.path.join(REPO, "sigs"),
                                "--state", st, "-o", "limits.max_message_size=100M", "--from", m.sender,
                                "--rcpt", m.rcpt, f], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               timeout=120)
            try:
                act = json.loads(p.stdout.decode())["action"]
            except ValueError:
                act = "tempfail"
            uniq[key] = act
        act = uniq[key]
        if act in ("reject",):
            rej += 1
        elif act in ("quarantine", "hold"):
            quar += 1
        else:
            dlv += 1
    shutil.rmtree(d, ignore_errors=True)
    return (rej, quar, dlv)


# ---------------------------------------------------------------- scaling, soak

def mw_log_ms(since):
    """ms= of every verdict line logged after byte offset since."""
    path = os.path.join(RUN, "log", "mailwardend.log")
    with open(path, "rb") as f:
        f.seek(since)
        data = f.read().decode(errors="replace")
    return [float(x) for x in re.findall(r" action=\S+ reasons=.* ms=([0-9.]+)", data)]


def mw_log_verdicts(since):
    """action: first reason code -> count, over verdict lines after since
    (RCPT-time refusals are logged without an action= line)."""
    path = os.path.join(RUN, "log", "mailwardend.log")
    with open(path, "rb") as f:
        f.seek(since)
        data = f.read().decode(errors="replace")
    out = {}
    for act, reasons in re.findall(r" action=(\S+) reasons=(.*) ms=", data):
        codes = sorted(set(re.findall(r"(?:^|,)([a-z]+\.[a-z_]+)", reasons))) or ["none"]
        k = "%s (%s)" % (act, ", ".join(codes))
        out[k] = out.get(k, 0) + 1
    return out


def mw_log_size():
    try:
        return os.path.getsize(os.path.join(RUN, "log", "mailwardend.log"))
    except OSError:
        return 0


def scale_point(label, msgs):
    """Send msgs one at a time through mailwardend; engine ms from its log,
    SMTP latency, and RSS after."""
    off = mw_log_size()
    res, wall = pm.load(PORT["mailwardend"], msgs, 1, timeout=600)
    time.sleep(0.3)
    ms = mw_log_ms(off)
    verdicts = mw_log_verdicts(off)
    lat = [r.ms for r in res if r]
    codes = sorted(set(str(r.code) for r in res if r))
    pid = mw_pid()
    return {"label": label, "n": len(msgs), "engine_ms": pm.pct(ms, 50) if ms else float("nan"),
            "smtp_ms": pm.pct(lat, 50), "codes": ",".join(codes), "rss_kb": kb(pid, "VmRSS") if pid else 0,
            "hwm_kb": kb(pid, "VmHWM") if pid else 0, "verdicts": ", ".join(sorted(verdicts)),
            "bytes": len(msgs[0].wire)}


def scaling(gen):
    out = {"size": [], "attachments": [], "depth": [], "urls": []}
    rnd = gen.rnd

    def one(body_parts, subject):
        mid = gen.mid()
        s = gen.sender()
        raw = pm.multipart(pm.headers(s, gen.rcpt, subject, mid), body_parts)
        return pm.Msg(s, gen.rcpt, raw.encode(), False, "scale")

    text = ("text/plain; charset=us-ascii", "", "scaling probe\r\n")
    for size, reps in ((1 << 10, 5), (10 << 10, 5), (100 << 10, 5), (1 << 20, 3), (10 << 20, 2),
                       (50 << 20, 1)):
        if size <= 2048:
            msgs = [gen.plain(size) for _ in range(reps)]
        else:
            data = rnd.randbytes(size * 3 // 4)
            msgs = [one([text, pm.attachment("data.bin", "application/octet-stream", data)], "size")
                    for _ in range(reps)]
        out["size"].append(scale_point("%d KB" % (size >> 10), msgs))
        say("scaling size %s: %s" % (out["size"][-1]["label"], out["size"][-1]))
    for n in (1, 10, 50, 100, 250):
        parts = [text] + [pm.attachment("doc%d.pdf" % i, "application/pdf", pm.pdfish(rnd, 10 * 1024))
                          for i in range(n)]
        out["attachments"].append(scale_point("%d x 10 KB" % n, [one(parts, "atts") for _ in range(3)]))
        say("scaling attachments %s" % out["attachments"][-1])
    for depth in (1, 2, 3, 5, 6, 8):
        z = b"bottom of the archive\n" * 100
        name = "a.txt"
        for lvl in range(depth):
            z = pm.zipped([(name, z)])
            name = "level%d.zip" % (depth - lvl)
        msgs = [one([text, pm.attachment("nested.zip", "application/zip", z)], "depth") for _ in range(3)]
        out["depth"].append(scale_point("depth %d" % depth, msgs))
        say("scaling depth %s" % out["depth"][-1])
    for n in (10, 100, 500, 1000, 5000):
        html = "<html><body>" + "".join('<a href="https://host%d.site%d.example/p/%d">link %d</a><br>' %
                                        (i % 97, i % 13, i, i) for i in range(n)) + "</body></html>"
        part = ("text/html; charset=utf-8", "Content-Transfer-Encoding: base64\r\n", pm.b64(html.encode()))
        out["urls"].append(scale_point("%d URLs" % n, [one([part], "urls") for _ in range(3)]))
        say("scaling urls %s" % out["urls"][-1])
    return out


def soak(gen):
    """SOAK messages (plain and the mixed stream, cycled) through mailwardend
    over SESSIONS sessions, bounded by SOAK_SECONDS; RSS every 1/20th."""
    pool = gen.mixed(400) + [gen.plain() for _ in range(400)]
    samples = []
    pid = mw_pid()
    sent = 0
    step = max(1, SOAK // 20)
    deadline = time.monotonic() + SOAK_SECONDS
    t0 = time.monotonic()
    counts = {"250": 0, "5xx": 0, "4xx": 0, "err": 0}
    samples.append((0, 0.0, kb(pid, "VmRSS"), kb(pid, "RssAnon")))
    while sent < SOAK and time.monotonic() < deadline:
        batch = []
        for i in range(min(step, SOAK - sent)):
            m = pool[(sent + i) % len(pool)]
            batch.append(m)
        res, _ = pm.load(PORT["mailwardend"], batch, SESSIONS, deadline=deadline)
        for r in res:
            if r is None:
                continue
            sent += 1
            k = "250" if r.code == 250 else "5xx" if 500 <= r.code < 600 else "4xx" if 400 <= r.code < 500 else "err"
            counts[k] += 1
        samples.append((sent, time.monotonic() - t0, kb(pid, "VmRSS"), kb(pid, "RssAnon")))
        say("soak %d messages, %.0f s, mailwardend VmRSS %d kB RssAnon %d kB" % samples[-1])
        sink_take()
    wait_drained()
    sink_take()
    return {"sent": sent, "seconds": time.monotonic() - t0, "samples": samples, "counts": counts,
            "hwm_kb": kb(pid, "VmHWM"), "pid_same": mw_pid() == pid}


# ---------------------------------------------------------------- report

def med(v):
    v = sorted(x for x in v if x == x)
    if not v:
        return float("nan")
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def report(cells, startup, scale, soakr, meta):
    L = []
    L.append("# bench-peers: mailwardend against clamav-milter + clamd and rspamd")
    L.append("")
    L.append("Written by `make bench-peers` (tests/bench/peers.sh -> peers.py) on %s." % meta["date"])
    L.append("")
    L.append("- Machine: %s, %d CPUs (%s), %.1f GB RAM, kernel %s, Debian %s; shared with other work, so "
             "timings are noisy: configurations are interleaved round by round and medians reported." %
             (meta["host"], os.cpu_count(), meta["cpu"], meta["mem_gb"], platform.release(), meta["debian"]))
    L.append("- Versions: %s" % meta["versions"])
    L.append("- Commands: `%s`" % meta["command"])
    L.append("- One private Postfix on 127.0.0.1 with one smtpd per configuration (same queue, same "
             "smtp-sink); mail sent by tests/bench/peers_mail.py over %d parallel SMTP sessions "
             "(PIPELINING), every message with its own envelope sender. Latency: MAIL sent -> final reply "
             "of that message. msg/s: messages answered / wall time of the run. Rounds: %d (%s); run "
             "time %.0f s." % (SESSIONS, meta["rounds"], ", ".join(CONFIGS), meta["seconds"]))
    L.append("- Signatures: %s for libclamav in mailwardend and for clamd; " % (
        "the project's sigs/ plus the generated realistic database at scale %g (tests/sigdb/gen.py)" % SIGDB_SCALE
        if SIGDB_SCALE > 0 else "only the project's sigs/ (a copy)") +
             "no freshclam, no network. rspamd: modules doing DNS/HTTP or needing Redis disabled (%s); "
             "left on: the local rules (regexp, chartable, mime_types with the packaged map, mid, "
             "once_received, forged_recipients, maillist, milter_headers, force_actions, trie, "
             "antivirus). %s" % (", ".join(RSPAMD_OFF[:20]) + ", ...", meta.get("rspamd_net", "")))
    L.append("- Workloads: plain = %d x 2 KB text; attach = %d x mail with a 200 KB clean PDF-like "
             "attachment; infected = %d x zip holding EICAR or the project's marker; mixed = %d messages "
             "of the Japanese stream (tests/samples/*.eml, HTML newsletter with 40 links, ISO-2022-JP "
             "business mail with PDF + xlsx, zip of documents, 2015-style campaign from rotating "
             "free-mail senders with a zipped .exe, a third of them carrying the marker)." %
             (COUNTS["plain"], COUNTS["attach"], COUNTS["infected"], COUNTS["mixed"]))
    L.append("")
    agg = {}
    for c in cells:
        agg.setdefault((c["wl"], c["cfg"]), []).append(c)
    L.append("## Throughput, latency, outcome, memory (medians over rounds)")
    L.append("")
    L.append("CPU ms/msg: user + system time of the configuration's own processes (the filter, and clamd "
             "where it scans) per message, from /proc/PID/stat before and after the run; machine: all "
             "CPUs of the box (Postfix, client and sink included), from /proc/stat.")
    L.append("")
    L.append("| workload | configuration | msg/s | vs ceiling | CPU ms/msg | machine CPU ms/msg | p50 ms | p95 ms "
             "| p99 ms | 250 / 5xx / 4xx | delivered / quarantined | expected | peak RSS, all processes "
             "| processes (peak RSS) |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for wl in WORKLOADS:
        base = med([c["mps"] for c in agg.get((wl, "none"), [])])
        for cfg in CONFIGS:
            cs = agg.get((wl, cfg))
            if not cs:
                continue
            mps = med([c["mps"] for c in cs])
            procs = {}
            for c in cs:
                for k, v in c["rss_kb"].items():
                    name = re.sub(r"\[\d+\]$", "", k)
                    procs.setdefault(name, []).append(v)
            pdesc = ", ".join("%s %s%.1f MB" % (n, "%dx " % len(v) if False else "", max(v) / 1024.0)
                              for n, v in sorted(procs.items())) or "-"
            checks = sorted(set(c["check"] for c in cs))
            L.append("| %s | %s | %.1f | %.2f | %s | %.2f | %.1f | %.1f | %.1f | %s | %s | %s | %s | %s |" % (
                wl, LABEL[cfg], mps, mps / base if base == base and base else float("nan"),
                "-" if cfg == "none" else "%.2f" % med([c.get("cpu_ms", float("nan")) for c in cs]),
                med([c.get("box_cpu_ms", float("nan")) for c in cs]),
                med([c["p50"] for c in cs]), med([c["p95"] for c in cs]), med([c["p99"] for c in cs]),
                " ; ".join("%d/%d/%d" % (c["accepted"], c["refused"], c["tempfail"]) for c in cs),
                " ; ".join("%d/%d" % (c["delivered"], c["quarantined"]) for c in cs),
                "; ".join(checks),
                "-" if cfg == "none" else "%.1f MB" % (max(c["rss_sum_kb"] for c in cs) / 1024.0), pdesc))
    L.append("")
    for c in cells:
        if c["cfg"] == "mailwardend" and c["wl"] == "mixed" and c["verdicts"]:
            L.append("mailwardend's verdicts on the mixed stream (round %d, from its log; refusals at RCPT "
                     "time, e.g. free-mail senders to staff, have no verdict line): %s." % (
                         c["round"], "; ".join("%s: %d" % kv for kv in sorted(c["verdicts"].items(),
                                                                              key=lambda kv: -kv[1]))))
            L.append("")
            break
    L.append("## Throughput ratios (row / column, medians)")
    L.append("")
    L.append("| workload | mailwardend / floor | mailwardend / ceiling | mailwardend / clamav-milter+clamd "
             "| mailwardend / rspamd | clamav-milter+clamd / ceiling | rspamd / ceiling | rspamd / clamav-milter+clamd "
             "| p50 latency mailwardend / clamav-milter | CPU/msg mailwardend / best peer's |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for wl in WORKLOADS:
        m = {cfg: med([c["mps"] for c in agg.get((wl, cfg), [])]) for cfg in CONFIGS}
        p = {cfg: med([c["p50"] for c in agg.get((wl, cfg), [])]) for cfg in CONFIGS}
        r = lambda a, b: "%.2f" % (m[a] / m[b]) if m[a] == m[a] and m[b] == m[b] and m[b] else "-"  # noqa
        cpu = {cfg: med([c.get("cpu_ms", float("nan")) for c in agg.get((wl, cfg), [])]) for cfg in CONFIGS}
        peers = [cpu[k] for k in ("clamav", "rspamd") if cpu[k] == cpu[k] and cpu[k] > 0]
        best = min(peers) if peers else float("nan")
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            wl, r("mailwardend", "floor"), r("mailwardend", "none"), r("mailwardend", "clamav"), r("mailwardend", "rspamd"),
            r("clamav", "none"), r("rspamd", "none"), r("rspamd", "clamav"),
            "%.2f" % (p["mailwardend"] / p["clamav"]) if p["clamav"] == p["clamav"] and p["clamav"] else "-",
            "%.2f" % (cpu["mailwardend"] / best) if best == best and cpu["mailwardend"] == cpu["mailwardend"] else "-"))
    L.append("")
    L.append("## Start-up to ready")
    L.append("")
    L.append("Process start -> its milter socket answers option negotiation (clamd: -> PONG on its socket).")
    L.append("")
    L.append("| configuration | seconds |")
    L.append("|---|---|")
    for k, v in startup.items():
        L.append("| %s | %.2f |" % (k, v))
    L.append("")
    if scale:
        L.append("## mailwardend scaling (one session, medians of a few messages)")
        L.append("")
        L.append("engine ms: the daemon's own `ms=` on its verdict log line (engine_scan to verdict); SMTP ms: "
                 "the client's latency of the whole transaction; RSS after the point, and the peak so far.")
        L.append("")
        for key, title in (("size", "message size (one base64 attachment of random bytes)"),
                           ("attachments", "attachment count (10 KB PDF-like each)"),
                           ("depth", "archive depth (zip in zip; limits.archive_max_depth = 5)"),
                           ("urls", "URL count (one HTML part; limits.max_urls = 500)")):
            L.append("### %s" % title)
            L.append("")
            L.append("| point | message bytes | engine ms | SMTP ms | replies | verdicts | VmRSS MB | VmHWM MB |")
            L.append("|---|---|---|---|---|---|---|---|")
            for p in scale[key]:
                L.append("| %s | %d | %.1f | %.1f | %s | %s | %.1f | %.1f |" % (
                    p["label"], p["bytes"], p["engine_ms"], p["smtp_ms"], p["codes"], p["verdicts"],
                    p["rss_kb"] / 1024.0, p["hwm_kb"] / 1024.0))
            L.append("")
    if soakr:
        L.append("## mailwardend soak")
        L.append("")
        L.append("%d messages (400 plain and 400 of the mixed stream, cycled with their senders: the "
                 "infected and campaign senders are blocked after the first cycle and then refused at RCPT) "
                 "in %.0f s over %d sessions "
                 "(bound: %d messages or %d s); replies %s; the same daemon process throughout: %s; VmHWM "
                 "at the end %.1f MB." % (soakr["sent"], soakr["seconds"], SESSIONS, SOAK, SOAK_SECONDS,
                                          soakr["counts"], soakr["pid_same"], soakr["hwm_kb"] / 1024.0))
        L.append("")
        L.append("| messages | seconds | VmRSS MB | RssAnon MB |")
        L.append("|---|---|---|---|")
        for s in soakr["samples"]:
            L.append("| %d | %.0f | %.1f | %.1f |" % (s[0], s[1], s[2] / 1024.0, s[3] / 1024.0))
        L.append("")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------- main

def meta_info():
    def first(cmd):
        try:
            return sh(cmd, check=False).splitlines()[0].strip()
        except Exception:  # noqa: BLE001
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024.0 / 1024.0
    deb = open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?"
    vers = "; ".join([
        "mailwardend %s" % first([os.path.join(BUILD_DIR, "mailwardend"), "--version"]),
        first(["clamd", "--version"]), first(["clamav-milter", "--version"]),
        first(["rspamd", "--version"]), "Postfix %s" % first(["postconf", "-dh", "mail_version"])])
    return {"host": platform.node(), "cpu": cpu, "mem_gb": mem, "debian": deb, "versions": vers,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "command": os.environ.get("PEERS_COMMAND", "make bench-peers")}


def main():
    global RUN
    if os.geteuid() != 0:
        sys.exit("peers: needs root (private Postfix, daemons drop to their users)")
    RUN = tempfile.mkdtemp(prefix="mw-peers.", dir="/tmp")
    os.chmod(RUN, 0o755)
    shutil.copytree(os.path.join(REPO, "sigs"), os.path.join(RUN, "sigs"))
    if SIGDB_SCALE > 0:
        gen_dir = os.path.join(BUILD_DIR, "sigdb-cache", "scale-%g" % SIGDB_SCALE)
        if not os.path.exists(os.path.join(gen_dir, "mwgen.about")):
            sh([sys.executable, os.path.join(REPO, "tests", "sigdb", "gen.py"), "--scale", str(SIGDB_SCALE), gen_dir])
        for f in os.listdir(gen_dir):
            if f.startswith("mwgen."):
                shutil.copy(os.path.join(gen_dir, f), os.path.join(RUN, "sigs", f))
        sh(["chmod", "-R", "a+rX", os.path.join(RUN, "sigs")])
    meta = meta_info()
    ok = False
    try:
        say("run dir %s, ports %d..%d" % (RUN, BASE, BASE + 4))
        sh(LAB + ["start"], env=lab_env(MILTER="unix"))
        startup = {}
        startup["mailwardend"] = start_mailwardend()
        cd = setup_clamav()
        t = start_clamav(cd)
        startup["clamd"] = t["clamd"]
        startup["clamav-milter (clamd already up)"] = t["clamav-milter"]
        startup["clamd + clamav-milter"] = t["total"]
        start_proc("nullmilter", [os.path.join(BUILD_DIR, "bench", "nullmilter"),
                                  "unix:" + os.path.join(RUN, "null.sock")], "nullmilter.log")
        startup["do-nothing milter"] = wait_for(lambda: milter_ready(os.path.join(RUN, "null.sock")),
                                                "nullmilter", 30, PROCS["nullmilter"])
        os.chmod(os.path.join(RUN, "null.sock"), 0o666)
        rd, rsock, rcmd = setup_rspamd(os.path.join(cd, "clamd.sock"))
        startup["rspamd (clamd already up)"] = start_rspamd(rsock, rcmd)
        say("start-up: %s" % ", ".join("%s %.2f s" % kv for kv in startup.items()))
        add_postfix_services(os.path.join(cd, "milter.sock"), rsock)

        gen = pm.Gen(seed=9)

        def make_work():
            # new messages each round: fresh senders for infected mail and
            # the campaign (a blocked sender would be refused at RCPT)
            return {"plain": [gen.plain() for _ in range(COUNTS["plain"])],
                    "attach": [gen.attach() for _ in range(COUNTS["attach"])],
                    "infected": [gen.infected() for _ in range(COUNTS["infected"])],
                    "mixed": gen.mixed(COUNTS["mixed"])}
        work = make_work()
        say("workloads: %s" % ", ".join("%s %d msgs %.1f MB" % (k, len(v), sum(len(m.wire) for m in v) / 1e6)
                                       for k, v in work.items()))
        for wl in WORKLOADS:
            EXPECT_MW[wl] = predict_mailwardend(wl, work[wl])
        say("mailwardend expected (mailwarden scan): %s" % EXPECT_MW)
        # warm-up: a plain message from every known correspondent (so clean
        # mail with attachments is not held as a first contact), and a few
        # messages per configuration (first-use costs out of the numbers)
        warm = []
        for snd in pm.KNOWN:
            m = gen.plain()
            warm.append(pm.Msg(snd, m.rcpt, m.wire[:-3], False, "warm"))
        pm.load(PORT["mailwardend"], warm, SESSIONS)
        for cfg in CONFIGS:
            pm.load(PORT[cfg], gen.mixed(20), 4)
        wait_drained()
        sink_take()
        cells = []
        rounds = 0
        last = 0.0
        for rnd in range(1, ROUNDS + 1):
            # keep about 40 % of the budget for scaling and the soak
            if rnd > 1 and elapsed() + last > BUDGET * 0.6:
                say("time budget: rounds %d..%d skipped" % (rnd, ROUNDS))
                break
            t_round = time.monotonic()
            order = CONFIGS if rnd % 2 else list(reversed(CONFIGS))
            if rnd > 1:
                work = make_work()
                for wl in WORKLOADS:  # the mixed stream's make-up differs by round
                    EXPECT_MW[wl] = predict_mailwardend(wl, work[wl])
            for wl in WORKLOADS:
                for cfg in order:
                    cells.append(run_cell(cfg, wl, work[wl], rnd))
            rounds += 1
            last = time.monotonic() - t_round
        scale = scaling(gen) if os.environ.get("PEERS_SCALING", "1") == "1" else None
        soakr = soak(gen) if SOAK > 0 else None
        meta["rounds"] = rounds
        meta["seconds"] = elapsed()
        meta["rspamd_net"] = rspamd_net_note()
        text = report(cells, startup, scale, soakr, meta)
        # the hand-written analysis below the marker survives a new run
        try:
            with open(OUT) as f:
                old = f.read()
            if ANALYSIS in old:
                text += "\n" + old[old.index(ANALYSIS):]
        except OSError:
            pass
        with open(OUT, "w") as f:
            f.write(text)
        with open(os.path.join(RUN, "results.json"), "w") as f:
            json.dump({"cells": cells, "startup": startup, "scale": scale, "soak": soakr, "meta": meta}, f,
                      indent=1, default=str)
        print(text)
        say("written %s (%.0f s)" % (OUT, elapsed()))
        ok = True
    finally:
        for name in ("rspamd", "clamav-milter", "clamd", "nullmilter"):
            stop_proc(name)
        sh(LAB + ["stop"], check=False, env=lab_env())
        if os.environ.get("PEERS_KEEP") or not ok:
            say("run dir kept: %s" % RUN)
        else:
            shutil.rmtree(RUN, ignore_errors=True)


def rspamd_net_note():
    """What rspamd tried on the network: log lines about DNS, resolvers,
    map downloads or URLs (not the per-task protocol lines)."""
    path = os.path.join(RUN, "log", "rspamd.log")
    try:
        with open(path, errors="replace") as f:
            lines = [ln for ln in f if re.search(r"dns|resolv|http_map|https?://|rdns", ln, re.I) and
                     not re.search(r"rspamd_protocol_http_reply|rspamd_task_write_log", ln)]
    except OSError:
        return ""
    note = "rspamd log lines about DNS, resolvers or map downloads during the run: %d" % len(lines)
    if lines:
        note += " (first: `%s`)" % lines[0].strip()[:160].replace("`", "'")
    return note + "."


if __name__ == "__main__":
    main()
