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
. tests/qemu/lib.sh
need_x86
need_cmd node nodejs
need_cmd npm npm
need_file "$MODEL"
skip_if_missing "llmserve in QEMU"
X=build/x86_64
log=build/llmserve-image.log
mkdir -p $X
: >$log
step $log "install the openai npm client" tests/llmserve/npm_openai.sh
[ -x "$O/mneme-infer" ] || step $log "build mneme-infer" make -s TARGET=hosted "$O/mneme-infer"
model=$(realpath "$MODEL")
step $log "image with stories260K and SERVE=1" \
  make -s TARGET=x86_64 x86-image MODEL="$model" SERVE=1 X86_IMG=$X/llmserve.img
echo "ok - image with stories260K and SERVE=1"
O=$O LLMSERVE_IMG=$X/llmserve.img LLMSERVE_MODEL="$model" \
  timeout --kill-after=10 1500 python3 tests/qemu/llmserve_test.py
