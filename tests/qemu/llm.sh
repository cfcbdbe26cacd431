#!/usr/bin/env bash
# tests/qemu/llm.sh: builds the images of tests/qemu/llm_test.py (the
# inference engine in the kernel under QEMU) and runs it, printing TAP
# lines. Skips when QEMU, OVMF, the toolchain or the test models are
# missing.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build/hosted}
MODELS=${LLM_MODELS:-../shared/testdata/llm/models}
missing=
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ -e /usr/share/OVMF/OVMF_CODE.fd ] ||
  [ -e /usr/share/ovmf/OVMF.fd ] || missing="$missing ovmf"
command -v lld-link >/dev/null || missing="$missing lld"
command -v mcopy >/dev/null || missing="$missing mtools"
[ -e "$MODELS/stories260K-f32.gguf" ] || missing="$missing $MODELS/stories260K-f32.gguf"
if [ -n "$missing" ]; then
  echo "ok - x86_64 LLM tests # SKIP missing:$missing"
  exit 0
fi
X=build/x86_64
log=build/llm-images.log
mkdir -p $X
: >$log
step() { # what, command...
  local what=$1; shift
  if ! "$@" >>$log 2>&1; then
    echo "not ok - $what (log $log)"
    tail -20 $log | sed 's/^/#   /'
    exit 1
  fi
}
[ -x "$O/mneme-infer" ] || step "build mneme-infer" make -s TARGET=hosted "$O/mneme-infer"
f32=$(realpath "$MODELS/stories260K-f32.gguf")
q8=$(realpath "$MODELS/stories260K-q8_0.gguf")
d256=$(realpath "$MODELS/synth-llama-d256-q8_0.gguf")
step "image with stories260K F32" make -s TARGET=x86_64 x86-image MODEL="$f32" X86_IMG=$X/llm-f32.img
step "image with synth d256 Q8_0" make -s TARGET=x86_64 x86-image MODEL="$d256" X86_IMG=$X/llm-d256.img
# A "model" larger than the 128 MiB the test gives QEMU (sparse file).
big=$X/llmbig/big.gguf
mkdir -p $X/llmbig
printf 'GGUF' >$big && truncate -s 160M $big
step "image with a model larger than the memory" \
  make -s TARGET=x86_64 x86-image MODEL="$big" X86_IMG=$X/llm-big.img
step "configuration with two shells" python3 tools/mkconfig.py tests/qemu/llm_test.toml --bin $X/llm-par.bin
step "image with stories260K Q8_0 and two shells" \
  make -s TARGET=x86_64 x86-image MODEL="$q8" X86_IMG=$X/llm-par.img X86_CONFIG_BIN=$X/llm-par.bin
echo "ok - build the LLM test images"
O=$O LLM_MODELS=$MODELS LLM_IMG_F32=$X/llm-f32.img LLM_IMG_D256=$X/llm-d256.img LLM_IMG_BIG=$X/llm-big.img \
  LLM_IMG_PAR=$X/llm-par.img timeout --kill-after=10 1500 python3 tests/qemu/llm_test.py
rc=$?
rm -rf $X/llm-big.img $X/llmbig # 200 MiB
exit $rc
