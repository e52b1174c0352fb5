"""appliance.py - boot the qemu-virt-arm64 firmware image and talk to it.

Machine    qemu-system-aarch64 -M virt (TCG) with the image from
           `make firmware BOARD=qemu-virt-arm64`, -snapshot (the image files
           never change), user-mode networking with restrict=on and one
           forward 127.0.0.1:PORT -> guest :25, the serial port on a unix
           socket (and copied to serial.log).  Stopped by its PID, always.
Serial     reads and writes the serial socket with bounded waits.
Console    what the tests need from the appliance's console.  ShellConsole
           drives the root shell of the test image; issue 7's
           `mailwarden console` gets its own class with the same methods
           (login, block, lockdown, quarantine_list, release, ...), and
           tests/qemu/run.py does not change.
smtp_send  one SMTP transaction that records the reply to every step.

Standard library only.  `python3 tests/qemu/appliance.py run [DIR]` boots
the image with the serial port on this terminal (scripts/qemu-run.sh).
"""
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


def qemu_args(image_dir, smtp_port, serial):
    """qemu_args - the command line; serial is a chardev spec or 'stdio'"""
    with open(os.path.join(image_dir, "cmdline")) as f:
        cmdline = f.read().strip()
    args = [
        "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57",
        "-smp", os.environ.get("QEMU_SMP", "2"), "-m", os.environ.get("QEMU_MEM", "1024"),
        "-accel", "tcg,thread=multi",
        "-kernel", os.path.join(image_dir, "vmlinuz"),
        "-initrd", os.path.join(image_dir, "initrd.img"),
        "-append", cmdline,
        "-drive", "if=none,id=root,format=raw,file=" + os.path.join(image_dir, "rootfs.img"),
        "-device", "virtio-blk-device,drive=root",
        "-drive", "if=none,id=data,format=raw,file=" + os.path.join(image_dir, "data.img"),
        "-device", "virtio-blk-device,drive=data",
        "-netdev", "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:25" % smtp_port,
        "-device", "virtio-net-device,netdev=net0",
        "-device", "virtio-rng-device",
        "-snapshot", "-no-reboot", "-display", "none",
    ]
    if serial == "stdio":
        args += ["-serial", "mon:stdio"]
    else:
        args += ["-chardev", serial, "-serial", "chardev:ser0", "-monitor", "none"]
    return args


class Machine:
    """Machine - one QEMU process, started and stopped by PID"""

    def __init__(self, image_dir, workdir):
        self.image_dir = image_dir
        self.workdir = workdir
        self.smtp_port = free_port()
        self.sock_path = os.path.join(workdir, "serial.sock")
        self.serial_log = os.path.join(workdir, "serial.log")
        self.qemu_log = os.path.join(workdir, "qemu.log")
        self.proc = None
        self.started = None

    def start(self):
        for p in (self.sock_path,):
            if os.path.exists(p):
                os.unlink(p)
        chardev = "socket,id=ser0,path=%s,server=on,wait=on,logfile=%s" % (self.sock_path, self.serial_log)
        args = qemu_args(self.image_dir, self.smtp_port, chardev)
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

    def _fill(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("serial port closed (QEMU exited?)")
        text = data.decode("utf-8", "replace").replace("\r", "")
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


class Console:
    """Console - what the system test asks of the appliance's console.

    Methods that the current console cannot do raise NotImplementedError;
    run.py reports those checks as skipped."""

    def login(self, timeout):
        raise NotImplementedError

    def delivered(self, token, timeout):
        """the delivered copy of the message carrying token, or None"""
        raise NotImplementedError

    def daemon_pid(self):
        raise NotImplementedError

    def log_grep(self, pattern):
        raise NotImplementedError

    def add_signature(self, name, line):
        """install a signature file offline and make the daemon reload"""
        raise NotImplementedError

    def track(self, token):
        raise NotImplementedError

    def block(self, sender):
        raise NotImplementedError

    def lockdown(self, on):
        raise NotImplementedError

    def quarantine_list(self):
        raise NotImplementedError

    def release(self, qid):
        raise NotImplementedError


class ShellConsole(Console):
    """ShellConsole - the test image's root shell on ttyAMA0.

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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st, out = self.run("grep -l -F -- '%s' /data/sink/msg.* 2>/dev/null | head -n 1" % token)
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


def interactive(image_dir):
    """interactive - boot with the serial port on this terminal (Ctrl-A X quits)"""
    port = int(os.environ.get("SMTP_PORT", "2525"))
    print("SMTP forward: 127.0.0.1:%d -> guest :25; Ctrl-A X quits QEMU" % port)
    os.execvp("qemu-system-aarch64", qemu_args(image_dir, port, "stdio"))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        interactive(sys.argv[2] if len(sys.argv) > 2 else IMAGE_DIR)
    print("usage: appliance.py run [IMAGE_DIR]", file=sys.stderr)
    sys.exit(2)
