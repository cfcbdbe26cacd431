#!/usr/bin/env bash
# tests/qemu/boot.sh: builds the x86_64 image and runs the QEMU
# integration tests (tests/qemu/boot_test.py), printing TAP lines.
# Skips (one "ok ... # SKIP" line) when QEMU, OVMF or the toolchain is
# missing: `make deps` installs them.
set -u
cd "$(dirname "$0")/../.."
. tests/qemu/lib.sh
need_x86
skip_if_missing "x86_64 QEMU tests"
x86_image build/x86-image.log
exec timeout --kill-after=10 600 python3 tests/qemu/boot_test.py
