#!/usr/bin/env python3
"""End to end: boot the hosted kernel with its serial port on TCP, send
serialized userspace requests (mnemOS format) as COBS frames through the
userspace bridge on sermux port 4, and check the bytes of the replies.
TAP output."""
import os
import random
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mneme_host import O, Hosted, KernelGone, StepFailed  # noqa: E402
from mneme_wire import cobs_decode, cobs_encode, varint  # noqa: E402

STATUS = bytes.fromhex("1463b774ce294ea994c0c07056184c38")
REGISTRY = bytes.fromhex("d87d6ec12f8f460b83353aa3add16c11")
SERIAL = bytes.fromhex("f06aac0127734266868158 3ffe756554".replace(" ", ""))

n_ok = n_fail = 0


def check(cond, what):
    global n_ok, n_fail
    if cond:
        n_ok += 1
        print(f"ok - {what}")
    else:
        n_fail += 1
        print(f"not ok - {what}")





class Dec:
    def __init__(self, b):
        self.b, self.i = b, 0

    def u8(self):
        v = self.b[self.i]
        self.i += 1
        return v

    def var(self):
        v = s = 0
        while True:
            x = self.u8()
            v |= (x & 0x7F) << s
            s += 7
            if not x & 0x80:
                return v

    def raw(self, n):
        v = self.b[self.i:self.i + n]
        self.i += n
        return v

    def bytes_(self):
        return self.raw(self.var())


def request(uuid, nonce, body):
    return b"\x10" + uuid + varint(nonce) + varint(len(body)) + body


class Kernel:
    def __init__(self, heap="256K"):
        self.k = Hosted(heap=heap)  # waits until the kernel listens
        self.p = self.k.p
        self.s = self.k.connect()
        self.s.settimeout(1.0)  # waits below look at their deadline each second
        self.buf = b""
        self.wire = b""

    # The bridge's byte stream travels in sermux frames of port 4.
    def send_stream(self, data):
        for i in range(0, len(data), 200):
            self.s.sendall(cobs_encode(b"\x04\x00" + data[i:i + 200]) + b"\0")

    def send_frame(self, raw):
        self.send_stream(cobs_encode(raw) + b"\0")

    def recv_frame(self, timeout=10.0):
        deadline = time.time() + timeout
        while b"\0" not in self.buf:
            while b"\0" not in self.wire:
                if time.time() > deadline:  # other ports keep talking
                    raise EOFError("no reply on port 4 within %g s" % timeout)
                try:
                    chunk = self.s.recv(4096)
                except socket.timeout:
                    continue
                if not chunk:
                    raise EOFError("serial line closed: " + self.k.gone_message())
                self.wire += chunk
            frame, self.wire = self.wire.split(b"\0", 1)
            try:
                frame = cobs_decode(frame)
            except (IndexError, ValueError):
                continue
            if len(frame) > 2 and frame[0:2] == b"\x04\x00":
                self.buf += frame[2:]
        frame, self.buf = self.buf.split(b"\0", 1)
        return cobs_decode(frame)

    def call(self, uuid, nonce, body):
        self.send_frame(request(uuid, nonce, body))
        return self.recv_frame()

    def wait_ready(self, limit=20.0):
        """One ping, sent at once: the mux holds input until the bridge's
        port is open, so the first answer says the bridge is up."""
        self.send_frame(request(STATUS, 1, bytes([0, 1])))
        r = self.recv_frame(timeout=limit)
        if r != b"\x10" + STATUS + b"\x01\x00\x00\x01":
            raise EOFError(f"the bridge's first answer is wrong: {r!r}")

    def stop(self):
        self.s.close()
        self.k.stop()


