#!/usr/bin/env bash
# bench/llm_qemu.sh: the inference engine inside mneme on x86_64 under
# QEMU (multi-threaded TCG, -cpu max: the AVX2 kernels), with -smp 1, 2
# and 4 on the synthetic d256 models. Prints one figure per line:
#   llm.<model>.smp<N>.tg_tps     generated tokens/s in the kernel (LLM-STATS:
#                                 tokens after the first over generation time)
#   llm.<model>.smp<N>.pp_tps     prompt tokens/s
#   llm.<model>.smp<N>.speedup    tg_tps against -smp 1
#   llm.power_on_to_first_token_s QEMU start to the first generated text on
#                                 serial (GENERATE typed at the first prompt)
#   llm.boot_entry_to_first_token_ms  the kernel's own clock: efi_main to
#                                 the first text
#   llm.<model>.smp<N>.linux_tg_tps  the reference: the statically linked
#                                 mneme-infer (-t N, its defaults) in Linux in
#                                 the same QEMU (Debian's kernel, an initramfs
#                                 from busybox-static: bench/linux_initrd.sh)
#   llm.<model>.smp<N>.vs_linux   tg_tps / linux_tg_tps (>= 1: mneme is faster)
# LLM_BENCH_MODELS chooses the models, LLM_BENCH_TOKENS the generated
# tokens (default 32); LLM_BENCH_LINUX=0 leaves the Linux reference out.
set -eu
cd "$(dirname "$0")/.."
MODELS=${LLM_MODELS:-../shared/testdata/llm/models}
list=${LLM_BENCH_MODELS:-"synth-llama-d256-q8_0 synth-llama-d256-q4_k_m"}
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
import os, re, subprocess, sys, time
sys.path.insert(0, "tests/qemu")
from qemu import Qemu

n = int(sys.argv[1])
linux = sys.argv[2] != "0"
models = sys.argv[3:]
PROMPT = "Once upon a time"


def run_linux(model, smp):
    """mneme-infer in Linux in the same QEMU (TCG, -cpu max, the same -smp):
    its generated tokens/s, as it prints them."""
    d = "build/bench/linux"
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max", "-m", "512",
           "-smp", str(smp), "-no-reboot", "-nic", "none", "-display", "none",
           "-monitor", "none", "-serial", "stdio",
           "-kernel", d + "/vmlinuz", "-initrd", "%s/initrd-%s.cpio" % (d, model),
           "-append", "console=ttyS0 quiet panic=-1 no_timer_check bench.tokens=%d" % n]
    if smp > 1:
        cmd += ["-accel", "tcg,thread=multi"]
    for attempt in range(2):  # a loaded host can starve TCG's early timers
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=1800)
        out = r.stdout.decode(errors="replace")
        if "BENCH-END rc 0" in out:
            break
    m = re.search(r"generation: (\d+) tokens, ([\d.]+) tokens/s", out)
    if not m or "BENCH-END rc 0" not in out:
        raise RuntimeError("Linux reference failed: " + out[-800:])
    return float(m.group(2))

def run(model, smp, first_token=False):
    extra = ["-smp", str(smp), "-accel", "tcg,thread=multi"] if smp > 1 else []
    q = Qemu("build/x86_64/bench-%s.img" % model, 256, extra=extra, timeout=900)
    try:
        q.expect(rb"llm-local: model ", timeout=300)
        q.expect(rb" ok\r\n", timeout=300)
        start = len(q.out)
        line = 'S" %s" %d GENERATE' % (PROMPT, n)
        q.write(line.encode() + b"\r")
        q.expect(rb"GENERATE \r\n.", timeout=600, start=start)
        t_first = time.monotonic() - q.t_start
        q.expect(rb"\r\n ok\r\n", timeout=900, start=start + len(line) + 4)
        start = len(q.out)
        q.write(b"LLM-STATS\r")
        m = q.expect(rb"prompt (\d+) tokens in ([\d.]+) ms; generated (\d+) tokens in ([\d.]+) ms: "
                     rb"([\d.]+) tokens/s; first text [\d.]+ ms after the request, ([\d.]+) ms after boot",
                     timeout=60, start=start)
        pp = int(m.group(1)) / (float(m.group(2)) / 1000)
        return float(m.group(5)), pp, t_first, float(m.group(6))
    finally:
        q.close()

for model in models:
    base = None
    for smp in (1, 2, 4):
        tg, pp, t_first, k_first = run(model, smp)
        base = base or tg
        print("llm.%s.smp%d.tg_tps %.2f" % (model, smp, tg))
        print("llm.%s.smp%d.pp_tps %.2f" % (model, smp, pp))
        print("llm.%s.smp%d.speedup %.2f" % (model, smp, tg / base if base else 0))
        sys.stdout.flush()
        if linux:
            ltg = run_linux(model, smp)
            print("llm.%s.smp%d.linux_tg_tps %.2f" % (model, smp, ltg))
            print("llm.%s.smp%d.vs_linux %.2f" % (model, smp, tg / ltg if ltg else 0))
            sys.stdout.flush()
        if smp == 4 and model == models[0]:
            print("llm.power_on_to_first_token_s %.2f" % t_first)
            print("llm.boot_entry_to_first_token_ms %.1f" % k_first)
PY
