#!/usr/bin/env python3
"""qemu.py: boots mneme's disk image under QEMU (TCG; OVMF on x86_64,
AAVMF on aarch64) for tests and benchmarks.

The serial port is a Unix socket (QEMU waits for us to connect before it
starts the machine, so no byte is lost); the human monitor is a second
socket, used for `sendkey` and `screendump`. QEMU is started as our child
and killed by its own PID when the test ends or its time is up.

Also usable by hand: `qemu.py IMAGE` boots and copies serial to stdout
(`--arch aarch64` for the ARM image).
"""
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

OVMF_CODE_CANDIDATES = [
    "/usr/share/OVMF/OVMF_CODE_4M.fd",
    "/usr/share/OVMF/OVMF_CODE.fd",
    "/usr/share/ovmf/OVMF.fd",
]


AAVMF_CODE_CANDIDATES = [
    "/usr/share/AAVMF/AAVMF_CODE.fd",
]


def line_server(timeout=600):
    """A one-connection line server on 127.0.0.1 for a guest to reach
    through QEMU's guestfwd: reads a line, answers HOST-SAYS: and the line
    in capitals. Returns (port, thread, lines seen, listening socket)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(timeout)
    seen = []

    def serve():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        with c:
            # QEMU's guestfwd connects when QEMU starts, long before the
            # guest writes (the boot takes minutes on a loaded machine).
            c.settimeout(timeout)
            data = b""
            while b"\n" not in data:
                d = c.recv(4096)
                if not d:
                    break
                data += d
            seen.append(data)
            c.sendall(b"HOST-SAYS:" + data.strip().upper() + b"\n")
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv.getsockname()[1], t, seen, srv


def find_ovmf(arch="x86_64"):
    """Returns (code, vars) firmware paths from the ovmf package (aarch64:
    qemu-efi-aarch64's AAVMF), or None."""
    for code in (AAVMF_CODE_CANDIDATES if arch == "aarch64" else OVMF_CODE_CANDIDATES):
        if os.path.exists(code):
            # the template of the same flash size (4 MiB code, 4 MiB vars)
            var = code.replace("CODE", "VARS")
            return code, (var if var != code and os.path.exists(var) else None)
    return None


class Qemu:
    def __init__(self, image, mem_mb=256, extra=(), timeout=120, gui=False,
                 arch="x86_64", vars_file=None, prefix=()):
        """vars_file: a UEFI variables file kept by the caller (made from the
        template when missing), for tests that reboot with the same
        variables; default: a fresh copy for this run. prefix: a command
        that execs QEMU (`ip netns exec NS`: QEMU in a network namespace)."""
        fw = find_ovmf(arch)
        if not fw:
            raise RuntimeError("UEFI firmware not found (install ovmf / qemu-efi-aarch64)")
        self.dir = tempfile.mkdtemp(prefix="mneme-qemu-")
        self.serial_path = os.path.join(self.dir, "serial")
        self.monitor_path = os.path.join(self.dir, "monitor")
        code, var = fw
        if arch == "aarch64":
            # virt with a GICv3 (gic=2 in extra: "-machine" is taken from
            # there when given); ramfb is the GOP framebuffer; semihosting
            # lets plat_halt set QEMU's exit status.
            machine = next((extra[i + 1] for i in range(len(extra) - 1)
                            if extra[i] == "-machine"), "virt,gic-version=3")
            extra = [x for i, x in enumerate(extra) if x != "-machine" and
                     (i == 0 or extra[i - 1] != "-machine")]
            cmd = ["qemu-system-aarch64", "-machine", machine, "-cpu", "max",
                   "-m", str(mem_mb), "-no-reboot", "-nic", "none",
                   "-device", "ramfb",
                   "-semihosting-config", "enable=on,target=native",
                   "-drive", "if=pflash,format=raw,readonly=on,file=" + code]
        else:
            cmd = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max",
                   "-m", str(mem_mb), "-no-reboot", "-nic", "none",
                   "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                   "-drive", "if=pflash,format=raw,readonly=on,file=" + code]
        if var:
            vcopy = vars_file or os.path.join(self.dir, "vars.fd")
            if not os.path.exists(vcopy):
                shutil.copy(var, vcopy)
            cmd += ["-drive", "if=pflash,format=raw,file=" + vcopy]
        cmd += ["-drive", "format=raw,snapshot=on,file=" + image,
                "-serial", "unix:%s,server=on,wait=on" % self.serial_path,
                "-monitor", "unix:%s,server=on,wait=off" % self.monitor_path]
        if not gui:
            cmd += ["-display", "none"]
        cmd += list(extra)
        self.deadline = time.monotonic() + timeout
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(list(prefix) + cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.serial = self._connect(self.serial_path)
        self.t_start = time.monotonic()  # the machine starts now
        self.t_first_byte = None
        self.monitor = None
        self.out = b""
        # A reader thread drains the serial socket all the time: QEMU's UART
        # stalls the guest when nobody reads (even during monitor commands).
        self._cond = threading.Condition()
        self._eof = False
        self._reader = threading.Thread(target=self._read_serial, daemon=True)
        self._reader.start()

    def _read_serial(self):
        while True:
            try:
                data = self.serial.recv(65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                if self.t_first_byte is None:
                    self.t_first_byte = time.monotonic()
                self.out += data
                self._cond.notify_all()

    def _connect(self, path):
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("QEMU exited: %s" %
                                   self.proc.stdout.read().decode(errors="replace"))
            if time.monotonic() > self.deadline:
                raise TimeoutError("cannot connect to " + path)
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                return s
            except OSError:
                s.close()
                time.sleep(0.05)

    def _pump(self, wait):
        """Waits up to wait seconds for more serial output: True if some
        arrived, False if not, None at the end of the stream."""
        with self._cond:
            n = len(self.out)
            if self._eof:
                return None
            self._cond.wait(wait)
            if len(self.out) > n:
                return True
            return None if self._eof else False

    def expect(self, pattern, timeout=None, start=0):
        """Waits until regex pattern (bytes) matches the serial output from
        offset start; returns the match. Raises TimeoutError."""
        end = self.deadline if timeout is None else min(self.deadline,
                                                        time.monotonic() + timeout)
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.out, start)
            if m:
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("waiting for %r; got %r" % (pattern, self.out[-300:]))
            if self._pump(min(left, 0.5)) is None:
                m = rx.search(self.out, start)
                if m:
                    return m
                raise EOFError("serial closed waiting for %r; got %r" % (pattern, self.out[-300:]))

    def write(self, data):
        self.serial.sendall(data)

    def hmp(self, command, settle=0.3):
        """Runs a human-monitor command; returns its text output."""
        if self.monitor is None:
            self.monitor = self._connect(self.monitor_path)
            self._hmp_read(1.0)
        self.monitor.sendall(command.encode() + b"\n")
        return self._hmp_read(settle)

    def _hmp_read(self, settle):
        buf = b""
        end = time.monotonic() + 10
        while time.monotonic() < end:
            r, _, _ = select.select([self.monitor], [], [], settle)
            if not r:
                if buf.rstrip().endswith(b"(qemu)"):
                    break
                continue
            d = self.monitor.recv(65536)
            if not d:
                break
            buf += d
        return buf.decode(errors="replace")

    def sendkeys(self, text):
        """Types text through the PS/2 keyboard (QEMU sendkey)."""
        names = {" ": "spc", "\n": "ret", ".": "dot", ",": "comma", "-": "minus",
                 "/": "slash", "=": "equal", ";": "semicolon", "'": "apostrophe"}
        shifted = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6",
                   "&": "7", "*": "8", "(": "9", ")": "0", "_": "minus",
                   "+": "equal", ":": "semicolon", '"': "apostrophe", "?": "slash"}
        for ch in text:
            if ch in names:
                key = names[ch]
            elif ch in shifted:
                key = "shift-" + shifted[ch]
            elif ch.isupper():
                key = "shift-" + ch.lower()
            else:
                key = ch
            self.hmp("sendkey " + key, settle=0.05)

    def screendump(self):
        """Returns (width, height, rgb bytes) of the display."""
        path = os.path.join(self.dir, "screen.ppm")
        self.hmp("screendump " + path, settle=0.5)
        for _ in range(50):
            if os.path.exists(path) and os.path.getsize(path) > 15:
                break
            time.sleep(0.1)
        return read_ppm(path)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()  # by its own PID
        self.proc.wait()
        self._reader.join(5)
        for s in (self.serial, self.monitor):
            if s:
                s.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def read_ppm(path):
    data = open(path, "rb").read()
    parts = data.split(maxsplit=4)
    if parts[0] != b"P6":
        raise ValueError("not a binary PPM")
    w, h, maxval = int(parts[1]), int(parts[2]), int(parts[3])
    if maxval != 255:
        raise ValueError("unexpected PPM depth")
    pixels = parts[4]
    return w, h, pixels[: w * h * 3]


def main():
    import argparse
    ap = argparse.ArgumentParser(description="boot mneme's image, serial to stdout")
    ap.add_argument("image")
    ap.add_argument("mem_mb", nargs="?", type=int, default=256)
    ap.add_argument("--until", help="stop once serial output matches this regex")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--arch", default="x86_64", choices=["x86_64", "aarch64"])
    a = ap.parse_args()
    q = Qemu(a.image, a.mem_mb, timeout=a.timeout, arch=a.arch)
    try:
        if a.until:
            m = q.expect(a.until.encode())
            sys.stdout.buffer.write(q.out[: m.end()])
            return
        shown = 0
        while q._pump(1.0) is not None:
            with q._cond:
                data = q.out[shown:]
                shown = len(q.out)
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    finally:
        q.close()


if __name__ == "__main__":
    main()
