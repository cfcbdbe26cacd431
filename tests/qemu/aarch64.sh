#!/usr/bin/env bash
# tests/qemu/aarch64.sh: builds the aarch64 image and runs the QEMU
# integration tests (tests/qemu/aarch64_test.py), printing TAP lines.
# Skips (one "ok ... # SKIP" line) when QEMU, AAVMF or the toolchain is
# missing: `make deps` installs them.
set -u
cd "$(dirname "$0")/../.."
missing=
command -v qemu-system-aarch64 >/dev/null || missing="$missing qemu-system-arm"
[ -e /usr/share/AAVMF/AAVMF_CODE.fd ] || missing="$missing qemu-efi-aarch64"
command -v ld.lld >/dev/null || missing="$missing lld"
command -v llvm-ar >/dev/null || missing="$missing llvm"
command -v mcopy >/dev/null || missing="$missing mtools"
command -v mkfs.fat >/dev/null || missing="$missing dosfstools"
if [ -n "$missing" ]; then
  echo "ok - aarch64 QEMU tests # SKIP missing:$missing (make deps)"
  exit 0
fi
if ! make -s TARGET=aarch64 a64-image >build/aarch64-image.log 2>&1; then
  echo "not ok - build the aarch64 image (make image ARCH=aarch64; log build/aarch64-image.log)"
  tail -20 build/aarch64-image.log | sed 's/^/#   /'
  exit 1
fi
echo "ok - build the aarch64 image"
# llm-local: an image with a small model, checked against the hosted tool
MODELS=${LLM_MODELS:-../shared/testdata/llm/models}
q8=$MODELS/stories260K-q8_0.gguf
if [ -e "$q8" ]; then
  if make -s TARGET=aarch64 a64-image MODEL="$(realpath "$q8")" A64_IMG=build/aarch64/llm.img \
       >>build/aarch64-image.log 2>&1 &&
     { [ -x build/hosted/mneme-infer ] ||
       make -s TARGET=hosted build/hosted/mneme-infer >>build/aarch64-image.log 2>&1; }; then
    echo "ok - build the aarch64 image with stories260K Q8_0 and the hosted mneme-infer"
    export LLM_IMG=build/aarch64/llm.img LLM_MODEL=$q8
  else
    echo "not ok - build the aarch64 LLM image (log build/aarch64-image.log)"
    tail -20 build/aarch64-image.log | sed 's/^/#   /'
  fi
else
  echo "ok - aarch64 llm-local # SKIP no $q8"
fi
exec timeout --kill-after=10 900 python3 tests/qemu/aarch64_test.py
