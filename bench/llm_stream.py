#!/usr/bin/env python3
"""bench/llm_stream.sh: see there. The chat screen's figures come from
test/chat_bench_client.c (its glyphs drawn into a memory framebuffer). The mock server (test/llm_remote_mock.py's
MockServer) sends each event in one write and notes CLOCK_MONOTONIC just
before handing it to the socket; the client notes the same clock when it reads the
text from the ring (llm_remote_client with LLM_CLIENT_TIMES=1), curl when
its output reaches this script's pipe."""
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))
from llm_remote_mock import MockServer, sse  # noqa: E402

O = os.environ.get("O", "build/hosted")
N = int(os.environ.get("LLM_BENCH_EVENTS", "500"))
PACE = float(os.environ.get("LLM_BENCH_PACE_MS", "2")) / 1000.0
W = 6  # bytes of text per event: "e0001 "

runs = {}


def handler(srv, c, method, path, headers, body):
    run = path.split("/")[2]
    sent = runs.setdefault(run, [])
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
    nxt = time.monotonic()
    for i in range(N):
        ev = sse("", {"choices": [{"index": 0, "delta": {"content": "e%04d " % i},
                                   "finish_reason": None}]})
        now = time.monotonic()
        if nxt > now:
            time.sleep(nxt - now)    # a fixed pace (late events do not shift the rest)
        t = time.monotonic()         # the event goes on the wire now
        c.sendall(ev)
        sent.append(t)
        nxt += PACE
    c.sendall(sse("", {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}) +
              b"data: [DONE]\n\n")


def latencies(sent, arrivals):
    """arrivals: (t, total bytes) in order -> per event latency (s)."""
    out, k = [], 0
    for i, ts in enumerate(sent):
        need = (i + 1) * W
        while k < len(arrivals) and arrivals[k][1] < need:
            k += 1
        if k == len(arrivals):
            break
        out.append(arrivals[k][0] - ts)
    return out


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


def main():
    if not os.path.exists(f"{O}/llm_remote_client"):
        print(f"llm_stream: {O}/llm_remote_client missing")
        return 1
    if not shutil.which("curl"):
        print("llm_stream: curl missing (apt-get install curl)")
        return 1
    srv = MockServer(handler)
    base = f"http://127.0.0.1:{srv.port}/s"
    # curl -N: bytes as they come, timed here
    t0 = time.monotonic()
    p = subprocess.Popen(["curl", "-sN", "-w", "\n\n@@W %{time_starttransfer}\n", "-X", "POST", "-H", "Content-Type: application/json",
                          "--data", "{}", f"{base}/curl/v1/chat/completions"], stdout=subprocess.PIPE)
    carr, buf = [], b""
    total = 0
    first_curl = None
    while True:
        d = os.read(p.stdout.fileno(), 65536)
        if not d:
            break
        now = time.monotonic()
        buf += d
        # count text bytes of complete events seen so far
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            if b'"content": "e' in ev:
                total += W
                if first_curl is None:
                    first_curl = now - t0
                carr.append((now, total))
    p.wait()
    if b"@@W" in buf:   # curl's own measure: from its start to the first byte
        first_curl = float(buf.split(b"@@W")[1].split()[0])
    # mneme's llm-remote
    env = dict(os.environ, LLM_CLIENT_TIMES="1")
    q = subprocess.run([f"{O}/llm_remote_client", f"{base}/mneme", "openai", "1", "0", "60000", "go"],
                       capture_output=True, env=env, timeout=120)
    marr, t_req = [], None
    for ln in q.stderr.decode().splitlines():
        f = ln.split()
        if f and f[0] == "@@T0":
            t_req = int(f[1]) / 1e9
        elif f and f[0] == "@@T":
            marr.append((int(f[1]) / 1e9, int(f[2])))
    tail = q.stdout.decode().rpartition("@@ ")[2].strip()
    if not marr or t_req is None or not tail.startswith("FINISH stop"):
        print("llm_stream: the client failed: " + tail + q.stderr.decode()[-500:])
        return 1
    first_mneme = marr[0][0] - t_req
    lm = latencies(runs["mneme"], marr)
    lc = latencies(runs["curl"], carr)
    if len(lm) != N or len(lc) != N:
        print(f"llm_stream: events seen: mneme {len(lm)}, curl {len(lc)} of {N}")
        return 1
    mm, m99 = pct(lm, 0.5) * 1e6, pct(lm, 0.99) * 1e6
    cm, c99 = pct(lc, 0.5) * 1e6, pct(lc, 0.99) * 1e6
    print(f"llm_stream: {N} events every {PACE * 1000:.1f} ms")
    print(f"llm_stream: time to first token: mneme {first_mneme * 1000:.2f} ms, curl -N "
          f"{first_curl * 1000:.2f} ms: added {(first_mneme - first_curl) * 1000:+.2f} ms "
          f"(ratio {first_mneme / first_curl:.2f}; curl: time_starttransfer)")
    print(f"llm_stream: event last byte -> text in the client ring: median {mm:.0f} us, "
          f"p99 {m99:.0f} us; curl -N to its reader: median {cm:.0f} us, p99 {c99:.0f} us "
          f"(ratio median {mm / cm:.2f}, p99 {m99 / c99:.2f})")
    screen_path(base, runs, first_curl)
    kernel_path(base, runs)
    srv.close()
    return 0


