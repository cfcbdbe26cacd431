#!/usr/bin/env python3
"""pci_test.py: PCI and virtio-net on x86_64 under QEMU (TCG), TAP lines.

Every NIC is on QEMU's user network with restrict=on (nothing leaves
the machine; the emulated gateway 10.0.2.2 still answers ARP) or on a
socket to this test. The network service (configured on x86_64) takes
the first NIC; the test words (ARP-PROBE, NET-SEND, NET-RECV) take the
next free one:
  - q35 (ECAM through the ACPI MCFG), two virtio-net NICs with MSI-X: the
    PCI word lists the functions with their BARs and the NICs bound to
    virtio-net; the links come up; the network service gets a DHCP lease
    on the first; ARP-PROBE sends an ARP request for 10.0.2.2 on the
    second and the reply arrives and is counted; QEMU's set_link takes
    the link down and up again (configuration-change interrupts);
  - a NIC and a virtio-blk disk without MSI-X (vectors=0): INTx through
    the I/O APIC for both (a DHCP lease, a sector read);
  - the i440fx machine (no MCFG): enumeration through ports 0xcf8/0xcfc,
    a DHCP lease;
  - no NIC: nothing bound, and ARP-PROBE and NET say there is no device;
  - the network service (lwIP) on virtio-net, on the NIC `make run`
    gives (virtio-net-pci on QEMU's user network; here restrict=on plus
    forwards): a DHCP lease (NET), PING the gateway, a TCP exchange with
    this test's server through guestfwd; set_link off/on:
    the service sees the link go down and up and the interface recovers
    (DHCP again), shown by the test connecting into mneme through a
    hostfwd (TCP-LISTEN, TCP-ACCEPT);
  - virtio-net on a TAP device in a network namespace of the test (root;
    skips otherwise), dnsmasq as DHCP and DNS server: the lease, names
    (A, NXDOMAIN), ping both ways, TCP by name;
  - virtio-net on a dgram netdev whose other end is this test's UDP
    socket on 127.0.0.1: frames of every length 60..1514 both ways,
    each checked byte for byte and in order (NET-SEND, NET-RECV);
  - two virtio-blk disks made by the test (512-byte sectors, writable;
    4096-byte sectors, read-only): DISKS, sectors read and compared with
    the image (FNV-1a), a sector written and flushed and found in the
    image file, a write to the read-only disk and a read past the end
    refused.
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Qemu, line_server  # noqa: E402

IMAGE = os.environ.get("IMAGE", "build/x86_64/mneme.img")
PROMPT = rb" ok\r\n"
NET = ["-netdev", "user,id=n0,restrict=on"]
results = []


def tap(ok, what, detail=""):
    results.append(ok)
    print("%s - %s" % ("ok" if ok else "not ok", what))
    if detail and not ok:
        for line in str(detail).splitlines()[-12:]:
            print("#   " + line)
    sys.stdout.flush()


def boot(name, extra):
    try:
        q = Qemu(IMAGE, 256, extra=extra, timeout=240)
    except Exception as e:  # noqa: BLE001
        tap(False, "%s: QEMU starts" % name, e)
        return None
    try:
        q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=180)
        return q
    except Exception as e:  # noqa: BLE001
        tap(False, "%s: boots to the Forth prompt" % name, e)
        q.close()
        return None


def command(q, line, timeout=30):
    """Runs a line at the serial shell; returns its output up to ` ok`."""
    start = len(q.out)
    q.write(line.encode() + b"\r")
    m = q.expect(PROMPT, timeout=timeout, start=start)
    return q.out[start:m.end()].decode(errors="replace")


def check(cond, what, detail):
    tap(bool(cond), what, detail)


def arp_ok(name, q, sent=1):
    out = command(q, "ARP-PROBE")
    m = re.search(r"arp: 10\.0\.2\.2 is at (52:55:0a:00:02:02) \((\d+) us\)", out)
    check(m, "%s: ARP-PROBE: 10.0.2.2 answers with QEMU's gateway MAC" % name, out)
    c = re.search(r"rx (\d+) packets (\d+) bytes (\d+) dropped (\d+) errors; "
                  r"tx (\d+) packets (\d+) bytes (\d+) dropped (\d+) errors", out)
    check(c and int(c.group(1)) >= sent and int(c.group(2)) >= 42 * sent
          and int(c.group(5)) == sent and int(c.group(6)) == 42 * sent
          and c.group(4) == "0" and c.group(8) == "0",
          "%s: the counters show %d request(s) sent (42 bytes each) and the replies "
          "received" % (name, sent), out)
    return out


def wait_net(name, q, what="address 10.0.2.15"):
    """Waits for the network service's log line about virtio-net0."""
    try:
        q.expect(rb"net: virtio-net0 " + what.encode(), timeout=60)
        return True
    except Exception as e:  # noqa: BLE001
        tap(False, "%s: the network service: %s" % (name, what), e)
        return False


