#!/usr/bin/env bash
# bench/aarch64_llm.sh: llm-local's generation speed inside mneme on
# aarch64 under QEMU (TCG, -cpu max), with the NEON kernels beside the
# scalar path in the same QEMU (the issue's reference: kernels=scalar on
# the command line), the best NEON kernels (I8MM under -cpu max) beside
# the dot-product ones (kernels=neon-dotprod), and NEON on two cores (PSCI,
# multi-threaded TCG). Prints one figure per line:
#   llm.aarch64.<model>.<kernels>.smp<N>.tg_tps   generated tokens/s (LLM-STATS)
#   llm.aarch64.<model>.<kernels>.smp<N>.pp_tps   prompt tokens/s (a batch)
#   llm.aarch64.<model>.neon_vs_scalar            tg_tps ratio, one core
#   llm.aarch64.<model>.i8mm_vs_dotprod.pp        pp_tps ratio (I8MM 2x2 tiles)
#   llm.aarch64.<model>.i8mm_vs_dotprod.tg        tg_tps ratio (the same kernels)
#   llm.aarch64.<model>.smp2_vs_smp1              tg_tps ratio, NEON
# TCG emulates the vector instructions (and runs the scalar code through
# the host's), so the ratios say little about real ARM hardware.
# LLM_BENCH_MODELS chooses the models, LLM_BENCH_TOKENS the tokens (32),
# LLM_BENCH_PAIRS how many boots of each NEON variant (2; the best counts).
set -eu
cd "$(dirname "$0")/.."
MODELS=${LLM_MODELS:-../shared/testdata/llm/models}
list=${LLM_BENCH_MODELS:-"stories260K-q8_0 synth-llama-d256-q8_0 synth-llama-d256-q4_k_m"}
command -v qemu-system-aarch64 >/dev/null || { echo "llm.aarch64: no qemu-system-aarch64: skipped"; exit 0; }
imgs=
for m in $list; do
  [ -e "$MODELS/$m.gguf" ] || { echo "llm.aarch64: $MODELS/$m.gguf missing: skipped"; exit 0; }
  make -s TARGET=aarch64 a64-image MODEL="$(realpath "$MODELS/$m.gguf")" \
    A64_IMG=build/aarch64/bench-$m.img >/dev/null
  imgs="$imgs $m"
done
exec python3 - "${LLM_BENCH_TOKENS:-32}" $imgs <<'PY'
import os, re, shutil, subprocess, sys, tempfile
sys.path.insert(0, "tests/qemu")
from qemu import Qemu

n = int(sys.argv[1])
PAIRS = int(os.environ.get("LLM_BENCH_PAIRS", "2"))
names = {}
PROMPT = ("Once upon a time, there was a little girl named Lily. She loved to play "
          "outside in the park with her big red ball and her friend Tom")
tmp = tempfile.mkdtemp(prefix="mneme-a64bench-")

def image(model, kernels):
    src = "build/aarch64/bench-%s.img" % model
    if not kernels:
        return src
    img, cl = os.path.join(tmp, "%s-%s.img" % (model, kernels)), os.path.join(tmp, "cmdline")
    shutil.copy(src, img)
    open(cl, "w").write("console=serial,fb kernels=%s\n" % kernels)
    subprocess.run(["mcopy", "-o", "-i", img + "@@1M", cl, "::/mneme/cmdline"], check=True,
                   env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    return img

def run(model, kernels, smp):
    extra = ["-smp", str(smp), "-accel", "tcg,thread=multi"] if smp > 1 else []
    q = Qemu(image(model, kernels), 256, arch="aarch64", extra=extra, timeout=900)
    try:
        used = q.expect(rb"llm-local: .* kernels ([\w-]+)", timeout=300).group(1).decode()
        q.expect(rb"llm-local: model ", timeout=300)
        q.expect(rb" ok\r\n", timeout=300)
        start = len(q.out)
        line = 'S" %s" %d GENERATE' % (PROMPT, n)
        q.write(line.encode() + b"\r")
        q.expect(rb"\r\n ok\r\n", timeout=900, start=start + len(line) + 4)
        start = len(q.out)
        q.write(b"LLM-STATS\r")
        m = q.expect(rb"prompt (\d+) tokens in ([\d.]+) ms; generated (\d+) tokens in "
                     rb"([\d.]+) ms: ([\d.]+) tokens/s", timeout=60, start=start)
        return used, float(m.group(5)), int(m.group(1)) * 1000.0 / max(float(m.group(2)), 1e-3)
    finally:
        q.close()

try:
    for model in sys.argv[2:]:
        got, pp, best = {}, {}, None
        # the two NEON variants alternately, best of LLM_BENCH_PAIRS each:
        # boots on a loaded machine vary more than the kernels do
        order = [(None, 1), ("neon-dotprod", 1)] * PAIRS + [("scalar", 1), (None, 2)]
        for kernels, smp in order:
            used, tps, pps = run(model, kernels, smp)
            got[(kernels, smp)] = max(got.get((kernels, smp), 0), tps)
            pp[(kernels, smp)] = max(pp.get((kernels, smp), 0), pps)
            names[(kernels, smp)] = used
            print("# %s %s smp%d: tg %.3f pp %.3f" % (model, used, smp, tps, pps), file=sys.stderr)
            best = best or used
        for key in dict.fromkeys(order):
            print("llm.aarch64.%s.%s.smp%d.tg_tps %.3f" % (model, names[key], key[1], got[key]))
            print("llm.aarch64.%s.%s.smp%d.pp_tps %.3f" % (model, names[key], key[1], pp[key]))
        sys.stdout.flush()
        print("llm.aarch64.%s.neon_vs_scalar %.2f" % (model, got[(None, 1)] / got[("scalar", 1)]))
        if best == "neon-i8mm":
            for k, d in (("pp", pp), ("tg", got)):
                print("llm.aarch64.%s.i8mm_vs_dotprod.%s %.2f" %
                      (model, k, d[(None, 1)] / d[("neon-dotprod", 1)]))
        print("llm.aarch64.%s.smp2_vs_smp1 %.2f" % (model, got[(None, 2)] / got[(None, 1)]))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
PY
