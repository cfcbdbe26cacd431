"""mneme_host.py: the hosted kernel as a child process, for the Python
end-to-end tests, with readiness waits and fast, clear failures.

Hosted starts build/hosted/mneme with its serial line on `tcp:0` and
reads its log (stderr) in a thread: the kernel is ready for a client once
it logs "serial: listening on 127.0.0.1:N" (which names the port), and
every wait ends at once with KernelGone if the process exits, naming its
exit status and the last log lines. Mux is the host side of the serial
mux (frames COBS(port u16 LE || payload) 00) with its own reader thread.

Tap prints TAP lines; a test whose kernel is gone or whose step cannot
succeed says so once ("not ok - ...") instead of timing out check after
check.
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mneme_wire import cobs_decode, cobs_encode  # noqa: E402

O = os.environ.get("O", "build/hosted")
# Upper bound for one answer; generous for a loaded machine and ASan.
TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "20"))


class KernelGone(Exception):
    """The kernel process exited or closed its serial line."""


class StepFailed(Exception):
    """A wait timed out: the rest of this step cannot succeed."""


class Tap:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, cond, what):
        """One TAP line (cut at 300 characters); lines after the first
        of what (details such as a log tail) follow as comments."""
        first, _, more = what.partition("\n")
        if len(first) > 300:
            first = first[:300] + "..."
        if cond:
            self.passed += 1
        else:
            self.failed += 1
        print(("ok - " if cond else "not ok - ") + first, flush=True)
        if more:
            print(more, flush=True)
        return cond

    def step(self, name, fn, *args):
        """Runs one step; a timeout or a gone kernel is one failure. A
        gone kernel ends the test (re-raised)."""
        try:
            fn(*args)
        except StepFailed as e:
            self.check(False, f"{name}: {e}")
        except KernelGone as e:
            self.check(False, f"{name}: {e}")
            e.reported = True
            raise

    def exit_code(self):
        return 1 if self.failed else 0


class Hosted:
    """build/hosted/mneme with the serial line on TCP (a free port)."""

    def __init__(self, *args, heap="8M", log_path=None, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL):
        self.args = [f"{O}/mneme", "--heap", heap, "--serial", "tcp:0", *args]
        self.p = subprocess.Popen(self.args, stdin=stdin, stdout=stdout,
                                  stderr=subprocess.PIPE)
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.log = open(log_path, "w") if log_path else None
        threading.Thread(target=self._read_log, daemon=True).start()
        m = self.wait_log(rb"serial: listening on 127\.0\.0\.1:(\d+)")
        self.port = int(m.group(1))

    def _read_log(self):
        for line in iter(self.p.stderr.readline, b""):
            if self.log:
                self.log.write(line.decode(errors="replace"))
                self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def gone_message(self):
        rc = self.p.poll()
        tail = b"".join(self.lines[-8:]).decode(errors="replace").rstrip()
        return (f"the kernel exited (status {rc})" if rc is not None
                else "the kernel closed its log") + \
            (": last log lines:\n#   " + tail.replace("\n", "\n#   ") if tail else "")

    def wait_log(self, pattern, timeout=TIMEOUT, start=0):
        """Waits for a log line matching pattern (bytes regex); returns
        the match. KernelGone if the process ends first, StepFailed on
        timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    i += 1
                    if m:
                        return m
                if self.eof:
                    raise KernelGone(self.gone_message())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StepFailed(f"no log line {pattern!r} within {timeout:g} s")
                self.cond.wait(left)

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(None)
        return s

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        if self.log:
            self.log.close()


class Mux:
    """The host side of the serial mux over one connection to k."""

    def __init__(self, k):
        self.k = k
        self.s = k.connect()
        self.lock = threading.Condition()
        self.data = {}
        self.closed = False
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        wire = b""
        while True:
            try:
                chunk = self.s.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self.lock:
                    self.closed = True
                    self.lock.notify_all()
                return
            wire += chunk
            *frames, wire = wire.split(b"\0")
            with self.lock:
                for f in frames:
                    try:
                        f = cobs_decode(f)
                    except (ValueError, IndexError):
                        continue
                    if len(f) >= 2:
                        port = f[0] | f[1] << 8
                        self.data[port] = self.data.get(port, b"") + f[2:]
                self.lock.notify_all()

    def send(self, port, data):
        try:
            for i in range(0, len(data), 200):
                self.s.sendall(cobs_encode(bytes([port & 255, port >> 8]) + data[i:i + 200]) + b"\0")
        except OSError as e:
            raise KernelGone(f"sending to port {port}: {e!r}; " + self.k.gone_message())

    def take(self, port):
        with self.lock:
            d = self.data.get(port, b"")
            self.data[port] = b""
            return d

    def expect(self, port, pattern, timeout=TIMEOUT, keep=None, must=True):
        """Waits until port's output matches pattern (bytes regex); returns
        the output up to the end of the match (consumed). On timeout:
        StepFailed if must, else None. KernelGone if the connection or the
        process ends. keep: drop all but the last keep bytes while waiting
        (endless output)."""
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                d = self.data.get(port, b"")
                m = rx.search(d)
                if m:
                    self.data[port] = d[m.end():]
                    return d[:m.end()]
                if keep is not None and len(d) > keep:
                    self.data[port] = d[-keep:]
                if self.closed or not self.k.alive():
                    raise KernelGone(f"waiting for {pattern!r} on port {port}: " +
                                     self.k.gone_message())
                left = deadline - time.monotonic()
                if left <= 0:
                    if not must:
                        return None
                    raise StepFailed(f"port {port}: no {pattern!r} within {timeout:g} s "
                                     f"(got {d[-120:]!r}; the kernel is running)")
                self.lock.wait(min(left, 1.0))  # also notices a dead process

    def run(self, port, line, pattern, timeout=TIMEOUT):
        self.send(port, line.encode() if isinstance(line, str) else line)
        return self.expect(port, pattern, timeout)

    def close(self):
        self.s.close()