def dhcp_ok(name, q):
    if not wait_net(name, q):
        return
    out = command(q, "NET")
    check(re.search(r"virtio-net0: [0-9a-f:]{17} mtu 1500 link up", out) and
          re.search(r"inet 10\.0\.2\.15 netmask 255\.255\.255\.0 .*\(dhcp, lease \d+ s\)", out),
          "%s: the network service has a DHCP lease on virtio-net0 (NET)" % name, out)
    return out


def q35_msix():
    name = "q35+virtio-net (MSI-X)"
    q = boot(name, NET + ["-device", "virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:01",
                          "-netdev", "user,id=n1,restrict=on",
                          "-device", "virtio-net-pci,netdev=n1,mac=52:54:00:aa:bb:02"])
    if not q:
        return
    try:
        log = q.out.decode(errors="replace")
        check(re.search(r"pci: \d+ functions \(ECAM", log),
              "%s: enumerated through ECAM (ACPI MCFG)" % name, log)
        out = command(q, "PCI")
        nics = re.findall(r"00:0[23]\.0 1af4:10(?:00|41) 0200 ethernet +msix +virtio-net", out)
        check(len(nics) == 2,
              "%s: PCI lists both NICs as ethernet, MSI-X, bound to virtio-net" % name, out)
        check(re.search(r"00:00\.0 8086:29c0 0600 host-bridge", out),
              "%s: PCI lists the q35 host bridge" % name, out)
        check(re.search(r"BAR4 mem64 pf 0x[0-9a-f]+ 16K", out) and
              re.search(r"BAR0 io +0x[0-9a-f]+ 32", out),
              "%s: PCI shows the NIC's BARs (64-bit memory, I/O) with sizes" % name, out)
        check(re.search(r"virtio-net0: 52:54:00:aa:bb:01, \d+\+\d+ buffers, MSI-X, link up",
                        log) and
              re.search(r"virtio-net1: 52:54:00:aa:bb:02, \d+\+\d+ buffers, MSI-X, link up",
                        log), "%s: the driver read the MACs; links up" % name, log)
        dhcp_ok(name, q)
        # the network service has interface 0: ARP-PROBE takes interface 1
        out = arp_ok(name, q)
        check("virtio-net1: 52:54:00:aa:bb:02 link up" in out,
              "%s: ARP-PROBE took the free interface (virtio-net1)" % name, out)
        start = len(q.out)
        q.hmp("set_link n1 off")
        try:
            q.expect(rb"virtio-net1: link down", timeout=30, start=start)
            start = len(q.out)
            q.hmp("set_link n1 on")
            q.expect(rb"virtio-net1: link up", timeout=30, start=start)
            tap(True, "%s: set_link off/on: the driver sees the link go down and up" % name)
        except Exception as e:  # noqa: BLE001
            tap(False, "%s: set_link off/on: the driver sees the link go down and up" % name, e)
        arp_ok(name + " after the link came back", q, 2)
    finally:
        q.close()


