#!/usr/bin/env python3
"""fwd_relay.py PORT: one guest connection of QEMU's user network, relayed
to 127.0.0.1:PORT on the host.

For `-netdev user,restrict=on,guestfwd=tcp:ADDR:P-cmd:python3 fwd_relay.py
PORT`: QEMU runs the command for each connection the guest opens to
ADDR:P, with that connection as its stdin and stdout. (The `tcp:` form of
guestfwd connects once when QEMU starts and carries every guest
connection over that one host connection, which a server that closes
after its answer, or TLS, cannot take.) Ends when either side closes."""
import os
import select
import socket
import sys


def main():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    fin, fout = 0, 1
    while True:
        r, _, _ = select.select([fin, s], [], [])
        if fin in r:
            d = os.read(fin, 65536)
            if not d:
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    return 0
                fin = -1
            else:
                s.sendall(d)
        if s in r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                return 0
            while d:
                n = os.write(fout, d)
                d = d[n:]
        if fin < 0:  # the guest has finished sending: only the answer left
            while True:
                try:
                    d = s.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    return 0
                while d:
                    d = d[os.write(fout, d):]


if __name__ == "__main__":
    sys.exit(main())
