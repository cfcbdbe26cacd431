#!/usr/bin/env bash
# Fuzzes tokenization of outside text (test/tokenizer_fuzz.c) with
# libFuzzer for FUZZ_SECONDS (default 15 in make test; make fuzz sets a
# longer run). Seeds: llama.cpp's tokenizer test strings. One TAP line.
set -u
secs=${FUZZ_SECONDS:-15}
out=build/fuzz/tokenizer
mkdir -p "$out/corpus" "$out/seeds"
if ! clang -std=gnu11 -g -O1 -Iinclude -DMN_HOSTED=1 \
     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     test/tokenizer_fuzz.c infer/tokenizer.c infer/pretok.c infer/utf8.c \
     infer/detok.c infer/gguf.c infer/gguf_host.c -o "$out/tokenizer_fuzz" 2> "$out/build.log"; then
  cat "$out/build.log"; echo "not ok - tokenizer fuzz target builds"; exit 1
fi
python3 - "$out/seeds" ../shared/testdata/llm/vocab/ggml-vocab-llama-spm.gguf.inp <<'PY'
import sys
parts = open(sys.argv[2], "rb").read().split(b"\n__ggml_vocab_test__\n")[:-1]
for i, p in enumerate(parts):
    for sel in range(4):
        open("%s/%02d-%d" % (sys.argv[1], i, sel), "wb").write(bytes([sel]) + p)
PY
if "$out/tokenizer_fuzz" -max_total_time="$secs" -max_len=4097 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" \
     "$out/corpus" "$out/seeds" > "$out/fuzz.log" 2>&1; then
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log" | tail -n 1)
  echo "ok - tokenizer fuzzed ${secs}s, ${runs:-?} inputs: ids in range, valid UTF-8 out, exact round trip"
else
  tail -n 40 "$out/fuzz.log"
  echo "not ok - tokenizer fuzz found a failure (see $out/fuzz.log)"
  exit 1
fi