def q35_intx():
    name = "q35+virtio-net and virtio-blk without MSI-X (INTx)"
    tmp = tempfile.mkdtemp(prefix="mneme-intx-")
    disk = os.path.join(tmp, "d.img")
    make_disk(disk, 512, 64)
    q = boot(name, NET + ["-device", "virtio-net-pci,netdev=n0,vectors=0",
                          "-drive", "if=none,id=d0,format=raw,file=" + disk,
                          "-device", "virtio-blk-pci,drive=d0,vectors=0"])
    if not q:
        shutil.rmtree(tmp, ignore_errors=True)
        return
    try:
        out = command(q, "PCI")
        check(re.search(r"ethernet +intx +virtio-net", out) and
              re.search(r"storage +intx +virtio-blk", out),
              "%s: both devices' interrupts are INTx" % name, out)
        dhcp_ok(name, q)
        out = command(q, "63 0 SECTOR")
        want = fnv(open(disk, "rb").read()[63 * 512:])
        check("fnv " + want in out, "%s: a sector read through virtio-blk" % name, out)
    finally:
        q.close()
        shutil.rmtree(tmp, ignore_errors=True)


def i440fx():
    name = "pc (i440fx, no MCFG)"
    q = boot(name, ["-machine", "pc"] + NET + ["-device", "virtio-net-pci,netdev=n0"])
    if not q:
        return
    try:
        log = q.out.decode(errors="replace")
        check(re.search(r"pci: \d+ functions \(port I/O", log),
              "%s: enumerated through ports 0xcf8/0xcfc" % name, log)
        out = command(q, "PCI")
        check(re.search(r"8086:1237 0600 host-bridge", out) and
              re.search(r"ethernet +msix +virtio-net", out),
              "%s: PCI lists the i440fx host bridge and the bound NIC" % name, out)
        dhcp_ok(name, q)
    finally:
        q.close()


def no_nic():
    name = "no NIC"
    q = boot(name, [])
    if not q:
        return
    try:
        out = command(q, "PCI")
        check("virtio-net" not in out and re.search(r"host-bridge", out),
              "%s: PCI lists the functions, none bound" % name, out)
        out = command(q, "ARP-PROBE")
        check(re.search(r"arp: no network device: ", out),
              "%s: ARP-PROBE says there is no network device" % name, out)
        out = command(q, "NET")
        check("no network interface" in out, "%s: NET says there is no interface" % name, out)
    finally:
        q.close()