def screen_path(base, runs, first_curl):
    """The chat screen's path (chat_bench_client): llm-remote, the chat
    core, the chat view laid out and its changed cells drawn as glyphs
    into a memory framebuffer (hosted; QEMU's screendump is too coarse a
    clock for per-event figures)."""
    import gzip
    import tempfile
    if not os.path.exists(f"{O}/chat_bench_client"):
        print(f"llm_stream: {O}/chat_bench_client missing: no chat screen figures")
        return
    font = os.environ.get("X86_FONT", "/usr/share/consolefonts/Lat15-Terminus16.psf.gz")
    if not os.path.exists(font):
        print(f"llm_stream: no console font {font} (apt-get install console-setup-linux)")
        return
    d = tempfile.mkdtemp(prefix="llm_stream.")
    data = open(font, "rb").read()
    with open(f"{d}/font.psf", "wb") as f:
        f.write(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    with open(f"{d}/settings.toml", "w") as f:
        f.write(f'[llm]\nprovider = "openai"\nbase_url = "{base}/screen"\nmodel = "mock-model"\n'
                f'api_key = "sk-bench-0000"\ntool_forth = false\n[wizard]\ndone = true\n')
    q = subprocess.run([f"{O}/chat_bench_client", f"{d}/settings.toml", f"{d}/font.psf", "go"],
                       capture_output=True, timeout=180)
    arr, t0 = [], None
    for ln in q.stderr.decode().splitlines():
        f = ln.split()
        if f and f[0] == "@@T0":
            t0 = int(f[1]) / 1e9
        elif f and f[0] == "@@T":
            arr.append((int(f[1]) / 1e9, int(f[2])))
    out = q.stdout.decode(errors="replace")
    if "@@ DONE finish=1 error=0" not in out or t0 is None or not arr or "e%04d" % (N - 1) not in out:
        print("llm_stream: the chat screen client failed: " + out[:300] + q.stderr.decode()[-500:])
        return
    lat = latencies(runs["screen"], arr)
    if len(lat) != N:
        print(f"llm_stream: chat screen: {len(lat)} of {N} events seen")
        return
    first = arr[0][0] - t0
    print(f"llm_stream: chat screen (chat core + chat view + glyphs into a 1280x800 memory "
          f"framebuffer, hosted), event last byte -> its glyphs drawn: median "
          f"{pct(lat, 0.5) * 1e6:.0f} us, p99 {pct(lat, 0.99) * 1e6:.0f} us; message sent -> first "
          f"glyphs {first * 1000:.2f} ms, added vs curl -N {(first - first_curl) * 1000:+.2f} ms "
          f"(ratio {first / first_curl:.2f})")


def kernel_path(base, runs):
    """The whole path in the hosted kernel: mneme --net slirp --llm, ASK on
    the console; arrival of each event's text on mneme's stdout."""
    import re
    import tempfile
    if not os.path.exists(f"{O}/mneme"):
        return
    with open("config/hosted.toml") as f:
        cfgtext = f.read()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    cfg.write(cfgtext)
    cfg.close()
    kbase = base.replace("127.0.0.1", "10.0.2.2")
    p = subprocess.Popen([f"{O}/mneme", "--serial", "none", "--net", "slirp", "--config", cfg.name,
                          "--llm", f"openai,{kbase}/kernel,mock-model"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = b""
    try:
        while b"slirp0 address" not in buf:
            d = os.read(p.stdout.fileno(), 65536)
            if not d:
                print("llm_stream: mneme ended before its network came up")
                return
            buf += d
        t_ask = time.monotonic()
        p.stdin.write(b'S" go" ASK\n')
        p.stdin.flush()
        seen, arr, buf = 0, [], b""
        rx = re.compile(rb"e(\d{4}) ")
        while b"ASK: " not in buf:
            d = os.read(p.stdout.fileno(), 65536)
            if not d:
                break
            now = time.monotonic()
            buf += d
            for m in rx.finditer(buf, seen):
                arr.append(now)
                seen = m.end()
        sent = runs.get("kernel", [])
        if len(arr) != N or len(sent) != N:
            print(f"llm_stream: kernel path: {len(arr)} of {N} events seen")
            return
        lat = [a - b for a, b in zip(arr, sent)]
        ttft = arr[0] - t_ask
        print(f"llm_stream: whole path in the hosted kernel (slirp, mneme's HTTP client, ASK on "
              f"the console), event -> its text on mneme's stdout: median {pct(lat, 0.5) * 1e6:.0f} us, "
              f"p99 {pct(lat, 0.99) * 1e6:.0f} us; ASK line -> first text {ttft * 1000:.2f} ms")
    finally:
        p.kill()
        p.wait()


if __name__ == "__main__":
    sys.exit(main())
