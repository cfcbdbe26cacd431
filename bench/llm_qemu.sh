#!/usr/bin/env bash
# bench/llm_qemu.sh: the inference engine inside mneme on x86_64 under
# QEMU (multi-threaded TCG, -cpu max: the AVX2 kernels), with -smp 1, 2
# and 4 on the synthetic d256 models.
# mneme and the Linux reference run at the same time, in pairs: Linux's
# QEMU starts when mneme's shell prompt is up, and GENERATE is typed when
# Linux prints BENCH-START, so both generate under the same host load;
# both QEMUs are pinned to the same host CPUs (the first N of this
# process's, N = -smp capped at what there is; LLM_BENCH_PIN=0: not
# pinned). On a shared host, unpinned runs one after the other gave ratios
# from 0.35 to 1.9 for the same images: the host scheduler kept one QEMU's
# vCPU thread waiting on its run queue for most of the window.
# Prints one figure per line:
#   llm.<model>.smp<N>.tg_tps     generated tokens/s in the kernel (LLM-STATS:
#                                 tokens after the first over generation time)
#   llm.<model>.smp<N>.pp_tps     prompt tokens/s
#   llm.<model>.smp<N>.speedup    tg_tps against -smp 1
#   llm.<model>.smp<N>.cpu_ms_per_token  host CPU time of mneme's QEMU (all
#                                 its threads) per generated token: what the
#                                 host's scheduler cannot skew
#   llm.power_on_to_first_token_s QEMU start to the shell prompt, plus
#                                 GENERATE's request-to-first-text time
#                                 (LLM-STATS); the wait for Linux between
#                                 the two is left out
#   llm.boot_entry_to_first_token_ms  the same on the kernel's own clock
#                                 (efi_main to the first text, less that wait)
#   llm.<model>.smp<N>.linux_tg_tps  the reference: the statically linked
#                                 mneme-infer (-t N, its defaults) in Linux in
#                                 the same QEMU (Debian's kernel, an initramfs
#                                 from busybox-static: bench/linux_initrd.sh)
#   llm.<model>.smp<N>.vs_linux   tg_tps / linux_tg_tps (>= 1: mneme is faster)
#   llm.<model>.smp<N>.linux_cpu_ms_per_token, .vs_linux_cpu  Linux's QEMU
#                                 CPU time per token, and Linux's / mneme's
#                                 (>= 1: mneme needs less host CPU per token)
# LLM_BENCH_MODELS chooses the models, LLM_BENCH_TOKENS the generated
# tokens (default 32); LLM_BENCH_LINUX=0 leaves the Linux reference out.
set -eu
cd "$(dirname "$0")/.."
MODELS=${LLM_MODELS:-../shared/testdata/llm/models}
list=${LLM_BENCH_MODELS:-"synth-llama-d256-q8_0 synth-llama-d256-q4_0 synth-llama-d256-q4_k_m"}
imgs=
for m in $list; do
  [ -e "$MODELS/$m.gguf" ] || { echo "llm: $MODELS/$m.gguf missing: skipped"; exit 0; }
  make -s TARGET=x86_64 x86-image MODEL="$(realpath "$MODELS/$m.gguf")" \
    X86_IMG=build/x86_64/bench-$m.img >/dev/null
  imgs="$imgs $m"
  if [ "${LLM_BENCH_LINUX:-1}" != 0 ]; then
    bench/linux_initrd.sh "$MODELS/$m.gguf" build/bench/linux >/dev/null ||
      { echo "llm: the Linux reference could not be built: LLM_BENCH_LINUX=0 to skip it"; exit 1; }
  fi
done
exec python3 - "${LLM_BENCH_TOKENS:-32}" "${LLM_BENCH_LINUX:-1}" $imgs <<'PY'
import os, re, subprocess, sys, threading, time
sys.path.insert(0, "tests/qemu")
from qemu import Qemu

n = int(sys.argv[1])
linux = sys.argv[2] != "0"
models = sys.argv[3:]
PROMPT = "Once upon a time"
PIN = os.environ.get("LLM_BENCH_PIN", "1") != "0"
CPUS = sorted(os.sched_getaffinity(0))


def cpu_s(pid):
    """Host CPU seconds of a process, all its threads (schedstat: ns)."""
    t = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            t += int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return t / 1e9