def net_tcp():
    """DHCP and a TCP exchange with a server of this test through guestfwd."""
    name = "network service over virtio-net"
    port, t, seen, srv = line_server()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    fwd_port = probe.getsockname()[1]
    probe.close()
    q = boot(name, ["-netdev", "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:7777-tcp:"
                    "127.0.0.1:%d,hostfwd=tcp:127.0.0.1:%d-:8080" % (port, fwd_port),
                    "-device", "virtio-net-pci,netdev=n0"])
    if not q:
        srv.close()
        return
    try:
        dhcp_ok(name, q)
        # docs/net.md's first steps after `make run`: NET (above), PING the
        # gateway, a TCP connection to a service on the host (below)
        out = command(q, 'S" 10.0.2.2" PING .')
        m = re.search(r"PING \. (-?\d+) +ok", out)
        check(m and int(m.group(1)) >= 0, "%s: PING the gateway 10.0.2.2 answers" % name, out)
        command(q, 'S" 10.0.2.100" 7777 TCP-OPEN CONSTANT H')
        command(q, 'CREATE B 100 ALLOT  S" hello from mneme" B SWAP MOVE  10 B 16 + C!')
        command(q, "B 17 H TCP-WRITE")
        out = command(q, "B 80 H TCP-READ B SWAP TYPE", timeout=60)
        check("HOST-SAYS:HELLO FROM MNEME" in out,
              "%s: TCP through guestfwd to the test's server: sent and answered" % name, out)
        t.join(10)
        check(seen == [b"hello from mneme\n"], "%s: the server got the line" % name, seen)
        out = command(q, "H TCP-CLOSE NET")
        m = re.search(r"rx (\d+) packets", out)
        check(m and int(m.group(1)) >= 4, "%s: NET counts the frames received" % name, out)
        start = len(q.out)
        q.hmp("set_link n0 off")
        q.expect(rb"net: virtio-net0 link down", timeout=30, start=start)
        out = command(q, "NET")
        check("link down" in out, "%s: set_link off: the network service sees the link "
              "go down (NET)" % name, out)
        start = len(q.out)
        q.hmp("set_link n0 on")
        q.expect(rb"net: virtio-net0 link up", timeout=30, start=start)
        # the interface recovers: the host connects into mneme (hostfwd)
        command(q, "8080 TCP-LISTEN CONSTANT L")
        got = []

        def client():
            try:
                with socket.create_connection(("127.0.0.1", fwd_port), timeout=60) as c:
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
        ct = threading.Thread(target=client, daemon=True)
        ct.start()
        out = command(q, "L TCP-ACCEPT CONSTANT C  B 80 C TCP-READ B SWAP TYPE", timeout=90)
        check("hello, mneme" in out, "%s: after the link came back, the host connects into "
              "mneme through hostfwd (TCP-LISTEN, TCP-ACCEPT, TCP-READ)" % name, out)
        command(q, 'S" hi host" C TCP-WRITE C TCP-CLOSE L TCP-UNLISTEN')
        ct.join(30)
        check(got == [b"hi host"], "%s: the host got mneme's answer and the end of the "
              "stream" % name, got)
        out = command(q, "NET")
        check(re.search(r"link up", out) and re.search(r"inet 10\.0\.2\.15 .*\(dhcp, lease", out),
              "%s: NET shows the link up and the DHCP lease again" % name, out)
    finally:
        q.close()
        srv.close()


NS_ECHO = r"""
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.78.0.1", 7000))
s.listen(4)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    with c:
        c.sendall(b"NS-ECHO:" + c.recv(4096).strip().upper() + b"\n")
"""

# One ICMP echo over a raw socket (no ping binary needed).
NS_PING = r"""
import os, select, socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, payload = os.getpid() & 0xffff, b"mneme-qemu-ping!"
hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, 1) + payload, (sys.argv[1], 0))
while select.select([s], [], [], 10)[0]:
    d, a = s.recvfrom(2048)
    ihl = (d[0] & 15) * 4
    t, _, _, i, q = struct.unpack("!BBHHH", d[ihl:ihl + 8])
    if a[0] == sys.argv[1] and t == 0 and i == ident and d[ihl + 8:] == payload:
        sys.exit(0)
sys.exit(1)
"""


