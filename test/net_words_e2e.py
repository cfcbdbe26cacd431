#!/usr/bin/env python3
"""End to end: the network words of the Forth shell on the hosted kernel
with --net slirp. The test runs its own servers on 127.0.0.1 (a TCP echo
server and a DNS server; slirp's host address 10.0.2.2 reaches them) and
points mneme's DNS at its own server through [services.net]: no traffic
leaves the machine. Drives the console shell (--serial none) over
stdin/stdout and checks NET, PING, RESOLVE, TCP-OPEN/WRITE/READ/CLOSE,
NETSTAT, errors as THROW codes with their text, STATUS, and
TCP-LISTEN/TCP-ACCEPT/TCP-UNLISTEN through a slirp host forward (the test
connects into mneme). TAP output."""
import os
import re
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time

O = os.environ.get("O", "build/hosted")
TIMEOUT = float(os.environ.get("NET_TIMEOUT", "20"))
n_ok = n_fail = 0


def check(cond, what):
    global n_ok, n_fail
    if cond:
        n_ok += 1
        print(f"ok - {what}", flush=True)
    else:
        n_fail += 1
        print(f"not ok - {what}", flush=True)


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(4096)
            if not d:
                return
            self.request.sendall(d.upper())


class Reset(socketserver.BaseRequestHandler):
    """Sends a little, waits for a byte (the client is reading), then
    resets the connection (SO_LINGER 0)."""
    def handle(self):
        self.request.sendall(b"r" * 1000)
        self.request.recv(1)
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.request.close()


class Bye(socketserver.BaseRequestHandler):
    """Says bye and closes (FIN)."""
    def handle(self):
        self.request.sendall(b"bye")


class TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def dns_server(sock):
    """*.ok.test -> 10.0.2.2, silent.test never answered, anything else
    NXDOMAIN."""
    while True:
        try:
            q, addr = sock.recvfrom(512)
        except OSError:
            return
        if len(q) < 12:
            continue
        p, labels = 12, []
        while p < len(q) and q[p]:
            labels.append(q[p + 1:p + 1 + q[p]].decode("latin1"))
            p += 1 + q[p]
        end = p + 5
        name = ".".join(labels)
        if name == "silent.test":
            continue
        ok = name.endswith(".ok.test")
        r = bytearray(q[:end])
        r[2], r[3] = 0x81, 0x80 if ok else 0x83
        r[6:12] = struct.pack(">HHH", 1 if ok else 0, 0, 0)
        if ok:
            r += bytes([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 2, 2])
        sock.sendto(bytes(r), addr)


