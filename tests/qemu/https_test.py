#!/usr/bin/env python3
"""HTTPS from the Forth shell of mneme on x86_64 under QEMU, one boot: a
virtio-net NIC on QEMU's user network with restrict=on (nothing leaves the
host) and guestfwd to this test's servers on 127.0.0.1: 10.0.2.100:443 an
HTTPS server (ECDSA P-256 leaf under an intermediate of the test's own CA;
the certificate's DNS name is the literal "10.0.2.100", since the guest has
no DNS server of ours), 10.0.2.100:8443.. one server per bad certificate
of http_e2e.BAD, 10.0.2.100:8500 the good server again (for a new
connection), 10.0.2.100:80 plain HTTP redirecting to the first (QEMU names
guestfwd devices by port: one port each). Checks: TLS-TRUST adds the root,
HTTP-GET prints the page over TLS (time from the RTC, seed from the
entropy service), TLS-INFO, the redirect http -> https (on the kept-alive
connection), every bad
certificate (expired, not yet valid, wrong host name, unknown CA,
self-signed, missing intermediate, RSA-1024, SHA-1) refused with its
reason and a THROW, a server that sends garbage in the handshake
(10.0.2.100:8600) reported, an unset clock (SET-DATE to 1970) said so and the
server answering once it is set again, and the shell still answers."""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Qemu  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../test"))
import http_e2e  # noqa: E402  (make_certs-like helpers, serve)

IMAGE = os.environ.get("IMAGE", "build/x86_64/mneme.img")
PROMPT = rb" ok\r\n"
results = []
PAGE = http_e2e.PAGE


def tap(ok, what, detail=""):
    results.append(ok)
    print("%s - %s" % ("ok" if ok else "not ok", what))
    if detail and not ok:
        for line in str(detail).splitlines()[-12:]:
            print("#   " + line)
    sys.stdout.flush()


def command(q, line, timeout=60):
    start = len(q.out)
    q.write(line.encode() + b"\r")
    m = q.expect(PROMPT, timeout=timeout, start=start)
    return q.out[start:m.end()].decode(errors="replace")


def command_err(q, line, timeout=60):
    """A line that THROWs: output up to the THROW's line."""
    start = len(q.out)
    q.write(line.encode() + b"\r")
    m = q.expect(rb"THROW -?\d+\)?[^\r\n]*\r\n", timeout=timeout, start=start)
    return q.out[start:m.end()].decode(errors="replace")


def main():
    if not os.path.exists(IMAGE):
        print("not ok - no image %s (make image)" % IMAGE)
        return 1
    d = tempfile.mkdtemp(prefix="https_qemu.")
    http_e2e.make_certs(d, name="10.0.2.100")
    good = http_e2e.https_server(d, "good")
    bad = [(8443 + i, http_e2e.https_server(d, leaf, chain), why, what)
           for i, (leaf, chain, why, what) in enumerate(http_e2e.BAD)]
    fresh = http_e2e.https_server(d, "good")
    # QEMU's guestfwd does not pass a server's close on to the guest (the
    # guest would wait for its handshake timeout), so only "garbage" here;
    # http_e2e.py has the close and the stall in the hosted kernel.
    rude = [(8600 + i, http_e2e.rude_server(mode), why, what)
            for i, (mode, why, what) in enumerate(http_e2e.RUDE) if mode == "garbage"]
    plain = http_e2e.serve(None, redirect_to="https://10.0.2.100/moved")
    fwd = ",".join("guestfwd=tcp:%s-tcp:127.0.0.1:%d" % (a, p) for a, p in
                   [("10.0.2.100:443", good), ("10.0.2.100:8500", fresh), ("10.0.2.100:80", plain)] +
                   [("10.0.2.100:%d" % gp, p) for gp, p, _, _ in bad + rude])
    try:
        q = Qemu(IMAGE, 256, extra=["-netdev", "user,id=n0,restrict=on," + fwd,
                                    "-device", "virtio-net-pci,netdev=n0"], timeout=300)
    except Exception as e:  # noqa: BLE001
        tap(False, "QEMU starts", e)
        return 1
    try:
        q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=180)
        q.expect(rb"net: virtio-net0 address 10\.0\.2\.15", timeout=60)
        tap(True, "boots, DHCP lease on virtio-net0")
        command(q, "CREATE PEMBUF 4096 ALLOT  VARIABLE PEMLEN  0 PEMLEN !")
        command(q, ": +PEM ( c-addr u -- ) TUCK PEMBUF PEMLEN @ + SWAP MOVE PEMLEN +! "
                   "10 PEMBUF PEMLEN @ + C! 1 PEMLEN +! ;")
        for line in open(f"{d}/root.pem").read().strip().splitlines():
            command(q, f'S" {line}" +PEM')
        out = command(q, "PEMBUF PEMLEN @ TLS-TRUST .")
        tap(re.search(r"\b1\s+ok", out), "TLS-TRUST adds the test's root CA", out)
        out = command(q, 'S" https://10.0.2.100/" HTTP-GET .', timeout=120)
        tap(PAGE.decode().strip() in out and re.search(r"\b200\s+ok", out),
            "HTTP-GET over HTTPS (guestfwd) prints the page, status 200", out)
        out = command(q, "TLS-INFO")
        tap("TLS 1.2 ECDHE_ECDSA_WITH_" in out and "CN=10.0.2.100; expires 2045-01-01" in out,
            "TLS-INFO: version, suite, subject and expiry", out)
        out = command(q, 'S" http://10.0.2.100/old" HTTP-GET .', timeout=120)
        tap(PAGE.decode().strip() in out and re.search(r"\b200\s+ok", out),
            "http -> https redirect followed", out)
        out = command(q, "TLS-INFO")
        tap("connection: kept alive (reused)" in out,
            "the redirect's https request went on the kept-alive connection", out)
        for gp, _, why, what in bad:
            out = command_err(q, 'S" https://10.0.2.100:%d/" HTTP-GET .' % gp, timeout=120)
            tap(("HTTP-GET: " + why) in out and "-1029" in out,
                "%s: refused, '%s', THROW -1029" % (what, why), out)
        for gp, _, why, what in rude:
            out = command_err(q, 'S" https://10.0.2.100:%d/" HTTP-GET .' % gp, timeout=120)
            tap(("HTTP-GET: " + why) in out, "a server that %s in the handshake: '%s'" % (what, why), out)
        command(q, "0 0 0 1 1 1970 SET-DATE")
        out = command_err(q, 'S" https://10.0.2.100:8500/" HTTP-GET .', timeout=120)
        tap("HTTP-GET: TLS: the clock is not set" in out and "-1029" in out,
            "unset clock: 'TLS: the clock is not set', THROW -1029", out)
        command(q, http_e2e.set_date_now())
        out = command(q, 'S" https://10.0.2.100:8500/" HTTP-GET .', timeout=120)
        tap(PAGE.decode().strip() in out and re.search(r"\b200\s+ok", out),
            "clock set again: the same server prints the page, 200", out)
        out = command(q, "2 3 + .")
        tap(re.search(r"\b5\s+ok", out), "the shell still answers", out)
    except Exception as e:  # noqa: BLE001
        tap(False, "ended early", e)
    finally:
        q.close()
    print("# %d of %d passed" % (sum(1 for r in results if r), len(results)))
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
