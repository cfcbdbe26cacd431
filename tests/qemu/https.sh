#!/usr/bin/env bash
# tests/qemu/https.sh: builds the x86_64 image and runs the HTTPS
# tests under QEMU (tests/qemu/https_test.py), printing TAP lines.
# Skips (one "ok ... # SKIP" line) when QEMU, OVMF or the toolchain is
# missing: `make deps` installs them.
set -u
cd "$(dirname "$0")/../.."
. tests/qemu/lib.sh
need_x86
skip_if_missing "x86_64 HTTPS tests"
x86_image build/x86-image.log
exec timeout --kill-after=10 400 python3 tests/qemu/https_test.py