class Shell:
    def __init__(self, config, fwd_port=None):
        net = f"slirp,hostfwd={fwd_port}:8080" if fwd_port else "slirp"
        self.p = subprocess.Popen([f"{O}/mneme", "--serial", "none", "--net", net,
                                   "--config", config],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.cv = threading.Condition()
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        while True:
            d = self.p.stdout.read1(4096)
            with self.cv:
                if not d:
                    self.buf += b"\n<EOF>"
                    self.cv.notify_all()
                    return
                self.buf += d
                self.cv.notify_all()

    def expect(self, pattern, timeout=TIMEOUT):
        """Waits for pattern in the output; returns the match and eats up to it."""
        rx = re.compile(pattern.encode())
        end = time.time() + timeout
        with self.cv:
            while True:
                m = rx.search(self.buf)
                if m:
                    self.buf = self.buf[m.end():]
                    return m
                left = end - time.time()
                if left <= 0 or self.buf.endswith(b"<EOF>"):
                    return None
                self.cv.wait(left)

    def cmd(self, line, pattern=r" ok\n", timeout=TIMEOUT):
        """Sends a line; waits for pattern (\n in it matches \r\n too)."""
        pattern = pattern.replace(r"\n", r"\r?\n")
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()
        return self.expect(pattern, timeout)

    def close(self):
        try:
            self.p.stdin.write(b"BYE\n")
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def main():
    echo = TCP(("127.0.0.1", 0), Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    echo_port = echo.server_address[1]
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 0))
    threading.Thread(target=dns_server, args=(dns,), daemon=True).start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    fwd = socket.socket()
    fwd.bind(("127.0.0.1", 0))
    fwd_port = fwd.getsockname()[1]
    fwd.close()

    reset = TCP(("127.0.0.1", 0), Reset)
    threading.Thread(target=reset.serve_forever, daemon=True).start()
    reset_port = reset.server_address[1]
    bye = TCP(("127.0.0.1", 0), Bye)
    threading.Thread(target=bye.serve_forever, daemon=True).start()

    with open("config/hosted.toml") as f:
        base = f.read()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    cfg.write(base + f'\n[services.net]\ndhcp = true\ndns = ["10.0.2.2:{dns.getsockname()[1]}"]\n')
    cfg.close()
    # a static address and no gateway: the subnet only
    static = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    static.write(base + '\n[services.net]\ndhcp = false\naddress = "10.0.2.16"\n'
                 f'netmask = "255.255.255.0"\ndns = ["10.0.2.2:{dns.getsockname()[1]}"]\n')
    static.close()
    sh = Shell(cfg.name, fwd_port)
    try:
        # the lease: the log says when the address is there
        check(sh.expect(r"net: slirp0 address 10\.0\.2\.15 gateway 10\.0\.2\.2 \(dhcp\)")
              is not None, "DHCP lease from slirp")
        m = sh.cmd("NET", r"(?s)(slirp0:.*?) ok\n")
        out = m.group(1).decode() if m else ""
        check("inet 10.0.2.15 netmask 255.255.255.0 gateway 10.0.2.2 (dhcp, lease" in out,
              f"NET shows the lease: {out!r}")
        check(re.search(r"dns 10\.0\.2\.2 ", out) is not None, "NET shows our DNS server")
        m = sh.cmd('S" 10.0.2.2" PING .', r"(-?\d+)  ok\n")
        check(m is not None and int(m.group(1)) >= 0, "PING the gateway answers")
        m = sh.cmd('S" 10.0.2.2" PING-US .', r"(-?\d+)  ok\n")
        check(m is not None and int(m.group(1)) > 0, "PING-US the gateway answers in microseconds")
        m = sh.cmd('S" echo.ok.test" RESOLVE', r"echo\.ok\.test: (\S+)\n ok\n")
        check(m is not None and m.group(1) == b"10.0.2.2", "RESOLVE an A record")
        m = sh.cmd('S" nope.test" RESOLVE', r"nope\.test: ([^\r\n]*)\n ok\n")
        check(m is not None and m.group(1) == b"name not found", "RESOLVE NXDOMAIN")
        check(sh.cmd(f'S" echo.ok.test" {echo_port} TCP-OPEN CONSTANT H') is not None,
              "TCP-OPEN by name")
        check(sh.cmd('S" hello, host" H TCP-WRITE') is not None, "TCP-WRITE")
        m = sh.cmd("PAD 100 H TCP-READ PAD SWAP TYPE CR", r"([^\r\n]*)\n ok\n")
        check(m is not None and m.group(1) == b"HELLO, HOST", "TCP-READ gets the echo")
        m = sh.cmd("NETSTAT", r"(?s)malformed replies: dhcp (\d+), dns (\d+)\n(local.*?connections?)\n ok\n")
        check(m is not None and re.search(rf"10\.0\.2\.2:{echo_port} +ESTABLISHED".encode(),
                                          m.group(3)) is not None, "NETSTAT lists it")
        check(m is not None and m.group(1) == b"0" and m.group(2) == b"0",
              "NETSTAT counts malformed DHCP and DNS replies (none from slirp and our server)")
        check(sh.cmd("H TCP-CLOSE") is not None, "TCP-CLOSE")
        m = sh.cmd(f'S" 10.0.2.2" {closed_port} TCP-OPEN', r"TCP-OPEN: ([^\r\n]*)\n")
        check(m is not None and m.group(1) == b"connection refused (THROW -1024)",
              f"refused: THROW with its text ({m.group(1) if m else None!r})")
        m = sh.cmd('S" nope.test" 80 TCP-OPEN', r"TCP-OPEN: ([^\r\n]*)\n")
        check(m is not None and m.group(1) == b"name not found (THROW -1027)",
              "unknown name: THROW with its text")
        m = sh.cmd(f'S" 10.0.2.2" {bye.server_address[1]} TCP-OPEN CONSTANT B  '
                   'PAD 100 B TCP-READ . PAD 100 B TCP-READ . B TCP-CLOSE', r"(-?\d+) (-?\d+)  ok\n")
        check(m is not None and m.groups() == (b"3", b"0"),
              f"TCP-READ: the server's bytes, then 0 at the end of the stream ({m and m.groups()!r})")
        m = sh.cmd('S" silent.test" RESOLVE', r"silent\.test: ([^\r\n]*)\n ok\n")
        check(m is not None and m.group(1) == b"timed out",
              f"RESOLVE a name the DNS server never answers: timed out ({m and m.group(1)!r})")
        # the server sends 1000 bytes and resets: reading on reaches the reset
        sh.cmd(f'S" 10.0.2.2" {reset_port} TCP-OPEN CONSTANT R  PAD 100 R TCP-READ DROP')
        sh.cmd('S" !" R TCP-WRITE')
        m = sh.cmd(": DRAIN BEGIN PAD 100 R TCP-READ 0= UNTIL ; DRAIN",
                   r"(DRAIN: [^\r\n]*|TCP-READ: [^\r\n]*| ok)\n")
        check(m is not None and m.group(1).endswith(b"connection reset by peer (THROW -1025)"),
              f"a reset reaches TCP-READ as a THROW with its text ({m and m.group(1)!r})")
        sh.cmd("R TCP-CLOSE")
        m = sh.cmd("STATUS", r"(?s)net slirp0: link up, 10\.0\.2\.15\n  rx (\d+) packets.*?"
                   r"tcp (\d+) open, (\d+) listening, (\d+) since boot\n ok\n")
        check(m is not None and int(m.group(1)) > 0 and int(m.group(4)) >= 1,
              "STATUS shows the interface and TCP counts")
        # the host connects into mneme through the forward 127.0.0.1:fwd_port -> 8080
        check(sh.cmd("8080 TCP-LISTEN CONSTANT L") is not None, "TCP-LISTEN 8080")
        m = sh.cmd("NETSTAT", r"(?s)(local.*?connections?)\n ok\n")
        check(m is not None and re.search(rb"0\.0\.0\.0:8080 .*LISTEN", m.group(1)) is not None,
              "NETSTAT lists the listener")
        got = []

        def client():
            try:
                with socket.create_connection(("127.0.0.1", fwd_port), timeout=TIMEOUT) as c:
                    c.sendall(b"hello, mneme\n")
                    data = b""
                    while True:
                        d = c.recv(4096)
                        if not d:
                            break
                        data += d
                    got.append(data)
            except OSError as e:
                got.append(repr(e).encode())
        t = threading.Thread(target=client, daemon=True)
        t.start()
        m = sh.cmd("L TCP-ACCEPT CONSTANT C  PAD 100 C TCP-READ PAD SWAP TYPE",
                   r"([^\r\n]*)\n ok\n")
        check(m is not None and m.group(1) == b"hello, mneme",
              f"TCP-ACCEPT takes the host's connection and reads its line ({m and m.group(1)!r})")
        check(sh.cmd('S" hi host" C TCP-WRITE C TCP-CLOSE L TCP-UNLISTEN') is not None,
              "TCP-WRITE, TCP-CLOSE, TCP-UNLISTEN")
        t.join(TIMEOUT)
        check(got == [b"hi host"], f"the host got the answer and the end of stream ({got!r})")
        m = sh.cmd("L TCP-ACCEPT", r"TCP-ACCEPT: ([^\r\n]*)\n")
        check(m is not None and b"THROW" in m.group(1), "TCP-ACCEPT on a closed listener THROWs")
        check(sh.cmd("1 2 + .", r"3  ok\n") is not None, "the shell still answers")
    finally:
        sh.close()
    # Static address from the configuration, no gateway (a second boot).
    sh = Shell(static.name)
    try:
        check(sh.expect(r"net: slirp0 address 10\.0\.2\.16 ") is not None,
              "static address from [services.net]")
        m = sh.cmd("NET", r"(?s)(slirp0:.*?) ok\n")
        out = m.group(1).decode() if m else ""
        check("inet 10.0.2.16 netmask 255.255.255.0 gateway 0.0.0.0 (static" in out,
              f"NET shows the static address: {out!r}")
        m = sh.cmd('S" 10.0.2.2" PING .', r"(-?\d+)  ok\n")
        check(m is not None and int(m.group(1)) >= 0, "PING on the subnet answers")
        m = sh.cmd('S" echo.ok.test" RESOLVE', r"echo\.ok\.test: (\S+)\n ok\n")
        check(m is not None and m.group(1) == b"10.0.2.2",
              "RESOLVE through the DNS server from the configuration")
        m = sh.cmd('S" 192.0.2.1" 80 TCP-OPEN', r"TCP-OPEN: ([^\r\n]*)\n")
        check(m is not None and m.group(1) == b"no route to host (THROW -1023)",
              f"off the subnet without a gateway: THROW no route ({m and m.group(1)!r})")
        m = sh.cmd('S" 192.0.2.1" PING', r"PING: ([^\r\n]*)\n")
        check(m is not None and m.group(1) == b"no route to host (THROW -1023)",
              "PING off the subnet: no route")
    finally:
        sh.close()
        os.unlink(cfg.name)
        os.unlink(static.name)
        reset.shutdown()
        bye.shutdown()
        echo.shutdown()
        dns.close()
    print(f"{n_ok} passed, {n_fail} failed")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
