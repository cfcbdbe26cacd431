#!/usr/bin/env bash
# bench/boot.sh: mneme's boot time on x86_64 under QEMU (TCG) with OVMF,
# and on aarch64 (QEMU virt, -cpu max, TCG) with AAVMF.
#
# Prints one figure per line (medians of RUNS boots, default 3):
#   boot.wall_to_prompt_s        QEMU start to the Forth shell's first ` ok`
#   boot.firmware_floor_s        QEMU start to the first byte of a tiny EFI
#                                app (bench/boot_floor.c): what OVMF costs
#                                any application
#   boot.prompt_minus_floor_s    the difference, and the ratio of the two
#   boot.handoff_to_prompt_ms    from OVMF's "starting Boot0002" line to the
#                                prompt (image loading, mneme's boot), and
#                                the same for the floor app beside it: less
#                                noisy than whole boots on a loaded machine
#   boot.kernel_entry_to_shells_ms  mneme's own TSC time, efi_main to the
#                                shells' start (their VMs then compile)
# The same figures for aarch64 are named boot.aarch64.* (its kernel time
# is the generic counter's). ARCHS="x86_64 aarch64" (default) picks them.
set -eu
cd "$(dirname "$0")/.."
for arch in ${ARCHS:-x86_64 aarch64}; do
  case $arch in
    x86_64) make -s TARGET=x86_64 x86-image x86-floor ;;
    aarch64) make -s TARGET=aarch64 a64-image a64-floor ;;
    *) echo "bench/boot.sh: unknown arch $arch"; exit 1 ;;
  esac
  python3 - "${RUNS:-3}" "$arch" <<'PY' || exit 1
import re, statistics, sys, time
sys.path.insert(0, "tests/qemu")
from qemu import Qemu

arch = sys.argv[2]
pre = "boot." if arch == "x86_64" else "boot.aarch64."

def boot(image, marker):
    t0 = time.monotonic()
    q = Qemu(image, 256, timeout=180, arch=arch)
    try:
        q.expect(rb"starting Boot")
        t_hand = time.monotonic()
        q.expect(marker)
        t = time.monotonic()
        k = re.search(rb"boot: (\d+) us from entry to the shells' start", q.out)
        return t - t0, (t - t_hand) * 1000, (int(k.group(1)) / 1000 if k else None)
    finally:
        q.close()

runs = int(sys.argv[1])
mn, fl = [], []
for _ in range(runs):  # interleaved, so load changes hit both alike
    mn.append(boot("build/%s/mneme.img" % arch, rb"mneme Forth\r\n +ok\r\n"))
    fl.append(boot("build/%s/bench/floor.img" % arch, rb"<mneme-floor>"))
med = lambda xs: statistics.median(xs)
wall, floor = med(r[0] for r in mn), med(r[0] for r in fl)
print(pre + "wall_to_prompt_s %.3f" % wall)
print(pre + "firmware_floor_s %.3f" % floor)
print(pre + "prompt_minus_floor_s %.3f" % (wall - floor))
print(pre + "wall_vs_floor_ratio %.3f" % (wall / floor))
print(pre + "handoff_to_prompt_ms %.1f" % med(r[1] for r in mn))
print(pre + "floor_handoff_to_marker_ms %.1f" % med(r[1] for r in fl))
print(pre + "kernel_entry_to_shells_ms %.2f" % med(r[2] for r in mn if r[2] is not None))
PY
done
