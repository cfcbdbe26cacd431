#!/usr/bin/env python3
"""sermux_bench.py: serial mux throughput through the loopback port.

Runs the hosted kernel (--serial tcp) and measures, in one run:
  - echo throughput through mnemeterm's bridge (client -> 127.0.0.1:base+0
    -> mnemeterm -> kernel mux -> loopback -> back), MB/s of payload;
  - echo throughput with this script framing directly on the kernel's
    socket (no mnemeterm), MB/s: bound by Python's COBS, kept to show it;
  - the reference: a plain TCP echo server in this script, MB/s, and the
    ratios of both to it;
  - bytes on the wire per payload byte, each way, from the kernel's mux
    counters (status service) and mnemeterm's --stats, for full frames
    and for one-byte writes.
One figure per line: "name value unit".
"""

import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))
import svc_wire as w  # noqa: E402

O = w.build_dir()
TOTAL = int(os.environ.get("SERMUX_BENCH_BYTES", 8 << 20))
CHUNK = 16384


def echo_run(sock, total, frame_port=None, stream=None):
    """Sends total bytes, reads the echo; returns seconds."""
    data = os.urandom(CHUNK)
    got = [0]

    def reader():
        while got[0] < total:
            if stream is None:
                d = sock.recv(1 << 16)
                if not d:
                    break
                got[0] += len(d)
            else:
                f = stream.frame(10)
                d = w.cobs_decode(f)
                if (d[0] | d[1] << 8) == frame_port:
                    got[0] += len(d) - 2
    t = threading.Thread(target=reader)
    start = time.time()
    t.start()
    sent = 0
    while sent < total:
        n = min(CHUNK, total - sent)
        if frame_port is None:
            sock.sendall(data[:n])
        else:
            sock.sendall(b"".join(w.frame(frame_port, data[i:i + 256])
                                  for i in range(0, n, 256)))
        sent += n
    t.join(60)
    return time.time() - start, got[0]


def tcp_reference(total):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)

    def server():
        s, _ = ls.accept()
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            s.sendall(d)
        s.close()
    threading.Thread(target=server, daemon=True).start()
    c = socket.create_connection(ls.getsockname())
    secs, got = echo_run(c, total)
    c.close()
    return total / secs / 1e6


def mux_counters(base):
    u = w.connect(base + 4)
    st = w.StatusClient(u.sendall, w.Stream(u))
    m = st.call(7)
    ports = {}
    i = 0
    while True:
        p = st.call(6, i)
        if p is None:
            break
        ports[p["port"]] = p
        i += 1
    u.close()
    return m, ports


def main():
    kport = w.free_port()
    base = w.free_base(8)
    kern = subprocess.Popen([O + "/mneme", "--heap", "1M", "--serial", "tcp:%d" % kport,
                             "--log", "warn"], stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        # direct: the bench frames by itself on the kernel's socket
        s = w.connect(kport)
        secs, got = echo_run(s, TOTAL, frame_port=0, stream=w.Stream(s))
        s.close()
        direct = got / secs / 1e6
        print("sermux_echo_direct_python_framing %.2f MB/s" % direct)
        time.sleep(0.3)
        # through mnemeterm's bridge
        out = open("build/sermux_bench-term.out", "w")
        term = subprocess.Popen([O + "/mnemeterm", "tcp:127.0.0.1:%d" % kport, "-b", str(base),
                                 "-p", "0-7", "-i", "-1", "-q", "--stats"],
                                stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        c = w.connect(base + 0)
        m0, p0 = mux_counters(base)
        secs, got = echo_run(c, TOTAL)
        via = got / secs / 1e6
        print("sermux_echo_via_mnemeterm %.2f MB/s" % via)
        m1, p1 = mux_counters(base)
        # one-byte writes: the worst case for overhead
        for _ in range(200):
            c.sendall(b"x")
            w.recv_until(c, lambda b: len(b) >= 1, timeout=2)
        m2, p2 = mux_counters(base)
        c.close()
        term.terminate()
        term.wait(5)
        out.close()
        ref = tcp_reference(TOTAL)
        print("reference_tcp_echo_python %.2f MB/s" % ref)
        print("ratio_direct_vs_reference %.3f" % (direct / ref))
        print("ratio_mnemeterm_vs_reference %.3f" % (via / ref))
        # wire bytes per payload byte, loopback port, kernel side counters
        tx_payload = p1[0]["tx_bytes"] - p0[0]["tx_bytes"]
        tx_wire = m1["wire_tx_bytes"] - m0["wire_tx_bytes"]
        rx_payload = p1[0]["rx_bytes"] - p0[0]["rx_bytes"]
        rx_wire = m1["wire_rx_bytes"] - m0["wire_rx_bytes"]
        print("wire_per_payload_kernel_to_host %.4f bytes" % (tx_wire / tx_payload))
        print("wire_per_payload_host_to_kernel %.4f bytes" % (rx_wire / rx_payload))
        one_tx = (m2["wire_tx_bytes"] - m1["wire_tx_bytes"]) / (p2[0]["tx_bytes"] - p1[0]["tx_bytes"])
        print("wire_per_payload_one_byte_writes_with_other_ports %.4f bytes" % one_tx)
        print("wire_per_payload_one_byte_ideal %.4f bytes" % len(w.frame(0, b"x")))
        print("wire_per_payload_full_frame_ideal %.4f bytes" % (
            (len(w.frame(0, b"\x01" * 256))) / 256))
        lost = sum(p["rx_lost_bytes"] for p in p2.values())
        print("sermux_bytes_lost %d bytes" % lost)
    finally:
        kern.terminate()
        kern.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
