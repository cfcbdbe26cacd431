#!/usr/bin/env python3
"""net_latency.py: TCP connection set-up time and ping round trip through
virtio-net under QEMU (TCG), mneme beside Linux in the same QEMU
(bench/net_latency.sh prepares Linux).

Both guests get the same machine as bench/net_tcp.py (q35, -cpu max,
256 MiB, one virtio-net NIC on QEMU's user network, restrict=on) with a
host forward 127.0.0.1:PORT -> guest port 7000, and a filter-dump of the
NIC's frames.
  ping     the guest sends PINGS echo requests to the gateway 10.0.2.2
           one after another and reports each round trip by its own clock
           (mneme: PING-US; Linux: busybox ping -A);
  connect  the host connects CONNS times, one after another, into the
           guest's server on port 7000, which accepts and answers "x"
           (mneme: a TCP-LISTEN / TCP-ACCEPT loop; Linux: busybox
           nc -ll -e /bin/echo x, a fork and exec per connection). Two
           figures: from connect() on the host to the first byte back
           (slirp's handshake with the guest, the accept, the answer), and
           the guest's own handshake: from slirp's SYN to the guest's
           SYN-ACK in the dump (the TCP stack alone, no application).
Prints medians (and p90 for connections) and the mneme/Linux ratios of
the times: below 1 means mneme is faster.
"""
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "qemu"))
from qemu import Qemu  # noqa: E402

PINGS = int(os.environ.get("NET_LAT_PINGS", 50))
CONNS = int(os.environ.get("NET_LAT_CONNS", 50))
WARM = 3  # first connections left out (ARP, first-use paths)
IMAGE = os.environ.get("IMAGE", "build/x86_64/mneme.img")
LINUX = os.environ.get("LINUX_DIR", "build/bench/linux")
GPORT = 7000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def handshakes(pcap):
    """Guest handshake times (s) from a filter-dump: slirp's SYN to port
    GPORT -> the guest's SYN-ACK, matched by the host side's port."""
    data = open(pcap, "rb").read()
    off, syn, out = 24, {}, []
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        f = data[off + 16:off + 16 + incl]
        off += 16 + incl
        t = sec + usec / 1e6
        if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        ihl = (f[14] & 15) * 4
        tcp = f[14 + ihl:]
        if len(tcp) < 14:
            continue
        sp, dp = struct.unpack_from(">HH", tcp, 0)
        fl = tcp[13] & 0x3f
        if fl == 0x02 and dp == GPORT and sp not in syn:
            syn[sp] = t
        elif fl == 0x12 and sp == GPORT and dp in syn:
            out.append(t - syn.pop(dp))
    return out


def connects(port, n):
    """n connections one after another; seconds from connect() to the
    guest's first byte."""
    ts = []
    for i in range(n):
        t0 = time.perf_counter()
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        d = s.recv(1)
        t1 = time.perf_counter()
        s.close()
        if d != b"x":
            raise RuntimeError("connection %d: the guest answered %r, not b'x'" % (i, d))
        ts.append(t1 - t0)
    return ts[WARM:]


def machine(extra_front, port, pcap):
    return extra_front + [
        "-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:%d" % (port, GPORT),
        "-device", "virtio-net-pci,netdev=n0",
        "-object", "filter-dump,id=d0,netdev=n0,file=%s" % pcap]


def mneme(tmp):
    port, pcap = free_port(), os.path.join(tmp, "mneme.pcap")
    q = Qemu(IMAGE, 256, extra=machine([], port, pcap), timeout=900)
    try:
        q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=300)
        q.expect(rb"net: virtio-net0 address", timeout=120)
        q.write(b'S" 10.0.2.2" PING DROP\r')  # resolves the gateway (ARP)
        q.write(b': PINGS %d 0 DO ." P " S" 10.0.2.2" PING-US . LOOP ." PINGS-" ." DONE" CR ;\r'
                % PINGS)
        q.write(b': SRV %d TCP-LISTEN ." LAT-" ." READY" CR %d 0 DO DUP TCP-ACCEPT '
                b'S" x" 2 PICK TCP-WRITE TCP-CLOSE LOOP TCP-UNLISTEN ;\r' % (GPORT, CONNS))
        q.write(b'.\" BENCH-\" .\" READY\" CR\r')
        q.expect(rb"BENCH-READY", timeout=120)
        start = len(q.out)
        q.write(b"PINGS\r")
        end = q.expect(rb"PINGS-DONE", timeout=600, start=start).start()
        pings = [int(x) / 1e6 for x in re.findall(rb"P (-?\d+) ", q.out[start:end])]
        start = len(q.out)
        q.write(b"SRV\r")
        q.expect(rb"LAT-READY", timeout=120, start=start)
        conns = connects(port, CONNS)
    finally:
        q.close()
    return pings, conns, handshakes(pcap)[WARM:]


def linux(tmp):
    port, pcap = free_port(), os.path.join(tmp, "linux.pcap")
    q = Qemu(IMAGE, 256, timeout=900, extra=machine([
        "-kernel", os.path.join(LINUX, "vmlinuz"),
        "-initrd", os.path.join(LINUX, "initrd-latency.cpio"),
        "-append", "console=ttyS0 quiet bench_pings=%d" % PINGS], port, pcap))
    try:
        start = q.expect(rb"PINGS-START", timeout=300).end()
        end = q.expect(rb"PINGS-DONE", timeout=600, start=start).start()
        pings = [float(x) / 1e3 for x in re.findall(rb"time=([\d.]+) ms", q.out[start:end])]
        q.expect(rb"LAT-READY", timeout=120, start=end)
        conns = connects(port, CONNS)
    finally:
        q.close()
    return pings, conns, handshakes(pcap)[WARM:]


def check(name, pings, conns, hs):
    if len(pings) != PINGS or any(p < 0 for p in pings):
        raise RuntimeError("%s: %d of %d pings answered: %r" % (name, len(pings), PINGS, pings))
    if len(hs) != len(conns):
        raise RuntimeError("%s: %d handshakes in the dump, want %d" % (name, len(hs), len(conns)))


def main():
    tmp = tempfile.mkdtemp(prefix="mneme-netlat-")
    try:
        m = mneme(tmp)
        check("mneme", *m)
        lx = linux(tmp)
        check("linux", *lx)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ms = 1e3
    print("net.lat_pings %d" % PINGS)
    print("net.lat_connections %d" % (CONNS - WARM))
    print("net.ratio_reads mneme/linux time, below 1 = mneme faster")
    rows = [("ping_rtt_median_ms", pct(m[0], 50), pct(lx[0], 50)),
            ("connect_median_ms", pct(m[1], 50), pct(lx[1], 50)),
            ("connect_p90_ms", pct(m[1], 90), pct(lx[1], 90)),
            ("handshake_median_ms", pct(m[2], 50), pct(lx[2], 50)),
            ("handshake_p90_ms", pct(m[2], 90), pct(lx[2], 90))]
    for name, a, b in rows:
        print("net.mneme_%s %.3f" % (name, a * ms))
        print("net.linux_%s %.3f" % (name, b * ms))
        print("net.%s_ratio %.2f" % (name.replace("_ms", ""), a / b if b > 0 else float("inf")))


if __name__ == "__main__":
    main()
