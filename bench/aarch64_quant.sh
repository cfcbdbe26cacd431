#!/usr/bin/env bash
# bench/aarch64_quant.sh: the inference engine's NEON dot kernels against
# the scalar ones, timed inside mneme on aarch64 under QEMU (TCG, -cpu max:
# Advanced SIMD, DotProd and I8MM). Boots build/aarch64/mneme.img and runs
# the QUANT-BENCH word; prints one figure per kernel:
#   quant.aarch64.<variant>.<type>_vs_scalar  scalar time / NEON time per
#                                             1024-element row (best of 5)
#   quant.aarch64.i8mm.<type>_2x2_vs_dotprod  the time of four dot products
#                                             (two rows by two activation
#                                             rows) by the SDOT kernel / the
#                                             time of one I8MM (SMMLA) tile
# TCG emulates the vector instructions, so these ratios say little about
# real hardware; they show the kernels run and agree where they are used.
set -eu
cd "$(dirname "$0")/.."
make -s TARGET=aarch64 a64-image
exec python3 - <<'PY'
import re, sys
sys.path.insert(0, "tests/qemu")
from qemu import Qemu

q = Qemu("build/aarch64/mneme.img", 256, timeout=400, arch="aarch64")
try:
    q.expect(rb"mneme Forth\r\n +ok\r\n", timeout=150)
    start = len(q.out)
    q.write(b"QUANT-BENCH\r")
    q.expect(rb"quant: \d+ kernels checked, \d+ differ", timeout=300, start=start)
    for m in re.finditer(rb"quant: (\S+) (\S+) +agrees; (\d+) ns scalar, (\d+) ns per row",
                         q.out[start:]):
        var, typ, ts, tv = m.group(1).decode(), m.group(2).decode(), int(m.group(3)), int(m.group(4))
        print("quant.aarch64.%s.%s_vs_scalar %.2f" % (var, typ, ts / max(tv, 1)))
    for m in re.finditer(rb"quant: \S+ (\S+) +2x2 agrees; (\d+) ns neon-dotprod, (\d+) ns i8mm",
                         q.out[start:]):
        typ, td, tm = m.group(1).decode(), int(m.group(2)), int(m.group(3))
        print("quant.aarch64.i8mm.%s_2x2_vs_dotprod %.2f" % (typ, td / max(tm, 1)))
finally:
    q.close()
PY