def netns_tap():
    """virtio-net on a TAP device in a network namespace of this test, with
    dnsmasq there as the DHCP and DNS server (nothing else in the
    namespace; dnsmasq reads no resolv.conf): the lease (address, router,
    DNS), names (an A record, NXDOMAIN), ping both ways, TCP by name to a
    server in the namespace. Root only; everything is removed at the end,
    also when a step fails."""
    name = "virtio-net on a TAP in a namespace"
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("dnsmasq") \
            or not os.path.exists("/dev/net/tun"):
        print("ok - %s # SKIP needs root, iproute2, dnsmasq (dnsmasq-base), /dev/net/tun" % name)
        return
    ns = "mneme-qtap-%d" % os.getpid()
    nx = ["ip", "netns", "exec", ns]
    tmp = tempfile.mkdtemp(prefix="mneme-qtap-")
    procs, q = [], None

    def sh(*a):
        subprocess.run(list(a), check=True, capture_output=True)
    try:
        sh("ip", "netns", "add", ns)
        sh(*nx, "ip", "link", "set", "lo", "up")
        sh(*nx, "ip", "tuntap", "add", "dev", "qtap0", "mode", "tap")
        sh(*nx, "ip", "addr", "add", "10.78.0.1/24", "dev", "qtap0")
        sh(*nx, "ip", "link", "set", "qtap0", "up")
        dm = subprocess.Popen(nx + [
            "dnsmasq", "--keep-in-foreground", "--log-facility=-", "--no-resolv", "--no-hosts",
            "--user=root", "--pid-file=", "--interface=qtap0", "--bind-interfaces",
            "--dhcp-range=10.78.0.50,10.78.0.60,255.255.255.0,1h",
            "--dhcp-leasefile=" + os.path.join(tmp, "leases"),
            "--address=/host.mneme.test/10.78.0.1", "--local=/mneme.test/"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(dm)
        line = dm.stdout.readline()   # "started, version ..." once it listens
        check("started" in line, "%s: dnsmasq serves DHCP and DNS in the namespace" % name, line)
        srv = subprocess.Popen(nx + [sys.executable, "-c", NS_ECHO], stdout=subprocess.PIPE,
                               text=True)
        procs.append(srv)
        check(srv.stdout.readline().strip() == "listening",
              "%s: the test's server listens on 10.78.0.1:7000" % name, "")
        try:
            q = Qemu(IMAGE, 256, timeout=240, prefix=nx, extra=[
                "-netdev", "tap,id=n0,ifname=qtap0,script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=n0"])
            q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=180)
            m = q.expect(rb"net: virtio-net0 address (10\.78\.0\.\d+) ", timeout=60)
        except Exception as e:  # noqa: BLE001
            tap(False, "%s: boots and gets a DHCP lease from dnsmasq" % name, e)
            return
        ip = m.group(1).decode()
        out = command(q, "NET")
        check(re.search(r"inet %s netmask 255\.255\.255\.0 gateway 10\.78\.0\.1 \(dhcp, "
                        r"lease 3600 s\)" % re.escape(ip), out) and
              re.search(r"dns 10\.78\.0\.1 ", out),
              "%s: a lease from dnsmasq: address, router, DNS server (NET)" % name, out)
        out = command(q, 'S" 10.78.0.1" PING .')
        m = re.search(r"PING \. (-?\d+) +ok", out)
        check(m and int(m.group(1)) >= 0, "%s: mneme pings the namespace (PING)" % name, out)
        p = subprocess.run(nx + [sys.executable, "-c", NS_PING, ip], capture_output=True,
                           text=True, timeout=60)
        check(p.returncode == 0, "%s: the namespace pings mneme at %s" % (name, ip),
              p.stdout + p.stderr)
        out = command(q, 'S" host.mneme.test" RESOLVE  S" nope.mneme.test" RESOLVE')
        check("host.mneme.test: 10.78.0.1" in out and "nope.mneme.test: name not found" in out,
              "%s: RESOLVE through dnsmasq: an A record, NXDOMAIN" % name, out)
        command(q, 'S" host.mneme.test" 7000 TCP-OPEN CONSTANT H  S" over the tap" H TCP-WRITE')
        out = command(q, "PAD 100 H TCP-READ PAD SWAP TYPE  H TCP-CLOSE", timeout=60)
        check("NS-ECHO:OVER THE TAP" in out, "%s: TCP by name to the namespace's server"
              % name, out)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        tap(False, "%s: the namespace test ran" % name, getattr(e, "stderr", None) or e)
    finally:
        if q:
            q.close()
        for p in procs:
            p.kill()
            p.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def test_frame(seq, mac):
    """The frame netdev_send_frames makes for seq (varying length)."""
    n = 60 + (seq * 97) % (1514 - 60 + 1)
    body = bytes(((seq * 7 + i * 13 + (i >> 8)) & 0xff) for i in range(n - 18))
    return b"\xff" * 6 + mac + b"\x88\xb5" + struct.pack("<I", seq) + body


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def frames():
    name = "virtio-net frames over a dgram netdev"
    mac = bytes([0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02])
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    peer.bind(("127.0.0.1", 0))
    qport = free_udp_port()
    # interface 0 (user network) goes to the network service; the test
    # words take interface 1, on the dgram netdev
    q = boot(name, NET + ["-device", "virtio-net-pci,netdev=n0",
                          "-netdev", "dgram,id=n1,local.type=inet,local.host=127.0.0.1,"
                          "local.port=%d,remote.type=inet,remote.host=127.0.0.1,remote.port=%d"
                          % (qport, peer.getsockname()[1]),
                          "-device", "virtio-net-pci,netdev=n1,mac=52:54:00:aa:bb:02"])
    if not q:
        peer.close()
        return
    n = 1000
    try:
        if not wait_net(name, q, "52:54:00:12:34:56, link up"):
            return
        # guest -> host
        got = []  # test frames (the firmware's own IPv6 frames may come first)

        def collect():
            peer.settimeout(1.0)
            end = time.monotonic() + 120
            while len(got) < n and time.monotonic() < end:
                try:
                    d, _ = peer.recvfrom(65536)
                except socket.timeout:
                    continue
                if d[12:14] == b"\x88\xb5":
                    got.append((time.monotonic(), d))
        t = threading.Thread(target=collect)
        t.start()
        out = command(q, "%d 0 NET-SEND" % n, timeout=120)
        t.join()
        frames_in = [d for _, d in got]
        bad = [i for i, d in enumerate(frames_in) if d != test_frame(i, mac)]
        check(len(frames_in) == n and not bad,
              "%s: %d frames of 60..1514 bytes from the guest arrive intact and in order"
              % (name, n), "got %d, bad %s\n%s" % (len(frames_in), bad[:5], out))
        if len(got) > 1:
            secs = got[-1][0] - got[0][0]
            mb = sum(len(d) for _, d in got) / 1e6
            print("# guest->host: %d frames, %.2f MB in %.3f s (%.1f MB/s, %.0f frames/s)"
                  % (len(got), mb, secs, mb / secs if secs else 0, len(got) / secs if secs else 0))
        # host -> guest, paced by what the guest has taken (the UDP socket
        # and the NIC's queue hold the rest)
        start = len(q.out)
        q.write(b"%d NET-RECV\r" % n)
        q.expect(rb"net-recv: ready", timeout=30, start=start)
        src = bytes([0x52, 0x55, 0x0a, 0x00, 0x00, 0x01])
        t0 = time.monotonic()
        for i in range(n):
            f = test_frame(i, src)
            peer.sendto(mac + f[6:], ("127.0.0.1", qport))
            if i % 32 == 31:
                time.sleep(0.002)  # stay within the host's socket buffer
        m = q.expect(rb"net-recv: (\d+) of (\d+) frames, (\d+) bytes, (\d+) bad, (\d+) out of "
                     rb"order, (\d+) other, (\d+) dropped, (\d+) us first to last",
                     timeout=120, start=start)
        q.expect(PROMPT, timeout=30, start=start)
        got_n, bad_n, ooo, dropped, us = (int(m.group(1)), int(m.group(4)), int(m.group(5)),
                                          int(m.group(7)), int(m.group(8)))
        check(got_n == n and bad_n == 0 and ooo == 0,
              "%s: %d frames of 60..1514 bytes from the host arrive intact and in order "
              "(%d dropped)" % (name, n, dropped), m.group(0).decode())
        if us:
            print("# host->guest: %d frames, %.2f MB in %.3f s (%.1f MB/s) in the guest; "
                  "host sent for %.3f s" % (got_n, int(m.group(3)) / 1e6, us / 1e6,
                                           int(m.group(3)) / us, time.monotonic() - t0))
    except Exception as e:  # noqa: BLE001
        tap(False, "%s: frames both ways" % name, e)
    finally:
        q.close()
        peer.close()


def fnv(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def make_disk(path, sector, count):
    with open(path, "wb") as f:
        for i in range(count):
            s = ("sector %d of %d-byte disk " % (i, sector)).encode()
            f.write((s * (sector // len(s) + 1))[:sector])


def disks():
    name = "virtio-blk"
    tmp = tempfile.mkdtemp(prefix="mneme-blk-")
    try:
        d0, d1 = os.path.join(tmp, "d0.img"), os.path.join(tmp, "d1.img")
        make_disk(d0, 512, 4096)
        make_disk(d1, 4096, 256)
        orig0 = open(d0, "rb").read()
        q = boot(name, [
            "-drive", "if=none,id=d0,format=raw,file=" + d0,
            "-device", "virtio-blk-pci,drive=d0",
            "-drive", "if=none,id=d1,format=raw,readonly=on,file=" + d1,
            "-device", "virtio-blk-pci,drive=d1,logical_block_size=4096,"
                       "physical_block_size=4096"])
        if not q:
            return
        try:
            out = command(q, "PCI")
            check(len(re.findall(r"0100 storage +msix +virtio-blk", out)) == 2,
                  "%s: PCI lists both disks bound to virtio-blk" % name, out)
            out = command(q, "DISKS")
            check(re.search(r"disk 0: virtio-blk0 4096 sectors of 512 bytes \(2 MiB\)", out) and
                  re.search(r"disk 1: virtio-blk1 256 sectors of 4096 bytes \(1 MiB\), "
                            r"\d+ per request, read-only", out),
                  "%s: DISKS: sizes, sector sizes, read-only" % name, out)
            img0, img1 = open(d0, "rb").read(), open(d1, "rb").read()
            ok = True
            detail = ""
            for disk, lba, img, ss in ((0, 0, img0, 512), (0, 4095, img0, 512),
                                       (0, 1234, img0, 512), (1, 0, img1, 4096),
                                       (1, 255, img1, 4096)):
                out = command(q, "%d %d SECTOR" % (lba, disk))
                want = fnv(img[lba * ss:(lba + 1) * ss])
                if "fnv %s" % want not in out:
                    ok = False
                    detail += "disk %d sector %d: want %s\n%s" % (disk, lba, want, out)
            check(ok, "%s: sectors read from both disks match the images" % name, detail)
            out = command(q, "90 77 0 SECTOR-FILL")
            check("sector 77: written and flushed" in out, "%s: a sector written and flushed" % name,
                  out)
            out = command(q, "77 0 SECTOR")
            check("fnv %s" % fnv(b"Z" * 512) in out, "%s: and read back" % name, out)
            out = command(q, "90 3 1 SECTOR-FILL")
            check("disk: read-only" in out, "%s: a write to the read-only disk is refused" % name,
                  out)
            out = command(q, "4096 0 SECTOR")
            check("disk: out of range" in out, "%s: a read past the end is refused" % name, out)
        finally:
            q.close()
        img0 = open(d0, "rb").read()
        check(img0 == orig0[:77 * 512] + b"Z" * 512 + orig0[78 * 512:],
              "%s: the written sector is in the image file, nothing else changed" % name, "")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    # a timeout's SIGTERM still runs the finally blocks (namespaces removed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if not os.path.exists(IMAGE):
        print("not ok - no image %s (make image)" % IMAGE)
        return 1
    for t in (q35_msix, q35_intx, i440fx, no_nic, net_tcp, netns_tap, frames, disks):
        try:
            t()
        except Exception as e:  # noqa: BLE001
            tap(False, "%s: ended early" % t.__name__, e)
    print("# %d of %d passed" % (sum(results), len(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