class Linux(threading.Thread):
    """mneme-infer in Linux in the same QEMU (TCG, -cpu max, the same -smp):
    its generated tokens/s as it prints them, and the QEMU's host CPU time
    from the first generated text to the figures."""

    def __init__(self, model, smp):
        super().__init__(daemon=True)
        d = "build/bench/linux"
        self.cmd = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max", "-m", "512",
                    "-smp", str(smp), "-no-reboot", "-nic", "none", "-display", "none",
                    "-monitor", "none", "-serial", "stdio",
                    "-kernel", d + "/vmlinuz", "-initrd", "%s/initrd-%s.cpio" % (d, model),
                    "-append", "console=ttyS0 quiet panic=-1 no_timer_check bench.tokens=%d" % n]
        if smp > 1:
            self.cmd += ["-accel", "tcg,thread=multi"]
        self.started = threading.Event()
        self.result = self.error = None
        self.out = b""

    def read(self):
        r = os.read(self.proc.stdout.fileno(), 4096)
        if not r:
            raise RuntimeError("Linux reference failed: " + self.out[-800:].decode(errors="replace"))
        self.out += r

    def run(self):
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            while b"BENCH-START" not in self.out:
                self.read()
            self.started.set()
            i = self.out.index(b"BENCH-START")
            while b"\n" not in self.out[i:]:
                self.read()
            j = self.out.index(b"\n", i) + 1
            while len(self.out) <= j:  # the first generated text
                self.read()
            c0 = cpu_s(self.proc.pid)
            pat = rb"generation: (\d+) tokens, ([\d.]+) tokens/s"
            while not re.search(pat, self.out):
                self.read()
            c1 = cpu_s(self.proc.pid)
            while not re.search(rb"BENCH-END rc \d+\s", self.out):
                self.read()
            if b"BENCH-END rc 0" not in self.out:
                raise RuntimeError("Linux reference failed: " + self.out[-800:].decode(errors="replace"))
            m = re.search(pat, self.out)
            self.result = (float(m.group(2)), (c1 - c0) / (int(m.group(1)) - 1))
        except Exception as e:  # reported by the main thread
            self.error = e
        finally:
            self.started.set()
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()


def run(model, smp):
    if PIN:  # both QEMUs on the same host CPUs (children inherit it)
        os.sched_setaffinity(0, CPUS[:max(1, min(smp, len(CPUS)))])
    extra = ["-smp", str(smp), "-accel", "tcg,thread=multi"] if smp > 1 else []
    q = Qemu("build/x86_64/bench-%s.img" % model, 256, extra=extra, timeout=1800)
    lx = None
    try:
        q.expect(rb"llm-local: model ", timeout=600)
        q.expect(rb" ok\r\n", timeout=600)
        t_prompt = time.monotonic() - q.t_start
        if linux:
            lx = Linux(model, smp)
            lx.start()
            lx.started.wait(1200)
            if lx.error:
                raise lx.error
        start = len(q.out)
        line = 'S" %s" %d GENERATE' % (PROMPT, n)
        waited = time.monotonic() - q.t_start - t_prompt
        q.write(line.encode() + b"\r")
        q.expect(rb"GENERATE \r\n.", timeout=600, start=start)
        c0 = cpu_s(q.proc.pid)
        q.expect(rb"\r\n ok\r\n", timeout=1800, start=start + len(line) + 4)
        c1 = cpu_s(q.proc.pid)
        start = len(q.out)
        q.write(b"LLM-STATS\r")
        m = q.expect(rb"prompt (\d+) tokens in ([\d.]+) ms; generated (\d+) tokens in ([\d.]+) ms: "
                     rb"([\d.]+) tokens/s; first text ([\d.]+) ms after the request, ([\d.]+) ms after boot",
                     timeout=60, start=start)
        pp = int(m.group(1)) / (float(m.group(2)) / 1000)
        ntok = int(m.group(3))
        first = float(m.group(6))
        res = {"tg": float(m.group(5)), "pp": pp, "cpu": (c1 - c0) / max(1, ntok - 1),
               "t_first": t_prompt + first / 1000,
               "k_first": float(m.group(7)) - waited * 1000}
        if lx:
            lx.join(1800)
            if lx.error or not lx.result:
                raise lx.error or RuntimeError("Linux reference: no figures")
            res["ltg"], res["lcpu"] = lx.result
        return res
    finally:
        q.close()
        if lx and lx.is_alive() and getattr(lx, "proc", None) and lx.proc.poll() is None:
            lx.proc.kill()
        os.sched_setaffinity(0, CPUS)


for model in models:
    base = None
    for smp in (1, 2, 4):
        r = run(model, smp)
        tg = r["tg"]
        base = base or tg
        print("llm.%s.smp%d.tg_tps %.2f" % (model, smp, tg))
        print("llm.%s.smp%d.pp_tps %.2f" % (model, smp, r["pp"]))
        print("llm.%s.smp%d.speedup %.2f" % (model, smp, tg / base if base else 0))
        print("llm.%s.smp%d.cpu_ms_per_token %.1f" % (model, smp, r["cpu"] * 1000))
        if linux:
            print("llm.%s.smp%d.linux_tg_tps %.2f" % (model, smp, r["ltg"]))
            print("llm.%s.smp%d.vs_linux %.2f" % (model, smp, tg / r["ltg"] if r["ltg"] else 0))
            print("llm.%s.smp%d.linux_cpu_ms_per_token %.1f" % (model, smp, r["lcpu"] * 1000))
            print("llm.%s.smp%d.vs_linux_cpu %.2f" % (model, smp, r["lcpu"] / r["cpu"] if r["cpu"] else 0))
        sys.stdout.flush()
        if smp == 4 and model == models[0]:
            print("llm.power_on_to_first_token_s %.2f" % r["t_first"])
            print("llm.boot_entry_to_first_token_ms %.1f" % r["k_first"])
            sys.stdout.flush()
PY
