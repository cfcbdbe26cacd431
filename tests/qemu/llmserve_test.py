#!/usr/bin/env python3
"""llmserve_test.py: mneme on x86_64 under QEMU (TCG, -smp 2 multi-threaded)
as an inference appliance: the image (LLMSERVE_IMG) carries stories260K
and serve=8080 on its command line; QEMU's user network (restrict=on:
nothing leaves the machine) forwards 127.0.0.1:PORT to the guest's 8080.
Once the server listens and DHCP has bound, tests/llmserve/clients.sh runs
curl and the official openai npm client against it (streamed and not,
models, errors, a cancel, floods of requests and garbage); the greedy
answer must equal mneme-infer --chat's with the kernels mneme chose. Then
the kernel must still be running with no panic or fault. TAP lines.
"""
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from qemu import Qemu  # noqa: E402

IMAGE = os.environ["LLMSERVE_IMG"]
MODEL = os.environ["LLMSERVE_MODEL"]
INFER = os.path.join(os.environ.get("O", "build/hosted"), "mneme-infer")
n = 0


def tap(ok, what, detail=""):
    global n
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, what), flush=True)
    if not ok and detail:
        for line in str(detail).splitlines()[-20:]:
            print("#   " + line, flush=True)
    return ok


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    port = free_port()
    net = ["-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:8080" % port,
           "-device", "virtio-net-pci,netdev=n0",
           "-smp", "2", "-accel", "tcg,thread=multi"]
    q = Qemu(IMAGE, mem_mb=512, extra=net, timeout=900)
    try:
        try:
            m = q.expect(rb"llm-local: .* kernels (\w+),", timeout=300)
            kernels = m.group(1).decode()
            q.expect(rb"llmserve: OpenAI-compatible server listening on port 8080", timeout=120)
            q.expect(rb"net: virtio-net0 address", timeout=120)
        except (TimeoutError, EOFError) as e:
            tap(False, "mneme boots with the model and serve=8080", e)
            return 1
        tap(True, "mneme boots with the model and serve=8080 (kernels %s, host port %d)"
            % (kernels, port))
        ref = subprocess.run([INFER, "-m", MODEL, "-p", "Once upon a time", "-n", "16",
                              "--temp", "0", "--chat", "--kernels", kernels],
                             capture_output=True, timeout=120)
        if not tap(ref.returncode == 0, "mneme-infer --chat --kernels %s" % kernels, ref.stderr):
            return 1
        text = ref.stdout.decode("utf-8")
        text = text[:-1] if text.endswith("\n") else text
        exp = os.path.join(q.dir, "expected.txt")
        with open(exp, "w", encoding="utf-8") as f:
            f.write(text)
        r = subprocess.run(["tests/llmserve/clients.sh", str(port), exp],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1200)
        for line in r.stdout.decode(errors="replace").splitlines():
            if line.startswith("1.."):
                continue
            # renumber the clients' TAP lines into this script's
            mm = re.match(r"^(not ok|ok)(?: \d+)? - (.*)$", line)
            if mm:
                tap(mm.group(1) == "ok", mm.group(2))
            else:
                print(line if line.startswith("#") else "# " + line, flush=True)
        tap(r.returncode == 0, "every client check passed")
        out = q.out.decode(errors="replace")
        bad = re.search(r"panic:|fault address|exception \d+|stack overflow", out)
        tap(q.proc.poll() is None and not bad, "the kernel runs on, no panic or fault",
            out[-1500:] if bad else "QEMU exited")
    finally:
        q.close()
    print("1..%d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
