#!/usr/bin/env python3
"""The hosted kernel's TAP NIC (--net tap:NAME) end to end, in a network
namespace this test makes (root only; skips cleanly otherwise): a TAP
device 10.77.0.1/24 inside the namespace, an echo server of this test on
10.77.0.1:7000 there, and mneme in the same namespace with a static
address 10.77.0.2 on that device. Checks NET, PING both ways and a TCP
exchange.
The namespace and everything in it are removed at the end, also when a
step fails. TAP output."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

O = os.environ.get("O", "build/hosted")
NS = "mneme-tap-%d" % os.getpid()
DEV = "mtap0"
n_ok = n_fail = 0


def check(cond, what, detail=""):
    global n_ok, n_fail
    if cond:
        n_ok += 1
        print("ok - " + what, flush=True)
    else:
        n_fail += 1
        print("not ok - " + what, flush=True)
        for line in str(detail).splitlines()[-15:]:
            print("#   " + line)


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True)


ECHO = r"""
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 7000))
s.listen(4)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    with c:
        d = c.recv(4096)
        c.sendall(b"ECHO:" + d.upper())
"""

# One ICMP echo over a raw socket (root; no ping binary needed).
PING = r"""
import os, select, socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, payload = os.getpid() & 0xffff, b"mneme-tap-ping!!"
hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, 1) + payload, (sys.argv[1], 0))
while select.select([s], [], [], 5)[0]:
    d, a = s.recvfrom(2048)
    ihl = (d[0] & 15) * 4
    t, _, _, i, q = struct.unpack("!BBHHH", d[ihl:ihl + 8])
    if a[0] == sys.argv[1] and t == 0 and i == ident and d[ihl + 8:] == payload:
        print("reply from", a[0]); sys.exit(0)
sys.exit(1)
"""


def main():
    # a timeout's SIGTERM still runs the finally blocks (namespaces removed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if os.geteuid() != 0 or not shutil.which("ip") or not os.path.exists("/dev/net/tun"):
        print("ok - hosted TAP NIC # SKIP needs root, iproute2 and /dev/net/tun")
        return 0
    cfgdir = tempfile.mkdtemp(prefix="mneme-tap-")
    server = mneme = None
    try:
        sh("ip", "netns", "add", NS)
        ns = ["ip", "netns", "exec", NS]
        sh(*ns, "ip", "link", "set", "lo", "up")
        sh(*ns, "ip", "tuntap", "add", "dev", DEV, "mode", "tap")
        sh(*ns, "ip", "addr", "add", "10.77.0.1/24", "dev", DEV)
        sh(*ns, "ip", "link", "set", DEV, "up")
        server = subprocess.Popen(ns + [sys.executable, "-c", ECHO], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        check(server.stdout.readline().strip() == "listening",
              "the test's echo server listens on 10.77.0.1:7000 in the namespace")
        cfg = os.path.join(cfgdir, "tap.toml")
        with open("config/hosted.toml") as f:
            base = f.read()
        with open(cfg, "w") as f:
            f.write(base + '\n[services.net]\ndhcp = false\naddress = "10.77.0.2"\n'
                    'netmask = "255.255.255.0"\ngateway = "10.77.0.1"\n')
        script = ('NET\nS" 10.77.0.1" PING .\n'
                  'S" 10.77.0.1" 7000 TCP-OPEN CONSTANT H  S" hello tap" H TCP-WRITE\n'
                  'PAD 100 H TCP-READ PAD SWAP TYPE CR  H TCP-CLOSE\nBYE\n')
        mneme = subprocess.Popen(ns + [O + "/mneme", "--serial", "none", "--net", "tap:" + DEV,
                                       "--config", cfg], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        killer = threading.Timer(60, mneme.kill)   # a last resort: a hung kernel fails
        killer.start()
        out = ""
        # ready: the service's log line for the address on the TAP NIC
        for line in mneme.stdout:
            out += line
            if re.search(r"net: tap0 address 10\.77\.0\.2", line):
                break
        # the other way: the host side pings mneme (lwIP answers echo requests)
        p = subprocess.run(ns + [sys.executable, "-c", PING, "10.77.0.2"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, "the namespace pings mneme at 10.77.0.2", p.stdout + p.stderr)
        rest, _ = mneme.communicate(script)
        killer.cancel()
        out += rest
        check(re.search(r"tap: mtap0, mac 52:54:00", out), "mneme opens the TAP device", out)
        check(re.search(r"inet 10\.77\.0\.2 netmask 255\.255\.255\.0 gateway 10\.77\.0\.1", out),
              "NET shows the static address on the TAP NIC", out)
        m = re.search(r"PING \. (-?\d+)", out) or re.search(r"\n(-?\d+)  ok", out)
        check(m and int(m.group(1)) >= 0, "PING the host side of the TAP device answers", out)
        check("ECHO:HELLO TAP" in out, "TCP to the test's server through the TAP device", out)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        check(False, "the TAP test ran", getattr(e, "stderr", "") or e)
    finally:
        if mneme and mneme.poll() is None:
            mneme.kill()
            mneme.wait()
        if server:
            server.kill()
            server.wait()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(cfgdir, ignore_errors=True)
    print("%d passed, %d failed" % (n_ok, n_fail))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
