#!/usr/bin/env bash
# Fuzzes the model loader and forward pass (test/llama_fuzz.c) with
# libFuzzer (clang -fsanitize=fuzzer,address,undefined) for FUZZ_SECONDS
# (default 20: the brief run of make test; make fuzz sets a longer one).
# Seeds: small valid models (F32 tied, F16, Q8_0, Q4_0). One TAP line.
set -u
secs=${FUZZ_SECONDS:-20}
out=build/fuzz/llama
mkdir -p "$out/corpus" "$out/seeds"
flags="-std=gnu11 -g -O1 -Iinclude -Itest -DMN_HOSTED=1"
srcs="infer/gguf.c infer/gguf_host.c infer/quant.c infer/dot_select.c infer/matmul.c
      infer/par.c infer/llama.c infer/llama_host.c infer/pack.c infer/attn.c infer/act.c"
simd="infer/dot_avx2.c infer/dot_avx512.c infer/gemm_avx512.c infer/gemm_q6_k_avx512.c infer/attn_avx512.c infer/act_avx512.c infer/gemm_avx2.c infer/gemm_k_avx2.c"
build() { # output extra-flags (the SIMD files get their own flags)
  local o=$1; shift
  local objs=()
  for s in $simd; do
    local f="-mavx2 -mfma -mf16c"
    case $s in *avx512*) f="$f -mavx512f -mavx512bw -mavx512vl -mavx512vnni";; esac
    clang $flags "$@" $f -c "$s" -o "$o.$(basename "$s" .c).o" || return 1
    objs+=("$o.$(basename "$s" .c).o")
  done
  clang $flags "$@" test/llama_fuzz.c $srcs "${objs[@]}" -lm -o "$o"
}
if ! build "$out/llama_fuzz" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     > "$out/build.log" 2>&1; then
  cat "$out/build.log"; echo "not ok - llama fuzz target builds"; exit 1
fi
build "$out/seedgen" -DLLAMA_FUZZ_SEEDS >> "$out/build.log" 2>&1 &&
  "$out/seedgen" "$out/seeds" || { cat "$out/build.log"; echo "not ok - llama fuzz seeds"; exit 1; }
# a model the reader accepts may still ask for more memory than there is:
# the library must then fail with MN_ENOMEM, so let malloc return NULL
export ASAN_OPTIONS=allocator_may_return_null=1:${ASAN_OPTIONS:-}
if "$out/llama_fuzz" -max_total_time="$secs" -max_len=65536 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$out/seeds" \
     > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
  echo "ok - model loader and forward pass fuzzed ${secs}s, ${runs:-?} inputs, no crash"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - llama fuzz found a crash (see $out/fuzz.log)"
  exit 1
fi
