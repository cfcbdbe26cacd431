#!/usr/bin/env python3
"""sermux_e2e.py: end to end through the hosted kernel and mnemeterm.

Phase 1 (through mnemeterm's TCP bridges): loopback echo on port 0,
hello lines on port 1, pseudo-keyboard bytes on port 2 reaching a
keyboard subscriber (--key-echo 20, a port mnemeterm finds through status), tracing records decoded by
mnemeterm, status numbers (userbridge on port 4) consistent.
Phase 2 (raw connection, mnemeterm gone): every malformed frame class is
counted in status and the mux keeps working. Prints TAP lines.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc_wire as w  # noqa: E402
from mneme_host import Hosted, KernelGone, StepFailed  # noqa: E402

O = w.build_dir()
failed = 0


def check(ok, what):
    global failed
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    if not ok:
        failed += 1


def mux_status(st):
    mux = st.call(7)
    ports = []
    i = 0
    while True:
        p = st.call(6, i)
        if p is None:
            break
        ports.append(p)
        i += 1
    return mux, ports


def phase1(kport, base, term_out):
    # loopback: small, binary with zeros, larger than a frame
    s = w.connect(base + 0)
    for n, data in [("small", b"ping 123\n"),
                    ("zeros", bytes(300)),
                    ("5000 random bytes", os.urandom(5000))]:
        s.sendall(data)
        got = w.recv_until(s, lambda b, n=len(data): len(b) >= n)
        check(got == data, "loopback echo through the bridge: " + n)
    s.close()

    h = w.connect(base + 1)
    got = w.recv_until(h, lambda b: b.count(b"hello\r\n") >= 2, timeout=5)
    check(got.count(b"hello\r\n") >= 2, "hello lines arrive on port 1")
    h.close()

    # port 20 (key echo) is found through status and bridged (--ports auto)
    try:
        k = w.connect(base + 20, timeout=8)
    except OSError:
        k = None
    check(k is not None, "a port above 15 is discovered through status and bridged")
    if k is None:
        return
    # A loopback round trip through mnemeterm after k connected: by then
    # mnemeterm has accepted k too (it polls every listener each round).
    lb = w.connect(base + 0)
    lb.sendall(b"barrier")
    check(w.recv_until(lb, lambda b: b == b"barrier") == b"barrier",
          "loopback echoes after the key-echo bridge connected")
    lb.close()
    p = w.connect(base + 2)
    p.sendall(b"aB\r\x1b[A\x03\xc3\xa9")
    want = [("press", 0, 97, 0), ("release", 0, 97, 0),
            ("press", 0, 66, 1), ("release", 0, 66, 1),
            ("press", 1, 0, 0), ("release", 1, 0, 0),
            ("press", 9, 0, 0), ("release", 9, 0, 0),
            ("press", 0, 99, 2), ("release", 0, 99, 2),
            ("press", 0, 0xE9, 0), ("release", 0, 0xE9, 0)]
    got = w.recv_until(k, lambda b: b.count(b"\n") >= len(want))
    lines = [ln.split() for ln in got.decode().splitlines()]
    evs = []
    for ln in lines:
        f = dict(x.split("=") for x in ln[1:])
        evs.append((ln[0], int(f["code"]), int(f["ch"]), int(f["mods"])))
    check(evs == want, "pseudo-keyboard bytes reach a keyboard subscriber in order")
    if evs != want:
        print("#  got", evs)
    p.close()
    k.close()

    # status through the userspace bridge on port 4
    u = w.connect(base + 4)
    st = w.StatusClient(u.sendall, w.Stream(u))
    counts = st.call(5)
    tasks = []
    while True:
        t = st.call(3, len(tasks))
        if t is None:
            break
        tasks.append(t)
    check(counts is not None and counts["tasks"] == len(tasks),
          "status: task count matches the task list (%d)" % len(tasks))
    names = {t["name"] for t in tasks}
    check({"sermux", "sermux-rx", "loopback", "hello", "tracing", "kbdmux"} <= names,
          "status: the mux's tasks are listed")
    check(all(t["stack_used"] <= t["stack_size"] for t in tasks),
          "status: stack high-water marks within the stacks")
    mux, ports = mux_status(st)
    check(mux["ports_open"] == len(ports) and len(ports) >= 6,
          "status: ports_open (%d) matches the port list" % mux["ports_open"])
    byport = {p["port"]: p for p in ports}
    lb = byport.get(0, {})
    check(lb.get("rx_bytes") == 9 + 300 + 5000 + 7 and lb.get("tx_bytes") == lb.get("rx_bytes"),
          "status: loopback port counted every byte in and out")
    check(mux["malformed"] == 0 and mux["oversized"] == 0 and
          mux["short_frames"] == 0 and all(p["rx_lost_bytes"] == 0 for p in ports),
          "status: no malformed frames or losses in a clean run")
    check(mux["max_ports"] == 16 and mux["max_frame"] == 512,
          "status: mux limits from the configuration")
    # a frame for a port that is not open is counted
    c9 = w.connect(base + 9)
    c9.sendall(b"nobody listens")
    c9.close()
    deadline = time.time() + 3
    while time.time() < deadline:
        mux2, _ = mux_status(st)
        if mux2["closed_port_frames"] > mux["closed_port_frames"]:
            break
        time.sleep(0.05)
    check(mux2["closed_port_frames"] == mux["closed_port_frames"] + 1 and
          mux2["closed_port_bytes"] == mux["closed_port_bytes"] + 14,
          "status: a frame for a closed port is counted")
    u.close()


def phase2(kport):
    s = w.connect(kport)
    stream = w.Stream(s)
    st = w.StatusClient(s.sendall, stream)

    def reply_frames():
        # everything the kernel sends: keep only port 4 frames for status
        pass

    # Replace the stream with a demuxing one: port-4 payload -> COBS frames.
    class Port4:
        def __init__(self):
            self.buf = b""
            self.other = []

        def frame(self, timeout=5.0):
            end = time.time() + timeout
            while b"\x00" not in self.buf:
                f = stream.frame(max(0.01, end - time.time()))
                if not f:
                    continue
                d = w.cobs_decode(f)
                port = d[0] | d[1] << 8
                if port == 4:
                    self.buf += d[2:]
                else:
                    self.other.append((port, d[2:]))
            f, self.buf = self.buf.split(b"\x00", 1)
            return f

    p4 = Port4()
    st = w.StatusClient(lambda b: s.sendall(w.frame(4, b)), p4)
    before, _ = mux_status(st)
    bad = [
        (b"\x05\x01\x02\x00", "malformed"),            # block runs past the end
        (b"\x02\x04\x00", "short_frames"),             # 1 decoded byte
        (w.cobs_encode(b"\x04\x00") + b"\x00", "short_frames"),  # port only
        (w.frame(0, bytes(range(1, 256)) * 3), "oversized"),     # 767 > 512
        (w.frame(7, b"x"), "closed_port_frames"),
    ]
    for raw, _ in bad:
        s.sendall(raw)
    s.sendall(w.frame(0, b"still alive"))
    got = b""
    end = time.time() + 5
    while b"still alive" not in got and time.time() < end:
        try:
            p4.frame(0.2)
        except Exception:
            pass
        for port, d in p4.other:
            if port == 0:
                got += d
        p4.other = []
    check(b"still alive" in got, "loopback still echoes after malformed frames")
    after, ports = mux_status(st)
    mux = after
    # Port 4 carries these very requests: its i-th entry was read i + 1
    # requests after the mux totals.
    total = sum(p["rx_frames"] + p["rx_lost_frames"] - (i + 1 if p["port"] == 4 else 0)
                for i, p in enumerate(ports)) + mux["closed_port_frames"]
    check(total == mux["frames_rx"],
          "status: per-port frames add up to the mux's frames (%d, %d)"
          % (total, mux["frames_rx"]))
    if total != mux["frames_rx"]:
        print("#", mux, ports)
    for key in ["malformed", "short_frames", "oversized", "closed_port_frames"]:
        want = sum(1 for _, k in bad if k == key)
        check(after[key] - before[key] == want,
              "status: %s counted (%d)" % (key, after[key] - before[key]))
    s.close()


def main():
    base = w.free_base(24)
    klog = os.path.join("build", "test-logs", "sermux_e2e-kernel.log") \
        if os.path.isdir("build/test-logs") else None
    try:
        kern = Hosted("--key-echo", "20", "--log", "debug", heap="1M", log_path=klog)
    except (KernelGone, StepFailed) as e:
        check(False, "the kernel does not start: %s" % e)
        return 1
    kport = kern.port
    term_log = "build/sermux_e2e-term.out"
    try:
        with open(term_log, "w") as tout:
            term = w.start([O + "/mnemeterm", "tcp:127.0.0.1:%d" % kport, "-b", str(base),
                            "-i", "-1", "-l", "debug", "--color", "never",
                            "--stats"], stdout=tout, stderr=tout,
                           stdin=open(os.devnull))
            try:
                w.connect(base + 0).close()
                phase1(kport, base, term_log)
            finally:
                term.terminate()
                term.wait(5)
        out = open(term_log).read()
        check("tracing: host connected level=1" in out,
              "tracing: an event with fields decodes in mnemeterm")
        check("pseudo-kbd: -> publish{bytes=" in out and "span: <- #" in out,
              "tracing: span enter and exit decode")
        klines = b"".join(kern.lines).decode(errors="replace")
        check("sermux: port open port=1 capacity=1024" in klines,
              "tracing: text fallback on the console before the mux is up")
        check("trace_bad 0" in out and "trace_records 0" not in out,
              "tracing: every record decoded")
        check("mneme is up" in out, "tracing: kernel log lines arrive as Log records")
        phase2(kport)
        check(kern.alive(), "kernel still running")
    finally:
        kern.stop()
    if failed:
        print("# mnemeterm output:\n" + "".join("#  " + ln for ln in open(term_log).readlines()[-20:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
