#!/usr/bin/env bash
# bench/boot.sh: mneme's boot time on x86_64 under QEMU (TCG) with OVMF.
# Prints one figure per line: the wall time from QEMU's start to the first
# byte of the prompt on serial, the kernel's own time from its entry to
# the prompt (TSC), and the firmware floor beside it: the same wall time
# for a tiny EFI app that only prints a marker (bench/boot_floor.c).
# Medians of RUNS boots (default 3).
set -eu
cd "$(dirname "$0")/.."
make -s TARGET=x86_64 x86-image x86-floor
exec python3 - "${RUNS:-3}" <<'PY'
import re, statistics, sys, time
sys.path.insert(0, "tests/qemu")
from qemu import Qemu

def boot(image, marker):
    t0 = time.monotonic()
    q = Qemu(image, 256, timeout=180)
    try:
        m = q.expect(marker)
        # time of arrival of the chunk holding the marker's first byte
        t = time.monotonic() - t0
        k = re.search(rb"boot: (\d+) us from entry to prompt", q.out)
        return t, (int(k.group(1)) / 1000 if k else None)
    finally:
        q.close()

runs = int(sys.argv[1])
mn = [boot("build/x86_64/mneme.img", rb"mneme> ") for _ in range(runs)]
fl = [boot("build/x86_64/bench/floor.img", rb"<mneme-floor>")[0] for _ in range(runs)]
wall = statistics.median(t for t, _ in mn)
kern = statistics.median(k for _, k in mn if k is not None)
floor = statistics.median(fl)
print("boot.wall_to_prompt_s %.3f" % wall)
print("boot.firmware_floor_s %.3f" % floor)
print("boot.prompt_minus_floor_s %.3f" % (wall - floor))
print("boot.wall_vs_floor_ratio %.3f" % (wall / floor))
print("boot.kernel_entry_to_prompt_ms %.2f" % kern)
PY
