#!/usr/bin/env bash
# tests/qemu/https.sh: builds the x86_64 image and runs the HTTPS
# tests under QEMU (tests/qemu/https_test.py), printing TAP lines.
# Skips (one "ok ... # SKIP" line) when QEMU, OVMF or the toolchain is
# missing: `make deps` installs them.
set -u
cd "$(dirname "$0")/../.."
missing=
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ -e /usr/share/OVMF/OVMF_CODE.fd ] ||
  [ -e /usr/share/ovmf/OVMF.fd ] || missing="$missing ovmf"
command -v lld-link >/dev/null || missing="$missing lld"
command -v mcopy >/dev/null || missing="$missing mtools"
command -v mkfs.fat >/dev/null || missing="$missing dosfstools"
if [ -n "$missing" ]; then
  echo "ok - x86_64 HTTPS tests # SKIP missing:$missing (make deps)"
  exit 0
fi
if ! make -s TARGET=x86_64 x86-image >build/x86-image.log 2>&1; then
  echo "not ok - build the x86_64 image (make image; log build/x86-image.log)"
  tail -20 build/x86-image.log | sed 's/^/#   /'
  exit 1
fi
echo "ok - build the x86_64 image"
exec timeout --kill-after=10 400 python3 tests/qemu/https_test.py
