#!/usr/bin/env bash
# tests/qemu/powercut.sh: builds the x86_64 image and kills mneme in QEMU
# during streams of file writes on virtio-blk and NVMe disks
# (tests/qemu/powercut_test.py), printing TAP lines. POWERCUT_ROUNDS cuts
# (default 4 here; bench/fs_powercut_qemu.sh runs 20). Skips when QEMU,
# OVMF, the toolchain, mtools or dosfstools are missing.
set -u
cd "$(dirname "$0")/../.."
missing=
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ -e /usr/share/OVMF/OVMF_CODE.fd ] ||
  [ -e /usr/share/ovmf/OVMF.fd ] || missing="$missing ovmf"
command -v lld-link >/dev/null || missing="$missing lld"
command -v mcopy >/dev/null || missing="$missing mtools"
command -v fsck.fat >/dev/null || missing="$missing dosfstools"
if [ -n "$missing" ]; then
  echo "ok - x86_64 power-cut tests # SKIP missing:$missing (make deps)"
  exit 0
fi
if ! make -s TARGET=x86_64 x86-image >build/x86-image-powercut.log 2>&1; then
  echo "not ok - build the x86_64 image (make image; log build/x86-image-powercut.log)"
  tail -20 build/x86-image-powercut.log | sed 's/^/#   /'
  exit 1
fi
echo "ok - build the x86_64 image"
exec timeout --kill-after=10 "${POWERCUT_TIMEOUT:-1200}" python3 tests/qemu/powercut_test.py
