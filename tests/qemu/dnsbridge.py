#!/usr/bin/python3
"""dnsbridge.py HOST PORT - one guest TCP connection (stdin/stdout, as
QEMU's guestfwd=...-cmd: gives it) to a DNS server's TCP port on the host.

QEMU's user network with restrict=on passes no UDP between guest and
host, and guestfwd forwards TCP only: the QEMU test serves its DNS zones
(tests/integration/dnslab.py, nsd on 127.0.0.1) to the appliance this way,
with [auth] resolver_tcp = yes on the guest (tests/qemu/run.py).  QEMU
starts one bridge per connection; it ends when either side closes."""
import os
import select
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    up = socket.create_connection((host, port), timeout=10)
    up.settimeout(None)
    fds = [0, up.fileno()]
    while True:
        r, _, _ = select.select(fds, [], [], 60)
        if not r:
            return 0  # idle a minute: the resolver gave the connection up
        if 0 in r:
            data = os.read(0, 65536)
            if not data:
                return 0
            up.sendall(data)
        if up.fileno() in r:
            data = up.recv(65536)
            if not data:
                return 0
            while data:
                n = os.write(1, data)
                data = data[n:]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, IndexError) as e:
        sys.stderr.write("dnsbridge: %s\n" % e)
        sys.exit(1)
