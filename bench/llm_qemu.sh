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
# The issue's reference, mneme-infer in Linux in the same QEMU, is not
# measured yet. LLM_BENCH_MODELS chooses the models, LLM_BENCH_TOKENS the
# generated tokens (default 32).
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
done
exec python3 - "${LLM_BENCH_TOKENS:-32}" $imgs <<'PY'
import re, sys, time
sys.path.insert(0, "tests/qemu")
from qemu import Qemu

n = int(sys.argv[1])
PROMPT = "Once upon a time"

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

for model in sys.argv[2:]:
    base = None
    for smp in (1, 2, 4):
        tg, pp, t_first, k_first = run(model, smp)
        base = base or tg
        print("llm.%s.smp%d.tg_tps %.2f" % (model, smp, tg))
        print("llm.%s.smp%d.pp_tps %.2f" % (model, smp, pp))
        print("llm.%s.smp%d.speedup %.2f" % (model, smp, tg / base if base else 0))
        sys.stdout.flush()
        if smp == 4 and model == sys.argv[2]:
            print("llm.power_on_to_first_token_s %.2f" % t_first)
            print("llm.boot_entry_to_first_token_ms %.1f" % k_first)
print("llm.linux_reference not measured (mneme-infer in Linux in the same QEMU: not done)")
PY
