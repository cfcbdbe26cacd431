#!/usr/bin/env bash
# tests/qemu/chat.sh: builds an x86_64 image with stories260K on the ESP
# and runs tests/qemu/chat_test.py (settings in a UEFI variable and the
# chat's conversations surviving a reboot with the same variables file),
# printing TAP lines. Skips when QEMU, OVMF, the toolchain or the model is
# missing.
set -u
cd "$(dirname "$0")/../.."
MODELS=${LLM_MODELS:-../shared/testdata/llm/models}
missing=
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ -e /usr/share/OVMF/OVMF_CODE.fd ] || missing="$missing ovmf"
command -v lld-link >/dev/null || missing="$missing lld"
command -v mcopy >/dev/null || missing="$missing mtools"
[ -e "$MODELS/stories260K-f32.gguf" ] || missing="$missing $MODELS/stories260K-f32.gguf"
if [ -n "$missing" ]; then
  echo "ok - x86_64 chat tests # SKIP missing:$missing"
  exit 0
fi
X=build/x86_64
mkdir -p $X
if ! make -s TARGET=x86_64 x86-image MODEL="$(realpath "$MODELS/stories260K-f32.gguf")" \
     X86_IMG=$X/chat.img >build/chat-image.log 2>&1; then
  echo "not ok - build the chat test image (log build/chat-image.log)"
  tail -20 build/chat-image.log | sed 's/^/#   /'
  exit 1
fi
echo "ok - build the chat test image"
CHAT_IMG=$X/chat.img exec timeout --kill-after=10 600 python3 tests/qemu/chat_test.py
