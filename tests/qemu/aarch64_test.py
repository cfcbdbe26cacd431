#!/usr/bin/env python3
"""aarch64_test.py: integration tests of mneme on 64-bit ARM under QEMU
(virt, -cpu max, TCG, AAVMF), mirroring boot_test.py's x86_64 checks.

Boots build/aarch64/mneme.img and checks, printing TAP lines: the banner
and the Forth shell's ` ok` on serial (the PL011, interrupt-driven);
Forth typed on serial echoed and run (SPAWN, STATUS, Ctrl-C); FPU (the
vector registers and FPCR survive interrupts that clobber them and task
switches); MEM against
QEMU's -m; PS; the generic timer (300 MS) and the GIC (CPU); the NEON
dot kernels against the scalar ones (QUANT: quantized kernels bit for
bit, the I8MM 2x2 tiles too, F32/F16 to float rounding); the
framebuffer console (ramfb, QEMU screendump compared with the PSF font);
faults end only their task (one boot, GICv2): FAULT-X (a jump into
data: not executable), FAULT-RO (a write to code: read-only) and
FAULT-UD in SPAWNed VMs print a dump with a backtrace and JOIN gives
-304; OVERFLOW (a stack overflow into a guard page) ends its kernel task;
FAULT (a read of page 0) in the console's VM ends that session; a
background VM and the shell answer throughout. FAULT-CLI (IRQs masked)
prints the dump and stops the machine with status 7, on a boot whose
firmware ran at EL2 (QEMU's virtualization=on: mneme leaves EL2 for EL1
after ExitBootServices). The main boot uses a GICv3.
The main boot also has a virtio-net NIC (user network, restrict=on) and
a second virtio-blk disk (FAT16 by mtools; without MSI-X: INTx on the
GICv3): PCI through ECAM with MSI-X through the GICv3 ITS, the network
service's DHCP lease, PING, RESOLVE (which must time out cleanly:
restricted slirp drops UDP), a USB keyboard on qemu-xhci typing on the
framebuffer console, key repeat and hot-plug (boot_test.usb_checks), a TCP exchange
with this test's server through guestfwd, LS and CAT on both disks
(files service) and a sector compared with the image, and HTTPS (as
https_test.py on x86_64): the test's root CA given to TLS-TRUST, a page
fetched from this test's server with a valid certificate (guestfwd to
127.0.0.1), TLS-INFO, and a certificate for the same name from another
root refused with its reason. The GICv2 boot (faults in tasks) has its
NIC without MSI-X (vectors=0: INTx through QEMU virt's fixed swizzle) with
a DHCP lease and PING, and an NVMe disk with MSI-X through the GICv2m
frame (LS, CAT, a sector compared with the image).
With LLM_IMG (tests/qemu/aarch64.sh builds it when the test models are
there), llm-local over stories260K Q8_0 on the ESP with two cores:
GENERATE equals the hosted mneme-infer's greedy output; CPU and STATUS
list the cores; FAULT-CPU on the second core dumps and stops QEMU.
A boot with a sermux configuration (\\mneme\\config.bin replaced) checks
the framed serial line: loopback, a Forth shell on port 10, tracing, and
the pseudo-keyboard typing on the framebuffer console (keyboard mux).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boot_test as bt  # noqa: E402  (tap, font and screen helpers)
from qemu import Qemu, line_server  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../test"))
from mneme_wire import cobs_decode, cobs_encode  # noqa: E402
import http_e2e  # noqa: E402  (the test CA and HTTPS servers)

IMAGE = os.environ.get("IMAGE", "build/aarch64/mneme.img")
MEM_MB = 256


def tap(ok, what, detail=""):
    bt.tap(bool(ok), what, detail)


def boot(name, gic=3, el2=False, extra=()):
    q = Qemu(IMAGE, MEM_MB, timeout=240, arch="aarch64",
             extra=["-machine", "virt,gic-version=%d%s" % (gic, ",virtualization=on" if el2 else "")]
             + list(extra))
    what = "%s: boots to the banner and the Forth prompt on serial (GICv%d%s)" % (
        name, gic, "; firmware at EL2, mneme drops to EL1" if el2 else "")
    try:
        if el2:
            q.expect(rb"firmware ran at EL2: mneme runs at EL1", timeout=150)
        q.expect(rb"mneme\S* aarch64 \(UEFI\)", timeout=150)
        q.expect(rb"GICv%d" % gic, timeout=30)
        q.expect(rb"mneme Forth\r\n +ok\r\n")
        tap(True, what)
    except Exception as e:  # noqa: BLE001
        tap(False, what, e)
        q.close()
        return None
    return q


def fnv(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def io_checks(q, tmp, disk, seen, t):
    """PCI (ECAM, MSI-X through the ITS), virtio-net under the network
    service (DHCP, PING, RESOLVE, TCP), virtio-blk under the files service
    (LS, CAT, SECTOR) in the main boot."""
    command = bt.command

    def run(line, timeout=60):
        start = len(q.out)
        q.write(line.encode() + b"\r")
        q.expect(rb" ok\r\n", timeout=timeout, start=start)
        return q.out[start:].decode(errors="replace")
    log = q.out.decode(errors="replace")
    tap(re.search(r"pci: \d+ functions \(ECAM", log),
        "PCI: enumerated through ECAM (ACPI MCFG)", log[-1500:])
    out = run("PCI")
    tap(re.search(r"1b36:0008 0600 host-bridge", out) and
        re.search(r"0200 ethernet +msix +virtio-net", out) and
        len(re.findall(r"0100 storage +msix +virtio-blk", out)) == 1 and
        len(re.findall(r"0100 storage +intx +virtio-blk", out)) == 1 and
        re.search(r"BAR4 mem64 pf 0x[0-9a-f]+ 16K", out),
        "PCI lists the host bridge, the NIC and both disks bound, MSI-X (the second disk "
        "without: INTx), 64-bit BARs", out)
    out = run("CPU")
    tap(re.search(r"gic: v3, .*MSI ITS;", out), "CPU: MSIs through the GICv3 ITS", out)
    try:
        q.expect(rb"net: virtio-net0 address 10\.0\.2\.15", timeout=60)
        out = run("NET")
        tap(re.search(r"virtio-net0: [0-9a-f:]{17} mtu 1500 link up", out) and
            re.search(r"inet 10\.0\.2\.15 netmask 255\.255\.255\.0 .*\(dhcp, lease \d+ s\)",
                      out), "the network service has a DHCP lease on virtio-net0 (NET)", out)
    except Exception as e:  # noqa: BLE001
        tap(False, "the network service gets a DHCP lease on virtio-net0", e)
    out = run('S" 10.0.2.2" PING .')
    m = re.search(r"PING \. (-?\d+) ", out)
    tap(m and int(m.group(1)) >= 0, "PING: QEMU's gateway 10.0.2.2 answers (%s ms)" %
        (m.group(1) if m else "?"), out)
    # restrict=on: slirp's DHCP names no DNS server and slirp drops the
    # guest's other UDP, so RESOLVE must fail cleanly (answered: hosted test)
    out = run('S" echo.ok.test" RESOLVE', timeout=90)
    tap(re.search(r"echo\.ok\.test: (name not found|timed out)\r\n ok", out),
        "RESOLVE through the network service fails cleanly without a DNS server "
        "(restrict=on)", out)
    run('S" 10.0.2.100" 7777 TCP-OPEN CONSTANT H')
    run('CREATE B 100 ALLOT  S" hello from aarch64" B SWAP MOVE  10 B 18 + C!')
    run("B 19 H TCP-WRITE")
    out = run("B 80 H TCP-READ B SWAP TYPE")
    tap("HOST-SAYS:HELLO FROM AARCH64" in out,
        "TCP through guestfwd to the test's server: sent and answered", out)
    t.join(10)
    tap(seen == [b"hello from aarch64\n"], "the server got the line", seen)
    run("H TCP-CLOSE")
    out = run('S" /" LS')
    tap("boot/" in out and "disk1/" in out, "LS /: the ESP (/boot) and the second disk (/disk1)",
        out)
    out = run('S" /disk1/Hello aarch64.txt" CAT')
    tap("hello from mtools on aarch64" in out, "CAT a file mtools wrote on /disk1", out)
    out = run('S" /boot/mneme/cmdline" CAT')
    tap("console=" in out, "CAT the command line on the ESP (/boot)", out)
    img = open(disk, "rb").read()
    out = run("3 1 SECTOR")
    tap("fnv " + fnv(img[3 * 512:4 * 512]) in out, "SECTOR: a sector of the second disk read "
        "through virtio-blk (INTx) matches the image", out)


def https_checks(q, d):
    """HTTPS through the network, http and TLS services (the x86_64
    check of tests/qemu/https_test.py): the test's root CA typed in and
    given to TLS-TRUST, a page fetched from the server with a valid
    certificate (time from UEFI GetTime, seed from the entropy service),
    TLS-INFO, then a server whose certificate another root signed
    (untrusted: a forgery of the name) refused with its reason."""
    def run(line, timeout=60, end=rb" ok\r\n"):
        start = len(q.out)
        q.write(line.encode() + b"\r")
        q.expect(end, timeout=timeout, start=start)
        return q.out[start:].decode(errors="replace")
    run("CREATE PEMBUF 4096 ALLOT  VARIABLE PEMLEN  0 PEMLEN !")
    run(": +PEM ( c-addr u -- ) TUCK PEMBUF PEMLEN @ + SWAP MOVE PEMLEN +! "
        "10 PEMBUF PEMLEN @ + C! 1 PEMLEN +! ;")
    for line in open(os.path.join(d, "root.pem")).read().strip().splitlines():
        run('S" %s" +PEM' % line)
    out = run("PEMBUF PEMLEN @ TLS-TRUST .")
    tap(re.search(r"\b1\s+ok", out), "TLS-TRUST adds the test's root CA", out)
    out = run('S" https://10.0.2.100/" HTTP-GET .', timeout=180)
    tap(http_e2e.PAGE.decode().strip() in out and re.search(r"\b200\s+ok", out),
        "HTTPS: HTTP-GET through guestfwd prints the page (valid certificate), status 200",
        out)
    out = run("TLS-INFO")
    tap("TLS 1.2 ECDHE_ECDSA_WITH_" in out and "CN=10.0.2.100; expires 2045-01-01" in out,
        "TLS-INFO: version, suite, subject and expiry", out)
    out = run('S" https://10.0.2.100:8443/" HTTP-GET .', timeout=180,
              end=rb"THROW -?\d+\)?[^\r\n]*\r\n")
    tap("HTTP-GET: TLS: certificate from an unknown issuer" in out and "-1029" in out,
        "HTTPS: a certificate for the same name from another root is refused "
        "('unknown issuer', THROW -1029)", out)


def main_boot():
    tmp = tempfile.mkdtemp(prefix="mneme-a64io-")
    disk = os.path.join(tmp, "d1.img")
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    port, t, seen, srv = line_server()
    http_e2e.make_certs(tmp, name="10.0.2.100")
    good = http_e2e.https_server(tmp, "good")
    forged = http_e2e.https_server(tmp, "unknown", chain="other")
    fwd = "".join(",guestfwd=tcp:10.0.2.100:%d-tcp:127.0.0.1:%d" % pp
                  for pp in ((7777, port), (443, good), (8443, forged)))
    try:
        subprocess.run(["mkfs.fat", "-C", "-F", "16", "-n", "DATA", disk, str(16 * 1024)],
                       check=True, stdout=subprocess.DEVNULL)
        src = os.path.join(tmp, "hello.txt")
        open(src, "w").write("hello from mtools on aarch64\n")
        subprocess.run(["mcopy", "-i", disk, src, "::/Hello aarch64.txt"], check=True, env=env)
        q = boot("boot", extra=[
            "-netdev", "user,id=n0,restrict=on" + fwd, "-device", "virtio-net-pci,netdev=n0",
            "-drive", "if=none,id=d1,format=raw,file=" + disk,
            # slot 8: after the boot disk, which the files service makes /boot;
            # without MSI-X (vectors=0): INTx on the GICv3 (SPI 35)
            "-device", "virtio-blk-pci,drive=d1,addr=0x8,vectors=0",
            "-device", "qemu-xhci,id=xhci", "-device", "usb-kbd,id=ukbd"])
        if not q:
            return
        try:
            try:
                io_checks(q, tmp, disk, seen, t)
            except Exception as e:  # noqa: BLE001
                tap(False, "PCI, network and files checks", e)
            try:
                https_checks(q, tmp)
            except Exception as e:  # noqa: BLE001
                tap(False, "HTTPS checks", e)
            main_checks(q)
        finally:
            q.close()
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main_checks(q):
    """The shell, memory, tasks, timer, FPU, NEON and screen checks."""
    command = bt.command
    try:
        m = command(q, "MEM", rb"mem: (\d+) KiB usable")
        kib = int(m.group(1))
        tap(MEM_MB * 1024 - 16 * 1024 <= kib <= MEM_MB * 1024,
            "MEM reports %d KiB usable of -m %d MiB (within 16 MiB)" % (kib, MEM_MB),
            q.out[-400:])
        m = command(q, "MEM", rb"heap: (\d+) KiB total")
        kib = int(m.group(1))
        tap(MEM_MB * 1024 - 16 * 1024 <= kib <= MEM_MB * 1024,
            "the kernel heap manages %d KiB of -m %d MiB (within 16 MiB)" % (kib, MEM_MB))
    except Exception as e:  # noqa: BLE001
        tap(False, "MEM", e)
    try:
        start = len(q.out)
        command(q, "PS", rb"console +running.*\r\n(.*\r\n)* ok\r\n")
        tap(all(t in q.out[start:] for t in (b"serial-rx", b"serial-tx", b"status",
                                           b"console-fb", b"console-kbd")),
            "PS lists the kernel's tasks (shells, serial, console, status)", q.out[-900:])
    except Exception as e:  # noqa: BLE001
        tap(False, "PS lists the kernel's tasks", e)
    try:
        command(q, "2 3 + .", rb"2 3 \+ \. 5  ok\r\n")
        command(q, ": sq dup * ; 7 sq .", rb"7 sq \. 49  ok\r\n")
        tap(True, "Forth typed on serial is echoed and runs")
    except Exception as e:  # noqa: BLE001
        tap(False, "Forth typed on serial is echoed and runs", e)
    try:
        # UEFI GetTime (QEMU's PL031 follows the host's clock, UTC).
        m = command(q, "TIME&DATE . . . . . .",
                    rb"TIME&DATE[ .]*\. (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)  ok\r\n")
        year = int(m.group(1))
        tap(year == time.gmtime().tm_year, "TIME&DATE's year %d is the host's year "
            "(UEFI GetTime / PL031)" % year, q.out[-300:])
        m = command(q, "RANDOM . RANDOM .", rb"RANDOM \. (-?\d+) (-?\d+)  ok\r\n")
        tap(m.group(1) != m.group(2), "RANDOM gives cells from the entropy service "
            "(RNDRRS under -cpu max)", q.out[-300:])
    except Exception as e:  # noqa: BLE001
        tap(False, "TIME&DATE and RANDOM", e)
    try:
        command(q, ': hello 3 0 do ." tick " 100 ms loop ;', rb"loop ;  ok\r\n")
        command(q, "' hello spawn .", rb"tick tick tick ", timeout=60)
        m = command(q, ": slow 100 0 do 100 ms loop ; ' slow spawn drop status",
                    rb"forth VMs (\d+)\r\n(.*\r\n)* ok\r\n", timeout=60)
        tap(int(m.group(1)) >= 2, "SPAWN runs a word on its own task (kernel timers); "
            "STATUS counts the VMs", q.out[-600:])
    except Exception as e:  # noqa: BLE001
        tap(False, "SPAWN runs a word on its own task; STATUS counts it", e)
    try:
        command(q, ": spin begin again ; spin", rb"spin\s")
        start = len(q.out)
        q.write(b"\x03")
        q.expect(rb"-28|nterrupt", timeout=30, start=start)
        command(q, "1 .", rb"1 \. 1  ok\r\n")
        tap(True, "Ctrl-C interrupts an endless word; the shell goes on")
    except Exception as e:  # noqa: BLE001
        tap(False, "Ctrl-C interrupts an endless word", e)
    try:
        m = command(q, "FPU", rb"across task switches: (ok|FAILED|not checked)\r\n")
        text = q.out[-300:]
        tap(b"across interrupts: ok" in text and m.group(1) == b"ok",
            "FP/SIMD state (v0-v31, d8-d15, FPCR) survives interrupts and task switches",
            text)
    except Exception as e:  # noqa: BLE001
        tap(False, "FP/SIMD state survives interrupts and task switches", e)
    try:
        m = command(q, "UPTIME 300 MS UPTIME SWAP - .", rb"SWAP - \. (\d+)  ok")
        ns = int(m.group(1))
        tap(ns >= 300000000, "300 MS waits at least 300 ms (%d ns)" % ns)
    except Exception as e:  # noqa: BLE001
        tap(False, "timer: MS", e)
    try:
        m = command(q, "CPU", rb"gic: v(\d), .* on interrupt (\d+), (\d+) interrupts")
        tap(m.group(1) == b"3" and int(m.group(3)) > 0,
            "CPU: GICv3, generic timer interrupts arrive (%s on interrupt %s)" %
            (m.group(3).decode(), m.group(2).decode()), q.out[-500:])
    except Exception as e:  # noqa: BLE001
        tap(False, "CPU: GIC and timer", e)
    try:
        start = len(q.out)
        m = command(q, "QUANT", rb"quant: (\d+) kernels checked, (\d+) differ", timeout=120)
        tiles = re.findall(rb"quant: neon-i8mm (\S+) +2x2 agrees", q.out[start:])
        tap(int(m.group(1)) >= 9 and m.group(2) == b"0",
            "QUANT: the NEON dot kernels (%s) agree with the scalar ones" % m.group(1).decode(),
            q.out[-1500:])
        tap(sorted(tiles) == [b"Q4_0", b"Q4_1", b"Q4_K", b"Q5_0", b"Q5_K", b"Q6_K", b"Q8_0"],
            "QUANT: the I8MM (SMMLA) 2x2 tiles give the scalar bits (%s)" %
            b" ".join(tiles).decode(), q.out[start:].decode(errors="replace"))
    except Exception as e:  # noqa: BLE001
        tap(False, "QUANT: the NEON dot kernels agree with the scalar ones", e)
    font = bt.load_font()
    try:
        # a fresh variables file: the chat screen shows the setup wizard;
        # Esc (on the USB keyboard) skips it to the Forth console
        tap(b"the setup wizard is shown" in q.out, "chat screen: the setup wizard on the "
            "first boot", q.out[-1500:])
        q.expect(rb"xhci\d: port \d+: \w+ speed device 0627:0001", timeout=60)
        q.hmp("sendkey esc", settle=0.2)
        where = bt.screen_has(q, font, ["mneme Forth", "aarch64 (UEFI)"])
        tap(all(where), "framebuffer (ramfb) shows the banner and the console "
            "shell (at %s)" % (where,))
        q.hmp("sendkey alt-f1", settle=0.2)
        q.sendkeys("chat hi")  # the chat's input line, white on black
        where = bt.screen_has(q, font, ["> chat hi"])
        tap(where[0] is not None, "Alt+F1: the chat screen takes the keys (at %s)"
            % (where[0],))
        q.hmp("sendkey alt-f2", settle=0.2)
        where = bt.screen_has(q, font, ["mneme Forth"])
        gone = bt.find_text(q.screendump(), "> chat hi", font)
        tap(where[0] is not None and gone is None,
            "Alt+F2: the Forth console again (at %s; chat input at %s)" % (where[0], gone))
    except Exception as e:  # noqa: BLE001
        tap(False, "framebuffer shows the console shell's banner, Alt+F1/Alt+F2", e)
    bt.usb_checks(q, font, plugged=True)


def fault_boot(cmd, what, patterns, gic=3, el2=False, nic=False):
    q = boot(cmd, gic, el2, ["-netdev", "user,id=n0,restrict=on", "-device",
                             "virtio-net-pci,netdev=n0"] if nic else [])
    if not q:
        return
    try:
        if nic:  # GICv2: MSI-X through the GICv2m frame
            try:
                q.expect(rb"virtio-net0: [0-9a-f:]{17}, \d+\+\d+ buffers, MSI-X, link up",
                         timeout=60)
                q.expect(rb"net: virtio-net0 address 10\.0\.2\.15", timeout=60)
                m = bt.command(q, "CPU", rb"gic: v2, .*MSI (\S+);")
                tap(m.group(1) == b"GICv2m", "GICv2: virtio-net's MSI-X through the GICv2m "
                    "frame, a DHCP lease")
            except Exception as e:  # noqa: BLE001
                tap(False, "GICv2: virtio-net's MSI-X through the GICv2m frame, a DHCP lease", e)
        bt.expect_dump(q, cmd, what, patterns, "exception, registers, backtrace")
    finally:
        q.close()


SERMUX_TOML = """
[kernel]
heap = "1M"
max_tasks = 64
stack_size = "16K"
log_level = "info"
[services.serial]
[services.sermux]
ports = 16
max_frame = 512
[services.loopback]
port = 0
[services.keyboard_mux]
[services.pseudo_keyboard]
port = 2
[services.tracing]
port = 3
max_level = "info"
heartbeat_ms = 500
[services.status]
[services.forth_shells]
ports = [10]
[platform]
name = "aarch64"
"""


class Frames:
    """Sermux frames from the serial line, by port. Text that the kernel
    wrote before sermux took the line (the boot log) precedes the first
    frame: a chunk that does not decode is retried after each LF."""

    def __init__(self, q):
        self.q, self.pos, self.wire, self.data = q, 0, b"", {}

    def pump(self):
        with self.q._cond:
            new, self.pos = self.q.out[self.pos:], len(self.q.out)
        self.wire += new
        *chunks, self.wire = self.wire.split(b"\0")
        for c in chunks:
            # raw text (a log line) may precede a frame: retry after each LF
            cuts = [i + 1 for i, x in enumerate(c) if x == 10]
            for cand in [c] + [c[i:] for i in cuts]:
                try:
                    f = cobs_decode(cand)
                except (ValueError, IndexError):
                    continue
                if len(f) >= 2:
                    port = f[0] | f[1] << 8
                    self.data[port] = self.data.get(port, b"") + f[2:]
                break

    def send(self, port, data):
        self.q.write(cobs_encode(bytes([port & 255, port >> 8]) + data) + b"\0")

    def expect(self, port, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            m = re.search(pattern, self.data.get(port, b""), re.S)
            if m:
                return m
            if time.monotonic() > deadline:
                raise TimeoutError("port %d: waiting for %r; got %r" %
                                   (port, pattern, self.data.get(port, b"")[-200:]))
            self.q._pump(0.2)


def sermux_boot():
    """The image with a sermux configuration in \\mneme\\config.bin: the
    serial line carries frames; loopback, the Forth shell on port 10,
    tracing, and the pseudo-keyboard typing on the framebuffer console
    through the keyboard mux."""
    tmp = tempfile.mkdtemp(prefix="mneme-a64-")
    try:
        toml, cfg, img = (os.path.join(tmp, n) for n in ("c.toml", "config.bin", "mneme.img"))
        open(toml, "w").write(SERMUX_TOML)
        subprocess.run(["python3", "tools/mkconfig.py", toml, "--bin", cfg], check=True,
                       stdout=subprocess.DEVNULL)
        shutil.copy(IMAGE, img)
        subprocess.run(["mcopy", "-o", "-i", img + "@@1M", cfg, "::/mneme/config.bin"],
                       check=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    except Exception as e:  # noqa: BLE001
        tap(False, "sermux: make an image with a sermux configuration", e)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    q = Qemu(img, MEM_MB, timeout=240, arch="aarch64")
    try:
        f = Frames(q)
        try:
            q.expect(rb"mneme\S* aarch64 \(UEFI\)", timeout=150)
            f.expect(3, rb".{8}", timeout=60)  # tracing: sermux owns the line
            tap(True, "sermux: tracing frames arrive on port 3")
            # the shells (and the console's keyboard subscription) are up
            q.expect(rb"from entry to the shells' start", timeout=120)
            f.send(10, b"2 3 + .\r")
            f.expect(10, rb"5  ok\r\n", timeout=60)
            tap(True, "sermux: the Forth shell on port 10 answers through frames")
        except Exception as e:  # noqa: BLE001
            tap(False, "sermux: the Forth shell on port 10 answers through frames", e)
            return
        try:
            f.send(0, b"ping \x00\x01 aarch64\n")
            f.expect(0, rb"ping \x00\x01 aarch64\n")
            tap(True, "sermux: loopback on port 0 echoes (binary bytes too)")
        except Exception as e:  # noqa: BLE001
            tap(False, "sermux: loopback on port 0 echoes", e)
        try:
            # Esc skips the setup wizard (a fresh variables file) to the
            # Forth console
            f.send(2, b"\x1b\r")
            bt.screen_has(q, bt.load_font(), ["mneme Forth"])
            f.send(2, b"6 7 * .\r")
            where = bt.screen_has(q, bt.load_font(), ["6 7 * . 42  ok"])
            tap(where[0] is not None, "pseudo-keyboard keys (keyboard mux) are echoed and "
                "run on the framebuffer console (at %s)" % (where[0],))
        except Exception as e:  # noqa: BLE001
            tap(False, "pseudo-keyboard keys are echoed and run on the framebuffer console", e)
    finally:
        q.close()
        shutil.rmtree(tmp, ignore_errors=True)


def llm_boot():
    """llm-local over stories260K Q8_0 from the ESP with the NEON kernels,
    on two cores (-smp 2, multi-threaded TCG; PSCI CPU_ON): GENERATE's
    greedy text equals the hosted tool's (mneme-infer --temp 0 --kernels
    scalar, run now on this machine; the quantized NEON kernels give the
    scalar kernels' bits); CPU and STATUS list both cores; FAULT-CPU 1
    makes the second core fault inside a parallel-for job: a dump naming
    cpu 1, QEMU exits with status 7."""
    import llm_test as lt
    img, model = os.environ.get("LLM_IMG"), os.environ.get("LLM_MODEL")
    if not img:
        return
    name = "llm-local (%s, -smp 2)" % os.path.basename(model)
    q = Qemu(img, MEM_MB, timeout=600, arch="aarch64",
             extra=["-smp", "2", "-accel", "tcg,thread=multi"])
    try:
        m = q.expect(rb"smp: (\d+) cores", timeout=200)
        tap(m.group(1) == b"2", "-smp 2: the second core started (PSCI CPU_ON)", q.out[-800:])
        m = q.expect(rb"llm-local: .* kernels ([\w-]+), (\d+) threads", timeout=200)
        kernels = m.group(1).decode()
        q.expect(rb"llm-local: model ", timeout=60)
        q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=60)
        tap(kernels.startswith("neon") and m.group(2) == b"2",
            "%s: loaded from the ESP, NEON kernels (%s), 2 threads" % (name, kernels))
        out = lt.serial_run(q, "CPU")
        tap(re.search(r"cpu 0 mpidr 0 +executor", out) and re.search(r"cpu 1 mpidr 1 ", out),
            "-smp 2: CPU lists both cores", out)
        for prompt, n in lt.PROMPTS:
            want = lt.hosted(model, prompt, n, "scalar")
            got = lt.parse_generate(lt.serial_run(q, lt.generate_cmd(prompt, n), timeout=300))
            tap(got == want, "%s: GENERATE %r %d equals the hosted mneme-infer's greedy output"
                % (name, prompt, n), "got  %r\nwant %r" % (got, want))
        out = lt.serial_run(q, "LLM-STATS")
        m = re.search(r"generated (\d+) tokens in [\d.]+ ms: ([\d.]+) tokens/s", out)
        tap(m and int(m.group(1)) > 0, "%s: LLM-STATS counts the tokens" % name, out)
        out = lt.serial_run(q, "STATUS")
        tap("cores 2:" in out and len(re.findall(r"cpu \d mpidr", out)) == 2,
            "-smp 2: STATUS shows both cores", out)
        chat_checks(q)
        start = len(q.out)
        q.write(b"1 FAULT-CPU\r")
        m = q.expect(rb"EXCEPTION: data abort[^\r\n]* on cpu (\d+)", timeout=120, start=start)
        q.expect(rb"machine halted", timeout=60, start=start)
        rc = q.wait_exit(60)
        tap(m.group(1) == b"1" and rc == 7, "-smp 2: a fault on cpu 1 (in a parallel-for job) "
            "prints a dump naming it and stops QEMU (status %s)" % rc,
            q.out[start:].decode(errors="replace"))
    except Exception as e:  # noqa: BLE001
        tap(False, "%s: boot, generate, fault" % name,
            "%s\n%s" % (e, q.out[-1500:].decode(errors="replace")))
    finally:
        q.close()


def chat_checks(q):
    """The chat on aarch64 (line mode on the serial shell): SETTING! saves
    into the UEFI variable through the firmware's runtime services,
    SETTINGS reads it back, CHAT answers with llm-local (conversations on
    the ESP, the image's disk), /exit returns to Forth."""
    def chat_run(q, line, reply, timeout=30):
        start = len(q.out)
        q.write(line.encode() + b"\r")
        q.expect(reply, timeout=timeout, start=start)
        return bytes(q.out[start:])

    for line in ('S" local" S" provider" SETTING!', 'S" stories260K" S" model" SETTING!'):
        r = chat_run(q, line, rb" ok\r\n")
        tap(b"SETTING!:" not in r, "chat: %s saves into the UEFI variable" % line, r)
    r = chat_run(q, 'S" 24" S" max_tokens" SETTING!', rb" ok\r\n")
    r += chat_run(q, 'S" sk-a64-0123456789wxyz" S" api_key" SETTING!', rb" ok\r\n")
    r += chat_run(q, "SETTINGS", rb" ok\r\n")
    tap(b"SETTING!:" not in r and b"provider local, model stories260K" in r and
        b"max_tokens 24" in r and b"api_key ...wxyz" in r,
        "chat: SETTING! then SETTINGS shows the change", r)
    # The disk's mirror leaves the key out only when the platform's own
    # store (the UEFI variable) keeps it: the key SETTINGS showed came
    # from the variable.
    r = chat_run(q, 'S" /boot/mneme/settings.toml" CAT', rb" ok\r\n")
    tap(b"stories260K" in r and b"0123456789wxyz" not in r,
        "chat: the settings are in the UEFI variable (the disk mirror has no key)", r)
    r = chat_run(q, "CHAT", rb"you> ", timeout=60)
    tap(b"CHAT: llm-local" in r and b"saved in disk /boot/chats.txt" in r,
        "chat: CHAT in line mode on llm-local, conversations on the disk", r)
    r = chat_run(q, "Once upon a time", rb"tokens/s[^\r]*\r\nyou> ", timeout=240)
    tap(re.search(rb"\[llm-local local, model stories260K; \d+ tokens", r) is not None,
        "chat: CHAT answers a message with the local model", r)
    r = chat_run(q, "/status", rb"you> ")
    tap(b"[conversations: disk /boot/chats.txt]" in r, "chat: /status: conversations on the disk", r)
    r = chat_run(q, "/exit", rb" ok\r\n")
    tap(b"[back to Forth]" in r, "chat: /exit returns to Forth", r)


BT = rb"backtrace \(frame records\):\r\n(  [0-9a-f]{16}  mneme\.efi\+0x[0-9a-f]+\r\n){2,}"


def command(q, line, reply, timeout=30):
    start = len(q.out)
    q.write(line.encode() + b"\r")
    return q.expect(reply, timeout=timeout, start=start)


def bt_run(q, line, timeout=60):
    start = len(q.out)
    q.write(line.encode() + b"\r")
    q.expect(rb" ok\r\n", timeout=timeout, start=start)
    return q.out[start:].decode(errors="replace")


def gicv2_io_check(q, disk):
    """GICv2 (no ITS): virtio-net without MSI-X (vectors=0) on INTx (QEMU
    virt's fixed swizzle onto SPIs 35-38, level) gets a DHCP lease and
    answers PING; the NVMe disk's MSI-X goes through the GICv2m frame:
    the controller comes up, LS and CAT on it, a sector compared."""
    def run(line, timeout=60):
        start = len(q.out)
        q.write(line.encode() + b"\r")
        q.expect(rb" ok\r\n", timeout=timeout, start=start)
        return q.out[start:].decode(errors="replace")
    try:
        q.expect(rb"virtio-net0: [0-9a-f:]{17}, \d+\+\d+ buffers, INTx, link up", timeout=60)
        q.expect(rb"net: virtio-net0 address 10\.0\.2\.15", timeout=60)
        out = run("PCI")
        tap(re.search(r"0200 ethernet +intx +virtio-net", out),
            "GICv2: virtio-net without MSI-X runs on INTx (PCI says intx), a DHCP lease", out)
        out = run('S" 10.0.2.2" PING .')
        m = re.search(r"PING \. (-?\d+) ", out)
        tap(m and int(m.group(1)) >= 0, "INTx: PING through virtio-net answered", out)
    except Exception as e:  # noqa: BLE001
        tap(False, "GICv2: virtio-net on INTx, a DHCP lease", e)
    try:
        log = q.out.decode(errors="replace")
        tap(re.search(r"nvme0n1: disk 1, QEMU NVMe Ctrl \(serial mneme-a64\), 32768 sectors "
                      r"of 512 bytes \(16 MiB\), \d+ per request, MSI-X", log) and
            re.search(r"0108 nvme +msix +nvme", run("PCI")) and
            re.search(r"gic: v2, .*MSI GICv2m;", run("CPU")),
            "NVMe: the controller comes up, MSI-X through the GICv2m frame", log[-3000:])
        out = run('S" /disk1" LS')
        tap("On NVMe.txt" in out, "NVMe: LS /disk1", out)
        out = run('S" /disk1/On NVMe.txt" CAT')
        tap("written by mtools on aarch64's NVMe disk" in out, "NVMe: CAT a file mtools wrote", out)
        img = open(disk, "rb").read()
        out = run("5 1 SECTOR")
        tap("fnv " + fnv(img[5 * 512:6 * 512]) in out,
            "NVMe: a sector read through the driver matches the image", out)
    except Exception as e:  # noqa: BLE001
        tap(False, "NVMe on aarch64", e)


def fault_tasks():
    tmp = tempfile.mkdtemp(prefix="mneme-a64nv-")
    disk = os.path.join(tmp, "nv.img")
    try:
        subprocess.run(["mkfs.fat", "-C", "-F", "16", "-n", "NVME", disk, str(16 * 1024)],
                       check=True, stdout=subprocess.DEVNULL)
        src = os.path.join(tmp, "t.txt")
        open(src, "w").write("written by mtools on aarch64's NVMe disk\n")
        subprocess.run(["mcopy", "-i", disk, src, "::/On NVMe.txt"], check=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
        raw = os.path.join(tmp, "raw.img")
        open(raw, "wb").write(os.urandom(64 * 1024))
        fault_tasks_boot(disk, raw)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fault_tasks_boot(disk, raw):
    q = boot("faults in tasks", gic=2, extra=[
        "-netdev", "user,id=n0,restrict=on",
        "-device", "virtio-net-pci,netdev=n0,vectors=0,addr=0x1",
        "-drive", "if=none,id=nv,format=raw,file=" + disk,
        # slot 8: after the boot disk, which the files service makes /boot
        "-device", "nvme,drive=nv,serial=mneme-a64,addr=0x8",
        # slot 9, INTA: the same SPI (36) as the NIC's (slot 1, INTA)
        "-drive", "if=none,id=rw,format=raw,file=" + raw,
        "-device", "virtio-blk-pci,drive=rw,addr=0x9,vectors=0"])
    if not q:
        return
    gicv2_io_check(q, disk)
    try:  # the shared INTx line: disk reads and network traffic in turn
        data = open(raw, "rb").read()
        outs = []
        for lba in (7, 100):
            outs.append(bt_run(q, "%d 2 SECTOR" % lba))
            outs.append(bt_run(q, 'S" 10.0.2.2" PING .'))
        tap(all("fnv " + fnv(data[lba * 512:(lba + 1) * 512]) in outs[2 * i]
                for i, lba in enumerate((7, 100))) and
            all(re.search(r"PING \. \d+ ", o) for o in outs[1::2]),
            "INTx line shared (SPI 36: virtio-net slot 1 and virtio-blk slot 9): sectors and "
            "PINGs in turn", "\n".join(outs))
    except Exception as e:  # noqa: BLE001
        tap(False, "INTx line shared by virtio-net and virtio-blk", e)
    try:
        try:
            command(q, ": echo begin RECV 1+ PARENT SEND again ; ' echo SPAWN VALUE eid 41 eid SEND RECV .",
                    rb"RECV \. 42  ok\r\n")
        except Exception as e:  # noqa: BLE001
            bt.tap(False, "a background VM answers messages", e)
            return
        for word, pats in (("FAULT-X", [rb"EXCEPTION: instruction abort \(EC 0x21\)",
                                        rb"permission fault, level 3, instruction fetch", BT]),
                           ("FAULT-RO", [rb"EXCEPTION: data abort \(EC 0x25\)",
                                         rb"permission fault, level 3, write", BT]),
                           ("FAULT-UD", [rb"EXCEPTION: ", rb"task: forth-\d+"])):
            try:
                start = len(q.out)
                q.write(("' %s SPAWN JOIN ." % word).encode() + b"\r")
                for p in pats:
                    q.expect(p, timeout=60, start=start)
                q.expect(rb"\*\*\* task forth-\d+ ends; the kernel and the other tasks go on",
                         timeout=30, start=start)
                q.expect(rb"-304  ok\r\n", timeout=30, start=start)
                command(q, "2 3 + .", rb"2 3 \+ \. 5  ok\r\n")
                bt.tap(True, "%s in a SPAWNed VM: a dump, that task ends (JOIN gives -304), "
                       "the shell answers" % word)
            except Exception as e:  # noqa: BLE001
                bt.tap(False, "%s in a SPAWNed VM ends only that task" % word, e)
                return
        try:
            command(q, "99 eid SEND RECV .", rb"RECV \. 100  ok\r\n", timeout=60)
            start = len(q.out)
            q.write(b"OVERFLOW\r")
            for p in (rb"EXCEPTION: data abort", rb"stack guard page",
                      rb"stack overflow of task overflow-test", rb"task: overflow-test",
                      rb"backtrace \(frame records\):\r\n  [0-9a-f]{16}  mneme\.efi\+0x",
                      rb"\*\*\* task overflow-test ends"):
                q.expect(p, timeout=60, start=start)
            q.expect(rb" ok\r\n", timeout=60, start=start)
            command(q, "2 3 + .", rb"2 3 \+ \. 5  ok\r\n")
            bt.tap(True, "OVERFLOW: a kernel task overflowing its stack ends alone; "
                   "the background VM still answers")
        except Exception as e:  # noqa: BLE001
            bt.tap(False, "OVERFLOW ends only its task", e)
            return
        try:
            start = len(q.out)
            q.write(b"FAULT\r")
            for p in (rb"EXCEPTION: data abort \(EC 0x25\)",
                      rb"FAR\) 0000000000000010: translation fault, level \d, read",
                      rb"task: console", rb"pc  [0-9a-f]{16}", BT, rb"\*\*\* task console ends"):
                q.expect(p, timeout=60, start=start)
            command(q, "7 6 * .", rb"42  ok\r\n", timeout=60)
            bt.tap(True, "FAULT in the console's VM ends that session; the next line runs in a new one")
        except Exception as e:  # noqa: BLE001
            bt.tap(False, "FAULT in the console's VM ends only that session", e)
    finally:
        q.close()


def main():
    if not os.path.exists(IMAGE):
        print("not ok - no image %s (make image ARCH=aarch64)" % IMAGE)
        return 1
    main_boot()
    llm_boot()
    sermux_boot()
    fault_tasks()
    fault_boot("FAULT-CLI", "a fault with IRQs masked (kernel critical code)",
               [rb"EXCEPTION: data abort \(EC 0x25\)",
                rb"FAR\) 0000000000000010: translation fault, level \d, read",
                rb"task: console", rb"pc  [0-9a-f]{16}", BT], el2=True)
    print("# %d of %d passed" % (sum(bt.results), len(bt.results)))
    return 0 if all(bt.results) else 1


if __name__ == "__main__":
    sys.exit(main())
