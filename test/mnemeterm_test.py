#!/usr/bin/env python3
"""mnemeterm_test.py: mnemeterm against fake targets (TAP output).

A TCP target, a unix socket and a pty (as QEMU -serial pty gives) send
boot text, frames and a panic interleaved; mnemeterm must print the text
lines, bridge frames to 127.0.0.1:base+port, send bridge input and stdin
back as frames cut at max_frame/2, ask for the tracing level, and survive
garbage.
"""

import os
import pty
import tty
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svc_wire as w  # noqa: E402

O = w.build_dir()
BIN = bytes(range(256)) + bytes(range(254))  # 510: a full 512-byte frame
failed = 0


def check(ok, what):
    global failed
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    if not ok:
        failed += 1


def read_frames(data):
    """Splits host-to-target bytes into (port, payload) frames."""
    out = []
    for f in data.split(b"\x00")[:-1]:
        d = w.cobs_decode(f)
        out.append((d[0] | d[1] << 8, d[2:]))
    return out


class Target:
    """The target side: send() and recv() over some byte channel."""

    def __init__(self, send, recv):
        self.send, self.recv = send, recv
        self.got = b""

    def collect(self, pred, timeout=5):
        end = time.time() + timeout
        while not pred(self.got) and time.time() < end:
            d = self.recv(0.1)
            if d:
                self.got += d


def run_case(name, target_spec, target_factory, extra=()):
    base = w.free_base(8)
    outp = "build/mnemeterm_test-%s.out" % name
    with open(outp, "w") as out:
        r, wr = os.pipe()
        term = subprocess.Popen([O + "/mnemeterm", target_spec, "-b", str(base), "-p", "0-7",
                                 "-i", "2", "--color", "never", "--stats"] + list(extra),
                                stdout=out, stderr=out, stdin=r)
        os.close(r)
        try:
            t = target_factory()
            # a target that has not spoken sermux hears nothing from us
            t.send(b"firmware: hello\r\n")
            t.collect(lambda g: len(g) > 0, timeout=0.7)
            check(t.got == b"", name + ": sends nothing before the target sends a frame")
            # mnemeterm accepts bridge clients before it reads the target,
            # so these two get what the target sends after they connected.
            c1 = w.connect(base + 1)
            c5 = w.connect(base + 5)
            t.send(b"boot: mneme starting\r\n" + w.frame(1, b"hello\r\n") +
                   b"early text " + w.frame(5, BIN) +
                   b"\x00\x00" + b"\x05\x01\x00" + b"panic: oops\n" + w.frame(1, b"more"))
            got1 = w.recv_until(c1, lambda b: b == b"hello\r\nmore")
            t.collect(lambda g: any(q == 3 for q, _ in read_frames(g)))
            lv = [p for q, p in read_frames(t.got) if q == 3]
            check(lv and w.cobs_decode(lv[0][:-1]) == b"\x00\x02",
                  name + ": then asks for the tracing level on port 3")
            check(got1 == b"hello\r\nmore", name + ": frames bridged to base+1 in order")
            got5 = w.recv_until(c5, lambda b: len(b) >= len(BIN))
            check(got5 == BIN, name + ": binary frame bridged to base+5")
            # bridge input and stdin become frames
            c5.sendall(b"x" * 600)
            os.write(wr, b"typed\n")
            t.collect(lambda g: sum(len(p) for q, p in read_frames(g) if q == 5) >= 600
                      and any(q == 2 for q, _ in read_frames(g)))
            fr = read_frames(t.got)
            p5 = [p for q, p in fr if q == 5]
            check(b"".join(p5) == b"x" * 600 and max(len(p) for p in p5) <= 256,
                  name + ": bridge input sent as frames of at most 256 bytes")
            check(b"".join(p for q, p in fr if q == 2) == b"typed\n",
                  name + ": stdin sent to port 2")
            c1.close()
            c5.close()
        finally:
            term.terminate()
            term.wait(5)
            os.close(wr)
    text = open(outp, errors="replace").read()
    check("firmware: hello" in text and "boot: mneme starting" in text and "panic: oops" in text and "early text" in text,
          name + ": text lines printed")
    check("malformed 1" in text, name + ": a bad frame is counted")
    if failed:
        print("# " + text.replace("\n", "\n# "))


def tcp_case():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = w.free_port()
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    holder = {}

    def factory():
        ls.settimeout(5)
        s, _ = ls.accept()
        holder["s"] = s
        return Target(s.sendall, lambda to: recv_sock(s, to))
    run_case("tcp", "tcp:127.0.0.1:%d" % port, factory)
    ls.close()


def recv_sock(s, to):
    s.settimeout(to)
    try:
        return s.recv(65536)
    except socket.timeout:
        return b""


def unix_case():
    path = "/tmp/mnemeterm-test-%d.sock" % os.getpid()
    if os.path.exists(path):
        os.unlink(path)
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(1)

    def factory():
        ls.settimeout(5)
        s, _ = ls.accept()
        return Target(s.sendall, lambda to: recv_sock(s, to))
    run_case("unix", "unix:" + path, factory)
    ls.close()
    os.unlink(path)


def pty_case():
    master, slave = pty.openpty()
    tty.setraw(slave)  # as QEMU's -serial pty leaves it
    name = os.ttyname(slave)
    import select

    def recv(to):
        r, _, _ = select.select([master], [], [], to)
        return os.read(master, 65536) if r else b""

    def send(b):
        while b:
            n = os.write(master, b)
            b = b[n:]
    run_case("pty", name, lambda: Target(send, recv))
    os.close(slave)
    os.close(master)


def main():
    tcp_case()
    unix_case()
    pty_case()
    # exec: the hosted kernel as a child, its stdin/stdout the line
    r = subprocess.run([O + "/mnemeterm", "exec:%s/mneme --heap 1M --serial stdio" % O,
                        "-b", "0", "-i", "-1", "-s", "1", "--color", "never",
                        "--exit-after", "5"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=20)
    check("[1] hello" in r.stdout and "tracing: host connected level=2" in r.stdout,
          "exec: runs the hosted kernel on a socket pair and shows its ports")
    h = subprocess.run([O + "/mnemeterm", "--help"], capture_output=True, text=True)
    check(h.returncode == 0 and "--trace-level" in h.stdout, "--help describes the options")
    bad = subprocess.run([O + "/mnemeterm", "--bogus", "x"], capture_output=True)
    check(bad.returncode == 2, "an unknown option is refused")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
