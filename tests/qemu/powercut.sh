#!/usr/bin/env bash
# tests/qemu/powercut.sh: builds the x86_64 image and kills mneme in QEMU
# during streams of file writes on virtio-blk and NVMe disks
# (tests/qemu/powercut_test.py), printing TAP lines. POWERCUT_ROUNDS cuts
# (default 4 here; bench/fs_powercut_qemu.sh runs 20). Skips when QEMU,
# OVMF, the toolchain, mtools or dosfstools are missing.
set -u
cd "$(dirname "$0")/../.."
. tests/qemu/lib.sh
need_x86
skip_if_missing "x86_64 power-cut tests"
x86_image build/x86-image-powercut.log
exec timeout --kill-after=10 "${POWERCUT_TIMEOUT:-1200}" python3 tests/qemu/powercut_test.py
