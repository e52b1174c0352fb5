"""appliance.py - boot the qemu-virt-arm64 firmware image and talk to it.

Machine    qemu-system-aarch64 -M virt (TCG) with the image from
           `make firmware BOARD=qemu-virt-arm64`, -snapshot (the image files
           never change), user-mode networking with restrict=on and one
           forward 127.0.0.1:PORT -> guest :25, the serial port (ttyAMA0)
           on a unix socket (copied to serial.log), and a virtio console
           (hvc0, the test image's root shell) on another (shell.log).
           Stopped by its PID, always.
run        `appliance.py run [--port N] [--persist DIR] [IMAGE_DIR]` (what
           scripts/qemu-run.sh calls): the serial console on this terminal;
           with --persist the data disk is a copy kept in DIR (settings,
           queue, quarantine survive; `reboot` reboots), the root disk the
           image's, read-only.
Serial     reads and writes one of those sockets with bounded waits.
AdminConsole  the administrator's `mailwarden console` on ttyAMA0: first
           boot password, login, and its commands (block, lockdown,
           quarantine list/release, track, ...), as a person would type them.
ShellConsole  the root shell on hvc0, to look inside the guest (what the
           internal server received, the daemon's pid and log).
smtp_send  one SMTP transaction that records the reply to every step.

Standard library only.  `python3 tests/qemu/appliance.py run [DIR]` boots
the image with the serial port on this terminal (scripts/qemu-run.sh).
"""
import codecs
import os
import re
import select
import signal
import smtplib
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE_DIR = os.path.join(REPO, "build", "firmware", "qemu-virt-arm64")