def main():
    try:
        k = Kernel()
    except (KernelGone, StepFailed) as e:
        check(False, f"the kernel does not start: {e}")
        return 1
    try:
        k.wait_ready()
        check(True, "the bridge answers the first request, sent at once after connecting")
        # Ping(42): 10 uuid | nonce 5 | Ok | variant 0 | u32 42
        r = k.call(STATUS, 5, bytes([0, 42]))
        check(r == b"\x10" + STATUS + b"\x05\x00\x00\x2a", "ping reply bytes")
        r = k.call(STATUS, 300, bytes([0]) + varint(100000))
        check(r == b"\x10" + STATUS + b"\xac\x02\x00\x00" + varint(100000), "ping with multi-byte nonce and value")
        # Uptime
        d = Dec(k.call(STATUS, 6, bytes([1])))
        check(d.raw(17) == b"\x10" + STATUS and d.var() == 6 and d.u8() == 0 and d.var() == 1,
              "uptime reply header")
        up = d.var()
        check(0 < up < 60 * 10**9, f"uptime is plausible ({up} ns)")
        # Heap
        d = Dec(k.call(STATUS, 7, bytes([2])))
        d.raw(17), d.var(), d.u8(), d.var()
        total, in_use, free, largest, high, allocs, failed = [d.var() for _ in range(7)]
        check(200 * 1024 < total <= 256 * 1024, f"heap total matches --heap 256K ({total})")
        check(in_use + free == total and 0 < in_use <= high and largest <= free,
              "heap statistics are consistent")
        # Counts, tasks, services
        d = Dec(k.call(STATUS, 8, bytes([5])))
        d.raw(17), d.var(), d.u8(), d.var()
        ntasks, nsvc, switches = d.var(), d.var(), d.var()
        check(ntasks >= 5 and nsvc >= 2 and switches > 0, f"counts: {ntasks} tasks, {nsvc} services")
        names = []
        for i in range(ntasks):
            d = Dec(k.call(STATUS, 100 + i, bytes([3, i])))
            d.raw(17), d.var()
            if d.u8() != 0:
                break
            d.var()
            d.var()  # id
            names.append(d.bytes_().decode())
        check(names[:1] == ["boot"] and "status" in names and "serial-rx" in names,
              f"task list: {names}")
        r = k.call(STATUS, 9, bytes([3]) + varint(200))
        check(r == b"\x10" + STATUS + b"\x09\x01\x00", "no such task: service error NoSuchIndex")
        svcs = {}
        for i in range(nsvc):
            d = Dec(k.call(STATUS, 50 + i, bytes([4, i])))
            d.raw(17), d.var(), d.u8(), d.var()
            uid = d.bytes_()
            name = d.bytes_().decode()
            svcs[name] = (uid, d.u8())
        check(svcs.get("serial") == (SERIAL, 0) and svcs.get("status") == (STATUS, 1),
              "service list: serial kernel-only, status visible")
        # Errors from the kernel path keep the nonce.
        r = k.call(bytes(range(16)), 77, bytes([0, 1]))
        check(r == b"\x10" + REGISTRY + b"\x4d\x01\x00", "unknown UUID: UnknownService with nonce")
        r = k.call(SERIAL, 78, bytes([0]))
        check(r == b"\x10" + REGISTRY + b"\x4e\x01\x01", "kernel-only service: NotUserVisible")
        r = k.call(STATUS, 79, bytes([9]))
        check(r == b"\x10" + REGISTRY + b"\x4f\x01\x02", "undecodable request: Decode error")
        k.send_frame(b"\x10\x01\x02")
        r = k.recv_frame()
        check(r == b"\x10" + REGISTRY + b"\x00\x01\x04", "truncated message: Malformed")
        # Hostile bytes: random frames; each gets one reply; still alive.
        random.seed(1)
        for _ in range(200):
            k.send_frame(bytes(random.randrange(256) for _ in range(random.randrange(1, 60))))
            k.recv_frame()
        k.send_stream(b"\x05\x00\x00" + b"\xff" * 2000 + b"\0")  # bad COBS and an oversize frame
        r1, r2 = k.recv_frame(), k.recv_frame()
        check(r1[17:] == b"\x00\x01\x04" and r2[17:] == b"\x00\x01\x04", "bad COBS and oversize frames: Malformed")
        r = k.call(STATUS, 80, bytes([0, 7]))
        check(r == b"\x10" + STATUS + b"\x50\x00\x00\x07", "kernel still serves after hostile input")
        check(k.p.poll() is None, "kernel process still running")
    except (OSError, EOFError, IndexError) as e:
        check(False, f"exchange failed: {e}")
    finally:
        k.stop()
    # A heap too small to boot gets a clear error.
    p = subprocess.run([f"{O}/mneme", "--heap", "1K", "--serial", "none"], capture_output=True, timeout=10)
    check(p.returncode != 0 and b"too small" in p.stderr, "--heap 1K: clear error")
    p = subprocess.run([f"{O}/mneme", "--heap", "lots"], capture_output=True, timeout=10)
    check(p.returncode == 2 and b"usage" in p.stderr, "bad --heap value: usage")
    return 1 if n_fail else 0


sys.exit(main())
