#!/usr/bin/env bash
# tests/qemu/llm.sh: builds the images of tests/qemu/llm_test.py (the
# inference engine in the kernel under QEMU) and runs it, printing TAP
# lines. Skips when QEMU, OVMF, the toolchain or the test models are
# missing.
set -u
cd "$(dirname "$0")/../.."
O=${O:-build/hosted}
MODELS=${LLM_MODELS:-../shared/testdata/llm/models}
. tests/qemu/lib.sh
need_x86
need_file "$MODELS/stories260K-f32.gguf"
skip_if_missing "x86_64 LLM tests"
X=build/x86_64
log=build/llm-images.log
mkdir -p $X
: >$log
[ -x "$O/mneme-infer" ] || step $log "build mneme-infer" make -s TARGET=hosted "$O/mneme-infer"
f32=$(realpath "$MODELS/stories260K-f32.gguf")
q8=$(realpath "$MODELS/stories260K-q8_0.gguf")
d256=$(realpath "$MODELS/synth-llama-d256-q8_0.gguf")
step $log "image with stories260K F32" make -s TARGET=x86_64 x86-image MODEL="$f32" X86_IMG=$X/llm-f32.img
step $log "image with synth d256 Q8_0" make -s TARGET=x86_64 x86-image MODEL="$d256" X86_IMG=$X/llm-d256.img
# A "model" larger than the 128 MiB the test gives QEMU (sparse file).
big=$X/llmbig/big.gguf
mkdir -p $X/llmbig
printf 'GGUF' >$big && truncate -s 160M $big
step $log "image with a model larger than the memory" \
  make -s TARGET=x86_64 x86-image MODEL="$big" X86_IMG=$X/llm-big.img
step $log "configuration with two shells" python3 tools/mkconfig.py tests/qemu/llm_test.toml --bin $X/llm-par.bin
step $log "image with stories260K Q8_0 and two shells" \
  make -s TARGET=x86_64 x86-image MODEL="$q8" X86_IMG=$X/llm-par.img X86_CONFIG_BIN=$X/llm-par.bin
echo "ok - build the LLM test images"
O=$O LLM_MODELS=$MODELS LLM_IMG_F32=$X/llm-f32.img LLM_IMG_D256=$X/llm-d256.img LLM_IMG_BIG=$X/llm-big.img \
  LLM_IMG_PAR=$X/llm-par.img timeout --kill-after=10 1500 python3 tests/qemu/llm_test.py
rc=$?
rm -rf $X/llm-big.img $X/llmbig # 200 MiB
exit $rc