def free_port():
    """free_port - an unused TCP port on 127.0.0.1 (for the SMTP forward)"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def redis_fwd():
    """MW_QEMU_REDIS=HOST:PORT (a Redis on the host, README "Two gateways"):
    the guest reaches it as 10.0.2.100:6379 (guestfwd; restrict=on stays)"""
    target = os.environ.get("MW_QEMU_REDIS", "")
    return ",guestfwd=tcp:10.0.2.100:6379-tcp:%s" % target if target else ""


def dns_fwd():
    """MW_QEMU_DNS=PORT (a DNS server's TCP port on 127.0.0.1, the QEMU
    test's nsd): the guest reaches it as 10.0.2.101:53 over TCP, one
    dnsbridge.py per connection (the user network passes no UDP)"""
    port = os.environ.get("MW_QEMU_DNS", "")
    if not port:
        return ""
    bridge = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dnsbridge.py")
    return ",guestfwd=tcp:10.0.2.101:53-cmd:/usr/bin/python3 %s 127.0.0.1 %d" % (bridge, int(port))


def qemu_args(image_dir, smtp_port, serial, shell=None, extra_disk=None, data=None, data_mb=None, workdir=None):
    """qemu_args - the command line; serial is a chardev spec or 'stdio';
    shell, a chardev spec (id sh0) for the test shell on hvc0, or None;
    extra_disk, a raw image attached read-only as one more virtio disk
    (what a USB stick is to the appliance), or None; data, a data disk
    image to keep (persistent: no -snapshot, reboot reboots), or None
    (every run is a first boot, reboot ends QEMU); data_mb, with data None,
    a bigger data disk than the image's: a sparse copy of data.img in
    workdir grown to data_mb MB (still -snapshot), as a card larger than
    the image is, which rc.boot grows the file system to.  Memory: QEMU_MEM MB,
    default 2048, what the appliance needs with the full signature
    database (firmware/README.md)"""
    with open(os.path.join(image_dir, "cmdline")) as f:
        cmdline = f.read().strip()
    data_file = data or os.path.join(image_dir, "data.img")
    if data is None and data_mb and data_mb * 2**20 > os.path.getsize(data_file):
        grown = os.path.join(workdir, "data-grown.img")
        subprocess.run(["cp", "--sparse=always", data_file, grown], check=True)
        os.truncate(grown, data_mb * 2**20)
        data_file = grown
    args = [
        "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57",
        "-smp", os.environ.get("QEMU_SMP", "2"), "-m", os.environ.get("QEMU_MEM", "2048"),
        "-accel", "tcg,thread=multi",
        "-kernel", os.path.join(image_dir, "vmlinuz"),
        "-initrd", os.path.join(image_dir, "initrd.img"),
        "-append", cmdline,
        "-drive", "if=none,id=root,format=raw,file=%s%s" % (os.path.join(image_dir, "rootfs.img"),
                                                           ",readonly=on" if data else ""),
        "-device", "virtio-blk-device,drive=root",
        "-drive", "if=none,id=data,format=raw,file=" + data_file,
        "-device", "virtio-blk-device,drive=data",
        "-netdev", "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:25" % smtp_port + redis_fwd() + dns_fwd(),
        "-device", "virtio-net-device,netdev=net0",
        "-device", "virtio-rng-device",
        "-display", "none",
    ]
    if extra_disk:
        args += ["-drive", "if=none,id=extra,format=raw,readonly=on,file=" + extra_disk,
                 "-device", "virtio-blk-device,drive=extra"]
    if not data:
        args += ["-snapshot", "-no-reboot"]
    if serial == "stdio":
        args += ["-serial", "mon:stdio"]
    else:
        args += ["-chardev", serial, "-serial", "chardev:ser0", "-monitor", "none"]
    if shell:
        args += ["-device", "virtio-serial-device", "-chardev", shell,
                 "-device", "virtconsole,chardev=sh0"]
    return args


class Machine:
    """Machine - one QEMU process, started and stopped by PID"""

    def __init__(self, image_dir, workdir, extra_disk=None, data_mb=None):
        self.image_dir = image_dir
        self.extra_disk = extra_disk
        self.data_mb = data_mb
        self.workdir = workdir
        self.smtp_port = free_port()
        self.sock_path = os.path.join(workdir, "serial.sock")
        self.serial_log = os.path.join(workdir, "serial.log")
        self.shell_path = os.path.join(workdir, "shell.sock")
        self.shell_log = os.path.join(workdir, "shell.log")
        self.qemu_log = os.path.join(workdir, "qemu.log")
        self.proc = None
        self.started = None

    def start(self):
        for p in (self.sock_path, self.shell_path):
            if os.path.exists(p):
                os.unlink(p)
        chardev = "socket,id=ser0,path=%s,server=on,wait=on,logfile=%s" % (self.sock_path, self.serial_log)
        shell = "socket,id=sh0,path=%s,server=on,wait=off,logfile=%s" % (self.shell_path, self.shell_log)
        args = qemu_args(self.image_dir, self.smtp_port, chardev, shell, self.extra_disk, data_mb=self.data_mb,
                         workdir=self.workdir)
        with open(self.qemu_log, "w") as log:
            log.write(" ".join(args) + "\n")
            log.flush()
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.started = time.monotonic()
        with open(os.path.join(self.workdir, "qemu.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace=10):
        """stop - SIGTERM to our QEMU's PID, bounded wait, then SIGKILL"""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=grace)
        self.proc = None

    def smtp_banner(self, timeout=5):
        """smtp_banner - the 220 greeting through the forward, or None"""
        try:
            with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=timeout) as s:
                s.settimeout(timeout)
                line = s.recv(512)
                s.sendall(b"QUIT\r\n")
                return line.decode("latin-1").strip() if line.startswith(b"220") else None
        except OSError:
            return None

    def wait_smtp(self, timeout):
        """wait_smtp - seconds since start when SMTP greeted, or None"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if self.smtp_banner():
                return time.monotonic() - self.started
            time.sleep(1)
        return None


class Serial:
    """Serial - the guest's ttyAMA0 through QEMU's unix socket"""

    def __init__(self, path, connect_timeout=20):
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buf = ""
        self.transcript = []
        # the port delivers a few bytes at a time: decode across reads
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def _fill(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("serial port closed (QEMU exited?)")
        text = self.decoder.decode(data).replace("\r", "")
        self.transcript.append(text)
        self.buf += text
        return True

    def expect(self, pattern, timeout):
        """expect - wait for a regex; return its match, consume up to it; None on timeout"""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            if time.monotonic() > deadline:
                return None
            self._fill(deadline - time.monotonic())

    def send(self, text):
        self.sock.sendall(text.encode())

    def close(self):
        self.sock.close()


PROMPT = "mailwarden> "


class AdminConsole:
    """AdminConsole - `mailwarden console` on the appliance's serial port.

    Typed like a person at a terminal: characters and CR; the console
    echoes, so a command's output is what follows the echoed line up to
    the next prompt.  Kernel messages may interleave (they go to the same
    port); the checks look for their own text in the output."""

    def __init__(self, serial, user="admin", password="Qemu-Console-2015"):
        self.serial = serial
        self.user = user
        self.password = password
        self.first_boot = False
        self.in_setup = False
        self.banner = ""

    def _either(self, timeout):
        m = self.serial.expect(r"(New password: |Mailwarden login: )", timeout)
        return m.group(1) if m else None

    def login(self, timeout):
        """login - set the admin password if this is the first boot, then log in"""
        deadline = time.monotonic() + timeout
        # ^C abandons whatever prompt is up and makes the console ask again,
        # so a prompt printed before we started reading is not missed.
        seen = None
        while seen is None and time.monotonic() < deadline:
            self.serial.send("\x03")
            seen = self._either(min(10, max(1, deadline - time.monotonic())))
        if seen is None:
            return False
        if seen.startswith("New"):
            self.first_boot = True
            self.serial.send(self.password + "\r")
            if not self.serial.expect(r"Again: ", 30):
                return False
            self.serial.send(self.password + "\r")
            if not self.serial.expect(r"Password set", 60):
                return False
            if not self.serial.expect(r"Mailwarden login: ", 30):
                return False
        self.serial.send(self.user + "\r")
        if not self.serial.expect(r"Password: ", 30):
            return False
        self.serial.send(self.password + "\r")
        # the banner (unread alerts), then the prompt or, on an appliance
        # not set up yet, the guided set-up
        m = self.serial.expect(r"(Guided set-up|%s)" % re.escape(PROMPT), 120)
        if m is None:
            return False
        self.banner = m.string[:m.start()]
        self.in_setup = m.group(1) == "Guided set-up"
        return True

    def answer(self, question, text, timeout=120):
        """answer - wait for a question (regex), type text; the output up to the question, or None"""
        m = self.serial.expect(question, timeout)
        if m is None:
            return None
        self.serial.send(text + "\r")
        return m.string[:m.end()]

    def cmd_answer(self, line, question, text, timeout=120):
        """cmd_answer - a command that asks one question; its whole output"""
        self.serial.send(line + "\r")
        first = self.serial.expect(question, timeout)
        if first is None:
            raise TimeoutError("console: no %r after %r" % (question, line))
        self.serial.send(text + "\r")
        m = self.serial.expect(re.escape(PROMPT), timeout)
        if m is None:
            raise TimeoutError("console: no prompt after %r" % line)
        return first.string[:first.end()] + m.string[:m.start()]

    def paste(self, line, lines, timeout=120):
        """paste - a command that reads pasted lines up to "."; its output"""
        self.serial.send(line + "\r")
        if not self.serial.expect(r"Paste .*\n", timeout):
            raise TimeoutError("console: %r did not ask for the paste" % line)
        for l in lines:  # one at a time, each after the console echoed the last
            self.serial.send(l + "\r")
            if not self.serial.expect(re.escape(l[-40:]) if l else r"\n", 30):
                raise TimeoutError("console: pasted line not echoed: %r" % l)
        self.serial.send(".\r")
        m = self.serial.expect(re.escape(PROMPT), timeout)
        if m is None:
            raise TimeoutError("console: no prompt after the paste of %r" % line)
        return m.string[:m.start()]

    def cmd(self, line, timeout=120):
        """cmd - the output of one command line (without echo and prompt)"""
        self.serial.send(line + "\r")
        m = self.serial.expect(re.escape(PROMPT), timeout)
        if m is None:
            raise TimeoutError("console: no prompt after %r within %d s" % (line, timeout))
        out = m.string[:m.start()]
        return out.split("\n", 1)[1] if "\n" in out else out

    def block(self, sender):
        return self.cmd("block sender %s 0 qemu test" % sender)

    def unblock(self, sender):
        return self.cmd("unblock sender %s" % sender)

    def lockdown(self, level):
        return self.cmd("lockdown %d" % level)

    def quarantine_list(self, state="all", n=200):
        return self.cmd("quarantine list %s %d" % (state, n))

    def release(self, qid):
        return self.cmd("quarantine release %s" % qid)

    def track(self, word, value):
        return self.cmd("track %s %s" % (word, value))

    def logout(self):
        self.serial.send("logout\r")
        return self.serial.expect(r"Mailwarden login: ", 30) is not None


class ShellConsole:
    """ShellConsole - the test image's root shell on hvc0 (virtio console).

    Each command is bracketed by markers the shell prints (built so that
    the echoed command line never matches them), so kernel messages and
    the prompt do not matter."""

    def __init__(self, serial):
        self.serial = serial
        self.n = 0

    def login(self, timeout):
        # no login in the test image: wait until the shell answers
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                st, _ = self.run("true", timeout=5)
                if st == 0:
                    return True
            except TimeoutError:
                pass
        return False

    def run(self, cmd, timeout=60):
        """run - (exit status, output) of one shell command line"""
        self.n += 1
        tag = "MW%d" % self.n
        self.serial.send("echo __%s\"\"B__; %s; echo __%s\"\"E__ $?\n" % (tag, cmd, tag))
        if not self.serial.expect(r"__%sB__\n" % tag, timeout):
            raise TimeoutError("no start marker for: %s" % cmd)
        m = self.serial.expect(r"__%sE__ (\d+)\n" % tag, timeout)
        if not m:
            raise TimeoutError("command did not finish in %d s: %s" % (timeout, cmd))
        # m.string is the buffer as it was after the start marker
        return int(m.group(1)), m.string[:m.start()]

    def delivered(self, token, timeout=90):
        """delivered - the text of the sink file whose X-MW-Test header is
        token (alert mails name senders that contain tokens: not those)"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st, out = self.run("grep -l -F -- 'X-MW-Test: %s' /data/sink/msg.* 2>/dev/null | head -n 1" % token)
            path = out.strip()
            if path.startswith("/data/sink/"):
                st, text = self.run("cat '%s'" % path)
                return text
            time.sleep(2)
        return None

    def daemon_pid(self):
        st, out = self.run("pidof mailwardend")
        return out.strip() if st == 0 else None

    def log_grep(self, pattern):
        st, out = self.run("grep -F -- '%s' /var/log/mailwardend.log | tail -n 5" % pattern)
        return out.strip()

    def add_signature(self, name, line):
        # The README's offline update: copy a database into the signature
        # directory on /data, then SIGHUP.
        st, _ = self.run("printf '%%s\\n' '%s' > /var/lib/mailwarden/sigs/%s && "
                         "chown mailwarden: /var/lib/mailwarden/sigs/%s && "
                         "kill -HUP $(pidof mailwardend)" % (line, name, name))
        return st == 0


