#!/usr/bin/env bash
# tests/qemu/llmserve.sh: builds an x86_64 image with stories260K and the
# OpenAI-compatible server on (make image SERVE=1) and runs
# tests/qemu/llmserve_test.py: curl and the official openai npm client
# from the host through QEMU's port forwarding. TAP lines. Skips when
# QEMU, OVMF, the toolchain, node/npm or the model are missing.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build/hosted}
MODEL=${LLMSERVE_MODEL:-../shared/testdata/llm/models/stories260K-f32.gguf}
missing=
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ -e /usr/share/OVMF/OVMF_CODE.fd ] ||
  [ -e /usr/share/ovmf/OVMF.fd ] || missing="$missing ovmf"
command -v lld-link >/dev/null || missing="$missing lld"
command -v mcopy >/dev/null || missing="$missing mtools"
command -v node >/dev/null || missing="$missing nodejs"
command -v npm >/dev/null || missing="$missing npm"
[ -e "$MODEL" ] || missing="$missing $MODEL"
if [ -n "$missing" ]; then
  echo "ok - llmserve in QEMU # SKIP missing:$missing"
  exit 0
fi
X=build/x86_64
log=build/llmserve-image.log
mkdir -p $X
: >$log
tests/llmserve/npm_openai.sh >>$log 2>&1 || { echo "not ok - install the openai npm client (log $log)"; exit 1; }
[ -x "$O/mneme-infer" ] || make -s TARGET=hosted "$O/mneme-infer" >>$log 2>&1 ||
  { echo "not ok - build mneme-infer (log $log)"; exit 1; }
model=$(realpath "$MODEL")
if ! make -s TARGET=x86_64 x86-image MODEL="$model" SERVE=1 X86_IMG=$X/llmserve.img >>$log 2>&1; then
  echo "not ok - image with stories260K and SERVE=1 (log $log)"; tail -20 $log | sed 's/^/#   /'; exit 1
fi
echo "ok - image with stories260K and SERVE=1"
O=$O LLMSERVE_IMG=$X/llmserve.img LLMSERVE_MODEL="$model" \
  timeout --kill-after=10 1500 python3 tests/qemu/llmserve_test.py
