#!/usr/bin/env bash
# tests/qemu/chat.sh: builds an x86_64 image with stories260K and the
# test CA's root (made once in build/x86_64/chat-certs) on the ESP and runs
# tests/qemu/chat_test.py (the wizard and the chat against a mock
# OpenAI-compatible server over HTTPS; settings and conversations in UEFI
# variables surviving a reboot with the same variables file), printing
# TAP lines. Skips when QEMU, OVMF, the toolchain or the model is
# missing.
set -u
cd "$(dirname "$0")/../.."
MODELS=${LLM_MODELS:-../shared/testdata/llm/models}
. tests/qemu/lib.sh
need_x86
need_file "$MODELS/stories260K-f32.gguf"
skip_if_missing "x86_64 chat tests"
X=build/x86_64
CERTS=$X/chat-certs
mkdir -p $X
if [ ! -s $CERTS/good.key ]; then
  rm -rf $CERTS && mkdir -p $CERTS
  if ! python3 -c 'import sys; sys.path.insert(0, "test"); import http_e2e; http_e2e.make_certs(sys.argv[1], name="10.0.2.100")' \
       $CERTS >build/chat-image.log 2>&1; then
    echo "not ok - make the test CA (log build/chat-image.log)"
    rm -rf $CERTS
    exit 1
  fi
fi
step build/chat-image.log "build the chat test image" \
  make -s TARGET=x86_64 x86-image MODEL="$(realpath "$MODELS/stories260K-f32.gguf")" \
  CA="$(realpath $CERTS/root.pem)" X86_IMG=$X/chat.img
echo "ok - build the chat test image"
CHAT_IMG=$X/chat.img CHAT_CERTS=$CERTS exec timeout --kill-after=10 600 python3 tests/qemu/chat_test.py