def smtp_send(port, mail_from, rcpts, data, timeout=120):
    """smtp_send - one transaction; returns dict of the replies per step.

    rcpt: list of (address, code); data: (code, text) or None when no
    recipient was accepted."""
    res = {"rcpt": [], "data": None}
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=timeout)
    try:
        s.ehlo()
        code, text = s.mail(mail_from)
        res["mail"] = (code, text.decode("latin-1"))
        ok = False
        for r in rcpts:
            code, text = s.rcpt(r)
            res["rcpt"].append((r, code, text.decode("latin-1")))
            ok = ok or code == 250
        if ok:
            try:
                code, text = s.data(data)
            except smtplib.SMTPDataError as e:
                code, text = e.smtp_code, e.smtp_error
            res["data"] = (code, text.decode("latin-1") if isinstance(text, bytes) else text)
        else:
            s.rset()
        s.quit()
    finally:
        s.close()
    return res


DEFAULT_PORT = 2625  # not `make run`'s 2525: both can run at once

RUN_USAGE = """Usage: scripts/qemu-run.sh [--port N] [--persist DIR] [IMAGE_DIR]

Boots the qemu-virt-arm64 appliance with its serial console (115200 8N1,
`mailwarden console`) on this terminal; Ctrl-A X quits QEMU, Ctrl-A C its
monitor.  IMAGE_DIR defaults to build/firmware/qemu-virt-arm64.

  --port N       forward 127.0.0.1:N to the appliance's SMTP port 25
                 (default %d; `make run`'s lab uses 2525).  Also SMTP_PORT.
  --persist DIR  keep the appliance: its data disk is a copy in DIR
                 (DIR/data.img, made from the image at the first run), so
                 the console password, settings, queue and quarantine
                 survive, and `reboot` reboots.  The root disk is the
                 image's, read-only (a rebuilt image is an upgrade).
                 Without it every run is a first boot (-snapshot) and
                 `reboot` or `poweroff` end QEMU.
  -h, --help     this text

Nothing but the SMTP forward leaves the emulated machine (user-mode
networking, restrict=on).  The test image's root shell is on a pty: QEMU
names it for 'sh0' (screen /dev/pts/N).
""" % DEFAULT_PORT


