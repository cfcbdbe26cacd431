#!/usr/bin/env python3
"""llm_test.py: the inference engine inside mneme on x86_64 under QEMU.

Run by tests/qemu/llm.sh, which builds the images. Prints TAP lines:

- the greedy continuation printed by GENERATE on the serial shell equals
  the hosted tool's (build/hosted/mneme-infer --temp 0, run now), for
  stories260K F32 (image LLM_IMG_F32), with 1, 2 and 4 cores (-smp under
  multi-threaded TCG: the parallel-for runs on the other cores);
- a model larger than the memory is refused with a clear message and the
  shell keeps working (image LLM_IMG_BIG, 128 MiB of RAM);
- two shells (sermux ports 10 and 11, image LLM_IMG_PAR, stories260K
  Q8_0) generating at the same time give the same text as each alone, and
  as the hosted tool.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../test"))
from qemu import Qemu  # noqa: E402
from mneme_wire import cobs_decode, cobs_encode  # noqa: E402

O = os.environ.get("O", "build/hosted")
MODELS = os.environ.get("LLM_MODELS", "../shared/testdata/llm/models")
PROMPTS = [("Once upon a time", 48), ("The little dog", 32)]
results = []


def tap(ok, what, detail=""):
    results.append(ok)
    print("%s - %s" % ("ok" if ok else "not ok", what))
    if detail and not ok:
        for line in str(detail).splitlines()[-12:]:
            print("#   " + line)
    sys.stdout.flush()


def hosted(model, prompt, n, kernels=None):
    """The hosted tool's greedy continuation (its stdout ends in a newline),
    with the kernels mneme chose (SIMD variants may round differently)."""
    # llm-local repacks the weights once (shared by its conversations), as
    # mneme-infer does by default
    cmd = [O + "/mneme-infer", "-m", model, "-p", prompt, "-n", str(n), "--temp", "0", "-t", "1"]
    if kernels:
        cmd += ["--kernels", kernels]
    out = subprocess.run(cmd, capture_output=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError("mneme-infer failed: " + out.stderr.decode(errors="replace"))
    text = out.stdout.decode(errors="replace")
    return text[:-1] if text.endswith("\n") else text


def generate_cmd(prompt, n):
    return 'S" %s" %d GENERATE' % (prompt, n)


def parse_generate(out):
    """The text GENERATE printed: after the echoed line (if the shell
    echoes), between a new line and ' ok'."""
    out = out.replace("\r\n", "\n")
    if "GENERATE \n" in out:
        out = out[out.index("GENERATE \n") + len("GENERATE "):]
    m = re.match(r"\n(.*)\n ok\n", out, re.S)
    return m.group(1) if m else None


def serial_run(q, line, timeout=300):
    start = len(q.out)
    q.write(line.encode() + b"\r")
    q.expect(rb" ok\r\n", timeout=timeout, start=start + len(line))
    return q.out[start:].decode(errors="replace")


def test_serial(image, model, smp, prompts):
    """GENERATE on the serial shell against the hosted tool."""
    extra = ["-smp", str(smp), "-accel", "tcg,thread=multi"] if smp > 1 else []
    q = Qemu(image, mem_mb=256, extra=extra, timeout=900)
    name = os.path.basename(model)
    try:
        kernels = q.expect(rb"llm-local: .* kernels (\w+),", timeout=300).group(1).decode()
        q.expect(rb"llm-local: model ", timeout=300)
        q.expect(rb" ok\r\n", timeout=300)
        if smp > 1:
            m = q.expect(rb"smp: (\d+) cores", timeout=60)
            tap(int(m.group(1)) == smp, "-smp %d: every core started" % smp, q.out[-800:])
            out = serial_run(q, "CPU")
            cores = re.findall(r"cpu (\d+) apic", out)
            tap(len(cores) == smp, "-smp %d: CPU lists %d cores" % (smp, smp), out)
            out = serial_run(q, "STATUS")
            tap(("cores %d:" % smp) in out and len(re.findall(r"cpu \d+ apic", out)) == smp,
                "-smp %d: STATUS shows every core" % smp, out)
        for prompt, n in prompts:
            want = hosted(model, prompt, n, kernels)
            out = serial_run(q, generate_cmd(prompt, n), timeout=600)
            got = parse_generate(out)
            tap(got == want, "%s -smp %d (%s): GENERATE %r %d equals mneme-infer's greedy output"
                % (name, smp, kernels, prompt, n), "got  %r\nwant %r" % (got, want))
        if smp > 1:
            out = serial_run(q, "CPU")
            jobs = [int(j) for j in re.findall(r"cpu [1-9]\d* apic \d+ +\w+ +jobs (\d+)", out)]
            tap(len(jobs) == smp - 1 and all(j > 0 for j in jobs),
                "%s -smp %d: every other core ran parallel-for jobs %s" % (name, smp, jobs), out)
        out = serial_run(q, "2 3 + .")
        tap("5" in out, "%s -smp %d: the shell works after generating" % (name, smp), out)
        if smp == 2:  # Ctrl-C cancels a long generation
            start = len(q.out)
            q.write(generate_cmd("Once upon a time", 5000).encode() + b"\r")
            q.expect(rb"GENERATE \r\n.", timeout=300, start=start)
            q.write(b"\x03")
            # A line typed while the interrupt is pending is aborted by it
            # (THROW -28): type until the shell answers.
            for attempt in range(6):
                at = len(q.out)
                q.write(b"1 .\r")
                try:
                    q.expect(rb"1  ok\r\n", timeout=20, start=at)
                    break
                except TimeoutError:
                    if attempt == 5:
                        raise
            out = serial_run(q, "LLM-STATS")
            m = re.search(r"generated (\d+) tokens.*finish (\w+)", out)
            tap(m is not None and m.group(2) == "cancelled" and int(m.group(1)) < 5000,
                "-smp %d: Ctrl-C cancels a generation" % smp, out)
        if smp > 1:  # a fault on the last core: a dump that names it, then a halt
            # -smp 2: a stack overflow into the AP's guard page; else a read of 0x10
            ovf = smp == 2
            start = len(q.out)
            q.write(b"%d %s\r" % (smp - 1, b"OVERFLOW-CPU" if ovf else b"FAULT-CPU"))
            m = q.expect(rb"EXCEPTION 14: #PF page fault[^\r\n]* on cpu (\d+)", timeout=120,
                         start=start)
            q.expect(rb"machine halted", timeout=60, start=start)
            rc = q.wait_exit(60)
            dump = q.out[start:].decode(errors="replace")
            named = not ovf or ("stack overflow of cpu %d's stack" % (smp - 1)) in dump
            tap(int(m.group(1)) == smp - 1 and rc == 7 and named,
                "-smp %d: %s on cpu %d prints a dump naming it and stops QEMU (status %s)"
                % (smp, "a stack overflow (guard page)" if ovf else "a fault", smp - 1, rc), dump)
    except (TimeoutError, EOFError, RuntimeError) as e:
        tap(False, "%s -smp %d: GENERATE on the serial shell" % (name, smp),
            "%s\n%s" % (e, q.out[-1500:]))
    finally:
        q.close()


def test_too_big(image):
    q = Qemu(image, mem_mb=128, timeout=300)
    try:
        m = q.expect(rb"model (\S+) refused: ([^\r\n]*)\r\n", timeout=300)
        tap(m.group(1) == b"big.gguf" and b"does not fit in memory" in m.group(2),
            "a model larger than the memory is refused: " + m.group(0).decode(errors="replace"))
        q.expect(rb" ok\r\n", timeout=300)
        out = serial_run(q, generate_cmd("Once upon a time", 8))
        tap("GENERATE: llm-local: no model loaded" in out,
            "GENERATE without a model says so", out)
        out = serial_run(q, "6 7 * .")
        tap("42" in out, "the shell keeps working", out)
    except (TimeoutError, EOFError) as e:
        tap(False, "a model larger than the memory is refused", "%s\n%s" % (e, q.out[-1500:]))
    finally:
        q.close()


class Mux:
    """sermux frames (COBS(port u16 LE || payload) 00) over QEMU's serial."""

    def __init__(self, q):
        self.q = q
        self.pos = 0
        self.wire = b""
        self.data = {}
        self.frames = []  # the port of every frame, in arrival order

    def poll(self):
        new = self.q.out[self.pos:]
        self.pos += len(new)
        self.wire += new
        *frames, self.wire = self.wire.split(b"\0")
        for f in frames:
            try:
                f = cobs_decode(f)
            except (ValueError, IndexError):
                continue  # text before sermux started, log lines
            if len(f) >= 2:
                port = f[0] | f[1] << 8
                self.data[port] = self.data.get(port, b"") + f[2:]
                self.frames.append(port)

    def send(self, port, data):
        for i in range(0, len(data), 200):
            self.q.write(cobs_encode(bytes([port & 255, port >> 8]) + data[i:i + 200]) + b"\0")

    def expect(self, port, pattern, timeout, consume=True):
        """Waits for pattern on port; returns what came up to its end."""
        rx = re.compile(pattern, re.S)
        end = time.monotonic() + timeout
        while True:
            self.poll()
            d = self.data.get(port, b"")
            m = rx.search(d)
            if m:
                if consume:
                    self.data[port] = d[m.end():]
                return d[:m.end()].decode(errors="replace")
            if time.monotonic() > end:
                raise TimeoutError("port %d waiting for %r; got %r" % (port, pattern, d[-300:]))
            self.q._pump(0.2)


