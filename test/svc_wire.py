"""svc_wire.py: wire helpers for the service end-to-end tests and benches.

COBS, postcard varints, sermux frames, the userspace request format and
the status service's replies, written from docs/services.md and
../shared/reference/mnemos-wire.md (independent of the C code under test).
"""

import os
import random
import socket
import subprocess
import time

STATUS_UUID = bytes.fromhex("1463b774ce294ea994c0c07056184c38")
REGISTRY_UUID = bytes.fromhex("d87d6ec12f8f460b83353aa3add16c11")


def cobs_encode(data):
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += b"\xff" + block
                block = bytearray()
    out += bytes([len(block) + 1]) + block
    return bytes(out)


def cobs_decode(data):
    out, i = bytearray(), 0
    while i < len(data):
        code = data[i]
        if code == 0 or i + code > len(data):
            raise ValueError("bad cobs")
        out += data[i + 1:i + code]
        i += code
        if code < 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def frame(port, payload):
    return cobs_encode(bytes([port & 0xFF, port >> 8]) + payload) + b"\x00"


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Dec:
    """A postcard cursor."""

    def __init__(self, b):
        self.b, self.i = b, 0

    def u8(self):
        self.i += 1
        return self.b[self.i - 1]

    def var(self):
        v = s = 0
        while True:
            b = self.u8()
            v |= (b & 0x7F) << s
            s += 7
            if not b & 0x80:
                return v

    def raw(self, n):
        self.i += n
        return self.b[self.i - n:self.i]

    def str(self):
        return self.raw(self.var()).decode()

    def left(self):
        return len(self.b) - self.i


def user_request(uuid, nonce, req):
    return b"\x10" + uuid + varint(nonce) + varint(len(req)) + req


def parse_reply(msg):
    """-> (uuid, nonce, ok, Dec over the body)."""
    d = Dec(msg)
    assert d.u8() == 0x10
    uuid = d.raw(16)
    nonce = d.var()
    ok = d.u8() == 0
    return uuid, nonce, ok, d


MUX_FIELDS = ["ports_open", "max_ports", "max_frame", "wire_rx_bytes",
              "wire_tx_bytes", "frames_rx", "frames_tx", "malformed",
              "oversized", "short_frames", "closed_port_frames",
              "closed_port_bytes"]
PORT_FIELDS = ["port", "capacity", "rx_frames", "rx_bytes", "rx_lost_frames",
               "rx_lost_bytes", "tx_frames", "tx_bytes"]


def decode_status(kind, d):
    """Decodes a status response body (after the Result byte)."""
    k = d.var()
    assert k == kind, (k, kind)
    if kind == 5:
        return {"tasks": d.var(), "services": d.var(), "switches": d.var()}
    if kind == 3:
        return {"id": d.var(), "name": d.str(), "state": d.u8(),
                "stack_size": d.var(), "stack_used": d.var(),
                "switches": d.var()}
    if kind in (6, 7):
        names = PORT_FIELDS if kind == 6 else MUX_FIELDS
        return {n: d.var() for n in names}
    raise ValueError(kind)


class Stream:
    """Reads COBS frames (ended by 00) from a socket."""

    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def frame(self, timeout=5.0):
        end = time.time() + timeout
        while b"\x00" not in self.buf:
            self.s.settimeout(max(0.01, end - time.time()))
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        f, self.buf = self.buf.split(b"\x00", 1)
        return f


class StatusClient:
    """Status requests over a byte stream of COBS frames (userbridge)."""

    def __init__(self, send, stream):
        self.send, self.stream, self.nonce = send, stream, 100

    def call(self, kind, arg=None):
        self.nonce += 1
        req = varint(kind) + (varint(arg) if arg is not None else b"")
        self.send(cobs_encode(user_request(STATUS_UUID, self.nonce, req)) + b"\x00")
        while True:
            uuid, nonce, ok, d = parse_reply(cobs_decode(self.stream.frame()))
            if nonce == self.nonce:
                break
        if not ok:
            return None
        return decode_status(kind, d)


def free_port():
    for _ in range(50):
        p = random.randint(20000, 60000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def free_base(n=16):
    """A base such that base..base+n-1 are all free."""
    for _ in range(50):
        base = random.randint(20000, 60000 - n)
        ok = True
        for p in range(base, base + n):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            return base
    raise RuntimeError("no free range")


def connect(port, timeout=5.0):
    end = time.time() + timeout
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except OSError:
            if time.time() > end:
                raise
            time.sleep(0.05)


def recv_until(sock, pred, timeout=5.0):
    end, buf = time.time() + timeout, b""
    while not pred(buf):
        left = end - time.time()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            d = sock.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
    return buf


def start(args, **kw):
    return subprocess.Popen(args, **kw)


def build_dir():
    return os.environ.get("O", "build/hosted")