def interactive(argv):
    """interactive - boot with the serial port (the admin console) on this
    terminal and the test image's root shell on a pty (Ctrl-A X quits)"""
    port = int(os.environ.get("SMTP_PORT", str(DEFAULT_PORT)))
    persist = None
    image_dir = IMAGE_DIR
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(RUN_USAGE, end="")
            sys.exit(0)
        elif a in ("--port", "--persist") and i + 1 < len(argv):
            if a == "--port":
                port = int(argv[i + 1])
            else:
                persist = argv[i + 1]
            i += 2
            continue
        elif a.startswith("-"):
            print("qemu-run: unknown option %s\n%s" % (a, RUN_USAGE), file=sys.stderr, end="")
            sys.exit(2)
        else:
            image_dir = a
        i += 1
    if not 1 <= port <= 65535:
        print("qemu-run: --port is 1..65535", file=sys.stderr)
        sys.exit(2)
    data = None
    if persist:
        os.makedirs(persist, exist_ok=True)
        data = os.path.join(persist, "data.img")
        if not os.path.exists(data):
            subprocess.run(["cp", "--sparse=always", os.path.join(image_dir, "data.img"), data + ".new"],
                           check=True)
            os.rename(data + ".new", data)
            print("persistent appliance: new data disk %s (a first boot)" % data)
        else:
            print("persistent appliance: data disk %s" % data)
    print("SMTP forward: 127.0.0.1:%d -> guest :25; Ctrl-A X quits QEMU" % port)
    print("root shell: QEMU names the pty of 'sh0' below (screen /dev/pts/N)")
    os.execvp("qemu-system-aarch64", qemu_args(image_dir, port, "stdio", "pty,id=sh0", data=data))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        interactive(sys.argv[2:])
    print("usage: appliance.py run [--port N] [--persist DIR] [IMAGE_DIR]", file=sys.stderr)
    sys.exit(2)