def test_parallel(image, model):
    q = Qemu(image, mem_mb=256, timeout=600)
    try:
        q.expect(rb"llm-local: model ", timeout=300)
        mux = Mux(q)
        for port in (10, 11):  # each shell answers
            # (the first frame follows boot text without a delimiter and
            # is lost: ask again if the answer does not come)
            for attempt in range(4):
                mux.send(port, b"1 .\n")
                try:
                    mux.expect(port, rb"1  ok\r\n", 20 if attempt < 3 else 120)
                    break
                except TimeoutError:
                    if attempt == 3:
                        raise
        (p1, n1), (p2, n2) = ("Once upon a time", 160), ("The little dog", 160)
        alone = []
        for port, p, n in ((10, p1, n1), (11, p2, n2)):
            mux.send(port, (generate_cmd(p, n) + "\n").encode())
            alone.append(parse_generate(mux.expect(port, rb"\n ok\r\n", 300)))
        want = [hosted(model, p1, n1), hosted(model, p2, n2)]
        tap(alone == want, "each shell alone: GENERATE equals mneme-infer's output",
            "got  %r\nwant %r" % (alone, want))
        # Both at once.
        mux.poll()
        first = len(mux.frames)
        mux.send(10, (generate_cmd(p1, n1) + "\n").encode())
        mux.send(11, (generate_cmd(p2, n2) + "\n").encode())
        both = [parse_generate(mux.expect(10, rb"\n ok\r\n", 300)),
                parse_generate(mux.expect(11, rb"\n ok\r\n", 300))]
        # Overlap: their output frames interleave on the line.
        seq = mux.frames[first:]
        a = [i for i, p in enumerate(seq) if p == 10]
        b = [i for i, p in enumerate(seq) if p == 11]
        overlap = bool(a and b and min(b) < max(a) and min(a) < max(b))
        tap(both == alone, "two shells generating at the same time give the same text as alone"
            + ("" if overlap else " (they did not overlap this time)"),
            "got  %r\nwant %r" % (both, alone))
    except (TimeoutError, EOFError) as e:
        tap(False, "two shells generating at the same time", "%s\n%s" % (e, q.out[-1500:]))
    finally:
        q.close()


def main():
    f32 = os.path.join(MODELS, "stories260K-f32.gguf")
    q8 = os.path.join(MODELS, "stories260K-q8_0.gguf")
    d256 = os.path.join(MODELS, "synth-llama-d256-q8_0.gguf")
    test_serial(os.environ["LLM_IMG_F32"], f32, 1, PROMPTS)
    # A model whose matmuls are big enough for the parallel-for: the same
    # tokens with 1, 2 and 4 cores. The prompt's 20-odd tokens make one
    # batch big enough for the row jobs between the matmuls to go parallel.
    long_prompt = "Once upon a time there was a little girl named Lily. She loved to play outside in the park"
    for smp in [int(x) for x in os.environ.get("LLM_SMP", "1 2 4").split()]:
        test_serial(os.environ["LLM_IMG_D256"], d256, smp, [(long_prompt, 8)])
    test_too_big(os.environ["LLM_IMG_BIG"])
    test_parallel(os.environ["LLM_IMG_PAR"], q8)
    print("# %d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
