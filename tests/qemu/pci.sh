#!/usr/bin/env bash
# tests/qemu/pci.sh: builds the x86_64 image and runs the PCI and virtio
# tests under QEMU (tests/qemu/pci_test.py), printing TAP lines.
# Skips (one "ok ... # SKIP" line) when QEMU, OVMF or the toolchain is
# missing: `make deps` installs them.
set -u
cd "$(dirname "$0")/../.."
. tests/qemu/lib.sh
need_x86
skip_if_missing "x86_64 PCI tests"
x86_image build/x86-image.log
exec timeout --kill-after=10 600 python3 tests/qemu/pci_test.py
