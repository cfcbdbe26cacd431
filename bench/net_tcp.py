#!/usr/bin/env python3
"""net_tcp.py: TCP throughput through virtio-net under QEMU (TCG), mneme
beside Linux in the same QEMU (bench/net_tcp.sh prepares Linux).

Both guests get the same machine (q35, -cpu max, 256 MiB, one virtio-net
NIC on QEMU's user network with restrict=on) and reach two servers
through guestfwd (10.0.2.100:7777 and :7778; QEMU starts a server
process on the host for each connection):
  guest->host  the guest sends SIZE bytes to the sink; timed from the
               guest's start to the end of the stream at the sink;
  host->guest  the source sends SIZE bytes from the connection on; timed
               from the guest's start until it prints that it read all.
Prints MB/s for each and the mneme/Linux ratios.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "qemu"))
from qemu import Qemu  # noqa: E402

SIZE = int(os.environ.get("NET_BENCH_BYTES", 4 << 20))
IMAGE = os.environ.get("IMAGE", "build/x86_64/mneme.img")
LINUX = os.environ.get("LINUX_DIR", "build/bench/linux")


HELPER = r"""
import os, sys, time
mode, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.time()
if mode == "sink":
    n, first = 0, None
    while True:
        d = os.read(0, 1 << 16)
        if not d:
            break
        if first is None:
            first = time.time()
        n += len(d)
    open(out, "w").write("%d %f %f" % (n, first or t0, time.time()))
else:
    buf = bytes(range(256)) * 256
    left = size
    while left:
        k = os.write(1, buf[:min(left, len(buf))])
        left -= k
"""


class Servers:
    """The two servers, spawned by QEMU for each guest connection
    (guestfwd ... -cmd:), report through files."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mneme-netbench-")
        self.helper = os.path.join(self.dir, "helper.py")
        open(self.helper, "w").write(HELPER)
        self.sink_out = os.path.join(self.dir, "sink")
        self.src_out = os.path.join(self.dir, "source")

    def netdev(self):
        return ("user,id=n0,restrict=on,"
                "guestfwd=tcp:10.0.2.100:7777-cmd:python3 %s sink %d %s,"
                "guestfwd=tcp:10.0.2.100:7778-cmd:python3 %s source %d %s"
                % (self.helper, SIZE, self.sink_out, self.helper, SIZE, self.src_out))

    def sink_result(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                n, _, last = open(self.sink_out).read().split()
                return int(n), float(last)
            except (OSError, ValueError):
                time.sleep(0.1)
        raise TimeoutError("the sink did not see the end of the stream")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def run(q, srv, send_cmd, recv_cmd, ready, sent_done, recv_done):
    """Returns (guest->host MB/s, host->guest MB/s). Each time runs from
    when the guest starts (the command sent to mneme's shell, the line
    the Linux guest prints before it starts) to the sink's end of stream
    or the guest's line saying it read everything; both include the TCP
    handshake."""
    q.expect(ready, timeout=300)
    t_send = time.time()
    start = len(q.out)
    if send_cmd:
        q.write(send_cmd)
    q.expect(sent_done, timeout=600, start=start)
    t_recv = time.time()
    n, last = srv.sink_result(float(os.environ.get("NET_BENCH_WAIT", 600)))
    if n != SIZE:
        raise RuntimeError("sink got %d bytes, want %d" % (n, SIZE))
    up = n / (last - t_send) / 1e6
    start = len(q.out)
    if recv_cmd:
        t_recv = time.time()
        q.write(recv_cmd)
    m = q.expect(recv_done, timeout=600, start=start)
    t_end = time.time()
    got = int(m.group(1))
    if got != SIZE:
        raise RuntimeError("guest read %d bytes, want %d" % (got, SIZE))
    down = SIZE / (t_end - t_recv) / 1e6
    return up, down


def mneme():
    srv = Servers()
    q = Qemu(IMAGE, 256, extra=["-netdev", srv.netdev(), "-device", "virtio-net-pci,netdev=n0"],
             timeout=900)
    try:
        q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=300)
        q.expect(rb"net: virtio-net0 address", timeout=120)
        blocks = SIZE // 16384
        q.write(b"CREATE B 16384 ALLOT\r")
        q.write(b": SEND S\" 10.0.2.100\" 7777 TCP-OPEN  %d 0 DO B 16384 2 PICK TCP-WRITE LOOP "
                b"TCP-CLOSE .\" SENT-DONE\" CR ;\r" % blocks)
        q.write(b": RECV S\" 10.0.2.100\" 7778 TCP-OPEN 0 BEGIN B 16384 3 PICK TCP-READ DUP WHILE + "
                b"REPEAT DROP .\" READ \" . .\" BYTES\" CR TCP-CLOSE ;\r")
        q.write(b".\" BENCH-\" .\" READY\" CR\r")
        return run(q, srv, b"SEND\r", b"RECV\r", rb"BENCH-READY", rb"SENT-DONE",
                   rb"READ (\d+) BYTES")
    finally:
        q.close()
        srv.close()


def linux():
    srv = Servers()
    kernel = os.path.join(LINUX, "vmlinuz")
    initrd = os.path.join(LINUX, "initrd.cpio")
    q = Qemu(IMAGE, 256, timeout=900, extra=[
        "-kernel", kernel, "-initrd", initrd,
        "-append", "console=ttyS0 quiet bench_bytes=%d" % SIZE,
        "-netdev", srv.netdev(), "-device", "virtio-net-pci,netdev=n0"])
    try:
        return run(q, srv, None, None, rb"BENCH-READY", rb"SENT-DONE", rb"READ (\d+) BYTES")
    finally:
        q.close()
        srv.close()


def main():
    m_up, m_down = mneme()
    l_up, l_down = linux()
    mb = SIZE / 1e6
    print("net.tcp_bytes %d" % SIZE)
    print("net.mneme_guest_to_host_MBps %.2f" % m_up)
    print("net.linux_guest_to_host_MBps %.2f" % l_up)
    print("net.guest_to_host_ratio %.2f" % (m_up / l_up))
    print("net.mneme_host_to_guest_MBps %.2f" % m_down)
    print("net.linux_host_to_guest_MBps %.2f" % l_down)
    print("net.host_to_guest_ratio %.2f" % (m_down / l_down))
    del mb


if __name__ == "__main__":
    main()
